"""USPTO-50k reactions (the GLN / retrosim split) as plain records.

Files under the data root: ``uspto50k/{train,valid,test}.csv.gz`` (checksums in the catalog;
``paperzoo data prepare uspto50k --source DIR`` copies them). Columns: ``id, class,
reactants>reagents>production, atom_mapped, retro_template``. Valid/test are atom-mapped,
train is not; the reaction SMILES are returned as they are, and canonicalisation (which needs
RDKit) is the caller's (see ``paperzoo.retrosynthesis.chem``).
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from pathlib import Path

from paperzoo.core.data import DataMissingError, require_file, resolve_data_root, verify_data_file

__all__ = ["USPTO_SPLITS", "UsptoReaction", "load_uspto50k"]

USPTO_SPLITS = ("train", "valid", "test")


@dataclass(frozen=True)
class UsptoReaction:
    """One row: patent id, reaction class (1-10), reaction SMILES, rdchiral retro template."""

    id: str
    reaction_class: int
    reaction: str
    retro_template: str

    @property
    def reactants(self) -> str:
        return self.reaction.split(">")[0]

    @property
    def product(self) -> str:
        return self.reaction.split(">")[2]


def load_uspto50k(split: str, root: str | Path | None = None) -> list[UsptoReaction]:
    """The reactions of one split, in file order.

    Args:
        split: ``train`` (40,008), ``valid`` (5,001) or ``test`` (5,007).
        root: data root (``--data-root`` > ``$PAPERZOO_DATA`` > ``~/.cache/paperzoo``).

    Raises:
        DataMissingError: the file is missing or malformed (the message says how to get it).
        DataMismatchError: its checksum differs from the catalog's.
    """
    if split not in USPTO_SPLITS:
        raise ValueError(f"USPTO-50k split must be one of {USPTO_SPLITS}, got {split!r}")
    from paperzoo.datasets.catalog import CATALOG

    rel = f"uspto50k/{split}.csv.gz"
    path = require_file(resolve_data_root(root) / rel, "uspto50k")
    verify_data_file(path, "uspto50k", CATALOG["uspto50k"].files.get(rel))
    with gzip.open(path, "rb") as f:
        text = io.TextIOWrapper(f, encoding="utf-8")
        reader = csv.DictReader(text)
        need = {"id", "class", "reactants>reagents>production", "retro_template"}
        if reader.fieldnames is None or not need <= set(reader.fieldnames):
            raise DataMissingError(
                f"dataset 'uspto50k': {path} lacks columns {sorted(need)}; "
                "run `paperzoo data prepare uspto50k`"
            )
        return [
            UsptoReaction(
                str(r["id"]),
                int(r["class"]),
                r["reactants>reagents>production"],
                r["retro_template"],
            )
            for r in reader
        ]
