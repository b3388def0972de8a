"""Presets of the FedMix reproduction (registered with the core registry)."""

from __future__ import annotations

from paperzoo.core.registry import register

from .config import Config, DataConfig, FederationConfig

__all__ = ["paper", "paper_femnist", "quick", "smoke"]


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


@register("federated", "quick", cpu_minutes=45, needs_data=("mnist", "fashion_mnist"))
def quick() -> Config:
    """MNIST + Fashion-MNIST, 20 clients x 2 classes, 5 per round, MLP: FedMix vs baselines.

    Targets the paper's Table 1 claim (FedMix > NaiveMix > FedAvg under pathological non-IID
    splits) at CPU scale: 6k training images (300 per client), 1k test images, 50 rounds, 1 local
    epoch, batch 10, lr 0.01 x0.999/round, 2 seeds, a 784-128-10 MLP (LeNet-5 did not leave its
    initial plateau in this budget), λ = 0.1 for FedMix, NaiveMix and global mixup, and a FedMix
    λ sweep {0.05, 0.2} (1 seed) on Fashion-MNIST. ~42 min on the shared 2-core machine.
    """
    return Config(
        seeds=[0, 1],
        datasets=["fashion_mnist", "mnist"],
        model="mlp",
        model_width=16,
        lam_sweep=[0.05, 0.2],
        lam_sweep_seeds=1,
        data=DataConfig(num_train=6000, num_test=1000, num_clients=20, classes_per_client=2),
        fl=FederationConfig(
            num_rounds=50,
            clients_per_round=5,
            local_epochs=1,
            fedmix_lam=0.1,
            naivemix_lam=0.1,
            global_mixup_lam=0.1,
        ),
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
