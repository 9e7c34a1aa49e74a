"""What a control is: its record, and the typed parameters it reads.

A control is one module of ``governance/controls/`` exporting ``CONTROL``, a
:class:`Control`: its id, the kind of policy that enforces it, its CCM ids, its words for
the written policy, the :class:`ParameterModel` of the parameters it reads (defaults
included), and the function that builds its statements (SCPs) or its document (tag,
backup and EC2 declarative policies). Lint, audit, rendering and ``ivs policy-doc`` read
these records; none of them knows a control by its id.

Parameters stay one flat mapping in the spec (``ivs:parameters``, with per-OU overrides),
as AWS's own settings are: each parameter is declared once, in the control that owns it,
or in ``governance.controls.parameters`` when several controls read it. A control's model
inherits the parameters it reads, and the model of the whole spec
(``governance.controls.Parameters``) inherits every control's, so the parameters in force
at a target are one object that each control reads as its own model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from core.spec import Spec
from core.vocabulary import PolicyKind

#: Organization policy kinds; ``account``: settings the account stacks apply;
#: ``organization``: settings the org stack applies from the spec's ``ivs:fleet``.
ControlKind = PolicyKind | Literal["account", "organization"]

Statement = dict[str, Any]


class ParameterModel(BaseModel):
    """Parameters, as the spec gives them: unknown names and wrong types are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParameters(ParameterModel):
    """A control that reads no parameter."""


def _no_words(params: Any, spec: Spec) -> str | None:
    return None


@dataclass(frozen=True)
class Control:
    """One built-in control.

    ``statements`` (SCP and RCP controls) returns the statements for the parameters at
    one target; ``document`` (tag, backup and declarative controls) returns the whole
    document, or None when the parameters leave nothing to enforce; ``child_document``
    (optional) turns a child target's document into what it must say on top of the
    parent's, for policy kinds that inherit by override. ``words`` says the parameters
    that give the control its meaning at a target, for the written policy; for an
    ``organization`` control, None means that the spec does not use it.
    ``enforcement`` says, for ``account`` and ``organization`` controls, what applies them.
    """

    id: str
    kind: ControlKind
    title: str
    ccm: tuple[str, ...]
    statement: str  # the control in words, for the written policy
    rationale: str
    parameters: type[ParameterModel] = NoParameters
    statements: Callable[[Any, Spec], list[Statement]] | None = None
    document: Callable[[Any, Spec], dict[str, Any] | None] | None = None
    child_document: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] | None = None
    words: Callable[[Any, Spec], str | None] = _no_words
    enforcement: str = ""

    @property
    def switchable(self) -> bool:
        """Switched on per target in the spec (every kind but ``account`` and
        ``organization``)."""
        return self.kind not in ("account", "organization")
