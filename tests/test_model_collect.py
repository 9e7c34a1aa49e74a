"""The collection-time model of BENCHMARKS.md (``bench/model_collect.py``): its limits
behave as the model says."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from bench.model_collect import Shape, check, wall_time


def test_more_workers_help_until_the_accounts_bound_binds() -> None:
    times = [wall_time(Shape(1000, 17, workers)) for workers in (1, 2, 8, 32, 128, 4096)]
    assert times == sorted(times, reverse=True)
    small = Shape(2, 17, 4096)  # two accounts: their bound, not the cluster, sets the pace
    floor = (17 * small.calls_per_region + small.calls_per_account) * 0.105 / 4
    assert abs(wall_time(small) - small.tasks * small.task_overhead - floor) < 1e-6


def test_a_cpu_bound_worker_runs_at_one_call_per_cpu_cost() -> None:
    shape = Shape(100, 4, 1, cpu=0.01, latency=0.0, task_overhead=0.0)
    assert abs(wall_time(shape) - shape.calls * 0.01) < 1e-6
    assert wall_time(replace(shape, threads=64)) == wall_time(shape)  # threads share a core


def test_check_reads_a_bench_run(tmp_path: Path) -> None:
    run = {"label": "local:2", "accounts": 10, "regions": 2, "calls": 1000, "wall_s": 10.0,
           "collector_cpu_s": 5.0, "workers": 2, "threads": 4, "scheduler": "local:2"}  # fmt: skip
    results = tmp_path / "r.json"
    results.write_text(json.dumps([run]))
    (row,) = check(results).splitlines()[2:]
    assert row.startswith("| local:2 | 1,000 | 5.0 ms | 75 ms | 10.0 s |")
