"""Streaming-ASR reproduction units: one recogniser per (arm, seed), trained on connected digits
and decoded on a held-out speaker with and without head-synchronous decoding at each eps.

Every arm of a seed sees the same utterances (drawn with the seed), the same features and the
same batch order; only the source attention and its training constraint differ.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from paperzoo.core import Unit, UnitContext, seed_everything
from paperzoo.core.engine import relative_change

from ..decoding import Emission, self_found_share, transcribe
from ..features import LogMel
from ..metrics import error_rates, latencies
from ..model import MMARecognizer, Vocabulary, save_recognizer
from .config import Config
from .recipe import arm_spec, batch_features, build_corpus, make_optimizer, model_kwargs

__all__ = ["preflight", "run_unit", "units"]


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


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """One intra-op thread: this model's training and streaming decoding are long sequences of
    tiny ops (per-token recurrences, batch 16, d = 96), where a second thread only adds
    synchronisation; on an oversubscribed box it is catastrophic (the smoke run took 286 s with
    2 threads on a busy 2-core box and 9.5 s with 1)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _decode_all(
    model: MMARecognizer, data: dict[str, Any], eps: int | None, max_tokens: int
) -> tuple[dict[str, float], list[dict[str, Any]]]:
    feats: LogMel = data["features"]
    refs, hyps, lats, forced, heads, examples = [], [], [], 0, 0, []
    every: list[Emission] = []
    for u in data["test"]:
        em = transcribe(model, u.wave, feats, eps, max_tokens=max_tokens)
        every += em
        words = [e.word for e in em]
        refs.append(u.text)
        hyps.append(" ".join(words))
        ends = [feats.frame_of_sample(e) // 4 for e in u.word_ends]
        if ends:  # the synthetic corpus has no word timings: WER only
            lats += latencies(list(u.words), ends, words, [e.frame for e in em])
        forced += sum(e.forced_heads for e in em)
        heads += sum(e.total_heads for e in em)
        if len(examples) < 3:
            examples.append({"ref": u.text, "hyp": hyps[-1], "ends": ends,
                             "frames": [e.frame for e in em]})  # fmt: skip
    r = error_rates(refs, hyps)
    out = {"wer": r["wer"], "cer": r["cer"]}
    if lats:
        out["latency"] = float(np.mean(lats))
    if heads:
        out["forced"] = forced / heads
    # per MMA layer l and head h: the share of its boundaries it found itself (not forced)
    for li, row in enumerate(self_found_share(every)):
        for h, share in enumerate(row):
            if share == share:  # NaN: the head never had a boundary
                out[f"self_found_l{li}h{h}"] = share
    return out, examples


@torch.no_grad()
def _head_alignment(
    model: MMARecognizer, data: dict[str, Any], vocab: Vocabulary
) -> tuple[list[float], dict[str, Any]]:
    """Per MMA head (last MMA layer), the correlation between its expected boundary and the
    true word-end frame over the test tokens (teacher forcing, no noise); and the first test
    utterance's alignments (heads, tokens, frames) for the report's figure."""
    if not model.mma_layers or not data["test"][0].word_ends:  # no MMA, or no word timings
        return [], {}
    feats: LogMel = data["features"]
    utts = data["test"][:64]
    x, lens, targets = batch_features(utts, feats, vocab)
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
    u0, frames0 = utts[0], int(mask[0].sum())
    example = {
        "alpha": alpha[0, :, : len(u0.words), :frames0].tolist(),
        "words": list(u0.words),
        "ends": [feats.frame_of_sample(e) // 4 for e in u0.word_ends],
    }
    return out, example


def run_unit(cfg: Config, unit: Unit, ctx: UnitContext) -> dict[str, float]:
    """Train one arm, then decode the test speaker at every HSD window. Runs with one torch
    thread whatever ``--threads`` says (see :func:`_one_thread`); use ``--workers`` to use
    more cores."""
    with _one_thread():
        return _run_unit(cfg, unit, ctx)


def _run_unit(cfg: Config, unit: Unit, ctx: UnitContext) -> dict[str, float]:
    arm, t = unit.params["arm"], cfg.train
    data = ctx.cache(("asr", repr(cfg.data), unit.seed, str(ctx.data_root)),
                     lambda: build_corpus(cfg, ctx.data_root, unit.seed))  # fmt: skip
    vocab: Vocabulary = data["vocab"]
    seed_everything(unit.seed)
    kwargs = model_kwargs(cfg, arm)
    model = MMARecognizer(vocab, **kwargs).to(ctx.device)
    opt, sched = make_optimizer(cfg, model.parameters())
    gen = torch.Generator().manual_seed(unit.seed)
    curve: list[list[float]] = []
    dev = batch_features(data["dev"], data["features"], vocab, data["cache"])
    train = data["train"]
    for step in ctx.steps(t.num_steps, {"model": model, "opt": opt, "sched": sched, "gen": gen,
                                    "curve": curve}, desc="train"):  # fmt: skip
        model.train()
        idx = torch.randint(len(train), (t.batch_size,), generator=gen).tolist()
        x, lens, targets = batch_features(
            [train[i] for i in idx], data["features"], vocab, data["cache"]
        )
        loss, _ = model.loss(x.to(ctx.device), lens, targets, generator=gen)
        opt.zero_grad()
        loss.backward()
        if t.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), t.grad_clip)
        opt.step()
        sched.step()
        if step % t.eval_every == 0 or step == t.num_steps:
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
        res, ex = _decode_all(model, data, eps, cfg.eval.max_tokens)
        for k, v in res.items():
            out[f"eval/{k}_{tag}"] = v
        examples[tag] = ex
    corr, example = _head_alignment(model, data, vocab)
    if corr:
        out["eval/min_head_alignment"] = min(corr)
    ctx.artifact("head_alignment", corr)
    ctx.artifact("alignment_example", example)
    ctx.artifact("dev_curve", curve)
    ctx.artifact("examples", examples)
    return out
