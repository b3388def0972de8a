"""Figures and tables of the RetCL reproduction: top-k exact-match curves (all, seen and unseen
templates), validation curves of the RetCL arms, and a few test products drawn with the
recorded reactants and each arm's first prediction."""

from __future__ import annotations

import numpy as np

from paperzoo.core import Results, RunDir
from paperzoo.core.plots import new_figure, save_figure

from .config import Config

__all__ = ["figures", "notes", "tables"]

_SPLITS = (("", "all test reactions"), ("_seen", "seen templates"), ("_unseen", "unseen templates"))


def _curve(ranks: np.ndarray, kmax: int = 10) -> np.ndarray:
    """Top-k exact match for k = 1..kmax from first-hit ranks (0 = miss)."""
    return np.array([((ranks > 0) & (ranks <= k)).mean() for k in range(1, kmax + 1)])


def _topk_figure(results: Results, run_dir: RunDir) -> None:
    cfg: Config = results.config
    first = results.of_arm(cfg.arms[0])[0]
    unseen = np.array(
        first.artifacts.get("unseen") or [False] * len(first.artifacts["ranks"]), bool
    )
    fig, axes = new_figure(1, 3, size=(3.6, 3.0))
    ks = np.arange(1, 11)
    for col, (suffix, title) in enumerate(_SPLITS):
        ax = axes[0, col]
        mask = {"": np.ones_like(unseen), "_seen": ~unseen, "_unseen": unseen}[suffix]
        for i, arm in enumerate(cfg.arms):
            if not mask.any():
                continue
            per_seed = np.array(
                [_curve(np.asarray(u.artifacts["ranks"])[mask]) for u in results.of_arm(arm)]
            )
            mean = 100 * per_seed.mean(0)
            ax.plot(ks, mean, marker="o", ms=3, color=f"C{i}", label=arm)
            if len(per_seed) > 1:
                lo, hi = 100 * per_seed.min(0), 100 * per_seed.max(0)
                ax.fill_between(ks, lo, hi, color=f"C{i}", alpha=0.2)
        ax.set(xlabel="k", ylabel="top-k exact match (%)", title=f"{title} (n={int(mask.sum())})")
        ax.set_xticks(ks)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7)
    save_figure(fig, run_dir.figure("topk"))


def _val_figure(results: Results, run_dir: RunDir) -> None:
    cfg: Config = results.config
    arms = [a for a in cfg.arms if a.startswith("RetCL")]
    if not arms:
        return
    fig, axes = new_figure(1, 1, size=(5.0, 3.2))
    ax = axes[0, 0]
    for i, arm in enumerate(arms):
        for j, u in enumerate(results.of_arm(arm)):
            c = np.asarray(u.artifacts["val_curve"])
            ax.plot(c[:, 0], 100 * c[:, 1], color=f"C{i}", alpha=0.8,
                    ls="-" if j == 0 else "--", label=f"{arm} seed {u.seed}")  # fmt: skip
    ax.set(xlabel="training step", ylabel="validation top-1, beam 1 (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    save_figure(fig, run_dir.figure("validation"))


def _examples_figure(results: Results, run_dir: RunDir) -> None:
    """Product | recorded reactants | each arm's first prediction, for a few test reactions."""
    try:
        from rdkit import Chem
        from rdkit.Chem import Draw
    except ImportError:  # pragma: no cover - drawings need RDKit; the rest of the report not
        return
    cfg: Config = results.config
    arms = list(cfg.arms)
    ex = {a: results.of_arm(a)[0].artifacts.get("examples") or [] for a in arms}
    rows = min(len(v) for v in ex.values()) if ex else 0
    if rows == 0:
        return
    cols = 2 + len(arms)
    fig, axes = new_figure(rows, cols, size=(2.4, 1.9))

    def draw(ax, smiles: list[str], title: str) -> None:
        ax.axis("off")
        ax.set_title(title, fontsize=7)
        mols = [Chem.MolFromSmiles(s) for s in smiles]
        if smiles and all(m is not None for m in mols):
            img = Draw.MolToImage(Chem.MolFromSmiles(".".join(smiles)), size=(260, 200))
            ax.imshow(np.asarray(img))

    for r in range(rows):
        base = ex[arms[0]][r]
        draw(axes[r, 0], [base["product"]], "product")
        draw(axes[r, 1], base["truth"], "recorded reactants")
        for c, a in enumerate(arms):
            top = ex[a][r]["top3"]
            hit = bool(top) and sorted(top[0]) == sorted(base["truth"])
            draw(axes[r, 2 + c], top[0] if top else [], f"{a} top-1 ({'hit' if hit else 'miss'})")
    save_figure(fig, run_dir.figure("examples"))


def figures(results: Results, run_dir: RunDir) -> None:
    _topk_figure(results, run_dir)
    _val_figure(results, run_dir)
    _examples_figure(results, run_dir)


def tables(results: Results) -> dict[str, str]:
    """Top-k exact match per arm (mean over seeds), all / seen / unseen templates."""
    cfg: Config = results.config
    ks = sorted(set(cfg.eval.top_k) | {1, 10})
    out = {}
    for suffix, title in _SPLITS:
        head = "| arm | " + " | ".join(f"top-{k}" for k in ks) + " |"
        rows = [head, "|---" * (len(ks) + 1) + "|"]
        for a in cfg.arms:
            cells = []
            for k in ks:
                key = f"eval/top{k}{suffix}"
                vals = results.arms.get(a, {}).get(key)
                cells.append(f"{100 * float(np.mean(vals)):.1f}" if vals else "-")
            rows.append(f"| {a} | " + " | ".join(cells) + " |")
        out[f"Top-k exact match (%), {title}"] = "\n".join(rows)
    return out


def notes(results: Results) -> str:
    cfg: Config = results.config
    d, m, t, e = cfg.data, cfg.model, cfg.train, cfg.eval
    first = results.of_arm(cfg.arms[0])[0].metrics
    return (
        f"Data: {d.source}, {int(first.get('data/num_test', 0))} test reactions "
        f"({int(first.get('data/num_unseen', 0))} with templates unseen in training), "
        f"{int(first.get('data/num_candidates', 0))} candidate molecules "
        f"(distractors: {d.distractors}); stereo-exact match: {d.stereo}. "
        f"Model: Structure2Vec {m.num_layers} x {m.hidden_dim}, class "
        f"{'known' if m.class_known else 'unknown'}. Training: {t.num_steps} steps x "
        f"{t.batch_size} reactions, {t.optimizer} lr {t.learning_rate:g}, tau "
        f"{t.temperature:g}, neighbour refresh and validation every {t.refresh_every} steps, "
        f"the best validation top-1 checkpoint is tested. Inference: beam {e.beam_size}, at "
        f"most {e.max_reactants} reactants, Eq. 7 rescoring {e.rescore}. RetroSim tries the "
        f"templates of the {e.retrosim_neighbours} most similar training products."
    )
