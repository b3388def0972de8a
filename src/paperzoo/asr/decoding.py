"""Streaming greedy decoding with hard monotonic attention and head-synchronous decoding (HSD).

Paper: Song, Shim, Yang, "Mutually-Constrained Monotonic Multihead Attention for Online ASR",
ICASSP 2021, https://arxiv.org/abs/2103.14302 (test-time decoding with HSD at a window eps).
HSD: Inaguma, Mimura, Kawahara, "Enhancing Monotonic Multihead Attention for Streaming ASR",
Interspeech 2020, https://arxiv.org/abs/2005.09394 (head-synchronous beam search; neural_sp
``mocha/hma_test.py``, https://github.com/hirofumi0810/neural_sp).

:class:`StreamingRecognizer` takes audio in chunks of any size; features, encoder frames and
tokens are produced as soon as they are determined:

* features: a frame once its 25 ms window is complete (:class:`~.features.StreamingLogMel`);
* encoder: every 4 feature frames (the causal x4 front end), with the encoder's bounded cache;
* a token: when every MMA head of every MMA layer has its boundary among the frames received
  (with HSD at ``eps``: when the leftmost head's boundary is known and every other head either
  stopped or is forced to leftmost + eps inside the received frames). Until then the decoder
  waits for more audio. At the end of the stream, heads without a boundary attend to nothing
  and decoding runs to <eos>.

A token's emission frame is the largest boundary over all MMA heads (the frame whose arrival
let it be emitted). Encoder frames before every head's boundary minus the chunk width are
dropped, so memory stays bounded on long audio. Decoding the whole utterance in one push gives
the same tokens as decoding it in chunks (tested).

The offline-attention model has no boundaries: it decodes after the last frame.

Deviations from the papers and neural_sp:
    * Greedy search only (Inaguma et al.'s HSD is a beam search); the CTC blank is never
      emitted and no language model or CTC score enters the decoding.
    * At the end of the stream a head without a boundary attends to nothing; neural_sp's HSD
      clips it to the rightmost detected boundary (see :mod:`.monotonic`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .encoder import EncoderState
from .features import LogMel, StreamingLogMel
from .model import DecoderState, MMARecognizer

__all__ = ["Emission", "StreamingRecognizer", "transcribe"]


@dataclass(frozen=True)
class Emission:
    """One emitted token: the word, the encoder frame at which it could be emitted (absolute,
    after subsampling), and how many heads were forced for it."""

    word: str
    frame: int
    forced_heads: int
    total_heads: int


@dataclass
class _Stream:
    feats: list[np.ndarray] = field(default_factory=list)  # feature frames not yet encoded
    enc: EncoderState | None = None
    memory: torch.Tensor | None = None  # (1, kept frames, dim)
    offset: int = 0  # absolute index of memory[:, 0]
    prefix: list[int] = field(default_factory=list)
    dec: DecoderState | None = None
    done: bool = False


class StreamingRecognizer:
    """Greedy streaming recognition of one utterance at a time.

    Args:
        model: a trained :class:`~.model.MMARecognizer` (eval mode is set here).
        features: the feature configuration the model was trained with.
        eps_frames: HSD window in encoder frames (None: heads decode independently).
        max_tokens: safety bound on the tokens of one utterance.
    """

    def __init__(
        self,
        model: MMARecognizer,
        features: LogMel,
        eps_frames: int | None = None,
        max_tokens: int = 40,
    ) -> None:
        self.model = model.eval()
        self.features, self.eps, self.max_tokens = features, eps_frames, max_tokens
        self.reset()

    def reset(self) -> None:
        """Start a new utterance."""
        self._frontend = StreamingLogMel(self.features)
        self._s = _Stream(prefix=[self.model.vocab.EOS])
        self._s.dec = self.model.initial_state(1)
        self.emissions: list[Emission] = []

    @torch.no_grad()
    def push(self, samples: np.ndarray) -> list[Emission]:
        """Feed audio; returns the tokens that became determined."""
        s = self._s
        f = self._frontend.push(samples)
        if len(f):
            s.feats.append(f)
        pending = np.concatenate(s.feats) if s.feats else np.zeros((0, self.features.num_mels))
        usable = (len(pending) // 4) * 4  # the causal front end consumes 4 frames at a time
        if usable:
            x = torch.as_tensor(pending[:usable], dtype=torch.float32)[None]
            y, s.enc = self.model.encode(x, s.enc)
            s.memory = y if s.memory is None else torch.cat([s.memory, y], 1)
            s.feats = [pending[usable:]] if usable < len(pending) else []
        return self._emit(final=False)

    @torch.no_grad()
    def finish(self) -> list[Emission]:
        """End of the utterance: decode what remains (a trailing 1-3 feature frames are not
        encoded, as in whole-utterance encoding)."""
        return self._emit(final=True)

    def _emit(self, final: bool) -> list[Emission]:
        s, model = self._s, self.model
        out: list[Emission] = []
        if s.memory is None or s.done:
            return out
        while not s.done and len(s.prefix) <= self.max_tokens:
            frames = s.memory.shape[1]
            prefix = torch.tensor([s.prefix])
            if model.attention == "offline":
                if not final:
                    break
                logp, state, bnds, forced = model.step(prefix, s.memory, s.dec, None)
                frame, nforced, heads = s.offset + frames - 1, 0, 0
            else:
                dec = _shift(s.dec, -s.offset)
                logp, state, bnds, forced = model.step(prefix, s.memory, dec, self.eps)
                if not final and any(bool((b < 0).any()) for b in bnds):
                    break  # some head has not decided yet: wait for more audio
                state = _shift(state, s.offset)
                found = [b[b >= 0] for b in bnds]
                frame = s.offset + max((int(b.max()) for b in found if b.numel()), default=0)
                nforced = sum(int(fc.sum()) for fc in forced)
                heads = sum(b.numel() for b in bnds)
            logp[..., model.vocab.BLANK] = float("-inf")  # the CTC blank is not a word
            token = int(logp.argmax(-1))
            s.dec = state
            if token == model.vocab.EOS:
                s.done = True
                break
            s.prefix.append(token)
            out.append(Emission(model.vocab.words[token - 2], frame, nforced, heads))
            self._trim()
        self.emissions += out
        return out

    def _trim(self) -> None:
        """Drop encoder frames no head can return to (monotonic: before every boundary, minus
        the chunk width)."""
        s = self._s
        if self.model.attention == "offline" or s.memory is None or s.dec is None:
            return
        chunk = max(m.chunk for m in self.model.mma_layers)
        low = min(int(st.boundary.min()) for st in s.dec.mma) - chunk + 1
        cut = low - s.offset
        if cut > 0:
            s.memory = s.memory[:, cut:]
            s.offset += cut

    @property
    def memory_frames(self) -> int:
        """Encoder frames currently held (bounded on long audio)."""
        return 0 if self._s.memory is None else int(self._s.memory.shape[1])


def _shift(state: DecoderState, delta: int) -> DecoderState:
    """The decoder state with boundaries moved by ``delta`` frames (absolute <-> kept window)."""
    from .attention import StepState

    return DecoderState([StepState(st.boundary + delta) for st in state.mma], state.contexts)


def transcribe(
    model: MMARecognizer,
    wave: np.ndarray,
    features: LogMel,
    eps_frames: int | None = None,
    chunk_samples: int | None = None,
    max_tokens: int = 40,
) -> list[Emission]:
    """Decode one waveform, whole (``chunk_samples`` None) or streamed in chunks."""
    rec = StreamingRecognizer(model, features, eps_frames, max_tokens)
    step = chunk_samples or len(wave)
    for a in range(0, len(wave), step):
        rec.push(wave[a : a + step])
    rec.finish()
    return rec.emissions
