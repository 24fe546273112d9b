"""Signatures (and their parts) as rustfmt prints them on one line, from the parse tree's tokens.

Collapsing whitespace is not enough: a signature written over several lines collapses to
``fn f<P: AsRef<Path>>( &self, dir: P, ) -> T`` — with a space after ``(`` and a trailing comma
a model would learn as Rust style. Here the leaf tokens are joined by rustfmt's spacing rules
(no space inside brackets or before ``,`` ``:`` ``;``, none around ``::``, none between a name and
its ``(`` or ``<``, spaces around ``->`` ``=`` ``+``) and trailing commas are dropped, giving
``fn f<P: AsRef<Path>>(&self, dir: P) -> T``. Comments are never part of the text.
"""

from __future__ import annotations

import re

from tree_sitter import Node

#: Nodes whose text is one token (their children are pieces of it).
_ATOMIC = frozenset(
    {"lifetime", "string_literal", "raw_string_literal", "char_literal", "integer_literal"}
)
_COMMENTS = frozenset({"line_comment", "block_comment"})
_CLOSE = frozenset({")", "]", ">"})
_NO_SPACE_BEFORE = _CLOSE | {",", ";", ":", "::", "."}
_NO_SPACE_AFTER = frozenset({"(", "[", "<", "&", "&&", "::", ".", "#", "?", "*", "$"})
#: Words after which ``<`` or ``(`` opens a new group rather than continuing a name.
_SPACED_KEYWORDS = frozenset({"where", "as", "dyn", "in", "mut", "const", "unsafe", "extern"})
_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$|^r#\w+$")


def leaf_tokens(node: Node, end_byte: int | None = None) -> list[str]:
    """The text of every token of ``node`` before ``end_byte`` (comments left out)."""
    out: list[str] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if end_byte is not None and n.start_byte >= end_byte:
            continue
        if n.type in _COMMENTS:
            continue
        if n.child_count == 0 or n.type in _ATOMIC:
            text = n.text.decode("utf-8") if n.text else ""
            if text:
                out.append(text)
            continue
        stack.extend(reversed(n.children))
    return out


def _is_word(tok: str) -> bool:
    return bool(_WORD.match(tok))


def _space_between(a: str, b: str) -> bool:
    if b in _NO_SPACE_BEFORE or a in _NO_SPACE_AFTER:
        return False
    if b in ("<", "(") and (a in (">", ")") or (_is_word(a) and a not in _SPACED_KEYWORDS)):
        return b == "(" and a == ")"  # `f<T>(x)`, `Vec<T>`, `pub(crate)`; `)(` keeps a space
    if b == "!" and _is_word(a):
        return False  # a macro: `ty!(..)`
    return not (a == "!" and b in ("(", "[", "{"))


def join_tokens(tokens: list[str]) -> str:
    """Tokens joined as rustfmt spaces them on one line, trailing commas dropped."""
    ends = _CLOSE | {"{"}
    kept = [
        t
        for i, t in enumerate(tokens)
        if not (t == "," and (i + 1 == len(tokens) or tokens[i + 1] in ends))
    ]
    out: list[str] = []
    for i, tok in enumerate(kept):
        if i and _space_between(kept[i - 1], tok):
            out.append(" ")
        out.append(tok)
    return "".join(out)


#: A signature's tokens straight from its text, when the text holds nothing a regular
#: expression could split wrongly: no string, char or raw literal, comment, attribute,
#: escape, block or array length (whose operators lex differently from a type's ``>>``),
#: comparison, suffixed or non-decimal number or non-ASCII name (those take the parse
#: tree's tokens). Equal to the tree's on every signature of the seven repositories, and
#: checked against them by property tests; about a tenth off the extractor's time.
_LEX = re.compile(
    r"[A-Za-z_][A-Za-z0-9_]*|'[A-Za-z_][A-Za-z0-9_]*|\d+"
    r"|::|->|=>|\.\.=|\.\.\.|\.\.|[^\sA-Za-z0-9_]"
)
#: What only the tree can lex: ``"#/\{;``, ``==`` ``!=`` ``<=`` ``>=``, ``&&``, ``||``, a char
#: literal or a lone quote, ``b'``, a number of two digits or with a suffix, a non-ASCII
#: character. Written with the first character as a class (each case then checked behind
#: it), so the search skips in C to where a match can start: 3-4x faster than the plain
#: alternation, and equal to it (``tests/test_extract_signature_lexer.py``).
_NEEDS_TREE = re.compile(
    r"""["#/\\{;=!<>&|'b0-9\x80-\U0010FFFF]"""
    r"""(?:(?<=["#/\\{;])|(?<=[=!<>])=|(?<=&)&|(?<=\|)\||(?<=')(?:(?:[^'\\]|\\.)'|(?![A-Za-z_]))"""
    r"""|(?<=b)'|(?<=[0-9])(?<![A-Za-z0-9_][0-9])[\w.]|(?<=[^\x00-\x7f]))"""
)


def text_tokens(text: str) -> list[str] | None:
    """The tokens of ``text`` by :data:`_LEX`, or None when only the parse tree can tell."""
    if _NEEDS_TREE.search(text):
        return None
    return _LEX.findall(text)  # whitespace matches nothing: findall steps over it


def node_text(node: Node | None, end_byte: int | None = None) -> str | None:
    """``node`` (up to ``end_byte``) as one rustfmt-spaced line; None for no node."""
    if node is None:
        return None
    raw = node.text or b""
    if end_byte is not None:
        raw = raw[: max(0, end_byte - node.start_byte)]
    # Error recovery lexes differently (``>>`` as one token): only a clean tree takes the text.
    tokens = None if node.has_error else text_tokens(raw.decode("utf-8", "replace"))
    return join_tokens(tokens if tokens is not None else leaf_tokens(node, end_byte))
