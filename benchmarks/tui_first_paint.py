"""First paint of `corpus tui` on a 20,000+ row corpus: import, first frame, rows on screen.

Usage: python benchmarks/tui_first_paint.py [DATASET] [--runs N]
Without DATASET it builds 21,000 synthetic records first. Each run is a fresh interpreter
(the clock starts before Textual and polars are imported); headless, 160x48 terminal.
Target: rows painted within 1 s.
"""

from __future__ import annotations

import time

_T0 = time.perf_counter()

import asyncio  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


async def _child(dataset: Path) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from tui.app import CorpusApp
    from tui.widgets.record_table import RecordTable

    imported = time.perf_counter() - _T0
    app = CorpusApp(dataset, cursor_blink=False)
    async with app.run_test(size=(160, 48)) as pilot:
        first_frame = time.perf_counter() - _T0  # screen composed and mounted, "loading…"
        table = app.records_screen.query_one(RecordTable)
        while table.row_count == 0:
            await asyncio.sleep(0.002)
        await pilot.pause()  # let the rows render
        painted = time.perf_counter() - _T0
        rows = table.row_count
    return {
        "import_s": imported,
        "first_frame_s": first_frame,
        "rows_painted_s": painted,
        "rows": rows,
    }


def main() -> None:
    args = [a for a in sys.argv if not a.startswith("--")]
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 5
    if "--child" in sys.argv:
        print(json.dumps(asyncio.run(_child(Path(args[1])))))
        return
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from _tui_data import dataset_from_args

    dataset, described = dataset_from_args([a for a in args if a != str(runs)])
    results = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, __file__, str(dataset), "--child"],
            check=True,
            capture_output=True,
            text=True,
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"dataset: {described}")
    print(f"rows: {results[0]['rows']:,}; runs: {runs} (fresh interpreter each)")
    for key, label in (
        ("import_s", "import textual+polars+tui"),
        ("first_frame_s", "first frame (loading…)"),
        ("rows_painted_s", "rows painted"),
    ):
        vals = [r[key] for r in results]
        print(
            f"{label:28s} median {statistics.median(vals) * 1000:7.1f} ms   "
            f"max {max(vals) * 1000:7.1f} ms"
        )
    worst = max(r["rows_painted_s"] for r in results)
    print(f"target: rows painted < 1000 ms -> {'OK' if worst < 1.0 else 'MISSED'}")


if __name__ == "__main__":
    main()
