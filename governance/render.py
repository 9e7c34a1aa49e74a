"""Write every policy document as deployed, plus a readable copy and an index.

Layout under ``OUT``::

    OUT/index.json                      name, type, targets, size and limit of each document
    OUT/<kind>/<name>.json              minified, byte for byte what Organizations receives
    OUT/<kind>/<name>.pretty.json       the same document, indented, for review

All documents are built (and checked against the limits) before the first file is
written, and each file is written atomically, so a failed run leaves no partial file.
Files of documents that no longer exist are left alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.jsonio import atomic_write_text, minify, pretty, write_json
from core.spec import Spec
from governance.policies import build_documents
from governance.policies.model import PolicyDocument


def document_entry(doc: PolicyDocument, spec: Spec, base: Path) -> dict[str, Any]:
    return {
        "name": doc.name,
        "type": doc.policy_type,
        "kind": doc.kind,
        "targets": list(doc.targets),
        "size": len(minify(doc.content)),
        "limit": spec.limits.max_chars(doc.kind),
        "controls": list(doc.controls),
        "custom": doc.custom,
        "description": doc.description,
        "file": (base / doc.kind / f"{doc.name}.json").as_posix(),
    }


def render_policies(spec: Spec, out_dir: str | Path) -> list[Path]:
    """Write the documents of ``spec`` under ``out_dir``; return the paths written."""
    out = Path(out_dir)
    docs = build_documents(spec)  # raises before anything is written
    written: list[Path] = []
    index = []
    for doc in docs:
        folder = out / doc.kind
        written.append(atomic_write_text(folder / f"{doc.name}.json", minify(doc.content)))
        written.append(atomic_write_text(folder / f"{doc.name}.pretty.json", pretty(doc.content)))
        index.append(document_entry(doc, spec, Path(".")))
    written.append(write_json(out / "index.json", {"documents": index}))
    return written
