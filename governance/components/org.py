"""``OrganizationBaseline``: policy types on the root, OUs, policies and their attachments.

One component per organization, deployed by the ``org`` stack through one provider for the
management account. Accounts are not created here (vending places them); they are only
attachment targets, by id.

Resource names are stable and derived from the spec, so that ``pulumi import`` can adopt
an existing organization (see the README): ``<name>-organization``,
``<name>-ou-<OU path>``, ``<name>-policy-<document>``, ``<name>-attach-<document>-<target>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from core.errors import InputError
from core.jsonio import minify
from core.spec import ROOT, Spec
from governance.components.security import SecurityServices
from governance.controls.security_services import administered
from governance.policies import organization_policy_types
from governance.policies.model import PolicyDocument

TYPE_TOKEN = "ivs:governance:OrganizationBaseline"
MANAGED_BY_TAG = {"ManagedBy": "ivs-governance"}


def ou_resource_name(component: str, path: str) -> str:
    return f"{component}-ou-{path}"


def policy_resource_name(component: str, document: str) -> str:
    return f"{component}-policy-{document}"


def attachment_resource_name(component: str, document: str, target: str) -> str:
    return f"{component}-attach-{document}-{target}"


def _root_id(roots: Sequence[Any]) -> str:
    if not roots:
        raise ValueError("the organization reports no root")
    first = roots[0]
    return str(first["id"] if isinstance(first, dict) else first.id)


class OrganizationBaseline(pulumi.ComponentResource):
    """The IVS baseline of an AWS Organization.

    Children: one ``aws.Provider`` (the management account), the
    ``aws.organizations.Organization`` (feature set ALL, the policy types enabled on its
    root), one ``OrganizationalUnit`` per spec OU (nested by ``parent_id``), one ``Policy``
    per document (minified JSON) and one ``PolicyAttachment`` per (document, target).
    The organization and every root attachment are protected: ``pulumi destroy`` must not
    strip the root of its guardrails or try to delete the organization. When the spec's
    ``ivs:fleet`` names a delegated administrator (and a service it administers), a
    :class:`SecurityServices` child (``<name>-security``) designates it and enables the
    members.
    """

    organization: aws.organizations.Organization
    provider: aws.Provider
    root_id: pulumi.Output[str]
    units: dict[str, aws.organizations.OrganizationalUnit]
    policies: dict[str, aws.organizations.Policy]
    attachments: list[aws.organizations.PolicyAttachment]
    security: SecurityServices | None

    def __init__(
        self,
        name: str,
        spec: Spec,
        documents: Sequence[PolicyDocument],
        opts: pulumi.ResourceOptions | None = None,
        *,
        region: str | None = None,
    ) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        _check_documents(spec, documents)

        # Organizations is a global API; the region only picks the endpoint's partition.
        self.provider = aws.Provider(
            f"{name}-management",
            region=region or spec.regions[0],
            allowed_account_ids=[spec.organization.management_account_id],
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self, provider=self.provider)

        self.organization = aws.organizations.Organization(
            f"{name}-organization",
            feature_set="ALL",
            enabled_policy_types=organization_policy_types(documents),
            # Trusted service access (CloudTrail, Config, SSO...) is not ours to manage; an
            # adopted organization keeps whatever it has instead of losing it on `up`.
            opts=pulumi.ResourceOptions.merge(
                child,
                pulumi.ResourceOptions(
                    protect=True, ignore_changes=["aws_service_access_principals"]
                ),
            ),
        )
        self.root_id = self.organization.roots.apply(_root_id)

        self.units = {}
        for path, unit in spec.units():
            parent_path, _, _ = path.rpartition("/")
            parent_id = self.units[parent_path].id if parent_path else self.root_id
            self.units[path] = aws.organizations.OrganizationalUnit(
                ou_resource_name(name, path),
                name=unit.name,
                parent_id=parent_id,
                opts=child,
            )

        self.policies = {}
        self.attachments = []
        after_org = pulumi.ResourceOptions.merge(
            child, pulumi.ResourceOptions(depends_on=[self.organization])
        )
        for doc in documents:
            # Depends on the organization so that the policy type is enabled on the root
            # before any policy of that type is created or attached.
            policy = aws.organizations.Policy(
                policy_resource_name(name, doc.name),
                name=doc.name,
                description=doc.description or None,
                type=doc.policy_type,
                content=minify(doc.content),
                tags=MANAGED_BY_TAG,
                opts=after_org,
            )
            self.policies[doc.name] = policy
            for target in doc.targets:
                self.attachments.append(
                    aws.organizations.PolicyAttachment(
                        attachment_resource_name(name, doc.name, target),
                        policy_id=policy.id,
                        target_id=self._target_id(target),
                        opts=pulumi.ResourceOptions.merge(
                            child, pulumi.ResourceOptions(protect=target == ROOT)
                        ),
                    )
                )

        self.security = None
        if administered(spec):
            self.security = SecurityServices(
                f"{name}-security",
                spec,
                management=self.provider,
                after=[self.organization],
                opts=pulumi.ResourceOptions(parent=self),
            )

        ids: dict[str, pulumi.Input[str]] = {n: p.id for n, p in self.policies.items()}
        self.policy_ids: pulumi.Output[Any] = pulumi.Output.from_input(ids)
        self.register_outputs(
            {
                "organization_id": self.organization.id,
                "root_id": self.root_id,
                "enabled_policy_types": self.organization.enabled_policy_types,
                "policy_ids": self.policy_ids,
                "attachment_count": len(self.attachments),
            }
        )

    def _target_id(self, target: str) -> pulumi.Input[str]:
        if target == ROOT:
            return self.root_id
        if target in self.units:
            return self.units[target].id
        return target  # an account id, checked against the spec already


def _check_documents(spec: Spec, documents: Sequence[PolicyDocument]) -> None:
    seen: set[str] = set()
    for doc in documents:
        if doc.name in seen:
            raise InputError("policy documents", "name is used twice", doc.name)
        seen.add(doc.name)
        for target in doc.targets:
            try:
                spec.resolve_target(target)
            except KeyError:
                raise InputError(
                    "policy documents",
                    f"target {target!r} is not 'root', an OU path or an account of the spec",
                    f"{doc.name}.targets",
                ) from None
