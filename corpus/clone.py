"""Safe, pinned, idempotent git fetches of the corpus sources (through ``corpus.gitrun``).

Every repository lands in ``<cache_dir>/<owner>/<name>``, a work tree checked out (detached)
at its pinned commit. Only that commit is fetched (``--depth 1`` by SHA where the server
allows it; a full fetch of branches and tags otherwise), and ``HEAD`` is verified against the
pin. When the pinned commit is already present nothing touches the network.

The repositories are untrusted input, so every git command runs through ``corpus.gitrun``'s
hardened runner (no hooks — ``git init --template=`` copies none either —, no fsmonitor, no
submodules, no credential helpers or prompts, allowed transports only, no LFS downloads; see
that module). A cached checkout is verified clean with ``git status``: its config is ours (made
by ``git init``), so no filter or hook of the repository's can run.

The user's own ``url.<base>.insteadOf`` rules still apply (fetch and ``ls-remote`` both honour
them), which is how a mirror is used instead of GitHub.

Readers of a checkout use ``iter_rust_files`` and ``safe_read``, which never follow a
symlink out of the repository and never read anything but regular files.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from corpus.defaults import NETWORK_RETRIES
from corpus.errors import BadInputError, CorpusError
from corpus.gitrun import ALLOWED_PROTOCOLS, Git, GitError, foreign_settings
from corpus.gitrun import environment as git_environment

if TYPE_CHECKING:
    from filelock import BaseFileLock

    from corpus.sources import Source

__all__ = [
    "ALLOWED_PROTOCOLS",
    "CloneError",
    "CloneEvent",
    "CloneFailure",
    "CloneResult",
    "UnsafePathError",
    "branch_tip",
    "clone_all",
    "clone_source",
    "default_cache_dir",
    "git_environment",
    "is_bad_path",
    "iter_rust_files",
    "repo_dir",
    "safe_read",
]

REMOTE = "origin"
# The pin is also kept under this ref so that no gc can ever drop it.
PIN_REF = "refs/corpus/pin"


class CloneError(CorpusError):
    """A repository could not be fetched or checked out at its pin."""

    def __init__(
        self,
        message: str,
        *,
        failures: Sequence[CloneFailure] = (),
        results: Sequence[CloneResult] = (),
    ) -> None:
        super().__init__(message)
        self.failures = list(failures)
        self.results = list(results)


class UnsafePathError(CorpusError):
    """A path that would read outside the repository, or something that is not a file."""


@dataclass(frozen=True)
class CloneResult:
    """One repository checked out at its pin.

    ``fetched`` is False when the commit was already in the cache (no network work);
    ``method`` is ``cached``, ``shallow`` (one commit by SHA) or ``full`` (branches and tags).
    """

    repo: str
    path: Path
    commit: str
    fetched: bool
    method: str = "cached"
    seconds: float = 0.0
    attempts: int = 0


@dataclass(frozen=True)
class CloneFailure:
    """One repository that could not be cloned, and why."""

    repo: str
    message: str
    seconds: float = 0.0


class EventKind(StrEnum):
    """What a progress event reports."""

    START = "start"
    RETRY = "retry"
    FALLBACK = "fallback"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class CloneEvent:
    """A progress report from ``clone_source`` / ``clone_all`` (for bars and logs)."""

    kind: EventKind
    repo: str
    message: str = ""
    index: int = 0
    total: int = 1
    result: CloneResult | None = None


Progress = Callable[[CloneEvent], None]


# --------------------------------------------------------------------------- paths


def default_cache_dir() -> Path:
    """Where clones live: ``$CORPUS_CACHE_DIR``, else ``$XDG_CACHE_HOME/rustdoc-corpus/repos``,
    else ``~/.cache/rustdoc-corpus/repos``."""
    explicit = os.environ.get("CORPUS_CACHE_DIR")
    if explicit:
        # Resolved once, here: git runs in other directories, where a relative path means
        # something else ("fatal: not a git repository" on every fresh clone).
        return Path(explicit).expanduser().absolute()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "rustdoc-corpus" / "repos"


def repo_dir(cache_dir: Path, repo: str) -> Path:
    """The checkout of ``repo`` (``owner/name``): ``cache_dir/owner/name``."""
    owner, _, name = repo.partition("/")
    if not owner or not name or "/" in name or {owner, name} & {".", ".."}:
        raise BadInputError(f"repo {repo!r} is not 'owner/name'")
    return Path(cache_dir) / owner / name


# --------------------------------------------------------------------------- git plumbing


def _stderr(exc: Exception) -> str:
    """The useful part of a failed git command's stderr, one ``|``-joined line."""
    text = str(getattr(exc, "stderr", "") or exc).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    lines = [ln for ln in lines if not _BOILERPLATE.search(ln)] or lines
    return " | ".join(lines) or str(exc)


# git's generic advice after a failed fetch; the line before it says what went wrong.
_BOILERPLATE = re.compile(
    r"^(fatal: )?could not read from remote repository\.?$|^please make sure you have|"
    r"^and the repository exists\.?$",
    re.IGNORECASE,
)


# A server that refuses to hand out one commit by SHA (or shallow history): fall back to a
# full fetch of branches and tags, where the pin should then appear.
_WANT_REFUSED = re.compile(
    r"not our ref|unadvertised object|couldn't find remote ref|no such remote ref|"
    r"does not support shallow|shallow.*not supported|want .* not valid",
    re.IGNORECASE,
)
# Failures that retrying cannot fix.
_PERMANENT = re.compile(
    r"does not appear to be a git repository|repository .* not found|not found$|"
    r"authentication failed|could not read (username|password)|terminal prompts disabled|"
    r"transport .* not allowed|protocol .* is not supported|unsupported protocol|"
    r"permission denied|returned error: 40[0-4]|invalid refspec|not a valid object name|"
    r"no such file or directory",
    re.IGNORECASE,
)


class _GitFailed(Exception):
    """A git command failed; ``kind`` is ``want_refused``, ``permanent`` or ``transient``."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


def _classify(message: str) -> str:
    if _WANT_REFUSED.search(message):
        return "want_refused"
    if _PERMANENT.search(message):
        return "permanent"
    return "transient"


def _network(
    op: Callable[[], Any],
    *,
    what: str,
    repo: str,
    retries: int,
    backoff: float,
    progress: Progress | None,
    counter: list[int],
) -> Any:
    """Run the network operation ``op``; retry transient failures with exponential backoff."""
    attempt = 0
    while True:
        attempt += 1
        counter[0] += 1
        try:
            return op()
        except GitError as exc:
            message = _stderr(exc)
            kind = _classify(message)
            if kind != "transient" or attempt > retries:
                raise _GitFailed(message, kind) from exc
            delay = backoff * (2 ** (attempt - 1))
            if progress:
                progress(
                    CloneEvent(
                        EventKind.RETRY,
                        repo,
                        f"{what} failed (attempt {attempt}/{retries + 1}): {message}; "
                        f"retrying in {delay:.1f}s",
                    )
                )
            time.sleep(delay)


def _has_commit(g: Git, sha: str) -> bool:
    """Whether the commit object ``sha`` is in the repository (no network)."""
    return g.ok("cat-file", "-e", f"{sha}^{{commit}}")


def _head(g: Git) -> str | None:
    try:
        return g.run("rev-parse", "--verify", "-q", "HEAD^{commit}").strip() or None
    except GitError:
        return None


def _is_clean(g: Git) -> bool:
    """No modified, deleted, untracked or ignored files: nothing a person or a build left in the
    cache may reach the extractor (an ignored `gen/x.rs` would pass for pinned code)."""
    out = g.run(
        "status", "--porcelain=v1", "--untracked-files=all", "--ignored", "--ignore-submodules=all"
    )
    return not out.strip()


def _checkout(g: Git, source: Source) -> None:
    g.run("update-ref", PIN_REF, source.commit)
    g.run("checkout", "--force", "--detach", "--no-recurse-submodules", source.commit)
    # Files a previous checkout or a person left behind must not reach the extractor.
    g.run("clean", "-ffdxq")


def _verify_head(g: Git, source: Source) -> None:
    head = _head(g)
    if head != source.commit:
        raise CloneError(
            f"{source.repo}: HEAD is {head} after checkout, expected the pin {source.commit}"
        )


def _set_remote(g: Git, url: str) -> None:
    try:
        current: str | None = g.run("config", "--local", "--get", f"remote.{REMOTE}.url").strip()
    except GitError:
        current = None
    if current is None:
        g.run("remote", "add", REMOTE, url)
    elif current != url:
        g.run("remote", "set-url", REMOTE, url)


def _is_shallow(g: Git) -> bool:
    return g.run("rev-parse", "--is-shallow-repository").strip() == "true"


def _fetch_pin(
    g: Git,
    source: Source,
    *,
    retries: int,
    backoff: float,
    progress: Progress | None,
    counter: list[int],
) -> str:
    """Fetch the pinned commit into the repo at ``g``; return ``shallow`` or ``full``."""
    net = dict(repo=source.repo, retries=retries, backoff=backoff, progress=progress)
    common = ("--no-tags", "--no-recurse-submodules", "--no-write-fetch-head", "--quiet")
    try:
        _network(
            lambda: g.run("fetch", *common, "--depth=1", REMOTE, f"+{source.commit}:{PIN_REF}"),
            what="shallow fetch of the pinned commit",
            counter=counter,
            **net,
        )
        return "shallow"
    except _GitFailed as exc:
        if exc.kind != "want_refused":
            raise CloneError(f"{source.repo}: fetching {source.url} failed: {exc}") from exc
        if progress:
            progress(
                CloneEvent(
                    EventKind.FALLBACK,
                    source.repo,
                    f"server refused the commit by SHA ({exc}); fetching all branches and tags",
                )
            )
    refspecs = ("+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*")
    deepen = ("--unshallow",) if _is_shallow(g) else ()
    try:
        _network(
            lambda: g.run("fetch", *common, *deepen, REMOTE, *refspecs),
            what="full fetch",
            counter=counter,
            **net,
        )
    except _GitFailed as exc:
        raise CloneError(f"{source.repo}: fetching {source.url} failed: {exc}") from exc
    if not _has_commit(g, source.commit):
        raise CloneError(
            f"{source.repo}: commit {source.commit} does not exist at {source.url} "
            f"(on no branch or tag; was it force-pushed away?). "
            f"Check the pin in sources.toml or run `corpus sources update`."
        )
    return "full"


def _init(g: Git, path: Path) -> None:
    # An empty --template= copies no hooks, not even ones from the user's init.templateDir.
    g.run("init", "--quiet", "--template=", str(path))


# --------------------------------------------------------------------------- cloning


def _clone_locked(
    source: Source,
    dest: Path,
    runner: Callable[[Path], Git],
    *,
    retries: int,
    backoff: float,
    progress: Progress | None,
) -> CloneResult:
    start = time.perf_counter()
    counter = [0]
    fetch = dict(retries=retries, backoff=backoff, progress=progress, counter=counter)

    if (dest / ".git").is_dir() and _tampered(runner(dest), source, dest, progress):
        shutil.rmtree(dest)
    if (dest / ".git").is_dir():
        g = runner(dest)
        _set_remote(g, source.url)
        if _has_commit(g, source.commit):
            if _head(g) != source.commit or not _is_clean(g):
                _checkout(g, source)
            _verify_head(g, source)
            return CloneResult(
                source.repo, dest, source.commit, False, "cached", time.perf_counter() - start
            )
        method = _fetch_pin(g, source, **fetch)
        _checkout(g, source)
        _verify_head(g, source)
        return CloneResult(
            source.repo, dest, source.commit, True, method, time.perf_counter() - start, counter[0]
        )

    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise CloneError(
            f"{source.repo}: {dest} exists but is not a git checkout; move it away or delete it"
        )
    # Build the clone beside its final place and rename it in: an interrupted run leaves no
    # half-made checkout that a later run could mistake for a finished one.
    dest.parent.mkdir(parents=True, exist_ok=True)
    for stale in dest.parent.glob(f".{dest.name}.partial-*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))
    try:
        g = runner(tmp)
        _init(g, tmp)
        _set_remote(g, source.url)
        method = _fetch_pin(g, source, **fetch)
        _checkout(g, source)
        _verify_head(g, source)
        if dest.exists():
            dest.rmdir()  # the empty directory checked above
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return CloneResult(
        source.repo, dest, source.commit, True, method, time.perf_counter() - start, counter[0]
    )


def _tampered(g: Git, source: Source, dest: Path, progress: Progress | None) -> bool:
    """Whether a cached checkout's config holds settings the project never writes (a filter,
    hook path or alias someone added): then it is cloned afresh rather than trusted."""
    foreign = foreign_settings(g)
    if foreign and progress:
        shown = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
        progress(
            CloneEvent(
                EventKind.FALLBACK,
                source.repo,
                f"{dest}/.git/config has settings corpus never writes ({shown}); cloning afresh",
            )
        )
    return bool(foreign)


def checkout_lock(cache_dir: Path, repo: str) -> BaseFileLock:
    """The lock guarding one cached checkout.

    ``clone_source`` holds it while it fetches and checks out; a reader of the work tree holds
    it too (``with checkout_lock(...): clone_source(...); read files``), or another run sharing
    the cache could check out a different pin under it. Re-entrant within a thread.
    """
    from filelock import FileLock

    dest = repo_dir(cache_dir, repo)
    dest.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(dest.parent / f".{dest.name}.lock"), is_singleton=True)


def clone_source(
    source: Source,
    cache_dir: Path | None = None,
    *,
    retries: int = NETWORK_RETRIES,
    backoff: float = 1.0,
    progress: Progress | None = None,
) -> CloneResult:
    """Make ``repo_dir(cache_dir, source.repo)`` a checkout of ``source.commit``.

    Idempotent: when the commit is already present nothing goes over the network. Transient
    network failures are retried ``retries`` times, waiting ``backoff``, 2x, 4x... seconds.
    Raises ``CloneError`` naming the repository and the reason.
    """
    from corpus.gitrun import session

    cache_dir = Path(cache_dir).absolute() if cache_dir is not None else default_cache_dir()
    dest = repo_dir(cache_dir, source.repo)
    # Two runs (a scheduled rebuild and a person) must not fetch into the same repo at once.
    lock = checkout_lock(cache_dir, source.repo)
    try:
        with lock, session() as runner:
            return _clone_locked(
                source, dest, runner, retries=retries, backoff=backoff, progress=progress
            )
    except GitError as exc:
        raise CloneError(f"{source.repo}: git failed: {_stderr(exc)}") from exc
    except OSError as exc:
        raise CloneError(f"{source.repo}: {exc}") from exc


def clone_all(
    sources: Sequence[Source],
    cache_dir: Path | None = None,
    *,
    retries: int = NETWORK_RETRIES,
    backoff: float = 1.0,
    progress: Progress | None = None,
    keep_going: bool = True,
) -> list[CloneResult]:
    """Clone every source (in order); return their results.

    With ``keep_going`` a failure does not stop the others; at the end a ``CloneError``
    listing every failed repository is raised, carrying ``.results`` and ``.failures``.
    """
    cache_dir = Path(cache_dir).absolute() if cache_dir is not None else default_cache_dir()
    results: list[CloneResult] = []
    failures: list[CloneFailure] = []
    total = len(sources)
    for i, src in enumerate(sources):
        if progress:
            progress(CloneEvent(EventKind.START, src.repo, src.commit, i, total))
        start = time.perf_counter()
        try:
            res = clone_source(src, cache_dir, retries=retries, backoff=backoff, progress=progress)
        except CorpusError as exc:
            fail = CloneFailure(src.repo, str(exc), time.perf_counter() - start)
            failures.append(fail)
            if progress:
                progress(CloneEvent(EventKind.FAILED, src.repo, str(exc), i, total))
            if not keep_going:
                break
            continue
        results.append(res)
        if progress:
            progress(CloneEvent(EventKind.DONE, src.repo, res.method, i, total, res))
    if failures:
        lines = "\n".join(f"  {f.message}" for f in failures)
        raise CloneError(
            f"{len(failures)} of {total} repositories failed to clone:\n{lines}",
            failures=failures,
            results=results,
        )
    return results


def branch_tip(
    source: Source,
    *,
    retries: int = NETWORK_RETRIES,
    backoff: float = 1.0,
    progress: Progress | None = None,
) -> str:
    """The newest commit of ``source.branch`` at ``source.url`` (``git ls-remote``)."""
    from corpus.gitrun import session

    ref = f"refs/heads/{source.branch}"
    try:
        with (
            session() as runner,
            tempfile.TemporaryDirectory(prefix="corpus-lsremote-") as cwd,
        ):
            g = runner(Path(cwd))
            out = _network(
                lambda: g.run("ls-remote", "--exit-code", "--", source.url, ref),
                what="ls-remote",
                repo=source.repo,
                retries=retries,
                backoff=backoff,
                progress=progress,
                counter=[0],
            )
    except _GitFailed as exc:
        raise CloneError(f"{source.repo}: ls-remote {source.url} failed: {exc}") from exc
    except GitError as exc:
        raise CloneError(f"{source.repo}: ls-remote {source.url} failed: {_stderr(exc)}") from exc
    for line in str(out).splitlines():
        sha, _, name = line.partition("\t")
        if name.strip() == ref:
            return sha.strip()
    raise CloneError(f"{source.repo}: branch {source.branch!r} not found at {source.url}")


# --------------------------------------------------------------------------- safe reading


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def safe_read(repo_root: Path, rel_path: str) -> bytes:
    """The bytes of the regular file ``rel_path`` (POSIX, relative) inside ``repo_root``.

    Raises ``UnsafePathError`` for an absolute path, ``..`` escapes, anything under ``.git``,
    a symlink (at any level) resolving outside the repository, or something that is not a
    regular file (a FIFO would block, a device could be anything).
    """
    rel = PurePosixPath(rel_path)
    if rel.is_absolute() or not rel.parts or ".." in rel.parts or ".git" in rel.parts:
        raise UnsafePathError(f"{repo_root}: refusing to read {rel_path!r} (not inside the repo)")
    root = os.path.realpath(repo_root)
    real = os.path.realpath(os.path.join(root, *rel.parts))
    if not _inside(real, root) or ".git" in Path(real).relative_to(root).parts:
        raise UnsafePathError(
            f"{repo_root}: refusing to read {rel_path!r}: it resolves to {real}, "
            "outside the repository"
        )
    try:
        # O_NOFOLLOW: the resolved path must not have become a symlink in between.
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise UnsafePathError(f"{repo_root}: cannot read {rel_path!r}: {exc.strerror}") from exc
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafePathError(f"{repo_root}: refusing to read {rel_path!r}: not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read()
    finally:
        os.close(fd)


_BAD_PATH_CHAR = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def is_bad_path(rel_path: str) -> bool:
    """A path no record may carry: control characters (a newline breaks git's object names,
    an escape sequence a terminal) or bytes that are not UTF-8 (no parquet string holds them)."""
    return _BAD_PATH_CHAR.search(rel_path) is not None


def iter_rust_files(repo_root: Path, bad: list[str] | None = None) -> list[str]:
    """Sorted POSIX relative paths of the regular ``*.rs`` files in ``repo_root``.

    ``.git`` and cache directories (holding a ``CACHEDIR.TAG``, as Cargo's ``target/`` does)
    are skipped; symlinks are never followed or listed: git stores a symlink as a blob holding
    its target path, so a record at a link's path could not be checked against its blob, and
    a link inside the repository points at a file that is listed under its real path anyway.
    Paths with control characters or non-UTF-8 bytes (:func:`is_bad_path`) are left out, and
    appended to ``bad`` when given (the extractor counts them as ``bad_path`` drops).
    """
    root = os.path.realpath(repo_root)
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = [
            d
            for d in dirnames
            if d != ".git" and not os.path.isfile(os.path.join(dirpath, d, "CACHEDIR.TAG"))
        ]
        for fname in filenames:
            if not fname.endswith(".rs"):
                continue
            full = os.path.join(dirpath, fname)
            try:
                st = os.lstat(full)
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode):
                continue
            rel = Path(os.path.relpath(full, root)).as_posix()
            if not is_bad_path(rel):
                found.append(rel)
            elif bad is not None:
                bad.append(rel)
    if bad is not None:
        bad.sort()
    return sorted(found)
