"""The data root: ``--data-root`` > ``$PAPERZOO_DATA`` > ``~/.cache/paperzoo``, and file checks."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from paperzoo.core.errors import UsageError

__all__ = ["DataMissingError", "require_file", "resolve_data_root", "sha256_file"]


class DataMissingError(UsageError, FileNotFoundError):
    """A dataset file is missing or corrupt; the message names the path and the fix."""


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
