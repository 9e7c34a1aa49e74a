"""End to end: ``ivs collect`` against a moto server enforcing IAM, with role assumption.

An organization of three member accounts is seeded through boto3 (sandbox.network).
Then moto's IAM enforcement is switched on: the collector runs as an IAM user of the
management account holding only the shipped collector policies, each member account's
``OrganizationAccountAccessRole`` holds only ``collector-role.json``, and the user is
explicitly denied ``sts:AssumeRole`` into the third account. So every call the collector
makes is authorized by the least-privilege policy or fails, and the denied account takes
the real AccessDenied path from STS.
"""

from __future__ import annotations

import json
import stat
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from core.aws import Aws
from graph.rules import hygiene, internet, segmentation
from ivs.cli import app
from sandbox.network import (
    OFFICE_CIDR,
    RETIRED_CIDR,
    WORLD,
    NetworkPlan,
    SeededNetwork,
    seed_network,
)
from sandbox.organization import create_member_accounts

pytestmark = pytest.mark.slow
#: The kinds moto cannot serve with IAM enforcement on: its signature check rejects
#: these services' REST GET requests (SignatureDoesNotMatch; see the manifest test).
MOTO_UNSIGNED = frozenset({"BackupProtectedResources", "GuardDutyDetectors", "SecurityHub"})

REPO = Path(__file__).resolve().parent.parent
ROLE_POLICY = REPO / "stacks" / "policies" / "collector-role.json"
CALLER_POLICY = REPO / "stacks" / "policies" / "collector-caller.json"
ROLE = "OrganizationAccountAccessRole"
MANAGEMENT = "123456789012"
REGIONS = ["eu-west-1", "us-east-1"]
SEEDED = "eu-west-1"


@dataclass
class Estate:
    out: Path
    alpha: SeededNetwork
    beta: SeededNetwork
    denied: str
    first: Result
    resumed: Result
    #: (account, region) -> ids of the default VPC, its default group and ACL, where the
    #: seeding left one (every unseeded region: AWS makes one in each).
    default_vpcs: dict[tuple[str, str], dict[str, str]]

    def read(self, account: str, key: str, region: str = SEEDED) -> list[Any]:
        document = json.loads((self.out / account / region / f"{key}.json").read_text())
        assert list(document) == [key]
        return list(document[key])


def moto_auth(endpoint: str, count: str) -> None:
    """Switch moto's IAM enforcement on ("0": from the next request) or off ("inf")."""
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=count.encode(),
        method="POST",
        headers={"Content-Type": "text/plain"},  # a form body would hide the count
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def collector_user(aws: Aws, denied: str) -> dict[str, str]:
    """An IAM user in the management account with the collector policies; its keys."""
    iam = aws.client("iam")
    iam.create_user(UserName="ivs-collector")
    iam.put_user_policy(
        UserName="ivs-collector",
        PolicyName="collector-role",
        PolicyDocument=ROLE_POLICY.read_text(),
    )
    caller = json.loads(CALLER_POLICY.read_text())
    caller["Statement"].append(
        {
            "Sid": "NotThisAccount",
            "Effect": "Deny",
            "Action": "sts:AssumeRole",
            "Resource": f"arn:aws:iam::{denied}:role/{ROLE}",
        }
    )
    iam.put_user_policy(
        UserName="ivs-collector", PolicyName="collector-caller", PolicyDocument=json.dumps(caller)
    )
    key = iam.create_access_key(UserName="ivs-collector")["AccessKey"]
    return {
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
    }


def default_vpc(ec2: Any) -> dict[str, str]:
    (vpc,) = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    in_vpc = {"Name": "vpc-id", "Values": [vpc["VpcId"]]}
    (group,) = ec2.describe_security_groups(
        Filters=[in_vpc, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]
    (acl,) = ec2.describe_network_acls(Filters=[in_vpc, {"Name": "default", "Values": ["true"]}])[
        "NetworkAcls"
    ]
    return {"vpc": vpc["VpcId"], "sg": group["GroupId"], "acl": acl["NetworkAclId"]}


@pytest.fixture(scope="module")
def estate(
    moto_reset: Callable[[], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Estate]:
    endpoint = moto_reset()
    aws = Aws(endpoint_url=endpoint)
    alpha_id, beta_id, denied_id = create_member_accounts(aws, ["alpha", "beta", "denied"])
    alpha = seed_network(aws.assume(alpha_id, ROLE), SEEDED, NetworkPlan(base_octet=10))
    beta = seed_network(
        aws.assume(beta_id, ROLE),
        SEEDED,
        NetworkPlan(
            base_octet=20,
            shared=False,
            load_balancer=False,
            ssh_open_to_world=False,
            dev_reaches_prod_database=False,
            flow_logs=("prod", "dev"),
        ),
    )
    seed_network(
        aws.assume(denied_id, ROLE), SEEDED, NetworkPlan(base_octet=30, dev=False, shared=False)
    )
    for account in (alpha_id, beta_id, denied_id):
        aws.assume(account, ROLE).client("iam").put_role_policy(
            RoleName=ROLE, PolicyName="collector-role", PolicyDocument=ROLE_POLICY.read_text()
        )
    env = collector_user(aws, denied_id)
    default_vpcs = {}
    for account, region in [
        (MANAGEMENT, "eu-west-1"),
        (MANAGEMENT, "us-east-1"),
        (alpha_id, "us-east-1"),
        (beta_id, "us-east-1"),
    ]:
        member = aws if account == MANAGEMENT else aws.assume(account, ROLE)
        default_vpcs[(account, region)] = default_vpc(member.client("ec2", region))

    out = tmp_path_factory.mktemp("e2e") / "snapshot"
    args = ["collect", "--out", str(out), "--endpoint-url", endpoint, "--workers", "4"]
    args += ["--regions", ",".join(REGIONS)]
    runner = CliRunner()
    moto_auth(endpoint, "0")
    try:
        first = runner.invoke(app, args, env=env)
        resumed = runner.invoke(app, [*args, "--resume"], env=env)
    finally:
        moto_auth(endpoint, "inf")
    yield Estate(out, alpha, beta, denied_id, first, resumed, default_vpcs)


def test_cli_reports_ok_and_failed(estate: Estate) -> None:
    assert estate.first.exit_code == 0, estate.first.output
    assert "collected 6 account-regions ok, 2 failed" in estate.first.stdout
    assert f"not collected: {estate.denied} eu-west-1: AccessDenied" in estate.first.stderr


def test_manifest_has_every_account_region_and_the_denied_account(estate: Estate) -> None:
    manifest = json.loads((estate.out / "manifest.json").read_text())
    assert manifest["format"] == 1
    accounts = manifest["accounts"]
    assert set(accounts) == {
        MANAGEMENT,
        estate.alpha.account_id,
        estate.beta.account_id,
        estate.denied,
    }
    for account in (MANAGEMENT, estate.alpha.account_id, estate.beta.account_id):
        # The least-privilege role policy allows every call, and the account's IAM is read
        # once. Three kinds are missing, recorded with their reason: with IAM enforcement
        # on, moto's signature check rejects every AWS Backup, GuardDuty and Security Hub
        # GET (SignatureDoesNotMatch), its own ListBackupVaults too.
        regions = accounts[account]["regions"]
        assert regions["global"] == {"status": "ok"}
        for region in REGIONS:
            entry = regions[region]
            assert entry["status"] == "ok" and set(entry["missing"]) == MOTO_UNSIGNED
            assert all("SignatureDoesNotMatch" in why for why in entry["missing"].values())
    assert manifest["organization"] == {"status": "ok"}
    for region in [*REGIONS, "global"]:
        entry = accounts[estate.denied]["regions"][region]
        assert entry["status"] == "error" and entry["error"] == "AccessDenied"
        assert "sts:AssumeRole" in entry["message"]
    assert not (estate.out / estate.denied).exists()


def ids(items: list[Any], field: str) -> set[str]:
    return {item[field] for item in items}


def test_files_hold_the_seeded_network(estate: Estate) -> None:
    net, account = estate.alpha, estate.alpha.account_id
    assert ids(estate.read(account, "Vpcs"), "VpcId") == {
        net["vpc.prod"],
        net["vpc.dev"],
        net["vpc.shared"],
    }
    instances = [i for r in estate.read(account, "Reservations") for i in r["Instances"]]
    assert ids(instances, "InstanceId") == {v for _, v in net.named("i.")}
    bastion = next(i for i in instances if i["InstanceId"] == net["i.bastion"])
    assert bastion["PublicIpAddress"]
    assert {v for _, v in net.named("eni.")} <= ids(
        estate.read(account, "NetworkInterfaces"), "NetworkInterfaceId"
    )
    groups = {g["GroupId"]: g for g in estate.read(account, "SecurityGroups")}
    ssh = groups[net["sg.bastion"]]["IpPermissions"]
    assert [(p["FromPort"], p["IpRanges"][0]["CidrIp"]) for p in ssh] == [(22, WORLD)]
    app_from = [
        pair["GroupId"]
        for p in groups[net["sg.app"]]["IpPermissions"]
        for pair in p["UserIdGroupPairs"]
    ]
    assert sorted(app_from) == sorted([net["sg.alb"], net["sg.bastion"]])
    assert ids(estate.read(account, "VpcPeeringConnections"), "VpcPeeringConnectionId") == {
        net["pcx.prod-dev"]
    }
    assert ids(estate.read(account, "NatGateways"), "NatGatewayId") == {net["nat.prod"]}
    assert [(f["FlowLogId"], f["ResourceId"]) for f in estate.read(account, "FlowLogs")] == [
        (net["fl.prod"], net["vpc.prod"])
    ]

    (lb,) = estate.read(account, "LoadBalancers")
    assert (lb["LoadBalancerArn"], lb["Scheme"]) == (net["alb.prod"], "internet-facing")
    (listeners,) = estate.read(account, "LoadBalancerListeners")
    assert listeners["LoadBalancerArn"] == net["alb.prod"]
    assert sorted(li["Port"] for li in listeners["Listeners"]) == [80, 443]
    (health,) = estate.read(account, "LoadBalancerTargetHealth")
    assert health["TargetGroupArn"] == net["tg.prod.app"]
    targets = {(t["Target"]["Id"], t["Target"]["Port"]) for t in health["TargetHealthDescriptions"]}
    assert targets == {(net["i.app-a"], 8080), (net["i.app-b"], 8080)}

    attachments = estate.read(account, "TransitGatewayAttachments")
    assert {
        a["TransitGatewayAttachmentId"]: a["Association"]["TransitGatewayRouteTableId"]
        for a in attachments
    } == {
        net["tgw-attach.prod"]: net["tgw-rtb.hub"],
        net["tgw-attach.shared"]: net["tgw-rtb.hub"],
    }
    (static,) = estate.read(account, "TransitGatewayStaticRoutes")
    assert static["TransitGatewayRouteTableId"] == net["tgw-rtb.hub"]
    assert {(r["DestinationCidrBlock"], r["State"]) for r in static["Routes"]} >= {
        (RETIRED_CIDR, "blackhole")
    }
    (propagations,) = estate.read(account, "TransitGatewayPropagations")
    assert ids(
        propagations["TransitGatewayRouteTablePropagations"], "TransitGatewayAttachmentId"
    ) == {
        net["tgw-attach.prod"],
        net["tgw-attach.shared"],
    }
    assert all(p["Entries"] for p in estate.read(account, "PrefixLists"))


def test_second_account_has_only_what_was_seeded_there(estate: Estate) -> None:
    net, account = estate.beta, estate.beta.account_id
    assert ids(estate.read(account, "Vpcs"), "VpcId") == {net["vpc.prod"], net["vpc.dev"]}
    assert estate.read(account, "LoadBalancers") == []
    assert estate.read(account, "TransitGateways") == []
    assert estate.read(account, "TransitGatewayStaticRoutes") == []
    assert ids(estate.read(account, "FlowLogs"), "ResourceId") == {net["vpc.prod"], net["vpc.dev"]}
    # Nothing of alpha's leaks into beta's files.
    alpha_vpcs = {estate.alpha["vpc.prod"], estate.alpha["vpc.dev"]}
    assert not alpha_vpcs & ids(estate.read(account, "Vpcs"), "VpcId")
    # The unseeded region still has moto's default VPC: collected, not invented.
    assert [v["IsDefault"] for v in estate.read(account, "Vpcs", "us-east-1")] == [True]


def test_snapshot_is_readable_by_its_owner_only(estate: Estate) -> None:
    for path in [estate.out, *estate.out.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), path


def test_resume_skips_what_is_complete_and_retries_the_denied_account(estate: Estate) -> None:
    assert estate.resumed.exit_code == 0, estate.resumed.output
    assert "collected 0 account-regions ok, 2 failed, 6 already complete" in estate.resumed.stdout


# ---- the analysis of the collected snapshot -------------------------------------------------

Finding = tuple[str, str, str | None]  # rule, resource, ports


def seeded_findings(net: SeededNetwork) -> set[Finding]:
    """What sandbox_network plants, by the plan's switches."""
    plan = net.plan
    found: set[Finding] = {
        # SSH from the world on the bastion, or from the office range: a public range
        # either way, so reachable from (part of) the internet.
        ("internet-exposed-admin-port", net["i.bastion"], "22"),
        ("internet-exposed-admin-port", net["i.dev"], "22"),
        # App and database groups keep AWS's default allow-all egress.
        ("unrestricted-egress", net["sg.app"], "0-65535"),
        ("unrestricted-egress", net["sg.db"], "0-65535"),
    }
    vpcs = ["prod", "dev"] + (["shared"] if plan.shared else [])
    for vpc in vpcs:
        found.add(("nacl-allow-all-ingress", net[f"acl.{vpc}.default"], "0-65535"))
        if vpc not in plan.strip_default_sg_rules:
            found.add(("default-sg-has-rules", net[f"sg.{vpc}.default"], None))
        if vpc not in plan.flow_logs:
            found.add(("vpc-flow-logs-missing", net[f"vpc.{vpc}"], None))
    if plan.load_balancer:
        found |= {
            ("internet-exposed-port", net["alb.prod"], "80,443"),
            ("internet-exposed-port", net["i.app-a"], "8080"),
            ("internet-exposed-port", net["i.app-b"], "8080"),
        }
    if plan.dev_reaches_prod_database:
        found.add(("cross-zone-path", net["i.db"], "5432"))
    return found


def default_vpc_findings(ids: dict[str, str]) -> set[Finding]:
    return {
        ("default-sg-has-rules", ids["sg"], None),
        ("vpc-flow-logs-missing", ids["vpc"], None),
        ("nacl-allow-all-ingress", ids["acl"], "0-65535"),
    }


@pytest.fixture(scope="module")
def exposure(estate: Estate, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("exposure") / "findings.json"
    args = ["exposure", "--snapshot", str(estate.out), "--format", "json", "--out", str(out)]
    outcome = CliRunner().invoke(app, args)
    assert outcome.exit_code == 0, outcome.output
    return dict(json.loads(out.read_text()))


def test_analysis_finds_exactly_what_was_seeded(estate: Estate, exposure: dict[str, Any]) -> None:
    expected = seeded_findings(estate.alpha) | seeded_findings(estate.beta)
    for ids in estate.default_vpcs.values():
        expected |= default_vpc_findings(ids)
    # the network findings (the posture of this bare moto fleet, IMDSv1 and no SSM or
    # backups, is what the fleet rules report: tests/test_rules_fleet.py)
    network = {r.id for r in (*internet.RULES, *segmentation.RULES, *hygiene.RULES)}
    found = {
        (f["rule"], f["resource"], f.get("ports"))
        for f in exposure["findings"]
        if f["rule"] in network
    }
    assert found == expected
    by_resource = {f["resource"]: f for f in exposure["findings"] if f["rule"] in network}
    assert by_resource[estate.alpha["i.db"]]["source"] == "zone:dev"
    assert by_resource[estate.alpha["i.bastion"]]["source"] == "internet"
    # SSH from the office range only is a real path, one level below SSH from anywhere
    for net in (estate.alpha, estate.beta):
        ssh = {
            f["resource"]: f
            for f in exposure["findings"]
            if f["rule"] == "internet-exposed-admin-port"
        }
        office = ssh[net["i.dev"]]
        assert (office["severity"], office["source_cidrs"]) == ("high", [OFFICE_CIDR])
        assert office["path"][0] == {"hop": "internet", "why": f"from {OFFICE_CIDR} only"}
        bastion = ssh[net["i.bastion"]]
        world = net.plan.ssh_open_to_world
        assert (bastion["severity"], bastion["source_cidrs"]) == (
            ("critical", [WORLD]) if world else ("high", [OFFICE_CIDR])
        )


def test_transit_gateway_path_reaches_the_shared_zone(exposure: dict[str, Any]) -> None:
    flows = {(row["from"], row["to"]): row["traffic"] for row in exposure["zone_matrix"]}
    assert {"protocol": "tcp", "ports": "443"} in flows[("prod", "shared")]


def test_denied_account_is_not_assessed(estate: Estate, exposure: dict[str, Any]) -> None:
    # its regions and its IAM (``global``): nothing of it is read as clean
    assert exposure["not_assessed"] == [
        {"account": estate.denied, "region": region, "error": "AccessDenied"}
        for region in sorted([*REGIONS, "global"])
    ]
    assessed = {(row["account"], row["region"]) for row in exposure["assessed"]}
    accounts = (MANAGEMENT, estate.alpha.account_id, estate.beta.account_id)
    assert assessed == {(a, r) for a in accounts for r in [*REGIONS, "global"]}
    # what was not read is listed, never read as "none"
    places = sorted(f"{a}/{r}" for a in accounts for r in REGIONS)
    seen = {k: sorted(v) for k, v in exposure["kinds_not_seen"].items()}
    assert seen == {kind: places for kind in MOTO_UNSIGNED}
