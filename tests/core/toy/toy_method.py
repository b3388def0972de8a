"""A tiny method for engine tests: a 'teacher' unit per seed and two student arms that load it.

Behaviour switches come from files in the run directory, so a test can make a unit crash on
its first attempt (``crash_<unit>``: raise at step 5; ``die_<unit>``: kill the worker
process) or on every attempt (``always_<unit>``).
"""

import os

import torch

from paperzoo.core import ClaimSpec, Unit

STEPS = 10


def units(cfg):
    out = []
    for s in cfg.seeds:
        out.append(Unit(f"teacher/seed{s}", "teacher", s, role="aux"))
        for arm in ("a", "b"):
            out.append(
                Unit(
                    f"{arm}/seed{s}",
                    arm,
                    s,
                    {"scale": 2.0 if arm == "a" else 1.0},
                    deps=(f"teacher/seed{s}",),
                )
            )
    return out


def _flag(ctx, kind):
    p = ctx.path / f"{kind}_{ctx.unit.key.replace('/', '_')}"
    return p if p.exists() else None


def run_unit(cfg, unit, ctx):
    w = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(w.parameters(), lr=0.1)
    g = torch.Generator().manual_seed(unit.seed)
    seen = []
    first = None  # the first step this attempt ran (5 after a resume from step 4)
    for step in ctx.steps(STEPS, {"w": w, "opt": opt, "g": g, "seen": seen}, every=2):
        first = step if first is None else first
        seen.append(step)
        x = torch.randn(8, 3, generator=g)
        loss = ((w(x) - x.sum(1, keepdim=True)) ** 2).mean() + 0.0 * torch.rand(1).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        ctx.log({"step": step, "loss": loss.item()})
        if step == 5:
            if (p := _flag(ctx, "crash")) is not None:
                p.unlink()
                raise RuntimeError("planned crash")
            if (p := _flag(ctx, "die")) is not None:
                p.unlink()
                os._exit(3)
            if _flag(ctx, "always") is not None:
                raise RuntimeError("planned permanent failure")
    if unit.role == "aux":
        torch.save({"w": w.state_dict()}, ctx.file("teacher.pt"))
        return {"loss": loss.item()}
    teacher = ctx.dep(f"teacher/seed{unit.seed}")
    t = torch.load(ctx.file("teacher.pt", teacher.key), weights_only=True)
    ctx.artifact("seen", seen)
    ctx.artifact("first_step", first)
    value = loss.item() * unit.params["scale"] + float(t["w"]["bias"][0]) + torch.rand(1).item()
    return {"score": value, "threads": float(torch.get_num_threads())}


def claims(results):
    return [ClaimSpec("a_beats_b", "a scores higher than b", "score", "a", ("b",))]
