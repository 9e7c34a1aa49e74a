"""The port/protocol algebra against a plain set-of-ports model (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graph.ports import MAX_PORT, PortSet, Traffic, port_list

# Small universe near the edges so that overlaps, adjacency and 0/65535 are common.
port = st.one_of(st.integers(0, 40), st.integers(MAX_PORT - 40, MAX_PORT))
interval = st.tuples(port, port).map(lambda t: (min(t), max(t)))
portset = st.lists(interval, max_size=6).map(PortSet)


def as_set(ports: PortSet) -> set[int]:
    return {p for low, high in ports.intervals for p in range(low, high + 1)}


UNIVERSE = set(range(MAX_PORT + 1))


@given(portset, portset)
def test_union_intersection_difference_match_sets(a: PortSet, b: PortSet) -> None:
    assert as_set(a | b) == as_set(a) | as_set(b)
    assert as_set(a & b) == as_set(a) & as_set(b)
    assert as_set(a - b) == as_set(a) - as_set(b)


@given(portset)
def test_complement_and_normal_form(a: PortSet) -> None:
    assert as_set(a.complement()) == UNIVERSE - as_set(a)
    # sorted, disjoint and never adjacent: one representation per set
    for (_, high), (low, _) in zip(a.intervals, a.intervals[1:], strict=False):
        assert high + 1 < low
    assert a == PortSet(list(reversed(a.intervals)))
    assert a.complement().complement() == a


@given(portset)
def test_render_parse_round_trip(a: PortSet) -> None:
    if a:
        assert PortSet.parse(a.render()) == a
    assert a.size() == len(as_set(a))


@given(st.lists(st.tuples(st.sampled_from(["tcp", "udp", "icmp", "47"]), portset)), st.booleans())
def test_traffic_algebra_per_protocol(items: list[tuple[str, PortSet]], rest: bool) -> None:
    a = Traffic(dict(items), rest=rest)
    b = Traffic({"tcp": PortSet.range(0, 30)}, rest=not rest)
    for proto in ("tcp", "udp", "icmp", "47", "50"):
        assert (a | b).get(proto) == a.get(proto) | b.get(proto)
        assert (a & b).get(proto) == a.get(proto) & b.get(proto)
        assert (a - b).get(proto) == a.get(proto) - b.get(proto)
    assert (a - a).is_empty
    assert (a & Traffic.everything()) == a
    assert (a | Traffic.nothing()) == a


def test_aws_spellings() -> None:
    assert Traffic.of("-1") == Traffic.everything()
    assert Traffic.of("6", 22, 22) == Traffic.of("tcp", 22)
    assert Traffic.of("icmp", -1, -1).get("icmp").is_full
    assert Traffic.of("tcp", 0, 65535).get("tcp").render() == "0-65535"
    assert (Traffic.everything() - Traffic.of("tcp", 22)).get("tcp").render() == "0-21,23-65535"
    assert Traffic.parse("tcp:443") | Traffic.parse("udp:53") == Traffic(
        {"tcp": PortSet.range(443), "udp": PortSet.range(53)}
    )
    assert port_list(["22", "3389", "5985-5986"]).render() == "22,3389,5985-5986"


@pytest.mark.parametrize("text", ["22-", "a", "70000", "5-3"])
def test_bad_port_text(text: str) -> None:
    with pytest.raises(ValueError):
        PortSet.parse(text)
