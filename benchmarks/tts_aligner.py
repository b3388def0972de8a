"""How well the learned monotonic aligner finds word boundaries, measured where they are known
exactly: FSDD utterances concatenated from single words (paperzoo.tts.data).

    python benchmarks/tts_aligner.py --data-root ../shared/data [--steps 2000] [--train 2000]

Trains :func:`paperzoo.tts.aligner.fit_aligner` on the training utterances (their exact
durations are never shown to it) and reports, on held-out utterances of unseen identities, the
mean and 95th percentile of |aligned word start/end - true start/end| in frames (16 ms), the
share within 2 frames, the share of words whose aligned centre lies inside the true span and the
mean intersection-over-union of aligned and true word spans. The "true" span of a word is its
whole clip, low-energy onset and release included, which an aligner may fairly give to the
neighbouring silence token. Writes benchmarks/out/tts_aligner.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-root", help="data root holding speech/fsdd (else tone digits)")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--train", type=int, default=2000, help="training utterances")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("benchmarks/out/tts_aligner.json"))
    args = p.parse_args()

    import numpy as np
    import torch

    from paperzoo.tts.aligner import fit_aligner
    from paperzoo.tts.data import build_corpus, word_frame_spans
    from paperzoo.tts.repro.config import DataConfig

    torch.set_num_threads(1)
    source = "fsdd"
    try:
        from paperzoo.datasets.speech import load_fsdd

        load_fsdd(args.data_root)
    except Exception:
        source = "tones"
    data = DataConfig(source=source, num_train=args.train, num_val=8)
    corpus = build_corpus(data, args.data_root, args.seed)
    t0 = time.perf_counter()
    model = fit_aligner([u.tokens for u in corpus.train], [u.mel for u in corpus.train],
                        steps=args.steps, seed=args.seed)  # fmt: skip
    train_s = time.perf_counter() - t0
    errors, centred, iou = [], [], []
    tests = [e.target for e in corpus.evals]
    for u in tests:
        d = model.durations(torch.from_numpy(u.tokens), torch.from_numpy(u.mel))
        for (a, b), (s, e) in zip(u.word_frames, word_frame_spans(u.tokens, d)):
            errors += [abs(s - a), abs(e - b)]
            centred.append(a <= (s + e) / 2 < b)
            inter = max(0, min(e, b) - max(s, a))
            iou.append(inter / max(1, max(e, b) - min(s, a)))
    e = np.asarray(errors)
    hop_ms = 1000 * corpus.mel_config.hop / corpus.mel_config.sample_rate
    res = {
        "data": source,
        "train_utterances": len(corpus.train),
        "steps": args.steps,
        "train_s": train_s,
        "test_utterances": len(tests),
        "boundaries": int(e.size),
        "mean_error_frames": float(e.mean()),
        "p95_error_frames": float(np.percentile(e, 95)),
        "within_2_frames": float((e <= 2).mean()),
        "words_centred_in_true_span": float(np.mean(centred)),
        "mean_word_iou": float(np.mean(iou)),
        "frame_ms": hop_ms,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2))
    for k, v in res.items():
        print(f"{k:>20}: {v:.4g}" if isinstance(v, float) else f"{k:>20}: {v}")


if __name__ == "__main__":
    main()
