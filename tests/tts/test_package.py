"""The package namespace: every exported name resolves to the object the one module that
declares it public defines."""

import importlib

import pytest

import paperzoo.tts as tts

MODULES = ("aligner", "audio", "classifiers", "corpus", "data", "evaluation", "meta", "metrics",
           "model", "synthesis", "text", "vocoder")  # fmt: skip


@pytest.mark.parametrize("name", tts.__all__)
def test_every_exported_name_resolves(name):
    value = getattr(tts, name)
    homes = [importlib.import_module(f"paperzoo.tts.{m}") for m in MODULES]
    homes = [m for m in homes if name in m.__all__]
    assert len(homes) == 1, f"{name} is public in {len(homes)} modules"
    assert value is getattr(homes[0], name)
