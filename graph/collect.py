"""The collector: raw VPC describe responses from every account and region, on disk.

In Cartography's get/transform/load terms this module is only the *get*: each kind of
the table ``core.snapshot_kinds`` (the file it fills, the calls it makes, which are also
the IAM actions they need, whether the region is worth anything without it) has its
:class:`Fetch` here, made with paginators, and is written as the raw response with its
pages merged under the top-level key. ``graph/snapshot.py`` reads the files back;
nothing here interprets them.

Layout (DESIGN.md): ``OUT/<account-id>/<region>/<Key>.json`` plus ``OUT/manifest.json``,
which records per account-region ``{"status": "ok"}`` (with ``"missing": {Key: reason}``
when an optional kind could not be read), ``{"status": "error", "error": CODE,
"message": ...}``, or ``{"status": "pending"}`` while it is planned and not yet done, and
``"complete": true`` only once the run has finished (a run that is killed leaves
``false``: a reader reports what was pending as not assessed, and ``--resume`` collects
it, after removing the temporary files the killed run's writes left). Directories are
0700 and files 0600: a snapshot maps the network.

How accounts are reached:

* accounts come from ``--accounts`` or Organizations ``ListAccounts`` (ACTIVE only); an
  account that is not in an organization collects just itself;
* the account the caller's own credentials belong to (normally the management account)
  is read with those credentials, because ``OrganizationAccountAccessRole`` exists only
  in member accounts; every other account is read through ``role_name`` assumed with
  :meth:`core.aws.Aws.assume` (re-assumed before the credentials age out);
* regions come from ``--regions`` or the account's own ``DescribeRegions``
  (``AllRegions=False``: the enabled ones). When a role cannot be assumed, the error is
  recorded for every requested region of the account (without ``--regions``: the
  caller's enabled regions).

Failures never stop the run and never look clean: a failed required kind marks the
account-region ``error`` (its files are removed so nothing stale is read as current); a
failed optional kind is listed under ``missing`` and its file is not written.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from botocore import xform_name
from botocore.exceptions import ClientError

from core.aws import Aws, error_code, error_message
from core.cluster import (
    DEFAULT_ACCOUNT_CONCURRENCY,
    Pool,
    Throttle,
    require_distributed,
    scheduler_address,
    task_pool,
)
from core.errors import InputError
from core.jsonio import atomic_write_text, write_json
from core.snapshot_kinds import GLOBAL, ORGANIZATION, SNAPSHOT_KINDS_BY_KEY, SnapshotKind, kinds_of
from graph.store import S3Store, Store, is_s3, split_s3

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
#: An account-region planned and not yet collected (the run may still be going, or died).
PENDING = "pending"
STATUSES = ("ok", "error", PENDING)
FILE_MODE = 0o600
DIR_MODE = 0o700
#: Assumed-role credentials last an hour by default; re-assume well before that.
CREDENTIAL_MAX_AGE = 45 * 60
#: The manifest is rewritten at most this often while a run goes on (and always at the end).
MANIFEST_INTERVAL = 1.0

_ACCOUNT = re.compile(r"^\d{12}$")
_ROLE_NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,64}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


# ---- what is collected ---------------------------------------------------------------------


Clients = dict[str, Any]  # service name -> boto3 client for one account-region
Fetched = dict[str, list[Any]]  # Key -> items, for kinds already fetched in this region


def paginate(client: Any, method: str, key: str, **kwargs: Any) -> list[Any]:
    """Every item under ``key`` across all pages of ``method`` (one call if it has no pages)."""
    if client.can_paginate(method):
        items: list[Any] = []
        for page in client.get_paginator(method).paginate(**kwargs):
            items.extend(page.get(key, []))
        return items
    return list(getattr(client, method)(**kwargs).get(key, []))


@dataclass(frozen=True)
class Fetch:
    """How the collector fills one kind of the table: ``run(client, fetched)`` returns its
    items; ``needs`` names kinds whose items it uses (it is missing when they are)."""

    run: Callable[[Any, Fetched], list[Any]]
    needs: tuple[str, ...] = ()


def describe(key: str) -> Fetch:
    """The fetch of a kind that is its one call, paginated: ``ec2:DescribeVpcs`` is
    ``describe_vpcs``, its items under ``Vpcs``."""
    (call,) = SNAPSHOT_KINDS_BY_KEY[key].calls
    method = xform_name(call.partition(":")[2])

    def run(client: Any, _: Fetched) -> list[Any]:
        return paginate(client, method, key)

    return Fetch(run)


def prefix_lists(ec2: Any, _: Fetched) -> list[Any]:
    """Managed prefix lists (AWS-managed ones too: groups reference them) with their entries."""
    lists = paginate(ec2, "describe_managed_prefix_lists", "PrefixLists")
    for prefix_list in lists:
        prefix_list["Entries"] = paginate(
            ec2,
            "get_managed_prefix_list_entries",
            "Entries",
            PrefixListId=prefix_list["PrefixListId"],
        )
    return lists


def _live_route_tables(fetched: Fetched) -> Iterator[str]:
    for table in fetched["TransitGatewayRouteTables"]:
        if table.get("State") not in ("deleting", "deleted"):
            yield table["TransitGatewayRouteTableId"]


def transit_gateway_static_routes(ec2: Any, fetched: Fetched) -> list[Any]:
    return [
        {
            "TransitGatewayRouteTableId": table_id,
            "Routes": paginate(
                ec2,
                "search_transit_gateway_routes",
                "Routes",
                TransitGatewayRouteTableId=table_id,
                Filters=[{"Name": "type", "Values": ["static"]}],
            ),
        }
        for table_id in _live_route_tables(fetched)
    ]


def transit_gateway_propagations(ec2: Any, fetched: Fetched) -> list[Any]:
    return [
        {
            "TransitGatewayRouteTableId": table_id,
            "TransitGatewayRouteTablePropagations": paginate(
                ec2,
                "get_transit_gateway_route_table_propagations",
                "TransitGatewayRouteTablePropagations",
                TransitGatewayRouteTableId=table_id,
            ),
        }
        for table_id in _live_route_tables(fetched)
    ]


def per_item(kind: str, id_key: str, method: str, key: str) -> Callable[[Any, Fetched], list[Any]]:
    """A fetch made of one call per item of ``kind``: ``{id_key: ..., key: [...]}`` for
    each, ``method`` called with that item's ``id_key`` and its answer's ``key`` pages
    merged (``LoadBalancerListeners``: DescribeListeners of each load balancer)."""

    def run(client: Any, fetched: Fetched) -> list[Any]:
        return [
            {
                id_key: item[id_key],
                key: paginate(client, method, key, **{id_key: item[id_key]}),
            }
            for item in fetched[kind]
        ]

    return run


load_balancer_listeners = per_item(
    "LoadBalancers", "LoadBalancerArn", "describe_listeners", "Listeners"
)
load_balancer_target_health = per_item(
    "TargetGroups", "TargetGroupArn", "describe_target_health", "TargetHealthDescriptions"
)
#: DescribeTargetGroupAttributes has no pages: its one answer holds every attribute.
target_group_attributes = per_item(
    "TargetGroups", "TargetGroupArn", "describe_target_group_attributes", "Attributes"
)


# ---- fleet posture ----------------------------------------------------------------------


def _answer(response: dict[str, Any]) -> dict[str, Any]:
    """A whole response as the file keeps it (without botocore's ResponseMetadata)."""
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def owned_snapshots(ec2: Any, _: Fetched) -> list[Any]:
    """The account's own snapshots (``OwnerIds=["self"]``: not the public ones of others)."""
    return paginate(ec2, "describe_snapshots", "Snapshots", OwnerIds=["self"])


def snapshot_attributes(ec2: Any, fetched: Fetched) -> list[Any]:
    """Who may create volumes from each owned snapshot (``createVolumePermission``)."""
    return [
        {
            "SnapshotId": item["SnapshotId"],
            "CreateVolumePermissions": ec2.describe_snapshot_attribute(
                SnapshotId=item["SnapshotId"], Attribute="createVolumePermission"
            ).get("CreateVolumePermissions", []),
        }
        for item in fetched["Snapshots"]
    ]


#: Image ids per DescribeImages call for the images instances run.
IMAGE_IDS_PER_CALL = 100


def images(ec2: Any, fetched: Fetched) -> list[Any]:
    """The account's own images, and the images its instances run (any owner): an id that
    no longer resolves is asked alone, and left out when AWS does not know it."""
    found = paginate(ec2, "describe_images", "Images", Owners=["self"])
    known = {image["ImageId"] for image in found}
    running = sorted(
        {
            str(item["ImageId"])
            for reservation in fetched["Reservations"]
            for item in reservation.get("Instances", [])
            if item.get("ImageId")
        }
        - known
    )
    for start in range(0, len(running), IMAGE_IDS_PER_CALL):
        chunk = running[start : start + IMAGE_IDS_PER_CALL]
        try:
            found += ec2.describe_images(ImageIds=chunk).get("Images", [])
        except ClientError:
            for image_id in chunk:
                try:
                    found += ec2.describe_images(ImageIds=[image_id]).get("Images", [])
                except ClientError as err:
                    if error_code(err) not in ("InvalidAMIID.NotFound", "InvalidAMIID.Unavailable"):
                        raise
    return found


def image_attributes(ec2: Any, _: Fetched) -> list[Any]:
    """Who may launch each owned image (``launchPermission``)."""
    owned = paginate(ec2, "describe_images", "Images", Owners=["self"])
    return [
        {
            "ImageId": image["ImageId"],
            "LaunchPermissions": ec2.describe_image_attribute(
                ImageId=image["ImageId"], Attribute="launchPermission"
            ).get("LaunchPermissions", []),
        }
        for image in owned
    ]


def protected_resources(backup: Any, _: Fetched) -> dict[str, Any]:
    """AWS Backup's protected resources, as ListProtectedResources names them."""
    return {"Results": paginate(backup, "list_protected_resources", "Results")}


def guardduty_detectors(guardduty: Any, _: Fetched) -> list[Any]:
    """Each detector with its settings (an empty list: GuardDuty is not on here)."""
    return [
        {"DetectorId": detector, **_answer(guardduty.get_detector(DetectorId=detector))}
        for detector in paginate(guardduty, "list_detectors", "DetectorIds")
    ]


def inspector_status(inspector: Any, _: Fetched) -> dict[str, Any]:
    """Inspector's status for the calling account (BatchGetAccountStatus, no ids)."""
    return _answer(inspector.batch_get_account_status())


def security_hub(securityhub: Any, _: Fetched) -> dict[str, Any]:
    """DescribeHub, or ``{}`` where Security Hub is not enabled ("not subscribed")."""
    try:
        return _answer(securityhub.describe_hub())
    except ClientError as err:
        if error_code(err) == "InvalidAccessException" and "not subscribed" in str(err):
            return {}
        raise


def recorder_status(config: Any, _: Fetched) -> list[Any]:
    return list(
        config.describe_configuration_recorder_status().get("ConfigurationRecordersStatus", [])
    )


def account_authorization_details(iam: Any, _: Fetched) -> dict[str, list[Any]]:
    """Every user, group, role and managed policy of the account, pages merged under the
    response's four lists (the file is the response itself, not one list)."""
    merged: dict[str, list[Any]] = {
        "UserDetailList": [],
        "GroupDetailList": [],
        "RoleDetailList": [],
        "Policies": [],
    }
    for page in iam.get_paginator("get_account_authorization_details").paginate():
        for key, items in merged.items():
            items.extend(page.get(key, []))
    return merged


def organization(org: Any, _: Fetched) -> dict[str, Any]:
    """DescribeOrganization's answer (one object under ``Organization``)."""
    return {"Organization": dict(org.describe_organization()["Organization"])}


def organizational_units(org: Any, fetched: Fetched) -> list[Any]:
    """Every OU, walked down from each root, each with its ``ParentId``."""
    units: list[Any] = []
    queue = [root["Id"] for root in fetched["Roots"]]
    while queue:
        parent = queue.pop(0)
        for unit in paginate(
            org, "list_organizational_units_for_parent", "OrganizationalUnits", ParentId=parent
        ):
            units.append({**unit, "ParentId": parent})
            queue.append(unit["Id"])
    return units


def accounts_with_parents(org: Any, fetched: Fetched) -> list[Any]:
    """Every account under the roots and OUs, each with its ``ParentId``."""
    parents = [root["Id"] for root in fetched["Roots"]]
    parents += [unit["Id"] for unit in fetched["OrganizationalUnits"]]
    return [
        {**account, "ParentId": parent}
        for parent in parents
        for account in paginate(org, "list_accounts_for_parent", "Accounts", ParentId=parent)
    ]


#: Policy types whose documents the IAM evaluation reads; a type not enabled has none.
AUTHORIZATION_POLICY_TYPES = ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY")


def authorization_policies(org: Any, fetched: Fetched) -> list[Any]:
    """SCPs and RCPs with their content and targets. A type the root does not have
    enabled holds no policy: it is not listed (Organizations refuses to)."""
    enabled = {
        policy_type["Type"]
        for root in fetched["Roots"]
        for policy_type in root.get("PolicyTypes", [])
        if policy_type.get("Status") == "ENABLED"
    }
    out = []
    for policy_type in AUTHORIZATION_POLICY_TYPES:
        if policy_type not in enabled:
            continue
        for summary in paginate(org, "list_policies", "Policies", Filter=policy_type):
            content = org.describe_policy(PolicyId=summary["Id"])["Policy"]["Content"]
            targets = paginate(org, "list_targets_for_policy", "Targets", PolicyId=summary["Id"])
            out.append({"PolicySummary": summary, "Content": content, "Targets": targets})
    return out


#: How each kind of the table (``core.snapshot_kinds``) is fetched.
FETCH: dict[str, Fetch] = {
    **{
        key: describe(key)
        for key in (
            "Reservations",
            "NetworkInterfaces",
            "SecurityGroups",
            "NetworkAcls",
            "RouteTables",
            "Subnets",
            "Vpcs",
            "InternetGateways",
            "EgressOnlyInternetGateways",
            "NatGateways",
            "VpcPeeringConnections",
            "Addresses",
            "VpcEndpoints",
            "FlowLogs",
            "TransitGateways",
            "TransitGatewayAttachments",
            "TransitGatewayVpcAttachments",
            "TransitGatewayRouteTables",
            "LoadBalancers",
            "TargetGroups",
        )
    },
    "PrefixLists": Fetch(prefix_lists),
    "TransitGatewayStaticRoutes": Fetch(
        transit_gateway_static_routes, needs=("TransitGatewayRouteTables",)
    ),
    "TransitGatewayPropagations": Fetch(
        transit_gateway_propagations, needs=("TransitGatewayRouteTables",)
    ),
    "LoadBalancerListeners": Fetch(load_balancer_listeners, needs=("LoadBalancers",)),
    "LoadBalancerTargetHealth": Fetch(load_balancer_target_health, needs=("TargetGroups",)),
    "TargetGroupAttributes": Fetch(target_group_attributes, needs=("TargetGroups",)),
    "Volumes": describe("Volumes"),
    "Snapshots": Fetch(owned_snapshots),
    "SnapshotAttributes": Fetch(snapshot_attributes, needs=("Snapshots",)),
    "Images": Fetch(images, needs=("Reservations",)),
    "ImageAttributes": Fetch(image_attributes),
    "InstanceInformationList": describe("InstanceInformationList"),
    "BackupProtectedResources": Fetch(protected_resources),  # type: ignore[arg-type]
    "GuardDutyDetectors": Fetch(guardduty_detectors),
    "InspectorAccountStatus": Fetch(inspector_status),  # type: ignore[arg-type]
    "SecurityHub": Fetch(security_hub),  # type: ignore[arg-type]
    "ConfigurationRecordersStatus": Fetch(recorder_status),
    "AccountAuthorizationDetails": Fetch(account_authorization_details),  # type: ignore[arg-type]
    "Organization": Fetch(organization),  # type: ignore[arg-type]
    "Roots": describe("Roots"),
    "OrganizationalUnits": Fetch(organizational_units, needs=("Roots",)),
    "Accounts": Fetch(accounts_with_parents, needs=("Roots", "OrganizationalUnits")),
    "Policies": Fetch(authorization_policies, needs=("Roots",)),
}

#: The boto3 client for each IAM service prefix of the table's calls.
CLIENTS: dict[str, str] = {
    "ec2": "ec2",
    "elasticloadbalancing": "elbv2",
    "iam": "iam",
    "organizations": "organizations",
    "ssm": "ssm",
    "backup": "backup",
    "guardduty": "guardduty",
    "inspector2": "inspector2",
    "securityhub": "securityhub",
    "config": "config",
}


def _client_maker(aws: Aws, region: str) -> Callable[[str], Any]:
    def make(name: str) -> Any:
        return aws.client(name, region)

    return make


class LazyClients(dict[str, Any]):
    """The boto3 clients of one place, each made when a kind first needs it (making one
    costs tens of milliseconds of CPU)."""

    def __init__(self, make: Callable[[str], Any]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, name: str) -> Any:
        client = self[name] = self._make(name)
        return client


#: The kinds of each place: an account-region, an account's global data, the organization.
REGIONAL = kinds_of("account/region")
ACCOUNT_GLOBAL = kinds_of("account/global")
ORGANIZATION_KINDS = kinds_of("organization")


def client_of(kind: SnapshotKind) -> str:
    """The boto3 client that makes a kind's calls."""
    return CLIENTS[kind.calls[0].partition(":")[0]]


#: The files of an account-region.
KEYS: tuple[str, ...] = tuple(kind.key for kind in REGIONAL)

#: IAM actions of the caller besides the role's: account discovery and role assumption
#: (stacks/policies/collector-caller.json). GetCallerIdentity needs no permission.
#: The organization is read with the caller's credentials (the management account's).
CALLER_ACTIONS: tuple[str, ...] = tuple(
    sorted(
        {"organizations:ListAccounts", "sts:AssumeRole"}
        | {call for kind in ORGANIZATION_KINDS for call in kind.calls}
    )
)


def role_actions() -> list[str]:
    """Every IAM action the reads in one account need (stacks/policies/collector-role.json)."""
    calls = {call for kind in (*REGIONAL, *ACCOUNT_GLOBAL) for call in kind.calls}
    return sorted(calls | {"ec2:DescribeRegions"})


# ---- one account-region ----------------------------------------------------------------------


def json_safe(value: Any) -> Any:
    """The response with botocore's parsed timestamps back as ISO 8601 text (as the CLI shows)."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def make_private_dir(path: Path) -> None:
    """Create ``path`` and missing parents as 0700 (parents that exist are left alone)."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another worker made it first
            directory.mkdir(mode=DIR_MODE)
        directory.chmod(DIR_MODE)  # mkdir's mode is cut by the umask


@dataclass
class RegionResult:
    account: str
    region: str
    entry: dict[str, Any]

    @property
    def ok(self) -> bool:
        return bool(self.entry.get("status") == "ok")


def error_entry(err: BaseException) -> dict[str, Any]:
    return {"status": "error", "error": error_code(err), "message": error_message(err)}


def fetch_region(
    clients: Clients, kinds: tuple[SnapshotKind, ...] = REGIONAL
) -> tuple[Fetched, dict[str, str]]:
    """Every kind of one place (an account-region by default): (fetched items by key,
    missing key -> reason).

    Raises the first failure of a required kind.
    """
    fetched: Fetched = {}
    missing: dict[str, str] = {}
    for kind in kinds:  # in the table's order: a kind after those it needs
        fetch = FETCH[kind.key]
        absent = [need for need in fetch.needs if need not in fetched]
        if absent:
            missing[kind.key] = f"not collected because {', '.join(absent)} is missing"
            continue
        try:
            fetched[kind.key] = fetch.run(clients[client_of(kind)], fetched)
        except Exception as err:
            if kind.required:
                raise
            missing[kind.key] = f"{error_code(err)}: {error_message(err)}"
    return fetched, missing


def write_region(store: Store, place: str, fetched: Fetched, missing: dict[str, str]) -> None:
    """The files of one place (``<account>/<region>``), each written whole."""
    for key, items in fetched.items():
        # a list goes under its key; a whole response (AccountAuthorizationDetails) as it is
        document = items if isinstance(items, dict) else {key: items}
        store.write_json(f"{place}/{key}.json", json_safe(document), compact=True)
    # A file left by an earlier run for a kind not read now would pass for current data.
    store.delete(f"{place}/{key}.json" for key in missing)


def clear_region(store: Store, place: str, kinds: tuple[SnapshotKind, ...] = REGIONAL) -> None:
    store.delete(f"{place}/{kind.file}" for kind in kinds)


def remove_temporary_files(out: Path) -> list[Path]:
    """Remove what an interrupted run's atomic writes left (``.<name>.<random>.tmp``)."""
    removed = []
    for stale in out.rglob(".*.tmp"):
        if stale.is_file():
            stale.unlink(missing_ok=True)
            removed.append(stale)
    return removed


class LocalStore:
    """A snapshot in a local directory: atomic writes (temp file, then rename), files
    0600 and directories 0700. On a cluster every worker must see the same directory (a
    ``local:N`` cluster does; a real one needs a shared file system, or S3)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.location = str(self.root)

    def prepare(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise InputError(str(self.root), "exists and is not a directory")
        make_private_dir(self.root)

    def write_text(self, name: str, text: str) -> None:
        path = self.root / name
        make_private_dir(path.parent)
        atomic_write_text(path, text, mode=FILE_MODE)

    def write_json(self, name: str, document: Any, *, compact: bool = False) -> None:
        path = self.root / name
        make_private_dir(path.parent)
        write_json(path, document, compact=compact, mode=FILE_MODE)

    def read_text(self, name: str) -> str | None:
        path = self.root / name
        return path.read_text(encoding="utf-8") if path.exists() else None

    def is_file(self, name: str) -> bool:
        return (self.root / name).is_file()

    def delete(self, names: Iterable[str]) -> None:
        for name in names:
            (self.root / name).unlink(missing_ok=True)

    def names(self) -> list[str]:
        return sorted(
            str(p.relative_to(self.root))
            for p in self.root.rglob("*")
            if p.is_file() and not p.name.endswith(".tmp")
        )

    def remove_temporary_files(self) -> list[str]:
        return [str(p) for p in remove_temporary_files(self.root)]


def open_store(location: str | Path, aws: Aws | None = None) -> Store:
    """The store of a snapshot location: ``s3://bucket/prefix`` (read and written with
    ``aws``'s credentials), or a local directory."""
    if is_s3(str(location)):
        return S3Store(str(location), aws or Aws())
    return LocalStore(Path(location))


#: Objects fetched at once when a snapshot is copied from S3.
DOWNLOAD_THREADS = 16


def download_snapshot(location: str, directory: Path, aws: Aws) -> int:
    """Copy the snapshot at ``s3://bucket/prefix`` into ``directory`` (private, as the
    collector writes one), for the readers of a local snapshot; the number of files."""
    source = S3Store(location, aws)
    target = LocalStore(directory)
    target.prepare()
    names = source.names()

    def copy(name: str) -> None:
        text = source.read_text(name)
        if text is not None:  # removed since it was listed
            target.write_text(name, text)

    with ThreadPoolExecutor(DOWNLOAD_THREADS, thread_name_prefix="ivs-download") as pool:
        list(pool.map(copy, names))
    return len(names)


def region_complete(
    store: Store,
    place: str,
    entry: dict[str, Any] | None,
    kinds: tuple[SnapshotKind, ...] = REGIONAL,
) -> bool:
    """True when ``entry`` says ok and every file it implies is in the store."""
    if not entry or entry.get("status") != "ok":
        return False
    missing = entry.get("missing") or {}
    return all(store.is_file(f"{place}/{k.file}") for k in kinds if k.key not in missing)


def kinds_at(place: str) -> tuple[SnapshotKind, ...]:
    """The kinds of a place of an account: a region, or its global data."""
    return ACCOUNT_GLOBAL if place == GLOBAL else REGIONAL


# ---- the manifest ----------------------------------------------------------------------------


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_manifest(text: str, source: str) -> dict[str, Any]:
    """The manifest of an earlier run (for ``--resume``), checked for shape."""
    import json

    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(source, f"not valid JSON: {err.msg} at line {err.lineno}") from None
    if not isinstance(document, dict):
        raise InputError(source, "expected an object", field="$")
    accounts = document.get("accounts", {})
    if not isinstance(accounts, dict):
        raise InputError(source, "expected an object", field="accounts")
    for account, value in accounts.items():
        regions = value.get("regions") if isinstance(value, dict) else None
        if not isinstance(regions, dict):
            raise InputError(source, "expected an object", field=f"accounts.{account}.regions")
        for region, entry in regions.items():
            if not isinstance(entry, dict) or entry.get("status") not in STATUSES:
                raise InputError(
                    source,
                    'expected {"status": "ok" | "error" | "pending", ...}',
                    field=f"accounts.{account}.regions.{region}",
                )
    return document


class Manifest:
    """The run's manifest, shared by the workers, written atomically as entries come in.

    It says ``"complete": false`` from the first write until the run has finished, and
    each account-region planned but not yet done is ``{"status": "pending"}``: a run that
    is killed leaves a manifest from which a reader knows what was not collected.
    """

    def __init__(self, store: Store, previous: dict[str, Any] | None) -> None:
        self.store = store
        self.lock = threading.Lock()
        self.document: dict[str, Any] = {
            "format": MANIFEST_FORMAT,
            "collected_at": now(),
            "complete": False,
            "accounts": dict((previous or {}).get("accounts", {})),
        }
        if isinstance((previous or {}).get(ORGANIZATION), dict):
            self.document[ORGANIZATION] = dict(previous[ORGANIZATION])  # type: ignore[index]
        self.last_write = 0.0

    def organization(self) -> dict[str, Any] | None:
        with self.lock:
            found = self.document.get(ORGANIZATION)
            return dict(found) if isinstance(found, dict) else None

    def record_organization(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.document[ORGANIZATION] = entry
            self._write()

    def entry(self, account: str, region: str) -> dict[str, Any] | None:
        with self.lock:
            found = self.document["accounts"].get(account, {}).get("regions", {}).get(region)
            return dict(found) if found else None

    def record(self, account: str, region: str, entry: dict[str, Any]) -> None:
        with self.lock:
            regions = self.document["accounts"].setdefault(account, {"regions": {}})["regions"]
            regions[region] = entry
            if time.monotonic() - self.last_write >= MANIFEST_INTERVAL:
                self._write()

    def flush(self, *, complete: bool = False) -> None:
        """Write the manifest now; ``complete`` once every planned account-region is done."""
        with self.lock:
            self.document["complete"] = complete
            self._write()

    def _write(self) -> None:
        accounts = self.document["accounts"]
        self.document["accounts"] = {
            account: {"regions": dict(sorted(accounts[account]["regions"].items()))}
            for account in sorted(accounts)
        }
        self.store.write_json(MANIFEST, self.document)
        self.last_write = time.monotonic()


# ---- accounts and regions ------------------------------------------------------------------


def check_ids(values: Iterable[str], pattern: re.Pattern[str], option: str, what: str) -> list[str]:
    checked = []
    for value in values:
        if not pattern.match(value):
            raise InputError(option, f"{value!r} is not {what}")
        if value not in checked:
            checked.append(value)
    return checked


def organization_accounts(aws: Aws, caller_account: str) -> list[str]:
    """ACTIVE accounts of the organization (just the caller's when it is in none)."""
    org = aws.client("organizations")
    try:
        listed = paginate(org, "list_accounts", "Accounts")
    except Exception as err:
        if error_code(err) == "AWSOrganizationsNotInUseException":
            return [caller_account]
        raise InputError(
            "organizations:ListAccounts",
            f"cannot list the accounts ({error_code(err)}: {error_message(err)}); pass --accounts",
        ) from None
    # ``State`` replaces ``Status`` from September 2026; read whichever is there.
    active = [a["Id"] for a in listed if (a.get("State") or a.get("Status")) == "ACTIVE"]
    # An organization always holds its ACTIVE management account; an empty list is an
    # account outside any organization (moto answers so instead of NotInUse).
    return sorted(active) or [caller_account]


def enabled_regions(aws: Aws) -> list[str]:
    ec2 = aws.client("ec2")
    regions = ec2.describe_regions(AllRegions=False)["Regions"]
    return sorted(r["RegionName"] for r in regions)


class AccountSession:
    """The clients of one account, assumed once and re-assumed before the credentials age."""

    def __init__(self, caller: Aws, account: str, role_name: str, own: bool) -> None:
        self.caller = caller
        self.account = account
        self.role_name = role_name
        self.own = own
        self.lock = threading.Lock()
        self.aws: Aws | None = None
        self.assumed_at = 0.0

    def get(self) -> Aws:
        with self.lock:
            if self.own:
                return self.caller
            if self.aws is None or time.monotonic() - self.assumed_at > CREDENTIAL_MAX_AGE:
                self.aws = self.caller.assume(
                    self.account, self.role_name, session_name="ivs-collect"
                )
                self.assumed_at = time.monotonic()
            return self.aws


# ---- the tasks: what a worker does ------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """What every task of a run carries: plain data, no credentials. A worker on a cluster
    reads it with its own credential chain (its instance role): it assumes ``role_name``
    in each account but the one its own credentials belong to."""

    run: str
    location: str
    endpoint_url: str | None
    role_name: str
    regions: tuple[str, ...] | None


class RunState:
    """What the tasks of one run share in one process: the caller's clients, the member
    sessions and the store. The driver of a local run registers its own; a worker
    process builds one from the :class:`Task` the first time it meets the run."""

    def __init__(
        self, caller: Aws, store: Store, role_name: str, sessions: dict[str, AccountSession]
    ) -> None:
        self.caller = caller
        self.store = store
        self.role_name = role_name
        self.sessions = sessions
        self.lock = threading.Lock()

    @classmethod
    def on_worker(cls, task: Task) -> RunState:
        caller = Aws(endpoint_url=task.endpoint_url)
        caller.account_id = str(caller.client("sts").get_caller_identity()["Account"])
        return cls(caller, open_store(task.location, caller), task.role_name, {})

    def session(self, account: str) -> AccountSession:
        with self.lock:
            found = self.sessions.get(account)
            if found is None:
                own = account == self.caller.account_id
                found = AccountSession(self.caller, account, self.role_name, own)
                self.sessions[account] = found
            return found


#: Runs this process knows (the driver's own, or those a worker met), by run id.
_STATES: dict[str, RunState] = {}
_STATES_LOCK = threading.Lock()
#: Runs a worker keeps the sessions of: the current one and the one before.
KEPT_RUNS = 2


def run_state(task: Task) -> RunState:
    """The :class:`RunState` of ``task``'s run in this process (made on first use)."""
    with _STATES_LOCK:
        state = _STATES.get(task.run)
    if state is not None:
        return state
    made = RunState.on_worker(task)  # reads the worker's identity: not under the lock
    with _STATES_LOCK:
        state = _STATES.setdefault(task.run, made)
        while len(_STATES) > KEPT_RUNS:
            del _STATES[next(iter(_STATES))]
        return state


def plan_task(task: Task, account: str) -> list[str]:
    """The regions to collect in an account (raises when the account cannot be reached)."""
    aws = run_state(task).session(account).get()
    return list(task.regions) if task.regions is not None else enabled_regions(aws)


def place_task(task: Task, account: str, place: str) -> RegionResult:
    """One place of an account, read and written to the store: a region, or (``global``)
    its IAM. A failed read is the result (an error entry); a failed write raises."""
    state = run_state(task)
    return collect_place(state.session(account), state.store, place)


def collect_place(session: AccountSession, store: Store, region: str) -> RegionResult:
    place = f"{session.account}/{region}"
    kinds = kinds_at(region)
    try:
        aws = session.get()
        if region == GLOBAL:
            clients = {"iam": aws.client("iam")}
        else:
            clients = LazyClients(_client_maker(aws, region))
        fetched, missing = fetch_region(clients, kinds)
    except Exception as err:
        clear_region(store, place, kinds)
        return RegionResult(session.account, region, error_entry(err))
    write_region(store, place, fetched, missing)
    entry: dict[str, Any] = {"status": "ok"}
    if missing:
        entry["missing"] = missing
    return RegionResult(session.account, region, entry)


# ---- the run: what the driver does --------------------------------------------------------------


@dataclass
class CollectResult:
    """What a run did: account-regions collected, failed, and skipped as already complete."""

    out: Path | str
    ok: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # account, region, code
    skipped: list[tuple[str, str]] = field(default_factory=list)
    partial: list[tuple[str, str, list[str]]] = field(default_factory=list)
    #: accounts whose IAM (``<account>/global``) was read, and those that failed (with code)
    iam_ok: list[str] = field(default_factory=list)
    iam_failed: list[tuple[str, str]] = field(default_factory=list)
    iam_skipped: list[str] = field(default_factory=list)
    #: the organization's manifest entry (None: not read this run)
    organization: dict[str, Any] | None = None

    def summary(self) -> str:
        text = f"collected {len(self.ok)} account-regions ok, {len(self.failed)} failed"
        if self.skipped:
            text += f", {len(self.skipped)} already complete"
        if self.partial:
            text += f" ({len(self.partial)} with kinds missing)"
        if self.iam_ok or self.iam_failed or self.iam_skipped:
            notes = [f"{len(self.iam_failed)} failed"] if self.iam_failed else []
            if self.iam_skipped:
                notes.append(f"{len(self.iam_skipped)} already complete")
            text += f"; IAM of {len(self.iam_ok)} accounts"
            text += f" ({', '.join(notes)})" if notes else ""
        if self.organization is not None:
            status = self.organization.get("status")
            text += f"; organization {status if status == 'ok' else self.organization.get('error')}"
        manifest = f"{str(self.out).rstrip('/')}/{MANIFEST}"
        return f"{text}; manifest: {manifest}"


#: ``on_progress(done, total)``: account-regions finished (collected, failed or skipped)
#: and planned so far; the total grows while accounts are planned.
ProgressCallback = Callable[[int, int], None]


class _Run:
    """The driver's side of a run: the manifest, the result and the progress. Every
    method is called from the one thread that hands out tasks."""

    def __init__(
        self,
        store: Store,
        regions: list[str] | None,
        resume: bool,
        manifest: Manifest,
        on_progress: ProgressCallback | None,
        fallback_regions: list[str],
        out: Path | str,
    ) -> None:
        self.store = store
        self.regions = regions
        self.resume = resume
        self.manifest = manifest
        self.on_progress = on_progress
        self.done = 0
        self.total = 0
        self.result = CollectResult(out)
        self.fallback_regions = fallback_regions

    def add_total(self, count: int) -> None:
        self.total += count
        self._report()

    def _report(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.done, self.total)

    def account_failed(self, account: str, err: BaseException) -> None:
        """Record ``err`` for every place the account would have been read in."""
        regions = self.regions if self.regions is not None else self.fallback_regions
        places = [*regions, GLOBAL]
        self.add_total(len(places))
        for place in places:
            # With --resume, a place read completely before keeps its data.
            if not self.skip(account, place):
                self.lost(account, place, err)

    def lost(self, account: str, place: str, err: BaseException) -> None:
        """``place`` could not be read (its account unreachable, or the workers that ran
        it died): no file of it is left to pass for current data."""
        clear_region(self.store, f"{account}/{place}", kinds_at(place))
        self.finish(RegionResult(account, place, error_entry(err)))

    def collect_organization(self, caller: Aws) -> None:
        """The organization, once, with the caller's (management account's) credentials."""
        if self.resume and region_complete(
            self.store, ORGANIZATION, self.manifest.organization(), ORGANIZATION_KINDS
        ):
            self.result.organization = self.manifest.organization()
            return
        try:
            clients = {"organizations": caller.client("organizations")}
            fetched, missing = fetch_region(clients, ORGANIZATION_KINDS)
        except Exception as err:
            clear_region(self.store, ORGANIZATION, ORGANIZATION_KINDS)
            entry = error_entry(err)
        else:
            write_region(self.store, ORGANIZATION, fetched, missing)
            entry = {"status": "ok", **({"missing": missing} if missing else {})}
        self.manifest.record_organization(entry)
        self.result.organization = entry

    def finish(self, result: RegionResult) -> None:
        self.manifest.record(result.account, result.region, result.entry)
        if result.region == GLOBAL:
            if result.ok:
                self.result.iam_ok.append(result.account)
            else:
                self.result.iam_failed.append((result.account, str(result.entry.get("error"))))
        elif result.ok:
            self.result.ok.append((result.account, result.region))
            if result.entry.get("missing"):
                missing = sorted(result.entry["missing"])
                self.result.partial.append((result.account, result.region, missing))
        else:
            code = str(result.entry.get("error"))
            self.result.failed.append((result.account, result.region, code))
        self.done += 1
        self._report()

    def skip(self, account: str, region: str) -> bool:
        if not self.resume:
            return False
        entry = self.manifest.entry(account, region)
        if region_complete(self.store, f"{account}/{region}", entry, kinds_at(region)):
            if region == GLOBAL:
                self.result.iam_skipped.append(account)
            else:
                self.result.skipped.append((account, region))
            self.done += 1
            self._report()
            return True
        return False


def collect_snapshot(
    out: Path | str,
    *,
    endpoint_url: str | None = None,
    accounts: list[str] | None = None,
    regions: list[str] | None = None,
    role_name: str = "OrganizationAccountAccessRole",
    workers: int = 8,
    resume: bool = False,
    on_progress: ProgressCallback | None = None,
    scheduler: str | None = None,
    account_concurrency: int = DEFAULT_ACCOUNT_CONCURRENCY,
) -> CollectResult:
    """Collect a snapshot into ``out`` (a directory, or ``s3://bucket/prefix``) and return
    what was done (``summary()``: how many account-regions were collected and failed, and
    where the manifest is). It needs AWS credentials, or ``endpoint_url`` of a stand-in
    such as a moto server; options are checked before any call is made:

    >>> collect_snapshot(Path("snap"), accounts=["12345"])
    Traceback (most recent call last):
    core.errors.InputError: --accounts: '12345' is not a 12-digit account id

    ``scheduler`` runs the account-regions on a Dask cluster (``core.cluster``), with
    ``workers`` threads per worker process of a ``local:N`` one; at most
    ``account_concurrency`` tasks of one account run at once, on any number of workers.
    """
    if workers < 1:
        raise InputError("--workers", "must be at least 1")
    if account_concurrency < 1:
        raise InputError("--account-concurrency", "must be at least 1")
    if accounts is not None:
        accounts = check_ids(accounts, _ACCOUNT, "--accounts", "a 12-digit account id")
    if regions is not None:
        regions = check_ids(regions, _REGION, "--regions", "an AWS region name")
    if not _ROLE_NAME.match(role_name):
        raise InputError("--role-name", f"{role_name!r} is not an IAM role name")
    location = str(out) if is_s3(str(out)) else None
    if location is not None:
        split_s3(location)
    else:
        out = Path(out)
        if out.exists() and not out.is_dir():
            raise InputError(str(out), "exists and is not a directory")
    scheduler = scheduler_address(scheduler, environ={})  # the command read the environment
    if scheduler is not None:
        require_distributed()

    caller = Aws(endpoint_url=endpoint_url)
    try:
        caller_account = str(caller.client("sts").get_caller_identity()["Account"])
    except Exception as err:
        raise InputError("AWS credentials", f"{error_code(err)}: {error_message(err)}") from None
    caller.account_id = caller_account
    if accounts is None:
        accounts = organization_accounts(caller, caller_account)
    # Without --regions, an account that cannot be reached is recorded against the
    # regions enabled for the caller (its own list cannot be read).
    fallback_regions = regions
    if fallback_regions is None:
        try:
            fallback_regions = enabled_regions(caller)
        except Exception as err:
            raise InputError(
                "ec2:DescribeRegions",
                f"cannot list the regions ({error_code(err)}: {error_message(err)}); "
                "pass --regions",
            ) from None

    store = open_store(location or out, caller)
    task = Task(
        run=uuid.uuid4().hex,
        location=store.location if location else str(Path(out).resolve()),
        endpoint_url=caller.endpoint_url,
        role_name=role_name,
        regions=tuple(regions) if regions is not None else None,
    )
    sessions = {
        account: AccountSession(caller, account, role_name, own=account == caller_account)
        for account in accounts
    }
    with _STATES_LOCK:
        _STATES[task.run] = RunState(caller, store, role_name, sessions)
    try:
        store.prepare()
        previous_text = store.read_text(MANIFEST)
        source = f"{store.location.rstrip('/')}/{MANIFEST}"
        previous = read_manifest(previous_text, source) if previous_text is not None else None
        if resume:
            store.remove_temporary_files()
        manifest = Manifest(store, previous)
        manifest.flush()  # "complete": false on disk before the first account is read
        run = _Run(store, regions, resume, manifest, on_progress, fallback_regions, out)
        finished = False
        try:
            with task_pool(scheduler, workers, "ivs-collect") as pool:
                _execute(run, task, accounts, pool, account_concurrency, caller)
            finished = True
        finally:
            manifest.flush(complete=finished)
    except OSError as err:  # the snapshot's location, not AWS: stop with one line
        raise InputError(str(err.filename or out), err.strerror or str(err)) from None
    finally:
        with _STATES_LOCK:
            _STATES.pop(task.run, None)
    return run.result


def _execute(
    run: _Run,
    task: Task,
    accounts: list[str],
    pool: Pool,
    account_concurrency: int,
    caller: Aws | None = None,
) -> None:
    """The organization (with ``caller``'s credentials, in this process), then plan every
    account and collect its regions and its IAM, at most ``account_concurrency`` tasks of
    one account at a time.

    A task whose workers all died (``KilledWorker``, after the scheduler's retries), or
    that a worker could not start (its own credentials failing), is recorded as not
    collected, with that reason; a worker that dies once leaves its task
    to the scheduler, which runs it again elsewhere, and its files are written whole again.
    """
    throttle = Throttle(pool.executor, account_concurrency)
    # The organization is read here, with the caller's credentials, even on a cluster;
    # its calls count against the caller's account like the account's own regions.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ivs-org") as own:
        try:
            if caller is not None:
                throttle.submit_to(
                    own,
                    caller.account_id,
                    (caller.account_id, ORGANIZATION),
                    run.collect_organization,
                    caller,
                )
            for account in accounts:
                throttle.submit(account, (account, None), plan_task, task, account)
            for (account, place), future in throttle.finished():
                if place == ORGANIZATION:
                    future.result()  # its failures are in its entry; a full disk raises
                    continue
                if place is None:
                    try:
                        account_regions = future.result()
                    except Exception as err:
                        run.account_failed(account, err)
                        continue
                    places = [*account_regions, GLOBAL]
                    run.add_total(len(places))
                    for region in places:
                        if not run.skip(account, region):
                            run.manifest.record(account, region, {"status": PENDING})
                            throttle.submit(
                                account, (account, region), place_task, task, account, region
                            )
                    continue
                try:
                    result = future.result()
                except OSError:
                    raise  # the snapshot's location (a full disk): the run cannot go on
                except Exception as err:
                    # the workers running it died (KilledWorker), or a worker could not
                    # read at all (no credentials of its own): not collected, and why
                    run.lost(account, place, err)
                    continue
                run.finish(result)
        except BaseException:
            throttle.cancel()
            raise
