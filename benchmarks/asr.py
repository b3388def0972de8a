"""Streaming ASR speed on CPU: real-time factor and per-chunk wall time of streaming decoding,
training step time (MMA vs mutually-constrained MMA, interleaved), peak memory.

    python benchmarks/asr.py [--data-root ../shared/data] [--rounds 3] [--model model.pt]

The model, optimiser and batch size are the preset's (``--preset``, default ``quick``, plus
``--set`` overrides, validated as ``paperzoo reproduce`` does); the benchmark only shrinks the
corpus it builds. Without ``--model`` an untrained model of that size is timed (speed does not
depend on the weights; an untrained model may emit more or fewer tokens than a trained one, so
give a trained ``model.pt`` for decoding numbers that match real use). Utterances are FSDD
connected digits when the data root has them, else the synthetic tone digits. Training steps
of ``mma`` and ``mcmma_eps1`` run interleaved (A, B, A, B, ...) over ``--rounds`` rounds; the
median of each and their ratio are reported. Writes benchmarks/out/asr.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import time
from pathlib import Path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-root", help="data root with speech/fsdd (else tone digits)")
    p.add_argument("--model", type=Path, help="a trained model.pt (default: untrained)")
    p.add_argument("--utterances", type=int, default=20, help="utterances decoded")
    p.add_argument("--chunk-ms", type=float, default=160.0, help="streaming chunk")
    p.add_argument("--eps", type=int, default=1, help="HSD window")
    p.add_argument("--steps", type=int, default=10, help="training steps per arm and round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--preset", default="quick", help="config preset (default quick)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--out", type=Path, default=Path("benchmarks/out/asr.json"))
    args = p.parse_args()

    import torch

    from paperzoo.asr.decoding import StreamingRecognizer
    from paperzoo.asr.model import MMARecognizer, load_recognizer
    from paperzoo.asr.repro.recipe import (
        batch_features,
        build_corpus,
        make_optimizer,
        model_kwargs,
    )
    from paperzoo.core.presets import build_config

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    source = "fsdd"
    try:
        from paperzoo.datasets.speech import load_fsdd

        load_fsdd(args.data_root)
    except Exception:
        source = "tones"
    sizes = [f"data.source={source}", "data.num_train=200", f"data.num_test={args.utterances}"]
    cfg = build_config("asr", args.preset, overrides=[*args.overrides, *sizes])
    data = build_corpus(cfg, args.data_root, 0)
    vocab = data["vocab"]
    res: dict = {"platform": platform.platform(), "threads": args.threads, "data": source,
                 "preset": args.preset, "overrides": args.overrides}  # fmt: skip
    if args.model:
        model, feats = load_recognizer(args.model)
    else:
        model, feats = MMARecognizer(vocab, **model_kwargs(cfg, "mma")).eval(), data["features"]
    res["parameters"] = sum(x.numel() for x in model.parameters())
    step = round(args.chunk_ms / 1000 * feats.sample_rate)
    audio_s, wall, per_chunk = 0.0, 0.0, []
    for u in data["test"]:
        rec = StreamingRecognizer(model, feats, args.eps)
        start = time.perf_counter()
        for a in range(0, len(u.wave), step):
            t = time.perf_counter()
            rec.push(u.wave[a : a + step])
            per_chunk.append(time.perf_counter() - t)
        rec.finish()
        wall += time.perf_counter() - start
        audio_s += len(u.wave) / feats.sample_rate
    res["real_time_factor"] = wall / audio_s
    res["chunk_ms"] = args.chunk_ms
    res["per_chunk_ms_median"] = 1000 * statistics.median(per_chunk)
    res["per_chunk_ms_p95"] = 1000 * sorted(per_chunk)[int(0.95 * (len(per_chunk) - 1))]
    res["rss_after_decoding_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    models = {
        a: MMARecognizer(vocab, **model_kwargs(cfg, a)).train() for a in ("mma", "mcmma_eps1")
    }
    opts = {a: make_optimizer(cfg, m.parameters())[0] for a, m in models.items()}
    gen = torch.Generator().manual_seed(0)
    times: dict[str, list[float]] = {a: [] for a in models}
    for _ in range(args.rounds):
        for a, m in models.items():
            t = time.perf_counter()
            for _ in range(args.steps):
                idx = torch.randint(len(data["train"]), (cfg.train.batch_size,), generator=gen)
                idx = idx.tolist()
                utts = [data["train"][i] for i in idx]
                x, lens, targets = batch_features(utts, data["features"], vocab, data["cache"])
                loss, _ = m.loss(x, lens, targets, generator=gen)
                opts[a].zero_grad()
                loss.backward()
                opts[a].step()
            times[a].append((time.perf_counter() - t) / args.steps)
    for a in models:
        res[f"train_step_ms_{a}"] = 1000 * statistics.median(times[a])
    res["step_ratio_mcmma_over_mma"] = statistics.median(
        b / a for a, b in zip(times["mma"], times["mcmma_eps1"])
    )
    res["rss_after_training_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2))
    for k, v in res.items():
        print(f"{k:>28}: {v:.4g}" if isinstance(v, float) else f"{k:>28}: {v}")


if __name__ == "__main__":
    main()
