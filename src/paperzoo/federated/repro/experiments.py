"""Presets of the FedMix reproduction (registered with the core registry)."""

from __future__ import annotations

from paperzoo.core.registry import register

from .config import ClaimConfig, Config, DataConfig, FederationConfig

__all__ = ["deploy", "paper", "paper_femnist", "quick", "smoke"]


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


@register("federated", "quick", cpu_minutes=80, needs_data=("mnist", "fashion_mnist"))
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

    Pre-registered (before the run): claims FedMix > FedAvg and FedMix > NaiveMix on final
    accuracy (mean of the last 5 evaluations = 10 rounds) and on the area under the accuracy
    curve, smallest effect 0.005 each; gates: FedAvg converged (< 2% relative change over the
    last 20% of rounds) and FedAvg at its reference level (MNIST 0.95, Fashion-MNIST 0.78: the
    pilots' plateaus minus about 2 points, i.e. every seed trains as well as the pilot did).
    Reported, not claimed: the FedMix λ sensitivity on Fashion-MNIST (λ = 0.05 main, 0.1, 0.2;
    3 paired seeds) and FedMix with (ε = 1, δ = 1e-5)-DP means (3 paired seeds).
    3 seeds (each fixes partition, initial weights, client sampling and local shuffling for
    every arm). About 75 min with ``--workers 2`` on the 2-core machine.

    Seeds: 3, set before `paperzoo plan` existed; `paperzoo plan federated --preset quick --from
    docs/results/federated/quick` (2026-12-07, the committed run as pilot) asks for > 200 paired
    seeds to resolve every headline and secondary claim at 80 % power.
    """
    return Config(
        seeds=[0, 1, 2],
        datasets=["fashion_mnist", "mnist"],
        arms=["fedavg", "naivemix", "fedmix"],
        model="lenet5",
        model_width=6,
        lam_sweep=[0.1, 0.2],
        lam_sweep_seeds=3,
        dp_epsilons=[1.0],
        dp_seeds=3,
        eval_every=2,
        data=DataConfig(num_train=6000, num_test=2000, num_clients=60, classes_per_client=2),
        fl=FederationConfig(
            num_rounds=400,
            clients_per_round=15,
            local_epochs=1,
            learning_rate=0.1,
            fedmix_lam=0.05,
            naivemix_lam=0.1,
            global_mixup_lam=0.1,
        ),
        claims=ClaimConfig(reference_acc={"mnist": 0.95, "fashion_mnist": 0.78}),
    )


@register("federated", "paper", cpu_minutes=6000, needs_data=("cifar10",))
def paper() -> Config:
    """Paper Table 1, CIFAR-10: 60 clients x 2 classes, 15 per round, 500 rounds, VGG (not run).

    Needs ``<data root>/cifar10/cifar10.npz`` (x_train [N,32,32,3] uint8, y_train, x_test, y_test);
    stops with a clear error when it is absent.
    """
    return Config(seeds=[0, 1, 2])


@register("federated", "paper_femnist", cpu_minutes=3000, needs_data=("femnist",))
def paper_femnist() -> Config:
    """Paper Table 1, FEMNIST: 100 clients, 10 per round, 10 local epochs, 200 rounds, LeNet-5.

    Needs ``<data root>/femnist/femnist.npz`` (28x28 images); our loader splits it with
    Dirichlet(0.5) instead of per writer (not run here: the data are absent).
    """
    return Config(
        seeds=[0, 1, 2],
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
