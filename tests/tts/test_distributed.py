"""Two DDP processes on loopback (gloo) train StyleSpeech for a few steps on the tone digits,
with the smoke preset's config: the replicas agree and rank 0 writes a model `synthesize`
can load."""

import json

import pytest
import torch.multiprocessing as mp

pytest.importorskip("librosa")


def _worker(rank: int, port: int, out: str) -> None:
    import os

    import torch
    import torch.distributed as dist

    from paperzoo.core.presets import build_config
    from paperzoo.tts.repro.distributed import parser, train_distributed

    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    try:
        argv = ["--preset", "smoke", "--out", f"{out}/model.pt"]
        for kv in ("train.num_steps=3", "train.batch_size=4", "data.num_train=8"):
            argv += ["--set", kv]
        args = parser().parse_args(argv)
        res = train_distributed(args, build_config("tts", args.preset, overrides=args.overrides))
    finally:
        dist.destroy_process_group()
    with open(f"{out}/rank{rank}.json", "w") as f:
        json.dump(res, f)


@pytest.mark.slow
def test_two_process_ddp_replicas_agree(tmp_path, free_port):
    mp.spawn(_worker, args=(free_port, str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (json.loads((tmp_path / f"rank{i}.json").read_text()) for i in (0, 1))
    assert r0["checksum"] == pytest.approx(r1["checksum"], rel=1e-6, abs=1e-6)
    assert r0["loss"] != r1["loss"]  # each rank saw its own utterances
    from paperzoo.tts.synthesis import load_tts

    model, mel_config = load_tts(tmp_path / "model.pt")
    assert model.conditioning == "saln" and mel_config == "fsdd_8k"
