"""Two DDP processes on loopback (gloo) train the recogniser for a few steps on the tone
digits: the replicas agree and rank 0 writes a loadable model."""

import json

import pytest
import torch.multiprocessing as mp

pytest.importorskip("librosa")


def _worker(rank: int, port: int, out: str) -> None:
    import os

    import torch
    import torch.distributed as dist

    from paperzoo.asr.repro.distributed import parser, train_distributed

    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    try:
        args = parser().parse_args(
            [
                "--data",
                "tones",
                "--arm",
                "mcmma_eps1",
                "--steps",
                "3",
                "--batch-size",
                "4",
                "--num-train",
                "16",
                "--dim",
                "16",
                "--out",
                f"{out}/model.pt",
            ]
        )
        res = train_distributed(args)
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
