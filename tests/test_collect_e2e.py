"""End to end: ``ivs collect`` against a moto server enforcing IAM, with role assumption.

An organization of three member accounts is seeded through boto3 (governance.sandbox_network).
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

from governance.aws import Aws
from governance.cli import app
from governance.sandbox_network import (
    RETIRED_CIDR,
    WORLD,
    NetworkPlan,
    SeededNetwork,
    create_member_accounts,
    seed_network,
)

pytestmark = pytest.mark.slow

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
    yield Estate(out, alpha, beta, denied_id, first, resumed)


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
        # No kind is missing: the least-privilege role policy allows every call.
        assert accounts[account]["regions"] == {r: {"status": "ok"} for r in REGIONS}
    for region in REGIONS:
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
