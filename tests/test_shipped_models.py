"""Shipped trained models: ``scripts/ship_model.py`` ships a unit's model from a finished, clean
run into a registry root (here a temporary one), ``paperzoo.<method>.pretrained`` loads it after
checking its card's size and sha256, and ``paperzoo models list|info`` show the cards.

The runs are built by hand in ``tmp_path`` (the files a finished engine run leaves, around a
tiny model), so nothing trains here.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

import paperzoo.complexity as cx
import paperzoo.neural_processes as nps
from paperzoo.cli import main as paperzoo
from paperzoo.core.config import config_to_dict, to_toml
from paperzoo.core.engine.model import artifact_path, record_path
from paperzoo.core.presets import build_config
from paperzoo.core.shipped import ENV, ModelError, get_card, list_cards

ROOT = Path(__file__).resolve().parents[1]
COMMIT = "c0ffee" + "0" * 34


def _tool() -> Any:
    spec = importlib.util.spec_from_file_location("ship_model", ROOT / "scripts" / "ship_model.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


ship_model = _tool()


def _write(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))


def _run(
    base: Path,
    method: str,
    unit: str,
    arm: str,
    arms: dict[str, dict[str, list[float]]],
    own: dict[str, dict[str, float]],
    config: dict[str, Any],
) -> Path:
    """The files of a finished, clean engine run of ``method`` with seeds 0 and 1, whose unit
    ``unit`` (seed 0) measured ``own``."""
    run = base / method / "quick" / "20261207-220331"
    _write(
        run / "meta.json",
        {
            "method": method,
            "preset": "quick",
            "git_sha": COMMIT,
            "versions": {"torch": torch.__version__},
            "device": "cpu",
            "data_root": "/data",
            "data": {"/data/mnist/mnist.npz": {"dataset": "mnist", "sha256": "ab" * 32}},
            "argv": ["paperzoo", "reproduce", method, "--preset", "quick"],
            "started": "2026-12-07T22:03:31+00:00",
        },
    )
    _write(run / "engine.json", {"sessions": [{"commit": COMMIT, "dirty": False}]})
    _write(run / "config.json", config)
    summary = {
        a: {m: {"mean": sum(v) / len(v), "ci95": 1.0} for m, v in ms.items()}
        for a, ms in arms.items()
    }
    _write(
        run / "results.json",
        {"method": method, "preset": "quick", "seeds": [0, 1], "arms": arms, "summary": summary},
    )
    _write(
        record_path(run, unit),
        {"key": unit, "arm": arm, "seed": 0, "params": {}, "role": "arm", "metrics": {},
         "arm_metrics": own, "wall_s": 1.0, "commit": COMMIT, "dirty": False},
    )  # fmt: skip
    return run


@pytest.fixture
def nc_run(tmp_path: Path) -> tuple[Path, cx.NeuralComplexity]:
    """A complexity run whose unit overfit/seed0 kept a tiny meta-trained NC as nc.pt."""
    torch.manual_seed(0)
    nc = cx.NeuralComplexity(hidden_dim=8, num_heads=2)
    nc.gap_range.copy_(torch.tensor([0.1, 2.0]))
    run = _run(
        tmp_path / "runs",
        "complexity",
        "overfit/seed0",
        "overfit",
        {"overfit/predict:nc": {"gap/R": [0.9, 0.8], "gap/mae": [1.0, 1.2]},
         "overfit/none": {"test/mse": [4.0, 4.5]}},
        {"overfit/predict:nc": {"gap/R": 0.9, "gap/mae": 1.0}, "overfit/none": {"test/mse": 4.0}},
        {"seeds": [0, 1], "regimes": ["overfit"]},
    )  # fmt: skip
    path = artifact_path(run, "overfit/seed0", "nc.pt")
    path.parent.mkdir(parents=True)
    nc.save(path)
    return run, nc


TEXT = [
    "--summary", "a tiny NC for tests", "--data", "generated sinusoid tasks",
    "--data-licence", "none: generated", "--limit", "trained for a test, predicts nothing",
]  # fmt: skip


def _ship(
    run: Path,
    root: Path,
    *extra: str,
    name: str = "nc-test",
    unit: str = "overfit/seed0",
    file: str = "nc.pt",
    metrics: tuple[str, ...] = ("overfit/predict:nc", "gap/R"),
) -> int:
    """``scripts/ship_model.py`` on ``run`` into ``root``; its exit status."""
    args = [str(run), "--unit", unit, "--file", file, "--name", name, "--root", str(root)]
    for i in range(0, len(metrics), 2):
        args += ["--metric", metrics[i], metrics[i + 1]]
    return ship_model.main([*args, *TEXT, *extra])


def _one_line_error(capsys: pytest.CaptureFixture[str], *words: str) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    for w in words:
        assert w in err, err
    return err


# --- the tool ----------------------------------------------------------------------------------


def test_ship_writes_a_card_from_the_run_and_pretrained_loads_it(nc_run, tmp_path, monkeypatch):
    run, nc = nc_run
    root = tmp_path / "models"
    metrics = ("overfit/predict:nc", "gap/R", "overfit/none", "test/mse")
    assert _ship(run, root, metrics=metrics) == 0
    assert sorted(p.name for p in root.iterdir()) == ["nc-test"]  # no staging left behind
    card = get_card("nc-test", root)
    blob = (root / "nc-test" / "model.pt").read_bytes()
    assert blob == artifact_path(run, "overfit/seed0", "nc.pt").read_bytes()  # copied as is
    import hashlib

    assert card["file"] == {
        "name": "model.pt",
        "bytes": len(blob),
        "sha256": hashlib.sha256(blob).hexdigest(),
    }
    assert card["parameters"] == sum(p.numel() for p in nc.parameters())
    assert card["architecture"]["class"] == "NeuralComplexity"
    assert card["architecture"]["hparams"] == nc.hparams
    assert card["paper"]["arxiv"] == "2008.02953"
    t = card["trained_by"]
    assert (t["run"], t["preset"], t["unit"], t["seed"], t["commit"]) == (
        "complexity/quick/20261207-220331", "quick", "overfit/seed0", 0, COMMIT,
    )  # fmt: skip
    assert t["config"] == {"seeds": [0, 1], "regimes": ["overfit"]}
    assert card["training_data"]["run_files"] == [
        {"file": "mnist/mnist.npz", "dataset": "mnist", "sha256": "ab" * 32}
    ]
    rows = {(r["arm"], r["metric"]): r for r in card["metrics"]["values"]}
    assert rows["overfit/predict:nc", "gap/R"]["values"] == [0.9, 0.8]  # from results.json
    assert rows["overfit/predict:nc", "gap/R"]["this_model"] == 0.9  # from the unit's record
    assert rows["overfit/none", "test/mse"]["mean"] == pytest.approx(4.25)
    assert card["metrics"]["seeds"] == [0, 1] and card["metrics"]["model_seed"] == 0
    assert card["load"] == 'paperzoo.complexity.pretrained("nc-test")'

    loaded = cx.pretrained("nc-test", root=root)
    assert isinstance(loaded, cx.NeuralComplexity) and not loaded.training
    for k, v in nc.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v), k
    monkeypatch.setenv(ENV, str(root))  # the registry root from the environment
    assert cx.pretrained("nc-test").hparams == nc.hparams
    assert [c["name"] for c in list_cards()] == ["nc-test"]


def test_ship_replaces_only_when_asked(nc_run, tmp_path, capsys):
    run, _ = nc_run
    root = tmp_path / "models"
    assert _ship(run, root) == 0
    assert _ship(run, root) == 2
    _one_line_error(capsys, "exists", "--replace")
    assert _ship(run, root, "--replace") == 0


def _dirty_meta(run: Path) -> None:
    meta = json.loads((run / "meta.json").read_text())
    _write(run / "meta.json", {**meta, "git_sha": COMMIT + "+dirty"})


def _dirty_session(run: Path) -> None:
    _write(run / "engine.json", {"sessions": [{"commit": COMMIT, "dirty": True}]})


def _dirty_unit(run: Path) -> None:
    rec = json.loads(record_path(run, "overfit/seed0").read_text())
    _write(record_path(run, "overfit/seed0"), {**rec, "dirty": True})


def _unfinished(run: Path) -> None:
    (run / "results.json").unlink()


def _failed(run: Path) -> None:
    _write(run / "failures.json", {"overfit/seed1": "Traceback ..."})


def _running(run: Path) -> None:
    (run / "run.lock").write_text(str(os.getpid()))  # this process: alive


def _disagreeing(run: Path) -> None:
    res = json.loads((run / "results.json").read_text())
    res["arms"]["overfit/predict:nc"]["gap/R"] = [0.5, 0.8]
    _write(run / "results.json", res)


@pytest.mark.parametrize(
    "spoil, words",
    [
        (_dirty_meta, ("uncommitted", "+dirty")),
        (_dirty_session, ("uncommitted",)),
        (_dirty_unit, ("dirty",)),
        (_unfinished, ("not finished",)),
        (_failed, ("failed units",)),
        (_running, ("still running",)),
        (_disagreeing, ("disagree",)),
    ],
    ids=lambda x: getattr(x, "__name__", "")[1:] or None,
)
def test_ship_refuses_a_dirty_or_unfinished_run(nc_run, tmp_path, capsys, spoil, words):
    run, _ = nc_run
    spoil(run)
    assert _ship(run, tmp_path / "models") == 2
    _one_line_error(capsys, "ship_model: error:", *words)
    assert not (tmp_path / "models" / "nc-test").exists()


@pytest.mark.parametrize(
    "kw, words",
    [
        ({"unit": "overfit/seed9"}, ("no finished unit", "did you mean overfit/seed0")),
        ({"file": "missing.pt"}, ("kept no", "nc.pt")),
        ({"metrics": ("overfit/predict:nx", "gap/R")}, ("no arm", "overfit/predict:nc")),
        ({"metrics": ("overfit/predict:nc", "gap/Q")}, ("no metric", "gap/R")),
        ({"metrics": ()}, ("at least one --metric",)),
        ({"name": "Bad Name"}, ("bad model name",)),
    ],
)
def test_ship_refuses_bad_arguments_with_one_line(nc_run, tmp_path, capsys, kw, words):
    run, _ = nc_run
    assert _ship(run, tmp_path / "models", **kw) == 2
    _one_line_error(capsys, *words)


def test_ship_and_load_a_neural_process(tmp_path):
    """A run keeps only a neural process's weights; the tool re-saves it with its architecture
    from the run's config, and neural_processes.pretrained rebuilds it."""
    from paperzoo.neural_processes.repro.evaluation import build_model

    cfg = build_config("neural_processes", "smoke", overrides=["model.hidden_dim=16"])
    run = _run(
        tmp_path / "runs",
        "neural_processes",
        "BNP/seed0",
        "BNP",
        {"BNP": {"rbf/tar_ll": [0.1, 0.2]}},
        {},
        config_to_dict(cfg),
    )
    (run / "config.toml").write_text(to_toml(cfg))
    torch.manual_seed(0)
    model = build_model(cfg, "BNP")
    path = artifact_path(run, "BNP/seed0", "model.pt")
    path.parent.mkdir(parents=True)
    torch.save({"model": model.state_dict(), "x_dim": 1, "y_dim": 1}, path)
    root = tmp_path / "models"
    rc = _ship(run, root, name="bnp-test", unit="BNP/seed0", file="model.pt",
               metrics=("BNP", "rbf/tar_ll"))  # fmt: skip
    assert rc == 0
    card = get_card("bnp-test", root)
    assert card["method"] == "neural_processes" and card["architecture"]["class"] == "BNP"
    assert card["architecture"]["hparams"]["hidden_dim"] == 16
    assert card["parameters"] == sum(p.numel() for p in model.parameters())
    assert card["metrics"]["values"][0]["this_model"] is None  # the record kept no BNP metric
    loaded = nps.pretrained("bnp-test", root=root)
    assert type(loaded) is type(model) and not loaded.training
    xc, yc, xt = torch.randn(2, 5, 1), torch.randn(2, 5, 1), torch.randn(2, 7, 1)
    mean = [
        m.predict(xc, yc, xt, num_samples=3, generator=torch.Generator().manual_seed(1)).mean
        for m in (model.eval(), loaded)
    ]
    assert torch.equal(mean[0], mean[1])


# --- loading: checksum, truncation, another method ---------------------------------------------


@pytest.fixture
def shipped(nc_run, tmp_path) -> Path:
    run, _ = nc_run
    root = tmp_path / "models"
    assert _ship(run, root) == 0
    return root


def test_a_file_failing_its_checksum_is_refused(shipped):
    f = shipped / "nc-test" / "model.pt"
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same length, one byte changed
    f.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="fails its checksum"):
        cx.pretrained("nc-test", root=shipped)


def test_a_truncated_file_is_refused(shipped):
    f = shipped / "nc-test" / "model.pt"
    f.write_bytes(f.read_bytes()[:100])
    with pytest.raises(ModelError, match="truncated: 100 bytes"):
        cx.pretrained("nc-test", root=shipped)
    f.unlink()
    with pytest.raises(ModelError, match="missing"):
        cx.pretrained("nc-test", root=shipped)


def test_a_model_of_another_method_is_refused(shipped):
    with pytest.raises(ModelError, match=r"is a complexity model.*complexity\.pretrained"):
        nps.pretrained("nc-test", root=shipped)


def test_a_file_of_another_kind_under_a_valid_card_is_refused(shipped):
    """A card whose checksum matches a file that is no NeuralComplexity: a clear error too."""
    import hashlib

    f, card_file = shipped / "nc-test" / "model.pt", shipped / "nc-test" / "card.json"
    torch.save({"format": "something/1", "state_dict": {}}, f)
    card = json.loads(card_file.read_text())
    blob = f.read_bytes()
    card["file"].update(bytes=len(blob), sha256=hashlib.sha256(blob).hexdigest())
    card_file.write_text(json.dumps(card))
    with pytest.raises(ModelError, match="not a NeuralComplexity"):
        cx.pretrained("nc-test", root=shipped)


def test_unknown_names_suggest_close_ones(shipped, tmp_path):
    with pytest.raises(ModelError, match="did you mean nc-test"):
        cx.pretrained("nc-tset", root=shipped)
    with pytest.raises(ModelError, match="no trained models ship"):
        cx.pretrained("nc-test", root=tmp_path / "empty")


def test_a_broken_card_is_named(shipped):
    (shipped / "nc-test" / "card.json").write_text("{not json")
    with pytest.raises(ModelError, match=r"card\.json is not valid JSON"):
        list_cards(shipped)


# --- the command line --------------------------------------------------------------------------


def test_models_list_says_plainly_when_none_ships(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(ENV, str(tmp_path / "none"))
    assert paperzoo(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("no trained models ship") and len(out.splitlines()) == 1


def test_models_list_and_info(shipped, monkeypatch, capsys):
    monkeypatch.setenv(ENV, str(shipped))
    assert paperzoo(["models", "list"]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split()[:4] == ["NAME", "METHOD", "PARAMS", "SIZE"]
    assert row.startswith("nc-test  complexity") and "complexity/quick @ c0ffee00" in row
    assert paperzoo(["models", "info", "nc-test"]) == 0
    out = capsys.readouterr().out
    for text in ("Neural Complexity Measures", "overfit/predict:nc gap/R: 0.9 0.8",
                 "this model 0.9", "(verified)", 'paperzoo.complexity.pretrained("nc-test")',
                 "trained for a test"):  # fmt: skip
        assert text in out, text
    assert paperzoo(["models", "info", "nc-test", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "nc-test"


def test_models_bad_input_exits_2_with_one_line(shipped, monkeypatch, capsys):
    monkeypatch.setenv(ENV, str(shipped))
    assert paperzoo(["models", "info", "nc-tset"]) == 2
    _one_line_error(capsys, "paperzoo: error: unknown model 'nc-tset'", "did you mean nc-test")
    f = shipped / "nc-test" / "model.pt"
    f.write_bytes(f.read_bytes()[:-1])
    assert paperzoo(["models", "info", "nc-test"]) == 2
    _one_line_error(capsys, "truncated")
    with pytest.raises(SystemExit) as e:
        paperzoo(["models"])  # no action
    assert e.value.code == 2


def test_models_help_explains(capsys):
    with pytest.raises(SystemExit) as e:
        paperzoo(["models", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for text in ("list", "info", "card", "sha256", "pretrained", ENV):
        assert text in out, text


def test_importing_and_listing_models_reads_nothing_and_imports_no_torch(tmp_path):
    """``pretrained`` loads lazily; ``models list`` stays quick; importing the module that
    defines ``pretrained`` does not hide the function on the package."""
    code = (
        "import contextlib, io, sys\n"
        "import paperzoo, paperzoo.complexity as cx, paperzoo.neural_processes as nps\n"
        "from paperzoo.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['models', 'list']) == 0\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "assert 'paperzoo.core.shipped' in sys.modules\n"
        "import paperzoo.complexity.shipped, paperzoo.neural_processes.shipped\n"
        "assert callable(cx.pretrained) and callable(nps.pretrained)\n"
    )
    env = {**os.environ, ENV: str(tmp_path)}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
