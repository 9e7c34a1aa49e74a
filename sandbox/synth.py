"""A synthetic organization snapshot of any size, for benchmarks and demos.

``write_synthetic_snapshot(root, enis=100_000)`` writes raw ``describe_*``-shaped files in
the snapshot layout (DESIGN.md) for an organization that looks like the ones this tool is
for: many accounts and two regions; in each account-region four VPCs (prod, staging,
dev, shared) with public, application and data subnets in two AZs; an internet gateway,
NAT gateways, a transit gateway with segmented route tables (prod and non-prod apart,
shared reachable from both), a dev-shared peering; custom network ACLs on public
subnets; security groups in tiers that reference each other (web -> app -> db), a
corporate prefix list, a legacy "whole 10/8" group and per-service groups; instances
(with the full ``DescribeInstances`` record), RDS and Lambda ENIs, some public IPs and
IPv6 addresses; an internet-facing load balancer per prod and staging VPC; flow logs on
prod only. A few deliberate mistakes (an SSH bastion open to the world, a database group
open to 10/8, an unsegmented dev VPC) give the analysis something to find.

The records come from :mod:`sandbox.records`, as those of the hand-made test snapshots
(:mod:`sandbox.raw`) do. The generator is deterministic for a given size and seed
(``random.Random(seed)``): the benchmarks compare its snapshots across versions, so a
change here must leave every file byte for byte as it was. From a shell:
``python -m sandbox.synth DIR --enis N``.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as tmp:
...     write_synthetic_snapshot(Path(tmp), enis=1000)
{'accounts': 1, 'regions': 1, 'enis': 1000}
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

from sandbox import records as r
from sandbox.records import ALL, WORLD, acl_entry, perm

ENIS_PER_ACCOUNT_REGION = 1000
REGIONS = ("eu-west-1", "us-east-1")
ENVIRONMENTS = ("prod", "staging", "dev", "shared")
AZS = ("a", "b")
PRIVATE_RANGE = "10.0.0.0/8"


class _Region:
    """One account-region of the synthetic organization."""

    def __init__(
        self, account: str, region: str, index: int, enis: int, rng: random.Random
    ) -> None:
        self.account, self.region, self.index = account, region, index
        self.rng = rng
        self.enis_wanted = enis
        self.files: dict[str, list[Any]] = {}
        self.counter = 0

    def id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.index:05x}{self.counter:012x}"

    def add(self, key: str, item: Any) -> None:
        self.files.setdefault(key, []).append(item)

    def build(self) -> dict[str, list[Any]]:
        acct = self.account
        pl = self.id("pl")
        self.add(
            "PrefixLists",
            r.prefix_list(pl, "corporate", acct, ("198.51.100.0/24", "203.0.113.0/24")),
        )
        tgw = self.id("tgw")
        self.add("TransitGateways", r.transit_gateway(tgw, acct))
        tables = {name: self.id("tgw-rtb") for name in ("prod", "nonprod", "shared")}
        for table in tables.values():
            self.add("TransitGatewayRouteTables", r.tgw_route_table(table, tgw))
        propagations: dict[str, list[dict[str, Any]]] = {t: [] for t in tables.values()}
        vpcs: dict[str, dict[str, Any]] = {}
        second = self.index % 250
        per_env = {"prod": 0.35, "staging": 0.2, "dev": 0.3, "shared": 0.15}
        for n, env in enumerate(ENVIRONMENTS):
            vpc = self._vpc(env, f"10.{(second * 4 + n) % 250}.0.0/16", tgw, tables, propagations)
            vpcs[env] = vpc
            self._workloads(vpc, int(self.enis_wanted * per_env[env]), pl)
        for table, props in propagations.items():
            self.add("TransitGatewayPropagations", r.propagations_of(table, props))
        self.add(
            "TransitGatewayStaticRoutes",
            r.static_routes_of(tables["nonprod"], [r.static_route("10.255.0.0/16", None)]),
        )
        dev, shared = vpcs["dev"], vpcs["shared"]
        pcx = self.id("pcx")
        self.add(
            "VpcPeeringConnections",
            r.peering(
                pcx,
                r.peering_side(dev["id"], acct, self.region, dev["cidr"]),
                r.peering_side(shared["id"], acct, self.region, shared["cidr"]),
            ),
        )
        for a, b in ((dev, shared), (shared, dev)):
            for rtb in a["route_tables"]:
                rtb["Routes"].append(r.route(b["cidr"], pcx, origin="CreateRoute"))
        return self.files

    def _vpc(
        self,
        env: str,
        cidr: str,
        tgw: str,
        tables: dict[str, str],
        propagations: dict[str, list[dict[str, Any]]],
    ) -> dict[str, Any]:
        acct = self.account
        vpc_id = self.id("vpc")
        base = cidr.rsplit(".", 2)[0]
        ipv6 = f"2600:1f18:{self.index % 65536:x}:{ENVIRONMENTS.index(env)}00::/56"
        associations = (
            self.id("vpc-cidr-assoc"),
            self.id("vpc-cidr-assoc") if env == "prod" else None,
        )
        self.add(
            "Vpcs",
            r.vpc(
                vpc_id,
                acct,
                cidr,
                tag={"Name": f"{env}-{self.region}", "Environment": env},
                ipv6=ipv6 if env == "prod" else None,
                association_ids=associations,
            ),
        )
        igw = self.id("igw")
        self.add("InternetGateways", r.internet_gateway(igw, acct, vpc_id))
        if env == "prod":
            self.add("FlowLogs", r.flow_log(self.id("fl"), vpc_id, "s3"))
        subnets: dict[str, list[str]] = {"public": [], "app": [], "data": []}
        cidrs: dict[str, str] = {}
        for t, tier in enumerate(("public", "app", "data")):
            for z, az in enumerate(AZS):
                subnet_id = self.id("subnet")
                block = f"{base}.{t * 64 + z * 32}.0/19"
                cidrs[subnet_id] = block
                subnet_ipv6 = ipv6.replace("00::/56", f"{z:02x}::/64")
                self.add(
                    "Subnets",
                    r.subnet(
                        subnet_id,
                        vpc_id,
                        block,
                        f"{self.region}{az}",
                        acct,
                        public=tier == "public",
                        tag={"Name": f"{env}-{tier}-{az}", "Tier": tier},
                        ipv6=subnet_ipv6 if env == "prod" and tier == "public" else None,
                        available_ips=8000,
                    ),
                )
                subnets[tier].append(subnet_id)
        nat = self.id("nat")
        self.add(
            "NatGateways",
            r.nat_gateway(
                nat,
                vpc_id,
                subnets["public"][0],
                f"52.{self.index % 250}.{ENVIRONMENTS.index(env)}.1",
                f"{base}.0.5",
                self.id("eni"),
            ),
        )

        def routes(*extra: tuple[str, str]) -> list[dict[str, Any]]:
            """The local route, 10/8 to the transit gateway, then ``extra``."""
            return [
                r.route(cidr, "local", origin="CreateRouteTable"),
                r.route(PRIVATE_RANGE, tgw, origin="CreateRoute"),
                *(r.route(dest, target, origin="CreateRoute") for dest, target in extra),
            ]

        public_rtb = r.route_table(
            self.id("rtb"),
            vpc_id,
            acct,
            routes((WORLD, igw)),
            [r.route_table_association(s) for s in subnets["public"]],
        )
        if env == "prod":
            public_rtb["Routes"].append(r.route("::/0", igw))
            public_rtb["Routes"].append(r.route(ipv6, "local"))
        private_rtb = r.route_table(
            self.id("rtb"),
            vpc_id,
            acct,
            routes((WORLD, nat)),
            [r.route_table_association(s) for s in subnets["app"] + subnets["data"]],
        )
        main_rtb = r.route_table(
            self.id("rtb"),
            vpc_id,
            acct,
            [r.route(cidr, "local", origin="CreateRouteTable")],
            [r.route_table_association()],
        )
        for rtb in (public_rtb, private_rtb, main_rtb):
            self.add("RouteTables", rtb)
        self.add(
            "NetworkAcls",
            r.network_acl(
                self.id("acl"),
                vpc_id,
                acct,
                r.default_acl_entries(),
                [r.acl_association(s) for s in subnets["app"] + subnets["data"]],
                default=True,
            ),
        )
        self.add(
            "NetworkAcls",
            r.network_acl(
                self.id("acl"),
                vpc_id,
                acct,
                [
                    acl_entry(90, "6", (3389, 3389), WORLD, "deny"),
                    acl_entry(100, "6", (443, 443), WORLD),
                    acl_entry(110, "6", (80, 80), WORLD),
                    acl_entry(120, "6", (22, 22), WORLD),
                    acl_entry(130, ALL, None, PRIVATE_RANGE),
                    acl_entry(140, "6", (1024, 65535), WORLD),
                    acl_entry(32767, ALL, None, WORLD, "deny"),
                    acl_entry(100, ALL, None, WORLD, egress=True),
                    acl_entry(32767, ALL, None, WORLD, "deny", egress=True),
                ],
                [r.acl_association(s) for s in subnets["public"]],
            ),
        )
        att = self.id("tgw-attach")
        table = tables["shared" if env == "shared" else "prod" if env == "prod" else "nonprod"]
        self.add("TransitGatewayAttachments", r.tgw_attachment(att, tgw, acct, vpc_id, table))
        self.add(
            "TransitGatewayVpcAttachments",
            r.tgw_vpc_attachment(att, tgw, vpc_id, acct, subnets["app"]),
        )
        # prod and non-prod learn their own kind and shared; shared learns everybody
        targets = {
            "prod": ["prod", "shared"],
            "staging": ["nonprod", "shared"],
            "dev": ["nonprod", "shared"],
            "shared": ["prod", "nonprod", "shared"],
        }[env]
        for name in targets:
            propagations[tables[name]].append(r.propagation(att, vpc_id))
        return {
            "id": vpc_id,
            "env": env,
            "cidr": cidr,
            "base": base,
            "subnets": subnets,
            "cidrs": cidrs,
            "route_tables": [public_rtb, private_rtb],
            "ipv6": ipv6,
        }

    def _workloads(self, vpc: dict[str, Any], count: int, pl: str) -> None:
        acct, env, rng = self.account, vpc["env"], self.rng
        vpc_id = vpc["id"]

        def group(
            name: str, ingress: list[dict[str, Any]], egress: list[dict[str, Any]] | None = None
        ) -> str:
            sg_id = self.id("sg")
            self.add(
                "SecurityGroups",
                r.security_group(
                    sg_id, name, vpc_id, acct, ingress, egress, description=name, tag={"Name": name}
                ),
            )
            return sg_id

        default = self.id("sg")
        self.add("SecurityGroups", r.default_security_group(default, vpc_id, acct))
        lb_sg = group(
            f"{env}-alb",
            [perm("tcp", 443, cidrs=(WORLD,)), perm("tcp", 80, cidrs=(WORLD,))],
        )
        web = group(
            f"{env}-web",
            [
                perm("tcp", 443, groups=(lb_sg,), account=acct),
                perm("tcp", 22, prefix_lists=(pl,)),
            ],
        )
        bastion = group(
            f"{env}-bastion",
            [perm("tcp", 22, cidrs=(WORLD,) if env == "dev" else ("198.51.100.0/24",))],
        )
        app = group(
            f"{env}-app",
            [
                perm("tcp", 8080, groups=(web, lb_sg), account=acct),
                perm("tcp", 22, groups=(bastion,), account=acct),
                perm("tcp", 443, cidrs=(PRIVATE_RANGE,)),
            ],
        )
        db_sources = (PRIVATE_RANGE,) if env == "staging" else ()
        db = group(
            f"{env}-db",
            [
                perm("tcp", 5432, groups=(app,), cidrs=db_sources, account=acct),
                perm("tcp", 6379, groups=(app,), account=acct),
            ],
        )
        legacy = group(f"{env}-legacy", [perm(ALL, cidrs=(vpc["cidr"],))])
        services = [
            group(f"{env}-svc-{n}", [perm("tcp", 9000 + n, groups=(app,), account=acct)])
            for n in range(6)
        ]
        lambda_sg = group(f"{env}-lambda", [])
        subnets = vpc["subnets"]
        ip_next: dict[str, int] = {}

        def address(subnet: str) -> str:
            n = ip_next.get(subnet, 10)
            ip_next[subnet] = n + 1
            block = vpc["cidrs"][subnet]
            a, b, c, _ = block.split("/")[0].split(".")
            return f"{a}.{b}.{int(c) + n // 250}.{n % 250 + 4}"

        lb_targets: list[tuple[str, int]] = []
        for n in range(count):
            roll = rng.random()
            az = n % 2
            public_ip = None
            ipv6: list[str] = []
            if roll < 0.15:
                subnet, groups, kind = subnets["public"][az], [web], "instance"
                if rng.random() < 0.3:
                    public_ip = f"54.{self.index % 250}.{n // 250 % 250}.{n % 250}"
                if env == "prod" and rng.random() < 0.5:
                    ipv6 = [vpc["ipv6"].replace("00::/56", f"{az:02x}::{n:x}")]
            elif roll < 0.17:
                subnet, groups, kind = subnets["public"][az], [bastion], "instance"
                public_ip = f"54.{self.index % 250}.{n // 250 % 250}.{n % 250}"
            elif roll < 0.65:
                extra = [services[n % len(services)]] if rng.random() < 0.6 else []
                if env == "dev" and rng.random() < 0.3:
                    extra.append(legacy)
                subnet, groups, kind = subnets["app"][az], [app, *extra], "instance"
            elif roll < 0.8:
                subnet, groups, kind = subnets["data"][az], [db], "rds"
            elif roll < 0.92:
                subnet, groups, kind = subnets["app"][az], [lambda_sg], "lambda"
            else:
                subnet, groups, kind = subnets["data"][az], [db, services[0]], "instance"
            ip = address(subnet)
            eni_id = self.id("eni")
            instance_id = self.id("i") if kind == "instance" else None
            eni = self._eni(eni_id, vpc_id, subnet, groups, ip, public_ip, ipv6, kind, instance_id)
            self.add("NetworkInterfaces", eni)
            if instance_id is not None:
                tags = {"Name": f"{env}-{n}", "Environment": env}
                if groups[0] == db:
                    tags["DataClassification"] = "confidential"
                reservation = self.id("r")
                record = r.instance(
                    instance_id, eni, tag=tags, volume=self.id("vol"), key_name="ops"
                )
                self.add("Reservations", r.reservation(reservation, self.account, [record]))
                if groups[0] == app and len(lb_targets) < 10:
                    lb_targets.append((instance_id, 8080))
        if env in ("prod", "staging") and lb_targets:
            self._load_balancer(env, vpc_id, subnets["public"], lb_sg, lb_targets)

    def _eni(
        self,
        eni_id: str,
        vpc_id: str,
        subnet: str,
        groups: list[str],
        ip: str,
        public_ip: str | None,
        ipv6: list[str],
        kind: str,
        instance_id: str | None,
    ) -> dict[str, Any]:
        """An instance's interface, or (``kind`` rds or lambda) a managed service's."""
        description, interface_type, requester = "", "interface", None
        if kind == "rds":
            description, requester = "RDSNetworkInterface", "amazon-rds"
        elif kind == "lambda":
            description = f"AWS Lambda VPC ENI-fn-{eni_id}"
            interface_type, requester = "lambda", "AROAEXAMPLE:lambda"
        attached = (
            r.attachment(instance_id, self.account, self.id("eni-attach")) if instance_id else None
        )
        return r.network_interface(
            eni_id,
            subnet=subnet,
            vpc=vpc_id,
            # zone a whatever the subnet's: snapshots stay byte-identical across versions
            zone=f"{self.region}a",
            owner=self.account,
            ip=ip,
            groups=groups,
            ipv6=ipv6,
            public_ip=public_ip,
            description=description,
            interface_type=interface_type,
            requester=requester,
            attached=attached,
        )

    def _load_balancer(
        self, env: str, vpc_id: str, subnets: list[str], lb_sg: str, targets: list[tuple[str, int]]
    ) -> None:
        suffix = f"{self.index:08x}{self.counter:08x}"
        lb = r.elb_arn(self.region, self.account, f"loadbalancer/app/{env}-web/{suffix}")
        tg = r.elb_arn(self.region, self.account, f"targetgroup/{env}-app/{suffix}")
        zones = [(f"{self.region}{AZS[i]}", s) for i, s in enumerate(subnets)]
        self.add("LoadBalancers", r.load_balancer(lb, f"{env}-web", vpc_id, zones, [lb_sg]))
        self.add("TargetGroups", r.target_group(tg, f"{env}-app", vpc_id, 8080, lb))
        self.add(
            "LoadBalancerListeners",
            r.listeners_of(lb, [r.listener(f"{lb}/l/1", lb, 443, "HTTPS", tg)]),
        )
        self.add(
            "LoadBalancerTargetHealth",
            r.target_health_of(tg, [r.target_health(i, p) for i, p in targets]),
        )


def write_synthetic_snapshot(root: Path, enis: int, seed: int = 7) -> dict[str, Any]:
    """Write a synthetic snapshot of about ``enis`` ENIs under ``root``; returns its shape."""
    rng = random.Random(seed)
    places = max(1, round(enis / ENIS_PER_ACCOUNT_REGION))
    regions = REGIONS if places > 1 else REGIONS[:1]
    accounts = max(1, -(-places // len(regions)))
    manifest: dict[str, Any] = {"format": 1, "collected_at": "2026-11-27T08:00:00Z", "accounts": {}}
    per_place = enis // (accounts * len(regions))
    index = 0
    for a in range(accounts):
        account = f"{100000000000 + a:012d}"
        manifest["accounts"][account] = {"regions": {}}
        for region in regions:
            index += 1
            files = _Region(account, region, index, per_place, rng).build()
            r.write_files(root / account / region, files)
            manifest["accounts"][account]["regions"][region] = {"status": "ok"}
    (root / "manifest.json").write_text(json.dumps(manifest))
    return {
        "accounts": accounts,
        "regions": len(regions),
        "enis": per_place * accounts * len(regions),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Write a synthetic organization snapshot.")
    parser.add_argument("out", type=Path)
    parser.add_argument("--enis", type=int, default=1000)
    args = parser.parse_args()
    print(write_synthetic_snapshot(args.out, args.enis))


if __name__ == "__main__":
    main()
