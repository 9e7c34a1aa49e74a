"""``ivs exposure``: analyse a snapshot, write one report, optionally publish to Security Hub.

The analysis is ``graph.findings``; the report formats are ``graph.report``; publishing
is ``core.securityhub``, fed with the findings converted by ``graph.report.asff``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import InputError
from core.spec import Exposure, Iam, Zones
from core.vocabulary import at_or_above
from graph import report
from graph.build import build_graph
from graph.findings import ExposureResult, analyse_graph, release, without_gc
from graph.iam.snapshot import load_iam
from graph.snapshot import load_snapshot

if TYPE_CHECKING:
    from core.securityhub import Hub, PublishResult

# boto3 (Security Hub) and the control modules (a spec) are imported only when used:
# at 100k ENIs the analysis' peak memory is what the command's is.


def run_exposure(
    snapshot: Path,
    out: Path,
    *,
    spec_path: Path | None,
    fmt: str,
    fail_on: str,
    publish: Callable[[dict[str, Any]], Any] | None = None,
    fail_on_not_assessed: bool = False,
) -> int:
    """Analyse ``snapshot``, write ``out`` in ``fmt``; 1 if a finding is at/above ``fail_on``,
    or (``fail_on_not_assessed``) if some account-region was not assessed or something read
    could not be placed (``not_placed``).

    ``publish`` (the CLI's Security Hub publisher) is called with the findings document
    once ``out`` is written. A snapshot where nothing could be assessed is written still,
    then :class:`InputError` says why (exit 2): an empty report is not a clean one.
    """
    spec = None
    if spec_path is not None:
        from governance.spec import load_spec

        spec = load_spec(spec_path)
    zones = spec.zones if spec is not None else Zones()
    exposure = spec.exposure if spec is not None else Exposure()
    access = spec.iam if spec is not None else Iam()
    with without_gc():
        read = load_snapshot(snapshot)  # says first what is wrong with the directory
        iam = load_iam(snapshot)
        graph = build_graph(read, instances=bool(iam.accounts))
        del read
        document = analyse_graph(graph, zones, exposure, iam, access, spec)
        result = ExposureResult(document, graph)
        report.write(result, fmt, out)
        release(graph)
        del graph, result  # freed by reference counting, before the collector resumes
    if not document["assessed"]:
        raise InputError(str(snapshot), f"nothing could be assessed: {_first_reason(document)}")
    if publish is not None:
        publish(document)
    if fail_on != "none" and any(at_or_above(f["severity"], fail_on) for f in document["findings"]):
        return 1
    unplaced = document.get("not_placed", {}).get("count", 0)
    if fail_on_not_assessed and (document["not_assessed"] or unplaced):
        return 1
    return 0


def _first_reason(document: dict[str, Any]) -> str:
    for entry in document["not_assessed"]:
        return f"{entry['account']} {entry['region']}: {entry['error']}"
    return "the snapshot holds no account-region"


def publish_document(
    document: dict[str, Any], hub: Hub, *, now: str | None = None
) -> PublishResult:
    """Send a findings document's findings to ``hub``; archive the ones gone from it."""
    from core import securityhub
    from graph.report import asff

    now = now or securityhub.timestamp()
    return securityhub.publish(
        hub,
        asff.document_findings(document, product=hub.product, now=now),
        assessed=asff.assessed_places(document),
        now=now,
    )
