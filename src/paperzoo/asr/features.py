"""Log-mel features for speech recognition (librosa), one documented configuration per rate.

Paper: Song, Shim, Yang, "Mutually-Constrained Monotonic Multihead Attention for Online ASR",
ICASSP 2021, https://arxiv.org/abs/2103.14302 (experiments on 16 kHz LibriSpeech and AISHELL-1
with neural_sp's filterbank front end, https://github.com/hirofumi0810/neural_sp).

``LogMel(sample_rate=8000)``: 40 mel bins, 25 ms windows, 10 ms hop, fmax = Nyquist, natural
log of power + 1e-6, per-utterance mean/variance normalisation off (streaming cannot see the
whole utterance; a global mean and std from the training set are applied instead when given).
Frame t covers samples [t * hop, t * hop + win) with no padding (librosa ``center=False``), so
features computed on a stream chunk by chunk equal those of the whole signal
(:class:`StreamingLogMel`).

librosa is imported on first use.

Deviations from the paper's front end: librosa log-mels of 8 kHz audio (FSDD) with 40 bins
instead of Kaldi-style filterbanks of 16 kHz speech; normalisation by global training
statistics only, so the features of a stream never depend on audio not yet received.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LogMel", "StreamingLogMel"]


@dataclass
class LogMel:
    """Log-mel filterbank features.

    Attributes:
        sample_rate: expected input rate (Hz); other rates are an error, not resampled silently.
        num_mels: mel bins.
        win_ms, hop_ms: window and hop (ms).
        mean, std: optional global normalisation (per bin), e.g. from :meth:`fit`.
    """

    sample_rate: int = 8000
    num_mels: int = 40
    win_ms: float = 25.0
    hop_ms: float = 10.0
    mean: np.ndarray | None = None
    std: np.ndarray | None = None

    @property
    def hop(self) -> int:
        return round(self.sample_rate * self.hop_ms / 1000)

    @property
    def win(self) -> int:
        return round(self.sample_rate * self.win_ms / 1000)

    def __call__(self, wave: np.ndarray, sample_rate: int | None = None) -> np.ndarray:
        """(samples,) float waveform -> (frames, num_mels) float32 features."""
        import librosa

        if sample_rate is not None and sample_rate != self.sample_rate:
            raise ValueError(
                f"audio at {sample_rate} Hz, features configured for {self.sample_rate} Hz; "
                "resample first (librosa.resample)"
            )
        wave = np.asarray(wave, dtype=np.float32)
        if wave.ndim != 1 or wave.size < self.win:
            raise ValueError(
                f"expected a mono waveform of at least {self.win} samples, got {wave.shape}"
            )
        mel = librosa.feature.melspectrogram(
            y=wave,
            sr=self.sample_rate,
            n_fft=self.win,
            win_length=self.win,
            hop_length=self.hop,
            n_mels=self.num_mels,
            fmax=self.sample_rate / 2,
            power=2.0,
            center=False,
        )
        feats = np.log(mel + 1e-6).T.astype(np.float32)
        if self.mean is not None and self.std is not None:
            feats = (feats - self.mean) / self.std
        return feats

    def fit(self, waves: list[np.ndarray]) -> LogMel:
        """Set the global per-bin mean and std from training waveforms; returns self."""
        self.mean = self.std = None
        allf = np.concatenate([self(w) for w in waves])
        self.mean = allf.mean(0).astype(np.float32)
        self.std = (allf.std(0) + 1e-5).astype(np.float32)
        return self

    def frames(self, num_samples: int) -> int:
        """Feature frames of a signal of ``num_samples`` samples."""
        return 0 if num_samples < self.win else 1 + (num_samples - self.win) // self.hop

    def frame_of_sample(self, sample: int) -> int:
        """The first frame whose window reaches ``sample`` (exclusive end): a word ending there
        has been heard completely by this frame (used for word-end times)."""
        return max(0, -(-(sample - self.win) // self.hop))


class StreamingLogMel:
    """:class:`LogMel` over a stream: ``push(samples)`` returns the frames whose windows are
    complete; the frames of all pushes equal ``LogMel`` of the concatenated signal."""

    def __init__(self, features: LogMel) -> None:
        self.features = features
        self._buf = np.zeros(0, np.float32)

    def push(self, samples: np.ndarray) -> np.ndarray:
        f = self.features
        self._buf = np.concatenate([self._buf, np.asarray(samples, np.float32)])
        n = f.frames(self._buf.size)
        if n == 0:
            return np.zeros((0, f.num_mels), np.float32)
        used = self._buf[: (n - 1) * f.hop + f.win]
        out = f(used)
        self._buf = self._buf[n * f.hop :]  # the next frame starts at n * hop
        return out
