"""The task streams of the OCS reproduction, built from its config: rotated images (one head)
or a sequence of different data sets (one masked head per data set,
:func:`paperzoo.continual.scenarios.dataset_sequence`), with the setting's variant (balanced,
noisy, imbalanced), cached per worker process for the units of :mod:`.train`.

``python -m paperzoo.continual.repro.recipe --preset official --seeds 4 5 --out DIR`` writes the
streams of those seeds (:func:`export_stream`) for a driver of the official code, whose
per-seed results ``claims.official_avg_acc`` pairs with ours.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..scenarios import Task, dataset_sequence, rotated_stream
from .config import Config

__all__ = ["build_stream", "cached_stream", "export_stream", "main", "parser", "stream_sources"]

# Streams built in this worker process, newest last. A full rotated-MNIST stream is ~1 GB of
# float32 and a quick run visits 9 (setting, seed) streams in longest-first order, so an
# unbounded per-process memo grows to ~6 GB per worker; rebuilding one takes seconds.
_STREAMS: OrderedDict[Any, list[Task]] = OrderedDict()
_MAX_STREAMS = 2


def cached_stream(key: Any, build: Callable[[], list[Task]]) -> list[Task]:
    """The stream cached under ``key`` in this process, built by ``build()`` if absent."""
    if key in _STREAMS:
        _STREAMS.move_to_end(key)
        return _STREAMS[key]
    while len(_STREAMS) >= _MAX_STREAMS:
        _STREAMS.popitem(last=False)
    _STREAMS[key] = build()
    return _STREAMS[key]


def stream_sources(cfg: Config) -> list[str]:
    """The image sets the configured stream reads."""
    return list(cfg.stream.sources) if cfg.stream.kind == "datasets" else [cfg.stream.source]


def _variant_kwargs(cfg: Config, setting: str, seed: int) -> dict[str, Any]:
    """The stream options both stream builders take: subset sizes, variant and its profile."""
    s = cfg.stream
    return dict(
        variant=setting,
        train_per_task=s.train_per_task or None,
        test_per_task=s.test_per_task or None,
        noise_fraction=s.noise_fraction,
        noise_style=s.noise_style,
        majority_classes=s.majority_classes,
        minority_fraction=s.minority_fraction,
        seed=seed,
    )


def _datasets_stream(cfg: Config, setting: str, seed: int, data_root: Any) -> list[Task]:
    from paperzoo.datasets import load_images

    s = cfg.stream
    sets = []
    for name in s.sources:
        train, test = load_images(name, data_root)
        if train.image_shape[0] != 1:
            raise ValueError(f"{name}: the datasets stream needs grayscale images")
        sets.append((name, train.x, train.y, test.x, test.y))
    return dataset_sequence(
        sets,
        image_size=s.image_size,
        shuffle_order=s.shuffle_order,
        **_variant_kwargs(cfg, setting, seed),
    )


def build_stream(cfg: Config, setting: str, seed: int, data_root: Any) -> list[Task]:
    """Every task of the configured stream in ``setting`` for ``seed``."""
    from paperzoo.datasets import load_images

    s = cfg.stream
    if s.kind == "datasets":
        return _datasets_stream(cfg, setting, seed, data_root)
    train, test = load_images(s.source, data_root)
    if train.image_shape[0] != 1:
        raise ValueError(
            f"{s.source}: rotated streams need grayscale images, got "
            f"{train.image_shape[0]} channels"
        )
    return rotated_stream(
        train.x[:, 0],
        train.y,
        test.x[:, 0],
        test.y,
        num_tasks=s.num_tasks,
        angle_step=s.angle_step,
        pixel_scale=1.0,
        **_variant_kwargs(cfg, setting, seed),
    )


def export_stream(cfg: Config, setting: str, seed: int, data_root: Any, path: str | Path) -> Path:
    """Write the stream our units train on for (``setting``, ``seed``) to ``path`` (``.npz``),
    for a driver of the official code to train on the same tasks (``claims.official_avg_acc``
    pairs its results with ours by seed): per task ``t``, ``x_train_<t>`` / ``x_test_<t>``
    (float32, as our units see them) and ``y_train_<t>`` / ``y_test_<t>`` (int64), plus
    ``names`` and the ``seed``. Shape: x (N, *feature_shape) as in :class:`..scenarios.Task`."""
    import numpy as np

    arrays: dict[str, Any] = {"seed": np.int64(seed)}
    tasks = build_stream(cfg, setting, seed, data_root)
    for t in tasks:
        for split in ("train", "test"):
            arrays[f"x_{split}_{t.task_id}"] = getattr(t, f"x_{split}").numpy().astype("float32")
            arrays[f"y_{split}_{t.task_id}"] = getattr(t, f"y_{split}").numpy().astype("int64")
    arrays["names"] = np.array([t.name for t in tasks])
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **arrays)
    return out


def parser():
    """The command line of ``python -m paperzoo.continual.repro.recipe`` (stream export)."""
    import argparse

    ap = argparse.ArgumentParser(description="Write a preset's task streams as .npz files.")
    ap.add_argument("--preset", default="official", help="continual preset (default official)")
    ap.add_argument("--setting", default="balanced", help="balanced, noisy or imbalanced")
    ap.add_argument("--seeds", type=int, nargs="+", required=True, help="seeds to export")
    ap.add_argument("--out", required=True, help="folder for <preset>_<setting>_seed<s>.npz")
    ap.add_argument("--data-root", default=None, help="data root (default: $PAPERZOO_DATA)")
    return ap


def main(argv: list[str] | None = None) -> None:
    """Export the streams of ``--seeds`` of a preset, one ``.npz`` per seed."""
    from paperzoo.core.presets import build_config

    args = parser().parse_args(argv)
    cfg = build_config("continual", args.preset)
    for seed in args.seeds:
        name = f"{args.preset}_{args.setting}_seed{seed}.npz"
        print(export_stream(cfg, args.setting, seed, args.data_root, Path(args.out) / name))


if __name__ == "__main__":
    main()
