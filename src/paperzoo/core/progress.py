"""Progress bars that degrade to plain log lines when stderr is not a terminal (CI, files)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = ["track"]


class _Plain:
    """Prints ``desc: i/total (pct) elapsed`` lines every ``interval`` s and at 10% steps."""

    def __init__(self, iterable: Iterable[T], total: int | None, desc: str, interval: float):
        self.iterable, self.total, self.desc, self.interval = iterable, total, desc, interval
        self.postfix = ""

    def set_postfix(self, **kw: Any) -> None:
        self.postfix = " ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in kw.items()
        )

    def __iter__(self) -> Iterator[T]:
        t0 = last = time.monotonic()
        next_pct = 10
        i = 0
        for i, item in enumerate(self.iterable, 1):
            yield item
            now = time.monotonic()
            pct = 100 * i / self.total if self.total else 0
            if (self.total and pct >= next_pct) or now - last >= self.interval:
                frac = f"{i}/{self.total} ({pct:.0f}%)" if self.total else f"{i}"
                print(
                    f"{self.desc}: {frac} {now - t0:.1f}s {self.postfix}".rstrip(),
                    file=sys.stderr,
                    flush=True,
                )
                last = now
                while self.total and next_pct <= pct:
                    next_pct += 10


def track(
    iterable: Iterable[T],
    total: int | None = None,
    desc: str = "",
    *,
    interval: float = 30.0,
    disable: bool | None = None,
) -> Any:
    """Wrap ``iterable`` in a tqdm bar on a terminal, or in plain periodic lines otherwise.

    ``PAPERZOO_PROGRESS=plain|bar|off`` forces a mode. The returned object is iterable and has
    ``set_postfix(**values)``.
    """
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    mode = os.environ.get("PAPERZOO_PROGRESS", "")
    if disable or mode == "off":
        return _Silent(iterable)
    if mode == "bar" or (mode != "plain" and sys.stderr.isatty()):
        from tqdm.auto import tqdm

        return tqdm(iterable, total=total, desc=desc, dynamic_ncols=True, leave=False)
    return _Plain(iterable, total, desc, interval)


class _Silent:
    def __init__(self, iterable: Iterable[T]):
        self.iterable = iterable

    def set_postfix(self, **kw: Any) -> None:
        pass

    def __iter__(self) -> Iterator[T]:
        return iter(self.iterable)
