"""Time and peak memory of evaluating the Pulumi program under mocks.

Scenarios (each run in its own Python process, so peak RSS is that scenario's alone):

- ``org``: the org stack of a synthetic organization of 1,000 accounts in 100 OUs
  (10 business units of 9 application OUs each; every OU holds 10 accounts), with the
  full control set on the business units, an OU-specific override on every application
  OU (so each gets its own documents) and 200 custom SCPs on 5 accounts each, so that
  there are many policies and attachments at root, OU and account level.
  Target: under 30 s and 1 GB.
- ``account``: one account stack with 17 governed regions. Target: under 5 s.

The time is wall-clock for ``plan_stack`` (lint, documents, and registering every
resource with the mock monitor); building the spec is not timed. Peak memory is the
process's maximum resident set size (``getrusage``), Python and the Pulumi SDK included.

    .venv/bin/python -m bench.bench_pulumi            # both scenarios, a table
    .venv/bin/python -m bench.bench_pulumi --json     # one JSON object per scenario
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SEVENTEEN_REGIONS = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "sa-east-1",
]
TARGETS = {"org": {"seconds": 30.0, "peak_mb": 1024.0}, "account": {"seconds": 5.0}}

BU_CONTROLS = [
    "restrict-regions",
    "deny-unencrypted-volumes",
    "require-imdsv2",
    "approved-ami-owners",
    "deny-image-export",
    "restrict-pass-role",
    "deny-default-vpc",
    "restrict-igw-attach",
    "tag-policy",
    "backup-policy",
    "ec2-declarative-policy",
]


def synthetic_org(units: int = 10, children: int = 9, per_ou: int = 10, custom: int = 200) -> Any:
    """A spec of ``units * (1 + children)`` OUs holding ``per_ou`` accounts each."""
    from governance.spec import load_spec

    base = load_spec(REPO / "stacks" / "Pulumi.org.yaml")
    counter = iter(range(10**6))

    def accounts(prefix: str) -> list[dict[str, str]]:
        out = []
        for _ in range(per_ou):
            n = next(counter)
            out.append({"id": f"7{n:011d}", "name": f"{prefix}-{n}"})
        return out

    tree = []
    for u in range(units):
        kids = []
        for c in range(children):
            kids.append(
                {
                    "name": f"App{c}",
                    "controls": ["require-tags-on-launch"],
                    # A different hop limit per OU: each app OU gets its own declarative policy.
                    "parameters": {"imds": {"http_put_response_hop_limit": 1 + c}},
                    "accounts": accounts(f"bu{u}-app{c}"),
                }
            )
        tree.append(
            {
                "name": f"BU{u:02d}",
                "controls": BU_CONTROLS,
                "accounts": accounts(f"bu{u}"),
                "units": kids,
            }
        )
    all_ids = [f"7{n:011d}" for n in range(units * (1 + children) * per_ou)]
    exempt = base.principals.exempt
    policies = []
    for p in range(custom):
        targets = all_ids[p * 5 : p * 5 + 5]
        policies.append(
            {
                "name": f"team-guard-{p:03d}",
                "type": "scp",
                "targets": targets,
                "content": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": f"DenyVpcDeletion{p}",
                            "Effect": "Deny",
                            "Action": ["ec2:DeleteVpc", "ec2:DeleteSubnet"],
                            "Resource": "*",
                            "Condition": {"ArnNotLike": {"aws:PrincipalArn": exempt}},
                        }
                    ],
                },
            }
        )
    data = base.model_dump(by_alias=True)
    data["organization"]["units"] = tree
    data["policies"] = policies
    return base.model_validate(data)


def account_spec() -> Any:
    from governance.spec import load_spec

    base = load_spec(REPO / "stacks" / "Pulumi.org.yaml")
    return base.model_validate({**base.model_dump(by_alias=True), "regions": SEVENTEEN_REGIONS})


def run_scenario(name: str) -> dict[str, Any]:
    warnings.simplefilter("ignore", DeprecationWarning)
    from governance.plan import plan_stack

    if name == "org":
        spec = synthetic_org()
        stack = "org"
    else:
        spec = account_spec()
        stack = "baseline-400000000001"
    started = time.perf_counter()
    plan = plan_stack(stack, spec)
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    counts = plan.counts()
    return {
        "scenario": name,
        "stack": stack,
        "accounts": sum(1 for _ in spec.accounts()),
        "ous": sum(1 for _ in spec.units()),
        "regions": len(spec.regions),
        "resources": sum(counts.values()),
        "counts": counts,
        "seconds": round(seconds, 2),
        "peak_mb": round(peak_kb / 1024, 1),
    }


def _in_subprocess(name: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.bench_pulumi", "--scenario", name],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _verdict(result: dict[str, Any]) -> list[str]:
    misses = []
    for key, limit in TARGETS[result["scenario"]].items():
        if result[key] >= limit:
            misses.append(f"{key} {result[key]} >= {limit}")
    return misses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=["org", "account"], help="run one, in-process")
    parser.add_argument("--json", action="store_true", help="print JSON lines")
    args = parser.parse_args(argv)
    if args.scenario:
        print(json.dumps(run_scenario(args.scenario)))
        return 0
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, " + (
        f"Python {platform.python_version()}"
    )
    failed = False
    if not args.json:
        print(f"machine: {machine}")
        print(
            f"{'scenario':<9} {'stack':<22} {'resources':>9} {'time s':>7} {'peak MB':>8}  target"
        )
    for name in ("org", "account"):
        result = _in_subprocess(name)
        misses = _verdict(result)
        failed = failed or bool(misses)
        if args.json:
            print(json.dumps({**result, "machine": machine, "misses": misses}))
            continue
        detail = f"{result['accounts']} accounts, {result['ous']} OUs, {result['regions']} regions"
        print(
            f"{name:<9} {result['stack']:<22} {result['resources']:>9} {result['seconds']:>7} "
            f"{result['peak_mb']:>8}  {'ok' if not misses else 'MISSED: ' + '; '.join(misses)}"
            f"  ({detail})"
        )
        for type_, count in result["counts"].items():
            print(f"{'':<10}{type_:<60} {count:>6}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
