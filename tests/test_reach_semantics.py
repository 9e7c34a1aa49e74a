"""Each AWS reachability rule in isolation, from raw describe_*-shaped data.

Every scenario is built twice where it matters: once with the condition that must stop
the path, once without it, so that a test fails if the analysis ignored the condition
altogether.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graph.findings import analyse
from sandbox.raw import ALL, RawRegion, acl_entry, perm

PROD = {"Environment": "prod"}
DEV = {"Environment": "dev"}
STAGING = {"Environment": "staging"}
WORLD = ("0.0.0.0/0",)


def run(tmp_path: Path, *regions: RawRegion) -> dict[str, Any]:
    for region in regions:
        region.write(tmp_path)
    return analyse(tmp_path)


def hits(doc: dict[str, Any], rule: str) -> set[tuple[str, str | None, str | None, str]]:
    return {
        (f["resource"], f["protocol"], f["ports"], f["source"])
        for f in doc["findings"]
        if f["rule"] == rule
    }


def public_vpc(
    r: RawRegion, cidr: str = "10.0.0.0/16", tag: dict[str, str] = PROD
) -> tuple[str, str, str]:
    """A VPC with one subnet routed 0.0.0.0/0 to an internet gateway: (vpc, subnet, rtb)."""
    vpc = r.vpc(cidr, tag=tag)
    subnet = r.subnet(vpc, cidr.replace("0.0/16", "1.0/24"))
    igw = r.igw(vpc)
    rtb = r.route_table(vpc, (subnet,))
    r.route(rtb, "0.0.0.0/0", igw)
    return vpc, subnet, rtb


# ---- network ACLs ----------------------------------------------------------------------


def test_nacl_deny_before_allow_blocks_what_the_group_opens(tmp_path: Path) -> None:
    r = RawRegion()
    vpc, subnet, _ = public_vpc(r)
    r.nacl(
        vpc,
        (subnet,),
        inbound=[
            acl_entry(90, "6", (22, 22), "0.0.0.0/0", "deny"),
            acl_entry(100, ALL, None, "0.0.0.0/0"),
        ],
        outbound=[acl_entry(100, ALL, None, "0.0.0.0/0")],
    )
    sg = r.sg(vpc, [perm("tcp", 22, cidrs=WORLD), perm("tcp", 443, cidrs=WORLD)])
    web = r.instance(subnet, (sg,), "10.0.1.10", public_ip="54.0.0.10")
    doc = run(tmp_path, r)
    assert hits(doc, "internet-exposed-admin-port") == set()
    assert hits(doc, "internet-exposed-port") == {(web, "tcp", "443", "internet")}


def test_nacl_rule_order_allow_before_deny_lets_it_through(tmp_path: Path) -> None:
    r = RawRegion()
    vpc, subnet, _ = public_vpc(r)
    acl = r.nacl(
        vpc,
        (subnet,),
        inbound=[
            acl_entry(80, "6", (22, 22), "0.0.0.0/0"),
            acl_entry(90, "6", (0, 65535), "0.0.0.0/0", "deny"),
        ],
        outbound=[acl_entry(100, ALL, None, "0.0.0.0/0")],
    )
    sg = r.sg(vpc, [perm("tcp", 22, cidrs=WORLD), perm("tcp", 443, cidrs=WORLD)])
    web = r.instance(subnet, (sg,), "10.0.1.10", public_ip="54.0.0.10")
    doc = run(tmp_path, r)
    assert hits(doc, "internet-exposed-admin-port") == {(web, "tcp", "22", "internet")}
    assert hits(doc, "internet-exposed-port") == set()
    [finding] = [f for f in doc["findings"] if f["rule"] == "internet-exposed-admin-port"]
    acl_hop = next(h for h in finding["path"] if h["hop"] == acl)
    assert "inbound rule 80 allows tcp 22" in acl_hop["why"]


def test_nacl_without_ephemeral_return_is_not_exposed(tmp_path: Path) -> None:
    def scenario(root: Path, outbound: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
        r = RawRegion()
        vpc, subnet, _ = public_vpc(r)
        r.nacl(vpc, (subnet,), [acl_entry(100, "6", (22, 22), "0.0.0.0/0")], outbound)
        sg = r.sg(vpc, [perm("tcp", 22, cidrs=WORLD)])
        web = r.instance(subnet, (sg,), "10.0.1.10", public_ip="54.0.0.10")
        return web, run(root, r)

    # outbound only lets port 22 out: the reply to the client's ephemeral port is dropped
    _, doc = scenario(tmp_path / "a", [acl_entry(100, "6", (22, 22), "0.0.0.0/0")])
    assert hits(doc, "internet-exposed-admin-port") == set()
    web, doc = scenario(tmp_path / "b", [acl_entry(100, "6", (1024, 65535), "0.0.0.0/0")])
    assert hits(doc, "internet-exposed-admin-port") == {(web, "tcp", "22", "internet")}


# ---- internet gateway and public address -----------------------------------------------


def test_public_ip_without_igw_route_is_not_exposed(tmp_path: Path) -> None:
    r = RawRegion()
    vpc = r.vpc("10.0.0.0/16", tag=PROD)
    subnet = r.subnet(vpc, "10.0.1.0/24")
    r.igw(vpc)  # attached, but no route to it
    sg = r.sg(vpc, [perm("tcp", 22, cidrs=WORLD)])
    r.instance(subnet, (sg,), "10.0.1.10", public_ip="54.0.0.10")
    doc = run(tmp_path, r)
    assert hits(doc, "internet-exposed-admin-port") == set()


def test_igw_route_without_public_ip_is_not_exposed(tmp_path: Path) -> None:
    r = RawRegion()
    vpc, subnet, _ = public_vpc(r)
    sg = r.sg(vpc, [perm("tcp", 22, cidrs=WORLD)])
    r.instance(subnet, (sg,), "10.0.1.10")
    exposed = r.instance(subnet, (sg,), "10.0.1.11", public_ip="54.0.0.11")
    doc = run(tmp_path, r)
    assert hits(doc, "internet-exposed-admin-port") == {(exposed, "tcp", "22", "internet")}


def test_elastic_ip_counts_as_public(tmp_path: Path) -> None:
    r = RawRegion()
    vpc, subnet, _ = public_vpc(r)
    sg = r.sg(vpc, [perm("tcp", 3389, cidrs=WORLD)])
    host = r.instance(subnet, (sg,), "10.0.1.10")
    r.files["Addresses"].append(
        {
            "PublicIp": "3.3.3.3",
            "AllocationId": "eipalloc-1",
            "NetworkInterfaceId": r.eni_of(host),
            "PrivateIpAddress": "10.0.1.10",
            "InstanceId": host,
        }
    )
    doc = run(tmp_path, r)
    assert hits(doc, "internet-exposed-admin-port") == {(host, "tcp", "3389", "internet")}


def test_more_specific_blackhole_route_wins_for_the_internet(tmp_path: Path) -> None:
    r = RawRegion()
    vpc, subnet, rtb = public_vpc(r)
    # the two halves of the address space go to a deleted NAT gateway: blackhole
    r.route(rtb, "0.0.0.0/1", "nat-0deleted", state="blackhole")
    r.route(rtb, "128.0.0.0/1", "nat-0deleted", state="blackhole")
    sg = r.sg(vpc, [perm("tcp", 22, cidrs=WORLD)])
    r.instance(subnet, (sg,), "10.0.1.10", public_ip="54.0.0.10")
    doc = run(tmp_path, r)
    assert hits(doc, "internet-exposed-admin-port") == set()


def test_igw_route_for_part_of_the_internet_exposes_to_that_part(tmp_path: Path) -> None:
    r = RawRegion()
    vpc, subnet, rtb = public_vpc(r)
    r.route(rtb, "0.0.0.0/1", "nat-0deleted", state="blackhole")
    sg = r.sg(vpc, [perm("tcp", 22, cidrs=WORLD)])
    host = r.instance(subnet, (sg,), "10.0.1.10", public_ip="54.0.0.10")
    doc = run(tmp_path, r)
    [finding] = [f for f in doc["findings"] if f["rule"] == "internet-exposed-admin-port"]
    assert finding["resource"] == host
    assert finding["path"][0] == {"hop": "internet", "why": "from 0.0.0.0/0"}


def test_nat_gateway_gives_no_inbound_path(tmp_path: Path) -> None:
    r = RawRegion()
    vpc, public, _ = public_vpc(r)
    private = r.subnet(vpc, "10.0.2.0/24")
    nat = r.nat(public)
    rtb = r.route_table(vpc, (private,))
    r.route(rtb, "0.0.0.0/0", nat)
    sg = r.sg(vpc, [perm("tcp", 22, cidrs=WORLD)])
    host = r.instance(private, (sg,), "10.0.2.10", tag=PROD)
    doc = run(tmp_path, r)
    assert hits(doc, "internet-exposed-admin-port") == set()
    # ...but it does carry the instance's outbound traffic: unrestricted egress from prod
    egress = [f for f in doc["findings"] if f["rule"] == "unrestricted-egress"]
    assert {f["resource"] for f in egress} == {sg}
    assert any(h["hop"] == nat for h in egress[0]["path"])
    assert egress[0]["path"][0]["hop"] == r.eni_of(host)


def test_ipv6_needs_a_global_address_and_an_igw_route(tmp_path: Path) -> None:
    def scenario(root: Path, gateway: str) -> tuple[str, dict[str, Any]]:
        r = RawRegion()
        vpc = r.vpc("10.0.0.0/16", tag=PROD, ipv6="2600:1f18:aa00::/56")
        subnet = r.subnet(vpc, "10.0.1.0/24", ipv6="2600:1f18:aa00:1::/64")
        gw = r.igw(vpc) if gateway == "igw" else r.egress_only_igw(vpc)
        rtb = r.route_table(vpc, (subnet,))
        r.route(rtb, "::/0", gw)
        sg = r.sg(vpc, [perm("tcp", 22, ipv6=("::/0",))])
        host = r.instance(subnet, (sg,), "10.0.1.10", ipv6=("2600:1f18:aa00:1::10",))
        return host, run(root, r)

    host, doc = scenario(tmp_path / "igw", "igw")
    assert hits(doc, "internet-exposed-admin-port") == {(host, "tcp", "22", "internet")}
    _, doc = scenario(tmp_path / "eigw", "eigw")
    assert hits(doc, "internet-exposed-admin-port") == set()


# ---- between VPCs ----------------------------------------------------------------------


def test_more_specific_blackhole_route_wins_over_peering(tmp_path: Path) -> None:
    r = RawRegion()
    dev = r.vpc("10.0.0.0/16", tag=DEV)
    prod = r.vpc("10.1.0.0/16", tag=PROD)
    dev_subnet = r.subnet(dev, "10.0.1.0/24")
    lost = r.subnet(prod, "10.1.5.0/24")
    kept = r.subnet(prod, "10.1.6.0/24")
    pcx = r.peering(dev, prod)
    r.route(r.main_route_table(dev), "10.1.0.0/16", pcx)
    r.route(r.main_route_table(dev), "10.1.5.0/24", "pcx-0deleted", state="blackhole")
    r.route(r.main_route_table(prod), "10.0.0.0/16", pcx)
    client = r.sg(dev, [])
    db = r.sg(prod, [perm("tcp", 5432, cidrs=("10.0.0.0/16",))])
    r.instance(dev_subnet, (client,), "10.0.1.10")
    r.instance(lost, (db,), "10.1.5.10")
    reached = r.instance(kept, (db,), "10.1.6.10")
    doc = run(tmp_path, r)
    assert hits(doc, "cross-zone-path") == {(reached, "tcp", "5432", "zone:dev")}
    [finding] = [f for f in doc["findings"] if f["rule"] == "cross-zone-path"]
    assert {"hop": pcx, "why": f"route 10.1.0.0/16 in {r.main_route_table(dev)}"} in finding["path"]


def test_peering_is_not_transitive(tmp_path: Path) -> None:
    r = RawRegion()
    a = r.vpc("10.0.0.0/16", tag=DEV)
    b = r.vpc("10.1.0.0/16", tag=STAGING)
    c = r.vpc("10.2.0.0/16", tag=PROD)
    subnets = {
        v: r.subnet(v, cidr)
        for v, cidr in ((a, "10.0.1.0/24"), (b, "10.1.1.0/24"), (c, "10.2.1.0/24"))
    }
    ab, bc = r.peering(a, b), r.peering(b, c)
    # A tries to reach C through B: routes exist everywhere, peering still does not transit
    r.route(r.main_route_table(a), "10.1.0.0/16", ab)
    r.route(r.main_route_table(a), "10.2.0.0/16", ab)
    r.route(r.main_route_table(b), "10.0.0.0/16", ab)
    r.route(r.main_route_table(b), "10.2.0.0/16", bc)
    r.route(r.main_route_table(c), "10.1.0.0/16", bc)
    r.route(r.main_route_table(c), "10.0.0.0/16", bc)
    open_ = r.sg(c, [perm("tcp", 5432, cidrs=("10.0.0.0/8",))])
    r.instance(subnets[a], (r.sg(a, []),), "10.0.1.10")
    r.instance(subnets[b], (r.sg(b, []),), "10.1.1.10")
    target = r.instance(subnets[c], (open_,), "10.2.1.10")
    doc = run(tmp_path, r)
    assert hits(doc, "cross-zone-path") == {(target, "tcp", "5432", "zone:staging")}
    flows = {(row["from"], row["to"]) for row in doc["zone_matrix"]}
    assert ("staging", "prod") in flows and ("dev", "prod") not in flows


def transit(
    tmp_path: Path, *, propagate: bool, blackhole: str | None = None
) -> tuple[str, dict[str, Any]]:
    r = RawRegion()
    dev = r.vpc("10.0.0.0/16", tag=DEV)
    prod = r.vpc("10.1.0.0/16", tag=PROD)
    dev_subnet = r.subnet(dev, "10.0.1.0/24")
    prod_subnet = r.subnet(prod, "10.1.1.0/24")
    tgw = r.tgw()
    dev_table, prod_table = r.tgw_route_table(tgw), r.tgw_route_table(tgw)
    dev_att = r.tgw_attach(tgw, dev, (dev_subnet,), dev_table)
    prod_att = r.tgw_attach(tgw, prod, (prod_subnet,), prod_table)
    r.tgw_propagate(prod_table, dev_att, dev)
    if propagate:
        r.tgw_propagate(dev_table, prod_att, prod)
    if blackhole:
        r.tgw_static(dev_table, blackhole, None)
    r.route(r.main_route_table(dev), "10.0.0.0/8", tgw)
    r.route(r.main_route_table(prod), "10.0.0.0/8", tgw)
    r.instance(dev_subnet, (r.sg(dev, []),), "10.0.1.10")
    target = r.instance(
        prod_subnet, (r.sg(prod, [perm("tcp", 443, cidrs=("10.0.0.0/8",))]),), "10.1.1.10"
    )
    return target, run(tmp_path, r)


def test_transit_gateway_routes_by_the_associated_table(tmp_path: Path) -> None:
    target, doc = transit(tmp_path / "with", propagate=True)
    assert hits(doc, "cross-zone-path") == {(target, "tcp", "443", "zone:dev")}
    [finding] = [f for f in doc["findings"] if f["rule"] == "cross-zone-path"]
    assert any("propagated route 10.1.0.0/16" in h["why"] for h in finding["path"])
    # the dev attachment's table has no route to prod: no path, whatever prod's table says
    _, doc = transit(tmp_path / "without", propagate=False)
    assert hits(doc, "cross-zone-path") == set()


def test_transit_gateway_static_blackhole_beats_propagation(tmp_path: Path) -> None:
    _, doc = transit(tmp_path / "bh", propagate=True, blackhole="10.1.1.0/24")
    assert hits(doc, "cross-zone-path") == set()
    target, doc = transit(tmp_path / "other", propagate=True, blackhole="10.1.9.0/24")
    assert hits(doc, "cross-zone-path") == {(target, "tcp", "443", "zone:dev")}


# ---- security groups -------------------------------------------------------------------


def test_group_reference_admits_only_members_of_that_group(tmp_path: Path) -> None:
    r = RawRegion()
    vpc = r.vpc("10.0.0.0/16")
    app_subnet = r.subnet(vpc, "10.0.1.0/24", tag=STAGING)
    other_subnet = r.subnet(vpc, "10.0.2.0/24", tag=DEV)
    db_subnet = r.subnet(vpc, "10.0.3.0/24", tag=PROD)
    app = r.sg(vpc, [])
    other = r.sg(vpc, [])
    db = r.sg(vpc, [perm("tcp", 5432, groups=(app,))])
    r.instance(app_subnet, (app,), "10.0.1.10")
    r.instance(other_subnet, (other,), "10.0.2.10")
    database = r.instance(db_subnet, (db,), "10.0.3.10")
    doc = run(tmp_path, r)
    assert hits(doc, "cross-zone-path") == {(database, "tcp", "5432", "zone:staging")}
    matrix = {(row["from"], row["to"]): row for row in doc["zone_matrix"]}
    assert matrix[("staging", "prod")]["traffic"] == [{"protocol": "tcp", "ports": "5432"}]
    assert ("dev", "prod") not in matrix
    [finding] = [f for f in doc["findings"] if f["rule"] == "cross-zone-path"]
    assert {"hop": db, "why": f"ingress tcp 5432 from {app}"} in finding["path"]


def test_prefix_list_rules_match_their_entries(tmp_path: Path) -> None:
    r = RawRegion()
    vpc, subnet, _ = public_vpc(r)
    office = r.prefix_list("office", ("198.51.100.0/24",))
    nowhere = r.prefix_list("nothing-public", ("10.9.0.0/16",))
    sg = r.sg(
        vpc, [perm("tcp", 22, prefix_lists=(office,)), perm("tcp", 3389, prefix_lists=(nowhere,))]
    )
    host = r.instance(subnet, (sg,), "10.0.1.10", public_ip="54.0.0.10")
    doc = run(tmp_path, r)
    assert hits(doc, "internet-exposed-admin-port") == {(host, "tcp", "22", "internet")}


# ---- load balancers and managed services -----------------------------------------------


def test_internal_instance_behind_internet_facing_alb_is_exposed_on_target_port_only(
    tmp_path: Path,
) -> None:
    r = RawRegion()
    vpc, public, _ = public_vpc(r)
    private = r.subnet(vpc, "10.0.2.0/24")
    lb_sg = r.sg(vpc, [perm("tcp", 443, cidrs=WORLD)])
    app_sg = r.sg(vpc, [perm("tcp", 8080, groups=(lb_sg,)), perm("tcp", 22, groups=(lb_sg,))])
    app = r.instance(private, (app_sg,), "10.0.2.10")
    lb = r.load_balancer("web", vpc, (public,), (lb_sg,))
    tg = r.target_group("app", vpc, 8080, lb)
    r.listener(lb, 443, tg, "HTTPS")
    r.register(tg, app, 8080)
    doc = run(tmp_path, r)
    assert hits(doc, "internet-exposed-port") == {
        (app, "tcp", "8080", "internet"),
        (lb, "tcp", "443", "internet"),
    }
    assert hits(doc, "internet-exposed-admin-port") == set()
    finding = next(f for f in doc["findings"] if f["resource"] == app)
    hops = [h["hop"] for h in finding["path"]]
    assert hops.index(lb) < hops.index(app_sg)
    assert {"hop": app_sg, "why": f"ingress tcp 8080 from {lb_sg}"} in finding["path"]


def test_target_whose_group_does_not_admit_the_load_balancer_is_not_exposed(tmp_path: Path) -> None:
    r = RawRegion()
    vpc, public, _ = public_vpc(r)
    private = r.subnet(vpc, "10.0.2.0/24")
    lb_sg = r.sg(vpc, [perm("tcp", 443, cidrs=WORLD)])
    app_sg = r.sg(vpc, [perm("tcp", 8080, cidrs=("10.0.2.0/24",))])
    app = r.instance(private, (app_sg,), "10.0.2.10")
    lb = r.load_balancer("web", vpc, (public,), (lb_sg,))
    tg = r.target_group("app", vpc, 8080, lb)
    r.listener(lb, 443, tg, "HTTPS")
    r.register(tg, app, 8080)
    doc = run(tmp_path, r)
    assert hits(doc, "internet-exposed-port") == {(lb, "tcp", "443", "internet")}


def test_managed_database_eni_is_assessed_like_an_instance(tmp_path: Path) -> None:
    r = RawRegion()
    vpc, subnet, _ = public_vpc(r)
    sg = r.sg(vpc, [perm("tcp", 5432, cidrs=WORLD)])
    eni = r.eni(
        subnet,
        (sg,),
        "10.0.1.20",
        public_ip="54.0.0.20",
        description="RDSNetworkInterface",
        requester="amazon-rds",
    )
    doc = run(tmp_path, r)
    assert hits(doc, "internet-exposed-database-port") == {(eni, "tcp", "5432", "internet")}
    assert {
        f["resource"] for f in doc["findings"] if f["rule"] == "sensitive-in-public-subnet"
    } == {eni}
