"""The graph library the HTML report inlines: vis-network as its npm package ships it,
the version and checksum its notice records, and nothing it would fetch."""

from __future__ import annotations

import hashlib
import tomllib
from importlib import resources
from pathlib import Path

from graph.report import html

ASSETS = resources.files("graph.report") / "assets"


def test_vis_network_is_the_pinned_file_byte_for_byte() -> None:
    data = (ASSETS / html.VIS_SCRIPT).read_bytes()
    assert hashlib.sha256(data).hexdigest() == html.VIS_SHA256
    assert f"@version {html.VIS_VERSION}" in data[:1000].decode()
    notice = (ASSETS / "vis-network.md").read_text(encoding="utf-8")
    assert html.VIS_SHA256 in notice and f"vis-network {html.VIS_VERSION}" in notice
    assert "Apache-2.0 OR MIT" in notice and "Permission is hereby granted" in notice


def test_the_inlined_library_names_no_source_map_and_no_other_package_carries_it() -> None:
    script = html.vis_script()
    assert "sourceMappingURL" not in script
    assert script.startswith("/**\n * vis-network")
    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    assert not any(r.lower().startswith("pyvis") for r in project["project"]["dependencies"])
