"""`corpus build` end to end on real git repos fetched through an insteadOf rule."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from corpus.cli import app
from corpus.layout import BUILD_REPORT_FILE, HISTORY_FILE
from corpus.schema import SPLITS
from corpus.sources import load_sources
from corpus.store import read_json, read_records, write_json
from pipelines.build import shard_paths
from tests.build_fixtures import Fixture, make_fixture
from tests.report_fixtures import fail_report, warn_report

runner = CliRunner()


@pytest.fixture
def fx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fixture:
    fixture = make_fixture(tmp_path / "fx")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(fixture.gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    return fixture


def _build(fx: Fixture, out: Path, cache: Path, *extra: str) -> tuple[int, str]:
    args = ["build", "--sources", str(fx.sources_file), "--out", str(out)]
    res = runner.invoke(app, [*args, "--cache-dir", str(cache), "-j", "1", *extra])
    return res.exit_code, res.output


def _verdict_exit(out: Path) -> tuple[str, int]:
    cand = json.loads((out / BUILD_REPORT_FILE).read_text())["stages"]["filter_split"]["key"]
    verdict = read_json(out / "builds" / cand / "dataset" / "falsification.json")["verdict"]
    return verdict, {"PASS": 0, "WARN": 3, "FAIL": 1}[verdict]


def _candidate(out: Path) -> Path:
    key = read_json(out / BUILD_REPORT_FILE)["stages"]["filter_split"]["key"]
    return out / "builds" / key / "dataset"


def _outputs(out: Path) -> dict[str, bytes]:
    """Every output file but the run's config, timing report and history: all deterministic."""
    files = {}
    for p in sorted(out.rglob("*")):
        rel = p.relative_to(out).as_posix()
        if not p.is_file() or rel in {"build_config.json", BUILD_REPORT_FILE, HISTORY_FILE}:
            continue
        files[rel] = p.read_bytes()
    return files


def test_build_end_to_end_then_a_rerun_is_a_no_op(fx: Fixture, tmp_path: Path) -> None:
    out, cache = tmp_path / "out", tmp_path / "cache"
    code, output = _build(fx, out, cache, "--write-rejects")
    verdict, expected = _verdict_exit(out)
    assert code == expected, output
    cand = _candidate(out)
    recs = read_records(cand)
    stats = read_json(cand / "stats.json")
    # Published: documented, not tests, one per cluster; secrets redacted.
    assert recs.height == stats["totals"]["published"] > 0
    assert recs["doc"].null_count() == 0 and not recs["is_test"].any()
    assert (recs["dup_cluster"] == recs["id"]).all()
    redacted = recs.filter(pl.col("redacted"))
    assert redacted["name"].to_list() == ["connect"]
    assert "AKIA" not in redacted["doc"][0] and "<REDACTED>" in redacted["doc"][0]
    f = stats["filters"]
    assert (f["secret_redacted"], f["near_duplicate"], f["test_excluded"]) == (1, 1, 1)
    # beta repeats alpha's lib.rs: every documented alpha function has an exact twin in beta.
    assert f["exact_duplicate"] == 5
    assert sum(stats["splits"][s] for s in SPLITS) == recs.height
    assert set(stats["splits"]["per_repo"]) == {"acme/alpha", "acme/beta"}
    assert load_sources(cand / "sources.lock") == fx.sources
    rejects = pl.read_parquet(out / "rejects.parquet")
    assert rejects.height == sum(f.values()) - f["secret_redacted"]
    assert set(rejects["reason"]) == {
        "exact_duplicate",
        "near_duplicate",
        "test_excluded",
        "undocumented",
    }
    assert read_json(out / "build_config.json")["include_tests"] is False
    if verdict != "FAIL":
        assert (out / "dataset" / "data" / "train-00000-of-00001.parquet").is_file()
    else:
        assert "falsification FAIL" in output and not (out / "dataset").exists()

    markers = {s.repo: shard_paths(out, s).marker.stat().st_mtime_ns for s in fx.sources}
    before = _outputs(out)
    code2, output2 = _build(fx, out, cache, "--write-rejects")
    assert code2 == code, output2
    report = read_json(out / BUILD_REPORT_FILE)["stages"]
    assert report["clone_extract"]["ran"] is False and report["clone_extract"]["units_ran"] == []
    assert report["clone_extract"]["units_done"] == ["acme/alpha", "acme/beta"]
    assert [report[s]["ran"] for s in ("filter_split", "falsify", "stage")] == [False] * 3
    assert {s.repo: shard_paths(out, s).marker.stat().st_mtime_ns for s in fx.sources} == (markers)
    assert _outputs(out) == before


def test_two_builds_in_fresh_dirs_are_byte_identical(fx: Fixture, tmp_path: Path) -> None:
    outs = []
    for i in (1, 2):
        out = tmp_path / f"out{i}"
        _build(fx, out, tmp_path / f"cache{i}")
        outs.append(_outputs(out))
    assert outs[0] == outs[1]
    assert any(k.endswith("train-00000-of-00001.parquet") for k in outs[0])


def test_include_tests_keeps_them_flagged_and_changes_the_key(fx: Fixture, tmp_path: Path) -> None:
    out, cache = tmp_path / "out", tmp_path / "cache"
    _build(fx, out, cache)
    first = _candidate(out)
    _build(fx, out, cache, "--include-tests")
    second = _candidate(out)
    assert first != second
    report = read_json(out / BUILD_REPORT_FILE)["stages"]
    assert report["clone_extract"]["units_ran"] == []  # same shards, new filter result
    recs = read_records(second)
    assert recs.filter(pl.col("is_test"))["name"].to_list() == ["helper"]
    assert read_json(second / "stats.json")["filters"]["test_excluded"] == 0


def test_a_sources_change_without_new_pins_redoes_the_candidate(
    fx: Fixture, tmp_path: Path
) -> None:
    # Regression: the candidate key held only shard markers and the filter config, so a branch
    # change (or a reordered sources.toml) reused a candidate whose sources.lock was stale.
    from dataclasses import replace

    from corpus.sources import load_sources, write_sources

    out, cache = tmp_path / "out", tmp_path / "cache"
    _build(fx, out, cache)
    first = _candidate(out)
    moved = [replace(s, branch="main") if s.repo == "acme/alpha" else s for s in fx.sources]
    write_sources(fx.sources_file, moved)
    _build(fx, out, cache)
    second = _candidate(out)
    assert first != second
    report = read_json(out / BUILD_REPORT_FILE)["stages"]
    assert report["clone_extract"]["units_ran"] == []  # the same pins: nothing re-extracted
    lock = {s.repo: s.branch for s in load_sources(second / "sources.lock")}
    assert lock["acme/alpha"] == "main"


def test_falsification_gate_fail_refuses_warn_stages(fx: Fixture, tmp_path: Path) -> None:
    out, cache = tmp_path / "out", tmp_path / "cache"
    _build(fx, out, cache)
    report_path = _candidate(out) / "falsification.json"
    if (out / "dataset").exists():
        import shutil

        shutil.rmtree(out / "dataset")
    # The candidate's report is reused when it is a complete, consistent report: plant one.
    write_json(report_path, fail_report())
    code, output = _build(fx, out, cache)
    assert code == 1
    assert "falsification FAIL (score 98/100)" in output and "not staged" in output
    assert not (out / "dataset").exists()
    write_json(report_path, warn_report())
    code, output = _build(fx, out, cache)
    assert code == 3, output
    assert (out / "dataset" / "stats.json").is_file()
    assert read_records(out / "dataset").equals(read_records(_candidate(out)))
    # A WARN dataset is not pushed without --force (checked before any network use).
    code, output = _build(fx, out, cache, "--push", "--repo-id", "acme/corpus")
    assert code == 3 and "not pushed; pass --force" in output


def test_a_tampered_candidate_report_is_not_trusted(fx: Fixture, tmp_path: Path) -> None:
    # The verdict is recomputed from the checks: a report claiming FAIL (or PASS) with checks
    # that say otherwise is not a report; the build falsifies the candidate again.
    out, cache = tmp_path / "out", tmp_path / "cache"
    code, _ = _build(fx, out, cache)
    report_path = _candidate(out) / "falsification.json"
    good = read_json(report_path)
    write_json(report_path, {**good, "verdict": "FAIL", "score": 40})
    code2, output = _build(fx, out, cache)
    assert code2 == code and "falsified again" in output
    assert read_json(report_path) == good
    assert read_json(out / BUILD_REPORT_FILE)["stages"]["falsify"]["ran"] is True


def test_bad_input_exits_2(fx: Fixture, tmp_path: Path) -> None:
    code, output = _build(fx, tmp_path / "o", tmp_path / "c", "--only", "nosuch")
    assert code == 2 and "--only 'nosuch' is not in the sources" in output
    code, output = _build(fx, tmp_path / "o", tmp_path / "c", "--push")
    assert code == 2 and "--push needs --repo-id" in output
    code, output = _build(fx, tmp_path / "o", tmp_path / "c", "--executor", "spark")
    assert code == 2 and "unknown executor 'spark'" in output
    res = runner.invoke(app, ["build", "--sources", str(tmp_path / "missing.toml")])
    assert res.exit_code == 2
    bad = tmp_path / "manifest.json"
    bad.write_text('{"version": 1, "files": []}')
    code, output = _build(fx, tmp_path / "o", tmp_path / "c", "--split-manifest", str(bad))
    assert code == 2 and "'files' must map repositories" in output
    code, output = _build(fx, tmp_path / "o", tmp_path / "c", "--split-manifest",
                          str(tmp_path / "none.json"))  # fmt: skip
    assert code == 2 and "no such file" in output


def test_killed_build_resumes_to_identical_output(tmp_path: Path) -> None:
    fx = make_fixture(tmp_path / "fx", big_files=150)
    out, cache = tmp_path / "out", tmp_path / "cache"
    cmd = [
        sys.executable, "-c", "from corpus.cli import main; main()", "build",
        "--sources", str(fx.sources_file), "--out", str(out), "--cache-dir", str(cache), "-j", "1",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, env=fx.env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    first_marker = shard_paths(out, fx.sources[0]).marker
    deadline = time.monotonic() + 60
    while not first_marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = [shard_paths(out, s).marker.exists() for s in fx.sources]
    assert done[0] and not all(done), "the kill must land mid-extraction"
    assert not (out / "builds").exists()

    resumed = subprocess.run(cmd, env=fx.env(), capture_output=True, text=True, timeout=300)
    assert resumed.returncode in (0, 1, 3), resumed.stderr
    report = read_json(out / BUILD_REPORT_FILE)["stages"]["clone_extract"]
    assert report["units_done"] == ["acme/alpha"]
    assert report["units_ran"] == ["acme/beta", "acme/gamma"]

    fresh = tmp_path / "fresh"
    again = subprocess.run(
        [*cmd[:4], "--sources", str(fx.sources_file), "--out", str(fresh), "--cache-dir",
         str(tmp_path / "cache2"), "-j", "1"],
        env=fx.env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert again.returncode == resumed.returncode, again.stderr
    assert _outputs(out) == _outputs(fresh)


def test_the_checkout_stays_locked_until_the_shard_is_written(tmp_path: Path) -> None:
    # Regression: the checkout lock was released when the clone finished, so a second run
    # sharing the cache could check out another pin while this one was still reading files.
    import json
    import subprocess
    import sys

    from corpus.sources import Source
    from pipelines.build import RepoJob, clone_and_extract
    from tests.gitrepos import make_rust_repo

    many = {f"src/m{i}.rs": f"/// Doc {i}.\npub fn f{i}() {{}}\n" * 20 for i in range(300)}
    remote = tmp_path / "remote"
    sha = make_rust_repo(remote, extra=many)
    cache, seen = tmp_path / "cache", tmp_path / "seen.json"
    shard = tmp_path / "shards" / "s.parquet"
    # The other run: as soon as the checkout exists, grab the lock; note what it saw then.
    other = (
        "import json, time\nfrom pathlib import Path\nfrom corpus.clone import checkout_lock\n"
        f"tree = Path({str(cache)!r}) / 'owner' / 'demo' / 'src' / 'm299.rs'\n"
        "while not tree.exists():\n    time.sleep(0.001)\n"
        f"lock = checkout_lock(Path({str(cache)!r}), 'owner/demo')\n"
        "while True:\n"
        "    try:\n        lock.acquire(timeout=0)\n        break\n"
        "    except Exception:\n        time.sleep(0.001)\n"
        f"Path({str(seen)!r}).write_text(json.dumps(Path({str(shard)!r}).exists()))\n"
        "lock.release()\n"
    )
    child = subprocess.Popen([sys.executable, "-c", other])
    try:
        src = Source(repo="owner/demo", url=str(remote), commit=sha, license="MIT", branch="master")
        job = RepoJob(source=src, cache_dir=str(cache), shard_dir=str(shard.parent), stem="s")
        stats = clone_and_extract(job)
        assert stats["records"] > 300 * 20
    finally:
        child.wait(timeout=60)
    assert json.loads(seen.read_text()) is True, "the other run got the checkout mid-extraction"


def test_build_is_refused_while_another_run_writes_the_folder(tmp_path: Path) -> None:
    # Regression: build and rebuild both write <out>/dataset, but only rebuild took a lock.
    from filelock import FileLock

    from corpus.errors import ExitCode
    from pipelines.build import BuildConfig, build
    from pipelines.locking import OUT_LOCK, LockedError

    out = tmp_path / "out"
    out.mkdir()
    sources = make_fixture(tmp_path / "fx").sources_file
    with FileLock(str(out / OUT_LOCK)), pytest.raises(LockedError) as err:
        build(BuildConfig(out=out, cache_dir=tmp_path / "cache", sources_file=sources))
    assert err.value.exit_code == ExitCode.LOCKED
    assert "corpus build" in str(err.value) and sorted(p.name for p in out.iterdir()) == [OUT_LOCK]


def test_a_truncated_shard_whose_marker_survived_is_extracted_again(
    fx: Fixture, tmp_path: Path
) -> None:
    # Regression: the marker vouched for a shard without checking it, so a truncated shard
    # was reused (exit 0, PASS) until a later filter change read it and failed with no hint.
    out, cache = tmp_path / "out", tmp_path / "cache"
    code, _ = _build(fx, out, cache)
    first = _outputs(out)
    shard = shard_paths(out, fx.sources[0]).parquet
    shard.write_bytes(shard.read_bytes()[:100])
    code2, output = _build(fx, out, cache)
    assert code2 == code, output
    assert f"{fx.sources[0].repo}: extracted again" in output
    assert "has 100 bytes, the marker recorded" in " ".join(output.split())
    report = read_json(out / BUILD_REPORT_FILE)["stages"]["clone_extract"]
    assert report["units_ran"] == [fx.sources[0].repo]
    assert _outputs(out) == first


def test_a_garbage_staged_report_is_staged_again_not_reported_as_passing(
    fx: Fixture, tmp_path: Path
) -> None:
    # Regression: garbage in out/dataset/falsification.json was reported as "staged PASS"
    # and only `publish` noticed.
    out, cache = tmp_path / "out", tmp_path / "cache"
    code, _ = _build(fx, out, cache)
    staged = out / "dataset" / "falsification.json"
    good = staged.read_bytes()
    staged.write_text("garbage{")
    code2, output = _build(fx, out, cache)
    assert code2 == code
    assert "staged again: falsification.json has 8 bytes" in " ".join(output.split()), output
    assert staged.read_bytes() == good


def _session_processes(sid: int) -> list[int]:
    """Pids of the live processes in session ``sid`` (Linux /proc)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return pids


def test_killing_a_pooled_build_leaves_no_worker_and_the_rerun_is_identical(
    tmp_path: Path,
) -> None:
    # Regression: after `kill -9` of a build its pool workers lived on (PPID 1), writing
    # shards and markers without the lock, beside the next run.
    fx = make_fixture(tmp_path / "fx", big_files=250)
    out, cache = tmp_path / "out", tmp_path / "cache"
    cmd = [
        sys.executable, "-c", "from corpus.cli import main; main()", "build",
        "--sources", str(fx.sources_file), "--out", str(out), "--cache-dir", str(cache), "-j", "2",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, env=fx.env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    markers = [shard_paths(out, s).marker for s in fx.sources]
    deadline = time.monotonic() + 120
    while not any(m.exists() for m in markers) and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_at_kill = [m.exists() for m in markers]
    assert any(done_at_kill) and not all(done_at_kill), "the kill must land mid-extraction"
    deadline = time.monotonic() + 10
    while _session_processes(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _session_processes(proc.pid) == [], "a worker of the killed build is still alive"
    time.sleep(1)
    assert [m.exists() for m in markers] == done_at_kill, "a marker was written after the kill"

    resumed = subprocess.run(cmd, env=fx.env(), capture_output=True, text=True, timeout=300)
    assert resumed.returncode in (0, 3), resumed.stderr
    fresh = tmp_path / "fresh"
    again = subprocess.run(
        [*cmd[:5], str(fx.sources_file), "--out", str(fresh), "--cache-dir",
         str(tmp_path / "cache2"), "-j", "2"],
        env=fx.env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert again.returncode == resumed.returncode, again.stderr
    assert _outputs(out) == _outputs(fresh)


def test_a_local_source_url_is_never_published(fx: Fixture, tmp_path: Path) -> None:
    # Regression: sources.lock (published with the dataset) carried the file:// URL of the
    # builder's mirror, naming their directories.
    from corpus.sources import write_sources

    origin = fx.root / "origin"
    local = [type(s)(**{**s.__dict__, "url": f"file://{origin}/{s.repo}.git"}) for s in fx.sources]
    write_sources(fx.sources_file, local)
    out = tmp_path / "out"
    _build(fx, out, tmp_path / "cache")
    for f in (_candidate(out) / "sources.lock", out / "dataset" / "sources.lock"):
        text = f.read_text()
        assert "file://" not in text and str(origin) not in text, text
        assert "https://github.com/acme/alpha.git" in text
