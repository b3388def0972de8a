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
    p.add_argument("--model", type=Path, help="a trained tts.pt for synthesis (default: untrained)")
    p.add_argument("--steps", type=int, default=10, help="training steps per arm and round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--utterances", type=int, default=10, help="utterances synthesised")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-hifigan", action="store_true", help="skip the HiFi-GAN timing")
    p.add_argument("--preset", default="quick", help="config preset (default quick)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--out", type=Path, default=Path("benchmarks/out/tts.json"))
    args = p.parse_args()

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
