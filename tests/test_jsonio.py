"""The one JSON reader and writer, and how input errors show values: one line, cut."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import jsonio
from core.errors import InputError, shown
from core.jsonio import minify, normalized, parse_json, pretty, read_json, write_json


def test_writers_escape_lone_surrogates_and_read_back_the_same(tmp_path: Path) -> None:
    document = {"name": "snap-\udcff", "pair": "\U0001f600", "key\ud800": 1}
    file = write_json(tmp_path / "out.json", document)
    text = file.read_bytes().decode("utf-8")  # strict: the file is UTF-8
    assert "\\udcff" in text and "\U0001f600" in text  # a real character stays itself
    assert json.loads(text) == document
    for writer in (minify, normalized, pretty):
        assert json.loads(writer(document)) == document
    # valid text is written as before: no escape where none is needed
    assert minify({"a": "caf\u00e9"}) == '{"a":"caf\u00e9"}'


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        (b'{"a": [1, {"b": "\\udfff"}]}', "$.a[1].b", "lone surrogate"),
        (b'{"a\\ud800": 1}', "$.a\ud800", "lone surrogate"),
        (b'{"a": "\xed\xbf\xbf"}', "$.a", "lone surrogate"),
        (b'{"a": {"b": "\xfe"}}', "$.a.b", "not UTF-8"),
        (b'{"a": ' + b"[" * 100_000, "$.a[0]", "levels deep"),
        (b'{"s": "' + b"7" * 5000 + b'", "n": -' + b"7" * 5000 + b"}", "$.n", "5,000 digits"),
        (b'{"a": [1, 2', "$.a[1]", "invalid JSON"),
    ],
)
def test_read_json_names_the_json_path(tmp_path: Path, raw: bytes, field: str, words: str) -> None:
    file = tmp_path / "policy.json"
    file.write_bytes(raw)
    with pytest.raises(InputError) as caught:
        read_json(file)
    assert caught.value.source == str(file)
    assert (caught.value.field or "").startswith(field)
    assert words in caught.value.message
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 700


def test_surrogate_pairs_and_escapes_are_text(tmp_path: Path) -> None:
    file = tmp_path / "ok.json"
    file.write_bytes(b'{"a": "\\ud83d\\ude00", "b": "\\\\ud800"}')
    assert read_json(file) == {"a": "\U0001f600", "b": "\\ud800"}


def test_an_error_line_is_bounded_and_printable() -> None:
    err = InputError("f.yaml", f"{shown('x' * 200_000)} is not a region", "ivs.regions[0]")
    line = str(err)
    assert line.startswith("f.yaml: ivs.regions[0]: 'xxxx")
    assert "(200,000 characters) is not a region" in line and len(line) < 200
    line = str(InputError("f\nx", "a\r\nb\ud800 \u2028" + "y" * 10_000, "$." + "k" * 10_000))
    assert "\n" not in line and "\r" not in line and "\u2028" not in line
    assert "\\ud800" in line and len(line) < 1000
    line.encode("utf-8")  # no lone surrogate left to fail a terminal's encoder


# ---- the fast decoder answers as the standard library does -------------------------------

#: JSON values, text with any code point (lone surrogates too) and numbers of any size
json_documents = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(st.characters(codec=None, exclude_categories=())),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def _answer(raw: bytes) -> tuple[str, str]:
    """What ``parse_json`` answers: the document (as its repr: NaN is not equal to
    itself) or the error's words."""
    try:
        return "document", repr(parse_json(raw, "f.json"))
    except InputError as err:
        return "error", str(err)


def _refuse(_raw: bytes) -> Any:
    raise msgspec.DecodeError("refused")


def _stdlib_answer(raw: bytes) -> tuple[str, str]:
    """``parse_json``'s answer when the fast decoder refuses everything: the standard
    library's alone."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jsonio, "_FAST_DECODE", _refuse)
        return _answer(raw)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(document=json_documents, ascii_only=st.booleans(), cut=st.integers(0, 40))
def test_the_fast_decoder_reads_as_the_standard_library_reads(
    document: Any, ascii_only: bool, cut: int
) -> None:
    text = json.dumps(document, ensure_ascii=ascii_only)  # NaN, Infinity, surrogates kept
    raw = text.encode("utf-8", errors="surrogatepass")
    for sample in (raw, raw[: len(raw) - cut], raw.replace(b"1", b"1" * 20)):
        assert _answer(sample) == _stdlib_answer(sample)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": 1, "b": 2, "a": 3}',  # the last value, at the first key's place
        b"\xef\xbb\xbf{}",  # a byte order mark
        b'{"n": 18446744073709551616, "m": -9223372036854775809, "x": 1e400, "y": NaN}',
        b'{"a\\ud800": 1}',
        b'["\\ud83d\\ude00", "\\udc00\\ud800", "\xed\xa0\x80"]',
        b"[1" + b"0" * 4300 + b"]",
        b"[1" + b"0" * 4299 + b"]",
        b'{"a": -0, "b": -0.0, "c": 2.5e-324, "d": 1.7976931348623157e308}',
    ],
)
def test_what_the_fast_decoder_refuses_is_read_by_the_standard_library(raw: bytes) -> None:
    assert _answer(raw) == _stdlib_answer(raw)


def test_both_decoders_refuse_the_same_nesting(monkeypatch: pytest.MonkeyPatch) -> None:
    def deepest_read() -> int:
        low, high = 1, 3000
        while low < high:
            mid = (low + high + 1) // 2
            try:
                parse_json(b"[" * mid + b"]" * mid, "f.json")
                low = mid
            except InputError:
                high = mid - 1
        return low

    fast = deepest_read()
    with monkeypatch.context() as patch:
        patch.setattr(jsonio, "_FAST_DECODE", _refuse)
        assert deepest_read() == fast
    assert fast < 3000  # the limit was met, not the search's bound
