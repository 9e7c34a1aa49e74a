"""Bench: the exposure reports of a large synthetic organization.

Writes a synthetic snapshot of ``--vpcs`` VPCs (``sandbox.synth``: four VPCs per
account-region, ``--enis-per-region`` ENIs in each), analyses it once, renders every
report format and prints the time and size of each. With ``--browser`` it also opens the
HTML report in headless Chromium and times the page until its graph is drawn.

    .venv/bin/python bench/bench_report.py --vpcs 1000 --browser
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import sandbox.synth as synth
from core.jsonio import write_json
from core.spec import Exposure, Zones
from graph.build import build_graph
from graph.findings import ExposureResult, analyse_graph
from graph.report import graphml, html, md, sarif
from graph.snapshot import load_snapshot


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vpcs", type=int, default=1000)
    parser.add_argument("--enis-per-region", type=int, default=40)
    parser.add_argument("--browser", action="store_true", help="time the page in Chromium")
    parser.add_argument("--keep", type=Path, help="write the outputs here instead of a temp dir")
    args = parser.parse_args()

    places = max(1, args.vpcs // len(synth.ENVIRONMENTS))
    synth.ENIS_PER_ACCOUNT_REGION = args.enis_per_region
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        snap = out / "snapshot"
        start = time.perf_counter()
        shape = synth.write_synthetic_snapshot(snap, enis=places * args.enis_per_region)
        print(f"snapshot    {time.perf_counter() - start:6.1f} s  {shape}")
        start = time.perf_counter()
        graph = build_graph(load_snapshot(snap))
        document = analyse_graph(graph, Zones(), Exposure())
        vpcs = sum(1 for _n, d in graph.nodes(data=True) if d["kind"] == "vpc")
        print(
            f"analysis    {time.perf_counter() - start:6.1f} s  {vpcs} VPCs, "
            f"{len(document['findings'])} findings"
        )
        result = ExposureResult(document, graph)
        write_json(out / "findings.json", document)
        for name, module, file in (
            ("html", html, "report.html"),
            ("sarif", sarif, "findings.sarif"),
            ("graphml", graphml, "graph.graphml"),
            ("md", md, "comment.md"),
        ):
            start = time.perf_counter()
            module.render(result, out / file)  # type: ignore[attr-defined]
            size = (out / file).stat().st_size / 1e6
            print(f"{name:<11} {time.perf_counter() - start:6.1f} s  {size:7.2f} MB")
        if args.browser:
            _browser(out / "report.html")


def _browser(page_file: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic"],
        )
        page = chromium.new_page(viewport={"width": 1440, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        start = time.perf_counter()
        page.goto(page_file.as_uri())
        page.wait_for_function("() => window.ivsReport && window.ivsReport.net.network")
        drawn = time.perf_counter() - start
        page.wait_for_selector('#graph[data-settled="1"]', timeout=60_000)
        settled = time.perf_counter() - start
        nodes = page.get_attribute("#graph", "data-nodes")
        print(f"browser     {drawn:6.1f} s to draw, {settled:.1f} s to settle, {nodes} nodes")
        # the largest zone opened: its VPCs drawn, laid out and fitted
        zone = page.evaluate("() => 'zone:' + window.ivsReport.data.net.zones[0].id")
        start = time.perf_counter()
        page.evaluate("id => window.ivsReport.open(id)", zone)
        opened = time.perf_counter() - start
        page.wait_for_selector('#graph[data-settled="1"]', timeout=60_000)
        fitted = time.perf_counter() - start
        nodes = page.get_attribute("#graph", "data-nodes")
        page.click("#net-fit")
        page.wait_for_selector('#graph[data-settled="1"]', timeout=60_000)
        scale = page.evaluate("() => window.ivsReport.net.network.getScale()")
        print(
            f"open zone   {opened:6.1f} s to draw {zone}, {fitted:.1f} s to settle, "
            f"{nodes} nodes; after Fit a 12 px label is {12 * scale:.1f} px"
        )
        if errors:
            print("page errors:", errors)
        chromium.close()


if __name__ == "__main__":
    main()
