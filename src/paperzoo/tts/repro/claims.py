"""The TTS reproduction's claims, declared before a run (thresholds in ``config.claims``).

On unseen identities, from one 1-3 s reference and a different text:

* ``saln_more_similar``: StyleSpeech (SALN) speaks more like the reference's identity than the
  additive-style baseline (in-house speaker-embedding cosine), and ``saln_mcd_within_margin``:
  its MCD is not worse by more than the margin (the paper's "similar voice, no quality cost");
  ``saln_more_similar_resemblyzer``: the same with Resemblyzer's pretrained encoder when run;
* ``meta_more_similar``: Meta-StyleSpeech's similarity is above StyleSpeech's. Stated before any
  run: at this scale (40 training identities, 800 episodes) it is likely inconclusive;
* ``meta_beats_compute_matched`` (secondary): the same against ``saln_extra``, SALN trained the
  meta stage's number of extra generator updates with its own objective and Adam state.

Gates: every compared arm's held-out mel loss converged, its style vectors separate the unseen
identities (not collapsed), and its generated words stay intelligible relative to real speech;
each is read seed by seed (every seed trains its own models, and one broken seed, such as the
meta stage breaking free-running synthesis, spoils that seed's paired difference).

Roles: the headlines are the paper's abstract claims on similarity to unseen speakers from one
short reference: StyleSpeech (SALN) over the additive-style baseline (``saln_more_similar``)
and Meta-StyleSpeech over StyleSpeech (``meta_more_similar``). The same SALN claim scored by
Resemblyzer is ``secondary``; the MCD margin is ours (the spec's "at equal or better MCD"; the
paper states no margin), a ``check``. The paper's table numbers were not retrieved (spec,
README), so no claim quotes one.
"""

from __future__ import annotations

from paperzoo.core import ClaimSpec, Results
from paperzoo.core.claims import Gate

from .config import Config

__all__ = ["claims"]

COSINE = (-1.0, 1.0)
"""Both similarities are cosines of speaker embeddings."""
MCD_BOUNDS = (0.0, 100.0)
"""DTW-MCD in dB is >= 0; working runs are at 1.5-5 dB, 100 dB is a broken synthesis."""
_NO_RATIONALE = "set before the run; no stated rationale"


def _gates(cfg: Config, arms: tuple[str, ...]) -> tuple[Gate, ...]:
    # Plain gates on every ``data.source`` (fsdd, synth, tones), none a level known on one
    # corpus: a relative change of the mel loss, a share of the style vectors' variance, and
    # the words' accuracy as a fraction of real speech's on the same corpus (normalised there).
    cc = cfg.claims
    return (
        Gate("converged", "train/val_mel_change", cc.max_loss_change, "max", arms,
             "held-out mel loss still changing over the last 20% of steps"),
        Gate("style_not_collapsed", "eval/style_separation", cc.min_style_separation, "min",
             arms, "style vectors barely separate the unseen identities: nothing to adapt"),
        Gate("intelligible", "eval/intelligibility_ratio", cc.min_intelligibility, "min", arms,
             "generated words are too often misrecognised relative to real speech"),
    )  # fmt: skip


def claims(results: Results) -> list[ClaimSpec]:
    cfg: Config = results.config
    cc, arms = cfg.claims, set(cfg.arms)
    out = []
    if {"saln", "add"} <= arms:
        g = _gates(cfg, ("saln", "add"))
        out.append(
            ClaimSpec(
                "saln_more_similar",
                "on unseen speakers, SALN's speech is closer to the reference's identity than the "
                "additive-style baseline's (in-house embedding cosine, by >= "
                f"{cc.min_similarity_gain:g})",
                "eval/similarity",
                "saln",
                ("add",),
                True,
                cc.min_similarity_gain,
                gates=g,
                role="headline",
                threshold_reason=f"{cc.min_similarity_gain:g} cosine: {_NO_RATIONALE}",
                bounds=COSINE,
            )
        )
        out.append(
            ClaimSpec(
                "saln_mcd_within_margin",
                f"... at an MCD no more than {cc.mcd_margin:g} dB worse than the baseline's "
                "(a non-inferiority margin of ours for the spec's 'equal or better MCD')",
                "eval/mcd",
                "saln",
                ("add",),
                False,
                -cc.mcd_margin,
                gates=g,
                role="check",
                threshold_reason=f"{cc.mcd_margin:g} dB: {_NO_RATIONALE} (fixed before the MCD "
                "scale was corrected to Kubichek's definition in the pilot, and kept)",
                bounds=MCD_BOUNDS,
            )
        )
        out.append(
            ClaimSpec(
                "saln_lower_eer",
                "the same claim as speaker verification: trials of generated speech against "
                "real recordings of the unseen identities, scored by the in-house embedding's "
                f"cosine, give SALN an equal error rate at least {cc.min_eer_gain:g} below the "
                "baseline's (the real recordings' EER is the judge's ceiling, reported beside)",
                "eval/eer",
                "saln",
                ("add",),
                False,
                cc.min_eer_gain,
                gates=g,
                role="secondary",
                threshold_reason=f"{cc.min_eer_gain:g} (EER points): ours, fixed before any "
                "run with the verification judge; the paper reports no EER (its similarity "
                "is an embedding cosine and SMOS)",
                bounds=(0.0, 1.0),
            )
        )
        if cfg.eval.resemblyzer:
            out.append(
                ClaimSpec(
                    "saln_more_similar_resemblyzer",
                    "the same similarity claim scored by Resemblyzer's pretrained encoder on "
                    f"Griffin-Lim audio (by >= {cc.min_resemblyzer_gain:g})",
                    "eval/resemblyzer",
                    "saln",
                    ("add",),
                    True,
                    cc.min_resemblyzer_gain,
                    gates=g,
                    role="secondary",
                    threshold_reason=f"{cc.min_resemblyzer_gain:g} cosine: {_NO_RATIONALE}",
                    bounds=COSINE,
                )
            )
    if {"meta", "saln"} <= arms:
        out.append(
            ClaimSpec(
                "meta_more_similar",
                "Meta-StyleSpeech's unseen-speaker similarity exceeds StyleSpeech's "
                f"(by > {cc.min_meta_gain:g}; likely inconclusive at this scale, said before "
                "the run)",
                "eval/similarity",
                "meta",
                ("saln",),
                True,
                cc.min_meta_gain,
                gates=_gates(cfg, ("meta", "saln")),
                role="headline",
                threshold_reason=f"{cc.min_meta_gain:g}"
                + (" (any gain)" if cc.min_meta_gain == 0 else "")
                + ": the spec's pass criterion 'C >= B on unseen speakers', the paper's "
                "ordering Meta-StyleSpeech > StyleSpeech without a magnitude",
                bounds=COSINE,
            )
        )
    if {"meta", "saln_extra"} <= arms:
        out.append(
            ClaimSpec(
                "meta_beats_compute_matched",
                "Meta-StyleSpeech's unseen-speaker similarity exceeds that of SALN trained the "
                f"same number of extra generator updates with the plain objective (by > "
                f"{cc.min_meta_gain:g}): the meta stage's gain is the episodes', not more steps'",
                "eval/similarity",
                "meta",
                ("saln_extra",),
                True,
                cc.min_meta_gain,
                gates=_gates(cfg, ("meta", "saln_extra")),
                role="secondary",
                threshold_reason=f"{cc.min_meta_gain:g}, the headline meta claim's threshold: "
                "the control removes the meta stage's extra updates (the paper trains both "
                "stages without such a control)",
                bounds=COSINE,
            )
        )
    return out
