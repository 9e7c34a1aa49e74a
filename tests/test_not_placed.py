"""Nothing is dropped silently: what the analysis cannot place is counted with the reason.

From raw ``describe_*``-shaped files (``sandbox.raw``): an ENI whose subnet is missing,
an address in no block of its subnet, an Elastic IP of an ENI the snapshot lacks, and
values that are not AWS's. States are read in every spelling AWS uses (``graph.enums``,
held here to the botocore service models) and in moto's text form.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import botocore.loaders
import pytest

from graph.enums import ENUMS, INTERFACE_TYPE, normalise
from graph.findings import NOT_PLACED_SHOWN, analyse, not_placed
from graph.model import NotPlaced
from graph.report import md
from sandbox.raw import RawRegion, perm

A, R = "111111111111", "eu-west-1"
V6_BLOCK = "2600:1f18:aa00:1::/64"
V6_HOST = "2600:1f18:aa00:1::10"


def dual_stack(r: RawRegion) -> tuple[str, str, str]:
    """A public dual-stack subnet (IGW routes for both families) and a group admitting
    SSH from anywhere: (vpc, subnet, group)."""
    vpc = r.vpc("10.0.0.0/16", ipv6="2600:1f18:aa00::/56")
    subnet = r.subnet(vpc, "10.0.1.0/24", ipv6=V6_BLOCK)
    igw = r.igw(vpc)
    rtb = r.route_table(vpc, (subnet,))
    r.route(rtb, "0.0.0.0/0", igw)
    r.route(rtb, "::/0", igw)
    sg = r.sg(vpc, [perm("tcp", 22, cidrs=("0.0.0.0/0",), ipv6=("::/0",))])
    return vpc, subnet, sg


def ssh_findings(doc: dict[str, Any]) -> set[tuple[str, tuple[str, ...]]]:
    return {
        (f["resource"], tuple(f["source_cidrs"]))
        for f in doc["findings"]
        if f["rule"] == "internet-exposed-admin-port"
    }


def items(doc: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [item for item in doc["not_placed"]["items"] if item["kind"] == kind]


def eni_in_a_missing_subnet(r: RawRegion, subnet: str, sg: str) -> str:
    """An ENI whose subnet (``subnet-0gone``) is not in the snapshot."""
    eni = r.eni(subnet, (sg,), "10.0.9.9")
    r.files["NetworkInterfaces"][-1]["SubnetId"] = "subnet-0gone"
    return eni


def set_ipv6_block_state(r: RawRegion, state: Any) -> None:
    [subnet] = r.files["Subnets"]
    subnet["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlockState"] = {"State": state}


# ---- ENIs and addresses ------------------------------------------------------------------


def test_an_eni_whose_subnet_is_missing_is_listed_with_the_reason(tmp_path: Path) -> None:
    r = RawRegion()
    _, subnet, sg = dual_stack(r)
    placed = r.instance(subnet, (sg,), "10.0.1.10", public_ip="54.0.0.10")
    lost = eni_in_a_missing_subnet(r, subnet, sg)
    r.write(tmp_path)
    doc = analyse(tmp_path)
    assert doc["enis_not_placed"] == {"count": 1, "sample": [lost]}
    assert items(doc, "eni") == [
        {
            "kind": "eni",
            "account": A,
            "region": R,
            "resource": lost,
            "reason": "its subnet subnet-0gone is not in the snapshot",
        }
    ]
    assert doc["not_placed"]["by_kind"] == {"eni": 1}
    assert ssh_findings(doc) == {(placed, ("0.0.0.0/0",))}  # the other one is assessed


def test_an_address_outside_its_subnet_blocks_is_listed_and_the_rest_assessed(
    tmp_path: Path,
) -> None:
    # The subnet has no IPv6 block, the instance an IPv6 address: the IPv4 side is still
    # assessed, the IPv6 address is listed; the same instance in the dual-stack subnet
    # is exposed on both families.
    def world(root: Path, *, subnet_ipv6: bool) -> tuple[str, str, str, dict[str, Any]]:
        r = RawRegion()
        _, subnet, sg = dual_stack(r)
        if not subnet_ipv6:
            del r.files["Subnets"][0]["Ipv6CidrBlockAssociationSet"]
        host = r.instance(subnet, (sg,), "10.0.1.10", public_ip="54.0.0.10", ipv6=(V6_HOST,))
        r.write(root)
        return host, r.eni_of(host), subnet, analyse(root)

    host, eni, subnet, doc = world(tmp_path / "v4-only", subnet_ipv6=False)
    assert items(doc, "address") == [
        {
            "kind": "address",
            "account": A,
            "region": R,
            "resource": f"{eni} {V6_HOST}",
            "reason": f"in no block of its subnet {subnet} (blocks: 10.0.1.0/24)",
        }
    ]
    assert doc["enis_not_placed"]["count"] == 0  # its IPv4 address was placed
    assert ssh_findings(doc) == {(host, ("0.0.0.0/0",))}

    host, _, _, doc = world(tmp_path / "dual", subnet_ipv6=True)
    assert doc["not_placed"]["count"] == 0
    assert ssh_findings(doc) == {(host, ("0.0.0.0/0", "::/0"))}


def test_moto_text_form_of_an_ipv6_block_state_is_read_as_its_value(tmp_path: Path) -> None:
    # moto 5.2.5: {"Ipv6CidrBlockState": {"State": "{'State': 'associated'}"}}
    def world(root: Path, state: str) -> tuple[str, dict[str, Any]]:
        r = RawRegion()
        _, subnet, sg = dual_stack(r)
        set_ipv6_block_state(r, state)
        host = r.instance(subnet, (sg,), "10.0.1.10", ipv6=(V6_HOST,))
        r.write(root)
        return host, analyse(root)

    host, doc = world(tmp_path / "associated", "{'State': 'associated'}")
    assert ssh_findings(doc) == {(host, ("::/0",))}
    assert doc["not_placed"]["count"] == 0
    # the same text form saying the block is gone: no block, so the address is listed
    _, doc = world(tmp_path / "disassociated", "{'State': 'disassociated'}")
    assert ssh_findings(doc) == set()
    assert [i["kind"] for i in doc["not_placed"]["items"]] == ["address"]
    assert doc["enis_not_placed"]["count"] == 0  # its private IPv4 address is placed


def test_a_state_that_is_not_aws_is_reported_and_matches_nothing(tmp_path: Path) -> None:
    r = RawRegion()
    _, subnet, sg = dual_stack(r)
    set_ipv6_block_state(r, "attached")  # a word of another enumeration
    host = r.instance(subnet, (sg,), "10.0.1.10", public_ip="54.0.0.10", ipv6=(V6_HOST,))
    r.write(tmp_path)
    doc = analyse(tmp_path)
    [value] = items(doc, "value")
    assert value["resource"] == "Subnets[0].Ipv6CidrBlockAssociationSet[0].Ipv6CidrBlockState.State"
    assert value["reason"].startswith("'attached' is not one of AWS's values of ")
    assert "ec2:SubnetCidrBlockStateCode" in value["reason"]
    assert "associated" in value["reason"]
    assert len(items(doc, "address")) == 1  # the block was not kept: its address is listed
    assert ssh_findings(doc) == {(host, ("0.0.0.0/0",))}


def test_an_unknown_route_state_is_reported_and_carries_nothing(tmp_path: Path) -> None:
    def world(root: Path, state: str) -> dict[str, Any]:
        r = RawRegion()
        vpc = r.vpc("10.0.0.0/16")
        subnet = r.subnet(vpc, "10.0.1.0/24")
        rtb = r.route_table(vpc, (subnet,))
        r.route(rtb, "0.0.0.0/0", r.igw(vpc), state=state)
        sg = r.sg(vpc, [perm("tcp", 22, cidrs=("0.0.0.0/0",))])
        r.instance(subnet, (sg,), "10.0.1.10", public_ip="54.0.0.10")
        r.write(root)
        return analyse(root)

    doc = world(tmp_path / "on", "on")
    assert ssh_findings(doc) == set()
    [value] = items(doc, "value")
    assert value["resource"] == "RouteTables[1].Routes[1].State"
    assert "ec2:RouteState (active, blackhole, filtered)" in value["reason"]
    doc = world(tmp_path / "active", "active")
    assert len(ssh_findings(doc)) == 1 and doc["not_placed"]["count"] == 0


def test_an_elastic_ip_of_an_eni_the_snapshot_lacks_is_listed(tmp_path: Path) -> None:
    r = RawRegion()
    _, subnet, sg = dual_stack(r)
    host = r.instance(subnet, (sg,), "10.0.1.10")
    for public, eni, private in (
        ("3.3.3.3", r.eni_of(host), "10.0.1.10"),  # placed: it makes the host public
        ("4.4.4.4", "eni-0gone", "10.0.1.20"),
        ("5.5.5.5", r.eni_of(host), "10.0.1.99"),  # an address the ENI does not hold
        ("6.6.6.6", None, None),  # not associated: nothing to place
    ):
        r.files["Addresses"].append(
            {"PublicIp": public, "NetworkInterfaceId": eni, "PrivateIpAddress": private}
        )
    r.write(tmp_path)
    doc = analyse(tmp_path)
    assert {(i["resource"], i["reason"]) for i in items(doc, "address")} == {
        ("4.4.4.4", "associated with eni-0gone, which the snapshot does not hold"),
        ("5.5.5.5", f"associated with {r.eni_of(host)} at 10.0.1.99, which it does not hold"),
    }
    assert ssh_findings(doc) == {(host, ("0.0.0.0/0",))}


# ---- enumerations ------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["natGateway", "nat_gateway", "interface", "nat-gateway"])
def test_interface_types_in_each_aws_spelling(tmp_path: Path, spelling: str) -> None:
    # A NAT gateway's interface accepts no connections of its own, in either spelling AWS
    # uses; an ordinary one (the near miss) is exposed; a spelling of neither is reported
    # and assessed as what it might be.
    r = RawRegion()
    _, subnet, sg = dual_stack(r)
    eni = r.eni(subnet, (sg,), "10.0.1.30", public_ip="54.0.0.30", interface_type=spelling)
    r.write(tmp_path)
    doc = analyse(tmp_path)
    exposed = {f["resource"] for f in doc["findings"] if f["rule"].startswith("internet-exposed")}
    values = items(doc, "value")
    if spelling in ("natGateway", "nat_gateway"):
        assert exposed == set() and values == []
    elif spelling == "interface":
        assert exposed == {eni} and values == []
    else:
        assert exposed == {eni}
        assert [v["resource"] for v in values] == ["NetworkInterfaces[0].InterfaceType"]


def _model_enums() -> dict[str, list[str]]:
    loader = botocore.loaders.Loader()
    out: dict[str, list[str]] = {}
    for service in ("ec2", "elbv2"):
        shapes = loader.load_service_model(service, "service-2")["shapes"]
        for name, shape in shapes.items():
            if "enum" in shape:
                out[f"{service}:{name}"] = shape["enum"]
    return out


def test_every_table_holds_every_value_of_its_service_model_shape() -> None:
    model = _model_enums()
    for enum in ENUMS:
        assert enum.shape in model, enum.shape
        missing = set(model[enum.shape]) - set(enum.spellings)
        assert not missing, (enum.shape, missing)
        # and every value it compares with is a spelling of the model or of the answers
        assert set(enum.spellings.values()) <= set(enum.spellings), enum.shape


def test_spellings_map_to_one_value_and_others_to_none() -> None:
    assert normalise(INTERFACE_TYPE, "natGateway") == normalise(INTERFACE_TYPE, "nat_gateway")
    assert normalise(INTERFACE_TYPE, "NAT_GATEWAY") is None  # case is part of the spelling
    assert normalise(INTERFACE_TYPE, "{'State': 'nat_gateway'}") == "nat_gateway"
    assert normalise(INTERFACE_TYPE, "{'State': 'gateway'}") is None


# ---- the document and the reports ---------------------------------------------------------


def test_the_document_lists_the_first_items_and_counts_them_all() -> None:
    many = [NotPlaced("eni", A, R, f"eni-{n:04d}", "why") for n in range(NOT_PLACED_SHOWN + 5)]
    summary = not_placed(reversed(many))
    assert summary["count"] == NOT_PLACED_SHOWN + 5
    assert summary["by_kind"] == {"eni": NOT_PLACED_SHOWN + 5}
    assert [i["resource"] for i in summary["items"]] == [x.resource for x in many][
        :NOT_PLACED_SHOWN
    ]


def test_markdown_lists_what_was_not_placed(tmp_path: Path) -> None:
    r = RawRegion()
    _, subnet, sg = dual_stack(r)
    lost = eni_in_a_missing_subnet(r, subnet, sg)
    r.write(tmp_path)
    doc = analyse(tmp_path)
    text = md.markdown(doc)
    section = text.split("### Not placed", 1)[1]
    assert "1 thing read but not placed, so **not** assessed:" in section
    assert f"| eni | `{lost}` | {A} / {R} | its subnet subnet-0gone is not in the snapshot |" in (
        section
    )
    clean = md.markdown(dict(doc, not_placed={"count": 0, "by_kind": {}, "items": []}))
    assert "### Not placed" not in clean


def test_transit_gateway_routes_the_analysis_cannot_follow_are_listed(tmp_path: Path) -> None:
    # A VPC attachment's propagation is followed (its VPC's blocks are the routes); a VPN
    # attachment's learnt routes and a static route to a prefix list are listed.
    r = RawRegion()
    vpc = r.vpc("10.0.0.0/16")
    subnet = r.subnet(vpc, "10.0.1.0/24")
    tgw = r.tgw()
    table = r.tgw_route_table(tgw)
    attachment = r.tgw_attach(tgw, vpc, (subnet,), table)
    r.tgw_propagate(table, attachment, vpc)
    [propagations] = r.files["TransitGatewayPropagations"]
    propagations["TransitGatewayRouteTablePropagations"].append(
        {
            "TransitGatewayAttachmentId": "tgw-attach-0vpn",
            "ResourceId": "vpn-0office",
            "ResourceType": "vpn",
            "State": "enabled",
        }
    )
    r.tgw_static(table, "10.9.0.0/16", attachment)
    [static] = r.files["TransitGatewayStaticRoutes"]
    static["Routes"].append({"PrefixListId": "pl-0partners", "State": "active", "Type": "static"})
    r.write(tmp_path)
    doc = analyse(tmp_path)
    assert {(i["resource"], i["reason"]) for i in items(doc, "record")} == {
        (
            f"{table} tgw-attach-0vpn",
            "routes propagated from vpn attachment tgw-attach-0vpn (vpn-0office): not in the "
            "snapshot, so not followed",
        ),
        (f"{table} pl-0partners", "a transit gateway route to a prefix list: not followed"),
    }
