"""Trained models that ship inside the package: their cards, and their files checked on load.

Each shipped model is a folder ``<root>/<name>/`` holding ``card.json`` (what the model is, how
it was trained and how well it did, :data:`CARD_KEYS`) and one weights file named by the card
(``file.name``). The root is ``src/paperzoo/models/`` (installed as package data), or the folder
in ``$PAPERZOO_MODELS`` (tests, or your own collection), or the ``root`` argument of every
function here. ``scripts/ship_model.py`` writes the folders from finished, clean run
directories, so the metrics on a card are copied from a run's ``results.json``, never typed.

This module knows no method and imports no torch: it finds cards and hands a method's loader
(``paperzoo.<method>.pretrained``) the file's bytes after checking their length and sha256
against the card; the loader reads them with ``torch.load(..., weights_only=True)``. Nothing
is read until a function is called, so importing paperzoo stays free of I/O.

Every problem (an unknown name, a card of another method, a file altered or cut short) raises
:class:`ModelError`, a :class:`~paperzoo.core.errors.UsageError`: the CLI prints its one line
and exits with status 2.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from paperzoo.core.errors import UsageError

__all__ = [
    "CARD_FILE",
    "CARD_KEYS",
    "CARD_SCHEMA",
    "ENV",
    "NAME_PATTERN",
    "ModelError",
    "check_card",
    "get_card",
    "list_cards",
    "model_path",
    "models_root",
    "read_model",
    "sha256_bytes",
]

ENV = "PAPERZOO_MODELS"
"""Environment variable naming another registry root (tests, a private collection)."""

CARD_FILE = "card.json"
CARD_SCHEMA = "paperzoo.model-card/1"
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
"""Model names: lowercase letters, digits, ``.``, ``_`` and ``-``; they are folder names."""

# Top-level card keys and their JSON types; nested keys are checked by `check_card`.
CARD_KEYS: dict[str, type | tuple[type, ...]] = {
    "schema": str,  # CARD_SCHEMA
    "name": str,  # the folder name
    "method": str,  # the method package that loads it: paperzoo.<method>.pretrained(name)
    "summary": str,  # one line for `paperzoo models list`
    "paper": dict,  # title, venue, arxiv (id), url
    "architecture": dict,  # class, format (the file's "format" tag), hparams
    "parameters": int,  # parameters of the loaded model (buffers not counted)
    "training_data": dict,  # description, licence, run_files [{file, dataset, sha256}]
    "trained_by": dict,  # run, method, preset, unit, seed, commit, commits, argv, started, ...
    "metrics": dict,  # seeds, model_seed, values [{arm, metric, seeds, values, mean, ci95, ...}]
    "limits": list,  # known limits, one sentence each
    "file": dict,  # name, bytes, sha256
    "load": str,  # the Python call that loads it
    "shipped": dict,  # tool, date, source artifact and its sha256
}
_NESTED: dict[str, tuple[str, ...]] = {
    "paper": ("title", "venue", "arxiv"),
    "architecture": ("class", "format", "hparams"),
    "training_data": ("description", "licence"),
    "trained_by": ("run", "preset", "unit", "seed", "commit"),
    "metrics": ("seeds", "model_seed", "values"),
    "file": ("name", "bytes", "sha256"),
}


class ModelError(UsageError):
    """A shipped model that cannot be used as asked: unknown name, a card of another method, a
    broken card, or a file whose length or sha256 differs from its card's."""


def models_root(root: str | os.PathLike | None = None) -> Path:
    """The registry root: ``root``, else ``$PAPERZOO_MODELS``, else the package's ``models/``."""
    if root is not None:
        return Path(root)
    env = os.environ.get(ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1] / "models"


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def check_card(card: Any, where: str = "card") -> dict[str, Any]:
    """``card`` if it has every key of :data:`CARD_KEYS` with the right type, else ModelError.

    ``where`` names the card in the message (its path).
    """
    if not isinstance(card, dict):
        raise ModelError(f"{where} is not a model card (a JSON object)")
    if card.get("schema") != CARD_SCHEMA:
        raise ModelError(
            f"{where} has schema {card.get('schema')!r}, not {CARD_SCHEMA!r}; upgrade paperzoo"
        )
    missing = [k for k in CARD_KEYS if k not in card]
    if missing:
        raise ModelError(f"{where} lacks {', '.join(missing)}")
    for key, kind in CARD_KEYS.items():
        # bool is an int to Python, never a parameter count
        if not isinstance(card[key], kind) or (kind is int and isinstance(card[key], bool)):
            raise ModelError(f"{where}: {key} must be a JSON {_json_type(kind)}")
    for key, inner in _NESTED.items():
        absent = [k for k in inner if k not in card[key]]
        if absent:
            raise ModelError(f"{where}: {key} lacks {', '.join(absent)}")
    if not NAME_PATTERN.match(card["name"]):
        raise ModelError(f"{where}: bad model name {card['name']!r}")
    file = card["file"]["name"]
    # The weights file lives beside its card: no folders, no way out of the model's folder.
    if not isinstance(file, str) or not file or "/" in file or "\\" in file or file[0] == ".":
        raise ModelError(f"{where}: file.name must be a plain file name, got {file!r}")
    if not isinstance(card["file"]["bytes"], int) or not re.fullmatch(
        r"[0-9a-f]{64}", str(card["file"]["sha256"])
    ):
        raise ModelError(f"{where}: file.bytes must be an integer and file.sha256 64 hex digits")
    if not card["limits"]:
        raise ModelError(f"{where}: limits is empty; a card states at least one known limit")
    return card


def _json_type(kind: type | tuple[type, ...]) -> str:
    names = {dict: "object", list: "array", str: "string", int: "integer"}
    return names.get(kind, "value") if isinstance(kind, type) else "value"


def _read_card(folder: Path) -> dict[str, Any]:
    path = folder / CARD_FILE
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ModelError(f"cannot read the model card {path}: {e.strerror or e}") from None
    except ValueError as e:
        raise ModelError(f"model card {path} is not valid JSON: {e}") from None
    check_card(card, str(path))
    if card["name"] != folder.name:
        raise ModelError(f"{path} names the model {card['name']!r}, its folder {folder.name!r}")
    return card


def _names(root: Path) -> list[str]:
    """Folders under ``root`` that hold a card (none when the root does not exist)."""
    if not root.is_dir():
        return []
    # dot folders are scripts/ship_model.py's staging, never a shipped model
    return sorted(
        p.name for p in root.iterdir() if not p.name.startswith(".") and (p / CARD_FILE).is_file()
    )


def list_cards(root: str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """Every shipped model's card, by name; ``[]`` when none ships (a broken card raises)."""
    base = models_root(root)
    return [_read_card(base / name) for name in _names(base)]


def get_card(name: str, root: str | os.PathLike | None = None) -> dict[str, Any]:
    """The card of model ``name``.

    Raises:
        ModelError: no such model (the message suggests close names, or says that none ships).
    """
    base = models_root(root)
    names = _names(base)
    if name not in names:
        raise ModelError(_unknown(name, names, base))
    return _read_card(base / name)


def _unknown(name: str, names: list[str], base: Path) -> str:
    if not names:
        return (
            f"unknown model {name!r}: no trained models ship in {base} yet (`paperzoo models list`)"
        )
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    return f"unknown model {name!r}{hint}; shipped models: {', '.join(names)}"


def model_path(card: dict[str, Any], root: str | os.PathLike | None = None) -> Path:
    """Where the weights file of ``card`` lies (not checked)."""
    return models_root(root) / card["name"] / card["file"]["name"]


def read_model(
    name: str, method: str | None = None, root: str | os.PathLike | None = None
) -> tuple[dict[str, Any], bytes]:
    """The card and the weights file's bytes of model ``name``, after checking them.

    Args:
        name: the model's name (``paperzoo models list``).
        method: the method package asking; a card of another method is refused (None: any).
        root: the registry root (default: :func:`models_root`).

    Raises:
        ModelError: unknown name; a model of another method; the file missing, shorter or longer
            than its card says (truncated or altered), or with another sha256.
    """
    card = get_card(name, root)
    if method is not None and card["method"] != method:
        raise ModelError(
            f"{name!r} is a {card['method']} model, not a {method} one; load it with {card['load']}"
        )
    path = model_path(card, root)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ModelError(
            f"model file {path} is missing or unreadable ({e.strerror or e}); reinstall paperzoo"
        ) from None
    want = card["file"]["bytes"]
    if len(data) != want:
        what = "truncated" if len(data) < want else "altered (longer than shipped)"
        raise ModelError(
            f"model file {path} is {what}: {len(data)} bytes, its card says {want}; "
            "reinstall paperzoo"
        )
    digest = sha256_bytes(data)
    if digest != card["file"]["sha256"]:
        raise ModelError(
            f"model file {path} fails its checksum (sha256 {digest[:16]}..., its card says "
            f"{card['file']['sha256'][:16]}...); reinstall paperzoo"
        )
    return card, data
