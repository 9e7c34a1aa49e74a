"""Threat detection across the fleet: GuardDuty, Amazon Inspector and Security Hub under
one delegated administrator.

Not switched on per OU: the spec's ``ivs:fleet`` names the account
(``delegated_admin_account``) and the services (``security_services``). The ``org``
stack designates that account as each service's delegated administrator in every
governed region and turns on auto-enable for the members; the audit reads each member
account-region back. No Pulumi or boto3 here: the facts both read.

Each of these services is regional and so is its delegated administration ("Amazon
Inspector is a Regional service"; GuardDuty's delegated administrator "manage[s]
GuardDuty for other accounts in the organization in the current Region"): one
designation per governed region. AWS Config is not delegated here: its recorders are set
up per account, and the fleet posture analysis reports a recorder that is off.
"""

from __future__ import annotations

from core.spec import SecurityService, Spec
from governance.controls.base import Control

ID = "security-services"
CCM = ("IVS-09", "LOG-05")

#: The services the org stack administers through the delegated administrator, in order.
DELEGATED: tuple[SecurityService, ...] = ("guardduty", "inspector-ec2", "securityhub")

#: Each service in words.
TITLES: dict[str, str] = {
    "guardduty": "Amazon GuardDuty",
    "inspector-ec2": "Amazon Inspector EC2 scanning",
    "securityhub": "AWS Security Hub",
}


def administered(spec: Spec) -> tuple[SecurityService, ...]:
    """The services the org stack delegates: those of :data:`DELEGATED` the spec lists,
    none when the spec names no delegated administrator.

    >>> from governance.spec import load_spec
    >>> administered(load_spec("stacks/Pulumi.org.yaml"))
    ('guardduty', 'inspector-ec2', 'securityhub')
    """
    if spec.fleet.delegated_admin_account is None:
        return ()
    return tuple(s for s in DELEGATED if s in spec.fleet.security_services)


def admin_words(spec: Spec) -> str:
    """The delegated administrator by name and id (``audit (200000000002)``)."""
    admin = spec.fleet.delegated_admin_account
    assert admin is not None
    try:
        account, _ = spec.account(admin)
    except KeyError:
        return admin
    return f"{account.name} ({admin})"


def words(params: object, spec: Spec) -> str | None:
    services = administered(spec)
    if not services:
        return None
    titles = [TITLES[s] for s in services]
    named = ", ".join(titles[:-1]) + " and " + titles[-1] if len(titles) > 1 else titles[0]
    return (
        f"{named} in {', '.join(spec.regions)}, administered by the delegated administrator "
        f"{admin_words(spec)}"
    )


CONTROL = Control(
    ID,
    "organization",
    "Threat detection across the fleet",
    CCM,
    "One delegated administrator account runs the organization's threat detection: in "
    "every governed region it administers the security services the spec lists (of "
    "GuardDuty, Amazon Inspector scanning EC2 instances and Security Hub), and each of "
    "them is on in every member account, existing and new.",
    "Threat detection that a member account can miss, or that starts only when someone "
    "remembers to enable it in a new account, leaves virtual machines unwatched.",
    words=words,
    enforcement="the `org` stack: in every governed region, the management account "
    "designates the delegated administrator for each service, and in the delegated "
    "administrator account the organization configuration enables every member "
    "(GuardDuty `auto_enable_organization_members` ALL, Inspector and Security Hub "
    "auto-enable for new members and enabled in the existing ones); the drift audit "
    "reads each member account and region back.",
)
