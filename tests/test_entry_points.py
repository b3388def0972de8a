"""One config for every way of running a method: each entry point that trains outside
``paperzoo reproduce`` (torchrun DDP, the Flower deployment and app, evaluation commands) builds
its config from a preset plus ``--set`` through the same validation, so ``--preset P`` is the
config ``paperzoo reproduce METHOD --preset P`` runs, field by field."""

import dataclasses
import importlib

import pytest

from paperzoo.core.presets import build_config, config_from_args
from paperzoo.core.registry import list_experiments

DDP = [
    ("asr", "paperzoo.asr.repro.distributed"),
    ("tts", "paperzoo.tts.repro.distributed"),
    ("retrosynthesis", "paperzoo.retrosynthesis.repro.distributed"),
]


def _parser(module: str):
    pytest.importorskip("torch.distributed")
    return importlib.import_module(module).parser()


@pytest.mark.parametrize(("method", "module"), DDP)
@pytest.mark.parametrize("preset", ["smoke", "quick", "paper"])
def test_ddp_config_is_reproduce_config(method, module, preset):
    if preset not in {e.preset for e in list_experiments(method)}:
        pytest.skip(f"{method} has no {preset} preset")
    over = ["train.batch_size=32"]
    args = _parser(module).parse_args(["--preset", preset, "--set", over[0]])
    got = config_from_args(method, args)
    ref = build_config(method, preset, overrides=over)
    assert dataclasses.asdict(got) == dataclasses.asdict(ref)
    assert got.train.batch_size == 32


@pytest.mark.parametrize(("method", "module"), DDP)
def test_ddp_defaults_to_the_quick_preset(method, module):
    args = _parser(module).parse_args([])
    assert dataclasses.asdict(config_from_args(method, args)) == dataclasses.asdict(
        build_config(method, "quick")
    )


@pytest.mark.parametrize(("method", "module"), DDP)
@pytest.mark.parametrize(
    ("argv", "word"),
    [
        (["--set", "train.learning_rate=-1"], "learning_rate"),
        (["--set", "train.no_such_key=1"], "no_such_key"),
        (["--preset", "nope"], "nope"),
    ],
)
def test_ddp_bad_usage_exits_2_with_one_line(method, module, argv, word, capsys):
    mod = importlib.import_module(module)
    if "learning_rate" in argv[-1] and method == "tts":
        argv = ["--set", "train.lr_scale=-1"]
        word = "lr_scale"
    with pytest.raises(SystemExit) as e:
        mod.main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and word in err[0], err
