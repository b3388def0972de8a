"""The application layer behind the ``paperzoo`` command line: what its sub-commands do.

* :mod:`paperzoo.app.reproduce`: ``paperzoo reproduce`` and ``paperzoo finalize`` (resolve a
  preset, run its units through :mod:`paperzoo.core.engine`, judge the claims, draw the figures,
  write ``results.json`` and ``report.md``);
* :mod:`paperzoo.app.report`: ``paperzoo report`` (collect the newest run of each method and
  preset with a claims table).

It sits above :mod:`paperzoo.core` and :mod:`paperzoo.datasets` and reaches the methods only
through the registry (by module path), so it names no method; core never imports it, and no
method does. ``paperzoo.cli`` parses the arguments and calls it.
"""

__all__: list[str] = []
