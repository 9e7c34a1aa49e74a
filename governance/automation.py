"""The Pulumi Automation API, behind one small interface.

This is the only module that imports ``pulumi.automation``. ``ivs baseline apply`` and
``ivs vend`` talk to a :class:`StackRunner`: "run this inline program as this stack,
preview or update, and tell me what changed". :class:`AutomationRunner` is the real one
(it drives the Pulumi CLI); tests give a fake that records calls, so the scheduling,
failure and reporting logic is tested without the CLI.

The Automation API needs the Pulumi CLI on ``PATH``; the CLI (and its AWS plugin) comes
from Pulumi, not from a package registry. Where it is missing, :func:`require_pulumi_cli`
raises :class:`~core.errors.ToolMissingError` with one line saying how to install
it, before any account is touched.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from core.errors import ToolMissingError

PROJECT = "ivs-governance"

INSTALL_HINT = (
    "the Pulumi CLI is not installed (needed by the Automation API): install it with "
    "`curl -fsSL https://get.pulumi.com | sh` (or see "
    "https://www.pulumi.com/docs/iac/download-install/), then run `pulumi login`"
)

Program = Callable[[], Any]


@dataclass(frozen=True)
class StackRun:
    """What one preview or update did: operation counts (``create``, ``same``...) and outputs."""

    stack: str
    changes: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)


class StackRunError(Exception):
    """A stack's preview or update failed; ``str()`` is the most telling line of its output."""


class StackRunner(Protocol):
    """Runs an inline program as a stack. Must be safe to call from several threads."""

    def run(
        self,
        stack_name: str,
        program: Program,
        *,
        preview: bool,
        config: Mapping[str, str],
    ) -> StackRun: ...


def require_pulumi_cli() -> str:
    """The path of the ``pulumi`` executable, or :class:`ToolMissingError`."""
    found = shutil.which("pulumi")
    if found is None:
        raise ToolMissingError(INSTALL_HINT)
    return found


def project_dir_of(spec_path: Path) -> Path | None:
    """The Pulumi project (the directory with ``Pulumi.yaml``) holding the spec file, if any."""
    for directory in [spec_path.resolve().parent, *spec_path.resolve().parents]:
        if (directory / "Pulumi.yaml").is_file():
            return directory
    return None


def _unlabelled(line: str) -> str:
    # the Automation API's CommandError text labels the streams: "stderr: error: ..."
    line = line.strip()
    for label in ("stderr:", "stdout:"):
        if line.startswith(label):
            return line[len(label) :].strip()
    return line


def error_line(text: str) -> str:
    """The line of Pulumi's output that says what went wrong (the first ``error:`` line)."""
    lines = [_unlabelled(line) for line in text.splitlines() if line.strip()]
    for line in lines:
        if line.lower().startswith("error:") or " error: " in line.lower():
            return line
    return lines[-1] if lines else "failed without output"


class AutomationRunner:
    """The real runner: ``pulumi.automation`` with an inline program per stack.

    ``work_dir`` is the Pulumi project directory (so account stacks share the org stack's
    project, backend and ``stackConfigDir``); without one, a temporary project named
    ``ivs-governance`` is used. The backend is whatever ``pulumi login`` (or
    ``PULUMI_BACKEND_URL``) says.
    """

    def __init__(self, work_dir: Path | None = None, project_name: str = PROJECT) -> None:
        require_pulumi_cli()
        from pulumi import automation as auto
        from pulumi.automation.errors import InvalidVersionError

        try:
            # One version check for the whole run, shared by every workspace.
            self._command = auto.PulumiCommand()
        except FileNotFoundError:
            raise ToolMissingError(INSTALL_HINT) from None
        except InvalidVersionError as err:
            raise ToolMissingError(f"{err}; {INSTALL_HINT}") from None
        self._work_dir = work_dir
        self._project_name = project_name
        # `pulumi stack init` on one project from several threads at once can race on the
        # project's stack files; creating/selecting is quick, so it is serialised.
        self._select_lock = threading.Lock()

    def _stack(self, stack_name: str, program: Program) -> Any:
        from pulumi import automation as auto

        options = auto.LocalWorkspaceOptions(pulumi_command=self._command)
        if self._work_dir is not None:
            options.work_dir = str(self._work_dir)
        else:
            options.project_settings = auto.ProjectSettings(
                name=self._project_name, runtime="python"
            )
        with self._select_lock:
            return auto.create_or_select_stack(
                stack_name=stack_name,
                project_name=self._project_name,
                program=program,
                opts=options,
            )

    def run(
        self,
        stack_name: str,
        program: Program,
        *,
        preview: bool,
        config: Mapping[str, str],
    ) -> StackRun:
        from pulumi import automation as auto
        from pulumi.automation.errors import CommandError

        output: list[str] = []
        try:
            stack = self._stack(stack_name, program)
            present = stack.get_all_config()
            # Only what is missing: the stack config file is the user's to edit.
            missing = {k: auto.ConfigValue(v) for k, v in config.items() if k not in present}
            if missing:
                stack.set_all_config(missing)
            if preview:
                result = stack.preview(on_output=output.append, on_error=output.append)
                changes = dict(result.change_summary or {})
                return StackRun(stack_name, _counts(changes))
            up = stack.up(on_output=output.append, on_error=output.append)
            outputs = {key: value.value for key, value in up.outputs.items()}
            return StackRun(stack_name, _counts(up.summary.resource_changes or {}), outputs)
        except FileNotFoundError:
            raise ToolMissingError(INSTALL_HINT) from None
        except CommandError as err:
            raise StackRunError(error_line(str(err))) from None
        except Exception as err:  # the program itself raised (a bad spec, a lint error)
            raise StackRunError(error_line("\n".join([*output, str(err)]))) from err


def _counts(changes: Mapping[Any, int]) -> dict[str, int]:
    return {str(getattr(op, "value", op)): int(n) for op, n in changes.items() if n}
