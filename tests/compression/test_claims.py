"""Compression claims on hand-made per-seed results: holds, fails, inconclusive (teacher gate,
a single seed's student, the finite gate, a data source without a declared teacher level), the
restoration to the teacher's level (non-inferiority), the per-seed student gate of every
compression, the declared roles and reasons, and the presets (one per question)."""

import dataclasses
import math

import pytest

from paperzoo.compression.repro.claims import claims
from paperzoo.compression.repro.experiments import quick
from paperzoo.core.claims import ROLES, judge_all
from paperzoo.core.engine import Results
from paperzoo.core.presets import build_config

SEEDS = [0, 1, 2, 3]  # a headline is judged on at least 4 paired seeds


def _arm(auc, pointing, acc, gap=(2.0, 2.0, 2.0, 2.0)):
    return {
        "eval/auc": list(auc),
        "eval/pointing": list(pointing),
        "eval/accuracy": list(acc),
        "eval/accuracy_gap": list(gap),
    }


def _results(wcam_auc, teacher_acc=(97.0, 97.5, 98.0, 97.2), kd_gap=(2.0, 2.0, 2.0, 2.0), cfg=None):
    cfg = dataclasses.replace(cfg or quick(), seeds=SEEDS, arms=["plain", "wcam"])
    cfg.prune.enabled = False
    arms = {
        "teacher": _arm([0.80, 0.81, 0.82, 0.81], [70.0, 71.0, 72.0, 71.0], list(teacher_acc)),
        "kd": _arm(
            [0.70, 0.71, 0.72, 0.71], [60.0, 61.0, 62.0, 61.0], [95.0, 95.5, 96.0, 95.5], kd_gap
        ),
        "kd+wcam": _arm(wcam_auc, [66.0, 67.0, 68.0, 67.0], [95.2, 95.4, 96.1, 95.6]),
    }
    return Results(cfg, cfg.seeds, arms)


def _judged(*args, **kw):
    res = _results(*args, **kw)
    return {c.id: c for c in judge_all(claims(res), res.arms)}


def _verdicts(*args, **kw):
    return {i: c.verdict for i, c in _judged(*args, **kw).items()}


def test_holds_fails_inconclusive():
    v = _verdicts([0.76, 0.77, 0.78, 0.77])
    assert v["kd_degrades_maps"] == "holds" and v["kd_wcam_auc"] == "holds"
    assert v["kd_wcam_pointing"] == "holds" and v["kd_wcam_accuracy"] == "holds"
    assert _verdicts([0.60, 0.61, 0.62, 0.61])["kd_wcam_auc"] == "fails"
    assert _verdicts([0.90, 0.60, 0.75, 0.80])["kd_wcam_auc"] == "inconclusive"
    weak_teacher = _verdicts([0.76, 0.77, 0.78, 0.77], teacher_acc=(50.0, 55.0, 60.0, 55.0))
    assert set(weak_teacher.values()) == {"inconclusive"}

    # a student far below its teacher (gap 30 points) makes every KD claim inconclusive
    untrained = _verdicts([0.76, 0.77, 0.78, 0.77], kd_gap=(30.0, 28.0, 31.0, 29.0))
    assert set(untrained.values()) == {"inconclusive"}


def test_gates_read_every_seed():
    # one seed's teacher below 88 % (the mean, 92.6 %, is above it) fails the teacher gate
    c = _judged([0.76, 0.77, 0.78, 0.77], teacher_acc=(97.0, 97.5, 98.0, 78.0))
    assert c["kd_wcam_auc"].verdict == "inconclusive"
    assert "teacher_accuracy" in c["kd_wcam_auc"].reason
    # one seed's plain student 7 points below its teacher (mean gap 3.25) fails student_learned
    c = _judged([0.76, 0.77, 0.78, 0.77], kd_gap=(2.0, 2.0, 2.0, 7.0))
    assert set(x.verdict for x in c.values()) == {"inconclusive"}
    assert "student_learned" in c["kd_wcam_pointing"].reason


def test_finite_gate_on_the_claim_metric():
    c = _judged([0.76, 0.77, 0.78, 0.77])["kd_wcam_auc"]
    assert c.gates[0]["name"] == "finite" and c.gates[0]["passed"]
    for bad in (math.nan, 1.5):  # a diverged or impossible AUC is never an effect
        c = _judged([0.76, 0.77, 0.78, bad])["kd_wcam_auc"]
        assert c.verdict == "inconclusive" and not c.gates[0]["passed"]
        assert "gate finite" in c.reason


def test_roles():
    specs = claims(_results([0.76, 0.77, 0.78, 0.77]))
    assert {s.role for s in specs} <= set(ROLES)
    assert [s.id for s in specs if s.role == "headline"] == [
        "kd_wcam_auc",
        "kd_wcam_restores_teacher",
    ]
    assert all(s.threshold_reason and s.bounds and s.paper for s in specs)
    # every threshold now states why it has its size
    assert not any("no stated rationale" in s.threshold_reason for s in specs)
    # three seeds are too few for the headline, whatever the numbers
    res = _results([0.76, 0.77, 0.78, 0.77])
    arms = {a: {k: v[:3] for k, v in m.items()} for a, m in res.arms.items()}
    res3 = Results(dataclasses.replace(res.config, seeds=[0, 1, 2]), [0, 1, 2], arms)
    v = {c.id: c for c in judge_all(claims(res3), arms)}
    assert (
        v["kd_wcam_auc"].verdict == "inconclusive" and "4 paired seeds" in v["kd_wcam_auc"].reason
    )
    assert v["kd_wcam_pointing"].verdict == "holds"


WIN = [0.76, 0.77, 0.78, 0.77]
FASHION_TEACHER = (85.0, 86.0, 84.5, 85.5)  # below MNIST's 88-90 %


@pytest.mark.parametrize(
    ("preset", "source"), [("smoke", "fashion_mnist"), ("quick", "fashion_mnist"), ("smoke", None)]
)
def test_a_source_without_a_declared_teacher_level_is_inconclusive(preset, source):
    # the teacher level was set on MNIST: on another source (the quick preset's plain 88 is
    # MNIST's level too) every claim is inconclusive with the key to set, never MNIST's bar
    overrides = [f"data.source={source}"] if source else []
    cfg = build_config("compression", preset, overrides=overrides)
    source = cfg.data.source  # the smoke preset's own: digits
    judged = _judged(WIN, teacher_acc=FASHION_TEACHER, cfg=cfg)
    assert judged and {c.verdict for c in judged.values()} == {"inconclusive"}
    for c in judged.values():
        assert (
            f"gate teacher_accuracy: no reference level for {source}: set "
            f"`claims.teacher_min_accuracy.{source}`" in c.reason
        )


DECLARE = {
    "dotted": ["claims.teacher_min_accuracy.fashion_mnist=80"],
    "table": ["claims.teacher_min_accuracy={fashion_mnist = 80}"],
}


@pytest.mark.parametrize("form", ["dotted", "table"])
def test_a_teacher_level_the_user_declares_is_used(form):
    cfg = build_config(
        "compression", "smoke", overrides=["data.source=fashion_mnist", *DECLARE[form]]
    )
    judged = _judged(WIN, teacher_acc=FASHION_TEACHER, cfg=cfg)
    assert judged["kd_wcam_auc"].verdict == "holds"
    gate = next(g for g in judged["kd_wcam_auc"].gates if g["name"] == "teacher_accuracy")
    assert gate["passed"] and gate["reference"] == 80.0
    weak = _judged(WIN, teacher_acc=(85.0, 86.0, 79.0, 85.5), cfg=cfg)["kd_wcam_auc"]
    assert weak.verdict == "inconclusive" and "79 at teacher, seed #2 not >= 80" in weak.reason


# --- WCAM restores the maps to about the teacher's level (non-inferiority) --------------------

TEACHER_AUC = [0.80, 0.81, 0.82, 0.81]


def _restore(wcam_auc):
    return _judged(wcam_auc)["kd_wcam_restores_teacher"]


def test_restores_teacher_is_a_non_inferiority_headline_against_the_teacher():
    spec = next(s for s in claims(_results(WIN)) if s.id == "kd_wcam_restores_teacher")
    assert spec.role == "headline" and spec.arm == "kd+wcam" and spec.baselines == ("teacher",)
    assert spec.metric == "eval/auc" and spec.higher_is_better
    assert spec.threshold == -quick().claims.teacher_auc_margin == -0.005
    assert {g.name for g in spec.gates} == {"teacher_accuracy", "student_learned"}
    assert "0.005" in spec.threshold_reason


def test_restores_teacher_holds_fails_and_is_inconclusive():
    # at the teacher's level on every seed (d within +-0.002 of 0, above -0.005): holds
    c = _restore([0.801, 0.809, 0.821, 0.812])
    assert c.verdict == "holds", c.reason
    # better than plain compression (the other headline holds) yet 0.03 below the teacher:
    # the maps are not restored, so this claim fails
    c = _restore(WIN)
    assert c.verdict == "fails"
    assert _judged(WIN)["kd_wcam_auc"].verdict == "holds"
    # about 0.005 below with spread: the CI straddles the margin
    c = _restore([0.790, 0.810, 0.812, 0.805])
    assert c.verdict == "inconclusive"
    assert "contains the threshold -0.005" in c.reason


def test_restores_teacher_margin_comes_from_the_config():
    cfg = build_config("compression", "quick", overrides=["claims.teacher_auc_margin=0.05"])
    c = _judged(WIN, cfg=cfg)["kd_wcam_restores_teacher"]  # 0.03 below: inside 0.05
    assert c.threshold == -0.05 and c.verdict == "holds"


def test_restores_teacher_is_gated_per_seed():
    c = _judged([0.801, 0.809, 0.821, 0.812], kd_gap=(2.0, 2.0, 2.0, 6.0))
    assert c["kd_wcam_restores_teacher"].verdict == "inconclusive"
    assert "student_learned: 6 at kd, seed #3 not <= 5" in c["kd_wcam_restores_teacher"].reason


# --- every compression's plain student is gated seed by seed ----------------------------------


def _all_compressions(gaps: dict[str, tuple[float, ...]]) -> Results:
    """Every compression with plain and WCAM arms, WCAM clearly better and at the teacher's
    level; ``gaps`` sets a plain student's accuracy gap per seed."""
    cfg = dataclasses.replace(quick(), seeds=SEEDS, arms=["plain", "wcam"])
    arms = {"teacher": _arm(TEACHER_AUC, [70.0, 71.0, 72.0, 71.0], [97.0, 97.5, 98.0, 97.2])}
    for c in ("kd", "prune", "struct"):
        gap = gaps.get(c, (2.0, 2.0, 2.0, 2.0))
        arms[c] = _arm([0.70, 0.71, 0.72, 0.71], [60.0, 61.0, 62.0, 61.0], [95.0] * 4, gap)
        arms[f"{c}+wcam"] = _arm(TEACHER_AUC, [66.0, 67.0, 68.0, 67.0], [95.5] * 4)
    return Results(cfg, cfg.seeds, arms)


@pytest.mark.parametrize("comp", ["kd", "prune", "struct"])
def test_one_seed_of_a_plain_student_fails_its_compressions_claims(comp):
    # the committed quick run passed this gate on the mean (KD 5.0, pruning 4.6) with single
    # seeds at 6.0-6.6: here the mean gap is 3.1, one seed's 6.6 must still fail the gate
    res = _all_compressions({comp: (2.0, 2.0, 1.9, 6.6)})
    judged = {c.id: c for c in judge_all(claims(res), res.arms)}
    for cid, c in judged.items():
        if cid.startswith(f"{comp}_"):
            assert c.verdict == "inconclusive", cid
            assert f"student_learned: 6.6 at {comp}, seed #3 not <= 5" in c.reason
        else:  # the other compressions are not touched by this student
            assert c.verdict == "holds", (cid, c.reason)
    gate = next(g for g in judged[f"{comp}_wcam_auc"].gates if g["name"] == "student_learned")
    assert gate["value"] == 6.6 and not gate["passed"]


def test_student_gate_declared_per_seed_for_every_compression():
    specs = claims(_all_compressions({}))
    gates = [g for s in specs for g in s.gates if g.name == "student_learned"]
    assert gates and all(g.per_seed and g.kind == "max" and g.reference == 5.0 for g in gates)
    assert {g.arms for g in gates} == {("kd",), ("prune",), ("struct",)}


def test_every_compression_declares_its_restoration_headline():
    specs = claims(_all_compressions({}))
    heads = sorted(s.id for s in specs if s.role == "headline")
    assert heads == sorted(
        f"{c}_wcam_{k}" for c in ("kd", "prune", "struct") for k in ("auc", "restores_teacher")
    )
    assert len({s.id for s in specs}) == len(specs)


# --- one preset per question --------------------------------------------------------------------


def test_quick_prune_is_folded_into_quick():
    from paperzoo.core.errors import UsageError
    from paperzoo.core.registry import get_experiment, list_experiments

    presets = {e.preset for e in list_experiments("compression")}
    assert "quick_prune" not in presets and {"smoke", "quick", "paper"} <= presets
    with pytest.raises(UsageError):
        get_experiment("compression", "quick_prune")
    cfg = quick()
    # every compression in the one preset, with the students' new schedules
    assert cfg.distill.enabled and cfg.prune.enabled and cfg.prune.structured
    assert cfg.distill.num_epochs == 32
    assert cfg.prune.epochs_per_iteration == 6.0 and cfg.prune.lr_schedule == "cosine"
    assert cfg.prune.structured_epochs == 10.0
    # a headline is never judged on fewer than 4 paired seeds
    assert len(cfg.seeds) >= 4 and len(set(cfg.seeds)) == len(cfg.seeds)
    assert f"{len(cfg.seeds)} paired seeds" in get_experiment("compression", "quick").doc
