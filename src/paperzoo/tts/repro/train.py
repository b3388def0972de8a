"""StyleSpeech reproduction units: one generator per (arm, seed), trained on the seen identities
and evaluated on unseen ones from a single reference clip.

``add`` and ``saln`` train from scratch with the same batches (drawn with the seed) and the same
Noam schedule; ``meta`` loads the same seed's finished ``saln`` model and its Adam state and runs
the episodic Meta-StyleSpeech stage on top of it, continuing the generator's schedule, as the
official ``train_meta.py`` does (it restores the StyleSpeech checkpoint's model, optimizer and
step). ``saln_extra`` is the compute-matched control: the same ``saln`` model and Adam state
trained ``meta.num_episodes`` more StyleSpeech steps, so that ``meta`` vs ``saln_extra`` compares
equal generator updates. Every arm of a seed is scored by the same judges on the same items.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from paperzoo.core import Unit, UnitContext, seed_everything
from paperzoo.core.checkpoint import load_checkpoint, save_checkpoint
from paperzoo.core.engine import relative_change

from ..data import Corpus, build_corpus, collate
from ..evaluation import evaluate, fit_judges
from ..meta import PhonemeDiscriminator, StyleDiscriminator, meta_episode
from ..model import StyleSpeech, generator_loss
from ..synthesis import load_tts, save_tts
from ..text import SYMBOLS
from .config import ARMS, Config
from .recipe import make_optimizer, model_kwargs

__all__ = ["preflight", "run_unit", "units"]


def _check_arms(cfg: Config) -> None:
    bad = [a for a in cfg.arms if a not in ARMS]
    if bad:
        raise ValueError(f"unknown arms {bad}; choose from {list(ARMS)}")
    for arm in ("meta", "saln_extra"):
        if arm in cfg.arms and "saln" not in cfg.arms:
            raise ValueError(f"arm {arm!r} starts from the 'saln' model: add 'saln' to the arms")


def preflight(cfg: Config, data_root: Any) -> None:
    _check_arms(cfg)
    if cfg.data.source == "fsdd":
        from paperzoo.datasets.speech import load_fsdd

        load_fsdd(data_root)
    elif cfg.data.source == "synth":
        from paperzoo.datasets.speech import load_synth_corpus

        load_synth_corpus(data_root)
    if cfg.eval.resemblyzer:
        import importlib.util

        if importlib.util.find_spec("resemblyzer") is None:
            raise ValueError(
                "eval.resemblyzer needs the resemblyzer package (pip install resemblyzer "
                "'setuptools<81'); or set eval.resemblyzer=false"
            )


def units(cfg: Config) -> list[Unit]:
    _check_arms(cfg)
    out = []
    for a in cfg.arms:
        for s in cfg.seeds:
            deps = (f"saln/seed{s}",) if a in ("meta", "saln_extra") else ()
            extra = cfg.meta.num_episodes / cfg.train.num_steps
            cost = {"meta": 2.5 * extra, "saln_extra": extra}.get(a, 1.0)
            out.append(Unit(f"{a}/seed{s}", a, s, {"arm": a}, deps=deps, cost=cost))
    return out


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """One intra-op thread: batch 16 at d = 64 is many tiny ops, where a second thread only
    adds synchronisation (and is ruinous on a busy 2-core box); ``--workers`` uses the cores.

    Denormal floats are flushed to zero: after ~1,500 steps the trained generator's activations
    and gradients hold subnormal values, which the CPU handles in microcode; the pilot's step
    time grew from 240 to 560 ms, and a trained checkpoint's step took 666 ms against 267 ms
    with flushing (fresh model: 305 vs 267 ms). Values below 1.2e-38 change nothing else."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    flushed = torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_num_threads(before)
        if flushed:
            torch.set_flush_denormal(False)


@torch.no_grad()
def _val_mel(model: StyleSpeech, corpus: Corpus) -> float:
    """Teacher-forced masked mel L1 on the held-out seen-identity utterances."""
    model.eval()
    tot, n = 0.0, 0
    for i in range(0, len(corpus.val), 32):
        b = collate(corpus.val[i : i + 32])
        w = model.style(b["mel"], b["mel_mask"])
        out = model(b["tokens"], w, b["durations"], b["pitch"], b["energy"],
                    max_frames=b["mel"].shape[1])  # fmt: skip
        _, parts = generator_loss(out, b["mel"], b["durations"], b["pitch"], b["energy"])
        tot += parts["mel"] * len(b["tokens"])
        n += len(b["tokens"])
    model.train()
    return tot / n


def run_unit(cfg: Config, unit: Unit, ctx: UnitContext) -> dict[str, float]:
    """Train one arm, then evaluate it on the unseen identities (one torch thread whatever
    ``--threads`` says; use ``--workers`` for more cores)."""
    with _one_thread():
        return _run_unit(cfg, unit, ctx)


def _corpus_and_judges(cfg: Config, ctx: UnitContext, seed: int) -> tuple[Corpus, Any]:
    def build() -> tuple[Corpus, Any]:
        corpus = build_corpus(cfg.data, ctx.data_root, seed)
        return corpus, fit_judges(corpus, cfg.eval.judge_epochs, cfg.eval.resemblyzer, seed)

    return ctx.cache(("tts", repr(cfg.data), repr(cfg.eval), seed, str(ctx.data_root)), build)


def _run_unit(cfg: Config, unit: Unit, ctx: UnitContext) -> dict[str, float]:
    arm, t = unit.params["arm"], cfg.train
    corpus, judges = _corpus_and_judges(cfg, ctx, unit.seed)
    n_mels = corpus.mel_config.n_mels
    kwargs = model_kwargs(cfg, arm, n_mels)
    seed_everything(unit.seed)
    gen = torch.Generator().manual_seed(unit.seed)
    curve: list[list[float]] = []
    timing: dict[str, float] = {}
    t0 = time.perf_counter()
    if arm in ("meta", "saln_extra"):
        model, _ = load_tts(ctx.file("model.pt", unit_key=f"saln/seed{unit.seed}"))
        model.train()
        opt_state = _saln_optimizer(ctx, unit.seed)
        if arm == "meta":
            _meta_stage(cfg, model, corpus, ctx, gen, curve, opt_state)
        else:
            curve.append([0.0, _val_mel(model, corpus)])
            _style_speech_stage(cfg, model, corpus, ctx, gen, curve, cfg.meta.num_episodes,
                                t.num_steps, opt_state)  # fmt: skip
        steps = cfg.meta.num_episodes
    else:
        model = StyleSpeech(len(SYMBOLS), **kwargs)
        opt = _style_speech_stage(cfg, model, corpus, ctx, gen, curve, t.num_steps)
        # The Adam state the meta stage and the control resume (official train_meta.py).
        save_checkpoint(ctx.file("optimizer.pt"), {"generator": opt.state_dict()})
        steps = t.num_steps
    timing["s_per_step"] = (time.perf_counter() - t0) / max(1, steps)
    save_tts(model, ctx.file("model.pt"), corpus.mel_config_name, **kwargs)
    res, examples = evaluate(model, corpus, judges, cfg.eval.griffin_lim_iters)
    out = {"train/val_mel": curve[-1][1], "train/val_mel_change": relative_change(
        [v for _, v in curve])}  # fmt: skip
    out |= {f"eval/{k}": v for k, v in res.items()}
    _write_examples(ctx, examples, corpus.mel_config.sample_rate)
    ctx.artifact("val_curve", curve)
    ctx.artifact("timing", timing)
    ctx.artifact("examples", [{"text": e["text"], "identity": e["identity"]} for e in examples])
    return out


def _saln_optimizer(ctx: UnitContext, seed: int) -> dict[str, Any]:
    """The finished ``saln`` unit's Adam state (``optimizer.pt``), with a clear error for a
    ``saln`` unit from before the meta stage resumed it."""
    path = ctx.file("optimizer.pt", unit_key=f"saln/seed{seed}")
    state = load_checkpoint(path)
    if state is None:
        raise FileNotFoundError(
            f"{path} is missing: the saln unit predates the optimizer carry-over; "
            "rerun it (paperzoo reproduce tts ... --set 'arms=[\"saln\", ...]')"
        )
    return state["generator"]


def _style_speech_stage(
    cfg: Config, model: StyleSpeech, corpus: Corpus, ctx: UnitContext,
    gen: torch.Generator, curve: list[list[float]], num_steps: int, offset: int = 0,
    opt_state: dict[str, Any] | None = None,
) -> torch.optim.Optimizer:  # fmt: skip
    """``num_steps`` StyleSpeech updates; ``offset`` and ``opt_state`` continue a finished stage
    (schedule from step ``offset + 1``, Adam moments carried over). Returns the optimizer."""
    t = cfg.train
    opt, sched = make_optimizer(cfg, model.parameters(), offset, opt_state)
    state = {"model": model, "opt": opt, "sched": sched, "gen": gen, "curve": curve}
    model.train()
    for step in ctx.steps(num_steps, state, desc="train"):
        idx = torch.randint(len(corpus.train), (t.batch_size,), generator=gen).tolist()
        b = collate([corpus.train[i] for i in idx])
        w = model.style(b["mel"], b["mel_mask"])
        out = model(b["tokens"], w, b["durations"], b["pitch"], b["energy"],
                    max_frames=b["mel"].shape[1])  # fmt: skip
        loss, parts = generator_loss(out, b["mel"], b["durations"], b["pitch"], b["energy"])
        opt.zero_grad()
        loss.backward()
        if t.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), t.grad_clip)
        opt.step()
        sched.step()
        if step % t.eval_every == 0 or step == num_steps:
            curve.append([float(step), _val_mel(model, corpus)])
            logs = {f"train/{k}": v for k, v in parts.items()}
            ctx.log({"step": step, "train/loss": float(loss.detach()), **logs,
                     "val/mel": curve[-1][1]})  # fmt: skip
    return opt


def _meta_stage(
    cfg: Config, model: StyleSpeech, corpus: Corpus, ctx: UnitContext,
    gen: torch.Generator, curve: list[list[float]], opt_state: dict[str, Any],
) -> None:  # fmt: skip
    m, t, dim = cfg.meta, cfg.train, cfg.model.hidden_dim
    n_mels, index = corpus.mel_config.n_mels, {i: k for k, i in enumerate(corpus.seen)}
    d_style = StyleDiscriminator(len(corpus.seen), n_mels, dim, cfg.model.style_dim)
    d_phone = PhonemeDiscriminator(len(SYMBOLS), n_mels, dim)
    # the generator's schedule and Adam moments continue from the StyleSpeech stage's last
    # step, as the official train_meta.py restores the checkpoint's optimizer and step
    g_opt, g_sched = make_optimizer(cfg, model.parameters(), t.num_steps, opt_state)
    d_opt = torch.optim.Adam([*d_style.parameters(), *d_phone.parameters()], m.d_learning_rate,
                             betas=(0.9, 0.98))  # fmt: skip
    by_identity: dict[int, list[int]] = {}
    for k, u in enumerate(corpus.train):
        by_identity.setdefault(u.identity, []).append(k)
    pool = sorted(by_identity)
    if len(pool) < 2:
        raise ValueError("the meta stage needs at least 2 seen identities with utterances")
    size = min(m.num_speakers, len(pool))
    state = {"model": model, "d_style": d_style, "d_phone": d_phone, "g_opt": g_opt,
             "g_sched": g_sched, "d_opt": d_opt, "gen": gen, "curve": curve}  # fmt: skip
    curve.append([0.0, _val_mel(model, corpus)])
    for step in ctx.steps(m.num_episodes, state, name="meta", desc="meta"):
        pick = torch.randperm(len(pool), generator=gen)[:size].tolist()
        utts = []
        for p in pick:
            choices = by_identity[pool[p]]
            utts.append(
                corpus.train[choices[int(torch.randint(len(choices), (1,), generator=gen))]]
            )
        batch = collate(utts, index)
        parts = meta_episode(model, d_style, d_phone, batch, g_opt, d_opt, m.alpha, gen)
        g_sched.step()
        if step % t.eval_every == 0 or step == m.num_episodes:
            curve.append([float(step), _val_mel(model, corpus)])
            ctx.log({"step": step, **{f"meta/{k}": v for k, v in parts.items()},
                     "val/mel": curve[-1][1]})  # fmt: skip


def _write_examples(ctx: UnitContext, examples: list[dict[str, Any]], sample_rate: int) -> None:
    """Mels (``examples.npz``) and Griffin-Lim audio of the first evaluation items (wav)."""
    import soundfile as sf

    arrays = {}
    for k, e in enumerate(examples):
        for name in ("reference", "target", "generated"):
            arrays[f"{k}_{name}"] = np.asarray(e[name], np.float32)
        for name, wave in (("generated", e["wave"]), ("reference", e["reference_wave"]),
                           ("target", e["target_wave"])):  # fmt: skip
            if wave is not None:
                peak = float(np.abs(wave).max()) or 1.0
                sf.write(ctx.file(f"item{k}_{name}.wav"), 0.9 * wave / peak, sample_rate)
    np.savez(ctx.file("examples.npz"), **arrays)
