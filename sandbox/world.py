"""The organization ``ivs demo`` builds in its AWS stand-in: who has which network, what
was done wrong on purpose, and what only looks wrong.

Everything is created through ordinary boto3 calls on a moto server in this process
(:func:`aws_stand_in`), so the collector, the audit and the analysis read it exactly as
they would read AWS. The organization itself is the example spec's
(``sandbox.organization.seed_organization``); the networks are
``sandbox.network.seed_network`` estates, chosen per account and region in
:data:`ESTATES` and then changed as listed in :data:`PLANTED`, through the same boto3
helpers (:mod:`sandbox.seeding`) the estates are built with.

The estates (CIDRs ``10.<base>.0.0/16``):

========================  ==========  ====  =============================================
account                   region      base  network
========================  ==========  ====  =============================================
400000000001 payments     us-east-1   10    prod (bastion, app, database) and shared
                                            services over a transit gateway
400000000001 payments     eu-west-1   30    prod, disaster recovery
400000000002 web          us-east-1   40    prod behind an internet-facing load balancer
400000000002 web          eu-west-1   50    prod, second region
500000000001 payments-dev us-east-1   20    dev, peered with payments prod
500000000002 web-staging  us-east-1   60    staging, built here (the two traps)
========================  ==========  ====  =============================================

Every other account-region of the organization has its default VPC removed and holds
nothing. Beyond what the planted items change, every estate follows common practice, so
that the analysis has nothing else to say: hosts are reached through Session Manager (no
SSH rule), and each VPC's default network ACL admits the private range and return traffic
only.

The planted items (:data:`PLANTED`) are of three kinds:

- ``mistake``: a real error that the analysis or the audit must report;
- ``by-design``: exposure that is there on purpose and that the analysis rightly lists
  for confirmation (the public web tier);
- ``trap``: something that looks exposed but is not, which must produce no finding.

:meth:`World.as_dict` (written as ``demo-world.json``) names every created id and, per
planted item, the exact findings (rule, resource, ports) or audit records expected.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from core.aws import Aws
from core.errors import InputError
from core.spec import Spec
from graph.rules import iam as iam_rules
from sandbox import seeding as seed
from sandbox.access import plant_access
from sandbox.network import NetworkPlan, SeededNetwork, seed_network
from sandbox.organization import SeededOrganization
from sandbox.posture import change_between_runs as posture_changes
from sandbox.posture import plant_posture, seed_posture
from sandbox.seeding import WORLD, subnet_cidr

__all__ = [
    "ESTATES",
    "PLANTED",
    "Estate",
    "Expected",
    "Planted",
    "World",
    "aws_stand_in",
    "finding_key",
    "operator_credentials",
    "plant_account_drift",
    "seed_workloads",
]

PRIVATE_RANGE = "10.0.0.0/8"
EPHEMERAL = (1024, 65535)

PAYMENTS_PROD = "400000000001"
WEB_PROD = "400000000002"
PAYMENTS_DEV = "500000000001"
WEB_STAGING = "500000000002"
US = "us-east-1"
EU = "eu-west-1"


@dataclass(frozen=True)
class Estate:
    """One account-region's network, seeded by ``seed_network`` with ``plan``."""

    account: str
    region: str
    plan: NetworkPlan
    purpose: str

    @property
    def key(self) -> str:
        return f"{self.account}/{self.region}"


ESTATES: tuple[Estate, ...] = (
    Estate(
        PAYMENTS_PROD,
        US,
        NetworkPlan(
            base_octet=10,
            dev=False,
            load_balancer=False,
            dev_reaches_prod_database=False,
            flow_logs=("prod", "shared"),
            strip_default_sg_rules=("prod", "shared"),
        ),
        "payments: bastion, app and database tiers; shared services over a transit gateway",
    ),
    Estate(
        PAYMENTS_PROD,
        EU,
        NetworkPlan(
            base_octet=30,
            dev=False,
            shared=False,
            load_balancer=False,
            ssh_open_to_world=False,
            dev_reaches_prod_database=False,
        ),
        "payments disaster recovery",
    ),
    Estate(
        WEB_PROD,
        US,
        NetworkPlan(
            base_octet=40,
            dev=False,
            shared=False,
            ssh_open_to_world=False,
            dev_reaches_prod_database=False,
        ),
        "public web tier behind an internet-facing load balancer",
    ),
    Estate(
        WEB_PROD,
        EU,
        NetworkPlan(
            base_octet=50,
            dev=False,
            shared=False,
            load_balancer=False,
            ssh_open_to_world=False,
            dev_reaches_prod_database=False,
            flow_logs=(),
        ),
        "web tier, second region",
    ),
    Estate(
        PAYMENTS_DEV,
        US,
        NetworkPlan(
            base_octet=20,
            prod=False,
            shared=False,
            flow_logs=("dev",),
            strip_default_sg_rules=(),
        ),
        "payments developers",
    ),
)

#: The staging VPC of ``web-staging`` (built here: ``seed_network`` has no staging zone).
STAGING_ACCOUNT, STAGING_REGION, STAGING_CIDR = WEB_STAGING, US, "10.60.0.0/16"

Kind = Literal["mistake", "by-design", "trap"]


@dataclass(frozen=True)
class Planted:
    """One thing done on purpose, and why it is (or is not) exposed."""

    key: str
    kind: Kind
    title: str
    account: str
    region: str
    detail: str


PLANTED: tuple[Planted, ...] = (
    Planted(
        "ssh-open-to-world",
        "mistake",
        "SSH open to the world on a public instance",
        PAYMENTS_PROD,
        US,
        "The bastion's security group admits tcp 22 from 0.0.0.0/0; the bastion has a "
        "public IP in a subnet routed to the internet gateway, and the subnet's ACL allows 22.",
    ),
    Planted(
        "dev-peered-into-prod",
        "mistake",
        "A dev VPC peered into prod",
        PAYMENTS_PROD,
        US,
        "payments-dev's dev VPC is peered with payments' prod VPC (another account), with "
        "routes both ways, and the database group admits tcp 5432 from the dev CIDR.",
    ),
    Planted(
        "database-subnet-on-public-route-table",
        "mistake",
        "A database subnet on the public route table",
        PAYMENTS_PROD,
        US,
        "The database subnet, holding an RDS interface, is associated with the route table "
        "whose default route goes to the internet gateway.",
    ),
    Planted(
        "default-sg-has-rules",
        "mistake",
        "A default security group with rules",
        PAYMENTS_DEV,
        US,
        "The dev VPC's default security group was given a rule (all traffic from "
        "10.0.0.0/8) and keeps AWS's default allow-all egress; no instance uses it yet.",
    ),
    Planted(
        "vpc-without-flow-logs",
        "mistake",
        "A VPC without flow logs",
        WEB_PROD,
        EU,
        "The web prod VPC in eu-west-1 has no flow log.",
    ),
    Planted(
        "ebs-encryption-off",
        "mistake",
        "EBS encryption by default off in one region",
        PAYMENTS_DEV,
        EU,
        "The baseline turned EBS encryption by default on; it was turned off again in "
        "payments-dev's eu-west-1.",
    ),
    Planted(
        "public-web-tier",
        "by-design",
        "The public web tier",
        WEB_PROD,
        US,
        "The internet-facing load balancer listens on 80 and 443 and forwards to two "
        "private app instances on 8080: exposure on purpose, listed for confirmation.",
    ),
    Planted(
        "ci-passes-admin-role",
        "mistake",
        "A CI role that can launch an instance with an administrator role",
        PAYMENTS_DEV,
        "global",
        "payments-dev's CI role dev-ci may run instances and pass any role; build-admin, "
        "on the approved path the SCPs leave open to role passing, holds every permission "
        "and is in an instance profile.",
    ),
    Planted(
        "internet-exposed-admin-role",
        "mistake",
        "The internet-exposed bastion runs as an administrator",
        PAYMENTS_PROD,
        US,
        "The bastion the internet reaches on SSH has the instance profile of the role "
        "bastion, which holds every permission: whoever gets onto it is administrator and "
        "can run commands on every other instance of the account.",
    ),
    Planted(
        "ssm-to-developers",
        "mistake",
        "Developers may run commands on production instances",
        PAYMENTS_PROD,
        US,
        "The group developers (alice.dev is in it) may ssm:SendCommand on every instance "
        "of payments-prod in us-east-1.",
    ),
    Planted(
        "volume-before-the-baseline",
        "mistake",
        "An unencrypted volume made before the baseline",
        PAYMENTS_DEV,
        US,
        "A volume created while EBS encryption by default was still off: the baseline "
        "encrypts new volumes, not this one.",
    ),
    Planted(
        "snapshot-shared-outside",
        "mistake",
        "A snapshot shared with an account outside the organization",
        PAYMENTS_DEV,
        US,
        "A snapshot of that volume, with a create-volume permission for 999988887777 (a "
        "contractor), which is no account of the organization.",
    ),
    Planted(
        "image-made-public",
        "mistake",
        "An image made public",
        PAYMENTS_DEV,
        US,
        "An image of the dev box, its launch permission opened to everyone.",
    ),
    Planted(
        "instance-allows-imdsv1",
        "mistake",
        "An instance still allowing IMDSv1",
        PAYMENTS_DEV,
        US,
        "The dev box's metadata options were set back to HttpTokens optional.",
    ),
    Planted(
        "instance-unapproved-image",
        "mistake",
        "An instance running an image of an unapproved owner",
        PAYMENTS_DEV,
        US,
        "build-box runs the dev account's own image; the approved owners are Amazon and the "
        "shared-services account.",
    ),
    Planted(
        "instance-untagged",
        "mistake",
        "An instance without its classification tags",
        PAYMENTS_PROD,
        EU,
        "payments' app-a in eu-west-1 lost its DataClassification, ComplianceScope and Owner tags.",
    ),
    Planted(
        "instance-without-backup",
        "mistake",
        "An instance with no recent backup",
        WEB_PROD,
        EU,
        "web's database instance in eu-west-1 is in no backup plan: no recovery point.",
    ),
    Planted(
        "guardduty-off",
        "mistake",
        "GuardDuty off in one account-region",
        WEB_STAGING,
        EU,
        "The detector of web-staging in eu-west-1 was deleted.",
    ),
    Planted(
        "sg-open-acl-denies",
        "trap",
        "SSH open to the world in the group, denied by the subnet's ACL",
        WEB_STAGING,
        US,
        "A public instance whose group admits tcp 22 from 0.0.0.0/0, but whose subnet's "
        "network ACL denies tcp 22 inbound (rule 90) before it allows everything else.",
    ),
    Planted(
        "public-ip-without-igw-route",
        "trap",
        "A public IP in a subnet with no internet gateway route",
        WEB_STAGING,
        US,
        "An instance with a public IP whose group and ACL admit tcp 22 and 443 from "
        "0.0.0.0/0, in a subnet whose route table has no route to the internet gateway.",
    ),
    Planted(
        "snapshot-shared-with-member",
        "trap",
        "A snapshot shared with another member account",
        PAYMENTS_DEV,
        US,
        "A second snapshot of the old volume, shared with web-staging: an account of the "
        "organization, so not outside it.",
    ),
    Planted(
        "scp-blocks-instance-profiles",
        "trap",
        "A role allowed any instance profile, denied it by the OU's SCP",
        PAYMENTS_PROD,
        "global",
        "ops-profiles' identity policy allows iam:CreateInstanceProfile on every profile; "
        "the Workloads OU's SCP denies creating one outside the approved paths.",
    ),
)

PLANTED_BY_KEY = {p.key: p for p in PLANTED}
#: The planted items about the fleet's posture (``sandbox.posture``), with the finding each
#: must produce: (rule, logical id, account of the finding's resource when it is the account).
POSTURE_PLANTS: dict[str, tuple[str, str]] = {
    "volume-before-the-baseline": ("ebs-volume-unencrypted", "fleet.volume.unencrypted"),
    "snapshot-shared-outside": ("snapshot-shared-outside-organization", "fleet.snapshot.outside"),
    "image-made-public": ("image-public", "fleet.image.public"),
    "instance-allows-imdsv1": ("instance-imdsv1-allowed", "fleet.instance.imdsv1"),
    "instance-unapproved-image": ("instance-unapproved-image", "fleet.instance.unapproved"),
    "instance-untagged": ("instance-missing-required-tags", "fleet.instance.untagged"),
    "instance-without-backup": ("instance-no-recent-backup", "fleet.instance.unprotected"),
}
#: The planted items about IAM (``sandbox.access``).
ACCESS_PLANTS = ("ci-passes-admin-role", "internet-exposed-admin-role", "ssm-to-developers")


@dataclass(frozen=True)
class Expected:
    """A finding (``rule``, ``resource``, ``ports``) or an audit drift (``account``,
    ``region``, ``control``) that a planted item must produce."""

    rule: str | None = None
    resource: str | None = None
    ports: str | None = None
    account: str | None = None
    region: str | None = None
    control: str | None = None
    #: the principal, for the IAM rules (one instance may be taken over by several)
    source: str | None = None

    def as_dict(self) -> dict[str, Any]:
        if self.control is not None:
            return {"account": self.account, "region": self.region, "control": self.control}
        return {
            "rule": self.rule,
            "resource": self.resource,
            "ports": self.ports,
            "source": self.source,
        }


#: Rules whose findings are told apart by their source (the principal) as well.
BY_SOURCE = frozenset(rule.id for rule in iam_rules.RULES)


def finding_key(finding: Mapping[str, Any]) -> tuple[str, str, str | None, str | None]:
    """What the check compares a finding by: rule, resource, ports, and the source for
    the IAM rules."""
    rule = str(finding["rule"])
    source = finding.get("source") if rule in BY_SOURCE else None
    return (rule, str(finding["resource"]), finding.get("ports"), source)


@dataclass
class World:
    """What was created, and what each planted item must (or must not) produce."""

    endpoint: str
    organization: SeededOrganization
    networks: dict[str, SeededNetwork] = field(default_factory=dict)  # Estate.key -> ids
    #: ids created here on top of the estates, by logical name (``staging.i.jump``)
    ids: dict[str, str] = field(default_factory=dict)
    cleared: list[tuple[str, str]] = field(default_factory=list)  # default VPCs removed

    def net(self, account: str, region: str) -> SeededNetwork:
        return self.networks[f"{account}/{region}"]

    def findings(self, key: str) -> list[Expected]:
        """The findings (or audit records) planted item ``key`` must produce."""
        payments = self.networks.get(f"{PAYMENTS_PROD}/{US}")
        dev = self.networks.get(f"{PAYMENTS_DEV}/{US}")
        web = self.networks.get(f"{WEB_PROD}/{US}")
        web_eu = self.networks.get(f"{WEB_PROD}/{EU}")
        if key == "ssh-open-to-world" and payments is not None:
            return [Expected("internet-exposed-admin-port", payments["i.bastion"], "22")]
        if key == "dev-peered-into-prod" and payments is not None:
            return [Expected("cross-zone-path", payments["i.db"], "5432")]
        if key == "database-subnet-on-public-route-table":
            return [Expected("sensitive-in-public-subnet", self.ids["payments.eni.rds"])]
        if key == "default-sg-has-rules" and dev is not None:
            return [Expected("default-sg-has-rules", dev["sg.dev.default"])]
        if key == "vpc-without-flow-logs" and web_eu is not None:
            return [Expected("vpc-flow-logs-missing", web_eu["vpc.prod"])]
        if key == "ebs-encryption-off":
            return [Expected(account=PAYMENTS_DEV, region=EU, control="ebs-encryption-by-default")]
        if key in ACCESS_PLANTS:
            return self._access_findings(key)
        if key in POSTURE_PLANTS:
            rule, name = POSTURE_PLANTS[key]
            return [Expected(rule, self.ids[name])] if name in self.ids else []
        if key == "guardduty-off":  # the analysis sees it, and so does the audit
            return [
                Expected("guardduty-disabled", WEB_STAGING),
                Expected(account=WEB_STAGING, region=EU, control="guardduty-enabled"),
            ]
        if key == "public-web-tier" and web is not None:
            return [
                Expected("internet-exposed-port", web["alb.prod"], "80,443"),
                Expected("internet-exposed-port", web["i.app-a"], "8080"),
                Expected("internet-exposed-port", web["i.app-b"], "8080"),
            ]
        return []

    def _access_findings(self, key: str) -> list[Expected]:
        ids, payments = self.ids, self.networks.get(f"{PAYMENTS_PROD}/{US}")
        if key == "ci-passes-admin-role":
            return [
                Expected(
                    "vm-admin-permission-broad",
                    ids["iam.role.dev-ci"],
                    source=ids["iam.role.dev-ci"],
                ),
                Expected(
                    "vm-admin-permission-broad",
                    ids["iam.role.build-admin"],
                    source=ids["iam.role.build-admin"],
                ),
            ]
        if payments is None:
            return []
        tiers = ("i.bastion", "i.app-a", "i.app-b", "i.db")
        prod_us = [payments.ids[n] for n in tiers if n in payments.ids]
        if key == "ssm-to-developers":
            alice = ids["iam.user.alice"]
            return [Expected("vm-takeover-path", i, source=alice) for i in prod_us]
        role, bastion = ids["iam.role.bastion"], payments["i.bastion"]
        dr = self.networks.get(f"{PAYMENTS_PROD}/{EU}")
        prod_eu = [dr.ids[n] for n in tiers if n in dr.ids] if dr else []
        return [
            Expected("internet-exposed-instance-escalation", bastion, source="internet"),
            Expected("instance-role-escalation", bastion, source=role),
            Expected("vm-admin-permission-broad", role, source=role),
            *(
                Expected("vm-takeover-path", i, source=role)
                for i in [*prod_us, *prod_eu]
                if i != bastion
            ),
        ]

    def trap_resources(self, key: str) -> list[str]:
        """The resources of trap ``key``: none may appear in any finding."""
        names = {
            "sg-open-acl-denies": ["staging.i.jump", "staging.sg.ssh-open"],
            "public-ip-without-igw-route": ["staging.i.batch", "staging.sg.web-open"],
            "scp-blocks-instance-profiles": ["iam.role.ops-profiles"],
            "snapshot-shared-with-member": ["fleet.snapshot.member"],
        }[key]
        return [self.ids[name] for name in names]

    def as_dict(self, spec: Spec) -> dict[str, Any]:
        names = {a.id: a.name for a, _ in spec.accounts()}
        planted = []
        for item in PLANTED:
            entry: dict[str, Any] = {
                "key": item.key,
                "kind": item.kind,
                "title": item.title,
                "account": item.account,
                "account_name": names.get(item.account),
                "region": item.region,
                "detail": item.detail,
            }
            if item.kind == "trap":
                entry["resources"] = self.trap_resources(item.key)
            else:
                expected = self.findings(item.key)
                entry["findings"] = [e.as_dict() for e in expected if e.control is None]
                entry["audit"] = [e.as_dict() for e in expected if e.control is not None]
            planted.append(entry)
        org = self.organization
        return {
            "format": 1,
            "endpoint": self.endpoint,
            "organization": {
                "id": org.organization_id,
                "management_account": org.management_account_id,
                "root": org.root_id,
                "units": org.units,
                "accounts": {a: names.get(a) for a in org.accounts},
                "policies": org.policies,
            },
            "estates": [
                {
                    "account": estate.account,
                    "account_name": names.get(estate.account),
                    "region": estate.region,
                    "purpose": estate.purpose,
                    "ids": self.networks[estate.key].ids,
                }
                for estate in ESTATES
                if estate.key in self.networks
            ],
            "staging": {
                "account": STAGING_ACCOUNT,
                "region": STAGING_REGION,
                "ids": {
                    k.removeprefix("staging."): v
                    for k, v in self.ids.items()
                    if k.startswith("staging.")
                },
            },
            "extra": {k: v for k, v in self.ids.items() if not k.startswith("staging.")},
            "default_vpcs_removed": [{"account": a, "region": r} for a, r in self.cleared],
            "planted": planted,
        }


# ---- the stand-in ----------------------------------------------------------------------------


#: What the demo sets in the environment for its own run (restored afterwards).
FAKE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": US,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    # moto's public AMI catalogue: thousands of images per account-region, unused here
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
}


def _is_demo_variable(name: str) -> bool:
    return name.startswith(("AWS_", "BOTO_", "MOTO_"))


@contextmanager
def aws_stand_in() -> Iterator[str]:
    """Start a moto server on 127.0.0.1 in this process; yield its endpoint URL.

    For the length of the block the process environment holds fake credentials and
    ``AWS_ENDPOINT_URL`` pointing at the server (every ``AWS_*``, ``BOTO_*`` and ``MOTO_*``
    variable of the caller is set aside), so that no client can reach anything but
    loopback or use real credentials. On exit the server is stopped, its socket closed
    and the caller's environment put back exactly.
    """
    saved = {name: value for name, value in os.environ.items() if _is_demo_variable(name)}
    for name in saved:
        del os.environ[name]
    os.environ.update(FAKE_ENVIRONMENT)
    werkzeug = logging.getLogger("werkzeug")
    level = werkzeug.level
    werkzeug.setLevel(logging.ERROR)
    server = None
    try:
        from moto.server import ThreadedMotoServer

        from sandbox import moto_ext, moto_fleet

        moto_ext.install()
        moto_fleet.install()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        yield endpoint
    finally:
        if server is not None:
            server.stop()
            # stop() ends serve_forever but leaves the listening socket open
            wsgi = getattr(server, "_server", None)
            if wsgi is not None:
                wsgi.server_close()
        werkzeug.setLevel(level)
        for name in [n for n in os.environ if _is_demo_variable(n)]:
            del os.environ[name]
        os.environ.update(saved)


def operator_credentials(spec: Spec, aws: Aws, user: str = "ivs-demo-operator") -> dict[str, str]:
    """An IAM user of the management account and its access key, as environment variables.

    The demo then runs as an operator of the management account would: the collector
    reads that account with these credentials and assumes the member role elsewhere.
    """
    from sandbox.organization import management_aws

    iam = management_aws(spec, aws).client("iam")
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return {
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
    }


# ---- seeding ---------------------------------------------------------------------------------


def check_spec(spec: Spec, source: str) -> None:
    """The world names accounts of the example spec: say which one is missing."""
    known = {a.id for a, _ in spec.accounts()}
    needed = {e.account for e in ESTATES} | {p.account for p in PLANTED} | {STAGING_ACCOUNT}
    for account in sorted(needed - known):
        raise InputError(source, f"the demo needs member account {account}", "ivs.organization")
    for region in sorted(({e.region for e in ESTATES} | {STAGING_REGION}) - set(spec.regions)):
        raise InputError(source, f"the demo needs governed region {region}", "ivs.regions")


def plant_account_drift(spec: Spec, aws: Aws) -> None:
    """After the baseline: turn EBS encryption by default off where the world says."""
    item = PLANTED_BY_KEY["ebs-encryption-off"]
    member = aws.assume(item.account, spec.member_role_name)
    member.client("ec2", item.region).disable_ebs_encryption_by_default()


def seed_workloads(
    spec: Spec,
    aws: Aws,
    endpoint: str,
    organization: SeededOrganization,
    *,
    progress: Callable[[str], None] | None = None,
) -> World:
    """Seed every estate and the staging VPC, plant the items; clear the other regions.

    ``aws`` holds the management account's credentials; members are reached through
    ``spec.member_role_name``.
    """
    world = World(endpoint=endpoint, organization=organization)
    say = progress or (lambda _text: None)
    management = organization.management_account_id
    members: dict[str, Aws] = {}

    def member(account: str) -> Aws:
        if account == management:
            return aws
        if account not in members:
            members[account] = aws.assume(account, spec.member_role_name, "ivs-demo")
        return members[account]

    for estate in ESTATES:
        say(f"{estate.key}: {estate.purpose}")
        world.networks[estate.key] = seed_network(
            member(estate.account), estate.region, estate.plan
        )
    say(f"{STAGING_ACCOUNT}/{STAGING_REGION}: staging (the traps)")
    _seed_staging(
        member(STAGING_ACCOUNT).client("ec2", STAGING_REGION), member(STAGING_ACCOUNT), world
    )

    say("planting the mistakes")
    _dev_peered_into_prod(member, world)
    _database_subnet_on_public_route_table(member(PAYMENTS_PROD).client("ec2", US), world)
    _managed_service_interface(member(PAYMENTS_PROD).client("ec2", US), world)
    _default_group_given_a_rule(member(PAYMENTS_DEV).client("ec2", US), world)
    say("planting who can take over a VM: a CI role, an administrator bastion, developers")
    world.ids |= plant_access(
        member, PAYMENTS_DEV, PAYMENTS_PROD, US, world.net(PAYMENTS_PROD, US)["i.bastion"]
    )

    say("common practice: no SSH rules, private default network ACLs")
    for estate in ESTATES:
        net = world.networks[estate.key]
        ec2 = member(estate.account).client("ec2", estate.region)
        if estate.key != f"{PAYMENTS_PROD}/{US}":  # the planted open SSH stays
            _close_ssh(ec2, net)
        for name, acl in net.named("acl."):
            if name.endswith(".default"):
                _private_default_acl(ec2, acl)

    say("removing the default VPC of every other account-region")
    seeded = {(e.account, e.region) for e in ESTATES} | {(STAGING_ACCOUNT, STAGING_REGION)}
    accounts = [management, *organization.accounts]
    for account in accounts:
        for region in spec.regions:
            if (account, region) in seeded:
                continue
            seed.remove_default_vpc(member(account).client("ec2", region))
            world.cleared.append((account, region))
    say("common practice for the fleet: detection services on, instances in SSM, backed up")
    seed_posture(member, accounts, spec.regions)
    say("planting what the baseline leaves behind: old volumes, shared disks, IMDSv1...")
    dev = world.net(PAYMENTS_DEV, US)
    plant_posture(
        member,
        world.ids,
        {
            "dev": {
                "account": PAYMENTS_DEV,
                "region": US,
                "subnet": dev["subnet.dev.public"],
                "group": dev["sg.dev"],
                "instance": dev["i.dev"],
                "member": WEB_STAGING,
            },
            "untagged": {
                "account": PAYMENTS_PROD,
                "region": EU,
                "instance": world.net(PAYMENTS_PROD, EU)["i.app-a"],
            },
            "unprotected": {
                "account": WEB_PROD,
                "region": EU,
                "instance": world.net(WEB_PROD, EU)["i.db"],
            },
            "quiet": {"account": WEB_STAGING, "region": EU},
        },
    )
    return world


# ---- the planted items -----------------------------------------------------------------------


def change_between_runs(spec: Spec, aws: Aws, world: World) -> dict[str, str]:
    """Before the demo's second run: one planted mistake fixed, a new one made (in the
    dev account); the resource ids of each (``fixed``, ``new``)."""
    member = aws.assume(PAYMENTS_DEV, spec.member_role_name, "ivs-demo")
    return posture_changes(member, US, world.ids)


def _dev_peered_into_prod(member: Callable[[str], Aws], world: World) -> None:
    prod, dev = world.net(PAYMENTS_PROD, US), world.net(PAYMENTS_DEV, US)
    prod_ec2 = member(PAYMENTS_PROD).client("ec2", US)
    dev_ec2 = member(PAYMENTS_DEV).client("ec2", US)
    pcx = seed.create_peering(
        prod_ec2,
        prod["vpc.prod"],
        dev["vpc.dev"],
        "payments-prod-to-dev",
        accepter=dev_ec2,
        peer_owner=PAYMENTS_DEV,
        peer_region=US,
    )
    world.ids["payments.pcx.prod-dev"] = pcx
    seed.add_route(prod_ec2, prod["rtb.prod.private"], dev.plan.cidr("dev"), pcx)
    seed.add_route(dev_ec2, dev["rtb.dev.public"], prod.plan.cidr("prod"), pcx)
    seed.authorize(
        prod_ec2, prod["sg.db"], 5432, cidr=dev.plan.cidr("dev"), description="payments-dev"
    )


def _database_subnet_on_public_route_table(ec2: Any, world: World) -> None:
    net = world.net(PAYMENTS_PROD, US)
    subnet = seed.create_subnet(
        ec2,
        net["vpc.prod"],
        subnet_cidr(net.plan.cidr("prod"), 20),
        seed.zone_names(ec2)[0],
        "prod-database-a",
        "prod",
        Tier="database",
    )
    world.ids["payments.subnet.database-a"] = subnet
    # the mistake: the public route table (0.0.0.0/0 -> internet gateway), not the private one
    ec2.associate_route_table(RouteTableId=net["rtb.prod.public"], SubnetId=subnet)
    group = seed.create_security_group(ec2, net["vpc.prod"], "prod-rds", "PostgreSQL (RDS)", "prod")
    seed.authorize(ec2, group, 5432, group=net["sg.app"], description="from the app")
    world.ids["payments.sg.rds"] = group
    world.ids["payments.eni.rds"] = seed.create_interface(
        ec2,
        subnet,
        [group],
        "RDSNetworkInterface",
        "payments-db",
        "prod",
        DataClassification="restricted",
    )


def _managed_service_interface(ec2: Any, world: World) -> None:
    """A Lambda function's interface in a private subnet: managed, and rightly quiet."""
    net = world.net(PAYMENTS_PROD, US)
    group = seed.create_security_group(
        ec2, net["vpc.prod"], "prod-worker", "Payments worker function", "prod"
    )
    world.ids["payments.sg.worker"] = group
    world.ids["payments.eni.lambda"] = seed.create_interface(
        ec2,
        net["subnet.prod.private-b"],
        [group],
        "AWS Lambda VPC ENI-payments-worker",
        "payments-worker",
        "prod",
    )


def _default_group_given_a_rule(ec2: Any, world: World) -> None:
    group = world.net(PAYMENTS_DEV, US)["sg.dev.default"]
    seed.authorize(
        ec2, group, None, protocol="-1", cidr=PRIVATE_RANGE, description="anything internal"
    )


def _close_ssh(ec2: Any, net: SeededNetwork) -> None:
    """Hosts are reached through Session Manager: drop the bastion's and dev's SSH rules."""
    for name in ("sg.bastion", "sg.dev"):
        if name in net:
            group = ec2.describe_security_groups(GroupIds=[net[name]])["SecurityGroups"][0]
            seed.revoke_rules(ec2, group, egress=False)


def _private_default_acl(ec2: Any, acl: str) -> None:
    """The default ACL admits the private range, and from elsewhere only return traffic."""
    ec2.replace_network_acl_entry(
        NetworkAclId=acl,
        RuleNumber=100,
        Protocol="-1",
        RuleAction="allow",
        Egress=False,
        CidrBlock=PRIVATE_RANGE,
    )
    seed.add_acl_entry(ec2, acl, 200, "allow", WORLD, EPHEMERAL)


# ---- the staging VPC and its traps -----------------------------------------------------------


def _seed_staging(ec2: Any, member: Aws, world: World) -> None:
    ids = world.ids
    env = "staging"

    def put(name: str, value: str) -> str:
        ids[f"staging.{name}"] = value
        return value

    seed.remove_default_vpc(ec2)
    vpc = put(
        "vpc",
        seed.create_vpc(ec2, STAGING_CIDR, "staging-vpc", env, DataClassification="internal"),
    )
    default_sg = seed.default_security_group(ec2, vpc)
    put("sg.default", default_sg["GroupId"])
    seed.revoke_rules(ec2, default_sg)
    _private_default_acl(ec2, put("acl.default", seed.default_network_acl(ec2, vpc)))
    logs = member.client("logs", STAGING_REGION)
    put("fl", seed.create_flow_logs(ec2, logs, vpc, env, STAGING_ACCOUNT))
    igw = put("igw", seed.create_internet_gateway(ec2, vpc, env))
    zone = seed.zone_names(ec2)[0]

    def subnet(name: str, index: int) -> str:
        cidr = subnet_cidr(STAGING_CIDR, index)
        return put(
            f"subnet.{name}", seed.create_subnet(ec2, vpc, cidr, zone, f"staging-{name}", env)
        )

    def group(name: str, description: str, ports: tuple[int, ...]) -> str:
        """A group admitting ``ports`` from anywhere."""
        group_id = seed.create_security_group(ec2, vpc, f"staging-{name}", description, env)
        for port in ports:
            seed.authorize(ec2, group_id, port, cidr=WORLD, description="anywhere")
        return put(f"sg.{name}", group_id)

    def instance(name: str, subnet: str, group: str) -> str:
        launched = seed.run_instance(
            ec2,
            subnet,
            [group],
            f"staging-{name}",
            env,
            public_ip=True,
            DataClassification="internal",
        )
        return put(f"i.{name}", launched["InstanceId"])

    public, isolated = subnet("public-a", 0), subnet("isolated-a", 10)
    public_rtb = put(
        "rtb.public", seed.create_route_table(ec2, vpc, "staging-public", env, [public])
    )
    seed.add_route(ec2, public_rtb, WORLD, igw)
    # no route to the internet gateway: the local route only
    put("rtb.isolated", seed.create_route_table(ec2, vpc, "staging-isolated", env, [isolated]))

    # Trap 1: the ACL denies SSH from anywhere (rule 90), then allows everything else.
    public_acl = put(
        "acl.public", seed.create_network_acl(ec2, vpc, "staging-public", env, [public])
    )
    seed.add_acl_entry(ec2, public_acl, 90, "deny", WORLD, (22, 22))
    seed.add_acl_entry(ec2, public_acl, 100, "allow", WORLD, None)
    seed.add_acl_entry(ec2, public_acl, 100, "allow", WORLD, None, egress=True)
    instance("jump", public, group("ssh-open", "SSH from anywhere", (22,)))

    # Trap 2: group and ACL admit the world, the route table does not lead there.
    isolated_acl = put(
        "acl.isolated", seed.create_network_acl(ec2, vpc, "staging-isolated", env, [isolated])
    )
    seed.add_acl_entry(ec2, isolated_acl, 100, "allow", WORLD, (22, 22))
    seed.add_acl_entry(ec2, isolated_acl, 110, "allow", WORLD, (443, 443))
    seed.add_acl_entry(ec2, isolated_acl, 120, "allow", PRIVATE_RANGE, None)
    seed.add_acl_entry(ec2, isolated_acl, 200, "allow", WORLD, EPHEMERAL)
    seed.add_acl_entry(ec2, isolated_acl, 100, "allow", WORLD, None, egress=True)
    instance("batch", isolated, group("web-open", "SSH and HTTPS", (22, 443)))
