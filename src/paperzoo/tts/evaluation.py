"""Unseen-speaker evaluation of a generator: given one reference clip, speak a different text,
then score the result against the identity's real recordings.

Paper: Min, Lee, Yang, Hwang, "Meta-StyleSpeech: Multi-Speaker Adaptive Text-to-Speech
Generation", ICML 2021, https://arxiv.org/abs/2106.03153 (experiments: adaptation to unseen
speakers from one 1-3 s reference; naturalness MOS, similarity SMOS, MCD, ASR word error rate
and speaker similarity of embeddings).

Per evaluation item (reference r, target text with real recording y, generated x = G(text, E(r))):

* ``mcd``: DTW mel-cepstral distortion between x and y (dB; lower is better);
* ``similarity``: cosine between the in-house speaker embedding of x and the identity's
  centroid (mean embedding of its real target recordings); the embedding is the penultimate
  layer of a classifier trained on *seen* identities only;
* ``identity_accuracy``: the nearest unseen-identity centroid of x is the right one;
  ``identity_accuracy_real``: the same for each real target against the centroids of the
  *other* real targets (leave-one-out), the judge's ceiling;
* ``eer``: speaker-verification equal error rate of trials (x, real target y') scored by the
  embeddings' cosine, target when y' is the identity's own recording; ``eer_real``: the same
  trials with a real recording in place of x (other recordings only), the judge's ceiling;
* ``consistency``: mean cosine between the embeddings of the texts generated from one reference;
* ``intelligibility``: a digit classifier trained on real seen-identity words labels each
  generated word (frames from the predicted durations); reported with the same classifier's
  accuracy on the real target words (``intelligibility_real``);
* ``resemblyzer`` (optional): Resemblyzer's pretrained speaker encoder (GE2E, 16 kHz) on the
  Griffin-Lim audio of x against the centroid of the real target waveforms, and
  ``resemblyzer_real``: the same for Griffin-Lim audio of y's mel (the vocoder's ceiling);
* ``style_separation``: between-identity share of the variance of the references' style
  vectors, sum_d Var_between / sum_d Var_total (0 when the style encoder collapsed);
* ``empty_outputs``: share of items for which the model predicted no frame at all (generated
  with one frame per token instead, so the other metrics count them as failures).

Deviations from the paper:
    * No MOS or SMOS: there are no listeners here.
    * Speaker similarity from an in-house embedding trained on the seen identities and from
      Resemblyzer (on Griffin-Lim audio), not from the paper's speaker-verification setup.
    * Intelligibility is a digit classifier's accuracy instead of an ASR word error rate.
    * ``consistency``, ``style_separation``, ``empty_outputs`` and ``frames_ratio`` are ours:
      diagnostics of collapse that the paper does not report.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from .audio import MelConfig, griffin_lim
from .classifiers import MelClassifier, embed, fit_classifier, predict
from .data import DIGITS, Corpus, Utterance, word_frame_spans
from .metrics import dtw_mcd, equal_error_rate
from .model import StyleSpeech

__all__ = ["Judges", "evaluate", "fit_judges", "style_separation"]


class Judges:
    """The fixed scorers of one corpus: speaker classifier (seen identities) and word
    classifier; optional Resemblyzer encoder (loaded on first use)."""

    def __init__(self, speaker: MelClassifier, words: MelClassifier, resemblyzer: bool) -> None:
        self.speaker, self.words, self.use_resemblyzer = speaker, words, resemblyzer
        self._voice: Any = None

    def voice_embedding(self, wave: np.ndarray, sample_rate: int) -> np.ndarray:
        """Resemblyzer utterance embedding (256,), unit norm."""
        if self._voice is None:
            import warnings

            with warnings.catch_warnings():  # its pkg_resources import warns on every load
                warnings.simplefilter("ignore")
                from resemblyzer import VoiceEncoder

            self._voice = VoiceEncoder("cpu", verbose=False)
        from resemblyzer import preprocess_wav

        return self._voice.embed_utterance(preprocess_wav(wave, source_sr=sample_rate))


def fit_judges(corpus: Corpus, epochs: int, resemblyzer: bool, seed: int = 0) -> Judges:
    """Train the speaker judge on up to 2,000 training utterances (seen identities only) and the
    word judge on the corpus' real single words."""
    index = {i: k for k, i in enumerate(corpus.seen)}
    train = corpus.train[:2000]
    speaker = fit_classifier([u.mel for u in train], [index[u.identity] for u in train],
                             len(corpus.seen), epochs=epochs, seed=seed)  # fmt: skip
    mels, labels = zip(*corpus.word_clips)
    words = fit_classifier(list(mels), list(labels), 10, epochs=epochs, seed=seed)
    return Judges(speaker, words, resemblyzer)


def style_separation(styles: np.ndarray, labels: Sequence[int]) -> float:
    """sum_d Var_between(d) / sum_d Var_total(d) for vectors (n, d) grouped by ``labels``."""
    x = np.asarray(styles, np.float64)
    total = ((x - x.mean(0)) ** 2).sum()
    if total <= 1e-12:
        return 0.0
    lab = np.asarray(labels)
    between = sum((lab == g).sum() * ((x[lab == g].mean(0) - x.mean(0)) ** 2).sum()
                  for g in np.unique(lab))  # fmt: skip
    return float(between / total)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def _verification(real: np.ndarray, fake: np.ndarray, idents: np.ndarray) -> dict[str, float]:
    """Verification EER of generated clips against real recordings, and the real ceilings.

    Generated trials: every (x_k, y_j) pair, target when identity(j) = identity(k). Real
    trials: every (y_k, y_j) pair with j != k. ``identity_accuracy_real``: y_k's nearest
    centroid of the real recordings other than y_k is its own identity's.

    Shape:
        real, fake: (items, emb) unit rows, item k of each for the same evaluation item;
        idents: (items,).
    """
    same = idents[:, None] == idents[None, :]
    out = {"eer": equal_error_rate(fake @ real.T, same)}
    off = ~np.eye(len(idents), dtype=bool)
    if (same & off).any() and (~same).any():
        sims = real @ real.T
        out["eer_real"] = equal_error_rate(sims[off], same[off])
        order = np.unique(idents)
        hits = []
        for k in range(len(idents)):
            groups = [(i, off[k] & (idents == i)) for i in order]
            groups = [(i, g) for i, g in groups if g.any()]  # y_k may be its identity's only
            cents = _unit(np.stack([real[g].mean(0) for _, g in groups]))
            hits.append(groups[int(np.argmax(cents @ real[k]))][0] == idents[k])
        out["identity_accuracy_real"] = float(np.mean(hits))
    return out


@torch.no_grad()
def generate(model: StyleSpeech, reference: Utterance, tokens: np.ndarray) -> dict[str, Any]:
    """x = G(tokens, E(reference mel)) with predicted durations: ``mel`` (T, n_mels),
    ``durations`` (N,), ``style`` (style_dim,), ``empty`` (the model predicted no frame at all;
    then one frame per token is generated, and the evaluation counts it)."""
    ref = torch.from_numpy(reference.mel)[None]
    w = model.style(ref, torch.ones(ref.shape[:2], dtype=torch.bool))
    tok = torch.from_numpy(tokens)[None]
    out = model(tok, w)
    d = torch.clamp(torch.round(torch.exp(out["log_duration"][0]) - 1), min=0).long()
    empty = int(d.sum()) == 0
    if empty:  # an (untrained) model that predicts no frames: one per token, and say so
        d = torch.ones_like(d)
        out = model(tok, w, durations=d[None])
    mel = out["mel"][0, out["mel_mask"][0]].numpy()
    return {"mel": mel, "durations": d.numpy(), "style": w[0].numpy(), "empty": empty}


def _word_segments(u: Utterance, mel: np.ndarray, durations: np.ndarray) -> list[np.ndarray]:
    """The frames of each word of ``u``'s token layout under ``durations`` (a word predicted
    0 frames long gets one silent-looking frame, so it counts as a classification error)."""
    floor = np.full((1, mel.shape[1]), float(mel.min()))
    return [mel[a:b] if b > a else floor for a, b in word_frame_spans(u.tokens, durations)]


def evaluate(
    model: StyleSpeech,
    corpus: Corpus,
    judges: Judges,
    griffin_lim_iters: int = 60,
    keep: int = 2,
    rng: np.random.Generator | None = None,
) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """Score the generator on every evaluation item (see the module docstring). Returns the
    mean metrics and the first ``keep`` items' mels and audio for the report.

    ``rng`` draws Griffin-Lim's initial phases; with None they are unseeded, so the audio and
    the Resemblyzer scores vary from run to run (the other metrics never use the audio).
    """
    model.eval()
    cfg: MelConfig = corpus.mel_config
    items = corpus.evals
    gens = [generate(model, it.reference, it.target.tokens) for it in items]
    idents = [it.target.identity for it in items]
    real = embed(judges.speaker, [it.target.mel for it in items])
    fake = embed(judges.speaker, [g["mel"] for g in gens])
    order = sorted(set(idents))
    cent = _unit(np.stack([real[np.array(idents) == i].mean(0) for i in order]))
    fake_u = _unit(fake)
    sims = (fake_u * cent[[order.index(i) for i in idents]]).sum(-1)
    nearest = np.array(order)[(fake_u @ cent.T).argmax(-1)]
    verification = _verification(_unit(real), fake_u, np.array(idents))
    by_ref: dict[int, list[int]] = defaultdict(list)
    for k, it in enumerate(items):
        by_ref[id(it.reference)].append(k)
    cons = [float((fake_u[a] * fake_u[b]).sum()) for ks in by_ref.values()
            for i, a in enumerate(ks) for b in ks[i + 1 :]]  # fmt: skip
    gen_words, real_words, labels = [], [], []
    for it, g in zip(items, gens):
        gen_words += _word_segments(it.target, g["mel"], g["durations"])
        real_words += [it.target.mel[a:b] for a, b in it.target.word_frames]
        labels += [DIGITS.index(w) for w in it.target.words]
    lab = np.asarray(labels)
    out = {
        "mcd": float(np.mean([dtw_mcd(g["mel"], it.target.mel) for it, g in zip(items, gens)])),
        "similarity": float(sims.mean()),
        "identity_accuracy": float((nearest == np.array(idents)).mean()),
        **verification,
        "intelligibility": float((predict(judges.words, gen_words) == lab).mean()),
        "intelligibility_real": float((predict(judges.words, real_words) == lab).mean()),
        "intelligibility_ratio": 0.0,
        "empty_outputs": float(np.mean([g["empty"] for g in gens])),
        "style_separation": style_separation(np.stack([g["style"] for g in gens]), idents),
        "frames_ratio": float(
            np.mean([len(g["mel"]) / len(it.target.mel) for it, g in zip(items, gens)])
        ),
    }
    if cons:  # needs two texts per reference
        out["consistency"] = float(np.mean(cons))
    if out["intelligibility_real"] > 0:
        out["intelligibility_ratio"] = out["intelligibility"] / out["intelligibility_real"]
    examples = []
    waves = []
    for k, (it, g) in enumerate(zip(items, gens)):
        need_wave = judges.use_resemblyzer or k < keep
        wave = griffin_lim(g["mel"], cfg, griffin_lim_iters, rng) if need_wave else None
        waves.append(wave)
        if k < keep:
            examples.append({"reference": it.reference.mel, "target": it.target.mel,
                             "generated": g["mel"], "wave": wave,
                             "reference_wave": it.reference.wave, "target_wave": it.target.wave,
                             "text": " ".join(it.target.words),
                             "identity": corpus.identities[it.target.identity].name})  # fmt: skip
    if judges.use_resemblyzer:
        sr = cfg.sample_rate
        real_v = np.stack([judges.voice_embedding(it.target.wave, sr) for it in items])
        fake_v = np.stack([judges.voice_embedding(w, sr) for w in waves])
        gl_real = [griffin_lim(it.target.mel, cfg, griffin_lim_iters, rng) for it in items]
        ceil_v = np.stack([judges.voice_embedding(w, sr) for w in gl_real])
        vc = _unit(np.stack([real_v[np.array(idents) == i].mean(0) for i in order]))
        rows = [order.index(i) for i in idents]
        out["resemblyzer"] = float((_unit(fake_v) * vc[rows]).sum(-1).mean())
        out["resemblyzer_real"] = float((_unit(ceil_v) * vc[rows]).sum(-1).mean())
    return out, examples
