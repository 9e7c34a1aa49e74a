"""Policy documents as plain data: what the builders return and lint, Pulumi and audit read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.vocabulary import POLICY_TYPES, PolicyKind


@dataclass(frozen=True)
class PolicyDocument:
    """One Organizations policy as it will be deployed.

    ``name`` is unique within the organization and stable across runs (the Pulumi resource
    name and the audit's key). ``targets`` are ``"root"``, OU paths (``Workloads/Prod``) or
    12-digit account ids, exactly as in the spec. ``controls`` lists the catalogue control
    ids whose statements it holds (empty for the organization's own documents).
    """

    name: str
    kind: PolicyKind
    content: dict[str, Any]
    targets: tuple[str, ...]
    description: str = ""
    controls: tuple[str, ...] = field(default=())
    custom: bool = False
    #: For built-in SCPs: the control whose statement each ``Statement`` entry is.
    statement_controls: tuple[str, ...] = field(default=())

    @property
    def policy_type(self) -> str:
        """The Organizations API type, for example ``SERVICE_CONTROL_POLICY``."""
        return POLICY_TYPES[self.kind]
