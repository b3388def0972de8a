"""``paperzoo tts say "text" --reference clip.wav --model model.pt --out out.wav``.

Imports nothing heavy at module level: ``paperzoo --help`` imports this module.
"""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["COMMAND", "HELP", "add_arguments", "run"]

COMMAND = "tts"
HELP = "text to speech in the voice of a reference clip (StyleSpeech)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="tts_command", metavar="ACTION", required=True)
    say = sub.add_parser(
        "say",
        help="speak text in the voice of a 1-3 s reference clip",
        description="Speak TEXT in the voice of the reference clip and write a wav file. The "
        "reference must be a real recording at the model's sample rate; a missing, empty, "
        "silent, too short or wrong-rate clip is an error, never a default voice.",
    )
    say.add_argument("text", help="what to say (words in the CMU dictionary; digits are read)")
    say.add_argument("--reference", type=Path, required=True, help="reference clip (wav/flac)")
    say.add_argument("--model", type=Path, required=True, help="model.pt written by save_tts")
    say.add_argument("--out", type=Path, default=Path("out.wav"), help="output wav (out.wav)")
    say.add_argument(
        "--spell-unknown",
        action="store_true",
        help="spell words missing from the dictionary letter by letter instead of failing",
    )


def run(args: argparse.Namespace) -> int:
    from paperzoo.core.errors import UsageError
    from paperzoo.tts.audio import BadReferenceError
    from paperzoo.tts.synthesis import synthesize
    from paperzoo.tts.text import UnknownWordError

    if not args.model.is_file():
        raise UsageError(f"no model file {args.model}")
    try:
        res = synthesize(
            args.text, args.reference, args.model,
            fallback="characters" if args.spell_unknown else "error",
        )  # fmt: skip
    except (BadReferenceError, UnknownWordError, ValueError) as e:
        raise UsageError(str(e)) from None
    import soundfile as sf

    args.out.parent.mkdir(parents=True, exist_ok=True)
    sf.write(args.out, res["wave"], res["sample_rate"])
    seconds = len(res["wave"]) / res["sample_rate"]
    print(f"{args.out}: {seconds:.2f} s at {res['sample_rate']} Hz, vocoder {res['vocoder']}")
    return 0
