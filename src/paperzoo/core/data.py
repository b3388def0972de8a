"""The data root: ``--data-root`` > ``$PAPERZOO_DATA`` > ``~/.cache/paperzoo``, and file checks.

Every data file a loader reads goes through :func:`verify_data_file`: its sha256 (cached by
path, size and modification time, so the second run costs nothing) is compared with the
catalog's, a mismatch is refused unless the user asked for their own data (``--own-data``, which
sets ``$PAPERZOO_OWN_DATA``), and the file is noted in a per-process ledger that
``reproduce`` writes to the run's ``meta.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from paperzoo.core.errors import UsageError

__all__ = [
    "OWN_DATA_ENV",
    "DataMismatchError",
    "DataMissingError",
    "clear_data_reads",
    "data_reads",
    "file_checksum",
    "require_file",
    "resolve_data_root",
    "sha256_file",
    "verify_data_file",
]

OWN_DATA_ENV = "PAPERZOO_OWN_DATA"
"""Set to ``1`` (by ``--own-data``) to accept data files whose checksum differs from the
catalog's; unit processes inherit it."""


class DataMissingError(UsageError, FileNotFoundError):
    """A dataset file is missing or corrupt; the message names the path and the fix."""


class DataMismatchError(UsageError):
    """A well-formed data file whose content is not the catalog's (checksum mismatch)."""


def resolve_data_root(cli_value: str | os.PathLike | None = None) -> Path:
    """The data root by precedence: explicit value, ``$PAPERZOO_DATA``, ``~/.cache/paperzoo``."""
    if cli_value:
        return Path(cli_value).expanduser()
    env = os.environ.get("PAPERZOO_DATA")
    if env:
        return Path(env).expanduser()
    return Path("~/.cache/paperzoo").expanduser()


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def require_file(path: Path, dataset: str, sha256: str | None = None) -> Path:
    """``path`` if it exists (and matches ``sha256``), else :class:`DataMissingError`."""
    fix = (
        f"run `paperzoo data prepare {dataset}` "
        "or point --data-root/PAPERZOO_DATA at a prepared root"
    )
    if not path.is_file():
        raise DataMissingError(f"dataset '{dataset}': missing file {path}; {fix}")
    if sha256 is not None and sha256_file(path) != sha256:
        raise DataMissingError(
            f"dataset '{dataset}': checksum mismatch for {path} (corrupt?); {fix}"
        )
    return path


# --- cached checksums and the ledger of files read -------------------------------------------
_MEMORY: dict[str, tuple[int, int, str]] = {}
_READS: dict[str, dict[str, Any]] = {}


def _cache_file() -> Path:
    base = os.environ.get("PAPERZOO_CACHE") or "~/.cache/paperzoo"
    return Path(base).expanduser() / ".checksums.json"


def file_checksum(path: str | os.PathLike) -> str:
    """sha256 of a file, cached by (resolved path, size, mtime): hashing 50 MB costs ~0.2 s
    once; later runs and every unit process read the cache (``$PAPERZOO_CACHE`` or
    ``~/.cache/paperzoo``/.checksums.json; not writable = no cache)."""
    p = Path(path).resolve()
    st = p.stat()
    key, stamp = str(p), (st.st_size, st.st_mtime_ns)
    hit = _MEMORY.get(key)
    if hit is not None and hit[:2] == stamp:
        return hit[2]
    cache_path = _cache_file()
    try:
        disk = json.loads(cache_path.read_text())
    except (OSError, ValueError):
        disk = {}
    entry = disk.get(key)
    if isinstance(entry, list) and len(entry) == 3 and tuple(entry[:2]) == stamp:
        digest = str(entry[2])
    else:
        digest = sha256_file(p)
        disk[key] = [*stamp, digest]
        try:
            from paperzoo.core.io import atomic_write_json

            atomic_write_json(cache_path, disk)
        except OSError:  # a read-only home: no cache, still correct
            pass
    _MEMORY[key] = (*stamp, digest)
    return digest


def verify_data_file(
    path: str | os.PathLike, dataset: str, expected: str | None, *, source: str = "catalog"
) -> str:
    """Check a data file against its catalog checksum and note it in the ledger.

    Args:
        path: the file read.
        dataset: its data set's name (for messages and the ledger).
        expected: the catalog's sha256, or None when the catalog has none (then it is recorded).
        source: ``"catalog"`` or ``"user"`` (a path the user gave; always recorded, never
            compared).

    Returns:
        The file's sha256.

    Raises:
        DataMismatchError: the content differs from the catalog's and ``--own-data`` is off.
    """
    digest = file_checksum(path)
    if source == "user" or expected is None:
        status = "recorded"
    elif digest == expected:
        status = "verified"
    elif os.environ.get(OWN_DATA_ENV) == "1":
        status = "own (differs from the catalog)"
    else:
        raise DataMismatchError(
            f"dataset '{dataset}': {path} has sha256 {digest[:16]}..., the catalog's is "
            f"{expected[:16]}... (corrupt, or another version); run `paperzoo data prepare "
            f"{dataset}`, or pass --own-data to train on your own version (its checksum is "
            "then recorded in meta.json)"
        )
    _READS[str(Path(path).resolve())] = {
        "dataset": dataset,
        "sha256": digest,
        "status": status,
        "catalog_sha256": expected,
    }
    return digest


def data_reads() -> dict[str, dict[str, Any]]:
    """The data files verified in this process since :func:`clear_data_reads`, by path."""
    return {k: dict(v) for k, v in _READS.items()}


def clear_data_reads() -> None:
    """Start a new ledger (``reproduce`` does before its preflight)."""
    _READS.clear()
