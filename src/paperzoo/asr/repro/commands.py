"""``paperzoo asr transcribe``: recognise a wav file with a trained recogniser, whole or as a
stream (tokens printed as they are emitted, with their emission times).

Imports nothing heavy at module level: ``paperzoo --help`` imports this module.
"""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["COMMAND", "HELP", "add_arguments", "run"]

COMMAND = "asr"
HELP = "streaming speech recognition with monotonic multihead attention"


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="asr_command", metavar="ACTION", required=True)
    tr = sub.add_parser(
        "transcribe",
        help="recognise a wav file",
        description="Recognise a mono wav file (another sample rate is resampled to the "
        "model's, and said). With --stream the audio is fed in chunks and each word is printed "
        "when it is emitted, with the time of the encoder frame that let it out; --beam K "
        "decodes with head-synchronous beam search, --nbest N prints its N best hypotheses "
        "with their log-probabilities, --times each word's start, end and confidence.",
    )
    tr.add_argument(
        "wav", type=Path, help="audio file (wav/flac), mono; other rates are resampled (said)"
    )
    tr.add_argument(
        "--model",
        type=Path,
        required=True,
        help="model.pt of a unit of `paperzoo reproduce asr` (artifacts/<arm>__seed0/model.pt)",
    )
    tr.add_argument("--stream", action="store_true", help="feed the audio in chunks")
    tr.add_argument("--chunk-ms", type=float, default=160.0, help="chunk length with --stream")
    tr.add_argument(
        "--eps", type=int, help="head-synchronous decoding window in encoder frames (40 ms each)"
    )
    tr.add_argument(
        "--beam",
        type=int,
        help="head-synchronous beam search of this width after the last chunk (default: "
        "greedy, emitting each word as soon as it is determined)",
    )
    tr.add_argument("--nbest", type=int, default=1, help="with --beam: print the N best")
    tr.add_argument(
        "--times",
        action="store_true",
        help="print each word's start and end time in s (the end is when a stream emits it: "
        "its encoder frame's end) and its confidence P(word | words before, audio)",
    )


def run(args: argparse.Namespace) -> int:
    import sys

    from paperzoo.asr.decoding import StreamingRecognizer, beam_search_nbest, word_times
    from paperzoo.asr.model import load_recognizer
    from paperzoo.core.data import DataMissingError
    from paperzoo.core.errors import UsageError
    from paperzoo.datasets.speech import read_audio

    if not args.model.is_file():
        raise UsageError(f"no model file {args.model}; train one with `paperzoo reproduce asr`")
    if args.chunk_ms <= 0:
        raise UsageError("--chunk-ms must be positive")
    if args.eps is not None and args.eps < 0:
        raise UsageError("--eps must be >= 0")
    if args.beam is not None and args.beam < 1:
        raise UsageError("--beam must be >= 1")
    if args.nbest < 1 or args.nbest > (args.beam or 1):
        raise UsageError("--nbest must be between 1 and --beam")
    try:
        model, feats = load_recognizer(args.model)
        wave, sr = read_audio(args.wav)
    except (ValueError, RuntimeError, DataMissingError) as e:
        raise UsageError(str(e)) from None
    if sr != feats.sample_rate:
        import librosa

        wave = librosa.resample(wave, orig_sr=sr, target_sr=feats.sample_rate)
        print(f"resampled {args.wav} from {sr} Hz to the model's {feats.sample_rate} Hz",
              file=sys.stderr)  # fmt: skip
        sr = feats.sample_rate
    if len(wave) < feats.win or float(abs(wave).max()) == 0.0:
        raise UsageError(f"{args.wav} is empty or silent")
    rec = StreamingRecognizer(model, feats, args.eps, beam=args.beam)
    frame_s = 4 * feats.hop / feats.sample_rate
    step = round(args.chunk_ms / 1000 * sr) if args.stream else len(wave)
    for a in range(0, len(wave), step):
        for e in rec.push(wave[a : a + step]):
            if args.stream:
                heard = (a + min(step, len(wave) - a)) / sr
                print(f"{(e.frame + 1) * frame_s:6.2f}s  {e.word}  (audio read: {heard:.2f}s)")
    for e in rec.finish():
        if args.stream:
            print(f"{(e.frame + 1) * frame_s:6.2f}s  {e.word}  (end of audio)")
    if args.nbest > 1 and rec.encoded is not None:
        for rank, (score, em) in enumerate(
            beam_search_nbest(model, rec.encoded, args.eps, args.beam, nbest=args.nbest), 1
        ):
            print(f"{rank}. {score:8.3f}  {' '.join(e.word for e in em)}")
    else:
        print(" ".join(e.word for e in rec.emissions))
    if args.times:
        for w in word_times(rec.emissions, feats):
            print(f"{w['word']:>12s}  {w['start_s']:6.2f}-{w['end_s']:6.2f} s  "
                  f"confidence {w['confidence']:.3f}")  # fmt: skip
    return 0
