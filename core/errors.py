"""Errors that the CLI turns into a one-line message and exit code 2, and how a message
shows a value that came from the input (quoted, escaped, cut).

An input error is shown as one line whatever the input holds: values are cut at
:data:`MAX_SHOWN` characters where a message quotes them (:func:`shown`), and every part
of the line is stripped of line breaks, control characters and lone surrogates and kept
to a bounded length, so one bad value of 200,000 characters cannot flood a terminal.

>>> str(InputError("spec.yaml", "must be a region", "ivs.regions[0]"))
'spec.yaml: ivs.regions[0]: must be a region'
>>> len(str(InputError("spec.yaml", "bad " + "x" * 100_000))) < 800
True
"""

from __future__ import annotations

import re
from typing import Any

#: Characters of a value an error message quotes before cutting it.
MAX_SHOWN = 80
#: Lengths past which the parts of an error's line are cut in the middle.
MAX_FIELD = 160
MAX_MESSAGE = 600

# Line breaks and other control characters, and lone surrogates (which no encoder can
# write): each is shown as its escape.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def shown(value: Any, limit: int = MAX_SHOWN) -> str:
    """A value from the input as a message quotes it: ``repr`` for text and small scalars,
    cut to ``limit`` characters with its length; a kind of value for anything bigger.

    >>> shown("10.0.0.0/99")
    "'10.0.0.0/99'"
    >>> shown("a" * 200_000, limit=4)
    "'aaaa'... (200,000 characters)"
    >>> shown([1, 2]), shown({"State": 1}), shown(True), shown(2**200)
    ('a list', 'an object', 'True', 'an integer of about 60 digits')
    """
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        return f"{value[:limit]!r}... ({len(value):,} characters)"
    if value is None or isinstance(value, bool | float):
        return repr(value)
    if isinstance(value, int):
        # repr of a long integer is slow, and refused past 4,300 digits
        if value.bit_length() <= 64:
            return repr(value)
        return f"an integer of about {int(value.bit_length() * 0.30103):,} digits"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


def one_line(text: str, limit: int) -> str:
    r"""``text`` with no line break or unprintable character, cut in the middle past
    ``limit`` characters (both ends of a JSON path or a message say the most).

    >>> one_line("a\nb", 10)
    'a\\x0ab'
    >>> one_line("$" + "[0]" * 100, 20)
    '$[0][0][0][0...0][0]'
    """
    text = _UNPRINTABLE.sub(_escape, text)
    if len(text) <= limit:
        return text
    head = limit * 5 // 8
    return f"{text[:head]}...{text[len(text) - (limit - head - 3) :]}"


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


class InputError(Exception):
    """Bad input: a file that cannot be read or a field that is not valid.

    ``str(err)`` is the one line shown to the user: ``FILE: FIELD: reason``; ``field`` and
    ``message`` are kept as given, the line is made printable and bounded.
    """

    def __init__(self, source: str, message: str, field: str | None = None) -> None:
        self.source = source
        self.field = field
        self.message = message
        where = one_line(source, MAX_MESSAGE)
        if field:
            where += f": {one_line(field, MAX_FIELD)}"
        super().__init__(f"{where}: {one_line(message, MAX_MESSAGE)}")


class ToolMissingError(Exception):
    """Something a command needs is not installed: the Pulumi CLI, or (``ivs demo``) moto.

    ``str(err)`` is the one line shown to the user, saying how to install it.
    """
