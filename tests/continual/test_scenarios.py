"""Task streams: rotation, noisy and imbalanced variants, user-supplied datasets."""

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

from paperzoo.continual import dataset_sequence, make_stream, rotate_images, rotated_stream


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


def _set(n, side, classes, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, side, side, generator=g), torch.arange(n) % classes


def test_dataset_sequence_resizes_shifts_labels_and_sets_heads():
    a_tr, a_ytr = _set(40, 8, 3, 0)
    a_te, a_yte = _set(12, 8, 3, 1)
    b_tr, b_ytr = _set(30, 12, 4, 2)
    b_te, b_yte = _set(8, 12, 4, 3)
    sets = [("a", a_tr, a_ytr, a_te, a_yte), ("b", b_tr[:, None], b_ytr, b_te[:, None], b_yte)]
    tasks = dataset_sequence(sets, image_size=10, shuffle_order=False, seed=0)
    assert [t.name for t in tasks] == ["a", "b"]
    assert tasks[0].x_train.shape == (40, 100) and tasks[1].x_test.shape == (8, 100)
    assert tasks[0].classes.tolist() == [0, 1, 2] and tasks[1].classes.tolist() == [3, 4, 5, 6]
    assert tasks[1].y_train.min() == 3 and tasks[1].y_train.max() == 6
    assert tasks[1].x_train.min() >= 0 and tasks[1].x_train.max() <= 1
    # one shared label space
    flat = dataset_sequence(sets, image_size=10, task_incremental=False, shuffle_order=False)
    assert flat[1].classes is None and flat[1].y_train.max() == 3
    # the seed shuffles the order (official), the same seed gives the same stream
    orders = {tuple(t.name for t in dataset_sequence(sets, seed=s)) for s in range(8)}
    assert orders == {("a", "b"), ("b", "a")}
    noisy = dataset_sequence(sets, variant="noisy", noise_fraction=0.5, seed=3)
    assert [int(t.is_noise.sum()) for t in noisy] == [len(t.y_train) // 2 for t in noisy]
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        dataset_sequence([("c", 255 * a_tr, a_ytr, a_te, a_yte)])
