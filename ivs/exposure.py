"""``ivs exposure``: analyse a snapshot, write one report, optionally publish to Security Hub.

The analysis is ``graph.findings``; the report formats are ``graph.report``; publishing
is ``core.securityhub``, fed with the findings converted by ``graph.report.asff``.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.accepted import warnings
from core.errors import InputError
from core.spec import Exposure, Iam, Spec, Zones
from core.vocabulary import SEVERITIES, at_or_above
from graph import report
from graph.changes import compare, read_baseline
from graph.findings import ExposureResult, analyse_graph, read_snapshot, release, without_gc
from graph.store import is_s3

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
    say: Callable[[str], Any] | None = None,
    warn: Callable[[str], Any] | None = None,
    baseline: Path | None = None,
    asff_product: str | None = None,
    paint: Callable[[str, str], str] | None = None,
    snapshot_name: str | None = None,
) -> int:
    """Analyse ``snapshot``, write ``out`` in ``fmt``; 1 if a finding is at/above ``fail_on``,
    or (``fail_on_not_assessed``) if some account-region was not assessed or something read
    could not be placed (``not_placed``).

    ``publish`` (the CLI's Security Hub publisher) is called with the findings document
    once ``out`` is written. ``say`` gets the one summary line (the CLI prints it unless
    ``--quiet``), ``warn`` why the command fails (the findings that made ``--fail-on``
    fail) and the accepted risks that lapsed or match nothing. A snapshot where nothing
    could be assessed is written still, then :class:`InputError` says why (exit 2): an
    empty report is not a clean one.

    Accepted findings (the spec's ``ivs:accepted``) are reported but never fail
    ``--fail-on``. With ``baseline`` (an earlier findings JSON) each finding is marked new
    or unchanged and the gone ones listed as ``fixed`` (``graph.changes``). ``fmt`` ``asff``
    writes the Security Hub batch, for ``asff_product`` (default: the custom integration
    of the spec's delegated administrator, else its management account, in its first
    region). ``paint(severity, text)`` colours the summary line's counts.
    ``snapshot_name`` is what the report calls the snapshot (its S3 location, when
    ``snapshot`` is the local copy :func:`local_snapshot` made).
    """
    spec = None
    if spec_path is not None:
        from governance.spec import load_spec

        spec = load_spec(spec_path)
    old = read_baseline(baseline) if baseline is not None else None
    if fmt == "asff":
        asff_product = asff_product or _default_product(spec)
    zones = spec.zones if spec is not None else Zones()
    exposure = spec.exposure if spec is not None else Exposure()
    access = spec.iam if spec is not None else Iam()
    with without_gc():
        graph, iam = read_snapshot(snapshot)
        document = analyse_graph(graph, zones, exposure, iam, access, spec)
        if snapshot_name is not None:
            document["snapshot"] = snapshot_name
        if old is not None and baseline is not None:
            compare(document, old, str(baseline))
        result = ExposureResult(document, graph)
        if fmt == "asff" and asff_product is not None:
            _write_asff(document, asff_product, out)
        else:
            report.write(result, fmt, out)
        release(graph)
        del graph, result  # freed by reference counting, before the collector resumes
    if not document["assessed"]:
        raise InputError(str(snapshot), f"nothing could be assessed: {_first_reason(document)}")
    if publish is not None:
        publish(document)
    say = say or _silent
    warn = warn or _silent
    for line in warnings(document.get("acceptances", [])):
        warn(f"ivs: {line}")
    say(summary_line(document, out, paint))
    failing = (
        [
            f
            for f in document["findings"]
            if at_or_above(f["severity"], fail_on) and "accepted" not in f
        ]
        if fail_on != "none"
        else []
    )
    if failing:
        warn(failing_words(failing, fail_on))
        return 1
    unplaced = document.get("not_placed", {}).get("count", 0)
    if fail_on_not_assessed and (document["not_assessed"] or unplaced):
        warn(
            f"ivs: --fail-on-not-assessed: {len(document['not_assessed'])} account-regions "
            f"not assessed, {unplaced} things read but not placed"
        )
        return 1
    return 0


@contextlib.contextmanager
def local_snapshot(location: str, endpoint_url: str | None) -> Iterator[Path]:
    """``location`` as a local directory: itself, or for ``s3://bucket/prefix`` a private
    temporary copy (read with the caller's credentials), removed afterwards."""
    if not is_s3(location):
        yield Path(location)
        return
    from core.aws import Aws
    from graph.collect import download_snapshot

    with tempfile.TemporaryDirectory(prefix="ivs-snapshot-") as tmp:
        copy = Path(tmp) / "snapshot"
        try:
            download_snapshot(location, copy, Aws(endpoint_url=endpoint_url))
        except OSError as err:
            raise InputError(str(err.filename or location), err.strerror or str(err)) from None
        yield copy


def _silent(_line: str) -> None:
    pass


#: Findings a failing ``--fail-on`` names (the line says how many more).
FAILING_SHOWN = 5


def summary_line(
    document: dict[str, Any], out: Path, paint: Callable[[str, str], str] | None = None
) -> str:
    """One line: counts by severity, accepted, new and fixed (with a baseline), what was
    not assessed, where the file went. ``paint(severity, text)`` may colour the counts.

    >>> doc = {"findings": [{"severity": "high"}, {"severity": "high", "accepted": {}}],
    ...        "not_assessed": [{}], "not_placed": {}}
    >>> for part in summary_line(doc, Path("f.json")).split("), "):
    ...     print(part)
    ivs exposure: 2 findings (0 critical, 2 high, 0 medium, 0 low
    1 accepted, 1 account-region not assessed, 0 not placed; written to f.json
    """
    paint = paint or _plain
    counts = dict.fromkeys(SEVERITIES, 0)
    accepted = 0
    for finding in document["findings"]:
        counts[finding["severity"]] += 1
        accepted += "accepted" in finding
    total = len(document["findings"])
    gaps = len(document.get("not_assessed", []))
    unplaced = (document.get("not_placed") or {}).get("count", 0)
    by_severity = ", ".join(
        paint(sev, f"{n:,} {sev}") if n else f"0 {sev}" for sev, n in counts.items()
    )
    changes = ""
    if "baseline" in document:
        base = document["baseline"]
        changes = f"{base['new']:,} new, {base['fixed']:,} fixed since {base['file']}, "
    return (
        f"ivs exposure: {total:,} finding{'' if total == 1 else 's'} ({by_severity}), "
        f"{accepted:,} accepted, {changes}{gaps:,} account-region{'' if gaps == 1 else 's'} "
        f"not assessed, {unplaced:,} not placed; written to {out}"
    )


def _plain(_severity: str, text: str) -> str:
    return text


def _default_product(spec: Spec | None) -> str:
    """The custom integration findings go to when no product is given."""
    if spec is None:
        raise InputError("--format asff", "give --spec (or --asff-product ARN) for the product")
    from core.securityhub import product_arn

    account = spec.fleet.delegated_admin_account or spec.organization.management_account_id
    return product_arn(spec.regions[0], account)


def _write_asff(document: dict[str, Any], product: str, out: Path) -> None:
    """The Security Hub batch (``BatchImportFindings``' ``Findings``) as a JSON file."""
    from core import securityhub
    from core.jsonio import atomic_write_text, minify_lines
    from graph.report import asff

    findings = asff.document_findings(document, product=product, now=securityhub.timestamp())
    body = minify_lines(findings, "  ") if findings else ""
    atomic_write_text(out, f"[\n{body}\n]\n" if findings else "[]\n")


def failing_words(failing: list[dict[str, Any]], fail_on: str) -> str:
    """Why ``--fail-on`` failed: how many findings, and the first few by rule and resource."""
    shown = "; ".join(
        f"{f['severity']} {f['rule']} {f['resource']}" for f in failing[:FAILING_SHOWN]
    )
    more = f" and {len(failing) - FAILING_SHOWN:,} more" if len(failing) > FAILING_SHOWN else ""
    return f"ivs: --fail-on {fail_on}: {len(failing):,} at or above: {shown}{more}"


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
