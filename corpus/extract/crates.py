"""Every crate of a checkout, and which crate, target kind and module each ``.rs`` file is in.

Built once per checkout (``CrateModel(root)``): Cargo's targets (``corpus.extract.cargo``), the
module tree of each (``corpus.extract.modtree``), then one owner per file. A file several
targets read (``tests/common/mod.rs``, syn's ``src/scan_expr.rs`` that a test pulls in with
``#[path]``, serde_core's files that serde reaches through a symlink) belongs to the target of
the nearest package above it, then the first kind in ``TARGET_KINDS`` (lib before bin before
test ...), then the one where it sits highest in the tree, then by target name. A file no
target reads (trybuild cases, test data) has no owner: its path is guessed from directories.
"""

from __future__ import annotations

import os
import posixpath
from collections import Counter
from dataclasses import dataclass
from typing import Any

from corpus.extract.cargo import TARGET_KINDS, CargoLayout, read_layout
from corpus.extract.checkout import Checkout
from corpus.extract.modtree import CrateTree, ModPath, Scans, crate_tree
from corpus.extract.public import Namespace


@dataclass(frozen=True)
class FileCrate:
    """Where one file sits: its crate, target kind and module (segments after the crate)."""

    crate_name: str
    target_kind: str
    target_name: str
    module: ModPath
    tree: CrateTree

    @property
    def module_path(self) -> str:
        """``crate::a::b``."""
        return "::".join((self.crate_name, *self.module))


def _under_depth(rel: str, pkg_dir: str) -> int:
    """How deep the package directory is when ``rel`` lies under it, else -1."""
    if pkg_dir == "":
        return 0
    return pkg_dir.count("/") + 1 if rel.startswith(pkg_dir + "/") else -1


def _rank(rel: str, tree: CrateTree, module: ModPath) -> tuple:
    t = tree.target
    return (-_under_depth(rel, t.package_dir), TARGET_KINDS.index(t.kind), len(module), t.name)


class CrateModel:
    """The crates of the checkout at ``root`` (read once; see the module docstring)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.checkout = Checkout(root)
        self.layout: CargoLayout = read_layout(self.checkout)
        scans = Scans(self.checkout)
        self.trees = [crate_tree(self.checkout, scans, t) for t in self.layout.targets]
        owners: dict[str, tuple[tuple, CrateTree, ModPath]] = {}
        self.readers: Counter[str] = Counter()  # file -> how many targets read it
        for tree in self.trees:
            for rel, module in tree.files.items():
                self.readers[rel] += 1
                rank = _rank(rel, tree, module)
                if rel not in owners or rank < owners[rel][0]:
                    owners[rel] = (rank, tree, module)
        self._owners = {rel: (tree, module) for rel, (_, tree, module) in owners.items()}
        self._namespaces: dict[int, Namespace] = {}

    def file(self, rel: str) -> FileCrate | None:
        """The crate facts of the file ``rel`` (canonical, POSIX), None when no target reads it."""
        hit = self._owners.get(rel)
        if hit is None:
            return None
        tree, module = hit
        t = tree.target
        return FileCrate(t.crate_name, t.kind, t.name, module, tree)

    def namespace(self, tree: CrateTree) -> Namespace:
        """The (shared, lazily filled) name resolution of ``tree``'s crate."""
        key = id(tree)
        if key not in self._namespaces:
            self._namespaces[key] = Namespace(tree)
        return self._namespaces[key]

    def prepare(self) -> None:
        """Compute every library's public namespace now (before forking workers)."""
        for tree in self.trees:
            if tree.target.kind == "lib":
                self.namespace(tree).public_paths()

    def package_for(self, rel: str) -> tuple[str, str] | None:
        """(package directory, crate name of its lib or package) nearest above ``rel``."""
        best: tuple[int, str, str] | None = None
        for p in self.layout.packages:
            depth = _under_depth(rel, p.dir)
            if depth >= 0 and (best is None or depth > best[0]):
                lib = next((t for t in p.targets if t.kind in ("lib", "proc-macro")), None)
                name = lib.crate_name if lib else p.name.replace("-", "_")
                best = (depth, p.dir, name)
        return (best[1], best[2]) if best else None

    def summary(self, files: list[str]) -> dict[str, Any]:
        """Counts for ``files`` (e.g. the extracted ones): per target kind, shared, unowned."""
        kinds: Counter[str] = Counter()
        crates: Counter[str] = Counter()
        unowned = []
        for rel in files:
            fc = self.file(rel)
            if fc is None:
                unowned.append(rel)
                continue
            kinds[fc.target_kind] += 1
            crates[f"{fc.target_kind}:{fc.crate_name}"] += 1
        return {
            "targets": len(self.trees),
            "files_by_target_kind": dict(sorted(kinds.items())),
            "crates": dict(sorted(crates.items())),
            "files_in_several_targets": sum(1 for f in files if self.readers[f] > 1),
            "files_in_no_target": sorted(unowned),
            "findings": list(self.layout.findings),
            "unresolved_mods": sorted(u for t in self.trees for u in t.unresolved),
        }


def has_manifest_above(root: str | os.PathLike[str], rel: str) -> bool:
    """Whether a Cargo.toml sits in ``root`` or a directory of ``rel`` inside it."""
    d = posixpath.dirname(rel)
    while True:
        if os.path.isfile(os.path.join(root, d, "Cargo.toml")):
            return True
        if not d:
            return False
        d = posixpath.dirname(d)
