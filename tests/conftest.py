"""Shared test settings: plain progress lines, Agg plots, and single-threaded torch for speed
and determinism under pytest-xdist."""

import os

os.environ.setdefault("PAPERZOO_PROGRESS", "plain")
os.environ.setdefault("MPLBACKEND", "Agg")
# Every figure drawn by a test must label its axes and give its colour maps a colour bar.
os.environ.setdefault("PAPERZOO_STRICT_FIGURES", "1")

import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture
def free_port() -> int:
    """A free TCP port on loopback (for multi-process DDP tests)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def fake_synth_root(tmp_path):
    """A data root holding a tiny stand-in for speech/synth_multispeaker: 3 training voices and
    1 unseen, 4 utterances each (2 sentences, 2 digit strings), tone bursts per word at 16 kHz."""
    import numpy as np

    sf = pytest.importorskip("soundfile")
    root = tmp_path
    base = root / "speech" / "synth_multispeaker"
    rows, rng = [], np.random.default_rng(0)
    voices = [("v_a", "train"), ("v_b", "train"), ("v_c", "train"), ("v_u", "unseen")]
    texts = ["the lamp is blue", "one two three four", "five six seven", "the train is red"]
    for v, (name, _) in enumerate(voices):
        for k, text in enumerate(texts):
            parts = []
            for j, _w in enumerate(text.split()):
                t = np.arange(int(0.25 * 16000)) / 16000
                f0 = 120 + 30 * v + 10 * j
                parts += [0.3 * np.sin(2 * np.pi * f0 * t), np.zeros(800)]
            wave = np.concatenate([np.zeros(1600), *parts]) + 1e-3 * rng.normal(size=1)
            kind = "d" if text.split()[0] in ("one", "five") else "s"
            rel = f"wavs/{name}/{name}_{kind}{k:03d}.flac"
            (base / "wavs" / name).mkdir(parents=True, exist_ok=True)
            sf.write(base / rel, wave.astype(np.float32), 16000, format="FLAC")
            rows.append(f"{rel}|{name}|{text}")
    (base / "metadata.csv").write_text("\n".join(rows) + "\n")
    header = "speaker|engine|voice|gender|accent|suggested_split\n"
    (base / "speakers.csv").write_text(
        header + "".join(f"{n}|espeak|x|M|US|{s}\n" for n, s in voices)
    )
    return root
