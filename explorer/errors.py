"""The one error type users see: a one-line message saying what was wrong and what to do."""


class ExplorerError(Exception):
    """Bad input from a user (a path, a file, an argument). Shown as one line, never a traceback."""
