"""Read a snapshot directory into typed records (``graph.model``).

Layout (DESIGN.md, compatible with Batfish's ``aws_configs``)::

    SNAPSHOT/manifest.json
    SNAPSHOT/<account-id>/<region>/<Key>.json     raw API response, pages merged
    SNAPSHOT/<region>/<Key>.json                  no account level: read as one account

Every file is optional: a missing file means "none of these", and ``Snapshot.kinds_not_seen``
says which kinds were absent where. An account-region that the manifest lists with an
error is not read; it is reported under ``not_assessed``, and so is one whose collection
did not finish (``"pending"``, or a folder the manifest of an unfinished run,
``"complete": false``, does not list): ``collection incomplete``. A file that is not JSON
text (``core.jsonio.read_json``: not UTF-8, too deep, a number too long, a lone
surrogate), or whose content does not have the shape of the API response (a value of the
wrong type, an address or prefix that is not one), raises ``InputError`` naming the file
and the JSON path (``NetworkInterfaces[3].Groups[0].GroupId``); a value none of the checks
expected is named by its item (``NetworkInterfaces[3]``). Values are quoted cut
(``core.errors``).

Enumerations (states, types, protocols) are read through ``graph.enums``, in every
spelling AWS uses and moto's text form of a state; a value that is not one of AWS's is
kept as it is and listed in ``RegionSnapshot.not_placed`` with its JSON path.

Only the fields the analysis needs are kept, as slotted dataclasses built straight from
the decoded JSON (no validation library in the hot loop: a snapshot of 100k ENIs loads
in about the time ``json.load`` takes).

A snapshot that holds one file, of one account-region:

>>> root = getfixture("tmp_path")  # any directory
>>> place = root / "111111111111" / "eu-west-1"
>>> place.mkdir(parents=True)
>>> import json
>>> vpcs = {"Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"}]}
>>> _ = (place / "Vpcs.json").write_text(json.dumps(vpcs))
>>> snap = load_snapshot(root)
>>> [(r.account, r.region, [vpc.id for vpc in r.vpcs]) for r in snap.regions]
[('111111111111', 'eu-west-1', ['vpc-1'])]
>>> snap.kinds_not_seen()["Subnets"]
['111111111111/eu-west-1']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import InputError, shown
from core.jsonio import read_json
from core.snapshot_kinds import GLOBAL, kinds_of
from graph import enums
from graph import model as m
from graph.cidr import Prefix, parse_prefix
from graph.ports import Traffic, protocol_name

#: Every file the reader knows, by its response key (the file is ``<Key>.json``), in the
#: order of ``core.snapshot_kinds``, which ``kinds_not_seen`` follows.
#: The files of an account-region (the IAM and organization files: graph.iam.snapshot).
KINDS: tuple[str, ...] = tuple(kind.key for kind in kinds_of("account/region"))
#: The order files are read in: NetworkInterfaces.json is AWS's truth for ENIs, and an
#: instance's ENIs are taken from Reservations.json only where it lacks them, so
#: Reservations.json is read after it (last).
READ_ORDER: tuple[str, ...] = (*(k for k in KINDS if k != "Reservations"), "Reservations")

_ACCOUNT_DIR = re.compile(r"^\d{12}$")
_REGION_DIR = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
NO_ACCOUNT = "000000000000"
#: The status of a folder an unfinished collection left without recording it done.
INCOMPLETE = "incomplete"


@dataclass(slots=True)
class RegionSnapshot:
    """Everything read for one account and region."""

    account: str
    region: str
    seen: set[str] = field(default_factory=set)
    vpcs: list[m.Vpc] = field(default_factory=list)
    subnets: list[m.Subnet] = field(default_factory=list)
    route_tables: list[m.RouteTable] = field(default_factory=list)
    network_acls: list[m.NetworkAcl] = field(default_factory=list)
    security_groups: list[m.SecurityGroup] = field(default_factory=list)
    enis: list[m.Eni] = field(default_factory=list)
    instances: list[m.Instance] = field(default_factory=list)
    gateways: list[m.Gateway] = field(default_factory=list)
    nat_gateways: list[m.NatGateway] = field(default_factory=list)
    peerings: list[m.Peering] = field(default_factory=list)
    addresses: list[m.Address] = field(default_factory=list)
    vpc_endpoints: list[m.VpcEndpoint] = field(default_factory=list)
    flow_logs: list[m.FlowLog] = field(default_factory=list)
    prefix_lists: list[m.PrefixList] = field(default_factory=list)
    transit_gateways: list[m.TransitGateway] = field(default_factory=list)
    tgw_attachments: list[m.TgwAttachment] = field(default_factory=list)
    tgw_vpc_attachments: list[m.TgwVpcAttachment] = field(default_factory=list)
    tgw_route_tables: list[m.TgwRouteTable] = field(default_factory=list)
    tgw_static_routes: dict[str, list[m.TgwRoute]] = field(default_factory=dict)
    tgw_propagations: dict[str, list[m.TgwPropagation]] = field(default_factory=dict)
    load_balancers: list[m.LoadBalancer] = field(default_factory=list)
    listeners: list[m.Listener] = field(default_factory=list)
    target_groups: list[m.TargetGroup] = field(default_factory=list)
    targets: list[m.Target] = field(default_factory=list)
    #: target group ARN -> its attributes (``preserve_client_ip.enabled`` -> ``"true"``)
    target_group_attributes: dict[str, dict[str, str]] = field(default_factory=dict)
    #: what the reader read but the analysis cannot place (values that are not AWS's)
    not_placed: list[m.NotPlaced] = field(default_factory=list)
    # fleet posture
    volumes: list[m.Volume] = field(default_factory=list)
    snapshots: list[m.EbsSnapshot] = field(default_factory=list)
    #: snapshot id -> who may create volumes from it
    snapshot_permissions: dict[str, list[m.Permission]] = field(default_factory=dict)
    images: list[m.MachineImage] = field(default_factory=list)
    #: image id -> who may launch it
    image_permissions: dict[str, list[m.Permission]] = field(default_factory=dict)
    #: instance id -> SSM ping status (``Online``, ``ConnectionLost``, ``Inactive``)
    managed_instances: dict[str, str] = field(default_factory=dict)
    #: resource ARN -> AWS Backup's last recovery point (ISO 8601)
    protected: dict[str, str] = field(default_factory=dict)
    detectors: list[m.Detector] = field(default_factory=list)
    #: Inspector's EC2 scanning status for the account (``ENABLED``...), None: not said
    inspector_ec2: str | None = None
    #: Security Hub enabled here (DescribeHub answered with a hub)
    security_hub: bool = False
    #: configuration recorder name -> recording
    recorders: dict[str, bool] = field(default_factory=dict)
    #: one copy of each text many records name (subnet, VPC and group ids, tag keys and
    #: values): JSON makes a new string for every occurrence, and at a million ENIs the
    #: copies weigh half a gigabyte
    names: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def not_seen(self) -> list[str]:
        return [kind for kind in KINDS if kind not in self.seen]


@dataclass(slots=True)
class Snapshot:
    path: str
    collected_at: str | None
    regions: list[RegionSnapshot]
    #: ``{"account", "region", "error"}`` for account-regions the manifest marks failed.
    not_assessed: list[dict[str, str]]

    @property
    def assessed(self) -> list[dict[str, str]]:
        return [{"account": r.account, "region": r.region} for r in self.regions]

    def kinds_not_seen(self) -> dict[str, list[str]]:
        """Kind -> ``account/region`` places (assessed ones) that had no such file."""
        out: dict[str, list[str]] = {}
        for region in self.regions:
            for kind in region.not_seen:
                out.setdefault(kind, []).append(f"{region.account}/{region.region}")
        return out

    def eni_count(self) -> int:
        return sum(len(r.enis) for r in self.regions)


# ---- entry point --------------------------------------------------------------------------


def load_snapshot(path: str | Path) -> Snapshot:
    """Read every account-region of a snapshot directory. Raises InputError on bad input."""
    root = Path(path)
    if not root.is_dir():
        raise InputError(str(root), "not a snapshot directory")
    manifest = _read_manifest(root)
    statuses: dict[tuple[str, str], dict[str, Any]] = {}
    for account, regions in manifest.get("accounts", {}).items():
        for region, status in regions.get("regions", {}).items():
            if region == GLOBAL:  # an account's IAM: read by graph.iam.snapshot
                continue
            statuses[(str(account), str(region))] = status

    places = list(_places(root, manifest))
    not_assessed: list[dict[str, str]] = []
    regions_out: list[RegionSnapshot] = []
    listed = set()
    # A collector that did not finish says so ("complete": false): what it had not
    # recorded as done was not assessed, whatever files it left. Without the key (a
    # snapshot made by hand, or by an older collector) every folder is read.
    unfinished = manifest.get("complete") is False
    for account, region, folder in places:
        listed.add((account, region))
        status = statuses.get((account, region), {"status": INCOMPLETE if unfinished else "ok"})
        if status.get("status", "ok") != "ok":
            not_assessed.append(_not_assessed(account, region, status))
            continue
        regions_out.append(read_region(folder, account, region))
    for (account, region), status in sorted(statuses.items()):
        if (account, region) in listed:
            continue
        if status.get("status", "ok") != "ok":
            not_assessed.append(_not_assessed(account, region, status))
        else:
            # Collected as ok with no files: an empty region (every file optional).
            regions_out.append(RegionSnapshot(account, region))
    regions_out.sort(key=lambda r: (r.account, r.region))
    not_assessed.sort(key=lambda r: (r["account"], r["region"]))
    return Snapshot(str(root), manifest.get("collected_at"), regions_out, not_assessed)


def _not_assessed(account: str, region: str, status: dict[str, Any]) -> dict[str, str]:
    if status.get("status") in (INCOMPLETE, "pending"):
        return {"account": account, "region": region, "error": "collection incomplete"}
    return {
        "account": account,
        "region": region,
        "error": str(status.get("error") or status.get("status") or "error"),
    }


def _read_manifest(root: Path) -> dict[str, Any]:
    file = root / "manifest.json"
    if not file.exists():
        return {}
    data = read_json(file)
    source = str(file)
    if not isinstance(data, dict):
        raise InputError(source, "expected a JSON object", "$")
    accounts = data.get("accounts", {})
    if not isinstance(accounts, dict):
        raise InputError(source, "expected an object", "accounts")
    for account, entry in accounts.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("regions", {}), dict):
            raise InputError(source, "expected {'regions': {...}}", f"accounts.{account}")
        for region, status in entry.get("regions", {}).items():
            where = f"accounts.{account}.regions.{region}"
            if not isinstance(status, dict) or not isinstance(status.get("status", "ok"), str):
                raise InputError(source, "expected {'status': 'ok' | 'error', ...}", where)
            if not isinstance(status.get("error") or "", str):
                raise InputError(source, "expected a string", f"{where}.error")
    if not isinstance(data.get("collected_at") or "", str):
        raise InputError(source, "expected a string", "collected_at")
    return data


def _places(root: Path, manifest: dict[str, Any]) -> Iterator[tuple[str, str, Path]]:
    """(account, region, folder) for every folder of raw files."""
    children = sorted(p for p in root.iterdir() if p.is_dir())
    regions_at_top = [p for p in children if _REGION_DIR.match(p.name)]
    if regions_at_top:
        account = _single_account(manifest, regions_at_top)
        for folder in regions_at_top:
            yield account, folder.name, folder
    for account_dir in children:
        if not _ACCOUNT_DIR.match(account_dir.name):
            continue
        for folder in sorted(p for p in account_dir.iterdir() if p.is_dir()):
            if _REGION_DIR.match(folder.name):
                yield account_dir.name, folder.name, folder


def _single_account(manifest: dict[str, Any], folders: list[Path]) -> str:
    """The account of an account-less snapshot: the manifest's only one, else an owner id."""
    accounts = list(manifest.get("accounts", {}))
    if len(accounts) == 1:
        return str(accounts[0])
    for folder in folders:
        for name, key in (("Vpcs.json", "OwnerId"), ("NetworkInterfaces.json", "OwnerId")):
            file = folder / name
            if not file.exists():
                continue
            data = read_json(file)
            items = data.get(name[:-5]) if isinstance(data, dict) else None
            if isinstance(items, list) and items and isinstance(items[0], dict):
                owner = items[0].get(key)
                if isinstance(owner, str) and _ACCOUNT_DIR.match(owner):
                    return owner
    return NO_ACCOUNT


# ---- reading one account-region ----------------------------------------------------------


class _Shape:
    """Checks the shape of one raw file; errors name the file and the JSON path.

    ``at`` is the item being read (``NetworkInterfaces[3]``), kept up to date by
    :func:`_each` and the ENI readers, so that a value no check expected still ends in an
    error that names the item (``read_region``).
    """

    __slots__ = ("at", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self.at = "$"

    def fail(self, where: str, message: str) -> InputError:
        return InputError(self.source, message, where)

    def items(self, data: Any, key: str) -> list[Any]:
        if not isinstance(data, dict):
            raise self.fail("$", f"expected a JSON object, not {shown(data)}")
        value = data.get(key, [])
        if not isinstance(value, list):
            raise self.fail(key, f"expected a list, not {shown(value)}")
        return value

    def obj(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected an object, not {shown(value)}")
        return value

    def lst(self, item: dict[str, Any], key: str, where: str) -> list[Any]:
        value = item.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(f"{where}.{key}", f"expected a list, not {shown(value)}")
        return value

    def text(self, item: dict[str, Any], key: str, where: str) -> str:
        value = item.get(key)
        if not isinstance(value, str):
            if key not in item:
                raise self.fail(f"{where}.{key}", "missing")
            raise self.fail(f"{where}.{key}", f"expected a string, not {shown(value)}")
        return value

    def opt_text(self, item: dict[str, Any], key: str, where: str) -> str | None:
        value = item.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(f"{where}.{key}", f"expected a string, not {shown(value)}")
        return value

    def opt_int(self, item: dict[str, Any], key: str, where: str) -> int | None:
        value = item.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(f"{where}.{key}", f"expected an integer, not {shown(value)}")
        return value

    def cidr(self, item: dict[str, Any], key: str, where: str) -> Prefix:
        value = self.text(item, key, where)
        try:
            return parse_prefix(value)
        except ValueError:
            raise self.fail(f"{where}.{key}", f"{shown(value)} is not a CIDR block") from None

    def tags(self, item: dict[str, Any], where: str) -> dict[str, str]:
        out: dict[str, str] = {}
        key = "Tags" if item.get("Tags") else "TagSet"
        tags = item.get(key)
        if not tags:
            return out
        if not isinstance(tags, list):
            raise self.fail(f"{where}.{key}", f"expected a list, not {shown(tags)}")
        for pos, tag in enumerate(tags):
            if not isinstance(tag, dict) or not isinstance(tag.get("Key"), str):
                raise self.fail(f"{where}.{key}[{pos}]", "expected {'Key': ..., 'Value': ...}")
            value = tag.get("Value", "")
            if isinstance(value, dict | list):
                raise self.fail(
                    f"{where}.{key}[{pos}].Value", f"expected a string, not {shown(value)}"
                )
            out[tag["Key"]] = str(value)
        return out


def _tag_map(tagset: Any, names: dict[str, str]) -> dict[str, str]:
    """The tags of a fast path, their keys and values kept once in ``names``; TypeError
    on anything the checked path must look at."""
    if not tagset:
        return {}
    out = {t["Key"]: t.get("Value", "") for t in tagset}
    share = names.setdefault
    tags = {}
    for key, value in out.items():
        if not isinstance(key, str) or isinstance(value, dict | list):
            raise TypeError("unusual tags: read them the careful way")
        text = str(value)
        tags[share(key, key)] = share(text, text)
    return tags


#: What a reader raises when it meets a value of a shape none of its checks expected.
_UNCHECKED = (AttributeError, IndexError, KeyError, RecursionError, TypeError, ValueError)


def read_region(folder: Path, account: str, region: str) -> RegionSnapshot:
    """Read the raw files of one account-region folder (any of them may be missing)."""
    snap = RegionSnapshot(account, region)
    for kind in READ_ORDER:
        reader = READERS[kind]
        file = folder / f"{kind}.json"
        if not file.exists():
            continue
        data = read_json(file)
        shape = _Shape(str(file))
        try:
            if kind in WHOLE_DOCUMENTS:  # a whole response: its reader takes the object
                reader(snap, [shape.obj(data, "$")], shape)
            else:
                reader(snap, shape.items(data, WHOLE_KEYS.get(kind, kind)), shape)
        except _UNCHECKED as err:
            # Still bad input, not a bug to show as a traceback: the readers check every
            # value they keep, so what slips past them is a value nested where no AWS
            # response has one (a list in place of a text, 900 levels deep). Named by item.
            reason = f"{type(err).__name__}: {err}"
            raise shape.fail(shape.at, f"not the shape of a {kind} item ({reason})") from None
        snap.seen.add(kind)
        del data
    return snap


Reader = Callable[[RegionSnapshot, list[Any], _Shape], None]


def _enum(snap: RegionSnapshot, enum: enums.Enum, value: Any, where: str) -> str:
    """``value`` as the analysis spells it (``graph.enums``). A value that is not one of
    AWS's is kept as text, so that it matches nothing the analysis looks for, and
    reported as not placed."""
    if isinstance(value, str):
        found = enums.normalise(enum, value)
        if found is not None:
            return found
    known = enum.values()
    listed = f" ({', '.join(known)})" if len(known) <= 8 else ""
    snap.not_placed.append(
        m.NotPlaced(
            "value",
            snap.account,
            snap.region,
            where,
            f"{_cut(value)} is not one of AWS's values of {enum.shape}{listed}",
        )
    )
    return str(value)


def _cut(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}..."


def _field(
    snap: RegionSnapshot, enum: enums.Enum, item: dict[str, Any], key: str, default: str, where: str
) -> str:
    """The enumeration at ``item[key]`` (``default`` when absent)."""
    value = item.get(key)
    if value is None:
        return default
    return _enum(snap, enum, value, f"{where}.{key}")


def _state(
    snap: RegionSnapshot,
    enum: enums.Enum,
    item: dict[str, Any],
    key: str,
    default: str,
    where: str,
    member: str = "State",
) -> str:
    """The state inside the object at ``item[key]`` (``{"State": ...}``; ``default`` when
    absent). moto may answer the object as its text: ``normalise`` reads it."""
    value = item.get(key)
    if value is None:
        return default
    if isinstance(value, dict):
        return _field(snap, enum, value, member, default, f"{where}.{key}")
    return _enum(snap, enum, value, f"{where}.{key}")


def _vpcs(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    for where, item in _each("Vpcs", items, s):
        cidrs: list[Prefix] = []
        blocks = s.lst(item, "CidrBlockAssociationSet", where)
        if blocks:
            for n, block in enumerate(blocks):
                bwhere = f"{where}.CidrBlockAssociationSet[{n}]"
                b = s.obj(block, bwhere)
                state = _state(
                    snap, enums.VPC_BLOCK_STATE, b, "CidrBlockState", "associated", bwhere
                )
                if state == "associated":
                    cidrs.append(s.cidr(b, "CidrBlock", bwhere))
        elif "CidrBlock" in item:
            cidrs.append(s.cidr(item, "CidrBlock", where))
        cidrs += _ipv6_blocks(snap, item, s, where, enums.VPC_BLOCK_STATE)
        snap.vpcs.append(
            m.Vpc(
                s.text(item, "VpcId", where),
                snap.account,
                snap.region,
                cidrs,
                bool(item.get("IsDefault", False)),
                s.tags(item, where),
            )
        )


def _ipv6_blocks(
    snap: RegionSnapshot, item: dict[str, Any], s: _Shape, where: str, states: enums.Enum
) -> list[Prefix]:
    """The associated IPv6 blocks of a VPC or subnet."""
    out = []
    for n, block in enumerate(s.lst(item, "Ipv6CidrBlockAssociationSet", where)):
        bwhere = f"{where}.Ipv6CidrBlockAssociationSet[{n}]"
        b = s.obj(block, bwhere)
        state = _state(snap, states, b, "Ipv6CidrBlockState", "associated", bwhere)
        if state == "associated" and b.get("Ipv6CidrBlock"):
            out.append(s.cidr(b, "Ipv6CidrBlock", bwhere))
    return out


def _subnets(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    for where, item in _each("Subnets", items, s):
        cidrs = [s.cidr(item, "CidrBlock", where)] if item.get("CidrBlock") else []
        cidrs += _ipv6_blocks(snap, item, s, where, enums.SUBNET_BLOCK_STATE)
        snap.subnets.append(
            m.Subnet(
                s.text(item, "SubnetId", where),
                snap.account,
                snap.region,
                s.text(item, "VpcId", where),
                cidrs,
                str(item.get("AvailabilityZone", "")),
                bool(item.get("MapPublicIpOnLaunch", False)),
                s.tags(item, where),
            )
        )


_ROUTE_TARGETS = (
    ("NatGatewayId", "nat-gateway"),
    ("EgressOnlyInternetGatewayId", "egress-only-internet-gateway"),
    ("TransitGatewayId", "transit-gateway"),
    ("VpcPeeringConnectionId", "vpc-peering-connection"),
    ("NetworkInterfaceId", "network-interface"),
    ("InstanceId", "instance"),
    ("CarrierGatewayId", "carrier-gateway"),
    ("LocalGatewayId", "local-gateway"),
    ("CoreNetworkArn", "core-network"),
    ("GatewayId", "gateway"),
)


def _gateway_kind(target: str) -> str:
    if target == "local":
        return "local"
    if target.startswith("igw-"):
        return "internet-gateway"
    if target.startswith("vgw-"):
        return "virtual-private-gateway"
    if target.startswith("vpce-"):
        return "vpc-endpoint"
    if target.startswith("eigw-"):
        return "egress-only-internet-gateway"
    return "gateway"


def _route_tables(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    for where, item in _each("RouteTables", items, s):
        routes = []
        for n, rraw in enumerate(s.lst(item, "Routes", where)):
            rwhere = f"{where}.Routes[{n}]"
            r = s.obj(rraw, rwhere)
            dest: Prefix | None = None
            plist = None
            if r.get("DestinationCidrBlock"):
                dest = s.cidr(r, "DestinationCidrBlock", rwhere)
            elif r.get("DestinationIpv6CidrBlock"):
                dest = s.cidr(r, "DestinationIpv6CidrBlock", rwhere)
            elif r.get("DestinationPrefixListId"):
                plist = s.text(r, "DestinationPrefixListId", rwhere)
            else:
                raise s.fail(rwhere, "route has no destination")
            target, kind = "", "unknown"
            for key, key_kind in _ROUTE_TARGETS:
                value = r.get(key)
                if value:
                    target = str(value)
                    kind = _gateway_kind(target) if key == "GatewayId" else key_kind
                    break
            state = _field(snap, enums.ROUTE_STATE, r, "State", "active", rwhere)
            routes.append(m.Route(dest, plist, target, kind, state))
        subnet_ids, main = [], False
        for n, araw in enumerate(s.lst(item, "Associations", where)):
            awhere = f"{where}.Associations[{n}]"
            a = s.obj(araw, awhere)
            state = _state(
                snap,
                enums.ROUTE_TABLE_ASSOCIATION_STATE,
                a,
                "AssociationState",
                "associated",
                awhere,
            )
            if state not in ("associated", "associating"):
                continue
            if a.get("Main"):
                main = True
            if a.get("SubnetId"):
                subnet_ids.append(str(a["SubnetId"]))
        snap.route_tables.append(
            m.RouteTable(
                s.text(item, "RouteTableId", where),
                snap.account,
                snap.region,
                s.text(item, "VpcId", where),
                routes,
                subnet_ids,
                main,
                s.tags(item, where),
            )
        )


def _acl_traffic(entry: dict[str, Any], s: _Shape, where: str) -> Traffic:
    proto = protocol_name(s.text(entry, "Protocol", where))
    if proto == "all":
        return Traffic.everything()
    if proto in ("tcp", "udp"):
        ports = entry.get("PortRange")
        if not isinstance(ports, dict):
            return Traffic.of(proto)
        low, high = ports.get("From"), ports.get("To")
        if not isinstance(low, int) or not isinstance(high, int):
            raise s.fail(f"{where}.PortRange", "expected integer From and To")
        return Traffic.of(proto, low, high)
    if proto in ("icmp", "icmpv6"):
        code = entry.get("IcmpTypeCode") or {}
        icmp_type = code.get("Type", -1) if isinstance(code, dict) else -1
        return Traffic.of(proto, icmp_type if isinstance(icmp_type, int) else -1)
    return Traffic.of(proto)


def _network_acls(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    for where, item in _each("NetworkAcls", items, s):
        inbound: list[m.AclEntry] = []
        outbound: list[m.AclEntry] = []
        for n, eraw in enumerate(s.lst(item, "Entries", where)):
            ewhere = f"{where}.Entries[{n}]"
            e = s.obj(eraw, ewhere)
            number = s.opt_int(e, "RuleNumber", ewhere)
            if number is None:
                raise s.fail(f"{ewhere}.RuleNumber", "missing")
            if e.get("CidrBlock"):
                cidr = s.cidr(e, "CidrBlock", ewhere)
            else:
                cidr = s.cidr(e, "Ipv6CidrBlock", ewhere)
            s.text(e, "RuleAction", ewhere)  # required, as text
            action = _field(snap, enums.RULE_ACTION, e, "RuleAction", "deny", ewhere)
            entry = m.AclEntry(
                number,
                bool(e.get("Egress")),
                action == "allow",
                _acl_traffic(e, s, ewhere),
                cidr,
            )
            (outbound if entry.egress else inbound).append(entry)
        inbound.sort(key=lambda e: e.number)
        outbound.sort(key=lambda e: e.number)
        subnet_ids = [
            str(a["SubnetId"])
            for a in s.lst(item, "Associations", where)
            if isinstance(a, dict) and a.get("SubnetId")
        ]
        snap.network_acls.append(
            m.NetworkAcl(
                s.text(item, "NetworkAclId", where),
                snap.account,
                snap.region,
                s.text(item, "VpcId", where),
                bool(item.get("IsDefault", False)),
                inbound,
                outbound,
                subnet_ids,
                s.tags(item, where),
            )
        )


def _permission_rules(perm: dict[str, Any], s: _Shape, where: str, egress: bool) -> list[m.SgRule]:
    proto = protocol_name(s.text(perm, "IpProtocol", where))
    low, high = s.opt_int(perm, "FromPort", where), s.opt_int(perm, "ToPort", where)
    traffic = Traffic.of(proto, low, high)
    if proto == "all":
        what = "all traffic"
    elif low is None or low < 0 or proto not in ("tcp", "udp", "icmp", "icmpv6"):
        what = f"{proto} all"
    elif high is None or high == low or (proto.startswith("icmp") and high is not None):
        what = f"{proto} {low}"
    else:
        what = f"{proto} {low}-{high}"
    if proto in ("tcp", "udp") and traffic.get(proto).is_full:
        what = f"{proto} 0-65535"
    word = "to" if egress else "from"
    rules: list[m.SgRule] = []
    for n, rng in enumerate(s.lst(perm, "IpRanges", where)):
        cidr = s.cidr(s.obj(rng, f"{where}.IpRanges[{n}]"), "CidrIp", f"{where}.IpRanges[{n}]")
        rules.append(m.SgRule(traffic, "cidr", cidr, None, f"{what} {word} {cidr}"))
    for n, rng in enumerate(s.lst(perm, "Ipv6Ranges", where)):
        rw = f"{where}.Ipv6Ranges[{n}]"
        cidr = s.cidr(s.obj(rng, rw), "CidrIpv6", rw)
        rules.append(m.SgRule(traffic, "cidr", cidr, None, f"{what} {word} {cidr}"))
    for n, ref in enumerate(s.lst(perm, "PrefixListIds", where)):
        rw = f"{where}.PrefixListIds[{n}]"
        pl = s.text(s.obj(ref, rw), "PrefixListId", rw)
        rules.append(m.SgRule(traffic, "prefix-list", None, pl, f"{what} {word} {pl}"))
    for n, pair in enumerate(s.lst(perm, "UserIdGroupPairs", where)):
        rw = f"{where}.UserIdGroupPairs[{n}]"
        group = s.text(s.obj(pair, rw), "GroupId", rw)
        rules.append(m.SgRule(traffic, "group", None, group, f"{what} {word} {group}"))
    return rules


def _security_groups(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    for where, item in _each("SecurityGroups", items, s):
        ingress: list[m.SgRule] = []
        egress: list[m.SgRule] = []
        for n, perm in enumerate(s.lst(item, "IpPermissions", where)):
            pwhere = f"{where}.IpPermissions[{n}]"
            ingress.extend(_permission_rules(s.obj(perm, pwhere), s, pwhere, False))
        for n, perm in enumerate(s.lst(item, "IpPermissionsEgress", where)):
            pwhere = f"{where}.IpPermissionsEgress[{n}]"
            egress.extend(_permission_rules(s.obj(perm, pwhere), s, pwhere, True))
        snap.security_groups.append(
            m.SecurityGroup(
                s.text(item, "GroupId", where),
                snap.account,
                snap.region,
                str(item.get("VpcId") or ""),
                str(item.get("GroupName", "")),
                ingress,
                egress,
                str(item.get("OwnerId", "")),
                s.tags(item, where),
            )
        )


def _eni(snap: RegionSnapshot, raw: Any, s: _Shape, where: str, inst: str | None) -> m.Eni:
    """One ENI record. Well-formed input takes the fast path; anything odd is re-read by
    the checking path, which names the JSON path of the problem."""
    try:
        return _eni_fast(raw, snap.account, snap.region, inst, snap.names)
    except (KeyError, TypeError, ValueError, AttributeError):
        return _eni_checked(raw, s, where, snap.account, snap.region, inst)


def _eni_fast(
    item: dict[str, Any], account: str, region: str, inst: str | None, names: dict[str, str]
) -> m.Eni:
    groups = tuple(g["GroupId"] for g in item.get("Groups") or ())
    ips: list[m.PrivateIp] = []
    for ip in item.get("PrivateIpAddresses") or ():
        assoc = ip.get("Association")
        public = assoc["PublicIp"] if assoc else None
        if not (public is None or isinstance(public, str)):
            raise TypeError("public address must be a string")
        ips.append(m.PrivateIp(parse_prefix(ip["PrivateIpAddress"]), public))
    if not ips or (ips[0].public_ip is None and item.get("Association")):
        raise ValueError("unusual ENI: read it the careful way")
    ipv6 = [parse_prefix(a["Ipv6Address"]) for a in item.get("Ipv6Addresses") or ()]
    attachment = item.get("Attachment")
    instance_id, device_index = inst, 0
    if attachment:
        instance_id = instance_id or attachment.get("InstanceId") or None
        device_index = attachment.get("DeviceIndex", 0)
    tagset = item.get("TagSet") or item.get("Tags")
    if not (instance_id is None or isinstance(instance_id, str)):
        raise TypeError("instance id must be a string")
    eni_id, vpc_id, subnet_id = item["NetworkInterfaceId"], item["VpcId"], item["SubnetId"]
    if not (isinstance(eni_id, str) and isinstance(vpc_id, str) and isinstance(subnet_id, str)):
        raise TypeError("ids must be strings")
    if not all(isinstance(g, str) for g in groups) or not isinstance(device_index, int):
        raise TypeError("bad field type")
    requester = str(item.get("RequesterId") or "")
    description = str(item.get("Description") or "")
    status = str(item.get("Status") or "in-use")
    share = names.setdefault
    return m.Eni(
        eni_id,
        account,
        region,
        share(vpc_id, vpc_id),
        share(subnet_id, subnet_id),
        tuple([share(g, g) for g in groups]),
        ips,
        ipv6,
        str(item.get("InterfaceType") or "interface"),
        share(requester, requester),
        share(description, description),
        instance_id,
        share(status, status),
        device_index,
        _tag_map(tagset, names),
    )


def _eni_checked(
    raw: Any, s: _Shape, where: str, account: str, region: str, inst: str | None
) -> m.Eni:
    item = s.obj(raw, where)
    groups = []
    for n, g in enumerate(s.lst(item, "Groups", where)):
        groups.append(s.text(s.obj(g, f"{where}.Groups[{n}]"), "GroupId", f"{where}.Groups[{n}]"))
    ips: list[m.PrivateIp] = []
    for n, ipraw in enumerate(s.lst(item, "PrivateIpAddresses", where)):
        iwhere = f"{where}.PrivateIpAddresses[{n}]"
        ip = s.obj(ipraw, iwhere)
        ips.append(m.PrivateIp(s.cidr(ip, "PrivateIpAddress", iwhere), _public_ip(ip, s, iwhere)))
    if not ips and item.get("PrivateIpAddress"):
        ips.append(m.PrivateIp(s.cidr(item, "PrivateIpAddress", where), _public_ip(item, s, where)))
    elif ips and ips[0].public_ip is None and isinstance(item.get("Association"), dict):
        # The ENI-level association belongs to the primary private address.
        primary = s.cidr(item, "PrivateIpAddress", where) if "PrivateIpAddress" in item else None
        for private in ips:
            if primary is None or private.address == primary:
                private.public_ip = _public_ip(item, s, where)
                break
    ipv6 = []
    for n, v6 in enumerate(s.lst(item, "Ipv6Addresses", where)):
        ipv6.append(
            s.cidr(
                s.obj(v6, f"{where}.Ipv6Addresses[{n}]"),
                "Ipv6Address",
                f"{where}.Ipv6Addresses[{n}]",
            )
        )
    attachment = item.get("Attachment")
    instance_id = inst
    device_index = 0
    if isinstance(attachment, dict):
        if instance_id is None:
            instance_id = s.opt_text(attachment, "InstanceId", f"{where}.Attachment") or None
        if isinstance(attachment.get("DeviceIndex"), int):
            device_index = attachment["DeviceIndex"]
    return m.Eni(
        s.text(item, "NetworkInterfaceId", where),
        account,
        region,
        s.text(item, "VpcId", where),
        s.text(item, "SubnetId", where),
        tuple(groups),
        ips,
        ipv6,
        str(item.get("InterfaceType") or "interface"),
        str(item.get("RequesterId") or ""),
        str(item.get("Description") or ""),
        instance_id,
        str(item.get("Status") or "in-use"),
        device_index,
        s.tags(item, where),
    )


def _eni_enums(snap: RegionSnapshot, eni: m.Eni, where: str) -> m.Eni:
    """``eni`` with its interface type and status spelled as the analysis spells them."""
    kind = enums.INTERFACE_TYPE.spellings.get(eni.interface_type)
    eni.interface_type = kind or _enum(
        snap, enums.INTERFACE_TYPE, eni.interface_type, f"{where}.InterfaceType"
    )
    if eni.status not in enums.INTERFACE_STATUS.spellings:
        eni.status = _enum(snap, enums.INTERFACE_STATUS, eni.status, f"{where}.Status")
    return eni


def _public_ip(item: dict[str, Any], s: _Shape, where: str) -> str | None:
    """The public address of an ENI's or a private address's ``Association``."""
    assoc = item.get("Association")
    return (
        s.opt_text(assoc, "PublicIp", f"{where}.Association") if isinstance(assoc, dict) else None
    )


def _network_interfaces(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    append = snap.enis.append
    for pos, raw in enumerate(items):
        where = s.at = f"NetworkInterfaces[{pos}]"
        append(_eni_enums(snap, _eni(snap, raw, s, where, None), where))


def _reservations(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    known = {eni.id for eni in snap.enis}
    for pos, raw in enumerate(items):
        s.at = f"Reservations[{pos}]"
        try:
            _reservation_fast(snap, raw, known)
        except (KeyError, TypeError, ValueError, AttributeError):
            _reservation_checked(snap, raw, s, s.at, known)


def _reservation_fast(snap: RegionSnapshot, reservation: dict[str, Any], known: set[str]) -> None:
    instances = []
    for item in reservation.get("Instances") or ():
        instance_id = item["InstanceId"]
        interfaces = item.get("NetworkInterfaces") or ()
        if not isinstance(instance_id, str) or any(
            e["NetworkInterfaceId"] not in known for e in interfaces
        ):
            raise ValueError("read it the careful way")
        tagset = item.get("Tags")
        subnet, vpc = item.get("SubnetId"), item.get("VpcId")
        if not (subnet is None or isinstance(subnet, str)) or not (
            vpc is None or isinstance(vpc, str)
        ):
            raise TypeError("bad field type")
        state = str((item.get("State") or {}).get("Name", ""))
        if state and state not in enums.INSTANCE_STATE.spellings:
            raise ValueError("read it the careful way")
        profile = (item.get("IamInstanceProfile") or {}).get("Arn")
        metadata = item.get("MetadataOptions") or {}
        extra = (
            profile,
            item.get("ImageId"),
            _SHARED.get(metadata.get("HttpTokens"), metadata.get("HttpTokens")),
            _SHARED.get(metadata.get("HttpEndpoint"), metadata.get("HttpEndpoint")),
        )
        if not all(value is None or isinstance(value, str) for value in extra):
            raise TypeError("bad field type")
        share = snap.names.setdefault
        instances.append(
            m.Instance(
                instance_id,
                snap.account,
                snap.region,
                state,
                subnet if subnet is None else share(subnet, subnet),
                vpc if vpc is None else share(vpc, vpc),
                _tag_map(tagset, snap.names),
                [],
                *extra,
            )
        )
    snap.instances.extend(instances)


def _reservation_checked(
    snap: RegionSnapshot, raw: Any, s: _Shape, where: str, known: set[str]
) -> None:
    reservation = s.obj(raw, where)
    for n, iraw in enumerate(s.lst(reservation, "Instances", where)):
        iwhere = f"{where}.Instances[{n}]"
        item = s.obj(iraw, iwhere)
        instance_id = s.text(item, "InstanceId", iwhere)
        # NetworkInterfaces.json (read first) is the truth: only the ENIs it lacks here.
        enis = []
        for k, e in enumerate(s.lst(item, "NetworkInterfaces", iwhere)):
            if isinstance(e, dict) and _hashable(e.get("NetworkInterfaceId")) in known:
                continue
            ewhere = f"{iwhere}.NetworkInterfaces[{k}]"
            eni = _eni(snap, e, s, ewhere, instance_id)
            enis.append(_eni_enums(snap, eni, ewhere))
        snap.instances.append(
            m.Instance(
                instance_id,
                snap.account,
                snap.region,
                _state(snap, enums.INSTANCE_STATE, item, "State", "", iwhere, member="Name"),
                s.opt_text(item, "SubnetId", iwhere),
                s.opt_text(item, "VpcId", iwhere),
                s.tags(item, iwhere),
                enis,
                _profile(item, s, iwhere),
                s.opt_text(item, "ImageId", iwhere),
                *_metadata_options(item, s, iwhere),
            )
        )


#: Values most instances share, kept once (not once per instance as JSON reads them).
_SHARED: dict[Any, str] = {v: v for v in ("optional", "required", "enabled", "disabled")}


def _metadata_options(item: dict[str, Any], s: _Shape, where: str) -> tuple[str | None, str | None]:
    raw = item.get("MetadataOptions")
    if raw is None:
        return None, None
    options = s.obj(raw, f"{where}.MetadataOptions")
    at = f"{where}.MetadataOptions"
    return s.opt_text(options, "HttpTokens", at), s.opt_text(options, "HttpEndpoint", at)


def _profile(item: dict[str, Any], s: _Shape, where: str) -> str | None:
    """``IamInstanceProfile.Arn`` of an instance, if it has a profile."""
    raw = item.get("IamInstanceProfile")
    if raw is None:
        return None
    return s.opt_text(
        s.obj(raw, f"{where}.IamInstanceProfile"), "Arn", f"{where}.IamInstanceProfile"
    )


def _hashable(value: Any) -> Any:
    """``value`` where it can be looked up in a set, else None (the checks then name it)."""
    return value if isinstance(value, str) else None


def _each(key: str, items: list[Any], s: _Shape) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each item of a response list as an object, with its JSON path (``Key[3]``)."""
    for pos, raw in enumerate(items):
        where = s.at = f"{key}[{pos}]"
        yield where, s.obj(raw, where)


def _attached(snap: RegionSnapshot, item: dict[str, Any], s: _Shape, where: str) -> list[str]:
    """The VPCs a gateway is attached to (``available`` for an internet gateway,
    ``attached`` for an egress-only one)."""
    out = []
    for n, a in enumerate(s.lst(item, "Attachments", where)):
        if not (isinstance(a, dict) and a.get("VpcId")):
            continue
        state = _field(
            snap, enums.GATEWAY_ATTACHMENT_STATE, a, "State", "", f"{where}.Attachments[{n}]"
        )
        if state in ("available", "attached"):
            out.append(str(a["VpcId"]))
    return out


def _gateways(key: str, id_field: str, kind: str) -> Any:
    """A reader for internet gateways or egress-only internet gateways."""

    def read(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
        for where, item in _each(key, items, s):
            snap.gateways.append(
                m.Gateway(
                    s.text(item, id_field, where),
                    snap.account,
                    snap.region,
                    kind,
                    _attached(snap, item, s, where),
                    s.tags(item, where),
                )
            )

    return read


def _nat_gateways(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    for where, item in _each("NatGateways", items, s):
        addrs = s.lst(item, "NatGatewayAddresses", where)
        snap.nat_gateways.append(
            m.NatGateway(
                s.text(item, "NatGatewayId", where),
                snap.account,
                snap.region,
                s.text(item, "VpcId", where),
                s.text(item, "SubnetId", where),
                _field(snap, enums.NAT_GATEWAY_STATE, item, "State", "available", where),
                _field(snap, enums.CONNECTIVITY_TYPE, item, "ConnectivityType", "public", where),
                [str(a["PublicIp"]) for a in addrs if isinstance(a, dict) and a.get("PublicIp")],
                [
                    str(a["NetworkInterfaceId"])
                    for a in addrs
                    if isinstance(a, dict) and a.get("NetworkInterfaceId")
                ],
                s.tags(item, where),
            )
        )


def _peering_side(item: dict[str, Any], key: str, s: _Shape, where: str) -> m.PeeringSide:
    side = s.obj(item.get(key), f"{where}.{key}")
    cidrs: list[Prefix] = []
    for n, block in enumerate(s.lst(side, "CidrBlockSet", f"{where}.{key}")):
        cidrs.append(
            s.cidr(
                s.obj(block, f"{where}.{key}.CidrBlockSet[{n}]"),
                "CidrBlock",
                f"{where}.{key}.CidrBlockSet[{n}]",
            )
        )
    if not cidrs and side.get("CidrBlock"):
        cidrs.append(s.cidr(side, "CidrBlock", f"{where}.{key}"))
    for n, block in enumerate(s.lst(side, "Ipv6CidrBlockSet", f"{where}.{key}")):
        cidrs.append(
            s.cidr(
                s.obj(block, f"{where}.{key}.Ipv6CidrBlockSet[{n}]"),
                "Ipv6CidrBlock",
                f"{where}.{key}.Ipv6CidrBlockSet[{n}]",
            )
        )
    return m.PeeringSide(
        s.text(side, "VpcId", f"{where}.{key}"),
        str(side.get("OwnerId", "")),
        str(side.get("Region", "")),
        cidrs,
    )


def _peerings(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    for where, item in _each("VpcPeeringConnections", items, s):
        snap.peerings.append(
            m.Peering(
                s.text(item, "VpcPeeringConnectionId", where),
                snap.account,
                snap.region,
                _state(snap, enums.PEERING_STATE, item, "Status", "", where, member="Code"),
                _peering_side(item, "RequesterVpcInfo", s, where),
                _peering_side(item, "AccepterVpcInfo", s, where),
                s.tags(item, where),
            )
        )


def _addresses(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    for where, item in _each("Addresses", items, s):
        snap.addresses.append(
            m.Address(
                s.text(item, "PublicIp", where),
                s.opt_text(item, "AllocationId", where),
                s.opt_text(item, "NetworkInterfaceId", where),
                s.opt_text(item, "PrivateIpAddress", where),
                s.opt_text(item, "InstanceId", where),
            )
        )


def _vpc_endpoints(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    for where, item in _each("VpcEndpoints", items, s):
        snap.vpc_endpoints.append(
            m.VpcEndpoint(
                s.text(item, "VpcEndpointId", where),
                snap.account,
                snap.region,
                s.text(item, "VpcId", where),
                _field(snap, enums.VPC_ENDPOINT_TYPE, item, "VpcEndpointType", "", where),
                str(item.get("ServiceName", "")),
                _field(snap, enums.VPC_ENDPOINT_STATE, item, "State", "", where),
                [str(x) for x in s.lst(item, "SubnetIds", where)],
                [str(x) for x in s.lst(item, "RouteTableIds", where)],
                [
                    str(g["GroupId"])
                    for g in s.lst(item, "Groups", where)
                    if isinstance(g, dict) and g.get("GroupId")
                ],
                [str(x) for x in s.lst(item, "NetworkInterfaceIds", where)],
            )
        )


def _flow_logs(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    for where, item in _each("FlowLogs", items, s):
        snap.flow_logs.append(
            m.FlowLog(
                s.text(item, "FlowLogId", where),
                s.text(item, "ResourceId", where),
                str(item.get("FlowLogStatus", "ACTIVE")),
            )
        )


def _prefix_lists(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    for where, item in _each("PrefixLists", items, s):
        cidrs = [
            s.cidr(s.obj(e, f"{where}.Entries[{n}]"), "Cidr", f"{where}.Entries[{n}]")
            for n, e in enumerate(s.lst(item, "Entries", where))
        ]
        snap.prefix_lists.append(
            m.PrefixList(
                s.text(item, "PrefixListId", where), str(item.get("PrefixListName", "")), cidrs
            )
        )


def _transit_gateways(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    for where, item in _each("TransitGateways", items, s):
        snap.transit_gateways.append(
            m.TransitGateway(
                s.text(item, "TransitGatewayId", where),
                snap.account,
                snap.region,
                str(item.get("OwnerId", "")),
                _field(snap, enums.TRANSIT_GATEWAY_STATE, item, "State", "available", where),
                s.tags(item, where),
            )
        )


def _tgw_attachments(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    for where, item in _each("TransitGatewayAttachments", items, s):
        assoc = item.get("Association")
        assoc = assoc if isinstance(assoc, dict) else {}
        awhere = f"{where}.Association"
        assoc_state = s.opt_text(assoc, "State", awhere)
        snap.tgw_attachments.append(
            m.TgwAttachment(
                s.text(item, "TransitGatewayAttachmentId", where),
                s.text(item, "TransitGatewayId", where),
                _field(snap, enums.TGW_RESOURCE_TYPE, item, "ResourceType", "", where),
                str(item.get("ResourceId", "")),
                str(item.get("ResourceOwnerId", "")),
                _field(snap, enums.TGW_ATTACHMENT_STATE, item, "State", "available", where),
                s.opt_text(assoc, "TransitGatewayRouteTableId", awhere),
                None
                if assoc_state is None
                else _enum(snap, enums.TGW_ASSOCIATION_STATE, assoc_state, f"{awhere}.State"),
            )
        )


def _tgw_vpc_attachments(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    for where, item in _each("TransitGatewayVpcAttachments", items, s):
        snap.tgw_vpc_attachments.append(
            m.TgwVpcAttachment(
                s.text(item, "TransitGatewayAttachmentId", where),
                s.text(item, "TransitGatewayId", where),
                s.text(item, "VpcId", where),
                str(item.get("VpcOwnerId", "")),
                [str(x) for x in s.lst(item, "SubnetIds", where)],
                _field(snap, enums.TGW_ATTACHMENT_STATE, item, "State", "available", where),
            )
        )


def _tgw_route_tables(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    for where, item in _each("TransitGatewayRouteTables", items, s):
        snap.tgw_route_tables.append(
            m.TgwRouteTable(
                s.text(item, "TransitGatewayRouteTableId", where),
                s.text(item, "TransitGatewayId", where),
                _field(snap, enums.TGW_ROUTE_TABLE_STATE, item, "State", "available", where),
            )
        )


def _tgw_static_routes(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    for where, item in _each("TransitGatewayStaticRoutes", items, s):
        table = s.text(item, "TransitGatewayRouteTableId", where)
        routes = snap.tgw_static_routes.setdefault(table, [])
        for n, rraw in enumerate(s.lst(item, "Routes", where)):
            rwhere = f"{where}.Routes[{n}]"
            r = s.obj(rraw, rwhere)
            if not r.get("DestinationCidrBlock"):
                snap.not_placed.append(
                    m.NotPlaced(
                        "record",
                        snap.account,
                        snap.region,
                        f"{table} {r.get('PrefixListId') or 'route'}",
                        "a transit gateway route to a prefix list: not followed",
                    )
                )
                continue
            attachments = [
                str(a["TransitGatewayAttachmentId"])
                for a in s.lst(r, "TransitGatewayAttachments", rwhere)
                if isinstance(a, dict) and a.get("TransitGatewayAttachmentId")
            ]
            routes.append(
                m.TgwRoute(
                    s.cidr(r, "DestinationCidrBlock", rwhere),
                    attachments,
                    _field(snap, enums.TGW_ROUTE_STATE, r, "State", "active", rwhere),
                    _field(snap, enums.TGW_ROUTE_TYPE, r, "Type", "static", rwhere),
                )
            )


def _tgw_propagations(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    for where, item in _each("TransitGatewayPropagations", items, s):
        table = s.text(item, "TransitGatewayRouteTableId", where)
        out = snap.tgw_propagations.setdefault(table, [])
        for n, praw in enumerate(s.lst(item, "TransitGatewayRouteTablePropagations", where)):
            pwhere = f"{where}.TransitGatewayRouteTablePropagations[{n}]"
            p = s.obj(praw, pwhere)
            out.append(
                m.TgwPropagation(
                    s.text(p, "TransitGatewayAttachmentId", pwhere),
                    str(p.get("ResourceId", "")),
                    _field(snap, enums.TGW_RESOURCE_TYPE, p, "ResourceType", "", pwhere),
                    _field(snap, enums.TGW_PROPAGATION_STATE, p, "State", "enabled", pwhere),
                )
            )


def _load_balancers(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    for where, item in _each("LoadBalancers", items, s):
        subnets = [
            str(z["SubnetId"])
            for z in s.lst(item, "AvailabilityZones", where)
            if isinstance(z, dict) and z.get("SubnetId")
        ]
        snap.load_balancers.append(
            m.LoadBalancer(
                s.text(item, "LoadBalancerArn", where),
                snap.account,
                snap.region,
                str(item.get("LoadBalancerName", "")),
                _field(snap, enums.LOAD_BALANCER_TYPE, item, "Type", "application", where),
                _field(snap, enums.LOAD_BALANCER_SCHEME, item, "Scheme", "internal", where),
                str(item.get("VpcId", "")),
                subnets,
                [str(g) for g in s.lst(item, "SecurityGroups", where)],
                _state(snap, enums.LOAD_BALANCER_STATE, item, "State", "active", where, "Code"),
            )
        )


def _forward_targets(action: dict[str, Any]) -> list[str]:
    out = []
    if action.get("TargetGroupArn"):
        out.append(str(action["TargetGroupArn"]))
    forward = action.get("ForwardConfig")
    if isinstance(forward, dict):
        for tg in forward.get("TargetGroups") or []:
            if isinstance(tg, dict) and tg.get("TargetGroupArn"):
                out.append(str(tg["TargetGroupArn"]))
    return out


def _listeners(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    for where, item in _each("LoadBalancerListeners", items, s):
        lb_arn = s.text(item, "LoadBalancerArn", where)
        for n, lraw in enumerate(s.lst(item, "Listeners", where)):
            lwhere = f"{where}.Listeners[{n}]"
            listener = s.obj(lraw, lwhere)
            port = s.opt_int(listener, "Port", lwhere)
            groups: list[str] = []
            for k, action in enumerate(s.lst(listener, "DefaultActions", lwhere)):
                if not isinstance(action, dict):
                    continue
                awhere = f"{lwhere}.DefaultActions[{k}]"
                if _field(snap, enums.ACTION_TYPE, action, "Type", "forward", awhere) == "forward":
                    groups.extend(_forward_targets(action))
            snap.listeners.append(
                m.Listener(
                    str(listener.get("ListenerArn", f"{lb_arn}/listener/{n}")),
                    lb_arn,
                    port if port is not None else 0,
                    _field(snap, enums.ELB_PROTOCOL, listener, "Protocol", "", lwhere),
                    sorted(set(groups)),
                )
            )


def _target_groups(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    for where, item in _each("TargetGroups", items, s):
        snap.target_groups.append(
            m.TargetGroup(
                s.text(item, "TargetGroupArn", where),
                str(item.get("TargetGroupName", "")),
                _field(snap, enums.ELB_PROTOCOL, item, "Protocol", "", where),
                s.opt_int(item, "Port", where),
                s.opt_text(item, "VpcId", where),
                _field(snap, enums.TARGET_TYPE, item, "TargetType", "instance", where),
                [str(x) for x in s.lst(item, "LoadBalancerArns", where)],
            )
        )


def _target_health(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    for where, item in _each("LoadBalancerTargetHealth", items, s):
        tg_arn = s.text(item, "TargetGroupArn", where)
        for n, draw in enumerate(s.lst(item, "TargetHealthDescriptions", where)):
            dwhere = f"{where}.TargetHealthDescriptions[{n}]"
            d = s.obj(draw, dwhere)
            target = s.obj(d.get("Target"), f"{dwhere}.Target")
            health = d.get("TargetHealth")
            snap.targets.append(
                m.Target(
                    tg_arn,
                    s.text(target, "Id", f"{dwhere}.Target"),
                    s.opt_int(target, "Port", f"{dwhere}.Target"),
                    _state(snap, enums.TARGET_HEALTH_STATE, d, "TargetHealth", "", dwhere),
                    str(health.get("Reason") or "") if isinstance(health, dict) else "",
                )
            )


def _target_group_attributes(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    for where, item in _each("TargetGroupAttributes", items, s):
        attributes = snap.target_group_attributes.setdefault(
            s.text(item, "TargetGroupArn", where), {}
        )
        for n, araw in enumerate(s.lst(item, "Attributes", where)):
            awhere = f"{where}.Attributes[{n}]"
            attribute = s.obj(araw, awhere)
            attributes[s.text(attribute, "Key", awhere)] = (
                s.opt_text(attribute, "Value", awhere) or ""
            )


# ---- fleet posture ---------------------------------------------------------------------


def _bool(item: dict[str, Any], key: str, s: _Shape, where: str) -> bool:
    value = item.get(key, False)
    if not isinstance(value, bool):
        raise s.fail(f"{where}.{key}", f"expected true or false, not {shown(value)}")
    return value


def _volumes(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    for where, item in _each("Volumes", items, s):
        snap.volumes.append(
            m.Volume(
                s.text(item, "VolumeId", where),
                snap.account,
                snap.region,
                _bool(item, "Encrypted", s, where),
                str(item.get("State", "")),
                s.opt_text(item, "CreateTime", where),
                [
                    str(a["InstanceId"])
                    for a in s.lst(item, "Attachments", where)
                    if isinstance(a, dict) and a.get("InstanceId")
                ],
                s.tags(item, where),
            )
        )


def _snapshots(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    for where, item in _each("Snapshots", items, s):
        snap.snapshots.append(
            m.EbsSnapshot(
                s.text(item, "SnapshotId", where),
                snap.account,
                snap.region,
                str(item.get("OwnerId") or snap.account),
                _bool(item, "Encrypted", s, where),
                s.opt_text(item, "VolumeId", where),
                s.opt_text(item, "StartTime", where),
                s.tags(item, where),
            )
        )


def _permissions(entries: list[Any], s: _Shape, where: str) -> list[m.Permission]:
    out = []
    for n, raw in enumerate(entries):
        at = f"{where}[{n}]"
        entry = s.obj(raw, at)
        out.append(
            m.Permission(
                s.opt_text(entry, "UserId", at),
                s.opt_text(entry, "Group", at),
                s.opt_text(entry, "OrganizationArn", at),
                s.opt_text(entry, "OrganizationalUnitArn", at),
            )
        )
    return out


def _attributes(key: str, id_key: str, list_key: str, field_name: str) -> Reader:
    def read(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
        held: dict[str, list[m.Permission]] = getattr(snap, field_name)
        for where, item in _each(key, items, s):
            entries = s.lst(item, list_key, where)
            held[s.text(item, id_key, where)] = _permissions(entries, s, f"{where}.{list_key}")

    return read


def _images(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    for where, item in _each("Images", items, s):
        snap.images.append(
            m.MachineImage(
                s.text(item, "ImageId", where),
                snap.account,
                snap.region,
                str(item.get("OwnerId", "")),
                _bool(item, "Public", s, where),
                str(item.get("State", "")),
                s.opt_text(item, "CreationDate", where),
                s.opt_text(item, "ImageOwnerAlias", where),
                str(item.get("Name", "")),
                s.tags(item, where),
            )
        )


def _instance_information(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    for where, item in _each("InstanceInformationList", items, s):
        status = s.opt_text(item, "PingStatus", where) or ""
        snap.managed_instances[s.text(item, "InstanceId", where)] = status


def _protected_resources(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    for where, item in _each("Results", items, s):
        last = s.opt_text(item, "LastBackupTime", where)
        if last is not None:
            snap.protected[s.text(item, "ResourceArn", where)] = last


def _detectors(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    for where, item in _each("GuardDutyDetectors", items, s):
        snap.detectors.append(
            m.Detector(s.text(item, "DetectorId", where), s.opt_text(item, "Status", where) or "")
        )


def _inspector(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    """BatchGetAccountStatus: the account's ``resourceState.ec2.status``."""
    (document,) = items
    for n, raw in enumerate(s.lst(document, "accounts", "$")):
        where = f"accounts[{n}]"
        entry = s.obj(raw, where)
        if entry.get("accountId") not in (None, snap.account):
            continue
        state = s.obj(entry.get("resourceState") or {}, f"{where}.resourceState")
        ec2 = s.obj(state.get("ec2") or {}, f"{where}.resourceState.ec2")
        snap.inspector_ec2 = s.opt_text(ec2, "status", f"{where}.resourceState.ec2")


def _security_hub(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    """DescribeHub's answer: a hub (``HubArn``), or ``{}`` where it is not enabled."""
    (document,) = items
    snap.security_hub = s.opt_text(document, "HubArn", "$") is not None


def _recorders(snap: RegionSnapshot, items: list[Any], s: _Shape) -> None:
    for where, item in _each("ConfigurationRecordersStatus", items, s):
        name = s.opt_text(item, "name", where) or ""
        snap.recorders[name] = _bool(item, "recording", s, where)


#: Kinds whose file is one whole response rather than a list under the kind's key.
WHOLE_DOCUMENTS = frozenset({"InspectorAccountStatus", "SecurityHub"})
#: Kinds whose list sits under another key than the kind's.
WHOLE_KEYS = {"BackupProtectedResources": "Results"}

#: How each kind of the table (``core.snapshot_kinds``) is parsed into records.
READERS: dict[str, Reader] = {
    "Reservations": _reservations,
    "NetworkInterfaces": _network_interfaces,
    "SecurityGroups": _security_groups,
    "NetworkAcls": _network_acls,
    "RouteTables": _route_tables,
    "Subnets": _subnets,
    "Vpcs": _vpcs,
    "InternetGateways": _gateways("InternetGateways", "InternetGatewayId", "internet-gateway"),
    "EgressOnlyInternetGateways": _gateways(
        "EgressOnlyInternetGateways", "EgressOnlyInternetGatewayId", "egress-only-internet-gateway"
    ),
    "NatGateways": _nat_gateways,
    "VpcPeeringConnections": _peerings,
    "Addresses": _addresses,
    "VpcEndpoints": _vpc_endpoints,
    "FlowLogs": _flow_logs,
    "PrefixLists": _prefix_lists,
    "TransitGateways": _transit_gateways,
    "TransitGatewayAttachments": _tgw_attachments,
    "TransitGatewayVpcAttachments": _tgw_vpc_attachments,
    "TransitGatewayRouteTables": _tgw_route_tables,
    "TransitGatewayStaticRoutes": _tgw_static_routes,
    "TransitGatewayPropagations": _tgw_propagations,
    "LoadBalancers": _load_balancers,
    "LoadBalancerListeners": _listeners,
    "TargetGroups": _target_groups,
    "LoadBalancerTargetHealth": _target_health,
    "TargetGroupAttributes": _target_group_attributes,
    "Volumes": _volumes,
    "Snapshots": _snapshots,
    "SnapshotAttributes": _attributes(
        "SnapshotAttributes", "SnapshotId", "CreateVolumePermissions", "snapshot_permissions"
    ),
    "Images": _images,
    "ImageAttributes": _attributes(
        "ImageAttributes", "ImageId", "LaunchPermissions", "image_permissions"
    ),
    "InstanceInformationList": _instance_information,
    "BackupProtectedResources": _protected_resources,
    "GuardDutyDetectors": _detectors,
    "InspectorAccountStatus": _inspector,
    "SecurityHub": _security_hub,
    "ConfigurationRecordersStatus": _recorders,
}
