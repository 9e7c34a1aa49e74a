"""A realistic VPC estate, seeded through boto3 into one account-region of an AWS stand-in.

Used by the end-to-end tests, the collection bench and ``ivs demo``. Everything goes
through ordinary boto3 calls made with the clients of an :class:`core.aws.Aws`
(in moto, the credentials of a role assumed in the member account, so resources land in
that account), which keeps the seeded data shaped exactly like AWS's answers.

The estate of one account-region (every part can be switched off in :class:`NetworkPlan`):

* ``prod`` VPC (Environment=prod): public subnets in two zones behind an IGW, private
  subnets in two zones behind a NAT gateway; a custom NACL on the public subnets; an
  internet-facing ALB (443 and 80 from anywhere) forwarding to two private app instances
  on 8080 (the app group admits only the ALB's group); a database instance whose group
  admits 5432 from the app group (and, as a planted gap, from the dev VPC); a bastion
  with a public IP and SSH open to the world; VPC flow logs to CloudWatch Logs; the
  default security group stripped of its rules.
* ``dev`` VPC (Environment=dev): one public subnet, a dev instance with a public IP and
  SSH from an office range only; the default security group keeps its default rules;
  no flow logs; peered with prod (routes both ways between the two CIDRs).
* ``shared`` VPC (Environment=shared): one private subnet with a service instance,
  attached with prod to a transit gateway whose default route table associates and
  propagates both attachments and holds a static route to on-premises (via shared) and a blackhole.

:func:`seed_network` returns every id it made, under stable logical names, so that tests
can assert exact findings and the demo can plant its own traps on top.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.aws import Aws

WORLD = "0.0.0.0/0"
OFFICE_CIDR = "203.0.113.0/24"  # TEST-NET-3: an office egress range, not the world
ON_PREMISES_CIDR = "172.16.0.0/12"  # reached through the shared services VPC
RETIRED_CIDR = "192.168.0.0/16"  # a retired range, blackholed at the transit gateway
AMI = "ami-12c6146b"  # an image moto knows in every region


@dataclass(frozen=True)
class NetworkPlan:
    """What to seed in one account-region. CIDRs are ``10.<base>.0.0/16`` and up."""

    base_octet: int = 0
    prod: bool = True
    dev: bool = True
    shared: bool = True
    load_balancer: bool = True
    ssh_open_to_world: bool = True
    dev_reaches_prod_database: bool = True
    flow_logs: tuple[str, ...] = ("prod",)
    strip_default_sg_rules: tuple[str, ...] = ("prod",)
    remove_default_vpc: bool = True
    data_classification: Mapping[str, str] = field(
        default_factory=lambda: {"prod": "confidential", "dev": "internal", "shared": "internal"}
    )

    def cidr(self, vpc: str) -> str:
        offset = {"prod": 0, "dev": 1, "shared": 2}[vpc]
        octet = self.base_octet + offset
        if not 0 <= octet <= 255:
            raise ValueError(f"base_octet {self.base_octet} leaves no room for the {vpc} VPC")
        return f"10.{octet}.0.0/16"


@dataclass
class SeededNetwork:
    """Ids of what :func:`seed_network` made, by logical name (``vpc.prod``, ``i.bastion``)."""

    account_id: str
    region: str
    plan: NetworkPlan
    ids: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> str:
        return self.ids[name]

    def __contains__(self, name: object) -> bool:
        return name in self.ids

    def named(self, prefix: str) -> Iterator[tuple[str, str]]:
        """(logical name, id) pairs whose name starts with ``prefix``."""
        return ((k, v) for k, v in self.ids.items() if k.startswith(prefix))


def tags(name: str, environment: str | None = None, **extra: str) -> list[dict[str, str]]:
    found = {"Name": name, **({"Environment": environment} if environment else {}), **extra}
    return [{"Key": k, "Value": v} for k, v in found.items()]


def tag_spec(resource_type: str, name: str, environment: str | None = None, **extra: str) -> Any:
    return [{"ResourceType": resource_type, "Tags": tags(name, environment, **extra)}]


def subnet_cidr(vpc_cidr: str, index: int) -> str:
    """The ``index``-th /24 of a VPC CIDR."""
    return str(list(ipaddress.ip_network(vpc_cidr).subnets(new_prefix=24))[index])


def remove_default_vpc(ec2: Any) -> list[str]:
    """Delete the region's default VPC(s) and what hangs off them (a common hardening step)."""
    removed = []
    for vpc in ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]:
        vpc_id = vpc["VpcId"]
        vpc_filter = [{"Name": "vpc-id", "Values": [vpc_id]}]
        for subnet in ec2.describe_subnets(Filters=vpc_filter)["Subnets"]:
            ec2.delete_subnet(SubnetId=subnet["SubnetId"])
        igw_filter = [{"Name": "attachment.vpc-id", "Values": [vpc_id]}]
        for igw in ec2.describe_internet_gateways(Filters=igw_filter)["InternetGateways"]:
            ec2.detach_internet_gateway(InternetGatewayId=igw["InternetGatewayId"], VpcId=vpc_id)
            ec2.delete_internet_gateway(InternetGatewayId=igw["InternetGatewayId"])
        ec2.delete_vpc(VpcId=vpc_id)
        removed.append(vpc_id)
    return removed


class _Seeder:
    """One account-region's seeding; methods add to ``net.ids`` as they go."""

    def __init__(self, aws: Aws, region: str, plan: NetworkPlan, account_id: str) -> None:
        self.aws = aws
        self.region = region
        self.plan = plan
        self.ec2 = aws.client("ec2", region)
        self.net = SeededNetwork(account_id=account_id, region=region, plan=plan)
        zones = self.ec2.describe_availability_zones()["AvailabilityZones"]
        self.zones = [z["ZoneName"] for z in zones][:2]

    def put(self, name: str, resource_id: str) -> str:
        self.net.ids[name] = resource_id
        return resource_id

    # ---- building blocks ---------------------------------------------------------------

    def vpc(self, env: str) -> str:
        classification = self.plan.data_classification.get(env, "internal")
        vpc_id = self.ec2.create_vpc(
            CidrBlock=self.plan.cidr(env),
            TagSpecifications=tag_spec("vpc", f"{env}-vpc", env, DataClassification=classification),
        )["Vpc"]["VpcId"]
        self.ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
        self.put(f"vpc.{env}", vpc_id)
        default_sg = self.ec2.describe_security_groups(
            Filters=[
                {"Name": "vpc-id", "Values": [vpc_id]},
                {"Name": "group-name", "Values": ["default"]},
            ]
        )["SecurityGroups"][0]
        self.put(f"sg.{env}.default", default_sg["GroupId"])
        if env in self.plan.strip_default_sg_rules:
            if default_sg.get("IpPermissions"):
                self.ec2.revoke_security_group_ingress(
                    GroupId=default_sg["GroupId"], IpPermissions=default_sg["IpPermissions"]
                )
            if default_sg.get("IpPermissionsEgress"):
                self.ec2.revoke_security_group_egress(
                    GroupId=default_sg["GroupId"], IpPermissions=default_sg["IpPermissionsEgress"]
                )
        default_acl = self.ec2.describe_network_acls(
            Filters=[
                {"Name": "vpc-id", "Values": [vpc_id]},
                {"Name": "default", "Values": ["true"]},
            ]
        )["NetworkAcls"][0]
        self.put(f"acl.{env}.default", default_acl["NetworkAclId"])
        main_rtb = self.ec2.describe_route_tables(
            Filters=[
                {"Name": "vpc-id", "Values": [vpc_id]},
                {"Name": "association.main", "Values": ["true"]},
            ]
        )["RouteTables"][0]
        self.put(f"rtb.{env}.main", main_rtb["RouteTableId"])
        if env in self.plan.flow_logs:
            self.flow_logs(env, vpc_id)
        return vpc_id

    def flow_logs(self, env: str, vpc_id: str) -> None:
        logs = self.aws.client("logs", self.region)
        group = f"/ivs/flow-logs/{env}"
        logs.create_log_group(logGroupName=group)
        created = self.ec2.create_flow_logs(
            ResourceIds=[vpc_id],
            ResourceType="VPC",
            TrafficType="ALL",
            LogDestinationType="cloud-watch-logs",
            LogGroupName=group,
            DeliverLogsPermissionArn=f"arn:aws:iam::{self.net.account_id}:role/ivs-flow-logs",
        )
        self.put(f"fl.{env}", created["FlowLogIds"][0])

    def subnet(self, env: str, name: str, index: int, zone: int, public: bool) -> str:
        subnet_id = self.ec2.create_subnet(
            VpcId=self.net[f"vpc.{env}"],
            CidrBlock=subnet_cidr(self.plan.cidr(env), index),
            AvailabilityZone=self.zones[zone % len(self.zones)],
            TagSpecifications=tag_spec("subnet", f"{env}-{name}", env),
        )["Subnet"]["SubnetId"]
        if public:
            self.ec2.modify_subnet_attribute(
                SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": True}
            )
        return self.put(f"subnet.{env}.{name}", subnet_id)

    def route_table(self, env: str, name: str, subnets: list[str]) -> str:
        rtb_id = self.ec2.create_route_table(
            VpcId=self.net[f"vpc.{env}"],
            TagSpecifications=tag_spec("route-table", f"{env}-{name}", env),
        )["RouteTable"]["RouteTableId"]
        for subnet_id in subnets:
            self.ec2.associate_route_table(RouteTableId=rtb_id, SubnetId=subnet_id)
        return self.put(f"rtb.{env}.{name}", rtb_id)

    def internet_gateway(self, env: str) -> str:
        igw_id = self.ec2.create_internet_gateway(
            TagSpecifications=tag_spec("internet-gateway", f"{env}-igw", env)
        )["InternetGateway"]["InternetGatewayId"]
        self.ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=self.net[f"vpc.{env}"])
        return self.put(f"igw.{env}", igw_id)

    def security_group(self, env: str, name: str, description: str) -> str:
        group_id = self.ec2.create_security_group(
            GroupName=f"{env}-{name}",
            Description=description,
            VpcId=self.net[f"vpc.{env}"],
            TagSpecifications=tag_spec("security-group", f"{env}-{name}", env),
        )["GroupId"]
        return self.put(f"sg.{name}", group_id)

    def allow(
        self,
        group: str,
        port: int,
        *,
        cidr: str | None = None,
        group_ref: str | None = None,
        description: str = "",
    ) -> None:
        permission: dict[str, Any] = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port}
        if cidr is not None:
            permission["IpRanges"] = [{"CidrIp": cidr, "Description": description}]
        if group_ref is not None:
            permission["UserIdGroupPairs"] = [
                {"GroupId": self.net[group_ref], "Description": description}
            ]
        self.ec2.authorize_security_group_ingress(
            GroupId=self.net[group], IpPermissions=[permission]
        )

    def instance(
        self,
        env: str,
        name: str,
        subnet: str,
        groups: list[str],
        *,
        public_ip: bool,
        classification: str | None = None,
    ) -> str:
        extra = {"DataClassification": classification} if classification else {}
        interface: dict[str, Any] = {
            "DeviceIndex": 0,
            "SubnetId": self.net[subnet],
            "Groups": [self.net[g] for g in groups],
            "AssociatePublicIpAddress": public_ip,
        }
        # Launched with SubnetId/SecurityGroupIds (not NetworkInterfaces) when private, so
        # that moto also fills the instance's SecurityGroups; public instances need the
        # interface form to choose their public IP.
        launch: dict[str, Any] = (
            {"NetworkInterfaces": [interface]}
            if public_ip
            else {"SubnetId": self.net[subnet], "SecurityGroupIds": interface["Groups"]}
        )
        instance = self.ec2.run_instances(
            ImageId=AMI,
            InstanceType="t3.micro",
            MinCount=1,
            MaxCount=1,
            TagSpecifications=tag_spec("instance", f"{env}-{name}", env, **extra),
            **launch,
        )["Instances"][0]
        self.put(f"i.{name}", instance["InstanceId"])
        eni = instance["NetworkInterfaces"][0]["NetworkInterfaceId"]
        self.put(f"eni.{name}", eni)
        return str(instance["InstanceId"])

    # ---- the estate ----------------------------------------------------------------------

    def prod(self) -> None:
        plan = self.plan
        self.vpc("prod")
        public = [
            self.subnet("prod", "public-a", 0, 0, public=True),
            self.subnet("prod", "public-b", 1, 1, public=True),
        ]
        private = [
            self.subnet("prod", "private-a", 10, 0, public=False),
            self.subnet("prod", "private-b", 11, 1, public=False),
        ]
        igw = self.internet_gateway("prod")
        public_rtb = self.route_table("prod", "public", public)
        self.ec2.create_route(RouteTableId=public_rtb, DestinationCidrBlock=WORLD, GatewayId=igw)
        allocation = self.ec2.allocate_address(
            Domain="vpc", TagSpecifications=tag_spec("elastic-ip", "prod-nat-eip", "prod")
        )["AllocationId"]
        self.put("eip.prod.nat", allocation)
        nat = self.ec2.create_nat_gateway(
            SubnetId=public[0],
            AllocationId=allocation,
            TagSpecifications=tag_spec("natgateway", "prod-nat", "prod"),
        )["NatGateway"]["NatGatewayId"]
        self.put("nat.prod", nat)
        private_rtb = self.route_table("prod", "private", private)
        self.ec2.create_route(
            RouteTableId=private_rtb, DestinationCidrBlock=WORLD, NatGatewayId=nat
        )

        # Public subnets: web ports and SSH in, ephemeral return ports in, anything out.
        acl = self.ec2.create_network_acl(
            VpcId=self.net["vpc.prod"],
            TagSpecifications=tag_spec("network-acl", "prod-public", "prod"),
        )["NetworkAcl"]["NetworkAclId"]
        self.put("acl.prod.public", acl)
        entries = [
            (100, False, 443, 443),
            (110, False, 80, 80),
            (120, False, 22, 22),
            (130, False, 8080, 8080),
            (200, False, 1024, 65535),
            (100, True, 0, 65535),
        ]
        for number, egress, low, high in entries:
            self.ec2.create_network_acl_entry(
                NetworkAclId=acl,
                RuleNumber=number,
                Protocol="6",
                RuleAction="allow",
                Egress=egress,
                CidrBlock=WORLD,
                PortRange={"From": low, "To": high},
            )
        self._reassociate_acl(acl, public)

        self.security_group("prod", "bastion", "Bastion hosts")
        self.allow(
            "sg.bastion",
            22,
            cidr=WORLD if plan.ssh_open_to_world else OFFICE_CIDR,
            description="SSH",
        )
        self.security_group("prod", "alb", "Public load balancer")
        self.allow("sg.alb", 443, cidr=WORLD, description="HTTPS")
        self.allow("sg.alb", 80, cidr=WORLD, description="HTTP")
        self.security_group("prod", "app", "Application servers")
        self.allow("sg.app", 8080, group_ref="sg.alb", description="from the load balancer")
        self.allow("sg.app", 22, group_ref="sg.bastion", description="SSH from the bastion")
        self.security_group("prod", "db", "Database")
        self.allow("sg.db", 5432, group_ref="sg.app", description="PostgreSQL from the app")

        self.instance("prod", "bastion", "subnet.prod.public-a", ["sg.bastion"], public_ip=True)
        self.instance("prod", "app-a", "subnet.prod.private-a", ["sg.app"], public_ip=False)
        self.instance("prod", "app-b", "subnet.prod.private-b", ["sg.app"], public_ip=False)
        self.instance(
            "prod",
            "db",
            "subnet.prod.private-a",
            ["sg.db"],
            public_ip=False,
            classification="restricted",
        )
        if plan.load_balancer:
            self.load_balancer(public)

    def _reassociate_acl(self, acl_id: str, subnets: list[str]) -> None:
        acls = self.ec2.describe_network_acls(
            Filters=[{"Name": "association.subnet-id", "Values": subnets}]
        )["NetworkAcls"]
        for current in acls:
            for association in current.get("Associations", []):
                if association["SubnetId"] in subnets:
                    self.ec2.replace_network_acl_association(
                        AssociationId=association["NetworkAclAssociationId"], NetworkAclId=acl_id
                    )

    def load_balancer(self, subnets: list[str]) -> None:
        elb = self.aws.client("elbv2", self.region)
        lb = elb.create_load_balancer(
            Name=f"prod-web-{self.plan.base_octet}",
            Subnets=subnets,
            SecurityGroups=[self.net["sg.alb"]],
            Scheme="internet-facing",
            Type="application",
            IpAddressType="ipv4",
            Tags=tags("prod-web", "prod"),
        )["LoadBalancers"][0]
        self.put("alb.prod", lb["LoadBalancerArn"])
        group = elb.create_target_group(
            Name=f"prod-app-{self.plan.base_octet}",
            Protocol="HTTP",
            Port=8080,
            VpcId=self.net["vpc.prod"],
            TargetType="instance",
            HealthCheckPath="/health",
        )["TargetGroups"][0]
        self.put("tg.prod.app", group["TargetGroupArn"])
        elb.register_targets(
            TargetGroupArn=group["TargetGroupArn"],
            Targets=[{"Id": self.net["i.app-a"]}, {"Id": self.net["i.app-b"]}],
        )
        for port in (80, 443):
            listener = elb.create_listener(
                LoadBalancerArn=lb["LoadBalancerArn"],
                Protocol="HTTP" if port == 80 else "HTTPS",
                Port=port,
                DefaultActions=[{"Type": "forward", "TargetGroupArn": group["TargetGroupArn"]}],
                **(
                    {"Certificates": [{"CertificateArn": self._certificate()}]}
                    if port == 443
                    else {}
                ),
            )["Listeners"][0]
            self.put(f"listener.prod.{port}", listener["ListenerArn"])

    def _certificate(self) -> str:
        acm = self.aws.client("acm", self.region)
        arn = acm.request_certificate(DomainName="www.example.com")["CertificateArn"]
        return self.put("cert.prod", arn)

    def dev(self) -> None:
        self.vpc("dev")
        subnet = self.subnet("dev", "public", 0, 0, public=True)
        igw = self.internet_gateway("dev")
        rtb = self.route_table("dev", "public", [subnet])
        self.ec2.create_route(RouteTableId=rtb, DestinationCidrBlock=WORLD, GatewayId=igw)
        self.security_group("dev", "dev", "Developer workstations")
        self.allow("sg.dev", 22, cidr=OFFICE_CIDR, description="SSH from the office")
        self.instance("dev", "dev", "subnet.dev.public", ["sg.dev"], public_ip=True)

    def peering(self) -> None:
        pcx = self.ec2.create_vpc_peering_connection(
            VpcId=self.net["vpc.prod"],
            PeerVpcId=self.net["vpc.dev"],
            TagSpecifications=tag_spec("vpc-peering-connection", "prod-dev"),
        )["VpcPeeringConnection"]["VpcPeeringConnectionId"]
        status = self.ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pcx])
        if status["VpcPeeringConnections"][0]["Status"]["Code"] != "active":
            self.ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
        self.put("pcx.prod-dev", pcx)
        self.ec2.create_route(
            RouteTableId=self.net["rtb.prod.private"],
            DestinationCidrBlock=self.plan.cidr("dev"),
            VpcPeeringConnectionId=pcx,
        )
        self.ec2.create_route(
            RouteTableId=self.net["rtb.dev.public"],
            DestinationCidrBlock=self.plan.cidr("prod"),
            VpcPeeringConnectionId=pcx,
        )
        if self.plan.dev_reaches_prod_database:
            self.allow(
                "sg.db", 5432, cidr=self.plan.cidr("dev"), description="dev access (temporary)"
            )

    def shared(self) -> None:
        self.vpc("shared")
        subnet = self.subnet("shared", "private", 0, 0, public=False)
        rtb = self.route_table("shared", "private", [subnet])
        self.security_group("shared", "shared", "Shared services")
        self.allow("sg.shared", 443, cidr=self.plan.cidr("prod"), description="from prod")
        self.instance("shared", "shared", "subnet.shared.private", ["sg.shared"], public_ip=False)
        if not self.plan.prod:
            return
        # Attachments associate with the default route table (as AWS does by default, and
        # the only association moto reports); propagation is switched on explicitly.
        created = self.ec2.create_transit_gateway(
            Description="hub",
            Options={
                "DefaultRouteTableAssociation": "enable",
                "DefaultRouteTablePropagation": "disable",
            },
            TagSpecifications=tag_spec("transit-gateway", "hub"),
        )["TransitGateway"]
        tgw = self.put("tgw.hub", created["TransitGatewayId"])
        tgw_rtb = self.put("tgw-rtb.hub", created["Options"]["AssociationDefaultRouteTableId"])
        for env, subnet_name in (("prod", "private-a"), ("shared", "private")):
            attachment = self.ec2.create_transit_gateway_vpc_attachment(
                TransitGatewayId=tgw,
                VpcId=self.net[f"vpc.{env}"],
                SubnetIds=[self.net[f"subnet.{env}.{subnet_name}"]],
                TagSpecifications=tag_spec("transit-gateway-attachment", f"hub-{env}", env),
            )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
            self.put(f"tgw-attach.{env}", attachment)
            self.ec2.enable_transit_gateway_route_table_propagation(
                TransitGatewayRouteTableId=tgw_rtb, TransitGatewayAttachmentId=attachment
            )
        # On-premises ranges sit behind the shared services VPC; one old range is dropped.
        self.ec2.create_transit_gateway_route(
            DestinationCidrBlock=ON_PREMISES_CIDR,
            TransitGatewayRouteTableId=tgw_rtb,
            TransitGatewayAttachmentId=self.net["tgw-attach.shared"],
        )
        self.ec2.create_transit_gateway_route(
            DestinationCidrBlock=RETIRED_CIDR, TransitGatewayRouteTableId=tgw_rtb, Blackhole=True
        )
        self.ec2.create_route(
            RouteTableId=self.net["rtb.prod.private"],
            DestinationCidrBlock=self.plan.cidr("shared"),
            TransitGatewayId=tgw,
        )
        self.ec2.create_route(
            RouteTableId=rtb, DestinationCidrBlock=self.plan.cidr("prod"), TransitGatewayId=tgw
        )


def seed_network(aws: Aws, region: str, plan: NetworkPlan | None = None) -> SeededNetwork:
    """Seed one account-region (the account of ``aws``'s credentials) and return the ids.

    >>> member = Aws(endpoint_url=url).assume("222222222222", "OrganizationAccountAccessRole")
    >>> net = seed_network(member, "eu-west-1", NetworkPlan(base_octet=20))
    >>> net["i.bastion"]
    'i-...'
    """
    plan = plan or NetworkPlan()
    account_id = aws.account_id or aws.client("sts", region).get_caller_identity()["Account"]
    seeder = _Seeder(aws, region, plan, account_id)
    if plan.remove_default_vpc:
        removed = remove_default_vpc(seeder.ec2)
        for index, vpc_id in enumerate(removed):
            seeder.put(f"removed-default-vpc.{index}", vpc_id)
    if plan.prod:
        seeder.prod()
    if plan.dev:
        seeder.dev()
    if plan.prod and plan.dev:
        seeder.peering()
    if plan.shared:
        seeder.shared()
    return seeder.net


def create_member_accounts(aws: Aws, names: list[str]) -> list[str]:
    """Create an organization (if none) and one member account per name; return their ids.

    Run with the management account's credentials. Organizations answers synchronously in
    moto; against AWS, ``create_account`` is asynchronous and this waits for each request.
    """
    org = aws.client("organizations")
    try:
        org.describe_organization()
    except org.exceptions.AWSOrganizationsNotInUseException:
        org.create_organization(FeatureSet="ALL")
    created = []
    for name in names:
        status = org.create_account(Email=f"{name}@example.com", AccountName=name)[
            "CreateAccountStatus"
        ]
        while status["State"] == "IN_PROGRESS":
            time.sleep(1)
            status = org.describe_create_account_status(CreateAccountRequestId=status["Id"])[
                "CreateAccountStatus"
            ]
        if status["State"] != "SUCCEEDED":
            raise RuntimeError(f"account {name}: {status.get('FailureReason', status['State'])}")
        created.append(status["AccountId"])
    return created
