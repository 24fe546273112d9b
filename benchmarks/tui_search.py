"""Search keystroke latency of `corpus tui` on a 20,000+ row corpus.

Usage: python benchmarks/tui_search.py [DATASET]
Without DATASET it builds 21,000 synthetic records first. Headless app, 160x48 terminal. For
each keystroke: from the key press until the table paints its first line of the new rows
(the filter runs in a worker thread; its result comes back as a message). Pilot's own settling
waits after each key are not counted. Also the bare filter time (polars only).
Target: < 50 ms a keystroke.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _tui_data import dataset_from_args  # noqa: E402

QUERIES = ("func_1234", "adds", "src/mod_3")  # typed key by key, cleared between
REGEX = r"^func_1.*2$"  # every prefix is a valid regex, so every key repaints rows


async def _measure(dataset: Path) -> tuple[list[float], list[float], int]:
    from tui.app import CorpusApp
    from tui.widgets.record_table import RecordTable

    # Timestamps only: wrap the table's set_frame / render_line to note when new rows paint.
    state = {"pending": False, "painted": 0.0}
    set_frame, render_line = RecordTable.set_frame, RecordTable.render_line

    def timed_set_frame(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        state["pending"] = True
        return set_frame(self, *args, **kwargs)

    def timed_render_line(self, y):  # type: ignore[no-untyped-def]
        if state["pending"]:
            state["pending"] = False
            state["painted"] = time.perf_counter()
        return render_line(self, y)

    RecordTable.set_frame = timed_set_frame  # type: ignore[method-assign]
    RecordTable.render_line = timed_render_line  # type: ignore[method-assign]

    app = CorpusApp(dataset, cursor_blink=False)
    lat: list[float] = []
    regex_lat: list[float] = []
    async with app.run_test(size=(160, 48)) as pilot:
        table = app.records_screen.query_one(RecordTable)
        while table.row_count == 0:
            await asyncio.sleep(0.005)
        total = table.row_count
        await pilot.press("slash")

        async def key(k: str, into: list[float]) -> None:
            state["painted"] = 0.0
            t = time.perf_counter()
            await pilot.press(k)
            await app.workers.wait_for_complete()
            await pilot.pause()  # the Filtered message handled and the table repainted
            if not state["painted"]:
                raise RuntimeError(f"key {k!r}: the table never repainted")
            into.append(state["painted"] - t)

        for q in QUERIES:
            for ch in q:
                await key(ch, lat)
            for _ in q:
                await key("backspace", lat)
        await pilot.press("ctrl+r")
        for ch in REGEX:
            await key(ch, regex_lat)
    return lat, regex_lat, total


def _bare_filter(dataset: Path) -> list[float]:
    from tui.data import load_corpus
    from tui.filters import Filters, apply_filters

    frame = load_corpus(dataset).frame
    out = []
    for q in QUERIES:
        for i in range(1, len(q) + 1):
            t = time.perf_counter()
            apply_filters(frame, Filters(search=q[:i]))
            out.append(time.perf_counter() - t)
    return out


def _fmt(vals: list[float]) -> str:
    ms = sorted(v * 1000 for v in vals)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return (
        f"n={len(ms):3d}  median {statistics.median(ms):6.1f} ms  p95 {p95:6.1f} ms  "
        f"max {ms[-1]:6.1f} ms"
    )


def main() -> None:
    dataset, described = dataset_from_args(sys.argv)
    lat, regex_lat, total = asyncio.run(_measure(dataset))
    bare = _bare_filter(dataset)
    print(f"dataset: {described}")
    print(f"rows: {total:,}")
    print(f"keystroke -> repainted (plain)  {_fmt(lat)}")
    print(f"keystroke -> repainted (regex)  {_fmt(regex_lat)}")
    print(f"filter only (polars)            {_fmt(bare)}")
    worst = max(lat + regex_lat)
    print(f"target: every keystroke < 50 ms -> {'OK' if worst < 0.05 else 'MISSED'}")


if __name__ == "__main__":
    main()
