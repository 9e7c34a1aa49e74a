"""Reading snapshots: layouts, the manifest, missing kinds, and located errors (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from core.errors import InputError
from core.jsonio import json_path_at
from graph.build import build_graph, merged_enis
from graph.findings import analyse
from graph.snapshot import KINDS, load_snapshot
from ivs.cli import app
from sandbox.raw import RawRegion, perm

WORLD = ("0.0.0.0/0",)


def exposed_region(
    account: str = "111111111111", region: str = "eu-west-1"
) -> tuple[RawRegion, str]:
    r = RawRegion(account, region)
    vpc = r.vpc("10.0.0.0/16", tag={"Environment": "prod"})
    subnet = r.subnet(vpc, "10.0.1.0/24")
    igw = r.igw(vpc)
    rtb = r.route_table(vpc, (subnet,))
    r.route(rtb, "0.0.0.0/0", igw)
    sg = r.sg(vpc, [perm("tcp", 22, cidrs=WORLD)])
    return r, r.instance(subnet, (sg,), "10.0.1.10", public_ip="54.0.0.10")


def write_manifest(root: Path, accounts: dict[str, dict[str, dict[str, str]]]) -> None:
    document = {
        "format": 1,
        "collected_at": "2026-11-27T08:00:00Z",
        "accounts": {a: {"regions": regions} for a, regions in accounts.items()},
    }
    (root / "manifest.json").write_text(json.dumps(document))


def test_records_from_raw_files(tmp_path: Path) -> None:
    r, instance = exposed_region()
    r.write(tmp_path)
    snap = load_snapshot(tmp_path)
    [region] = snap.regions
    assert (region.account, region.region) == ("111111111111", "eu-west-1")
    [eni] = region.enis
    assert eni.instance_id == instance
    assert eni.private_ips[0].public_ip == "54.0.0.10"
    assert str(region.vpcs[0].cidrs[0]) == "10.0.0.0/16"
    # the default NACL's '*' rule is read with its number
    default_acl = next(a for a in region.network_acls if a.is_default)
    assert [e.number for e in default_acl.inbound] == [100, 32767]
    assert "TransitGateways" in region.not_seen and "Vpcs" not in region.not_seen


def test_target_group_attributes_are_read_by_group(tmp_path: Path) -> None:
    r, _ = exposed_region()
    vpc = r.files["Vpcs"][0]["VpcId"]
    lb = r.load_balancer("edge", vpc, (), (), kind="network")
    tg = r.target_group("app", vpc, 8443, lb)
    r.target_group_attributes(
        tg, {"preserve_client_ip.enabled": "false", "proxy_protocol_v2.enabled": "true"}
    )
    r.write(tmp_path)
    [region] = load_snapshot(tmp_path).regions
    assert region.target_group_attributes == {
        tg: {"preserve_client_ip.enabled": "false", "proxy_protocol_v2.enabled": "true"}
    }
    assert "TargetGroupAttributes" not in region.not_seen


def test_groups_come_from_the_eni_not_the_instance(tmp_path: Path) -> None:
    # moto (and multi-ENI instances on AWS): instance SecurityGroups empty, ENI has them
    r, instance = exposed_region()
    r.write(tmp_path)
    [region] = load_snapshot(tmp_path).regions
    [eni] = merged_enis(region)
    assert eni.group_ids and eni.instance_id == instance


def test_enis_from_reservations_when_network_interfaces_file_is_missing(tmp_path: Path) -> None:
    r, instance = exposed_region()
    folder = r.write(tmp_path)
    (folder / "NetworkInterfaces.json").unlink()
    doc = analyse(tmp_path)
    assert {(f["rule"], f["resource"]) for f in doc["findings"] if f["source"] == "internet"} >= {
        ("internet-exposed-admin-port", instance)
    }
    assert doc["kinds_not_seen"]["NetworkInterfaces"] == ["111111111111/eu-west-1"]


def test_enis_without_a_known_subnet_are_counted_not_hidden(tmp_path: Path) -> None:
    r, instance = exposed_region()
    folder = r.write(tmp_path)
    (folder / "Subnets.json").unlink()
    doc = analyse(tmp_path)
    assert doc["enis_not_placed"] == {"count": 1, "sample": [r.eni_of(instance)]}
    assert "Subnets" in doc["kinds_not_seen"]
    assert not [f for f in doc["findings"] if f["rule"].startswith("internet-exposed")]


def test_account_less_layout_is_read_as_one_account(tmp_path: Path) -> None:
    r, instance = exposed_region(account="222222222222")
    r.write(tmp_path, account_level=False)
    snap = load_snapshot(tmp_path)
    assert [(x.account, x.region) for x in snap.regions] == [("222222222222", "eu-west-1")]
    doc = analyse(tmp_path)
    [finding] = [f for f in doc["findings"] if f["rule"] == "internet-exposed-admin-port"]
    assert (finding["account"], finding["resource"]) == ("222222222222", instance)


def test_manifest_errors_are_not_assessed_never_clean(tmp_path: Path) -> None:
    ok, _ = exposed_region("111111111111", "eu-west-1")
    denied, _ = exposed_region("333333333333", "eu-west-1")
    ok.write(tmp_path)
    denied.write(tmp_path)  # partial files of a failed account-region are not read
    write_manifest(
        tmp_path,
        {
            "111111111111": {
                "eu-west-1": {"status": "ok"},
                "us-east-1": {"status": "error", "error": "OptInRequired", "message": "..."},
                "eu-central-1": {"status": "ok"},
            },
            "333333333333": {
                "eu-west-1": {"status": "error", "error": "AccessDenied", "message": "denied"}
            },
        },
    )
    doc = analyse(tmp_path)
    assert doc["not_assessed"] == [
        {"account": "111111111111", "region": "us-east-1", "error": "OptInRequired"},
        {"account": "333333333333", "region": "eu-west-1", "error": "AccessDenied"},
    ]
    assert doc["assessed"] == [
        {"account": "111111111111", "region": "eu-central-1"},
        {"account": "111111111111", "region": "eu-west-1"},
    ]
    assert {f["account"] for f in doc["findings"]} == {"111111111111"}
    # an ok region without files saw no kind at all
    assert "111111111111/eu-central-1" in doc["kinds_not_seen"]["Vpcs"]


def test_truncated_file_names_file_and_json_path(tmp_path: Path) -> None:
    r, _ = exposed_region()
    folder = r.write(tmp_path)
    file = folder / "NetworkInterfaces.json"
    text = file.read_text()
    cut = text.index('"PrivateIpAddresses"') + 30
    file.write_text(text[:cut])
    with pytest.raises(InputError) as err:
        load_snapshot(tmp_path)
    assert err.value.source == str(file)
    assert err.value.field is not None
    assert err.value.field.startswith("$.NetworkInterfaces[0].PrivateIpAddresses")


def test_wrong_shape_names_the_json_path(tmp_path: Path) -> None:
    r, _ = exposed_region()
    folder = r.write(tmp_path)
    file = folder / "SecurityGroups.json"
    data = json.loads(file.read_text())
    data["SecurityGroups"][1]["IpPermissions"][0]["IpRanges"][0]["CidrIp"] = "0.0.0.0/99"
    file.write_text(json.dumps(data))
    with pytest.raises(InputError) as err:
        load_snapshot(tmp_path)
    assert str(err.value) == (
        f"{file}: SecurityGroups[1].IpPermissions[0].IpRanges[0].CidrIp: "
        "'0.0.0.0/99' is not a CIDR block"
    )


def test_malformed_file_exits_2_from_the_cli(tmp_path: Path) -> None:
    r, _ = exposed_region()
    folder = r.write(tmp_path / "snap")
    (folder / "Subnets.json").write_text('{"Subnets": [{"SubnetId": "subnet-1", "VpcId": ')
    out = tmp_path / "findings.json"
    result = CliRunner().invoke(
        app, ["exposure", "--snapshot", str(tmp_path / "snap"), "--out", str(out)]
    )
    assert result.exit_code == 2
    assert "Subnets.json" in result.stderr and "$.Subnets[0].VpcId" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_bad_manifest_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('{"accounts": {"111111111111": {"regions": []}}}')
    with pytest.raises(InputError, match=r"accounts\.111111111111"):
        load_snapshot(tmp_path)


def test_json_path_at() -> None:
    text = '{"A": [{"B": 1}, {"C": [1, 2, {"D": "x,]"'
    assert json_path_at(text, len(text)) == "$.A[1].C[2].D"
    assert json_path_at('{"A": ', 6) == "$.A"


def test_every_kind_has_a_reader_and_graph_records_them(tmp_path: Path) -> None:
    r, _ = exposed_region()
    r.write(tmp_path)
    g = build_graph(load_snapshot(tmp_path))
    kinds = {data["kind"] for _, data in g.nodes(data=True)}
    assert {
        "internet",
        "vpc",
        "subnet",
        "route-table",
        "network-acl",
        "security-group",
        "eni",
    } <= kinds
    assert len(KINDS) == 37


def test_an_unfinished_collection_is_not_assessed_where_it_had_not_finished(
    tmp_path: Path,
) -> None:
    for region in ("eu-west-1", "us-east-1", "us-west-2"):
        raw = RawRegion("111111111111", region)
        raw.vpc("10.0.0.0/16")
        raw.write(tmp_path)
    regions = {"eu-west-1": {"status": "ok"}, "us-east-1": {"status": "pending"}}
    manifest = {"format": 1, "complete": False, "accounts": {"111111111111": {"regions": regions}}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    snapshot = load_snapshot(tmp_path)
    assert [r.region for r in snapshot.regions] == ["eu-west-1"]
    assert snapshot.not_assessed == [
        {"account": "111111111111", "region": region, "error": "collection incomplete"}
        for region in ("us-east-1", "us-west-2")  # pending, and on disk but never recorded
    ]
    # a manifest without "complete" (by hand, or an older collector) reads every folder
    del manifest["complete"]
    regions["us-east-1"] = {"status": "ok"}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert [r.region for r in load_snapshot(tmp_path).regions] == [
        "eu-west-1",
        "us-east-1",
        "us-west-2",
    ]


# ---- bad input: each place that once crashed is one line, exit 2, file and JSON path ----


def _rewrite(folder: Path, kind: str, change: Any) -> Path:
    """Apply ``change`` to the decoded ``kind`` file of ``folder``; it may return the new
    text (str or bytes) instead of editing the document."""
    file = folder / f"{kind}.json"
    document = json.loads(file.read_text())
    replaced = change(document)
    if isinstance(replaced, bytes):
        file.write_bytes(replaced)
    else:
        file.write_text(replaced if isinstance(replaced, str) else json.dumps(document))
    return file


def _input_error(root: Path) -> InputError:
    with pytest.raises(InputError) as caught:
        load_snapshot(root)
    line = str(caught.value)
    assert "\n" not in line and len(line) < 700
    return caught.value


def _eni(doc: dict[str, Any]) -> dict[str, Any]:
    return dict(doc["NetworkInterfaces"][0])


def _deep(doc: dict[str, Any]) -> str:
    return '{"Subnets": [{"SubnetId": "subnet-1", "Tags": ' + "[" * 5000 + "]" * 5000 + "}]}"


def _huge_rule_number(doc: dict[str, Any]) -> str:
    return json.dumps(doc).replace('"RuleNumber": 100', '"RuleNumber": ' + "9" * 5000, 1)


def _primary_address(doc: dict[str, Any]) -> None:
    # an ENI-level public address with no private-address association: the primary
    # private address is looked up, and once was parsed without a check
    eni = doc["NetworkInterfaces"][0]
    del eni["PrivateIpAddresses"][0]["Association"]
    eni["PrivateIpAddress"] = "10.0.1.999"


def _surrogate_bytes(doc: dict[str, Any]) -> bytes:
    doc["Vpcs"][0]["Tags"].append({"Key": "Owner", "Value": "SURROGATE"})
    return json.dumps(doc).encode().replace(b"SURROGATE", b"\xed\xa0\x80")


def _not_utf8(doc: dict[str, Any]) -> bytes:
    doc["Vpcs"][0]["Tags"].append({"Key": "Owner", "Value": "LATIN1"})
    return json.dumps(doc).encode().replace(b"LATIN1", "caf\u00e9".encode("latin-1"))


@pytest.mark.parametrize(
    ("kind", "change", "field", "words"),
    [
        ("Subnets", _deep, "$.Subnets[0].Tags[0][0][0]", "levels deep"),
        (
            "NetworkAcls",
            _huge_rule_number,
            "$.NetworkAcls[0].Entries[0].RuleNumber",
            "5,000 digits",
        ),
        (
            "NetworkInterfaces",
            _primary_address,
            "NetworkInterfaces[0].PrivateIpAddress",
            "'10.0.1.999' is not a CIDR block",
        ),
        (
            "NetworkInterfaces",
            lambda d: d["NetworkInterfaces"][0]["PrivateIpAddresses"][0]["Association"].update(
                PublicIp=True
            ),
            "NetworkInterfaces[0].PrivateIpAddresses[0].Association.PublicIp",
            "expected a string, not True",
        ),
        (
            "NetworkInterfaces",
            lambda d: d["NetworkInterfaces"][0]["Attachment"].update(InstanceId=["i-1"]),
            "NetworkInterfaces[0].Attachment.InstanceId",
            "expected a string, not a list",
        ),
        (
            "NetworkInterfaces",
            lambda d: d["NetworkInterfaces"][0].update(TagSet=[{"Key": 5, "Value": "x"}]),
            "NetworkInterfaces[0].TagSet[0]",
            "expected {'Key'",
        ),
        (
            "Vpcs",
            lambda d: d["Vpcs"][0].update(Tags=[{"Key": "Name", "Value": {"a": 1}}]),
            "Vpcs[0].Tags[0].Value",
            "expected a string, not an object",
        ),
        (
            "Reservations",
            lambda d: d["Reservations"][0]["Instances"][0]["NetworkInterfaces"][0].update(
                NetworkInterfaceId={"id": 1}
            ),
            "Reservations[0].Instances[0].NetworkInterfaces[0].NetworkInterfaceId",
            "expected a string, not an object",
        ),
        (
            "SecurityGroups",
            lambda d: d["SecurityGroups"][1]["IpPermissions"][0]["IpRanges"][0].update(
                CidrIp="::/200"
            ),
            "SecurityGroups[1].IpPermissions[0].IpRanges[0].CidrIp",
            "'::/200' is not a CIDR block",
        ),
        (
            "Subnets",
            lambda d: d["Subnets"][0].update(CidrBlock="1" * 200_000),
            "Subnets[0].CidrBlock",
            "... (200,000 characters) is not a CIDR block",
        ),
        (
            "Vpcs",
            lambda d: d["Vpcs"][0].update(VpcId="vpc-\ud800"),
            "$.Vpcs[0].VpcId",
            "a lone surrogate '\\ud800'",
        ),
        ("Vpcs", _surrogate_bytes, "$.Vpcs[0].Tags[1].Value", "a lone surrogate '\\ud800'"),
        ("Vpcs", _not_utf8, "$.Vpcs[0].Tags[1].Value", "not UTF-8 text"),
        (
            "LoadBalancerListeners",
            lambda d: d["LoadBalancerListeners"][0]["Listeners"][0]["DefaultActions"][0].update(
                ForwardConfig={"TargetGroups": 5}
            ),
            "LoadBalancerListeners[0]",
            "LoadBalancerListeners",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and " " not in v and "." not in v else None,
)
def test_bad_values_name_file_and_json_path(
    tmp_path: Path, kind: str, change: Any, field: str, words: str
) -> None:
    r, _ = exposed_region()
    vpc = r.files["Vpcs"][0]["VpcId"]
    subnet = r.files["Subnets"][0]["SubnetId"]
    lb = r.load_balancer("web", vpc, (subnet,), ())
    r.listener(lb, 80, r.target_group("app", vpc, 80, lb))
    file = _rewrite(r.write(tmp_path), kind, change)
    err = _input_error(tmp_path)
    assert err.source == str(file)
    assert err.field is not None and err.field.startswith(field)
    assert words in err.message


@pytest.mark.parametrize(
    ("kind", "change", "field"),
    [
        (
            "Vpcs",
            lambda d: d["Vpcs"][0]["CidrBlockAssociationSet"][0].update(CidrBlockState="ok"),
            "Vpcs[0].CidrBlockAssociationSet[0].CidrBlockState",
        ),
        (
            "RouteTables",
            lambda d: d["RouteTables"][0]["Associations"][0].update(AssociationState=[]),
            "RouteTables[0].Associations[0].AssociationState",
        ),
        (
            "Vpcs",
            lambda d: d["Vpcs"][0]["CidrBlockAssociationSet"][0].update(
                CidrBlockState={"State": 1}
            ),
            "Vpcs[0].CidrBlockAssociationSet[0].CidrBlockState.State",
        ),
    ],
)
def test_a_state_that_is_not_one_of_aws_s_is_reported_not_a_crash(
    tmp_path: Path, kind: str, change: Any, field: str
) -> None:
    # not an object, or not a string: kept as text, matched by nothing, listed with its path
    r, _ = exposed_region()
    _rewrite(r.write(tmp_path), kind, change)
    document = analyse(tmp_path)
    listed = [i for i in document["not_placed"]["items"] if i["resource"].startswith(field)]
    assert listed and "is not one of AWS's values" in listed[0]["reason"]


def test_manifest_values_of_the_wrong_type(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('{"collected_at": ["2026"], "accounts": {}}')
    assert _input_error(tmp_path).field == "collected_at"
    (tmp_path / "manifest.json").write_text(
        '{"accounts": {"111111111111": {"regions": {"eu-west-1": '
        '{"status": "error", "error": {"code": 1}}}}}}'
    )
    assert _input_error(tmp_path).field == "accounts.111111111111.regions.eu-west-1.error"


def test_deep_nesting_exits_2_with_one_line_from_the_cli(tmp_path: Path) -> None:
    r, _ = exposed_region()
    _rewrite(r.write(tmp_path / "snap"), "Subnets", _deep)
    out = tmp_path / "findings.json"
    result = CliRunner().invoke(
        app, ["exposure", "--snapshot", str(tmp_path / "snap"), "--out", str(out)]
    )
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("ivs: ") and "Subnets.json: $.Subnets[0].Tags" in line
    assert len(line) < 500 and not out.exists()
