"""IPv4 and IPv6 prefixes as integers: parsing, containment and longest-prefix match.

A ``Prefix`` is ``(version, network, length)`` with the host bits cleared, so prefixes
hash and compare fast; an address is a prefix of full length (/32 or /128). Two prefixes
either nest or are disjoint, which the analysis relies on when it describes a set of
addresses by the prefixes that contain it.

>>> table = PrefixTable()
>>> table.add(parse_prefix("10.0.0.0/16"), "local")
>>> table.add(parse_prefix("0.0.0.0/0"), "igw")
>>> table.longest(parse_prefix("10.0.3.4"))
(Prefix(version=4, network=167772160, length=16), 'local')
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Iterator
from typing import Generic, NamedTuple, TypeVar

V = TypeVar("V")

BITS = {4: 32, 6: 128}


class Prefix(NamedTuple):
    version: int
    network: int
    length: int

    def __str__(self) -> str:
        text = _TEXT.get(self)
        if text is None:
            if self.version == 4:
                text = f"{ipaddress.IPv4Address(self.network)}/{self.length}"
            else:
                text = f"{ipaddress.IPv6Address(self.network)}/{self.length}"
            if len(_TEXT) < 100_000:
                _TEXT[self] = text
        return text

    @property
    def bits(self) -> int:
        return BITS[self.version]

    @property
    def size(self) -> int:
        return 1 << (self.bits - self.length)

    @property
    def last(self) -> int:
        return self.network + self.size - 1

    def address(self) -> str:
        """The network address alone (``10.0.1.5``), for an address prefix."""
        if self.version == 4:
            return socket.inet_ntoa(self.network.to_bytes(4, "big"))
        return str(ipaddress.IPv6Address(self.network))


_TEXT: dict[Prefix, str] = {}


def parse_prefix(text: str) -> Prefix:
    """``10.0.0.0/16``, ``2600:1f18::/56`` or a bare address; host bits are cleared.

    Raises ValueError on anything else.
    """
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a CIDR block")
    address, slash, length_text = text.partition("/")
    if ":" in address:
        version, bits = 6, 128
        try:
            value = int(ipaddress.IPv6Address(address))
        except ipaddress.AddressValueError as err:
            raise ValueError(f"{text!r} is not a CIDR block") from err
    else:
        version, bits = 4, 32
        try:
            # inet_pton is strict: exactly four decimal octets
            value = int.from_bytes(socket.inet_pton(socket.AF_INET, address), "big")
        except OSError:
            raise ValueError(f"{text!r} is not a CIDR block") from None
    if slash:
        if not length_text.isdigit() or int(length_text) > bits:
            raise ValueError(f"{text!r} is not a CIDR block")
        length = int(length_text)
    else:
        length = bits
    shift = bits - length
    return Prefix(version, (value >> shift) << shift, length)


def contains(outer: Prefix, inner: Prefix) -> bool:
    """``outer`` holds every address of ``inner`` (same family)."""
    if outer.version != inner.version or outer.length > inner.length:
        return False
    shift = BITS[outer.version] - outer.length
    return (inner.network >> shift) == (outer.network >> shift)


def overlaps(a: Prefix, b: Prefix) -> bool:
    return contains(a, b) or contains(b, a)


def is_global_v6(prefix: Prefix) -> bool:
    """Inside 2000::/3, the global unicast space (what AWS hands out to VPCs)."""
    return prefix.version == 6 and (prefix.network >> 125) == 0b001


class PrefixTable(Generic[V]):
    """Prefixes with values; longest-prefix match and containment queries.

    Lookups walk the prefix lengths present, longest first: at most 33 (IPv4) or 129
    (IPv6) dictionary probes, in practice a handful.
    """

    def __init__(self, items: Iterable[tuple[Prefix, V]] = ()) -> None:
        self._by_len: dict[tuple[int, int], dict[int, V]] = {}
        self._lengths: dict[int, list[int]] = {4: [], 6: []}
        for prefix, value in items:
            self.add(prefix, value)

    def add(self, prefix: Prefix, value: V) -> None:
        key = (prefix.version, prefix.length)
        bucket = self._by_len.get(key)
        if bucket is None:
            bucket = self._by_len[key] = {}
            lengths = self._lengths[prefix.version]
            lengths.append(prefix.length)
            lengths.sort(reverse=True)
        bucket[prefix.network] = value

    def get(self, prefix: Prefix) -> V | None:
        bucket = self._by_len.get((prefix.version, prefix.length))
        return None if bucket is None else bucket.get(prefix.network)

    def __len__(self) -> int:
        return sum(len(b) for b in self._by_len.values())

    def __iter__(self) -> Iterator[tuple[Prefix, V]]:
        for (version, length), bucket in self._by_len.items():
            for network, value in bucket.items():
                yield Prefix(version, network, length), value

    def containing(self, target: Prefix) -> Iterator[tuple[Prefix, V]]:
        """Every stored prefix that holds ``target`` (itself included), longest first."""
        bits = BITS[target.version]
        for length in self._lengths[target.version]:
            if length > target.length:
                continue
            shift = bits - length
            network = (target.network >> shift) << shift
            value = self._by_len[(target.version, length)].get(network, _MISSING)
            if value is not _MISSING:
                yield Prefix(target.version, network, length), value  # type: ignore[misc]

    def longest(self, target: Prefix) -> tuple[Prefix, V] | None:
        """The longest stored prefix holding ``target``, with its value; None if none."""
        for found in self.containing(target):
            return found
        return None

    def inside(self, outer: Prefix, strictly: bool = True) -> Iterator[tuple[Prefix, V]]:
        """Every stored prefix within ``outer`` (longer ones only when ``strictly``)."""
        bits = BITS[outer.version]
        shift_outer = bits - outer.length
        for length in self._lengths[outer.version]:
            if length < outer.length or (strictly and length == outer.length):
                continue
            for network, value in self._by_len[(outer.version, length)].items():
                if (network >> shift_outer) == (outer.network >> shift_outer):
                    yield Prefix(outer.version, network, length), value


_MISSING = object()


def longest_match(prefixes: Iterable[Prefix], target: Prefix) -> Prefix | None:
    """The longest of ``prefixes`` that holds ``target`` (a plain function, for tests)."""
    best: Prefix | None = None
    for prefix in prefixes:
        if contains(prefix, target) and (best is None or prefix.length > best.length):
            best = prefix
    return best


#: Address space that never arrives from the internet (RFC 6890 special-purpose).
NON_PUBLIC_V4 = tuple(
    parse_prefix(p)
    for p in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "224.0.0.0/3",
    )
)
GLOBAL_V6 = parse_prefix("2000::/3")
ANY_V4 = parse_prefix("0.0.0.0/0")
ANY_V6 = parse_prefix("::/0")
