"""Why FedMix collapsed at λ = 0.2 and lr 0.1: one client's local objective, term by term.

The committed ``quick`` run's FedMix at λ = 0.2 learned to 0.65-0.70 by round 200 and then fell
to 0.14-0.38 on every seed (README). :func:`local_drift` isolates the cause: from a model
pre-trained with plain cross-entropy, one 2-class client of the quick preset's Fashion-MNIST
partition trains many local steps with each objective (FedAvg's CE, global mixup, FedMix without
its first-order term, FedMix) on the same minibatches and partners, logging the three FedMix
terms, the input-gradient size, the weight norm and the test accuracy. Global mixup's loss is a
cross-entropy with non-negative soft labels, bounded below by 0; FedMix's first-order term
``λ(1-λ) <∇_x CE(f(x), y_i), x̄_j>`` is linear in the input gradient and has no lower bound
(``tests/federated/test_mixup.py`` shows it on a linear model), so SGD can lower the loss by
making the cross-entropy fall steeply along the other clients' mean images while its own CE
rises, until the ReLUs die and the network outputs a constant.

Run (about a minute on one core)::

    python -m paperzoo.federated.repro.diagnostics --data-root /work/shared/data
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from ..local_training import evaluate_accuracy
from ..means import client_means
from ..mixup import soft_cross_entropy

__all__ = ["VARIANTS", "DriftRow", "local_drift", "main", "parser"]

VARIANTS = ("fedavg", "global_mixup", "fedmix_no_taylor", "fedmix")
"""Local objectives compared: CE; global mixup (raw partners, bounded below); FedMix's two CE
terms only; FedMix (with its first-order term)."""


@dataclass(frozen=True)
class DriftRow:
    """The state after ``step`` local steps (terms on that step's minibatch)."""

    step: int
    loss: float
    ce_own: float
    ce_mean: float
    taylor: float
    grad_x: float
    weight_norm: float
    test_acc: float


def _fedmix_terms(model: torch.nn.Module, x, y, mean_x, mean_y, lam: float):
    """(CE on own labels, CE on partner mean labels, per-batch mean of the first-order inner
    product, mean input-gradient norm), as ``mixup.fedmix_loss`` computes them."""
    xs = ((1 - lam) * x).detach().requires_grad_(True)
    logits = model(xs)
    ce_own = soft_cross_entropy(logits, y, reduction="none")
    ce_mean = soft_cross_entropy(logits, mean_y, reduction="none")
    (gx,) = torch.autograd.grad(ce_own.sum(), xs, create_graph=True)
    taylor = (gx * mean_x).flatten(1).sum(1)
    return ce_own.mean(), ce_mean.mean(), taylor.mean(), gx.flatten(1).norm(dim=1).mean()


def local_drift(
    fed: Any,
    variant: str,
    *,
    lam: float = 0.2,
    lr: float = 0.1,
    steps: int = 1000,
    client: int = 0,
    pretrain_epochs: int = 2,
    pretrain_lr: float = 0.1,
    log_every: int = 100,
    seed: int = 0,
) -> list[DriftRow]:
    """Train client ``client`` of the federation ``fed`` (a :class:`.federation.Federation`)
    for ``steps`` local SGD steps of ``variant`` (one of :data:`VARIANTS`) at ``lr`` from a
    model pre-trained centrally with CE for ``pretrain_epochs`` epochs at ``pretrain_lr`` (the
    same seed for every variant: all start from the same weights and see the same minibatches
    and partners); a row every ``log_every`` steps (and after the first)."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    torch.manual_seed(seed)
    model = fed.model_fn()
    g = torch.Generator().manual_seed(seed)
    n, bs = len(fed.y_train), fed.cfg.fl.batch_size
    for _ in range(pretrain_epochs):
        perm = torch.randperm(n, generator=g)
        for s in range(0, n, bs):
            i = perm[s : s + bs]
            model.zero_grad()
            F.cross_entropy(model(fed.x_train[i]), fed.y_train[i]).backward()
            with torch.no_grad():
                for p in model.parameters():
                    p.add_(p.grad, alpha=-pretrain_lr)
    k = fed.num_classes
    means = [client_means(fed.x_train[p], fed.y_train[p], k) for p in fed.parts]
    pool_x = torch.cat([m[0] for j, m in enumerate(means) if j != client])
    pool_y = torch.cat([m[1] for j, m in enumerate(means) if j != client])
    idx = torch.as_tensor(fed.parts[client])
    x, y = fed.x_train[idx], fed.y_train[idx]
    others = torch.ones(n, dtype=torch.bool)
    others[idx] = False
    raw_x = fed.x_train[others]
    raw_y = F.one_hot(fed.y_train[others], k).float()
    zero = torch.zeros(())
    rows = []
    g = torch.Generator().manual_seed(seed + 1)
    for step in range(1, steps + 1):
        b = torch.randint(0, len(y), (bs,), generator=g)
        pj = torch.randint(0, len(pool_x), (bs,), generator=g)
        rj = torch.randint(0, len(raw_x), (bs,), generator=g)
        if variant == "fedavg":
            co, cm, ta, gn = F.cross_entropy(model(x[b]), y[b]), zero, zero, zero
            loss = co
        elif variant == "global_mixup":
            logits = model((1 - lam) * x[b] + lam * raw_x[rj])
            co, cm = soft_cross_entropy(logits, y[b]), soft_cross_entropy(logits, raw_y[rj])
            ta = gn = zero
            loss = (1 - lam) * co + lam * cm
        else:
            co, cm, ta, gn = _fedmix_terms(model, x[b], y[b], pool_x[pj], pool_y[pj], lam)
            loss = (1 - lam) * co + lam * cm
            if variant == "fedmix":
                loss = loss + lam * (1 - lam) * ta
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p.add_(p.grad, alpha=-lr)
        if step == 1 or step % log_every == 0:
            with torch.no_grad():
                norm = float(sum((p**2).sum() for p in model.parameters()) ** 0.5)
            _, acc = evaluate_accuracy(model, fed.x_test, fed.y_test)
            vals = (loss, co, cm, ta, gn)
            rows.append(DriftRow(step, *(float(v.detach()) for v in vals), norm, acc))
    return rows


def parser() -> argparse.ArgumentParser:
    """The command line of ``python -m paperzoo.federated.repro.diagnostics``."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-root", default=None, help="folder holding fashion_mnist/")
    ap.add_argument("--lam", type=float, default=0.2, help="FedMix λ (default 0.2)")
    ap.add_argument("--lr", type=float, default=0.1, help="local learning rate (default 0.1)")
    ap.add_argument("--steps", type=int, default=1000, help="local steps (default 1000)")
    return ap


def main(argv: list[str] | None = None) -> None:
    """Print the local drift of every variant on the quick preset's Fashion-MNIST client 0."""
    from paperzoo.core.presets import build_config

    from .federation import build_federation

    args = parser().parse_args(argv)
    torch.set_num_threads(1)
    cfg = build_config("federated", "quick", overrides=["datasets=fashion_mnist"])
    fed = build_federation(cfg, "fashion_mnist", 0, args.data_root)
    for variant in VARIANTS:
        print(f"{variant}, λ {args.lam:g}, lr {args.lr:g}")
        print("  step    loss  ce_own ce_mean   taylor |grad_x|    |w| test acc")
        for r in local_drift(fed, variant, lam=args.lam, lr=args.lr, steps=args.steps):
            print(
                f"  {r.step:4d} {r.loss:+7.3f} {r.ce_own:7.3f} {r.ce_mean:7.3f} {r.taylor:+8.3f} "
                f"{r.grad_x:8.2f} {r.weight_norm:6.1f} {r.test_acc:8.3f}"
            )


if __name__ == "__main__":
    main()
