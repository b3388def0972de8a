"""Figures and tables of the streaming-ASR reproduction: WER against latency per arm and eps,
held-out loss curves, and each head's alignment on one test utterance (red: true word ends)."""

from __future__ import annotations

import numpy as np

from paperzoo.core import Results, RunDir
from paperzoo.core.plots import new_figure, save_figure

from .config import Config

__all__ = ["figures", "notes", "tables"]


def _tags(cfg: Config, arm: str) -> list[str]:
    return ["free"] if arm == "offline" else ["free", *[f"eps{e}" for e in cfg.eval.eps]]


def figures(results: Results, run_dir: RunDir) -> None:
    cfg: Config = results.config
    fig, axes = new_figure(1, 2, size=(4.6, 3.4))
    ax = axes[0, 0]
    for i, arm in enumerate(cfg.arms):
        m = results.arms[arm]
        if f"eval/latency_{_tags(cfg, arm)[0]}" not in m:  # no word timings: WER per window
            xs = list(range(len(_tags(cfg, arm))))
        else:
            xs = [float(np.mean(m[f"eval/latency_{t}"])) for t in _tags(cfg, arm)]
        ys = [100 * float(np.mean(m[f"eval/wer_{t}"])) for t in _tags(cfg, arm)]
        ax.plot(xs, ys, marker="o", color=f"C{i}", label=arm)
        for x, y, t in zip(xs, ys, _tags(cfg, arm)):
            ax.annotate(t, (x, y), fontsize=6)
    timed = cfg.data.source != "synth"
    ax.set(xlabel="mean token latency (encoder frames, 40 ms)" if timed else
           "decoding (free, then HSD at each eps)", ylabel="WER (%)",
           title="WER vs latency (mean over seeds)")  # fmt: skip
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax = axes[0, 1]
    for i, arm in enumerate(cfg.arms):
        for j, u in enumerate(results.of_arm(arm)):
            c = np.asarray(u.artifacts["dev_curve"])
            ax.plot(c[:, 0], c[:, 1], color=f"C{i}", ls="-" if j == 0 else "--",
                    label=arm if j == 0 else None)  # fmt: skip
    ax.set(xlabel="training step", ylabel="held-out loss", title="convergence")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    save_figure(fig, run_dir.figure("wer_latency"))
    _alignment_figure(results, run_dir)


def _alignment_figure(results: Results, run_dir: RunDir) -> None:
    """Each MMA head's expected alignment (teacher forcing) on the first test utterance, with
    the true word ends, for the first seed of every monotonic arm."""
    cfg: Config = results.config
    arms = [a for a in cfg.arms if a != "offline"]
    examples = {a: results.of_arm(a)[0].artifacts.get("alignment_example") for a in arms}
    examples = {a: e for a, e in examples.items() if e}
    if not examples:
        return
    heads = max(len(e["alpha"]) for e in examples.values())
    fig, axes = new_figure(len(examples), heads, size=(3.0, 2.2))
    for r, (arm, e) in enumerate(examples.items()):
        for h, alpha in enumerate(e["alpha"]):
            ax = axes[r, h]
            ax.imshow(np.asarray(alpha), aspect="auto", origin="lower", cmap="gray_r",
                      interpolation="nearest")  # fmt: skip
            for k, end in enumerate(e["ends"]):
                ax.plot(end, k, "r|", ms=8)
            ax.set_yticks(range(len(e["words"])), e["words"], fontsize=6)
            ax.set(xlabel="encoder frame (40 ms)", ylabel="token", title=f"{arm} head {h}")
    save_figure(fig, run_dir.figure("alignments"))


def tables(results: Results) -> dict[str, str]:
    cfg: Config = results.config
    tags = ["free", *[f"eps{e}" for e in cfg.eval.eps]]
    rows = ["| arm | " + " | ".join(f"WER {t} | lat {t} | forced {t}" for t in tags) + " |",
            "|---" * (1 + 3 * len(tags)) + "|"]  # fmt: skip
    for arm in cfg.arms:
        m, cells = results.arms[arm], []
        for t in tags:
            for key, scale in (("wer", 100), ("latency", 1), ("forced", 100)):
                v = m.get(f"eval/{key}_{t}")
                cells.append(f"{scale * float(np.mean(v)):.1f}" if v else "-")
        rows.append(f"| {arm} | " + " | ".join(cells) + " |")
    return {"WER (%), latency (frames) and forced decisions (%) per HSD window": "\n".join(rows)}


def notes(results: Results) -> str:
    cfg: Config = results.config
    d, m, t = cfg.data, cfg.model, cfg.train
    return (
        f"Data: {d.source}, {d.num_train} training / {d.num_test} test utterances of "
        f"{d.min_digits}-{d.max_digits} digits (test: held-out speaker), gaps up to "
        f"{d.max_gap_s:g} s, SNR {d.snr_db} dB. Model: d={m.hidden_dim}, {m.num_heads} heads, "
        f"{m.enc_layers}+{m.dec_layers} layers, chunk {m.chunk}, r0 {m.init_r:g}, noise "
        f"{m.noise_std:g}, HeadDrop {m.headdrop:g}, CTC {m.ctc_weight:g}. Training: {t.num_steps} "
        f"steps x {t.batch_size}, Adam {t.learning_rate:g}. Latency in encoder frames (40 ms)."
    )
