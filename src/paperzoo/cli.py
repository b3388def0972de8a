"""The ``paperzoo`` command line: argument parsing and dispatch only; it knows no method by name.
What ``reproduce``, ``finalize`` and ``report`` do lives in :mod:`paperzoo.app`; one builder
function per sub-command (``_add_<command>``) declares its arguments.

Exit codes: 0 success; 2 bad usage (unknown method/preset/key, bad value, missing data, a run
directory in use), with a one-line reason on stderr; 1 for a failure inside a run (units that
failed twice); 130 after Ctrl-C and 143 after SIGTERM (finished units kept: --resume).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from paperzoo import __version__
from paperzoo.core.errors import UsageError

EPILOG = """examples:
  paperzoo list
  paperzoo reproduce neural_processes --preset smoke
  paperzoo reproduce neural_processes --preset quick --seeds 3 --set train.num_steps=2000
  paperzoo reproduce neural_processes --preset quick --resume      # continue an interrupted run
  paperzoo reproduce federated --preset quick --workers 2          # two unit processes
  paperzoo reproduce continual --executor ray --address auto       # units as Ray tasks
  paperzoo finalize runs/neural_processes/quick/20261128-101500   # re-judge stored units
  paperzoo report --out my-results                                 # newest runs + claims table
  paperzoo data status --data-root ../shared/data
  paperzoo models list                                             # trained models that ship
  paperzoo retro predict "CC(=O)Nc1ccccc1" --model model.pt --candidates stock.smi
  paperzoo asr transcribe digits.wav --model model.pt --stream --eps 1
  paperzoo tts say "seven two" --reference clip.wav --model tts.pt --out out.wav
"""


_DATA_ROOT_HELP = "data root (default: $PAPERZOO_DATA, else ~/.cache/paperzoo)"

# --- one builder per sub-command -------------------------------------------------------------
# `sub` is the top-level parser's sub-parsers action; each builder adds its command's parser.


def _add_list(sub: Any) -> None:
    ls = sub.add_parser("list", help="methods and presets, one line each, with expected CPU time")
    ls.add_argument("method", nargs="?", help="only this method")


def _add_reproduce(sub: Any) -> None:
    rp = sub.add_parser(
        "reproduce",
        help="train a method and its baselines on one preset and check the paper's claims",
        description="Train METHOD and its baselines on the same data, budget and seeds; write "
        "results.json, report.md and figures to a new run directory "
        "OUT/METHOD/PRESET/TIMESTAMP/ and print where it is.",
    )
    rp.add_argument("method", help="method package name (see `paperzoo list`)")
    rp.add_argument(
        "--preset",
        default="quick",
        help="smoke (< 30 s), quick (the CPU reproduction, default) or paper",
    )
    rp.add_argument(
        "--seeds", type=int, metavar="N", help="use seeds 0..N-1 instead of the preset's seeds"
    )
    rp.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config field, e.g. --set train.lr=3e-4 (repeatable); "
        "unknown keys are rejected with the list of valid ones",
    )
    rp.add_argument("--out", default="runs", help="root of run directories (default: runs)")
    rp.add_argument("--device", default="auto", help="auto (CUDA if available), cpu, cuda, cuda:N")
    rp.add_argument("--data-root", type=Path, default=None, help=_DATA_ROOT_HELP)
    rp.add_argument(
        "--own-data",
        action="store_true",
        help="train on data files whose checksum differs from the catalog's (your own version "
        "of a catalog set); without it such files are refused. Every file read is listed with "
        "its sha256 in the run's meta.json either way",
    )
    rp.add_argument(
        "--resume",
        action="store_true",
        help="continue the newest unfinished run of this preset (same config); "
        "finished units are not redone",
    )
    rp.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="units run in N local processes at once (default: the number of cores; "
        "1 runs in this process); the same seeds give the same numbers with any N",
    )
    rp.add_argument(
        "--threads",
        type=int,
        default=None,
        metavar="T",
        help="torch threads per unit (default: cores // workers; with --workers 1, torch's "
        "own setting); equal numbers across worker counts need equal --threads",
    )
    rp.add_argument(
        "--executor",
        choices=("local", "ray"),
        default="local",
        help="local processes (default) or Ray tasks (pip install 'paperzoo[ray]')",
    )
    rp.add_argument(
        "--address",
        default=None,
        help="with --executor ray: the cluster address (e.g. auto, ray://host:10001); "
        "default starts a local Ray",
    )
    rp.add_argument(
        "--verbose",
        action="store_true",
        help="keep third-party INFO logs (Flower, Ray); off by default, metrics go to "
        "metrics.jsonl",
    )
    rp.add_argument(
        "--show-config", action="store_true", help="print the resolved config as TOML and exit"
    )


def _add_finalize(sub: Any) -> None:
    fin = sub.add_parser(
        "finalize",
        help="re-judge the claims and redraw figures and report of a run from its stored units",
    )
    fin.add_argument("run_dir", type=Path, help="a run directory (runs/METHOD/PRESET/STAMP)")


def _add_plan(sub: Any) -> None:
    pl = sub.add_parser(
        "plan",
        help="seeds a preset needs, sized by power from a pilot run's per-seed numbers",
        description="For each claim of METHOD's preset (its current claims code and thresholds), "
        "judged on the per-seed numbers of a pilot run: the paired seeds needed for 80% power "
        "that the CI95 of mean d excludes the threshold, if the true mean and sd of d are the "
        "pilot's (noncentral t; headline claims at least 4), with the CPU time estimated from "
        "the pilot's cost per seed.",
    )
    pl.add_argument("method", help="method package name (see `paperzoo list`)")
    pl.add_argument("--preset", default="quick", help="the preset to plan (default: quick)")
    pl.add_argument(
        "--from",
        dest="pilot",
        type=Path,
        required=True,
        metavar="PILOT_RUN",
        help="a finished run directory with results.json (docs/results/METHOD/PRESET or "
        "runs/METHOD/PRESET/STAMP)",
    )
    pl.add_argument("--json", action="store_true", help="print the plan as JSON instead")
    pl.add_argument(
        "--reference",
        action="store_true",
        help="instead: propose the per-data-set levels of the reference gates (a baseline's "
        "known accuracy, ...) from a pilot run on a new data set, as --set lines to "
        "pre-register",
    )


def _add_report(sub: Any) -> None:
    rpt = sub.add_parser(
        "report",
        help="collect the newest run of each method/preset into one folder with a claims table",
        description="Copy results.json, report.md, config and figures of the newest run of each "
        "method and preset under --runs into a destination folder and write its README.md "
        "(the claims table). Name the destination with --out; the repository's tracked "
        "docs/results/ is only written with --update-docs, which refuses a run with units "
        "computed from uncommitted code unless --allow-dirty is given.",
    )
    rpt.add_argument("--runs", type=Path, default=Path("runs"), help="run root (default: runs)")
    dest = rpt.add_mutually_exclusive_group(required=True)
    dest.add_argument("--out", type=Path, help="destination folder (created if missing)")
    dest.add_argument(
        "--update-docs",
        action="store_true",
        help="write into docs/results/ (the committed reports; maintainers)",
    )
    dest.add_argument(
        "--rejudge-docs",
        action="store_true",
        help="re-judge every run in docs/results/ from its stored per-seed numbers with "
        "today's claims code and the run's pre-registration ledger (verdicts changed since "
        "are marked post hoc), then rewrite the index; nothing is retrained",
    )
    rpt.add_argument(
        "--method",
        action="append",
        dest="methods",
        help="only this method (repeatable; default: all)",
    )
    rpt.add_argument(
        "--preset",
        action="append",
        dest="presets",
        help="only this preset (repeatable; default: all)",
    )
    rpt.add_argument(
        "--allow-dirty",
        action="store_true",
        help="with --update-docs: copy runs with units computed from a git tree with "
        "uncommitted changes too; their copied meta.json and the index say so",
    )


def _add_data(sub: Any) -> None:
    dt = sub.add_parser("data", help="inspect and prepare data sets under the data root")
    dsub = dt.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    _add_data_status(dsub)
    _add_data_prepare(dsub)
    _add_data_build_speech(dsub)


def _add_data_status(dsub: Any) -> None:
    st = dsub.add_parser("status", help="which data sets are present and whether checksums match")
    st.add_argument("--data-root", type=Path, default=None, help=_DATA_ROOT_HELP)
    st.add_argument("--no-verify", action="store_true", help="skip checksums (faster)")


def _add_data_prepare(dsub: Any) -> None:
    pr = dsub.add_parser(
        "prepare",
        help="download a data set from its canonical source, or "
        "convert original files from a local folder",
    )
    pr.add_argument("name", help="data set name (see `paperzoo data status`)")
    pr.add_argument(
        "--from",
        dest="source",
        type=Path,
        default=None,
        help="folder holding the original files (e.g. the four IDX .gz files)",
    )
    pr.add_argument("--data-root", type=Path, default=None, help=_DATA_ROOT_HELP)


def _add_data_build_speech(dsub: Any) -> None:
    bs = dsub.add_parser(
        "build-speech",
        help="rebuild or enlarge the synthetic multi-speaker corpus with the Debian synthesizers",
        description="Speak texts with the corpus' synthesizer voices (espeak-ng, flite, festival, "
        "piper) into a new corpus folder (16 kHz FLAC, metadata.csv, speakers.csv). Voices whose "
        "synthesizer is missing are skipped with the package to install; the MBROLA voices need "
        "non-free packages and cannot be rebuilt on a stock machine.",
    )
    bs.add_argument("--out", type=Path, required=True, help="corpus folder to write")
    bs.add_argument(
        "--regenerate",
        action="store_true",
        help="speak the existing corpus' texts again (the corpus under the data root)",
    )
    bs.add_argument("--digits", type=int, default=0, help="new digit strings per voice")
    bs.add_argument("--voices", help="comma-separated speakers (default: all)")
    bs.add_argument("--seed", type=int, default=0, help="seed of the digit strings")
    bs.add_argument(
        "--data-root",
        type=Path,
        default=None,
        help="data root holding speech/synth_multispeaker (its speakers.csv is the voice list)",
    )


def _add_models(sub: Any) -> None:
    md = sub.add_parser(
        "models",
        help="trained models that ship with paperzoo: list them, show one's card",
        description="Trained models that ship inside the package, each with a card: the paper, "
        "architecture and parameter count, training data and its licence, the run (preset, "
        "commit, seeds) that trained it, its metrics in that run copied from the run's "
        "results.json, known limits, and the file's size and sha256, checked on every load. "
        "Load one in Python with paperzoo.<method>.pretrained(NAME). "
        "$PAPERZOO_MODELS names another folder of models.",
    )
    msub = md.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    msub.add_parser("list", help="one line per shipped model (name, method, size, run)")
    info = msub.add_parser(
        "info",
        help="one model's card, with its file checked against the card's sha256",
        description="Print the card of model NAME and check its file's size and sha256 (exit "
        "2 with one line when it fails).",
    )
    info.add_argument("name", metavar="NAME", help="model name (see `paperzoo models list`)")
    info.add_argument("--json", action="store_true", help="print the card as JSON instead")


def _add_method_commands(sub: Any) -> None:
    """A method's own tools (e.g. `paperzoo retro predict`), found through the registry."""
    from paperzoo.core.registry import method_commands

    for mod in method_commands():
        mp = sub.add_parser(mod.COMMAND, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(mp)
        mp.set_defaults(_method_command=mod)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="paperzoo",
        description="Reusable implementations and seeded reproductions of ten ML papers.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"paperzoo {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in (
        _add_list,
        _add_reproduce,
        _add_finalize,
        _add_plan,
        _add_report,
        _add_data,
        _add_models,
    ):
        add(sub)
    _add_method_commands(sub)
    return p


# --- what each sub-command does ----------------------------------------------------------------


def _duration(minutes: float) -> str:
    """``~ 20 min`` / ``~ 17 h`` / ``~ 42 d``: expected wall time on 2 CPU cores."""
    if minutes < 120:
        return f"~{minutes:>4.1f} min" if minutes < 10 else f"~{minutes:>4.0f} min"
    if minutes < 48 * 60:
        return f"~{minutes / 60:>4.0f} h  "
    return f"~{minutes / 1440:>4.0f} d  "


def _cmd_list(args: argparse.Namespace) -> int:
    from paperzoo.core.registry import get_experiment, list_experiments, measured_minutes

    exps = list_experiments(args.method)
    if args.method and not exps:
        get_experiment(args.method, "")  # raises "unknown method ...; known methods: ..."
    width = max((len(f"{e.method}/{e.preset}") for e in exps), default=10)
    print(
        "time: 'measured' = the committed run under docs/results (its workers), 'estimate' = "
        "the preset's own figure; both on this project's 2-core CPU machine"
    )
    for e in exps:
        data = f" [data: {', '.join(e.needs_data)}]" if e.needs_data else ""
        m = measured_minutes(e.method, e.preset, config=e.make_config())
        when = (
            f"{_duration(m[0])} measured, {m[1]}w" if m else f"{_duration(e.cpu_minutes)} estimate"
        )
        print(f"{e.method + '/' + e.preset:<{width}}  {when:<25} {e.summary}{data}")
    return 0


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from paperzoo.app.reproduce import build_config, reproduce

    if args.show_config:
        from paperzoo.core.config import to_toml

        print(to_toml(build_config(args.method, args.preset, args.seeds, args.overrides)))
        return 0
    import os

    from paperzoo.core.engine import UnitsFailed

    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be at least 1")
    if args.threads is not None and args.threads < 1:
        raise UsageError("--threads must be at least 1")
    if args.address and args.executor != "ray":
        raise UsageError("--address needs --executor ray")
    workers = args.workers or os.cpu_count() or 1
    if args.verbose:  # read by the methods and the Ray executor, inherited by unit processes
        os.environ["PAPERZOO_VERBOSE"] = "1"
    try:
        path = reproduce(
            args.method,
            args.preset,
            seeds=args.seeds,
            overrides=args.overrides,
            out=args.out,
            device=args.device,
            data_root=args.data_root,
            resume=args.resume,
            workers=workers,
            threads=args.threads,
            executor=args.executor,
            address=args.address,
            own_data=args.own_data,
        )
    except UnitsFailed as e:
        print(f"paperzoo: {e}", file=sys.stderr)
        return 1
    _print_verdicts(path / "results.json")
    print(path)
    return 0


def _verdict_lines(claims: list[dict[str, Any]]) -> list[str]:
    """``verdict  id  (reason)``, one line per judged claim (reproduce and finalize print them)."""
    return [
        f"{c['verdict']:<13} {c['id']}" + (f"  ({c['reason']})" if c.get("reason") else "")
        for c in claims
    ]


def _print_verdicts(results: Path) -> None:
    """One line per claim on stderr (stdout stays the run directory, for scripts)."""
    import json

    try:
        claims = json.loads(results.read_text())["claims"]
    except (OSError, ValueError, KeyError):
        return
    for line in _verdict_lines(claims):
        print(f"  {line}", file=sys.stderr)


def _cmd_finalize(args: argparse.Namespace) -> int:
    from paperzoo.app.reproduce import refinalize

    if not (args.run_dir / "meta.json").is_file():
        raise UsageError(f"{args.run_dir} is not a run directory (no meta.json)")
    try:
        res = refinalize(args.run_dir)
    except FileNotFoundError as e:
        raise UsageError(str(e)) from e
    for line in _verdict_lines(res["claims"]):
        print(line)
    print(args.run_dir / "report.md")
    return 0


def _cmd_plan(args: argparse.Namespace) -> int:
    import json

    from paperzoo.app.plan import plan, reference_levels, render_plan, render_reference

    if args.reference:
        r = reference_levels(args.method, args.preset, args.pilot)
        print(json.dumps(r, indent=2) if args.json else render_reference(r), end="")
        return 0
    p = plan(args.method, args.preset, args.pilot)
    print(json.dumps(p, indent=2) if args.json else render_plan(p), end="\n" if args.json else "")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from paperzoo.app.report import collect_reports, write_index

    if args.rejudge_docs:
        from paperzoo.app.reproduce import rejudge_stored

        docs = Path("docs/results")
        for res in sorted(docs.glob("*/*/results.json")):
            rejudge_stored(res.parent)
        print(write_index(docs))
        return 0
    if not args.runs.is_dir():
        raise UsageError(f"no run root {args.runs}; run `paperzoo reproduce` first or give --runs")
    out = collect_reports(
        args.runs,
        Path("docs/results") if args.update_docs else args.out,
        tuple(args.presets) if args.presets else None,
        tuple(args.methods) if args.methods else None,
        refuse_dirty=bool(args.update_docs and not args.allow_dirty),
    )
    print(out)
    return 0


def _cmd_data(args: argparse.Namespace) -> int:
    from paperzoo.core.data import resolve_data_root
    from paperzoo.datasets.catalog import dataset_status, prepare_dataset

    root = resolve_data_root(args.data_root)
    if args.data_command == "build-speech":
        return _build_speech(args, root)
    if args.data_command == "status":
        print(f"data root: {root}")
        for row in dataset_status(root, verify=not args.no_verify):
            print(f"  {row['name']:<14} {row['state']:<8} {row['detail']}")
        return 0
    path = prepare_dataset(args.name, root, args.source)
    print(f"prepared {args.name}: {path}")
    return 0


def _build_speech(args: argparse.Namespace, root: Path) -> int:
    from paperzoo.core.errors import UsageError
    from paperzoo.datasets.speech_build import build_speech

    corpus = root / "speech" / "synth_multispeaker"
    speakers = corpus / "speakers.csv"
    if not speakers.is_file():
        raise UsageError(
            f"no voice list {speakers}: get the speech data (see `paperzoo data status`)"
        )
    if args.digits < 0:
        raise UsageError("--digits must be >= 0")
    try:
        rep = build_speech(
            args.out,
            speakers,
            voices=args.voices.split(",") if args.voices else None,
            regenerate_from=corpus if args.regenerate else None,
            digits=args.digits,
            seed=args.seed,
        )
    except ValueError as e:
        raise UsageError(str(e)) from None
    for spk, why in rep.skipped.items():
        print(f"skipped {spk}: {why}")
    print(f"wrote {rep.written} utterances of {len(rep.built)} voices to {args.out}")
    return 0


def _cmd_models(args: argparse.Namespace) -> int:
    import json

    from paperzoo.core import shipped

    if args.models_command == "list":
        cards = shipped.list_cards()
        if not cards:
            print(
                f"no trained models ship in {shipped.models_root()} yet; they are added by "
                "scripts/ship_model.py from finished runs"
            )
        for line in _model_rows(cards):
            print(line)
        return 0
    card, _ = shipped.read_model(args.name)  # checks the file's size and sha256
    if args.json:
        print(json.dumps(card, indent=2))
    else:
        print("\n".join(_card_lines(card)))
    return 0


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB"):
        if n < 1000 or unit == "MB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def _model_rows(cards: list[dict[str, Any]]) -> list[str]:
    """The table of ``models list``: a header and one row per card."""
    if not cards:
        return []
    rows = [("NAME", "METHOD", "PARAMS", "SIZE", "TRAINED BY", "SUMMARY")]
    for c in cards:
        t = c["trained_by"]
        run = f"{c['method']}/{t['preset']} @ {str(t['commit'])[:8]}"
        size = _size(c["file"]["bytes"])
        rows.append((c["name"], c["method"], f"{c['parameters']:,}", size, run, c["summary"]))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return ["  ".join(f"{v:<{w}}" for v, w in zip(r, widths)) + "  " + r[5] for r in rows]


def _card_lines(card: dict[str, Any]) -> list[str]:
    """The card of ``models info``, for reading (``--json`` prints all of it)."""
    p, a, d, t = card["paper"], card["architecture"], card["training_data"], card["trained_by"]
    m, f = card["metrics"], card["file"]
    hp = ", ".join(f"{k}={v}" for k, v in a["hparams"].items())
    seeds = ", ".join(str(s) for s in m["seeds"])
    lines = [
        f"{card['name']}  ({card['method']})  {card['summary']}",
        f"paper:        {p['title']}, {p['venue']}, arXiv:{p['arxiv']}",
        f"architecture: {a['class']}, {card['parameters']:,} parameters ({hp})",
        f"trained on:   {d['description']} (licence: {d['licence']})",
        f"trained by:   run {t['run']}, unit {t['unit']} (seed {t['seed']}), preset "
        f"{t['preset']}, commit {t['commit']}",
        f"metrics:      from that run, seeds {seeds}; this model is seed {m['model_seed']}",
    ]
    for v in m["values"]:
        per_seed = " ".join(_num(x) for x in v["values"])
        mine = v.get("this_model")
        tail = f"; this model {_num(mine)}" if mine is not None else ""
        lines.append(
            f"  {v['arm']} {v['metric']}: {per_seed} "
            f"(mean {_num(v.get('mean'))} +- {_num(v.get('ci95'))} CI95{tail})"
        )
    lines.append("limits:")
    lines += [f"  - {x}" for x in card["limits"]]
    lines += [
        f"file:         {f['name']}, {_size(f['bytes'])}, sha256 {f['sha256']} (verified)",
        f"load:         {card['load']}",
    ]
    return lines


def _num(x: Any) -> str:
    """A metric value in 4 significant digits; JSON null (a non-finite value) as nan."""
    return "nan" if x is None else f"{x:.4g}"


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: finished units stay, --resume continues."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``paperzoo`` console script."""
    import signal

    args = _parser().parse_args(argv)
    if args.command == "reproduce":
        signal.signal(signal.SIGTERM, _on_sigterm)
    handlers = {
        "list": _cmd_list,
        "reproduce": _cmd_reproduce,
        "finalize": _cmd_finalize,
        "plan": _cmd_plan,
        "report": _cmd_report,
        "data": _cmd_data,
        "models": _cmd_models,
    }
    try:
        if getattr(args, "_method_command", None) is not None:
            return int(args._method_command.run(args))
        return handlers[args.command](args)
    except UsageError as e:
        print(f"paperzoo: error: {e}", file=sys.stderr)
        return 2
    except Terminated:
        print("paperzoo: terminated (SIGTERM); continue with --resume", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("paperzoo: interrupted; continue with --resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
