"""`corpus rebuild` as a scheduler runs it: a separate process, a held lock, a SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from filelock import FileLock

from corpus.layout import OUT_LOCK as LOCK_FILE
from corpus.layout import RUNNING_FILE
from pipelines.history import history_path, read_history
from pipelines.publish import content_hash, latest_build_tag
from tests import hub_fixtures
from tests.hub_fixtures import REPO_ID, hf_env
from tests.hub_server import HubServer
from tests.test_rebuild_fixtures import REPOS, Upstreams, make_upstreams

hub, hub_env = hub_fixtures.hub, hub_fixtures.hub_env  # pytest fixtures
ROOT = Path(__file__).resolve().parent.parent


def _cmd(up: Upstreams, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-c", "from corpus.cli import main; main()", "rebuild",
        "--sources", str(up.sources_file), "--out", str(out),
        "--cache-dir", str(out.parent / f"{out.name}-cache"), "-j", "1", *extra,
    ]  # fmt: skip


def _env(up: Upstreams, server: HubServer | None = None, hf_home: Path | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env |= up.git_env() | {"PYTHONPATH": str(ROOT), "COLUMNS": "200", "NO_COLOR": "1"}
    if server is not None and hf_home is not None:
        env |= hf_env(server, hf_home)
    return env


def test_a_second_run_is_refused_while_the_lock_is_held(tmp_path: Path) -> None:
    up = make_upstreams(tmp_path / "up")
    out = tmp_path / "out"
    out.mkdir()
    with FileLock(str(out / LOCK_FILE)):
        start = time.monotonic()
        proc = subprocess.run(
            _cmd(up, out), env=_env(up), capture_output=True, text=True, timeout=120
        )
        waited = time.monotonic() - start
    assert proc.returncode == 4, proc.stderr
    assert "another `corpus build` or `corpus rebuild` is writing" in " ".join(proc.stderr.split())
    assert str(out / LOCK_FILE) in proc.stderr.replace("\n", "")
    assert waited < 60  # it did not wait for the lock (the holder never lets go)
    # It did nothing: no history, no clone, no build.
    assert sorted(p.name for p in out.iterdir()) == [LOCK_FILE]
    assert not (tmp_path / "out-cache").exists()


def test_a_killed_run_is_completed_by_the_next_one(hub_env: HubServer, tmp_path: Path) -> None:
    up = make_upstreams(tmp_path / "up")
    out = tmp_path / "out"
    env = _env(up, hub_env, tmp_path / "hf-home")
    push = ("--push", "--repo-id", REPO_ID)
    proc = subprocess.Popen(
        _cmd(up, out, *push), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    shards = out / "shards"
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if any(shards.glob("*/*.done")):
            break
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before the kill landed"
    done_before = sorted(p.parent.name.replace("+", "/") for p in shards.glob("*/*.done"))
    assert done_before and len(done_before) < len(REPOS), "the kill must land mid-extraction"
    # Killed midway: nothing published, nothing recorded, no last good build half-made.
    assert not history_path(out).exists() and not (out / "dataset").exists()
    assert (out / RUNNING_FILE).is_file()
    assert latest_build_tag(REPO_ID) is None

    resumed = subprocess.run(
        _cmd(up, out, *push), env=env, capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr
    [rec] = read_history(history_path(out))
    assert rec["recovered"]["started_at"] and rec["published"] is True
    assert rec["extracted"] == sorted(set(REPOS) - set(done_before))
    assert not (out / RUNNING_FILE).exists()

    # An uninterrupted run elsewhere builds and publishes exactly the same rows.
    fresh = tmp_path / "fresh"
    other = "rustdoc/fresh-corpus"
    again = subprocess.run(
        _cmd(up, fresh, "--push", "--repo-id", other),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr
    assert _published_files(out / "dataset") == _published_files(fresh / "dataset")
    assert content_hash(out / "dataset") == content_hash(fresh / "dataset")
    assert latest_build_tag(REPO_ID).short_hash == latest_build_tag(other).short_hash
    assert rec["tag"] == latest_build_tag(REPO_ID).name


def _published_files(ds: Path) -> dict[str, bytes]:
    """The dataset's files, stats.json without timings, reports without their run time."""
    files = {}
    for p in sorted(ds.rglob("*")):
        rel = p.relative_to(ds).as_posix()
        if not p.is_file():
            continue
        files[rel] = p.read_bytes()
    return files
