"""IDX parsing, npz loading, data prepare from local files, and the real files when available."""

import gzip
import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from paperzoo.core.data import DataMissingError, resolve_data_root
from paperzoo.datasets import (
    ArraySplit,
    catalog,
    dataset_status,
    load_digits,
    load_mnist,
    make_loader,
    prepare_dataset,
    read_idx,
    stratified_subset,
    train_val_split,
)


def _idx_bytes(arr: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(d.to_bytes(4, "big") for d in arr.shape)
    return header + arr.astype(np.uint8).tobytes()


def _write_idx_set(folder: Path, n_train=12, n_test=5, gz=True) -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28)),
        "y_train": rng.integers(0, 10, n_train),
        "x_test": rng.integers(0, 256, (n_test, 28, 28)),
        "y_test": rng.integers(0, 10, n_test),
    }
    folder.mkdir(parents=True, exist_ok=True)
    raw = {}
    for key, stem in catalog._IDX_FILES.items():
        data = _idx_bytes(arrays[key])
        raw[key] = data
        if gz:
            (folder / f"{stem}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / stem).write_bytes(data)
    return raw


def test_read_idx_round_trip_and_errors(tmp_path):
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a").write_bytes(_idx_bytes(arr))
    (tmp_path / "a.gz").write_bytes(gzip.compress(_idx_bytes(arr)))
    assert np.array_equal(read_idx(tmp_path / "a"), arr)
    assert np.array_equal(read_idx(tmp_path / "a.gz"), arr)
    (tmp_path / "b").write_bytes(_idx_bytes(arr)[:-3])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        read_idx(tmp_path / "b")
    (tmp_path / "c").write_bytes(b"PK\x03\x04junk")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(tmp_path / "c")


def test_prepare_from_local_idx_files(tmp_path, monkeypatch):
    raw = _write_idx_set(tmp_path / "orig")
    # Tiny fake files cannot carry the canonical MD5s: first the error, then a patched table.
    with pytest.raises(DataMissingError, match="MD5"):
        prepare_dataset("mnist", tmp_path / "root", tmp_path / "orig")
    md5 = {k: hashlib.md5(v).hexdigest() for k, v in raw.items()}
    monkeypatch.setitem(catalog._IDX_MD5, "mnist", md5)
    prepare_dataset("mnist", tmp_path / "root", tmp_path / "orig")
    train, test = load_mnist(tmp_path / "root")
    assert train.x.shape == (12, 28, 28) and test.y.shape == (5,) and train.y.dtype == np.int64
    assert np.array_equal(train.x, read_idx(tmp_path / "orig/train-images-idx3-ubyte.gz"))


def test_missing_and_corrupt_files_name_the_fix(tmp_path):
    with pytest.raises(DataMissingError, match=r"mnist.npz.*paperzoo data prepare mnist"):
        load_mnist(tmp_path)
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / "mnist.npz").write_bytes(b"not a zip")
    with pytest.raises(DataMissingError, match="corrupt"):
        load_mnist(tmp_path)
    np.savez(tmp_path / "mnist" / "mnist.npz", x_train=np.zeros((2, 28, 28)))
    with pytest.raises(DataMissingError, match="lacks arrays"):
        load_mnist(tmp_path)
    np.savez(
        tmp_path / "mnist" / "mnist.npz",
        x_train=np.zeros((2, 28, 27)),
        y_train=np.zeros(2),
        x_test=np.zeros((1, 28, 28)),
        y_test=np.zeros(1),
    )
    with pytest.raises(DataMissingError, match=r"expected \[N,28,28\]"):
        load_mnist(tmp_path)
    rows = {r["name"]: r for r in dataset_status(tmp_path)}
    assert rows["mnist"]["state"] == "corrupt" and rows["fashion_mnist"]["state"] == "missing"


def test_data_root_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("PAPERZOO_DATA", str(tmp_path / "env"))
    assert resolve_data_root(tmp_path / "cli") == tmp_path / "cli"
    assert resolve_data_root(None) == tmp_path / "env"
    monkeypatch.delenv("PAPERZOO_DATA")
    assert resolve_data_root(None) == Path("~/.cache/paperzoo").expanduser()


def test_digits_and_splits_are_deterministic():
    tr, te = load_digits(seed=1)
    tr2, _te2 = load_digits(seed=1)
    assert np.array_equal(tr.y, tr2.y) and len(tr) + len(te) == 1797
    assert tr.x.shape[1:] == (8, 8) and tr.x.max() <= 16
    # stratified: every class keeps ~25% in test
    counts = np.bincount(te.y, minlength=10) / np.bincount(np.concatenate([tr.y, te.y]))
    assert np.all(np.abs(counts - 0.25) < 0.03)
    sub = stratified_subset(tr, 100, seed=0, classes=[0, 1])
    assert set(np.unique(sub.y)) == {0, 1} and abs(len(sub) - 100) <= 2
    a, b = train_val_split(ArraySplit(np.arange(20), np.repeat([0, 1], 10)), 0.2, seed=0)
    assert len(b) == 4 and not set(a.x) & set(b.x)
    x, y = tr.tensors(scale=16.0)
    batches = [yb.tolist() for _, yb in make_loader(x, y, 64, seed=3)]
    assert batches == [yb.tolist() for _, yb in make_loader(x, y, 64, seed=3)]
    with pytest.raises(ValueError, match="rows"):
        ArraySplit(np.zeros(3), np.zeros(2))


@pytest.mark.data
def test_real_mnist_and_fashion_when_available():
    if not os.environ.get("PAPERZOO_DATA"):
        pytest.skip("PAPERZOO_DATA is unset: the real MNIST files are not available")
    from paperzoo.datasets import load_fashion_mnist

    train, test = load_mnist()
    assert train.x.shape == (60000, 28, 28) and test.x.shape == (10000, 28, 28)
    assert np.bincount(test.y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert train.y[:5].tolist() == [5, 0, 4, 1, 9]
    ftrain, ftest = load_fashion_mnist()
    assert np.bincount(ftrain.y).tolist() == [6000] * 10 and len(ftest) == 10000
    rows = {r["name"]: r["state"] for r in dataset_status(resolve_data_root())}
    assert rows["mnist"] == "present" and rows["fashion_mnist"] == "present"


def test_cifar10_from_binary_batches(tmp_path, monkeypatch):
    """Records are 1 label byte + R, G, B planes; the npz holds HWC images."""
    monkeypatch.setattr(catalog, "_CIFAR10_COUNTS", (500, 100))  # 100 records per batch file
    rng = np.random.default_rng(0)
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    expect = {}
    for name, n in [
        *[(f"data_batch_{i}.bin", 100) for i in range(1, 6)],
        ("test_batch.bin", 100),
    ]:
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        planes = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
        (folder / name).write_bytes(
            np.concatenate([labels[:, None], planes.reshape(n, -1)], 1).tobytes()
        )
        expect[name] = (labels, planes)
    prepare_dataset("cifar10", tmp_path / "root", tmp_path)
    from paperzoo.datasets import load_cifar10

    train, test = load_cifar10(tmp_path / "root")
    assert train.x.shape == (500, 32, 32, 3) and test.x.shape == (100, 32, 32, 3)
    labels, planes = expect["test_batch.bin"]
    assert np.array_equal(test.y, labels)
    # pixel (row 3, col 5) of image 7: channel c comes from plane c
    assert test.x[7, 3, 5].tolist() == planes[7, :, 3, 5].tolist()
    (folder / "test_batch.bin").write_bytes(b"\x00" * 100)
    with pytest.raises(DataMissingError, match="truncated"):
        prepare_dataset("cifar10", tmp_path / "root2", tmp_path)
