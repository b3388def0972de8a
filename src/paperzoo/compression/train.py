"""Reproduction runner: teacher, then KD and magnitude-pruning students with plain / +AT / +WCAM /
+WCAM-stochastic objectives, evaluated for accuracy and localisation on cluttered digits."""

from __future__ import annotations

import copy
import functools
import itertools
import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from paperzoo.core import Claim, Outcome, RunDir, make_generator, seed_everything, summarize
from paperzoo.core.device import torch_threads
from paperzoo.core.plots import bar_ci, new_figure, save_figure
from paperzoo.datasets import load_digits, load_mnist, make_loader

from .cluttered import ClutteredDigits, make_cluttered_digits
from .config import Config
from .distill import DistillationObjective, fit
from .gradcam import grad_cam
from .localization import (
    captum_attribution,
    localization_scores,
    map_agreement,
    upsample_maps,
)
from .matching import AttributionMatchingLoss
from .models import SmallVGG
from .prune import FineTuneObjective, iterative_magnitude_pruning, sparsity

__all__ = ["run"]

LAYER = "features"  # the matched and explained layer: the end of the conv stack (Sec. 3.2)
ARM_LABEL = {"plain": "", "at": "+at", "wcam": "+wcam", "wcam_stochastic": "+wcam_stoch"}


# --- data ---------------------------------------------------------------------------------------
def _resize_digits(x: np.ndarray, size: int, max_value: float) -> np.ndarray:
    """(N, h, w) digits -> (N, size, size) uint8 0..255 (area resampling)."""
    t = torch.as_tensor(x, dtype=torch.float32).unsqueeze(1) * (255.0 / max_value)
    t = F.interpolate(t, size=(size, size), mode="area")
    return t.squeeze(1).round().clamp(0, 255).to(torch.uint8).numpy()


def _data(cfg: Config, run_dir: RunDir) -> tuple[ClutteredDigits, ClutteredDigits]:
    d = cfg.data
    if d.source == "mnist":
        train, test = load_mnist(run_dir.data_root)
        max_value = 255.0
    else:
        train, test = load_digits(test_fraction=0.25, seed=d.data_seed)
        max_value = 16.0
    kw = dict(
        canvas_size=d.canvas_size,
        num_distractors=tuple(d.num_distractors),
        fragment_size=tuple(d.fragment_size),
    )
    tr = make_cluttered_digits(
        _resize_digits(train.x, d.digit_size, max_value),
        train.y,
        d.num_train,
        seed=d.data_seed,
        **kw,
    )
    te = make_cluttered_digits(
        _resize_digits(test.x, d.digit_size, max_value),
        test.y,
        d.num_test,
        seed=d.data_seed + 1,
        **kw,
    )
    return tr, te


# --- evaluation ---------------------------------------------------------------------------------
def _maps(model: nn.Module, x: torch.Tensor, y: torch.Tensor, reduction: str, chunk: int = 500):
    """Our Grad-CAM for the true class over the test set: (maps (N,h,w), logits (N,classes))."""
    maps, logits = [], []
    for i in range(0, len(x), chunk):
        r = grad_cam(
            model,
            LAYER,
            x[i : i + chunk],
            y[i : i + chunk],
            create_graph=False,
            reduction=reduction,
        )
        maps.append(r.maps)
        logits.append(r.logits)
    return torch.cat(maps), torch.cat(logits)


def _evaluate(
    cfg: Config, model: nn.Module, test: tuple, teacher_maps: torch.Tensor | None
) -> dict[str, Any]:
    x, y, masks = test
    model.eval()
    maps, logits = _maps(model, x, y, cfg.matching.reduction)
    correct = logits.argmax(1) == y
    loc = localization_scores(maps, masks, correct, cfg.pointing_tolerance)
    metrics = {
        "eval/accuracy": 100.0 * float(correct.float().mean()),
        "eval/auc": loc["auc"],
        "eval/pointing": 100.0 * loc["pointing"],
    }
    if teacher_maps is not None:
        metrics["eval/agreement"] = float(
            np.mean(map_agreement(teacher_maps[correct], maps[correct]))
        )
    n = min(cfg.num_eval_captum, len(y))
    for method in cfg.captum_methods:
        attr = captum_attribution(model, x[:n], y[:n], method, layer=model.get_submodule(LAYER))
        metrics[f"eval/auc_captum_{method}"] = localization_scores(attr, masks[:n], correct[:n])[
            "auc"
        ]
    k = cfg.num_grid_examples
    return {"metrics": metrics, "maps": maps[:k].tolist(), "correct": correct[:k].tolist()}


# --- training ---------------------------------------------------------------------------------
def _build(cfg: Config, width_divisor: int) -> SmallVGG:
    t = cfg.teacher
    return SmallVGG(
        widths=t.widths,
        width_divisor=width_divisor,
        num_pooled=t.num_pooled,
        image_size=cfg.data.canvas_size,
        hidden_dim=t.hidden_dim,
    )


def _train_teacher(cfg: Config, train: tuple, seed: int, run_dir: RunDir) -> SmallVGG:
    seed_everything(seed)
    t = cfg.teacher
    model = _build(cfg, 1)
    opt = torch.optim.Adam(model.parameters(), lr=t.learning_rate)
    objective = FineTuneObjective(model)  # cross-entropy, no matching
    for epoch in range(t.num_epochs):
        loader = make_loader(train[0], train[1], t.batch_size, seed=seed * 1000 + epoch)
        parts = fit(objective, opt, loader, name=f"teacher seed {seed} epoch {epoch}")
        run_dir.log({"unit": f"teacher/seed{seed}", "epoch": epoch, **_prefixed(parts)})
    return model


def _prefixed(parts: dict[str, float]) -> dict[str, float]:
    return {f"train/{k}": v for k, v in parts.items()}


def _matching(
    cfg: Config, arm: str, teacher: nn.Module, student: nn.Module, seed: int
) -> AttributionMatchingLoss | None:
    if arm == "plain":
        return None
    m = cfg.matching
    return AttributionMatchingLoss(
        teacher,
        student,
        LAYER,
        LAYER,
        kind="at" if arm == "at" else "wcam",
        beta=m.beta,
        stochastic_drop=m.stochastic_drop if arm == "wcam_stochastic" else 0.0,
        reduction=m.reduction,
        generator=make_generator(seed + 7919),
    )


def _distill(cfg: Config, arm: str, teacher: nn.Module, train: tuple, seed: int, run_dir: RunDir):
    seed_everything(seed + 1)
    d = cfg.distill
    student = _build(cfg, d.width_divisor)
    objective = DistillationObjective(
        teacher,
        student,
        _matching(cfg, arm, teacher, student, seed),
        temperature=d.temperature,
        alpha=d.alpha,
    )
    opt = torch.optim.Adam(student.parameters(), lr=d.learning_rate)
    for epoch in range(d.num_epochs):
        loader = make_loader(train[0], train[1], d.batch_size, seed=seed * 1000 + 100 + epoch)
        parts = fit(objective, opt, loader, name=f"kd{ARM_LABEL[arm]} seed {seed} epoch {epoch}")
        run_dir.log({"unit": f"kd{ARM_LABEL[arm]}/seed{seed}", "epoch": epoch, **_prefixed(parts)})
    return student


def _prune(cfg: Config, arm: str, teacher: nn.Module, train: tuple, seed: int, run_dir: RunDir):
    seed_everything(seed + 2)
    p = cfg.prune
    student = copy.deepcopy(teacher)  # pruning starts from the trained teacher's weights
    objective = FineTuneObjective(student, _matching(cfg, arm, teacher, student, seed))
    opt = torch.optim.Adam(student.parameters(), lr=p.learning_rate)
    steps = max(1, math.ceil(p.epochs_per_iteration * len(train[1]) / p.batch_size))

    def fine_tune(iteration: int) -> None:
        loader = make_loader(train[0], train[1], p.batch_size, seed=seed * 1000 + 200 + iteration)
        parts = fit(
            objective,
            opt,
            itertools.islice(loader, steps),
            name=f"prune{ARM_LABEL[arm]} seed {seed} iteration {iteration}",
        )
        run_dir.log(
            {
                "unit": f"prune{ARM_LABEL[arm]}/seed{seed}",
                "iteration": iteration,
                "sparsity": sparsity(student),
                **_prefixed(parts),
            }
        )

    iterative_magnitude_pruning(student, p.final_sparsity, p.num_iterations, fine_tune)
    return student


def _teacher_for_seed(
    cfg: Config, train: tuple, test: tuple, seed: int, run_dir: RunDir
) -> tuple[SmallVGG, dict]:
    """Train (or, on --resume, reload) the seed's teacher; returns it and its evaluation unit."""
    key = f"teacher_seed{seed}"
    trained: list[SmallVGG] = []

    def unit() -> dict:
        model = _train_teacher(cfg, train, seed, run_dir)
        run_dir.save_checkpoint(key, {"model": model.state_dict()})
        trained.append(model)
        return _evaluate(cfg, model, test, None)

    result = run_dir.unit(f"teacher/seed{seed}", unit)
    if trained:
        return trained[0].eval(), result
    model = _build(cfg, 1)
    model.load_state_dict(run_dir.load_checkpoint(key)["model"])
    return model.eval(), result


def _student_unit(
    cfg: Config,
    comp: str,
    arm: str,
    teacher: nn.Module,
    teacher_maps: torch.Tensor,
    train: tuple,
    test: tuple,
    seed: int,
    run_dir: RunDir,
) -> dict:
    """Compress ``teacher`` by ``comp`` with the ``arm`` objective and evaluate the student."""
    build = _distill if comp == "kd" else _prune
    student = build(cfg, arm, teacher, train, seed, run_dir)
    out = _evaluate(cfg, student, test, teacher_maps)
    out["metrics"]["eval/sparsity"] = 100.0 * sparsity(student)
    return out


# --- figures ------------------------------------------------------------------------------------
def _grid_figure(path, test: tuple, units: dict[str, dict], k: int) -> None:
    """Rows: test images; columns: input, mask, then each model's Grad-CAM over the input.

    Drawn as one mosaic image (one axes), which renders far faster than a grid of subplots.
    """
    from matplotlib import colormaps

    x, _, masks = test
    side = x.shape[-1]
    names = list(units)
    cols = ["input", "mask", *names]
    pad = 2
    mosaic = np.ones((k * (side + pad), len(cols) * (side + pad), 3))
    jet = colormaps["jet"]
    for r in range(k):
        img = x[r, 0].numpy()
        tiles = [np.stack([img] * 3, -1), np.stack([masks[r].float().numpy()] * 3, -1)]
        for name in names:
            m = upsample_maps(torch.tensor(units[name]["maps"][r]).unsqueeze(0), side)[0]
            m = (m - m.min()) / (m.max() - m.min()).clamp_min(1e-12)
            heat = jet(m.numpy())[..., :3]
            tile = 0.5 * heat + 0.5 * img[..., None]
            if not units[name]["correct"][r]:
                tile[:2] = tile[-2:] = tile[:, :2] = tile[:, -2:] = (1.0, 0.0, 0.0)  # red = wrong
            tiles.append(tile)
        for c, tile in enumerate(tiles):
            y0, x0 = r * (side + pad), c * (side + pad)
            mosaic[y0 : y0 + side, x0 : x0 + side] = tile
    fig, axes = new_figure(1, 1, size=(0.9 * len(cols), 0.9 * k + 0.6))
    ax = axes[0, 0]
    ax.imshow(mosaic.clip(0, 1), interpolation="nearest")
    ax.set_xticks(
        [c * (side + pad) + side / 2 for c in range(len(cols))],
        cols,
        rotation=45,
        ha="left",
        fontsize=7,
    )
    ax.xaxis.tick_top()
    ax.set_yticks([])
    ax.set_title("Grad-CAM of the true class (first seed); red frame = misclassified", fontsize=8)
    save_figure(fig, path)


# --- claims -------------------------------------------------------------------------------------
def _mean(arms: dict, arm: str, metric: str) -> float:
    return float(np.mean(arms[arm][metric]))


def _claims(arms: dict, comps: list[str], cfg: Config) -> list[Claim]:
    claims = []
    n = len(cfg.seeds)
    for c in comps:
        plain, wcam = c, f"{c}+wcam"
        if plain in arms:
            t, p = _mean(arms, "teacher", "eval/auc"), _mean(arms, plain, "eval/auc")
            claims.append(
                Claim(
                    f"{c}_degrades_maps",
                    f"plain {c} lowers the localisation AUC below the teacher's",
                    p < t,
                    f"eval/auc: teacher {t:.4f}, {plain} {p:.4f} ({n} seeds)",
                )
            )
        if plain not in arms or wcam not in arms:
            continue
        for metric, what in (("eval/auc", "localisation AUC"), ("eval/pointing", "pointing game")):
            w, p = _mean(arms, wcam, metric), _mean(arms, plain, metric)
            claims.append(
                Claim(
                    f"{c}_wcam_{metric.split('/')[1]}",
                    f"{c}+WCAM raises the {what} over plain {c}",
                    w > p,
                    f"{metric}: {wcam} {w:.4f} vs {plain} {p:.4f} ({n} seeds)",
                )
            )
        w, p = _mean(arms, wcam, "eval/accuracy"), _mean(arms, plain, "eval/accuracy")
        claims.append(
            Claim(
                f"{c}_wcam_accuracy",
                f"{c}+WCAM accuracy stays within one point of plain {c} (or above)",
                w >= p - 1.0,
                f"eval/accuracy: {wcam} {w:.2f} vs {plain} {p:.2f} ({n} seeds)",
            )
        )
        stoch = f"{c}+wcam_stoch"
        if stoch in arms:
            s, w = _mean(arms, stoch, "eval/auc"), _mean(arms, wcam, "eval/auc")
            claims.append(
                Claim(
                    f"{c}_stochastic_auc",
                    f"stochastic matching raises the AUC further over {c}+WCAM",
                    s > w,
                    f"eval/auc: {stoch} {s:.4f} vs {wcam} {w:.4f} ({n} seeds)",
                )
            )
        at = f"{c}+at"
        if at in arms:
            w, a = _mean(arms, wcam, "eval/auc"), _mean(arms, at, "eval/auc")
            claims.append(
                Claim(
                    f"{c}_wcam_beats_at",
                    f"{c}+WCAM localises better than {c}+attention transfer",
                    w > a,
                    f"eval/auc: {wcam} {w:.4f} vs {at} {a:.4f} ({n} seeds)",
                )
            )
    return claims


# --- run ----------------------------------------------------------------------------------------
def run(config: Config, run_dir: RunDir) -> Outcome:
    """Teacher, compressed students (every compression x arm x seed as a resumable unit),
    evaluation, figures and the paper's claims computed from the per-seed numbers."""
    with torch_threads(config.num_threads):
        return _run(config, run_dir)


def _run(config: Config, run_dir: RunDir) -> Outcome:
    cfg = config
    train_set, test_set = _data(cfg, run_dir)
    x, y, _ = train_set.tensors()
    train = (x, y)
    test = test_set.tensors()
    comps = [c for c, on in (("kd", cfg.distill.enabled), ("prune", cfg.prune.enabled)) if on]
    arms: dict[str, dict[str, list[float]]] = {}
    grid_units: dict[str, dict] = {}
    for seed in cfg.seeds:
        teacher_seed = seed if cfg.teacher.per_seed else cfg.seeds[0]
        teacher, teacher_unit = _teacher_for_seed(cfg, train, test, teacher_seed, run_dir)
        results = {"teacher": teacher_unit}
        teacher_maps, _ = _maps(teacher, test[0], test[1], cfg.matching.reduction)
        for comp in comps:
            for arm in cfg.arms:
                name = f"{comp}{ARM_LABEL[arm]}"
                results[name] = run_dir.unit(
                    f"{name}/seed{seed}",
                    functools.partial(
                        _student_unit,
                        cfg,
                        comp,
                        arm,
                        teacher,
                        teacher_maps,
                        train,
                        test,
                        seed,
                        run_dir,
                    ),
                )
        for name, res in results.items():
            for metric, value in res["metrics"].items():
                arms.setdefault(name, {}).setdefault(metric, []).append(float(value))
        if seed == cfg.seeds[0]:
            grid_units = results

    # --- figures, claims, notes ---
    k = min(cfg.num_grid_examples, len(test[1]))
    _grid_figure(run_dir.figure("map_grid"), test, grid_units, k)
    summary = summarize(arms)
    bar_ci(
        run_dir.figure("localisation_bars"),
        summary,
        ["eval/auc", "eval/pointing", "eval/accuracy"],
        title="mean ± 95% CI over seeds",
    )
    notes = (
        f"Cluttered {cfg.data.source} digits ({cfg.data.digit_size} px digits on a "
        f"{cfg.data.canvas_size} px canvas, {cfg.data.num_distractors[0]}-"
        f"{cfg.data.num_distractors[1]} fragments of other classes), {cfg.data.num_train} train / "
        f"{cfg.data.num_test} test images. Teacher widths {list(cfg.teacher.widths)}; KD student "
        f"width 1/{cfg.distill.width_divisor}; pruning to {100 * cfg.prune.final_sparsity:.0f} % "
        f"conv sparsity in {cfg.prune.num_iterations} iterations. beta = {cfg.matching.beta}, "
        f"stochastic drop {cfg.matching.stochastic_drop}. AUC and pointing game use our Grad-CAM "
        "of the true class on correctly classified test images; `eval/auc_captum_*` use Captum "
        f"on the first {cfg.num_eval_captum} test images; agreement is the cosine between the "
        "teacher's and the student's Grad-CAM maps. Accuracy, pointing and sparsity are in %."
    )
    return Outcome(arms=arms, claims=_claims(arms, comps, cfg), notes=notes)
