"""Presets of the CPQ reproduction (``paperzoo reproduce quantization --preset ...``)."""

from __future__ import annotations

from paperzoo.core.registry import register

from .config import (
    BitwidthConfig,
    Config,
    DataConfig,
    EstimatorConfig,
    QuantConfig,
    TrainConfig,
)

__all__ = ["paper", "quick", "smoke"]


@register("quantization", "smoke", cpu_minutes=0.2)
def smoke() -> Config:
    """Seconds-long end-to-end check on sklearn digits (16x16), 2-bit only, one seed.

    Exercises every part of the MNIST table (Table: LeNet-5 W/A bits), the estimator study and the
    learned-bit-width experiment at toy scale; the numbers mean nothing.
    """
    return Config(
        seeds=[0],
        data=DataConfig(dataset="digits", train_size=192, test_size=128, batch_size=64),
        train=TrainConfig(fp_epochs=1, quant_epochs=1),
        quant=QuantConfig(bit_widths=[2]),
        estimator=EstimatorConfig(
            bit_widths=[2], num_points=40, num_samples=50, drop_rates=[0.1], temperatures=[0.5]
        ),
        bitwidth=BitwidthConfig(max_bits=3, target_bits=2, act_bits=2, scratch_epochs=1),
    )


@register("quantization", "quick", cpu_minutes=30.0, needs_data=("mnist",))
def quick() -> Config:
    """CPU reproduction: MNIST LeNet-5 at W/A 2/2, 3/3, 4/4 (6 arms x 3 seeds), estimator study,
    learned bits vs uniform (the paper's MNIST table, the DropBits-bias and lottery-ticket claims).

    Shrunk to fit ~30 min on 2 shared cores: 5,000 training images, 2,000 test images, 3 FP32
    epochs, 1 quantization-aware epoch per arm, 2 epochs for the from-scratch retraining.
    """
    return Config(
        seeds=[0, 1, 2],
        data=DataConfig(dataset="mnist", train_size=5000, test_size=2000, batch_size=64),
        train=TrainConfig(fp_epochs=3, quant_epochs=1),
        estimator=EstimatorConfig(num_points=300, num_samples=1000),
        bitwidth=BitwidthConfig(scratch_epochs=2),
    )


@register("quantization", "paper", cpu_minutes=6000.0)
def paper() -> Config:
    """CIFAR-10 ResNet-20 at W/A 2/2, 3/3, 4/4 (the paper's CIFAR table); needs
    <data-root>/cifar10/cifar10.npz (not shipped: the run stops with DataMissingError without it).
    """
    return Config(
        seeds=[0, 1, 2],
        data=DataConfig(dataset="cifar10", batch_size=128),
        model="resnet20",
        train=TrainConfig(fp_epochs=200, quant_epochs=100, weight_decay=1e-4),
        quant=QuantConfig(histogram_layer="layers.4.conv1"),
        bitwidth=BitwidthConfig(scratch_epochs=200),
    )
