"""Condition operators, evaluated three ways: true, false, or not known offline.

A request's context is what the snapshot and the caller know: the principal's ARN,
account, organization and tags, the region of a regional resource, and ``--context``
values. :class:`Context` says, for each key, its values, that it is absent, or that it is
not known here; a condition on a key that is not known is *unknown* and names the key, so
that a statement resting on it is conditional, never silently true or false.

Semantics (IAM User Guide, "IAM JSON policy elements: Condition operators" and "Condition
element"; https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html):

- the conditions of a statement are ANDed; several values for one key are ORed;
- a key absent from the request makes a condition false, except for the negated
  operators (``StringNotEquals``, ``StringNotLike``, ``ArnNotLike``, ``NotIpAddress``...),
  which are then true, ``...IfExists`` (true when absent) and ``Null`` (which tests
  presence);
- ``ForAnyValue:`` is true when some value of the request matches (false when absent);
  ``ForAllValues:`` when every value does (true when absent);
- string and ARN operators take policy variables (``${aws:username}``); ``StringLike``
  and the ARN operators take ``*`` and ``?``; ARNs are compared segment by segment.

>>> context = Context({"aws:principalaccount": ("111122223333",)}, known={"aws:principalaccount"})
>>> condition_verdict({"StringEquals": {"aws:PrincipalAccount": "111122223333"}}, context)
Verdict(value=True, keys=frozenset())
>>> condition_verdict({"Bool": {"aws:MultiFactorAuthPresent": "true"}}, context)
Verdict(value=None, keys=frozenset({'aws:multifactorauthpresent'}))
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any


@dataclass(frozen=True)
class Verdict:
    """True, false, or unknown (``value`` None) with the keys it depends on."""

    value: bool | None
    keys: frozenset[str] = frozenset()

    @property
    def unknown(self) -> bool:
        return self.value is None


TRUE = Verdict(True)
FALSE = Verdict(False)


def all_of(verdicts: Iterable[Verdict]) -> Verdict:
    """AND: false if one is false; else unknown if one is; else true."""
    keys: set[str] = set()
    for verdict in verdicts:
        if verdict.value is False:
            return FALSE
        if verdict.value is None:
            keys |= verdict.keys
    return Verdict(None, frozenset(keys)) if keys else TRUE


def any_of(verdicts: Iterable[Verdict]) -> Verdict:
    """OR: true if one is true; else unknown if one is; else false."""
    keys: set[str] = set()
    unknown = False
    for verdict in verdicts:
        if verdict.value is True:
            return TRUE
        if verdict.value is None:
            unknown = True
            keys |= verdict.keys
    return Verdict(None, frozenset(keys)) if unknown else FALSE


def negate(verdict: Verdict) -> Verdict:
    return verdict if verdict.value is None else Verdict(not verdict.value)


@dataclass(frozen=True)
class Context:
    """Condition keys of one request. Keys are lower case (IAM compares them so).

    ``values`` holds the keys present; ``known`` the keys (and ``known_prefixes`` the key
    families, such as ``aws:principaltag/``) about which this context is authoritative:
    a known key missing from ``values`` is absent from the request. Any other key is not
    known offline.
    """

    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    known: frozenset[str] | set[str] = frozenset()
    known_prefixes: tuple[str, ...] = ()

    def lookup(self, key: str) -> tuple[str, ...] | Verdict | None:
        """The values of ``key``; None when known absent; a Verdict (unknown) otherwise."""
        low = key.lower()
        found = self.values.get(low)
        if found is not None:
            return found
        if low in self.known or low.startswith(self.known_prefixes):
            return None
        return Verdict(None, frozenset({low}))


# ---- values -----------------------------------------------------------------------------

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


def substitute(value: str, context: Context) -> str | Verdict:
    """``value`` with its policy variables replaced, or unknown when one is not known.

    A variable may carry a default (``${aws:username, 'nobody'}``); ``${*}``, ``${?}`` and
    ``${$}`` stand for the characters themselves.
    """
    if "${" not in value:
        return value
    missing: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        inner = match.group(1).strip()
        if inner in _ESCAPES:
            return "\0" + inner  # kept literal by the pattern compilers
        name, _, default = inner.partition(",")
        found = context.lookup(name.strip())
        if isinstance(found, tuple) and found:
            return found[0]
        default = default.strip().strip("'")
        if found is None and default:
            return default
        if found is None:
            return ""  # an absent variable matches nothing useful
        missing.add(name.strip().lower())
        return ""

    out = _VARIABLE.sub(replace, value)
    if missing:
        return Verdict(None, frozenset(missing))
    return out


@lru_cache(maxsize=16384)
def glob(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    """``*`` any run of characters, ``?`` one character; everything else literal."""
    parts = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\0" and index + 1 < len(pattern):  # an escaped ${*} or ${?}
            parts.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        parts.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
        index += 1
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _literal(value: str) -> str:
    return value.replace("\0", "")


# ---- operators --------------------------------------------------------------------------

Compare = Callable[[str, str], bool]


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _numeric(test: Callable[[float, float], bool]) -> Compare:
    def compare(have: str, want: str) -> bool:
        a, b = _number(have), _number(want)
        return a is not None and b is not None and test(a, b)

    return compare


def _date(text: str) -> dt.datetime | None:
    text = text.strip()
    try:
        if re.fullmatch(r"\d+", text):
            return dt.datetime.fromtimestamp(int(text), dt.UTC)
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _dates(test: Callable[[dt.datetime, dt.datetime], bool]) -> Compare:
    def compare(have: str, want: str) -> bool:
        a, b = _date(have), _date(want)
        return a is not None and b is not None and test(a, b)

    return compare


def _ip(have: str, want: str) -> bool:
    try:
        address = ipaddress.ip_address(have.split("/")[0])
        network = ipaddress.ip_network(want, strict=False)
    except ValueError:
        return False
    return address.version == network.version and address in network


def _arn_like(have: str, want: str) -> bool:
    have_parts, want_parts = have.split(":", 5), want.split(":", 5)
    if len(have_parts) != 6 or len(want_parts) != 6:
        return bool(glob(want).fullmatch(have)) if want == "*" else False
    return all(
        glob(w).fullmatch(h) is not None for h, w in zip(have_parts, want_parts, strict=True)
    )


def _binary(have: str, want: str) -> bool:
    try:
        return base64.b64decode(have, validate=True) == base64.b64decode(want, validate=True)
    except ValueError:
        return have == want


#: operator -> (compare(request value, policy value), negated)
OPERATORS: dict[str, tuple[Compare, bool]] = {
    "stringequals": (lambda h, w: h == _literal(w), False),
    "stringnotequals": (lambda h, w: h == _literal(w), True),
    "stringequalsignorecase": (lambda h, w: h.lower() == _literal(w).lower(), False),
    "stringnotequalsignorecase": (lambda h, w: h.lower() == _literal(w).lower(), True),
    "stringlike": (lambda h, w: glob(w).fullmatch(h) is not None, False),
    "stringnotlike": (lambda h, w: glob(w).fullmatch(h) is not None, True),
    "numericequals": (_numeric(lambda a, b: a == b), False),
    "numericnotequals": (_numeric(lambda a, b: a == b), True),
    "numericlessthan": (_numeric(lambda a, b: a < b), False),
    "numericlessthanequals": (_numeric(lambda a, b: a <= b), False),
    "numericgreaterthan": (_numeric(lambda a, b: a > b), False),
    "numericgreaterthanequals": (_numeric(lambda a, b: a >= b), False),
    "dateequals": (_dates(lambda a, b: a == b), False),
    "datenotequals": (_dates(lambda a, b: a == b), True),
    "datelessthan": (_dates(lambda a, b: a < b), False),
    "datelessthanequals": (_dates(lambda a, b: a <= b), False),
    "dategreaterthan": (_dates(lambda a, b: a > b), False),
    "dategreaterthanequals": (_dates(lambda a, b: a >= b), False),
    "bool": (lambda h, w: h.lower() == w.lower(), False),
    "binaryequals": (_binary, False),
    "ipaddress": (_ip, False),
    "notipaddress": (_ip, True),
    "arnequals": (_arn_like, False),
    "arnlike": (_arn_like, False),
    "arnnotequals": (_arn_like, True),
    "arnnotlike": (_arn_like, True),
}
#: Operators whose policy values take policy variables.
_VARIABLES = ("string", "arn")


def _values(raw: Any) -> list[str]:
    items = raw if isinstance(raw, list) else [raw]
    return [str(v).lower() if isinstance(v, bool) else str(v) for v in items]


def operator_verdict(operator: str, key: str, policy_values: Any, context: Context) -> Verdict:
    """One ``operator`` / ``key`` / values entry of a Condition block."""
    name = operator
    qualifier = ""
    for prefix in ("ForAllValues:", "ForAnyValue:"):
        if name.startswith(prefix):
            qualifier, name = prefix[:-1], name[len(prefix) :]
    if_exists = name.endswith("IfExists") and name != "IfExists"
    base = name[: -len("IfExists")] if if_exists else name
    found = context.lookup(key)
    if base.lower() == "null":
        if isinstance(found, Verdict):
            return found
        wants_absent = _values(policy_values)[0].lower() == "true"
        return Verdict((found is None or not found) == wants_absent)
    spec = OPERATORS.get(base.lower())
    if spec is None:  # an operator AWS does not have: nothing offline can say
        return Verdict(None, frozenset({key.lower()}))
    compare, negated = spec
    if isinstance(found, Verdict):
        return found
    if found is None or not found:
        if if_exists:
            return TRUE
        if qualifier == "ForAllValues":
            return TRUE
        if qualifier == "ForAnyValue":
            return FALSE
        return Verdict(negated)
    wanted: list[str] = []
    for value in _values(policy_values):
        if base.lower().startswith(_VARIABLES):
            substituted = substitute(value, context)
            if isinstance(substituted, Verdict):
                return substituted
            value = substituted
        wanted.append(value)

    def matches(have: str) -> bool:
        hit = any(compare(have, want) for want in wanted)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return Verdict(all(matches(have) for have in found))
    return Verdict(any(matches(have) for have in found))


def condition_verdict(condition: Any, context: Context) -> Verdict:
    """A whole Condition block: every operator and key ANDed.

    A block that is not a mapping of mappings (a malformed policy) is unknown: nothing
    offline can say what AWS would make of it.
    """
    if not condition:
        return TRUE
    if not isinstance(condition, Mapping):
        return Verdict(None, frozenset({"condition"}))
    verdicts = []
    for operator, keys in condition.items():
        if not isinstance(keys, Mapping):
            return Verdict(None, frozenset({"condition"}))
        for key, values in keys.items():
            verdicts.append(operator_verdict(str(operator), str(key), values, context))
    return all_of(verdicts)
