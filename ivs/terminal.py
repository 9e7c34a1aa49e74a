"""How the commands' tables and summary lines look on a terminal.

Identifier columns (rule and control ids, codes, severities) are never broken mid-word:
a rule id cut in two cannot be searched for. Severities have one colour each, here and in
``ivs exposure``'s summary line (typer strips colour when stdout is no terminal; rich does
too).
"""

from __future__ import annotations

from rich.table import Table

#: Columns that hold identifiers, by lower-case header.
WHOLE = frozenset({"rule", "code", "control", "severity", "change", "status", "kind"})
#: The colour of each severity.
SEVERITY_COLOURS = {"critical": "magenta", "high": "red", "medium": "yellow", "low": "cyan"}


def add_column(table: Table, name: str) -> None:
    """A column of ``table``: identifiers kept whole, other text folded to fit."""
    if name.lower() in WHOLE:
        table.add_column(name, no_wrap=True)
    else:
        table.add_column(name, overflow="fold")


def severity_markup(severity: str) -> str:
    """``severity`` in its colour, as rich markup.

    >>> severity_markup("high")
    '[bold red]high[/]'
    """
    colour = SEVERITY_COLOURS.get(severity)
    return f"[bold {colour}]{severity}[/]" if colour else severity
