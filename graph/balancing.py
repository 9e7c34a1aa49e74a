"""Load balancers as Elastic Load Balancing routes to their targets: which registered
targets receive traffic, and which source address a target sees.

Each decision follows a page of the ELB guides and says why in words a finding's path
shows:

- **Target health** (Application Load Balancer Guide, "Health checks for Application
  Load Balancer target groups"; Network Load Balancer Guide, "Health checks for Network
  Load Balancer target groups"; the states and reason codes of the API Reference's
  ``TargetHealth``): a load balancer routes to its healthy targets, and to a newly
  registered one once it passes its health checks (``initial``); a target that is
  ``draining`` or ``unhealthy.draining`` (being deregistered), ``unused`` (not
  registered, in no enabled zone, stopped) or ``unavailable`` gets no traffic. "If a
  target group contains only unhealthy registered targets, the load balancer routes
  requests to all those targets, regardless of their health status": it fails open.
  A state that is not one of AWS's (the reader reports it) matches none of these, so
  carries nothing, as elsewhere in the analysis.
- **Client address** (Network Load Balancer Guide, "Edit target group attributes for
  your Network Load Balancer", *Client IP preservation*; Application Load Balancer
  Guide, "HTTP headers and Application Load Balancers"): an Application Load Balancer
  always opens its own connection, so the target sees the load balancer's private
  address ("your server access logs only contain the IP address of the load balancer").
  A Network Load Balancer keeps the client's address for UDP and TCP_UDP target groups
  (it "can't be disabled"); for TCP and TLS ones the target group attribute
  ``preserve_client_ip.enabled`` decides, by default on for instance targets and off for
  IP targets. Only when client and target are of one address family: an IPv6 client of
  an IPv4 target reaches it from the load balancer's address.
- **Security groups of a Network Load Balancer** (Network Load Balancer Guide, "Update
  the security groups for your Network Load Balancer"): "If you don't assign a security
  group to your Network Load Balancer, all client traffic can reach the Network Load
  Balancer listeners"; with groups, what they admit. A target's rule naming the load
  balancer's group admits its traffic "even if you enable client IP preservation".

>>> [d.carries for d in target_decisions(["healthy", "unhealthy", "draining"])]
[True, False, False]
>>> [d.carries for d in target_decisions(["unhealthy", "unhealthy", "unused"])]
[True, True, False]
>>> keeps_client_address("network", "ip", "TCP", {})[0]
False
>>> keeps_client_address("network", "ip", "TCP", {"preserve_client_ip.enabled": "true"})[0]
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

#: Target states in which a target gets traffic.
SERVING = frozenset({"healthy", "initial"})
#: States that carry no traffic whatever the others' health (API Reference, TargetHealth).
NO_TRAFFIC: dict[str, str] = {
    "draining": "draining: it is being deregistered, the load balancer sends it nothing new",
    "unhealthy.draining": "unhealthy and draining: the load balancer sends it nothing new",
    "unused": "unused (not registered, in no enabled zone, or stopped): it gets no traffic",
    "unavailable": "unavailable: its health is unknown, it gets no traffic",
}


class TargetDecision(NamedTuple):
    """Whether a registered target receives traffic, and why."""

    carries: bool
    why: str


def target_decisions(states: Sequence[str]) -> list[TargetDecision]:
    """The decision for each target of one target group, given the states of all of them:
    the group fails open when some target is unhealthy and none is healthy or initial."""
    fails_open = "unhealthy" in states and not any(state in SERVING for state in states)
    return [_decision(state, fails_open) for state in states]


def _decision(state: str, fails_open: bool) -> TargetDecision:
    if state == "healthy":
        return TargetDecision(True, "healthy")
    if state == "initial":
        return TargetDecision(
            True, "initial: registered, it gets traffic once it passes its health checks"
        )
    if state == "unhealthy" and fails_open:
        return TargetDecision(
            True,
            "unhealthy, as is every target of its group: the load balancer fails open and "
            "routes to all of them",
        )
    if state == "unhealthy":
        return TargetDecision(
            False, "unhealthy while others of its group are healthy: it gets no traffic"
        )
    if state in NO_TRAFFIC:
        return TargetDecision(False, NO_TRAFFIC[state])
    if state:
        return TargetDecision(False, f"state {state!r} is not one of AWS's: no traffic")
    return TargetDecision(False, "the snapshot gives no health state: no traffic")


def keeps_client_address(
    lb_type: str, target_type: str, protocol: str, attributes: Mapping[str, str]
) -> tuple[bool, str]:
    """Whether a target of a target group (``protocol``, ``target_type``) of a load
    balancer of ``lb_type`` sees the client's address, and why.

    >>> keeps_client_address("application", "instance", "HTTP", {})[0]
    False
    >>> keeps_client_address("network", "ip", "UDP", {"preserve_client_ip.enabled": "false"})
    (True, 'a UDP target group always keeps the client address')
    """
    if lb_type != "network":
        article = "an" if lb_type[:1] in "aeiou" else "a"
        return False, (
            f"{article} {lb_type} load balancer opens its own connection: the target sees "
            "the load balancer's private address"
        )
    proto = protocol.upper() or "TCP"
    if proto in ("UDP", "TCP_UDP"):
        return True, f"a {proto} target group always keeps the client address"
    value = attributes.get("preserve_client_ip.enabled", "").lower()
    if value in ("true", "false"):
        seen = "the client address" if value == "true" else "the load balancer"
        return value == "true", f"the target sees {seen}: preserve_client_ip.enabled is {value}"
    if target_type == "instance":
        return True, (
            "instance targets see the client address: preserve_client_ip.enabled is not set, so on"
        )
    return False, (
        f"IP targets of a {proto} target group see the load balancer: "
        "preserve_client_ip.enabled is not set, so off"
    )
