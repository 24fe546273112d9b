"""A loopback Hugging Face Hub for tests: the write protocol of huggingface_hub 2.x, backed by git.

Each Hub repo is a bare git repository; commits are built with git plumbing (hash-object,
mktree, commit-tree, update-ref with the expected old value, so a stale parent can never win).
LFS objects live beside the bare repo under ``lfs/objects``; git holds their pointer files.
Reads (repo info, refs, commits, tree, paths-info, resolve with ranges) are served from the same
repositories, so the real ``huggingface_hub`` client and ``datasets.load_dataset`` run unmodified.

Faithful to the parts the project relies on (see shared/notes/hub-protocol.md):
- bearer tokens: a known token is accepted, any other gets 401 "Invalid credentials ...";
  writes without a token get 401; a token may only write to its own namespaces (else 403);
- ``parentCommit`` that is not the branch head -> 412, nothing written;
- ``fail_next_commit(status)`` makes the next commit answer ``status`` without writing;
- preupload returns the current blob oid (sha1) / LFS oid (sha256) so unchanged files are skipped.

Not implemented: Xet, pull requests, multipart LFS, pagination (everything fits in one page).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

LFS_POINTER = "version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n"
_POINTER_RE = re.compile(
    rb"^version https://git-lfs\.github\.com/spec/v1\noid sha256:([0-9a-f]{64})\nsize (\d+)\n$"
)
_REF_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$")
_SHA_RE = re.compile(r"^[0-9a-f]{40}$")
# Files the Hub stores through LFS: binary data, like the real Hub's default .gitattributes.
_LFS_SUFFIXES = (".parquet", ".arrow", ".bin", ".safetensors", ".zst", ".gz")
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "hub",
    "GIT_AUTHOR_EMAIL": "hub@localhost",
    "GIT_COMMITTER_NAME": "hub",
    "GIT_COMMITTER_EMAIL": "hub@localhost",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


class HubError(Exception):
    """An HTTP error answer: status, message, and the Hub's X-Error-Code when it has one."""

    def __init__(self, status: int, message: str, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.extra = extra


def _git(repo: Path, *args: str, input: bytes | None = None) -> bytes:
    env = {**os.environ, **_GIT_ENV}
    proc = subprocess.run(
        ["git", "--git-dir", str(repo), *args], input=input, capture_output=True, env=env
    )
    if proc.returncode != 0:
        raise HubError(500, f"git {args[0]} failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout


@dataclass
class HubState:
    """Everything the server knows: where repos live, who may write, and injected failures."""

    root: Path
    tokens: dict[str, set[str]] = field(default_factory=dict)  # token -> writable namespaces
    lock: threading.RLock = field(default_factory=threading.RLock)
    private: dict[str, bool] = field(default_factory=dict)
    fail_commit_status: int | None = None
    race_repo: str | None = None  # commit as "someone else" to this repo before the next commit
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path), no headers

    def repo_dir(self, repo_id: str, kind: str = "datasets") -> Path:
        return self.root / kind / f"{repo_id}.git"

    def lfs_path(self, repo_id: str, oid: str, kind: str = "datasets") -> Path:
        return self.repo_dir(repo_id, kind) / "lfs" / "objects" / oid[:2] / oid[2:4] / oid


class HubServer:
    """Start with ``HubServer(root, tokens={"tok": {"org"}}).start()``; ``.url`` is the endpoint.

    Hosts dataset repos (``/datasets/{id}``) and model repos (``/{id}``), each a bare git repo.
    """

    def __init__(self, root: Path, tokens: dict[str, set[str]]) -> None:
        self.state = HubState(Path(root), {t: set(ns) for t, ns in tokens.items()})
        self.state.root.mkdir(parents=True, exist_ok=True)
        handler = type("Handler", (_Handler,), {"state": self.state})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def start(self) -> HubServer:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def fail_next_commit(self, status: int = 500) -> None:
        """The next commit request answers ``status`` and writes nothing."""
        self.state.fail_commit_status = status

    def concurrent_commit_before_next(self, repo_id: str) -> None:
        """Just before the next commit request, another publisher commits to ``repo_id``."""
        self.state.race_repo = repo_id

    # Inspection helpers for tests (read the git repos directly, not through HTTP).
    def head(self, repo_id: str, branch: str = "main") -> str | None:
        """The branch head, or None for a repo without commits."""
        return _resolve(self.state.repo_dir(repo_id), branch)

    def commit_count(self, repo_id: str) -> int:
        """Number of commits on main."""
        head = self.head(repo_id)
        if head is None:
            return 0
        return int(_git(self.state.repo_dir(repo_id), "rev-list", "--count", head).strip())

    def tags(self, repo_id: str) -> dict[str, str]:
        """Tag name -> commit sha."""
        return _refs(self.state.repo_dir(repo_id), "refs/tags/")

    def repo_exists(self, repo_id: str, kind: str = "datasets") -> bool:
        """Whether the Hub repo exists (``kind``: datasets or models)."""
        return self.state.repo_dir(repo_id, kind).is_dir()

    def read_file(self, repo_id: str, rev: str, path: str, kind: str = "datasets") -> bytes:
        """A file's content at ``rev`` (LFS pointers resolved)."""
        repo = self.state.repo_dir(repo_id, kind)
        sha = _resolve(repo, rev)
        data = _git(repo, "cat-file", "blob", f"{sha}:{path}")
        m = _POINTER_RE.match(data)
        return self.state.lfs_path(repo_id, m.group(1).decode(), kind).read_bytes() if m else data


def _hub_date(dt: datetime) -> str:
    """The Hub's timestamp format (huggingface_hub parses exactly this)."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


# --- git helpers -------------------------------------------------------------------------------


def _resolve(repo: Path, rev: str) -> str | None:
    """Commit sha for a branch, tag or full sha; None when it does not exist."""
    if not repo.is_dir():
        return None
    if _SHA_RE.match(rev):
        candidates = [rev]
    elif _REF_NAME_RE.match(rev) and ".." not in rev:
        candidates = [f"refs/heads/{rev}", f"refs/tags/{rev}", rev]
    else:
        return None
    for cand in candidates:
        proc = subprocess.run(
            ["git", "--git-dir", str(repo), "rev-parse", "--verify", "-q", f"{cand}^{{commit}}"],
            capture_output=True,
            env={**os.environ, **_GIT_ENV},
        )
        if proc.returncode == 0:
            return proc.stdout.decode().strip()
    return None


def _refs(repo: Path, prefix: str) -> dict[str, str]:
    out = _git(repo, "for-each-ref", "--format=%(refname) %(objectname) %(*objectname)", prefix)
    refs = {}
    for line in out.decode().splitlines():
        name, obj, peeled = [*line.split(" "), ""][:3]
        refs[name[len(prefix) :]] = peeled or obj
    return refs


def _ls_tree(repo: Path, commit: str) -> dict[str, tuple[str, str]]:
    """path -> (mode, blob sha) for every file at ``commit``."""
    out = _git(repo, "ls-tree", "-r", "-z", commit)
    files = {}
    for entry in out.split(b"\0"):
        if not entry:
            continue
        meta, path = entry.split(b"\t", 1)
        mode, _typ, sha = meta.decode().split(" ")
        files[path.decode()] = (mode, sha)
    return files


def _mktree(repo: Path, files: dict[str, tuple[str, str]]) -> str:
    """Build nested trees bottom-up from a flat path -> (mode, sha) map."""
    children: dict[str, tuple[str, str, str]] = {}  # name -> (mode, type, sha)
    subdirs: dict[str, dict[str, tuple[str, str]]] = {}
    for path, (mode, sha) in files.items():
        head, _, rest = path.partition("/")
        if rest:
            subdirs.setdefault(head, {})[rest] = (mode, sha)
        else:
            children[head] = (mode, "blob", sha)
    for name, sub in subdirs.items():
        children[name] = ("040000", "tree", _mktree(repo, sub))
    body = b"".join(
        f"{mode} {typ} {sha}\t{name}".encode() + b"\0"
        for name, (mode, typ, sha) in sorted(children.items())
    )
    return _git(repo, "mktree", "-z", input=body).decode().strip()


def _direct_commit(repo: Path, branch: str, path: str, data: bytes) -> str:
    """Commit one file on ``branch`` with plumbing, as another client would."""
    head = _resolve(repo, branch)
    files = _ls_tree(repo, head) if head else {}
    files[path] = (
        "100644",
        _git(repo, "hash-object", "-w", "--stdin", input=data).decode().strip(),
    )
    args = ["commit-tree", _mktree(repo, files), "-m", f"Update {path}"]
    new = _git(repo, *(args + (["-p", head] if head else []))).decode().strip()
    _git(repo, "update-ref", f"refs/heads/{branch}", new, head or "0" * 40)
    return new


# --- the HTTP handler --------------------------------------------------------------------------

_ID = r"(?P<repo>[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*)"
_REV = r"(?P<rev>[^/]+)"
_KIND = r"(?P<kind>datasets|models)"
#: Model repos live at the root of the URL space (``/{id}/resolve/...``), datasets under
#: ``/datasets/``; an empty ``kind`` group marks a model route.
_MODEL = r"(?P<kind>)"
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(r"^/api/repos/create$"), "create_repo"),
    ("DELETE", re.compile(r"^/api/repos/delete$"), "delete_repo"),
    ("POST", re.compile(r"^/api/validate-yaml$"), "validate_yaml"),
    ("GET", re.compile(r"^/api/whoami-v2$"), "whoami"),
    ("POST", re.compile(rf"^/api/{_KIND}/{_ID}/preupload/{_REV}$"), "preupload"),
    ("POST", re.compile(rf"^/{_KIND}/{_ID}\.git/info/lfs/objects/batch$"), "lfs_batch"),
    ("POST", re.compile(rf"^{_MODEL}/{_ID}\.git/info/lfs/objects/batch$"), "lfs_batch"),
    ("PUT", re.compile(rf"^/lfs-upload/{_KIND}/{_ID}/(?P<oid>[0-9a-f]{{64}})$"), "lfs_put"),
    ("POST", re.compile(rf"^/lfs-verify/{_KIND}/{_ID}$"), "lfs_verify"),
    ("POST", re.compile(rf"^/api/{_KIND}/{_ID}/commit/{_REV}$"), "commit"),
    ("POST", re.compile(rf"^/api/{_KIND}/{_ID}/tag/{_REV}$"), "create_tag"),
    ("DELETE", re.compile(rf"^/api/{_KIND}/{_ID}/tag/{_REV}$"), "delete_tag"),
    ("POST", re.compile(rf"^/api/{_KIND}/{_ID}/branch/{_REV}$"), "create_branch"),
    ("GET", re.compile(rf"^/api/{_KIND}/{_ID}/refs$"), "refs"),
    ("GET", re.compile(rf"^/api/{_KIND}/{_ID}/commits/{_REV}$"), "commits"),
    ("GET", re.compile(rf"^/api/{_KIND}/{_ID}/tree/{_REV}(?:/(?P<path>.*))?$"), "tree"),
    ("POST", re.compile(rf"^/api/{_KIND}/{_ID}/paths-info/{_REV}$"), "paths_info"),
    ("GET", re.compile(rf"^/api/{_KIND}/{_ID}(?:/revision/{_REV})?$"), "info"),
    ("GET", re.compile(rf"^/datasets/{_ID}/resolve/{_REV}/(?P<path>.+)$"), "resolve"),
    ("HEAD", re.compile(rf"^/datasets/{_ID}/resolve/{_REV}/(?P<path>.+)$"), "resolve"),
    ("GET", re.compile(rf"^{_MODEL}/{_ID}/resolve/{_REV}/(?P<path>.+)$"), "resolve"),
    ("HEAD", re.compile(rf"^{_MODEL}/{_ID}/resolve/{_REV}/(?P<path>.+)$"), "resolve"),
]


class _Handler(BaseHTTPRequestHandler):
    state: HubState
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read ``state.requests`` instead (method and path only, never headers)."""

    # dispatch
    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        path = unquote(url.path)
        self.query = parse_qs(url.query)
        self.state.requests.append((method, path))
        self._body_cache: bytes | None = None
        try:
            for m, pattern, name in _ROUTES:
                match = pattern.match(path) if m == method else None
                if match:
                    groups = match.groupdict()
                    kind = groups.pop("kind", "datasets")
                    self.kind = kind or "models"
                    getattr(self, f"h_{name}")(**groups)
                    return
            raise HubError(404, f"no route for {method} {path}")
        except HubError as exc:
            self._error(exc)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # request / response helpers
    def _body(self) -> bytes:
        if self._body_cache is None:
            n = int(self.headers.get("Content-Length") or 0)
            self._body_cache = self.rfile.read(n) if n else b""
        return self._body_cache

    def _json_body(self) -> Any:
        try:
            return json.loads(self._body() or b"{}")
        except json.JSONDecodeError as exc:
            raise HubError(400, f"invalid JSON body: {exc}") from exc

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        headers = {"Content-Type": "application/json", **(headers or {})}
        headers.setdefault("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, obj: Any, status: int = 200) -> None:
        self._send(status, json.dumps(obj).encode())

    def _error(self, exc: HubError) -> None:
        self._body()  # drain, so keep-alive connections stay in sync
        headers = {"X-Error-Message": exc.message.splitlines()[0][:200]}
        if exc.code:
            headers["X-Error-Code"] = exc.code
        self._send(exc.status, json.dumps({"error": exc.message, **exc.extra}).encode(), headers)

    kind = "datasets"

    def _web(self, repo_id: str) -> str:
        """The web URL of a repo: datasets under /datasets/, models at the root."""
        prefix = "/datasets" if self.kind == "datasets" else ""
        return f"{self._base()}{prefix}/{repo_id}"

    # auth
    def _token(self) -> str | None:
        auth = self.headers.get("Authorization") or ""
        if not auth:
            return None
        if not auth.startswith("Bearer ") or auth[7:] not in self.state.tokens:
            raise HubError(401, "Invalid credentials in Authorization header")
        return auth[7:]

    def _require_write(self, repo_id: str) -> None:
        token = self._token()
        if token is None:
            raise HubError(401, "You must be authenticated to write to this repository")
        if repo_id.split("/")[0] not in self.state.tokens[token]:
            raise HubError(403, f"You don't have the rights to write to {repo_id}")

    def _require_read(self, repo_id: str) -> Path:
        token = self._token()
        repo = self.state.repo_dir(repo_id, self.kind)
        if not repo.is_dir():
            raise HubError(404, "Repository not found", "RepoNotFound")
        if self.state.private.get(repo_id) and (
            token is None or repo_id.split("/")[0] not in self.state.tokens[token]
        ):
            raise HubError(404, "Repository not found", "RepoNotFound")
        return repo

    def _rev(self, repo: Path, rev: str) -> str | None:
        """Commit for ``rev``; None for the main branch of an empty repo; 404 otherwise."""
        rev = unquote(rev)
        sha = _resolve(repo, rev)
        if sha is None:
            if rev == "main" and not _refs(repo, "refs/heads/"):
                return None
            raise HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        return sha

    # --- write endpoints ----------------------------------------------------------------------
    def h_create_repo(self) -> None:
        body = self._json_body()
        kinds = {"dataset": "datasets", "model": "models", None: "models"}
        if body.get("type") not in kinds:
            raise HubError(400, "this test Hub hosts datasets and models only")
        self.kind = kinds[body.get("type")]
        repo_id = f"{body.get('organization') or ''}/{body.get('name')}".lstrip("/")
        if "/" not in repo_id:
            raise HubError(400, "organization is required")
        self._require_write(repo_id)
        with self.state.lock:
            repo = self.state.repo_dir(repo_id, self.kind)
            if repo.is_dir():
                # The real Hub names the existing repo's url in its 409 answer.
                url = f"{self._web(repo_id)}"
                raise HubError(409, "You already created this dataset repo", url=url)
            repo.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                ["git", "init", "-q", "--bare", "-b", "main", str(repo)],
                check=True,
                env={**os.environ, **_GIT_ENV},
            )
            # huggingface_hub 2.x sends "visibility"; older clients sent "private".
            self.state.private[repo_id] = bool(body.get("private")) or body.get("visibility") in (
                "private",
                "protected",
            )
        self._json({"url": f"{self._web(repo_id)}", "name": repo_id})

    def h_delete_repo(self) -> None:
        body = self._json_body()
        self.kind = {"dataset": "datasets"}.get(body.get("type"), "models")
        repo_id = f"{body.get('organization') or ''}/{body.get('name')}".lstrip("/")
        self._require_write(repo_id)
        with self.state.lock:
            repo = self.state.repo_dir(repo_id, self.kind)
            if not repo.is_dir():
                raise HubError(404, "Repository not found", "RepoNotFound")
            subprocess.run(["rm", "-rf", str(repo)], check=True)
            self.state.private.pop(repo_id, None)
        self._json({})

    def h_validate_yaml(self) -> None:
        self._token()
        content = self._json_body().get("content", "")
        lines = content.splitlines()
        if lines and lines[0] == "---" and "---" in lines[1:]:
            block = "\n".join(lines[1 : lines[1:].index("---") + 1])
            try:
                meta = yaml.safe_load(block)
            except yaml.YAMLError as exc:
                self._json({"errors": [{"message": f"Invalid YAML: {exc}"}]}, 400)
                return
            if meta is not None and not isinstance(meta, dict):
                self._json({"errors": [{"message": "YAML metadata must be a mapping"}]}, 400)
                return
        self._json({"errors": [], "warnings": []})

    def h_whoami(self) -> None:
        token = self._token()
        if token is None:
            raise HubError(401, "Invalid credentials in Authorization header")
        orgs = sorted(self.state.tokens[token])
        self._json({"type": "user", "name": orgs[0], "orgs": [{"name": o} for o in orgs[1:]]})

    def _base(self) -> str:
        return f"http://{self.headers.get('Host')}"

    def h_preupload(self, repo: str, rev: str) -> None:
        self._require_write(repo)
        gitdir = self._require_read(repo)
        head = self._rev(gitdir, rev)
        current = _ls_tree(gitdir, head) if head else {}
        out = []
        for f in self._json_body().get("files", []):
            path = f["path"]
            lfs = path.endswith(_LFS_SUFFIXES) or f.get("size", 0) > 10 * 1024 * 1024
            oid = None
            if path in current:
                blob = _git(gitdir, "cat-file", "blob", current[path][1])
                m = _POINTER_RE.match(blob)
                oid = m.group(1).decode() if (m and lfs) else (None if lfs else current[path][1])
            out.append(
                {"path": path, "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False}
                | ({"oid": oid} if oid else {})
            )
        self._json({"files": out, "commitOid": head})

    def h_lfs_batch(self, repo: str) -> None:
        self._require_write(repo)
        self._require_read(repo)
        body = self._json_body()
        if body.get("operation") != "upload":
            raise HubError(400, "only uploads are supported")
        objects = []
        for obj in body.get("objects", []):
            oid, size = obj["oid"], obj["size"]
            entry: dict[str, Any] = {"oid": oid, "size": size}
            stored = self.state.lfs_path(repo, oid, self.kind)
            if not (stored.is_file() and stored.stat().st_size == size):
                entry["actions"] = {
                    "upload": {"href": f"{self._base()}/lfs-upload/{self.kind}/{repo}/{oid}"},
                    "verify": {"href": f"{self._base()}/lfs-verify/{self.kind}/{repo}"},
                }
            objects.append(entry)
        self._json({"transfer": "basic", "objects": objects, "hash_algo": "sha256"})

    def h_lfs_put(self, repo: str, oid: str) -> None:
        # Like S3 presigned URLs: no Authorization header, the URL itself is the capability.
        if not self.state.repo_dir(repo, self.kind).is_dir():
            raise HubError(404, "Repository not found", "RepoNotFound")
        data = self._body()
        if hashlib.sha256(data).hexdigest() != oid:
            raise HubError(400, "uploaded content does not match its sha256 oid")
        dest = self.state.lfs_path(repo, oid, self.kind)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_suffix(f".{threading.get_ident()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, dest)
        self._send(200, b"", {"ETag": f'"{oid}"'})

    def h_lfs_verify(self, repo: str) -> None:
        self._require_write(repo)
        body = self._json_body()
        stored = self.state.lfs_path(repo, body.get("oid", "0" * 64), self.kind)
        if not stored.is_file() or stored.stat().st_size != body.get("size"):
            raise HubError(404, "LFS object not found")
        self._json({"success": True})

    def h_commit(self, repo: str, rev: str) -> None:
        self._require_write(repo)
        gitdir = self._require_read(repo)
        lines = [json.loads(line) for line in self._body().splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            raise HubError(400, "the first ndjson line must be the header")
        header = lines[0]["value"]
        branch = unquote(rev)
        with self.state.lock:
            if self.state.race_repo == repo:
                self.state.race_repo = None
                _direct_commit(gitdir, branch, "CONCURRENT.md", b"another publisher\n")
            if self.state.fail_commit_status is not None:
                status, self.state.fail_commit_status = self.state.fail_commit_status, None
                raise HubError(status, "Internal Error - injected failure")
            if _resolve(gitdir, branch) is None and _refs(gitdir, "refs/heads/"):
                raise HubError(404, f"Invalid rev id: {branch}", "RevisionNotFound")
            head = _resolve(gitdir, branch)
            parent = header.get("parentCommit")
            if parent and parent != head:
                raise HubError(412, "A commit has happened since. Please refresh and try again.")
            files = _ls_tree(gitdir, head) if head else {}
            for op in lines[1:]:
                key, value = op.get("key"), op.get("value", {})
                path = value.get("path", "")
                if not path or path.startswith("/") or ".." in path.split("/"):
                    raise HubError(400, f"invalid path {path!r}")
                if key == "file":
                    data = base64.b64decode(value["content"])
                    sha = _git(gitdir, "hash-object", "-w", "--stdin", input=data).decode().strip()
                    files[path] = ("100644", sha)
                elif key == "lfsFile":
                    stored = self.state.lfs_path(repo, value["oid"], self.kind)
                    if not stored.is_file() or stored.stat().st_size != value["size"]:
                        raise HubError(400, f"LFS object for {path} was not uploaded")
                    pointer = LFS_POINTER.format(oid=value["oid"], size=value["size"]).encode()
                    sha = _git(gitdir, "hash-object", "-w", "--stdin", input=pointer)
                    files[path] = ("100644", sha.decode().strip())
                elif key == "deletedFile":
                    if files.pop(path, None) is None:
                        raise HubError(404, "A file with this name doesn't exist", "EntryNotFound")
                elif key == "deletedFolder":
                    prefix = path.rstrip("/") + "/"
                    for p in [p for p in files if p.startswith(prefix)]:
                        del files[p]
                else:
                    raise HubError(400, f"unsupported commit operation {key!r}")
            tree = _mktree(gitdir, files)
            message = header.get("summary", "") + (
                "\n\n" + header["description"] if header.get("description") else ""
            )
            args = ["commit-tree", tree, "-m", message or "commit"]
            if head:
                args += ["-p", head]
            new = _git(gitdir, *args).decode().strip()
            # update-ref with the old value is git's compare-and-swap: a racing commit loses.
            _git(gitdir, "update-ref", f"refs/heads/{branch}", new, head or "0" * 40)
        url = f"{self._web(repo)}/commit/{new}"
        self._json({"success": True, "commitOid": new, "commitUrl": url, "hookOutput": ""})

    def h_create_tag(self, repo: str, rev: str) -> None:
        self._require_write(repo)
        gitdir = self._require_read(repo)
        tag = self._json_body().get("tag", "")
        if not _REF_NAME_RE.match(tag) or ".." in tag:
            raise HubError(400, f"invalid tag name {tag!r}")
        with self.state.lock:
            sha = self._rev(gitdir, rev)
            if sha is None:
                raise HubError(404, "cannot tag an empty repository", "RevisionNotFound")
            if tag in _refs(gitdir, "refs/tags/"):
                raise HubError(409, f"Tag {tag} already exists")
            _git(gitdir, "update-ref", f"refs/tags/{tag}", sha, "0" * 40)
        self._json({})

    def h_delete_tag(self, repo: str, rev: str) -> None:
        self._require_write(repo)
        gitdir = self._require_read(repo)
        with self.state.lock:
            if unquote(rev) not in _refs(gitdir, "refs/tags/"):
                raise HubError(404, "tag not found", "RevisionNotFound")
            _git(gitdir, "update-ref", "-d", f"refs/tags/{unquote(rev)}")
        self._json({})

    def h_create_branch(self, repo: str, rev: str) -> None:
        self._require_write(repo)
        gitdir = self._require_read(repo)
        start = self._json_body().get("startingPoint") or "main"
        with self.state.lock:
            sha = self._rev(gitdir, start)
            if sha is None or unquote(rev) in _refs(gitdir, "refs/heads/"):
                raise HubError(409, "branch exists or nothing to branch from")
            _git(gitdir, "update-ref", f"refs/heads/{unquote(rev)}", sha, "0" * 40)
        self._json({})

    # --- read endpoints -----------------------------------------------------------------------
    def h_refs(self, repo: str) -> None:
        gitdir = self._require_read(repo)

        def fmt(prefix: str) -> list[dict[str, str]]:
            refs = _refs(gitdir, prefix)
            return [{"name": n, "ref": prefix + n, "targetCommit": s} for n, s in refs.items()]

        self._json(
            {
                "branches": fmt("refs/heads/"),
                "tags": fmt("refs/tags/"),
                "converts": [],
                "pullRequests": [],
            }
        )

    def h_commits(self, repo: str, rev: str) -> None:
        gitdir = self._require_read(repo)
        sha = self._rev(gitdir, rev)
        if sha is None:
            self._json([])
            return
        out = _git(gitdir, "log", "--format=%H%x00%ct%x00%s%x00%B%x1e", sha).decode()
        items = []
        for rec in out.split("\x1e"):
            rec = rec.strip("\n")
            if not rec:
                continue
            h, stamp, title, body = rec.split("\x00", 3)
            date = _hub_date(datetime.fromtimestamp(int(stamp), UTC))
            items.append(
                {
                    "id": h,
                    "title": title,
                    "message": body.strip(),
                    "authors": [{"user": "hub"}],
                    "date": date,
                }
            )
        self._json(items)

    def _entries(self, gitdir: Path, sha: str, repo: str) -> list[dict[str, Any]]:
        """Every file and folder at ``sha`` as the Hub's tree entries."""
        out = _git(gitdir, "ls-tree", "-r", "-t", "-l", "-z", sha)
        entries = []
        for raw in out.split(b"\0"):
            if not raw:
                continue
            meta, path = raw.split(b"\t", 1)
            _mode, typ, obj, size = meta.decode().split()
            if typ == "tree":
                entries.append({"type": "directory", "oid": obj, "size": 0, "path": path.decode()})
                continue
            entry: dict[str, Any] = {
                "type": "file",
                "oid": obj,
                "size": int(size),
                "path": path.decode(),
            }
            if int(size) < 200:
                m = _POINTER_RE.match(_git(gitdir, "cat-file", "blob", obj))
                if m:
                    entry["size"] = int(m.group(2))
                    entry["lfs"] = {
                        "oid": m.group(1).decode(),
                        "size": int(m.group(2)),
                        "pointerSize": int(size),
                    }
            entries.append(entry)
        return entries

    def h_tree(self, repo: str, rev: str, path: str | None = None) -> None:
        gitdir = self._require_read(repo)
        sha = self._rev(gitdir, rev)
        prefix = (path or "").strip("/")
        if sha is None:
            if prefix:
                raise HubError(404, "Entry not found", "EntryNotFound")
            self._json([])
            return
        entries = self._entries(gitdir, sha, repo)
        if prefix and not any(e["path"] == prefix and e["type"] == "directory" for e in entries):
            raise HubError(404, f"{prefix} does not exist on {rev}", "EntryNotFound")
        recursive = self.query.get("recursive", ["false"])[0].lower() in ("1", "true")
        base = prefix + "/" if prefix else ""
        picked = [
            e
            for e in entries
            if e["path"].startswith(base) and (recursive or "/" not in e["path"][len(base) :])
        ]
        self._json(picked)

    def h_paths_info(self, repo: str, rev: str) -> None:
        gitdir = self._require_read(repo)
        sha = self._rev(gitdir, rev)
        ctype = self.headers.get("Content-Type", "")
        if "json" in ctype:
            paths = self._json_body().get("paths", [])
        else:
            paths = parse_qs(self._body().decode()).get("paths", [])
        entries = {e["path"]: e for e in self._entries(gitdir, sha, repo)} if sha else {}
        self._json([entries[p.strip("/")] for p in paths if p.strip("/") in entries])

    def h_info(self, repo: str, rev: str | None = None) -> None:
        gitdir = self._require_read(repo)
        sha = self._rev(gitdir, rev or "main")
        siblings, card = [], None
        if sha:
            files = _ls_tree(gitdir, sha)
            siblings = [{"rfilename": p} for p in sorted(files)]
            if "README.md" in files:
                text = _git(gitdir, "cat-file", "blob", files["README.md"][1]).decode()
                lines = text.splitlines()
                if lines and lines[0] == "---" and "---" in lines[1:]:
                    card = yaml.safe_load("\n".join(lines[1 : lines[1:].index("---") + 1]))
        now = _hub_date(datetime.now(UTC))
        self._json(
            {
                "_id": hashlib.sha1(repo.encode()).hexdigest()[:24],
                "id": repo,
                "author": repo.split("/")[0],
                "sha": sha,
                "private": self.state.private.get(repo, False),
                "gated": False,
                "disabled": False,
                "lastModified": now,
                "createdAt": now,
                "tags": [],
                "downloads": 0,
                "likes": 0,
                "siblings": siblings,
                "cardData": card,
            }
        )

    def h_resolve(self, repo: str, rev: str, path: str) -> None:
        gitdir = self._require_read(repo)
        sha = self._rev(gitdir, rev)
        files = _ls_tree(gitdir, sha) if sha else {}
        if path not in files:
            raise HubError(404, "Entry not found", "EntryNotFound")
        blob_sha = files[path][1]
        data = _git(gitdir, "cat-file", "blob", blob_sha)
        etag = blob_sha
        m = _POINTER_RE.match(data)
        if m:
            etag = m.group(1).decode()
            data = self.state.lfs_path(repo, etag, self.kind).read_bytes()
        headers = {
            "Content-Type": "application/octet-stream",
            "ETag": f'"{etag}"',
            "X-Repo-Commit": sha or "",
            "Accept-Ranges": "bytes",
        }
        if m:
            headers["X-Linked-ETag"] = f'"{etag}"'
            headers["X-Linked-Size"] = str(len(data))
        rng = self.headers.get("Range")
        status = 200
        if rng and (rm := re.match(r"bytes=(\d*)-(\d*)$", rng.strip())):
            total = len(data)
            start_s, end_s = rm.groups()
            if start_s == "":
                start, end = max(0, total - int(end_s)), total - 1
            else:
                start = int(start_s)
                end = min(int(end_s), total - 1) if end_s else total - 1
            if start >= total and total > 0:
                self._send(416, b"", {"Content-Range": f"bytes */{total}"})
                return
            headers["Content-Range"] = f"bytes {start}-{end}/{total}"
            data = data[start : end + 1]
            status = 206
        self._send(status, data, headers)


def main() -> None:
    """Serve a loopback Hub by hand: ``python -m tests.hub_server ROOT TOKEN:NAMESPACE...``."""
    import argparse
    import time

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("root", type=Path, help="folder for the Hub's git repositories")
    ap.add_argument("tokens", nargs="+", help="TOKEN:NAMESPACE[,NAMESPACE] accepted for writes")
    a = ap.parse_args()
    tokens = {t: set(ns.split(",")) for t, _, ns in (x.partition(":") for x in a.tokens)}
    server = HubServer(a.root, tokens).start()
    print(server.url, flush=True)  # the endpoint, for HF_ENDPOINT
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
