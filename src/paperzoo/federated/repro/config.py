"""Configuration of the FedMix experiments; defaults are the paper's CIFAR-10 setting.

Paper: FedMix (Yoon et al., ICLR 2021), https://arxiv.org/abs/2107.00233; hyperparameters as in
the Flower baseline's README (said to match the paper): 60 clients, 15 per round, 2 classes per
client, 2 local epochs, 500 rounds, batch 10, lr 0.01 decayed x0.999 per round, M_k = all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, ClassVar, Literal

from paperzoo.core.config import Fraction, NonNegFloat, NonNegInt, OneOf, PosFloat, PosInt, Range

__all__ = ["ARMS", "ClaimConfig", "Config", "DataConfig", "FederationConfig"]

#: every arm; ``global_mixup`` shares raw samples (the non-private reference)
ARMS = ("fedavg", "fedprox", "naivemix", "fedmix", "global_mixup")


@dataclass
class DataConfig:
    """How the data set is subsampled and split over clients."""

    num_train: NonNegInt = 0
    """Training samples used (stratified subsample; 0 = all)."""
    num_test: NonNegInt = 0
    """Test samples for the server's evaluation (stratified subsample; 0 = all)."""
    num_clients: PosInt = 60
    """Number of clients (paper CIFAR-10: 60)."""
    partition: Literal["iid", "classes", "dirichlet"] = "classes"
    """Client split: IID, ``classes_per_client`` label shards, or Dirichlet(``dirichlet_alpha``)."""
    classes_per_client: PosInt = 2
    """Label shards per client for ``partition = "classes"`` (paper CIFAR-10: 2)."""
    dirichlet_alpha: PosFloat = 0.5
    """Concentration for ``partition = "dirichlet"``."""


@dataclass
class FederationConfig:
    """Federated training: rounds, local SGD, and the mixup hyperparameters."""

    RENAMED: ClassVar[dict[str, str]] = {"lr_decay": "learning_rate_decay"}

    num_rounds: PosInt = 500
    """Communication rounds (paper CIFAR-10: 500)."""
    clients_per_round: PosInt = 15
    """Clients sampled per round (paper CIFAR-10: 15)."""
    local_epochs: PosInt = 2
    """Local epochs per round (paper CIFAR-10: 2)."""
    batch_size: PosInt = 10
    """Local minibatch size (paper: 10)."""
    learning_rate: PosFloat = 0.01
    """Local SGD learning rate in round 1 (paper: 0.01)."""
    learning_rate_decay: Annotated[float, Range(gt=0, le=1)] = 0.999
    """Learning rate multiplier per round (paper: 0.999)."""
    mean_batch_size: NonNegInt = 0
    """M_k, samples per shared mean; 0 = all local samples, one mean per client (paper default)."""
    fedmix_lam: Fraction = 0.05
    """FedMix mixing ratio λ (paper CIFAR-10: 0.05)."""
    naivemix_lam: Fraction = 0.1
    """NaiveMix mixing ratio λ (paper CIFAR-10: 0.1)."""
    global_mixup_lam: Fraction = 0.1
    """Global mixup mixing ratio λ (the reference arm)."""
    proximal_mu: NonNegFloat = 0.01
    """FedProx proximal weight μ."""
    mean_dp_epsilon: NonNegFloat = 0.0
    """ε of the Gaussian mechanism on each shared mean (inputs clipped to [0, 1]); 0 = exact
    means (the paper). See ``means.privatize_means`` for the sensitivity and calibration."""
    mean_dp_delta: Annotated[float, Range(gt=0, lt=1)] = 1e-5
    """δ of the Gaussian mechanism on the shared means."""
    engine: Literal["in_process", "flower_simulation"] = "in_process"
    """``in_process``: Flower's Server loop with direct client calls; ``flower_simulation``: Ray."""
    round_timeout: NonNegFloat = 0.0
    """Seconds a client may take per instruction before it is dropped (0 = no limit)."""


@dataclass
class Config:
    """One reproduction: several data sets x arms x seeds (+ an optional FedMix λ sweep)."""

    seeds: list[NonNegInt] = field(default_factory=lambda: [0, 1])
    """Seeds; each seeds model init, partition, client sampling and local shuffling."""
    datasets: list[str] = field(default_factory=lambda: ["cifar10"])
    """Data sets: ``synthetic``, any image set of the catalog (``digits``, ``mnist``,
    ``fashion_mnist``, ``cifar10``), another set under the data root (``femnist``) or a path to
    your own ``.npz`` (keys x_train, y_train, x_test, y_test)."""
    arms: list[Annotated[str, OneOf(ARMS)]] = field(default_factory=lambda: list(ARMS))
    """Arms to run (subset of fedavg, fedprox, naivemix, fedmix, global_mixup)."""
    model: Literal["lenet5", "mlp", "vgg"] = "vgg"
    """Model: ``lenet5`` (28x28), ``mlp`` (any), ``vgg`` (CIFAR; paper: modified VGG)."""
    model_width: PosInt = 6
    """Width of the first conv layer (LeNet-5: 6) / MLP hidden = 8 x width."""
    lam_sweep: list[Fraction] = field(default_factory=list)
    """Extra FedMix λ values, run on the first data set with ``lam_sweep_seeds`` seeds."""
    lam_sweep_seeds: PosInt = 1
    """How many of ``seeds`` the λ sweep uses."""
    dp_epsilons: list[PosFloat] = field(default_factory=list)
    """FedMix with differentially private means (``fl.mean_dp_delta``) at each ε, run on the
    first data set with ``dp_seeds`` seeds: the accuracy cost of privacy."""
    dp_seeds: PosInt = 1
    """How many of ``seeds`` the privacy arms use."""
    final_rounds: PosInt = 5
    """Final accuracy = mean test accuracy over the last this-many evaluations."""
    eval_every: PosInt = 1
    """Evaluate the global model on the test set every this-many rounds (and after the last);
    the accuracy curve, its area and the final accuracy use the evaluated rounds."""
    data: DataConfig = field(default_factory=DataConfig)
    """Data subsampling and client partition."""
    fl: FederationConfig = field(default_factory=FederationConfig)
    """Federated training."""
    claims: ClaimConfig = field(default_factory=lambda: ClaimConfig())
    """Pre-registered claim thresholds and gates."""

    def eval_rounds(self) -> list[int]:
        """Rounds after which the server evaluates: every ``eval_every``-th and the last."""
        n, k = self.fl.num_rounds, self.eval_every
        return sorted({*range(k, n + 1, k), n})

    def check(self) -> None:
        """Cross-field rules across sections."""
        if self.fl.clients_per_round > self.data.num_clients:
            raise ValueError(
                f"fl.clients_per_round = {self.fl.clients_per_round} exceeds data.num_clients = "
                f"{self.data.num_clients}"
            )
        if self.eval_every > self.fl.num_rounds:
            raise ValueError(
                f"eval_every = {self.eval_every} exceeds fl.num_rounds = {self.fl.num_rounds}"
            )
        if self.dp_epsilons and self.dp_seeds > len(self.seeds):
            raise ValueError(f"dp_seeds = {self.dp_seeds} exceeds the {len(self.seeds)} seeds")
        if self.lam_sweep and self.lam_sweep_seeds > len(self.seeds):
            raise ValueError(
                f"lam_sweep_seeds = {self.lam_sweep_seeds} exceeds the {len(self.seeds)} seeds"
            )


@dataclass
class ClaimConfig:
    """Pre-registered thresholds of the claims (set before a run, never after seeing it)."""

    min_effect: NonNegFloat = 0.005
    """Smallest gain in final test accuracy (absolute) that counts as "FedMix beats X"."""
    min_effect_auc: NonNegFloat = 0.005
    """Smallest gain in the area under the accuracy curve that counts."""
    reference_acc: dict[str, Fraction] = field(default_factory=dict)
    """Per data set (each entry of ``datasets``; a path to your own ``.npz`` is its own key): the
    final accuracy FedAvg must reach for the claims to be judged (a baseline under its known
    level makes every verdict inconclusive). A data set without a level here has its claims
    inconclusive too ("no reference level for <data set>"), never judged ungated: declare one
    with ``--set claims.reference_acc.<data set>=...`` (or from a pilot, ``paperzoo plan
    federated --reference --from PILOT``)."""
    converged_change: PosFloat = 0.02
    """Convergence gate: FedAvg's test accuracy (10%-of-rounds windows) may still move by at
    most this fraction between 80% of the rounds and the end."""
