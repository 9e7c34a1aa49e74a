"""Prefixes and longest-prefix match, IPv4 and IPv6, against ``ipaddress`` (hypothesis)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graph.cidr import PrefixTable, contains, is_global_v6, longest_match, parse_prefix


def v4_prefix() -> st.SearchStrategy[str]:
    # Few top octets so that random prefixes nest often.
    return st.builds(
        lambda a, b, n: str(ipaddress.ip_network(f"10.{a}.{b}.0/{n}", strict=False)),
        st.integers(0, 3),
        st.integers(0, 3),
        st.integers(8, 32),
    )


def v6_prefix() -> st.SearchStrategy[str]:
    return st.builds(
        lambda a, n: str(ipaddress.ip_network(f"2600:1f18:{a:x}::/{n}", strict=False)),
        st.integers(0, 3),
        st.integers(16, 128),
    )


def address(version: int) -> st.SearchStrategy[str]:
    if version == 4:
        return st.builds(
            lambda a, b, c: f"10.{a}.{b}.{c}", *(st.integers(0, 3),) * 2, st.integers(0, 255)
        )
    return st.builds(lambda a, b: f"2600:1f18:{a:x}::{b:x}", st.integers(0, 3), st.integers(0, 9))


@pytest.mark.parametrize("version", [4, 6])
@given(data=st.data())
def test_longest_prefix_match_agrees_with_ipaddress(version: int, data: st.DataObject) -> None:
    texts = data.draw(st.lists(v4_prefix() if version == 4 else v6_prefix(), max_size=12))
    target = data.draw(address(version))
    table: PrefixTable[str] = PrefixTable()
    for text in texts:
        table.add(parse_prefix(text), text)
    found = table.longest(parse_prefix(target))
    nets = [ipaddress.ip_network(t) for t in texts]
    holding = [n for n in nets if ipaddress.ip_address(target) in n]
    if not holding:
        assert found is None
        return
    best = max(holding, key=lambda n: n.prefixlen)
    assert found is not None
    assert str(found[0]) == str(best)
    assert longest_match([parse_prefix(t) for t in texts], parse_prefix(target)) == found[0]
    # containing() lists every holder, longest first
    lengths = [p.length for p, _ in table.containing(parse_prefix(target))]
    assert lengths == sorted({n.prefixlen for n in holding}, reverse=True)


@given(v4_prefix(), v4_prefix())
def test_contains_agrees_with_ipaddress(a: str, b: str) -> None:
    na, nb = ipaddress.ip_network(a), ipaddress.ip_network(b)
    assert contains(parse_prefix(a), parse_prefix(b)) == nb.subnet_of(na)


def test_parsing() -> None:
    assert str(parse_prefix("10.0.1.7/24")) == "10.0.1.0/24"
    assert parse_prefix("10.0.1.7").length == 32
    assert str(parse_prefix("2600:1f18::1/56")) == "2600:1f18::/56"
    assert not contains(parse_prefix("0.0.0.0/0"), parse_prefix("::/0"))
    assert is_global_v6(parse_prefix("2600:1f18::1"))
    assert not is_global_v6(parse_prefix("fd00::1"))
    for bad in ("10.0.0.0/33", "10.0.0", "300.0.0.0/8", "zz::/3", "10.0.0.0/x"):
        with pytest.raises(ValueError):
            parse_prefix(bad)
