r"""The one JSON writer (stable formatting, atomic writes: temp file, then rename) and the
one JSON reader of input files (snapshot files, policy documents), whose errors name the
file and the JSON path.

A file that is not JSON, not UTF-8, nested deeper than the parser can go, holding a
number longer than Python's int-string limit (4,300 digits) or text that is not Unicode
(a lone surrogate, ``"\ud800"``) raises ``InputError``, never another exception:

>>> parse_json(b'{"Vpcs": [{"VpcId": "\\udc00"}]}', "Vpcs.json")
Traceback (most recent call last):
...
core.errors.InputError: Vpcs.json: $.Vpcs[0].VpcId: not Unicode text: a lone surrogate '\udc00'

The writers never fail on such text either: a lone surrogate that reached a document
some other way (a file name that is not UTF-8) is written as its ``\uXXXX`` escape.

Reading goes through msgspec's decoder first (the 246 MB of a 100k-ENI snapshot in 1.1 s
of CPU against 1.8 s for ``json.load``), which refuses everything the standard library
refuses, and more: a lone surrogate, ``NaN``, a byte order mark, ``1e400``. Whatever it
refuses is read again by ``json.loads``, whose answer (the document, or the error by JSON
path) is the one given: the reader's semantics are the standard library's, in every case.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import msgspec

from core.errors import InputError, shown

_SURROGATE = re.compile(r"[\ud800-\udfff]")
#: One encoder for every compact dump (json.dumps with options makes a new one each call).
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def _escape_surrogates(text: str) -> str:
    # json.dumps(ensure_ascii=False) leaves lone surrogates as they are, and no encoder
    # can write them; their escape is valid JSON and reads back as the same string.
    if _SURROGATE.search(text) is None:
        return text
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def minify(document: Any) -> str:
    """The form AWS stores and counts: no whitespace, keys in the order given."""
    return _escape_surrogates(_COMPACT.encode(document))


def minify_lines(items: Iterable[Any], indent: str = "") -> str:
    """Each item minified on its own line (``,`` between), the text checked for lone
    surrogates once: what a long list of findings is written as.

    >>> print(minify_lines([{"a": 1}, [2, "x"]], "  "))
      {"a":1},
      [2,"x"]
    """
    return "".join(minify_line_chunks(items, indent))


#: Items per piece of :func:`minify_line_chunks`: large enough that writing a piece costs
#: little, small enough that no piece weighs much.
LINES_PER_CHUNK = 2048


def minify_line_chunks(
    items: Iterable[Any], indent: str = "", size: int = LINES_PER_CHUNK
) -> Iterator[str]:
    """The text of :func:`minify_lines` in pieces of ``size`` items, for a writer that
    streams it instead of holding it whole.

    >>> list(minify_line_chunks([1, 2, 3], size=2))
    ['1,\\n2', ',\\n3']
    """
    encode = _COMPACT.encode
    batch: list[str] = []
    between = ""
    for item in items:
        batch.append(indent + encode(item))
        if len(batch) == size:
            yield between + _escape_surrogates(",\n".join(batch))
            batch, between = [], ",\n"
    if batch:
        yield between + _escape_surrogates(",\n".join(batch))


def pretty(document: Any) -> str:
    return _escape_surrogates(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"


def normalized(document: Any) -> str:
    """A canonical form for comparing documents: key order and whitespace do not count."""
    text = json.dumps(document, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return _escape_surrogates(text)


def atomic_write_text(
    path: str | os.PathLike[str], text: str | Iterable[str], mode: int | None = None
) -> Path:
    """Write ``text`` to ``path`` so that a reader sees the old file or the whole new one.

    ``text`` may come in pieces (any iterable of strings), written as they come, so that
    a long document need not be held whole. ``mode`` (for example ``0o600``) is set on
    the temp file before the rename, so the final file is never readable more widely
    than asked.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            if isinstance(text, str):
                handle.write(text)
            else:
                handle.writelines(text)
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


# ---- reading, with located errors -------------------------------------------------------


def read_json(path: str | os.PathLike[str]) -> Any:
    """The JSON document in ``path``; ``InputError`` naming the file (and the JSON path)
    when it cannot be read or is not JSON text."""
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as err:
        raise InputError(str(file), f"cannot read: {err.strerror}") from err
    return parse_json(raw, str(file))


# A lone surrogate can only come from a \uD800-\uDFFF escape or from its UTF-8 form
# (which json.loads lets through): only documents holding one are searched for it. Two
# patterns, each with a literal first byte, scan ten times faster than one alternation.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE_UTF8 = re.compile(rb"\xed[\xa0-\xbf]")
# strings are matched too, to be skipped: a long run of digits in a string is no number
_LONG_NUMBER = re.compile(r'"(?:[^"\\]|\\.)*"|-?\d{4301,}(?![.\deE])')


_FAST_DECODE = msgspec.json.Decoder().decode
_FAST_REFUSES = (msgspec.DecodeError, msgspec.ValidationError, RecursionError)


def _fast_decode(raw: bytes, frames: int = 3) -> Any:
    """msgspec's decode, called as deep as ``json.loads`` starts its scanner: CPython 3.11
    counts Python frames and nested JSON containers on one recursion counter, and
    ``json.loads`` spends three on its way (``loads``, ``decode``, ``raw_decode``), so
    both refuse the same nesting (``tests/test_jsonio.py`` holds them to it)."""
    if frames:
        return _fast_decode(raw, frames - 1)
    return _FAST_DECODE(raw)


def parse_json(raw: bytes, source: str) -> Any:
    """The JSON document of ``raw`` (the content of ``source``); ``InputError`` with the
    JSON path of the problem when it is not JSON text."""
    try:
        return _fast_decode(raw)
    except _FAST_REFUSES:
        pass  # not necessarily bad: read by the standard library, whose answer counts
    try:
        document = json.loads(raw)
    except UnicodeDecodeError as err:
        prefix = raw[: err.start].decode("utf-8", errors="replace")
        raise InputError(
            source,
            f"not UTF-8 text: byte {err.start}: {err.reason}",
            json_path_at(prefix, len(prefix)),
        ) from None
    except json.JSONDecodeError as err:
        text = raw.decode("utf-8", errors="replace")
        raise InputError(
            source,
            f"invalid JSON at line {err.lineno} column {err.colno}: {err.msg}",
            json_path_at(text, err.pos),
        ) from None
    except RecursionError:
        text = raw.decode("utf-8", errors="replace")
        depth, pos = deepest(text)
        message = f"nested {depth} levels deep, deeper than a reader can go"
        raise InputError(source, message, json_path_at(text, pos)) from None
    except ValueError:  # a number past Python's int-string limit
        text = raw.decode("utf-8", errors="replace")
        long = next((m for m in _LONG_NUMBER.finditer(text) if m.group()[0] != '"'), None)
        if long is None:  # pragma: no cover - json.loads raises ValueError for nothing else
            raise
        raise InputError(
            source,
            f"a number of {len(long.group().lstrip('-')):,} digits, more than Python reads",
            json_path_at(text, long.start()),
        ) from None
    if _SURROGATE_ESCAPE.search(raw) or _SURROGATE_UTF8.search(raw):
        for where, text in _strings(document):
            lone = _SURROGATE.search(text)
            if lone is not None:
                raise InputError(
                    source, f"not Unicode text: a lone surrogate {shown(lone.group())}", where
                )
    return document


def _strings(document: Any) -> Iterator[tuple[str, str]]:
    """Every key and string value of a document, with its JSON path (no recursion: a
    document may be nested as deep as the parser went)."""
    stack: list[tuple[str, Any]] = [("$", document)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            yield where, value
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                yield f"{where}.{key}", key
                stack.append((f"{where}.{key}", item))
        elif isinstance(value, list):
            stack.extend((f"{where}[{n}]", item) for n, item in reversed(list(enumerate(value))))


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],:]')


def deepest(text: str) -> tuple[int, int]:
    """The deepest nesting of a JSON text, and the position where it is first reached."""
    depth = best = at = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in "{[":
            depth += 1
            if depth > best:
                best, at = depth, match.start()
        elif token in "}]":
            depth -= 1
    return best, at


def json_path_at(text: str, pos: int) -> str:
    """The JSON path (``$.Vpcs[2].CidrBlock``) of the value being read at ``pos``.

    >>> text = '{"A": [{"B": 1}, {"C": [1, 2, {"D": "x,]"'
    >>> json_path_at(text, len(text))
    '$.A[1].C[2].D'
    """
    stack: list[list[Any]] = []  # [kind, key-or-index, expecting_key]
    last_string: str | None = None
    for match in _TOKEN.finditer(text, 0, pos):
        token = match.group()
        if token == "{":
            stack.append(["obj", None, True])
        elif token == "[":
            stack.append(["arr", 0, False])
        elif token in "}]":
            if stack:
                stack.pop()
        elif token == ",":
            if stack:
                top = stack[-1]
                if top[0] == "arr":
                    top[1] += 1
                else:
                    top[2] = True
        elif token == ":":
            if stack and stack[-1][0] == "obj":
                stack[-1][1] = last_string
                stack[-1][2] = False
        else:
            try:
                last_string = json.loads(token)
            except json.JSONDecodeError:
                last_string = token.strip('"')
    out = "$"
    for kind, key, _expecting in stack:
        if kind == "arr":
            out += f"[{key}]"
        elif key is not None:
            out += f".{key}"
    return out
