"""sources.toml: which repositories the corpus is built from, pinned to exact commits.

Each ``[[source]]`` entry names a GitHub repository, the URL to fetch it from, a full
40-character commit pin, its SPDX licence expression and the branch the pin tracks.
``load_sources`` validates strictly (every error names the file and the entry) because a
wrong pin or licence silently changes what the dataset says about its provenance.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from corpus.errors import BadInputError, CorpusError

__all__ = [
    "FIELDS",
    "PinUpdate",
    "Source",
    "default_sources_path",
    "dump_sources",
    "load_sources",
    "parse_sources",
    "select_sources",
    "update_pins",
    "write_sources",
]

# The order fields are written in; also the exact set of keys an entry may have.
FIELDS = ("repo", "url", "commit", "license", "branch")

_SHA_RE = re.compile(r"[0-9a-f]{40}")
# GitHub owner/name: owners are alphanumerics and dashes; names also allow '.' and '_'.
_REPO_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")
# One SPDX licence id (or LicenseRef-/DocumentRef-), optionally with a trailing '+'.
_SPDX_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]*\+?")
_SPDX_TOKEN_RE = re.compile(r"\s*(\(|\)|[^\s()]+)")
# URL forms git can fetch that we accept; 'ext::' and other remote helpers are refused
# because they run arbitrary commands.
_URL_RE = re.compile(r"(?:(?:https?|ssh|git|file)://\S+|[\w.-]+@[\w.-]+:\S+|/\S*)")
# Things `git check-ref-format` refuses, kept simple: the branch is also passed to git.
_BAD_BRANCH_RE = re.compile(r"(^[-/.])|(\.\.)|([\s~^:?*\[\\\x00-\x1f\x7f])|(@\{)|(/$)|(\.lock$)")


@dataclass(frozen=True)
class Source:
    """One pinned repository: where to fetch it, which commit, under which licence."""

    repo: str
    url: str
    commit: str
    license: str
    branch: str

    @property
    def owner(self) -> str:
        """The GitHub owner (``BurntSushi`` in ``BurntSushi/ripgrep``)."""
        return self.repo.split("/", 1)[0]

    @property
    def name(self) -> str:
        """The repository name (``ripgrep`` in ``BurntSushi/ripgrep``)."""
        return self.repo.split("/", 1)[1]

    def to_dict(self) -> dict[str, str]:
        """The entry as written in sources.toml, fields in their canonical order."""
        return {f: getattr(self, f) for f in FIELDS}

    def published(self) -> Source:
        """This source as a dataset may name it: see :func:`public_url`."""
        return replace(self, url=public_url(self.url, self.repo))


_LOCAL_HOST = re.compile(r"^(localhost|127\.[\d.]+|\[?::1\]?|[\w-]+\.local|0\.0\.0\.0)$", re.I)


def public_url(url: str, repo: str) -> str:
    """The URL a published dataset may carry for ``url``: a remote http(s)/ssh/git URL with
    any credentials removed; a local one (``file://``, a path, ``user@host:path`` scp syntax
    naming this machine, localhost) says nothing true to a reader and may name the builder's
    directories, so it becomes the repository's GitHub URL."""
    from urllib.parse import urlsplit, urlunsplit

    github = f"https://github.com/{repo}.git"
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http", "ssh", "git") or not parts.hostname:
        return github
    if _LOCAL_HOST.match(parts.hostname):
        return github
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def default_sources_path() -> Path:
    """The sources.toml shipped inside the package."""
    return Path(str(resources.files("corpus").joinpath("sources.toml")))


def _spdx_problem(expr: str) -> str | None:
    """Why ``expr`` is not an SPDX licence expression, or None when it is one."""
    tokens = _SPDX_TOKEN_RE.findall(expr)
    if not tokens or "".join(tokens) != re.sub(r"\s+", "", expr):
        return "is empty or has characters SPDX does not allow"
    depth = 0
    expect_operand = True  # alternate: operand, operator, operand, ...
    for tok in tokens:
        if tok == "(":
            if not expect_operand:
                return "has '(' where an operator (AND/OR/WITH) was expected"
            depth += 1
        elif tok == ")":
            if expect_operand or depth == 0:
                return "has unbalanced parentheses"
            depth -= 1
        elif tok in ("AND", "OR", "WITH"):
            if expect_operand:
                return f"has '{tok}' where a licence id was expected"
            expect_operand = True
        elif tok.lower() in ("and", "or", "with"):
            return f"uses lower-case operator '{tok}' (SPDX operators are upper case)"
        else:
            if not expect_operand:
                return f"has two licence ids in a row ('{tok}'): join them with AND or OR"
            if not _SPDX_ID_RE.fullmatch(tok):
                return f"has '{tok}', which is not a licence id"
            expect_operand = False
    if expect_operand or depth:
        return "is incomplete (ends in an operator or an open parenthesis)"
    return None


def _check_entry(raw: Any, where: str) -> Source:
    """Validate one ``[[source]]`` table; ``where`` names it in errors."""
    if not isinstance(raw, dict):
        raise BadInputError(f"{where}: must be a table ([[source]]), got {type(raw).__name__}")
    label = f"{where} ({raw['repo']})" if isinstance(raw.get("repo"), str) else where
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        raise BadInputError(
            f"{label}: unknown key(s) {', '.join(map(repr, unknown))}; "
            f"allowed keys are {', '.join(FIELDS)}"
        )
    missing = [f for f in FIELDS if f not in raw]
    if missing:
        raise BadInputError(f"{label}: missing required key(s) {', '.join(missing)}")
    for f in FIELDS:
        if not isinstance(raw[f], str) or not raw[f].strip():
            raise BadInputError(f"{label}: '{f}' must be a non-empty string, got {raw[f]!r}")
    repo, url, commit, license_, branch = (raw[f] for f in FIELDS)
    if not _REPO_RE.fullmatch(repo) or repo.split("/")[1] in (".", ".."):
        raise BadInputError(
            f"{label}: repo {repo!r} is not a GitHub 'owner/name' "
            "(letters, digits, '-', and '.'/'_' in the name)"
        )
    if not _SHA_RE.fullmatch(commit):
        hint = (
            " (use the full SHA, not an abbreviation)" if re.fullmatch(r"[0-9a-f]+", commit) else ""
        )
        raise BadInputError(
            f"{label}: commit {commit!r} is not a full 40-character lower-case hex SHA{hint}"
        )
    if not _URL_RE.fullmatch(url):
        raise BadInputError(
            f"{label}: url {url!r} is not a git URL we fetch from "
            "(https://, http://, ssh://, git://, file://, user@host:path or an absolute path)"
        )
    if _BAD_BRANCH_RE.search(branch):
        raise BadInputError(f"{label}: branch {branch!r} is not a valid git branch name")
    problem = _spdx_problem(license_)
    if problem:
        raise BadInputError(
            f"{label}: license {license_!r} {problem}; expected an SPDX expression "
            "such as 'MIT OR Apache-2.0'"
        )
    return Source(repo=repo, url=url, commit=commit, license=license_, branch=branch)


def parse_sources(text: str, origin: str = "sources.toml") -> list[Source]:
    """Parse and validate sources.toml ``text``; ``origin`` names the file in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadInputError(f"{origin}: not valid TOML ({exc})") from exc
    extra = sorted(set(data) - {"source"})
    if extra:
        raise BadInputError(
            f"{origin}: unknown top-level key(s) {', '.join(map(repr, extra))}; "
            "only [[source]] entries are allowed"
        )
    entries = data.get("source")
    if not isinstance(entries, list) or not entries:
        raise BadInputError(f"{origin}: no [[source]] entries")
    sources: list[Source] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(entries, start=1):
        src = _check_entry(raw, f"{origin}: source #{i}")
        # GitHub names are case-insensitive: two spellings are the same repository.
        key = src.repo.lower()
        if key in seen:
            raise BadInputError(
                f"{origin}: source #{i} ({src.repo}): duplicate repo, "
                f"already listed as source #{seen[key]}"
            )
        seen[key] = i
        sources.append(src)
    return sources


def load_sources(path: Path | None = None) -> list[Source]:
    """Read and validate sources.toml (the packaged one when ``path`` is None)."""
    path = Path(path) if path is not None else default_sources_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise BadInputError(f"{path}: no such file") from exc
    except IsADirectoryError as exc:
        raise BadInputError(f"{path}: is a directory, expected a sources.toml file") from exc
    except UnicodeDecodeError as exc:
        raise BadInputError(f"{path}: not UTF-8 text ({exc})") from exc
    return parse_sources(text, origin=str(path))


_HEADER = (
    "# Repositories the corpus is built from, each pinned to one commit.\n"
    "# `corpus sources update` moves every pin to the tip of its branch and rewrites this file.\n"
)


def dump_sources(sources: Sequence[Source]) -> str:
    """sources.toml text for ``sources`` (stable: same sources, same bytes)."""
    import tomli_w

    body = tomli_w.dumps({"source": [s.to_dict() for s in sources]})
    return _HEADER + "\n" + body


def write_sources(path: Path, sources: Sequence[Source]) -> None:
    """Validate ``sources`` and write them to ``path`` atomically."""
    from corpus.store import write_bytes_atomic

    text = dump_sources(sources)
    parse_sources(text, origin=str(path))  # never write a file we could not read back
    write_bytes_atomic(Path(path), text.encode("utf-8"))


def select_sources(sources: Sequence[Source], only: Sequence[str] | None) -> list[Source]:
    """The sources named in ``only`` (``owner/name`` or an unambiguous ``name``), in file order."""
    if not only:
        return list(sources)
    wanted: set[str] = set()
    for item in only:
        key = item.strip().lower()
        if "/" in key:
            hits = [s for s in sources if s.repo.lower() == key]
        else:
            hits = [s for s in sources if s.name.lower() == key]
        if len(hits) != 1:
            known = ", ".join(s.repo for s in sources)
            why = "matches several repos" if hits else "is not in the sources"
            raise BadInputError(f"--only {item!r} {why}; known repos: {known}")
        wanted.add(hits[0].repo)
    return [s for s in sources if s.repo in wanted]


@dataclass(frozen=True)
class PinUpdate:
    """What ``update_pins`` did to one source."""

    repo: str
    branch: str
    old: str
    new: str

    @property
    def changed(self) -> bool:
        """Whether the pin moved."""
        return self.old != self.new


def update_pins(
    sources: Sequence[Source],
    resolve: Callable[[Source], str] | None = None,
) -> tuple[list[Source], list[PinUpdate]]:
    """Move each pin to the newest commit of its branch.

    ``resolve`` maps a source to its branch tip; by default ``corpus.clone.branch_tip``
    (``git ls-remote``, so ``url.<base>.insteadOf`` applies). Nothing is written here.
    """
    if resolve is None:
        from corpus.clone import branch_tip as resolve
    updated: list[Source] = []
    report: list[PinUpdate] = []
    for src in sources:
        tip = resolve(src)
        if not _SHA_RE.fullmatch(tip):
            raise CorpusError(f"{src.repo}: branch {src.branch} resolved to {tip!r}, not a SHA")
        updated.append(replace(src, commit=tip))
        report.append(PinUpdate(src.repo, src.branch, src.commit, tip))
    return updated, report
