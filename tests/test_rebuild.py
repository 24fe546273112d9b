"""`corpus rebuild` end to end: real git upstreams, real builds, the loopback Hub."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corpus.cli import app
from corpus.layout import BUILD_KEY_FILE
from corpus.sources import load_sources
from corpus.store import read_json, read_records
from pipelines.build import shard_paths
from pipelines.history import history_path, read_history
from pipelines.publish import content_hash, latest_build_tag
from tests import hub_fixtures
from tests.gitrepos import MIT_LICENSE
from tests.hub_fixtures import REPO_ID
from tests.hub_server import HubServer
from tests.test_rebuild_fixtures import REPOS, Upstreams, doc_for, make_upstreams, module_names

runner = CliRunner()


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wide console, so table cells are not folded (the CLI's console is made at import)."""
    from corpus.commands._common import console

    monkeypatch.setattr(console, "width", 250)


hub, hub_env = hub_fixtures.hub, hub_fixtures.hub_env  # pytest fixtures


@pytest.fixture
def up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Upstreams:
    fixture = make_upstreams(tmp_path / "up")
    for key, value in fixture.git_env().items():
        monkeypatch.setenv(key, value)
    return fixture


def _rebuild(up: Upstreams, out: Path, *extra: str) -> tuple[int, str]:
    args = ["rebuild", "--sources", str(up.sources_file), "--out", str(out)]
    args += ["--cache-dir", str(out.parent / "cache"), "-j", "1", *extra]
    res = runner.invoke(app, args)
    return res.exit_code, res.output


def _push(server: HubServer) -> tuple[str, ...]:
    return ("--push", "--repo-id", REPO_ID)


def _last(out: Path) -> dict:
    return read_history(history_path(out))[-1]


def _shard_files(out: Path) -> dict[str, int]:
    """Every shard file under <out>/shards -> its mtime (ns)."""
    root = out / "shards"
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.rglob("*.*")}


def _dataset_bytes(ds: Path) -> dict[str, bytes]:
    return {
        p.relative_to(ds).as_posix(): p.read_bytes() for p in sorted(ds.rglob("*")) if p.is_file()
    }


def test_first_run_publishes_then_nothing_changed_is_a_fast_no_op(
    up: Upstreams, hub_env: HubServer, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, output = _rebuild(up, out, *_push(hub_env))
    assert code == 0, output
    first = _last(out)
    assert first["verdict"] == "PASS" and first["score"] == 100
    assert first["published"] is True and first["tag"].startswith("v")
    assert first["extracted"] == sorted(REPOS)
    assert first["changes"] == {r: {"added": 10, "removed": 0, "changed": 0} for r in REPOS}
    assert first["pins_before"] == first["pins_after"] == {s.repo: s.commit for s in up.sources}
    assert latest_build_tag(REPO_ID).name == first["tag"]
    shards = _shard_files(out)
    dataset = _dataset_bytes(out / "dataset")

    code, output = _rebuild(up, out, *_push(hub_env))
    assert code == 0, output
    second = _last(out)
    assert second["exit_code"] == 0
    assert second["moved"] == [] and second["extracted"] == [] and second["changes"] == {}
    assert second["published"] is False and second["tag"] is None
    assert second["reason"] == (
        f"unchanged: the Hub's latest build {first['tag']} already holds these rows"
    )
    # The run's own measurement, not a timer around the test (which would count pytest).
    assert second["duration_s"] < 3.0
    assert _shard_files(out) == shards  # nothing re-extracted or rewritten
    assert _dataset_bytes(out / "dataset") == dataset
    assert latest_build_tag(REPO_ID).name == first["tag"]
    assert len(read_history(history_path(out))) == 2


def test_a_commit_reextracts_only_its_repo_and_the_history_shows_the_diff(
    up: Upstreams, hub_env: HubServer, tmp_path: Path, wide: None
) -> None:
    out = tmp_path / "out"
    code, output = _rebuild(up, out, *_push(hub_env))
    assert code == 0, output
    first = _last(out)
    shards_before = _shard_files(out)
    manifest_before = json.loads((out / "dataset" / "split_manifest.json").read_text())

    repo = "acme/chisel"
    mods = module_names(repo)
    crate = repo.split("/")[1]
    new_doc = "Counts the chisels that were sharpened since the workshop opened this morning."
    tip = up.commit(
        repo,
        {
            # one doc reworded: the same function, changed
            f"src/{mods[0]}.rs": (
                f"/// {new_doc}\npub fn {crate}_{mods[0]}(x: u64) -> u64 {{\n"
                "    x.wrapping_add(200)\n}\n"
            ),
            # one function added to a file of the same split (keeps the 80/10/10 PASS)
            f"src/{mods[1]}.rs": (
                f"/// {doc_for(2, 1)}\npub fn {crate}_{mods[1]}(x: u64) -> u64 {{\n"
                "    x.wrapping_add(201)\n}\n\n"
                "/// Tells whether the blade of the chisel still needs honing before use.\n"
                "pub fn needs_honing(edge: u32) -> bool {\n    edge < 7\n}\n"
            ),
        },
    )
    code, output = _rebuild(up, out, *_push(hub_env))
    assert code == 0, output
    rec = _last(out)
    assert rec["moved"] == [repo] and rec["extracted"] == [repo]
    assert rec["pins_before"][repo] == first["pins_after"][repo] != tip
    assert rec["pins_after"][repo] == tip
    assert rec["changes"] == {repo: {"added": 1, "removed": 0, "changed": 1}}
    assert rec["verdict"] == "PASS" and rec["published"] is True
    assert rec["tag"] != first["tag"] and latest_build_tag(REPO_ID).name == rec["tag"]

    # Which shard files were written: the new chisel shard only; the others untouched.
    shards_after = _shard_files(out)
    new = {k for k in shards_after if k not in shards_before}
    moved = shard_paths(out, load_sources(out / "run" / "sources.toml")[2])
    assert {(out / "shards" / k) for k in new} == {*moved.outputs, moved.marker}
    assert {k: v for k, v in shards_after.items() if k in shards_before} == shards_before
    # The last good build is the new one; its pins are the moved ones.
    lock = load_sources(out / "dataset" / "sources.lock")
    assert {s.repo: s.commit for s in lock} == rec["pins_after"]
    docs = read_records(out / "dataset")["doc"].to_list()
    assert new_doc in docs and doc_for(2, 0) not in docs
    # No file moved between splits; the one new function sits in its file's old split.
    manifest = json.loads((out / "dataset" / "split_manifest.json").read_text())
    assert manifest == manifest_before
    # The packaged/--sources file is not rewritten without --write-sources.
    assert load_sources(up.sources_file) == up.sources

    # `corpus history` shows both runs, as a table and as JSON lines.
    res = runner.invoke(app, ["history", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert rec["tag"] in res.output and "+1 -0 ~1" in res.output
    assert re.search(rf"{re.escape(repo)} +1 +0 +1\b", res.output)  # the per-repo table
    res = runner.invoke(app, ["history", "--out", str(out), "--json", "--limit", "1"])
    lines = [json.loads(x) for x in res.output.splitlines() if x.strip()]
    assert lines == [rec] and rec["command"] == "rebuild"


def test_a_commit_that_fails_falsification_is_not_published(
    up: Upstreams, hub_env: HubServer, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, output = _rebuild(up, out, *_push(hub_env))
    assert code == 0, output
    good_tag = _last(out)["tag"]
    good = _dataset_bytes(out / "dataset")

    # Why this defect: the filter *redacts* secrets (corpus/secrets.py + corpus/filters.py), so
    # a leaked key alone still PASSes - the commit below adds one (AWS-shaped, not the docs'
    # example key) and the test checks it was redacted. What genuinely FAILs is the licence:
    # upstream empties its LICENSE file, and provenance.license_pinned (critical) refuses a
    # pin with no licence text - republishing such code would be a licensing error.
    repo = "acme/drill"
    mods = module_names(repo)
    fake_key = "AKIA" + "Q7ZLM3XK2WRB9TPD"
    up.commit(
        repo,
        {
            "LICENSE": "",
            f"src/{mods[0]}.rs": (
                f"/// Opens the drill log with the key {fake_key} and returns how many holes\n"
                f"/// were drilled in the oak panel so far.\npub fn drill_{mods[0]}() -> u64 "
                "{\n    4\n}\n"
            ),
        },
        "relicense",
    )
    code, output = _rebuild(up, out, *_push(hub_env))
    assert code == 1, output
    assert "falsification FAIL" in output and "provenance.license_pinned" in output
    rec = _last(out)
    assert rec["exit_code"] == 1 and rec["verdict"] == "FAIL" and rec["published"] is False
    assert rec["hub_latest"] == good_tag and "not published" in rec["reason"]
    # The last good build is kept, locally and as the Hub's latest tag.
    assert _dataset_bytes(out / "dataset") == good
    assert latest_build_tag(REPO_ID).name == good_tag
    # The failing candidate is kept aside for inspection, with its report.
    cand = Path(rec["candidate"])
    assert cand != out / "dataset" and (cand / "falsification.md").is_file()
    assert read_json(cand / "falsification.json")["verdict"] == "FAIL"
    assert content_hash(cand) == rec["content_hash"] != content_hash(out / "dataset")
    docs = "\n".join(d for d in read_records(cand)["doc"].to_list() if d)
    assert fake_key not in docs and "<REDACTED>" in docs

    # Upstream restores the licence: the next run PASSes and publishes again.
    up.commit(repo, {"LICENSE": MIT_LICENSE}, "restore licence")
    code, output = _rebuild(up, out, *_push(hub_env))
    assert code == 0, output
    rec = _last(out)
    assert rec["published"] is True and latest_build_tag(REPO_ID).name == rec["tag"] != good_tag
    marker = json.loads((out / "dataset" / BUILD_KEY_FILE).read_text())
    assert marker["inputs"] == {"key": rec["build_key"]}


def test_no_update_pins_builds_the_file_pins_and_write_sources_saves_moved_ones(
    up: Upstreams, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    tip = up.commit("acme/anvil", {"NOTES.md": "nothing rust here\n"})
    monkeypatch.setenv("CORPUS_REBUILD_UPDATE_PINS", "0")  # the env setting of the default
    code, output = _rebuild(up, out)
    assert code == 0, output
    rec = _last(out)
    assert rec["update_pins"] is False and rec["moved"] == []
    assert rec["pins_after"]["acme/anvil"] == up.sources[0].commit != tip
    assert "publishing not requested" in rec["reason"]

    code, output = _rebuild(up, out, "--update-pins", "--write-sources")
    assert code == 0, output
    rec = _last(out)
    assert rec["moved"] == ["acme/anvil"] and rec["extracted"] == ["acme/anvil"]
    assert rec["changes"] == {}  # a commit touching no Rust file changes no function
    assert rec["sources_written"] == str(up.sources_file)
    assert load_sources(up.sources_file)[0].commit == tip


def test_bad_input_exits_2_before_taking_the_lock(tmp_path: Path) -> None:
    res = runner.invoke(app, ["rebuild", "--out", str(tmp_path / "o"), "--push"])
    assert res.exit_code == 2 and "--push needs --repo-id" in res.output
    assert not (tmp_path / "o").exists()
    res = runner.invoke(app, ["rebuild", "--sources", str(tmp_path / "missing.toml")])
    assert res.exit_code == 2
    # No run yet is not an error: the history is empty.
    res = runner.invoke(app, ["history", "--out", str(tmp_path / "none")])
    assert res.exit_code == 0 and "no history yet" in res.output


def test_a_build_then_a_rebuild_reextracts_nothing_and_shares_the_history(
    up: Upstreams, tmp_path: Path
) -> None:
    # One mechanism: `corpus rebuild` after `corpus build` on the same --out reuses its shards,
    # candidate and report, and `corpus history` shows both runs.
    out = tmp_path / "out"
    args = ["--sources", str(up.sources_file), "--out", str(out), "--cache-dir",
            str(tmp_path / "cache"), "-j", "1"]  # fmt: skip
    res = runner.invoke(app, ["build", *args])
    assert res.exit_code == 0, res.output
    shards, dataset = _shard_files(out), _dataset_bytes(out / "dataset")
    code, output = _rebuild(up, out, "--no-update-pins")
    assert code == 0, output
    rec = _last(out)
    assert rec["extracted"] == [] and rec["changes"] == {} and rec["rows_changed"] is False
    assert _shard_files(out) == shards and _dataset_bytes(out / "dataset") == dataset
    runs = read_history(history_path(out))
    assert [r["command"] for r in runs] == ["build", "rebuild"]
    assert runs[0]["build_key"] == runs[1]["build_key"] and runs[0]["exit_code"] == 0
    res = runner.invoke(app, ["history", "--out", str(out)])
    assert res.exit_code == 0 and "build" in res.output and "rebuild" in res.output
