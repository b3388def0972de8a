"""USPTO-50k loader: rows as records, missing / corrupt / malformed files named with the fix,
and the real files' row counts when the data root is set."""

import gzip
import os

import pytest

from paperzoo.core.data import DataMismatchError, DataMissingError
from paperzoo.datasets import load_uspto50k

HEADER = "id,class,reactants>reagents>production,atom_mapped,retro_template\n"


def _write(root, split, text):
    d = root / "uspto50k"
    d.mkdir(parents=True, exist_ok=True)
    with gzip.open(d / f"{split}.csv.gz", "wt", encoding="utf-8") as f:
        f.write(text)


def test_missing_split_names_the_file_and_the_fix(tmp_path):
    with pytest.raises(DataMissingError, match=r"uspto50k/test.csv.gz.*paperzoo data prepare"):
        load_uspto50k("test", tmp_path)
    with pytest.raises(ValueError, match="split"):
        load_uspto50k("validation", tmp_path)


def test_a_file_that_differs_from_the_catalog_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("PAPERZOO_CACHE", str(tmp_path / "cache"))
    _write(tmp_path, "test", HEADER + "US1,3,CCO.CC(=O)Cl>>CCOC(C)=O,0,t\n")
    with pytest.raises(DataMismatchError, match="sha256"):
        load_uspto50k("test", tmp_path)


def test_own_data_reads_records_and_checks_columns(tmp_path, monkeypatch):
    monkeypatch.setenv("PAPERZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PAPERZOO_OWN_DATA", "1")
    _write(tmp_path, "test", HEADER + "US1,3,CCO.CC(=O)Cl>>CCOC(C)=O,0,tmpl\n")
    (r,) = load_uspto50k("test", tmp_path)
    assert (r.id, r.reaction_class, r.retro_template) == ("US1", 3, "tmpl")
    assert r.reactants == "CCO.CC(=O)Cl" and r.product == "CCOC(C)=O"
    _write(tmp_path, "valid", "id,class\nUS1,3\n")
    with pytest.raises(DataMissingError, match="lacks columns"):
        load_uspto50k("valid", tmp_path)


@pytest.mark.data
def test_real_uspto50k_when_available():
    root = os.environ.get("PAPERZOO_DATA")
    if not root or not os.path.isdir(os.path.join(root, "uspto50k")):
        pytest.skip("PAPERZOO_DATA is unset or has no uspto50k/")
    sizes = {s: len(load_uspto50k(s)) for s in ("train", "valid", "test")}
    assert sizes == {"train": 40008, "valid": 5001, "test": 5007}
