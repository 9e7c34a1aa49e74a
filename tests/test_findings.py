"""Findings JSON, rules about configuration, zones from the spec, and ``ivs exposure``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from core.spec import Zones
from graph.build import build_graph
from graph.findings import analyse
from graph.rules import RULES, RULES_BY_ID
from graph.snapshot import load_snapshot
from graph.zones import assign_zones
from ivs.cli import app
from sandbox.raw import ALL, RawRegion, acl_entry, perm

WORLD = ("0.0.0.0/0",)
REPO = Path(__file__).resolve().parent.parent
FINDING_KEYS = {
    "id", "rule", "severity", "controls", "account", "region", "vpc", "resource",
    "protocol", "ports", "source", "path", "remediation",
}  # fmt: skip
#: internet-exposed-* findings also say which public sources reach (additive keys)
SOURCE_KEYS = {"source_cidrs", "source_cidrs_total"}


def exposure(args: list[str]) -> Any:
    return CliRunner().invoke(app, ["exposure", *args])


def public_host(
    r: RawRegion, port: int = 22, tag: dict[str, str] | None = None
) -> tuple[str, str, str]:
    vpc = r.vpc("10.0.0.0/16", tag=tag or {"Environment": "prod"})
    subnet = r.subnet(vpc, "10.0.1.0/24")
    igw = r.igw(vpc)
    rtb = r.route_table(vpc, (subnet,))
    r.route(rtb, "0.0.0.0/0", igw)
    sg = r.sg(vpc, [perm("tcp", port, cidrs=WORLD)])
    return vpc, sg, r.instance(subnet, (sg,), "10.0.1.10", public_ip="54.0.0.10")


def by_rule(doc: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    return [f for f in doc["findings"] if f["rule"] == rule]


def test_cli_writes_the_findings_document(tmp_path: Path) -> None:
    r = RawRegion()
    vpc, sg, host = public_host(r)
    r.write(tmp_path / "snap")
    out = tmp_path / "out" / "findings.json"
    result = exposure(["--snapshot", str(tmp_path / "snap"), "--out", str(out), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert set(doc) >= {
        "snapshot", "generated_at", "assessed", "not_assessed", "findings", "zone_matrix",
        "kinds_not_seen",
    }  # fmt: skip
    for finding in doc["findings"]:
        graded = finding["rule"].startswith("internet-exposed-")
        assert set(finding) == FINDING_KEYS | (SOURCE_KEYS if graded else set())
        rule = RULES_BY_ID[finding["rule"]]
        assert finding["severity"] == rule.severity
        assert finding["controls"] == list(rule.controls)
        assert finding["remediation"] == rule.remediation
        assert finding["path"], finding
    [admin] = by_rule(doc, "internet-exposed-admin-port")
    assert (admin["resource"], admin["vpc"], admin["ports"], admin["source"]) == (
        host,
        vpc,
        "22",
        "internet",
    )
    assert [h["hop"] for h in admin["path"]][-2:] == [sg, r.eni_of(host)]
    assert admin["source_cidrs"] == ["0.0.0.0/0"]
    assert doc["summary"]["critical"] == 1
    # ids are stable from run to run
    again = tmp_path / "again.json"
    assert exposure(["--snapshot", str(tmp_path / "snap"), "--out", str(again)]).exit_code == 0
    assert [f["id"] for f in json.loads(again.read_text())["findings"]] == [
        f["id"] for f in doc["findings"]
    ]
    assert len({f["id"] for f in doc["findings"]}) == len(doc["findings"])


def test_fail_on_severity(tmp_path: Path) -> None:
    r = RawRegion()
    public_host(r)
    r.write(tmp_path / "critical")
    quiet = RawRegion()
    vpc = quiet.vpc("10.0.0.0/16")
    quiet.subnet(vpc, "10.0.1.0/24")
    quiet.write(tmp_path / "medium")  # only flow logs missing (medium) and low ones
    out = str(tmp_path / "f.json")
    assert (
        exposure(
            ["--snapshot", str(tmp_path / "critical"), "--out", out, "--fail-on", "critical"]
        ).exit_code
        == 1
    )
    assert exposure(["--snapshot", str(tmp_path / "critical"), "--out", out]).exit_code == 0
    assert (
        exposure(
            ["--snapshot", str(tmp_path / "medium"), "--out", out, "--fail-on", "high"]
        ).exit_code
        == 0
    )
    assert (
        exposure(
            ["--snapshot", str(tmp_path / "medium"), "--out", out, "--fail-on", "medium"]
        ).exit_code
        == 1
    )


def test_zone_flows_from_the_spec(tmp_path: Path) -> None:
    r = RawRegion()
    vpc = r.vpc("10.0.0.0/16")
    shared = r.subnet(vpc, "10.0.1.0/24", tag={"Environment": "shared"})
    dev = r.subnet(vpc, "10.0.2.0/24", tag={"Environment": "development"})
    prod = r.subnet(vpc, "10.0.3.0/24", tag={"Environment": "production"})
    client = r.sg(vpc, [])
    server = r.sg(
        vpc, [perm("tcp", 443, cidrs=("10.0.0.0/16",)), perm("tcp", 22, cidrs=("10.0.0.0/16",))]
    )
    r.instance(shared, (client,), "10.0.1.10")
    r.instance(dev, (client,), "10.0.2.10")
    target = r.instance(prod, (server,), "10.0.3.10")
    r.write(tmp_path / "snap")
    out = tmp_path / "f.json"
    spec = REPO / "stacks" / "Pulumi.org.yaml"  # flows: shared -> prod tcp 443, udp 53
    result = exposure(
        ["--snapshot", str(tmp_path / "snap"), "--out", str(out), "--spec", str(spec)]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    cross = {(f["resource"], f["ports"], f["source"]) for f in by_rule(doc, "cross-zone-path")}
    assert cross == {(target, "22", "zone:shared"), (target, "22,443", "zone:dev")}
    matrix = {(row["from"], row["to"]): row for row in doc["zone_matrix"]}
    assert matrix[("shared", "prod")]["traffic"] == [{"protocol": "tcp", "ports": "22,443"}]
    assert matrix[("shared", "prod")]["forbidden"] == [{"protocol": "tcp", "ports": "22"}]
    # without the spec, "development" is its own zone name and shared gets no exception
    default = analyse(tmp_path / "snap")
    cross = {(f["ports"], f["source"]) for f in by_rule(default, "cross-zone-path")}
    assert cross == {("22,443", "zone:shared"), ("22,443", "zone:development")}
    # the document says which policy it judged by, so that a report need not guess it
    assert doc["zone_policy"] == {
        "protected": ["prod"],
        "flows": [{"from": "shared", "to": "prod", "ports": ["tcp:443", "udp:53"]}],
    }
    assert default["zone_policy"] == {"protected": ["prod"], "flows": []}


def test_admin_ports_come_from_the_spec(tmp_path: Path) -> None:
    r = RawRegion()
    _, _, host = public_host(r, port=2222)
    r.write(tmp_path / "snap")
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "organization: {management_account_id: '999999999999'}\n"
        "regions: [eu-west-1]\n"
        "principals: {pipeline: ['arn:aws:iam::999999999999:role/pipeline']}\n"
        "exposure: {admin_ports: ['2222']}\n"
    )
    out = tmp_path / "f.json"
    assert (
        exposure(
            ["--snapshot", str(tmp_path / "snap"), "--out", str(out), "--spec", str(spec)]
        ).exit_code
        == 0
    )
    doc = json.loads(out.read_text())
    assert {(f["resource"], f["ports"]) for f in by_rule(doc, "internet-exposed-admin-port")} == {
        (host, "2222")
    }
    assert by_rule(analyse(tmp_path / "snap"), "internet-exposed-admin-port") == []


def test_flat_network_and_its_absence(tmp_path: Path) -> None:
    r = RawRegion()
    flat = r.vpc("10.0.0.0/16")
    tiered = r.vpc("10.1.0.0/16")
    everything = r.sg(flat, [perm(ALL, cidrs=("10.0.0.0/16",))])
    for n, cidr in enumerate(("10.0.1.0/24", "10.0.2.0/24")):
        subnet = r.subnet(flat, cidr)
        r.instance(subnet, (everything,), cidr.replace("0/24", f"{10 + n}"))
        r.instance(subnet, (everything,), cidr.replace("0/24", f"{20 + n}"))
    web = r.sg(tiered, [perm("tcp", 443, cidrs=("10.1.0.0/16",))])
    db = r.sg(tiered, [perm("tcp", 5432, groups=(web,))])
    r.instance(r.subnet(tiered, "10.1.1.0/24"), (web,), "10.1.1.10")
    r.instance(r.subnet(tiered, "10.1.2.0/24"), (db,), "10.1.2.10")
    r.write(tmp_path)
    doc = analyse(tmp_path)
    assert {(f["resource"], f["protocol"], f["ports"]) for f in by_rule(doc, "flat-network")} == {
        (flat, "tcp", "0-65535")
    }


def test_configuration_rules(tmp_path: Path) -> None:
    r = RawRegion()
    logged = r.vpc("10.0.0.0/16")
    unlogged = r.vpc("10.1.0.0/16")
    r.flow_log(logged)
    open_subnet = r.subnet(logged, "10.0.1.0/24")  # uses the default ACL: allow all
    closed_subnet = r.subnet(unlogged, "10.1.1.0/24")
    closed = r.nacl(
        unlogged,
        (closed_subnet,),
        [
            acl_entry(100, "6", (443, 443), "0.0.0.0/0"),
            acl_entry(200, "6", (1024, 65535), "0.0.0.0/0"),
        ],
        [acl_entry(100, "6", (1024, 65535), "0.0.0.0/0")],
    )
    # the default group of `unlogged` loses its rules (CIS 5.4 remediated)
    for sg in r.files["SecurityGroups"]:
        if sg["GroupId"] == r.default_sg[unlogged]:
            sg["IpPermissions"], sg["IpPermissionsEgress"] = [], []
    r.write(tmp_path)
    doc = analyse(tmp_path)
    assert {f["resource"] for f in by_rule(doc, "vpc-flow-logs-missing")} == {unlogged}
    assert {f["resource"] for f in by_rule(doc, "default-sg-has-rules")} == {r.default_sg[logged]}
    default_acl = r.default_acl[logged]["NetworkAclId"]
    nacl = {f["resource"] for f in by_rule(doc, "nacl-allow-all-ingress")}
    assert nacl == {default_acl} and closed not in nacl
    assert open_subnet
    [finding] = by_rule(doc, "nacl-allow-all-ingress")
    assert finding["path"][1] == {"hop": default_acl, "why": "inbound rule 100 allows all"}


def test_rules_are_declared_as_data() -> None:
    ids = [rule.id for rule in RULES]
    assert ids == [
        "internet-exposed-admin-port", "internet-exposed-database-port", "internet-exposed-port",
        "cross-zone-path", "sensitive-in-public-subnet", "flat-network", "default-sg-has-rules",
        "vpc-flow-logs-missing", "unrestricted-egress", "nacl-allow-all-ingress",
        "ebs-volume-unencrypted", "snapshot-public", "snapshot-shared-outside-organization",
        "image-public", "image-shared-outside-organization", "instance-imdsv1-allowed",
        "instance-unapproved-image", "instance-image-outdated", "instance-missing-required-tags",
        "instance-no-recent-backup", "instance-not-managed", "guardduty-disabled",
        "inspector-ec2-disabled", "securityhub-disabled", "config-recorder-off",
        "vm-admin-permission-broad", "vm-takeover-path", "instance-role-escalation",
        "internet-exposed-instance-escalation",
    ]  # fmt: skip
    for rule in RULES:
        assert rule.severity in ("critical", "high", "medium", "low")
        assert rule.controls and all(c.startswith("CCM ") for c in rule.controls)
        assert rule.rationale and rule.remediation


def test_zone_precedence_instance_then_eni_then_subnet_then_vpc(tmp_path: Path) -> None:
    r = RawRegion()
    vpc = r.vpc("10.0.0.0/16", tag={"Environment": "Production"})
    tagged = r.subnet(vpc, "10.0.1.0/24", tag={"Environment": "staging"})
    plain = r.subnet(vpc, "10.0.2.0/24")
    bare_vpc = r.vpc("10.1.0.0/16")
    bare = r.subnet(bare_vpc, "10.1.1.0/24")
    sg = r.sg(vpc, [])
    by_instance = r.instance(tagged, (sg,), "10.0.1.10", tag={"Environment": "dev"})
    by_eni = r.eni(tagged, (sg,), "10.0.1.11", tag={"Environment": "shared"})
    by_subnet = r.eni(tagged, (sg,), "10.0.1.12")
    by_vpc = r.eni(plain, (sg,), "10.0.2.10")
    untagged = r.eni(bare, (r.sg(bare_vpc, []),), "10.1.1.10")
    r.write(tmp_path)
    zones = assign_zones(build_graph(load_snapshot(tmp_path)), Zones())
    assert zones[r.eni_of(by_instance)] == "dev"
    assert zones[by_eni] == "shared"
    assert zones[by_subnet] == "staging"
    assert zones[by_vpc] == "prod"  # "Production" is an alias of prod
    assert zones[untagged] == "unknown"
