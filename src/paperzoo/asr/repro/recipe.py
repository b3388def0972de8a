"""The reproduction's recipe shared by ``train.py``, ``distributed.py`` and the benchmark:
arm names, the utterances of a seed (FSDD connected digits or synthetic tone digits), padded
feature batches and the recogniser's constructor arguments for an arm."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import torch

from ..data import DIGITS, DigitUtterance, make_digit_strings
from ..features import LogMel
from ..model import Vocabulary
from .config import Config

__all__ = [
    "arm_spec",
    "batch_features",
    "build_corpus",
    "make_optimizer",
    "model_kwargs",
    "tone_clips",
]

_MCMMA = re.compile(r"^mcmma_eps(\d+)$")


def arm_spec(arm: str) -> tuple[str, str, int]:
    """(attention, constraint, eps_train) of an arm name."""
    if arm == "offline":
        return "offline", "none", 0
    if arm == "mma":
        return "mma", "none", 0
    m = _MCMMA.match(arm)
    if m:
        return "mma", "mutual", int(m.group(1))
    raise ValueError(f"unknown arm {arm!r}: offline, mma or mcmma_eps<k>")


def tone_clips(seed: int = 0, takes: int = 8) -> list[tuple[np.ndarray, str, str]]:
    """A synthetic 'spoken digit' set at 8 kHz: digit d is two successive tones (a DTMF-like
    pair of its own), 0.15-0.3 s long, at a speaker-specific pitch factor; 5 speakers s0-s4.
    For smoke tests and examples without the FSDD recordings."""
    rng = np.random.default_rng(seed)
    low = [350, 400, 450, 500, 550, 600, 650, 700, 750, 800]
    high = [1200, 1100, 1000, 1300, 1400, 900, 1500, 1250, 1050, 1350]
    out = []
    for s, pitch in enumerate((0.85, 0.95, 1.0, 1.1, 1.2)):
        for d, word in enumerate(DIGITS):
            for _ in range(takes):
                n = int(rng.uniform(0.15, 0.3) * 8000)
                t = np.arange(n) / 8000
                half = n // 2
                f = np.where(np.arange(n) < half, low[d], high[d]) * pitch
                env = np.sin(np.pi * np.arange(n) / n)
                wave = 0.4 * env * np.sin(2 * np.pi * f * t)
                out.append((wave.astype(np.float32), f"s{s}", word))
    return out


def _clips(cfg: Config, root: Any) -> tuple[list, list, str]:
    """(training clips, test-speaker clips, test speaker)."""
    if cfg.data.source == "tones":
        clips, test = tone_clips(), "s4"
    else:
        from paperzoo.datasets.speech import load_fsdd, read_audio

        test = cfg.data.test_speaker
        clips = []
        for c in load_fsdd(root):
            wave, sr = read_audio(c.path)
            if sr != 8000:
                raise ValueError(f"{c.path}: {sr} Hz, FSDD is 8 kHz")
            clips.append((wave, c.speaker, c.text))
        if test not in {s for _, s, _ in clips}:
            raise ValueError(f"test speaker {test!r} is not in FSDD")
    return [c for c in clips if c[1] != test], [c for c in clips if c[1] == test], test


def _synth_corpus(cfg: Config, root: Any, seed: int) -> tuple[list, list, list, Vocabulary]:
    """The synthetic corpus at 8 kHz: (train, dev, test) utterances without word timings
    (``word_ends`` empty) and the vocabulary of every word in the corpus (closed vocabulary,
    as a BPE inventory would cover the test words)."""
    import librosa

    from paperzoo.datasets.speech import load_synth_corpus, read_audio

    d = cfg.data
    rng = np.random.default_rng(seed)
    clips = load_synth_corpus(root)
    utts: dict[str, list[DigitUtterance]] = {"train": [], "unseen": []}
    for c in clips:
        wave, sr = read_audio(c.path)
        wave = librosa.resample(np.asarray(wave, np.float32), orig_sr=sr, target_sr=8000)
        if d.snr_db is not None:
            power = float(np.mean(wave**2)) or 1e-8
            wave = wave + rng.normal(size=len(wave)) * np.sqrt(power / 10 ** (d.snr_db / 10))
        u = DigitUtterance(wave.astype(np.float32), tuple(c.text.split()), (), c.speaker)
        utts["unseen" if c.split == "unseen" else "train"].append(u)
    order = rng.permutation(len(utts["train"]))
    n_dev = min(max(16, len(order) // 10), len(order) // 2)
    dev = [utts["train"][i] for i in order[:n_dev]]
    train = [utts["train"][i] for i in order[n_dev:]][: d.num_train]
    test = [utts["unseen"][i] for i in rng.permutation(len(utts["unseen"]))[: d.num_test]]
    words = sorted({w for c in clips for w in c.text.split()})
    return train, dev, test, Vocabulary(tuple(words))


def build_corpus(cfg: Config, root: Any, seed: int) -> dict[str, Any]:
    d = cfg.data
    if d.source == "synth":
        train, dev, test, vocab = _synth_corpus(cfg, root, seed)
        feats = LogMel(8000, 40).fit([u.wave for u in train[:200]])
        cache = {id(u): feats(u.wave) for u in (*train, *dev)}
        return {"train": train, "dev": dev, "test": test, "features": feats, "cache": cache,
                "vocab": vocab}  # fmt: skip
    train_clips, test_clips, _ = _clips(cfg, root)
    kw = dict(min_digits=d.min_digits, max_digits=d.max_digits, gap_s=(0.0, d.max_gap_s),
              snr_db=d.snr_db)  # fmt: skip
    train = make_digit_strings(train_clips, d.num_train, seed=1000 + seed, **kw)
    dev = make_digit_strings(train_clips, max(32, d.num_test // 4), seed=2000 + seed, **kw)
    test = make_digit_strings(test_clips, d.num_test, seed=3000 + seed, **kw)
    feats = LogMel(8000, 40).fit([u.wave for u in train[:200]])
    # features of every training / dev utterance once (recomputing them per batch cost a third
    # of a training step); keyed by the utterance object's id, alive as long as this dict
    cache = {id(u): feats(u.wave) for u in (*train, *dev)}
    return {"train": train, "dev": dev, "test": test, "features": feats, "cache": cache,
            "vocab": Vocabulary(DIGITS)}  # fmt: skip


def batch_features(
    utts: list[DigitUtterance],
    feats: LogMel,
    vocab: Vocabulary,
    cache: dict[int, np.ndarray] | None = None,
) -> tuple[torch.Tensor, torch.Tensor, list[list[int]]]:
    """Padded features (B, T, F), valid lengths (B,) and token ids of utterances (features from
    ``cache`` when there, else computed)."""
    cache = cache or {}
    fs = [cache[id(u)] if id(u) in cache else feats(u.wave) for u in utts]
    lens = torch.tensor([len(f) for f in fs])
    x = torch.zeros(len(fs), int(lens.max()), fs[0].shape[1])
    for i, f in enumerate(fs):
        x[i, : len(f)] = torch.from_numpy(f)
    return x, lens, [vocab.encode(u.text) for u in utts]


def model_kwargs(cfg: Config, arm: str) -> dict[str, Any]:
    m = cfg.model
    attention, constraint, eps = arm_spec(arm)
    mma = dict(chunk=m.chunk, init_r=m.init_r, noise_std=m.noise_std, headdrop=m.headdrop,
               constraint=constraint, eps_train=max(eps, 0))  # fmt: skip
    return dict(in_dim=40, dim=m.hidden_dim, heads=m.num_heads, ff=m.ff_dim,
                enc_layers=m.enc_layers, dec_layers=m.dec_layers, attention=attention,
                first_source_layer=m.first_source_layer, mma=mma, left_context=m.left_context,
                dropout=m.dropout, ctc_weight=m.ctc_weight,
                label_smoothing=m.label_smoothing)  # fmt: skip


def make_optimizer(
    cfg: Config, params: Any
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    """Adam at ``train.learning_rate`` with a linear warm-up over ``train.warmup`` steps: the
    optimiser of a reproduction unit and of the DDP entry point alike."""
    t = cfg.train
    opt = torch.optim.Adam(params, t.learning_rate)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / max(1, t.warmup)))
    return opt, sched
