"""Benchmark of the CPQ package: training-step time and autograd memory of CPQ vs FP32 vs LSQ
(and RQ, CPQ+DropBits) on LeNet-5 and ResNet-20, and inference time of the exported integer model
vs the float (fake-quantized) model.

Usage: ``python benchmarks/quantization.py [--rounds 5] [--threads 1] [--quick]``. Prints a table,
writes ``benchmarks/out/quantization.json`` and figures to ``docs/results/quantization/``.

``--dropbits`` times only FP32, LSQ, CPQ and CPQ+DropBits at 2 and 3 bits (issue #45's
comparison), prints each arm's per-round ratio to LSQ (median, min, max over the rounds) and
writes ``benchmarks/out/quantization_dropbits[_LABEL].json``; run it with
``PYTHONPATH=<old checkout>/src`` and ``--label before`` to time another version of paperzoo
against the same script (the JSON records which ``paperzoo`` was imported). ``--profile ARM``
(e.g. ``cpq_dropbits:3``) prints torch.profiler's top operators over 3 steps of that arm.

Training steps are timed *interleaved* (one step of every arm per round, A, B, C, A, B, C, ...)
and reported as the median over rounds and as a ratio to LSQ at the same bit-width, because
this machine is shared: only ratios from one time window mean something. With Brevitas
importable (``pip install brevitas``; it is not a paperzoo dependency), a Brevitas QAT model of
the same architecture (``QuantConv2d`` / ``QuantLinear`` with per-tensor int weight and input
quantizers, same bits, first/last layers at 8 bits) is timed alongside.

Memory is the total size of the tensors autograd saves for backward in one training step (the
activation memory that dominates training), measured with ``saved_tensors_hooks``; it is exact and
machine-independent, unlike RSS on a shared CPU box. On CUDA the peak allocated memory is added.

The learning rate, the DropBits rate, the first/last-layer bits and LeNet-5's batch size are the
reproduction's (``build_config``: the ``quick`` preset for LeNet-5, ``paper`` for ResNet-20).
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import time
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F

from paperzoo.core.presets import build_config
from paperzoo.quantization import (
    LayerSpec,
    LeNet5,
    QuantizerSpec,
    ResNet20,
    compiled_backward,
    first_last_layers,
    integer_model,
    quantize_model,
)

ROOT = Path(__file__).resolve().parents[1]
PRESET = {"lenet5": "quick", "resnet20": "paper"}
"""The reproduction preset whose config each network's arms follow."""


@functools.cache
def _config(model_name: str) -> Any:
    return build_config("quantization", PRESET[model_name])


def _spec(model_name: str, method: str, bits: int) -> dict[str, LayerSpec]:
    q = _config(model_name).quant
    base = "cpq" if method.startswith("cpq") else method
    drop = q.drop_rate if method == "cpq_dropbits" else 0.0
    hidden = QuantizerSpec(base, bits, drop_rate=drop)  # type: ignore[arg-type]
    edge = QuantizerSpec(base, q.first_last_bits)  # type: ignore[arg-type]
    first, last = first_last_layers(model_name)
    return {first: LayerSpec(edge), last: LayerSpec(edge, edge), "*": LayerSpec(hidden, hidden)}


def _build(model_name: str, method: str, bits: int, device: torch.device) -> torch.nn.Module:
    torch.manual_seed(0)
    model = ResNet20() if model_name == "resnet20" else LeNet5()
    if method != "fp32":
        model = quantize_model(model, _spec(model_name, method, bits))
    return model.to(device)


def _batch(model_name: str, batch: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    shape = (batch, 3, 32, 32) if model_name == "resnet20" else (batch, 1, 28, 28)
    return torch.rand(shape, generator=g).to(device), torch.randint(
        0, 10, (batch,), generator=g
    ).to(device)


def _brevitas_model(model_name: str, bits: int, device: torch.device) -> torch.nn.Module | None:
    """The same network with Brevitas QAT layers (None when Brevitas is not installed)."""
    try:
        import brevitas.nn as qnn
        from brevitas.quant import Int8ActPerTensorFloat, Int8WeightPerTensorFloat
    except ImportError:
        return None
    model = _build(model_name, "fp32", bits, device)
    first, last = first_last_layers(model_name)
    for name, mod in list(model.named_modules()):
        if not isinstance(mod, (torch.nn.Conv2d, torch.nn.Linear)):
            continue
        edge = _config(model_name).quant.first_last_bits
        kw: dict = {
            "weight_bit_width": edge if name in (first, last) else bits,
            "weight_quant": Int8WeightPerTensorFloat,
            "bias": mod.bias is not None,
        }
        if name != first:  # the image stays float, as in paperzoo's recipe
            kw.update(
                input_quant=Int8ActPerTensorFloat, input_bit_width=edge if name == last else bits
            )
        if isinstance(mod, torch.nn.Conv2d):
            new = qnn.QuantConv2d(
                mod.in_channels, mod.out_channels, mod.kernel_size, stride=mod.stride,
                padding=mod.padding, **kw,
            )  # fmt: skip
        else:
            new = qnn.QuantLinear(mod.in_features, mod.out_features, **kw)
        new.load_state_dict(mod.state_dict(), strict=False)
        parent = model.get_submodule(name.rsplit(".", 1)[0]) if "." in name else model
        setattr(parent, name.rsplit(".", 1)[-1], new)
    return model.to(device)


def train_step_ratios(model_name, arms, batch, rounds, device) -> dict[str, dict[str, float]]:
    """Interleaved training-step times: median ms per arm, its ratio to LSQ at the same bits,
    parameter count, and the autograd memory of one step."""
    x, y = _batch(model_name, batch, device)
    built = {}
    for method, bits in arms:
        label = "fp32" if method == "fp32" else f"{method} W{bits}A{bits}"
        base = method.removesuffix("+compiled")
        model = (
            _brevitas_model(model_name, bits, device)
            if method == "brevitas"
            else _build(model_name, base, bits, device)
        )
        if model is None:
            continue
        model.train()
        lr = _config(model_name).train.learning_rate
        built[label] = (model, torch.optim.Adam(model.parameters(), lr), bits)
    saved = [0]

    def pack(t: torch.Tensor) -> torch.Tensor:
        saved[0] += t.numel() * t.element_size()
        return t

    times: dict[str, list[float]] = {k: [] for k in built}
    # CPU time of this thread as well: on a shared machine the wall clock also counts the time
    # other processes held the core (the step is single-threaded with --threads 1)
    cpu: dict[str, list[float]] = {k: [] for k in built}
    mem: dict[str, float] = {}
    cuda_peak: dict[str, float] = {}
    for r in range(rounds + 1):  # round 0 initialises the quantizers: warm-up
        for label, (model, opt, _) in built.items():
            compiled_backward("+compiled" in label)  # a global switch: set per arm
            saved[0] = 0
            if device.type == "cuda":
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
            t0, c0 = time.perf_counter(), time.thread_time()
            with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
                loss = F.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if device.type == "cuda":
                torch.cuda.synchronize()
                cuda_peak[label] = torch.cuda.max_memory_allocated() / 2**20
            if r:
                times[label].append(time.perf_counter() - t0)
                cpu[label].append(time.thread_time() - c0)
            mem[label] = saved[0] / 2**20
    compiled_backward(False)
    out = {}
    for label, (model, _, bits) in built.items():
        ms = 1000 * statistics.median(times[label])
        lsq = f"lsq W{bits}A{bits}"
        ref = 1000 * statistics.median(times[lsq]) if lsq in times else float("nan")
        # the ratio within each round (the two steps ran seconds apart): median and spread
        per_round = [a / b for a, b in zip(times[label], times[lsq])] if lsq in times else []
        cpu_round = [a / b for a, b in zip(cpu[label], cpu[lsq])] if lsq in cpu else []
        out[label] = {
            "step_ms": ms,
            "ratio_to_lsq": ms / ref,
            "round_ratios": per_round,
            "cpu_ms": 1000 * statistics.median(cpu[label]),
            "cpu_round_ratios": cpu_round,
            "params": sum(p.numel() for p in model.parameters()),
            "saved_mb": mem[label],
        }
        if label in cuda_peak:
            out[label]["cuda_peak_mb"] = cuda_peak[label]
    return out


def profile_arm(model_name: str, arm: str, batch: int, device: torch.device, rows: int = 15) -> str:
    """torch.profiler's operators by self CPU time over 3 training steps of one arm (after 3
    warm-up steps), as a table."""
    from torch.profiler import ProfilerActivity, profile

    method, bits = arm.split(":")
    model = _build(model_name, method, int(bits), device).train()
    opt = torch.optim.Adam(model.parameters(), _config(model_name).train.learning_rate)
    x, y = _batch(model_name, batch, device)

    def step() -> None:
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(3):
            step()
    return prof.key_averages().table(
        sort_by="self_cpu_time_total", row_limit=rows, max_name_column_width=36
    )


def inference_stats(model_name, bits, batch, steps, device) -> dict[str, float]:
    model = _build(model_name, "cpq", bits, device)
    x, _ = _batch(model_name, batch, device)
    model.train()
    model(x[:8])
    model.eval()
    variants = {
        "fp32 model": _build(model_name, "fp32", bits, device).eval(),
        "fake-quant (float)": model,
        "integer, float64 accum": integer_model(model, accumulate_dtype=torch.float64),
        "integer, float32 accum": integer_model(model, accumulate_dtype=torch.float32),
    }
    out = {}
    with torch.no_grad():
        ref = model(x)
        for name, m in variants.items():
            m(x)
            times = []
            for _ in range(steps):
                t0 = time.perf_counter()
                y = m(x)
                times.append(time.perf_counter() - t0)
            out[name] = {"ms": 1000 * statistics.median(times)}
            if name.startswith("integer"):
                out[name]["max_abs_diff_vs_fake_quant"] = float((y - ref).abs().max())
    return out


def _figures(results: dict, out_dir: Path) -> list[Path]:
    from paperzoo.core.plots import new_figure, save_figure

    paths = []
    for model_name, rows in results["train"].items():
        labels = list(rows)
        fig, axes = new_figure(1, 2, size=(5, 3.4))
        for ax, key, title in (
            (axes[0, 0], "ratio_to_lsq", "training step / LSQ's (interleaved, median)"),
            (axes[0, 1], "saved_mb", "autograd saved tensors (MiB)"),
        ):
            ax.bar(range(len(labels)), [rows[k][key] for k in labels], color="C0")
            ax.set_xticks(range(len(labels)), labels, rotation=35, ha="right", fontsize=8)
            ax.set_title(f"{model_name}: {title}", fontsize=9)
            ax.set_ylabel("× LSQ" if key == "ratio_to_lsq" else "MiB")
            ax.grid(axis="y", alpha=0.3)
        paths.append(save_figure(fig, out_dir / f"benchmark_train_{model_name}.png"))
    fig, axes = new_figure(1, len(results["inference"]), size=(4.2, 3.4))
    for ax, (model_name, rows) in zip(axes[0], results["inference"].items()):
        labels = list(rows)
        ax.bar(range(len(labels)), [rows[k]["ms"] for k in labels], color="C1")
        ax.set_xticks(range(len(labels)), labels, rotation=35, ha="right", fontsize=8)
        ax.set_title(f"{model_name}: inference (ms / batch)", fontsize=9)
        ax.set_ylabel("ms per batch of 256")
    paths.append(save_figure(fig, out_dir / "benchmark_inference.png"))
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (median)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--quick", action="store_true", help="LeNet-5 only, 3 rounds")
    ap.add_argument(
        "--compile",
        action="store_true",
        help="also time CPQ and CPQ+DropBits with compiled_backward() (torch.compile, ~1 min)",
    )
    ap.add_argument(
        "--dropbits",
        action="store_true",
        help="only FP32, LSQ, CPQ, CPQ+DropBits at 2 and 3 bits; per-round ratios; no figures",
    )
    ap.add_argument("--label", default="", help="suffix of the --dropbits JSON (e.g. before)")
    ap.add_argument("--profile", default="", help="print the profile of ARM (method:bits)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if args.profile:
        for model_name, batch in (("lenet5", _config("lenet5").data.batch_size), ("resnet20", 32)):
            print(f"== {model_name} {args.profile}")
            print(profile_arm(model_name, args.profile, batch, device))
        return
    if args.dropbits:
        dropbits_main(args, device)
        return
    # ResNet-20 steps at batch 32, not the paper preset's 128: four times fewer CPU seconds per
    # timed step, and the ratios to LSQ are what is compared.
    lenet = _config("lenet5").data.batch_size
    models = {"lenet5": lenet} if args.quick else {"lenet5": lenet, "resnet20": 32}
    rounds = 3 if args.quick else args.rounds
    arms = [("fp32", 32), ("lsq", 2), ("cpq", 2), ("cpq_dropbits", 2), ("rq", 2), ("ste", 2),
            ("brevitas", 2), ("lsq", 3), ("cpq", 3), ("cpq_dropbits", 3), ("rq", 3),
            ("brevitas", 3)]  # fmt: skip
    if args.compile:
        arms += [(f"{m}+compiled", b) for b in (2, 3) for m in ("cpq", "cpq_dropbits")]
    results: dict = {"device": str(device), "threads": args.threads, "rounds": rounds}
    results.update(train={}, inference={})
    for model_name, batch in models.items():
        rows = train_step_ratios(model_name, arms, batch, rounds, device)
        results["train"][model_name] = rows
        for label, r in rows.items():
            print(f"{model_name:9s} {label:22s} step {r['step_ms']:8.1f} ms  "
                  f"x{r['ratio_to_lsq']:5.2f} of LSQ  params {r['params']:7d}  "
                  f"saved {r['saved_mb']:7.2f} MiB", flush=True)  # fmt: skip
        steps = rounds
        results["inference"][model_name] = inference_stats(model_name, 4, 256, steps, device)
        for name, r in results["inference"][model_name].items():
            print(f"{model_name:9s} inference {name:24s} {r['ms']:8.1f} ms", flush=True)
    out = ROOT / "benchmarks" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "quantization.json").write_text(json.dumps(results, indent=2))
    figs = _figures(results, ROOT / "docs" / "results" / "quantization")
    print("wrote", out / "quantization.json", *figs)


def dropbits_main(args: argparse.Namespace, device: torch.device) -> None:
    """Issue #45: CPQ+DropBits / LSQ step-time ratios at 2 and 3 bits, interleaved."""
    import paperzoo

    lenet = _config("lenet5").data.batch_size
    models = {"lenet5": lenet} if args.quick else {"lenet5": lenet, "resnet20": 32}
    arms = [("fp32", 32)] + [(m, b) for b in (2, 3) for m in ("lsq", "cpq", "cpq_dropbits")]
    if args.compile:
        arms += [("cpq_dropbits+compiled", b) for b in (2, 3)]
    results: dict = {
        "paperzoo": str(Path(paperzoo.__file__).resolve().parent),
        "device": str(device),
        "threads": args.threads,
        "rounds": args.rounds,
        "train": {},
    }
    print("paperzoo from", results["paperzoo"], flush=True)
    for model_name, batch in models.items():
        rows = train_step_ratios(model_name, arms, batch, args.rounds, device)
        results["train"][model_name] = rows
        for label, r in rows.items():
            spread = ""
            for key, clock in (("round_ratios", "wall"), ("cpu_round_ratios", "cpu")):
                if r[key]:
                    rr = r[key]
                    med, lo, hi = statistics.median(rr), min(rr), max(rr)
                    spread += f"  {clock} x{med:4.2f} [{lo:4.2f}, {hi:4.2f}]"
            print(
                f"{model_name:9s} {label:22s} step {r['step_ms']:7.1f} ms "
                f"(cpu {r['cpu_ms']:7.1f}){spread}  params {r['params']:7d}",
                flush=True,
            )
    out = ROOT / "benchmarks" / "out"
    out.mkdir(parents=True, exist_ok=True)
    name = "quantization_dropbits" + (f"_{args.label}" if args.label else "") + ".json"
    (out / name).write_text(json.dumps(results, indent=2))
    print("wrote", out / name)


if __name__ == "__main__":
    main()
