"""Doc comments attached as rustc attaches them, and normalised as rustdoc shows them.

rustc turns `///` and `/** */` (outer doc comments) into `#[doc = "..."]` attributes on the next
item; attributes and plain comments may sit between the doc and the item. Only those three
spellings are doc text: `#[doc(hidden)]`, `cfg_attr(.., doc(..))`, `//!` and plain `//` are not.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise

from tree_sitter import Node

from corpus.extract.cfg import cfg_attr_docs
from corpus.extract.literals import rust_string_value

# A fragment is (kind, raw text): kind "line" (`///`), "block" (`/** */`) or "attr" (`#[doc]`).
Fragment = tuple[str, str]

_SECTION_RE = re.compile(r"^\s{0,3}#{1,6}\s+([A-Za-z][A-Za-z ]*?)\s*#*\s*$")
_SECTION_ALIASES = {
    "examples": "Examples",
    "example": "Examples",
    "errors": "Errors",
    "error": "Errors",
    "panics": "Panics",
    "panic": "Panics",
    "safety": "Safety",
    "arguments": "Arguments",
    "args": "Arguments",
    "parameters": "Arguments",
}
_SECTION_ORDER = ("Examples", "Errors", "Panics", "Safety", "Arguments")
_FENCE_RE = re.compile(r"^\s{0,3}(```+|~~~+)")


@dataclass
class DocResult:
    """The doc of one item: normalised text, raw fragments and what could not be resolved."""

    fragments: list[Fragment] = field(default_factory=list)
    include: str | None = None
    unresolved: bool = False
    attributes: list[str] = field(default_factory=list)

    @property
    def text(self) -> str | None:
        """The normalised doc text, or None when there is none."""
        return normalize_fragments(self.fragments)


def is_outer_line_doc(text: str) -> bool:
    """`///` exactly: `////...` is a plain comment."""
    return text.startswith("///") and not text.startswith("////")


def is_outer_block_doc(text: str) -> bool:
    """`/**` exactly: `/***...` and the empty `/**/` are plain comments."""
    return text.startswith("/**") and not text.startswith("/***") and text != "/**/"


def beautify_block(text: str) -> str:
    """Port of rustc's ``beautify_doc_string`` for block doc comments (gutters, star lines)."""
    if "\n" not in text:
        return text
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()  # Rust's str::lines() yields no empty last line
    changed = False
    i, j = 0, len(lines)
    if lines and all(c == "*" for c in lines[0]):  # true for an empty first line too
        i += 1
    if j > i and lines[j - 1] and all(c == "*" for c in lines[j - 1]):
        j -= 1
    if i != 0 or j != len(lines):
        changed = True
    lines = lines[i:j]
    horizontal = _horizontal_trim(lines)
    if horizontal is not None:
        changed = True
        out = []
        for line in lines:
            if line.startswith(horizontal):
                line = line[len(horizontal) :]
                if line == "*" or line.startswith("* ") or line.startswith("**"):
                    line = line[1:]
            out.append(line)
        lines = out
    return "\n".join(lines) if changed else text


def _horizontal_trim(lines: list[str]) -> str | None:
    """The common `   *` gutter prefix of a block comment's lines, as rustc computes it."""
    start = 0 if lines and lines[0].lstrip().startswith("*") else 1
    end = len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    body = lines[start:end]
    if not body:
        return None
    col = None
    for line in body:
        star_at = None
        for k, c in enumerate(line):
            if (col is not None and k > col) or c not in "* \t":
                return None
            if c == "*":
                star_at = k
                break
        if star_at is None:
            return None
        if col is None:
            col = star_at
        elif col != star_at:
            return None
        if col >= len(line):
            return None
    return body[0][:col] if col is not None else None


def _rust_lines(text: str) -> list[str]:
    """Rust's ``str::lines``: split on LF, no empty last line after a final newline."""
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    return lines


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def normalize_fragments(fragments: list[Fragment]) -> str | None:
    """Join doc fragments into the doc text rustdoc shows.

    Line endings become LF; block fragments lose their gutters (rustc's beautify); the common
    indentation is removed as rustdoc's ``unindent_doc_fragments`` does, where a `#[doc]`
    fragment mixed with `///`/`/** */` ones counts one extra column. Then (our convention)
    trailing whitespace and leading/trailing blank lines are dropped. None when nothing is left.
    """
    texts: list[tuple[bool, list[str]]] = []
    for kind, raw in fragments:
        text = raw.replace("\r\n", "\n").replace("\r", "\n")
        if kind == "block":
            text = beautify_block(text)
        texts.append((kind != "attr", _rust_lines(text)))
    sugared = [s for s, _ in texts]
    add = 1 if (any(a != b for a, b in pairwise(sugared)) and any(sugared)) else 0
    indents = [_indent(ln) + (0 if s else add) for s, lines in texts for ln in lines if ln.strip()]
    if not indents:
        return None
    min_indent = min(indents)
    out: list[str] = []
    for s, lines in texts:
        cut = min_indent - add if (not s and min_indent > 0) else min_indent
        for ln in lines:
            out.append(ln[min(cut, _indent(ln)) :].rstrip() if ln.strip() else "")
    while out and not out[0]:
        out.pop(0)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) if out else None


def summary(doc: str | None) -> str | None:
    """rustdoc's summary: the first paragraph, on one line."""
    if not doc:
        return None
    para: list[str] = []
    for line in doc.split("\n"):
        if not line.strip():
            if para:
                break
            continue
        para.append(line.strip())
    return " ".join(para) or None


def sections(doc: str | None) -> list[str]:
    """The rustdoc sections (Examples, Errors, Panics, Safety, Arguments) the doc has."""
    if not doc:
        return []
    found: set[str] = set()
    in_fence = False
    for line in doc.split("\n"):
        if _FENCE_RE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        m = _SECTION_RE.match(line)
        if m:
            canon = _SECTION_ALIASES.get(m.group(1).strip().lower())
            if canon:
                found.add(canon)
    return [s for s in _SECTION_ORDER if s in found]


def string_literal_value(node: Node) -> str | None:
    """The value of a string_literal / raw_string_literal node (None for byte/c strings)."""
    if node.type not in ("string_literal", "raw_string_literal"):
        return None
    return rust_string_value(node.text.decode("utf-8"))


IncludeReader = Callable[[str], str | None]


def _doc_attribute(attr: Node, doc: DocResult, read_include: IncludeReader | None) -> bool:
    """Handle `#[doc = ...]`; return True if the attribute is a doc-text attribute."""
    path = attr.named_children[0] if attr.named_child_count else None
    if path is not None and path.type == "identifier" and path.text == b"cfg_attr":
        texts = cfg_attr_docs(attr.text.decode("utf-8"))
        if texts is None:
            doc.unresolved = True
            return True
        doc.fragments.extend(("attr", t) for t in texts)
        return bool(texts)
    if path is None or path.type != "identifier" or path.text != b"doc":
        return False
    value = attr.child_by_field_name("value")
    if value is None:
        return False  # doc(hidden), doc(alias = ..), doc(cfg(..)): not doc text
    text = string_literal_value(value) if value.type.endswith("string_literal") else None
    if text is not None:
        doc.fragments.append(("attr", text))
        return True
    if value.type == "macro_invocation":
        name = value.child_by_field_name("macro")
        if name is not None and name.text.split(b"::")[-1] == b"include_str":
            tt = value.named_children[-1]
            lits = [c for c in tt.named_children if c.type.endswith("string_literal")]
            target = string_literal_value(lits[0]) if len(lits) == 1 else None
            content = read_include(target) if (target is not None and read_include) else None
            if target is not None:
                doc.include = target
            if content is not None:
                doc.fragments.append(("attr", content))
                return True
    doc.unresolved = True
    return True


def collect_doc(item: Node, read_include: IncludeReader | None = None) -> DocResult:
    """Walk back from ``item`` over attributes and comments, collecting its outer doc.

    Stops at the first sibling that is neither an attribute nor a comment. Plain comments and
    inner docs are skipped (never doc text); outer docs on both sides of an attribute join in
    source order.
    """
    doc = DocResult()
    collected: list[Node] = []
    sib = item.prev_named_sibling
    while sib is not None and sib.type in ("line_comment", "block_comment", "attribute_item"):
        collected.append(sib)
        sib = sib.prev_named_sibling
    for node in reversed(collected):
        if node.type == "attribute_item":
            attr = node.named_children[0] if node.named_child_count else None
            if attr is None:
                continue
            doc.attributes.append(" ".join(node.text.decode("utf-8").split()))
            _doc_attribute(attr, doc, read_include)
            continue
        raw = node.text.decode("utf-8")
        if node.type == "line_comment" and is_outer_line_doc(raw):
            doc.fragments.append(("line", raw[3:].rstrip("\r\n")))
        elif node.type == "block_comment" and is_outer_block_doc(raw) and raw.endswith("*/"):
            doc.fragments.append(("block", raw[3:-2]))
    return doc
