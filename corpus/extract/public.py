"""The path rustdoc shows for an item: its crate's public namespace, re-exports included.

An item is public when it is ``pub`` and every module on some path from the crate root to it
is ``pub`` or re-exported (``pub use``), none of them ``#[doc(hidden)]`` or ``#[cfg(test)]``.
The path shown is the definition path when that is public all the way (rustdoc documents an
item where it is defined and lists a re-export as a ``pub use`` line); otherwise the shortest
re-export path (rustdoc inlines a re-export of a private item), ties broken by declaration
order. ``pub use`` forms: ``a::b::C``, renames (``as D``), globs (``self::x::*``: the ``pub``
names of ``x``), groups (``{self, C, d::E}``); paths start at ``crate``, ``self``,
``super`` or (edition 2018 on) a name in the current module. ``pub(crate)`` and narrower are not
public. Re-exports of other crates (``pub use other_crate::X``) are not followed: every path
is the item's own crate's.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

from corpus.extract.modtree import CrateTree, ModPath, Module

#: ("mod", path) for a module, ("item", module path, name) for an item
Def = tuple
TYPE_KINDS = frozenset({"struct", "enum", "union", "type", "trait"})
_MAX_DEPTH = 12
_USE_TOKEN_RE = re.compile(r"::|[{},*]|(?:r#)?[A-Za-z_$][\w$]*")


@dataclass(frozen=True)
class UseLeaf:
    """One imported name of a use tree: ``path`` (``("self", "a", "B")``), its alias, a glob."""

    path: tuple[str, ...]
    alias: str | None
    glob: bool

    @property
    def name(self) -> str | None:
        """The name it binds (None for a glob or ``as _``)."""
        if self.glob:
            return None
        if self.alias is not None:
            return None if self.alias == "_" else self.alias
        last = self.path[-1] if self.path else None
        if last == "self":
            last = self.path[-2] if len(self.path) > 1 else None
        return last


def parse_use(tree: str) -> list[UseLeaf]:
    """The leaves of a use tree as written after ``use`` (bad input: what parsed so far)."""
    toks = [t.removeprefix("r#") for t in _USE_TOKEN_RE.findall(tree)]
    out: list[UseLeaf] = []
    _use_tree(toks, 0, (), out)
    return out


def _use_tree(toks: list[str], i: int, prefix: tuple[str, ...], out: list[UseLeaf]) -> int:
    path = list(prefix)
    if i < len(toks) and toks[i] == "::":
        path.append("::")  # a leading `::`: another crate
        i += 1
    while i < len(toks):
        t = toks[i]
        if t == "{":
            i += 1
            while i < len(toks) and toks[i] != "}":
                i = _use_tree(toks, i, tuple(path), out)
                if i < len(toks) and toks[i] == ",":
                    i += 1
            return i + 1
        if t == "*":
            out.append(UseLeaf(tuple(path), None, True))
            return i + 1
        if t in ("}", ","):
            break
        path.append(t)
        i += 1
        if i < len(toks) and toks[i] == "::":
            i += 1
            continue
        alias = None
        if i + 1 < len(toks) and toks[i] == "as":
            alias, i = toks[i + 1], i + 2
        out.append(UseLeaf(tuple(path), alias, False))
        return i
    return i


class Namespace:
    """Name resolution inside one crate, and the public path of its items."""

    def __init__(self, tree: CrateTree) -> None:
        self.tree = tree
        self.edition = tree.target.edition
        self._leaves: dict[ModPath, list[tuple[UseLeaf, bool]]] = {}
        self._items: dict[ModPath, dict[str, list]] = {}
        self._lookups: dict[tuple[ModPath, str], list[Def]] = {}
        self._public: dict[Def, ModPath] | None = None

    # -- resolution ----------------------------------------------------------------------
    def leaves(self, mod: ModPath) -> list[tuple[UseLeaf, bool]]:
        """(leaf, is a visible `pub` re-export) of every use declaration in ``mod``."""
        if mod not in self._leaves:
            m = self.tree.modules.get(mod)
            self._leaves[mod] = [
                (leaf, u.public and not u.attrs.hidden and not u.attrs.test)
                for u in (m.uses if m else ())
                for leaf in parse_use(u.tree)
            ]
        return self._leaves[mod]

    def items(self, mod: ModPath) -> dict[str, list]:
        """name -> the item declarations of ``mod`` under that name."""
        if mod not in self._items:
            by_name: dict[str, list] = {}
            m = self.tree.modules.get(mod)
            for i in m.items if m else ():
                by_name.setdefault(i.name, []).append(i)
            self._items[mod] = by_name
        return self._items[mod]

    def own(self, mod: ModPath, name: str) -> list[Def]:
        """What ``mod`` itself defines under ``name``: a child module, items."""
        m = self.tree.modules.get(mod)
        if m is None:
            return []
        out: list[Def] = [("mod", m.children[name])] if name in m.children else []
        return out + ([("item", mod, name)] if name in self.items(mod) else [])

    def lookup(self, mod: ModPath, name: str, depth: int = 0) -> list[Def]:
        """``name`` in the scope of ``mod``: its own names, then what its uses import
        (memoised; a cycle of imports resolves to nothing)."""
        key = (mod, name)
        if key not in self._lookups:
            self._lookups[key] = []  # in progress: a cycle back here finds nothing
            self._lookups[key] = self._lookup(mod, name, depth)
        return self._lookups[key]

    def _lookup(self, mod: ModPath, name: str, depth: int) -> list[Def]:
        found = self.own(mod, name)
        if found or depth > _MAX_DEPTH:
            return found
        for leaf, _pub in self.leaves(mod):
            if leaf.name == name:
                found += self.resolve(mod, leaf.path, depth + 1)
        if not found:
            for leaf, _pub in self.leaves(mod):
                if leaf.glob:
                    for d in self.resolve(mod, leaf.path, depth + 1):
                        if d[0] == "mod" and d[1] != mod:
                            found += self.lookup(d[1], name, depth + 1)
        return found

    def resolve(self, mod: ModPath, path: tuple[str, ...], depth: int = 0) -> list[Def]:
        """The definitions ``path`` names when written in ``mod`` (empty: not this crate's)."""
        if not path or path[0] == "::" or depth > _MAX_DEPTH:
            return []
        head, rest = path[0], path[1:]
        if head in ("crate", "$crate"):
            cur: list[Def] = [("mod", ())]
        elif head in ("self", "super"):
            cur = [("mod", mod)]
            rest = path
            while rest and rest[0] in ("self", "super"):
                if rest[0] == "super":
                    if not cur[0][1]:
                        return []
                    cur = [("mod", cur[0][1][:-1])]
                rest = rest[1:]
        else:
            base = () if self.edition == "2015" else mod
            cur, rest = self.lookup(base, head, depth + 1), path[1:]
        for seg in rest:
            if seg == "self":
                continue
            cur = [d for c in cur if c[0] == "mod" for d in self.lookup(c[1], seg, depth + 1)]
        return cur

    # -- public paths --------------------------------------------------------------------
    def _visible(self, m: Module | None) -> bool:
        return m is not None and m.public and not m.hidden and not m.test

    def exports(self, mod: ModPath, within: frozenset = frozenset()) -> list[tuple[str, Def]]:
        """The public names of ``mod``: `pub` child modules, `pub` items, `pub use`s
        (``within``: the modules whose globs led here, so a cycle of globs ends)."""
        m = self.tree.modules.get(mod)
        if m is None or mod in within or len(within) > _MAX_DEPTH:
            return []
        out: list[tuple[str, Def]] = [
            (name, ("mod", p))
            for name, p in m.children.items()
            if self._visible(self.tree.modules.get(p))
        ]
        out += [
            (i.name, ("item", mod, i.name))
            for i in m.items
            if i.public and not i.attrs.hidden and not i.attrs.test
        ]
        for leaf, pub in self.leaves(mod):
            if not pub:
                continue
            if leaf.glob:
                for d in self.resolve(mod, leaf.path):
                    if d[0] == "mod" and d[1] != mod:
                        out += self.exports(d[1], within | {mod})
            elif leaf.name is not None:
                out += [(leaf.name, d) for d in self.resolve(mod, leaf.path)]
        return out

    def public_paths(self) -> dict[Def, ModPath]:
        """Every publicly reachable definition and its shortest public path (BFS)."""
        if self._public is not None:
            return self._public
        assigned: dict[Def, ModPath] = {("mod", ()): ()}
        queue: deque[tuple[ModPath, ModPath]] = deque([((), ())])
        while queue:
            mod, pub = queue.popleft()
            for name, d in self.exports(mod):
                if d in assigned:
                    continue
                assigned[d] = (*pub, name)
                if d[0] == "mod":
                    queue.append((d[1], (*pub, name)))
        self._public = assigned
        return assigned

    def defined_public(self, d: Def) -> bool:
        """Whether the definition path of ``d`` is public all the way (no re-export needed)."""
        mod = d[1]
        chain = [mod[:k] for k in range(1, len(mod) + 1)]
        if not all(self._visible(self.tree.modules.get(p)) for p in chain):
            return False
        if d[0] == "mod":
            return True
        return any(
            i.public and not i.attrs.hidden and not i.attrs.test
            for i in self.items(mod).get(d[2], ())
        )

    def public_path(self, d: Def) -> ModPath | None:
        """The path rustdoc shows for ``d`` (after the crate name), or None if not public."""
        if self.defined_public(d):
            return d[1] if d[0] == "mod" else d[1] + (d[2],)
        return self.public_paths().get(d)

    def kinds(self, d: Def) -> set[str]:
        """The item kinds (struct, fn, ...) declared under an item definition's name."""
        if d[0] != "item":
            return {"mod"}
        return {i.kind for i in self.items(d[1]).get(d[2], ())}
