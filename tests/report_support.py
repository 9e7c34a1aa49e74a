"""A small organization snapshot for the report tests, built from raw describe_* shapes.

Account 111111111111 in eu-west-1 has a prod VPC with a public subnet (an SSH bastion
whose ``Name`` tag is an HTML injection attempt, an RDS interface placed in the public
subnet) and a private subnet of app servers behind an internet-facing load balancer, and
a dev VPC peered into prod. Account 222222222222 has a VPC in us-east-1 with a default
security group that has rules, and an ``@`` mention in a tag; in eu-west-1 it was not
collected (AccessDenied), so it must be reported as not assessed.

The report tests open pages in real headless Chromium (Debian's ``chromium``, driven by
Playwright): :func:`launch` starts it, :class:`Page` loads a report and keeps what it said
on the console and what it asked for. Chromium is part of the project's set-up: when it
is missing the tests fail (they do not skip), saying how to install it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from sandbox.raw import RawRegion, perm

XSS = "<img src=x onerror=alert(1)>"
MENTION = "@security-team <b>bold</b> | pipe"
DENIED = {"account": "222222222222", "region": "eu-west-1", "error": "AccessDenied"}


def write_org_snapshot(root: Path) -> Path:
    """Write the snapshot under ``root`` and return ``root``."""
    a = RawRegion("111111111111", "eu-west-1")
    prod = a.vpc("10.0.0.0/16", tag={"Name": "prod-core", "Environment": "prod"})
    public = a.subnet(prod, "10.0.1.0/24", tag={"Name": "prod-public"})
    private = a.subnet(prod, "10.0.2.0/24", tag={"Name": "prod-private"})
    igw = a.igw(prod)
    public_rtb = a.route_table(prod, (public,))
    a.route(public_rtb, "0.0.0.0/0", igw)
    bastion_sg = a.sg(
        prod,
        [perm("tcp", 22, cidrs=("0.0.0.0/0",)), perm("tcp", 443, cidrs=("0.0.0.0/0",))],
        name="bastion",
    )
    a.instance(
        public,
        (bastion_sg,),
        "10.0.1.10",
        public_ip="52.1.1.1",
        tag={"Name": XSS, "Environment": "prod", "Owner": XSS},
    )
    db_sg = a.sg(prod, [perm("tcp", 5432, cidrs=("10.0.0.0/8",))], name="db")
    a.eni(
        public,
        (db_sg,),
        "10.0.1.50",
        description="RDSNetworkInterface",
        requester="amazon-rds",
        tag={"Environment": "prod"},
    )
    lb_sg = a.sg(prod, [perm("tcp", 443, cidrs=("0.0.0.0/0",))], name="alb")
    app_sg = a.sg(prod, [perm("tcp", 8080, groups=(lb_sg,))], name="app")
    apps = [
        a.instance(
            private, (app_sg,), f"10.0.2.{10 + i}", tag={"Name": f"app-{i}", "Environment": "prod"}
        )
        for i in range(3)
    ]
    lb = a.load_balancer("web", prod, (public,), (lb_sg,))
    tg = a.target_group("app", prod, 8080, lb)
    a.listener(lb, 443, tg, "HTTPS")
    for app in apps:
        a.register(tg, app, 8080)
    a.flow_log(prod)

    dev = a.vpc("10.1.0.0/16", tag={"Name": "dev", "Environment": "dev"})
    dev_subnet = a.subnet(dev, "10.1.1.0/24", tag={"Name": "dev-private"})
    dev_sg = a.sg(dev, [perm("tcp", 22, cidrs=("10.0.0.0/8",))], name="dev")
    a.instance(dev_subnet, (dev_sg,), "10.1.1.10", tag={"Name": "dev-box", "Environment": "dev"})
    pcx = a.peering(dev, prod)
    a.route(a.main_route_table(dev), "10.0.0.0/16", pcx)
    a.route(a.main_route_table(prod), "10.1.0.0/16", pcx)
    a.route(public_rtb, "10.1.0.0/16", pcx)
    a.write(root)

    b = RawRegion("222222222222", "us-east-1")
    shared = b.vpc("10.2.0.0/16", tag={"Name": MENTION, "Environment": "shared"})
    b.subnet(shared, "10.2.1.0/24")
    b.flow_log(shared)
    b.write(root)

    manifest: dict[str, Any] = {
        "format": 1,
        "collected_at": "2026-11-27T08:00:00Z",
        "accounts": {
            "111111111111": {"regions": {"eu-west-1": {"status": "ok"}}},
            "222222222222": {
                "regions": {
                    "us-east-1": {"status": "ok"},
                    "eu-west-1": {
                        "status": "error",
                        "error": "AccessDenied",
                        "message": "not authorized to perform ec2:DescribeVpcs",
                    },
                }
            },
        },
    }
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root


def exposure_result(root: Path) -> Any:
    """The ``ExposureResult`` (findings document and graph) of the org snapshot."""
    from core.spec import Exposure, Zones
    from graph.build import build_graph
    from graph.findings import ExposureResult, analyse_graph
    from graph.snapshot import load_snapshot

    graph = build_graph(load_snapshot(write_org_snapshot(root)))
    return ExposureResult(analyse_graph(graph, Zones(), Exposure()), graph)


CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def _chromium_path() -> str:
    path = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if not path:
        pytest.fail(
            f"Chromium is not installed ({CHROMIUM}): the browser test needs it. "
            "Install it with `apt-get install -y chromium` (make setup does)."
        )
    return path


@contextmanager
def launch() -> Iterator[Any]:
    """A headless Chromium (one per test module: it takes a second to start)."""
    executable = _chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the browser test needs the playwright package (pip install -e .[dev])")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def browser_fixture() -> Any:
    """A test module's ``browser`` fixture: one Chromium for the module."""

    @pytest.fixture(scope="module")
    def browser() -> Iterator[Any]:
        with launch() as chromium:
            yield chromium

    return browser


def report_fixture(result_of: Callable[[Path], Any]) -> Any:
    """A test module's ``report`` fixture: the HTML report of ``result_of(snapshot dir)``
    and its findings document, rendered once for the module."""

    @pytest.fixture(scope="module")
    def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
        from graph.report import html

        root = tmp_path_factory.mktemp("report")
        result = result_of(root / "snapshot")
        out = root / "report.html"
        html.render(result, out)
        return out, result.document

    return report


class Page:
    """A loaded report page with what it said on the console and what it asked for."""

    def __init__(self, browser: Any, path: Path, fragment: str = "") -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.page = browser.new_page(viewport={"width": 1440, "height": 1000})
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", self._dialog)
        self.page.on("request", self._request)
        self.page.goto(path.as_uri() + fragment)
        self.page.wait_for_function("() => window.ivsReport && window.ivsReport.net.network")

    def settled(self) -> None:
        """Wait until the graph has been laid out and fitted."""
        self.page.wait_for_selector('#graph[data-settled="1"]', timeout=10_000)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _request(self, request: Any) -> None:
        # the page's own file, and what it makes in memory (a CSV download), stay local
        if not request.url.startswith(("file://", "blob:", "data:")):
            self.requests.append(request.url)


#: The names the marked report gives its accounts: one with a comma, quotes and what a
#: spreadsheet would take for a formula.
ACCOUNT_NAMES = {"111111111111": "payments-prod", "222222222222": '=SUM(1,2) "shared", ops'}
ACCEPTED = {
    "by": "internet-exposed-admin-port on i-*",
    "reason": 'bastion, "temporary" until the VPN <img src=x onerror=alert(1)>',
    "owner": "platform team",
    "expires": "2027-06-30",
}
EXPIRED = {"by": "ivs-0000", "reason": "pilot", "owner": "ops", "expires": "2026-01-31"}
FIXED = {
    "id": "ivs-00000000000000aa",
    "rule": "internet-exposed-port",
    "severity": "medium",
    "controls": ["CCM IVS-03"],
    "account": "111111111111",
    "region": "eu-west-1",
    "vpc": "vpc-111100000001",
    "resource": "i-0gone",
    "protocol": "tcp",
    "ports": "8443",
    "source": "internet",
    "path": [{"hop": "internet", "why": "from 0.0.0.0/0"}],
}


def marked_result(root: Path) -> Any:
    """The org snapshot's result with what a spec and a baseline add to the document
    (account names, an accepted and an expired acceptance, new and unchanged findings,
    one fixed since the baseline), made by hand as the findings document has them."""
    result = exposure_result(root)
    document = result.document
    findings = document["findings"]
    document["account_names"] = dict(ACCOUNT_NAMES)
    first = {f["rule"]: f for f in reversed(findings)}
    first["internet-exposed-admin-port"]["accepted"] = ACCEPTED
    first["vpc-flow-logs-missing"]["acceptance_expired"] = EXPIRED
    for n, finding in enumerate(findings):
        finding["change"] = "new" if n % 3 == 0 else "unchanged"
    document["fixed"] = [FIXED]
    new = sum(1 for f in findings if f["change"] == "new")
    document["baseline"] = {
        "file": "/srv/reports/2026-11-01/findings.json",
        "generated_at": "2026-11-01T06:00:00Z",
        "new": new,
        "unchanged": len(findings) - new,
        "fixed": 1,
        "not_reassessed": 2,
    }
    document["summary"]["accepted"] = 1
    return result


def node_boxes(page: Any) -> dict[str, dict[str, float]]:
    """Every drawn node's box as vis-network has it (``getBoundingBox``), once it has drawn
    them all at a size where labels show: a label's box moves only when it is drawn."""
    boxes: dict[str, dict[str, float]] = page.evaluate(
        "() => { const n = window.ivsReport.net; n.network.fit(); n.network.redraw();"
        " const at = n.network.getPositions();"
        " return Object.fromEntries(n.nodes.getIds().map(id => {"
        "   const b = n.network.getBoundingBox(id); b.x = at[id].x; return [id, b]; })); }"
    )
    for node, box in boxes.items():  # each label centred on its node: drawn where it is
        assert abs((box["left"] + box["right"]) / 2 - box["x"]) < 1, node
    return boxes


def overlapping(boxes: dict[str, dict[str, float]]) -> list[tuple[str, str]]:
    """The pairs of boxes that overlap."""
    items = sorted(boxes.items())
    return [
        (a, b)
        for i, (a, one) in enumerate(items)
        for b, two in items[i + 1 :]
        if one["left"] < two["right"]
        and two["left"] < one["right"]
        and one["top"] < two["bottom"]
        and two["top"] < one["bottom"]
    ]
