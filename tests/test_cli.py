"""The CLI's error lines: input errors exit 2, internal errors exit 3, one line each."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ivs import exposure
from ivs.cli import INTERNAL_ERROR, app


def _broken(*_args: object, **_kwargs: object) -> int:
    raise KeyError("x" * 100_000 + "\nsecond line")


def test_an_internal_error_is_one_line_and_exit_3(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(exposure, "run_exposure", _broken)
    args = ["exposure", "--snapshot", str(tmp_path), "--out", str(tmp_path / "f.json")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == INTERNAL_ERROR == 3
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("ivs: internal error: KeyError: 'xxx")
    assert line.endswith("; run again with --debug for the traceback") and len(line) < 800
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(exposure, "run_exposure", _broken)
    args = ["--debug", "exposure", "--snapshot", str(tmp_path), "--out", str(tmp_path / "f.json")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == INTERNAL_ERROR
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert "in _broken" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("ivs: internal error: KeyError")


def test_input_errors_and_findings_keep_their_codes(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    args = ["exposure", "--snapshot", str(missing), "--out", str(tmp_path / "f.json")]
    result = CliRunner().invoke(app, ["--debug", *args])
    assert result.exit_code == 2 and result.stderr == f"ivs: {missing}: not a snapshot directory\n"
    spec = Path(__file__).resolve().parent.parent / "stacks" / "Pulumi.org.yaml"
    assert CliRunner().invoke(app, ["policies", "lint", "--spec", str(spec)]).exit_code == 0
