"""Equivalence classes and candidate sources give the same answers as every pair.

On a synthetic organization (``sandbox.synth``: tiers of groups referencing each other,
wide CIDR rules, peering, a segmented transit gateway), ``Network.sources`` - which only
looks at the sources a destination's rules can match, and evaluates one representative
of each group of alike sources - must agree with ``Network.between`` on every ordered
pair of units.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.spec import Zones
from graph.build import build_graph
from graph.reach import Network
from graph.snapshot import load_snapshot
from graph.zones import assign_zones
from sandbox.synth import write_synthetic_snapshot


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Network:
    root: Path = tmp_path_factory.mktemp("synth")
    write_synthetic_snapshot(root, enis=1500)
    graph = build_graph(load_snapshot(root))
    return Network(graph, assign_zones(graph, Zones()))


def test_sources_agree_with_every_pair(network: Network) -> None:
    units = [u for u in network.units if u.kind == "eni"]
    assert len(units) > 50
    reachable_pairs = 0
    for dst in units:
        found = {src.index: allowed for src, allowed in network.sources(dst)}
        for src in units:
            expected = network.between(src, dst)
            assert found.get(src.index, expected if expected.is_empty else None) == expected, (
                src,
                dst,
            )
            reachable_pairs += not expected.is_empty
    # the organization is neither cut off nor flat
    assert 0 < reachable_pairs < len(units) ** 2 // 2


def test_units_cover_every_address(network: Network) -> None:
    members = sum(len(u.members) for u in network.units if u.kind == "eni")
    addresses = sum(
        len(eni.private_ips) + len(eni.ipv6)
        for eni in network.enis.values()
        if network.graph.nodes[eni.id]["service"] not in ("nat", "transit-gateway")
    )
    assert members == addresses
    # far fewer classes than addresses: that is what makes large snapshots fast
    assert len(network.units) * 5 < members
