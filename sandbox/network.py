"""A realistic VPC estate, seeded through boto3 into one account-region of an AWS stand-in.

Used by the end-to-end tests, the collection bench and ``ivs demo`` (whose world,
:mod:`sandbox.world`, plants its mistakes and traps on top of these estates). Everything
goes through the boto3 helpers of :mod:`sandbox.seeding`, called with the clients of an
:class:`core.aws.Aws` (in moto, the credentials of a role assumed in the member account,
so resources land in that account), which keeps the seeded data shaped exactly like
AWS's answers.

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

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from core.aws import Aws
from sandbox import seeding as seed
from sandbox.seeding import WORLD, name_tags, subnet_cidr, tag_spec

__all__ = [
    "OFFICE_CIDR",
    "ON_PREMISES_CIDR",
    "RETIRED_CIDR",
    "WORLD",
    "NetworkPlan",
    "SeededNetwork",
    "seed_network",
]

OFFICE_CIDR = "203.0.113.0/24"  # TEST-NET-3: an office egress range, not the world
ON_PREMISES_CIDR = "172.16.0.0/12"  # reached through the shared services VPC
RETIRED_CIDR = "192.168.0.0/16"  # a retired range, blackholed at the transit gateway


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


class _Seeder:
    """One account-region's seeding; methods add to ``net.ids`` as they go."""

    def __init__(self, aws: Aws, region: str, plan: NetworkPlan, account_id: str) -> None:
        self.aws = aws
        self.region = region
        self.plan = plan
        self.ec2 = aws.client("ec2", region)
        self.net = SeededNetwork(account_id=account_id, region=region, plan=plan)
        self.zones = seed.zone_names(self.ec2)[:2]

    def put(self, name: str, resource_id: str) -> str:
        self.net.ids[name] = resource_id
        return resource_id

    # ---- building blocks ---------------------------------------------------------------

    def vpc(self, env: str) -> str:
        classification = self.plan.data_classification.get(env, "internal")
        vpc_id = seed.create_vpc(
            self.ec2, self.plan.cidr(env), f"{env}-vpc", env, DataClassification=classification
        )
        self.ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
        self.put(f"vpc.{env}", vpc_id)
        default_sg = seed.default_security_group(self.ec2, vpc_id)
        self.put(f"sg.{env}.default", default_sg["GroupId"])
        if env in self.plan.strip_default_sg_rules:
            seed.revoke_rules(self.ec2, default_sg)
        self.put(f"acl.{env}.default", seed.default_network_acl(self.ec2, vpc_id))
        self.put(f"rtb.{env}.main", seed.main_route_table(self.ec2, vpc_id))
        if env in self.plan.flow_logs:
            logs = self.aws.client("logs", self.region)
            flow_logs = seed.create_flow_logs(self.ec2, logs, vpc_id, env, self.net.account_id)
            self.put(f"fl.{env}", flow_logs)
        return vpc_id

    def subnet(self, env: str, name: str, index: int, zone: int, public: bool) -> str:
        subnet_id = seed.create_subnet(
            self.ec2,
            self.net[f"vpc.{env}"],
            subnet_cidr(self.plan.cidr(env), index),
            self.zones[zone % len(self.zones)],
            f"{env}-{name}",
            env,
            public=public,
        )
        return self.put(f"subnet.{env}.{name}", subnet_id)

    def route_table(self, env: str, name: str, subnets: list[str]) -> str:
        rtb = seed.create_route_table(
            self.ec2, self.net[f"vpc.{env}"], f"{env}-{name}", env, subnets
        )
        return self.put(f"rtb.{env}.{name}", rtb)

    def internet_gateway(self, env: str) -> str:
        return self.put(
            f"igw.{env}", seed.create_internet_gateway(self.ec2, self.net[f"vpc.{env}"], env)
        )

    def security_group(self, env: str, name: str, description: str) -> str:
        group_id = seed.create_security_group(
            self.ec2, self.net[f"vpc.{env}"], f"{env}-{name}", description, env
        )
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
        source = self.net[group_ref] if group_ref is not None else None
        seed.authorize(
            self.ec2, self.net[group], port, cidr=cidr, group=source, description=description
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
        instance = seed.run_instance(
            self.ec2,
            self.net[subnet],
            [self.net[g] for g in groups],
            f"{env}-{name}",
            env,
            public_ip=public_ip,
            **extra,
        )
        self.put(f"i.{name}", instance["InstanceId"])
        self.put(f"eni.{name}", instance["NetworkInterfaces"][0]["NetworkInterfaceId"])
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
        seed.add_route(self.ec2, public_rtb, WORLD, igw)
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
        seed.add_route(self.ec2, private_rtb, WORLD, nat)

        # Public subnets: web ports and SSH in, ephemeral return ports in, anything out.
        acl = seed.create_network_acl(self.ec2, self.net["vpc.prod"], "prod-public", "prod", public)
        self.put("acl.prod.public", acl)
        entries = [
            (100, False, (443, 443)),
            (110, False, (80, 80)),
            (120, False, (22, 22)),
            (130, False, (8080, 8080)),
            (200, False, (1024, 65535)),
            (100, True, (0, 65535)),
        ]
        for number, egress, ports in entries:
            seed.add_acl_entry(self.ec2, acl, number, "allow", WORLD, ports, egress=egress)

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

    def load_balancer(self, subnets: list[str]) -> None:
        elb = self.aws.client("elbv2", self.region)
        lb = elb.create_load_balancer(
            Name=f"prod-web-{self.plan.base_octet}",
            Subnets=subnets,
            SecurityGroups=[self.net["sg.alb"]],
            Scheme="internet-facing",
            Type="application",
            IpAddressType="ipv4",
            Tags=name_tags("prod-web", "prod"),
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
        seed.add_route(self.ec2, rtb, WORLD, igw)
        self.security_group("dev", "dev", "Developer workstations")
        self.allow("sg.dev", 22, cidr=OFFICE_CIDR, description="SSH from the office")
        self.instance("dev", "dev", "subnet.dev.public", ["sg.dev"], public_ip=True)

    def peering(self) -> None:
        pcx = seed.create_peering(self.ec2, self.net["vpc.prod"], self.net["vpc.dev"], "prod-dev")
        self.put("pcx.prod-dev", pcx)
        seed.add_route(self.ec2, self.net["rtb.prod.private"], self.plan.cidr("dev"), pcx)
        seed.add_route(self.ec2, self.net["rtb.dev.public"], self.plan.cidr("prod"), pcx)
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
        seed.add_route(self.ec2, self.net["rtb.prod.private"], self.plan.cidr("shared"), tgw)
        seed.add_route(self.ec2, rtb, self.plan.cidr("prod"), tgw)


def seed_network(aws: Aws, region: str, plan: NetworkPlan | None = None) -> SeededNetwork:
    """Seed one account-region (the account of ``aws``'s credentials) and return the ids.

    In moto in this process (``mock_aws``), with its fake credentials:

    >>> from moto import mock_aws
    >>> with mock_aws():
    ...     net = seed_network(Aws(), "eu-west-1", NetworkPlan(base_octet=20, load_balancer=False))
    >>> net["i.bastion"].startswith("i-"), net.plan.cidr("dev")
    (True, '10.21.0.0/16')
    """
    plan = plan or NetworkPlan()
    account_id = aws.account_id or aws.client("sts", region).get_caller_identity()["Account"]
    seeder = _Seeder(aws, region, plan, account_id)
    if plan.remove_default_vpc:
        removed = seed.remove_default_vpc(seeder.ec2)
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
