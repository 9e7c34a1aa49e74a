"""Fuzz: mutated snapshot, spec and policy files end in a valid report or one line, exit 2.

Hypothesis mutates real inputs: the files of a snapshot built with ``sandbox.raw`` (every
kind the builders make: VPCs, peering, a transit gateway, a load balancer, IPv6, NAT...),
the example spec ``stacks/Pulumi.org.yaml`` with its policy file, and the policy
documents that spec builds (an SCP, a tag, a backup and a declarative policy). A mutation
replaces a value anywhere in a document (by wrong types, bad addresses, lone surrogates,
200k-character text, nesting past the recursion limit, numbers over 4,300 digits),
deletes or duplicates one, or changes bytes (truncation, bytes that are not UTF-8); for a
spec, also YAML alias bombs, aliases inside their own anchor and ``spec_file`` cycles.
Each example runs the ``ivs`` CLI as a user would (``exposure`` in a format drawn too,
``policies lint``) and must end in one of two ways:

- exit 0 and an output that its format's reader accepts (JSON, SARIF, GraphML through an
  XML parser and networkx, the HTML page's data, Markdown as UTF-8 text), or
- exit 2 and one line on stderr, ``ivs: FILE: ...``, naming a file of the input.

Anything else (a traceback, exit 1 or 3, a malformed report) fails the example.

``make test`` runs :data:`EXAMPLES` examples of each, the same ones every run; ``make fuzz``
sets ``IVS_FUZZ_EXAMPLES`` (more examples, a new random seed each run) and prints the
tally: inputs, valid outputs, clean errors.
"""

from __future__ import annotations

import atexit
import copy
import io
import json
import os
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from report_support import write_org_snapshot
from ruamel.yaml import YAML
from typer.testing import CliRunner

from governance.policies import build_documents
from governance.spec import load_spec
from ivs.cli import app
from sandbox.raw import RawRegion, perm

STACKS = Path(__file__).resolve().parent.parent / "stacks"
#: Examples per test: a few seconds each in ``make test``; ``make fuzz`` sets more.
EXAMPLES = int(os.environ.get("IVS_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize="IVS_FUZZ_EXAMPLES" not in os.environ,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
#: Per test: inputs run, valid outputs, clean (one-line, exit 2) errors.
TALLY: dict[str, Counter[str]] = {}

# ---- values a mutation puts in ------------------------------------------------------------

#: Text put into the JSON text as it is (no JSON value can say it): nesting past the
#: recursion limit, a number past the int-string limit, escapes of lone surrogates.
RAW = {
    "@deep@": "[" * 5000 + "]" * 5000,
    "@deep-object@": '{"a": ' * 3000 + "1" + "}" * 3000,
    "@huge@": "9" * 5000,
    "@surrogate@": '"vpc-\\udc00"',
}
NASTY: list[Any] = [
    None,
    True,
    0,
    -1,
    65536,
    2**70,
    1.5,
    float("inf"),
    "",
    " ",
    "\ud800",
    "tag-\udfff-value",
    "a" * 200_000,
    "0.0.0.0/99",
    "10.0.0.0/33",
    "::/200",
    "10.0.0.999",
    "2600:1f18::/56",
    "0.0.0.0/0",
    "::/0",
    "10.0.1.10",
    "vpc-missing",
    "subnet-missing",
    "sg-missing",
    "igw-missing",
    "pcx-missing",
    "tgw-missing",
    "eni-missing",
    "pl-missing",
    "local",
    "blackhole",
    "-1",
    "6",
    "tcp",
    "icmpv6",
    "{'State': 'associated'}",
    "@user https://evil.example www.evil.example <http://x>",
    "line\nbreak\x00\x1b",
    [],
    {},
    [None],
    {"State": 5},
    {"State": "associated"},
    *RAW,
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
values = st.sampled_from(NASTY) | json_values
BYTES = [b"\xff", b"\xed\xa0\x80", b"\xc3", b"\x00", b'"', b"{", b"]", b",", b"\\"]


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*path, index))


def _at(document: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        document = document[part]
    return document


@st.composite
def mutated_document(draw: st.DrawFn, document: Any) -> Any:
    """``document`` (decoded JSON or YAML) with one to three values replaced, deleted,
    duplicated or copied from elsewhere in it."""
    document = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(document) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent, key = _at(document, path[:-1]), path[-1]
        action = draw(st.sampled_from(["replace", "replace", "delete", "copy", "duplicate"]))
        if action == "replace":
            parent[key] = copy.deepcopy(draw(values))
        elif action == "delete":
            del parent[key]
        elif action == "copy":
            parent[key] = copy.deepcopy(_at(document, draw(st.sampled_from(paths))))
        elif isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
    return document


@st.composite
def mutated_bytes(draw: st.DrawFn, raw: bytes) -> bytes:
    """``raw`` truncated, or with a byte flipped or some bytes put in."""
    at = draw(st.integers(0, max(0, len(raw) - 1)))
    action = draw(st.sampled_from(["truncate", "insert", "flip"]))
    if action == "truncate":
        return raw[:at]
    if action == "insert":
        return raw[:at] + draw(st.sampled_from(BYTES)) + raw[at:]
    return raw[:at] + bytes([raw[at] ^ (1 << draw(st.integers(0, 7)))]) + raw[at + 1 :]


def json_text(document: Any) -> bytes:
    text = json.dumps(document, indent=1)
    for marker, raw in RAW.items():
        text = text.replace(json.dumps(marker), raw)
    return text.encode("utf-8", errors="surrogatepass")  # lone surrogates as UTF-8 bytes too


@st.composite
def mutated_json(draw: st.DrawFn, document: Any) -> bytes:
    raw = json_text(draw(mutated_document(document)))
    return draw(mutated_bytes(raw)) if draw(st.integers(0, 9)) == 0 else raw


# ---- what each example must end in --------------------------------------------------------


def _ended_well(
    name: str, result: Any, read_output: Callable[[], Any], inputs: Path, done: tuple[int, ...]
) -> None:
    """Exit ``done`` (0; lint: 0 or 1) and an output its reader accepts, or exit 2 and one
    line naming an input."""
    tally = TALLY.setdefault(name, Counter())
    tally["inputs"] += 1
    if result.exit_code in done:
        read_output()
        tally["valid outputs"] += 1
        return
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, f"exit {result.exit_code}: {result.stderr[-2000:]}"
    assert len(lines) == 1, result.stderr[-2000:]
    assert lines[0].startswith(f"ivs: {inputs}"), lines[0]
    assert len(lines[0]) < 1_000
    tally["clean errors"] += 1


@pytest.fixture(scope="module", autouse=True)
def _tally() -> Iterator[None]:
    yield
    for name, tally in sorted(TALLY.items()):
        counts = ", ".join(f"{tally[k]} {k}" for k in ("inputs", "valid outputs", "clean errors"))
        print(f"\nfuzz {name}: {counts}, 0 crashes")


# ---- snapshots ----------------------------------------------------------------------------


def _write_seed_snapshot(root: Path) -> Path:
    """The report tests' organization, and a region with what it lacks (IPv6, NAT, an
    egress-only gateway, a prefix list, a transit gateway and its routes)."""
    write_org_snapshot(root)
    r = RawRegion("333333333333", "us-east-1")
    vpc = r.vpc("10.5.0.0/16", ipv6="2600:1f18::/56", tag={"Environment": "prod"})
    subnet = r.subnet(vpc, "10.5.1.0/24")
    igw = r.igw(vpc)
    table = r.route_table(vpc, (subnet,))
    r.route(table, "0.0.0.0/0", igw)
    r.route(table, "::/0", igw)
    r.egress_only_igw(vpc)
    r.prefix_list("corp", ("198.51.100.0/24",))
    ssh = r.sg(vpc, [perm("tcp", 22, cidrs=("0.0.0.0/0",))])
    r.instance(subnet, (ssh,), "10.5.1.10", public_ip="54.1.1.1")
    r.nat(subnet)
    tgw = r.tgw()
    tgw_table = r.tgw_route_table(tgw)
    attachment = r.tgw_attach(tgw, vpc, (subnet,), tgw_table)
    r.tgw_static(tgw_table, "10.9.0.0/16", attachment)
    r.tgw_propagate(tgw_table, attachment, vpc)
    r.flow_log(vpc)
    r.write(root)
    return root


SEED = _write_seed_snapshot(Path(tempfile.mkdtemp(prefix="ivs-fuzz-seed-")))
atexit.register(shutil.rmtree, SEED, ignore_errors=True)
SEED_FILES = sorted(p.relative_to(SEED) for p in SEED.rglob("*.json"))
SEED_DOCUMENTS = {p: json.loads((SEED / p).read_text()) for p in SEED_FILES}


@st.composite
def mutated_snapshot(draw: st.DrawFn) -> dict[Path, bytes]:
    """One or two files of the seed snapshot, mutated."""
    files = draw(st.lists(st.sampled_from(SEED_FILES), min_size=1, max_size=2, unique=True))
    return {file: draw(mutated_json(SEED_DOCUMENTS[file])) for file in files}


def _read_report(fmt: str, out: Path) -> None:
    text = out.read_bytes().decode("utf-8")  # strict: every report is UTF-8
    if fmt in ("json", "sarif"):
        document = json.loads(text)
        assert "findings" in document if fmt == "json" else document["version"] == "2.1.0"
    elif fmt == "graphml":
        ElementTree.fromstring(text)
        nx.read_graphml(io.BytesIO(text.encode("utf-8")), force_multigraph=True)
    elif fmt == "html":
        data = re.search(r'<script type="application/json" id="ivs-data">(.*?)</script>', text)
        assert data is not None and "findings" in json.loads(data.group(1))
    else:
        assert text.startswith("## IVS exposure: ")
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", text)


@FUZZ
@given(changes=mutated_snapshot(), fmt=st.sampled_from(["json", "sarif", "graphml", "html", "md"]))
def test_mutated_snapshots_give_a_report_or_one_line(changes: dict[Path, bytes], fmt: str) -> None:
    with tempfile.TemporaryDirectory(prefix="ivs-fuzz-") as tmp:
        snapshot = Path(tmp) / "snap"
        shutil.copytree(SEED, snapshot)
        for file, raw in changes.items():
            (snapshot / file).write_bytes(raw)
        out = Path(tmp) / f"report.{fmt}"
        args = ["exposure", "--snapshot", str(snapshot), "--format", fmt, "--out", str(out)]
        result = CliRunner().invoke(app, args)
        _ended_well("snapshot", result, lambda: _read_report(fmt, out), snapshot, (0,))


# ---- specs --------------------------------------------------------------------------------

SPEC_TEXT = (STACKS / "Pulumi.org.yaml").read_text()
SPEC_DOCUMENT = YAML(typ="safe", pure=True).load(SPEC_TEXT)
_BOMB = ["  ivs:lol0: &l0 [x, x, x, x, x, x, x, x, x, x]"] + [
    f"  ivs:lol{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]" for n in range(1, 9)
]
#: Whole-text changes of the spec no document mutation makes.
SPEC_TEXTS = {
    "alias bomb": SPEC_TEXT.replace("config:\n", "config:\n" + "\n".join(_BOMB) + "\n", 1),
    "alias in its anchor": SPEC_TEXT.replace(
        "ivs:regions: [us-east-1, eu-west-1]", "ivs:regions: &r [us-east-1, *r]"
    ),
    "spec_file itself": "config:\n  ivs:spec_file: Pulumi.org.yaml\n",
    "lone surrogate": SPEC_TEXT.replace("name: audit,", 'name: "au\\ud800dit",'),
    "deep": SPEC_TEXT.replace("ivs:regions: [us-east-1, eu-west-1]", "ivs:regions: " + "[" * 3000),
    "huge number": SPEC_TEXT.replace("retention_days: 35", "retention_days: " + "9" * 5000),
    "tab": SPEC_TEXT.replace("  ivs:regions", "\tivs:regions"),
}


def _yaml_text(document: Any) -> str:
    out = io.StringIO()
    YAML(typ="safe", pure=True).dump(document, out)
    return out.getvalue()


@st.composite
def mutated_spec(draw: st.DrawFn) -> bytes:
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return SPEC_TEXTS[draw(st.sampled_from(sorted(SPEC_TEXTS)))].encode()
    if choice == 1:
        return draw(mutated_bytes(SPEC_TEXT.encode()))
    document = draw(mutated_document(SPEC_DOCUMENT))
    text = _yaml_text(document)
    for marker, raw in RAW.items():  # as YAML flow text, or a string where it cannot be
        text = text.replace(marker, raw if marker != "@surrogate@" else '"\\udc00"')
    return text.encode("utf-8", errors="surrogatepass")


@FUZZ
@given(spec=mutated_spec())
def test_mutated_specs_lint_or_fail_in_one_line(spec: bytes) -> None:
    with tempfile.TemporaryDirectory(prefix="ivs-fuzz-") as tmp:
        shutil.copytree(STACKS / "policies", Path(tmp) / "policies")
        path = Path(tmp) / "Pulumi.org.yaml"
        path.write_bytes(spec)
        result = CliRunner().invoke(
            app, ["policies", "lint", "--spec", str(path), "--format", "json"]
        )
        # exit 1: lint errors, and the report says which
        _ended_well("spec", result, lambda: _lint_report(result.stdout), Path(tmp), (0, 1))


def _lint_report(stdout: str) -> None:
    report = json.loads(stdout)
    assert report["errors"] == sum(f["severity"] == "error" for f in report["findings"])


# ---- policy documents ---------------------------------------------------------------------


def _seed_policies() -> list[tuple[str, Any]]:
    """(kind, content): the example's own SCP file and one document of each kind it builds."""
    seeds = [
        ("scp", json.loads((STACKS / "policies" / "protect-security-services.json").read_text()))
    ]
    kinds: dict[str, Any] = {}
    for doc in build_documents(load_spec(STACKS / "Pulumi.org.yaml")):
        kinds.setdefault(doc.kind, doc.content)
    return seeds + sorted(kinds.items())


POLICY_SEEDS = _seed_policies()


@FUZZ
@given(
    seed=st.sampled_from(POLICY_SEEDS),
    kind=st.sampled_from(["scp", "rcp", "tag", "backup", "declarative-ec2"]),
    data=st.data(),
)
def test_mutated_policies_lint_or_fail_in_one_line(
    seed: tuple[str, Any], kind: str, data: st.DataObject
) -> None:
    own_kind, content = seed
    raw = data.draw(mutated_json(content))
    kind = data.draw(st.sampled_from([own_kind, own_kind, kind]))
    with tempfile.TemporaryDirectory(prefix="ivs-fuzz-") as tmp:
        path = Path(tmp) / "policy.json"
        path.write_bytes(raw)
        args = ["policies", "lint", "--policy", str(path), "--type", kind, "--format", "json"]
        result = CliRunner().invoke(app, args)
        _ended_well("policy", result, lambda: _lint_report(result.stdout), path, (0, 1))
