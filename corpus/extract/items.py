"""Function items of one parsed tree, with their containers, modifiers, signatures and docs.

Items are found by one walk down the tree carrying the scope (module path, container, test
context), entering only sub-trees that hold the ``fn`` keyword: linear in depth and cheap for
bodies without nested fns. Item-position macro invocations (`cfg_rt! { ... }`) are re-parsed from
their token-tree text and walked the same way, their records marked with the macro's name.
"""

from __future__ import annotations

import re
import time
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tree_sitter import Node, Query, QueryCursor

from corpus.extract.cfg import cfg_only_in_tests
from corpus.extract.crate import FileContext
from corpus.extract.docs import collect_doc, sections, summary
from corpus.extract.includes import read_include
from corpus.extract.parser import GRAMMAR_VERSION, RUST, parse
from corpus.extract.paths import record_paths
from corpus.extract.signature import node_text
from corpus.schema import EXTRACTOR_VERSION, permalink, record_id

# Items are found by one walk down the tree that enters only sub-trees holding the `fn`
# keyword (located by bisecting its offsets), so fn bodies without nested fns cost nothing.
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
    mod_depth: int = 0  # how many leading segments are inline modules
    kind: str | None = None
    self_type: str | None = None
    trait_name: str | None = None
    abi: str | None = None
    header: str | None = None  # the container's header: impl<..> Type<..> where .., trait ..
    nested: bool = False
    test_module: bool = False
    test_item: bool = False  # inside a `#[cfg(test)] impl` or trait
    in_error: bool = False


def _ident(name: Node | None) -> str:
    """A name as a path segment: raw identifiers without ``r#`` (``r#type`` -> ``type``)."""
    if name is None:
        return "_"
    text = _norm(name.text)
    return text[2:] if text.startswith("r#") else text


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


def _container_header(node: Node) -> str:
    """An impl, trait or extern block up to its body, as rustfmt prints it on one line:
    ``impl<T: Clone> Foo<T> where T: Send``, ``pub unsafe trait Bar: Baz``, ``extern "C"``."""
    body = node.child_by_field_name("body")
    return node_text(node, body.start_byte if body is not None else None) or ""


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
        node_text(p) or ""
        for p in (params_node.named_children if params_node is not None else ())
        if p.type in ("parameter", "self_parameter", "variadic_parameter")
    ]
    return {
        "generics": node_text(tp),
        "where_clause": node_text(where),
        "params": params,
        "return_type": node_text(ret),
    }


#: What every record says produced it.
_VERSIONS = {"extractor_version": EXTRACTOR_VERSION, "grammar_version": GRAMMAR_VERSION}


def _provenance(
    ctx: FileContext, path: str, span: tuple[int, int, int, int], rid: str
) -> dict[str, Any]:
    """id (``rid``), repo, commit, path, lines, bytes and permalink of an item at ``span``
    (start byte, end byte, start line, end line)."""
    a, b, first, last = span
    return {
        "id": rid,
        "repo": ctx.repo,
        "commit": ctx.commit,
        "path": path,
        "start_line": first,
        "end_line": last,
        "start_byte": a,
        "end_byte": b,
        "permalink": permalink(ctx.repo, ctx.commit, path, first, last),
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


@dataclass(frozen=True)
class _Frame:
    """The scope on the way down to an item: what encloses it so far (innermost wins)."""

    segments: tuple[str, ...] | None = None  # a linked list: (parent, segment)
    length: int = 0  # how many segments: counted, since walking the list is O(depth)
    mod_depth: int = 0  # how many leading segments are inline modules
    kind: str | None = None
    self_type: str | None = None
    trait_name: str | None = None
    abi: str | None = None
    header: str | None = None
    nested: bool = False
    test_module: bool = False
    test_item: bool = False
    in_error: bool = False

    def _with(self, segment: str | None, **kw: Any) -> _Frame:
        if segment is None:
            return replace(self, **kw)
        return replace(self, segments=(self.segments, segment), length=self.length + 1, **kw)  # type: ignore[arg-type]

    def enter_fn(self, fn: Node) -> _Frame:
        """Inside ``fn``'s body: a nested item, whose own container (if any) is inside it."""
        name = fn.child_by_field_name("name")
        seg = _ident(name)
        return self._with(seg, nested=True, kind=None, self_type=None, trait_name=None,
                          abi=None, header=None)  # fmt: skip

    def enter(self, node: Node, cfg_test: bool) -> _Frame:
        """Inside ``node`` (a container, an ERROR region or any other node)."""
        t = node.type
        if t == "impl_item":
            ty, tr = node.child_by_field_name("type"), node.child_by_field_name("trait")
            seg = _type_path_segment(ty)
            return self._with(
                # a trait impl keeps its generics: <Box<dyn Error> as From<Error>>
                f"<{_norm(ty.text) if ty is not None else '_'} as {_norm(tr.text)}>"
                if tr is not None
                else seg,
                kind="trait_impl" if tr is not None else "impl",
                self_type=_norm(ty.text) if ty is not None else None,
                trait_name=_norm(tr.text) if tr is not None else None,
                abi=None,
                header=_container_header(node),
                test_item=self.test_item or cfg_test,
            )
        if t == "trait_item":
            name = node.child_by_field_name("name")
            seg = _ident(name)
            return self._with(seg, kind="trait", self_type=None, trait_name=seg, abi=None,
                              header=_container_header(node),
                              test_item=self.test_item or cfg_test)  # fmt: skip
        if t == "foreign_mod_item":
            mod = next((c for c in node.children if c.type == "extern_modifier"), None)
            return self._with(None, kind="extern", self_type=None, trait_name=None,
                              abi=_extern_abi(mod) if mod is not None else "C",
                              header=_container_header(node))  # fmt: skip
        if t == "mod_item":
            name = node.child_by_field_name("name")
            seg = _ident(name)
            only_mods = self.kind is None and not self.nested and self.mod_depth == self.length
            depth = self.mod_depth + 1 if only_mods else self.mod_depth
            return self._with(seg, test_module=self.test_module or cfg_test, mod_depth=depth)
        if t == "ERROR":
            return self._with(None, in_error=True)
        return self

    def scope(self, outer: Scope) -> Scope:
        """The item's scope, continued from ``outer`` (a macro invocation's scope)."""
        segs: list[str] = []
        link = self.segments
        while link is not None:
            link, seg = link  # type: ignore[misc]
            segs.append(seg)
        segs.reverse()
        own = self.kind is not None or self.nested
        src = self if own else outer
        only_mods = outer.mod_depth == len(outer.segments)
        return Scope(
            segments=outer.segments + segs,
            mod_depth=outer.mod_depth + (self.mod_depth if only_mods else 0),
            kind=src.kind,
            self_type=src.self_type,
            trait_name=src.trait_name,
            abi=src.abi,
            header=src.header,
            nested=self.nested or outer.nested,
            test_module=self.test_module or outer.test_module,
            test_item=self.test_item or outer.test_item,
            in_error=self.in_error or outer.in_error,
        )


class OverBudget(Exception):
    """A file asked more of the extractor than any real source does (see ``Budget``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Budget:
    """What one file may cost: ``seconds`` of walking, and records whose sources add up to at
    most ``amplification`` times the file (nested fns repeat their parents' text: 20,000
    nested fns in 180 KB would publish gigabytes). Exceeding either drops the file, counted."""

    seconds: float = 10.0
    amplification: int = 32
    started: float = field(default_factory=time.monotonic)
    source_bytes: int = 0

    def spend(self, file_size: int, source_bytes: int = 0) -> None:
        """Charge ``source_bytes`` of output; raise ``OverBudget`` past either limit."""
        self.source_bytes += source_bytes
        if self.source_bytes > self.amplification * file_size + (1 << 20):
            raise OverBudget("nesting_amplification")
        if time.monotonic() - self.started > self.seconds:
            raise OverBudget("file_time_budget")


class _Walker:
    """Extracts records from one tree (a file, or a re-parsed macro body)."""

    def __init__(
        self, data: bytes, rel_path: str, ctx: FileContext, drops: Counter, budget: Budget
    ) -> None:
        self.data = data
        self.budget = budget
        self.rel_path = rel_path
        self.ctx = ctx
        self.drops = drops
        self.records: list[dict[str, Any]] = []
        #: Byte offsets of every `fn` keyword-like word in the file (macro bodies included).
        self._fn_at = [m.start() for m in _FN_KEYWORD.finditer(data)]

    # -- records -----------------------------------------------------------------------------
    def _read_include(self, target: str) -> str | None:
        if self.ctx.root is None:
            return None
        return read_include(self.ctx.root, self.ctx.commit, self.rel_path, target)

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
        """The item up to its body (or `;`) as rustfmt prints it on one line, no comments."""
        body = node.child_by_field_name("body")
        sig = node_text(node, body.start_byte if body is not None else None) or ""
        return sig[:-1].rstrip() if sig.endswith(";") else sig

    def _wanted_id(self, start_byte: int, end_byte: int, source: str) -> str | None:
        """The id of the item at this span, charged to the budget; None when the context
        wants other records only (``FileContext.wanted_ids``)."""
        ctx = self.ctx
        self.budget.spend(len(self.data), len(source))
        rid = record_id(ctx.repo, ctx.commit, self.rel_path, start_byte, end_byte, source)
        return None if ctx.wanted_ids is not None and rid not in ctx.wanted_ids else rid

    def add(
        self,
        node: Node,
        scope: Scope,
        base_byte: int,
        base_row: int,
        origin: str,
        file_parse_error: bool,
    ) -> None:
        """Append the record for one function node (``file_parse_error``: its file, or the
        macro body it was recovered from, has a parse error somewhere)."""
        ctx = self.ctx
        name_node = node.child_by_field_name("name")
        if name_node is None:
            self.drops["fn_without_name"] += 1
            return
        start_byte, end_byte = base_byte + node.start_byte, base_byte + node.end_byte
        source = node.text.decode("utf-8")
        rid = self._wanted_id(start_byte, end_byte, source)
        if rid is None:
            return
        raw_name = name_node.text.decode("utf-8")
        name = raw_name[2:] if raw_name.startswith("r#") else raw_name
        doc = collect_doc(node, self._read_include)
        start_line, end_line = (base_row + pt.row + 1 for pt in (node.start_point, node.end_point))
        test_reason = _test_reason(doc.attributes, scope, ctx)
        modifiers = _modifiers(node, scope)
        paths = record_paths(ctx, scope, name, modifiers["visibility"], doc.attributes, test_reason)
        self.records.append(
            {
                **_provenance(
                    ctx, self.rel_path, (start_byte, end_byte, start_line, end_line), rid
                ),
                "name": name,
                "raw_name": raw_name,
                **paths,
                "container_kind": scope.kind or "free",
                "self_type": scope.self_type,
                "trait_name": scope.trait_name,
                "container_header": scope.header,
                **modifiers,
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
                # Only an error inside the body can be left (one elsewhere drops the fn).
                "parse_error": node.has_error,
                "file_parse_error": file_parse_error,
                "license": ctx.license,
                **_VERSIONS,
            }
        )

    # -- trees -------------------------------------------------------------------------------
    def walk(
        self, root: Node, outer: Scope, base_byte: int, base_row: int, origin: str, depth: int = 0
    ) -> None:
        """Extract every function of the tree at ``root`` and recurse into item macros."""
        self._walk(root, outer, base_byte, base_row, origin, depth)

    def _has_fn(self, node: Node, base_byte: int) -> bool:
        """Whether the ``fn`` keyword occurs in ``node``'s bytes (a bisect, not a scan)."""
        a, b = base_byte + node.start_byte, base_byte + node.end_byte
        i = bisect_left(self._fn_at, a)
        return i < len(self._fn_at) and self._fn_at[i] < b

    def _find_items(
        self, root: Node, base_byte: int
    ) -> tuple[list[tuple[Node, _Frame]], list[tuple[Node, _Frame]]]:
        """Every fn node of the tree and the item-position macro invocations, with the frames
        their scopes come from (made into a ``Scope`` only for what is kept: a path costs its
        depth).

        One walk down from the root, carrying the scope, into only the sub-trees whose bytes
        hold the ``fn`` keyword: linear in the tree's depth (a walk up from each fn through
        ``Node.parent`` is not: tree-sitter finds a parent by descending from the root).
        """
        fns: list[tuple[Node, _Frame]] = []
        macs: list[tuple[Node, _Frame]] = []
        stack: list[tuple[Node, _Frame, bool]] = [(root, _Frame(), True)]
        while stack:
            node, frame, item_level = stack.pop()
            self.budget.spend(len(self.data))
            cfg_test = False  # a test-only #[cfg(..)] among the attributes just seen
            for child in node.named_children:
                t = child.type
                if t == "attribute_item":
                    cfg_test = cfg_test or is_cfg_test(_norm(child.text))
                    continue
                if t in ("line_comment", "block_comment"):
                    continue
                attrs_test, cfg_test = cfg_test, False
                if t in ("function_item", "function_signature_item"):
                    fns.append((child, frame))
                    body = child.child_by_field_name("body")
                    if body is not None and self._has_fn(body, base_byte):
                        stack.append((body, frame.enter_fn(child), False))
                elif t == "macro_invocation" and item_level:
                    macs.append((child, frame))
                elif self._has_fn(child, base_byte):
                    inner = frame.enter(child, attrs_test)
                    if t in _CONTAINERS:
                        body = child.child_by_field_name("body")
                        if body is not None:
                            stack.append((body, inner, item_level))
                    else:
                        stack.append((child, inner, False))
        return fns, macs

    def _walk(
        self, root: Node, outer: Scope, base_byte: int, base_row: int, origin: str, depth: int
    ) -> None:
        parse_error = root.has_error
        fns, macs = self._find_items(root, base_byte)
        for node, frame in fns:
            if node.has_error and not _error_only_in_body(node):
                self.drops["fn_with_error" if depth == 0 else "macro_fn_with_error"] += 1
                continue
            if depth and b"$" in node.text:
                # `fn $name() -> $t`: a template for items, not an item
                self.drops["macro_template_fn"] += 1
                continue
            if frame.in_error or outer.in_error:
                self.drops["fn_in_error" if depth == 0 else "macro_fn_in_error"] += 1
                continue
            self.add(node, frame.scope(outer), base_byte, base_row, origin, parse_error)
        if depth >= _MAX_MACRO_DEPTH:
            return
        for mac, frame in macs:
            tt = mac.named_children[-1] if mac.named_child_count else None
            if tt is None or tt.type != "token_tree" or tt.end_byte - tt.start_byte < 4:
                continue
            body = root_text_slice(self.data, base_byte, tt.start_byte + 1, tt.end_byte - 1)
            if b"fn" not in body:
                continue
            macro = mac.child_by_field_name("macro")
            name = _norm(macro.text).split("::")[-1] if macro is not None else "unknown"
            if frame.in_error or outer.in_error:
                continue
            scope = frame.scope(outer)
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
    data: bytes,
    rel_path: str,
    ctx: FileContext,
    drops: Counter,
    root: Node,
    budget: Budget | None = None,
) -> list[dict[str, Any]]:
    """All function records of one parsed file (``OverBudget`` when it costs too much)."""
    walker = _Walker(data, rel_path, ctx, drops, budget or Budget())
    walker.walk(root, Scope(test_module=file_is_cfg_test(root)), 0, 0, "source")
    return walker.records
