"""Known data sets: where they live under the data root, their checksums, and how to prepare them.

Layout under the data root (the same as ``shared/data``)::

    mnist/mnist.npz                     keys x_train [60000,28,28] u8, y_train, x_test, y_test
    fashion_mnist/fashion_mnist.npz     same keys
    uspto50k/{train,valid,test}.csv.gz
    speech/fsdd/, speech/synth_multispeaker/
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from paperzoo.core.data import DataMissingError, file_checksum, sha256_file
from paperzoo.core.errors import UsageError
from paperzoo.core.io import atomic_write_with

if TYPE_CHECKING:
    import numpy as np

# numpy, urllib and the IDX reader are imported where files are built, so that `paperzoo data
# status` (which only hashes files) starts in a fraction of a second.

__all__ = ["CATALOG", "DatasetSpec", "dataset_status", "prepare_dataset"]

# The four original IDX files: (npz key, canonical .gz file name).
_IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}

# MD5 of the *decompressed* IDX files, as published with each data set.
_IDX_MD5 = {
    "mnist": {
        "x_train": "6bbc9ace898e44ae57da46a324031adb",
        "y_train": "a25bea736e30d166cdddb491f175f624",
        "x_test": "2646ac647ad5339dbf082846283269ea",
        "y_test": "27ae3e4e09519cfbb04c329615203637",
    },
    "fashion_mnist": {
        "x_train": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        "y_train": "9018921c3c673c538a1fc5bad174d6f9",
        "x_test": "8181f5470baa50b63fa0f6fddb340f0a",
        "y_test": "15d484375f8d13e6eb1aabb0c3f46965",
    },
}


@dataclass(frozen=True)
class DatasetSpec:
    """One data set under the data root.

    Attributes:
        name: the name used by ``paperzoo data status/prepare``.
        files: relative path -> sha256 (None: presence only).
        urls: canonical download locations (base URLs tried in order), empty when none exists.
        description: one line.
        prepare: ``prepare(root, source_dir_or_None)``; None when only copying applies.
    """

    name: str
    files: dict[str, str | None]
    description: str
    urls: tuple[str, ...] = ()
    prepare: Callable[[Path, Path | None], None] | None = field(default=None, compare=False)


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _prepare_idx(name: str, urls: tuple[str, ...]) -> Callable[[Path, Path | None], None]:
    """Build ``<root>/<name>/<name>.npz`` from the four IDX files (local folder or download)."""

    def prepare(root: Path, source: Path | None) -> None:
        import numpy as np

        from paperzoo.datasets.idx import read_idx

        arrays = {}
        for key, stem in _IDX_FILES.items():
            if source is not None:
                cands = [
                    source / f"{stem}.gz",
                    source / stem,
                    source / stem.replace("-idx", ".idx"),
                ]
                path = next((p for p in cands if p.is_file()), None)
                if path is None:
                    raise DataMissingError(f"{name}: none of {[str(c) for c in cands]} exists")
            else:
                path = root / name / "raw" / f"{stem}.gz"
                if not path.is_file():
                    _download([f"{u}{stem}.gz" for u in urls], path)
            arr = read_idx(path)
            raw_md5 = _md5(_idx_bytes(path))
            if raw_md5 != _IDX_MD5[name][key]:
                raise DataMissingError(
                    f"{name}: {path} has MD5 {raw_md5} after decompression, "
                    f"expected {_IDX_MD5[name][key]} (corrupt or different)"
                )
            arrays[key] = arr.astype(np.uint8)
        out = root / name / f"{name}.npz"
        atomic_write_with(out, lambda f: np.savez_compressed(f, **arrays))

    return prepare


def _idx_bytes(path: Path) -> bytes:
    import gzip

    raw = path.read_bytes()
    return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw


def _download(urls: list[str], dest: Path) -> None:
    errors = []
    for url in urls:
        try:
            import urllib.request

            with urllib.request.urlopen(url, timeout=60) as r:
                data = r.read()
            atomic_write_with(dest, lambda f, d=data: f.write(d))
            return
        except OSError as e:
            errors.append(f"{url}: {e}")
    raise DataMissingError(
        f"could not download {dest.name} ({'; '.join(errors)}); download the original files "
        "by hand and run `paperzoo data prepare NAME --from DIR`"
    )


_CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
_CIFAR10_MD5 = "c32a1d4ab5d03f1284b67883e8d87530"  # published on the dataset's page
_CIFAR10_COUNTS = (50000, 10000)


def _prepare_cifar10(root: Path, source: Path | None) -> None:
    """Build ``<root>/cifar10/cifar10.npz`` from the official *binary* archive (no pickle).

    Each record of ``data_batch_{1..5}.bin`` / ``test_batch.bin`` is one label byte followed by
    3,072 pixel bytes: the 32x32 red plane, then green, then blue, rows in order.
    """
    import tarfile

    if source is not None:
        archive = source / "cifar-10-binary.tar.gz"
        if not archive.is_file():
            bins = source / "cifar-10-batches-bin"
            folder = bins if bins.is_dir() else source
            members = {p.name: p.read_bytes() for p in folder.glob("*.bin")}
            return _write_cifar10(root, members)
    else:
        archive = root / "cifar10" / "raw" / "cifar-10-binary.tar.gz"
        if not archive.is_file():
            _download([_CIFAR10_URL], archive)
    if _md5(archive.read_bytes()) != _CIFAR10_MD5:
        raise DataMissingError(f"cifar10: {archive} has the wrong MD5 (expected {_CIFAR10_MD5})")
    members = {}
    with tarfile.open(archive, "r:gz") as tar:
        for m in tar.getmembers():
            if m.isfile() and m.name.endswith(".bin"):
                f = tar.extractfile(m)
                members[Path(m.name).name] = f.read() if f else b""
    _write_cifar10(root, members)


def _write_cifar10(root: Path, members: dict[str, bytes]) -> None:
    import numpy as np

    record = 1 + 3 * 32 * 32

    def read(names: list[str]) -> tuple[np.ndarray, np.ndarray]:
        missing = [n for n in names if n not in members]
        if missing:
            raise DataMissingError(f"cifar10: the archive/folder lacks {missing}")
        raw = np.frombuffer(b"".join(members[n] for n in names), dtype=np.uint8)
        if raw.size % record:
            raise DataMissingError(
                "cifar10: a batch file is truncated (size not a multiple "
                f"of the {record}-byte record)"
            )
        raw = raw.reshape(-1, record)
        x = raw[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        return np.ascontiguousarray(x), raw[:, 0].astype(np.uint8)

    x_train, y_train = read([f"data_batch_{i}.bin" for i in range(1, 6)])
    x_test, y_test = read(["test_batch.bin"])
    if (len(x_train), len(x_test)) != _CIFAR10_COUNTS:
        raise DataMissingError(
            f"cifar10: expected 50000/10000 images, got {len(x_train)}/{len(x_test)}"
        )
    out = root / "cifar10" / "cifar10.npz"
    atomic_write_with(
        out,
        lambda f: np.savez_compressed(
            f, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test
        ),
    )


def _copy_files(name: str, files: dict[str, str | None]) -> Callable[[Path, Path | None], None]:
    def prepare(root: Path, source: Path | None) -> None:
        if source is None:
            raise UsageError(
                f"{name} has no canonical download; use "
                f"`paperzoo data prepare {name} --from DIR` with the prepared files"
            )
        for rel, sha in files.items():
            src = source / Path(rel).name
            if not src.is_file():
                src = source / rel
            if not src.is_file():
                raise DataMissingError(f"{name}: {source / Path(rel).name} not found")
            if sha and sha256_file(src) != sha:
                raise DataMissingError(f"{name}: checksum mismatch for {src}")
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, root / rel)

    return prepare


_MNIST_URLS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
_FASHION_URLS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
_FASHION_SHA = "5b6d2c4c694a91887af8ab7d039c04f80af3c29378d731c93a538d2e831aa469"
_USPTO = {
    "uspto50k/train.csv.gz": "73aec605e23102b161cc7ec3aa6143ba42828922171410059326c168e38c5651",
    "uspto50k/valid.csv.gz": "00224bd192ba7ece2ebd34d7fa80bfb3bdd3b66edb6df3b0a8cdb2c937e18055",
    "uspto50k/test.csv.gz": "4d170fc2339736aeaa0fdf43137e90f7a5a23b70a9a83aa97fca07bda48c13be",
}

CATALOG: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        "mnist",
        {"mnist/mnist.npz": "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64"},
        "MNIST handwritten digits, 60k train + 10k test, 28x28 uint8",
        _MNIST_URLS,
        _prepare_idx("mnist", _MNIST_URLS),
    ),
    "fashion_mnist": DatasetSpec(
        "fashion_mnist",
        {"fashion_mnist/fashion_mnist.npz": _FASHION_SHA},
        "Fashion-MNIST, 60k train + 10k test, 28x28 uint8",
        _FASHION_URLS,
        _prepare_idx("fashion_mnist", _FASHION_URLS),
    ),
    "cifar10": DatasetSpec(
        "cifar10",
        {"cifar10/cifar10.npz": None},
        "CIFAR-10, 50k train + 10k test, 32x32x3 uint8 (built from the official binary archive)",
        (_CIFAR10_URL,),
        _prepare_cifar10,
    ),
    "femnist": DatasetSpec(
        "femnist",
        {"femnist/femnist.npz": None},
        "FEMNIST (LEAF) as x_train [N,28,28] uint8, y_train, x_test, y_test; prepare it with "
        "LEAF's scripts, then save those arrays",
    ),
    "uspto50k": DatasetSpec(
        "uspto50k",
        dict(_USPTO),
        "USPTO-50k reactions, GLN split (csv.gz)",
        prepare=_copy_files("uspto50k", _USPTO),
    ),
    "speech_fsdd": DatasetSpec(
        "speech_fsdd",
        {"speech/fsdd/metadata.csv": None, "speech/fsdd/splits.csv": None},
        "Free Spoken Digit Dataset, 8 kHz wav",
    ),
    "speech_synth": DatasetSpec(
        "speech_synth",
        {
            "speech/synth_multispeaker/metadata.csv": None,
            "speech/synth_multispeaker/speakers.csv": None,
        },
        "synthetic 20-voice multi-speaker corpus, 16 kHz FLAC",
    ),
}


def dataset_status(root: Path, verify: bool = True) -> list[dict[str, str]]:
    """One row per known data set: ``present``/``missing``/``corrupt`` and the file at fault."""
    rows = []
    for spec in CATALOG.values():
        state, detail = "present", ""
        for rel, sha in spec.files.items():
            p = root / rel
            if not p.is_file():
                state, detail = "missing", str(p)
                break
            if verify and sha and file_checksum(p) != sha:
                state, detail = "corrupt", f"{p} (sha256 mismatch)"
                break
        if state == "present":
            detail = "checksums match" if verify and any(spec.files.values()) else "files present"
        rows.append(
            {"name": spec.name, "state": state, "detail": detail, "description": spec.description}
        )
    return rows


def prepare_dataset(name: str, root: Path, source: Path | None = None) -> Path:
    """Prepare ``name`` under ``root`` from ``source`` (a folder of original files) or online."""
    if name not in CATALOG:
        raise UsageError(f"unknown dataset '{name}'; known: {', '.join(CATALOG)}")
    spec = CATALOG[name]
    if spec.prepare is None:
        raise UsageError(
            f"{name} has no automatic preparation ({spec.description}); place these files "
            f"under {root}: {list(spec.files)}"
        )
    if source is not None and not source.is_dir():
        raise UsageError(f"--from {source}: not a directory")
    spec.prepare(root, source)
    for rel, sha in spec.files.items():
        p = root / rel
        if sha and sha256_file(p) != sha:
            # A re-packed npz can differ byte-wise from ours while holding equal arrays.
            print(
                f"note: {p} differs byte-wise from the reference archive (arrays verified by MD5)"
            )
    return root / next(iter(spec.files))
