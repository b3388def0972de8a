"""FedMix and NaiveMix under mean-augmented federated learning, on Flower.

Paper: FedMix: Approximation of Mixup under Mean Augmented Federated Learning
(Tehrim Yoon, Sumin Shin, Sung Ju Hwang, Eunho Yang; ICLR 2021), https://arxiv.org/abs/2107.00233

Pure components (no Flower needed): the mixup losses (``fedmix_loss``, ``naive_mix_loss``,
``global_mixup_loss``), client means (``client_means``), partitions, local objectives and models.
Flower integration (imported lazily, so ``import paperzoo.federated`` never imports ``flwr``):
``MeanAugmentedFedAvg`` (strategy), ``MeanAugmentedClient`` / ``make_client`` / ``FaultyClient``
(clients), ``run_in_process`` / ``run_flower_simulation`` (runners: in process, Flower's
Simulation Runtime), ``write_app`` / ``run_local`` (Flower App for the Deployment Runtime:
SuperLink + SuperNodes + ``flwr run``). ``privatize_means`` releases the shared means through
the Gaussian mechanism at a stated (ε, δ).
"""

from __future__ import annotations

from paperzoo.core.lazy import lazy_exports

# Torch-only components -> their modules, imported on first use (no torch at package import).
_COMPONENTS = {
    "CrossEntropyObjective": "local_training",
    "FedMixObjective": "local_training",
    "GlobalMixupObjective": "local_training",
    "LocalObjective": "local_training",
    "NaiveMixObjective": "local_training",
    "ProximalObjective": "local_training",
    "evaluate_accuracy": "local_training",
    "local_sgd": "local_training",
    "make_objective": "local_training",
    "client_means": "means",
    "sample_partners": "means",
    "privatize_means": "means",
    "analytic_gaussian_sigma": "means",
    "mean_sensitivity": "means",
    "fedmix_loss": "mixup",
    "fedmix_taylor_term": "mixup",
    "global_mixup_loss": "mixup",
    "naive_mix_loss": "mixup",
    "soft_cross_entropy": "mixup",
    "forward_with_tangent": "tangent",
    "supports_tangent": "tangent",
    "MLP": "models",
    "VGG": "models",
    "LeNet5": "models",
    "build_model": "models",
    "classes_per_client_partition": "partition",
    "dirichlet_partition": "partition",
    "iid_partition": "partition",
}

# Flower-dependent names -> module that defines them (imported on first attribute access).
_LAZY = {
    "MeanAugmentedFedAvg": "strategy",
    "ClientFailure": "strategy",
    "validate_update": "strategy",
    "MeanAugmentedClient": "client",
    "FaultyClient": "client",
    "make_client": "client",
    "get_weights": "client",
    "set_weights": "client",
    "InProcessClientProxy": "simulation",
    "run_in_process": "simulation",
    "run_flower_simulation": "simulation",
    "flower_apps": "simulation",
}

__all__ = [
    "MLP",
    "VGG",
    "ClientFailure",
    "CrossEntropyObjective",
    "FaultyClient",
    "FedMixObjective",
    "GlobalMixupObjective",
    "InProcessClientProxy",
    "LeNet5",
    "LocalObjective",
    "MeanAugmentedClient",
    "MeanAugmentedFedAvg",
    "NaiveMixObjective",
    "ProximalObjective",
    "analytic_gaussian_sigma",
    "build_model",
    "classes_per_client_partition",
    "client_means",
    "dirichlet_partition",
    "evaluate_accuracy",
    "fedmix_loss",
    "fedmix_taylor_term",
    "flower_apps",
    "forward_with_tangent",
    "get_weights",
    "global_mixup_loss",
    "iid_partition",
    "local_sgd",
    "make_client",
    "make_objective",
    "mean_sensitivity",
    "naive_mix_loss",
    "privatize_means",
    "run_flower_simulation",
    "run_in_process",
    "sample_partners",
    "set_weights",
    "soft_cross_entropy",
    "supports_tangent",
    "validate_update",
]


__getattr__, __dir__ = lazy_exports(
    __name__, {n: f".{m}" for n, m in {**_COMPONENTS, **_LAZY}.items()}, __all__
)
