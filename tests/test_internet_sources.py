"""Internet findings say which public sources really reach, and are graded by their width.

Snapshots are raw ``describe_*``-shaped files (``snapshots.raw``); a finding's
``source_cidrs`` are the public prefixes the security group (or its prefix lists) admits,
narrowed by the network ACL; narrower than a /8 in total is one severity level down.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

from core.securityhub import product_arn
from core.vocabulary import SEVERITY_RANK
from graph.findings import analyse
from graph.reach import PUBLIC, source_cidrs, spans_difference, spans_union
from graph.report import asff
from graph.rules import RULES
from sandbox.raw import ALL, RawRegion, acl_entry, perm

PUBLIC_IP = "54.0.0.10"


def public_vpc(r: RawRegion, *, ipv6: bool = False) -> tuple[str, str]:
    vpc = r.vpc("10.0.0.0/16", ipv6="2600:1f18:1:100::/56" if ipv6 else None)
    subnet = r.subnet(vpc, "10.0.1.0/24", ipv6="2600:1f18:1:101::/64" if ipv6 else None)
    igw = r.igw(vpc)
    rtb = r.route_table(vpc, (subnet,))
    r.route(rtb, "0.0.0.0/0", igw)
    if ipv6:
        r.route(rtb, "::/0", igw)
    return vpc, subnet


def ssh_host(r: RawRegion, ingress: list[dict[str, Any]]) -> tuple[str, str, str]:
    """A public instance whose group admits ``ingress``; (vpc, subnet, instance)."""
    vpc, subnet = public_vpc(r)
    sg = r.sg(vpc, ingress)
    return vpc, subnet, r.instance(subnet, (sg,), "10.0.1.10", public_ip=PUBLIC_IP)


def only(doc: dict[str, Any], rule: str) -> dict[str, Any]:
    [finding] = [f for f in doc["findings"] if f["rule"] == rule]
    return finding


def internet_why(finding: dict[str, Any]) -> str:
    return str(next(h["why"] for h in finding["path"] if h["hop"] == "internet"))


def test_ssh_from_anywhere_is_critical_from_0_0_0_0_slash_0(tmp_path: Path) -> None:
    r = RawRegion()
    _, _, host = ssh_host(r, [perm("tcp", 22, cidrs=("0.0.0.0/0",))])
    r.write(tmp_path)
    ssh = only(analyse(tmp_path), "internet-exposed-admin-port")
    assert (ssh["resource"], ssh["ports"], ssh["source"]) == (host, "22", "internet")
    assert ssh["severity"] == "critical"
    assert (ssh["source_cidrs"], ssh["source_cidrs_total"]) == (["0.0.0.0/0"], 1)
    assert "only" not in internet_why(ssh)


def test_ssh_from_a_partner_range_only_is_one_level_down(tmp_path: Path) -> None:
    r = RawRegion()
    _, _, host = ssh_host(r, [perm("tcp", 22, cidrs=("203.0.113.0/24",))])
    r.write(tmp_path)
    doc = analyse(tmp_path)
    ssh = only(doc, "internet-exposed-admin-port")
    assert (ssh["resource"], ssh["source"], ssh["severity"]) == (host, "internet", "high")
    assert (ssh["source_cidrs"], ssh["source_cidrs_total"]) == (["203.0.113.0/24"], 1)
    assert internet_why(ssh) == "from 203.0.113.0/24 only"
    assert doc["summary"]["critical"] == 0 and doc["summary"]["high"] == 1


def test_network_acl_narrows_a_world_open_group(tmp_path: Path) -> None:
    r = RawRegion()
    vpc, subnet, host = ssh_host(r, [perm("tcp", 22, cidrs=("0.0.0.0/0",))])
    r.nacl(
        vpc,
        (subnet,),
        [acl_entry(100, "6", (22, 22), "198.51.100.0/24")],
        [acl_entry(100, "6", (1024, 65535), "0.0.0.0/0")],
    )
    r.write(tmp_path)
    ssh = only(analyse(tmp_path), "internet-exposed-admin-port")
    assert (ssh["resource"], ssh["severity"]) == (host, "high")
    assert ssh["source_cidrs"] == ["198.51.100.0/24"]
    assert internet_why(ssh) == "from 198.51.100.0/24 only"
    # the group's rule is still the evidence for the group's hop
    assert ssh["path"][-2]["why"] == "ingress tcp 22 from 0.0.0.0/0"


def test_network_acl_deny_of_one_range_keeps_the_world_open(tmp_path: Path) -> None:
    r = RawRegion()
    vpc, subnet, _ = ssh_host(r, [perm("tcp", 22, cidrs=("0.0.0.0/0",))])
    r.nacl(
        vpc,
        (subnet,),
        [
            acl_entry(90, "6", (22, 22), "192.0.2.0/24", "deny"),
            acl_entry(100, ALL, None, "0.0.0.0/0"),
        ],
        [acl_entry(100, ALL, None, "0.0.0.0/0")],
    )
    r.write(tmp_path)
    ssh = only(analyse(tmp_path), "internet-exposed-admin-port")
    assert ssh["severity"] == "critical"
    assert len(ssh["source_cidrs"]) == min(20, ssh["source_cidrs_total"])
    assert ssh["source_cidrs_total"] > 1
    denied = ipaddress.ip_network("192.0.2.0/24")
    shown = [ipaddress.ip_network(c) for c in ssh["source_cidrs"]]
    assert not any(net.overlaps(denied) for net in shown)
    # prefixes in address order: the first ones hold the low public space
    assert str(shown[0]) == "0.0.0.0/1"


def test_prefix_list_sources_are_listed_and_narrow(tmp_path: Path) -> None:
    r = RawRegion()
    partners = r.prefix_list("partners", ("198.51.100.0/24", "192.0.2.0/25"))
    _, _, host = ssh_host(r, [perm("tcp", 3389, prefix_lists=(partners,))])
    r.write(tmp_path)
    rdp = only(analyse(tmp_path), "internet-exposed-admin-port")
    assert (rdp["resource"], rdp["ports"], rdp["severity"]) == (host, "3389", "high")
    assert rdp["source_cidrs"] == ["192.0.2.0/25", "198.51.100.0/24"]
    assert internet_why(rdp) == "from 192.0.2.0/25, 198.51.100.0/24 only"


def test_ipv6_from_anywhere_is_critical(tmp_path: Path) -> None:
    r = RawRegion()
    vpc, subnet = public_vpc(r, ipv6=True)
    sg = r.sg(vpc, [perm("tcp", 22, ipv6=("::/0",))])
    host = r.instance(subnet, (sg,), "10.0.1.10", ipv6=("2600:1f18:1:101::10",))
    r.write(tmp_path)
    ssh = only(analyse(tmp_path), "internet-exposed-admin-port")
    assert (ssh["resource"], ssh["severity"]) == (host, "critical")
    assert ssh["source_cidrs"] == ["::/0"]


def test_a_slash_8_is_the_internet_at_large_narrower_is_not(tmp_path: Path) -> None:
    severities = {}
    for cidr in ("3.0.0.0/8", "3.0.0.0/9"):
        r = RawRegion()
        ssh_host(r, [perm("tcp", 22, cidrs=(cidr,))])
        r.write(tmp_path / cidr.replace("/", "_"))
        ssh = only(analyse(tmp_path / cidr.replace("/", "_")), "internet-exposed-admin-port")
        assert ssh["source_cidrs"] == [cidr]
        severities[cidr] = ssh["severity"]
    assert severities == {"3.0.0.0/8": "critical", "3.0.0.0/9": "high"}


def test_private_part_of_a_rule_is_no_internet_source(tmp_path: Path) -> None:
    # 10.0.0.0/7 is 10/8 (private, never from the internet) and 11/8 (public): a /8 of
    # public addresses, so critical; the rule's block is shown as written.
    r = RawRegion()
    ssh_host(r, [perm("tcp", 22, cidrs=("10.0.0.0/7",))])
    r.write(tmp_path)
    ssh = only(analyse(tmp_path), "internet-exposed-admin-port")
    assert (ssh["severity"], ssh["source_cidrs"]) == ("critical", ["10.0.0.0/7"])


def test_other_ports_grade_medium_to_low_and_ids_do_not_change(tmp_path: Path) -> None:
    found = {}
    for name, cidr in (("world", "0.0.0.0/0"), ("office", "203.0.113.0/24")):
        r = RawRegion()
        ssh_host(r, [perm("tcp", 22, cidrs=(cidr,)), perm("tcp", 8443, cidrs=(cidr,))])
        r.write(tmp_path / name)
        doc = analyse(tmp_path / name)
        found[name] = {f["rule"]: f for f in doc["findings"] if "source_cidrs" in f}
    world, office = found["world"], found["office"]
    assert set(world) == set(office) == {"internet-exposed-admin-port", "internet-exposed-port"}
    assert world["internet-exposed-port"]["severity"] == "medium"
    assert office["internet-exposed-port"]["severity"] == "low"
    for rule in world:  # same rule, resource, ports and source: same id
        assert world[rule]["id"] == office[rule]["id"]
        assert world[rule]["ports"] == office[rule]["ports"]


def test_load_balancer_target_inherits_the_listener_sources(tmp_path: Path) -> None:
    r = RawRegion()
    vpc, public = public_vpc(r)
    private = r.subnet(vpc, "10.0.2.0/24")
    lb_sg = r.sg(vpc, [perm("tcp", 443, cidrs=("203.0.113.0/24",))])
    app_sg = r.sg(vpc, [perm("tcp", 8080, groups=(lb_sg,))])
    app = r.instance(private, (app_sg,), "10.0.2.10")
    lb = r.load_balancer("web", vpc, (public,), (lb_sg,))
    tg = r.target_group("app", vpc, 8080, lb)
    r.listener(lb, 443, tg, "HTTPS")
    r.register(tg, app, 8080)
    r.write(tmp_path)
    doc = analyse(tmp_path)
    exposed = {f["resource"]: f for f in doc["findings"] if f["rule"] == "internet-exposed-port"}
    assert set(exposed) == {lb, app}
    for finding in exposed.values():
        assert (finding["severity"], finding["source_cidrs"]) == ("low", ["203.0.113.0/24"])
        assert internet_why(finding) == "from 203.0.113.0/24 only"


def _nlb_in_front_of(
    r: RawRegion,
    target_ingress: list[dict[str, Any]],
    listener_ingress: list[dict[str, Any]] | None = None,
) -> tuple[str, str]:
    """An internet-facing network load balancer (it keeps the client's address) forwarding
    tcp 443 to a private instance on 8443, with a group admitting ``listener_ingress`` if
    given, else none; (load balancer, instance)."""
    vpc, public = public_vpc(r)
    private = r.subnet(vpc, "10.0.2.0/24")
    app = r.instance(private, (r.sg(vpc, target_ingress),), "10.0.2.10")
    groups = (r.sg(vpc, listener_ingress),) if listener_ingress is not None else ()
    lb = r.load_balancer("edge", vpc, (public,), groups, kind="network")
    tg = r.target_group("app", vpc, 8443, lb)
    r.listener(lb, 443, tg, "TCP")
    r.register(tg, app, 8443)
    return lb, app


def test_network_load_balancer_target_is_reached_only_by_sources_it_admits(
    tmp_path: Path,
) -> None:
    r = RawRegion()
    _, app = _nlb_in_front_of(r, [perm("tcp", 8443, cidrs=("198.51.100.0/24",))])
    r.write(tmp_path)
    doc = analyse(tmp_path)
    [target] = [f for f in doc["findings"] if f["resource"] == app]
    assert (target["rule"], target["ports"]) == ("internet-exposed-port", "8443")
    assert (target["severity"], target["source_cidrs"]) == ("low", ["198.51.100.0/24"])


def test_network_load_balancer_target_admitting_no_public_source_is_not_exposed(
    tmp_path: Path,
) -> None:
    r = RawRegion()
    _, app = _nlb_in_front_of(r, [perm("tcp", 8443, cidrs=("10.0.0.0/8",))])
    r.write(tmp_path)
    doc = analyse(tmp_path)
    exposed = {f["resource"] for f in doc["findings"] if f["rule"].startswith("internet-")}
    assert app not in exposed


def test_network_load_balancer_with_disjoint_listener_and_target_sources_is_no_path(
    tmp_path: Path,
) -> None:
    # The listener admits one partner, the target another: no single client gets through.
    r = RawRegion()
    _, app = _nlb_in_front_of(
        r,
        [perm("tcp", 8443, cidrs=("198.51.100.0/24",))],
        [perm("tcp", 443, cidrs=("203.0.113.0/24",))],
    )
    r.write(tmp_path)
    doc = analyse(tmp_path)
    assert app not in {f["resource"] for f in doc["findings"] if f["rule"].startswith("internet-")}


def test_reports_carry_the_graded_severity(tmp_path: Path) -> None:
    r = RawRegion()
    ssh_host(r, [perm("tcp", 22, cidrs=("203.0.113.0/24",))])
    r.write(tmp_path)
    ssh = only(analyse(tmp_path), "internet-exposed-admin-port")
    product = product_arn("eu-west-1", "111111111111")
    item = asff.to_asff(ssh, product=product, now="2026-11-27T10:00:00.000Z")
    assert item["Severity"] == {"Label": "HIGH", "Original": "high"}
    assert item["FindingProviderFields"]["Severity"]["Label"] == "HIGH"


def test_graded_rules_go_exactly_one_level_down() -> None:
    graded = {rule.id for rule in RULES if rule.narrow_source_severity is not None}
    assert graded == {
        "internet-exposed-admin-port",
        "internet-exposed-database-port",
        "internet-exposed-port",
    }
    for rule in RULES:
        if rule.narrow_source_severity is not None:
            gap = SEVERITY_RANK[rule.severity] - SEVERITY_RANK[rule.narrow_source_severity]
            assert gap == 1, rule.id


def spans(*cidrs: str) -> Any:
    out = []
    for cidr in cidrs:
        net = ipaddress.ip_network(cidr)
        out.append((net.version, int(net.network_address), int(net.broadcast_address)))
    return spans_union(out)


PUBLIC_V4 = tuple(span for span in PUBLIC if span[0] == 4)


def test_source_cidrs_are_few_and_wide_but_hold_no_other_public_address() -> None:
    def text(admitted: Any, own: Any = ()) -> list[str]:
        return [str(p) for p in source_cidrs(admitted, own)]

    halves = spans("198.51.100.0/25", "198.51.100.128/25")
    assert text(halves) == ["198.51.100.0/24"]
    assert text(halves, own=spans("198.51.101.0/24")) == ["198.51.100.0/23"]  # may span own
    assert text(()) == []
    assert text(PUBLIC_V4) == ["0.0.0.0/0"]  # it spans the private ranges: no source there
    assert text(spans("2000::/3")) == ["::/0"]
    # every public address but a hole: the prefixes around it; the /3 sibling of the
    # last level (224.0.0.0/3) is not public, so 25 rather than the 26 a /26 takes
    hole = spans("192.0.2.128/26")
    around = [ipaddress.ip_network(c) for c in text(spans_difference(PUBLIC_V4, hole))]
    assert len(around) == 25
    assert not any(n.overlaps(ipaddress.ip_network("192.0.2.128/26")) for n in around)
    covered = spans(*(str(n) for n in around))
    assert spans_difference(spans_difference(PUBLIC_V4, hole), covered) == ()


def test_a_blackhole_under_the_igw_route_is_carved_out_of_the_sources(tmp_path: Path) -> None:
    # 0.0.0.0/0 to the internet gateway, 198.51.100.0/24 dropped: clients there never get
    # an answer, so the sources are every public address but that /24 (as the 23 prefixes
    # that say it), and still the internet at large. The near miss: the same /24 routed
    # to the gateway too is 0.0.0.0/0.
    blackholed = spans("198.51.100.0/24")
    for state, total in (("blackhole", 23), ("active", 1)):
        r = RawRegion()
        vpc, subnet = public_vpc(r)
        rtb = r.files["RouteTables"][-1]["RouteTableId"]
        igw = r.files["InternetGateways"][0]["InternetGatewayId"]
        r.route(rtb, "198.51.100.0/24", "nat-0deleted" if state == "blackhole" else igw, state)
        host = r.instance(
            subnet,
            (r.sg(vpc, [perm("tcp", 22, cidrs=("0.0.0.0/0",))]),),
            "10.0.1.10",
            public_ip=PUBLIC_IP,
        )
        r.write(tmp_path / state)
        ssh = only(analyse(tmp_path / state), "internet-exposed-admin-port")
        assert (ssh["resource"], ssh["severity"]) == (host, "critical")
        assert ssh["source_cidrs_total"] == total
        listed = spans(*ssh["source_cidrs"])
        assert spans_difference(listed, spans_difference(listed, blackholed)) == (
            () if state == "blackhole" else blackholed
        )


def test_a_vpc_own_block_is_spanned_a_block_routed_elsewhere_is_not(tmp_path: Path) -> None:
    # Both are routed away from the internet gateway; AWS gives the VPC's own /56 to it
    # alone (no internet source has it), while 2a05:d018::/32 is someone's on the
    # internet, and its clients get no answer.
    r = RawRegion()
    vpc, subnet = public_vpc(r, ipv6=True)
    r.route(r.files["RouteTables"][-1]["RouteTableId"], "2a05:d018::/32", "pcx-0gone", "blackhole")
    sg = r.sg(vpc, [perm("tcp", 22, ipv6=("::/0",))])
    r.instance(subnet, (sg,), "10.0.1.10", ipv6=("2600:1f18:1:101::10",))
    r.write(tmp_path)
    ssh = only(analyse(tmp_path), "internet-exposed-admin-port")
    listed = [ipaddress.ip_network(c) for c in ssh["source_cidrs"]]
    assert ssh["source_cidrs_total"] > 1 and ssh["severity"] == "critical"
    assert not any(n.overlaps(ipaddress.ip_network("2a05:d018::/32")) for n in listed)
    own = ipaddress.ip_network("2600:1f18:1:100::/56")
    assert any(own.subnet_of(n) for n in listed if n.version == 6)
