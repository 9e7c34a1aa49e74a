"""Benchmark ``ivs exposure`` on synthetic snapshots (``sandbox.synth``).

For each size (ENIs) it writes a synthetic organization snapshot, then measures in fresh
processes, each alone on the machine:

- ``load``: ``json.load`` of every file of the snapshot, one after the other (the floor
  any analysis of the same files pays);
- ``exposure``: the whole ``ivs exposure --format json`` command (read, graph,
  reachability, findings, write).

Wall time, CPU time (user + system: steadier than wall time on a shared machine) and
peak resident memory (``ru_maxrss`` of the child) are reported, with the ratios
exposure/load. The machine is shared, so each pair is run ``--repeat`` times,
interleaved, and the fastest run of each is kept. Targets (issue 3): 100k ENIs in
under 60 s and 4 GB on 2 cores, and analysis at most 5x the bare JSON load time.

    python -m bench.bench_exposure                 # 1k, 10k, 100k
    python -m bench.bench_exposure --sizes 1000 --json results.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sandbox.synth import write_synthetic_snapshot

LOAD = (
    "import json, pathlib, sys\n"
    "for p in sorted(pathlib.Path(sys.argv[1]).rglob('*.json')):\n"
    "    with open(p, 'rb') as f:\n"
    "        data = json.load(f)\n"
    "    del data\n"
)
EXPOSURE = "from ivs.cli import main; main()"


def measure(args: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise RuntimeError(f"{' '.join(args[:3])} failed ({proc.returncode}): {err[-2000:]}")
    if proc.stderr:
        proc.stderr.close()
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def bench_size(enis: int, workdir: Path, repeat: int = 3) -> dict[str, Any]:
    snap = workdir / f"snap-{enis}"
    if not (snap / "manifest.json").exists():
        shape = write_synthetic_snapshot(snap, enis)
    else:
        shape = {"enis": enis}
    size = sum(p.stat().st_size for p in snap.rglob("*.json"))
    out = workdir / f"findings-{enis}.json"
    exposure = [sys.executable, "-c", EXPOSURE, "exposure", "--snapshot", str(snap)]
    loads, runs = [], []
    for _ in range(repeat):
        loads.append(measure([sys.executable, "-c", LOAD, str(snap)]))
        runs.append(measure([*exposure, "--out", str(out)]))
    load_s, load_cpu, load_mb = min(loads)
    exp_s, exp_cpu, exp_mb = min(runs)
    load_cpu = min(x[1] for x in loads)
    exp_cpu = min(x[1] for x in runs)
    document = json.loads(out.read_text())
    return {
        "enis": shape["enis"],
        "snapshot_mb": round(size / 2**20, 1),
        "load_s": round(load_s, 2),
        "load_cpu_s": round(load_cpu, 2),
        "load_peak_mb": round(load_mb),
        "exposure_s": round(exp_s, 2),
        "exposure_cpu_s": round(exp_cpu, 2),
        "exposure_peak_mb": round(exp_mb),
        "ratio": round(exp_s / load_s, 2),
        "cpu_ratio": round(exp_cpu / load_cpu, 2),
        "findings": len(document["findings"]),
    }


def run(sizes: list[int], workdir: Path | None = None, repeat: int = 3) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="ivs-bench-") as tmp:
        root = workdir or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        return [bench_size(n, root, repeat) for n in sizes]


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| ENIs | snapshot | json.load wall / CPU | peak | ivs exposure wall / CPU | peak "
        "| ratio wall / CPU | findings |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['enis']:,} | {r['snapshot_mb']} MB | {r['load_s']} s / {r['load_cpu_s']} s "
            f"| {r['load_peak_mb']} MB | {r['exposure_s']} s / {r['exposure_cpu_s']} s "
            f"| {r['exposure_peak_mb']} MB | {r['ratio']}x / {r['cpu_ratio']}x "
            f"| {r['findings']:,} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--workdir", type=Path, help="Keep snapshots here (reused if present).")
    parser.add_argument("--json", type=Path, help="Also write the rows as JSON.")
    parser.add_argument("--repeat", type=int, default=3, help="Runs per measurement (best kept).")
    args = parser.parse_args()
    rows = run(args.sizes, args.workdir, args.repeat)
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
