"""Two DDP processes on loopback (gloo) train RetCL for a few steps with the smoke preset's
config: the replicas' parameters agree afterwards, differ from the start, and rank 0 writes a
loadable best model."""

import json

import pytest
import torch.multiprocessing as mp

pytest.importorskip("rdkit")


def _worker(rank: int, port: int, out: str) -> None:
    import os

    import torch
    import torch.distributed as dist

    from paperzoo.core.presets import build_config
    from paperzoo.retrosynthesis.repro.distributed import parser, train_distributed

    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    try:
        argv = ["--preset", "smoke", "--arm", "RetCL-N2", "--out", f"{out}/model.pt"]
        for kv in ("train.num_steps=12", "train.refresh_every=6", "model.hidden_dim=16"):
            argv += ["--set", kv]
        args = parser().parse_args(argv)
        cfg = build_config("retrosynthesis", args.preset, overrides=args.overrides)
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
    assert [s for s, _ in r0["val_top1"]] == [0, 6, 12] and r1["val_top1"] == []

    import torch

    from paperzoo.retrosynthesis import RetCLModel, load_model

    torch.manual_seed(0)
    start = sum(float(p.detach().double().sum()) for p in RetCLModel(16, 2).parameters())
    assert abs(r0["checksum"] - start) > 1e-3  # training moved the weights
    assert load_model(tmp_path / "model.pt").dim == 16
