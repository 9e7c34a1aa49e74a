"""The terminal: summary lines in colour on a terminal and plain in a pipe, identifiers
never broken mid-word in narrow tables."""

from __future__ import annotations

import io
from pathlib import Path

from report_support import write_org_snapshot
from rich.console import Console
from rich.table import Table
from typer.testing import CliRunner

from ivs.cli import app
from ivs.terminal import add_column


def test_the_summary_is_coloured_on_a_terminal_and_plain_in_a_pipe(tmp_path: Path) -> None:
    snap = write_org_snapshot(tmp_path / "snap")
    args = ["exposure", "--snapshot", str(snap), "--out", str(tmp_path / "f.json")]
    coloured = CliRunner().invoke(app, args, color=True)
    plain = CliRunner().invoke(app, args)
    assert "\x1b[" in coloured.stdout and "\x1b[" not in plain.stdout
    assert plain.stdout.startswith("ivs exposure: 17 findings (1 critical, 3 high, 6 medium")
    assert plain.stdout.count("\n") == 1


def test_rule_ids_are_never_broken_in_a_narrow_table() -> None:
    table = Table()
    for name in ("Severity", "Rule", "Resource"):
        add_column(table, name)
    rules = ["internet-exposed-instance-escalation", "snapshot-shared-outside-organization"]
    for rule in rules:
        table.add_row("critical", rule, "arn:aws:iam::111122223333:role/" + "x" * 60)
    out = io.StringIO()
    Console(file=out, width=70).print(table)
    text = out.getvalue()
    for rule in rules:
        assert rule in text
    assert max(len(line) for line in text.splitlines()) <= 70
