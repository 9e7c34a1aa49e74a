"""The HTML report's findings table in Chromium: account names, accepted risks, what is new
and what was fixed since a baseline (documents marked by hand, as ``ivs exposure`` marks
them with a spec and ``--baseline``), sorting, the CSV export and a link to one finding."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from report_support import (
    ACCEPTED,
    ACCOUNT_NAMES,
    EXPIRED,
    FIXED,
    Page,
    browser_fixture,
    marked_result,
    report_fixture,
)

from core.vocabulary import SEVERITY_RANK

report = report_fixture(marked_result)


browser = browser_fixture()


@pytest.fixture
def page(browser: Any, report: tuple[Path, dict[str, Any]]) -> Iterator[Page]:
    loaded = Page(browser, report[0])
    try:
        yield loaded
        assert loaded.errors == [] and loaded.requests == [] and loaded.dialogs == []
    finally:
        loaded.page.close()


def _ids(page: Page) -> list[str]:
    rows = page.page.locator("#findings-body tr.f-row")
    return list(rows.evaluate_all("rows => rows.map(r => r.dataset.id)"))


def _by_id(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["id"]: f for f in document["findings"]}


def test_account_names_are_shown_and_found(page: Page, report: tuple[Path, Any]) -> None:
    document = report[1]
    named = f"{ACCOUNT_NAMES['111111111111']} (111111111111)"
    options = page.page.locator("#account-filter option").all_inner_texts()
    assert any(o.startswith(named) for o in options)
    row = page.page.locator('#findings-body tr.f-row[data-id^="ivs-"]').first
    account = document["findings"][0]["account"]
    assert ACCOUNT_NAMES[account] in row.locator("td").nth(3).inner_text()
    page.page.fill("#text-filter", "payments-pr")
    expected = [f["id"] for f in document["findings"] if f["account"] == "111111111111"]
    assert _ids(page) == expected
    # the graph's account nodes carry the name too
    labels = page.page.evaluate(
        "() => window.ivsReport.net.nodes.get().filter(n => n.kind === 'account').map(n => n.label)"
    )
    assert any(label.startswith("payments-prod\n111111111111") for label in labels)


def test_accepted_and_expired_risks_are_marked_and_filtered(
    page: Page, report: tuple[Path, Any]
) -> None:
    findings = report[1]["findings"]
    accepted = next(f for f in findings if f.get("accepted"))
    expired = next(f for f in findings if f.get("acceptance_expired"))
    assert page.page.get_attribute('[data-stat="accepted"] + .v', "data-count") == "1"
    row = page.page.locator(f'tr.f-row[data-id="{accepted["id"]}"]')
    assert "is-accepted" in (row.get_attribute("class") or "")
    assert row.locator(".badge.accepted").inner_text().lower() == "accepted"
    lapsed = page.page.locator(f'tr.f-row[data-id="{expired["id"]}"] .badge.expired')
    assert lapsed.inner_text() == f"acceptance expired on {EXPIRED['expires']}"
    row.click()
    detail = page.page.locator(f'tr.f-detail[data-for="{accepted["id"]}"] .acceptance')
    for key in ("reason", "owner", "expires", "by"):
        assert ACCEPTED[key] in detail.inner_text()
    assert page.page.locator("img, [onerror]").count() == 0  # text, not tags
    page.page.select_option("#status-filter", "accepted")
    assert _ids(page) == [accepted["id"]]
    page.page.select_option("#status-filter", "open")
    assert _ids(page) == [f["id"] for f in findings if f is not accepted]
    assert expired["id"] in _ids(page)  # an expired acceptance is open again
    page.page.select_option("#status-filter", "")
    assert len(_ids(page)) == len(findings)


def test_what_is_new_and_what_was_fixed_since_the_baseline(
    page: Page, report: tuple[Path, Any]
) -> None:
    document = report[1]
    new = [f["id"] for f in document["findings"] if f["change"] == "new"]
    assert page.page.locator("#change-filter").is_visible()
    page.page.select_option("#change-filter", "new")
    assert _ids(page) == new
    assert page.page.locator("#findings-body tr.f-row .badge.new").count() == len(new)
    assert page.page.get_attribute('[data-stat="new"] + .v', "data-count") == str(len(new))
    fixed = page.page.locator("#fixed")
    assert fixed.is_visible()
    assert page.page.inner_text("#fixed-title") == "Fixed since findings.json"
    assert "2 not reassessed" in page.page.inner_text("#fixed-hint")
    gone = page.page.locator(f'#fixed-body tr[data-id="{FIXED["id"]}"]')
    assert FIXED["resource"] in gone.inner_text() and "tcp 8443" in gone.inner_text()
    assert ACCOUNT_NAMES["111111111111"] in gone.inner_text()


def test_columns_sort_both_ways_and_severity_by_rank(page: Page, report: tuple[Path, Any]) -> None:
    by_id = _by_id(report[1])
    header = page.page.locator('#findings th[data-sort="severity"]')
    header.locator("button").click()
    assert header.get_attribute("aria-sort") == "descending"
    ranks = [SEVERITY_RANK[by_id[i]["severity"]] for i in _ids(page)]
    assert ranks == sorted(ranks, reverse=True)
    header.locator("button").click()
    assert header.get_attribute("aria-sort") == "ascending"
    ranks = [SEVERITY_RANK[by_id[i]["severity"]] for i in _ids(page)]
    assert ranks == sorted(ranks) and ranks[0] < ranks[-1]
    page.page.click('#findings th[data-sort="traffic"] button')
    assert header.get_attribute("aria-sort") == "none"
    tcp = [by_id[i]["ports"] for i in _ids(page) if by_id[i]["protocol"] == "tcp"]
    assert tcp == sorted(tcp, key=lambda ports: [int(p.split("-")[0]) for p in ports.split(",")])
    page.page.click('#findings th[data-sort="account"] button')
    page.page.click('#findings th[data-sort="account"] button')  # descending
    accounts = [by_id[i]["account"] for i in _ids(page)]
    # by shown name: "=SUM..." sorts before "payments-prod", so descending puts it last
    assert accounts == sorted(accounts)


def test_csv_export_is_the_filtered_table(page: Page, report: tuple[Path, Any]) -> None:
    by_id = _by_id(report[1])
    page.page.click('#sev-filter .chip[data-severity="low"]')  # hide the low ones
    page.page.click('#findings th[data-sort="resource"] button')
    shown = _ids(page)
    assert 0 < len(shown) < len(by_id)
    with page.page.expect_download() as download:
        page.page.click("#export-csv")
    path = download.value.path()
    assert download.value.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(Path(path).read_text(encoding="utf-8-sig"))))
    assert [r["Id"] for r in rows] == shown
    table = page.page.locator("#findings-body tr.f-row")
    for n, row in enumerate(rows):
        finding = by_id[row["Id"]]
        cells = table.nth(n).locator("td")
        assert row["Severity"] == finding["severity"] == cells.nth(0).inner_text().lower()
        assert row["Finding"] in cells.nth(1).inner_text() and row["Rule"] == finding["rule"]
        assert row["Resource"] == finding["resource"] and row["From"] == finding["source"]
        assert row["Traffic"] == cells.nth(5).inner_text()
        assert row["Account id"] == finding["account"] and row["Region"] == finding["region"]
        name = ACCOUNT_NAMES[finding["account"]]
        shown_name = "'" + name if name.startswith("=") else name  # not run as a formula
        assert row["Account name"] == shown_name
        assert row["Account"] == f"{shown_name} ({finding['account']})"
        assert name in cells.nth(3).inner_text()
        assert row["Standing"] == (
            f"accepted until {ACCEPTED['expires']}"
            if finding.get("accepted")
            else f"acceptance expired on {EXPIRED['expires']}"
            if finding.get("acceptance_expired")
            else "open"
        )
        assert row["Change"] == finding["change"]
    assert any("<img" in r["Resource name"] for r in rows)  # text stays as it is


def test_a_link_opens_its_finding_and_opening_one_sets_the_link(
    browser: Any, report: tuple[Path, Any]
) -> None:
    finding = next(f for f in report[1]["findings"] if f["rule"] == "cross-zone-path")
    loaded = Page(browser, report[0], f"#finding={finding['id']}")
    try:
        page = loaded.page
        page.locator(f'tr.f-detail[data-for="{finding["id"]}"]').wait_for(state="visible")
        page.wait_for_function(
            "id => document.getElementById('graph').getAttribute('data-finding') === id",
            arg=finding["id"],
        )
        highlighted = (page.get_attribute("#graph", "data-highlight") or "").split()
        assert highlighted[0] == finding["path"][0]["hop"] and len(highlighted) > 3
        other = next(f for f in report[1]["findings"] if f["rule"] == "default-sg-has-rules")
        page.click(f'tr.f-row[data-id="{other["id"]}"]')
        assert page.evaluate("() => location.hash") == f"#finding={other['id']}"
        page.click(f'tr.f-row[data-id="{other["id"]}"]')  # closed again: no link
        assert page.evaluate("() => location.hash") == ""
        page.go_back()  # the link before
        page.locator(f'tr.f-detail[data-for="{finding["id"]}"]').wait_for(state="visible")
        assert loaded.errors == [] and loaded.requests == []
    finally:
        loaded.page.close()
