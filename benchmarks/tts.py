"""TTS speed on CPU: training step time of StyleSpeech (SALN) and the additive baseline
(interleaved), meta-episode time, real-time factor of synthesis (acoustic model + vocoder),
peak memory.

    python benchmarks/tts.py [--data-root ../shared/data] [--rounds 3] [--model tts.pt]

Utterances are FSDD concatenations when the data root has them, else the synthetic tone digits.
Training steps of ``saln`` and ``add`` run interleaved (A, B, A, B, ...) over ``--rounds``
rounds at the preset's sizes, optimiser and batch (``--preset``, default ``quick``, plus
``--set``, validated as ``paperzoo reproduce`` does; parameter counts printed for both);
the median of each and their ratio are reported. Synthesis: 8 kHz Griffin-Lim (60 iterations)
as the reproduction uses, and the bundled 22.05 kHz HiFi-GAN on a model of the same size with
80 mel bins (untrained weights: speed does not depend on them). Writes benchmarks/out/tts.json.

Against the official StyleSpeech (https://github.com/KevinMIN95/StyleSpeech, commit f939cf9,
extracted outside this repository, e.g. ``git archive HEAD models text utils.py optimizer.py
configs | tar -x -C /tmp/ss_official``; its ``text`` package imports ``unidecode`` and
``inflect``, so ``--extra-path`` names a folder with stand-ins when they are not installed)::

    python benchmarks/tts.py --data-root ../shared/data --official /tmp/ss_official \
        --extra-path /tmp/ss_stubs --rounds 5 [--steps 10] [--profile 5]

compares one generator training step of our StyleSpeech (SALN) with the official
``models/StyleSpeech.py`` at the preset's sizes (width, style size, FFT blocks and heads, FFN
width and kernels, dropout, mel bins, batch; the official ``configs/config.json`` with those
fields overridden), on the same pre-collated batches (same tokens, frames, durations, pitch,
energy): style encoder, generator, mel L1 + duration/pitch/energy MSE (each side's own loss
code: ours averages over the batch's valid frames, the official ``StyleSpeechLoss`` per
utterance), backward, gradient clipping at the preset's norm, Adam (betas 0.9 / 0.98, eps 1e-9)
under each side's Noam schedule. Every round runs ours, then the official, each in its own
subprocess (one thread, denormals flushed as training does, 2 warm-up steps, then ``--steps``
timed); the per-round ratio ours / official of the median step (wall and this thread's CPU
time) and the median over rounds are reported, with parameter counts per part and peak memory
(the peak RSS during the steps over the RSS after model, optimiser and batches were built).
The official code assumes CUDA (``.cuda()`` in ``get_mask_from_lengths`` and the length
regulator): its worker makes ``Tensor.cuda`` return the tensor itself, so it runs on CPU.
Each phase of the timed steps (forward + loss, zero_grad, backward, clipping, Adam) is timed
too; ``--profile N`` adds one run of N steps per side under torch.profiler (top operators).
Only the comparison runs with ``--official``; writes benchmarks/out/tts_official.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

WARMUP = 2
"""Untimed steps before the timed ones in each worker of the official comparison."""
Step = Callable[[dict, Callable[[str], None]], None]
"""One training step on a batch; it calls ``lap(phase)`` at the end of each phase."""


def _proc_status_mb(key: str) -> float | None:
    """A ``/proc/self/status`` memory field (``VmRSS``, ``VmHWM``) in MB; None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _reset_peak_rss() -> bool:
    """Reset this process's peak RSS (``VmHWM``; Linux >= 4.0). ``ru_maxrss`` cannot serve: a
    child started by fork + exec inherits the parent's high-water mark (here the corpus)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _param_parts(model: Any, parts: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Trainable parameters per part (``parts``: part -> top-level child names) and in all,
    plus the non-trainable ones (the official sinusoid tables are frozen ``Parameter`` s)."""
    out = {k: 0 for k in parts}
    owner = {c: k for k, names in parts.items() for c in names}
    for name, p in model.named_parameters():
        if p.requires_grad:
            part = owner.get(name.split(".")[0], "other")
            out[part] = out.get(part, 0) + p.numel()
    out["trainable"] = sum(p.numel() for p in model.parameters() if p.requires_grad)
    out["frozen"] = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    return out


def _ours(preset: str, overrides: list[str], n_mels: int) -> tuple[Step, dict[str, int]]:
    """Our SALN generator at the preset's sizes and its training step (as ``train.py``)."""
    import torch

    from paperzoo.core.presets import build_config
    from paperzoo.tts.model import StyleSpeech, generator_loss
    from paperzoo.tts.repro.recipe import make_optimizer, model_kwargs
    from paperzoo.tts.text import SYMBOLS

    cfg = build_config("tts", preset, overrides=overrides)
    model = StyleSpeech(len(SYMBOLS), **model_kwargs(cfg, "saln", n_mels)).train()
    opt, sched = make_optimizer(cfg, model.parameters())
    clip = cfg.train.grad_clip

    def step(b: dict, lap: Callable[[str], None]) -> None:
        w = model.style(b["mel"], b["mel_mask"])
        out = model(b["tokens"], w, b["durations"], b["pitch"], b["energy"],
                    max_frames=b["mel"].shape[1])  # fmt: skip
        loss, _ = generator_loss(out, b["mel"], b["durations"], b["pitch"], b["energy"])
        lap("forward+loss")
        opt.zero_grad()
        lap("zero_grad")
        loss.backward()
        lap("backward")
        if clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        lap("clip")
        opt.step()
        sched.step()
        lap("adam")

    parts = {"style encoder": ("style_encoder",),
             "encoder": ("embed", "prenet", "prenet_out", "encoder", "encoder_out"),
             "variance adaptor": ("duration", "pitch", "energy", "pitch_embed", "energy_embed",
                                  "adaptor_norm"),
             "decoder": ("decoder_prenet", "decoder", "mel_out")}  # fmt: skip
    return step, _param_parts(model, parts)


def _official(path: str, extra: list[str], sizes: dict[str, Any]) -> tuple[Step, dict[str, int]]:
    """The official StyleSpeech (``models/StyleSpeech.py`` of ``path``) configured through its
    ``configs/config.json`` to our sizes, and its training step (official ``train.py``: zero
    grad, forward, ``StyleSpeechLoss``, backward, clip, ``ScheduledOptim``), run on CPU."""
    import torch

    sys.path[:0] = [path, *extra]
    # The official code calls .cuda() on masks and lengths; run it on CPU.
    torch.Tensor.cuda = lambda self, *a, **k: self  # type: ignore[method-assign]
    import utils as official_utils  # the official top-level modules
    from models.StyleSpeech import StyleSpeech as OfficialStyleSpeech
    from optimizer import ScheduledOptim

    c = official_utils.AttrDict(json.loads((Path(path) / "configs" / "config.json").read_text()))
    d = sizes["dim"]
    c.update(
        n_mel_channels=sizes["n_mels"], encoder_hidden=d, decoder_hidden=d,
        variance_predictor_filter_size=d, encoder_layer=sizes["layers"],
        decoder_layer=sizes["layers"], encoder_head=sizes["heads"], decoder_head=sizes["heads"],
        fft_conv1d_filter_size=sizes["ff"], fft_conv1d_kernel_size=list(sizes["kernels"]),
        dropout=sizes["dropout"], variance_dropout=0.5, variance_predictor_kernel_size=3,
        variance_embedding_kernel_size=3, style_hidden=sizes["style_dim"],
        style_vector_dim=sizes["style_dim"], style_head=2, style_kernel_size=5,
        batch_size=sizes["batch_size"], n_warm_up_step=sizes["warmup"],
        grad_clip_thresh=sizes["grad_clip"], betas=[0.9, 0.98], eps=1e-9,
    )  # fmt: skip
    model = OfficialStyleSpeech(c).train()
    crit = model.get_criterion()
    opt = torch.optim.Adam(model.parameters(), betas=c.betas, eps=c.eps)
    sched = ScheduledOptim(opt, c.decoder_hidden, c.n_warm_up_step, 0)

    def step(b: dict, lap: Callable[[str], None]) -> None:
        sched.zero_grad()
        lap("zero_grad")
        out = model(b["tokens"], b["src_len"], b["mel"], b["mel_len"], b["durations"],
                    b["pitch"], b["energy"], b["max_src_len"], b["max_mel_len"])  # fmt: skip
        mel_l, d_l, p_l, e_l = crit(out[0], b["mel"], out[3], b["log_d"], out[4], b["pitch"],
                                    out[5], b["energy"], b["src_len"], b["mel_len"])  # fmt: skip
        loss = mel_l + d_l + p_l + e_l
        lap("forward+loss")
        loss.backward()
        lap("backward")
        torch.nn.utils.clip_grad_norm_(model.parameters(), c.grad_clip_thresh)
        lap("clip")
        sched.step_and_update_lr()
        lap("adam")

    parts = {"style encoder": ("style_encoder",), "encoder": ("encoder",),
             "variance adaptor": ("variance_adaptor",), "decoder": ("decoder",)}  # fmt: skip
    return step, _param_parts(model, parts)


class _Laps:
    """Wall time of each phase of a step (``perf_counter`` between ``lap`` calls), summed."""

    def __init__(self) -> None:
        self.total: dict[str, float] = {}
        self.last = time.perf_counter()

    def start(self) -> None:
        self.last = time.perf_counter()

    def __call__(self, phase: str) -> None:
        now = time.perf_counter()
        self.total[phase] = self.total.get(phase, 0.0) + now - self.last
        self.last = now


def _profile(step: Step, batches: list[dict], n: int) -> dict[str, Any]:
    """``n`` profiled steps: wall time per step, the operators' share of it (self CPU time; the
    rest is Python and the profiler's own cost) and the top operators by self CPU time."""
    from torch.profiler import ProfilerActivity, profile

    laps = _Laps()
    t = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for i in range(n):
            step(batches[i % len(batches)], laps)
    wall = (time.perf_counter() - t) * 1e6  # us
    ev = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
    top = [[e.key, e.self_cpu_time_total / wall, e.count // n] for e in ev[:12]]
    ops = sum(e.self_cpu_time_total for e in ev) / wall
    return {"ms_per_step": wall / 1000 / n, "top_ops": top, "ops_self_share": ops}


def _worker(args: argparse.Namespace) -> dict[str, Any]:
    """One implementation in this process: warm-up, then ``args.steps`` timed steps on the
    pre-collated batches of ``args.batches``."""
    import torch

    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # as training does (_one_thread in repro/train.py)
    data = torch.load(args.batches, weights_only=True)
    batches, sizes = data["batches"], data["sizes"]
    torch.manual_seed(0)
    if args.worker == "ours":
        step, params = _ours(args.preset, args.overrides, sizes["n_mels"])
    else:
        step, params = _official(args.official, args.extra_path, sizes)
    base = _proc_status_mb("VmRSS") or 0.0
    if not _reset_peak_rss():  # then the step's peak is not separable from the start-up's
        base = 0.0
    for b in batches[:WARMUP]:
        step(b, _Laps())
    laps = _Laps()
    wall, cpu = [], []
    for b in batches[WARMUP:]:
        t, c = time.perf_counter(), time.thread_time()
        laps.start()
        step(b, laps)
        wall.append(1000 * (time.perf_counter() - t))
        # This thread's CPU time: leaves out the time other processes held the core.
        cpu.append(1000 * (time.thread_time() - c))
    peak = _proc_status_mb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    phase_ms = {k: 1000 * v / len(wall) for k, v in laps.total.items()}
    res: dict[str, Any] = {"wall_ms": wall, "cpu_ms": cpu, "params": params, "rss_base_mb": base,
                           "rss_peak_mb": peak, "step_peak_mb": peak - base,
                           "phase_ms": phase_ms}  # fmt: skip
    if args.profile:
        res["profile"] = _profile(step, batches[WARMUP:], args.profile)
    return res


def _compare_official(args: argparse.Namespace, rcfg: Any, corpus: Any, res: dict) -> None:
    """Interleaved rounds (ours, official, ours, ...), one subprocess each, on the same
    pre-collated batches; per-round ratios ours / official and their median."""
    import torch

    from paperzoo.tts.data import collate

    gen = torch.Generator().manual_seed(0)
    batches = []
    for _ in range(WARMUP + args.steps):
        idx = torch.randint(len(corpus.train), (rcfg.train.batch_size,), generator=gen).tolist()
        b = collate([corpus.train[i] for i in idx])
        b["src_len"] = (b["tokens"] != 0).sum(1)
        b["mel_len"] = b["mel_mask"].sum(1)
        if not torch.equal(b["durations"].sum(1), b["mel_len"]):
            raise SystemExit("durations do not sum to the mel lengths")
        b["log_d"] = torch.log(b["durations"].float() + 1)
        b["max_src_len"], b["max_mel_len"] = b["tokens"].shape[1], b["mel"].shape[1]
        batches.append(b)
    m = rcfg.model
    sizes = {"n_mels": corpus.mel_config.n_mels, "dim": m.hidden_dim, "style_dim": m.style_dim,
             "layers": m.num_layers, "heads": m.num_heads, "ff": m.ff_dim, "kernels": [9, 1],
             "dropout": m.dropout, "batch_size": rcfg.train.batch_size,
             "warmup": rcfg.train.warmup, "grad_clip": rcfg.train.grad_clip}  # fmt: skip
    res |= {"official": args.official, "sizes": sizes, "steps": args.steps, "rounds": args.rounds,
            "tokens_per_batch": [b["max_src_len"] for b in batches],
            "frames_per_batch": [b["max_mel_len"] for b in batches]}  # fmt: skip
    runs: dict[str, list[dict]] = {"ours": [], "official": []}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "batches.pt"
        torch.save({"batches": batches, "sizes": sizes}, path)

        def run(impl: str, profile: int = 0) -> dict:
            cmd = [sys.executable, __file__, "--worker", impl, "--batches", str(path),
                   "--preset", args.preset, "--threads", str(args.threads),
                   "--steps", str(args.steps), "--profile", str(profile),
                   "--official", args.official]  # fmt: skip
            cmd += [f"--set={o}" for o in args.overrides]
            cmd += [f"--extra-path={e}" for e in args.extra_path]
            out = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ))
            if out.returncode:
                raise SystemExit(f"{impl} worker failed:\n{out.stderr[-3000:]}")
            return json.loads(out.stdout.strip().splitlines()[-1])

        for r in range(args.rounds):
            for impl in runs:
                runs[impl].append(run(impl))
                w = statistics.median(runs[impl][-1]["wall_ms"])
                c = statistics.median(runs[impl][-1]["cpu_ms"])
                print(f"round {r} {impl:8s}: {w:7.1f} ms wall, {c:7.1f} ms CPU", flush=True)
        if args.profile:
            res["profile"] = {impl: run(impl, args.profile)["profile"] for impl in runs}
    for impl, rs in runs.items():
        res[impl] = {
            "wall_ms_per_round": [statistics.median(x["wall_ms"]) for x in rs],
            "cpu_ms_per_round": [statistics.median(x["cpu_ms"]) for x in rs],
            "step_peak_mb_per_round": [x["step_peak_mb"] for x in rs],
            "rss_peak_mb_per_round": [x["rss_peak_mb"] for x in rs],
            "params": rs[0]["params"],
            "phase_ms": {
                k: statistics.median(x["phase_ms"][k] for x in rs) for k in rs[0]["phase_ms"]
            },
        }
        for k in ("wall_ms", "cpu_ms", "step_peak_mb", "rss_peak_mb"):
            res[impl][k] = statistics.median(res[impl][f"{k}_per_round"])
    o, f = res["ours"], res["official"]
    for k in ("wall_ms", "cpu_ms"):
        ratios = [a / b for a, b in zip(o[f"{k}_per_round"], f[f"{k}_per_round"])]
        res[f"ratio_{k}_per_round"] = ratios
        res[f"ratio_{k}"] = statistics.median(ratios)
    res["loadavg_end"] = os.getloadavg()


def _print_official(res: dict) -> None:
    o, f = res["ours"], res["official"]
    for k in ("wall_ms", "cpu_ms"):
        rounds = ", ".join(f"{r:.2f}" for r in res[f"ratio_{k}_per_round"])
        print(f"{k:>7}: ours {o[k]:.1f} / official {f[k]:.1f} -> ratio {res[f'ratio_{k}']:.3f} "
              f"(rounds {rounds})")  # fmt: skip
    print(f"step memory (peak RSS over the built model's): ours {o['step_peak_mb']:.1f} MB, "
          f"official {f['step_peak_mb']:.1f} MB; peak RSS {o['rss_peak_mb']:.0f} / "
          f"{f['rss_peak_mb']:.0f} MB")  # fmt: skip
    for part in o["params"]:
        print(f"params {part:>17}: ours {o['params'][part]:>9,}  official "
              f"{f['params'].get(part, 0):>9,}")  # fmt: skip
    for impl in ("ours", "official"):
        phases = ", ".join(f"{k} {v:.1f}" for k, v in res[impl]["phase_ms"].items())
        print(f"phases {impl} (ms, median over rounds): {phases}")
    for impl, prof in res.get("profile", {}).items():
        print(f"profile {impl}: {prof['ms_per_step']:.1f} ms/step profiled, operators' self "
              f"time {prof['ops_self_share']:.0%} of it; top operators:")  # fmt: skip
        for name, share, count in prof["top_ops"]:
            print(f"    {share:6.1%}  {name} (x{count}/step)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-root", help="data root with speech/fsdd (else tone digits)")
    p.add_argument("--model", type=Path, help="a trained tts.pt for synthesis (default: untrained)")
    p.add_argument("--steps", type=int, default=10, help="training steps per arm and round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--utterances", type=int, default=10, help="utterances synthesised")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-hifigan", action="store_true", help="skip the HiFi-GAN timing")
    p.add_argument("--preset", default="quick", help="config preset (default quick)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--out", type=Path, help="default benchmarks/out/tts.json (tts_official.json)")
    p.add_argument("--official", default="", help="folder of the official StyleSpeech code")
    p.add_argument("--extra-path", action="append", default=[], help="prepended to sys.path "
                   "for --official (stand-ins for missing packages)")  # fmt: skip
    p.add_argument("--profile", type=int, default=0, help="--official: profiled steps per side")
    p.add_argument("--worker", choices=("ours", "official"), help=argparse.SUPPRESS)
    p.add_argument("--batches", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        print(json.dumps(_worker(args)))
        return
    if args.out is None:
        name = "tts_official.json" if args.official else "tts.json"
        args.out = Path("benchmarks/out") / name

    import numpy as np
    import torch

    from paperzoo.core.presets import build_config
    from paperzoo.tts.audio import MEL_CONFIGS, griffin_lim
    from paperzoo.tts.data import build_corpus, collate
    from paperzoo.tts.meta import PhonemeDiscriminator, StyleDiscriminator, meta_episode
    from paperzoo.tts.model import StyleSpeech, generator_loss
    from paperzoo.tts.repro.recipe import make_optimizer, model_kwargs
    from paperzoo.tts.synthesis import load_tts
    from paperzoo.tts.text import SYMBOLS

    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # as training does: subnormals slow trained models 2.5x
    torch.manual_seed(0)
    source = "fsdd"
    try:
        from paperzoo.datasets.speech import load_fsdd

        load_fsdd(args.data_root)
    except Exception:
        source = "tones"
    sizes = [f"data.source={source}", "data.num_train=200", "data.num_val=8",
             "data.refs_per_identity=1"]  # fmt: skip
    rcfg = build_config("tts", args.preset, overrides=[*args.overrides, *sizes])
    corpus = build_corpus(rcfg.data, args.data_root, 0)
    n_mels = corpus.mel_config.n_mels
    res: dict = {"platform": platform.platform(), "threads": args.threads, "data": source,
                 "preset": args.preset, "overrides": args.overrides}  # fmt: skip
    if args.official:
        res |= {"loadavg_start": os.getloadavg(), "date": time.strftime("%Y-%m-%d %H:%M")}
        _compare_official(args, rcfg, corpus, res)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(res, indent=2))
        _print_official(res)
        return
    models = {
        a: StyleSpeech(len(SYMBOLS), **model_kwargs(rcfg, a, n_mels)).train()
        for a in ("saln", "add")
    }
    for a, m in models.items():
        res[f"parameters_{a}"] = sum(x.numel() for x in m.parameters())
    opts = {a: make_optimizer(rcfg, m.parameters())[0] for a, m in models.items()}
    gen = torch.Generator().manual_seed(0)
    times: dict[str, list[float]] = {a: [] for a in models}
    for _ in range(args.rounds):
        for a, m in models.items():
            t = time.perf_counter()
            for _ in range(args.steps):
                idx = torch.randint(len(corpus.train), (rcfg.train.batch_size,), generator=gen)
                idx = idx.tolist()
                b = collate([corpus.train[i] for i in idx])
                w = m.style(b["mel"], b["mel_mask"])
                out = m(b["tokens"], w, b["durations"], b["pitch"], b["energy"],
                        max_frames=b["mel"].shape[1])  # fmt: skip
                loss, _ = generator_loss(out, b["mel"], b["durations"], b["pitch"], b["energy"])
                opts[a].zero_grad()
                loss.backward()
                opts[a].step()
            times[a].append((time.perf_counter() - t) / args.steps)
    for a in models:
        res[f"train_step_ms_{a}"] = 1000 * statistics.median(times[a])
    res["step_ratio_saln_over_add"] = statistics.median(
        s / a for s, a in zip(times["saln"], times["add"])
    )
    meta, dim = rcfg.meta, rcfg.model.hidden_dim
    index = {i: k for k, i in enumerate(corpus.seen)}
    by_id: dict[int, list] = {}
    for u in corpus.train:
        by_id.setdefault(u.identity, []).append(u)
    ds = StyleDiscriminator(len(corpus.seen), n_mels, dim, rcfg.model.style_dim)
    dp = PhonemeDiscriminator(len(SYMBOLS), n_mels, dim)
    g_opt = make_optimizer(rcfg, models["saln"].parameters(), offset=rcfg.train.num_steps)[0]
    d_opt = torch.optim.Adam([*ds.parameters(), *dp.parameters()], meta.d_learning_rate,
                             betas=(0.9, 0.98))  # fmt: skip
    ids = sorted(by_id)[: meta.num_speakers]
    ep = []
    for _ in range(max(2, args.steps // 2)):
        batch = collate([by_id[i][0] for i in ids], index)
        t = time.perf_counter()
        meta_episode(models["saln"], ds, dp, batch, g_opt, d_opt, generator=gen)
        ep.append(time.perf_counter() - t)
    res["meta_episode_ms"] = 1000 * statistics.median(ep)
    res["meta_episode_speakers"] = len(ids)
    res["rss_after_training_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    model = load_tts(args.model)[0] if args.model else models["saln"].eval()
    cfg = MEL_CONFIGS["fsdd_8k"]
    am, voc, audio = 0.0, 0.0, 0.0
    items = corpus.evals[: args.utterances]
    with torch.no_grad():
        for it in items:
            t = time.perf_counter()
            ref = torch.from_numpy(it.reference.mel)[None]
            w = model.style(ref, torch.ones(ref.shape[:2], dtype=torch.bool))
            # the real durations stand in for a trained duration predictor's
            out = model(torch.from_numpy(it.target.tokens)[None], w,
                        torch.from_numpy(it.target.durations)[None])  # fmt: skip
            mel = out["mel"][0].numpy()
            am += time.perf_counter() - t
            t = time.perf_counter()
            wave = griffin_lim(mel, cfg, n_iter=60)
            voc += time.perf_counter() - t
            audio += len(wave) / cfg.sample_rate
    res["rtf_acoustic_8k"] = am / audio
    res["rtf_griffin_lim_8k"] = voc / audio
    res["rtf_total_8k"] = (am + voc) / audio
    if not args.no_hifigan:
        from paperzoo.tts.vocoder import HifiGan, power_to_magnitude_log_mel

        big = StyleSpeech(len(SYMBOLS), **model_kwargs(rcfg, "saln", 80)).eval()
        hifi = HifiGan()
        am, voc, audio = 0.0, 0.0, 0.0
        rng = np.random.default_rng(0)
        with torch.no_grad():
            for it in items:
                t = time.perf_counter()
                w = big.style(torch.randn(1, 100, 80), torch.ones(1, 100, dtype=torch.bool))
                d = torch.from_numpy(it.target.durations)[None] * 3  # ~ 22.05 kHz / hop 256 rate
                mel = big(torch.from_numpy(it.target.tokens)[None], w, d)["mel"][0].numpy()
                am += time.perf_counter() - t
                t = time.perf_counter()
                wave = hifi(power_to_magnitude_log_mel(mel + rng.normal(0, 0.1, mel.shape)))
                voc += time.perf_counter() - t
                audio += len(wave) / 22050
        res["rtf_acoustic_22k"] = am / audio
        res["rtf_hifigan_22k"] = voc / audio
        res["rtf_total_22k"] = (am + voc) / audio
    res["rss_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2))
    for k, v in res.items():
        print(f"{k:>28}: {v:.4g}" if isinstance(v, float) else f"{k:>28}: {v}")


if __name__ == "__main__":
    main()
