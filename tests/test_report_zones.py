"""The HTML report's zone views in Chromium: the heat map coloured by the zone policy, and
a 1,000-VPC organization (``sandbox.synth``, as ``bench.bench_report`` makes it) whose
opened zone is laid out without overlaps and stays readable after Fit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from report_support import ARTIFACTS, Page, browser_fixture, node_boxes, overlapping

from graph.report import html
from sandbox.raw import RawRegion, perm

browser = browser_fixture()


def _render(root: Path, *, named: bool = False) -> tuple[Path, Any]:
    """The report of ``root/snapshot``; ``named``: each account with a name, as the
    document has them when the organization's account list was read."""
    from core.spec import Exposure, Zones
    from graph.build import build_graph
    from graph.findings import ExposureResult, analyse_graph
    from graph.snapshot import load_snapshot

    graph = build_graph(load_snapshot(root / "snapshot"))
    document = analyse_graph(graph, Zones(), Exposure())
    if named:
        accounts = sorted({place["account"] for place in document["assessed"]})
        document["account_names"] = {a: f"team-{n:03d}" for n, a in enumerate(accounts)}
    out = root / "report.html"
    html.render(ExposureResult(document, graph), out)
    return out, document


def test_heat_map_colours_follow_the_zone_policy(browser: Any, tmp_path: Path) -> None:
    """From the internet: allowed into an open zone on a web port, forbidden on an
    administration port anywhere and on any port into a protected zone (prod, which the
    default policy closes to the other zones)."""
    r = RawRegion()
    vpc = r.vpc("10.0.0.0/16")
    public = r.subnet(vpc, "10.0.1.0/24")
    r.route(r.route_table(vpc, (public,)), "0.0.0.0/0", r.igw(vpc))
    web = r.sg(vpc, [perm("tcp", 443, cidrs=("0.0.0.0/0",))], name="web")
    ssh = r.sg(vpc, [perm("tcp", 22, cidrs=("0.0.0.0/0",))], name="ssh")
    r.instance(public, (web,), "10.0.1.10", public_ip="52.0.0.10", tag={"Environment": "dev"})
    r.instance(public, (ssh,), "10.0.1.11", public_ip="52.0.0.11", tag={"Environment": "qa"})
    r.instance(public, (web,), "10.0.1.12", public_ip="52.0.0.12", tag={"Environment": "prod"})
    r.write(tmp_path / "snapshot")
    out, document = _render(tmp_path)
    loaded = Page(browser, out)
    try:
        page = loaded.page

        def policy(source: str, to: str) -> str | None:
            cell = f'#heat td[data-from="{source}"][data-to="{to}"]'
            return page.get_attribute(cell, "data-policy")

        protected = page.eval_on_selector_all(
            "#heat thead th[data-protected]", "els => els.map(e => e.getAttribute('data-zone'))"
        )
        assert protected == ["prod"]
        assert policy("internet", "dev") == "allowed"  # tcp 443 into an open zone
        assert policy("internet", "qa") == "forbidden"  # tcp 22: never from the internet
        assert policy("internet", "prod") == "forbidden"  # tcp 443 into a protected zone
        for row in document["zone_matrix"]:
            expected = "forbidden" if row["forbidden"] else "allowed"
            assert policy(row["from"], row["to"]) == expected
        assert policy("dev", "prod") == "forbidden" and policy("prod", "dev") == "allowed"
        legend = page.locator("#heat-legend")
        for key in html.HEAT_STYLES:
            assert legend.locator(f'[data-style="heat-{key}"]').count() == 1
        assert "protected zone" in legend.inner_text()
        assert loaded.errors == [] and loaded.requests == []
    finally:
        page.close()


# ---- a large organization ---------------------------------------------------------------


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """1,000 VPCs (125 accounts, two regions, four VPCs each), as the report bench has it,
    each account with a name."""
    import sandbox.synth as synth

    root = tmp_path_factory.mktemp("large")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(synth, "ENIS_PER_ACCOUNT_REGION", 40)
        synth.write_synthetic_snapshot(root / "snapshot", enis=250 * 40)
    return _render(root, named=True)


def test_a_large_organization_opens_a_zone_without_overlaps_and_readable_labels(
    browser: Any, large: tuple[Path, dict[str, Any]]
) -> None:
    out, document = large
    names = document["account_names"]
    loaded = Page(browser, out)
    try:
        page = loaded.page
        net = "window.ivsReport.net"
        assert page.get_attribute("#graph", "data-mode") == "zone"
        zones = page.evaluate(f"() => {net}.nodes.get().filter(n => n.kind === 'zone').length")
        assert zones > 1 and page.get_attribute("#graph", "data-nodes") == str(zones + 1)
        largest = page.evaluate("() => 'zone:' + window.ivsReport.data.net.zones[0].id")
        page.evaluate("id => window.ivsReport.open(id)", largest)
        loaded.settled()
        vpcs = page.evaluate(f"() => {net}.nodes.get().filter(n => n.kind === 'vpc')")
        assert len(vpcs) >= 20
        assert overlapping(node_boxes(page)) == []
        # each VPC is told apart by its name, its account's name and its region
        labels = [v["label"] for v in vpcs]
        assert len(set(labels)) == len(labels)
        assert all(any(f"\n{name} · " in label for name in names.values()) for label in labels)
        page.click("#net-fit")
        loaded.settled()
        scale = page.evaluate(f"() => {net}.network.getScale()")
        assert 12 * scale >= 9.5  # a VPC's 12 px label after Fit
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator("#network").screenshot(path=str(ARTIFACTS / "report-zone-open.png"))
        # a second zone opened beside it: still no overlap
        second = page.evaluate("() => 'zone:' + window.ivsReport.data.net.zones[1].id")
        page.evaluate("id => window.ivsReport.open(id)", second)
        loaded.settled()
        assert overlapping(node_boxes(page)) == []
        # by account: an account opened into its VPCs, one of them into its subnets
        page.click('#net-group button[data-mode="account"]')
        account = page.evaluate("() => 'acct:' + window.ivsReport.data.net.accounts[3].id")
        page.evaluate("id => window.ivsReport.open(id)", account)
        vpc = page.evaluate(f"id => {net}.children[id][0]", account)
        page.evaluate("id => window.ivsReport.open(id)", vpc)
        loaded.settled()
        drawn = page.evaluate(f"() => {net}.nodes.get().map(n => n.kind)")
        assert drawn.count("account") == len(names) and "subnet" in drawn
        assert overlapping(node_boxes(page)) == []
        page.click('#net-group button[data-mode="zone"]')
        finding = next(f for f in document["findings"] if f["source"] == "internet")
        page.evaluate("id => window.ivsReport.openFinding(id)", finding["id"])
        page.wait_for_function(
            "id => document.getElementById('graph').getAttribute('data-finding') === id",
            arg=finding["id"],
        )
        highlighted = (page.get_attribute("#graph", "data-highlight") or "").split()
        assert highlighted[0] == "internet" and finding["vpc"] in highlighted
        assert loaded.errors == [] and loaded.requests == []
    finally:
        page.close()
