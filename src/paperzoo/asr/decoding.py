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
  stopped or has a forced position that later frames cannot change; see
  :func:`~.monotonic.head_synchronous_boundaries` with ``complete=False``). Until then the
  decoder waits for more audio. At the end of the stream HSD forces the heads without a
  boundary to min(rightmost boundary, leftmost + eps) as neural_sp does; only when no head
  found one (or without HSD) does a head attend to nothing, and decoding runs to <eos>.

A token's emission frame is the largest boundary over all MMA heads (the frame whose arrival
let it be emitted). Encoder frames before every head's boundary minus the chunk width are
dropped, so memory stays bounded on long audio. Decoding the whole utterance in one push gives
the same tokens as decoding it in chunks (tested).

The offline-attention model has no boundaries: it decodes after the last frame.

Search: greedy while streaming (``beam=None``), or the head-synchronous beam search
(:func:`beam_search`, ``beam=k``) over the whole utterance at the end; every hypothesis keeps
its own per-head boundaries, and beam 1 gives exactly the greedy output (tested).
:func:`self_found_share` gives, per head, the share of its boundaries it found itself.

Deviations from the papers and neural_sp:
    * The beam search runs after the last frame (not block-synchronously while streaming);
      the CTC blank is never emitted and no language model, CTC score or length
      normalisation enters the decoding.
    * A head forced below its own previous boundary stays at that boundary (monotonic);
      neural_sp places it at the forced frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .encoder import EncoderState
from .features import LogMel, StreamingLogMel
from .model import DecoderState, MMARecognizer

__all__ = [
    "Emission",
    "StreamingRecognizer",
    "beam_search",
    "beam_search_nbest",
    "self_found_share",
    "transcribe",
    "word_times",
]


@dataclass(frozen=True)
class Emission:
    """One emitted token: the word, the encoder frame at which it could be emitted (absolute,
    after subsampling), and how many heads were forced for it.

    ``found`` and ``forced`` hold, per MMA layer and head, whether the head had a boundary for
    this token and whether HSD put it there (empty for the offline model). ``start`` is the
    earliest boundary of any head for this token (the first frame that evidenced it; ``frame``
    for the offline model) and ``confidence`` the decoder's probability of the word given the
    audio and the words before it, P(y_i | y_<i, x), renormalised without the CTC blank. Times
    in seconds: :func:`word_times`. Equality compares the decisions, not ``confidence``."""

    word: str
    frame: int
    forced_heads: int
    total_heads: int
    found: tuple[tuple[bool, ...], ...] = ()
    forced: tuple[tuple[bool, ...], ...] = ()
    start: int = -1
    # not compared: the same decision reached on a batch of hypotheses or on the kept window
    # of a stream gives a probability equal only to float rounding
    confidence: float = field(default=float("nan"), compare=False)


def _emission(
    word: str,
    offset: int,
    bnds: list[torch.Tensor],
    forced: list[torch.Tensor],
    confidence: float = float("nan"),
) -> Emission:
    """The emission of one token from each MMA layer's boundaries (H,) and forced mask (H,)
    of the step that produced it; ``offset`` turns kept-window frames into absolute ones."""
    found = [b[b >= 0] for b in bnds]
    frame = offset + max((int(b.max()) for b in found if b.numel()), default=0)
    start = offset + min((int(b.min()) for b in found if b.numel()), default=0)
    return Emission(
        word,
        frame,
        sum(int(fc.sum()) for fc in forced),
        sum(b.numel() for b in bnds),
        tuple(tuple(bool(x) for x in (b >= 0)) for b in bnds),
        tuple(tuple(bool(x) for x in fc) for fc in forced),
        start,
        confidence,
    )


def word_times(emissions: list[Emission], features: LogMel) -> list[dict[str, float | str]]:
    """Per word: ``start_s`` (the first head boundary's frame), ``end_s`` (the emission frame)
    as the end of those encoder frames in seconds, and ``confidence``.

    An encoder frame covers 4 feature hops (the x4 front end), so frame ``t`` ends at
    ``(t + 1) * 4 * hop / sample_rate`` seconds of audio: the earliest time the frame exists,
    i.e. the word's emission time in a stream (its latency is that minus the word's true end).
    """
    frame_s = 4 * features.hop / features.sample_rate
    return [
        {
            "word": e.word,
            "start_s": (max(e.start, 0) + 1) * frame_s,
            "end_s": (e.frame + 1) * frame_s,
            "confidence": e.confidence,
        }
        for e in emissions
    ]


def _confidence(logp: torch.Tensor, token: int, blank: int) -> float:
    """P(token) among the non-blank tokens, from one row of log-probabilities (blank at -inf
    already or not)."""
    row = logp.clone()
    row[blank] = float("-inf")
    return float(torch.softmax(row, -1)[token])


def self_found_share(emissions: list[Emission]) -> list[list[float]]:
    """Per MMA layer and head, the share of its boundaries the head found itself:

        share^h = #{tokens where h has a boundary that HSD did not move}
                  / #{tokens where h has a boundary}

    (1 - share^h is the share HSD forced; NaN for a head that never had a boundary). A head
    whose boundary is exactly at leftmost + eps counts as self-found (it was not moved).
    Returns [] when no emission carries head masks (offline model, or nothing emitted)."""
    rows = [e for e in emissions if e.found]
    if not rows:
        return []
    found = np.array([e.found for e in rows], dtype=bool)  # (N, layers, H)
    forced = np.array([e.forced for e in rows], dtype=bool)
    total = found.sum(0)
    own = (found & ~forced).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, own / np.maximum(total, 1), np.nan)
    return share.tolist()


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
        beam: None: greedy, emitting each token as soon as it is determined. An int k >= 1:
            head-synchronous beam search of width k (:func:`beam_search`) over the whole
            utterance at :meth:`finish` (``push`` only encodes); k = 1 gives the greedy tokens.
    """

    def __init__(
        self,
        model: MMARecognizer,
        features: LogMel,
        eps_frames: int | None = None,
        max_tokens: int = 40,
        beam: int | None = None,
    ) -> None:
        if beam is not None and beam < 1:
            raise ValueError(f"beam must be >= 1 (or None for streaming greedy), got {beam}")
        self.model = model.eval()
        self.features, self.eps, self.max_tokens = features, eps_frames, max_tokens
        self.beam = beam
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
        if self.beam is not None:
            return []  # beam search decodes the whole utterance at finish()
        return self._emit(final=False)

    @torch.no_grad()
    def finish(self) -> list[Emission]:
        """End of the utterance: decode what remains (a trailing 1-3 feature frames are not
        encoded, as in whole-utterance encoding)."""
        s = self._s
        if self.beam is not None:
            if s.memory is None or s.done:
                return []
            s.done = True
            out = beam_search(self.model, s.memory, self.eps, self.beam, self.max_tokens)
            self.emissions += out
            return out
        return self._emit(final=True)

    @property
    def self_found_share(self) -> list[list[float]]:
        """Per MMA layer and head, the share of its boundaries it found itself so far (see
        :func:`self_found_share`)."""
        return self_found_share(self.emissions)

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
                # before the end of the stream a head that has not stopped is forced only once
                # its position cannot change with more frames (complete=False); else it stays
                # -1 and decoding waits, so chunked and whole decoding agree
                logp, state, bnds, forced = model.step(prefix, s.memory, dec, self.eps, final)
                if not final and any(bool((b < 0).any()) for b in bnds):
                    break  # some head has not decided yet: wait for more audio
                state = _shift(state, s.offset)
            logp[..., model.vocab.BLANK] = float("-inf")  # the CTC blank is not a word
            token = int(logp.argmax(-1))
            s.dec = state
            if token == model.vocab.EOS:
                s.done = True
                break
            s.prefix.append(token)
            word = model.vocab.words[token - 2]
            conf = _confidence(logp.reshape(-1), token, model.vocab.BLANK)
            if model.attention == "offline":
                out.append(Emission(word, frame, nforced, heads, start=frame, confidence=conf))
            else:
                out.append(_emission(word, s.offset, [b[0] for b in bnds], [f[0] for f in forced],
                                     conf))  # fmt: skip
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
    def encoded(self) -> torch.Tensor | None:
        """The encoder frames held, (1, frames, dim): the whole utterance with ``beam``
        (nothing is trimmed), the kept window when streaming greedily."""
        return self._s.memory

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
    beam: int | None = None,
) -> list[Emission]:
    """Decode one waveform, whole (``chunk_samples`` None) or streamed in chunks; ``beam``
    as in :class:`StreamingRecognizer`."""
    rec = StreamingRecognizer(model, features, eps_frames, max_tokens, beam)
    step = chunk_samples or len(wave)
    for a in range(0, len(wave), step):
        rec.push(wave[a : a + step])
    rec.finish()
    return rec.emissions


@dataclass
class _Hyp:
    score: float  # sum of the token log-probabilities
    prefix: list[int]  # <sos> and the tokens so far
    state: DecoderState  # batch 1: this hypothesis' own per-head boundaries and contexts
    emissions: list[Emission]


def _stack_states(states: list[DecoderState]) -> DecoderState:
    """Batch hypotheses' states along dim 0 (boundaries (B, H), contexts (B, n, d))."""
    from .attention import StepState

    layers = range(len(states[0].mma))
    return DecoderState(
        [StepState(torch.cat([st.mma[k].boundary for st in states])) for k in layers],
        [torch.cat([st.contexts[k] for st in states]) for k in layers],
    )


def _row_state(state: DecoderState, b: int) -> DecoderState:
    from .attention import StepState

    return DecoderState(
        [StepState(st.boundary[b : b + 1]) for st in state.mma],
        [c[b : b + 1] for c in state.contexts],
    )


@torch.no_grad()
def beam_search(
    model: MMARecognizer,
    memory: torch.Tensor,
    eps_frames: int | None = None,
    beam: int = 4,
    max_tokens: int = 40,
) -> list[Emission]:
    """The best hypothesis of :func:`beam_search_nbest` (see there), as its emissions."""
    hyps = beam_search_nbest(model, memory, eps_frames, beam, max_tokens, nbest=1)
    return hyps[0][1] if hyps else []


@torch.no_grad()
def beam_search_nbest(
    model: MMARecognizer,
    memory: torch.Tensor,
    eps_frames: int | None = None,
    beam: int = 4,
    max_tokens: int = 40,
    nbest: int | None = None,
) -> list[tuple[float, list[Emission]]]:
    """Head-synchronous beam search (Inaguma et al. 2020, Sec. 3.2) over a whole utterance.

    Every hypothesis keeps its own decoder state, so its own boundary per MMA layer and head:
    hard monotonic decisions and HSD forcing at ``eps_frames`` are made per hypothesis (the
    live hypotheses are one batch of :meth:`~.model.MMARecognizer.step`). Per step each live
    hypothesis proposes its ``beam`` best tokens (the CTC blank excluded); of all proposals the
    ``beam`` best by total log-probability

        score(y_1..y_i) = sum_{k<=i} log P(y_k | y_<k, x)

    are kept, those ending in <eos> leave the beam as finished. Search stops when no live
    hypothesis is left, when the best finished score is >= every live score (scores only
    drop), or after ``max_tokens`` tokens. No length normalisation, LM or CTC score, so beam 1
    is exactly greedy search (ties go to the lower token id, as ``argmax``).

    Args:
        memory: (1, T, d) encoder frames of the whole utterance.
        nbest: how many hypotheses to return (default ``beam``; at most ``beam``).

    Returns:
        up to ``nbest`` hypotheses, best first, as (total log-probability, emissions) (frames
        as in :class:`StreamingRecognizer`); finished hypotheses and, at the token limit, the
        live ones compete.
    """
    if beam < 1:
        raise ValueError(f"beam must be >= 1, got {beam}")
    nbest = beam if nbest is None else nbest
    if not 1 <= nbest <= beam:
        raise ValueError(f"nbest must be in [1, beam={beam}], got {nbest}")
    if model.attention != "mma":
        raise ValueError("beam_search decodes MMA models (the offline model has no boundaries)")
    eos, blank = model.vocab.EOS, model.vocab.BLANK
    live = [_Hyp(0.0, [eos], model.initial_state(1, memory.device), [])]
    finished: list[_Hyp] = []
    while live and len(live[0].prefix) <= max_tokens:
        prefix = torch.tensor([h.prefix for h in live], device=memory.device)
        state = _stack_states([h.state for h in live])
        mem = memory.expand(len(live), -1, -1)
        logp, new, bnds, forced = model.step(prefix, mem, state, eps_frames, True)
        logp[:, blank] = float("-inf")  # the CTC blank is not a word
        # stable sort: among equal log-probabilities the lower id comes first, as argmax
        top_lp, top_id = torch.sort(logp, dim=-1, descending=True, stable=True)
        cands = []  # (score, hypothesis row, token)
        for b, h in enumerate(live):
            for lp, tok in zip(top_lp[b, :beam].tolist(), top_id[b, :beam].tolist(), strict=True):
                cands.append((h.score + lp, b, tok))
        cands.sort(key=lambda c: -c[0])  # stable: ties keep hypothesis, then token order
        nxt = []
        for score, b, tok in cands[:beam]:
            parent = live[b]
            if tok == eos:
                finished.append(_Hyp(score, parent.prefix, parent.state, parent.emissions))
                continue
            conf = _confidence(logp[b], tok, blank)
            e = _emission(
                model.vocab.words[tok - 2], 0, [x[b] for x in bnds], [f[b] for f in forced], conf
            )
            nxt.append(
                _Hyp(score, [*parent.prefix, tok], _row_state(new, b), [*parent.emissions, e])
            )
        live = nxt
        if finished and live and max(f.score for f in finished) >= max(h.score for h in live):
            break
    ranked = sorted(finished + live, key=lambda h: -h.score)  # stable: earlier first on ties
    return [(h.score, h.emissions) for h in ranked[:nbest]]
