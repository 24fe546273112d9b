"""Wall time of `corpus build` on the seven pinned repos: a cold build, then a no-op rebuild.

Clones come from local bare mirrors (``<mirrors>/<owner>+<name>/repo``) through
``url.<base>.insteadOf`` rules in a temporary global git config, so no network is used:

    python benchmarks/build_seven_repos.py --mirrors /work/.mirror --workers 2

Prints per-stage seconds (from build_report.json) for both runs and the record counts.
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


def _gitconfig(mirrors: Path, dest: Path) -> None:
    from corpus.sources import load_sources

    lines = []
    for s in load_sources():
        repo = mirrors / f"{s.owner}+{s.name}" / "repo"
        lines.append(f'[url "file://{repo}"]\n\tinsteadOf = {s.url}\n')
    dest.write_text("".join(lines))


def main() -> None:
    """Run both builds and print a JSON summary."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--executor", default="local")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmpd = Path(tmp)
        _gitconfig(args.mirrors, tmpd / "gitconfig")
        env = {**os.environ, "GIT_CONFIG_GLOBAL": str(tmpd / "gitconfig")}
        cmd = [
            sys.executable, "-c", "from corpus.cli import main; main()", "build",
            "--out", str(tmpd / "out"), "--cache-dir", str(tmpd / "cache"),
            "-j", str(args.workers), "--executor", args.executor,
        ]  # fmt: skip
        runs = {}
        for name in ("cold", "noop"):
            t = time.perf_counter()
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
            wall = time.perf_counter() - t
            report = json.loads((tmpd / "out" / "build_report.json").read_text())
            runs[name] = {
                "exit_code": proc.returncode,
                "wall_s": round(wall, 2),
                "stages_s": report["timings"],
                "units_ran": len(report["stages"]["clone_extract"]["ran"]),
            }
        key = report["stages"]["filter_split"]["key"]
        stats = json.loads((tmpd / "out" / "builds" / key / "dataset" / "stats.json").read_text())
    print(
        json.dumps({"runs": runs, "totals": stats["totals"], "filters": stats["filters"]}, indent=2)
    )


if __name__ == "__main__":
    main()
