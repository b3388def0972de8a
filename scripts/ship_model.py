"""Ship one trained model from a finished, clean run directory into the package's model registry.

    python scripts/ship_model.py RUN_DIR --unit UNIT --file ARTIFACT --name NAME \\
        --summary TEXT --data TEXT --data-licence TEXT --limit TEXT [--limit TEXT ...] \\
        --metric ARM METRIC [--metric ARM METRIC ...] [--root DIR] [--replace]

copies unit UNIT's artifact ``RUN_DIR/artifacts/<UNIT>/<ARTIFACT>`` to ``<root>/<NAME>/model.pt``
(as is, or re-saved with its architecture where the run's file lacks it: neural processes) and
writes ``<root>/<NAME>/card.json`` (schema: :mod:`paperzoo.core.shipped`). Everything the card
says about training comes from the run: the commit, preset, command line and config from
``meta.json``, ``engine.json`` and ``config.json``; the metrics, per seed with their mean and
CI95, from ``results.json``, and the shipped model's own value from the unit's record; the
parameter count from the model loaded back; size and sha256 from the written file. What the run
cannot know is given on the command line: the one-line summary, the training data's description
and licence, and the known limits.

It refuses (exit 2, one line) a run that has not finished (no ``results.json``, failed units, a
live ``run.lock``), a run or unit computed from a git tree with uncommitted changes (``+dirty``)
or without a known commit, an unknown unit, artifact, arm or metric, a method it has no packer
for, and an existing model name unless ``--replace``. After writing, it loads the model back
through ``paperzoo.<method>.pretrained(NAME)`` (checksum, ``weights_only=True``) and checks that
the weights equal the run's.

The registry root is ``--root``, else ``$PAPERZOO_MODELS``, else this checkout's
``src/paperzoo/models`` (installed as package data).
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import importlib
import json
import math
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

import torch

from paperzoo.core.engine.model import artifact_path, record_path
from paperzoo.core.errors import UsageError
from paperzoo.core.runs import pid_alive
from paperzoo.core.shipped import (
    CARD_FILE,
    CARD_SCHEMA,
    ENV,
    NAME_PATTERN,
    check_card,
    sha256_bytes,
)

REPO = Path(__file__).resolve().parents[1]
MODEL_FILE = "model.pt"
"""Name of the weights file in a shipped model's folder."""

PAPERS: dict[str, dict[str, str]] = {
    "complexity": {
        "title": "Neural Complexity Measures",
        "authors": "Yoonho Lee, Juho Lee, Sung Ju Hwang, Eunho Yang, Seungjin Choi",
        "venue": "NeurIPS 2020",
        "arxiv": "2008.02953",
        "url": "https://arxiv.org/abs/2008.02953",
    },
    "neural_processes": {
        "title": "Bootstrapping Neural Processes",
        "authors": "Juho Lee, Yoonho Lee, Jungtaek Kim, Eunho Yang, Sung Ju Hwang, Yee Whye Teh",
        "venue": "NeurIPS 2020",
        "arxiv": "2008.02956",
        "url": "https://arxiv.org/abs/2008.02956",
    },
}
"""The paper of each method that has a packer (add both to ship another method's models)."""


class Packed(NamedTuple):
    """What a packer returns: the model as loaded from the run, and its architecture."""

    model: torch.nn.Module
    architecture: dict[str, Any]  # class, format, hparams


Packer = Callable[[Path, dict[str, Any], Path, Path], Packed]


def _pack_complexity(run: Path, record: dict[str, Any], artifact: Path, out: Path) -> Packed:
    """A NeuralComplexity file (``NeuralComplexity.save``) already holds its architecture:
    copied byte for byte after loading it once (``weights_only=True``)."""
    from paperzoo.complexity import NeuralComplexity
    from paperzoo.complexity.shipped import FORMAT

    nc = NeuralComplexity.load(artifact)
    shutil.copyfile(artifact, out)
    return Packed(nc, {"class": "NeuralComplexity", "format": FORMAT, "hparams": nc.hparams})


def _pack_neural_processes(run: Path, record: dict[str, Any], artifact: Path, out: Path) -> Packed:
    """A run keeps only a neural process's weights and dimensions (``model.pt``); its
    architecture is the run's ``[model]`` config: rebuilt as the run's evaluation rebuilds it,
    then re-saved with :func:`paperzoo.neural_processes.saving.save_model`."""
    from paperzoo.core.checkpoint import load_checkpoint
    from paperzoo.core.config import load_toml
    from paperzoo.neural_processes.repro.config import Config
    from paperzoo.neural_processes.repro.evaluation import build_model
    from paperzoo.neural_processes.saving import FORMAT, save_model

    cfg = load_toml(Config, run / "config.toml")
    ck = load_checkpoint(artifact)
    if not isinstance(ck, dict) or "model" not in ck:
        raise UsageError(f"{artifact} is not a neural process kept by a run (no 'model' weights)")
    x_dim, y_dim = int(ck["x_dim"]), int(ck["y_dim"])
    model = build_model(cfg, record["arm"], x_dim, y_dim)
    model.load_state_dict(ck["model"])
    hparams = {
        **dataclasses.asdict(cfg.model),
        "num_samples": cfg.eval.num_samples,
        "x_dim": x_dim,
        "y_dim": y_dim,
    }
    save_model(model, out, hparams)
    saved = torch.load(out, map_location="cpu", weights_only=True)
    arch = {"class": saved["model"], "format": FORMAT, "hparams": saved["hparams"]}
    return Packed(model.eval(), arch)


PACKERS: dict[str, Packer] = {
    "complexity": _pack_complexity,
    "neural_processes": _pack_neural_processes,
}


# --- the run: finished, clean, and what it measured -------------------------------------------


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise UsageError(f"cannot read {path}: {e}") from None


def check_run(run: Path, unit: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """``(meta, results, unit record)`` of a finished run whose every session and the unit
    were computed from a clean, known commit; UsageError (one line) otherwise."""
    if not (run / "meta.json").is_file():
        raise UsageError(f"{run} is not a run directory (no meta.json)")
    lock = run / "run.lock"
    if lock.is_file():
        try:
            pid = int(lock.read_text().strip() or 0)
        except (OSError, ValueError):
            pid = 0
        if pid and pid_alive(pid):
            raise UsageError(f"{run} is still running (process {pid}); ship it when it finished")
    if not (run / "results.json").is_file():
        raise UsageError(f"{run} has not finished (no results.json); let it finish or --resume it")
    if (run / "failures.json").is_file():
        raise UsageError(f"{run} has failed units (failures.json); --resume it until none fail")
    meta = _json(run / "meta.json")
    sha = str(meta.get("git_sha", "unknown"))
    if sha.endswith("+dirty"):
        raise UsageError(f"{run} was started from a git tree with uncommitted changes ({sha})")
    if sha == "unknown":
        raise UsageError(f"{run} records no git commit; ship only runs of a committed checkout")
    sessions = (_json(run / "engine.json") if (run / "engine.json").is_file() else {}).get(
        "sessions"
    ) or []
    if not sessions:
        raise UsageError(f"{run} has no engine.json sessions: not a run of the engine")
    for s in sessions:
        if s.get("dirty") is not False or not s.get("commit"):
            raise UsageError(
                f"{run}: a session ran from {s.get('commit')} with uncommitted changes "
                f"(dirty={s.get('dirty')}); ship only runs of a committed checkout"
            )
    rec_path = record_path(run, unit)
    if not rec_path.is_file():
        keys = sorted(_json(p).get("key", p.stem) for p in (run / "units").glob("*.json"))
        close = difflib.get_close_matches(unit, keys, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise UsageError(f"no finished unit {unit!r} in {run}{hint}; units: {', '.join(keys)}")
    record = _json(rec_path)
    if record.get("dirty") is not False or not record.get("commit"):
        raise UsageError(f"unit {unit} was computed from a dirty or unknown tree ({record})")
    return meta, _json(run / "results.json"), record


def metric_rows(
    results: dict[str, Any], record: dict[str, Any], wanted: Sequence[Sequence[str]]
) -> list[dict[str, Any]]:
    """One card row per ``(arm, metric)``: its per-seed values, mean and CI95 copied from
    ``results.json``, and the value the shipped unit itself measured (None when another unit
    measured that arm)."""
    if not wanted:
        own = sorted(record.get("arm_metrics") or {}) or [record.get("arm")]
        raise UsageError(
            "give at least one --metric ARM METRIC (the card's measured numbers); this unit's "
            f"arms: {', '.join(map(str, own))}"
        )
    arms, summary = results["arms"], results.get("summary", {})
    own = dict(record.get("arm_metrics") or {})
    own.setdefault(record["arm"], record.get("metrics") or {})
    rows = []
    for arm, metric in wanted:
        if arm not in arms:
            close = difflib.get_close_matches(arm, list(arms), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise UsageError(f"results.json has no arm {arm!r}{hint}")
        if metric not in arms[arm]:
            raise UsageError(
                f"arm {arm!r} has no metric {metric!r}; it has {', '.join(sorted(arms[arm]))}"
            )
        values = arms[arm][metric]
        stats = summary.get(arm, {}).get(metric, {})
        mine = own.get(arm, {}).get(metric)
        seed = record["seed"]
        if mine is not None and seed in results["seeds"]:
            # results.json is built from the unit records: a disagreement means the two files
            # are not of one run (a results.json copied or re-judged from elsewhere)
            theirs = values[results["seeds"].index(seed)]
            if theirs is None or not math.isclose(theirs, mine, rel_tol=1e-9, abs_tol=1e-12):
                raise UsageError(
                    f"{arm} {metric} at seed {seed}: results.json says {theirs}, the unit's "
                    f"record {mine}; the run's files disagree"
                )
        rows.append(
            {
                "arm": arm,
                "metric": metric,
                "seeds": list(results["seeds"]),
                "values": values,
                "mean": stats.get("mean"),
                "ci95": stats.get("ci95"),
                "n": sum(v is not None for v in values),
                "this_model": mine,
            }
        )
    return rows


def _run_files(meta: dict[str, Any]) -> list[dict[str, Any]]:
    """The data files the run read, relative to its data root, with their sha256."""
    root = meta.get("data_root") or ""
    out = []
    for path, info in sorted((meta.get("data") or {}).items()):
        rel = os.path.relpath(path, root) if root and path.startswith(root) else path
        out.append({"file": rel, "dataset": info.get("dataset"), "sha256": info.get("sha256")})
    return out


def _config(run: Path) -> dict[str, Any]:
    if (run / "config.json").is_file():
        return _json(run / "config.json")
    try:  # config.json exists in every engine run; older runs have config.toml only
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    return tomllib.loads((run / "config.toml").read_text())


# --- shipping ---------------------------------------------------------------------------------


def ship(
    run: Path,
    unit: str,
    artifact: str,
    name: str,
    *,
    summary: str,
    data: str,
    data_licence: str,
    limits: Sequence[str],
    metrics: Sequence[Sequence[str]],
    root: Path,
    replace: bool = False,
) -> Path:
    """Write ``root/name/{model.pt,card.json}`` from unit ``unit`` of ``run``; returns the folder.

    Raises:
        UsageError: see the module docstring.
    """
    if not NAME_PATTERN.match(name):
        raise UsageError(
            f"bad model name {name!r}: lowercase letters, digits, '.', '_' and '-' (e.g. "
            "nc-sinusoid)"
        )
    if not summary.strip() or not data.strip() or not data_licence.strip():
        raise UsageError("--summary, --data and --data-licence must not be empty")
    if not [x for x in limits if x.strip()]:
        raise UsageError("give at least one --limit: what the model does not do well")
    final = root / name
    if final.exists() and not replace:
        raise UsageError(f"{final} exists; pick another --name or pass --replace")
    meta, results, record = check_run(run, unit)
    method = meta.get("method") or results.get("method")
    if method not in PACKERS:
        raise UsageError(f"no packer for method {method!r}: add one to {Path(__file__).name}")
    src = artifact_path(run, unit, artifact)
    if not src.is_file():
        have = sorted(p.name for p in src.parent.glob("*")) if src.parent.is_dir() else []
        raise UsageError(f"unit {unit} kept no {artifact!r}; it kept: {', '.join(have) or 'none'}")
    rows = metric_rows(results, record, metrics)

    # Built in a staging root beside the registry, loaded back from there, then moved in: a
    # failure leaves the registry as it was.
    staging = root / f".staging-{name}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    tmp = staging / name
    tmp.mkdir(parents=True)
    try:
        packed = PACKERS[method](run, record, src, tmp / MODEL_FILE)
        blob = (tmp / MODEL_FILE).read_bytes()
        card = _card(name, method, summary, data, data_licence, limits, run, unit, src)
        card.update(
            architecture=packed.architecture,
            parameters=sum(p.numel() for p in packed.model.parameters()),
            file={"name": MODEL_FILE, "bytes": len(blob), "sha256": sha256_bytes(blob)},
        )
        card["trained_by"].update(seed=record["seed"], commit=record["commit"])
        card["trained_by"]["unit_wall_s"] = record.get("wall_s")
        card["metrics"] = {
            "source": "results.json",
            "seeds": list(results["seeds"]),
            "model_seed": record["seed"],
            "values": rows,
        }
        check_card(card, f"the card of {name}")
        (tmp / CARD_FILE).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
        # Loaded back the way a user loads it (registry, checksum, weights_only=True): the
        # weights must be the run's.
        loaded = importlib.import_module(f"paperzoo.{method}").pretrained(name, root=staging)
        _same_weights(packed.model, loaded, name)
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def _card(
    name: str,
    method: str,
    summary: str,
    data: str,
    data_licence: str,
    limits: Sequence[str],
    run: Path,
    unit: str,
    src: Path,
) -> dict[str, Any]:
    """The card's fields read from the run and the command line; ``ship`` adds the model's."""
    meta = _json(run / "meta.json")
    sessions = _json(run / "engine.json")["sessions"]
    return {
        "schema": CARD_SCHEMA,
        "name": name,
        "method": method,
        "summary": summary.strip(),
        "paper": PAPERS[method],
        "architecture": {},
        "parameters": 0,
        "training_data": {
            "description": data.strip(),
            "licence": data_licence.strip(),
            "run_files": _run_files(meta),
        },
        "trained_by": {
            "run": f"{method}/{meta.get('preset')}/{run.name}",
            "method": method,
            "preset": meta.get("preset"),
            "unit": unit,
            "seed": None,
            "commit": None,
            "commits": sorted({s["commit"] for s in sessions}),
            "argv": meta.get("argv"),
            "started": meta.get("started"),
            "device": meta.get("device"),
            "versions": meta.get("versions"),
            "config": _config(run),
        },
        "metrics": {},
        "limits": [x.strip() for x in limits if x.strip()],
        "file": {},
        "load": f'paperzoo.{method}.pretrained("{name}")',
        "shipped": {
            "tool": "scripts/ship_model.py",
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
            "source": src.relative_to(run).as_posix(),
            "source_sha256": sha256_bytes(src.read_bytes()),
        },
    }


def _same_weights(want: torch.nn.Module, got: torch.nn.Module, name: str) -> None:
    a, b = want.state_dict(), got.state_dict()
    if a.keys() != b.keys() or any(not torch.equal(a[k].cpu(), b[k].cpu()) for k in a):
        raise UsageError(f"{name}: the shipped file does not load back to the run's weights")


# --- command line -----------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    """The command line of :func:`main`."""
    p = argparse.ArgumentParser(
        prog="scripts/ship_model.py",
        description="Copy one unit's trained model from a finished, clean run directory into\n"
        "paperzoo's model registry and write its card from the run (commit, preset, seeds,\n"
        "metrics from results.json), its sha256 and parameter count.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  python scripts/ship_model.py runs/complexity/quick/20261207-220331 "
        "\\\n    --unit overfit/seed0 --file nc.pt --name nc-sinusoid \\\n"
        "    --metric overfit/predict:nc gap/R --summary '...' --data '...' "
        "--data-licence '...' --limit '...'",
    )
    p.add_argument("run", type=Path, metavar="RUN_DIR", help="a finished run directory")
    p.add_argument("--unit", required=True, help="the unit key, e.g. overfit/seed0 or BNP/seed0")
    p.add_argument(
        "--file",
        required=True,
        metavar="ARTIFACT",
        help="the unit's file artifact (artifacts/<unit>/ARTIFACT), e.g. nc.pt or model.pt",
    )
    p.add_argument("--name", required=True, help="the model's name, e.g. nc-sinusoid")
    p.add_argument(
        "--metric",
        nargs=2,
        action="append",
        default=[],
        metavar=("ARM", "METRIC"),
        help="a results.json arm and metric to copy onto the card, per seed with mean and "
        "CI95, e.g. --metric overfit/predict:nc gap/R (repeatable; at least one)",
    )
    p.add_argument("--summary", required=True, help="one line for `paperzoo models list`")
    p.add_argument(
        "--data", required=True, help="what it was trained on, e.g. 'generated sinusoid tasks'"
    )
    p.add_argument(
        "--data-licence",
        required=True,
        help="the training data's licence, e.g. 'CC BY-SA 3.0 (MNIST)' or 'none: generated'",
    )
    p.add_argument(
        "--limit",
        action="append",
        default=[],
        help="a known limit of the model, one sentence (repeatable; at least one)",
    )
    p.add_argument(
        "--root",
        type=Path,
        default=None,
        help=f"registry root (default: ${ENV}, else src/paperzoo/models of this checkout)",
    )
    p.add_argument("--replace", action="store_true", help="replace a shipped model of that name")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Ship one model; print its folder. Exit 2 with one line when the run or an argument is
    refused."""
    args = parser().parse_args(argv)
    root = args.root or Path(os.environ.get(ENV) or REPO / "src" / "paperzoo" / "models")
    try:
        out = ship(
            args.run,
            args.unit,
            args.file,
            args.name,
            summary=args.summary,
            data=args.data,
            data_licence=args.data_licence,
            limits=args.limit,
            metrics=args.metric,
            root=root,
            replace=args.replace,
        )
    except UsageError as e:
        print(f"ship_model: error: {e}", file=sys.stderr)
        return 2
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
