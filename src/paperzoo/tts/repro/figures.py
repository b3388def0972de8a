"""Figures, tables and audio of the TTS reproduction: mel spectrograms of the reference, the real
target and every arm's output for the first evaluation items (seed 0), similarity against MCD
per arm and seed, held-out mel curves, and the Griffin-Lim audio under ``figures/audio``."""

from __future__ import annotations

import shutil

import numpy as np

from paperzoo.core import Results, RunDir
from paperzoo.core.engine import artifact_path
from paperzoo.core.plots import new_figure, save_figure

from .config import Config

__all__ = ["figures", "notes", "tables"]

_ROWS = (
    ("eval/similarity", "similarity (in-house)", 1, 3),
    ("eval/identity_accuracy", "identity acc. (%)", 100, 1),
    ("eval/identity_accuracy_real", "identity acc., real (%)", 100, 1),
    ("eval/eer", "verification EER (%)", 100, 1),
    ("eval/eer_real", "verification EER, real (%)", 100, 1),
    ("eval/consistency", "consistency", 1, 3),
    ("eval/mcd", "MCD (dB)", 1, 2),
    ("eval/intelligibility", "intelligibility (%)", 100, 1),
    ("eval/intelligibility_real", "real speech (%)", 100, 1),
    ("eval/resemblyzer", "Resemblyzer", 1, 3),
    ("eval/resemblyzer_real", "Resemblyzer, real (GL)", 1, 3),
    ("eval/style_separation", "style separation", 1, 2),
    ("train/val_mel", "held-out mel L1", 1, 3),
)


def _examples(results: Results, run_dir: RunDir, arm: str) -> dict[str, np.ndarray] | None:
    u = results.of_arm(arm)[0]
    p = artifact_path(run_dir.path, u.key, "examples.npz")
    if not p.is_file():
        return None
    with np.load(p, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def figures(results: Results, run_dir: RunDir) -> None:
    cfg: Config = results.config
    ex = {a: e for a in cfg.arms if (e := _examples(results, run_dir, a)) is not None}
    if ex:
        first = next(iter(ex.values()))
        items = sorted({int(k.split("_")[0]) for k in first})
        cols = ["reference", "target", *ex]
        fig, axes = new_figure(len(items), len(cols), size=(2.6, 2.0))
        for r, k in enumerate(items):
            lo, hi = float(first[f"{k}_target"].min()), float(first[f"{k}_target"].max())
            for c, name in enumerate(cols):
                mel = first[f"{k}_{name}"] if c < 2 else ex[name][f"{k}_generated"]
                ax = axes[r, c]
                im = ax.imshow(mel.T, origin="lower", aspect="auto", cmap="magma", vmin=lo,
                               vmax=hi)  # fmt: skip
                fig.colorbar(im, ax=ax, label="log mel" if c == len(cols) - 1 else None)
                title = {"reference": "reference clip", "target": "real target"}.get(name, name)
                ax.set(title=title, xlabel="frame" if r == len(items) - 1 else None)
                ax.set_yticks([])
        save_figure(fig, run_dir.figure("mels"))
        _copy_audio(results, run_dir, list(ex))
    fig, axes = new_figure(1, 2, size=(4.4, 3.3))
    ax = axes[0, 0]
    for i, arm in enumerate(cfg.arms):
        m = results.arms[arm]
        ax.scatter(m["eval/mcd"], m["eval/similarity"], color=f"C{i}", label=arm)
    ax.set(xlabel="MCD (dB, lower is better)", ylabel="speaker similarity (cosine)",
           title="unseen identities, one point per seed")  # fmt: skip
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax = axes[0, 1]
    for i, arm in enumerate(cfg.arms):
        for j, u in enumerate(results.of_arm(arm)):
            c = np.asarray(u.artifacts["val_curve"])
            x = c[:, 0] + (cfg.train.num_steps if arm in ("meta", "saln_extra") else 0)
            ax.plot(x, c[:, 1], color=f"C{i}", ls="-" if j == 0 else "--",
                    label=arm if j == 0 else None)  # fmt: skip
    ax.set(xlabel="step (meta, saln_extra: after the SALN stage)", ylabel="held-out mel L1",
           title="convergence (seen identities)")  # fmt: skip
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    save_figure(fig, run_dir.figure("similarity_mcd"))


def _copy_audio(results: Results, run_dir: RunDir, arms: list[str]) -> None:
    out = run_dir.path / "figures" / "audio"
    for i, arm in enumerate(arms):
        u = results.of_arm(arm)[0]
        src = artifact_path(run_dir.path, u.key, "x").parent
        for wav in sorted(src.glob("item*_*.wav")):
            item, kind = wav.stem.split("_", 1)
            if kind != "generated" and i > 0:
                continue  # reference and target are the same for every arm
            out.mkdir(parents=True, exist_ok=True)
            name = f"{item}_{arm}.wav" if kind == "generated" else f"{item}_{kind}.wav"
            shutil.copy2(wav, out / name)


def tables(results: Results) -> dict[str, str]:
    cfg: Config = results.config
    rows = ["| metric | " + " | ".join(cfg.arms) + " |", "|---" * (1 + len(cfg.arms)) + "|"]
    for key, label, scale, digits in _ROWS:
        cells = []
        for arm in cfg.arms:
            v = results.arms[arm].get(key)
            if not v:
                cells.append("-")
                continue
            a = scale * np.asarray(v, float)
            cells.append(f"{a.mean():.{digits}f} ± {a.std(ddof=1) if len(a) > 1 else 0:.{digits}f}")
        if any(c != "-" for c in cells):
            rows.append(f"| {label} | " + " | ".join(cells) + " |")
    return {"Unseen identities, one reference clip (mean ± sd over seeds)": "\n".join(rows)}


def notes(results: Results) -> str:
    cfg: Config = results.config
    d, m, t, mt = cfg.data, cfg.model, cfg.train, cfg.meta
    return (
        f"Data: {d.source}, factors {d.factors} (unseen: speaker "
        f"{d.unseen_speaker if d.source == 'fsdd' else 'tone5'} and factor "
        f"{d.unseen_factor:g}), {d.num_train} training utterances of {d.min_words}-{d.max_words} "
        f"words; evaluation: {d.refs_per_identity} references x {d.texts_per_ref} texts of "
        f"{d.target_words} words per unseen identity. Model: d={m.hidden_dim}, style "
        f"{m.style_dim}, {m.num_layers}+{m.num_layers} FFT blocks. Training: {t.num_steps} Noam "
        f"steps x {t.batch_size}; meta: {mt.num_episodes} episodes of {mt.num_speakers} "
        "identities. Audio under figures/audio is Griffin-Lim (8 kHz): it is for listening, "
        "not for judging quality."
    )
