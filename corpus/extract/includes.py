"""Reading the file an ``include_str!``/``include!`` doc names — the one place that does.

A doc like ``#[doc = include_str!("../README.md")]`` makes the extractor read a file the
repository chose. An untrusted repository may aim it at ``.git/config`` or ``.git/logs/HEAD``
(the builder's git identity and clone time), at a symlink out of the tree, or at a FIFO that
blocks a reader forever. So:

- the path is resolved *lexically* from the including file; one that climbs out of the root,
  or passes through ``.git``, is refused without touching the disk;
- in a git checkout whose commit is known, the file is read from the **tree at that commit**
  (``git ls-tree`` + ``git cat-file`` through :mod:`corpus.gitrun`): only a regular blob
  (mode 100644/100755) counts — a symlink (120000) or submodule (160000) does not, and a
  path under a symlinked directory is not in the tree at all. The doc then matches the
  permalink, whatever the working tree holds;
- elsewhere (a plain tree, or a commit git does not have) through :func:`corpus.clone.safe_read`:
  regular files only, inside the root, never ``.git``.

Anything refused is ``None``: the item's doc is unresolved (``doc_unresolved``), never an error.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path, PurePosixPath

from corpus.clone import UnsafePathError, safe_read

#: A doc file larger than this is not a doc (and would bloat every record it lands in).
MAX_INCLUDE_BYTES = 1 << 20
_REGULAR_MODES = (b"100644", b"100755")


def include_path(rel_path: str, target: str) -> str | None:
    """The repository-relative POSIX path ``target`` names from the file ``rel_path``, or
    None when it is absolute, leaves the root, passes through ``.git`` or names nothing."""
    if not target or target.startswith(("/", "\\")) or "\0" in target:
        return None
    parts: list[str] = []
    for part in [*PurePosixPath(rel_path).parent.parts, *target.replace("\\", "/").split("/")]:
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part not in ("", "."):
            if part.lower() == ".git":
                return None
            parts.append(part)
    return "/".join(parts) or None


def read_include(root: str, commit: str, rel_path: str, target: str) -> str | None:
    """The text of the file ``target`` names from ``rel_path`` under ``root``, or None."""
    path = include_path(rel_path, target)
    if path is None:
        return None
    located = _git_location(str(Path(root).resolve()), commit)
    if located is not None:
        data = _blob_at(located[0], commit, f"{located[1]}{path}")
    else:
        try:
            data = safe_read(Path(root), path)
        except UnsafePathError:
            return None
    if data is None or len(data) > MAX_INCLUDE_BYTES:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


@lru_cache(maxsize=64)
def _git_location(root: str, commit: str) -> tuple[str, str] | None:
    """(toplevel, prefix of ``root`` inside it) when ``root`` is in a git checkout that has
    ``commit``; None for a plain tree or an unknown commit."""
    if not re.fullmatch(r"[0-9a-f]{40}", commit):
        return None
    from corpus.gitrun import GitError, session

    with session() as git:
        g = git(Path(root))
        try:
            top = g.run("rev-parse", "--show-toplevel", timeout=10)
            g.run("cat-file", "-e", f"{commit}^{{commit}}", timeout=10)
        except GitError:
            return None
    try:
        prefix = Path(root).relative_to(Path(top).resolve()).as_posix()
    except ValueError:
        return None
    return top, "" if prefix == "." else prefix + "/"


def _blob_at(top: str, commit: str, path: str) -> bytes | None:
    """The bytes of the regular blob at ``path`` in ``commit``'s tree, else None."""
    from corpus.gitrun import GitError, session

    with session() as git:
        g = git(Path(top))
        try:
            entry = g.run_bytes("ls-tree", "-z", commit, "--", path, timeout=10)
            meta, _, name = entry.rstrip(b"\0").partition(b"\t")
            fields = meta.split()
            if name.decode("utf-8", "surrogateescape") != path or len(fields) != 3:
                return None
            mode, kind, oid = fields
            if kind != b"blob" or mode not in _REGULAR_MODES:
                return None
            return g.run_bytes("cat-file", "blob", oid.decode(), timeout=30)
        except GitError:
            return None
