"""The package namespace: every exported name resolves to the object the one module that
declares it public defines (``syntheseus_model`` stays out: it imports syntheseus)."""

import importlib

import pytest

import paperzoo.retrosynthesis as retro

MODULES = ("baselines", "chem", "contrastive", "data", "encoder", "index", "metrics", "predict",
           "selection")  # fmt: skip


@pytest.mark.parametrize("name", retro.__all__)
def test_every_exported_name_resolves(name):
    value = getattr(retro, name)
    homes = [importlib.import_module(f"paperzoo.retrosynthesis.{m}") for m in MODULES]
    homes = [m for m in homes if name in m.__all__]
    assert len(homes) == 1, f"{name} is public in {len(homes)} modules"
    assert value is getattr(homes[0], name)
