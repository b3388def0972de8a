"""Training throughput of SAC, PER-SAC, MQL and MaPER, where it goes, and the buffer cost vs size.

Usage::

    nice -n 10 .venv/bin/python benchmarks/rl.py [--steps 2000] [--rounds 3]
        [--net-arch 64,64] [--mode process|chunks|profile] [--sizes 1000 10000 100000 1000000]
        [--label before]

Part 1: each agent learns ``--steps`` Pendulum-v1 steps (the ``quick`` hyperparameters: 64
gradient steps of batch 256 every 64 environment steps, learning from step 500; hidden layers
``--net-arch``, 64x64 by default, ``400,300`` the paper's) in its own single-threaded subprocess;
the agents run interleaved (SAC, SAC (our loop), PER, MQL, MaPER, SAC, ...) for ``--rounds``
rounds. ``SAC (our loop)`` is SAC's losses run by this package's training loop
(``PrioritizedSAC`` with SB3's uniform ``ReplayBuffer``), to tell the loop's own speed from
MaPER's additions. Each run
reports its environment steps per second of the timed ``learn`` (after construction) by the wall
clock and by this thread's CPU time (``time.thread_time``: torch runs single-threaded in this
thread, so it is the run's compute, without the time other processes held the core on a shared
machine). Each agent's ratio to SAC is taken within each round (the runs seconds apart) and its
median over the rounds is reported with the median steps per second. Parameter counts are
reported too: the model-augmented critic's last layer has ``2 + obs_dim`` outputs instead of 1.

``--mode chunks``: the same runs, but the agents live in one single-threaded process per round
and learn in turns of one ``train_freq`` chunk each (64 environment steps and, after
``learning_starts``, 64 gradient steps: SAC, ..., MaPER, SAC, ...), each agent's steps per
second being its ``--steps`` over the summed time of its chunks. The agents then share the
machine's state within milliseconds instead of seconds, which on a shared machine cuts the
spread of the ratios several-fold (separate processes differ by tens of percent in CPU time for
the same work there). Each chunk is a ``learn(64, reset_num_timesteps=False)`` call, so ``beta``
is annealed per chunk rather than over the run; that changes no cost.

``--mode profile``: where each agent's CPU time goes, in µs per gradient step: this thread's CPU
time inside the buffer's ``sample``/``add``/``update_priorities``, the package's critic loss,
the target update, the Adam steps and the actor's sampling, the rest being the forward and
backward passes and the environment; agents in turns of 64 steps as in ``chunks``.

To time another version of paperzoo (say, before a change), run this script with
``PYTHONPATH=<other checkout>/src`` (``git worktree add /tmp/rl_old HEAD``) and ``--label``; the
JSON records which ``paperzoo`` the workers imported.

Part 2: one ``sample(256)`` (the preset's batch) plus ``update_priorities`` of the sampled
indices on a full :class:`~paperzoo.rl.PrioritizedReplayBuffer` of each size, median over
repetitions, sizes interleaved across rounds; the per-operation time should grow like
``log2(size)`` (the tree depth), not like the size. ``--sizes`` with no value skips it.

Writes ``benchmarks/out/rl[_<net arch>][_<mode>][_<label>].json`` (``rl.json`` for 64x64, the
process mode and no label).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

WORKER = "--worker"
OUR_SAC = "SAC (our loop)"
AGENTS = ("SAC", OUR_SAC, "SAC+PER", "MQL", "MaPER")


def _config(net_arch: str) -> Any:
    """The quick preset, learning from step 500 instead of 1,000 so that most of a short timed
    run trains, with hidden layers ``net_arch``."""
    from paperzoo.core.presets import build_config

    overrides = ["agent.learning_starts=500", f"agent.net_arch=[{net_arch}]"]
    return build_config("rl", "quick", overrides=overrides)


def _build(arm: str, cfg: Any) -> Any:
    """The reproduction's agent for ``arm``; ``OUR_SAC`` is SAC run by this package's training
    loop (``PrioritizedSAC`` with SB3's uniform ``ReplayBuffer``: the same losses and numbers
    as SAC, tested), to tell the loop's own speed from MaPER's additions."""
    import gymnasium as gym
    import stable_baselines3

    from paperzoo.rl.repro.train import build_agent

    env = gym.make(cfg.env.env_id)
    if arm != OUR_SAC:
        return build_agent(arm, env, cfg, seed=0)
    from stable_baselines3.common.buffers import ReplayBuffer

    from paperzoo.rl import PrioritizedSAC

    def ours(*args: Any, **kwargs: Any) -> Any:
        return PrioritizedSAC(*args, replay_buffer_class=ReplayBuffer, **kwargs)

    # build_agent's SAC branch with the class swapped: the same hyperparameters by construction
    sac = stable_baselines3.SAC
    stable_baselines3.SAC = ours  # type: ignore[misc]
    try:
        return build_agent("SAC", env, cfg, seed=0)
    finally:
        stable_baselines3.SAC = sac  # type: ignore[misc]


def _agent_worker(arm: str, steps: int, net_arch: str) -> dict:
    import torch

    torch.set_num_threads(1)
    import paperzoo

    model = _build(arm, _config(net_arch))
    params = sum(p.numel() for p in model.policy.parameters())
    critic = sum(p.numel() for p in model.critic.parameters())
    t0, c0 = time.perf_counter(), time.thread_time()
    model.learn(steps)
    wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
    return {
        "arm": arm,
        "steps_per_s": steps / wall,
        "cpu_steps_per_s": steps / cpu,
        "params": params,
        "critic_params": critic,
        "paperzoo": str(Path(paperzoo.__file__).parent),
    }


def _chunks_worker(steps: int, net_arch: str) -> dict:
    """All agents in this process, learning in turns of one ``train_freq`` chunk each."""
    import torch

    torch.set_num_threads(1)
    import paperzoo

    cfg = _config(net_arch)
    chunk = cfg.agent.train_freq
    models = {arm: _build(arm, cfg) for arm in AGENTS}
    wall = dict.fromkeys(AGENTS, 0.0)
    cpu = dict.fromkeys(AGENTS, 0.0)
    done = 0
    while done < steps:
        n = min(chunk, steps - done)
        for arm, model in models.items():
            t0, c0 = time.perf_counter(), time.thread_time()
            model.learn(n, reset_num_timesteps=done == 0)
            wall[arm] += time.perf_counter() - t0
            cpu[arm] += time.thread_time() - c0
        done += n
    return {
        arm: {
            "arm": arm,
            "steps_per_s": steps / wall[arm],
            "cpu_steps_per_s": steps / cpu[arm],
            "params": sum(p.numel() for p in m.policy.parameters()),
            "critic_params": sum(p.numel() for p in m.critic.parameters()),
            "paperzoo": str(Path(paperzoo.__file__).parent),
        }
        for arm, m in models.items()
    }


def _profile_worker(steps: int, net_arch: str) -> dict:
    """Where each agent's time goes: this thread's CPU time inside the parts that differ
    between the agents, per gradient step, over chunks interleaved as in ``--mode chunks``
    (the first ``learning_starts`` steps, which only act and store, are run untimed). Works
    with this and older versions of paperzoo (parts a version lacks read 0)."""
    import functools

    import stable_baselines3.sac.sac as sb3_sac
    import torch

    torch.set_num_threads(1)
    import paperzoo
    import paperzoo.rl.agents as ours

    cfg = _config(net_arch)
    chunk, start = cfg.agent.train_freq, cfg.agent.learning_starts
    models = {arm: _build(arm, cfg) for arm in AGENTS}
    parts: dict[str, dict[str, float]] = {arm: {} for arm in AGENTS}
    current = [AGENTS[0]]

    def timed(name: str, fn: Any) -> Any:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            c0 = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                into = parts[current[0]]
                into[name] = into.get(name, 0.0) + time.thread_time() - c0

        return wrapper

    for module, name in ((sb3_sac, "polyak_update"), (ours, "polyak_update"), (ours, "_polyak")):
        if hasattr(module, name):
            setattr(module, name, timed("target update (Polyak)", getattr(module, name)))
    for model in models.values():
        model.learn(start, reset_num_timesteps=True)  # untimed: acting and storing only
        buf = model.replay_buffer
        for name, label in (("sample", "buffer sample"), ("add", "buffer add")):
            setattr(buf, name, timed(label, getattr(buf, name)))
        if hasattr(buf, "update_priorities"):
            buf.update_priorities = timed("priority update", buf.update_priorities)
        if hasattr(model, "_critic_loss"):  # SB3's SAC computes its loss inline
            model._critic_loss = timed("critic loss (ours)", model._critic_loss)
        for opt in (model.actor.optimizer, model.critic.optimizer, model.ent_coef_optimizer):
            opt.step = timed("Adam steps", opt.step)
        model.actor.action_log_prob = timed("actor sample + log-prob", model.actor.action_log_prob)
    total = dict.fromkeys(AGENTS, 0.0)
    done = 0
    while done < steps:
        for arm, model in models.items():
            current[0] = arm
            c0 = time.thread_time()
            model.learn(chunk, reset_num_timesteps=False)
            total[arm] += time.thread_time() - c0
        done += chunk
    us = 1e6 / done  # per environment step = per gradient step here
    out = {}
    for arm in AGENTS:
        row = {k: v * us for k, v in parts[arm].items()}
        if "priority update" in row and "critic loss (ours)" in row:  # called inside the loss
            row["critic loss (ours)"] -= row["priority update"]
        row["rest (forward, backward, env)"] = total[arm] * us - sum(row.values())
        row["total"] = total[arm] * us
        out[arm] = row
    return {"us_per_step": out, "steps": done, "paperzoo": str(Path(paperzoo.__file__).parent)}


def _buffer_worker(size: int, reps: int) -> dict:
    import numpy as np
    from gymnasium import spaces

    from paperzoo.core.presets import build_config
    from paperzoo.rl import PrioritizedReplayBuffer

    batch = build_config("rl", "quick").agent.batch_size
    obs = spaces.Box(-10, 10, (3,), np.float32)
    act = spaces.Box(-1, 1, (1,), np.float32)
    buf = PrioritizedReplayBuffer(size, obs, act, device="cpu")
    # Fill without the per-step add loop: write the arrays and priorities directly (writing
    # touches every page, so the timed samples do not pay first-touch page faults).
    buf.pos, buf.full = 0, True
    rng = np.random.default_rng(0)
    for name in ("observations", "next_observations", "actions", "rewards", "dones"):
        arr = getattr(buf, name)
        arr[...] = rng.random(arr.shape)
    buf.update_priorities(np.arange(size), rng.random(size))
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        s = buf.sample(batch)
        buf.update_priorities(s.indices, rng.random(batch))
        times.append(time.perf_counter() - t0)
    return {"size": size, "ms_per_sample_update": 1e3 * statistics.median(times)}


def _run(args: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, WORKER, *args], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _agent_table(agents: dict[str, list[dict]]) -> dict[str, dict]:
    """Per agent: steps/s per round and median (wall and CPU), and the per-round ratios to SAC's
    with their median (each ratio within one round, where the two runs shared the load)."""
    table = {}
    for arm, runs in agents.items():
        row: dict = {"params": runs[0]["params"], "critic_params": runs[0]["critic_params"]}
        for key in ("steps_per_s", "cpu_steps_per_s"):
            rounds = [x[key] for x in runs]
            ratios = [x[key] / s[key] for x, s in zip(runs, agents["SAC"], strict=True)]
            row[f"{key}_rounds"] = rounds
            row[f"median_{key}"] = statistics.median(rounds)
            row[f"{key}_ratio_rounds"] = ratios
            row[f"{key}_ratio_to_sac"] = statistics.median(ratios)
        table[arm] = row
    return table


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == WORKER:
        kind, a, b = sys.argv[2:5]
        if kind == "agent":
            res = _agent_worker(a, int(b), sys.argv[5])
        elif kind == "chunks":
            res = _chunks_worker(int(a), b)
        elif kind == "profile":
            res = _profile_worker(int(a), b)
        else:
            res = _buffer_worker(int(a), int(b))
        print(json.dumps(res))
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=2000, help="environment steps per agent run")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    p.add_argument("--net-arch", default="64,64", help="hidden sizes, e.g. 400,300 (the paper's)")
    p.add_argument(
        "--mode",
        choices=("process", "chunks", "profile"),
        default="process",
        help="one process per agent run; all agents in one process taking turns per chunk; "
        "or where each agent's CPU time goes, per gradient step (no timing table)",
    )
    p.add_argument("--reps", type=int, default=200, help="buffer operations timed per size")
    p.add_argument(
        "--sizes",
        type=int,
        nargs="*",
        default=[1_000, 10_000, 100_000, 1_000_000],
        help="buffer sizes for part 2 (none: skip it)",
    )
    p.add_argument("--label", default="", help="suffix of the JSON (e.g. before)")
    p.add_argument("--out", default=None, help="JSON path (default: benchmarks/out/rl*.json)")
    args = p.parse_args()
    arch = [int(h) for h in args.net_arch.split(",")]
    net_arch = ",".join(map(str, arch))
    if args.out is None:
        suffix = ("" if arch == [64, 64] else "_" + "x".join(map(str, arch))) + (
            "" if args.mode == "process" else f"_{args.mode}"
        )
        suffix += f"_{args.label}" if args.label else ""
        args.out = str(Path(__file__).parent / "out" / f"rl{suffix}.json")
    load_start = os.getloadavg()
    if args.mode == "profile":
        prof = _run(["profile", str(args.steps), net_arch])
        rows = prof["us_per_step"]
        names = {k for r in rows.values() for k in r}
        names = sorted(names, key=lambda k: -rows["MaPER"].get(k, 0.0))
        print(f"paperzoo from {prof['paperzoo']}, net_arch {arch}, {prof['steps']} timed steps")
        print(f"{'us CPU per gradient step':30s}" + "".join(f"{a:>16s}" for a in AGENTS))
        for k in names:
            print(f"{k:30s}" + "".join(f"{rows[a].get(k, 0.0):16.1f}" for a in AGENTS))
        prof.update(load_average_start_end=[load_start, os.getloadavg()], net_arch=arch)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(prof, indent=2))
        return
    agents: dict[str, list[dict]] = {a: [] for a in AGENTS}
    buffers: dict[int, list[float]] = {s: [] for s in args.sizes}
    for r in range(args.rounds):
        if args.mode == "chunks":
            runs = _run(["chunks", str(args.steps), net_arch, ""])
        for arm in AGENTS:
            if args.mode == "chunks":
                agents[arm].append(runs[arm])
            else:
                agents[arm].append(_run(["agent", arm, str(args.steps), net_arch]))
            x = agents[arm][-1]
            print(
                f"round {r} {arm}: {x['steps_per_s']:.1f} steps/s wall, "
                f"{x['cpu_steps_per_s']:.1f} CPU",
                flush=True,
            )
        for size in args.sizes:
            ms = _run(["buffer", str(size), str(args.reps)])["ms_per_sample_update"]
            buffers[size].append(ms)
            print(f"round {r} buffer {size}: {ms:.3f} ms", flush=True)
    table = _agent_table(agents)
    import math

    buf = {
        str(s): {
            "median_ms": statistics.median(v),
            "log2_size": math.log2(s),
            "ms_per_level": statistics.median(v) / math.log2(s),
        }
        for s, v in buffers.items()
    }
    res = {
        "agents": table,
        "buffer": buf,
        "steps": args.steps,
        "rounds": args.rounds,
        "net_arch": arch,
        "mode": args.mode,
        "label": args.label,
        "paperzoo": agents["SAC"][0]["paperzoo"],
        "load_average_start_end": [load_start, os.getloadavg()],
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": platform.platform(),
        "python": platform.python_version(),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=2))
    print(
        f"paperzoo from {res['paperzoo']}, net_arch {arch}, mode {args.mode}, "
        f"load {res['load_average_start_end']}"
    )
    for arm, t in table.items():
        print(
            f"{arm:8s} wall {t['median_steps_per_s']:6.1f} steps/s "
            f"x{t['steps_per_s_ratio_to_sac']:.2f} "
            f"({' '.join(f'{v:.2f}' for v in t['steps_per_s_ratio_rounds'])}), "
            f"CPU {t['median_cpu_steps_per_s']:6.1f} x{t['cpu_steps_per_s_ratio_to_sac']:.2f} "
            f"({' '.join(f'{v:.2f}' for v in t['cpu_steps_per_s_ratio_rounds'])}); "
            f"params {t['params']:,} (critic {t['critic_params']:,})"
        )
    for s, b in buf.items():
        print(f"buffer {int(s):>9,}: {b['median_ms']:.3f} ms, {b['ms_per_level']:.4f} ms/level")


if __name__ == "__main__":
    main()
