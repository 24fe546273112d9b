"""A record's paths: ``def_path`` (the module where it is defined) and ``public_path`` (where
rustdoc shows it, following the crate's own ``pub use`` re-exports), from its file's crate
facts and its scope in the file.

``public_path`` is null for anything rustdoc does not document for the crate's users: items of
binaries, tests, examples, benches and build scripts; test code; fns nested in fn bodies;
anything not ``pub``, ``#[doc(hidden)]`` or only reachable through a ``#[doc(hidden)]`` or private
module. Methods are shown under their type's public path (``tokio::runtime::Builder::new``,
though ``Builder`` is defined in the private ``runtime::builder``); trait methods under the
trait's; a trait impl's methods as ``<Self as Trait>::name`` in the module of the public type
that carries the impl: the self type when it is this crate's, else the trait when it is, else a
type among the trait's generic arguments (anyhow's ``impl From<Error> for Box<dyn StdError>``
is ``anyhow::<Box<dyn StdError> as From<Error>>::from``). A proc-macro crate exports only its
macros: ``#[proc_macro]`` and ``#[proc_macro_attribute]`` fns by name, ``#[proc_macro_derive(X)]``
as ``X``.
"""

from __future__ import annotations

import re
from typing import Any

from corpus.extract.crates import FileCrate
from corpus.extract.modtree import ModPath
from corpus.extract.public import TYPE_KINDS, Def, Namespace

_HIDDEN_RE = re.compile(r"^#\s*\[\s*doc\s*\(\s*hidden\s*\)\s*\]$")
_PROC_RE = re.compile(r"^#\s*\[\s*(proc_macro|proc_macro_attribute)\s*\]$")
_DERIVE_RE = re.compile(r"^#\s*\[\s*proc_macro_derive\s*\(\s*(?:r#)?([A-Za-z_]\w*)")
_PATH_RE = re.compile(r"(?:[A-Za-z_]\w*\s*::\s*)*[A-Za-z_]\w*")
_SKIP_WORDS = frozenset({"dyn", "impl", "mut", "const", "for", "where", "as"})


def _base_path(text: str) -> tuple[str, ...] | None:
    """The path of a type as written, without references, lifetimes and generic arguments
    (``&'a mut crate::x::Foo<T>`` -> ``crate, x, Foo``); None for tuples, slices, pointers."""
    t = re.sub(r"^(?:&\s*(?:'\w+\s*)?(?:mut\s+)?|dyn\s+|impl\s+)+", "", text.strip())
    m = _PATH_RE.match(t)
    if m is None:
        return None
    return tuple(s.strip() for s in m.group().split("::"))


def _idents(text: str) -> list[tuple[str, ...]]:
    """Every type-like path inside ``text`` (``From<Error>`` -> ``From``, ``Error``)."""
    out = []
    for m in _PATH_RE.finditer(text):
        segs = tuple(s.strip() for s in m.group().split("::"))
        if segs[-1] not in _SKIP_WORDS and not segs[-1][0].islower():
            out.append(segs)
    return out


def _types(ns: Namespace, mod: ModPath, path: tuple[str, ...] | None) -> list[Def]:
    """Local type or trait definitions ``path`` names in ``mod``."""
    if not path:
        return []
    found = ns.resolve(mod, path) if len(path) > 1 else ns.lookup(mod, path[0])
    return [d for d in found if d[0] == "item" and ns.kinds(d) & TYPE_KINDS]


def _public_of(ns: Namespace, defs: list[Def]) -> ModPath | None:
    for d in defs:
        p = ns.public_path(d)
        if p is not None:
            return p
    return None


def _trait_impl_anchor(ns: Namespace, mod: ModPath, self_type: str, trait: str) -> ModPath | None:
    """The public path of the type whose page documents ``impl trait for self_type``."""
    own = _types(ns, mod, _base_path(self_type))
    if own:
        return _public_of(ns, own)  # a private local type: the impl is not documented
    local_trait = _types(ns, mod, _base_path(trait))
    if local_trait:
        return _public_of(ns, local_trait)
    for path in _idents(trait)[1:] + _idents(self_type)[1:]:
        found = _public_of(ns, _types(ns, mod, path))
        if found is not None:
            return found
    return None


def _proc_macro_path(fc: FileCrate, scope: Any, name: str, vis: str | None, attrs: list[str]):
    if fc.module or scope.segments or scope.kind is not None or vis != "pub":
        return None
    for a in attrs:
        if _PROC_RE.match(a):
            return f"{fc.crate_name}::{name}"
        m = _DERIVE_RE.match(a)
        if m:
            return f"{fc.crate_name}::{m.group(1)}"
    return None


def _member_path(ns: Namespace, mod: ModPath, scope: Any, name: str, vis: str | None):
    """The public path (after the crate) of a fn in ``mod`` with container ``scope``."""
    if scope.kind in (None, "extern"):
        if vis != "pub":
            return None
        d: Def = ("item", mod, name)
        p = ns.public_path(d)
        if p is None and name not in ns.items(mod) and ns.public_path(("mod", mod)) is not None:
            p = (*ns.public_path(("mod", mod)), name)  # a fn the scan could not see
        return p
    if scope.kind == "impl":
        owner = _public_of(ns, _types(ns, mod, _base_path(scope.self_type or "")))
        return (*owner, name) if owner is not None and vis == "pub" else None
    if scope.kind == "trait":
        owner = _public_of(ns, _types(ns, mod, (scope.trait_name or "",)))
        return (*owner, name) if owner is not None else None
    anchor = _trait_impl_anchor(ns, mod, scope.self_type or "", scope.trait_name or "")
    return (*anchor[:-1], scope.segments[-1], name) if anchor is not None else None


def public_path(
    fc: FileCrate | None,
    ns: Namespace | None,
    scope: Any,
    name: str,
    visibility: str | None,
    attributes: list[str],
    is_test: bool,
) -> str | None:
    """The path rustdoc shows for the fn ``name`` in ``scope`` (see the module docstring)."""
    if fc is None or is_test or scope.nested or any(_HIDDEN_RE.match(a) for a in attributes):
        return None
    if fc.target_kind == "proc-macro":
        return _proc_macro_path(fc, scope, name, visibility, attributes)
    if fc.target_kind != "lib" or ns is None:
        return None
    mod = (*fc.module, *scope.segments[: scope.mod_depth])
    path = _member_path(ns, mod, scope, name, visibility)
    return "::".join((fc.crate_name, *path)) if path is not None else None


def record_paths(
    ctx: Any,
    scope: Any,
    name: str,
    visibility: str | None,
    attributes: list[str],
    test_reason: str | None,
) -> dict[str, Any]:
    """crate_name, target_kind, def_path, qualified_path (= def_path) and public_path of the
    fn ``name`` in ``scope`` of a file with context ``ctx`` (a ``FileContext``)."""
    def_path = "::".join(s for s in (ctx.module_path, *scope.segments, name) if s)
    return {
        "crate_name": ctx.crate_or_guess or name,
        "target_kind": ctx.target_kind,
        "def_path": def_path,
        "qualified_path": def_path,
        "public_path": public_path(
            ctx.crate, ctx.namespace, scope, name, visibility, attributes, test_reason is not None
        ),
    }
