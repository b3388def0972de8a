"""Task streams: rotation, noisy and imbalanced variants, user-supplied datasets."""

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

from paperzoo.continual import make_stream, rotate_images, rotated_stream


def _images(n=200, side=8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(n, side, side)).astype(np.uint8)
    y = np.arange(n) % 10
    return x, y


def test_rotation_by_90_and_360():
    img = torch.arange(49, dtype=torch.float32).view(1, 7, 7)
    r90 = rotate_images(img, 90)
    assert torch.equal(r90, torch.rot90(img, 1, (1, 2))) or torch.equal(
        r90, torch.rot90(img, -1, (1, 2))
    )
    assert torch.equal(rotate_images(img, 360), img)
    assert torch.equal(rotate_images(rotate_images(img, 90), -90), img)


def test_noisy_stream_marks_noise_and_keeps_test_clean():
    x, y = _images()
    tasks = rotated_stream(
        x,
        y,
        x,
        y,
        num_tasks=2,
        angle_step=45,
        variant="noisy",
        train_per_task=100,
        noise_fraction=0.6,
    )
    for t in tasks:
        assert t.is_noise.sum() == 60 and len(t.y_train) == 100
        assert t.x_train.shape == (100, 64) and t.x_test.shape == (200, 64)
    # noise images in the official style: pixels are multiples of 1/255 from trunc(N(0,1)) mod 256
    noise = tasks[0].x_train[tasks[0].is_noise] * 255
    assert set(noise.round().unique().tolist()) <= {0, 1, 2, 3, 4, 252, 253, 254, 255}
    # the clean test images of task 0 are the unrotated source images
    torch.testing.assert_close(tasks[0].x_test, torch.as_tensor(x).float().flatten(1) / 255)


def test_imbalanced_stream_profile():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(10), 100)
    x = rng.integers(0, 256, size=(1000, 6, 6)).astype(np.uint8)
    (task,) = rotated_stream(x, y, x, y, num_tasks=1, variant="imbalanced", train_per_task=1000)
    counts = torch.bincount(task.y_train, minlength=10)
    assert counts[0] == counts[5] == 100
    assert all(counts[c] == 10 for c in range(10) if c not in (0, 5))
    assert torch.bincount(task.y_test, minlength=10).tolist() == [100] * 10  # balanced test


def test_bad_variant_raises():
    x, y = _images(20)
    with pytest.raises(ValueError, match="variant"):
        rotated_stream(x, y, x, y, num_tasks=1, variant="shuffled")


def test_make_stream_from_user_datasets():
    g = torch.Generator().manual_seed(0)
    tr = [(torch.randn(30, 2, 3, generator=g), torch.randint(0, 3, (30,), generator=g))] * 2
    te = [TensorDataset(torch.randn(10, 2, 3), torch.randint(0, 3, (10,)))] * 2
    tasks = make_stream(tr, te, noise_masks=[torch.zeros(30, dtype=torch.bool), None])
    assert [t.task_id for t in tasks] == [0, 1]
    assert tasks[1].x_train.shape == (30, 6) and tasks[0].x_test.shape == (10, 6)
    assert tasks[1].is_noise.shape == (30,)
    with pytest.raises(ValueError, match="one test set"):
        make_stream(tr, te[:1])
