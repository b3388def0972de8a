"""Every example in ``paperzoo --help`` and in the READMEs is run here.

Python blocks of each README run top to bottom in a fresh interpreter. Command lines are handled
by what they would do: ``paperzoo reproduce`` lines are parsed by the real CLI and their config
is built and validated (``--show-config``: the preset, every ``--set`` key and value), without
the minutes of training; ``list``, ``data status`` and ``report`` run for real on temporary
folders; other ``paperzoo`` lines, the federated deployment and the benchmark scripts are parsed
by their own argument parsers (a renamed flag or key fails here).
"""

import ast
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from paperzoo.cli import EPILOG, _parser, main

ROOT = Path(__file__).resolve().parents[1]
READMES = [ROOT / "README.md", *sorted((ROOT / "src" / "paperzoo").glob("*/README.md"))]


def _blocks(path: Path, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", path.read_text(), flags=re.S)


def _command_lines(text: str) -> list[str]:
    """Shell lines with continuations joined, comments and ``nice -n N`` / ``&`` dropped."""
    out = []
    for line in text.replace("\\\n", " ").splitlines():
        line = line.split(" #")[0].strip().removesuffix("&").strip()
        line = re.sub(r"^nice -n \d+ ", "", line)
        if line and not line.startswith("#"):
            out.append(line)
    return out


def _examples() -> list[tuple[str, str]]:
    found = [("paperzoo --help", ln) for ln in _command_lines(EPILOG.split("examples:", 1)[1])]
    for path in READMES:
        for block in _blocks(path, "bash"):
            found += [(path.relative_to(ROOT).as_posix(), ln) for ln in _command_lines(block)]
    return found


EXAMPLES = _examples()
SYNOPSIS = re.compile(r"\[|\bMETHOD\b|\bRUN_DIR\b")  # usage summaries, not examples


def _tmp_paths(tokens: list[str], tmp: Path) -> list[str]:
    """Placeholder or machine-specific paths after path options -> temporary folders."""
    out = list(tokens)
    for i, t in enumerate(out[:-1]):
        if t in ("--data-root", "--out", "--runs"):
            out[i + 1] = str(tmp / t.strip("-"))
    return out


def test_the_readmes_and_help_have_examples():
    assert len(EXAMPLES) > 20
    assert any(src == "paperzoo --help" for src, _ in EXAMPLES)


@pytest.mark.parametrize("source, line", EXAMPLES, ids=[ln[:60] for _, ln in EXAMPLES])
def test_command_example(source, line, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PAPERZOO_CACHE", str(tmp_path / "cache"))
    tokens = shlex.split(line)
    head = tokens[0]
    if head == "make":
        assert re.search(rf"^{tokens[1]}:", (ROOT / "Makefile").read_text(), flags=re.M)
    elif head in ("pytest", ".venv/bin/pytest"):
        assert all((ROOT / t).exists() for t in tokens[1:] if not t.startswith("-"))
    elif head in ("python", "python3", ".venv/bin/python", ".venv/bin/pip"):
        _python_line(tokens)
    elif head == "paperzoo" and not SYNOPSIS.search(line):
        _paperzoo_line(tokens[1:], tmp_path)
    elif head == "paperzoo" or head.startswith("["):  # a usage summary: its --flags exist
        flags = set(re.findall(r"--[a-z-]+", line))
        help_text = "".join(p.format_help() for p in _subparsers().values())
        assert all(f in help_text for f in flags), flags
    elif head == "wait":
        pass
    else:
        pytest.fail(f"{source}: no rule to check {line!r}")


def _subparsers(p=None) -> dict:
    """Every (nested) sub-command's parser by name."""
    import argparse

    p = p or _parser()
    out = {}
    for a in p._actions:
        if isinstance(a, argparse._SubParsersAction):
            for name, sp in a.choices.items():
                out[name] = sp
                out.update(_subparsers(sp))
    return out


def _paperzoo_line(args: list[str], tmp: Path) -> None:
    args = _tmp_paths(args, tmp)
    cmd = args[0]
    if cmd == "reproduce":
        assert main([*args, "--show-config"]) == 0, args
    elif cmd in ("list", "data") and args[:2] not in (
        ["data", "prepare"],
        ["data", "build-speech"],
    ):
        if cmd == "data" and "--data-root" not in args:
            args = [*args, "--data-root", str(tmp / "data")]
        assert main(args) == 0, args
    elif cmd == "report" and not {"--update-docs", "--rejudge-docs"} & set(args):
        (tmp / "runs").mkdir(exist_ok=True)
        assert main([*args, "--runs", str(tmp / "runs")]) == 0, args
    else:  # finalize of an example run, data prepare (downloads), build-speech (needs the
        # speech synthesizers), report into the tracked docs/results (a test must not rewrite
        # the repository): parsed only
        _parser().parse_args(args)


def _python_line(tokens: list[str]) -> None:
    if tokens[1:2] == ["-m"] and tokens[2].startswith("paperzoo."):
        import importlib

        importlib.import_module(tokens[2]).parser().parse_args(tokens[3:])
        return
    if tokens[0].endswith("pip") or tokens[1:2] == ["-m"]:
        return  # installation lines, checked by `make venv` in CI
    script = ROOT / tokens[1]
    assert script.is_file(), script
    source = script.read_text()
    ast.parse(source)
    for flag in (t.split("=")[0] for t in tokens[2:] if t.startswith("--")):
        assert f'"{flag}"' in source, f"{script.name} has no option {flag}"


@pytest.mark.slow
@pytest.mark.parametrize(
    "readme", [p for p in READMES if _blocks(p, "python")], ids=lambda p: p.parent.name
)
def test_python_examples_run_and_print_the_same_twice(readme, tmp_path):
    code = "\n".join(_blocks(readme, "python"))
    outs = []
    for _ in range(2):  # an example a reader reruns must print the same numbers
        r = subprocess.run(
            [sys.executable, "-c", code],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert r.returncode == 0, r.stderr[-3000:]
        outs.append(r.stdout)
    assert outs[0] == outs[1], outs
