"""``ivs collect``: the collector with a progress bar, then what failed and the summary.

Progress goes to stderr, and only when stderr is a terminal; stdout gets the one summary
line, so that a script can read it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from graph.collect import CollectResult, collect_snapshot

#: Account-regions named on the terminal when they fail; the manifest has them all.
FAILURES_SHOWN = 10


def run_collect(
    out: Path | str, *, console: Console | None = None, **options: Any
) -> CollectResult:
    """``collect_snapshot(out, **options)`` with its progress shown on ``console`` (stderr):
    account-regions done across the whole cluster with ``--scheduler``."""
    console = console or Console(stderr=True)
    columns = (
        TextColumn("collecting"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("account-regions"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, disable=not console.is_terminal) as progress:
        task = progress.add_task("collect", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        result = collect_snapshot(out, on_progress=advance, **options)
    report_failures(result, console)
    print(result.summary(), file=sys.stdout, flush=True)
    return result


def report_failures(result: CollectResult, console: Console) -> None:
    """The first account-regions that could not be collected, with their error codes."""
    for account, region, code in sorted(result.failed)[:FAILURES_SHOWN]:
        console.print(f"not collected: {account} {region}: {code}", highlight=False)
    if len(result.failed) > FAILURES_SHOWN:
        more = len(result.failed) - FAILURES_SHOWN
        console.print(f"... and {more} more (see the manifest)", highlight=False)
