"""paperzoo: ten machine-learning papers as reusable components and seeded reproductions.

Importing this package does no I/O and imports no method package; see ``paperzoo.core.registry``
for how methods are discovered, lazily.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
