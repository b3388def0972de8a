"""Training throughput of SAC vs PER-SAC, MQL and MaPER, and the prioritized buffer's cost vs size.

Usage::

    nice -n 10 .venv/bin/python benchmarks/rl.py [--steps 2000] [--rounds 3]
        [--sizes 1000 10000 100000 1000000]

Part 1: each agent learns ``--steps`` Pendulum-v1 steps (64x64 networks, the ``quick``
hyperparameters: 64 gradient steps of batch 256 every 64 environment steps, learning from step
500) in its own single-threaded subprocess; the agents run interleaved (SAC, PER, MQL, MaPER,
SAC, ...) for ``--rounds`` rounds, and each agent's median environment steps per second (of the
timed ``learn``, after construction) is reported with its ratio to SAC's. Parameter counts are
reported too: the model-augmented critic's last layer has ``2 + obs_dim`` outputs instead of 1.

Part 2: one ``sample(256)`` (the preset's batch) plus ``update_priorities`` of the sampled
indices on a full :class:`~paperzoo.rl.PrioritizedReplayBuffer` of each size, median over
repetitions, sizes interleaved across rounds; the per-operation time should grow like
``log2(size)`` (the tree depth), not like the size.

Writes ``benchmarks/out/rl.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

WORKER = "--worker"
AGENTS = ("SAC", "SAC+PER", "MQL", "MaPER")


def _agent_worker(arm: str, steps: int) -> dict:
    import torch

    torch.set_num_threads(1)
    import gymnasium as gym

    from paperzoo.core.presets import build_config
    from paperzoo.rl.repro.train import build_agent

    # The quick preset's agents, learning from step 500 instead of 1,000 so that most of a
    # short timed run trains.
    cfg = build_config("rl", "quick", overrides=["agent.learning_starts=500"])
    model = build_agent(arm, gym.make(cfg.env.env_id), cfg, seed=0)
    params = sum(p.numel() for p in model.policy.parameters())
    critic = sum(p.numel() for p in model.critic.parameters())
    t0 = time.perf_counter()
    model.learn(steps)
    wall = time.perf_counter() - t0
    return {"arm": arm, "steps_per_s": steps / wall, "params": params, "critic_params": critic}


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


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == WORKER:
        kind, a, b = sys.argv[2:5]
        res = _agent_worker(a, int(b)) if kind == "agent" else _buffer_worker(int(a), int(b))
        print(json.dumps(res))
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=2000, help="environment steps per agent run")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    p.add_argument("--reps", type=int, default=200, help="buffer operations timed per size")
    p.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    p.add_argument("--out", default=str(Path(__file__).parent / "out" / "rl.json"))
    args = p.parse_args()
    agents: dict[str, list[dict]] = {a: [] for a in AGENTS}
    buffers: dict[int, list[float]] = {s: [] for s in args.sizes}
    for r in range(args.rounds):
        for arm in AGENTS:
            agents[arm].append(_run(["agent", arm, str(args.steps)]))
            print(f"round {r} {arm}: {agents[arm][-1]['steps_per_s']:.1f} steps/s", flush=True)
        for size in args.sizes:
            ms = _run(["buffer", str(size), str(args.reps)])["ms_per_sample_update"]
            buffers[size].append(ms)
            print(f"round {r} buffer {size}: {ms:.3f} ms", flush=True)
    sac = statistics.median(x["steps_per_s"] for x in agents["SAC"])
    table = {
        arm: {
            "median_steps_per_s": statistics.median(x["steps_per_s"] for x in runs),
            "ratio_to_sac": statistics.median(x["steps_per_s"] for x in runs) / sac,
            "params": runs[0]["params"],
            "critic_params": runs[0]["critic_params"],
        }
        for arm, runs in agents.items()
    }
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
        "machine": platform.platform(),
        "python": platform.python_version(),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=2))
    for arm, t in table.items():
        print(
            f"{arm:8s} {t['median_steps_per_s']:7.1f} steps/s  x{t['ratio_to_sac']:.2f}  "
            f"params {t['params']:,} (critic {t['critic_params']:,})"
        )
    for s, b in buf.items():
        print(f"buffer {int(s):>9,}: {b['median_ms']:.3f} ms, {b['ms_per_level']:.4f} ms/level")


if __name__ == "__main__":
    main()
