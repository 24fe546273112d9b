"""The module tree of one crate: which files it reads and the module path of each.

Follows rustc (``rustc_expand/src/module.rs``; the Reference, "Modules"), as a union over all
cfgs (every ``mod x;`` counts whatever ``#[cfg]`` guards it):

- the crate root and a ``mod.rs`` own their directory D: ``mod x;`` is ``D/x.rs`` or
  ``D/x/mod.rs``; any other file ``D/f.rs`` puts its children in ``D/f/``;
- an inline ``mod m { .. }`` adds ``m`` to that directory (``#[path = "p"] mod m { }``: ``p``);
- ``#[path = "p"] mod x;`` is relative to the directory of the current file (inside inline
  modules: of the inline module), and the loaded file owns its directory; a
  ``#[cfg_attr(.., path = "p")]`` adds ``p`` as a candidate next to the default file;
- ``include!("p")`` reads ``p`` (relative to the file) into the current module;
  ``automod::dir!("p")`` declares ``mod x;`` for every ``p/x.rs`` (relative to the package);
- what a ``macro_rules!`` body declares (``mod``, items, ``use``) is declared wherever the macro
  is invoked at module level, resolved there (serde's ``crate_root!()`` in its lib.rs declares
  ``pub mod de;``, ``pub use crate::de::Deserialize`` ...); macros are matched by name among all
  the crate's files, after the files reachable without them (and again until nothing is new).

A path outside the checkout or into ``.git`` is never read; a module cycle or a file reached
twice is walked once; the depth and the number of files are bounded.
"""

from __future__ import annotations

import posixpath
from collections import deque
from dataclasses import dataclass, field

from corpus.extract.cargo import Target
from corpus.extract.checkout import Checkout, normalize
from corpus.extract.rustscan import Decls, FileScan, ItemDecl, ModDecl, Parents, UseDecl, scan

MAX_MODULE_DEPTH = 64
MAX_CRATE_FILES = 20_000

ModPath = tuple[str, ...]
_NOT_AUTOMOD = ("mod.rs", "lib.rs", "main.rs")


@dataclass
class Module:
    """One module of a crate (a file, or an inline ``mod``)."""

    path: ModPath  # segments after the crate name
    public: bool = False  # some declaration of it is `pub`
    hidden: bool = False  # #[doc(hidden)]
    test: bool = False  # #[cfg(test)]
    children: dict[str, ModPath] = field(default_factory=dict)
    items: list[ItemDecl] = field(default_factory=list)
    uses: list[UseDecl] = field(default_factory=list)


@dataclass
class CrateTree:
    """A target's modules, and the module path of every file it reads."""

    target: Target
    modules: dict[ModPath, Module] = field(default_factory=dict)
    files: dict[str, ModPath] = field(default_factory=dict)
    unresolved: list[str] = field(default_factory=list)  # `mod x;` with no file

    def module(self, path: ModPath) -> Module:
        """The module at ``path`` (created, with its parents' child links, when new)."""
        mod = self.modules.get(path)
        if mod is None:
            mod = self.modules[path] = Module(path)
            if path:
                self.module(path[:-1]).children.setdefault(path[-1], path)
        return mod


class Scans:
    """Each file of a checkout scanned at most once, shared by all its crates."""

    def __init__(self, co: Checkout) -> None:
        self.co = co
        self._cache: dict[str, FileScan | None] = {}

    def get(self, rel: str) -> FileScan | None:
        """The scan of the canonical file ``rel`` (None when it cannot be read)."""
        if rel not in self._cache:
            text = self.co.read_text(rel)
            self._cache[rel] = scan(text) if text is not None else None
        return self._cache[rel]


@dataclass(frozen=True)
class _Visit:
    file: str
    path: ModPath
    child_dir: str  # where `mod x;` of this file's own scope looks


def _inline_dir(base: str, parents: Parents) -> str:
    for name, path_attr in parents:
        base = posixpath.join(base, path_attr if path_attr is not None else name)
    return base


def _candidates(visit: _Visit, decl: ModDecl) -> list[tuple[str, str]]:
    """(file, its child directory) that ``decl`` may load, in the order rustc tries them."""
    out: list[tuple[str, str]] = []
    md = _inline_dir(visit.child_dir, decl.parents)
    for p in decl.attrs.paths:
        base = md if decl.parents else posixpath.dirname(visit.file)
        f = normalize(posixpath.join(base, p))
        if f is not None:
            out.append((f, posixpath.dirname(f)))
    if decl.attrs.plain_path and decl.attrs.paths:
        return out
    out.append((posixpath.join(md, decl.name + ".rs"), posixpath.join(md, decl.name)))
    out.append((posixpath.join(md, decl.name, "mod.rs"), posixpath.join(md, decl.name)))
    return out


class _Walk:
    """Breadth-first over the files of one target, from its root."""

    def __init__(self, co: Checkout, scans: Scans, target: Target) -> None:
        self.co, self.scans = co, scans
        self.tree = CrateTree(target)
        root_dir = posixpath.dirname(target.root)
        self.queue: deque[_Visit] = deque([_Visit(target.root, (), root_dir)])
        self.macros: dict[str, list[Decls]] = {}
        self.invocations: list[tuple[str, _Visit]] = []
        self.expanded: set[tuple[int, int]] = set()  # (invocation, macro body) applied

    def run(self) -> CrateTree:
        root = self.tree.module(())
        root.public = True
        while True:
            self.drain()
            if not self.expand():
                return self.tree

    def drain(self) -> None:
        """Visit every queued file (once)."""
        while self.queue and len(self.tree.files) < MAX_CRATE_FILES:
            v = self.queue.popleft()
            if v.file in self.tree.files or len(v.path) > MAX_MODULE_DEPTH:
                continue
            fs = self.scans.get(v.file)
            if fs is None:
                continue
            self.tree.files[v.file] = v.path
            here = self.tree.module(v.path)
            here.hidden, here.test = here.hidden or fs.hidden, here.test or fs.test
            for name, bodies in fs.macros.items():
                self.macros.setdefault(name, []).extend(bodies)
            for name, parents in fs.invocations:
                site = _Visit(v.file, v.path + _names(parents), _inline_dir(v.child_dir, parents))
                self.invocations.append((name, site))
            self.visit(v, fs)

    def expand(self) -> bool:
        """Declare each macro body at each invocation of its name; True if any was new."""
        new = False
        for i, (name, site) in enumerate(self.invocations):
            for body in self.macros.get(name, ()):
                if (i, id(body)) not in self.expanded:
                    self.expanded.add((i, id(body)))
                    self.visit(site, body)
                    new = True
        return new

    def visit(self, v: _Visit, fs: Decls) -> None:
        """Declare what ``fs`` (a file, or a macro body) declares in the module of ``v``."""
        for decl in fs.mods:
            self.declare(v, decl)
        for item in fs.items:
            self.tree.module(v.path + _names(item.parents)).items.append(item)
        for use in fs.uses:
            self.tree.module(v.path + _names(use.parents)).uses.append(use)
        for lit, parents in fs.includes:
            f = normalize(posixpath.join(posixpath.dirname(v.file), lit))
            real = self.co.resolve(f) if f else None
            if real is not None and real.endswith(".rs"):
                self.queue.append(_Visit(real, v.path + _names(parents), v.child_dir))
        for lit, parents in fs.automods:
            self.automod(v, lit, parents)

    def declare(self, v: _Visit, decl: ModDecl) -> None:
        path = v.path + _names(decl.parents) + (decl.name,)
        mod = self.tree.module(path)
        mod.public = mod.public or decl.public
        mod.hidden = mod.hidden or decl.attrs.hidden
        mod.test = mod.test or decl.attrs.test
        if decl.inline:
            return
        found = False
        for f, child_dir in _candidates(v, decl):
            real = self.co.resolve(f)
            if real is not None:
                self.queue.append(_Visit(real, path, child_dir))
                found = True
                if not decl.attrs.paths:
                    break  # x.rs and x/mod.rs: the first that exists
        if not found:
            self.tree.unresolved.append(f"{v.file}: mod {decl.name}")

    def automod(self, v: _Visit, lit: str, parents: Parents) -> None:
        d = normalize(posixpath.join(self.tree.target.package_dir, lit))
        if d is None:
            return
        for name in self.co.listdir(d):
            f = posixpath.join(d, name)
            if name.endswith(".rs") and name not in _NOT_AUTOMOD and f in self.co.files:
                path = (*v.path, *_names(parents), name[:-3])
                self.tree.module(path)
                self.queue.append(_Visit(f, path, d))


def _names(parents: Parents) -> ModPath:
    return tuple(name for name, _ in parents)


def crate_tree(co: Checkout, scans: Scans, target: Target) -> CrateTree:
    """The module tree of ``target`` in the checkout ``co``."""
    return _Walk(co, scans, target).run()
