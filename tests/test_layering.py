"""Import rules, checked on the source (AST), and the cost of importing packages.

- core imports no method package, not datasets and not the application layer (app);
  datasets imports no method;
- app (what the CLI's sub-commands do) imports core and datasets but no method: it reaches the
  methods through the registry; no method and no shared package imports app;
- a method never imports another method;
- a method's top (the paper) never imports its ``repro/`` (the reproduction) or the CLI;
- importing paperzoo or any method package imports no heavy optional dependency.
"""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "paperzoo"
SHARED = {"core", "datasets"}
APP = "app"  # the application layer: above core and datasets, below the CLI, beside the methods
METHODS = sorted(
    p.name
    for p in SRC.iterdir()
    if p.is_dir() and (p / "__init__.py").exists() and p.name not in SHARED | {APP}
)
HEAVY = [
    "flwr",
    "ray",
    "captum",
    "rdkit",
    "rdchiral",
    "gymnasium",
    "stable_baselines3",
    "librosa",
    "soundfile",
    "jiwer",
    "torch_geometric",
    "matplotlib",
    "pandas",
]


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = []
    pkg = path.relative_to(SRC.parent).with_suffix("").parts
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(pkg[: len(pkg) - node.level])
                mod = f"{base}.{node.module}" if node.module else base
                names += [mod] + [f"{mod}.{a.name}" for a in node.names]
            elif node.module:
                names += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return names


def _files(sub: str) -> list[Path]:
    return sorted((SRC / sub).rglob("*.py"))


@pytest.mark.parametrize("sub", sorted(SHARED))
def test_shared_packages_import_no_method(sub):
    for f in _files(sub):
        for name in _imports(f):
            parts = name.split(".")
            if parts[0] == "paperzoo" and len(parts) > 1:
                assert parts[1] != APP, f"{f} imports the application layer ({name})"
                assert parts[1] in SHARED | {"__init__"} or parts[1] == "__version__", (f, name)
                if sub == "core":
                    assert parts[1] != "datasets", f"{f}: core must not import datasets"


def test_app_imports_core_and_datasets_but_no_method():
    """app reaches the methods through the registry (module paths it is given), never by name:
    no import of a method package and no ``"paperzoo.<method>..."`` string of its own."""
    files = _files(APP)
    assert files, "src/paperzoo/app is missing"
    for f in files:
        for name in _imports(f):
            parts = name.split(".")
            if parts[0] == "paperzoo" and len(parts) > 1:
                assert parts[1] in SHARED | {APP, "__version__"}, f"{f} imports {name}"
        for node in ast.walk(ast.parse(f.read_text(), filename=str(f))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for method in METHODS:
                    assert not node.value.startswith(f"paperzoo.{method}"), (
                        f"{f} names the method module {node.value!r}"
                    )


@pytest.mark.parametrize("method", METHODS)
def test_method_imports_follow_the_layering(method):
    """A method's top (the paper) never imports its ``repro/`` (the reproduction) nor the CLI;
    no method imports another or the application layer (app)."""
    for f in _files(method):
        in_repro = "repro" in f.relative_to(SRC / method).parts[:-1]
        for name in _imports(f):
            parts = name.split(".")
            if parts[0] != "paperzoo" or len(parts) < 2:
                continue
            assert parts[1] != APP, f"{f} imports the application layer ({name})"
            assert parts[1] in SHARED | {method, "__version__"}, f"{f} imports {name}"
            if not in_repro and parts[1] == method:
                assert len(parts) < 3 or parts[2] != "repro", f"paper module {f} imports {name}"
            assert parts[1] != "cli", f"{f} imports the CLI"


@pytest.mark.parametrize("method", METHODS)
def test_every_method_has_the_two_parts(method):
    """The paper on top, the reproduction in ``repro/`` with the files every method has; no
    config, train, claims, figures, experiments or entry-point module left at the top."""
    repro = SRC / method / "repro"
    for name in ("__init__", "config", "train", "claims", "figures", "experiments"):
        assert (repro / f"{name}.py").exists(), f"{method}/repro lacks {name}.py"
    for name in ("config", "train", "claims", "figures", "experiments", "commands",
                 "distributed", "recipe", "deploy", "flower_app"):  # fmt: skip
        assert not (SRC / method / f"{name}.py").exists(), f"{method}/{name}.py belongs in repro/"


def test_importing_packages_pulls_no_heavy_optional_dependency():
    code = (
        "import importlib, json, sys\n"
        f"for m in {['paperzoo', f'paperzoo.{APP}'] + [f'paperzoo.{m}' for m in METHODS]!r}:\n"
        "    importlib.import_module(m)\n"
        "import paperzoo.core.registry as r; r.list_experiments()\n"
        f"print(json.dumps(sorted(h for h in {HEAVY!r} if h in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_help_list_and_data_status_do_not_import_torch(tmp_path):
    """The quick commands stay quick: no torch import (it costs seconds)."""
    import subprocess
    import sys

    code = (
        "import contextlib, io, sys\n"
        "from paperzoo.cli import main\n"
        "for argv in (['list'], ['data', 'status', '--no-verify', '--data-root', sys.argv[1]]):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        assert main(argv) == 0\n"
        "import paperzoo.neural_processes, paperzoo.federated, paperzoo.core, paperzoo.datasets\n"
        "import paperzoo.rl\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]


@pytest.mark.parametrize("method", METHODS)
def test_train_module_stays_readable(method):
    """A method's ``repro/train.py`` (units and run_unit) is at most 300 lines: glue that turns
    the config into component calls goes to ``repro/recipe.py``."""
    lines = (SRC / method / "repro" / "train.py").read_text().count("\n")
    assert lines <= 300, f"{method}/repro/train.py has {lines} lines (at most 300)"
