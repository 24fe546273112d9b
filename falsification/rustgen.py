"""Hypothesis strategies that generate Rust files of function items with known records.

One generator for both the extractor's property tests and the falsification suite's round-trip
check: each generated item carries what a correct extractor must return for it (doc, name,
container, signature, visibility, modifiers, params, return type, attributes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

KEYWORDS = frozenset(
    "as async await break const continue crate dyn else enum extern false fn for if impl in let "
    "loop match mod move mut pub ref return self Self static struct super trait true type union "
    "unsafe use where while abstract become box do final macro override priv try typeof unsized "
    "virtual yield gen safe default raw".split()
)

ident = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True).filter(lambda s: s not in KEYWORDS)
raw_ident = st.sampled_from(["r#match", "r#type", "r#fn", "r#loop", "r#yield", "r#try"])

# Doc text: printable ASCII plus some Unicode, no leading/trailing whitespace, no backslash-r.
_doc_chars = st.characters(
    codec="utf-8",
    categories=("L", "N", "P", "S", "Zs"),
    exclude_characters="\r\n\t\x0b\x0c\u2028\u2029\x85",
)
doc_line = st.text(_doc_chars, min_size=1, max_size=40).map(str.strip).filter(bool)
plain_text = st.text(st.characters(codec="ascii", categories=("L", "N", "Zs")), max_size=20)


@dataclass
class GenItem:
    """A generated item: its source text and what the extractor must find."""

    source: str
    name: str
    raw_name: str
    doc: str | None
    container: str
    signature: str
    visibility: str | None = None
    is_async: bool = False
    is_const: bool = False
    is_unsafe: bool = False
    params: list[str] = field(default_factory=list)
    return_type: str | None = None
    attributes: list[str] = field(default_factory=list)
    has_body: bool = True

    def expected(self) -> dict[str, object]:
        """The record fields a correct extractor returns for this item."""
        return {
            "name": self.name,
            "raw_name": self.raw_name,
            "doc": self.doc,
            "container_kind": self.container,
            "signature": self.signature,
            "visibility": self.visibility,
            "is_async": self.is_async,
            "is_const": self.is_const,
            "is_unsafe": self.is_unsafe,
            "params": self.params,
            "return_type": self.return_type,
            "attributes": self.attributes,
            "has_body": self.has_body,
        }


def _rust_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


# Strategies are built once, here: building one per draw costs Hypothesis a validation each
# time (most of a generated file's cost), and the same strategies draw the same examples.
_DOC_LINES = st.lists(st.one_of(doc_line, st.just("")), min_size=0, max_size=5)
_DOC_STYLE = st.sampled_from(["line", "line", "attr", "block"])
_NOISE = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "#[inline]",
                "#[must_use]",
                '#[cfg(feature = "x")]',
                "#[doc(hidden)]",
                '#[doc(alias = "other")]',
                '#[cfg_attr(docsrs, doc(cfg(feature = "x")))]',
                "#[allow(dead_code)]",
                "",
            ]
        ),
        plain_text.map(lambda t: f"// {t}"),
        plain_text.map(lambda t: f"/* {t} */"),
        plain_text.map(lambda t: f"//// {t}"),
    ),
    max_size=2,
)
_NAME = st.one_of(ident, ident, ident, raw_ident)
_VIS = st.sampled_from(["", "pub", "pub(crate)", "pub(super)"])
_GENERICS = st.sampled_from(["", "<T>", "<'a, T: Clone>", "<const N: usize>"])
_PARAMS = st.lists(st.sampled_from(["x: u32", "y: &str", "z: Vec<u8>"]), max_size=3, unique=True)
_RECEIVER = st.sampled_from(["&self", "&mut self", "self"])
_RET = st.sampled_from(["", "u8", "Option<String>", "Result<(), E>"])
_BOOL = st.booleans()
_SEP = st.sampled_from([" ", "\n    ", "  "])


@st.composite
def doc_block(draw: st.DrawFn) -> tuple[list[str], str | None]:
    """Lines of outer doc (mixed spellings) interleaved with attributes and plain comments."""
    lines = draw(_DOC_LINES)
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    out: list[str] = []
    for line in lines:
        out.extend(draw(_NOISE))
        style = draw(_DOC_STYLE)
        if style == "line" or not line:
            out.append(f"/// {line}" if line else "///")
        elif style == "attr":
            out.append(f"#[doc = {_rust_string(line)}]")
        else:
            if "*/" in line or "/*" in line:
                out.append(f"/// {line}")
            else:
                out.append(f"/** {line} */")
    out.extend(draw(_NOISE))
    expected = "\n".join(lines) if lines else None
    return out, expected


@st.composite
def fn_item(draw: st.DrawFn, container: str = "free") -> GenItem:
    """One function item (signature only for trait-required and extern fns)."""
    raw_name = draw(_NAME)
    name = raw_name[2:] if raw_name.startswith("r#") else raw_name
    doc_lines, expected = draw(_DOC_BLOCK)
    parts: list[str] = []
    vis = ""
    if container in ("free", "impl"):
        vis = draw(_VIS)
        if vis:
            parts.append(vis)
    if container != "extern":
        if draw(_BOOL):
            parts.append("const")
        elif draw(_BOOL):
            parts.append("async")
        if draw(_BOOL):
            parts.append("unsafe")
        if container == "free" and draw(_BOOL):
            parts.append('extern "C"')
    parts.append("fn")
    generics = draw(_GENERICS)
    params = draw(_PARAMS)
    if container in ("impl", "trait") and draw(_BOOL):
        params = [draw(_RECEIVER), *params]
    ret = draw(_RET)
    where = " where T: Copy" if generics.endswith("T>") and draw(_BOOL) else ""
    sig = " ".join(parts) + f" {raw_name}{generics}({', '.join(params)})"
    sig += (f" -> {ret}" if ret else "") + where
    # The source spreads the signature over lines; the extractor must normalise it back.
    sep = draw(_SEP)
    src_sig = sig.replace(", ", "," + sep) if sep != " " else sig
    has_body = container in ("free", "impl") or (container == "trait" and draw(_BOOL))
    body = " {\n    let _ = 1;\n}" if has_body else ";"
    text = "\n".join([*doc_lines, src_sig + body])
    return GenItem(
        text,
        name,
        raw_name,
        expected,
        container,
        sig,
        visibility=vis or None,
        is_async="async" in parts,
        is_const="const" in parts,
        is_unsafe="unsafe" in parts,
        params=params,
        return_type=ret or None,
        attributes=[" ".join(ln.split()) for ln in doc_lines if ln.startswith("#[")],
        has_body=has_body,
    )


_DOC_BLOCK = doc_block()
_FN = {c: fn_item(c) for c in ("free", "impl", "trait", "extern")}
_CHUNKS = st.integers(1, 4)
_KIND = st.sampled_from(["free", "impl", "trait_impl", "trait", "extern", "mod"])
_DEPTH = {"free": st.integers(0, 3), "mod": st.integers(1, 3)}
_IMPL_FNS = st.lists(_FN["impl"], min_size=1, max_size=3)
_TRAIT_IMPL_FNS = st.lists(_FN["impl"], min_size=1, max_size=2)
_TRAIT_FNS = st.lists(_FN["trait"], min_size=1, max_size=3)
_EXTERN_FNS = st.lists(_FN["extern"], min_size=1, max_size=2)


@st.composite
def rust_file(draw: st.DrawFn) -> tuple[str, list[GenItem]]:
    """A file of items in free, impl, trait_impl, trait, extern and nested-mod containers."""
    chunks: list[str] = []
    items: list[GenItem] = []
    for _ in range(draw(_CHUNKS)):
        kind = draw(_KIND)
        if kind in ("free", "mod"):
            depth = draw(_DEPTH[kind])
            it = draw(_FN["free"])
            inner = it.source
            for d in range(depth):
                inner = f"mod m{d} {{\n{inner}\n}}"
            chunks.append(inner)
            items.append(it)
        elif kind == "impl":
            its = draw(_IMPL_FNS)
            chunks.append("impl Foo {\n" + "\n".join(i.source for i in its) + "\n}")
            items.extend(its)
        elif kind == "trait_impl":
            its = draw(_TRAIT_IMPL_FNS)
            for i in its:
                i.container = "trait_impl"
            chunks.append("impl Tr for Foo {\n" + "\n".join(i.source for i in its) + "\n}")
            items.extend(its)
        elif kind == "trait":
            its = draw(_TRAIT_FNS)
            chunks.append("pub trait Tr {\n" + "\n".join(i.source for i in its) + "\n}")
            items.extend(its)
        else:
            its = draw(_EXTERN_FNS)
            chunks.append('extern "C" {\n' + "\n".join(i.source for i in its) + "\n}")
            items.extend(its)
    return "\n\n".join(chunks) + "\n", items
