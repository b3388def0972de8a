"""Presets of the FedMix reproduction (registered with the core registry)."""

from __future__ import annotations

from paperzoo.core.registry import register

from .config import ClaimConfig, Config, DataConfig, FederationConfig, GridCell

__all__ = ["deploy", "paper", "paper_femnist", "quick", "smoke", "sweep"]


@register("federated", "smoke", cpu_minutes=0.2)
def smoke() -> Config:
    """All five arms on sklearn digits, 10 clients x 2 classes, 4 rounds (a wiring check)."""
    return Config(
        seeds=[0],
        datasets=["digits"],
        model="mlp",
        model_width=4,
        data=DataConfig(num_clients=10, partition="classes", classes_per_client=2),
        fl=FederationConfig(
            num_rounds=4,
            clients_per_round=3,
            local_epochs=2,
            learning_rate=0.1,
            fedmix_lam=0.1,
            naivemix_lam=0.1,
        ),
        final_rounds=2,
    )


@register("federated", "deploy", cpu_minutes=0.2)
def deploy() -> Config:
    """The Flower deployment's default (``python -m paperzoo.federated.repro.deploy local``, the
    Flower App's ``preset``): sklearn digits, 2 clients x 5 classes, both every round, 2 rounds
    of one local epoch at lr 0.1, λ 0.1, a 60 s round timeout (a slow node is dropped), 500
    test images; a wiring check of a real multi-process deployment, not a reproduction."""
    return Config(
        seeds=[0],
        datasets=["digits"],
        arms=["fedavg", "naivemix", "fedmix"],
        model="mlp",
        model_width=4,
        final_rounds=1,
        data=DataConfig(num_test=500, num_clients=2, partition="classes", classes_per_client=5),
        fl=FederationConfig(
            num_rounds=2,
            clients_per_round=2,
            local_epochs=1,
            learning_rate=0.1,
            fedmix_lam=0.1,
            naivemix_lam=0.1,
            round_timeout=60.0,
        ),
    )


@register("federated", "quick", cpu_minutes=190, needs_data=("mnist", "fashion_mnist"))
def quick() -> Config:
    """MNIST + Fashion-MNIST, LeNet-5, 60 clients x 2 classes, 15 per round, 400 rounds.

    The paper's pathological non-IID setting (its CIFAR-10 row: 60 clients with 2 classes each,
    15 sampled per round, batch 10, lr x0.999 per round, M_k = all, FedMix λ = 0.05, NaiveMix
    λ = 0.1) on the two 28x28 sets here, with the paper's FEMNIST network (LeNet-5). Ours, sized
    from FedAvg pilots (seed 0, 2 cores): 6k training images (100 per client; stratified),
    2k test images evaluated every 2 rounds, 1 local epoch (paper CIFAR-10: 2; equal accuracy
    per round at lr 0.1 in the pilot, 1.6x the cost), lr 0.1 (paper 0.01: at 0.01 FedAvg sat
    at chance for 50 rounds and was still climbing at 400; the issue's "fix the optimisation"),
    400 rounds (Fashion-MNIST FedAvg plateaued at 0.80 from round ~270 and moved < 1% between
    rounds 300 and 400 at lr 0.1; MNIST reached 0.96 by round 300 at lr 0.05). That is 80% of
    the paper's 500 rounds and 40% of its local steps per round (1 epoch of 100 samples vs 2).

    First pre-registration (before the 2026-12-06 run, seeds 0-2): FedMix > FedAvg and FedMix
    > NaiveMix on final accuracy (mean of the last 5 evaluations = 10 rounds) and on the area
    under the accuracy curve, smallest effect 0.005 each; gates: FedAvg converged (< 2% relative
    change over the last 20% of rounds, seed mean) and FedAvg at its reference level (MNIST
    0.95, Fashion-MNIST 0.78: the pilots' plateaus minus about 2 points, every seed).
    Reported, not claimed: the FedMix λ sensitivity on Fashion-MNIST (λ = 0.05 main, 0.1, 0.2;
    3 paired seeds) and FedMix with (ε = 1, δ = 1e-5)-DP means (3 paired seeds).

    Re-declared 2026-12-07 (issue #39), before any seed beyond 0-2: thresholds at the paper's
    size, the smallest Table 1 gain of each comparison (FedMix over FedAvg +1.2 points, over
    NaiveMix +0.6, NaiveMix over FedAvg +0.6: FEMNIST, the LeNet-5 row); NaiveMix > FedAvg
    declared (secondary); headline on Fashion-MNIST only (the spec chose it for its headroom;
    MNIST FedAvg was at 0.96 in the pilot before the first run, leaving under 4 points, less
    than the paper's CIFAR-10 gain), MNIST secondary; the AUC comparisons are checks (the paper
    reports no AUC) at threshold 0; gates on every compared arm: converged (seed mean, as
    before) and no collapse (per seed: final accuracy at most 0.05 below the best window of 5
    evaluations; every main arm of the first run stayed within 0.027 of its best single
    evaluation, the collapsed λ = 0.2 arm fell by 0.27 or more, README).

    Seeds: 12. `paperzoo plan federated --preset quick --from docs/results/federated/quick`
    (2026-12-07, the first run as pilot, these claims) asks for 138 paired seeds, all of them
    for the headline FedMix > NaiveMix on Fashion-MNIST (pilot d +0.0051 against its 0.006
    threshold, sd 0.0037; ~4 d CPU); every other headline and secondary claim resolves with 12
    (MNIST NaiveMix > FedAvg needs 12, the Fashion-MNIST headline over FedAvg 4). So 12 seeds,
    knowing that one headline will likely stay inconclusive. Cost, from the first run's 133 CPU
    s per FedAvg-unit (8,388 s over 63 units of FedAvg's cost; FedMix costs 3.4): 1,436 CPU s
    per seed for the main arms plus 4,070 s for the 3-seed λ and privacy arms, ~5.9 h CPU,
    ~3.2 h wall with ``--workers 2`` on the 2-core machine (the first run's wall/CPU ratio
    0.54).
    """
    return Config(
        seeds=list(range(12)),
        datasets=["fashion_mnist", "mnist"],
        arms=["fedavg", "naivemix", "fedmix"],
        model="lenet5",
        model_width=6,
        lam_sweep=[0.1, 0.2],
        lam_sweep_seeds=3,
        dp_epsilons=[1.0],
        dp_seeds=3,
        eval_every=2,
        data=_quick_data(),
        fl=_quick_federation(),
        claims=ClaimConfig(
            reference_acc={"mnist": 0.95, "fashion_mnist": 0.78},
            headline_datasets=["fashion_mnist"],
        ),
    )


@register("federated", "paper", cpu_minutes=8000, needs_data=("cifar10",))
def paper() -> Config:
    """Paper Table 1, CIFAR-10: 60 clients x 2 classes, 15 per round, 500 rounds, VGG (not run).

    Needs ``<data root>/cifar10/cifar10.npz`` (x_train [N,32,32,3] uint8, y_train, x_test, y_test);
    stops with a clear error when it is absent. Seeds: 4, the fewest a headline is judged on (no
    pilot to plan from; was 3, 2026-12-07).
    """
    return Config(seeds=[0, 1, 2, 3])


@register("federated", "paper_femnist", cpu_minutes=4000, needs_data=("femnist",))
def paper_femnist() -> Config:
    """Paper Table 1, FEMNIST: 100 clients, 10 per round, 10 local epochs, 200 rounds, LeNet-5.

    Needs ``<data root>/femnist/femnist.npz`` (28x28 images); our loader splits it with
    Dirichlet(0.5) instead of per writer (not run here: the data are absent). Seeds: 4, the fewest
    a headline is judged on (no pilot; was 3, 2026-12-07).
    """
    return Config(
        seeds=[0, 1, 2, 3],
        datasets=["femnist"],
        model="lenet5",
        data=DataConfig(num_clients=100, partition="dirichlet", dirichlet_alpha=0.5),
        fl=FederationConfig(
            num_rounds=200,
            clients_per_round=10,
            local_epochs=10,
            fedmix_lam=0.2,
            naivemix_lam=0.2,
            global_mixup_lam=0.2,
        ),
    )


def _quick_data() -> DataConfig:
    """quick's partition: 6,000 training images over 60 clients x 2 classes, 2,000 test."""
    return DataConfig(num_train=6000, num_test=2000, num_clients=60, classes_per_client=2)


def _quick_federation() -> FederationConfig:
    """quick's federation: 400 rounds of 15 clients, 1 local epoch at lr 0.1, λ 0.05 (FedMix)
    / 0.1 (NaiveMix, global mixup)."""
    return FederationConfig(
        num_rounds=400,
        clients_per_round=15,
        local_epochs=1,
        learning_rate=0.1,
        fedmix_lam=0.05,
        naivemix_lam=0.1,
        global_mixup_lam=0.1,
    )


def _fashion_mnist_setting(seeds: list[int]) -> Config:
    """quick's Fashion-MNIST setting (LeNet-5, 60 clients x 2 classes, 100 images each, 15 per
    round, 1 local epoch, lr 0.1 x0.999 per round, 400 rounds, λ 0.05 / 0.1), no λ sweep, no
    private means."""
    return Config(
        seeds=seeds,
        datasets=["fashion_mnist"],
        arms=["fedavg", "naivemix", "fedmix"],
        model="lenet5",
        model_width=6,
        eval_every=2,
        data=_quick_data(),
        fl=_quick_federation(),
    )


@register("federated", "sweep", cpu_minutes=240, needs_data=("fashion_mnist",))
def sweep() -> Config:
    """Fashion-MNIST grid of non-IID settings, paired seeds: does FedMix's gain over FedAvg and
    NaiveMix depend on the partition, the local data per client or the local epochs?

    Pre-registered 2026-12-07 (issue #39), before any of its seeds ran. **Headline cell: the
    preset's own setting**, quick's Fashion-MNIST row (2 classes per client, 100 images per
    client, 1 local epoch; LeNet-5, 60 clients, 15 per round, lr 0.1 x0.999, 400 rounds, FedMix
    λ 0.05, NaiveMix λ 0.1): the paper's pathological split and the only cell with a pilot (the
    committed quick run), on fresh seeds 100-104 (quick ran 0-2 of it). Its claims FedMix >
    FedAvg (threshold 1.2 points) and FedMix > NaiveMix (0.6) are the headline, NaiveMix >
    FedAvg (0.6) secondary (the paper's smallest Table 1 gains, ``claims.py``). Each grid cell
    changes one factor, with the same seeds (same initial weights and client sampling):

    * ``dir01`` / ``dir05``: Dirichlet(0.1) / Dirichlet(0.5) label skew instead of 2 classes;
    * ``n50`` / ``n200``: 50 / 200 training images per client (3,000 / 12,000 in all);
    * ``e2``: 2 local epochs (the paper's CIFAR-10 value).

    Every cell's claims are secondary. Gates as quick's: every compared arm converged (seed
    mean) and did not collapse (per seed); FedAvg at its reference level per seed, declared
    for the headline cell (0.78, quick's) and **to be declared for each cell before the run**
    from a FedAvg + NaiveMix pilot on other seeds (a cell without a level has inconclusive
    claims)::

        paperzoo reproduce federated --preset sweep --workers 2 --set 'seeds=[90,91]' \
            --set 'arms=["fedavg","naivemix"]' --out runs/sweep_pilot
        paperzoo plan federated --preset sweep --reference --from runs/sweep_pilot/...
        # then add the proposed claims.reference_acc.<cell>/fashion_mnist levels here

    (~1 h CPU, ~35 min wall; the pilot also shows whether 400 rounds converge in each cell.)

    Seeds: 5. `paperzoo plan federated --preset sweep --from docs/results/federated/quick`
    (2026-12-07; the pilot holds the headline cell only, so the cells' claims are not in it and
    are assumed to spread as the headline cell's) asks for 138 seeds, all for the headline
    FedMix > NaiveMix (d +0.0051 against 0.006, sd 0.0037); the headline FedMix > FedAvg needs
    4 and NaiveMix > FedAvg 5. So 5 seeds, knowing FedMix > NaiveMix will likely stay
    inconclusive. Cost, from quick's 133 CPU s per FedAvg-unit (a unit's cost scales with its
    local steps; FedMix 3.4x): per seed 7.5 cell-units (1 + 1 + 1 + 0.5 + 2 + 2) x 5.4 =
    40.5 FedAvg-units, ~5,400 CPU s; 5 seeds ~7.5 h CPU, **~4 h wall** with ``--workers 2`` on
    the 2-core machine (quick's wall/CPU ratio 0.54), plus the pilot.
    """
    cfg = _fashion_mnist_setting(list(range(100, 105)))
    cfg.grid = {
        "dir01": GridCell(partition="dirichlet", dirichlet_alpha=0.1),
        "dir05": GridCell(partition="dirichlet", dirichlet_alpha=0.5),
        "n50": GridCell(num_train=3000),
        "n200": GridCell(num_train=12000),
        "e2": GridCell(local_epochs=2),
    }
    cfg.claims = ClaimConfig(reference_acc={"fashion_mnist": 0.78})
    return cfg
