"""Errors that the command line turns into exit code 2 with a one-line reason."""


class UsageError(Exception):
    """Bad usage that the user can fix: unknown method, preset or key, missing data, bad value.

    The CLI prints ``paperzoo: error: <message>`` and exits with status 2; the message must say
    what to do about it.
    """
