"""Speak text in the voice of a reference clip: ``synthesize(text, reference_wav, model)``.

Paper: Min, Lee, Yang, Hwang, "Meta-StyleSpeech: Multi-Speaker Adaptive Text-to-Speech
Generation", ICML 2021, https://arxiv.org/abs/2106.03153 (inference: the style vector of one
reference mel, then G(text, w), then a vocoder). Official ``synthesize.py`` in
https://github.com/KevinMIN95/StyleSpeech.

The model file (:func:`save_tts`) holds the generator's weights, its constructor arguments and
the name of its mel configuration (:data:`~.audio.MEL_CONFIGS`); the vocoder follows from that
configuration: HiFi-GAN for ``hifigan_22k``, Griffin-Lim otherwise (measured better than an
upsampled HiFi-GAN on 8 kHz FSDD; the synthetic corpus' 16 kHz mels have no bundled vocoder, so
Griffin-Lim there too). The returned dict says which vocoder made the audio.

A bad reference (missing, unreadable, empty, silent, too short, wrong rate) raises
:class:`~.audio.BadReferenceError`; there is never a fallback voice.

Deviations from the official code:
    * The vocoder is Griffin-Lim or the bundled universal HiFi-GAN, by mel configuration; the
      official pipeline used a 16 kHz MelGAN (its ``synthesize.py`` stops at the mel).
    * The output is peak-normalised to 0.9 (HiFi-GAN's output is ~10 dB quiet).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from .audio import MEL_CONFIGS, griffin_lim, load_reference
from .model import StyleSpeech
from .text import SYMBOLS, Phonemizer

__all__ = ["load_tts", "save_tts", "synthesize"]


def save_tts(model: StyleSpeech, path: str | Path, mel_config: str, **config: Any) -> Path:
    """Write the generator with its constructor arguments (``config``, besides ``num_tokens``)
    and mel configuration name; loadable with ``weights_only=True``."""
    from paperzoo.core.checkpoint import save_checkpoint

    if mel_config not in MEL_CONFIGS:
        raise ValueError(f"unknown mel configuration {mel_config!r}")
    meta = {"config": config, "mel_config": mel_config, "num_tokens": len(SYMBOLS)}
    return save_checkpoint(path, {"tts": meta, "state_dict": model.state_dict()})


def load_tts(path: str | Path) -> tuple[StyleSpeech, str]:
    """(generator in eval mode, mel configuration name).

    Raises:
        FileNotFoundError: no such file. ValueError: not a TTS model file.
    """
    from paperzoo.core.checkpoint import load_checkpoint

    ck = load_checkpoint(path)
    if ck is None:
        raise FileNotFoundError(f"no TTS model at {path}")
    if "tts" not in ck:
        raise ValueError(f"{path} is not a TTS model file (written by save_tts)")
    meta = ck["tts"]
    config = dict(meta["config"])
    if "kernels" in config:
        config["kernels"] = tuple(config["kernels"])
    model = StyleSpeech(int(meta["num_tokens"]), **config)
    model.load_state_dict(ck["state_dict"])
    return model.eval(), str(meta["mel_config"])


@torch.no_grad()
def synthesize(
    text: str,
    reference_wav: str | Path,
    model: StyleSpeech | str | Path,
    mel_config: str | None = None,
    fallback: str = "error",
) -> dict[str, Any]:
    """Speak ``text`` in the reference clip's voice.

    Returns ``{"wave": float32 samples, "sample_rate", "vocoder", "mel"}``.

    Raises:
        BadReferenceError: the reference cannot give a voice.
        UnknownWordError: a word has no pronunciation (with ``fallback="error"``).
    """
    if not isinstance(model, StyleSpeech):
        model, mel_config = load_tts(model)
    if mel_config is None:
        raise ValueError("give the model's mel configuration name (or a saved model file)")
    cfg = MEL_CONFIGS[mel_config]
    ref = load_reference(reference_wav, cfg.sample_rate)
    ref_mel = torch.as_tensor(cfg.mel(ref))[None]
    w = model.style(ref_mel, torch.ones(ref_mel.shape[:2], dtype=torch.bool))
    ids = Phonemizer(fallback).utterance_ids(text)  # type: ignore[arg-type]
    out = model(torch.tensor([ids]), w)
    mel = out["mel"][0, out["mel_mask"][0]].numpy()
    if len(mel) == 0:
        raise RuntimeError("the model predicted zero frames for this text (an untrained model?)")
    if mel_config == "hifigan_22k":
        from .vocoder import HifiGan, power_to_magnitude_log_mel

        wave, vocoder = HifiGan()(power_to_magnitude_log_mel(mel)), "hifigan-universal"
    else:
        wave, vocoder = griffin_lim(mel, cfg), "griffin-lim"
    peak = float(np.abs(wave).max()) or 1.0
    return {"wave": (0.9 * wave / peak).astype(np.float32), "sample_rate": cfg.sample_rate,
            "vocoder": vocoder, "mel": mel}  # fmt: skip
