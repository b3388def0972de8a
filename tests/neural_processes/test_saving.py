"""save_model / load_model: a neural process comes back from its file alone (class, constructor
arguments, weights), read with ``weights_only=True``; files that cannot rebuild it are refused."""

from __future__ import annotations

import pytest
import torch

from paperzoo.neural_processes import MODELS, load_model, make_model, save_model
from paperzoo.neural_processes.saving import FORMAT

SMALL = {"hidden_dim": 8, "latent_dim": 8, "num_heads": 2, "enc_pre_depth": 5, "dec_depth": 2}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_round_trips(name, tmp_path):
    torch.manual_seed(0)
    model = make_model(name, x_dim=2, y_dim=1, **SMALL)
    path = save_model(model, tmp_path / "m.pt", SMALL)
    state = torch.load(path, weights_only=True)  # plain values and tensors only
    assert state["format"] == FORMAT and state["model"] == name
    loaded = load_model(path)
    assert type(loaded) is type(model) and not loaded.training
    xc, yc, xt = torch.randn(2, 4, 2), torch.randn(2, 4, 1), torch.randn(2, 5, 2)
    means = [
        m.predict(xc, yc, xt, num_samples=2, generator=torch.Generator().manual_seed(0)).mean
        for m in (model.eval(), loaded)
    ]
    assert torch.equal(means[0], means[1])


def test_defaults_come_from_the_models_attributes(tmp_path):
    model = make_model("CNP", x_dim=3, y_dim=2, hidden_dim=8)  # default depths
    loaded = load_model(save_model(model, tmp_path / "m.pt"))
    assert (loaded.x_dim, loaded.y_dim, loaded.hidden_dim) == (3, 2, 8)


def test_hparams_that_do_not_rebuild_the_model_are_refused(tmp_path):
    model = make_model("BNP", hidden_dim=8, enc_pre_depth=5)
    with pytest.raises(ValueError, match="pass the arguments it was built with"):
        save_model(model, tmp_path / "m.pt")  # enc_pre_depth 4 by default
    assert not (tmp_path / "m.pt").exists()


def test_files_that_are_no_saved_model_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "none.pt")
    model = make_model("CNP", hidden_dim=8)
    torch.save(model.state_dict(), tmp_path / "weights.pt")  # weights without architecture
    with pytest.raises(ValueError, match="not a saved neural process"):
        load_model(tmp_path / "weights.pt")
    path = save_model(model, tmp_path / "m.pt")
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match="not a readable saved neural process"):
        load_model(path)
