"""The reproduction of :mod:`paperzoo.federated`: config, units, claims, figures, presets, the
federation wiring and the Flower deployment (``deploy``, ``flower_app``). Library users import
the paper's components from :mod:`paperzoo.federated`."""

from paperzoo.core.lazy import lazy_exports

__all__ = ["build_federation", "run_local", "write_app"]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {"build_federation": ".federation", "run_local": ".deploy", "write_app": ".deploy"},
    __all__,
)
