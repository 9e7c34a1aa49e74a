"""``ivs policies lint`` output: the lint report as a table, lines, or JSON."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table

from governance.lint import LintReport
from ivs.terminal import add_column


def print_report(report: LintReport, fmt: str = "text") -> None:
    """Print the report as ``text`` or ``json``.

    Text is a table on a terminal and one line per finding otherwise (CI logs, pipes).
    """
    if fmt == "json":
        sys.stdout.write(report.to_json())
        return
    console = Console(highlight=False, soft_wrap=True)
    if report.findings and console.is_terminal:
        table = Table(title="Policy lint")
        for column in ("Severity", "Code", "Policy", "Statement", "Message"):
            add_column(table, column)
        for f in report.findings:
            style = "red" if f.severity == "error" else "yellow"
            table.add_row(
                f"[{style}]{f.severity}[/]", f.code, f.policy, f.statement or "", f.message
            )
        console.print(table)
    else:
        for f in report.findings:
            where = f"{f.policy} {f.statement}" if f.statement else f.policy
            console.print(f"{f.severity.upper()} {f.code} {where}: {f.message}", markup=False)
    console.print(
        f"{report.documents} documents, {len(report.errors)} errors, "
        f"{len(report.warnings)} warnings",
        markup=False,
    )
