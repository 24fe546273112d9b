"""`cfg` predicates, evaluated for the configuration docs are rendered in.

Doc text can be conditional: clap writes `#[cfg_attr(feature = "string", doc = "```")]` next to
`#[cfg_attr(not(feature = "string"), doc = "```ignore")]`. Dropping both loses a code fence;
keeping both doubles it. We resolve them for one fixed, documented configuration, the one
docs.rs renders: target x86_64-unknown-linux-gnu, `--cfg docsrs`, `doc` set, every feature
enabled, not a test build.
"""

from __future__ import annotations

import re
from functools import lru_cache

from corpus.extract.literals import rust_string_value

DOC_CFG_VALUES: dict[str, set[str]] = {
    "target_os": {"linux"},
    "target_family": {"unix"},
    "target_arch": {"x86_64"},
    "target_pointer_width": {"64"},
    "target_endian": {"little"},
    "target_env": {"gnu"},
    "target_vendor": {"unknown"},
    "target_has_atomic": {"8", "16", "32", "64", "ptr"},
    "panic": {"unwind"},
}
DOC_CFG_FLAGS = frozenset({"unix", "docsrs", "doc"})

_TOKEN_RE = re.compile(
    r'\s*(?:(?P<raw>r(?P<hashes>#*)"(?s:.*?)"(?P=hashes))|(?P<str>"(?:[^"\\]|\\.)*")'
    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\s*::\s*[A-Za-z_][A-Za-z0-9_]*)*)|(?P<punct>[(),=]))",
    re.S,
)


class CfgSyntaxError(ValueError):
    """The attribute is not a cfg form we understand."""


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            raise CfgSyntaxError(f"unexpected text at {pos}: {text[pos : pos + 20]!r}")
        pos = m.end()
        for kind in ("raw", "str", "ident", "punct"):
            if m.group(kind) is not None:
                out.append((kind, m.group(kind)))
                break
    return out


class _Parser:
    def __init__(
        self, tokens: list[tuple[str, str]], flags: frozenset[str] = DOC_CFG_FLAGS
    ) -> None:
        self.toks = tokens
        self.i = 0
        self.flags = flags

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise CfgSyntaxError(f"expected {value or 'a token'}, got {tok}")
        self.i += 1
        return tok

    def predicate(self) -> bool:
        kind, name = self.take()
        if kind != "ident":
            raise CfgSyntaxError(f"expected a cfg name, got {name!r}")
        nxt = self.peek()
        if name in ("all", "any", "not") and nxt == ("punct", "("):
            self.take("(")
            args: list[bool] = []
            while self.peek() != ("punct", ")"):
                args.append(self.predicate())
                if self.peek() == ("punct", ","):
                    self.take(",")
            self.take(")")
            if name == "all":
                return all(args)
            if name == "any":
                return any(args)
            if len(args) != 1:
                raise CfgSyntaxError("not() takes exactly one predicate")
            return not args[0]
        if nxt == ("punct", "="):
            self.take("=")
            kind, lit = self.take()
            value = rust_string_value(lit) if kind in ("str", "raw") else None
            if value is None:
                raise CfgSyntaxError(f"expected a string after {name} =")
            if name == "feature":
                return True
            return value in DOC_CFG_VALUES.get(name, set())
        return name in self.flags


_CFG_ATTR_RE = re.compile(r"^#!?\[\s*cfg\s*\((.*)\)\s*\]$", re.S)


@lru_cache(maxsize=8192)  # a pure function of the text; most attributes recur (`#[inline]`)
def cfg_only_in_tests(attribute_text: str) -> bool:
    """True for `#[cfg(pred)]` that holds in a test build and not in a normal one.

    `cfg(test)` and `cfg(all(test, feature = "x"))` are test-only; `cfg(not(all(test, loom)))`
    is not (it is compiled in every normal build). Other cfg names take the docs configuration.
    """
    m = _CFG_ATTR_RE.match(attribute_text)
    if not m:
        return False
    try:
        tokens = _tokens(m.group(1))
        results = []
        for flags in (DOC_CFG_FLAGS | {"test"}, DOC_CFG_FLAGS):
            p = _Parser(tokens, frozenset(flags))
            results.append(p.predicate())
            if p.peek() is not None:
                raise CfgSyntaxError("trailing tokens")
    except CfgSyntaxError:
        return False
    return results[0] and not results[1]


def cfg_attr_docs(attribute_text: str) -> list[str] | None:
    """The doc strings a `cfg_attr(pred, doc = "..", ..)` contributes in the docs configuration.

    ``attribute_text`` is the attribute's content (``cfg_attr(...)``, without ``#[ ]``).
    Returns [] when the predicate is false or the attribute carries no doc text, and None when
    it does carry doc text we cannot evaluate.
    """
    try:
        p = _Parser(_tokens(attribute_text))
        p.take("cfg_attr")
        p.take("(")
        active = p.predicate()
        docs: list[str] = []
        while p.peek() == ("punct", ","):
            p.take(",")
            if p.peek() in (None, ("punct", ")")):
                break
            kind, name = p.take()
            if kind == "ident" and name == "doc" and p.peek() == ("punct", "="):
                p.take("=")
                k, lit = p.take()
                value = rust_string_value(lit) if k in ("str", "raw") else None
                if value is None:
                    raise CfgSyntaxError("doc = takes a string literal here")
                docs.append(value)
            else:
                _skip_meta(p)
        p.take(")")
    except CfgSyntaxError:
        return None if re.search(r"\bdoc\s*=", attribute_text) else []
    return docs if active else []


def _skip_meta(p: _Parser) -> None:
    """Skip the rest of one attribute inside cfg_attr (`name`, `name = lit`, `name(...)`)."""
    depth = 0
    while True:
        tok = p.peek()
        if tok is None:
            raise CfgSyntaxError("unbalanced cfg_attr")
        if depth == 0 and tok in (("punct", ","), ("punct", ")")):
            return
        p.take()
        if tok == ("punct", "("):
            depth += 1
        elif tok == ("punct", ")"):
            depth -= 1
