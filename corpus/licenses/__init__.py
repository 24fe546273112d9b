"""Licences from the repository: what a source's own files say, against what is declared.

``detect_checkout(root, declared)`` reads a folder on disk (the build's checkout at the pin);
``detect_commit(clone, commit, declared)`` reads the blobs of a commit in a clone (falsification
and `corpus sources`). Both return the same JSON-able summary (``detect.detect_repository``
documents it and the rules; ``agreement`` is the declared-vs-texts rule). Heavy libraries
(licenseclassifier, license-expression) are imported on first use.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from corpus.licenses.detect import detect_repository, record_license

__all__ = [
    "detect_cached",
    "detect_checkout",
    "detect_commit",
    "detect_repository",
    "detector_fingerprint",
    "record_license",
]


@cache
def detector_fingerprint() -> dict[str, str]:
    """What a detection depends on: the two libraries' versions and this package's code (a
    change in any of them makes the build detect again)."""
    from corpus.licenses.texts import detector_versions

    h = hashlib.sha256()
    for f in sorted(Path(__file__).parent.glob("*.py")):
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return {**detector_versions(), "rules": h.hexdigest()[:12]}


def detect_checkout(root: Path, declared: str) -> dict[str, Any]:
    """The licence summary of the folder ``root`` (read as untrusted input)."""
    from corpus.licenses.tree import CheckoutTree

    return detect_repository(CheckoutTree(Path(root)), declared)


def detect_commit(clone: Path, commit: str, declared: str) -> dict[str, Any]:
    """The licence summary of ``commit`` in the git repository ``clone``, from its blobs.

    Raises ``corpus.licenses.tree.TreeError`` when the commit cannot be listed there.
    """
    from corpus.licenses.tree import GitTree

    with GitTree(Path(clone), commit) as tree:
        return detect_repository(tree, declared)


def detect_cached(clone: Path, commit: str, declared: str) -> dict[str, Any] | str:
    """The summary of ``commit`` in the cached clone ``clone``, or why there is none
    (``not cloned``, ``pin not in the clone``): for `corpus sources`, which never fetches."""
    from corpus.licenses.tree import TreeError

    clone = Path(clone)
    if not (clone / ".git").exists() and not (clone / "HEAD").is_file():
        return "not cloned"
    try:
        return detect_commit(clone, commit, declared)
    except TreeError:
        return "pin not in the clone (run corpus clone)"
