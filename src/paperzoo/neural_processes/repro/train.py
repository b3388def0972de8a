"""Reproduction units: train one of CNP/NP/CANP/ANP/BNP/BANP for one seed on the configured task
family, evaluate it on in-distribution and model-data-mismatch sets, and declare the paper's
claims (Table 1: bootstrapping is more robust under t-noise and costs nothing in distribution).

Every arm of a seed sees the same task stream and the same initialisation stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from paperzoo.core import Unit, UnitContext, make_generator
from paperzoo.core.engine import absolute_change

from ..benchmark import CALIBRATION_GRID, evaluate, gp_tasks
from ..metrics import predictive_quantile
from ..models import MODELS, NeuralProcess
from ..tasks import GPTaskSampler, ImageCompletionSampler, Task, add_t_noise, make_kernel
from .claims import clean_and_shifts
from .config import Config
from .evaluation import MODEL_FILE, build_model

__all__ = [
    "CALIBRATION_GRID",
    "preflight",
    "run_unit",
    "units",
]

_COST = {"CNP": 1.0, "NP": 2.0, "CANP": 3.0, "ANP": 4.0, "BNP": 4.0, "BANP": 8.0}  # step times


@dataclass
class _Data:
    """Training sampler, named fixed evaluation sets, a validation set and the figure's tasks."""

    train: Any
    eval_sets: dict[str, list[Task]]
    val: list[Task]
    plot_tasks: dict[str, Task]
    x_dim: int
    y_dim: int
    image_shape: tuple[int, int, int] | None = None


# --- data ------------------------------------------------------------------------------------


def _fixed(sampler: Any, num: int, batch_size: int, seed: int) -> list[Task]:
    g = make_generator(seed)
    return [sampler.sample(batch_size, generator=g) for _ in range(num)]


def _gp_data(cfg: Config) -> _Data:
    t, ev = cfg.task, cfg.eval
    m = t.max_num_points

    def tasks(kernel: str, gamma: float | None = None, mode: str = "fixed") -> list[Task]:
        return gp_tasks(
            kernel,
            gamma,
            mode,  # type: ignore[arg-type]
            num_batches=ev.num_batches,
            batch_size=ev.batch_size,
            seed=ev.seed,
            length_range=t.length_range,
            scale_range=t.scale_range,
            max_num_points=m,
        )

    # Every evaluation set uses the same seed, as the official code does, so the clean and
    # t-noise sets share x locations and counts (only the noise differs in distribution).
    eval_sets = {t.train_kernel: tasks(t.train_kernel), "tnoise": tasks(t.train_kernel, t.t_noise)}
    if t.random_t_noise:
        eval_sets["tnoise_random"] = tasks(t.train_kernel, None, t.random_t_noise_mode)
    for name in t.eval_kernels:
        eval_sets[name] = tasks(name)
        if t.t_noise_on_eval_kernels:
            eval_sets[f"{name}_tnoise"] = tasks(name, t.t_noise)
    train = GPTaskSampler(
        make_kernel(t.train_kernel, t.length_range, t.scale_range), max_num_points=m
    )
    val = _fixed(train, cfg.train.num_val_batches, 16, ev.seed + 1)
    g = make_generator(ev.seed + 2)  # the figure: the same functions clean and with t-noise
    clean = train.sample(2, num_context=10, num_target=30, generator=g)
    noisy = Task(clean.x, add_t_noise(clean.y, t.t_noise, generator=g), clean.num_context)
    return _Data(train, eval_sets, val, {"clean": clean, "tnoise": noisy}, 1, 1)


def _image_data(cfg: Config, ctx: UnitContext) -> _Data:
    from paperzoo.datasets import load_images

    t, ev, m = cfg.task, cfg.eval, cfg.task.max_num_points
    train_split, test_split = load_images(t.dataset, ctx.data_root)
    seen = torch.as_tensor(t.seen_classes)

    def images(split: Any, in_seen: bool) -> torch.Tensor:
        return split.x[torch.isin(split.y, seen) == in_seen]

    train_imgs = images(train_split, True)
    if t.train_images:
        train_imgs = train_imgs[: t.train_images]
    seen_test = images(test_split, True)
    samplers = {
        "seen": ImageCompletionSampler(seen_test, max_num_points=m),
        "unseen": ImageCompletionSampler(images(test_split, False), max_num_points=m),
    }
    if t.random_t_noise:  # the official image setting t_noise = -1: gamma ~ U(0, 0.09) per pixel
        samplers["tnoise_random"] = ImageCompletionSampler(
            seen_test, max_num_points=m, t_noise=None, t_noise_mode=t.random_t_noise_mode
        )
    eval_sets = {k: _fixed(s, ev.num_batches, ev.batch_size, ev.seed) for k, s in samplers.items()}
    val = _fixed(samplers["seen"], cfg.train.num_val_batches, 16, ev.seed + 1)
    c, h, w = train_split.image_shape
    g = make_generator(ev.seed + 2)
    plot = {
        k: s.sample(4, num_context=100, num_target=h * w - 100, generator=g)
        for k, s in samplers.items()
    }
    sampler = ImageCompletionSampler(train_imgs, max_num_points=m)
    return _Data(sampler, eval_sets, val, plot, 2, c, image_shape=(c, h, w))


def _lotka_volterra_data(cfg: Config) -> _Data:
    from ..predator_prey import LotkaVolterraSampler, simulate_pool

    t, ev, m = cfg.task, cfg.eval, cfg.task.max_num_points
    n_eval = max(100, ev.num_batches)  # series in each evaluation pool

    def sampler(theta: tuple[float, ...], n: int, seed: int) -> LotkaVolterraSampler:
        return LotkaVolterraSampler(simulate_pool(n, theta, seed=seed), max_num_points=m)

    # Distinct simulation seeds: the evaluation series are never in the training pool.
    train = sampler(t.theta, t.num_series, 0)
    samplers = {
        "sim": sampler(t.theta, n_eval, 1),
        "mismatch": sampler(t.mismatch_theta, n_eval, 2),
    }
    eval_sets = {k: _fixed(s, ev.num_batches, ev.batch_size, ev.seed) for k, s in samplers.items()}
    val = _fixed(samplers["sim"], cfg.train.num_val_batches, 16, ev.seed + 1)
    g = make_generator(ev.seed + 2)
    plot = {k: s.sample(2, num_context=20, num_target=29, generator=g) for k, s in samplers.items()}
    return _Data(train, eval_sets, val, plot, 1, 2)


def _data(cfg: Config, ctx: UnitContext) -> _Data:
    key = (
        "neural_processes",
        repr(cfg.task),
        repr(cfg.eval),
        cfg.train.num_val_batches,
        str(ctx.data_root),
    )
    builders = {
        "images": lambda: _image_data(cfg, ctx),
        "lotka_volterra": lambda: _lotka_volterra_data(cfg),
        "gp": lambda: _gp_data(cfg),
    }
    return ctx.cache(key, builders[cfg.task.kind])


# --- one (arm, seed) unit --------------------------------------------------------------------


def preflight(cfg: Config, data_root: Any) -> None:
    """Image completion: load the images once, so missing data fail before any unit runs."""
    if cfg.task.kind == "images":
        from paperzoo.datasets import load_images

        load_images(cfg.task.dataset, data_root)


def units(cfg: Config) -> list[Unit]:
    """One unit per arm and seed."""
    unknown = [a for a in cfg.arms if a.upper() not in MODELS]
    if unknown:
        raise ValueError(f"unknown models {unknown}; choose from {sorted(MODELS)}")
    return [
        Unit(f"{a.upper()}/seed{s}", a.upper(), s, cost=_COST.get(a.upper(), 1.0))
        for s in cfg.seeds
        for a in cfg.arms
    ]


def _predictions(model: NeuralProcess, data: _Data) -> dict[str, Any]:
    """Mean and central 95% band on a dense grid (1-D) or on every pixel (images)."""
    g = make_generator(0)
    out: dict[str, Any] = {}
    model.eval()
    with torch.no_grad():
        for name, t in data.plot_tasks.items():
            if data.image_shape:
                xq = t.x
            else:  # a grid over the tasks' inputs (GP: [-2, 2]; standardised series: wider)
                lo, hi = min(-2.0, float(t.x.min())), max(2.0, float(t.x.max()))
                xq = torch.linspace(lo, hi, 120).view(1, -1, 1).expand(t.x.shape[0], -1, -1)
            dist = model.predict(t.xc, t.yc, xq, None, g)
            out[name] = {
                "xq": xq[0, :, 0].tolist(),
                "x": t.x.tolist(),
                "y": t.y.tolist(),
                "num_context": t.num_context,
                "mean": dist.mean[..., 0].tolist(),
                "lower": predictive_quantile(dist, 0.025)[..., 0].tolist(),
                "upper": predictive_quantile(dist, 0.975)[..., 0].tolist(),
            }
    return out


def run_unit(cfg: Config, unit: Unit, ctx: UnitContext) -> dict[str, float]:
    """Train ``unit.arm`` on the seed's task stream, then evaluate every set."""
    tc, ec = cfg.train, cfg.eval
    data = _data(cfg, ctx)
    torch.manual_seed(unit.seed)  # the same initialisation stream for every arm of a seed
    model = build_model(cfg, unit.arm, data.x_dim, data.y_dim).to(ctx.device)
    opt = torch.optim.Adam(model.parameters(), lr=tc.learning_rate)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=tc.num_steps)
    g = make_generator(unit.seed)  # the task stream: identical for every arm of this seed
    g_model = make_generator(unit.seed + 10_000)  # latent noise / bootstrap indices
    curve: dict[str, list[float]] = {"step": [], "val_tar_ll": [], "train_loss": []}
    losses: list[float] = []
    state = {"model": model, "opt": opt, "sched": sched, "g": g, "g_model": g_model, "curve": curve}
    # --- training ---
    for step in ctx.steps(tc.num_steps, state, every=tc.checkpoint_every):
        model.train()
        task = data.train.sample(tc.batch_size, generator=g)
        loss = model.loss(task.xc, task.yc, task.x, task.y, tc.num_samples, g_model)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"{unit.key}: loss is {loss.item()} at step {step}")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
        if step % tc.val_every == 0 or step == tc.num_steps:
            val = evaluate(model, data.val, min(ec.num_samples, 10), ec.seed)
            curve["step"].append(step)
            curve["val_tar_ll"].append(val["tar_ll"])
            curve["train_loss"].append(float(np.mean(losses)) if losses else float("nan"))
            losses = []
            ctx.log(
                {"step": step, "train/loss": curve["train_loss"][-1], "val/tar_ll": val["tar_ll"]}
            )
    # --- evaluation ---
    metrics: dict[str, float] = {"val/tar_ll_change": absolute_change(curve["val_tar_ll"])}
    calibration = {}
    for name, batches in data.eval_sets.items():
        r = evaluate(model, batches, ec.num_samples, ec.seed)
        calibration[name] = r.pop("calibration")
        metrics.update({f"{name}/{k}": v for k, v in r.items()})
    clean, shifts = clean_and_shifts(cfg)
    for shift in shifts:
        metrics[f"{shift}/tar_ll_drop"] = metrics[f"{clean}/tar_ll"] - metrics[f"{shift}/tar_ll"]
    # Weights only (no pickled objects), so `evaluation.load_trained` can bring it back later.
    torch.save(
        {"model": model.state_dict(), "x_dim": data.x_dim, "y_dim": data.y_dim},
        ctx.file(MODEL_FILE),
    )
    ctx.artifact("curve", curve)
    ctx.artifact("calibration", calibration)
    if unit.seed == cfg.seeds[0]:
        ctx.artifact("predictions", _predictions(model, data))
    return metrics
