"""The HTML report opened in real headless Chromium (Debian's ``chromium``, via Playwright).

The page must load with no console error and no network request, show the summary
numbers of the findings JSON, open a finding's hop-by-hop path on click and highlight it
on the graph, and render attacker-controlled tag values as text (no dialog fires). A
screenshots are kept under ``test-artifacts/`` (the first view, a finding's path, the fleet
view). Chromium and the page helpers are
``report_support``'s.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from report_support import (
    ARTIFACTS,
    DENIED,
    XSS,
    Page,
    browser_fixture,
    exposure_result,
    node_boxes,
    overlapping,
    report_fixture,
)

from core.vocabulary import SEVERITIES
from graph.report import html

report = report_fixture(exposure_result)


browser = browser_fixture()


@pytest.fixture(scope="module")
def page(browser: Any, report: tuple[Path, dict[str, Any]]) -> Iterator[Page]:
    loaded = Page(browser, report[0])
    try:
        yield loaded
    finally:
        loaded.page.close()


def _count(page: Page, selector: str) -> int:
    return int(page.page.get_attribute(selector, "data-count") or "-1")


def test_page_loads_without_errors_or_network(page: Page) -> None:
    page.settled()
    assert page.errors == []
    assert page.requests == []
    assert page.page.title().startswith("IVS exposure report")
    assert int(page.page.get_attribute("#graph", "data-nodes") or "0") > 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / "report-first-view.png"))


def test_summary_numbers_equal_the_json(page: Page, report: tuple[Path, dict[str, Any]]) -> None:
    document = report[1]
    assert _count(page, "#total-findings") == len(document["findings"])
    assert page.page.inner_text("#total-findings") == str(len(document["findings"]))
    for severity in SEVERITIES:
        number = document["summary"][severity]
        assert _count(page, f'.sev-tile[data-severity="{severity}"] .n') == number
    assert _count(page, '[data-stat="assessed"] .n') == len(document["assessed"])
    assert _count(page, '[data-stat="not-assessed"] .n') == len(document["not_assessed"])
    gap = page.page.locator(f'[data-gap="{DENIED["account"]}/{DENIED["region"]}"]')
    assert DENIED["error"] in gap.inner_text()
    assert page.page.locator("tr.f-row").count() == len(document["findings"])


def test_clicking_a_finding_shows_its_path_and_highlights_it(
    page: Page, report: tuple[Path, dict[str, Any]]
) -> None:
    document = report[1]
    finding = next(f for f in document["findings"] if f["rule"] == "cross-zone-path")
    page.page.click(f'tr.f-row[data-id="{finding["id"]}"]')
    detail = page.page.locator(f'tr.f-detail[data-for="{finding["id"]}"]')
    detail.wait_for(state="visible")
    hops = detail.locator("ol.path li .hop").all_inner_texts()
    assert hops[: len(finding["path"])] == [h["hop"] for h in finding["path"]]
    for hop in finding["path"]:
        assert hop["why"] in detail.inner_text()
    page.page.wait_for_function(
        "id => document.getElementById('graph').getAttribute('data-finding') === id",
        arg=finding["id"],
    )
    highlighted = (page.page.get_attribute("#graph", "data-highlight") or "").split()
    pcx = next(h["hop"] for h in finding["path"] if h["hop"].startswith("pcx-"))
    source = finding["path"][0]["hop"]
    assert highlighted[0] == source  # from the dev ENI ...
    assert highlighted[-1].startswith("eni-")  # ... to the prod ENI, through the peering
    assert len({h for h in highlighted if h.startswith("vpc-")}) == 2
    # the graph draws the path's hops as edges and the peering edge as part of it
    drawn = page.page.evaluate(
        "() => window.ivsReport.net.visEdges.get().filter(e => String(e.id).startsWith('path:'))"
        ".map(e => [e.from, e.to])"
    )
    assert [pair[0] for pair in drawn] + [drawn[-1][1]] == highlighted
    peering_width = page.page.evaluate(
        "pcx => window.ivsReport.net.visEdges.get().find(e => (e.ids || []).includes(pcx)).width",
        pcx,
    )
    assert peering_width == 4
    assert page.page.locator("#panel ol.path li").count() >= len(finding["path"])
    page.page.wait_for_selector('#graph[data-settled="1"]', timeout=10_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / "report-finding-path.png"), full_page=True)
    assert (ARTIFACTS / "report-finding-path.png").stat().st_size > 10_000
    assert page.errors == []


def test_attacker_controlled_tags_render_as_text(
    page: Page, report: tuple[Path, dict[str, Any]]
) -> None:
    document = report[1]
    admin = next(f for f in document["findings"] if f["rule"] == "internet-exposed-admin-port")
    row = page.page.locator(f'tr.f-row[data-id="{admin["id"]}"]')
    assert row.locator(".r-name").inner_text() == XSS
    row.click()
    page.page.wait_for_function(
        "id => document.getElementById('graph').getAttribute('data-finding') === id",
        arg=admin["id"],
    )
    # the node panel shows the tags as table text
    eni = (page.page.get_attribute("#graph", "data-highlight") or "").split()[-1]
    page.page.evaluate("id => window.ivsReport.open(id)", eni)
    tags = page.page.locator("#panel table.tags").inner_text()
    assert XSS in tags
    page.page.wait_for_timeout(300)
    injected = page.page.evaluate(
        "() => document.querySelectorAll('img, [onerror], main b, aside b').length"
    )
    assert injected == 0
    assert page.dialogs == []
    assert page.errors == []


def test_an_empty_snapshot_is_not_shown_as_clean(browser: Any, tmp_path: Path) -> None:
    from core.spec import Exposure, Zones
    from graph.build import build_graph
    from graph.findings import ExposureResult, analyse_graph
    from graph.snapshot import load_snapshot

    (tmp_path / "snapshot").mkdir()
    graph = build_graph(load_snapshot(tmp_path / "snapshot"))
    out = tmp_path / "report.html"
    html.render(ExposureResult(analyse_graph(graph, Zones(), Exposure()), graph), out)
    loaded = Page(browser, out)
    try:
        assert _count(loaded, "#total-findings") == 0
        assert loaded.page.inner_text("#verdict .v-main") == "Nothing assessed"
        assert "No findings" in loaded.page.inner_text("#findings-body")
        assert loaded.errors == [] and loaded.requests == []
    finally:
        loaded.page.close()


# ---- the zone level -------------------------------------------------------------------------


def _embedded(path: Path) -> dict[str, Any]:
    text = path.read_text()
    start = text.index('id="ivs-data">') + len('id="ivs-data">')
    return json.loads(text[start : text.index("</script>", start)])


def _drawn(page: Page, kind: str) -> list[str]:
    return sorted(
        page.page.evaluate(
            "kind => window.ivsReport.net.nodes.get().filter(n => n.kind === kind).map(n => n.id)",
            kind,
        )
    )


def _group_by(page: Page, mode: str) -> None:
    page.page.click(f'#net-group button[data-mode="{mode}"]')
    page.page.wait_for_selector(f'#graph[data-mode="{mode}"]')
    assert page.page.get_attribute(f'#net-group [data-mode="{mode}"]', "aria-pressed") == "true"


def test_zone_mode_starts_with_one_node_per_zone_and_opens_a_zone_into_its_vpcs(
    page: Page, report: tuple[Path, dict[str, Any]]
) -> None:
    vpcs = _embedded(report[0])["net"]["vpcs"]
    zones = {v["zone"] or "unknown" for v in vpcs}
    assert page.page.get_attribute("#graph", "data-mode") == "account"  # few VPCs: VPC level
    assert len(_drawn(page, "vpc")) == len(vpcs)
    page.page.evaluate("() => window.ivsReport.clearHighlight()")  # a highlight stays open
    _group_by(page, "zone")
    assert _drawn(page, "zone") == sorted(f"zone:{z}" for z in zones)
    assert _drawn(page, "vpc") == [] and _drawn(page, "account") == []
    # the zone matrix's forbidden dev -> prod traffic is a red edge between the two zones
    edge = page.page.evaluate(
        "() => window.ivsReport.net.visEdges.get()"
        ".find(e => e.from === 'zone:dev' && e.to === 'zone:prod')"
    )
    assert edge["forbidden"] is True and edge["color"]["color"] == "#e03131"
    page.page.evaluate("id => window.ivsReport.open(id)", "zone:prod")
    prod = sorted(v["id"] for v in vpcs if v["zone"] == "prod")
    assert _drawn(page, "vpc") == prod
    assert page.page.locator("#panel h3").inner_text() == "prod"
    assert _drawn(page, "zone") == sorted(f"zone:{z}" for z in zones)  # the others stay closed
    _group_by(page, "account")
    assert len(_drawn(page, "vpc")) == len(vpcs) and _drawn(page, "zone") == []
    assert page.errors == []


def test_a_finding_opens_its_zones_and_is_highlighted_in_zone_mode(
    page: Page, report: tuple[Path, dict[str, Any]]
) -> None:
    document = report[1]
    finding = next(f for f in document["findings"] if f["rule"] == "cross-zone-path")
    page.page.evaluate("() => window.ivsReport.clearHighlight()")
    _group_by(page, "zone")
    assert _drawn(page, "vpc") == []
    page.page.click(f'tr.f-row[data-id="{finding["id"]}"]')
    page.page.wait_for_function(
        "id => document.getElementById('graph').getAttribute('data-finding') === id",
        arg=finding["id"],
    )
    highlighted = (page.page.get_attribute("#graph", "data-highlight") or "").split()
    assert highlighted[0] == finding["path"][0]["hop"]
    assert highlighted[-1].startswith("eni-")
    on_path = {h for h in highlighted if h.startswith("vpc-")}
    assert len(on_path) == 2 and on_path <= set(_drawn(page, "vpc"))
    # both zones of the path were opened for it; the drawn path is the highlighted chain
    expanded = page.page.evaluate("() => Object.keys(window.ivsReport.net.expanded)")
    assert {"zone:dev", "zone:prod"} <= set(expanded)
    drawn = page.page.evaluate(
        "() => window.ivsReport.net.visEdges.get().filter(e => String(e.id).startsWith('path:'))"
        ".map(e => [e.from, e.to])"
    )
    assert [pair[0] for pair in drawn] + [drawn[-1][1]] == highlighted
    page.page.evaluate("() => window.ivsReport.clearHighlight()")
    _group_by(page, "account")
    assert page.errors == []


def test_every_style_the_graph_draws_is_in_its_legend(
    page: Page, report: tuple[Path, dict[str, Any]]
) -> None:
    """The legend is built from topology's style table; whatever the graph draws, opened
    down to its network interfaces, has a style of that table."""
    from graph.report.topology import EDGE_STYLES, NODE_STYLES

    legend = page.page.locator("#net-legend")
    keys = [*(f"node:{k}" for k in NODE_STYLES), *(f"edge:{k}" for k in EDGE_STYLES), "frame"]
    for key in keys:
        assert legend.locator(f'[data-style="{key}"]').count() == 1, key
    public = legend.locator('[data-style="node:subnet-public"]').inner_text()
    assert public.startswith("public subnet")
    assert "internet gateway" in legend.locator('[data-style="edge:route"]').inner_text()
    for zone in _embedded(report[0])["zones"]["order"]:
        assert legend.locator(f'[data-style="zone-colour:{zone}"]').count() == 1
    page.page.evaluate("() => window.ivsReport.clearHighlight()")
    for subnet in _embedded(report[0])["net"]["vpcs"]:
        page.page.evaluate("id => window.ivsReport.open(id)", subnet["id"])
    vpc_details = [
        json.loads(block)
        for block in page.page.eval_on_selector_all(
            'script[id^="vpc-"]', "els => els.map(e => e.textContent)"
        )
    ]
    for detail in vpc_details:
        for subnet in detail["subnets"]:
            page.page.evaluate("id => window.ivsReport.open(id)", subnet["id"])
    finding = next(f for f in report[1]["findings"] if f["rule"] == "cross-zone-path")
    page.page.evaluate("id => window.ivsReport.openFinding(id)", finding["id"])
    used = page.page.evaluate(
        "() => { const n = window.ivsReport.net; return ["
        "n.nodes.get().map(x => x.style), n.visEdges.get().map(x => x.style)]; }"
    )
    assert set(used[0]) <= set(NODE_STYLES) and set(used[1]) <= set(EDGE_STYLES)
    # the graph draws the styles a reader most needs told apart
    assert {"subnet-public", "subnet-private", "eni", "internet-gateway"} <= set(used[0])
    assert {"route", "peering", "path"} <= set(used[1])
    assert overlapping(node_boxes(page.page)) == []
    page.page.evaluate("() => window.ivsReport.clearHighlight()")
    page.page.click("#net-reset")
    assert page.errors == []


def test_an_internet_cell_counts_every_finding_into_its_zone(
    page: Page, report: tuple[Path, dict[str, Any]]
) -> None:
    """The load balancer's own finding and those of its targets count in the internet's
    cell of their zone, and the cell lists them all."""
    document = report[1]
    prod_vpc = next(v["id"] for v in _embedded(report[0])["net"]["vpcs"] if v["zone"] == "prod")
    into_prod = [
        f
        for f in document["findings"]
        if f["source"] == "internet"
        and f["vpc"] == prod_vpc
        and not f["resource"].startswith("acl-")
    ]
    balancer = [f for f in into_prod if ":loadbalancer/" in f["resource"]]
    assert balancer and any("loadbalancer" in h["hop"] for f in into_prod for h in f["path"])
    cell = page.page.locator('#heat td[data-from="internet"][data-to="prod"]')
    assert cell.get_attribute("data-findings") == str(len(into_prod))
    assert cell.get_attribute("data-policy") == "forbidden"  # prod is protected
    cell.click()
    rows = page.page.locator("#findings-body tr.f-row")
    assert sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.id)")) == sorted(
        f["id"] for f in into_prod
    )
    page.page.fill("#text-filter", "")
    page.page.dispatch_event("#text-filter", "input")


def test_what_was_not_placed_is_listed_with_the_reason(
    browser: Any, page: Page, report: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    from core.spec import Exposure, Zones
    from graph.build import build_graph
    from graph.findings import ExposureResult, analyse_graph
    from graph.snapshot import load_snapshot
    from sandbox.raw import RawRegion

    # the organization's page places everything: no list
    assert report[1]["not_placed"]["count"] == 0
    assert page.page.locator('[data-stat="not-placed"]').count() == 0

    r = RawRegion()
    vpc = r.vpc("10.0.0.0/16")
    lost = r.eni(r.subnet(vpc, "10.0.1.0/24"), (), "10.0.1.9")
    r.files["NetworkInterfaces"][-1]["SubnetId"] = "subnet-0gone"
    r.write(tmp_path / "snapshot")
    graph = build_graph(load_snapshot(tmp_path / "snapshot"))
    out = tmp_path / "report.html"
    html.render(ExposureResult(analyse_graph(graph, Zones(), Exposure()), graph), out)
    loaded = Page(browser, out)
    try:
        box = loaded.page.locator('[data-stat="not-placed"]')
        assert "1 thing read but not placed" in box.inner_text()
        box.locator("summary").click()
        item = loaded.page.locator(f'[data-not-placed="{lost}"]')
        assert "its subnet subnet-0gone is not in the snapshot" in item.inner_text()
        assert loaded.errors == [] and loaded.requests == []
    finally:
        loaded.page.close()


def test_an_iam_path_opens_step_by_step(browser: Any, tmp_path: Path) -> None:
    """An IAM finding's path (network hops, then the role's steps) opens like a network
    path, its steps with the statements behind them, and the page stays error-free."""
    from test_iam_control import snapshot

    from core.spec import Exposure, Iam, Zones
    from graph.build import build_graph
    from graph.findings import ExposureResult, analyse_graph
    from graph.iam.snapshot import load_iam
    from graph.snapshot import load_snapshot

    root, bastion = snapshot(tmp_path / "snapshot")
    graph = build_graph(load_snapshot(root))
    document = analyse_graph(graph, Zones(), Exposure(), load_iam(root), Iam())
    out = tmp_path / "report.html"
    html.render(ExposureResult(document, graph), out)
    loaded = Page(browser, out)
    try:
        finding = next(
            f for f in document["findings"] if f["rule"] == "internet-exposed-instance-escalation"
        )
        assert finding["resource"] == bastion
        loaded.page.click(f'tr.f-row[data-id="{finding["id"]}"]')
        detail = loaded.page.locator(f'tr.f-detail[data-for="{finding["id"]}"]')
        detail.wait_for(state="visible")
        hops = detail.locator("ol.path li .hop").all_inner_texts()
        assert hops[: len(finding["path"])] == [h["hop"] for h in finding["path"]]
        text = detail.inner_text()
        assert "administrator-equivalent" in text and "ingress tcp 22" in text
        assert loaded.page.locator("tr.f-row").count() == len(document["findings"])
        loaded.page.wait_for_timeout(300)
        assert loaded.errors == []
    finally:
        loaded.page.close()


def test_the_fleet_view_counts_and_opens_the_findings_behind_a_count(
    browser: Any, tmp_path: Path
) -> None:
    """Per control, failing out of all by account and region; a count filters the table."""
    from test_fleet_read import ACCOUNT, FILES, REGION, write

    from core.spec import Exposure, Zones
    from graph.build import build_graph
    from graph.findings import ExposureResult, analyse_graph
    from graph.snapshot import load_snapshot

    extra = {"VolumeId": "vol-2", "Encrypted": True, "State": "in-use", "Attachments": []}
    files = {**FILES, "Volumes": {"Volumes": [*FILES["Volumes"]["Volumes"], extra]}}
    root = write(tmp_path / "snapshot", files)
    graph = build_graph(load_snapshot(root))
    document = analyse_graph(graph, Zones(), Exposure())
    out = tmp_path / "report.html"
    html.render(ExposureResult(document, graph), out)
    loaded = Page(browser, out)
    try:
        page = loaded.page
        assert page.locator("#fleet").is_visible()
        row = page.locator('tr.fleet-row[data-rule="ebs-volume-unencrypted"]')
        assert "1 / 2 volumes" in row.inner_text()
        assert "nothing" in row.inner_text()  # no spec: no control known to prevent it
        row.locator(f'button[data-place="{ACCOUNT}/{REGION}"]').click()
        page.wait_for_function(
            "() => document.querySelectorAll('#findings-body tr.f-row').length === 1"
        )
        shown = page.locator("#findings-body tr.f-row")
        assert "vol-1" in shown.inner_text()
        assert page.input_value("#rule-filter") == "ebs-volume-unencrypted"
        # a place with nothing failing has no findings to open
        healthy = page.locator('tr.fleet-row[data-rule="instance-not-managed"] button.place')
        assert healthy.count() == 1 and healthy.is_disabled()
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator("#fleet").screenshot(path=str(ARTIFACTS / "report-fleet.png"))
        assert loaded.errors == []
    finally:
        loaded.page.close()
