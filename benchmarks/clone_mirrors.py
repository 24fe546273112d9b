"""Time `corpus clone` of the seven sources from local bare mirrors (first run, then no-op run).

Each mirror lives at ``<mirror-root>/<owner>+<name>/repo``; a temporary global git config maps
``https://github.com/<owner>/<name>.git`` onto it with ``url.<mirror>.insteadOf`` (one entry
per repo, because the mirror layout is not a simple prefix rewrite), so the sources.toml URLs
stay the GitHub ones. Clones go into a fresh temporary cache that is deleted afterwards.

    .venv/bin/python benchmarks/clone_mirrors.py [--mirror-root /work/.mirror] [--json OUT]

Each run is the real `corpus clone` command in a subprocess, so the times include CLI start-up.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from corpus.sources import load_sources  # noqa: E402


def write_mirror_config(config: Path, mirror_root: Path) -> None:
    """A git config file with one insteadOf rule per source, onto its local mirror."""
    for src in load_sources():
        mirror = mirror_root / f"{src.owner}+{src.name}" / "repo"
        if not mirror.is_dir():
            raise SystemExit(f"no mirror for {src.repo} at {mirror}")
        subprocess.run(
            ["git", "config", "--file", str(config), "--add", f"url.{mirror}.insteadOf", src.url],
            check=True,
        )


def timed_clone(cache: Path, env: dict[str, str]) -> tuple[float, str]:
    """Run `corpus clone` once; return (wall seconds, its output)."""
    cmd = [sys.executable, "-c", "from corpus.cli import main; main()", "clone"]
    start = time.perf_counter()
    proc = subprocess.run(
        [*cmd, "--cache-dir", str(cache)],
        env={**env, "COLUMNS": "100"},
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"corpus clone failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return elapsed, proc.stdout


def main() -> None:
    """Parse arguments, run the two clones, print (and optionally save) the timings."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mirror-root", type=Path, default=Path("/work/.mirror"))
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="clone-bench-") as tmp:
        config = Path(tmp) / "gitconfig"
        write_mirror_config(config, args.mirror_root.resolve())
        env = {**os.environ, "GIT_CONFIG_GLOBAL": str(config), "GIT_CONFIG_NOSYSTEM": "1"}
        cache = Path(tmp) / "cache"
        first, out1 = timed_clone(cache, env)
        second, out2 = timed_clone(cache, env)
        size = sum(f.stat().st_size for f in cache.rglob("*") if f.is_file() and not f.is_symlink())

    print(out1)
    print(out2)
    figures = {
        "repos": len(load_sources()),
        "first_run_s": round(first, 2),
        "second_run_s": round(second, 2),
        "cache_bytes": size,
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
