"""Reading snapshots: layouts, the manifest, missing kinds, and located errors (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.errors import InputError
from graph.build import build_graph, merged_enis
from graph.findings import analyse
from graph.snapshot import KINDS, json_path_at, load_snapshot
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
    assert len(KINDS) == 26


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
