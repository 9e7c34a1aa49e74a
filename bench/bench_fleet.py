"""Benchmark the fleet posture analysis on a synthetic fleet (``sandbox.synth_fleet``).

100k instances, 200k volumes, 50k snapshots and 10k images over 100 accounts x 2 regions
(``--instances`` scales it), with SSM, AWS Backup and the detection services of each
account-region. Measured in fresh processes, alone on the machine: the bare ``json.load``
of every file, and ``ivs exposure --spec stacks/Pulumi.org.yaml --format json`` (read,
posture rules, write). Target (issue 10): the analysis under 10 s and 2 GB on top of
reading its JSON. Wall, CPU and peak memory; ``--repeat`` interleaved runs, the fastest
kept.

    python -m bench.bench_fleet
    python -m bench.bench_fleet --instances 10000 --json results.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.bench_exposure import EXPOSURE, LOAD, measure  # noqa: E402
from sandbox.synth_fleet import write_fleet_snapshot  # noqa: E402

SPEC = REPO / "stacks" / "Pulumi.org.yaml"


def bench(instances: int, workdir: Path, repeat: int) -> dict[str, Any]:
    snap = workdir / f"fleet-{instances}"
    shape = write_fleet_snapshot(snap, instances)
    size = sum(p.stat().st_size for p in snap.rglob("*.json"))
    out = workdir / f"findings-fleet-{instances}.json"
    command = [sys.executable, "-c", EXPOSURE, "exposure", "--snapshot", str(snap)]
    command += ["--spec", str(SPEC), "--format", "json", "--out", str(out)]
    loads, runs = [], []
    for _ in range(repeat):
        loads.append(measure([sys.executable, "-c", LOAD, str(snap)]))
        runs.append(measure(command))
    document = json.loads(out.read_text())
    counts: dict[str, int] = {}
    for finding in document["findings"]:
        counts[finding["rule"]] = counts.get(finding["rule"], 0) + 1
    load = min(loads)
    run = min(runs)
    return {
        **shape,
        "snapshot_mb": round(size / 2**20, 1),
        "load_s": round(load[0], 2),
        "load_cpu_s": round(min(x[1] for x in loads), 2),
        "load_peak_mb": round(load[2]),
        "exposure_s": round(run[0], 2),
        "exposure_cpu_s": round(min(x[1] for x in runs), 2),
        "exposure_peak_mb": round(run[2]),
        "over_load_s": round(run[0] - load[0], 2),
        "findings": counts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ivs-bench-fleet-") as tmp:
        row = bench(args.instances, Path(tmp), args.repeat)
    print(json.dumps(row, indent=2))
    if args.json:
        args.json.write_text(json.dumps(row, indent=2) + "\n")


if __name__ == "__main__":
    main()
