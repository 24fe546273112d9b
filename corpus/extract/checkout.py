"""A read-only view of a checkout for the crate layout: its files and directories, listed once,
and reads that never leave the repository.

One ``os.walk`` lists everything (``.git`` and cache directories holding a ``CACHEDIR.TAG``
skipped, symlinks never followed). A path that is not listed (a ``#[path]`` through a symlink,
such as serde's ``serde/src/core -> ../../serde_core/src``) is resolved once with
``realpath`` and accepted only when it is a listed regular file inside the repository and
outside ``.git``; its canonical path is what the layout uses. Reads go through
``corpus.clone.safe_read``.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

from corpus.clone import UnsafePathError, safe_read


def normalize(rel: str) -> str | None:
    """``rel`` with ``.`` and ``..`` applied, or None when it climbs out of the root."""
    parts: list[str] = []
    for part in rel.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


#: A checkout listing stops here (a model of part of a huge tree beats none).
MAX_FILES = 500_000


class Checkout:
    """Files and directories of the tree at ``root`` (a snapshot taken on first use)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = os.path.realpath(root)
        self._resolved: dict[str, str | None] = {}

    @cached_property
    def _listing(self) -> tuple[frozenset[str], dict[str, tuple[str, ...]]]:
        files: set[str] = set()
        entries: dict[str, tuple[str, ...]] = {}
        stack = [""]
        while stack and len(files) < MAX_FILES:
            rel_dir = stack.pop()
            names: list[str] = []
            try:
                with os.scandir(os.path.join(self.root, rel_dir)) as it:
                    for e in it:
                        rel = f"{rel_dir}/{e.name}" if rel_dir else e.name
                        if e.is_dir(follow_symlinks=False):
                            if e.name != ".git" and not os.path.isfile(
                                os.path.join(e.path, "CACHEDIR.TAG")
                            ):
                                stack.append(rel)
                                names.append(e.name)
                        elif e.is_file(follow_symlinks=False):
                            files.add(rel)
                            names.append(e.name)
                        elif e.is_symlink():
                            names.append(e.name)  # listed, never walked: resolve() follows it
            except OSError:
                continue
            entries[rel_dir] = tuple(sorted(names))
        return frozenset(files), entries

    @property
    def files(self) -> frozenset[str]:
        """Every regular file (not a symlink), as a POSIX path relative to the root."""
        return self._listing[0]

    def is_dir(self, rel: str) -> bool:
        """A listed (walked) directory."""
        return rel in self._listing[1]

    def listdir(self, rel: str) -> tuple[str, ...]:
        """Names in the listed directory ``rel`` (sorted; empty when it is not one)."""
        return self._listing[1].get(rel, ())

    def resolve(self, rel: str) -> str | None:
        """The canonical listed file that ``rel`` names (following in-repo symlinks), or None."""
        norm = normalize(rel)
        if norm is None or not norm:
            return None
        if norm in self.files:
            return norm
        parent, _, name = norm.rpartition("/")
        if parent in self._listing[1] and name not in self.listdir(parent):
            return None  # in a walked directory and not there: nothing to follow
        if norm not in self._resolved:
            self._resolved[norm] = self._follow(norm)
        return self._resolved[norm]

    def _follow(self, norm: str) -> str | None:
        if ".git" in norm.split("/"):
            return None
        real = os.path.realpath(os.path.join(self.root, norm))
        if not real.startswith(self.root + os.sep):
            return None
        canon = os.path.relpath(real, self.root).replace(os.sep, "/")
        return canon if canon in self.files else None

    def read_text(self, rel: str) -> str | None:
        """The file's text (UTF-8, bad bytes replaced), or None when it cannot be read safely."""
        try:
            return safe_read(Path(self.root), rel).decode("utf-8", "replace")
        except (OSError, UnsafePathError):
            return None
