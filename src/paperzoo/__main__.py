"""``python -m paperzoo`` is the same as the ``paperzoo`` command."""

from paperzoo.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
