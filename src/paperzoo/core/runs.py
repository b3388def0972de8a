"""Run directories ``runs/<method>/<preset>/<timestamp>/`` and what a run writes into them.

Layout::

    config.toml / config.json   the resolved config (json is exact, toml is for reading)
    meta.json                   git SHA, package versions, hardware, command line, device
    metrics.jsonl               one JSON object per logged event (append-only)
    units/<key>.json            finished units' records (core.engine); --resume skips them
    checkpoints/<key>__<n>.pt   mid-unit checkpoints (weights_only-loadable)
    artifacts/<key>/            files a unit leaves for later units (a teacher's weights)
    engine.json                 every session (the first run and each --resume): start and end
                                time, wall time (runtime_s sums them), workers, executor, and
                                the git commit with whether the tree was dirty
    failures.json               tracebacks of units that failed twice (until a resume fixes them)
    run.lock                    the pid of the process running it (a second --resume exits 2)
    figures/*.png               figures; report.md embeds them
    results.json, report.md     written last, atomically

**Provenance.** :func:`git_state` reads the checkout paperzoo runs from: its commit and whether
tracked files have uncommitted changes (``git status --porcelain --untracked-files=no``; one
``git`` call, ``None`` for both when there is no git or no repository). Every session of a run
records it in ``engine.json`` (:func:`new_session`), and every unit record
(``units/<key>.json``) carries the ``commit`` and ``dirty`` flag of the session that computed
it, so ``paperzoo report --update-docs`` can refuse results computed from uncommitted code.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

from paperzoo.core.config import config_to_dict, to_toml
from paperzoo.core.errors import UsageError
from paperzoo.core.io import append_jsonl, atomic_write_json, atomic_write_text, to_jsonable

__all__ = [
    "RunDir",
    "git_sha",
    "git_state",
    "hardware",
    "new_session",
    "package_versions",
    "pid_alive",
]

_PACKAGES = (
    "paperzoo",
    "torch",
    "numpy",
    "scipy",
    "scikit-learn",
    "matplotlib",
    "flwr",
    "rdkit",
    "torch_geometric",
    "captum",
    "gymnasium",
    "stable-baselines3",
    "librosa",
    "jiwer",
)


def package_versions() -> dict[str, str]:
    """Installed versions of the packages paperzoo uses (absent ones are left out)."""
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def git_state(cwd: str | os.PathLike | None = None) -> dict[str, Any]:
    """``{"commit": sha, "dirty": bool}`` of the git checkout at ``cwd`` (default: the one
    paperzoo runs from).

    ``dirty`` is True when tracked files have uncommitted changes (untracked files do not
    count). One ``git status`` call; both are None when git is missing, the folder is no
    checkout, it has no commit yet, or git does not answer within 5 s.
    """
    where = Path(cwd) if cwd is not None else Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "status", "--porcelain=v2", "--branch", "--untracked-files=no"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
            # a status that only reads: never rewrite the index (another git may hold its lock)
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
        ).stdout
    except (OSError, subprocess.SubprocessError, UnicodeDecodeError):
        return {"commit": None, "dirty": None}
    commit = None
    dirty = False
    for line in out.splitlines():
        if line.startswith("# branch.oid "):
            oid = line.split()[-1]
            commit = oid if oid != "(initial)" else None
        elif line and not line.startswith("#"):
            dirty = True
    if commit is None:
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": dirty}


def git_sha() -> str:
    """SHA of the checkout paperzoo runs from, with ``+dirty`` when it has local changes
    (``"unknown"`` without git); ``meta.json``'s ``git_sha``, the run's first session."""
    state = git_state()
    if state["commit"] is None:
        return "unknown"
    return state["commit"] + ("+dirty" if state["dirty"] else "")


def new_session(**fields: Any) -> dict[str, Any]:
    """A new entry of ``engine.json``'s ``sessions``: ``started`` and ``ended`` (Unix time;
    ``ended`` is brought up to date while the session runs, so a killed session keeps the last
    time it was seen), ``wall_s``, the given ``fields`` (workers, executor) and the checkout's
    ``commit`` and ``dirty`` flag (:func:`git_state`)."""
    now = time.time()
    return {"started": now, "ended": now, "wall_s": 0.0, **fields, **git_state()}


def hardware(device: torch.device | None = None) -> dict[str, Any]:
    """Machine facts recorded with every run."""
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.is_available(),
    }
    if device is not None and device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (a run lock's owner still running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _check_same_data(path: Path, data: dict[str, Any]) -> None:
    """Refuse to resume a run whose data files changed since it started."""
    try:
        before = json.loads((path / "meta.json").read_text()).get("data") or {}
    except (OSError, ValueError):
        return
    for file, now in data.items():
        old = before.get(file)
        if old is not None and old.get("sha256") != now.get("sha256"):
            raise UsageError(
                f"--resume: {file} changed since the run in {path} started (sha256 "
                f"{old.get('sha256', '?')[:16]}... -> {now['sha256'][:16]}...); restore it or "
                "start a new run"
            )


class RunDir:
    """A run directory plus the run's context (device, data root), handed to ``train.run``.

    Attributes:
        path: the directory.
        method, preset: what is running.
        device: the ``torch.device`` chosen by ``--device``.
        data_root: the resolved data root (may not exist; loaders say what is missing).
        resumed: True when this run continues an interrupted one.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        method: str = "",
        preset: str = "",
        device: torch.device | str = "cpu",
        data_root: Path | None = None,
        resumed: bool = False,
    ) -> None:
        self.path = Path(path)
        self.method, self.preset = method, preset
        self.device = torch.device(device)
        self.data_root = data_root
        self.resumed = resumed
        self.path.mkdir(parents=True, exist_ok=True)

    # -- creation ---------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        root: str | os.PathLike,
        method: str,
        preset: str,
        config: Any,
        *,
        device: torch.device,
        data_root: Path | None,
        resume: bool = False,
        argv: list[str] | None = None,
        data: dict[str, Any] | None = None,
    ) -> RunDir:
        """Make a new timestamped run dir, or with ``resume`` reopen the newest unfinished one.

        Resuming checks that the resolved config equals the interrupted run's, and that every
        data file it read still has the checksum recorded in ``meta.json`` (``data``: path ->
        {dataset, sha256, status}), so a resumed run never mixes two configurations or two
        versions of a data set.
        """
        base = Path(root) / method / preset
        cfg_dict = config_to_dict(config)
        if resume:
            # A folder with neither a finished unit nor a checkpoint holds no work to keep.
            unfinished = [
                p
                for p in sorted(base.glob("*"))
                if (p / "config.json").is_file()
                and not (p / "results.json").is_file()
                and (any((p / "units").glob("*.json")) or any((p / "checkpoints").glob("*.pt")))
            ]
            if unfinished:
                path = unfinished[-1]
                saved = json.loads((path / "config.json").read_text())
                if saved != to_jsonable(cfg_dict):
                    raise UsageError(
                        f"--resume: the config differs from the interrupted run in {path}; "
                        "resume with the same preset and --set values, or start a new run"
                    )
                _check_same_data(path, data or {})
                run = cls(
                    path,
                    method=method,
                    preset=preset,
                    device=device,
                    data_root=data_root,
                    resumed=True,
                )
                run.log({"event": "resumed"})
                print(f"resuming {path}", file=sys.stderr)
                return run
            print(f"--resume: no unfinished run under {base}; starting a new one", file=sys.stderr)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        path = base / stamp
        n = 1
        while path.exists():
            path = base / f"{stamp}-{n}"
            n += 1
        run = cls(path, method=method, preset=preset, device=device, data_root=data_root)
        atomic_write_json(path / "config.json", cfg_dict)
        atomic_write_text(path / "config.toml", to_toml(config))
        atomic_write_json(
            path / "meta.json",
            {
                "method": method,
                "preset": preset,
                "git_sha": git_sha(),
                "versions": package_versions(),
                "hardware": hardware(device),
                "device": str(device),
                "data_root": str(data_root) if data_root else None,
                "data": data or {},
                "argv": argv if argv is not None else sys.argv,
                "started": datetime.now(timezone.utc).isoformat(),
            },
        )
        return run

    # -- logging ----------------------------------------------------------------------------
    def log(self, record: dict[str, Any]) -> None:
        """Append one JSON line (with a wall-clock ``time``) to ``metrics.jsonl``."""
        append_jsonl(self.path / "metrics.jsonl", record)

    def read_log(self) -> list[dict[str, Any]]:
        """All records in ``metrics.jsonl`` (a torn last line from a crash is skipped)."""
        p = self.path / "metrics.jsonl"
        if not p.exists():
            return []
        out = []
        for line in p.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return out

    # -- outputs ----------------------------------------------------------------------------
    def lock(self) -> None:
        """Claim the run directory for this process (``run.lock`` holds the pid).

        Raises:
            UsageError: another live process holds it (two ``--resume`` of one run).
        """
        p = self.path / "run.lock"
        try:
            fd = os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                pid = int(p.read_text().strip() or 0)
            except (OSError, ValueError):
                pid = 0
            if pid and pid_alive(pid):
                raise UsageError(
                    f"{self.path} is in use by process {pid}; wait for it or stop it first"
                ) from None
            p.unlink(missing_ok=True)  # a stale lock from a killed run
            fd = os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        with os.fdopen(fd, "w") as f:
            f.write(str(os.getpid()))

    def unlock(self) -> None:
        (self.path / "run.lock").unlink(missing_ok=True)

    def figure(self, name: str) -> Path:
        """Path for a figure ``figures/<name>`` (``.png`` added when missing)."""
        name = name if name.endswith(".png") else f"{name}.png"
        p = self.path / "figures" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p
