r"""Findings as a pull-request comment (``ivs exposure --format md``).

A heading with the counts, a table of findings per severity and per CCM control, the top
findings (highest severity first) and, collapsed, how each gets there (the network hops,
or the IAM steps with the statements behind them), every account and region that was not
assessed, and what the analysis read but could not place (with the reason). Against a
baseline (``--baseline``) the comment leads with what is new and what was fixed, and the
rest follows collapsed. Accounts are shown by name and id, resources by a short name
(an ARN's last part), counts with thousands separators; accepted findings are marked, and
the register of accepted risks closes the comment.
Values that came from AWS are attacker-controlled (tag values, names), so each is shown as
text only: Markdown and HTML specials are escaped (no link, image, autolink or markup), a
zero-width space after ``@``, before ``://`` and after ``www`` keeps GitHub from making a
mention, an email link or a bare-URL link of it, line breaks and control characters are
dropped, and each value is cut at :data:`CELL` characters so that one long name cannot
push the table past GitHub's 65,536-character limit (the comment stays under it).

>>> escape("@team see https://evil.example/x?a=b and www.evil.example")
'@&#8203;team see https&#8203;://evil.example/x?a=b and www&#8203;.evil.example'
>>> print(escape("[click](javascript:x) <b>"))
\[click\]\(javascript:x\) &lt;b&gt;
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from core.jsonio import atomic_write_text
from graph.report import SEVERITIES, by_control, by_severity, resource_label, rule_of

TOP = 25
LIMIT = 60_000  # GitHub rejects comments over 65,536 characters
#: Characters of a value a table cell shows, at most.
CELL = 120

_ICON = {"critical": "🟥", "high": "🟧", "medium": "🟨", "low": "🟦"}
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>])")
# What GitHub turns into a link or a mention in text, and the character a zero-width space
# goes next to: "@" (mentions, emails), "://" (http, https, ftp URLs), "www." (bare hosts)
_LINKING = re.compile(r"@|(?=://)|(?<=www)(?=\.)", re.IGNORECASE)
_ZERO_WIDTH_SPACE = "&#8203;"
# Characters a cell cannot hold: control characters, and lone surrogates (not text)
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def render(result: Any, out: Path) -> None:
    """Write the Markdown comment of ``result`` (an ``ExposureResult``) to ``out``."""
    graph = getattr(result, "graph", None)

    def label(resource: str) -> str | None:
        return resource_label(graph, resource) if graph is not None else None

    atomic_write_text(out, markdown(result.document, label))


def escape(value: Any, limit: int | None = None) -> str:
    """Text safe inside a Markdown table cell: no markup, no HTML, no link, no mention
    (cut at ``limit`` characters, :data:`CELL` by default)."""
    text = _cell_text(value, limit or CELL)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _SPECIAL.sub(r"\\\1", text)
    return _LINKING.sub(lambda m: m.group() + _ZERO_WIDTH_SPACE, text)


def _cell_text(value: Any, limit: int = CELL) -> str:
    """``value`` on one line, printable, and cut at ``limit`` characters."""
    text = " ".join(_UNPRINTABLE.sub(" ", str(value)).split())
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


_HEADER = [
    "| Severity | Rule | Resource | Account / region | From | Traffic |",
    "| --- | --- | --- | --- | --- | --- |",
]


def markdown(document: dict[str, Any], label: Any = None) -> str:
    """The comment for a findings document; ``label(resource)`` may name resources."""
    findings = document["findings"]
    names: dict[str, str] = document.get("account_names") or {}
    counts = by_severity(findings)
    assessed = document.get("assessed", [])
    gaps = document.get("not_assessed", [])
    total = len(findings)
    accepted = sum(1 for f in findings if f.get("accepted"))
    headline = ", ".join(f"{counts[s]:,} {s}" for s in SEVERITIES if counts[s]) or "no findings"
    if accepted:
        headline += f"; {accepted:,} accepted"
    lines = [
        f"## IVS exposure: {total:,} finding{'s' if total != 1 else ''} ({headline})",
        "",
        f"{len(assessed):,} account-region{'s' if len(assessed) != 1 else ''} assessed"
        + (f", **{len(gaps):,} not assessed** (see below)" if gaps else ", none left out")
        + f". Generated {escape(document.get('generated_at') or '')}.",
        "",
    ]
    baseline = document.get("baseline")
    if baseline is not None:
        lines += _changes(document, baseline, label, names)
        lines += ["<details><summary>Every finding, by severity and control</summary>", ""]
    lines += [
        "| Severity | Findings |",
        "| --- | ---: |",
        *(f"| {_ICON[s]} {s} | {counts[s]:,} |" for s in SEVERITIES),
        "",
    ]
    controls = by_control(findings)
    if controls:
        lines += [
            "| CCM control | Findings |",
            "| --- | ---: |",
            *(f"| {escape(c)} | {n:,} |" for c, n in controls.items()),
            "",
        ]
    if findings:
        shown = findings[:TOP]
        lines += [f"### Top findings ({len(shown):,} of {total:,})", "", *_HEADER]
        body = _rows(lines, shown, label, names)
        lines += body
        if len(body) < total:
            lines += ["", f"_{total - len(body):,} more in the full report._"]
        lines.append("")
        steps: list[str] = []
        for finding in shown[: len(body)]:
            block = _path_block(finding)
            if sum(len(x) + 1 for x in lines + steps) + sum(len(x) + 1 for x in block) > (
                LIMIT - 4_000
            ):
                break
            steps += block
        if steps:
            lines += ["### How they get there", "", *steps]
    if baseline is not None:
        lines += ["</details>", ""]
    register = document.get("acceptances") or []
    if register:
        lines += [
            "### Accepted risks",
            "",
            "| Accepted | Reason | Owner | Until | Findings |",
            "| --- | --- | --- | --- | ---: |",
        ]
        _add_rows(
            lines,
            (
                f"| {escape(e['by'])} | {escape(e['reason'])} | {escape(e['owner'])} "
                f"| {escape(e['expires'])}{' **expired**' if e['status'] == 'expired' else ''} "
                f"| {e['matched']:,} |"
                for e in register
            ),
            "| ... | | | | |",
        )
    if gaps:
        lines += [
            "### Not assessed",
            "",
            "These were not collected, so they are **not** known to be clean:",
            "",
            "| Account | Region | Error |",
            "| --- | --- | --- |",
        ]
        _add_rows(
            lines,
            (
                f"| {escape(gap.get('account') or '')} | {escape(gap.get('region') or '')} "
                f"| {escape(gap.get('error') or '')} |"
                for gap in gaps
            ),
            "| ... | | |",
        )
    unplaced = document.get("not_placed") or {}
    if unplaced.get("count"):
        count = unplaced["count"]
        lines += [
            "### Not placed",
            "",
            f"{count} thing{'s' if count != 1 else ''} read but not placed, so **not** assessed:",
            "",
            "| Kind | Resource | Account / region | Reason |",
            "| --- | --- | --- | --- |",
        ]
        items = unplaced.get("items") or []
        _add_rows(
            lines,
            (
                f"| {escape(item.get('kind') or '')} | `{_code(str(item.get('resource') or ''))}` "
                f"| {escape(item.get('account') or '-')} / {escape(item.get('region') or '-')} "
                f"| {escape(item.get('reason') or '')} |"
                for item in items
            ),
            "| ... | | | |",
        )
        if len(items) < count:
            lines += [f"_{count - len(items)} more not listed._", ""]
    return "\n".join(lines)


def _changes(
    document: dict[str, Any], baseline: dict[str, Any], label: Any, names: dict[str, str]
) -> list[str]:
    """What is new since the baseline, and what was fixed, as the comment's lead."""
    source = escape(Path(str(baseline.get("file") or "")).name)
    new = [f for f in document["findings"] if f.get("change") == "new"]
    fixed = document.get("fixed") or []
    lines = [
        f"**Since {source}**: {baseline['new']:,} new, {baseline['fixed']:,} fixed, "
        f"{baseline['unchanged']:,} unchanged"
        + (
            f", {baseline['not_reassessed']:,} not looked at again (not assessed this time)"
            if baseline.get("not_reassessed")
            else ""
        )
        + ".",
        "",
    ]
    for title, items in ((f"New ({len(new):,})", new), (f"Fixed ({len(fixed):,})", fixed)):
        if not items:
            continue
        lines += [f"### {title}", "", *_HEADER]
        body = _rows(lines, items, label, names)
        lines += body
        if len(body) < len(items):
            lines += ["", f"_{len(items) - len(body):,} more in the full report._"]
        lines.append("")
    return lines


def _rows(
    lines: list[str], findings: list[dict[str, Any]], label: Any, names: dict[str, str]
) -> list[str]:
    """The table rows of ``findings`` that fit, with room left for what follows."""
    body: list[str] = []
    size = sum(len(x) + 1 for x in lines)
    for finding in findings:
        row = _row(finding, label, names)
        if size + len(row) > LIMIT - 4_000:
            break
        body.append(row)
        size += len(row) + 1
    return body


def _add_rows(lines: list[str], rows: Iterable[str], cut: str) -> None:
    """Append table ``rows`` to ``lines`` while the comment stays under ``LIMIT`` (then
    ``cut``), and the blank line that ends the table."""
    size = sum(len(x) + 1 for x in lines)
    for row in rows:
        if size + len(row) > LIMIT:
            lines.append(cut)
            break
        lines.append(row)
        size += len(row) + 1
    lines.append("")


#: Characters of one step of a path shown, at most (IAM steps name every statement).
STEP = 400


def _path_block(finding: dict[str, Any]) -> list[str]:
    """A finding's path, step by step, in a collapsed section."""
    path = finding.get("path") or []
    if not path:
        return []
    rule = escape(finding["rule"])
    summary = f"{rule} {escape(finding['resource'])} from {escape(finding['source'])}"
    return [
        f"<details><summary>{summary}</summary>",
        "",
        *(
            f"{n}. {escape(hop['hop'])}: {escape(hop['why'], STEP)}"
            for n, hop in enumerate(path, 1)
        ),
        "",
        "</details>",
        "",
    ]


def _row(finding: dict[str, Any], label: Any, names: dict[str, str]) -> str:
    rule = rule_of(finding)
    resource = f"`{_code(short_name(finding['resource']))}`"
    name = label(finding["resource"]) if label is not None else None
    if name:
        resource += f" {escape(name)}"
    traffic = f"{finding['protocol']} {finding['ports']}" if finding.get("protocol") else "-"
    account = escape(finding.get("account") or "-")
    if names.get(finding.get("account") or ""):
        account = f"{escape(names[finding['account']])} ({account})"
    where = f"{account} / {escape(finding.get('region') or '-')}"
    severity = f"{_ICON[finding['severity']]} {finding['severity']}"
    accepted = finding.get("accepted")
    if accepted:
        severity += f" (accepted until {escape(accepted['expires'])})"
    source = finding["source"]
    source = short_name(source) if source.startswith("arn:") else source
    return (
        f"| {severity} | {escape(rule.title)} "
        f"| {resource} | {where} | {escape(source)} | {escape(traffic)} |"
    )


def short_name(resource: str) -> str:
    """What a row names a resource by: an id as it is, an ARN by its last part.

    >>> short_name("arn:aws:iam::111122223333:role/ops/deploy")
    'role/deploy'
    >>> short_name("arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/web/50dc6c495c0c9188")
    'app/web'
    >>> short_name("i-0abc")
    'i-0abc'
    """
    if not resource.startswith("arn:"):
        return resource
    part = resource.split(":", 5)[-1]
    kind, _, rest = part.partition("/")
    if kind == "loadbalancer":  # loadbalancer/app/NAME/ID
        return "/".join(rest.split("/")[:2])
    if rest:  # role/path/NAME, user/NAME
        return f"{kind}/{rest.rsplit('/', 1)[-1]}"
    return part


def _code(value: str) -> str:
    # inside a code span only the backtick and the table's pipe matter: GitHub makes no
    # link or mention there
    return _cell_text(value).replace("`", "'").replace("|", "/")
