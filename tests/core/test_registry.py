import pytest

from paperzoo.core import registry
from paperzoo.core.errors import UsageError


@pytest.fixture
def clean_registry(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", {})
    monkeypatch.setattr(registry, "_DISCOVERED", True)
    return registry


def test_register_get_and_list(clean_registry):
    @clean_registry.register("m", "smoke", module="json", cpu_minutes=0.1)
    def smoke():
        """Tiny run.

        More text."""
        return {"a": 1}

    @clean_registry.register("m", "quick", module="json", cpu_minutes=5)
    def quick():
        return {}

    exp = clean_registry.get_experiment("m", "smoke")
    assert exp.summary == "Tiny run." and exp.make_config() == {"a": 1}
    with pytest.raises(TypeError, match="lacks units, run_unit"):
        exp.load_module()
    assert [e.preset for e in clean_registry.list_experiments("m")] == ["smoke", "quick"]


def test_unknown_names_and_duplicates(clean_registry):
    clean_registry.register("m", "smoke", module="json", cpu_minutes=0.1)(lambda: 1)
    with pytest.raises(UsageError, match="unknown method 'x'; known methods: m"):
        clean_registry.get_experiment("x", "smoke")
    with pytest.raises(UsageError, match="unknown preset 'big' for m; known presets: smoke"):
        clean_registry.get_experiment("m", "big")
    with pytest.raises(ValueError, match="registered twice"):
        clean_registry.register("m", "smoke", module="json", cpu_minutes=1)(lambda: 2)


def test_discovery_finds_method_packages_lazily():
    exps = registry.list_experiments()
    methods = {e.method for e in exps}
    assert not methods & {"app", "core", "datasets"}
    for e in exps:
        assert e.module == f"paperzoo.{e.method}.repro.train"
