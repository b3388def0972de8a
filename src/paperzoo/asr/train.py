"""Streaming-ASR reproduction units: one recogniser per (arm, seed), trained on connected digits
and decoded on a held-out speaker with and without head-synchronous decoding at each eps.

Every arm of a seed sees the same utterances (drawn with the seed), the same features and the
same batch order; only the source attention and its training constraint differ.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import torch

from paperzoo.core import Unit, UnitContext, seed_everything
from paperzoo.core.engine import relative_change

from .config import Config
from .data import DIGITS, DigitUtterance, make_digit_strings
from .decoding import transcribe
from .features import LogMel
from .metrics import error_rates, latencies
from .model import MMARecognizer, Vocabulary, save_recognizer

__all__ = ["arm_spec", "preflight", "run_unit", "tone_clips", "units"]

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


def _data(cfg: Config, root: Any, seed: int) -> dict[str, Any]:
    d = cfg.data
    train_clips, test_clips, _ = _clips(cfg, root)
    kw = dict(min_digits=d.min_digits, max_digits=d.max_digits, gap_s=(0.0, d.max_gap_s),
              snr_db=d.snr_db)  # fmt: skip
    train = make_digit_strings(train_clips, d.num_train, seed=1000 + seed, **kw)
    dev = make_digit_strings(train_clips, max(32, d.num_test // 4), seed=2000 + seed, **kw)
    test = make_digit_strings(test_clips, d.num_test, seed=3000 + seed, **kw)
    feats = LogMel(8000, 40).fit([u.wave for u in train[:200]])
    return {"train": train, "dev": dev, "test": test, "features": feats}


def preflight(cfg: Config, data_root: Any) -> None:
    for a in cfg.arms:
        arm_spec(a)
    if cfg.data.source == "fsdd":
        from paperzoo.datasets.speech import load_fsdd

        load_fsdd(data_root)


def units(cfg: Config) -> list[Unit]:
    for a in cfg.arms:
        arm_spec(a)
    return [Unit(f"{a}/seed{s}", a, s, {"arm": a}) for a in cfg.arms for s in cfg.seeds]


def _batch(
    utts: list[DigitUtterance], feats: LogMel, vocab: Vocabulary
) -> tuple[torch.Tensor, torch.Tensor, list[list[int]]]:
    fs = [feats(u.wave) for u in utts]
    lens = torch.tensor([len(f) for f in fs])
    x = torch.zeros(len(fs), int(lens.max()), fs[0].shape[1])
    for i, f in enumerate(fs):
        x[i, : len(f)] = torch.from_numpy(f)
    return x, lens, [vocab.encode(u.text) for u in utts]


def _model_kwargs(cfg: Config, arm: str) -> dict[str, Any]:
    m = cfg.model
    attention, constraint, eps = arm_spec(arm)
    mma = dict(chunk=m.chunk, init_r=m.init_r, noise_std=m.noise_std, headdrop=m.headdrop,
               constraint=constraint, eps_train=max(eps, 0))  # fmt: skip
    return dict(in_dim=40, dim=m.dim, heads=m.heads, ff=m.ff, enc_layers=m.enc_layers,
                dec_layers=m.dec_layers, attention=attention,
                first_source_layer=m.first_source_layer, mma=mma, left_context=m.left_context,
                dropout=m.dropout, ctc_weight=m.ctc_weight,
                label_smoothing=m.label_smoothing)  # fmt: skip


def _decode_all(
    model: MMARecognizer, data: dict[str, Any], eps: int | None
) -> tuple[dict[str, float], list[dict[str, Any]]]:
    feats: LogMel = data["features"]
    refs, hyps, lats, forced, heads, examples = [], [], [], 0, 0, []
    for u in data["test"]:
        em = transcribe(model, u.wave, feats, eps)
        words = [e.word for e in em]
        refs.append(u.text)
        hyps.append(" ".join(words))
        ends = [feats.frame_of_sample(e) // 4 for e in u.word_ends]
        lats += latencies(list(u.words), ends, words, [e.frame for e in em])
        forced += sum(e.forced_heads for e in em)
        heads += sum(e.total_heads for e in em)
        if len(examples) < 3:
            examples.append({"ref": u.text, "hyp": hyps[-1], "ends": ends,
                             "frames": [e.frame for e in em]})  # fmt: skip
    r = error_rates(refs, hyps)
    out = {"wer": r["wer"], "cer": r["cer"], "latency": float(np.mean(lats)) if lats else 0.0}
    if heads:
        out["forced"] = forced / heads
    return out, examples


@torch.no_grad()
def _head_alignment(model: MMARecognizer, data: dict[str, Any], vocab: Vocabulary) -> list[float]:
    """Per MMA head (last MMA layer), the correlation between its expected boundary and the
    true word-end frame over the test tokens (teacher forcing, no noise)."""
    if not model.mma_layers:
        return []
    feats: LogMel = data["features"]
    utts = data["test"][:64]
    x, lens, targets = _batch(utts, feats, vocab)
    memory, _ = model.encode(x)
    mask = torch.arange(memory.shape[1])[None] < (lens // 4).clamp(min=1)[:, None]
    n = max(len(t) for t in targets)
    inp = torch.full((len(utts), n), vocab.EOS)  # position k is fed token k - 1, predicts k
    for i, t in enumerate(targets):
        if len(t) > 1:
            inp[i, 1 : len(t)] = torch.tensor(t[:-1])
    _, alphas = model.decode_states(inp, memory, mask)
    alpha = alphas[-1]  # (B, H, L, T)
    pos = (alpha * torch.arange(alpha.shape[-1])).sum(-1) / alpha.sum(-1).clamp(min=1e-9)
    out = []
    for h in range(alpha.shape[1]):
        xs, ys = [], []
        for i, u in enumerate(utts):
            for k, end in enumerate(u.word_ends):
                xs.append(float(pos[i, h, k]))
                ys.append(feats.frame_of_sample(end) // 4)
        c = np.corrcoef(xs, ys)[0, 1] if np.std(xs) > 0 else 0.0
        out.append(float(c))
    return out


def run_unit(cfg: Config, unit: Unit, ctx: UnitContext) -> dict[str, float]:
    arm, t = unit.params["arm"], cfg.train
    data = ctx.cache(("asr", repr(cfg.data), unit.seed, str(ctx.data_root)),
                     lambda: _data(cfg, ctx.data_root, unit.seed))  # fmt: skip
    vocab = Vocabulary(DIGITS)
    seed_everything(unit.seed)
    kwargs = _model_kwargs(cfg, arm)
    model = MMARecognizer(vocab, **kwargs).to(ctx.device)
    opt = torch.optim.Adam(model.parameters(), t.learning_rate)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / max(1, t.warmup)))
    gen = torch.Generator().manual_seed(unit.seed)
    curve: list[list[float]] = []
    dev = _batch(data["dev"], data["features"], vocab)
    train = data["train"]
    for step in ctx.steps(t.steps, {"model": model, "opt": opt, "sched": sched, "gen": gen,
                                    "curve": curve}, desc="train"):  # fmt: skip
        model.train()
        idx = torch.randint(len(train), (t.batch_size,), generator=gen).tolist()
        x, lens, targets = _batch([train[i] for i in idx], data["features"], vocab)
        loss, _ = model.loss(x.to(ctx.device), lens, targets, generator=gen)
        opt.zero_grad()
        loss.backward()
        if t.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), t.grad_clip)
        opt.step()
        sched.step()
        if step % t.eval_every == 0 or step == t.steps:
            model.eval()
            with torch.no_grad():
                dev_loss = float(model.loss(dev[0], dev[1], dev[2])[0])
            curve.append([float(step), dev_loss])
            ctx.log({"step": step, "train/loss": float(loss.detach()), "dev/loss": dev_loss})
    model.eval()
    save_recognizer(model, data["features"], ctx.file("model.pt"), **kwargs)
    out: dict[str, float] = {
        "train/dev_loss": curve[-1][1],
        "train/dev_loss_change": relative_change([v for _, v in curve]),
    }
    windows: list[int | None] = [None] if arm == "offline" else [None, *cfg.eval.eps]
    examples = {}
    for eps in windows:
        tag = "free" if eps is None else f"eps{eps}"
        res, ex = _decode_all(model, data, eps)
        for k, v in res.items():
            out[f"eval/{k}_{tag}"] = v
        examples[tag] = ex
    corr = _head_alignment(model, data, vocab)
    if corr:
        out["eval/min_head_alignment"] = min(corr)
    ctx.artifact("head_alignment", corr)
    ctx.artifact("dev_curve", curve)
    ctx.artifact("examples", examples)
    return out
