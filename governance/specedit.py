"""Round-trip edits of the spec file: record an account under its OU, keep everything else.

The spec file is reviewed and committed like code, so an edit must change only what it
means to change: comments, key order, quoting and flow/block style stay as they were
(ruamel.yaml's round-trip mode, with the file's own indentation). The three spec shapes
that ``core.spec.ivs_fields`` reads are supported: a Pulumi stack config
(``config: ivs:organization:``), a file with one top-level ``ivs:`` mapping, and a bare
mapping. The new text is validated as a spec before it replaces the file, atomically.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString
from ruamel.yaml.util import load_yaml_guess_indent

from core.errors import InputError, shown
from core.jsonio import atomic_write_text
from core.spec import NAMESPACE, ROOT, Spec, follow_spec_file, ivs_fields, load_yaml, read_text
from governance.spec import spec_from_mapping

_KEY_LINE = re.compile(r"^( +)[^\s#-][^:#]*:")


def _round_trip_yaml(text: str) -> YAML:
    """A round-trip YAML that writes back with the file's own indentation."""
    _, seq_indent, seq_offset = load_yaml_guess_indent(text)
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line the author wrote on one line
    yaml.indent(
        mapping=_mapping_indent(text),
        sequence=seq_indent or 2,
        offset=seq_offset if seq_offset is not None else 0,
    )
    return yaml


def _mapping_indent(text: str) -> int:
    """The indentation of the first nested mapping key (2 when the file has none)."""
    for line in text.splitlines():
        match = _KEY_LINE.match(line)
        if match:
            return len(match.group(1))
    return 2


def _organization(document: Any, source: str) -> CommentedMap:
    """The ``organization`` mapping of any of the three spec shapes."""
    if not isinstance(document, MutableMapping):
        raise InputError(source, "the spec must be a YAML mapping")
    if isinstance(document.get("config"), MutableMapping):
        holder, key, field = document["config"], f"{NAMESPACE}:organization", "config"
    elif NAMESPACE in document and len(document) == 1:
        holder, key, field = document[NAMESPACE], "organization", NAMESPACE
    else:
        holder, key, field = document, "organization", ""
    org = holder.get(key) if isinstance(holder, MutableMapping) else None
    if not isinstance(org, CommentedMap):
        where = f"{field}.{key}" if field else key
        raise InputError(source, "must be a mapping", where)
    return org


def _unit_node(org: CommentedMap, ou_path: str, source: str) -> CommentedMap:
    """The mapping of an OU path (``root`` for the organization root)."""
    if ou_path == ROOT:
        root = org.get("root")
        if root is None:
            root = CommentedMap()
            org.insert(_position_before(org, "units"), "root", root)
        return root
    node: CommentedMap = org
    for name in ou_path.split("/"):
        match = next(
            (
                u
                for u in node.get("units") or []
                if isinstance(u, CommentedMap) and u.get("name") == name
            ),
            None,
        )
        if match is None:
            raise InputError(source, f"no OU {shown(ou_path)} in the spec", "--ou")
        node = match
    return node


def _position_before(mapping: CommentedMap, key: str) -> int:
    keys = list(mapping.keys())
    return keys.index(key) if key in keys else len(keys)


def _remove_account(node: Any, account_id: str) -> list[MutableMapping[str, Any]]:
    """Remove ``account_id`` from every ``accounts`` list under ``node``; the removed entries."""
    removed: list[MutableMapping[str, Any]] = []
    if isinstance(node, MutableMapping):
        accounts = node.get("accounts")
        if isinstance(accounts, list):
            for index in reversed(range(len(accounts))):
                entry = accounts[index]
                if isinstance(entry, MutableMapping) and _same_id(entry.get("id"), account_id):
                    removed.append(entry)
                    del accounts[index]
            if not accounts:
                del node["accounts"]
        for child in [node.get("root"), *(node.get("units") or [])]:
            removed.extend(_remove_account(child, account_id))
    return removed


def _same_id(value: Any, account_id: str) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"{value:012d}"
    return str(value) == account_id


def _flow_style_in_use(org: CommentedMap) -> bool:
    """Whether existing account entries are written ``{id: ..., name: ...}`` (the default)."""

    def entries(node: Any) -> list[Any]:
        found: list[Any] = []
        if isinstance(node, MutableMapping):
            found.extend(node.get("accounts") or [])
            for child in [node.get("root"), *(node.get("units") or [])]:
                found.extend(entries(child))
        return found

    for entry in entries(org):
        if isinstance(entry, CommentedMap):
            return bool(entry.fa.flow_style())
    return True


def _account_entry(account_id: str, name: str, email: str | None, flow: bool) -> CommentedMap:
    entry = CommentedMap()
    entry["id"] = DoubleQuotedScalarString(account_id)  # quoted: an id is not a number
    entry["name"] = name
    if email:
        entry["email"] = email
    if flow:
        entry.fa.set_flow_style()
    else:
        entry.fa.set_block_style()
    return entry


def _account_listed(spec: Spec, account_id: str) -> tuple[str, str] | None:
    for account, path in spec.accounts():
        if account.id == account_id:
            return account.name, path
    return None


def record_account(
    spec_path: str | os.PathLike[str],
    account_id: str,
    ou_path: str,
    *,
    name: str,
    email: str | None = None,
    write: bool = True,
) -> tuple[bool, str]:
    """Record ``account_id`` under ``ou_path`` in the spec file.

    An account listed elsewhere is moved; one already under ``ou_path`` is left as it is.
    Returns ``(changed, new_text)``; with ``write`` the file is replaced atomically when
    it changed. The new text must load as a valid spec, or nothing is written.
    """
    path = spec_source(spec_path)
    source = str(path)
    text = read_text(path)
    # checked as a spec first: the round-trip loader below is not guarded against what
    # the safe loader refuses (alias bombs and cycles, nesting past the recursion limit)
    current = _account_listed(spec_from_text(text, source, path), account_id)
    if current is not None and current[1] == ou_path:
        return False, text
    try:
        yaml = _round_trip_yaml(text)
        document = yaml.load(text)
    except (YAMLError, RecursionError, ValueError) as err:
        raise InputError(source, f"invalid YAML: {str(err).splitlines()[0]}") from None

    org = _organization(document, source)
    for previous in _remove_account(org, account_id):
        email = email or previous.get("email")
    unit = _unit_node(org, ou_path, source)
    flow = _flow_style_in_use(org)
    accounts = unit.get("accounts")
    if not isinstance(accounts, CommentedSeq):
        accounts = CommentedSeq()
        unit.insert(_position_before(unit, "units"), "accounts", accounts)
    accounts.append(_account_entry(account_id, name, email, flow))

    out = io.StringIO()
    yaml.dump(document, out)
    new_text = out.getvalue()
    spec_from_text(new_text, source, path)  # the edit must leave a valid spec
    if write:
        mode = path.stat().st_mode & 0o777
        atomic_write_text(path, new_text, mode=mode)
    return True, new_text


def spec_source(spec_path: str | os.PathLike[str]) -> Path:
    """The file that holds the spec: an account stack config points at it (``ivs:spec_file``)."""
    return follow_spec_file(spec_path)[0]


def spec_from_text(text: str, source: str, path: Path) -> Spec:
    """The spec of ``text`` (the content of ``path``), validated as ``load_spec`` would."""
    fields = ivs_fields(load_yaml(text, source), source)
    fields.pop("spec_file", None)
    fields.pop("account_id", None)
    return spec_from_mapping(fields, source, base_dir=str(path.parent))
