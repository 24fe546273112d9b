"""Function items of one parsed tree, with their containers, modifiers, signatures and docs.

Items are found with one tree-sitter query (C speed); only the found nodes and their ancestors
are touched from Python. Item-position macro invocations (`cfg_rt! { ... }`) are re-parsed from
their token-tree text and walked the same way, their records marked with the macro's name.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tree_sitter import Node, Query, QueryCursor

from corpus.extract.cfg import cfg_only_in_tests
from corpus.extract.crate import FileContext
from corpus.extract.docs import collect_doc, sections, summary
from corpus.extract.parser import GRAMMAR_VERSION, RUST, parse
from corpus.schema import EXTRACTOR_VERSION, permalink, record_id

# Fns below item level (in fn bodies, const blocks, ERROR regions) are found with this query,
# run only on sub-trees whose text contains the `fn` keyword: a query over the whole tree costs
# a third of the parse, while item-level containers are few and walked directly.
_FNS = Query(RUST, "[(function_item) (function_signature_item)] @fn")
_FN_KEYWORD = re.compile(rb"\bfn\b")
_CONTAINERS = frozenset({"mod_item", "impl_item", "trait_item", "foreign_mod_item"})
_ERRORS = Query(RUST, "(ERROR) @e")

# Attributes that make a function a test, by the last segment of their path.
TEST_ATTRIBUTES = frozenset(
    {"test", "bench", "rstest", "test_case", "quickcheck", "proptest", "wasm_bindgen_test"}
)
_ATTR_PATH_RE = re.compile(r"^#\[\s*((?:[A-Za-z_][A-Za-z0-9_]*\s*::\s*)*[A-Za-z_][A-Za-z0-9_]*)")
_MAX_MACRO_DEPTH = 8


def _norm(text: bytes | str) -> str:
    """Collapse all whitespace runs to one space."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return " ".join(text.split())


def is_cfg_test(attribute_text: str) -> bool:
    """`#[cfg(test)]`, `#[cfg(all(test, ..))]`: compiled only in test builds."""
    return cfg_only_in_tests(attribute_text)


def test_attribute(attributes: list[str]) -> str | None:
    """The first attribute that marks a test (`#[test]`, `#[tokio::test]`, ...)."""
    for attr in attributes:
        m = _ATTR_PATH_RE.match(attr)
        if m and m.group(1).replace(" ", "").split("::")[-1] in TEST_ATTRIBUTES:
            return attr
    return None


@dataclass
class Scope:
    """What surrounds an item: path segments and the nearest container."""

    segments: list[str] = field(default_factory=list)
    kind: str | None = None
    self_type: str | None = None
    trait_name: str | None = None
    abi: str | None = None
    nested: bool = False
    test_module: bool = False
    test_item: bool = False  # inside a `#[cfg(test)] impl` or trait
    in_error: bool = False


def _type_path_segment(type_node: Node | None) -> str:
    """A type as a path segment: generic arguments dropped (Foo<T> -> Foo)."""
    if type_node is None:
        return "_"
    if type_node.type == "generic_type":
        inner = type_node.child_by_field_name("type")
        if inner is not None:
            return _norm(inner.text)
    return _norm(type_node.text)


def _extern_abi(modifier: Node) -> str:
    """The ABI of an `extern` modifier: its string, or "C" when omitted (rustc's default)."""
    for child in modifier.named_children:
        if child.type == "string_literal":
            return child.text.decode("utf-8").strip('"')
    return "C"


def _modifiers(node: Node, scope: Scope) -> dict[str, Any]:
    """visibility, async/const/unsafe and the extern ABI, as written before ``fn``."""
    out: dict[str, Any] = {"visibility": None, "is_async": False, "is_const": False,
                           "is_unsafe": False}  # fmt: skip
    abi = scope.abi if scope.kind == "extern" else None
    for child in node.children:
        if child.type == "visibility_modifier":
            out["visibility"] = _norm(child.text)
        elif child.type == "function_modifiers":
            for m in child.children:
                if m.type in ("async", "const", "unsafe"):
                    out[f"is_{m.type}"] = True
                elif m.type == "extern_modifier":
                    abi = _extern_abi(m)
        elif child.type == "fn":
            break
    out["extern_abi"] = abi
    return out


def _signature_parts(node: Node) -> dict[str, Any]:
    """generics, where clause, parameter patterns and return type, whitespace-normalised."""
    tp = node.child_by_field_name("type_parameters")
    where = next((c for c in node.children if c.type == "where_clause"), None)
    params_node = node.child_by_field_name("parameters")
    ret = node.child_by_field_name("return_type")
    params = [
        _norm(p.text)
        for p in (params_node.named_children if params_node is not None else ())
        if p.type in ("parameter", "self_parameter", "variadic_parameter")
    ]
    return {
        "generics": _norm(tp.text) if tp is not None else None,
        "where_clause": _norm(where.text) if where is not None else None,
        "params": params,
        "return_type": _norm(ret.text) if ret is not None else None,
    }


def _doc_fields(text: str | None) -> dict[str, Any]:
    return {"doc": text, "doc_summary": summary(text), "doc_sections": sections(text)}


def _test_reason(attributes: list[str], scope: Scope, ctx: FileContext) -> str | None:
    """Why the item is test code: its attribute, a test module or item, or its file's path."""
    test_attr = test_attribute(attributes)
    if test_attr is not None:
        m = _ATTR_PATH_RE.match(test_attr)
        assert m is not None  # test_attribute matched it
        return "attribute:" + m.group(1)
    if scope.test_module:
        return "cfg_test_module"
    if scope.test_item or any(is_cfg_test(a) for a in attributes):
        return "cfg_test"
    return ctx.test_reason


class _Walker:
    """Extracts records from one tree (a file, or a re-parsed macro body)."""

    def __init__(self, data: bytes, rel_path: str, ctx: FileContext, drops: Counter) -> None:
        self.data = data
        self.rel_path = rel_path
        self.ctx = ctx
        self.drops = drops
        self.records: list[dict[str, Any]] = []
        # Node ids are addresses, reused once a tree is freed; macro bodies are parsed into
        # trees that come and go during the walk, so each walk (one tree) has its own cache.
        self._cfg_test_cache: dict[int, bool] = {}

    # -- scope -------------------------------------------------------------------------------
    def _mod_is_cfg_test(self, mod: Node) -> bool:
        """Whether an item (mod, impl, trait) carries a test-only `#[cfg(..)]`."""
        key = mod.id
        cached = self._cfg_test_cache.get(key)
        if cached is None:
            cached = False
            sib = mod.prev_named_sibling
            while sib is not None and sib.type in (
                "attribute_item",
                "line_comment",
                "block_comment",
            ):
                if sib.type == "attribute_item" and is_cfg_test(_norm(sib.text)):
                    cached = True
                    break
                sib = sib.prev_named_sibling
            self._cfg_test_cache[key] = cached
        return cached

    def scope_of(self, node: Node, outer: Scope) -> Scope:
        """The scope of ``node`` within this tree, continued from ``outer``."""
        segs: list[str] = []
        s = Scope()
        p = node.parent
        while p is not None:
            t = p.type
            if t == "function_item":
                s.nested = True
                name = p.child_by_field_name("name")
                segs.append(_norm(name.text) if name is not None else "_")
            elif t == "impl_item":
                if self._mod_is_cfg_test(p):
                    s.test_item = True
                ty = p.child_by_field_name("type")
                tr = p.child_by_field_name("trait")
                seg = _type_path_segment(ty)
                if tr is not None:
                    seg = f"<{seg} as {_norm(tr.text)}>"
                if s.kind is None and not s.nested:
                    s.kind = "trait_impl" if tr is not None else "impl"
                    s.self_type = _norm(ty.text) if ty is not None else None
                    s.trait_name = _norm(tr.text) if tr is not None else None
                segs.append(seg)
            elif t == "trait_item":
                if self._mod_is_cfg_test(p):
                    s.test_item = True
                name = p.child_by_field_name("name")
                seg = _norm(name.text) if name is not None else "_"
                if s.kind is None and not s.nested:
                    s.kind = "trait"
                    s.trait_name = seg
                segs.append(seg)
            elif t == "foreign_mod_item":
                if s.kind is None and not s.nested:
                    s.kind = "extern"
                    mod = next((c for c in p.children if c.type == "extern_modifier"), None)
                    s.abi = _extern_abi(mod) if mod is not None else "C"
            elif t == "mod_item":
                name = p.child_by_field_name("name")
                segs.append(_norm(name.text) if name is not None else "_")
                if self._mod_is_cfg_test(p):
                    s.test_module = True
            elif t == "ERROR":
                s.in_error = True
            p = p.parent
        segs.reverse()
        if s.kind is None and not s.nested:
            s.kind, s.self_type, s.trait_name, s.abi = (
                outer.kind,
                outer.self_type,
                outer.trait_name,
                outer.abi,
            )
        s.segments = outer.segments + segs
        s.nested = s.nested or outer.nested
        s.test_module = s.test_module or outer.test_module
        s.test_item = s.test_item or outer.test_item
        s.in_error = s.in_error or outer.in_error
        return s

    # -- records -----------------------------------------------------------------------------
    def _read_include(self, target: str) -> str | None:
        if self.ctx.root is None:
            return None
        root = Path(self.ctx.root).resolve()
        p = (root / self.rel_path).parent / target
        try:
            real = p.resolve()
            real.relative_to(root)  # never read outside the repository
            return real.read_text(encoding="utf-8")
        except (OSError, ValueError, UnicodeDecodeError):
            return None

    def _include_rel(self, target: str) -> str:
        parts: list[str] = []
        for part in (Path(self.rel_path).parent / target).as_posix().split("/"):
            if part == "..":
                if parts:
                    parts.pop()
            elif part not in ("", "."):
                parts.append(part)
        return "/".join(parts)

    @staticmethod
    def _signature(node: Node) -> str:
        """The item's text up to its body (or `;`), comments removed, whitespace collapsed."""
        text = node.text
        body = node.child_by_field_name("body")
        end = body.start_byte - node.start_byte if body is not None else len(text)
        raw = text[:end]
        if b"//" in raw or b"/*" in raw:
            raw = _strip_comments(node, end)
        sig = _norm(raw)
        return sig[:-1].rstrip() if sig.endswith(";") else sig

    def add(
        self,
        node: Node,
        scope: Scope,
        base_byte: int,
        base_row: int,
        origin: str,
        parse_error: bool,
    ) -> None:
        """Append the record for one function node."""
        ctx = self.ctx
        name_node = node.child_by_field_name("name")
        if name_node is None:
            self.drops["fn_without_name"] += 1
            return
        raw_name = name_node.text.decode("utf-8")
        name = raw_name[2:] if raw_name.startswith("r#") else raw_name
        doc = collect_doc(node, self._read_include)
        start_byte, end_byte = base_byte + node.start_byte, base_byte + node.end_byte
        start_line, end_line = (base_row + pt.row + 1 for pt in (node.start_point, node.end_point))
        source = node.text.decode("utf-8")
        test_reason = _test_reason(doc.attributes, scope, ctx)
        self.records.append(
            {
                "id": record_id(ctx.repo, ctx.commit, self.rel_path, start_byte, end_byte, source),
                "repo": ctx.repo,
                "commit": ctx.commit,
                "path": self.rel_path,
                "start_line": start_line,
                "end_line": end_line,
                "start_byte": start_byte,
                "end_byte": end_byte,
                "permalink": permalink(ctx.repo, ctx.commit, self.rel_path, start_line, end_line),
                "name": name,
                "raw_name": raw_name,
                "qualified_path": "::".join(
                    s for s in (ctx.module_path, *scope.segments, name) if s
                ),
                "container_kind": scope.kind or "free",
                "self_type": scope.self_type,
                "trait_name": scope.trait_name,
                **_modifiers(node, scope),
                **_signature_parts(node),
                "signature": self._signature(node),
                "source": source,
                "has_body": node.type == "function_item",
                **_doc_fields(doc.text),
                "doc_include": self._include_rel(doc.include) if doc.include else None,
                "doc_unresolved": doc.unresolved,
                "attributes": doc.attributes,
                "is_test": test_reason is not None,
                "test_reason": test_reason,
                "is_nested": scope.nested,
                "origin": origin,
                "parse_error": parse_error,
                "license": ctx.license,
                "extractor_version": EXTRACTOR_VERSION,
                "grammar_version": GRAMMAR_VERSION,
            }
        )

    # -- trees -------------------------------------------------------------------------------
    def walk(
        self, root: Node, outer: Scope, base_byte: int, base_row: int, origin: str, depth: int = 0
    ) -> None:
        """Extract every function of the tree at ``root`` and recurse into item macros."""
        outer_cache, self._cfg_test_cache = self._cfg_test_cache, {}
        try:
            self._walk(root, outer, base_byte, base_row, origin, depth)
        finally:
            self._cfg_test_cache = outer_cache

    def _find_items(self, root: Node, base_byte: int) -> tuple[list[Node], list[Node]]:
        """Every fn node of the tree, and the item-position macro invocations.

        Same result as one query for all fns plus `(source_file|declaration_list
        (macro_invocation))`, at a fraction of the cost.
        """
        fns: list[Node] = []
        macs: list[Node] = []
        data = self.data
        stack = [root]
        while stack:
            for child in stack.pop().named_children:
                t = child.type
                if t == "function_signature_item":
                    fns.append(child)
                    continue
                if t == "macro_invocation":
                    macs.append(child)
                    continue
                if t in _CONTAINERS:
                    body = child.child_by_field_name("body")
                    if body is not None:
                        stack.append(body)
                    continue
                if t == "function_item":
                    fns.append(child)
                    child = child.child_by_field_name("body")
                    if child is None:
                        continue
                elif t in ("line_comment", "block_comment", "attribute_item"):
                    continue
                a, b = base_byte + child.start_byte, base_byte + child.end_byte
                if _FN_KEYWORD.search(data, a, b):
                    fns.extend(QueryCursor(_FNS).captures(child).get("fn", ()))
        return fns, macs

    def _walk(
        self, root: Node, outer: Scope, base_byte: int, base_row: int, origin: str, depth: int
    ) -> None:
        parse_error = root.has_error
        fns, macs = self._find_items(root, base_byte)
        for node in fns:
            if node.has_error and not _error_only_in_body(node):
                self.drops["fn_with_error" if depth == 0 else "macro_fn_with_error"] += 1
                continue
            if depth and b"$" in node.text:
                # `fn $name() -> $t`: a template for items, not an item
                self.drops["macro_template_fn"] += 1
                continue
            scope = self.scope_of(node, outer)
            if scope.in_error:
                self.drops["fn_in_error" if depth == 0 else "macro_fn_in_error"] += 1
                continue
            self.add(node, scope, base_byte, base_row, origin, parse_error)
        if depth >= _MAX_MACRO_DEPTH:
            return
        for mac in macs:
            tt = mac.named_children[-1] if mac.named_child_count else None
            if tt is None or tt.type != "token_tree" or tt.end_byte - tt.start_byte < 4:
                continue
            body = root_text_slice(self.data, base_byte, tt.start_byte + 1, tt.end_byte - 1)
            if b"fn" not in body:
                continue
            macro = mac.child_by_field_name("macro")
            name = _norm(macro.text).split("::")[-1] if macro is not None else "unknown"
            scope = self.scope_of(mac, outer)
            if scope.in_error:
                continue
            sub = parse(body)
            self.walk(
                sub.root_node,
                scope,
                base_byte + tt.start_byte + 1,
                base_row + tt.start_point.row,
                f"macro:{name}",
                depth + 1,
            )


def _error_only_in_body(node: Node) -> bool:
    """True if every parse error of a fn lies inside its body block.

    The signature and doc do not depend on the body: `str![..]` in a test body (a macro named
    like a primitive type, which tree-sitter-rust cannot parse) must not cost the fn.
    """
    body = node.child_by_field_name("body")
    if body is None:
        return False
    return not any(c.has_error or c.is_missing for c in node.children if c != body)


def _strip_comments(node: Node, end: int) -> bytes:
    """``node.text[:end]`` with every comment inside it replaced by a space."""
    base, text = node.start_byte, node.text
    cuts: list[tuple[int, int]] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if n.start_byte - base >= end:
            continue
        if n.type in ("line_comment", "block_comment"):
            cuts.append((n.start_byte - base, n.end_byte - base))
        else:
            stack.extend(n.children)
    out, pos = [], 0
    for a, b in sorted(cuts):
        out.append(text[pos:a])
        out.append(b" ")
        pos = b
    out.append(text[pos:end])
    return b"".join(out)


def file_is_cfg_test(root: Node) -> bool:
    """A file whose top-level inner attributes include `#![cfg(test)]`."""
    for child in root.named_children:
        if child.type == "inner_attribute_item":
            if is_cfg_test(_norm(child.text)):
                return True
        elif child.type not in ("line_comment", "block_comment"):
            break
    return False


def root_text_slice(data: bytes, base_byte: int, start: int, end: int) -> bytes:
    """Bytes ``start:end`` of a (sub)tree whose text begins at ``base_byte`` of ``data``."""
    return data[base_byte + start : base_byte + end]


def error_ratio(root: Node, size: int) -> float:
    """Share of the file's bytes covered by ERROR nodes."""
    if not root.has_error or size == 0:
        return 0.0
    spans = sorted(
        (n.start_byte, n.end_byte) for n in QueryCursor(_ERRORS).captures(root).get("e", ())
    )
    covered, cur_a, cur_b = 0, -1, -1
    for a, b in spans:
        if a > cur_b:
            covered += max(0, cur_b - cur_a)
            cur_a, cur_b = a, b
        else:
            cur_b = max(cur_b, b)
    covered += max(0, cur_b - cur_a)
    return covered / size


def extract_tree_records(
    data: bytes, rel_path: str, ctx: FileContext, drops: Counter, root: Node
) -> list[dict[str, Any]]:
    """All function records of one parsed file."""
    walker = _Walker(data, rel_path, ctx, drops)
    walker.walk(root, Scope(test_module=file_is_cfg_test(root)), 0, 0, "source")
    return walker.records
