"""The one port/protocol interval algebra of the exposure analysis.

``PortSet`` is a set of ports (0-65535) held as sorted, disjoint, non-adjacent closed
intervals. ``Traffic`` maps an IP protocol to the ports it carries; its ``rest`` flag
stands for "every protocol not named, on every port", which is what a security group or
network ACL rule for protocol ``-1`` allows. Both are immutable values with set algebra
(``|``, ``&``, ``-``) so that security-group, network-ACL and zone-policy decisions are
computed by the same few operations.

Protocols are named ``tcp``, ``udp``, ``icmp``, ``icmpv6``, or by number (``"47"``).
For ICMP the "port" is the ICMP type (AWS puts the type in ``FromPort``).

>>> ssh = Traffic.of("tcp", 22)
>>> (Traffic.everything() & ssh) == ssh
True
>>> PortSet.parse("22,3389,5985-5986").render()
'22,3389,5985-5986'
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

MAX_PORT = 65535
EPHEMERAL_LOW = 1024  # the return-traffic range network ACLs must allow
NAMED_PROTOCOLS = ("tcp", "udp", "icmp", "icmpv6")
_PROTOCOL_NUMBERS = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}

Interval = tuple[int, int]


class PortSet:
    """An immutable set of ports as sorted, disjoint, non-adjacent closed intervals."""

    __slots__ = ("_hash", "intervals")

    intervals: tuple[Interval, ...]

    def __init__(self, intervals: Iterable[Interval] = ()) -> None:
        self.intervals = _normalize(intervals)
        self._hash = hash(self.intervals)

    # ---- constructors -------------------------------------------------------------------
    @classmethod
    def full(cls) -> PortSet:
        return _FULL

    @classmethod
    def empty(cls) -> PortSet:
        return _EMPTY

    @classmethod
    def range(cls, low: int, high: int | None = None) -> PortSet:
        high = low if high is None else high
        return cls(((low, high),))

    @classmethod
    def parse(cls, text: str) -> PortSet:
        """``"22,3389,5985-5986"``, ``"0-65535"`` or ``"all"``; raises ValueError."""
        text = text.strip()
        if text in ("all", "*"):
            return _FULL
        intervals: list[Interval] = []
        for item in text.split(","):
            low_text, dash, high_text = item.strip().partition("-")
            if not low_text.isdigit() or (dash and not high_text.isdigit()):
                raise ValueError(f"{item!r} is not PORT or PORT-PORT")
            intervals.append((int(low_text), int(high_text or low_text)))
        for low, high in intervals:
            if not 0 <= low <= high <= MAX_PORT:
                raise ValueError(f"{low}-{high} is not within 0-{MAX_PORT}")
        return cls(intervals)

    # ---- algebra ------------------------------------------------------------------------
    def __or__(self, other: PortSet) -> PortSet:
        if not other.intervals:
            return self
        if not self.intervals:
            return other
        return PortSet(self.intervals + other.intervals)

    def __and__(self, other: PortSet) -> PortSet:
        if self is _FULL:
            return other
        if other is _FULL:
            return self
        out: list[Interval] = []
        a, b = self.intervals, other.intervals
        i = j = 0
        while i < len(a) and j < len(b):
            low = max(a[i][0], b[j][0])
            high = min(a[i][1], b[j][1])
            if low <= high:
                out.append((low, high))
            if a[i][1] < b[j][1]:
                i += 1
            else:
                j += 1
        return _make(tuple(out))

    def __sub__(self, other: PortSet) -> PortSet:
        if not other.intervals or not self.intervals:
            return self
        return self & other.complement()

    def complement(self) -> PortSet:
        out: list[Interval] = []
        start = 0
        for low, high in self.intervals:
            if low > start:
                out.append((start, low - 1))
            start = high + 1
        if start <= MAX_PORT:
            out.append((start, MAX_PORT))
        return _make(tuple(out))

    def __contains__(self, port: int) -> bool:
        return any(low <= port <= high for low, high in self.intervals)

    def __bool__(self) -> bool:
        return bool(self.intervals)

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, PortSet) and self.intervals == other.intervals)

    def __hash__(self) -> int:
        return self._hash

    def __iter__(self) -> Iterator[Interval]:
        return iter(self.intervals)

    def __repr__(self) -> str:
        return f"PortSet({self.render()!r})"

    def issubset(self, other: PortSet) -> bool:
        return not (self - other)

    def size(self) -> int:
        return sum(high - low + 1 for low, high in self.intervals)

    @property
    def is_full(self) -> bool:
        return self.intervals == ((0, MAX_PORT),)

    def first(self) -> int:
        return self.intervals[0][0]

    def render(self) -> str:
        """``22,3389,5985-5986``; the full range is ``0-65535``; empty is ``""``."""
        return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in self.intervals)


def _normalize(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    items = sorted((max(0, int(lo)), min(MAX_PORT, int(hi))) for lo, hi in intervals)
    out: list[list[int]] = []
    for low, high in items:
        if low > high:
            continue
        if out and low <= out[-1][1] + 1:
            if high > out[-1][1]:
                out[-1][1] = high
        else:
            out.append([low, high])
    return tuple((lo, hi) for lo, hi in out)


def _make(intervals: tuple[Interval, ...]) -> PortSet:
    # Intervals already sorted and disjoint: skip normalisation.
    if not intervals:
        return _EMPTY
    if intervals == ((0, MAX_PORT),):
        return _FULL
    made = PortSet.__new__(PortSet)
    made.intervals = intervals
    made._hash = hash(intervals)
    return made


_EMPTY = PortSet()
_FULL = PortSet(((0, MAX_PORT),))
EPHEMERAL = PortSet.range(EPHEMERAL_LOW, MAX_PORT)


def protocol_name(raw: str | int) -> str:
    """AWS protocol as given in a rule (``tcp``, ``6``, ``-1``...) -> our name (``all`` for -1)."""
    value = str(raw).strip().lower()
    if value in ("-1", "all"):
        return "all"
    return _PROTOCOL_NUMBERS.get(value, value)


class Traffic:
    """Protocols with their ports. ``rest``: every protocol not in ``ports``, fully.

    An absent protocol carries nothing unless ``rest`` is set. Values are immutable.
    """

    __slots__ = ("_hash", "is_empty", "ports", "rest")

    ports: dict[str, PortSet]
    rest: bool
    #: carries nothing at all
    is_empty: bool

    def __init__(self, ports: dict[str, PortSet] | None = None, rest: bool = False) -> None:
        cleaned = {}
        for proto, portset in (ports or {}).items():
            if rest and portset.is_full:
                continue  # implied by rest
            if not rest and not portset:
                continue
            cleaned[proto] = portset
        self.ports = cleaned
        self.rest = rest
        self.is_empty = not rest and not cleaned
        self._hash = hash((frozenset(cleaned.items()), rest))

    # ---- constructors -------------------------------------------------------------------
    @classmethod
    def nothing(cls) -> Traffic:
        return _NOTHING

    @classmethod
    def everything(cls) -> Traffic:
        return _EVERYTHING

    @classmethod
    def of(cls, protocol: str | int, low: int | None = None, high: int | None = None) -> Traffic:
        """One protocol (AWS spelling accepted) on ``low-high``; no ports: every port.

        ``-1`` (or ``all``) is every protocol. ICMP ``-1`` is every type.
        """
        name = protocol_name(protocol)
        if name == "all":
            return _EVERYTHING
        if low is None or low < 0 or (name not in ("tcp", "udp", "icmp", "icmpv6")):
            return cls({name: _FULL})
        return cls({name: PortSet.range(low, low if high is None or high < 0 else high)})

    @classmethod
    def parse(cls, text: str) -> Traffic:
        """``all``, ``tcp:443``, ``udp:53``, ``tcp:1024-2048``, ``icmp:*``, ``-1:*``."""
        if text.strip() == "all":
            return _EVERYTHING
        proto, _, ports = text.partition(":")
        if protocol_name(proto) == "all":
            return _EVERYTHING
        return cls({protocol_name(proto): PortSet.parse(ports or "all")})

    # ---- algebra ------------------------------------------------------------------------
    def get(self, protocol: str) -> PortSet:
        found = self.ports.get(protocol)
        if found is not None:
            return found
        return _FULL if self.rest else _EMPTY

    def _combine(self, other: Traffic, op: str, rest: bool) -> Traffic:
        # The same few values meet again and again (rules, ACL verdicts): remember results.
        key = (op, self, other)
        found = _MEMO.get(key)
        if found is not None:
            return found
        if len(_MEMO) > _MEMO_MAX:
            _MEMO.clear()
        found = _MEMO[key] = self._compute(other, op, rest)
        return found

    def _compute(self, other: Traffic, op: str, rest: bool) -> Traffic:
        protos = set(self.ports) | set(other.ports)
        out: dict[str, PortSet] = {}
        for proto in protos:
            a, b = self.get(proto), other.get(proto)
            out[proto] = a | b if op == "|" else a & b if op == "&" else a - b
        return Traffic(out, rest)

    def __or__(self, other: Traffic) -> Traffic:
        if other.is_empty or self is _EVERYTHING:
            return self
        if self.is_empty or other is _EVERYTHING:
            return other
        return self._combine(other, "|", self.rest or other.rest)

    def __and__(self, other: Traffic) -> Traffic:
        if self is _EVERYTHING:
            return other
        if other is _EVERYTHING:
            return self
        if self.is_empty or other.is_empty:
            return _NOTHING
        return self._combine(other, "&", self.rest and other.rest)

    def __sub__(self, other: Traffic) -> Traffic:
        if other.is_empty or self.is_empty:
            return self
        if other is _EVERYTHING:
            return _NOTHING
        return self._combine(other, "-", self.rest and not other.rest)

    def __bool__(self) -> bool:
        return not self.is_empty

    @property
    def is_everything(self) -> bool:
        return self.rest and not self.ports

    def __eq__(self, other: object) -> bool:
        return self is other or (
            isinstance(other, Traffic) and self.rest == other.rest and self.ports == other.ports
        )

    def __hash__(self) -> int:
        return self._hash

    def issubset(self, other: Traffic) -> bool:
        return (self - other).is_empty

    def protocols(self) -> list[str]:
        """Named protocols carried (``all`` first when ``rest`` is set)."""
        named = sorted(self.ports)
        return ["all", *named] if self.rest else named

    def render(self) -> str:
        """``all``, or ``tcp 22,3389; udp 53`` (``all other`` when rest is set)."""
        if self.is_everything:
            return "all"
        parts = [f"{proto} {self.ports[proto].render()}" for proto in sorted(self.ports)]
        if self.rest:
            parts.append("all other")
        return "; ".join(parts) if parts else "nothing"

    def __repr__(self) -> str:
        return f"Traffic({self.render()!r})"


_NOTHING = Traffic()
_EVERYTHING = Traffic({}, rest=True)
_MEMO: dict[tuple[str, Traffic, Traffic], Traffic] = {}
_MEMO_MAX = 200_000


def port_list(items: Iterable[str]) -> PortSet:
    """The spec's port lists (``["22", "5985-5986"]``) as one PortSet."""
    out = _EMPTY
    for item in items:
        out = out | PortSet.parse(item)
    return out
