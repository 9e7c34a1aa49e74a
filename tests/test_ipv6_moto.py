"""End to end against moto (``ThreadedMotoServer``): an instance with a global IPv6
address and SSH open to ``::/0`` is collected, then found by the exposure analysis.

moto 5.2.5 answers a subnet's IPv6 block state as the text ``"{'State': 'associated'}"``
(DESIGN.md, "moto quirks"); read literally, the subnet would have no IPv6 block and the
address would be dropped. The same instance in a subnet without a ``::/0`` route to the
internet gateway is the near miss: collected alike, not exposed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.aws import Aws
from graph.collect import collect_snapshot
from graph.findings import analyse
from graph.rules import hygiene, internet, segmentation

REGION = "eu-west-1"


def seed(ec2: Any) -> dict[str, str]:
    """A dual-stack VPC with a public and a private subnet, and one SSH host in each."""
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    vpc_id = vpc["VpcId"]
    [block] = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["Ipv6CidrBlockAssociationSet"]
    prefix = block["Ipv6CidrBlock"].split("::/")[0]  # a /56: its /64s end in 00 to ff
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    sg = ec2.create_security_group(GroupName="ssh", Description="ssh", VpcId=vpc_id)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=sg,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "Ipv6Ranges": [{"CidrIpv6": "::/0"}],
            }
        ],
    )
    # moto's default ACL of an IPv6 VPC lacks AWS's ::/0 rules (DESIGN.md, moto quirks)
    [acl] = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])[
        "NetworkAcls"
    ]
    for egress in (False, True):
        ec2.create_network_acl_entry(
            NetworkAclId=acl["NetworkAclId"],
            RuleNumber=101,
            Protocol="-1",
            RuleAction="allow",
            Egress=egress,
            Ipv6CidrBlock="::/0",
        )
    hosts = {}
    for n, name in enumerate(("public", "private"), start=1):
        subnet = ec2.create_subnet(
            VpcId=vpc_id, CidrBlock=f"10.7.{n}.0/24", Ipv6CidrBlock=f"{prefix[:-1]}{n}::/64"
        )["Subnet"]["SubnetId"]
        rtb = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=rtb, SubnetId=subnet)
        if name == "public":
            ec2.create_route(RouteTableId=rtb, DestinationIpv6CidrBlock="::/0", GatewayId=igw)
        eni = ec2.create_network_interface(
            SubnetId=subnet,
            Groups=[sg],
            Ipv6Addresses=[{"Ipv6Address": f"{prefix[:-1]}{n}::10"}],
        )["NetworkInterface"]["NetworkInterfaceId"]
        instance = ec2.run_instances(
            ImageId="ami-12c6146b",
            InstanceType="t3.micro",
            MinCount=1,
            MaxCount=1,
            NetworkInterfaces=[{"DeviceIndex": 0, "NetworkInterfaceId": eni}],
        )["Instances"][0]["InstanceId"]
        hosts[name] = instance
    return hosts


def test_collected_ipv6_host_with_ssh_open_to_the_world_is_found(
    moto_endpoint: str, tmp_path: Path
) -> None:
    aws = Aws(endpoint_url=moto_endpoint)
    hosts = seed(aws.client("ec2", REGION))
    out = tmp_path / "snap"
    result = collect_snapshot(out, endpoint_url=moto_endpoint, regions=[REGION], workers=1)
    assert result.failed == []
    [account] = [p.name for p in out.iterdir() if p.is_dir()]
    subnets = json.loads((out / account / REGION / "Subnets.json").read_text())["Subnets"]
    states = {
        b["Ipv6CidrBlockState"]["State"]
        for s in subnets
        for b in s.get("Ipv6CidrBlockAssociationSet", [])
    }
    assert states == {"{'State': 'associated'}"}  # moto's text form, as collected

    doc = analyse(out)
    ssh = [f for f in doc["findings"] if f["rule"] == "internet-exposed-admin-port"]
    assert [(f["resource"], f["ports"], f["source_cidrs"]) for f in ssh] == [
        (hosts["public"], "22", ["::/0"])
    ]
    assert ssh[0]["severity"] == "critical"
    # no network finding names the private host (its posture is the fleet rules' business)
    network = {r.id for r in (*internet.RULES, *segmentation.RULES, *hygiene.RULES)}
    assert hosts["private"] not in {f["resource"] for f in doc["findings"] if f["rule"] in network}
    assert doc["not_placed"]["count"] == 0  # every address placed, no value unread
