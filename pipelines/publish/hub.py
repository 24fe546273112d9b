"""Publishing a staged build to the Hugging Face Hub with ``huggingface_hub``.

One build = one commit on ``main`` (guarded by ``parent_commit``: if anyone else committed
since we looked, the Hub answers 412 and nothing changes) + one tag ``vYYYY.MM.DD-<hash>``.
Publishing the same build again makes no commit: the staged files are compared with the
Hub's (git blob sha1 for regular files, sha256 for LFS files) before anything is uploaded.

The token comes from the ``token`` argument, else ``HF_TOKEN``, else the cached login; it is
only ever handed to ``huggingface_hub`` and is scrubbed from every message we raise.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corpus.errors import BadInputError, CorpusError, ExitCode
from pipelines.publish.stage import (
    SHORT_HASH_LEN,
    Staged,
    build_tag,
    content_hash,
    is_managed,
    prepare,
    require_pass,
    write_card,
)

if TYPE_CHECKING:
    from huggingface_hub import HfApi

DEFAULT_ENDPOINT = "https://huggingface.co"
_REPO_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$")
_TAG_RE = re.compile(
    rf"^v(\d{{4}})\.(\d{{2}})\.(\d{{2}})-([0-9a-f]{{{SHORT_HASH_LEN}}})(?:\.(\d+))?$"
)
_USER_TAG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class PublishResult:
    """What a publish did: the commit on main, its tag, whether anything changed, a URL."""

    commit_sha: str
    tag: str
    changed: bool
    url: str


@dataclass(frozen=True)
class BuildTag:
    """A published build tag: name, commit, the short content hash and the day in its name."""

    name: str
    commit: str
    short_hash: str
    day: date


def parse_build_tag(name: str, commit: str = "") -> BuildTag | None:
    """A ``vYYYY.MM.DD-<hash>[.N]`` tag, or None for any other tag name."""
    m = _TAG_RE.match(name)
    if not m:
        return None
    try:
        day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
    return BuildTag(name, commit, m.group(4), day)


def endpoint_from_env() -> str:
    """``HF_ENDPOINT``, read at call time (the Hub's address otherwise)."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def _check_repo_id(repo_id: str) -> None:
    if not _REPO_ID_RE.match(repo_id or "") or ".." in repo_id:
        raise BadInputError(f"--repo-id {repo_id!r}: expected ORG/NAME (letters, digits, -_.)")


def _api(endpoint: str | None, token: str | None) -> tuple[HfApi, str, str | None]:
    from huggingface_hub import HfApi, get_token

    endpoint = (endpoint or endpoint_from_env()).rstrip("/")
    secret = token or get_token()
    return HfApi(endpoint=endpoint, token=token), endpoint, secret


# --- errors ------------------------------------------------------------------------------------


def _scrub(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret else text


def _server_message(exc: Any) -> str:
    """The Hub's own one-line explanation (X-Error-Message or JSON error), if any."""
    resp = getattr(exc, "response", None)
    if resp is None:
        return ""
    msg = resp.headers.get("X-Error-Message") or ""
    if not msg:
        try:
            body = resp.json()
            msg = body.get("error", "") if isinstance(body, dict) else ""
        except Exception:  # not JSON: no server explanation
            msg = ""
    return str(msg).splitlines()[0][:200] if msg else ""


def _http_message(status: int, step: str, repo_id: str, endpoint: str, server: str) -> str:
    why = f" (Hub says: {server})" if server else ""
    if status == 401:
        return (
            f"{step}: the Hub at {endpoint} rejected the token (401 Unauthorized){why}. Set "
            "HF_TOKEN to a valid token with write access, or run `hf auth login`."
        )
    if status == 403:
        return (
            f"{step}: this token may not write to {repo_id} (403 Forbidden){why}. Use a token "
            f"with write access to the '{repo_id.split('/')[0]}' namespace."
        )
    if status == 404:
        return (
            f"{step}: {repo_id} or its revision was not found on {endpoint} (404){why}. Check "
            "--repo-id and HF_ENDPOINT; a private repo also answers 404 to a token without access."
        )
    if status == 409:
        return f"{step}: conflict on {repo_id} (409){why}."
    if status == 412:
        return (
            f"{step}: {repo_id} changed on the Hub while publishing (412 Precondition Failed: "
            "main moved past the commit this publish started from). Nothing was committed; run "
            "`corpus publish` again to publish on top of the new head."
        )
    if status >= 500:
        return (
            f"{step}: the Hub answered {status}{why}. Nothing was committed by this step; try "
            "again later (a rerun compares with the Hub and only publishes what is missing)."
        )
    return f"{step}: the Hub answered {status}{why}."


def transport_errors() -> tuple[type[BaseException], ...]:
    """Base classes of the HTTP client's errors: huggingface_hub 2.x sends with httpx2."""
    import importlib

    found = []
    for name in ("httpx2", "httpx"):
        try:
            found.append(importlib.import_module(name).HTTPError)
        except ImportError:
            continue
    return tuple(found)


@contextmanager
def _hub_errors(step: str, repo_id: str, endpoint: str, secret: str | None) -> Iterator[None]:
    """Turn huggingface_hub / network errors into CorpusError with an actionable message."""
    from huggingface_hub.errors import HfHubHTTPError

    transport = transport_errors()

    try:
        yield
    except CorpusError as exc:
        raise CorpusError(_scrub(str(exc), secret), exc.exit_code) from None
    except Exception as exc:
        # huggingface_hub wraps some failures (e.g. LFS uploads in RuntimeError): find the cause.
        cause = _http_cause(exc, HfHubHTTPError, *transport)
        if isinstance(cause, HfHubHTTPError):
            status = cause.response.status_code if cause.response is not None else 0
            msg = _http_message(status, step, repo_id, endpoint, _server_message(cause))
            code = ExitCode.BAD_INPUT if status in (401, 403, 404) else ExitCode.FAILURE
        elif isinstance(cause, transport):
            msg = f"{step}: cannot reach the Hub at {endpoint} ({type(cause).__name__}: {cause})"
            code = ExitCode.FAILURE
        elif isinstance(exc, (ValueError, RuntimeError, OSError)):
            # ValueError: the Hub rejected the card's YAML; others: local I/O or client errors.
            msg, code = f"{step}: {exc}", ExitCode.FAILURE
        else:
            raise
        raise CorpusError(_scrub(msg, secret), code) from None


def _http_cause(exc: BaseException, *types: type[BaseException]) -> BaseException | None:
    """The first exception of ``types`` in ``exc``'s cause/context chain."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, types):
            return cur
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return None


# --- remote state ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Remote:
    head: str | None
    tags: dict[str, str]  # name -> commit
    files: dict[str, str]  # managed path -> oid (git blob sha1, or sha256 for LFS files)


def _remote_state(api: HfApi, repo_id: str) -> _Remote:
    refs = api.list_repo_refs(repo_id, repo_type="dataset")
    head = next((b.target_commit for b in refs.branches if b.name == "main"), None)
    files: dict[str, str] = {}
    if head:
        for entry in api.list_repo_tree(
            repo_id, recursive=True, revision=head, repo_type="dataset"
        ):
            lfs = getattr(entry, "lfs", None)
            if hasattr(entry, "blob_id") and is_managed(entry.path):
                files[entry.path] = lfs.sha256 if lfs else entry.blob_id
    return _Remote(head, {t.name: t.target_commit for t in refs.tags}, files)


def _local_files(staged: Path) -> dict[str, tuple[str, str]]:
    """path -> (git blob sha1, sha256) for every staged file."""
    out = {}
    for f in sorted(p for p in staged.rglob("*") if p.is_file()):
        data = f.read_bytes()
        blob = hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()
        out[f.relative_to(staged).as_posix()] = (blob, hashlib.sha256(data).hexdigest())
    return out


def _unchanged(local: dict[str, tuple[str, str]], remote: _Remote) -> bool:
    if remote.head is None or set(local) != set(remote.files):
        return False
    return all(remote.files[p] in oids for p, oids in local.items())


def _head_build_tag(remote: _Remote, short: str) -> str | None:
    """A build tag for this content that already points at main's head."""
    names = [
        n
        for n, c in remote.tags.items()
        if c == remote.head and (bt := parse_build_tag(n)) and bt.short_hash == short
    ]
    return max(names) if names else None


def _fresh_tag(chash: str, day: date, taken: dict[str, str]) -> str:
    """Today's tag for this content; ``.2``, ``.3``... when the same rows come back the same day."""
    base = build_tag(chash, day)
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}.{n}"
    return name


# --- public API --------------------------------------------------------------------------------


def _check_args(repo_id: str, tag: str | None) -> None:
    _check_repo_id(repo_id)
    if tag is not None and (not _USER_TAG_RE.match(tag) or ".." in tag):
        raise BadInputError(f"--tag {tag!r}: use letters, digits, '.', '_' and '-'")


def _choose_tag(
    staged: Staged, remote: _Remote, chash: str, day: date, tag: str | None, repo_id: str
) -> tuple[str, bool]:
    """(the build's tag, whether the Hub already holds exactly this build under it).

    Writes the card for the chosen tag into ``staged``. The head's own build tag is reused when
    the whole build (rows, reports, card) is unchanged; same rows with a new card or report get
    a fresh tag; ``--tag`` names it explicitly and may not move an existing tag.
    """
    if tag is not None and tag in remote.tags and remote.tags[tag] != remote.head:
        raise CorpusError(f"tag {tag} already exists on {repo_id}; choose another --tag")
    reused = tag or _head_build_tag(remote, chash[:SHORT_HASH_LEN])
    name = reused or _fresh_tag(chash, day, remote.tags)
    write_card(staged, repo_id=repo_id, tag=name)
    if _unchanged(_local_files(staged.folder), remote):
        return name, True
    if tag is not None and tag in remote.tags:
        # The tag names the head's build, and these rows differ: committing would leave main
        # on an untagged commit that no rerun could tag.
        raise CorpusError(
            f"tag {tag} already names another build on {repo_id}; choose another --tag"
        )
    if reused and tag is None:
        # Same rows as the head's build, but the card or reports changed: a new tag.
        name = _fresh_tag(chash, day, remote.tags)
        write_card(staged, repo_id=repo_id, tag=name)
    return name, False


def publish_dataset(
    dataset: Path,
    repo_id: str,
    *,
    private: bool = False,
    tag: str | None = None,
    force: bool = False,
    token: str | None = None,
    endpoint: str | None = None,
    today: date | None = None,
) -> PublishResult:
    """Publish one build to the Hub dataset ``repo_id``: one commit on main plus one tag.

    Nothing is committed when the Hub already holds exactly this build (``changed=False``).
    ``endpoint`` defaults to ``HF_ENDPOINT``; ``token`` to ``HF_TOKEN`` or the cached login.
    Raises CorpusError with an actionable message on refusal (falsification not PASS and no
    ``force``), bad token (401), no permission (403), a concurrent publish (412), Hub errors.
    """
    dataset = Path(dataset)
    _check_args(repo_id, tag)
    require_pass(dataset, force)  # refuse before any network traffic
    chash = content_hash(dataset)
    day = today or datetime.now(UTC).date()
    api, endpoint, secret = _api(endpoint, token)
    if not secret:
        raise BadInputError(
            "no Hugging Face token: set HF_TOKEN (write access) or run `hf auth login`"
        )
    with tempfile.TemporaryDirectory(prefix="corpus-publish-") as tmp:
        # Everything that can fail locally (card, validation, load_dataset) fails here, before
        # the Hub is touched: no repo is created for a build that could not be published.
        staged = prepare(dataset, Path(tmp) / "stage", force)
        write_card(staged, repo_id=repo_id, tag=_fresh_tag(chash, day, {}))
        return _publish_staged(api, staged, repo_id, chash, day, tag, private, endpoint, secret)


def _publish_staged(
    api: HfApi,
    staged: Staged,
    repo_id: str,
    chash: str,
    day: date,
    tag: str | None,
    private: bool,
    endpoint: str,
    secret: str | None,
) -> PublishResult:
    """Create the repo if needed, commit the staged build unless the Hub holds it, tag it."""
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    with _hub_errors("checking the repo", repo_id, endpoint, secret):
        existed = api.repo_exists(repo_id, repo_type="dataset")
    with _hub_errors("creating the repo", repo_id, endpoint, secret):
        if not existed:
            api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    remote = _Remote(None, {}, {})
    try:
        with _hub_errors("publishing", repo_id, endpoint, secret):
            remote = _remote_state(api, repo_id)
            name, unchanged = _choose_tag(staged, remote, chash, day, tag, repo_id)
            if unchanged:
                assert remote.head is not None
                if name not in remote.tags:  # an earlier run committed but could not tag
                    _create_tag(api, repo_id, name, remote.head, endpoint, secret)
                return PublishResult(remote.head, name, False, _url(endpoint, repo_id, name))
            local = _local_files(staged.folder)
            ops: list[Any] = [CommitOperationAdd(p, str(staged.folder / p)) for p in local]
            ops += [CommitOperationDelete(p) for p in remote.files if p not in local]
            info = api.create_commit(
                repo_id,
                ops,
                commit_message=f"Publish build {name}",
                commit_description=f"Content hash (sha256 over data files): {chash}",
                repo_type="dataset",
                parent_commit=remote.head,
            )
    except CorpusError:
        if not existed:
            _drop_new_repo(api, repo_id, remote.head)
        raise
    _create_tag(api, repo_id, name, info.oid, endpoint, secret)
    return PublishResult(info.oid, name, True, _url(endpoint, repo_id, name))


def _create_tag(
    api: HfApi, repo_id: str, name: str, commit: str, endpoint: str, secret: str | None
) -> None:
    try:
        with _hub_errors(f"tagging {name}", repo_id, endpoint, secret):
            api.create_tag(
                repo_id, tag=name, revision=commit, repo_type="dataset", tag_message=name
            )
    except CorpusError as exc:
        raise CorpusError(
            f"{exc}\nThe build is committed as {commit} but has no tag yet; run `corpus publish` "
            "again to add it (nothing will be uploaded twice).",
            exc.exit_code,
        ) from None


def _drop_new_repo(api: HfApi, repo_id: str, initial_head: str | None) -> None:
    """Undo a repo this publish created, if main is still where creation left it (best effort)."""
    try:
        refs = api.list_repo_refs(repo_id, repo_type="dataset")
        head = next((b.target_commit for b in refs.branches if b.name == "main"), None)
        if head == initial_head:
            api.delete_repo(repo_id, repo_type="dataset", missing_ok=True)
    except Exception:  # the error being raised already tells the user what went wrong
        return


def _url(endpoint: str, repo_id: str, tag: str) -> str:
    return f"{endpoint}/datasets/{repo_id}/tree/{tag}"


def latest_build_tag(
    repo_id: str, *, token: str | None = None, endpoint: str | None = None
) -> BuildTag | None:
    """The newest build tag on ``repo_id`` (None if the repo or any build tag is missing).

    "Newest" follows main's history (a tag on a later commit wins), then the tag name.
    """
    from huggingface_hub.errors import RepositoryNotFoundError

    _check_repo_id(repo_id)
    api, endpoint, secret = _api(endpoint, token)
    with _hub_errors("reading tags", repo_id, endpoint, secret):
        try:
            refs = api.list_repo_refs(repo_id, repo_type="dataset")
        except RepositoryNotFoundError:
            return None
        tags = [bt for t in refs.tags if (bt := parse_build_tag(t.name, t.target_commit))]
        if not tags:
            return None
        history = [c.commit_id for c in api.list_repo_commits(repo_id, repo_type="dataset")]
    position = {sha: i for i, sha in enumerate(reversed(history))}  # oldest = 0
    return max(tags, key=lambda t: (position.get(t.commit, -1), t.day, t.name))


def needs_publish(
    dataset: Path, repo_id: str, *, token: str | None = None, endpoint: str | None = None
) -> bool:
    """True when the rows of ``dataset`` differ from the newest published build's."""
    latest = latest_build_tag(repo_id, token=token, endpoint=endpoint)
    return latest is None or latest.short_hash != content_hash(dataset)[:SHORT_HASH_LEN]
