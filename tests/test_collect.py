"""The collector (graph/collect.py) against the session's in-process moto server and Stubber.

moto runs in this process (``ThreadedMotoServer`` from conftest, reset per test), so the
collector goes through real HTTP, real paginators and real role assumption; failures
that moto cannot produce on demand (OptInRequired, a parse error after retries) are
injected at the one fetch helper every kind goes through, ``graph.collect.paginate``.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError
from botocore.stub import Stubber
from policy_sentry.querying.actions import get_action_data
from typer.testing import CliRunner

from core import iamdata
from core.aws import Aws
from core.errors import InputError
from graph import collect
from graph.collect import (
    CALLER_ACTIONS,
    KEYS,
    MANIFEST,
    collect_snapshot,
    load_balancer_target_health,
    paginate,
    prefix_lists,
    role_actions,
    target_group_attributes,
    transit_gateway_propagations,
    transit_gateway_static_routes,
)
from graph.snapshot import WHOLE_DOCUMENTS, WHOLE_KEYS, load_snapshot
from ivs.cli import app
from sandbox.network import NetworkPlan, seed_network
from sandbox.organization import create_member_accounts

REPO = Path(__file__).resolve().parent.parent
ROLE_POLICY = REPO / "stacks" / "policies" / "collector-role.json"
CALLER_POLICY = REPO / "stacks" / "policies" / "collector-caller.json"
CALLER = "123456789012"  # moto's account for the test credentials
REGION = "eu-west-1"


def client_error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"{code} here"}}, operation)


def stubbed(service: str) -> tuple[Any, Stubber]:
    client = boto3.client(service, region_name=REGION)
    return client, Stubber(client)


def read(path: Path) -> Any:
    return json.loads(path.read_text())


def files_under(root: Path) -> Iterator[Path]:
    return (p for p in root.rglob("*") if p.is_file())


@pytest.fixture
def member(moto_endpoint: str) -> tuple[str, str]:
    """(endpoint, member account id) with one VPC seeded in the member account."""
    (account,) = create_member_accounts(Aws(endpoint_url=moto_endpoint), ["member"])
    aws = Aws(endpoint_url=moto_endpoint).assume(account, "OrganizationAccountAccessRole")
    aws.client("ec2", REGION).create_vpc(CidrBlock="10.42.0.0/16")
    return moto_endpoint, account


# ---- fetching ---------------------------------------------------------------------------


def test_paginate_merges_pages_under_the_top_level_key() -> None:
    ec2, stub = stubbed("ec2")
    stub.add_response(
        "describe_instances",
        {"Reservations": [{"ReservationId": "r-1"}], "NextToken": "page2"},
        {},
    )
    stub.add_response(
        "describe_instances",
        {"Reservations": [{"ReservationId": "r-2"}, {"ReservationId": "r-3"}]},
        {"NextToken": "page2"},
    )
    stub.add_response("describe_addresses", {"Addresses": [{"PublicIp": "198.51.100.7"}]}, {})
    with stub:
        reservations = paginate(ec2, "describe_instances", "Reservations")
        addresses = paginate(ec2, "describe_addresses", "Addresses")  # has no paginator
    stub.assert_no_pending_responses()
    assert [r["ReservationId"] for r in reservations] == ["r-1", "r-2", "r-3"]
    assert addresses == [{"PublicIp": "198.51.100.7"}]


def test_transit_gateway_composites_have_the_design_shape() -> None:
    ec2, stub = stubbed("ec2")
    tables = {
        "TransitGatewayRouteTables": [
            {"TransitGatewayRouteTableId": "tgw-rtb-1", "State": "available"},
            {"TransitGatewayRouteTableId": "tgw-rtb-gone", "State": "deleted"},
        ]
    }
    static = [{"Name": "type", "Values": ["static"]}]
    stub.add_response(
        "search_transit_gateway_routes",
        {
            "Routes": [{"DestinationCidrBlock": "10.9.0.0/16", "Type": "static"}],
            "AdditionalRoutesAvailable": True,
            "NextToken": "more",
        },
        {"TransitGatewayRouteTableId": "tgw-rtb-1", "Filters": static},
    )
    stub.add_response(
        "search_transit_gateway_routes",
        {
            "Routes": [{"DestinationCidrBlock": "192.168.0.0/16", "State": "blackhole"}],
            "AdditionalRoutesAvailable": False,
        },
        {"TransitGatewayRouteTableId": "tgw-rtb-1", "Filters": static, "NextToken": "more"},
    )
    stub.add_response(
        "get_transit_gateway_route_table_propagations",
        {
            "TransitGatewayRouteTablePropagations": [
                {"TransitGatewayAttachmentId": "tgw-attach-1", "State": "enabled"}
            ]
        },
        {"TransitGatewayRouteTableId": "tgw-rtb-1"},
    )
    with stub:
        routes = transit_gateway_static_routes(ec2, tables)
        propagations = transit_gateway_propagations(ec2, tables)
    stub.assert_no_pending_responses()  # and no call for the deleted table
    assert routes == [
        {
            "TransitGatewayRouteTableId": "tgw-rtb-1",
            "Routes": [
                {"DestinationCidrBlock": "10.9.0.0/16", "Type": "static"},
                {"DestinationCidrBlock": "192.168.0.0/16", "State": "blackhole"},
            ],
        }
    ]
    assert propagations == [
        {
            "TransitGatewayRouteTableId": "tgw-rtb-1",
            "TransitGatewayRouteTablePropagations": [
                {"TransitGatewayAttachmentId": "tgw-attach-1", "State": "enabled"}
            ],
        }
    ]


def test_prefix_lists_carry_every_page_of_their_entries() -> None:
    ec2, stub = stubbed("ec2")
    stub.add_response(
        "describe_managed_prefix_lists",
        {"PrefixLists": [{"PrefixListId": "pl-1", "PrefixListName": "office"}]},
        {},
    )
    stub.add_response(
        "get_managed_prefix_list_entries",
        {"Entries": [{"Cidr": "203.0.113.0/25"}], "NextToken": "n"},
        {"PrefixListId": "pl-1"},
    )
    stub.add_response(
        "get_managed_prefix_list_entries",
        {"Entries": [{"Cidr": "203.0.113.128/25"}]},
        {"PrefixListId": "pl-1", "NextToken": "n"},
    )
    with stub:
        lists = prefix_lists(ec2, {})
    assert lists == [
        {
            "PrefixListId": "pl-1",
            "PrefixListName": "office",
            "Entries": [{"Cidr": "203.0.113.0/25"}, {"Cidr": "203.0.113.128/25"}],
        }
    ]


def test_target_health_is_read_per_target_group() -> None:
    elbv2, stub = stubbed("elbv2")
    arn = "arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/app/0123456789abcdef"
    health = [{"Target": {"Id": "i-1", "Port": 8080}, "TargetHealth": {"State": "healthy"}}]
    stub.add_response(
        "describe_target_health", {"TargetHealthDescriptions": health}, {"TargetGroupArn": arn}
    )
    with stub:
        found = load_balancer_target_health(elbv2, {"TargetGroups": [{"TargetGroupArn": arn}]})
    assert found == [{"TargetGroupArn": arn, "TargetHealthDescriptions": health}]


def test_target_group_attributes_are_read_per_target_group() -> None:
    elbv2, stub = stubbed("elbv2")
    arns = [
        f"arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/{name}/0123456789abcdef"
        for name in ("app", "api")
    ]
    answers = [
        [{"Key": "preserve_client_ip.enabled", "Value": "true"}],
        [{"Key": "deregistration_delay.timeout_seconds", "Value": "300"}],
    ]
    for arn, attributes in zip(arns, answers, strict=True):
        stub.add_response(
            "describe_target_group_attributes", {"Attributes": attributes}, {"TargetGroupArn": arn}
        )
    with stub:
        found = target_group_attributes(
            elbv2, {"TargetGroups": [{"TargetGroupArn": a} for a in arns]}
        )
    assert found == [
        {"TargetGroupArn": arn, "Attributes": attributes}
        for arn, attributes in zip(arns, answers, strict=True)
    ]
    stub.assert_no_pending_responses()


# ---- a whole run ------------------------------------------------------------------------


def test_collect_writes_every_kind_private_and_records_ok(
    member: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, account = member
    secrets: list[str] = []
    real_assume = Aws.assume

    def assume(self: Aws, *args: Any, **kwargs: Any) -> Aws:
        assumed = real_assume(self, *args, **kwargs)
        credentials = assumed.session.get_credentials()
        secrets.extend([credentials.secret_key, credentials.token])
        return assumed

    monkeypatch.setattr(Aws, "assume", assume)
    out = tmp_path / "deep" / "snap"
    old_umask = os.umask(0)  # modes must not depend on the caller's umask
    try:
        result = collect_snapshot(out, endpoint_url=endpoint, regions=[REGION], workers=2)
    finally:
        os.umask(old_umask)

    assert sorted(result.ok) == sorted([(CALLER, REGION), (account, REGION)])
    assert result.failed == [] and result.partial == []
    for acct in (CALLER, account):
        directory = out / acct / REGION
        assert sorted(p.stem for p in directory.iterdir()) == sorted(KEYS)
        for key in KEYS:
            document = read(directory / f"{key}.json")
            if key in WHOLE_DOCUMENTS:  # a whole response (SecurityHub: {} when it is off)
                assert isinstance(document, dict), key
            else:
                listed = WHOLE_KEYS.get(key, key)
                assert list(document) == [listed] and isinstance(document[listed], list), key
    vpcs = read(out / account / REGION / "Vpcs.json")["Vpcs"]
    assert "10.42.0.0/16" in {v["CidrBlock"] for v in vpcs}
    assert "10.42.0.0/16" not in {
        v["CidrBlock"] for v in read(out / CALLER / REGION / "Vpcs.json")["Vpcs"]
    }
    prefix = read(out / account / REGION / "PrefixLists.json")["PrefixLists"]
    assert prefix and all(isinstance(p["Entries"], list) for p in prefix)
    assert any(p["Entries"] for p in prefix)  # AWS-managed lists kept, with their CIDRs

    manifest = read(out / MANIFEST)
    assert manifest["format"] == 1
    assert manifest["collected_at"].endswith("Z")
    assert manifest["accounts"] == {
        CALLER: {"regions": {REGION: {"status": "ok"}, "global": {"status": "ok"}}},
        account: {"regions": {REGION: {"status": "ok"}, "global": {"status": "ok"}}},
    }
    # each account's IAM once, and the organization once, with the caller's credentials
    details = read(out / account / "global" / "AccountAuthorizationDetails.json")
    assert set(details) == {"UserDetailList", "GroupDetailList", "RoleDetailList", "Policies"}
    assert any(r["RoleName"] == "OrganizationAccountAccessRole" for r in details["RoleDetailList"])
    assert manifest["organization"] == {"status": "ok"}
    assert read(out / "organization" / "Organization.json")["Organization"]["MasterAccountId"]
    assert {a["Id"] for a in read(out / "organization" / "Accounts.json")["Accounts"]} >= {
        CALLER,
        account,
    }
    # Only the directories the run made are tightened; every file is owner-only.
    for directory in (out.parent, out, out / account, out / account / REGION):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    written = list(files_under(out))
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in written)
    assert not [p for p in written if p.name.endswith(".tmp")]
    # Credentials stay in memory.
    assert secrets and all(secrets)
    blob = "\n".join(p.read_text() for p in written)
    assert not [s for s in secrets if s in blob]
    assert "testing" not in blob


def test_unreachable_account_is_an_error_in_every_region(
    member: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, account = member
    real_assume = Aws.assume

    def assume(self: Aws, account_id: str, *args: Any, **kwargs: Any) -> Aws:
        if account_id == account:
            raise client_error("AccessDenied", "AssumeRole")
        return real_assume(self, account_id, *args, **kwargs)

    monkeypatch.setattr(Aws, "assume", assume)
    out = tmp_path / "snap"
    runner = CliRunner()
    outcome = runner.invoke(
        app,
        [
            "collect",
            "--out",
            str(out),
            "--endpoint-url",
            endpoint,
            "--accounts",
            f"{CALLER},{account}",
            "--regions",
            REGION,
            "--regions",
            "us-east-1",
        ],
    )
    assert outcome.exit_code == 0, outcome.output
    assert "collected 2 account-regions ok, 2 failed" in outcome.stdout
    regions = read(out / MANIFEST)["accounts"][account]["regions"]
    assert set(regions) == {REGION, "us-east-1", "global"}  # its IAM could not be read either
    for entry in regions.values():
        assert entry == {
            "status": "error",
            "error": "AccessDenied",
            "message": "AccessDenied here",
        }
    assert not (out / account).exists()
    assert read(out / MANIFEST)["accounts"][CALLER]["regions"][REGION] == {"status": "ok"}


def failing_paginate(failures: dict[tuple[str, str | None], BaseException]) -> Any:
    """``paginate`` that raises ``failures[(method, region)]`` (region None: any region)."""

    def fake(client: Any, method: str, key: str, **kwargs: Any) -> list[Any]:
        region = client.meta.region_name
        for where in ((method, region), (method, None)):
            if where in failures:
                raise failures[where]
        return paginate(client, method, key, **kwargs)

    return fake


def test_required_failure_is_a_region_error_optional_failure_is_missing(
    member: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, account = member
    out = tmp_path / "snap"
    stale = out / account / "ap-east-1" / "Vpcs.json"
    stale.parent.mkdir(parents=True)
    stale.write_text('{"Vpcs": [{"VpcId": "vpc-stale"}]}')
    parse_error = ResponseParserError(
        "Unable to parse response (syntax error: line 1, column 0), invalid XML received.\nb'<html>"
    )
    monkeypatch.setattr(
        collect,
        "paginate",
        failing_paginate(
            {
                ("describe_vpcs", "ap-east-1"): client_error("OptInRequired", "DescribeVpcs"),
                ("describe_transit_gateways", None): parse_error,
                ("describe_load_balancers", None): client_error("Throttling", "x"),
            }
        ),
    )
    result = collect_snapshot(
        out, endpoint_url=endpoint, accounts=[account], regions=[REGION, "ap-east-1"]
    )
    regions = read(out / MANIFEST)["accounts"][account]["regions"]
    assert regions["ap-east-1"] == {
        "status": "error",
        "error": "OptInRequired",
        "message": "OptInRequired here",
    }
    assert not stale.exists()  # nothing stale passes for current data
    assert regions[REGION]["status"] == "ok"
    missing = regions[REGION]["missing"]
    assert missing == {
        "TransitGateways": "ResponseParserError: Unable to parse response (syntax error: "
        "line 1, column 0), invalid XML received.",
        "LoadBalancers": "Throttling: Throttling here",
        "LoadBalancerListeners": "not collected because LoadBalancers is missing",
    }
    present = {p.stem for p in (out / account / REGION).iterdir()}
    assert present == set(KEYS) - set(missing)
    assert result.partial == [(account, REGION, sorted(missing))]
    assert result.failed == [(account, "ap-east-1", "OptInRequired")]


def test_resume_skips_complete_regions_and_redoes_the_rest(
    member: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, account = member
    out = tmp_path / "snap"
    regions = [REGION, "us-east-1", "us-west-2"]
    with monkeypatch.context() as patch:
        patch.setattr(
            collect,
            "paginate",
            failing_paginate({("describe_vpcs", "us-east-1"): client_error("Throttling", "x")}),
        )
        first = collect_snapshot(out, endpoint_url=endpoint, accounts=[account], regions=regions)
    assert first.failed == [(account, "us-east-1", "Throttling")]
    (out / account / "us-west-2" / "Subnets.json").unlink()  # an incomplete region
    kept = (out / account / REGION / "Vpcs.json").stat().st_mtime_ns

    called: set[str] = set()

    def counting(client: Any, method: str, key: str, **kwargs: Any) -> list[Any]:
        called.add(client.meta.region_name)
        return paginate(client, method, key, **kwargs)

    monkeypatch.setattr(collect, "paginate", counting)
    second = collect_snapshot(
        out, endpoint_url=endpoint, accounts=[account], regions=regions, resume=True
    )
    assert second.skipped == [(account, REGION)]
    assert sorted(second.ok) == [(account, "us-east-1"), (account, "us-west-2")]
    assert called == {"us-east-1", "us-west-2"}
    assert (out / account / REGION / "Vpcs.json").stat().st_mtime_ns == kept
    manifest = read(out / MANIFEST)["accounts"][account]["regions"]
    assert manifest == {region: {"status": "ok"} for region in [*regions, "global"]}
    assert "1 already complete" in second.summary()

    called.clear()  # without --resume everything is read again
    collect_snapshot(out, endpoint_url=endpoint, accounts=[account], regions=regions)
    assert called == set(regions)


def test_a_failed_write_leaves_whole_files_and_no_ok_entry(
    member: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, account = member
    out = tmp_path / "snap"
    real_write = collect.write_json

    def write_json(path: Path, document: Any, **kwargs: Any) -> Path:
        if Path(path).name == "Reservations.json":
            raise OSError(28, "No space left on device", str(path))
        return real_write(path, document, **kwargs)

    monkeypatch.setattr(collect, "write_json", write_json)
    with pytest.raises(InputError, match="No space left on device"):
        collect_snapshot(out, endpoint_url=endpoint, accounts=[account], regions=[REGION])
    manifest = read(out / MANIFEST)  # still a whole JSON document
    entry = manifest["accounts"].get(account, {}).get("regions", {}).get(REGION, {})
    assert entry.get("status") != "ok"
    assert manifest["complete"] is False  # the run did not finish, and says so
    written = list(files_under(out))
    assert not [p for p in written if p.name.endswith(".tmp")]
    for path in written:
        read(path)  # every file that exists is complete


def test_a_run_says_when_it_is_complete_and_what_is_pending(
    member: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, account = member
    out = tmp_path / "snap"
    regions = [REGION, "us-east-1"]
    seen: list[dict[str, Any]] = []
    real_fetch = collect.fetch_region

    def fetch_and_look(clients: Any, kinds: Any = collect.REGIONAL) -> Any:
        seen.append(read(out / MANIFEST))  # the manifest on disk while a place is read
        regional = isinstance(clients, collect.LazyClients)  # not the IAM's (global)
        if regional and clients["ec2"].meta.region_name == "us-east-1":
            raise KeyboardInterrupt  # the run is stopped here
        return real_fetch(clients, kinds)

    monkeypatch.setattr(collect, "fetch_region", fetch_and_look)
    with pytest.raises(KeyboardInterrupt):
        collect_snapshot(out, endpoint_url=endpoint, accounts=[account], regions=regions, workers=1)
    assert seen and all(m["complete"] is False for m in seen)
    stopped = read(out / MANIFEST)
    assert stopped["complete"] is False
    assert stopped["accounts"][account]["regions"]["us-east-1"] == {"status": "pending"}
    # a reader reports what was pending as not assessed, never as clean
    snapshot = load_snapshot(out)
    assert snapshot.not_assessed == [
        {"account": account, "region": "us-east-1", "error": "collection incomplete"}
    ]
    assert [(r.account, r.region) for r in snapshot.regions] == [(account, REGION)]

    # --resume removes what the stopped writes left, collects what was pending, and finishes
    monkeypatch.setattr(collect, "fetch_region", real_fetch)
    leftover = out / account / "us-east-1" / ".Vpcs.json.k3j2.tmp"
    leftover.parent.mkdir(parents=True, exist_ok=True)
    leftover.write_text('{"Vpcs": [')
    resumed = collect_snapshot(
        out, endpoint_url=endpoint, accounts=[account], regions=regions, resume=True
    )
    assert not leftover.exists()
    assert resumed.skipped == [(account, REGION)] and resumed.ok == [(account, "us-east-1")]
    done = read(out / MANIFEST)
    assert done["complete"] is True
    assert {e["status"] for e in done["accounts"][account]["regions"].values()} == {"ok"}
    assert load_snapshot(out).not_assessed == []


def test_accounts_come_from_organizations_active_only(moto_endpoint: str, tmp_path: Path) -> None:
    aws = Aws(endpoint_url=moto_endpoint)
    active, closed = create_member_accounts(aws, ["active", "closed"])
    aws.client("organizations").close_account(AccountId=closed)
    result = collect_snapshot(tmp_path / "snap", endpoint_url=moto_endpoint, regions=[REGION])
    assert sorted(result.ok) == sorted([(CALLER, REGION), (active, REGION)])
    assert set(read(tmp_path / "snap" / MANIFEST)["accounts"]) == {CALLER, active}


def test_outside_an_organization_the_caller_account_is_collected(
    moto_endpoint: str, tmp_path: Path
) -> None:
    result = collect_snapshot(tmp_path / "snap", endpoint_url=moto_endpoint, regions=[REGION])
    assert result.ok == [(CALLER, REGION)]


def test_regions_default_to_the_account_enabled_regions(
    member: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, account = member
    enabled = collect.enabled_regions(Aws(endpoint_url=endpoint))
    assert REGION in enabled and "us-east-1" in enabled and len(enabled) > 10
    asked: list[str | None] = []
    real = collect.enabled_regions

    def first_two(aws: Aws) -> list[str]:
        asked.append(aws.account_id)
        return real(aws)[:2]  # keep the test short; the list is the real one

    monkeypatch.setattr(collect, "enabled_regions", first_two)
    result = collect_snapshot(tmp_path / "snap", endpoint_url=endpoint, accounts=[account])
    assert sorted(region for _, region in result.ok) == enabled[:2]
    assert account in asked  # the member's own list, read with its own role


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--accounts", "12345"], "--accounts: '12345' is not a 12-digit account id"),
        (["--regions", "mars-north-1x"], "--regions: 'mars-north-1x' is not an AWS region name"),
        (["--role-name", "no spaces"], "--role-name: 'no spaces' is not an IAM role name"),
    ],
)
def test_bad_options_exit_2_with_one_line(
    args: list[str], message: str, moto_endpoint: str, tmp_path: Path
) -> None:
    outcome = CliRunner().invoke(
        app, ["collect", "--out", str(tmp_path / "s"), "--endpoint-url", moto_endpoint, *args]
    )
    assert outcome.exit_code == 2
    assert outcome.stderr.strip() == f"ivs: {message}"
    assert not (tmp_path / "s").exists()


def test_a_malformed_manifest_is_named_with_its_field(moto_endpoint: str, tmp_path: Path) -> None:
    out = tmp_path / "snap"
    out.mkdir()
    (out / MANIFEST).write_text(
        json.dumps({"format": 1, "accounts": {CALLER: {"regions": {REGION: {"status": "?"}}}}})
    )
    outcome = CliRunner().invoke(
        app,
        ["collect", "--out", str(out), "--endpoint-url", moto_endpoint, "--regions", REGION],
    )
    assert outcome.exit_code == 2
    assert f"manifest.json: accounts.{CALLER}.regions.{REGION}:" in outcome.stderr


# ---- the collector's IAM policies ---------------------------------------------------------


def policy_actions(path: Path) -> set[str]:
    actions: set[str] = set()
    for statement in read(path)["Statement"]:
        assert statement["Effect"] == "Allow"
        listed = statement["Action"]
        actions.update([listed] if isinstance(listed, str) else listed)
    return actions


def test_role_policy_is_exactly_the_read_actions_the_collector_declares() -> None:
    actions = policy_actions(ROLE_POLICY)
    assert actions == set(role_actions())
    for action in actions:
        known = iamdata.lookup(action)
        assert known is not None and known.full == action, action
        service, name = action.split(":")
        level = get_action_data(service, name)[service][0]["access_level"]
        assert level in ("Read", "List"), (action, level)
    assert all(s["Resource"] == "*" for s in read(ROLE_POLICY)["Statement"])


def test_caller_policy_lists_accounts_and_assumes_only_the_member_role() -> None:
    assert policy_actions(CALLER_POLICY) == set(CALLER_ACTIONS)
    for action in CALLER_ACTIONS:
        assert iamdata.lookup(action) is not None
    assume = [s for s in read(CALLER_POLICY)["Statement"] if s["Action"] == "sts:AssumeRole"]
    assert assume[0]["Resource"] == "arn:aws:iam::*:role/OrganizationAccountAccessRole"


@pytest.mark.parametrize("path", [ROLE_POLICY, CALLER_POLICY], ids=lambda p: p.name)
def test_collector_policies_pass_lint(path: Path) -> None:
    from governance.lint import lint_file

    report = lint_file(path, "scp")
    assert report.findings == [], [f.message for f in report.findings]


def test_every_call_made_is_covered_by_the_policies(
    member: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, account = member
    member_aws = Aws(endpoint_url=endpoint).assume(account, "OrganizationAccountAccessRole")
    seed_network(member_aws, REGION, NetworkPlan(dev=False))  # a TGW and a load balancer
    # and one of each fleet item whose attributes are read one by one
    ec2 = member_aws.client("ec2", REGION)
    instance = ec2.describe_instances()["Reservations"][0]["Instances"][0]["InstanceId"]
    ec2.create_image(InstanceId=instance, Name="golden-image")
    volume = ec2.create_volume(Size=1, AvailabilityZone=f"{REGION}a")["VolumeId"]
    ec2.create_snapshot(VolumeId=volume)
    member_aws.client("guardduty", REGION).create_detector(Enable=True)
    made: set[str] = set()
    real_client = Aws.client

    def recording_client(self: Aws, service: str, region: str | None = None) -> Any:
        client = real_client(self, service, region)

        def record(model: Any, **_: Any) -> None:
            made.add(f"{model.service_model.signing_name}:{model.name}")

        client.meta.events.register("before-call.*.*", record)
        return client

    # SCPs enabled on the root: the organization's policies are read too
    org = Aws(endpoint_url=endpoint).client("organizations")
    root = org.list_roots()["Roots"][0]["Id"]
    org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    monkeypatch.setattr(Aws, "client", recording_client)
    real_regions = collect.enabled_regions
    monkeypatch.setattr(
        collect, "enabled_regions", lambda aws: [r for r in real_regions(aws) if r == REGION]
    )
    # Organizations discovery, role assumption and region listing all take place.
    collect_snapshot(tmp_path / "snap", endpoint_url=endpoint)
    made.discard("sts:GetCallerIdentity")  # allowed for every principal
    assert made == set(role_actions()) | set(CALLER_ACTIONS)
