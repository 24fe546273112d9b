"""The rebuild's history file, its per-repo diff, and the repair of a half-swapped dataset."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from corpus.cli import app
from corpus.store import recover_dir, swap_dir
from pipelines.history import append_record, dataset_changes, read_history
from tests.records_factory import make_dataset_dir, make_record

runner = CliRunner()


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wide console, so table cells are not folded (the CLI's console is made at import)."""
    from corpus.commands._common import console

    monkeypatch.setattr(console, "width", 250)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
records_st = st.lists(st.dictionaries(st.text(max_size=10), json_values, max_size=5), max_size=8)


@settings(max_examples=40, deadline=None)
# The torn line never closes its string (no '"'), so it can never read as a whole record.
@given(records=records_st, torn=st.binary(max_size=30).filter(lambda b: not set(b) & set(b'"\n')))
def test_appended_records_read_back_in_order_even_after_a_torn_line(
    records: list[dict], torn: bytes
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.jsonl"
        half = len(records) // 2
        for rec in records[:half]:
            append_record(path, rec)
        # A crash in the middle of a write: part of a line, no newline.
        with open(path, "ab") as fh:
            fh.write(b'{"started_at": "torn' + torn)
        for rec in records[half:]:
            append_record(path, rec)
        assert read_history(path) == records
        if records[half:]:
            assert path.read_bytes().endswith(b"\n")
        for n in (0, 1, 3):
            assert read_history(path, n) == (records[-n:] if n else [])


def test_each_record_is_one_line_of_json_and_a_missing_file_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "h" / "history.jsonl"
    assert read_history(path) == []
    append_record(path, {"reason": "line one\nline two", "changes": {"a/b": {"added": 1}}})
    lines = path.read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["reason"] == "line one\nline two"
    path.write_text(path.read_text() + "[1, 2]\nnot json\n")  # not records: skipped
    assert read_history(path) == [
        {"reason": "line one\nline two", "changes": {"a/b": {"added": 1}}}
    ]


def _records(indices: set[int], commit: str, reworded: set[int]) -> list[dict]:
    recs = []
    for i in sorted(indices):
        repo = "acme/widgets" if i % 2 else "other/thing"
        doc = f"Adds {i} to `x`, reworded." if i in reworded else f"Adds {i} to `x`."
        recs.append(make_record(i, repo=repo, commit=commit, doc=doc))
    return recs


@settings(max_examples=25, deadline=None)
@given(
    old=st.sets(st.integers(0, 15), min_size=1, max_size=12),
    new=st.sets(st.integers(0, 15), min_size=1, max_size=12),
    reworded=st.sets(st.integers(0, 15), max_size=6),
)
def test_changes_count_added_removed_and_changed_per_repo(
    old: set[int], new: set[int], reworded: set[int]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        # Every pin moved (another commit), so every record id differs: the diff must not
        # count a function as changed only because its id or commit did.
        before = make_dataset_dir(Path(tmp) / "old", _records(old, "a" * 40, set()))
        after = make_dataset_dir(Path(tmp) / "new", _records(new, "c" * 40, reworded))
        got = dataset_changes(before, after)
        first = dataset_changes(None, after)
    expected: dict[str, dict[str, int]] = {}

    def bump(i: int, what: str) -> None:
        repo = "acme/widgets" if i % 2 else "other/thing"
        expected.setdefault(repo, {"added": 0, "removed": 0, "changed": 0})[what] += 1

    for i in new - old:
        bump(i, "added")
    for i in old - new:
        bump(i, "removed")
    for i in old & new & reworded:
        bump(i, "changed")
    assert got == dict(sorted(expected.items()))
    assert sum(c["added"] for c in first.values()) == len(new)


def _fill(marker: str):
    def fill(tmp: Path) -> None:
        (tmp / "data").mkdir()
        (tmp / "data" / "train-00000-of-00001.parquet").write_text(marker)

    return fill


def _content(dest: Path) -> str:
    return (dest / "data" / "train-00000-of-00001.parquet").read_text()


def test_swap_dir_replaces_whole_and_recover_repairs_a_kill_between_renames(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    dest = out / "dataset"
    swap_dir(dest, _fill("first"))
    assert _content(dest) == "first" and sorted(p.name for p in out.iterdir()) == ["dataset"]

    # Killed after moving the old folder aside, before the new one took its place.
    os.rename(dest, out / ".dataset.swap-old")
    (out / ".dataset.swap-new").mkdir()
    recover_dir(dest)
    assert _content(dest) == "first"
    assert sorted(p.name for p in out.iterdir()) == ["dataset"]

    # Killed after the new folder took its place, before the old one was deleted.
    swap_dir(dest, _fill("second"))
    (out / ".dataset.swap-old").mkdir()
    recover_dir(dest)
    assert _content(dest) == "second" and sorted(p.name for p in out.iterdir()) == ["dataset"]

    # A fill that fails leaves the old folder as it was, and no leftovers.
    def broken(tmp: Path) -> None:
        _fill("third")(tmp)
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        swap_dir(dest, broken)
    assert _content(dest) == "second" and sorted(p.name for p in out.iterdir()) == ["dataset"]


def test_history_table_shows_reasons_and_failures(tmp_path: Path, wide: None) -> None:
    out = tmp_path / "out"
    base = {"started_at": "2026-11-21T03:17:00Z", "duration_s": 1.5, "moved": ["a/b"]}
    append_record(out / "history.jsonl", {**base, "verdict": "PASS", "score": 100,
                                          "published": True, "tag": "v2026.11.21-abc",
                                          "changes": {"a/b": {"added": 2, "removed": 1,
                                                              "changed": 0}}, "exit_code": 0})  # fmt: skip
    append_record(out / "history.jsonl", {**base, "verdict": "FAIL", "score": 60,
                                          "published": False, "reason": "falsification FAIL",
                                          "exit_code": 1})  # fmt: skip
    res = runner.invoke(app, ["history", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "v2026.11.21-abc" in res.output and "+2 -1 ~0" in res.output
    assert "FAIL 60" in res.output and "falsification FAIL" in res.output
    res = runner.invoke(app, ["history", "--out", str(out), "--limit", "1", "--json"])
    assert [json.loads(x)["verdict"] for x in res.output.splitlines()] == ["FAIL"]


def test_history_fits_80_columns_and_keeps_every_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Regression: the per-repo changes folded each run over 20 lines at 80 columns.
    from corpus.commands._common import console

    monkeypatch.setattr(console, "width", 80)
    out = tmp_path / "out"
    repos = [f"owner{i}/repository-{i}" for i in range(7)]
    changes = {r: {"added": 1000 + i, "removed": 3, "changed": 12} for i, r in enumerate(repos)}
    for _ in range(3):
        append_record(out / "history.jsonl", {"started_at": "2026-11-21T03:17:00Z",
                                              "duration_s": 26.04, "moved": repos[:1],
                                              "verdict": "PASS", "score": 100,
                                              "published": True, "tag": "v2026.11.21-abc",
                                              "changes": changes, "exit_code": 0})  # fmt: skip
    res = runner.invoke(app, ["history", "--out", str(out)])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert all(len(line) <= 80 for line in lines)
    header = next(line for line in lines if line.startswith("started (UTC)"))
    assert header.rstrip().endswith("exit") and "published" in header  # no header cut
    runs = [line for line in lines if line.startswith("2026-11-21 03:17")]
    assert len(runs) == 3 and all("+7021 -21 ~84" in r and r.rstrip().endswith(" 0") for r in runs)
    assert len(lines) <= 5 + 3 * 2 + 12  # a run takes at most two lines
    assert sum(f"owner{i}/repository-{i}" in line for line in lines for i in range(7)) == 7


def test_write_sources_merges_pins_into_the_file_as_it_is_now() -> None:
    # Regression: --write-sources wrote back the list read at the start of the run, losing an
    # entry added (or a licence fixed) while the run was building.
    from corpus.sources import Source
    from pipelines.rebuild import merge_built_pins

    old, new = "a" * 40, "b" * 40
    built = [Source("o/x", "https://github.com/o/x.git", new, "MIT", "master")]
    current = [
        Source("o/x", "https://github.com/o/x.git", old, "MIT OR Apache-2.0", "master"),
        Source("o/added", "https://github.com/o/added.git", "c" * 40, "MIT", "master"),
    ]
    merged = merge_built_pins(current, built)
    assert merged[0].commit == new and merged[0].license == "MIT OR Apache-2.0"
    assert merged[1] == current[1]
    # a branch changed meanwhile: the pin built for the old branch does not belong there
    moved = [Source("o/x", "https://github.com/o/x.git", old, "MIT", "main")]
    assert merge_built_pins(moved, built) == moved


def test_history_of_a_folder_that_does_not_exist_is_bad_input(tmp_path: Path) -> None:
    res = runner.invoke(app, ["history", "--out", str(tmp_path / "typo")])
    assert res.exit_code == 2 and "no such output folder" in res.output
    (tmp_path / "empty").mkdir()
    res = runner.invoke(app, ["history", "--out", str(tmp_path / "empty")])
    assert res.exit_code == 0 and "no history yet" in res.output
