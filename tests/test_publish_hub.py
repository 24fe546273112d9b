"""corpus publish against a loopback Hub: the real huggingface_hub client and datasets loader."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from corpus.errors import CorpusError, ExitCode
from corpus.store import read_records
from pipelines.publish import (
    content_hash,
    latest_build_tag,
    needs_publish,
    parse_build_tag,
    publish_dataset,
)
from tests.hub_fixtures import REPO_ID, hf_env, hub, hub_env, hub_load, make_build, run_cli
from tests.hub_server import HubServer

__all__ = ["hub", "hub_env"]  # fixtures used by name below

DAY = date(2026, 11, 21)
MANAGED = {"README.md", "falsification.json", "falsification.md", "stats.json", "sources.lock"}


def _ids(dataset: Path) -> dict[str, list[str]]:
    df = read_records(dataset)
    return {
        s: sorted(df.filter(df["split"] == s)["id"].to_list())
        for s in ("train", "validation", "test")
    }


def test_publish_v1_unchanged_v2_and_load_each_version(hub_env: HubServer, tmp_path: Path) -> None:
    hub = hub_env
    v1 = make_build(tmp_path / "v1", 30)
    r1 = publish_dataset(v1, REPO_ID, today=DAY)
    assert r1.changed and hub.head(REPO_ID) == r1.commit_sha
    assert r1.tag == f"v2026.11.21-{content_hash(v1)[:12]}"
    assert hub.tags(REPO_ID) == {r1.tag: r1.commit_sha}
    # Everything of the build is in that one commit; parquet went through LFS, beside git.
    assert hub.commit_count(REPO_ID) == 1
    assert (
        hub.read_file(REPO_ID, r1.tag, "data/train-00000-of-00001.parquet")
        == (v1 / "data/train-00000-of-00001.parquet").read_bytes()
    )
    card = hub.read_file(REPO_ID, r1.tag, "README.md").decode()
    assert f'revision="{r1.tag}"' in card and REPO_ID in card
    assert list((hub.state.repo_dir(REPO_ID) / "lfs" / "objects").rglob("*"))
    assert latest_build_tag(REPO_ID).name == r1.tag
    assert not needs_publish(v1, REPO_ID)

    # Same build again, even on another day: no commit, same tag.
    again = publish_dataset(v1, REPO_ID, today=date(2026, 11, 22))
    assert (again.changed, again.commit_sha, again.tag) == (False, r1.commit_sha, r1.tag)
    assert hub.commit_count(REPO_ID) == 1 and len(hub.tags(REPO_ID)) == 1

    v2 = make_build(tmp_path / "v2", 40, first=100)
    assert needs_publish(v2, REPO_ID)
    r2 = publish_dataset(v2, REPO_ID, today=date(2026, 11, 22))
    assert r2.changed and r2.tag.startswith("v2026.11.22-") and r2.commit_sha != r1.commit_sha
    assert hub.commit_count(REPO_ID) == 2
    assert hub.tags(REPO_ID) == {r1.tag: r1.commit_sha, r2.tag: r2.commit_sha}
    assert latest_build_tag(REPO_ID).name == r2.tag

    got = hub_load(hub, REPO_ID, [r1.tag, "-"], tmp_path / "hf-load")
    assert got[r1.tag] == _ids(v1)
    assert got["-"] == _ids(v2)


def test_same_rows_new_reports_get_a_new_tag(hub_env: HubServer, tmp_path: Path) -> None:
    hub = hub_env
    ds = make_build(tmp_path / "ds", 12)
    r1 = publish_dataset(ds, REPO_ID, today=DAY)
    make_build(tmp_path / "ds", 12, score=98)  # same rows, new falsification report
    r2 = publish_dataset(ds, REPO_ID, today=DAY)
    assert r2.changed and r2.tag == r1.tag + ".2"
    assert parse_build_tag(r2.tag).short_hash == parse_build_tag(r1.tag).short_hash
    assert b"98" in hub.read_file(REPO_ID, r2.tag, "falsification.json")
    assert latest_build_tag(REPO_ID).name == r2.tag


def test_stale_parent_is_refused_and_nothing_of_ours_lands(
    hub_env: HubServer, tmp_path: Path
) -> None:
    hub = hub_env
    r1 = publish_dataset(make_build(tmp_path / "v1", 12), REPO_ID, today=DAY)
    hub.concurrent_commit_before_next(REPO_ID)  # another publisher wins the race
    with pytest.raises(CorpusError, match=r"412.*Nothing was committed") as err:
        publish_dataset(make_build(tmp_path / "v2", 15, first=50), REPO_ID, today=DAY)
    assert "corpus publish" in str(err.value)
    head = hub.head(REPO_ID)
    assert hub.commit_count(REPO_ID) == 2  # ours + the other publisher's, nothing else
    assert hub.read_file(REPO_ID, head, "README.md") == hub.read_file(REPO_ID, r1.tag, "README.md")
    assert hub.tags(REPO_ID) == {r1.tag: r1.commit_sha}


def test_server_error_on_commit_publishes_nothing(hub_env: HubServer, tmp_path: Path) -> None:
    hub = hub_env
    ds = make_build(tmp_path / "ds", 12)
    hub.fail_next_commit(500)
    with pytest.raises(CorpusError, match=r"answered 500") as err:
        publish_dataset(ds, REPO_ID, today=DAY)
    assert err.value.exit_code == ExitCode.FAILURE
    assert not hub.repo_exists(REPO_ID)  # the repo this publish created is gone again

    r1 = publish_dataset(ds, REPO_ID, today=DAY)
    hub.fail_next_commit(503)
    with pytest.raises(CorpusError, match=r"answered 503"):
        publish_dataset(make_build(tmp_path / "v2", 15, first=50), REPO_ID, today=DAY)
    assert hub.head(REPO_ID) == r1.commit_sha and hub.tags(REPO_ID) == {r1.tag: r1.commit_sha}


def test_forbidden_namespace_and_unknown_repo_messages(hub_env: HubServer, tmp_path: Path) -> None:
    ds = make_build(tmp_path / "ds", 6)
    with pytest.raises(CorpusError, match=r"403 Forbidden.*'someone-else' namespace") as err:
        publish_dataset(ds, "someone-else/corpus", today=DAY)
    assert err.value.exit_code == ExitCode.BAD_INPUT
    assert latest_build_tag("rustdoc/never-published") is None


def test_bad_token_cli_clear_error_and_token_never_shown(hub: HubServer, tmp_path: Path) -> None:
    ds = make_build(tmp_path / "ds", 6)
    bad = "hf_BAD_" + "x9" * 12
    proc = run_cli(
        ["publish", str(ds), "--repo-id", REPO_ID],
        hf_env(hub, tmp_path / "hf-home", token=bad),
        tmp_path,
    )
    assert proc.returncode == ExitCode.BAD_INPUT, proc.stderr
    assert "401" in proc.stderr and "HF_TOKEN" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert bad not in proc.stdout + proc.stderr
    for f in tmp_path.rglob("*"):
        if f.is_file():
            assert bad.encode() not in f.read_bytes(), f
    assert not any(bad in p for _, p in hub.state.requests)
    assert not hub.repo_exists(REPO_ID)


def test_cli_publish_then_unchanged(hub: HubServer, tmp_path: Path) -> None:
    ds = make_build(tmp_path / "ds", 9)
    env = hf_env(hub, tmp_path / "hf-home")
    first = run_cli(["publish", str(ds), "--repo-id", REPO_ID, "--private"], env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "published" in first.stdout and hub.state.private[REPO_ID]
    second = run_cli(["publish", str(ds), "--repo-id", REPO_ID], env, tmp_path)
    assert second.returncode == 0 and "nothing committed" in second.stdout
    assert hub.commit_count(REPO_ID) == 1
    assert hub.token not in first.stdout + first.stderr + second.stdout + second.stderr


def test_fail_verdict_refused_before_any_request(hub_env: HubServer, tmp_path: Path) -> None:
    for verdict in ("FAIL", "WARN", None):
        ds = make_build(tmp_path / f"ds-{verdict}", 6, verdict=verdict, score=90)
        with pytest.raises(CorpusError, match=r"did not pass.*--force"):
            publish_dataset(ds, REPO_ID, today=DAY)
    assert hub_env.state.requests == []


def test_forced_publish_has_banner_on_top(hub_env: HubServer, tmp_path: Path) -> None:
    ds = make_build(tmp_path / "ds", 6, verdict="FAIL", score=60)
    r = publish_dataset(ds, REPO_ID, force=True, today=DAY)
    body = hub_env.read_file(REPO_ID, r.tag, "README.md").decode().split("---\n", 2)[2]
    assert body.lstrip().startswith("> [!WARNING]")
    assert "did not pass falsification" in body.split("\n\n")[0] and "FAIL" in body.split("\n\n")[0]


def test_unreachable_hub_is_a_clear_error(tmp_path: Path) -> None:
    # Regression: connection errors come from huggingface_hub's own HTTP client (httpx2 in 2.x);
    # catching only httpx's errors let them escape as a traceback.
    import socket

    with socket.socket() as s:  # a loopback port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ds = make_build(tmp_path / "ds", 4)
    env = {
        "HF_ENDPOINT": f"http://127.0.0.1:{port}",
        "HF_HOME": str(tmp_path / "hf-home"),
        "HF_TOKEN": "hf_unused_token_value",
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_ETAG_TIMEOUT": "2",
        "HF_HUB_DOWNLOAD_TIMEOUT": "2",
    }
    proc = run_cli(["publish", str(ds), "--repo-id", REPO_ID], env, tmp_path)
    assert proc.returncode == ExitCode.FAILURE, proc.stderr
    assert "cannot reach the Hub" in proc.stderr and f"127.0.0.1:{port}" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "hf_unused_token_value" not in proc.stdout + proc.stderr


def test_reused_tag_with_new_rows_is_refused_before_any_commit(
    hub_env: HubServer, tmp_path: Path
) -> None:
    # Regression: the commit landed on main, then tagging failed, and no rerun could tag it.
    first = publish_dataset(make_build(tmp_path / "v1", 12), REPO_ID, tag="release", today=DAY)
    with pytest.raises(CorpusError, match="release already names another build"):
        publish_dataset(
            make_build(tmp_path / "v2", 15, first=50), REPO_ID, tag="release", today=DAY
        )
    assert hub_env.head(REPO_ID) == first.commit_sha
    assert hub_env.commit_count(REPO_ID) == 1
    assert hub_env.tags(REPO_ID) == {"release": first.commit_sha}


def test_a_build_that_cannot_stage_never_touches_the_hub(
    hub_env: HubServer, tmp_path: Path
) -> None:
    # Regression: the repo was created (then deleted) before the local checks ran.
    ds = make_build(tmp_path / "ds", 12)
    next((ds / "data").glob("train-*.parquet")).write_bytes(b"not a parquet file")
    with pytest.raises(CorpusError):
        publish_dataset(ds, REPO_ID, today=DAY)
    assert not hub_env.repo_exists(REPO_ID)
    assert not any(m == "POST" and p == "/api/repos/create" for m, p in hub_env.state.requests)


def test_the_preferences_config_loads_from_the_hub(hub_env: HubServer, tmp_path: Path) -> None:
    """Publishing stages the pairs as the `preferences` config; `load_dataset(repo,
    "preferences")` gives them split by split, each pair in its record's split; pairs that
    `corpus pairs DS --out DS` wrote are published as they are, and stale ones refused."""
    from pipelines.pairs.run import PairsConfig, make_pairs

    ds = make_build(tmp_path / "v1", 30)
    make_pairs(PairsConfig(data=str(ds), out=ds))  # the build's own pairs (its rows)
    res = publish_dataset(ds, REPO_ID, today=DAY)
    card = hub_env.read_file(REPO_ID, res.tag, "README.md").decode()
    assert "config_name: preferences" in card and "## Preference pairs" in card
    got = hub_load(hub_env, REPO_ID, [res.tag], tmp_path / "hf-load", config="preferences")
    split_of = {i: s for s, ids in _ids(ds).items() for i in ids}
    loaded = got[res.tag]
    assert set(loaded) <= {"train", "validation", "test"} and sum(map(len, loaded.values()))
    for split, ids in loaded.items():
        assert all(split_of[i] == split for i in ids)
    stale = make_build(tmp_path / "v2", 40, first=100)
    import shutil

    shutil.copytree(ds / "preferences", stale / "preferences")  # mined from other rows
    with pytest.raises(CorpusError, match="mined from other rows"):
        publish_dataset(stale, REPO_ID, today=DAY)
