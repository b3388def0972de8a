"""load_images: one entry point for image data, [0, 1] channels-first tensors, user .npz."""

import numpy as np
import pytest
import torch

from paperzoo.core import DataMissingError
from paperzoo.datasets import load_images


def _npz(path, x_train, x_test, y_train=None, y_test=None):
    y_train = np.arange(len(x_train)) % 3 if y_train is None else y_train
    y_test = np.arange(len(x_test)) % 3 if y_test is None else y_test
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return str(path)


def test_digits_scaled_to_unit_range_channels_first():
    train, test = load_images("digits")
    assert train.x.shape[1:] == (1, 8, 8) and train.x.dtype == torch.float32
    assert float(train.x.min()) == 0.0 and float(train.x.max()) == 1.0
    assert train.normalization == "digits 0..16 / 16" and train.num_classes == 10
    assert train.split == "train" and test.split == "test" and len(train) + len(test) == 1797


def test_user_npz_uint8_hwc_and_float(tmp_path):
    x = np.zeros((4, 6, 6, 3), np.uint8)
    x[0, 1, 2] = (255, 0, 51)
    train, test = load_images(_npz(tmp_path / "a.npz", x, x[:2]))
    assert train.x.shape == (4, 3, 6, 6) and train.image_shape == (3, 6, 6)
    assert test.x.shape == (2, 3, 6, 6)
    assert train.x[0, :, 1, 2].tolist() == pytest.approx([1.0, 0.0, 0.2])
    assert train.normalization == "uint8 / 255" and train.num_classes == 3
    f = np.full((3, 5, 5), 0.5, np.float32)
    tr, _ = load_images(_npz(tmp_path / "f.npz", f, f))
    assert tr.x.shape == (3, 1, 5, 5) and float(tr.x.max()) == 0.5
    assert tr.subset([2, 0]).y.tolist() == [2, 0]


def test_bad_user_data_fails_with_a_reason(tmp_path):
    with pytest.raises(DataMissingError, match="does not exist"):
        load_images(str(tmp_path / "missing.npz"))
    bad = np.full((2, 4, 4), 3.0, np.float32)
    with pytest.raises(DataMissingError, match=r"range over \[3, 3\]"):
        load_images(_npz(tmp_path / "b.npz", bad, bad))
    np.savez(tmp_path / "k.npz", x_train=np.zeros((2, 4, 4)))
    with pytest.raises(DataMissingError, match="lacks arrays"):
        load_images(str(tmp_path / "k.npz"))
    with pytest.raises(DataMissingError, match="not a catalog data set"):
        load_images("no_such_set", tmp_path)


# --- checksums at run time ---------------------------------------------------------------------
@pytest.fixture
def fake_mnist(tmp_path, monkeypatch):
    """A well-formed mnist.npz whose content is not MNIST, under a fresh data root."""
    monkeypatch.setenv("PAPERZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("PAPERZOO_OWN_DATA", raising=False)
    (tmp_path / "root" / "mnist").mkdir(parents=True)
    x = np.zeros((20, 28, 28), np.uint8)
    _npz(tmp_path / "root" / "mnist" / "mnist.npz", x, x[:10], np.arange(20) % 10, np.arange(10))
    return tmp_path / "root"


def test_wrong_catalog_content_is_refused_naming_the_file(fake_mnist):
    from paperzoo.core.data import DataMismatchError, clear_data_reads

    clear_data_reads()
    with pytest.raises(DataMismatchError) as e:
        load_images("mnist", fake_mnist)
    msg = str(e.value)
    assert str(fake_mnist / "mnist" / "mnist.npz") in msg and "--own-data" in msg
    assert "paperzoo data prepare mnist" in msg


def test_own_data_is_accepted_and_recorded_with_its_checksum(fake_mnist, monkeypatch):
    from paperzoo.core.data import clear_data_reads, data_reads, sha256_file

    monkeypatch.setenv("PAPERZOO_OWN_DATA", "1")
    clear_data_reads()
    train, _ = load_images("mnist", fake_mnist)
    assert len(train) == 20
    path = fake_mnist / "mnist" / "mnist.npz"
    (entry,) = data_reads().values()
    assert entry["sha256"] == sha256_file(path) and entry["status"].startswith("own")
    assert entry["catalog_sha256"] != entry["sha256"]


def test_checksum_is_cached_by_size_and_mtime(tmp_path, monkeypatch):
    import os

    from paperzoo.core import data

    monkeypatch.setenv("PAPERZOO_CACHE", str(tmp_path / "cache"))
    f = tmp_path / "a.bin"
    f.write_bytes(b"abc")
    calls = []
    real = data.sha256_file
    monkeypatch.setattr(data, "sha256_file", lambda p: calls.append(p) or real(p))
    first = data.file_checksum(f)
    data._MEMORY.clear()  # a new process: only the disk cache is left
    assert data.file_checksum(f) == first and len(calls) == 1
    f.write_bytes(b"abd")  # new content, new size/mtime: hashed again
    os.utime(f, ns=(1, 1))
    assert data.file_checksum(f) != first and len(calls) == 2


def test_user_npz_is_recorded_not_compared(tmp_path, monkeypatch):
    from paperzoo.core.data import clear_data_reads, data_reads

    monkeypatch.setenv("PAPERZOO_CACHE", str(tmp_path / "cache"))
    x = np.zeros((4, 5, 5), np.uint8)
    path = _npz(tmp_path / "mine.npz", x, x)
    clear_data_reads()
    load_images(path)
    (entry,) = data_reads().values()
    assert entry["status"] == "recorded" and entry["catalog_sha256"] is None
