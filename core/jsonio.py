"""The one JSON writer: stable formatting and atomic writes (temp file, then rename)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def minify(document: Any) -> str:
    """The form AWS stores and counts: no whitespace, keys in the order given."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def pretty(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def normalized(document: Any) -> str:
    """A canonical form for comparing documents: key order and whitespace do not count."""
    return json.dumps(document, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def atomic_write_text(path: str | os.PathLike[str], text: str, mode: int | None = None) -> Path:
    """Write ``text`` to ``path`` so that a reader sees the old file or the whole new one.

    ``mode`` (for example ``0o600``) is set on the temp file before the rename, so the
    final file is never readable more widely than asked.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_json(
    path: str | os.PathLike[str], document: Any, *, compact: bool = False, mode: int | None = None
) -> Path:
    return atomic_write_text(path, minify(document) if compact else pretty(document), mode)
