"""The students' fine-tuning schedules as the units run them: a constant rate (the official
code, and every run stored before ``prune.lr_schedule``) or a cosine decay to 0 within each
pruning iteration and over the structured fine-tuning, resumed on the same curve; and the
stochastic arm is the only one that drops teacher channels, at train time only."""

import math
from types import SimpleNamespace

import pytest
import torch

from paperzoo.compression.repro import train as tr
from paperzoo.compression.repro.config import Config, MatchingConfig
from paperzoo.compression.repro.experiments import smoke
from paperzoo.core.config import config_from_dict

BASE_LR = 1e-3


def _cfg(schedule: str) -> Config:
    cfg = smoke()
    cfg.prune.lr_schedule = schedule
    cfg.prune.learning_rate = BASE_LR
    cfg.prune.batch_size = 8
    cfg.prune.num_iterations = 2
    cfg.prune.epochs_per_iteration = 1.0  # 24 images / 8 -> 3 steps per iteration
    cfg.prune.structured_epochs = 2.0  # 6 steps over 2 checkpointed epochs
    return cfg


class _Ctx(SimpleNamespace):
    """The parts of a UnitContext the pruning units use (no checkpoints, logs dropped)."""

    def __init__(self, seed: int = 0, start_epoch: int = 0) -> None:
        super().__init__(unit=SimpleNamespace(seed=seed, key="prune/seed0"))
        self.start_epoch = start_epoch

    def log(self, row: dict) -> None:
        pass

    def steps(self, total: int, state: dict, *, name: str = "", every: int = 1):
        return iter(range(self.start_epoch + 1, total + 1))  # as if resumed after start_epoch


def _recorded_lrs(monkeypatch, run) -> list[float]:
    """The learning rate of every optimiser step taken inside ``run()``."""
    seen: list[float] = []
    real_fit = tr.fit

    def spy(objective, opt, batches, **kw):
        def each():
            for b in batches:
                seen.append(opt.param_groups[0]["lr"])  # the rate this batch's step uses
                yield b

        return real_fit(objective, opt, each(), **kw)

    monkeypatch.setattr(tr, "fit", spy)
    run()
    return seen


def _data(cfg: Config) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    n = cfg.data.canvas_size
    return torch.rand(24, 1, n, n, generator=g), torch.randint(0, 10, (24,), generator=g)


def _cosine(total: int, start: int = 0) -> list[float]:
    return [0.5 * BASE_LR * (1 + math.cos(math.pi * s / total)) for s in range(start, total)]


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_unstructured_pruning_restarts_the_schedule_every_iteration(monkeypatch, schedule):
    cfg = _cfg(schedule)
    torch.manual_seed(0)
    teacher = tr._build(cfg, 1).eval()
    lrs = _recorded_lrs(monkeypatch, lambda: tr._prune(cfg, "plain", teacher, _data(cfg), _Ctx()))
    want = [BASE_LR] * 3 if schedule == "constant" else _cosine(3)
    assert lrs == pytest.approx(want * cfg.prune.num_iterations)


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_structured_fine_tuning_follows_one_curve_across_resumed_epochs(monkeypatch, schedule):
    cfg = _cfg(schedule)
    torch.manual_seed(0)
    teacher = tr._build(cfg, 1).eval()
    data = _data(cfg)

    def run(start: int) -> list[float]:
        return _recorded_lrs(
            monkeypatch,
            lambda: tr._prune_structured(cfg, "plain", teacher, data, _Ctx(start_epoch=start)),
        )

    want = [BASE_LR] * 6 if schedule == "constant" else _cosine(6)
    assert run(0) == pytest.approx(want)
    # resumed after its first epoch: the second epoch continues the curve, not a new one
    assert run(1) == pytest.approx(want[3:])


def test_cosine_rate_reaches_zero_and_constant_leaves_the_rate_alone():
    cfg = _cfg("cosine")
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=5.0)
    on_step = tr._stage_lr(cfg, opt, total=4, done=2)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.5 * BASE_LR)  # half-way: cos(pi/2) = 0
    on_step(1, None)  # after the stage's last step (done + 1 + 1 = 4 = total)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-15)
    opt.param_groups[0]["lr"] = 5.0
    assert tr._stage_lr(_cfg("constant"), opt, total=4) is None
    assert opt.param_groups[0]["lr"] == 5.0


def test_runs_stored_before_the_schedule_load_with_a_constant_rate():
    # the former quick_prune's stored config (no lr_schedule key) means what it ran
    cfg = config_from_dict(Config, {"prune": {"epochs_per_iteration": 6.0, "structured": False}})
    assert cfg.prune.lr_schedule == "constant"


def test_only_the_stochastic_arm_drops_teacher_channels_at_the_readme_rate():
    cfg = smoke()
    torch.manual_seed(0)
    teacher, student = tr._build(cfg, 1).eval(), tr._build(cfg, 2)
    assert MatchingConfig().stochastic_drop == 0.3  # README: --stochastic --drop_percent 0.3
    drops = {
        arm: tr._matching(cfg, arm, teacher, student, seed=0).stochastic_drop
        for arm in ("at", "wcam", "wcam_stochastic")
    }
    assert drops == {"at": 0.0, "wcam": 0.0, "wcam_stochastic": 0.3}
    assert tr._matching(cfg, "plain", teacher, student, seed=0) is None


def test_evaluation_maps_never_drop_channels():
    # the official code erases channels in its training loops only (validation and
    # evaluate_localization.py call the model without erase_channel): our evaluation takes
    # the full teacher's Grad-CAM, deterministic and equal to the undropped map
    from paperzoo.compression import grad_cam
    from paperzoo.compression.repro.recipe import LAYER, gradcam_maps

    cfg = smoke()
    torch.manual_seed(0)
    model = tr._build(cfg, 1).eval()
    x, y = _data(cfg)
    a, _ = gradcam_maps(model, x, y, cfg.matching.reduction)
    b, _ = gradcam_maps(model, x, y, cfg.matching.reduction)
    full = grad_cam(model, LAYER, x, y, create_graph=False, reduction=cfg.matching.reduction)
    assert torch.equal(a, b) and torch.allclose(a, full.maps)
