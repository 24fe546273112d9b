"""The loopback Hub speaks the protocol the real huggingface_hub client expects."""

from __future__ import annotations

from pathlib import Path

import httpx2 as httpx  # the HTTP client huggingface_hub 2.x itself uses
import pytest
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, hf_hub_download
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

from tests.hub_fixtures import REPO_ID, hub, hub_env
from tests.hub_server import HubServer

__all__ = ["hub", "hub_env"]


def _api(hub: HubServer, token: str | None = None) -> HfApi:
    return HfApi(endpoint=hub.url, token=token or hub.token)  # type: ignore[attr-defined]


def _commit(api: HfApi, files: dict[str, bytes], parent: str | None = None, **kw: object) -> str:
    ops = [CommitOperationAdd(p, d) for p, d in files.items()]
    info = api.create_commit(
        REPO_ID, ops, commit_message="c", repo_type="dataset", parent_commit=parent, **kw
    )
    return info.oid


def test_tokens_accepted_rejected_and_namespaces(hub_env: HubServer) -> None:
    hub = hub_env
    with pytest.raises(HfHubHTTPError) as err:
        _api(hub, "hf_wrong").create_repo(REPO_ID, repo_type="dataset")
    assert err.value.response.status_code == 401
    with pytest.raises(HfHubHTTPError) as err:
        _api(hub).create_repo("elsewhere/x", repo_type="dataset")
    assert err.value.response.status_code == 403
    api = _api(hub)
    api.create_repo(REPO_ID, repo_type="dataset")
    api.create_repo(REPO_ID, repo_type="dataset", exist_ok=True)  # 409 swallowed
    assert hub.repo_exists(REPO_ID) and not hub.repo_exists("elsewhere/x")
    with pytest.raises(RepositoryNotFoundError):
        api.dataset_info("rustdoc/missing")


def test_commits_lfs_skip_unchanged_and_delete(hub_env: HubServer, tmp_path: Path) -> None:
    hub = hub_env
    api = _api(hub)
    api.create_repo(REPO_ID, repo_type="dataset")
    blob = bytes(range(256)) * 40
    first = _commit(api, {"README.md": b"# hi\n", "data/x.parquet": blob})
    # git holds a pointer, the bytes live beside the bare repo under lfs/objects.
    tree = {e.path: e for e in api.list_repo_tree(REPO_ID, repo_type="dataset", recursive=True)}
    assert tree["data/x.parquet"].lfs is not None and tree["data/x.parquet"].size == len(blob)
    assert tree["README.md"].lfs is None
    assert hub.read_file(REPO_ID, first, "data/x.parquet") == blob
    # Re-uploading identical files makes no commit (preupload returns the remote oids).
    assert _commit(api, {"README.md": b"# hi\n", "data/x.parquet": blob}) == first
    assert hub.commit_count(REPO_ID) == 1
    second = api.create_commit(
        REPO_ID, [CommitOperationDelete("README.md")], commit_message="d", repo_type="dataset"
    ).oid
    assert hub.head(REPO_ID) == second and hub.commit_count(REPO_ID) == 2
    got = hf_hub_download(
        REPO_ID, "data/x.parquet", repo_type="dataset", revision=first, endpoint=hub.url,
        cache_dir=tmp_path / "cache", token=hub.token,  # type: ignore[attr-defined]
    )  # fmt: skip
    assert Path(got).read_bytes() == blob
    r = httpx.get(
        f"{hub.url}/datasets/{REPO_ID}/resolve/{first}/data/x.parquet",
        headers={"Range": "bytes=10-19"},
    )
    assert r.status_code == 206 and r.content == blob[10:20]
    assert r.headers["X-Repo-Commit"] == first


def test_stale_parent_412_and_injected_500(hub_env: HubServer) -> None:
    hub = hub_env
    api = _api(hub)
    api.create_repo(REPO_ID, repo_type="dataset")
    first = _commit(api, {"a.txt": b"1"})
    second = _commit(api, {"a.txt": b"2"}, parent=first)
    with pytest.raises(HfHubHTTPError) as err:
        _commit(api, {"a.txt": b"3"}, parent=first)
    assert err.value.response.status_code == 412 and hub.head(REPO_ID) == second
    hub.fail_next_commit(500)
    with pytest.raises(HfHubHTTPError) as err:
        _commit(api, {"a.txt": b"3"}, parent=second)
    assert err.value.response.status_code == 500 and hub.head(REPO_ID) == second
    assert _commit(api, {"a.txt": b"3"}, parent=second) != second  # only the next one failed


def test_tags_refs_and_commit_history(hub_env: HubServer) -> None:
    hub = hub_env
    api = _api(hub)
    api.create_repo(REPO_ID, repo_type="dataset")
    c1 = _commit(api, {"a.txt": b"1"})
    c2 = _commit(api, {"a.txt": b"2"})
    api.create_tag(REPO_ID, tag="v1", revision=c1, repo_type="dataset")
    with pytest.raises(HfHubHTTPError) as err:
        api.create_tag(REPO_ID, tag="v1", revision=c2, repo_type="dataset")
    assert err.value.response.status_code == 409
    refs = api.list_repo_refs(REPO_ID, repo_type="dataset")
    assert [(t.name, t.target_commit) for t in refs.tags] == [("v1", c1)]
    assert [b.target_commit for b in refs.branches if b.name == "main"] == [c2]
    assert [c.commit_id for c in api.list_repo_commits(REPO_ID, repo_type="dataset")] == [c2, c1]
    assert api.dataset_info(REPO_ID, revision="v1").sha == c1
