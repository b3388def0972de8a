"""Benchmark: training-step time and memory of plain KD vs KD + attribution matching.

WCAM needs the student's Grad-CAM with ``create_graph=True`` (double backprop); this script
measures what that costs per step compared with plain KD, attention transfer and the stochastic
variant, and the same for fine-tuning a pruned (full-width) network. Each configuration runs in a
fresh subprocess so its peak RSS is its own.

    .venv/bin/python benchmarks/compression.py [--steps 20] [--batch-size N] [--threads 2]
        [--preset quick]

The networks (teacher channels and hidden width, the KD student's width divisor, the canvas
size), the learning rates, the stochastic channel drop and the pruning sparsity are the config
of ``--preset`` (``build_config``, as ``paperzoo reproduce compression --preset P``).

Prints a table and writes ``benchmarks/out/compression.json``. Memory is reported two ways:
the process's peak RSS and the bytes autograd saves for backward during one step (activation
memory, measured with ``torch.autograd.graph.saved_tensors_hooks``).

Comparison with the official code (``--official``)::

    git clone https://github.com/GeondoPark/attribute-preserve /tmp/ap_official  # ed5008a
    nice -n 19 .venv/bin/python benchmarks/compression.py --threads 1 --rounds 5 \
        --official /tmp/ap_official/pascal --extra-path /tmp/ap_stubs [--profile 5]

compares one KD + WCAM training step (the ``kd+wcam`` case: Hinton KD, plus beta times the
Grad-CAM matching loss, plus the optimiser step) of ours (``DistillationObjective`` with
``AttributionMatchingLoss``) with the same step written as the official code does it,
https://github.com/GeondoPark/attribute-preserve at commit
ed5008ac01f2852507e82ad440aec1b3fc300cde: ``VGG.forward(mode="swa")`` with its ``cal_grad``
(the teacher's full ``backward(grad_out, retain_graph=True)``, the student's full
``backward(grad_out, create_graph=True)``), then ``VOC2012_distill_trainer.logit_kd`` and
``cal_l2loss`` and the trainer's ``zero_grad`` calls (``pascal/model/vgg.py``,
``pascal/distillation/VOC_trainer.py``). Those modules are imported from the ``--official`` path
(the ``pascal/`` folder of an extracted checkout kept outside this repository); nothing of them is
copied here. ``--extra-path`` is prepended to ``sys.path`` for them, e.g. a folder holding a
stand-in ``tensorboardX`` package defining an empty ``SummaryWriter`` class (imported at module
level by ``VOC_trainer.py``, not installed here; the trainer itself is never constructed).

Equal sizes: the official models are not torchvision's but their own ``VGG`` class, which takes
a layer list, so the official networks get exactly our conv stacks (conv3x3-BN-ReLU, max-pools
where ours have them); their head (flatten, dropout, one linear layer on the 8x8 map) is
replaced by ours (global average pooling, 2 linear layers), and our initial weights are copied
in, so both sides hold the same parameters and compute the same attribution maps (checked
before the rounds). What still differs is the official step itself: a sigmoid KD with a
multi-label soft-margin loss on one-hot targets (PASCAL VOC is multi-label; ours: softmax KL +
cross-entropy), the teacher's backward through all its layers and parameters, the student's
create-graph backward through all its layers. Both sides use our optimiser (Adam at the
preset's rate; the official trainer: SGD) and call the modules without ``DataParallel`` (a
pass-through on CPU).

Each (round, implementation) runs in its own subprocess, interleaved (ours, official, ours,
...); per round the medians of wall time and of this thread's CPU time
(``time.thread_time()``, meaningful with ``--threads 1``) are taken, and the reported ratio is
the median over rounds of ours/official. Memory: the bytes saved for backward in one step, and
the growth of the peak RSS from after the imports (before the networks) to after the timed steps.
``--profile N`` also runs N steps of each side under ``torch.profiler`` and prints the top ops.
Writes ``benchmarks/out/compression_official.json``.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

CASES = ["kd", "kd+at", "kd+wcam", "kd+wcam_stoch", "prune", "prune+wcam"]


def _one(case: str, steps: int, batch_size: int | None, threads: int, preset: str) -> dict:
    from paperzoo.compression import (
        AttributionMatchingLoss,
        DistillationObjective,
        FineTuneObjective,
        SmallVGG,
        global_magnitude_prune,
    )
    from paperzoo.compression.repro.train import _build
    from paperzoo.core.presets import build_config

    cfg = build_config("compression", preset)
    side = cfg.data.canvas_size

    def vgg(width_divisor: int) -> SmallVGG:
        return _build(cfg, width_divisor)  # the reproduction's networks, sizes from the preset

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    teacher = vgg(1).eval()
    comp, _, arm = case.partition("+")
    if comp == "kd":
        student = vgg(cfg.distill.width_divisor)
        lr, batch_size = cfg.distill.learning_rate, batch_size or cfg.distill.batch_size
    else:
        import copy

        student = copy.deepcopy(teacher).train()
        global_magnitude_prune(student, cfg.prune.final_sparsity)
        lr, batch_size = cfg.prune.learning_rate, batch_size or cfg.prune.batch_size
    match = None
    if arm:
        match = AttributionMatchingLoss(
            teacher,
            student,
            "features",
            "features",
            kind="at" if arm == "at" else "wcam",
            beta=cfg.matching.beta,
            stochastic_drop=cfg.matching.stochastic_drop if arm == "wcam_stoch" else 0.0,
            reduction=cfg.matching.reduction,
            generator=torch.Generator().manual_seed(0),
        )
    objective = (
        DistillationObjective(teacher, student, match)
        if comp == "kd"
        else FineTuneObjective(student, match)
    )
    opt = torch.optim.Adam(student.parameters(), lr=lr)
    x = torch.rand(batch_size, 1, side, side)
    y = torch.randint(0, 10, (batch_size,))

    def step() -> None:
        out = objective(x, y)
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        opt.step()

    for _ in range(3):
        step()
    saved = _saved_for_backward(step)
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return {
        "case": case,
        "batch_size": batch_size,
        "step_ms_median": 1000 * statistics.median(times),
        "step_ms_min": 1000 * min(times),
        "saved_for_backward_mb": saved / 2**20,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


OFFICIAL_COMMIT = "ed5008ac01f2852507e82ad440aec1b3fc300cde"
OFFICIAL_OUT = Path(__file__).resolve().parent / "out" / "compression_official.json"


def _saved_for_backward(step: Any) -> int:
    """Bytes autograd saves for backward during one call of ``step`` (activation memory)."""
    saved = [0]

    def pack(t: torch.Tensor) -> torch.Tensor:
        saved[0] += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        step()
    return saved[0]


def _rss_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _ours_networks(preset: str) -> tuple[Any, torch.nn.Module, torch.nn.Module]:
    """(config, teacher in eval mode, KD student in train mode) of ``preset``, seed 0."""
    from paperzoo.compression.repro.train import _build
    from paperzoo.core.presets import build_config

    cfg = build_config("compression", preset)
    torch.manual_seed(0)
    teacher = _build(cfg, 1).eval()
    student = _build(cfg, cfg.distill.width_divisor).train()
    return cfg, teacher, student


def _official_modules(official: str) -> tuple[Any, Any]:
    """The official ``VGG`` class and ``VOC2012_distill_trainer`` (imported from ``official``)."""
    for sub in ("distillation", ""):  # VOC_trainer.py imports ``utils`` from pascal/
        path = str(Path(official, sub)) if sub else official
        if path not in sys.path:
            sys.path.insert(0, path)
    from model import VGG  # type: ignore[import-not-found]
    from VOC_trainer import VOC2012_distill_trainer  # type: ignore[import-not-found]

    return VGG, VOC2012_distill_trainer


def _official_twin(vgg_cls: Any, ours: torch.nn.Module, num_pooled: int) -> torch.nn.Module:
    """The official ``VGG`` with ``ours``'s conv stack, ours's head, and ours's weights.

    The official layer list (conv3x3-BN-ReLU, ``"M"`` for a 2x2 max-pool, then its trailing
    ``AvgPool2d(1)``) gives the same ``features`` indices as :class:`SmallVGG`. Its forward
    flattens the matched map before ``classifier``, so our head gets an ``Unflatten`` in front.
    """
    convs = [m for m in ours.features if isinstance(m, torch.nn.Conv2d)]
    layers: list[int | str] = []
    for i, conv in enumerate(convs):
        layers += [conv.out_channels] + (["M"] if i < num_pooled else [])
    in_ch, side = convs[0].in_channels, ours.feature_shape[1] * 2**num_pooled
    net = vgg_cls("ours", (in_ch, side, side), {"features": layers, "classifier": []})
    net.classifier = torch.nn.Sequential(
        torch.nn.Unflatten(1, ours.feature_shape), copy.deepcopy(ours.classifier)
    )
    src, dst = ours.state_dict(), net.state_dict()
    if [v.shape for v in src.values()] != [v.shape for v in dst.values()]:
        raise RuntimeError("the official twin's tensors do not line up with ours")
    net.load_state_dict(dict(zip(dst, src.values())))
    return net.train(ours.training)


def _official_head_params(vgg_cls: Any, ours: torch.nn.Module, num_pooled: int) -> int:
    """Parameters of the same conv stack with the official VOC head (dropout, one linear layer
    on the flattened map), for the record."""
    convs = [m for m in ours.features if isinstance(m, torch.nn.Conv2d)]
    layers: list[int | str] = []
    for i, conv in enumerate(convs):
        layers += [conv.out_channels] + (["M"] if i < num_pooled else [])
    side = ours.feature_shape[1] * 2**num_pooled
    num_classes = ours.classifier[-1].out_features
    net = vgg_cls(
        "ours",
        (convs[0].in_channels, side, side),
        {"features": layers, "classifier": ["D", num_classes]},
    )
    return _params(net)


def _step_fn(impl: str, official: str, preset: str, batch_size: int | None) -> dict[str, Any]:
    """Networks, batch and one training step of ``impl`` (``ours`` or ``official``)."""
    from torch.profiler import record_function

    cfg, teacher, student = _ours_networks(preset)
    batch_size = batch_size or cfg.distill.batch_size
    side, beta = cfg.data.canvas_size, cfg.matching.beta
    T, alpha = cfg.distill.temperature, cfg.distill.alpha
    g = torch.Generator().manual_seed(1)
    x = torch.rand(batch_size, 1, side, side, generator=g)
    y = torch.randint(0, 10, (batch_size,), generator=g)
    info: dict[str, Any] = {"batch_size": batch_size}
    if impl == "ours":
        from paperzoo.compression import AttributionMatchingLoss, DistillationObjective

        match = AttributionMatchingLoss(
            teacher,
            student,
            "features",
            "features",
            kind="wcam",
            beta=beta,
            reduction=cfg.matching.reduction,
        )
        objective = DistillationObjective(teacher, student, match, temperature=T, alpha=alpha)
        teacher_maps = match.teacher_maps

        def labelled_teacher_maps(inp: torch.Tensor) -> Any:  # for the profile only
            with record_function("## . of which teacher forward + Grad-CAM (no graph)"):
                return teacher_maps(inp)

        match.teacher_maps = labelled_teacher_maps  # type: ignore[method-assign]
        opt = torch.optim.Adam(student.parameters(), lr=cfg.distill.learning_rate)

        def step() -> None:
            with record_function("## forward: teacher + student Grad-CAM, KD, match"):
                out = objective(x, y)
            with record_function("## backward"):
                opt.zero_grad(set_to_none=True)
                out.loss.backward()
            with record_function("## optimizer"):
                opt.step()

    else:
        from types import SimpleNamespace

        vgg_cls, trainer = _official_modules(official)
        num_pooled = cfg.teacher.num_pooled
        info["official_head_params"] = {
            "teacher": _official_head_params(vgg_cls, teacher, num_pooled),
            "student": _official_head_params(vgg_cls, student, num_pooled),
        }
        teacher = _official_twin(vgg_cls, teacher, num_pooled)
        student = _official_twin(vgg_cls, student, num_pooled)
        # logit_kd and cal_l2loss only read self.criterion (the trainer's default).
        fake_self = SimpleNamespace(criterion=torch.nn.MultiLabelSoftMarginLoss())
        targets = torch.nn.functional.one_hot(y, 10).float()
        opt = torch.optim.Adam(student.parameters(), lr=cfg.distill.learning_rate)

        def step() -> None:  # VOC2012_distill_trainer.train, one batch, without the metrics
            with record_function("## teacher forward + full backward (cal_grad)"):
                out_t, attr_t, grad_out = teacher(x, mode="swa", TS="Teacher")
            with record_function("## student forward + create_graph backward (cal_grad)"):
                out_s, attr_s, _ = student(x, mode="swa", TS="Student", grad_out=grad_out)
            with record_function("## logit_kd + cal_l2loss"):
                loss = trainer.logit_kd(fake_self, out_s, out_t, targets, T, alpha)
                aux = 0
                for a_t, a_s in zip(attr_t, attr_s):
                    aux += trainer.cal_l2loss(fake_self, a_t, a_s)
                teacher.zero_grad()
                student.zero_grad()
                loss = loss + beta * aux
            with record_function("## backward"):
                opt.zero_grad()
                loss.backward()
            with record_function("## optimizer"):
                opt.step()

    info["params"] = {"teacher": _params(teacher), "student": _params(student)}
    return {"step": step, "info": info}


def _compare_worker(
    impl: str,
    steps: int,
    batch_size: int | None,
    threads: int,
    preset: str,
    official: str,
    profile: int,
) -> dict:
    torch.set_num_threads(threads)
    import paperzoo.compression  # noqa: F401  (imports first: the RSS base excludes them)

    if impl == "official":
        _official_modules(official)
    base_rss = _rss_mb()  # after the imports, before the networks
    built = _step_fn(impl, official, preset, batch_size)
    step = built["step"]
    for _ in range(3):
        step()
    saved = _saved_for_backward(step)
    wall, cpu = [], []
    for _ in range(steps):
        t0, c0 = time.perf_counter(), time.thread_time()
        step()
        wall.append(1000 * (time.perf_counter() - t0))
        # This thread's CPU time: leaves out the time other processes held the core.
        cpu.append(1000 * (time.thread_time() - c0))
    res = {
        "impl": impl,
        **built["info"],
        "wall_ms": wall,
        "cpu_ms": cpu,
        "saved_for_backward_mb": saved / 2**20,
        "peak_rss_mb": _rss_mb(),
        "peak_rss_growth_mb": _rss_mb() - base_rss,
    }
    if profile:
        from torch.profiler import ProfilerActivity
        from torch.profiler import profile as torch_profile

        with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(profile):
                step()
        events = prof.key_averages()
        phases = [e for e in events if e.key.startswith("## ")]
        ops = [e for e in events if not e.key.startswith("## ")]
        total = sum(e.self_cpu_time_total for e in ops) or 1.0
        res["profile"] = {
            "steps": profile,
            "phases": {e.key[3:]: e.cpu_time_total / 1000 / profile for e in phases},
            "total_ms_per_step": total / 1000 / profile,
            "top_ops": [
                {
                    "op": e.key,
                    "self_ms_per_step": e.self_cpu_time_total / 1000 / profile,
                    "share": e.self_cpu_time_total / total,
                    "calls_per_step": e.count / profile,
                }
                for e in sorted(ops, key=lambda e: -e.self_cpu_time_total)[:12]
            ],
        }
    return res


def _equivalence_check(preset: str, batch_size: int | None, official: str) -> dict:
    """One batch through both sides from the same weights: the matched maps, beta * L_match and
    its gradient in the student's parameters must agree."""
    from paperzoo.compression import AttributionMatchingLoss

    cfg, teacher, student = _ours_networks(preset)
    vgg_cls, trainer = _official_modules(official)
    num_pooled = cfg.teacher.num_pooled
    o_teacher = _official_twin(vgg_cls, teacher, num_pooled)
    o_student = _official_twin(vgg_cls, student, num_pooled)
    x = torch.rand(
        batch_size or cfg.distill.batch_size,
        1,
        cfg.data.canvas_size,
        cfg.data.canvas_size,
        generator=torch.Generator().manual_seed(1),
    )
    beta = cfg.matching.beta
    m = AttributionMatchingLoss(teacher, student, "features", "features", beta=beta)(x)
    student.zero_grad()
    m.loss.backward()
    from types import SimpleNamespace

    _, attr_t, grad_out = o_teacher(x, mode="swa", TS="Teacher")
    _, attr_s, _ = o_student(x, mode="swa", TS="Student", grad_out=grad_out)
    aux = beta * trainer.cal_l2loss(SimpleNamespace(), attr_t[0], attr_s[0])
    o_student.zero_grad()
    aux.backward()
    diff = scale = 0.0
    for a, b in zip(student.parameters(), o_student.parameters()):
        # A parameter the match does not reach (the last bias) has no gradient on either side.
        ga = torch.zeros_like(a) if a.grad is None else a.grad
        gb = torch.zeros_like(b) if b.grad is None else b.grad
        diff = max(diff, (ga - gb).abs().max().item())
        scale = max(scale, ga.abs().max().item())
    # Relative to the largest gradient entry: the conv biases before batch norm have a true
    # gradient of 0, so their own relative difference is rounding noise over rounding noise.
    grad_diff = diff / max(scale, 1e-12)
    return {
        "teacher_map_max_abs_diff": (m.teacher_map - attr_t[0].squeeze(1)).abs().max().item(),
        "student_map_max_abs_diff": (m.student_map - attr_s[0].squeeze(1)).abs().max().item(),
        "match_loss_ours": m.loss.item(),
        "match_loss_official": aux.item(),
        "match_grad_max_rel_diff": grad_diff,
    }


def _compare(args: argparse.Namespace) -> None:
    """Interleaved rounds of ours vs the official step, each in its own subprocess."""
    env = dict(os.environ)
    if args.extra_path:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [args.extra_path, env.get("PYTHONPATH")]))
    base = [
        sys.executable,
        __file__,
        "--steps",
        str(args.steps),
        "--threads",
        str(args.threads),
        "--preset",
        args.preset,
        "--official",
        args.official,
    ]
    if args.batch_size:
        base += ["--batch-size", str(args.batch_size)]

    def child(extra: list[str]) -> dict:
        out = subprocess.run(base + extra, capture_output=True, text=True, env=env)
        if out.returncode:
            raise SystemExit(f"{extra} failed:\n{out.stderr[-3000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])

    check = child(["--check"])
    print(
        "same weights, one batch: map max |diff| teacher "
        f"{check['teacher_map_max_abs_diff']:.2e}, student {check['student_map_max_abs_diff']:.2e}"
        f"; beta*L_match {check['match_loss_ours']:.6f} (ours) vs "
        f"{check['match_loss_official']:.6f} (official); its gradient max |diff| / max |grad| "
        f"{check['match_grad_max_rel_diff']:.2e}"
    )
    runs: dict[str, list[dict]] = {"ours": [], "official": []}
    for r in range(args.rounds):
        for impl in ("ours", "official"):
            res = child(["--impl", impl])
            runs[impl].append(res)
            print(
                f"round {r} {impl:8s}: wall {statistics.median(res['wall_ms']):7.1f} ms, "
                f"CPU {statistics.median(res['cpu_ms']):7.1f} ms",
                flush=True,
            )
    rounds = []
    for o, f in zip(runs["ours"], runs["official"]):
        ow, fw = statistics.median(o["wall_ms"]), statistics.median(f["wall_ms"])
        oc, fc = statistics.median(o["cpu_ms"]), statistics.median(f["cpu_ms"])
        rounds.append(
            {
                "ours_wall_ms": ow,
                "official_wall_ms": fw,
                "wall_ratio": ow / fw,
                "ours_cpu_ms": oc,
                "official_cpu_ms": fc,
                "cpu_ratio": oc / fc,
            }
        )
    o0, f0 = runs["ours"][0], runs["official"][0]
    summary = {
        "wall_ratio_median": statistics.median(r["wall_ratio"] for r in rounds),
        "cpu_ratio_median": statistics.median(r["cpu_ratio"] for r in rounds),
        "ours_wall_ms_median": statistics.median(r["ours_wall_ms"] for r in rounds),
        "official_wall_ms_median": statistics.median(r["official_wall_ms"] for r in rounds),
        "ours_cpu_ms_median": statistics.median(r["ours_cpu_ms"] for r in rounds),
        "official_cpu_ms_median": statistics.median(r["official_cpu_ms"] for r in rounds),
    }
    for key in ("saved_for_backward_mb", "peak_rss_mb", "peak_rss_growth_mb"):
        for impl in ("ours", "official"):
            summary[f"{impl}_{key}"] = statistics.median(r[key] for r in runs[impl])
    print(
        f"\nKD + WCAM step, preset {args.preset}, batch {o0['batch_size']}, "
        f"{args.threads} thread(s), official commit {OFFICIAL_COMMIT[:12]}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'round':<7}{'ours ms':>9}{'official ms':>13}{'ratio':>7}"
        f"{'ours CPU ms':>13}{'official CPU':>14}{'ratio':>7}"
    )
    for i, r in enumerate(rounds):
        print(
            f"{i:<7}{r['ours_wall_ms']:>9.1f}{r['official_wall_ms']:>13.1f}"
            f"{r['wall_ratio']:>7.2f}{r['ours_cpu_ms']:>13.1f}{r['official_cpu_ms']:>14.1f}"
            f"{r['cpu_ratio']:>7.2f}"
        )
    print(
        f"{'median':<7}{summary['ours_wall_ms_median']:>9.1f}"
        f"{summary['official_wall_ms_median']:>13.1f}{summary['wall_ratio_median']:>7.2f}"
        f"{summary['ours_cpu_ms_median']:>13.1f}{summary['official_cpu_ms_median']:>14.1f}"
        f"{summary['cpu_ratio_median']:>7.2f}   (ratio: median of the per-round ratios)"
    )
    for key, label in (
        ("saved_for_backward_mb", "saved for backward MB"),
        ("peak_rss_growth_mb", "peak RSS growth MB"),
        ("peak_rss_mb", "peak RSS MB"),
    ):
        print(
            f"{label:<22} ours {summary[f'ours_{key}']:7.1f}   "
            f"official {summary[f'official_{key}']:7.1f}"
        )
    op, fp = o0["params"], f0["params"]
    same = "identical" if op == fp else "DIFFERENT"
    print(
        f"parameters: teacher {op['teacher']} (ours) vs {fp['teacher']} (official), student "
        f"{op['student']} vs {fp['student']}: {same}. The official VGG is built with our conv "
        "stack and gets our GAP + 2-linear head and weights; with its own VOC head (dropout, "
        "one linear layer on the flattened map) it would have "
        f"{f0['official_head_params']['teacher']} / {f0['official_head_params']['student']}."
    )
    print(
        "Same networks and weights on both sides: only the step's implementation differs "
        "(Grad-CAM via full backward vs autograd.grad to the hooked layer, KD form)."
    )
    profiles = {}
    if args.profile:
        for impl in ("ours", "official"):
            res = child(["--impl", impl, "--profile", str(args.profile)])
            profiles[impl] = res["profile"]
            p = res["profile"]
            print(
                f"\nprofile {impl} ({p['steps']} steps, {p['total_ms_per_step']:.1f} ms/step "
                "of op self time):"
            )
            for name, ms in p["phases"].items():
                print(f"  phase {name:<58} {ms:7.2f} ms/step")
            for e in p["top_ops"]:
                print(
                    f"  {e['op']:<40} {e['self_ms_per_step']:7.2f} ms/step "
                    f"{100 * e['share']:5.1f} %  {e['calls_per_step']:5.0f} calls"
                )
    OFFICIAL_OUT.parent.mkdir(exist_ok=True)
    meta = {
        "official": args.official,
        "official_commit": OFFICIAL_COMMIT,
        "preset": args.preset,
        "steps": args.steps,
        "rounds": args.rounds,
        "threads": args.threads,
        "torch": torch.__version__,
        "machine": platform.platform(),
        "cpu_count": os.cpu_count(),
        "loadavg": list(os.getloadavg()),
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }
    OFFICIAL_OUT.write_text(
        json.dumps(
            {
                "meta": meta,
                "check": check,
                "rounds": rounds,
                "summary": summary,
                "params": {
                    "ours": op,
                    "official": fp,
                    "official_with_voc_head": f0["official_head_params"],
                },
                "profile": profiles,
            },
            indent=2,
        )
    )
    print(f"wrote {OFFICIAL_OUT}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=None, help="default: the preset's")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--preset", default="quick", help="compression preset giving the sizes")
    ap.add_argument("--case", default=None, help=argparse.SUPPRESS)  # child-process mode
    ap.add_argument("--official", default="", help="pascal/ folder of the official code")
    ap.add_argument("--extra-path", default="", help="prepended to sys.path for --official")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (--official)")
    ap.add_argument("--profile", type=int, default=0, help="profiled steps per side (--official)")
    ap.add_argument("--impl", default=None, help=argparse.SUPPRESS)  # child, --official
    ap.add_argument("--check", action="store_true", help=argparse.SUPPRESS)  # child, --official
    args = ap.parse_args()
    if args.check:
        print(json.dumps(_equivalence_check(args.preset, args.batch_size, args.official)))
        return
    if args.impl:
        res = _compare_worker(
            args.impl,
            args.steps,
            args.batch_size,
            args.threads,
            args.preset,
            args.official,
            args.profile,
        )
        print(json.dumps(res))
        return
    if args.official:
        _compare(args)
        return
    if args.case:
        print(json.dumps(_one(args.case, args.steps, args.batch_size, args.threads, args.preset)))
        return
    rows = []
    for case in CASES:
        cmd = [sys.executable, __file__, "--case", case, "--steps", str(args.steps),
               "--threads", str(args.threads), "--preset", args.preset]  # fmt: skip
        if args.batch_size:
            cmd += ["--batch-size", str(args.batch_size)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    base = {r["case"]: r for r in rows}
    for r in rows:
        ref = base["kd" if r["case"].startswith("kd") else "prune"]
        r["time_ratio_vs_plain"] = r["step_ms_median"] / ref["step_ms_median"]
    print(f"{'case':<15}{'step ms (median)':>18}{'x plain':>9}{'saved MB':>10}{'peak RSS MB':>13}")
    for r in rows:
        print(f"{r['case']:<15}{r['step_ms_median']:>18.1f}{r['time_ratio_vs_plain']:>9.2f}"
              f"{r['saved_for_backward_mb']:>10.1f}{r['peak_rss_mb']:>13.0f}")  # fmt: skip
    out_dir = Path(__file__).resolve().parent / "out"
    out_dir.mkdir(exist_ok=True)
    meta = {
        "batch_size": args.batch_size or "preset",
        "steps": args.steps,
        "threads": args.threads,
        "preset": args.preset,
        "torch": torch.__version__,
        "machine": platform.platform(),
        "cpu_count": __import__("os").cpu_count(),
        "loadavg": list(__import__("os").getloadavg()),
    }
    (out_dir / "compression.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    print(f"wrote {out_dir / 'compression.json'} (load average {meta['loadavg']})")


if __name__ == "__main__":
    main()
