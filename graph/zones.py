"""Zones: which zone each ENI belongs to, and what the zone policy lets one zone open to
another.

An ENI's zone comes from its instance's tags, else its own, else its subnet's, else its
VPC's: the first of those that carries one of the spec's zone tag keys
(``zones.tag_keys``, default ``Environment``). A tag value listed under a zone name in
``zones.names`` is that zone (``prod`` and ``production`` are ``prod`` by default); any
other value is a zone of its own (lower-cased); an ENI with no zone tag anywhere is in
zone ``unknown``. A load balancer's zone comes from its subnets' and VPC's tags.

The zone policy: a zone listed in ``zones.protected`` (``"*"``: every zone) may be reached
from another zone only by the traffic ``zones.flows`` allow from that zone to it; other
zones are open. Traffic inside one zone is always allowed.

>>> from core.spec import Zones
>>> zone_from_tags([{"Environment": "Production"}], Zones())
'prod'
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

from core.spec import Zones
from graph.ports import Traffic

UNKNOWN = "unknown"


def zone_from_tags(levels: Iterable[dict[str, str] | None], zones: Zones) -> str:
    """The zone named by the first level of tags that has a zone tag key."""
    return _first_zone(levels, zones.tag_keys, _aliases(zones)) or UNKNOWN


def _aliases(zones: Zones) -> dict[str, str]:
    return {
        value.lower(): zone for zone, values in zones.names.items() for value in [zone, *values]
    }


def _first_zone(
    levels: Iterable[dict[str, str] | None], keys: list[str], aliases: dict[str, str]
) -> str | None:
    """``aliases``: lower-cased tag value -> zone; each value met is added as its own zone,
    so that a zone is one string however many ENIs are in it."""
    for tags in levels:
        if not tags:
            continue
        for key in keys:
            value = tags.get(key)
            if value is not None and value.strip():
                lowered = value.strip().lower()
                return aliases.setdefault(lowered, lowered)
    return None


def assign_zones(graph: nx.MultiDiGraph, zones: Zones) -> dict[str, str]:
    """Zone of every ENI and load balancer (keyed by node id); also set as node ``zone``."""
    out: dict[str, str] = {}
    nodes = graph.nodes
    keys, aliases = zones.tag_keys, _aliases(zones)
    # the subnet-then-VPC fallback, once per subnet
    fallback: dict[str, str] = {}

    def place_zone(subnet_id: str, vpc_id: str) -> str:
        found = fallback.get(subnet_id)
        if found is None:
            subnet = nodes.get(subnet_id, None)
            vpc = nodes.get(vpc_id, None)
            found = _first_zone([_tags(subnet), _tags(vpc)], keys, aliases) or UNKNOWN
            fallback[subnet_id] = found
        return found

    for key, data in graph.nodes(data=True):
        kind = data["kind"]
        if kind == "eni":
            zone = _first_zone(
                [data.get("instance_tags"), data.get("tags")], keys, aliases
            ) or place_zone(data["subnet"], data["vpc"])
        elif kind == "load-balancer":
            record = data["record"]
            levels = [_tags(nodes[s]) for s in record.subnet_ids if s in nodes]
            levels.append(_tags(nodes[record.vpc_id]) if record.vpc_id in nodes else None)
            zone = _first_zone(levels, keys, aliases) or UNKNOWN
        else:
            continue
        data["zone"] = zone
        out[key] = zone
    return out


def _tags(data: object) -> dict[str, str] | None:
    if not isinstance(data, dict):
        return None
    record = data.get("record")
    return getattr(record, "tags", None)


class ZonePolicy:
    """The spec's zone policy as traffic sets.

    >>> policy = ZonePolicy(Zones())
    >>> policy.forbidden("dev", "prod", Traffic.of("tcp", 22)).render()
    'tcp 22'
    """

    def __init__(self, zones: Zones) -> None:
        self.protected = set(zones.protected)
        self.flows: list[tuple[str, str, Traffic]] = []
        for flow in zones.flows:
            allowed = Traffic.nothing()
            for item in flow.ports:
                allowed = allowed | Traffic.parse(item)
            self.flows.append((flow.source, flow.to, allowed))
        self._cache: dict[tuple[str, str], Traffic | None] = {}

    def is_protected(self, zone: str) -> bool:
        return "*" in self.protected or zone in self.protected

    def permitted(self, source: str, destination: str) -> Traffic | None:
        """What ``source`` may open to ``destination``; None means anything."""
        key = (source, destination)
        if key in self._cache:
            return self._cache[key]
        result: Traffic | None
        if source == destination or not self.is_protected(destination):
            result = None
        else:
            result = Traffic.nothing()
            for flow_from, flow_to, allowed in self.flows:
                if flow_from in (source, "*") and flow_to in (destination, "*"):
                    result = result | allowed
        self._cache[key] = result
        return result

    def forbidden(self, source: str, destination: str, traffic: Traffic) -> Traffic:
        """The part of ``traffic`` from ``source`` to ``destination`` the policy forbids."""
        allowed = self.permitted(source, destination)
        if allowed is None:
            return Traffic.nothing()
        return traffic - allowed
