"""The HTML report printed, in Chromium: every finding with its whole path, nothing wider
than an A4 page, the graph as a picture of its view; the print preview and A4 and Letter
PDFs are kept under ``test-artifacts/``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from report_support import ARTIFACTS, Page, browser_fixture, marked_result, report_fixture

A4_WIDTH = 794  # CSS pixels: 210 mm at 96 per inch


report = report_fixture(marked_result)


browser = browser_fixture()


def test_printing_shows_every_finding_and_its_whole_path_within_the_page(
    browser: Any, report: tuple[Path, dict[str, Any]]
) -> None:
    document = report[1]
    loaded = Page(browser, report[0])
    try:
        page = loaded.page
        page.set_viewport_size({"width": A4_WIDTH, "height": 1123})
        page.emulate_media(media="print")
        items = page.locator("#print-list article.p-finding")
        items.first.wait_for(state="visible")
        assert items.evaluate_all("xs => xs.map(x => x.dataset.id)") == [
            f["id"] for f in document["findings"]
        ]
        for n, finding in enumerate(document["findings"]):
            item = items.nth(n)
            assert item.is_visible()
            hops = item.locator("ol.path li .hop")
            assert hops.all_inner_texts()[: len(finding["path"])] == [
                h["hop"] for h in finding["path"]
            ]
            for box in hops.evaluate_all(
                "hs => hs.map(h => { const r = h.getBoundingClientRect();"
                " return [r.left, r.right, r.width]; })"
            ):
                assert box[2] > 0 and box[0] >= 0 and box[1] <= A4_WIDTH
        accepted = next(f for f in document["findings"] if f.get("accepted"))
        held = page.locator(f'#print-list article[data-id="{accepted["id"]}"]').inner_text()
        assert accepted["accepted"]["reason"] in held
        # nothing is cut at the page's edge, no box scrolls, and the interactive parts go
        wider = page.evaluate(
            "w => [...document.querySelectorAll('body *')].filter(e => {"
            " const r = e.getBoundingClientRect(); return r.width > 0 && r.right > w + 0.5; })"
            ".map(e => e.tagName + '#' + e.id + '.' + e.className)",
            A4_WIDTH,
        )
        assert wider == []
        assert not page.locator("#findings-section").is_visible()
        assert not page.locator("#graph").is_visible()
        assert page.locator("#graph-print").is_visible()
        assert page.locator("#fixed").is_visible() and page.locator("#heat").is_visible()
        opened = page.evaluate("() => [...document.querySelectorAll('details')].every(d => d.open)")
        assert opened
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report-print-preview.png"), full_page=True)
        for paper in ("A4", "Letter"):
            pdf = ARTIFACTS / f"report-{paper.lower()}.pdf"
            page.pdf(path=str(pdf), format=paper, print_background=True)
            assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 50_000
        page.emulate_media(media="screen")
        assert page.locator("#print-list article").count() == 0  # built for the print only
        assert loaded.errors == [] and loaded.requests == []
    finally:
        loaded.page.close()
