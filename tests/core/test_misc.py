"""Seeding, device choice, progress output and plots."""

import numpy as np
import pytest
import torch

from paperzoo.core.device import resolve_device
from paperzoo.core.errors import UsageError
from paperzoo.core.plots import bar_ci, learning_curves
from paperzoo.core.progress import track
from paperzoo.core.results import summarize
from paperzoo.core.seed import make_generator, make_rng, seed_everything


def test_seeding_is_reproducible():
    seed_everything(7)
    a = (torch.rand(3), np.random.rand(2))
    seed_everything(7)
    b = (torch.rand(3), np.random.rand(2))
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert torch.equal(
        torch.rand(2, generator=make_generator(1)), torch.rand(2, generator=make_generator(1))
    )
    assert make_rng(2).integers(100) == make_rng(2).integers(100)
    with pytest.raises(ValueError):
        seed_everything(-1)


def test_device_choice():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in ("cpu", "cuda")
    with pytest.raises(UsageError, match="unknown device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(UsageError, match="CUDA is not available"):
            resolve_device("cuda")


def test_plain_progress_lines(capsys, monkeypatch):
    monkeypatch.setenv("PAPERZOO_PROGRESS", "plain")
    bar = track(range(20), desc="train")
    for _ in bar:
        bar.set_postfix(loss=0.5)
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("train: 2/20 (10%)") and "loss=0.5" in err[-1]
    assert err[-1].startswith("train: 20/20 (100%)") and len(err) == 10
    monkeypatch.setenv("PAPERZOO_PROGRESS", "off")
    assert list(track(range(3))) == [0, 1, 2]
    assert capsys.readouterr().err == ""


def test_plots_write_png(tmp_path):
    p = learning_curves(tmp_path / "lc.png", {"a": ([0, 1, 2], [[1, 2, 3], [2, 3, 4]])})
    assert p.read_bytes()[:4] == b"\x89PNG"
    s = summarize({"a": {"m": [1.0, 2.0]}, "b": {"m": [3.0, 3.5]}})
    assert bar_ci(tmp_path / "b.png", s, ["m"]).stat().st_size > 1000


def test_torch_threads_is_restored():
    from paperzoo.core.device import torch_threads

    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), torch_threads(1):
        raise RuntimeError("boom")
    assert torch.get_num_threads() == before
    with torch_threads(0):
        assert torch.get_num_threads() == before
