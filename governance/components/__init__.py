"""Pulumi components: the organization baseline and the per-account baseline.

Both are ``ComponentResource`` s with their children parented to them, so a stack's
resource tree reads ``OrganizationBaseline -> policies, OUs, attachments,
SecurityServices`` and ``AccountBaseline -> provider, per-region defaults, backup vault
and role``. They take the validated spec (and, for the organization, the policy
documents already built and linted) and read nothing else: no config, no files, no AWS
calls.
"""

from governance.components.account import AccountBaseline
from governance.components.org import OrganizationBaseline, organization_policy_types
from governance.components.security import SecurityServices

__all__ = [
    "AccountBaseline",
    "OrganizationBaseline",
    "SecurityServices",
    "organization_policy_types",
]
