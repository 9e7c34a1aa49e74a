"""``ivs demo --out DIR`` wall time, as ``make demo`` runs it (target: under 2 minutes).

Each run is the console script next to this interpreter in a subprocess, in a fresh
temporary directory, in its own session. Measured per run: wall time, the child's CPU
time (user + system) and peak RSS (from ``wait4``), the step times the demo prints in its
summary, and the load average when the run started (other work on the machine makes
the numbers upper bounds). A run fails the bench if it does not exit 0, takes longer
than the target, or leaves a process of its session alive.

    .venv/bin/python -m bench.bench_demo                 # one run, a table
    .venv/bin/python -m bench.bench_demo --runs 3 --json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 120.0
_STEP = re.compile(r"^(?P<title>.+): (?P<seconds>\d+\.\d) s$", re.MULTILINE)


def survivors(session_id: int) -> list[str]:
    """Processes still alive in ``session_id`` (from ``/proc``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session_id:
            found.append(entry.name)
    return found


def run_once() -> dict[str, Any]:
    ivs = Path(sys.executable).with_name("ivs")
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="ivs-demo-bench-") as tmp:
        out, logs = Path(tmp) / "demo-out", Path(tmp) / "logs"
        logs.mkdir()
        with open(logs / "stdout", "w") as stdout_file, open(logs / "stderr", "w") as stderr_file:
            started = time.perf_counter()
            proc = subprocess.Popen(
                [str(ivs), "demo", "--out", str(out)],
                cwd=tmp,
                stdout=stdout_file,
                stderr=stderr_file,
                start_new_session=True,
            )
            _, status, usage = os.wait4(proc.pid, 0)  # the child's own CPU time and RSS
            wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        left = survivors(proc.pid)
        stdout = (logs / "stdout").read_text()
        stderr = (logs / "stderr").read_text()
        files = sum(1 for p in out.rglob("*") if p.is_file())
    steps = {m["title"]: float(m["seconds"]) for m in _STEP.finditer(stdout.split("Summary")[-1])}
    return {
        "exit_code": proc.returncode,
        "wall_s": round(wall, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "load_at_start": round(load, 2),
        "files": files,
        "left_running": left,
        "steps_s": steps,
        "stderr_tail": stderr[-2000:] if proc.returncode else "",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    runs = [run_once() for _ in range(max(1, args.runs))]
    ok = all(
        r["exit_code"] == 0 and r["wall_s"] < TARGET_SECONDS and not r["left_running"] for r in runs
    )
    report = {
        "cores": os.cpu_count(),
        "target_s": TARGET_SECONDS,
        "wall_s": [r["wall_s"] for r in runs],
        "ok": ok,
        "runs": runs,
    }
    if args.json:
        print(json.dumps(report))
        return 0 if ok else 1
    print(f"ivs demo: {len(runs)} run(s) on {report['cores']} cores, target {TARGET_SECONDS:.0f} s")
    for number, r in enumerate(runs, start=1):
        print(
            f"run {number}: exit {r['exit_code']}, wall {r['wall_s']} s, CPU {r['cpu_s']} s, "
            f"peak RSS {r['peak_rss_mb']} MB, load {r['load_at_start']}, {r['files']} files, "
            f"left running: {r['left_running'] or 'nothing'}"
        )
        for title, seconds in r["steps_s"].items():
            print(f"    {title:<50} {seconds:5.1f} s")
        if r["stderr_tail"]:
            print(r["stderr_tail"])
    print("ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
