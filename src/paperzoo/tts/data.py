"""The reproduction's corpus: pitch/rate pseudo-speaker identities over single-word clips (real
FSDD digits, or a synthetic tone language for pipeline checks), utterances concatenated from
them with exact word durations, their features, and the unseen-speaker evaluation items.

Paper: Min, Lee, Yang, Hwang, "Meta-StyleSpeech: Multi-Speaker Adaptive Text-to-Speech
Generation", ICML 2021, https://arxiv.org/abs/2106.03153 (experimental setup: LibriTTS
train-clean-100/360 for training, unseen LibriTTS and VCTK speakers for adaptation from one
1-3 s reference). Official preprocessing: https://github.com/KevinMIN95/StyleSpeech
(``prepare_align.py``, ``preprocess.py``, ``preprocessors/libritts.py``).

An utterance of words w_1..w_n spoken by identity (speaker, factor) is

    gap_0, clip(w_1), gap_1, ..., clip(w_n), gap_n        (clips played ``factor`` x faster)

and its symbols are ``" ", phones(w_1), " ", ..., phones(w_n), " "``: each gap is one silence
token with exactly the gap's frames, and a word's frames are split evenly over its phonemes
(the only approximation: phoneme boundaries inside a word are not known without an aligner).
Clips are trimmed of leading/trailing silence (30 dB below peak) first, so a word's frames are
speech and the gaps the only silence.

Per-token targets follow FastSpeech2 / the official code: pitch = mean log-F0 over the token's
frames (pYIN at 0.5-semitone bins on each original clip, scaled by the factor; unvoiced frames
linearly interpolated), energy = mean frame L2 norm; both z-normalised with training statistics.

Deviations from the paper and the official preprocessing:
    * Corpus: FSDD digits with pitch/rate pseudo-speakers, or the synthetic multi-speaker
      corpus, instead of LibriTTS (not available here); unseen identities are held-out
      speaker x factor pairs rather than unseen real speakers.
    * Durations: exact word boundaries with an even split over a word's phonemes (FSDD), or the
      learned monotonic aligner (:mod:`.aligner`; the synthetic corpus), instead of the
      Montreal Forced Aligner; each gap is one silence token (MFA gives ``sp`` / ``sil``).
    * Pitch: pYIN at 0.5-semitone bins instead of WORLD, averaged per token as log-F0 (the
      official code averages F0 in Hz); the normalising statistics are taken without the
      official ``remove_outlier`` step.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .audio import MEL_CONFIGS, MelConfig
from .corpus import concatenate_words, pseudo_speaker_clip
from .text import Phonemizer

__all__ = [
    "DIGITS",
    "Corpus",
    "EvalItem",
    "Identity",
    "Utterance",
    "build_corpus",
    "collate",
    "tone_clips",
]

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


@dataclass(frozen=True)
class Identity:
    """A voice: a real (or synthetic) speaker played ``factor`` times faster and higher."""

    speaker: str
    factor: float
    seen: bool

    @property
    def name(self) -> str:
        return f"{self.speaker}x{self.factor:g}"


@dataclass
class Utterance:
    """Features of one utterance. ``tokens``, ``durations``, ``pitch``, ``energy``: (N,);
    ``mel``: (T, n_mels) natural-log mel with ``durations.sum() == T``; ``word_frames``: each
    word's (start, end) frame; ``wave`` is kept for evaluation utterances only."""

    identity: int
    words: tuple[str, ...]
    tokens: np.ndarray
    durations: np.ndarray
    pitch: np.ndarray
    energy: np.ndarray
    mel: np.ndarray
    word_frames: list[tuple[int, int]]
    wave: np.ndarray | None = None


@dataclass
class EvalItem:
    """One unseen-speaker test: speak ``target``'s words in ``reference``'s voice (no word in
    common); ``target`` is the real recording of those words by the same identity."""

    reference: Utterance
    target: Utterance


@dataclass
class Corpus:
    identities: list[Identity]
    seen: list[int]
    """Indices of the seen identities (the meta stage's prototypes, in this order)."""
    train: list[Utterance]
    val: list[Utterance]
    evals: list[EvalItem]
    word_clips: list[tuple[np.ndarray, int]]
    """(log-mel, digit index) of real single words of seen identities: the word judge's data."""
    mel_config: MelConfig
    stats: dict[str, float]
    mel_config_name: str = "fsdd_8k"


def tone_clips(takes: int = 6, seed: int = 0) -> list[tuple[np.ndarray, str, str, str]]:
    """A synthetic 'spoken digit' set at 8 kHz, (wave, speaker, word, split): word d is three
    harmonic segments whose pitch steps and formant centre depend on d; speaker s sets the base
    F0 (90-190 Hz) and the spectral tilt. Takes vary in length and loudness; take 0 of each
    word is ``test``. No data needed (the smoke preset's pipeline check)."""
    rng = np.random.default_rng(seed)
    sr, out = 8000, []
    for s in range(6):
        f0, tilt = 90.0 + 20.0 * s, 0.25 + 0.1 * s
        for d, word in enumerate(DIGITS):
            for k in range(takes):
                parts = []
                for j in range(3):
                    n = int(sr * rng.uniform(0.07, 0.11))
                    t = np.arange(n) / sr
                    f = f0 * (1.0 + 0.12 * ((d + j) % 4))
                    centre = 500.0 + 250.0 * ((3 * d + j) % 10)
                    harmonics = [h for h in range(1, 25) if h * f < 3800]
                    gain = [np.exp(-tilt * h - ((h * f - centre) / 600.0) ** 2) for h in harmonics]
                    wave = sum(g * np.sin(2 * np.pi * h * f * t) for g, h in zip(gain, harmonics))
                    parts.append(np.asarray(wave) * np.hanning(n))
                w = np.concatenate(parts) * rng.uniform(0.5, 1.0)
                w = w / (np.abs(w).max() + 1e-9) * 0.5
                out.append((w.astype(np.float32), f"tone{s}", word, "test" if k == 0 else "train"))
    return out


def _real_clips(root: Any) -> list[tuple[np.ndarray, str, str, str]]:
    from paperzoo.datasets.speech import load_fsdd, read_audio

    out = []
    for c in load_fsdd(root):
        wave, sr = read_audio(c.path)
        if sr != 8000:
            raise ValueError(f"{c.path}: expected 8 kHz FSDD audio, got {sr} Hz")
        out.append((wave.astype(np.float32), c.speaker, c.text, c.split))
    return out


def _trim(wave: np.ndarray, top_db: float = 30.0) -> np.ndarray:
    """The clip without leading/trailing silence (more than ``top_db`` below its peak): FSDD's
    "trimmed" clips still hold up to ~0.3 s of silence, which would otherwise count as word
    frames; the gaps between words are then the only silence, one silence token each."""
    import librosa

    out, _ = librosa.effects.trim(np.asarray(wave, np.float32), top_db=top_db)
    return out if len(out) else np.asarray(wave, np.float32)


def _interp_log_f0(f0: np.ndarray) -> np.ndarray:
    """log F0 with unvoiced frames linearly interpolated (all unvoiced: zeros)."""
    voiced = f0 > 0
    if not voiced.any():
        return np.zeros_like(f0, dtype=np.float64)
    idx = np.arange(len(f0))
    return np.interp(idx, idx[voiced], np.log(f0[voiced]))


def _split_evenly(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


class _Builder:
    """Makes utterances of one identity from its clips (clip pitch computed once per clip)."""

    def __init__(self, clips: list[tuple[np.ndarray, str, str, str]], cfg: MelConfig) -> None:
        self.cfg, self.phon = cfg, Phonemizer()
        self.pool: dict[tuple[str, str, str], list[int]] = defaultdict(list)
        self._raw = [c[0] for c in clips]
        self._trimmed: dict[int, np.ndarray] = {}
        for i, (_, spk, word, split) in enumerate(clips):
            self.pool[(spk, word, split)].append(i)
        self._f0: dict[int, np.ndarray] = {}

    def wave(self, clip: int) -> np.ndarray:
        """The clip, trimmed on first use (a corpus draws only part of the 3,000 FSDD takes)."""
        if clip not in self._trimmed:
            self._trimmed[clip] = _trim(self._raw[clip])
        return self._trimmed[clip]

    def f0(self, clip: int, factor: float, frames: int) -> np.ndarray:
        """F0 (Hz) of the clip played ``factor`` x faster, on its own ``frames`` frames: the
        original clip's pYIN track resampled in time and scaled in frequency (exact for
        tape-style playback up to frame rounding)."""
        if clip not in self._f0:
            self._f0[clip] = self.cfg.pitch(self.wave(clip), resolution=0.5)
        f = self._f0[clip]
        src = np.minimum(np.round(np.arange(frames) * factor).astype(int), len(f) - 1)
        return f[src] * factor

    def make(
        self,
        rng: np.random.Generator,
        ident: Identity,
        index: int,
        words: Sequence[str],
        split: str,
        max_gap: int,
        keep_wave: bool,
    ) -> Utterance:
        clip_ids = [int(rng.choice(self.pool[(ident.speaker, w, split)])) for w in words]
        clips = [pseudo_speaker_clip(self.wave(c), ident.factor) for c in clip_ids]
        gaps = rng.integers(0, max_gap + 1, size=len(words) + 1)
        utt = concatenate_words(clips, list(words), ident.name, gaps.tolist())
        mel = self.cfg.mel(utt.wave)
        t, hop = len(mel), self.cfg.hop
        segs = utt.frame_durations(hop, t)  # gap, word, gap, ..., gap
        energy = self.cfg.energy(utt.wave)[:t]
        f0 = np.zeros(t)
        for (s, _), c, clip in zip(utt.spans, clip_ids, clips):
            a = min(t, (s + hop // 2) // hop)
            n = min(t - a, max(0, len(clip) // hop))
            f0[a : a + n] = self.f0(c, ident.factor, n)
        logf0 = _interp_log_f0(f0)
        tokens, durs, word_frames, pos = [], [], [], 0
        space = self.phon.index[" "]
        for k, seg in enumerate(segs):
            if k % 2 == 0:
                tokens.append(space)
                durs.append(seg)
            else:
                ph = self.phon.word(words[k // 2])
                tokens += [self.phon.index[p] for p in ph]
                durs += _split_evenly(seg, len(ph))
                word_frames.append((pos, pos + seg))
            pos += seg
        bounds = np.concatenate([[0], np.cumsum(durs)])
        pitch = np.array([logf0[a:b].mean() if b > a else np.nan
                          for a, b in itertools.pairwise(bounds)])  # fmt: skip
        en = np.array([energy[a:b].mean() if b > a else np.nan
                       for a, b in itertools.pairwise(bounds)])  # fmt: skip
        return Utterance(
            identity=index,
            words=tuple(words),
            tokens=np.asarray(tokens, np.int64),
            durations=np.asarray(durs, np.int64),
            pitch=pitch,
            energy=en,
            mel=mel,
            word_frames=word_frames,
            wave=utt.wave if keep_wave else None,
        )


def word_frame_spans(tokens: np.ndarray, durations: np.ndarray) -> list[tuple[int, int]]:
    """Each word's (start, end) frame in the layout ``" ", phones(w_1), " ", ..., " "`` (a
    word is a run of tokens between silence tokens; ``tokens[0]`` is the silence token) under
    per-token ``durations``."""
    bounds = np.concatenate([[0], np.cumsum(durations)])
    space, spans, k = tokens[0], [], 1
    while k < len(tokens):
        end = k
        while end < len(tokens) and tokens[end] != space:
            end += 1
        if end > k:
            spans.append((int(bounds[k]), int(bounds[end])))
        k = end + 1
    return spans


def _normalise(utts: Sequence[Utterance], stats: dict[str, float]) -> None:
    for u in utts:
        for k in ("pitch", "energy"):
            v = (getattr(u, k) - stats[f"{k}_mean"]) / stats[f"{k}_std"]
            setattr(u, k, np.nan_to_num(v, nan=0.0).astype(np.float32))  # 0-frame tokens: mean


MEL_FOR_SOURCE = {"fsdd": "fsdd_8k", "tones": "fsdd_8k", "synth": "synth_16k"}


def build_corpus(data: Any, root: str | Path | None, seed: int) -> Corpus:
    """Identities, training / validation utterances, unseen-speaker evaluation items and the
    word judge's clips, all drawn with ``seed`` (every arm of a seed sees the same ones).

    ``data`` is a :class:`~.config.DataConfig`. FSDD / tones: seen identities are every speaker
    except ``unseen_speaker`` at every factor except ``unseen_factor``; the rest are unseen.
    Synth: see :func:`_build_synth`.
    """
    if data.source == "synth":
        return _build_synth(data, root, seed)
    mel_config = MEL_FOR_SOURCE[data.source]
    cfg = MEL_CONFIGS[mel_config]
    clips = tone_clips() if data.source == "tones" else _real_clips(root)
    speakers = sorted({c[1] for c in clips})
    if data.source == "fsdd" and data.unseen_speaker not in speakers:
        raise ValueError(f"unseen_speaker {data.unseen_speaker!r} is not one of {speakers}")
    unseen_spk = data.unseen_speaker if data.source == "fsdd" else speakers[-1]
    identities = [
        Identity(s, float(f), s != unseen_spk and not np.isclose(f, data.unseen_factor))
        for s in speakers
        for f in data.factors
    ]
    seen = [i for i, d in enumerate(identities) if d.seen]
    unseen = [i for i, d in enumerate(identities) if not d.seen]
    if len(seen) < 2 or not unseen:
        raise ValueError("the factors and held-out speaker leave no seen or no unseen identity")
    b = _Builder(clips, cfg)
    rng = np.random.default_rng(seed)
    max_gap = int(data.max_gap_s * cfg.sample_rate)

    def draw(pool: list[int], n: int, split: str, keep: bool) -> list[Utterance]:
        out = []
        for _ in range(n):
            i = int(rng.choice(pool))
            k = int(rng.integers(data.min_words, data.max_words + 1))
            words = [DIGITS[j] for j in rng.integers(0, 10, size=k)]
            out.append(b.make(rng, identities[i], i, words, split, max_gap, keep))
        return out

    train = draw(seen, data.num_train, "train", False)
    val = draw(seen, data.num_val, "test", False)
    evals = []
    for i in unseen:
        for _ in range(data.refs_per_identity):
            ref = None
            for _ in range(20):  # a 1-3 s reference, as the paper's one-clip setting
                k = int(rng.integers(data.min_words, data.max_words + 1))
                words = [DIGITS[j] for j in rng.choice(10, size=k, replace=False)]
                ref = b.make(rng, identities[i], i, words, "test", max_gap, True)
                if 1.0 <= len(ref.wave) / cfg.sample_rate <= 3.0:  # type: ignore[arg-type]
                    break
            assert ref is not None
            rest = [w for w in DIGITS if w not in ref.words]
            for _ in range(data.texts_per_ref):
                n = min(data.target_words, len(rest))
                words = [rest[j] for j in rng.choice(len(rest), size=n, replace=False)]
                tgt = b.make(rng, identities[i], i, words, "test", max_gap, True)
                evals.append(EvalItem(ref, tgt))
    pv = np.concatenate([u.pitch for u in train])
    ev = np.concatenate([u.energy for u in train])
    stats = {
        "pitch_mean": float(np.nanmean(pv)),
        "pitch_std": float(np.nanstd(pv)) or 1.0,
        "energy_mean": float(np.nanmean(ev)),
        "energy_std": float(np.nanstd(ev)) or 1.0,
    }
    _normalise(train + val + [u for e in evals for u in (e.reference, e.target)], stats)
    word_clips = []
    per_word = max(1, 3000 // (10 * len(seen)))
    for i in seen:
        ident = identities[i]
        for d, w in enumerate(DIGITS):
            pool = b.pool[(ident.speaker, w, "train")]
            for c in rng.choice(pool, size=min(per_word, len(pool)), replace=False):
                word_clips.append((cfg.mel(pseudo_speaker_clip(b.wave(int(c)), ident.factor)), d))
    return Corpus(identities, seen, train, val, evals, word_clips, cfg, stats, mel_config)


def collate(utts: Sequence[Utterance], speaker_index: dict[int, int] | None = None) -> dict:
    """Pad a batch: ``tokens``, ``durations``, ``pitch``, ``energy`` (B, N); ``mel`` (B, T,
    n_mels), ``mel_mask`` (B, T); ``speaker`` (B,) = ``speaker_index[identity]`` when given."""
    n = max(len(u.tokens) for u in utts)
    t = max(len(u.mel) for u in utts)
    b = len(utts)
    out = {
        "tokens": torch.zeros(b, n, dtype=torch.long),
        "durations": torch.zeros(b, n, dtype=torch.long),
        "pitch": torch.zeros(b, n),
        "energy": torch.zeros(b, n),
        "mel": torch.zeros(b, t, utts[0].mel.shape[1]),
        "mel_mask": torch.zeros(b, t, dtype=torch.bool),
    }
    for i, u in enumerate(utts):
        k, f = len(u.tokens), len(u.mel)
        out["tokens"][i, :k] = torch.from_numpy(u.tokens)
        out["durations"][i, :k] = torch.from_numpy(u.durations)
        out["pitch"][i, :k] = torch.from_numpy(u.pitch)
        out["energy"][i, :k] = torch.from_numpy(u.energy)
        out["mel"][i, :f] = torch.from_numpy(u.mel)
        out["mel_mask"][i, :f] = True
    if speaker_index is not None:
        out["speaker"] = torch.tensor([speaker_index[u.identity] for u in utts])
    return out


# --- the synthetic multi-speaker corpus: whole sentences, durations from the aligner ---------


def _synth_features(root: str | Path | None, factors: tuple[float, ...], per_voice: int,
                    aligner_steps: int) -> dict[str, Any]:  # fmt: skip
    """Every (utterance, factor) of the synthetic corpus as an :class:`Utterance` (raw pitch and
    energy, not yet normalised) with durations from a monotonic aligner trained on the
    training voices; the same for every seed (memoised per process)."""
    key = (str(root), factors, per_voice, aligner_steps)
    if key in _SYNTH_MEMO:
        return _SYNTH_MEMO[key]
    from paperzoo.datasets.speech import load_synth_corpus, read_audio

    from .aligner import fit_aligner

    cfg = MEL_CONFIGS["synth_16k"]
    phon = Phonemizer()
    clips = load_synth_corpus(root)
    voices = sorted({c.speaker for c in clips})
    kept = []
    for v in voices:
        kept += [c for c in clips if c.speaker == v][:per_voice]
    identities = [Identity(v, float(f), next(c.split for c in kept if c.speaker == v) == "train")
                  for v in voices for f in factors]  # fmt: skip
    index = {(d.speaker, d.factor): i for i, d in enumerate(identities)}
    rows: list[dict[str, Any]] = []
    for c in kept:
        wave, sr = read_audio(c.path)
        if sr != cfg.sample_rate:
            raise ValueError(f"{c.path}: expected {cfg.sample_rate} Hz audio, got {sr} Hz")
        wave = np.asarray(wave, np.float32)
        f0 = cfg.pitch(wave, resolution=0.5)
        for f in factors:
            w = pseudo_speaker_clip(wave, float(f))
            mel = cfg.mel(w)
            t = len(mel)
            src = np.minimum(np.round(np.arange(t) * f).astype(int), len(f0) - 1)
            rows.append({"identity": index[(c.speaker, float(f))], "text": c.text,
                         "digits": Path(c.path).stem.split("_")[-1].startswith("d"),
                         "tokens": np.asarray(phon.utterance_ids(c.text), np.int64),
                         "mel": mel, "energy": cfg.energy(w)[:t], "f0": f0[src] * f,
                         "wave": w})  # fmt: skip
    seen_rows = [r for r in rows if identities[r["identity"]].seen]
    aligner = fit_aligner([r["tokens"] for r in seen_rows], [r["mel"] for r in seen_rows],
                          steps=aligner_steps, seed=0)  # fmt: skip
    utts = []
    for r in rows:
        durs = aligner.durations(torch.from_numpy(r["tokens"]), torch.from_numpy(r["mel"]))
        bounds = np.concatenate([[0], np.cumsum(durs)])
        logf0 = _interp_log_f0(r["f0"])
        pitch = np.array([logf0[a:b].mean() for a, b in itertools.pairwise(bounds)])
        energy = np.array([r["energy"][a:b].mean() for a, b in itertools.pairwise(bounds)])
        words = tuple(r["text"].split())
        word_frames = word_frame_spans(r["tokens"], durs)
        wave = None if identities[r["identity"]].seen else r["wave"]  # only evaluation needs it
        utts.append((Utterance(r["identity"], words, r["tokens"], durs, pitch, energy, r["mel"],
                               word_frames, wave), r["digits"]))  # fmt: skip
    out = {"identities": identities, "utterances": utts}
    _SYNTH_MEMO[key] = out
    return out


_SYNTH_MEMO: dict[Any, dict[str, Any]] = {}


def _copy(u: Utterance, keep_wave: bool) -> Utterance:
    return Utterance(u.identity, u.words, u.tokens, u.durations, u.pitch.copy(), u.energy.copy(),
                     u.mel, u.word_frames, u.wave if keep_wave else None)  # fmt: skip


def _build_synth(data: Any, root: str | Path | None, seed: int) -> Corpus:
    """The synthetic corpus: seen identities are the training voices at every
    ``synth_factors`` factor; unseen ones the held-out voices at every factor. Validation: up to
    ``num_val`` utterances of seen identities held out of training; evaluation: per unseen
    identity, ``refs_per_identity`` references of 1-3 s, each with ``texts_per_ref`` digit
    strings of the same identity as targets (digits, so the word judge can score them)."""
    base = _synth_features(root, tuple(float(f) for f in data.synth_factors),
                           data.synth_per_voice, data.aligner_steps)  # fmt: skip
    identities: list[Identity] = base["identities"]
    utts: list[tuple[Utterance, bool]] = base["utterances"]
    rng = np.random.default_rng(seed)
    seen = [i for i, d in enumerate(identities) if d.seen]
    seen_rows = [k for k, (u, _) in enumerate(utts) if identities[u.identity].seen]
    order = rng.permutation(seen_rows)
    val_rows = set(order[: min(data.num_val, len(order) // 10)].tolist())
    train = [_copy(utts[k][0], False) for k in seen_rows if k not in val_rows]
    val = [_copy(utts[k][0], False) for k in sorted(val_rows)]
    evals = []
    cfg = MEL_CONFIGS["synth_16k"]
    for i in (i for i, d in enumerate(identities) if not d.seen):
        mine = [(u, dig) for u, dig in utts if u.identity == i]
        refs = [u for u, _ in mine if 1.0 <= len(u.wave) / cfg.sample_rate <= 3.0]  # type: ignore[arg-type]
        for r in rng.permutation(len(refs))[: data.refs_per_identity].tolist():
            ref = refs[r]
            targets = [u for u, dig in mine if dig and u.words != ref.words]
            for t in rng.permutation(len(targets))[: data.texts_per_ref].tolist():
                evals.append(EvalItem(_copy(ref, True), _copy(targets[t], True)))
    stats_src = np.concatenate([u.pitch for u in train]), np.concatenate([u.energy for u in train])
    stats = {"pitch_mean": float(np.nanmean(stats_src[0])),
             "pitch_std": float(np.nanstd(stats_src[0])) or 1.0,
             "energy_mean": float(np.nanmean(stats_src[1])),
             "energy_std": float(np.nanstd(stats_src[1])) or 1.0}  # fmt: skip
    _normalise(train + val + [u for e in evals for u in (e.reference, e.target)], stats)
    word_clips = []
    for u, dig in utts:
        if dig and identities[u.identity].seen:
            pairs = zip(u.word_frames, u.words)
            word_clips += [(u.mel[a:b], DIGITS.index(w)) for (a, b), w in pairs if b > a]
    if len(word_clips) > 3000:
        word_clips = [
            word_clips[k] for k in sorted(rng.choice(len(word_clips), 3000, replace=False))
        ]
    return Corpus(identities, seen, train, val, evals, word_clips, cfg, stats, "synth_16k")
