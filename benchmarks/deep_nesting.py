"""Extraction time against nesting depth: linear now (quadratic before extractor 1.2.0).

For each depth N, a file of N nested ``mod m {`` around one documented fn is extracted
in-process (``extract_file_bytes``, best of --repeat) and as a whole ``corpus extract``
process on a folder holding that file (what a user runs). The ratio column is the time at
N over the time at N/2: ~2 for linear work, ~4 for quadratic.

    python benchmarks/deep_nesting.py [--depths 2500,5000,10000,20000] [--repeat 3]
        [--baseline-root /path/to/an/older/checkout]   # the same figures for older code

``--baseline-root`` runs the in-process measurement with another checkout's ``corpus``
package first on ``sys.path`` (the same Python environment), for before/after figures.
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

ROOT = Path(__file__).resolve().parent.parent

_IN_PROCESS = """
import json, sys, time
from corpus.extract import context_for, extract_file_bytes
depth, repeat = int(sys.argv[1]), int(sys.argv[2])
data = ("mod m {\\n" * depth + "/// Deep.\\npub fn deep() {}\\n" + "}\\n" * depth).encode()
ctx = context_for(None, "src/lib.rs", repo="o/r", commit="c" * 40, license="MIT")
best = float("inf")
for _ in range(repeat):
    t = time.perf_counter()
    res = extract_file_bytes(data, "src/lib.rs", ctx)
    best = min(best, time.perf_counter() - t)
print(json.dumps({"seconds": best, "records": len(res.records), "bytes": len(data)}))
"""


def in_process(depth: int, repeat: int, root: Path) -> dict:
    """Best-of-``repeat`` in-process extraction at ``depth``, with ``root``'s code."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, "-c", _IN_PROCESS, str(depth), str(repeat)],
                         env=env, capture_output=True, text=True, check=True, cwd=root)  # fmt: skip
    return json.loads(out.stdout)


def whole_process(depth: int) -> float:
    """Seconds of ``corpus extract DIR --out OUT -j 1`` on a folder holding the file."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "tree" / "src"
        src.mkdir(parents=True)
        (src / "lib.rs").write_text("mod m {\n" * depth + "pub fn deep() {}\n" + "}\n" * depth)
        out = str(Path(tmp) / "out")
        cmd = [sys.executable, "-m", "corpus.cli", "extract", str(src.parent), "--out", out,
               "--repo", "o/r", "--commit", "c" * 40, "-j", "1"]  # fmt: skip
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
        return time.perf_counter() - t


def main() -> None:
    """Print the table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--depths", default="2500,5000,10000,20000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--baseline-root", type=Path, default=None)
    args = ap.parse_args()
    depths = [int(d) for d in args.depths.split(",")]
    head = "| depth | file KB | in-process s | ratio | `corpus extract` s |"
    if args.baseline_root:
        head += " baseline in-process s | baseline ratio |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    prev: dict[str, float] = {}
    for d in depths:
        now = in_process(d, args.repeat, ROOT)
        row = [f"{d:,}", f"{now['bytes'] / 1024:.0f}", f"{now['seconds']:.3f}",
               f"{now['seconds'] / prev['now']:.1f}" if "now" in prev else "-",
               f"{whole_process(d):.2f}"]  # fmt: skip
        prev["now"] = now["seconds"]
        if args.baseline_root:
            old = in_process(d, 1, args.baseline_root)
            row += [f"{old['seconds']:.2f}",
                    f"{old['seconds'] / prev['old']:.1f}" if "old" in prev else "-"]  # fmt: skip
            prev["old"] = old["seconds"]
        print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
