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
