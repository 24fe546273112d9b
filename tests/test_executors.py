"""The executor interface with the local executor: markers, resume, failures, identical output."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from corpus.errors import BadInputError, CorpusError
from corpus.sources import load_sources
from pipelines.build import clone_and_extract, extraction_units, shard_paths
from pipelines.executors import Unit, UnitFailed, get_executor, run_units
from pipelines.executors.local import LocalExecutor
from tests.build_fixtures import fail_once_unit, make_fixture, square_unit


def _units(tmp: Path, ns: range, tag: str = "v1") -> list[Unit]:
    return [
        Unit(
            f"u{n}",
            (str(tmp / "out" / f"{n}.txt"), n),
            tmp / "out" / f"{n}.done",
            {"tag": tag},
            (tmp / "out" / f"{n}.txt",),
        )
        for n in ns
    ]


def _runs(tmp: Path) -> list[int]:
    log = tmp / "out" / "runs.log"
    return sorted(int(x) for x in log.read_text().split()) if log.exists() else []


@pytest.mark.parametrize("workers", [1, 2])
def test_units_run_once_and_rerun_skips_them(tmp_path: Path, workers: int) -> None:
    units = _units(tmp_path, range(4))
    first = run_units(LocalExecutor(workers), square_unit, units)
    assert sorted(first.ran) == ["u0", "u1", "u2", "u3"] and first.skipped == []
    assert first.results["u3"] == 9
    for u in units:
        marker = json.loads(u.marker.read_text())
        assert marker["inputs"] == {"tag": "v1"} and list(marker["files"]) == [f"{u.key[1:]}.txt"]
    second = run_units(LocalExecutor(workers), square_unit, units)
    assert second.ran == [] and sorted(second.skipped) == ["u0", "u1", "u2", "u3"]
    assert _runs(tmp_path) == [0, 1, 2, 3]


def test_changed_inputs_make_a_unit_run_again(tmp_path: Path) -> None:
    run_units(LocalExecutor(1), square_unit, _units(tmp_path, range(2)))
    again = run_units(LocalExecutor(1), square_unit, _units(tmp_path, range(2), tag="v2"))
    assert sorted(again.ran) == ["u0", "u1"]
    assert again.redone == {"u0": "its inputs changed", "u1": "its inputs changed"}


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (lambda p: p.write_text("1"), "0.txt has 1 bytes, the marker recorded 3"),  # truncated
        (lambda p: p.write_text("999"), "0.txt does not match the sha256"),  # same size
        (lambda p: p.unlink(), "0.txt is missing"),
    ],
)
def test_a_damaged_output_redoes_its_unit_and_says_why(tmp_path: Path, damage, why) -> None:
    # Regression: a truncated shard whose marker survived was reused by the next build.
    units = [Unit("u0", (str(tmp_path / "out" / "0.txt"), 10), tmp_path / "out" / "0.done",
                  {"tag": "v1"}, (tmp_path / "out" / "0.txt",))]  # fmt: skip
    run_units(LocalExecutor(1), square_unit, units)
    damage(tmp_path / "out" / "0.txt")
    again = run_units(LocalExecutor(1), square_unit, units)
    assert again.ran == ["u0"] and why in again.redone["u0"]
    assert (tmp_path / "out" / "0.txt").read_text() == "100"
    assert run_units(LocalExecutor(1), square_unit, units).ran == []


@pytest.mark.parametrize("workers", [1, 2])
def test_failed_unit_does_not_stop_others_and_rerun_does_only_it(
    tmp_path: Path, workers: int
) -> None:
    flag = tmp_path / "flag"
    units = [
        Unit(
            f"u{n}",
            (str(flag) if n == 2 else str(tmp_path / "never"), str(tmp_path / "out" / f"{n}"), n),
            tmp_path / "m" / f"{n}.done",
            {"x": 1},
        )
        for n in range(4)
    ]
    (tmp_path / "never").write_text("exists, so these never fail")
    with pytest.raises(UnitFailed, match=r"u2: RuntimeError: unit 2 interrupted") as exc:
        run_units(LocalExecutor(workers), fail_once_unit, units)
    assert list(exc.value.failures) == ["u2"]
    assert [u.marker.exists() for u in units] == [True, True, False, True]
    resumed = run_units(LocalExecutor(workers), fail_once_unit, units)
    assert resumed.ran == ["u2"]
    assert sorted(resumed.skipped) == ["u0", "u1", "u3"]


def test_duplicate_keys_and_bad_options_are_user_errors(tmp_path: Path) -> None:
    units = _units(tmp_path, range(2))
    with pytest.raises(CorpusError, match="duplicate unit keys"):
        run_units(LocalExecutor(1), square_unit, [units[0], units[0]])
    with pytest.raises(BadInputError, match="unknown executor 'dask'"):
        get_executor("dask")
    with pytest.raises(BadInputError, match="--address is for --executor ray"):
        get_executor("local", address="auto")
    with pytest.raises(BadInputError, match="--workers"):
        LocalExecutor(-1)


def test_extraction_units_pool_and_in_process_give_identical_shards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fx = make_fixture(tmp_path / "fx")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(fx.gitconfig))
    sources = load_sources(fx.sources_file)
    outs = {}
    for workers in (1, 2):
        out = tmp_path / f"out{workers}"
        units = extraction_units(sources, out, tmp_path / f"cache{workers}")
        summary = run_units(LocalExecutor(workers), clone_and_extract, units)
        assert sorted(summary.ran) == ["acme/alpha", "acme/beta"]
        outs[workers] = {
            s.repo: shard_paths(out, s).parquet.read_bytes()
            + b"|"
            + shard_paths(out, s).stats.read_bytes()
            for s in sources
        }
    assert outs[1] == outs[2]
    assert os.path.getsize(shard_paths(tmp_path / "out1", sources[0]).parquet) > 0


def test_ray_executor_without_ray_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # what Python does when ray is not installed
    with pytest.raises(CorpusError, match=r"pip install .*\[ray\]'"):
        get_executor("ray", address="auto")


def test_on_done_reports_every_unit_once(tmp_path) -> None:
    # Progress displays count on it: each unit reported exactly once, failures included.
    import pytest

    from pipelines.executors.base import Unit, UnitFailed, run_units
    from pipelines.executors.local import LocalExecutor

    units = [Unit(f"u{i}", i, tmp_path / f"u{i}.done", {"x": 1}) for i in range(5)]
    for workers in (1, 2):
        for u in units:
            u.marker.unlink(missing_ok=True)
        seen: list[str] = []
        with LocalExecutor(workers=workers) as ex:
            run_units(ex, _echo, units, seen.append)
        assert sorted(seen) == [u.key for u in units]
    seen = []
    bad = [Unit("bad", -1, tmp_path / "bad.done", {"x": 1})]
    with LocalExecutor(workers=1) as ex, pytest.raises(UnitFailed):
        run_units(ex, _echo, bad, seen.append)
    assert seen == ["bad"]


def _echo(payload: int) -> int:
    if payload < 0:
        raise ValueError("negative")
    return payload
