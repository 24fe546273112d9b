"""A record's ``def_path`` and ``public_path`` against the crate layout at its commit
(``falsification.cratelayout``): the reason a path does not resolve, or None."""

from __future__ import annotations

import posixpath
from functools import lru_cache
from typing import Any

from corpus.prompt import split_path
from falsification.cratelayout import _NON_MODULE_DIRS, CommitLayout, Root, _norm


def def_path_problem(layout: CommitLayout, rec: dict[str, Any]) -> str | None:
    """Why ``rec["def_path"]`` does not resolve from its target's root to its file (or None)."""
    segs = split_path(rec["def_path"])
    if rec["target_kind"] is None:
        return _unowned_problem(layout, rec, segs)
    if len(segs) < 2 or segs[0] != rec["crate_name"]:
        return "its first segment is not its crate"
    roots = [
        r for r in layout.roots if r.crate == rec["crate_name"] and r.kind == rec["target_kind"]
    ]
    if not roots:
        return f"no {rec['target_kind']} target named {rec['crate_name']}"
    if any(_reaches(layout, root, segs, rec) for root in roots):
        return None
    return "its segments are not the modules from its crate root to its file"


def _reaches(layout: CommitLayout, root: Root, segs: list[str], rec: dict[str, Any]) -> bool:
    """Whether the module segments lead from ``root`` to the record's file, the rest declared
    in it (a depth-first search over every file a segment may name)."""
    stack = [(root.file, posixpath.dirname(root.file), 1)]
    seen: set[tuple[str, str, int]] = set()
    while stack:
        state = stack.pop()
        if state in seen or len(seen) > 10_000:
            continue
        seen.add(state)
        f, d, i = state
        facts = layout.facts(f)
        if facts is None:
            continue
        if f == rec["path"] and _tail_ok(layout, f, segs[i:], rec):
            return True
        if i < len(segs) - 1:
            stack += [(g, c, i + 1) for g, c in layout.children(f, d, segs[i], root)]
        for lit in facts.includes:
            g = _norm(f"{posixpath.dirname(f)}/{lit}")
            if g in layout.blobs:
                stack.append((g, d, i))
    return False


def _tail_ok(layout: CommitLayout, file: str, tail: list[str], rec: dict[str, Any]) -> bool:
    facts = layout.facts(file)
    if facts is None or not tail or tail[-1] not in (rec["name"], rec["raw_name"]):
        return False
    return facts.has_fn(rec["name"]) and all(facts.declares(t) for t in tail[:-1])


def _unowned_problem(layout: CommitLayout, rec: dict[str, Any], segs: list[str]) -> str | None:
    """A record whose file no target reads: that must be so, and no segment a src/crates dir."""
    dirs = set(rec["path"].split("/")[:-1])
    bad = [s for s in segs[:-1] if s in _NON_MODULE_DIRS and s in dirs]
    if bad:
        return f"segment {bad[0]!r} is a directory, not a module"
    for root in layout.roots:
        if _inside(rec["path"], root.package_dir) and rec["path"] in layout.reach(root):
            return f"the {root.kind} target {root.crate} reads its file"
    return None


def _inside(path: str, d: str) -> bool:
    return d == "" or path.startswith(d + "/")


def public_path_problem(layout: CommitLayout, rec: dict[str, Any]) -> str | None:
    """Why ``rec["public_path"]`` is not a path of its library's public namespace (or None)."""
    pp = rec["public_path"]
    if pp is None:
        return None
    if rec["target_kind"] not in ("lib", "proc-macro"):
        return f"a public path for a {rec['target_kind']} target"
    segs = split_path(pp)
    tail = 1 if rec["container_kind"] in ("free", "extern") else 2
    if len(segs) < tail + 1 or segs[0] != rec["crate_name"]:
        return "its first segment is not its crate"
    for root in layout.roots:
        if root.crate == rec["crate_name"] and root.kind == rec["target_kind"]:
            exported = _exported(layout, root)
            walked = _public_walk(layout, root, segs[1:-tail], exported)
            if walked and _public_tail(layout, segs[-tail:], rec, exported):
                return None
    return "a segment is neither a pub module nor a name a pub use binds"


def _exported(layout: CommitLayout, root: Root) -> frozenset[str]:
    """Every name the crate makes public somewhere: pub mods, pub types, pub use leaves."""
    return _exported_cached(id(layout), root, layout)


@lru_cache(maxsize=256)
def _exported_cached(_key: int, root: Root, layout: CommitLayout) -> frozenset[str]:
    names: set[str] = set()
    for f in layout.reach(root):
        facts = layout.facts(f)
        if facts is not None:
            names |= {n for n, decls in facts.mods.items() if any(d[1] for d in decls)}
            names |= facts.pub_types | facts.pub_use_names
    return frozenset(names)


def _public_walk(layout: CommitLayout, root: Root, mods: list[str], exported: frozenset) -> bool:
    """Each segment a `pub mod` of the current files, or (once a `pub use` is taken) any name
    the crate exports."""
    cur = {(root.file, posixpath.dirname(root.file))}
    lost = False
    for seg in mods:
        if lost:
            if seg not in exported:
                return False
            continue
        nxt: set[tuple[str, str]] = set()
        reexported = False
        for f, d in cur:
            facts = layout.facts(f)
            if facts is None:
                continue
            decls = facts.mods.get(seg, [])
            if any(pub for _, pub, _ in decls):
                nxt |= set(layout.children(f, d, seg, root))
            # a private `mod seg` here is public only through a `pub use` naming it
            glob = facts.pub_glob and not decls
            reexported = reexported or seg in facts.pub_use_names or glob
        if nxt:
            cur = nxt
        elif reexported:
            lost = True
        else:
            return False
    return True


def _public_tail(
    layout: CommitLayout, tail: list[str], rec: dict[str, Any], exported: frozenset
) -> bool:
    name = tail[-1]
    derives = [a for a in rec["attributes"] if "proc_macro_derive" in a]
    if (
        name not in (rec["name"], rec["raw_name"])
        and name not in exported
        and not any(name in a for a in derives)
    ):
        return False
    if len(tail) == 1:
        return True
    owner = tail[0]
    if owner.startswith("<"):
        facts = layout.facts(rec["path"])
        return facts is not None and facts.declares(owner)
    return owner in exported
