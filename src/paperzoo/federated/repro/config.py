"""Configuration of the FedMix experiments; defaults are the paper's CIFAR-10 setting.

Paper: FedMix (Yoon et al., ICLR 2021), https://arxiv.org/abs/2107.00233; hyperparameters as in
the Flower baseline's README (said to match the paper): 60 clients, 15 per round, 2 classes per
client, 2 local epochs, 500 rounds, batch 10, lr 0.01 decayed x0.999 per round, M_k = all.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Annotated, ClassVar, Literal

from paperzoo.core.config import Fraction, NonNegFloat, NonNegInt, OneOf, PosFloat, PosInt, Range

__all__ = ["ARMS", "ClaimConfig", "Config", "DataConfig", "FederationConfig", "GridCell"]

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
class GridCell:
    """One cell of a grid of settings: the fields it changes from the preset's ``data`` and
    ``fl`` sections; a field left unset (None) keeps the preset's value."""

    partition: Literal["iid", "classes", "dirichlet"] | None = None
    """``data.partition`` in this cell."""
    classes_per_client: PosInt | None = None
    """``data.classes_per_client`` in this cell."""
    dirichlet_alpha: PosFloat | None = None
    """``data.dirichlet_alpha`` in this cell."""
    num_train: NonNegInt | None = None
    """``data.num_train`` in this cell (the local data per client is ``num_train /
    num_clients``)."""
    local_epochs: PosInt | None = None
    """``fl.local_epochs`` in this cell."""

    def changes(self) -> dict[str, dict[str, object]]:
        """``{"data": {...}, "fl": {...}}``: the fields this cell sets."""
        out: dict[str, dict[str, object]] = {"data": {}, "fl": {}}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out["fl" if f.name == "local_epochs" else "data"][f.name] = value
        return out

    def apply(self, cfg: Config) -> Config:
        """``cfg`` with this cell's settings (the grid itself is kept)."""
        ch = self.changes()
        return dataclasses.replace(
            cfg,
            data=dataclasses.replace(cfg.data, **ch["data"]),
            fl=dataclasses.replace(cfg.fl, **ch["fl"]),
        )

    def describe(self, cfg: Config) -> str:
        """The cell's setting in words, e.g. ``Dirichlet(0.1), 100 per client, 1 epoch``."""
        return describe_setting(self.apply(cfg))


def describe_setting(cfg: Config) -> str:
    """Partition, local data per client and local epochs of ``cfg`` in words."""
    d = cfg.data
    if d.partition == "classes":
        part = f"{d.classes_per_client} classes per client"
    elif d.partition == "dirichlet":
        part = f"Dirichlet({d.dirichlet_alpha:g})"
    else:
        part = "IID"
    per = f"{d.num_train // d.num_clients} per client" if d.num_train else "all data"
    epochs = f"{cfg.fl.local_epochs} epoch{'s' if cfg.fl.local_epochs > 1 else ''}"
    return f"{part}, {per}, {epochs}"


_CELL_NAME = re.compile(r"[A-Za-z0-9_-]+")


@dataclass
class Config:
    """One reproduction: several data sets x arms x seeds (+ an optional FedMix λ sweep and an
    optional grid of settings)."""

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
    grid: dict[str, GridCell] = field(default_factory=dict)
    """Extra settings (cells, by name: letters, digits, ``_`` and ``-``), each run with every
    data set, arm and seed as ``grid/<cell>/<data set>/<arm>`` arms, paired by seed with the
    preset's own setting. The preset's own setting carries the headline claims, every cell's
    claims are secondary (``claims.py``)."""
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
        for name, cell in self.grid.items():
            if not _CELL_NAME.fullmatch(name):
                raise ValueError(
                    f"grid cell {name!r}: use letters, digits, '_' and '-' only (the name is "
                    "part of arm names and of `--set claims.reference_acc.<cell>/<data set>`)"
                )
            if not any(cell.changes().values()):
                raise ValueError(f"grid cell {name!r} changes nothing")
            num_train = cell.num_train if cell.num_train is not None else self.data.num_train
            if num_train and num_train < self.data.num_clients:
                raise ValueError(
                    f"grid cell {name!r}: num_train = {num_train} gives a client no sample"
                )


@dataclass
class ClaimConfig:
    """Pre-registered thresholds of the claims (set before a run, never after seeing it).

    The defaults ask for the paper's effect in its size: the smallest gain Table 1 reports for
    each comparison (FEMNIST, as quoted in Flower's baseline README; ``claims.PAPER_TABLE1``).
    """

    min_effect: NonNegFloat = 0.012
    """Smallest gain in final test accuracy (absolute) that counts as "FedMix beats FedAvg":
    the paper's smallest Table 1 gain over FedAvg, +1.2 points on FEMNIST."""
    min_effect_naivemix: NonNegFloat = 0.006
    """Smallest final-accuracy gain that counts as "FedMix beats NaiveMix": the paper's smallest
    Table 1 gain over NaiveMix, +0.6 points on FEMNIST."""
    min_effect_naivemix_fedavg: NonNegFloat = 0.006
    """Smallest final-accuracy gain that counts as "NaiveMix beats FedAvg" (the rest of Table 1's
    ordering): the paper's smallest, +0.6 points on FEMNIST."""
    min_effect_auc: NonNegFloat = 0.0
    """Smallest gain in the area under the accuracy curve (checks: the paper reports no AUC, so
    0 asks only for the direction the spec expects)."""
    headline_datasets: list[str] = field(default_factory=list)
    """Data sets whose claims (in the preset's own setting) are the headline; the others'
    are secondary. Empty: every data set's."""
    reference_acc: dict[str, Fraction] = field(default_factory=dict)
    """Per data set (each entry of ``datasets``; a path to your own ``.npz`` is its own key;
    ``<cell>/<data set>`` for a grid cell): the final accuracy FedAvg must reach for the claims
    to be judged (a baseline under its known level makes every verdict inconclusive). A data set
    or cell without a level here has its claims inconclusive too ("no reference level for <data
    set>"), never judged ungated: declare one with ``--set claims.reference_acc.<data set>=...``
    (or from a pilot, ``paperzoo plan federated --reference --from PILOT``)."""
    converged_change: PosFloat = 0.02
    """Convergence gate, on every compared arm: its test accuracy (10%-of-rounds windows) may
    still move by at most this fraction between 80% of the rounds and the end (seed mean)."""
    max_drop_from_best: Fraction = 0.05
    """Collapse gate, on every compared arm and seed: the final accuracy (mean of the last
    ``final_rounds`` evaluations) may lie at most this far below the best mean of
    ``final_rounds`` consecutive evaluations (``test/drop_from_best``)."""
