"""Errors that the CLI turns into a one-line message and exit code 2."""

from __future__ import annotations


class InputError(Exception):
    """Bad input: a file that cannot be read or a field that is not valid.

    ``str(err)`` is the one line shown to the user: ``FILE: FIELD: reason``.
    """

    def __init__(self, source: str, message: str, field: str | None = None) -> None:
        self.source = source
        self.field = field
        self.message = message
        where = f"{source}: {field}" if field else source
        super().__init__(f"{where}: {message}")


class ToolMissingError(Exception):
    """Something a command needs is not installed: the Pulumi CLI, or (``ivs demo``) moto.

    ``str(err)`` is the one line shown to the user, saying how to install it.
    """
