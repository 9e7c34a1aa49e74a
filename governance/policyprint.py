"""The written policy printed for signing: one HTML page, and a PDF of it.

The page is the Markdown of :mod:`governance.policydoc` rendered by markdown-it-py with
raw HTML, links, images and link references off, so that nothing the spec says can make
the page load anything; its only style is its own print stylesheet (A4, the document id,
version and page numbers in the footer), and its Content-Security-Policy forbids every
other resource. It ends with the approval block: a signature and a date line for the
policy owner and for the approver.

The PDF is that page printed by Debian's headless Chromium (``chromium --headless
--print-to-pdf``). Where Chromium is missing, or cannot print, :class:`ToolMissingError`
says in one line to install it or to write HTML instead. Every file is written
atomically: a reader sees the old file or the whole new one.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Literal

from markdown_it import MarkdownIt

from core.errors import ToolMissingError, one_line
from core.jsonio import atomic_write_text
from core.spec import Spec
from governance.policies.model import PolicyDocument
from governance.policydoc import (
    TITLE,
    approval_words,
    render_policy_body,
    signatories,
    write_policy_doc,
)

PolicyFormat = Literal["md", "html", "pdf"]
FORMATS: tuple[PolicyFormat, ...] = ("md", "html", "pdf")
_SUFFIXES: dict[str, PolicyFormat] = {
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
}

#: Where Debian puts chromium; else it is looked up on PATH.
CHROMIUM = "/usr/bin/chromium"
INSTALL_HINT = (
    "chromium is not installed, and the PDF is printed with it: install Debian's chromium "
    "(apt-get install chromium), or use --format html"
)
#: Headless, offline, with a profile of its own and no header or footer of the browser's.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-extensions",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-pdf-header-footer",
    "--print-to-pdf-no-header",
)
#: Seconds Chromium may take to print (about one on an idle machine).
PRINT_TIMEOUT = 120


def format_for(out: str | os.PathLike[str], fmt: str | None = None) -> PolicyFormat:
    """The format asked for, else the one the file's suffix names, else Markdown.

    >>> format_for("policy.pdf"), format_for("policy.HTML"), format_for("policy.txt")
    ('pdf', 'html', 'md')
    >>> format_for("policy.pdf", "html")
    'html'
    """
    if fmt is not None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}")
        return fmt
    return _SUFFIXES.get(Path(out).suffix.lower(), "md")


def _markdown() -> MarkdownIt:
    # Nothing from the spec may become markup that loads or links anything.
    return (
        MarkdownIt("commonmark", {"html": False, "typographer": False})
        .enable("table")
        .disable(["image", "link", "autolink", "reference"])
    )


_CSS = """
@page {
  size: A4;
  margin: 20mm 18mm 22mm 18mm;
  @bottom-left { content: "%(footer)s"; font: 8pt "DejaVu Sans", sans-serif; color: #555; }
  @bottom-right {
    content: "Page " counter(page) " of " counter(pages);
    font: 8pt "DejaVu Sans", sans-serif; color: #555;
  }
}
html { font: 10pt/1.45 "DejaVu Serif", "Liberation Serif", serif; color: #111; }
body { max-width: 174mm; margin: 12mm auto; }
@media print { body { max-width: none; margin: 0; } }
h1 { font: bold 19pt/1.2 "DejaVu Sans", sans-serif; margin: 0 0 0.4em; }
h2 {
  font: bold 13pt/1.25 "DejaVu Sans", sans-serif; margin: 1.6em 0 0.5em;
  padding-bottom: 2pt; border-bottom: 1px solid #888; break-after: avoid;
}
h3 { font: bold 11pt/1.25 "DejaVu Sans", sans-serif; margin: 1.2em 0 0.4em; break-after: avoid; }
p, li { orphans: 3; widows: 3; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%%; margin: 0.5em 0 0.8em; font-size: 8.5pt; }
thead { display: table-header-group; }
thead:not(:has(th:not(:empty))) { display: none; }
tr { break-inside: avoid; }
th, td { border: 1px solid #aaa; padding: 2pt 4pt; text-align: left; vertical-align: top; }
th { background: #eee; }
td { overflow-wrap: anywhere; }
code { font: 8pt "DejaVu Sans Mono", monospace; overflow-wrap: anywhere; }
blockquote {
  margin: 0.6em 0; padding: 0.3em 0.8em; border-left: 3pt solid #a00; background: #fbeeee;
}
.approval { break-before: page; break-inside: avoid; }
.signatures { display: grid; grid-template-columns: 1fr 1fr; gap: 14mm; margin-top: 10mm; }
.signatory .role { font: bold 10pt "DejaVu Sans", sans-serif; margin: 0; }
.signatory .name { margin: 0 0 6mm; }
.signatory .line { border-bottom: 1px solid #000; height: 14mm; margin-bottom: 7mm; }
.signatory .line span { display: block; padding-top: 15mm; font-size: 8pt; color: #444; }
"""


def _signature_block(spec: Spec) -> str:
    people = "\n".join(
        '<div class="signatory">'
        f'<p class="role">{html.escape(role)}</p>'
        f'<p class="name">{html.escape(name)}</p>'
        '<div class="line"><span>Signature</span></div>'
        '<div class="line"><span>Date</span></div>'
        "</div>"
        for role, name in signatories(spec)
    )
    return (
        '<section class="approval">\n<h2>Approval</h2>\n'
        f"<p>{html.escape(approval_words(spec))}</p>\n"
        f'<div class="signatures">\n{people}\n</div>\n</section>'
    )


def render_policy_html(
    spec: Spec, documents: list[PolicyDocument] | None = None, *, today: dt.date | None = None
) -> str:
    """The policy as one self-contained HTML page, with its print stylesheet and its
    signature block; it loads nothing."""
    review = spec.review
    body = _markdown().render(render_policy_body(spec, documents, today=today))
    # document_id and version are letters, digits and . _ - (core.spec.Review)
    css = _CSS % {"footer": f"{review.document_id} version {review.version}"}
    title = f"{review.document_id} {TITLE}, version {review.version}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        f"<title>{html.escape(title)}</title>\n<style>{css}</style>\n</head>\n"
        f"<body>\n<main>\n{body}</main>\n{_signature_block(spec)}\n</body>\n</html>\n"
    )


def find_chromium() -> str | None:
    """Debian's chromium, else the first ``chromium`` on PATH."""
    if os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    return shutil.which("chromium")


def print_pdf(page: str, out: str | os.PathLike[str]) -> Path:
    """Print an HTML page to ``out`` as PDF with headless Chromium, atomically."""
    chromium = find_chromium()
    if chromium is None:
        raise ToolMissingError(INSTALL_HINT)
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        with tempfile.TemporaryDirectory(prefix="ivs-policy-") as work:
            source = Path(work) / "policy.html"
            source.write_text(page, encoding="utf-8")
            command = [
                chromium,
                *CHROMIUM_ARGS,
                f"--user-data-dir={Path(work) / 'profile'}",
                f"--print-to-pdf={tmp}",
                source.as_uri(),
            ]
            try:
                run = subprocess.run(
                    command, capture_output=True, text=True, timeout=PRINT_TIMEOUT, check=False
                )
            except subprocess.TimeoutExpired:
                raise ToolMissingError(
                    f"{chromium} did not print the policy within {PRINT_TIMEOUT} s; "
                    "use --format html and print it from a browser"
                ) from None
        with open(tmp, "rb") as handle:
            printed = handle.read(5) == b"%PDF-"
            os.fsync(handle.fileno())
        if not printed:
            said = [line for line in run.stderr.splitlines() if line.strip()]
            reason = one_line(said[-1], 200) if said else "no output"
            raise ToolMissingError(
                f"{chromium} did not print the policy (exit {run.returncode}: {reason}); "
                "check the chromium install, or use --format html"
            )
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_policy(
    spec: Spec, out: str | os.PathLike[str], fmt: str | None = None, **options: Any
) -> PolicyFormat:
    """Write the policy to ``out`` as Markdown, HTML or PDF (:func:`format_for`);
    return the format written. ``options`` go to the renderer (``today``, ``documents``)."""
    chosen = format_for(out, fmt)
    if chosen == "md":
        write_policy_doc(spec, out, **options)
    elif chosen == "html":
        atomic_write_text(out, render_policy_html(spec, **options))
    else:
        print_pdf(render_policy_html(spec, **options), out)
    return chosen
