"""The licence of a repository at its pin, from its own files: the detection summary.

What is read (from a :class:`~corpus.licenses.tree.Tree`, so a checkout and a commit's blobs
give the same summary):

- licence files: ``LICENSE*``, ``LICENCE*``, ``COPYING*``, ``UNLICENSE*`` and the files of a
  ``LICENSES/`` folder, at the repository root and in every package folder, plus each
  package's ``license-file``; each is classified once per content (``texts.Detector``);
- every ``Cargo.toml``: ``license`` / ``license-file`` (``cargo.read_manifests``).

The verdicts (``agreement.agreement`` is the rule):

1. the declared expression (sources.toml) against the texts at the root;
2. when the repository states its licence itself, the declared expression must be equivalent
   to it: the root Cargo.toml's (``[package]``, or ``[workspace.package]``), else the one
   licence every package that sets one agrees on;
3. every package: its licence (its own, the workspace's, or, when it sets none, the
   repository's declared one) against the texts in its folder, or at the root when its folder
   holds none.

``detected`` is the repository's own statement (2), else the texts found joined by ``AND``.
Each package keeps ``record_license``: what records of its files carry (the declared string
when its licence is equivalent to the declared one, else its own, canonical).
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from corpus.licenses import spdx
from corpus.licenses.agreement import Agreement, agreement
from corpus.licenses.cargo import Manifest, package_license, read_manifests
from corpus.licenses.texts import Detector, FileDetection
from corpus.licenses.tree import Tree, TreeReadError, prune

_LICENSE_NAME = re.compile(r"(licen[cs]e|copying|unlicen[cs]e)([-_. ].*)?", re.IGNORECASE)
_NOT_LICENSE = (".rs", ".toml", ".json", ".sh", ".py", ".yml", ".yaml", ".lock", ".html")


def is_license_file(name: str) -> bool:
    """Whether a file name is a licence file's (``LICENSE-MIT``, ``COPYING``, ``UNLICENSE``)."""
    return bool(_LICENSE_NAME.fullmatch(name)) and not name.lower().endswith(_NOT_LICENSE)


def license_files_by_dir(paths: list[str]) -> dict[str, list[str]]:
    """folder -> the licence files directly in it (and in its ``LICENSES/`` folder)."""
    out: dict[str, list[str]] = {}
    for p in paths:
        d, name = posixpath.split(p)
        if is_license_file(name):
            out.setdefault(d, []).append(p)
        elif posixpath.basename(d) == "LICENSES" and "." in name:
            out.setdefault(posixpath.dirname(d), []).append(p)
    return {d: sorted(v) for d, v in out.items()}


class _Files:
    """Reads and classifies licence files once each, remembering every detection."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self.detector = Detector()
        self.seen: dict[str, FileDetection] = {}

    def detect(self, path: str) -> FileDetection:
        if path not in self.seen:
            self.seen[path] = self._detect(path)
        return self.seen[path]

    def _detect(self, path: str) -> FileDetection:
        parts = path.split("/")
        if path.startswith("/") or ".." in parts or ".git" in parts:
            return FileDetection(path, error="refused")
        try:
            data = self.tree.read(path)
        except TreeReadError as exc:
            return FileDetection(path, size=exc.size, error=exc.code)
        return self.detector.detect(path, data)

    def ids(self, paths: list[str]) -> list[str]:
        return [i for p in paths for i in self.detect(p).ids]


def detect_repository(tree: Tree, declared: str) -> dict[str, Any]:
    """The licence summary of the repository in ``tree``, against its ``declared`` licence."""
    from corpus.licenses import detector_fingerprint

    paths = prune(tree.paths())
    manifests, problems = read_manifests(tree, paths)
    by_dir = {m.dir: m for m in manifests}
    files = _Files(tree)
    by_folder = license_files_by_dir(paths)
    root_paths = _with_license_file(by_folder.get("", []), _root_license_file(by_dir))
    root = agreement(declared, files.ids(root_paths))
    claim, claim_from = _repository_claim(by_dir, manifests)
    members = [
        _member(m, by_dir, declared, files, by_folder, root_paths)
        for m in manifests
        if m.package is not None
    ]
    reasons = _reasons(declared, root, root_paths, claim, claim_from, members, files)
    detected, detected_from = _detected(claim, claim_from, files.ids(root_paths))
    return {
        "detector": detector_fingerprint(),
        "declared": declared,
        "detected": detected,
        "detected_from": detected_from,
        "status": _overall(root, reasons),
        "ok": not reasons,
        "reasons": reasons,
        "root": {"files": root_paths, "texts": list(root.texts), "status": root.status,
                 "note": root.note},
        "members": members,
        "files": [files.seen[p].to_json() for p in sorted(files.seen)],
        "problems": problems,
    }  # fmt: skip


def _with_license_file(paths: list[str], extra: str | None) -> list[str]:
    return sorted({*paths, extra}) if extra else list(paths)


def _root_license_file(by_dir: dict[str, Manifest]) -> str | None:
    root = by_dir.get("")
    if root is None:
        return None
    if root.package is not None:
        return package_license(root, by_dir)[1]
    return posixpath.normpath(root.workspace_license_file) if root.workspace_license_file else None


def _repository_claim(
    by_dir: dict[str, Manifest], manifests: list[Manifest]
) -> tuple[str | None, str | None]:
    """(the licence the repository states for itself, where): the root Cargo.toml's, else
    the one licence all packages that set one agree on (None when they differ or none do)."""
    root = by_dir.get("")
    if root is not None:
        own = package_license(root, by_dir)[0] if root.package is not None else None
        if own or root.workspace_license:
            return own or root.workspace_license, root.path
    stated = [
        lic for m in manifests if m.package is not None and (lic := package_license(m, by_dir)[0])
    ]
    if not stated:
        return None, None
    try:
        first = stated[0]
        if all(spdx.equivalent(first, other) for other in stated[1:]):
            return first, "every package's Cargo.toml"
    except spdx.ExpressionProblem:
        return None, None
    return None, None


def _member(
    m: Manifest,
    by_dir: dict[str, Manifest],
    declared: str,
    files: _Files,
    by_folder: dict[str, list[str]],
    root_paths: list[str],
) -> dict[str, Any]:
    """One package: its licence, where it comes from, its texts and its verdict."""
    lic, lfile, source = package_license(m, by_dir)
    effective = lic if lic is not None else declared
    own_paths = _with_license_file(by_folder.get(m.dir, []), lfile)
    texts_from = "own" if files.ids(own_paths) else "root"
    paths = own_paths if texts_from == "own" else root_paths
    if texts_from == "root":
        for p in own_paths:  # still recorded: a refused or prose-only file is evidence
            files.detect(p)
    verdict = agreement(effective, files.ids(paths))
    return {
        "manifest": m.path,
        "dir": m.dir,
        "name": m.package,
        "license": lic,
        "license_from": source if lic is not None else "repository",
        "license_file": lfile,
        "files": own_paths,
        "texts_from": texts_from,
        "texts": list(verdict.texts),
        "status": verdict.status,
        "note": verdict.note,
        "record_license": _record_license(effective, declared),
    }


def _record_license(effective: str, declared: str) -> str:
    """What a record of this package carries: the declared string when equivalent (records
    of the seven repos keep their pins' spelling), else the package's own, canonical."""
    try:
        return declared if spdx.equivalent(effective, declared) else spdx.canonical(effective)
    except spdx.ExpressionProblem:
        return spdx.normalise(effective)


def _names(paths: list[str], files: _Files) -> str:
    parts = []
    for p in paths:
        d = files.detect(p)
        parts.append(f"{p}: {', '.join(d.ids) or d.error or 'no licence text'}")
    return "; ".join(parts) or "no licence file"


def _reasons(
    declared: str,
    root: Agreement,
    root_paths: list[str],
    claim: str | None,
    claim_from: str | None,
    members: list[dict[str, Any]],
    files: _Files,
) -> list[str]:
    """Every failure, each naming the declared licence and what was found instead."""
    out = []
    if not root.ok:
        out.append(f"declared {declared!r}, detected {_names(root_paths, files)} ({root.note})")
    if claim is not None and root.status != "invalid":
        try:
            same = spdx.equivalent(declared, claim)
        except spdx.ExpressionProblem as exc:
            same, claim = False, f"{claim} ({exc})"
        if not same:
            out.append(f"declared {declared!r}, but {claim_from} says {claim!r}")
    for m in members:
        where = m["files"] if m["texts_from"] == "own" else root_paths
        if m["status"] in ("agree", "incomplete"):
            continue
        if m["license"] is None and where == root_paths:
            continue  # the root's own check again (inherited licence, the root's texts)
        shown = repr(m["license"]) if m["license"] is not None else f"{declared!r} (inherited)"
        out.append(
            f"package {m['name']} ({m['manifest']}) declares {shown}, detected "
            f"{_names(where, files)} ({m['note']})"
        )
    return out


def _detected(
    claim: str | None, claim_from: str | None, text_ids: list[str]
) -> tuple[str | None, str | None]:
    if claim is not None:
        try:
            return spdx.canonical(claim), claim_from
        except spdx.ExpressionProblem:
            return claim, claim_from
    ids = sorted(set(text_ids))
    return (" AND ".join(ids), "licence texts") if ids else (None, None)


def _overall(root: Agreement, reasons: list[str]) -> str:
    if not root.ok:
        return root.status
    if reasons:
        return "disagree"
    return root.status


def record_license(summary: dict[str, Any], path: str) -> str:
    """The licence a record at ``path`` carries: that of the package owning the file (the
    nearest Cargo.toml above it), else the repository's declared one."""
    best: dict[str, Any] | None = None
    for m in summary.get("members") or []:
        d = m.get("dir", "")
        if (not d or path.startswith(d + "/")) and (best is None or len(d) > len(best["dir"])):
            best = m
    return best["record_license"] if best is not None else summary["declared"]
