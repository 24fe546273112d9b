"""Wall time of the build's extraction units on the local executor vs a local Ray cluster.

Reads existing checkouts (one per source, ``<checkouts>/<name>``, at their pins) so no network
is involved, runs one unit per repository on each executor into a fresh output dir, checks the
shards are byte-identical, and prints the times and Ray's overhead.

    python benchmarks/executors_local_vs_ray.py --checkouts /work/src --workers 2

Ray's time is measured twice: including ``ray.init`` (a cold cluster, what a one-off run pays)
and excluding it (an already running cluster, ``--address auto``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from corpus.sources import load_sources
from pipelines.build import extraction_units, shard_paths
from pipelines.executors import Unit, run_units
from pipelines.executors.local import LocalExecutor


def _units(sources: list, checkouts: Path, out: Path) -> list[Unit]:
    units = extraction_units(sources, out, out / "unused-cache")
    return [
        replace(u, payload=replace(u.payload, checkout=str(checkouts / u.payload.source.name)))
        for u in units
    ]


def _shards(sources: list, out: Path) -> dict[str, bytes]:
    return {s.repo: shard_paths(out, s)["parquet"].read_bytes() for s in sources}


def main() -> None:
    """Run the comparison and print a JSON summary."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkouts", type=Path, default=Path("/work/src"))
    ap.add_argument("--sources", type=Path, default=None, help="sources.toml (default: packaged)")
    ap.add_argument("--workers", type=int, default=2, help="local processes = Ray CPUs")
    args = ap.parse_args()

    from pipelines.build import clone_and_extract

    sources = load_sources(args.sources)
    for s in sources:
        head = subprocess.run(
            ["git", "-C", str(args.checkouts / s.name), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        # A plain export (no .git) is trusted to be at the pin; a git checkout is checked.
        if head and head != s.commit:
            raise SystemExit(f"{args.checkouts / s.name} is at {head or '?'}, not {s.commit}")

    with tempfile.TemporaryDirectory() as tmp:
        tmpd = Path(tmp)
        t = time.perf_counter()
        local = run_units(
            LocalExecutor(args.workers),
            clone_and_extract,
            _units(sources, args.checkouts, tmpd / "l"),
        )
        local_s = time.perf_counter() - t

        import ray

        from pipelines.executors.ray import RayExecutor

        t0 = time.perf_counter()
        ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
        init_s = time.perf_counter() - t0
        t = time.perf_counter()
        remote = run_units(
            RayExecutor(), clone_and_extract, _units(sources, args.checkouts, tmpd / "r")
        )
        ray_s = time.perf_counter() - t
        ray.shutdown()
        identical = _shards(sources, tmpd / "l") == _shards(sources, tmpd / "r")

    result = {
        "repos": len(sources),
        "workers": args.workers,
        "local_s": round(local_s, 2),
        "ray_s_warm_cluster": round(ray_s, 2),
        "ray_init_s": round(init_s, 2),
        "ray_s_cold": round(ray_s + init_s, 2),
        "overhead_warm_pct": round(100 * (ray_s / local_s - 1), 1),
        "overhead_cold_pct": round(100 * ((ray_s + init_s) / local_s - 1), 1),
        "identical_shards": identical,
        "slowest_unit_local": max(local.unit_seconds.items(), key=lambda kv: kv[1]),
        "unit_seconds_local": local.unit_seconds,
        "unit_seconds_ray": remote.unit_seconds,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
