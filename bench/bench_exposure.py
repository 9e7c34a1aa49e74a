"""Benchmark ``ivs exposure`` on synthetic snapshots (``sandbox.synth``).

For each size (ENIs) it writes a synthetic organization snapshot (or reuses the one in
``--workdir``), then measures in fresh processes:

- ``load``: ``json.load`` of every file of the snapshot, one after the other (the floor
  any analysis of the same files pays, with the standard library);
- ``fast load``: msgspec's decoder on every file (the floor with the parser the reader
  uses; ``core.jsonio``);
- ``exposure``: the whole ``ivs exposure --format json`` command (read, graph,
  reachability, findings, write);
- with ``--compare DIR``: the same command from another checkout (``DIR``, for example a
  worktree of main), alternating which of the two goes first in each round (ABBA), and
  whether both wrote the same findings (ids, in order).

Wall time, CPU time (user + system: steadier than wall time on a shared machine) and
peak resident memory (``ru_maxrss`` of the child) are reported, with the ratios
exposure/load. The machine is shared, so each measurement is run ``--repeat`` times,
interleaved, the best kept, and the load average before each round recorded. Targets:
100k ENIs in under 60 s and 4 GB on 2 cores (issue 3), a million in under 2 minutes and
8 GB (issue 12), the analysis at most 5x the bare JSON load.

    python -m bench.bench_exposure                 # 1k, 10k, 100k
    python -m bench.bench_exposure --sizes 250000 500000 1000000 --workdir /tmp/snaps
    python -m bench.bench_exposure --sizes 100000 --compare ../main --repeat 4
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
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
FAST_LOAD = (
    "import msgspec, pathlib, sys\n"
    "decode = msgspec.json.Decoder().decode\n"
    "for p in sorted(pathlib.Path(sys.argv[1]).rglob('*.json')):\n"
    "    data = decode(p.read_bytes())\n"
    "    del data\n"
)
EXPOSURE = "from ivs.cli import main; main()"

Measure = tuple[float, float, float]


def measure(args: list[str], cwd: Path | None = None) -> Measure:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MiB) of one child process.

    ``cwd``: where it runs; ``python -c`` imports the packages of that folder first, so a
    checkout given here runs its own code."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise RuntimeError(f"{' '.join(args[:3])} failed ({proc.returncode}): {err[-2000:]}")
    if proc.stderr:
        proc.stderr.close()
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def best(runs: list[Measure]) -> Measure:
    """The fastest wall, the least CPU and the least peak of several runs."""
    return min(r[0] for r in runs), min(r[1] for r in runs), min(r[2] for r in runs)


def snapshot_of(enis: int, workdir: Path) -> tuple[Path, float | None]:
    """The synthetic snapshot of ``enis`` ENIs in ``workdir``, and how long writing it took
    (None when it was there already)."""
    snap = workdir / f"snap-{enis}"
    if (snap / "manifest.json").exists():
        return snap, None
    start = time.perf_counter()
    write_synthetic_snapshot(snap, enis)
    return snap, time.perf_counter() - start


def finding_ids(path: Path) -> list[str]:
    return [f["id"] for f in json.loads(path.read_text())["findings"]]


def bench_size(
    enis: int, workdir: Path, repeat: int = 3, compare: Path | None = None
) -> dict[str, Any]:
    snap, written_s = snapshot_of(enis, workdir)
    size = sum(p.stat().st_size for p in snap.rglob("*.json"))
    out = workdir / f"findings-{enis}.json"
    other_out = workdir / f"findings-{enis}-compared.json"
    exposure = [sys.executable, "-c", EXPOSURE, "exposure", "--snapshot", str(snap)]
    here = Path(__file__).resolve().parent.parent
    loads: list[Measure] = []
    fast_loads: list[Measure] = []
    runs: list[Measure] = []
    compared: list[Measure] = []
    load_averages: list[float] = []
    for round_ in range(repeat):
        load_averages.append(os.getloadavg()[0])
        loads.append(measure([sys.executable, "-c", LOAD, str(snap)]))
        fast_loads.append(measure([sys.executable, "-c", FAST_LOAD, str(snap)]))
        ours = (runs, [*exposure, "--out", str(out)], here)
        theirs = (compared, [*exposure, "--out", str(other_out)], compare)
        for results, args, cwd in (ours, theirs) if round_ % 2 == 0 else (theirs, ours):
            if cwd is not None:
                results.append(measure(args, cwd))
    load_s, load_cpu, load_mb = best(loads)
    fast_s, fast_cpu, _ = best(fast_loads)
    exp_s, exp_cpu, exp_mb = best(runs)
    ids = finding_ids(out)
    row: dict[str, Any] = {
        "enis": enis,
        "snapshot_mb": round(size / 2**20, 1),
        "snapshot_written_s": round(written_s, 1) if written_s is not None else None,
        "load_s": round(load_s, 2),
        "load_cpu_s": round(load_cpu, 2),
        "load_peak_mb": round(load_mb),
        "fast_load_s": round(fast_s, 2),
        "fast_load_cpu_s": round(fast_cpu, 2),
        "exposure_s": round(exp_s, 2),
        "exposure_cpu_s": round(exp_cpu, 2),
        "exposure_peak_mb": round(exp_mb),
        "ratio": round(exp_s / load_s, 2),
        "cpu_ratio": round(exp_cpu / load_cpu, 2),
        "findings": len(ids),
        "load_average": [round(x, 2) for x in load_averages],
        "exposure_cpu_runs": [round(r[1], 2) for r in runs],
    }
    if compare is not None:
        other_s, other_cpu, other_mb = best(compared)
        row["compared"] = {
            "checkout": str(compare),
            "exposure_s": round(other_s, 2),
            "exposure_cpu_s": round(other_cpu, 2),
            "exposure_peak_mb": round(other_mb),
            "exposure_cpu_runs": [round(r[1], 2) for r in compared],
            "same_finding_ids": finding_ids(other_out) == ids,
        }
    return row


def run(
    sizes: list[int], workdir: Path | None = None, repeat: int = 3, compare: Path | None = None
) -> Iterator[dict[str, Any]]:
    """The row of each size, as soon as it is measured (a large size takes minutes)."""
    with tempfile.TemporaryDirectory(prefix="ivs-bench-") as tmp:
        root = workdir or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        for n in sizes:
            yield bench_size(n, root, repeat, compare)


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| ENIs | snapshot | json.load wall / CPU | msgspec load CPU | ivs exposure wall / CPU "
        "| peak | ratio wall / CPU | findings | load average |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['enis']:,} | {r['snapshot_mb']} MB | {r['load_s']} s / {r['load_cpu_s']} s "
            f"| {r['fast_load_cpu_s']} s | {r['exposure_s']} s / {r['exposure_cpu_s']} s "
            f"| {r['exposure_peak_mb']:,} MB | {r['ratio']}x / {r['cpu_ratio']}x "
            f"| {r['findings']:,} | {min(r['load_average'])}-{max(r['load_average'])} |"
        )
        other = r.get("compared")
        if other:
            same = "same ids" if other["same_finding_ids"] else "DIFFERENT ids"
            lines.append(
                f"| {r['enis']:,}, {other['checkout']} | | | "
                f"| {other['exposure_s']} s / {other['exposure_cpu_s']} s "
                f"| {other['exposure_peak_mb']:,} MB "
                f"| {other['exposure_s'] / r['load_s']:.2f}x "
                f"/ {other['exposure_cpu_s'] / r['load_cpu_s']:.2f}x | {same} | |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--workdir", type=Path, help="Keep snapshots here (reused if present).")
    parser.add_argument("--json", type=Path, help="Also write the rows as JSON.")
    parser.add_argument("--repeat", type=int, default=3, help="Runs per measurement (best kept).")
    parser.add_argument(
        "--compare", type=Path, help="Also run the command of this checkout, interleaved."
    )
    args = parser.parse_args()
    compare = args.compare.resolve() if args.compare else None
    rows = []
    for row in run(args.sizes, args.workdir, args.repeat, compare):
        rows.append(row)
        print(table([row]).split("\n", 2)[2], flush=True)  # the row, without the header
        if args.json:
            args.json.write_text(json.dumps(rows, indent=2) + "\n")
    print(table(rows))


if __name__ == "__main__":
    main()
