"""Splits an evaluation can use per repository, stable across versions.

The unit is a file: every function of a file is in one split, and every member of a duplicate
cluster takes the split of its representative's file, so neither a file nor a cluster ever
straddles train and test. Files are placed **per repository** toward 80/10/10 of that
repository's published records (largest file first, each into the split furthest below its
target), so a per-repository score rests on enough examples — per-file hashing gave serde
172/0/1 train/validation/test.

The assignment is **sticky**. The split manifest (repository -> file -> split) is published
with the dataset and read back by the next build: a file already in it keeps its split, and
only new files are placed (toward the targets, counting what the old files hold). Entries of
files that disappear are carried forward, so a file that comes back returns to its old split.
No validation or test file of one version can become training data of a later one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus.errors import BadInputError
from corpus.schema import SPLITS

TARGETS = {"train": 0.8, "validation": 0.1, "test": 0.1}
MANIFEST_VERSION = 1


@dataclass
class SplitManifest:
    """Which split every file (repository, path) belongs to."""

    files: dict[str, dict[str, str]] = field(default_factory=dict)  # repo -> path -> split

    def get(self, repo: str, path: str) -> str | None:
        """The split of one file, None if it was never placed."""
        return self.files.get(repo, {}).get(path)

    def __len__(self) -> int:
        return sum(len(v) for v in self.files.values())

    def to_json(self) -> dict[str, Any]:
        """The manifest file's JSON (sorted: the same assignment gives the same bytes)."""
        return {
            "version": MANIFEST_VERSION,
            "files": {r: dict(sorted(p.items())) for r, p in sorted(self.files.items())},
        }

    @classmethod
    def from_json(cls, obj: Any, source: str = "split manifest") -> SplitManifest:
        """A manifest from its JSON; a wrong shape is a ``BadInputError`` naming it."""
        if not isinstance(obj, dict) or obj.get("version") != MANIFEST_VERSION:
            raise BadInputError(
                f"{source}: not a split manifest (expected an object with version "
                f"{MANIFEST_VERSION} and files)"
            )
        files = obj.get("files")
        if not isinstance(files, dict):
            raise BadInputError(f"{source}: 'files' must map repositories to their files")
        for repo, paths in files.items():
            if not isinstance(paths, dict) or not all(
                isinstance(p, str) and s in SPLITS for p, s in paths.items()
            ):
                raise BadInputError(
                    f"{source}: files of {repo!r} must map paths to one of {', '.join(SPLITS)}"
                )
        return cls({r: dict(p) for r, p in files.items()})

    @classmethod
    def read(cls, path: Path) -> SplitManifest:
        """The manifest in ``path``."""
        from corpus.store import read_json

        return cls.from_json(read_json(path), str(path))


def _tiebreak(repo: str, path: str) -> bytes:
    return hashlib.sha256(f"{repo}\x00{path}".encode()).digest()


def place_files(
    counts: Mapping[tuple[str, str], int], previous: SplitManifest | None = None
) -> tuple[SplitManifest, list[tuple[str, str]]]:
    """(the manifest, the files newly placed): every counted file with its split.

    ``counts`` maps (repo, path) to the published records the file holds. Files in
    ``previous`` keep their split; the others are placed per repository, largest first (ties
    by a hash of the path), each into the split whose share of the repository's records is
    furthest below its target.
    """
    prev = previous or SplitManifest()
    out = SplitManifest({r: dict(p) for r, p in prev.files.items()})
    by_repo: dict[str, list[tuple[str, int]]] = {}
    for (repo, path), n in counts.items():
        by_repo.setdefault(repo, []).append((path, n))
    placed: list[tuple[str, str]] = []
    for repo, files in sorted(by_repo.items()):
        total = sum(n for _, n in files)
        have = dict.fromkeys(SPLITS, 0)
        new = []
        for path, n in files:
            old = prev.get(repo, path)
            if old is None:
                new.append((path, n))
            else:
                have[old] += n
        new.sort(key=lambda f: (-f[1], _tiebreak(repo, f[0])))
        for path, n in new:
            split = max(SPLITS, key=lambda s: (TARGETS[s] * total - have[s], -SPLITS.index(s)))
            have[split] += n
            out.files.setdefault(repo, {})[path] = split
            placed.append((repo, path))
    return out, placed


def assign_splits(
    files: Mapping[str, tuple[str, str]], clusters: Mapping[str, str], manifest: SplitManifest
) -> dict[str, str]:
    """Split of every record id: the split of its cluster representative's file.

    ``files`` maps record id -> (repo, path); ``clusters`` maps record id -> the id of its
    cluster representative (which must be in ``files`` and placed in ``manifest``).
    """
    out: dict[str, str] = {}
    for rid, rep in clusters.items():
        split = manifest.get(*files[rep])
        if split is None:
            raise AssertionError(f"file of {rep} not placed")
        out[rid] = split
    return out


def split_counts(rows: Iterable[tuple[str, str]]) -> dict[str, object]:
    """``splits`` section of stats.json from (repo, split) pairs of the published records."""
    totals = dict.fromkeys(SPLITS, 0)
    per_repo: dict[str, dict[str, int]] = {}
    for repo, split in rows:
        totals[split] += 1
        per_repo.setdefault(repo, dict.fromkeys(SPLITS, 0))[split] += 1
    ratios = {
        repo: {s: round(c[s] / max(1, sum(c.values())), 4) for s in SPLITS}
        for repo, c in sorted(per_repo.items())
    }
    return {**totals, "per_repo": dict(sorted(per_repo.items())), "per_repo_ratio": ratios}
