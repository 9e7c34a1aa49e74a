"""``SecurityServices``: one delegated administrator for GuardDuty, Amazon Inspector and
Security Hub, with every member account enabled, in every governed region.

A child of ``OrganizationBaseline`` in the ``org`` stack, declared when the spec's
``ivs:fleet`` names a ``delegated_admin_account``, for the services of
``security_services`` that are delegated (``governance.controls.security_services``).

Two providers, because each half of the work belongs to one account. The management
account designates the administrator: "Only the organization's management account can
run this API operation" (GuardDuty API Reference, *EnableOrganizationAdminAccount*; the
same holds for Security Hub and Inspector). The organization configuration lives in the
administrator account: "Only the Security Hub administrator account can invoke this
operation" (Security Hub API Reference, *UpdateOrganizationConfiguration*; GuardDuty's
takes the administrator's own detector). So the management account's provider (the
organization baseline's) designates, and a provider assuming the member role in the
administrator account configures, as the account stacks reach member accounts. Every
resource names its region (pulumi-aws v7 ``region``): the services and their delegated
administration are regional.

Per governed region:

- GuardDuty: the administrator's ``guardduty.Detector``, then
  ``guardduty.OrganizationAdminAccount``, then ``guardduty.OrganizationConfiguration``
  with ``auto_enable_organization_members = "ALL"``, under which "all accounts in the
  organization are enabled automatically", existing and new (GuardDuty API Reference,
  *UpdateOrganizationConfiguration*). The detector comes first, as in AWS's own sample
  (aws-samples/amazon-guardduty-for-aws-organizations-with-terraform): the configuration
  names it.
- Inspector: ``inspector2.DelegatedAdminAccount``, then
  ``inspector2.OrganizationConfiguration`` with EC2 scanning auto-enabled, which holds
  "for new members of your Amazon Inspector organization" only (Inspector API Reference,
  *AutoEnable*), so ``inspector2.Enabler`` also turns EC2 scanning on in the
  administrator account and in the existing members (one enabler holds either the
  administrator or members, not both).
- Security Hub: the administrator's ``securityhub.Account``, then
  ``securityhub.OrganizationAdminAccount``, then ``securityhub.OrganizationConfiguration``
  with ``auto_enable``, which enables Security Hub "in new member accounts when they join
  the organization" (Security Hub API Reference, *UpdateOrganizationConfiguration*), so a
  ``securityhub.Member`` enables it in each existing member account.

Trusted access: designating the administrator "enables GuardDuty as a trusted service in
AWS Organizations" (GuardDuty User Guide, *Permissions required to designate a delegated
GuardDuty administrator account*); Inspector and Security Hub do the same on designation
(their designation calls need ``organizations:EnableAWSServiceAccess``). The
organization's ``aws_service_access_principals``, which the baseline leaves as it finds
them, are therefore not touched here.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from core.spec import Spec
from governance.components.account import member_provider
from governance.controls.security_services import administered

TYPE_TOKEN = "ivs:governance:SecurityServices"
SESSION_NAME = "ivs-security-services"
#: GuardDuty: enable every account of the organization, existing and new.
GUARDDUTY_AUTO_ENABLE = "ALL"
INSPECTOR_RESOURCE_TYPES = ["EC2"]


class SecurityServices(pulumi.ComponentResource):
    """The delegated administration of the spec's security services.

    ``management`` is the management account's provider; ``after`` the resources the
    designations must wait for (the organization). ``resources[region]`` lists what was
    declared in each governed region, in the order above.
    """

    admin_account_id: str
    services: tuple[str, ...]
    provider: aws.Provider
    resources: dict[str, list[pulumi.CustomResource]]

    def __init__(
        self,
        name: str,
        spec: Spec,
        management: aws.Provider,
        after: Sequence[pulumi.Resource] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        admin = spec.fleet.delegated_admin_account
        if admin is None:
            raise ValueError("the spec names no delegated administrator (ivs:fleet)")
        self.admin_account_id = admin
        self.services = administered(spec)
        self.provider = member_provider(f"{name}-delegated-admin", spec, admin, SESSION_NAME, self)
        self._in_management = pulumi.ResourceOptions(parent=self, provider=management)
        self._in_admin = pulumi.ResourceOptions(parent=self, provider=self.provider)
        self._after = list(after)
        members = [account.id for account, _ in spec.accounts() if account.id != admin]

        self.resources = {}
        for region in spec.regions:
            made: list[pulumi.CustomResource] = []
            if "guardduty" in self.services:
                made += self._guardduty(f"{name}-{region}", region)
            if "inspector-ec2" in self.services:
                made += self._inspector(f"{name}-{region}", region, members)
            if "securityhub" in self.services:
                made += self._securityhub(f"{name}-{region}", region, members)
            self.resources[region] = made

        self.register_outputs({"delegated_admin_account": admin, "services": list(self.services)})

    def _designate(self, *first: pulumi.Resource) -> pulumi.ResourceOptions:
        """Options of a designation: in the management account, after ``first``."""
        return pulumi.ResourceOptions.merge(
            self._in_management, pulumi.ResourceOptions(depends_on=[*self._after, *first])
        )

    def _configure(self, designation: pulumi.Resource) -> pulumi.ResourceOptions:
        """Options of a configuration: in the administrator account, once designated."""
        return pulumi.ResourceOptions.merge(
            self._in_admin, pulumi.ResourceOptions(depends_on=[designation])
        )

    def _guardduty(self, prefix: str, region: str) -> list[pulumi.CustomResource]:
        detector = aws.guardduty.Detector(
            f"{prefix}-guardduty-detector", enable=True, region=region, opts=self._in_admin
        )
        designation = aws.guardduty.OrganizationAdminAccount(
            f"{prefix}-guardduty-admin",
            admin_account_id=self.admin_account_id,
            region=region,
            opts=self._designate(detector),
        )
        configuration = aws.guardduty.OrganizationConfiguration(
            f"{prefix}-guardduty-organization-configuration",
            detector_id=detector.id,
            auto_enable_organization_members=GUARDDUTY_AUTO_ENABLE,
            region=region,
            opts=self._configure(designation),
        )
        return [detector, designation, configuration]

    def _inspector(
        self, prefix: str, region: str, members: list[str]
    ) -> list[pulumi.CustomResource]:
        designation = aws.inspector2.DelegatedAdminAccount(
            f"{prefix}-inspector-admin",
            account_id=self.admin_account_id,
            region=region,
            opts=self._designate(),
        )
        made: list[pulumi.CustomResource] = [
            designation,
            aws.inspector2.OrganizationConfiguration(
                f"{prefix}-inspector-organization-configuration",
                auto_enable=aws.inspector2.OrganizationConfigurationAutoEnableArgs(
                    ec2=True, ecr=False
                ),
                region=region,
                opts=self._configure(designation),
            ),
            aws.inspector2.Enabler(
                f"{prefix}-inspector-enable-admin",
                account_ids=[self.admin_account_id],
                resource_types=INSPECTOR_RESOURCE_TYPES,
                region=region,
                opts=self._configure(designation),
            ),
        ]
        if members:
            made.append(
                aws.inspector2.Enabler(
                    f"{prefix}-inspector-enable-members",
                    account_ids=members,
                    resource_types=INSPECTOR_RESOURCE_TYPES,
                    region=region,
                    opts=self._configure(designation),
                )
            )
        return made

    def _securityhub(
        self, prefix: str, region: str, members: list[str]
    ) -> list[pulumi.CustomResource]:
        hub = aws.securityhub.Account(
            f"{prefix}-securityhub-account", region=region, opts=self._in_admin
        )
        designation = aws.securityhub.OrganizationAdminAccount(
            f"{prefix}-securityhub-admin",
            admin_account_id=self.admin_account_id,
            region=region,
            opts=self._designate(hub),
        )
        made: list[pulumi.CustomResource] = [
            hub,
            designation,
            aws.securityhub.OrganizationConfiguration(
                f"{prefix}-securityhub-organization-configuration",
                auto_enable=True,
                region=region,
                opts=self._configure(designation),
            ),
        ]
        for member in members:
            made.append(
                aws.securityhub.Member(
                    f"{prefix}-securityhub-member-{member}",
                    account_id=member,
                    invite=False,  # an organization account is enabled, not invited
                    region=region,
                    opts=self._configure(designation),
                )
            )
        return made
