"""The one JSON reader and writer, and how input errors show values: one line, cut."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import InputError, shown
from core.jsonio import minify, normalized, pretty, read_json, write_json


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
