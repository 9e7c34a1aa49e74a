"""Load balancers as Elastic Load Balancing routes, from raw elbv2-shaped responses.

Each case sits beside its near miss (the same world with the one fact that decides it
changed), and follows the ELB guides (``graph.balancing`` cites each page):

- an NLB without security groups admits all client traffic to its listeners (NLB Guide,
  "Update the security groups for your Network Load Balancer"), with groups what they
  admit; a target's rule naming the NLB's group admits the NLB's traffic;
- whether the target sees the client's address (NLB Guide, "Edit target group
  attributes", Client IP preservation: instance targets yes, IP targets of TCP and TLS
  groups only with ``preserve_client_ip.enabled``, UDP and TCP_UDP always; an ALB never:
  ALB Guide, "HTTP headers and Application Load Balancers") decides whom its groups must
  admit;
- targets that are draining, unused or unavailable receive nothing; unhealthy ones only
  when every target of the group is (fail open: "Health checks for ... target groups").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from graph.balancing import NO_TRAFFIC
from graph.findings import analyse
from graph.reach import NO_GROUPS_WHY
from sandbox.raw import RawRegion, perm

WORLD = ("0.0.0.0/0",)
CLIENTS = ("198.51.100.0/24",)  # a client range, public
LB_SUBNET = ("10.0.1.0/24",)  # where the load balancer's own addresses are


@dataclass
class Edge:
    """A load balancer in a public subnet forwarding 443 to targets in a private subnet
    on 8443, and what the test needs to look at."""

    r: RawRegion
    vpc: str
    public: str
    private: str
    lb: str = ""
    lb_group: str | None = None
    group: str = ""
    targets: list[str] = field(default_factory=list)

    def analyse(self, root: Path) -> dict[str, Any]:
        self.r.write(root)
        return analyse(root)


def edge(
    *,
    kind: str = "network",
    lb_ingress: list[dict[str, Any]] | None = None,
    target_ingress: list[dict[str, Any]] | None = None,
    target_type: str = "instance",
    protocol: str = "TCP",
    attributes: dict[str, str] | None = None,
    states: tuple[str, ...] = ("healthy",),
    lb_eni: bool = False,
) -> Edge:
    """``lb_ingress``: the load balancer's one group's rules (None: no group); each target
    admits ``target_ingress`` on 8443 (may name the load balancer's group as ``"LB"``)."""
    r = RawRegion()
    vpc = r.vpc("10.0.0.0/16")
    public = r.subnet(vpc, "10.0.1.0/24")
    private = r.subnet(vpc, "10.0.2.0/24")
    rtb = r.route_table(vpc, (public,))
    r.route(rtb, "0.0.0.0/0", r.igw(vpc))
    world = Edge(r, vpc, public, private)
    if lb_ingress is not None:
        world.lb_group = r.sg(vpc, lb_ingress)
    groups = (world.lb_group,) if world.lb_group else ()
    world.lb = r.load_balancer("edge", vpc, (public,), groups, kind=kind)
    if lb_eni:
        r.load_balancer_eni(world.lb, public, "10.0.1.50", public_ip="54.0.0.50")
    rules = []
    for rule in target_ingress or []:
        names = rule.get("UserIdGroupPairs", [])
        for pair in names:
            if pair["GroupId"] == "LB":
                pair["GroupId"] = world.lb_group
        rules.append(rule)
    target_sg = r.sg(vpc, rules)
    world.group = r.target_group(
        "app", vpc, 8443, world.lb, protocol=protocol, target_type=target_type
    )
    r.listener(world.lb, 443, world.group, protocol)
    for n, state in enumerate(states):
        ip = f"10.0.2.{10 + n}"
        host = r.instance(private, (target_sg,), ip)
        world.targets.append(host)
        r.register(world.group, ip if target_type == "ip" else host, 8443, state)
    if attributes is not None:
        r.target_group_attributes(world.group, attributes)
    return world


def tcp(port: int, cidrs: tuple[str, ...] = (), groups: tuple[str, ...] = ()) -> Any:
    return perm("tcp", port, cidrs=cidrs, groups=groups)


def exposed(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Internet findings by resource (targets are instances; the LB is its ARN)."""
    return {f["resource"]: f for f in doc["findings"] if f["rule"].startswith("internet-exposed")}


def group_hop(finding: dict[str, Any], group: str) -> str:
    return str(next(h["why"] for h in finding["path"] if h["hop"] == group))


# ---- network load balancers: with and without security groups -------------------------


def test_nlb_without_groups_admits_every_client_to_its_listener(tmp_path: Path) -> None:
    world = edge(lb_ingress=None, target_ingress=[tcp(8443, WORLD)])
    doc = world.analyse(tmp_path)
    [app] = world.targets
    found = exposed(doc)
    assert set(found) == {world.lb, app}
    assert found[app]["ports"] == "8443" and found[app]["source_cidrs"] == ["0.0.0.0/0"]
    assert any(h["hop"] == world.lb and NO_GROUPS_WHY in h["why"] for h in found[app]["path"])


def test_nlb_without_groups_whose_own_enis_are_collected_admits_every_client(
    tmp_path: Path,
) -> None:
    # Its interfaces have no groups, like the load balancer: they filter nothing. The
    # near miss: the same interface of a load balancer that has a group admitting one
    # client range gives that range only.
    world = edge(lb_ingress=None, target_ingress=[tcp(8443, WORLD)], lb_eni=True)
    found = exposed(world.analyse(tmp_path / "none"))
    [app] = world.targets
    assert found[app]["source_cidrs"] == ["0.0.0.0/0"]
    assert found[app]["severity"] == "medium"
    assert {"hop": world.lb, "why": NO_GROUPS_WHY} in found[app]["path"]

    world = edge(lb_ingress=[tcp(443, CLIENTS)], target_ingress=[tcp(8443, WORLD)], lb_eni=True)
    found = exposed(world.analyse(tmp_path / "grouped"))
    [app] = world.targets
    assert found[app]["source_cidrs"] == list(CLIENTS)
    assert found[app]["severity"] == "low"


def test_nlb_with_groups_admits_only_what_they_allow(tmp_path: Path) -> None:
    world = edge(lb_ingress=[tcp(443, CLIENTS)], target_ingress=[tcp(8443, WORLD)])
    found = exposed(world.analyse(tmp_path / "narrow"))
    [app] = world.targets
    assert found[app]["source_cidrs"] == list(CLIENTS)
    world = edge(lb_ingress=[tcp(80, WORLD)], target_ingress=[tcp(8443, WORLD)])
    assert exposed(world.analyse(tmp_path / "other-port")) == {}


# ---- which source address the target sees ---------------------------------------------


def test_instance_target_of_an_nlb_sees_the_client(tmp_path: Path) -> None:
    # Client IP kept: a target admitting only the load balancer's subnet admits no
    # client; one naming the load balancer's group admits its clients (NLB Guide).
    world = edge(lb_ingress=[tcp(443, WORLD)], target_ingress=[tcp(8443, LB_SUBNET)])
    assert world.targets[0] not in exposed(world.analyse(tmp_path / "subnet"))
    world = edge(lb_ingress=[tcp(443, WORLD)], target_ingress=[tcp(8443, groups=("LB",))])
    found = exposed(world.analyse(tmp_path / "group"))
    [app] = world.targets
    assert found[app]["source_cidrs"] == ["0.0.0.0/0"]
    assert group_hop(found[app], world.group) == (
        f"{app} healthy; instance targets see the client address: "
        "preserve_client_ip.enabled is not set, so on"
    )


def test_ip_target_of_a_tcp_group_sees_the_load_balancer_by_default(tmp_path: Path) -> None:
    world = edge(
        lb_ingress=[tcp(443, WORLD)], target_ingress=[tcp(8443, LB_SUBNET)], target_type="ip"
    )
    found = exposed(world.analyse(tmp_path / "subnet"))
    [app] = world.targets
    assert found[app]["ports"] == "8443"
    assert "IP targets of a TCP target group see the load balancer" in group_hop(
        found[app], world.group
    )
    world = edge(
        lb_ingress=[tcp(443, WORLD)], target_ingress=[tcp(8443, CLIENTS)], target_type="ip"
    )
    assert world.targets[0] not in exposed(world.analyse(tmp_path / "clients"))


def test_preserve_client_ip_attribute_decides_for_tcp_and_tls(tmp_path: Path) -> None:
    on = {"preserve_client_ip.enabled": "true"}
    off = {"preserve_client_ip.enabled": "false"}
    cases = [
        # (target type, protocol, attributes, target admits, exposed from)
        ("ip", "TCP", on, CLIENTS, list(CLIENTS)),
        ("ip", "TCP", on, LB_SUBNET, None),
        ("ip", "TLS", on, CLIENTS, list(CLIENTS)),
        ("instance", "TCP", off, CLIENTS, None),
        ("instance", "TCP", off, LB_SUBNET, ["0.0.0.0/0"]),
    ]
    for n, (target_type, protocol, attributes, admits, sources) in enumerate(cases):
        world = edge(
            lb_ingress=[tcp(443, WORLD)],
            target_ingress=[tcp(8443, admits)],
            target_type=target_type,
            protocol=protocol,
            attributes=attributes,
        )
        found = exposed(world.analyse(tmp_path / str(n)))
        [app] = world.targets
        got = found[app]["source_cidrs"] if app in found else None
        assert got == sources, cases[n]
        if app in found:
            value = attributes["preserve_client_ip.enabled"]
            assert f"preserve_client_ip.enabled is {value}" in group_hop(found[app], world.group)


def test_udp_target_groups_always_keep_the_client_address(tmp_path: Path) -> None:
    # "can't be disabled": the attribute says false, the target still sees the client
    off = {"preserve_client_ip.enabled": "false"}
    for protocol, expected in (("UDP", "udp"), ("TCP", None)):
        world = edge(
            lb_ingress=[perm("udp", 443, cidrs=WORLD), tcp(443, WORLD)],
            target_ingress=[perm("udp", 8443, cidrs=CLIENTS), tcp(8443, CLIENTS)],
            target_type="ip",
            protocol=protocol,
            attributes=off,
        )
        found = exposed(world.analyse(tmp_path / protocol))
        [app] = world.targets
        assert (found[app]["protocol"] if app in found else None) == expected
        if expected:
            assert found[app]["source_cidrs"] == list(CLIENTS)
            assert "a UDP target group always keeps the client address" in group_hop(
                found[app], world.group
            )


def test_alb_targets_never_see_the_client(tmp_path: Path) -> None:
    world = edge(
        kind="application",
        protocol="HTTPS",
        lb_ingress=[tcp(443, WORLD)],
        target_ingress=[tcp(8443, CLIENTS)],
    )
    assert world.targets[0] not in exposed(world.analyse(tmp_path / "clients"))
    world = edge(
        kind="application",
        protocol="HTTPS",
        lb_ingress=[tcp(443, WORLD)],
        target_ingress=[tcp(8443, groups=("LB",))],
    )
    found = exposed(world.analyse(tmp_path / "group"))
    [app] = world.targets
    assert "an application load balancer opens its own connection" in group_hop(
        found[app], world.group
    )


# ---- target health ---------------------------------------------------------------------


def alb_with(*states: str) -> Edge:
    return edge(
        kind="application",
        protocol="HTTPS",
        lb_ingress=[tcp(443, WORLD)],
        target_ingress=[tcp(8443, groups=("LB",))],
        states=states,
    )


@pytest.mark.parametrize("state", ["draining", "unhealthy.draining", "unused", "unavailable"])
def test_targets_out_of_service_receive_nothing(tmp_path: Path, state: str) -> None:
    world = alb_with("healthy", state)
    found = exposed(world.analyse(tmp_path))
    serving, idle = world.targets
    assert serving in found and idle not in found
    assert state in NO_TRAFFIC


def test_unhealthy_targets_receive_nothing_while_another_is_healthy(tmp_path: Path) -> None:
    world = alb_with("healthy", "unhealthy")
    found = exposed(world.analyse(tmp_path))
    healthy, unhealthy = world.targets
    assert healthy in found and unhealthy not in found


def test_a_group_whose_targets_are_all_unhealthy_fails_open(tmp_path: Path) -> None:
    world = alb_with("unhealthy", "unhealthy", "draining")
    found = exposed(world.analyse(tmp_path))
    first, second, draining = world.targets
    assert first in found and second in found and draining not in found
    assert group_hop(found[first], world.group).startswith(
        f"{first} unhealthy, as is every target of its group: the load balancer fails open"
    )


def test_an_initial_target_is_served_and_keeps_the_others_from_failing_open(
    tmp_path: Path,
) -> None:
    world = alb_with("initial", "unhealthy")
    found = exposed(world.analyse(tmp_path))
    initial, unhealthy = world.targets
    assert initial in found and unhealthy not in found
    assert "initial: registered" in group_hop(found[initial], world.group)


def test_a_target_without_health_is_listed_not_guessed(tmp_path: Path) -> None:
    world = alb_with("healthy", "healthy")
    [entry] = world.r.files["LoadBalancerTargetHealth"]
    del entry["TargetHealthDescriptions"][1]["TargetHealth"]
    doc = world.analyse(tmp_path)
    healthy, unknown = world.targets
    assert healthy in exposed(doc) and unknown not in exposed(doc)
    [item] = [i for i in doc["not_placed"]["items"] if i["kind"] == "target"]
    assert item["resource"] == unknown and "health" in item["reason"]


def test_targets_the_analysis_cannot_follow_are_listed(tmp_path: Path) -> None:
    world = alb_with("healthy")
    r = world.r
    lam = r.target_group("fn", world.vpc, 443, world.lb, target_type="lambda")
    r.register(lam, "arn:aws:lambda:eu-west-1:111111111111:function:f", 443)
    r.register(world.group, "i-0gone", 8443)
    r.register("arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/x/1", "i-1", 80)
    doc = world.analyse(tmp_path)
    reasons = {i["resource"]: i["reason"] for i in doc["not_placed"]["items"]}
    assert reasons == {
        "arn:aws:lambda:eu-west-1:111111111111:function:f": "a lambda target of fn: not followed",
        "i-0gone": "a target of app that the snapshot does not hold",
        "i-1": "its target group arn:aws:elasticloadbalancing:eu-west-1:111111111111:"
        "targetgroup/x/1 is not in the snapshot",
    }
    assert world.targets[0] in exposed(doc)  # the group's other target is assessed


def test_an_ipv6_client_of_an_ipv4_target_is_seen_as_the_load_balancer(tmp_path: Path) -> None:
    # A dual-stack NLB keeps the client's address within one family only: an IPv4
    # instance target admitting the load balancer's subnet is reached by IPv6 clients
    # (it sees the NLB's IPv4 address), not by IPv4 ones (it sees theirs).
    r = RawRegion()
    vpc = r.vpc("10.0.0.0/16", ipv6="2600:1f18:aa00::/56")
    public = r.subnet(vpc, "10.0.1.0/24", ipv6="2600:1f18:aa00:1::/64")
    private = r.subnet(vpc, "10.0.2.0/24")
    rtb = r.route_table(vpc, (public,))
    igw = r.igw(vpc)
    r.route(rtb, "0.0.0.0/0", igw)
    r.route(rtb, "::/0", igw)
    lb_sg = r.sg(vpc, [perm("tcp", 443, cidrs=WORLD, ipv6=("::/0",))])
    lb = r.load_balancer("edge", vpc, (public,), (lb_sg,), kind="network")
    r.load_balancer_eni(lb, public, "10.0.1.50", public_ip="54.0.0.50")
    r.files["NetworkInterfaces"][-1]["Ipv6Addresses"] = [{"Ipv6Address": "2600:1f18:aa00:1::50"}]
    app = r.instance(private, (r.sg(vpc, [tcp(8443, LB_SUBNET)]),), "10.0.2.10")
    group = r.target_group("app", vpc, 8443, lb, protocol="TCP")
    r.listener(lb, 443, group, "TCP")
    r.register(group, app, 8443)
    r.write(tmp_path)
    found = exposed(analyse(tmp_path))
    assert found[app]["source_cidrs"] == ["::/0"]
    assert group_hop(found[app], group).endswith(
        "but not from an IPv6 client: the target sees the load balancer's IPv4 address"
    )
