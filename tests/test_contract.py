"""Registry-wide contract: every method's ``smoke`` preset runs fast, writes a valid
results.json with finite metrics, and gives identical metrics for the same seed twice."""

import json
import math
import time

import pytest

from paperzoo.app.reproduce import reproduce
from paperzoo.core.registry import list_experiments
from paperzoo.core.results import validate_results

SMOKES = [e.method for e in list_experiments() if e.preset == "smoke"]


def test_every_method_has_smoke_quick_and_paper():
    for method in {e.method for e in list_experiments()}:
        presets = {e.preset for e in list_experiments(method)}
        assert {"smoke", "quick", "paper"} <= presets, f"{method} has {sorted(presets)}"


def test_every_preset_config_lies_inside_its_declared_ranges():
    from paperzoo.core.config import validate

    for e in list_experiments():
        validate(e.make_config())


def test_config_choice_lists_match_the_components_they_name():
    from paperzoo.complexity.baselines import MEASURES
    from paperzoo.complexity.repro.config import MEASURE_NAMES
    from paperzoo.compression.repro.config import CAPTUM_METHODS, MATCHING_ARMS
    from paperzoo.compression.repro.train import ARM_LABEL
    from paperzoo.neural_processes.repro.config import KERNEL_NAMES
    from paperzoo.neural_processes.tasks import KERNELS
    from paperzoo.quantization.recipes import METHODS
    from paperzoo.quantization.repro.config import QUANT_METHODS

    assert tuple(MEASURES) == MEASURE_NAMES
    assert set(KERNELS) == set(KERNEL_NAMES)
    assert set(QUANT_METHODS) == set(METHODS) - {"fp32"}
    assert set(ARM_LABEL) == set(MATCHING_ARMS)
    import typing

    from paperzoo.compression.localization import captum_attribution

    hint = typing.get_type_hints(captum_attribution)["method"]
    assert set(typing.get_args(hint)) == set(CAPTUM_METHODS)


@pytest.mark.slow
@pytest.mark.parametrize("method", SMOKES)
def test_smoke_preset_contract(method, tmp_path, monkeypatch):
    monkeypatch.delenv("PAPERZOO_DATA", raising=False)  # smoke presets need no data root
    results = []
    for i in range(2):
        t0 = time.time()
        run = reproduce(
            method, "smoke", out=tmp_path / f"r{i}", device="cpu", data_root=tmp_path / "no-data"
        )
        elapsed = time.time() - t0
        assert elapsed < 30, f"{method}/smoke took {elapsed:.1f}s (limit 30s)"
        res = json.loads((run / "results.json").read_text())
        validate_results(res)
        assert res["method"] == method and res["preset"] == "smoke"
        assert res["arms"], "no arms"
        for arm, metrics in res["arms"].items():
            for m, vals in metrics.items():
                assert all(v is not None and math.isfinite(v) for v in vals), (arm, m, vals)
        assert (run / "report.md").is_file()
        # every method's repro/figures.py draws the report's figures (a wrong module path once
        # made this silently skip them)
        assert sorted((run / "figures").glob("*.png")), f"{method}/smoke drew no figures"
        assert "## Figures" in (run / "report.md").read_text()
        results.append(res)
    assert results[0]["arms"] == results[1]["arms"], "same seed gave different metrics"
    assert [c["holds"] for c in results[0]["claims"]] == [c["holds"] for c in results[1]["claims"]]
