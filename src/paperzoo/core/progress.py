"""Progress bars that degrade to plain log lines when stderr is not a terminal (CI, files)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = ["UnitProgress", "track"]


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
    position: int | None = None,
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

        return tqdm(
            iterable, total=total, desc=desc, dynamic_ncols=True, leave=False, position=position
        )
    return _Plain(iterable, total, desc, interval)


class _Silent:
    def __init__(self, iterable: Iterable[T]):
        self.iterable = iterable

    def set_postfix(self, **kw: Any) -> None:
        pass

    def __iter__(self) -> Iterator[T]:
        return iter(self.iterable)


class UnitProgress:
    """The engine's bar over units: done/total with an ETA from the finished units' pace.

    A tqdm bar on a terminal (the current unit's step bar sits under it); otherwise one plain
    line per started, finished or failed unit. ``PAPERZOO_PROGRESS`` forces a mode as in
    :func:`track`.
    """

    def __init__(self, total: int, done: int = 0) -> None:
        self.total, self.done, self.t0 = total, done, time.monotonic()
        self.fresh = 0  # units finished in this session (the ETA uses their pace only)
        mode = os.environ.get("PAPERZOO_PROGRESS", "")
        self.off = mode == "off"
        self.bar = None
        if not self.off and (mode == "bar" or (mode != "plain" and sys.stderr.isatty())):
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=done, desc="units", position=0, unit="unit")

    def _eta(self) -> str:
        if not self.fresh:
            return "?"
        left = (time.monotonic() - self.t0) / self.fresh * (self.total - self.done)
        return f"{left / 60:.1f} min" if left >= 60 else f"{left:.0f} s"

    def _line(self, text: str) -> None:
        if not self.off and self.bar is None:
            print(f"units {self.done}/{self.total}: {text}", file=sys.stderr, flush=True)

    def started(self, key: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(key)
        self._line(f"started {key}")

    def finished(self, key: str, seconds: float) -> None:
        self.done += 1
        self.fresh += 1
        if self.bar is not None:
            self.bar.update(1)
        self._line(f"finished {key} in {seconds:.1f} s (ETA {self._eta()})")

    def failed(self, key: str) -> None:
        self._line(f"FAILED {key}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
