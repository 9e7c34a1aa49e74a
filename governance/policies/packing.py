"""Pack SCP statements into as few documents as fit the size limit.

AWS counts the characters of the minified document. Packing is first-fit decreasing
(largest statement first, into the first document with room), which is within 22% of the
optimum and deterministic; inside each document the statements keep their catalogue
order so that a reviewer reads them in the same order every time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.errors import InputError
from core.jsonio import minify

VERSION = "2012-10-17"
_EMPTY = len(minify({"Version": VERSION, "Statement": []}))


class PackingError(InputError):
    """The statements for a target do not fit the limits, even packed."""

    def __init__(self, target: str, message: str) -> None:
        self.target = target
        super().__init__(f"policies for target {target!r}", message)


@dataclass(frozen=True)
class Bin:
    items: tuple[int, ...]  # indexes into the statement list, in original order
    size: int  # characters of the minified document


def document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": VERSION, "Statement": statements}


def document_size(statements: list[dict[str, Any]]) -> int:
    return len(minify(document(statements)))


def pack(statements: list[dict[str, Any]], max_chars: int) -> tuple[list[Bin], list[int]]:
    """Bins of statement indexes, and the indexes that fit no document on their own.

    The size of a bin is exact: the empty document, each statement, and the commas.
    """
    sizes = [len(minify(s)) for s in statements]
    order = sorted(range(len(statements)), key=lambda i: (-sizes[i], i))
    bins: list[list[int]] = []
    used: list[int] = []
    too_big: list[int] = []
    for index in order:
        if _EMPTY + sizes[index] > max_chars:
            too_big.append(index)
            continue
        for b, members in enumerate(bins):
            if used[b] + 1 + sizes[index] <= max_chars:
                members.append(index)
                used[b] += 1 + sizes[index]
                break
        else:
            bins.append([index])
            used.append(_EMPTY + sizes[index])
    packed = [Bin(tuple(sorted(members)), used[b]) for b, members in enumerate(bins)]
    # Documents ordered by their first statement, so names follow the catalogue order.
    packed.sort(key=lambda item: item.items[0])
    return packed, sorted(too_big)
