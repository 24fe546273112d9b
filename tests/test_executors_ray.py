"""The Ray executor on a real local Ray cluster (one per module): same bytes as local, survives a
killed worker, resumes only unfinished units."""

from __future__ import annotations

from pathlib import Path

import pytest
import ray  # the ray extra is part of the test install: missing it must fail, not skip

from corpus.sources import load_sources
from pipelines.build import clone_and_extract, extraction_units, shard_paths
from pipelines.executors import Unit, UnitFailed, run_units
from pipelines.executors.local import LocalExecutor
from pipelines.executors.ray import RayExecutor
from tests.build_fixtures import Fixture, die_once_then_extract, fail_once_unit, make_fixture

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def fixture(tmp_path_factory: pytest.TempPathFactory) -> Fixture:
    return make_fixture(tmp_path_factory.mktemp("rayfx"), big_files=20)


@pytest.fixture(scope="module")
def cluster(fixture: Fixture):
    # A throwaway local cluster: no token written to ~/.ray for it.
    mp = pytest.MonkeyPatch()
    mp.setenv("RAY_AUTH_MODE", "disabled")
    # Workers import tests.build_fixtures and fetch through the fixture's insteadOf rule.
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        log_to_driver=False,
        runtime_env={
            "env_vars": {
                "PYTHONPATH": str(ROOT),
                "GIT_CONFIG_GLOBAL": str(fixture.gitconfig),
                "GIT_CONFIG_NOSYSTEM": "1",
            }
        },
    )
    yield
    ray.shutdown()
    mp.undo()


def _shard_bytes(out: Path, fixture: Fixture) -> dict[str, bytes]:
    got = {}
    for s in fixture.sources:
        p = shard_paths(out, s)
        got[s.repo] = p.parquet.read_bytes() + b"|" + p.stats.read_bytes()
    return got


@pytest.fixture(scope="module")
def local_shards(fixture: Fixture, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    mp = pytest.MonkeyPatch()
    mp.setenv("GIT_CONFIG_GLOBAL", str(fixture.gitconfig))
    try:
        tmp = tmp_path_factory.mktemp("local")
        units = extraction_units(load_sources(fixture.sources_file), tmp / "out", tmp / "cache")
        run_units(LocalExecutor(1), clone_and_extract, units)
    finally:
        mp.undo()
    return _shard_bytes(tmp / "out", fixture)


def test_ray_extraction_is_byte_identical_to_local(
    cluster: None, fixture: Fixture, local_shards: dict[str, bytes], tmp_path: Path
) -> None:
    units = extraction_units(load_sources(fixture.sources_file), tmp_path / "out", tmp_path / "c")
    summary = run_units(RayExecutor(), clone_and_extract, units)
    assert sorted(summary.ran) == ["acme/alpha", "acme/beta", "acme/gamma"]
    assert summary.results["acme/gamma"]["records"] == 20 * 6 + 6  # gamma's modules + src/lib.rs
    assert _shard_bytes(tmp_path / "out", fixture) == local_shards
    again = run_units(RayExecutor(), clone_and_extract, units)
    assert again.ran == [] and len(again.skipped) == 3


def test_killed_worker_is_retried_and_output_is_identical(
    cluster: None, fixture: Fixture, local_shards: dict[str, bytes], tmp_path: Path
) -> None:
    flags = tmp_path / "flags"
    flags.mkdir()
    units = [
        Unit(u.key, (str(flags), u.payload), u.marker, u.inputs, u.outputs)
        for u in extraction_units(
            load_sources(fixture.sources_file), tmp_path / "out", tmp_path / "c"
        )
    ]
    summary = run_units(RayExecutor(max_retries=2), die_once_then_extract, units)
    # Every unit's first worker was SIGKILLed; Ray's retry finished it.
    assert sorted(p.name for p in flags.iterdir()) == ["alpha.died", "beta.died", "gamma.died"]
    assert sorted(summary.ran) == ["acme/alpha", "acme/beta", "acme/gamma"]
    assert _shard_bytes(tmp_path / "out", fixture) == local_shards


def test_worker_killed_without_retries_fails_clearly(
    cluster: None, fixture: Fixture, tmp_path: Path
) -> None:
    (tmp_path / "flags").mkdir()
    unit = extraction_units(
        load_sources(fixture.sources_file)[:1], tmp_path / "out", tmp_path / "c"
    )[0]
    unit = Unit(
        unit.key, (str(tmp_path / "flags"), unit.payload), unit.marker, unit.inputs, unit.outputs
    )
    with pytest.raises(UnitFailed, match=r"acme/alpha: .*(Worker|died|crash)"):
        run_units(RayExecutor(max_retries=0), die_once_then_extract, [unit])
    assert not unit.marker.exists()
    # The rerun after the crash does that unit only, and finishes it.
    assert run_units(RayExecutor(max_retries=0), die_once_then_extract, [unit]).ran == [
        "acme/alpha"
    ]


def test_rerun_after_interrupted_run_does_only_unfinished_units(
    cluster: None, tmp_path: Path
) -> None:
    flag = tmp_path / "flag"
    never = tmp_path / "never"
    never.write_text("present")
    units = [
        Unit(
            f"u{n}",
            (str(flag if n == 1 else never), str(tmp_path / "out" / str(n)), n),
            tmp_path / "m" / f"{n}.done",
            {"x": 1},
        )
        for n in range(3)
    ]
    with pytest.raises(UnitFailed, match="u1: RuntimeError: unit 1 interrupted"):
        run_units(RayExecutor(), fail_once_unit, units)
    resumed = run_units(RayExecutor(), fail_once_unit, units)
    assert resumed.ran == ["u1"] and sorted(resumed.skipped) == ["u0", "u2"]
    runs = sorted(int(x) for x in (tmp_path / "out" / "runs.log").read_text().split())
    assert runs == [0, 1, 2]
