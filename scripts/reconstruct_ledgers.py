"""One-off: reconstruct the pre-registration ledger of every committed run from git history.

Runs committed before ledgers existed (2026-12-07) have no ``preregistration.json``. For each
``docs/results/<method>/<preset>/`` this script checks out the commit the run started from
(``meta.json`` ``git``; a ``+dirty`` suffix means the tree had uncommitted changes, which git
cannot recover: the ledger says so) into a temporary worktree, and asks *that* commit's code for
the run's claim declarations (its ``claims(results)`` on the run's stored numbers and config), so
the ledger holds what the code declared when the run began. Claims code changed during a resumed
run, or thresholds set after numbers were seen, then show as post-hoc changes when today's code
re-judges the run. Changes that git cannot show (a metric rescaled under an unchanged margin, a
rerun decided after a failed gate) are added by hand from the method READMEs (``KNOWN``), each
with its source.

    .venv/bin/python scripts/reconstruct_ledgers.py            # writes the ledgers
    .venv/bin/paperzoo report --rejudge-docs                   # re-judges docs/results with them

Read-only on the repository apart from the ledger files; worktrees live in a temporary folder.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "results"

#: post-hoc changes git cannot show, from the method READMEs ("*": every claim of the run)
KNOWN: dict[tuple[str, str], dict[str, list[str]]] = {
    ("quantization", "quick"): {
        "*": [
            "resumed with edits after results were seen: the bit-cost sweep changed twice, a "
            "near_budget gate added to the learned-bit claims, the from-scratch arms lengthened "
            "and their gate added mid-run (quantization README, 'History of this run')"
        ],
        "heterogeneous_scratch_beats_fixed": [
            "the pick rule was changed after the run finished, so that seed 1's uniform pick, "
            "which the heterogeneity gate rejected, was replaced (quantization README)"
        ],
        "learned_bits_match_uniform": [
            "the pick rule was changed after the run finished (quantization README)"
        ],
    },
    ("continual", "official"): {
        "ocs_matches_official": [
            "the 1-point margin was written after the 3-seed measurement was known; only seed 3 "
            "was a new draw (continual README, quality gate)"
        ]
    },
    ("continual", "quick"): {
        "ocs_accuracy_imbalanced": [
            "a second look: the imbalanced stream was rerun with changed settings after the "
            "2026-12-05 run (continual README, 'What changed since the 2026-12-05 run')"
        ]
    },
    ("tts", "quick"): {
        "saln_mcd_within_margin": [
            "the 0.3 dB margin was kept through a 17.9x rescaling of the MCD metric fixed after "
            "the pilot (tts README)"
        ]
    },
    ("compression", "quick_prune"): {
        "*": [
            "a second look: this follow-up (6 fine-tuning epochs per pruning iteration instead "
            "of 3) was decided after quick's pruning gate failed with a favourable effect "
            "visible (compression README)"
        ]
    },
    ("complexity", "quick"): {
        "*": [
            "a second look: rerun with the NC gradient bound after the 2026-11-29 run's "
            "divergences, its effects visible (complexity README, Stability)"
        ]
    },
}

_DECLARE = r"""
import json, sys
try:
    import tomllib
except ModuleNotFoundError:
    import tomli as tomllib
from paperzoo.core.config import config_from_dict
from paperzoo.core.registry import get_experiment
from paperzoo.core.engine import Results
r = json.load(open(sys.argv[1]))
exp = get_experiment(r["method"], r["preset"])
cfg = config_from_dict(type(exp.make_config()), tomllib.loads(open(sys.argv[2]).read()))
specs = exp.load_claims()(Results(cfg, r["seeds"], r["arms"]))
out = []
for s in specs:
    rec = {"id": s.id, "statement": s.statement, "metric": s.metric, "arm": s.arm,
           "baselines": list(s.baselines), "direction": "higher" if s.higher_is_better else "lower",
           "threshold": float(s.threshold), "reference": s.reference,
           "gates": [{"name": g.name, "metric": g.metric, "reference": float(g.reference),
                      "kind": g.kind, "arms": list(g.arms)} for g in s.gates]}
    out.append(rec)
claims = getattr(cfg, "claims", None)
import dataclasses
section = dataclasses.asdict(claims) if dataclasses.is_dataclass(claims) else None
print(json.dumps({"claims": out, "config_claims": section, "seeds": list(cfg.seeds)}))
"""


def _worktree(commit: str, base: Path) -> Path:
    if not commit:
        raise ValueError("meta.json names no git commit")
    path = base / commit[:12]
    if not path.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(path), commit], cwd=ROOT,
                       check=True, capture_output=True)  # fmt: skip
    return path


def _declare(commit: str, base: Path, res: Path, run: Path) -> dict:
    tree = _worktree(commit, base)
    out = subprocess.run(
        [sys.executable, "-c", _DECLARE, str(res), str(run / "config.toml")],
        env={"PYTHONPATH": str(tree / "src"), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if out.returncode:
        raise RuntimeError(out.stderr.strip().splitlines()[-1])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _later_commits(commit: str, method: str, most: int = 30) -> list[str]:
    """Commits after ``commit`` that touched the method, oldest first."""
    out = subprocess.run(
        ["git", "log", "--reverse", "--format=%H", f"{commit}..HEAD", "--",
         f"src/paperzoo/{method}"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    return out.stdout.split()[:most]


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="paperzoo-ledgers-") as tmp:
        base = Path(tmp)
        try:
            for res in sorted(DOCS.glob("*/*/results.json")):
                run = res.parent
                meta = json.loads((run / "meta.json").read_text())
                git = str(meta.get("git_sha") or "")
                commit, dirty = git.removesuffix("+dirty"), git.endswith("+dirty")
                key = (run.parent.name, run.name)
                ledger = {"method": key[0], "preset": key[1], "reconstructed": True,
                          "git": {"commit": commit or None, "dirty": dirty},
                          "written_at": meta.get("started"), "second_look_of": [],
                          "known_post_hoc": KNOWN.get(key, {})}  # fmt: skip
                if dirty:
                    ledger["note"] = (
                        "the run started from a tree with uncommitted changes; the declaration "
                        "is that of its last commit"
                    )
                try:
                    used, first_error = None, None
                    # a resumed run may have had its config rewritten by a later session: then
                    # the first commit after the start whose code reads the stored config declares
                    for c in [commit, *_later_commits(commit, key[0])]:
                        try:
                            ledger.update(_declare(c, base, res, run))
                            used = c
                            break
                        except RuntimeError as e:
                            first_error = first_error or e
                    if used is None:
                        raise first_error or RuntimeError("no commit could declare")
                    if used != commit:
                        ledger["declared_by"] = used
                        ledger["note"] = (
                            ledger.get("note", "") + " The start commit's code could not read the "
                            f"stored config (rewritten by a later session: {first_error}); the "
                            f"declaration is that of {used[:8]}, the first later commit that can."
                        ).strip()
                except Exception as e:
                    ledger.update(claims=[], error=f"could not reconstruct: {e}")
                (run / "preregistration.json").write_text(json.dumps(ledger, indent=1) + "\n")
                print(f"{key[0]}/{key[1]}: {len(ledger['claims'])} claims from {commit[:8]}"
                      + (" (dirty)" if dirty else "") + (f"; {ledger.get('error')}" if
                      ledger.get("error") else ""))  # fmt: skip
        finally:
            subprocess.run(["git", "worktree", "prune"], cwd=ROOT, capture_output=True)
            for p in base.iterdir():
                subprocess.run(["git", "worktree", "remove", "--force", str(p)], cwd=ROOT,
                               capture_output=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
