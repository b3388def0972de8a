"""The DDP entry point: its config is the preset's, as `paperzoo reproduce` resolves it; two DDP
processes on loopback (gloo) train the recogniser for a few steps on the tone digits, the
replicas agree and rank 0 writes a loadable model."""

import json

import pytest
import torch.multiprocessing as mp

pytest.importorskip("librosa")


def _worker(rank: int, port: int, out: str) -> None:
    import os

    import torch
    import torch.distributed as dist

    from paperzoo.asr.repro.distributed import parser, train_distributed
    from paperzoo.core.presets import build_config

    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    try:
        argv = ["--preset", "smoke", "--arm", "mcmma_eps1", "--out", f"{out}/model.pt"]
        for kv in ("train.num_steps=3", "train.batch_size=4", "data.num_train=16"):
            argv += ["--set", kv]
        args = parser().parse_args(argv)
        cfg = build_config("asr", args.preset, overrides=args.overrides)
        res = train_distributed(args, cfg)
    finally:
        dist.destroy_process_group()
    with open(f"{out}/rank{rank}.json", "w") as f:
        json.dump(res, f)


@pytest.mark.slow
def test_two_process_ddp_replicas_agree(tmp_path, free_port):
    mp.spawn(_worker, args=(free_port, str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (json.loads((tmp_path / f"rank{i}.json").read_text()) for i in (0, 1))
    assert r0["checksum"] == pytest.approx(r1["checksum"], rel=1e-6, abs=1e-6)
    from paperzoo.asr.model import load_recognizer

    model, feats = load_recognizer(tmp_path / "model.pt")
    assert model.mma_layers[0].constraint == "mutual" and feats.mean is not None


def test_ddp_trains_what_a_unit_trains():
    """The unit and the entry point build the same optimiser and warm-up from the config."""
    import torch

    from paperzoo.asr.repro.recipe import make_optimizer
    from paperzoo.core.presets import build_config

    cfg = build_config("asr", "quick")
    opt, sched = make_optimizer(cfg, [torch.nn.Parameter(torch.zeros(1))])
    assert opt.param_groups[0]["lr"] == pytest.approx(cfg.train.learning_rate / cfg.train.warmup)
    for _ in range(cfg.train.warmup):
        opt.step()
        sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(cfg.train.learning_rate)
