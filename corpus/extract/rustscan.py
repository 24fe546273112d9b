"""A fast lexical scan of one Rust file for what the crate layout needs: module declarations
(``mod x;``, inline ``mod x { }``, with ``#[path]``, visibility, ``#[doc(hidden)]`` and
``#[cfg(test)]``), the module-level items it defines (struct, enum, union, trait, type, fn),
its ``use`` declarations, ``include!("..")`` and ``automod::dir!("..")``.

No parse: one regex search at a time over the text, skipping comments, strings and character
literals, with a stack of braces. Bodies of fns, impls, traits, structs and the like are
skipped by brace counting (their contents are not module items). The braces of a macro
invocation at module level (tokio's ``cfg_rt! { pub mod runtime; }``, ``cfg_if!``) are
transparent: their items count, for every cfg at once. What a ``macro_rules!`` body declares
is kept per macro name, with the module-level invocations of every macro: serde declares its
whole module tree in ``crate_root!``, expanded where it is invoked (``corpus.extract.modtree``).
Rust that this cannot read is under-read, never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from corpus.extract.cfg import cfg_only_in_tests

_STRING = r'"(?:[^"\\]++|\\.)*+"'
_CHARLIT = r"'(?:[^'\\\n]|\\[^\n][^'\n]{0,9})'"
_RAW = r'b?r#*"'  # a raw string starts: found by the caller (its end depends on the hashes)
#: What the regex engine consumes itself, without a Python step: line comments, plain strings,
#: character literals and lifetimes, identifiers (not starting a raw string).
_SKIPPED = r"|//[^\n]*+|" + _STRING + "|" + _CHARLIT + r"|'|(?!" + _RAW + r")[A-Za-z_]\w*+"
#: Inside a skipped body: only what keeps the braces balanced.
_OPAQUE_RE = re.compile(
    r"""(?:[^/"'{}A-Za-z_]++|/(?![/*])""" + _SKIPPED + r")*+"
    r"(?:(?P<rs>" + _RAW + r")|(?P<bc>/\*)|(?P<open>\{)|(?P<close>\})|(?P<other>.))",
    re.S,
)
_KEYWORDS = (
    "pub|mod|struct|enum|union|trait|type|fn|use|impl|const|static|unsafe|async|extern|default"
    "|auto|safe|macro_rules|include|automod"
)
#: At module level, what cannot start a token of interest: as in a body, but identifiers only
#: when they are neither keywords nor a macro's name.
_BORING = (
    r"""(?:[^/"'#{};A-Za-z_]++|/(?![/*])|//[^\n]*+|""" + _STRING + "|" + _CHARLIT + r"|'"
    r"|(?!(?:" + _KEYWORDS + r")\b|" + _RAW + r")[A-Za-z_]\w*+(?!\s*+!))*+"
)
_LIT = r"(?P<rs>" + _RAW + r")|(?P<bc>/\*)"
_VIS = r"(?P<vis>\bpub\b(?:\s*\((?P<scope>[^()]*)\))?\s*)?"
_QUALS = r"(?:(?:unsafe|async|const|extern(?:\s*\"[^\"]*\")?|default|auto|safe)\s+)*"
_KW = r"\b(?P<kw>mod|struct|enum|union|trait|type|fn|use|impl|const|static)\b"
#: At module level: items, attributes, macros and the punctuation that ends them.
_MODULE_RE = re.compile(
    _BORING
    + "(?:"
    + _LIT
    + r"|(?P<attr>#!?\[)"
    + r"|(?P<mr>\bmacro_rules\s*!\s*(?:r#)?(?P<mrname>\w*)\s*\{)"
    + r'|(?P<inc>\binclude\s*!\s*\(\s*"(?P<incpath>(?:[^"\\]|\\.)*)"\s*\))'
    + r'|(?P<auto>\bautomod\s*::\s*dir\s*!\s*\(\s*"(?P<autopath>(?:[^"\\]|\\.)*)")'
    + r"|(?P<mi>(?P<miname>[A-Za-z_]\w*)\s*!\s*\{)"
    + r"|(?P<mc>(?P<mcname>[A-Za-z_]\w*)\s*!\s*[(\[])"
    + r"|(?P<item>"
    + _VIS
    + _QUALS
    + _KW
    + r")|(?P<open>\{)|(?P<close>\})|(?P<semi>;)|(?P<other>[A-Za-z_]\w*|.))",
    re.S,
)
_STR_BODY_RE = re.compile(r'(?:[^"\\]++|\\.)*+"', re.S)
_NAME_RE = re.compile(r"\s*(?:r#)?([A-Za-z_]\w*)")
_MOD_END_RE = re.compile(r"\s*(?:r#)?([A-Za-z_]\w*)\s*([;{])")
_USE_RE = re.compile(r"[^;{}]*(?:\{[^;]*)?;")
_ATTR_BODY_RE = re.compile(r'(?:[^\[\]"]|"(?:[^"\\]|\\.)*"|\[(?:[^\[\]"]|"(?:[^"\\]|\\.)*")*\])*\]')
_HIDDEN_RE = re.compile(r"\bdoc\s*\(\s*hidden\s*\)")
_PATH_RE = re.compile(r'\bpath\s*=\s*"((?:[^"\\]|\\.)*)"')
_COMMENT_RE = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)

#: (name, #[path] of the inline module or None) for each enclosing inline module.
Parents = tuple[tuple[str, str | None], ...]


@dataclass(frozen=True)
class Attrs:
    """What the attributes in front of an item say about the layout."""

    hidden: bool = False
    test: bool = False
    paths: tuple[str, ...] = ()  # #[path = ".."] and #[cfg_attr(.., path = "..")] values
    plain_path: bool = False  # an unconditional #[path]: the default file is not a candidate


@dataclass(frozen=True)
class ModDecl:
    """``mod name;`` or ``mod name { .. }``."""

    name: str
    parents: Parents
    public: bool
    attrs: Attrs
    inline: bool


@dataclass(frozen=True)
class ItemDecl:
    """A module-level struct, enum, union, trait, type alias or fn."""

    kind: str
    name: str
    parents: Parents
    public: bool
    attrs: Attrs


@dataclass(frozen=True)
class UseDecl:
    """A ``use`` declaration: its tree as written (``self::a::{B, c as d}``)."""

    tree: str
    parents: Parents
    public: bool
    attrs: Attrs


@dataclass
class Decls:
    """What a file (or a ``macro_rules!`` body) declares at module level."""

    mods: list[ModDecl] = field(default_factory=list)
    items: list[ItemDecl] = field(default_factory=list)
    uses: list[UseDecl] = field(default_factory=list)
    includes: list[tuple[str, Parents]] = field(default_factory=list)
    automods: list[tuple[str, Parents]] = field(default_factory=list)


@dataclass
class FileScan(Decls):
    """Everything the crate layout needs from one file."""

    hidden: bool = False  # #![doc(hidden)]
    test: bool = False  # #![cfg(test)]
    #: macro_rules! name -> what its bodies declare (serde declares its modules in one)
    macros: dict[str, list[Decls]] = field(default_factory=dict)
    #: `name!(..)` / `name! { .. }` invoked at module level, with the inline modules around
    invocations: list[tuple[str, Parents]] = field(default_factory=list)


def _attrs(texts: list[str]) -> Attrs:
    if not texts:
        return Attrs()
    hidden = test = plain = False
    paths: list[str] = []
    for t in texts:
        hidden = hidden or bool(_HIDDEN_RE.search(t))
        if "test" in t and t.lstrip("#![ \t").startswith("cfg"):
            test = test or cfg_only_in_tests(t)
        if "path" in t:
            found = _PATH_RE.findall(t)
            paths.extend(found)
            plain = plain or (bool(found) and re.match(r"#\s*\[\s*path\b", t) is not None)
    return Attrs(hidden, test, tuple(paths), plain)


def _word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _raw_hashes(text: str, quote: int) -> int | None:
    """How many ``#`` a raw string opening at ``quote`` has (``r#"``), None if not raw."""
    j = quote - 1
    while j >= 0 and text[j] == "#":
        j -= 1
    if j < 0 or text[j] != "r":
        return None
    before = text[j - 1] if j >= 1 else " "
    if before == "b":
        before = text[j - 2] if j >= 2 else " "
    return None if _word(before) else quote - 1 - j


def _skip_string(text: str, quote: int) -> int:
    """Past the string literal whose opening quote is at ``quote`` (raw strings included)."""
    hashes = _raw_hashes(text, quote)
    if hashes is not None:
        end = '"' + "#" * hashes
        j = text.find(end, quote + 1)
        return len(text) if j < 0 else j + len(end)
    m = _STR_BODY_RE.match(text, quote + 1)
    return m.end() if m else len(text)


def _skip_block(text: str, start: int) -> int:
    depth, j, n = 1, start, len(text)
    while depth and j < n:
        a, b = text.find("/*", j), text.find("*/", j)
        if b < 0:
            return n
        if 0 <= a < b:
            depth, j = depth + 1, a + 2
        else:
            depth, j = depth - 1, b + 2
    return j


def _skip_literal(text: str, m: re.Match[str], k: str | None) -> int:
    """Past the block comment or raw string ``m`` starts (anything else: past ``m``)."""
    if k == "bc":
        return _skip_block(text, m.end())
    if k == "rs":
        return _skip_string(text, m.end() - 1)
    return m.end()


def _skip_opaque(text: str, pos: int) -> int:
    """Past the ``}`` that closes the body opened just before ``pos``."""
    depth, n = 1, len(text)
    while depth and pos < n:
        m = _OPAQUE_RE.match(text, pos)
        if m is None:
            return n
        k = m.lastgroup
        if k == "open":
            depth, pos = depth + 1, m.end()
        elif k == "close":
            depth, pos = depth - 1, m.end()
        else:
            pos = _skip_literal(text, m, k)
    return pos


class _Scanner:
    """One pass over a file's text; see the module docstring."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.out = FileScan()
        # frames: ("mod", name, path attr) | ("mac",) | ("mr",)
        self.stack: list[tuple] = []
        self.pending: list[str] = []
        self.opaque_next = False  # the next `{` opens an item's body
        self.seen_item = False  # inner attributes count only before the first item

    def _mr_at(self) -> int:
        """Index of the innermost macro_rules! frame, -1 when outside one."""
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == "mr":
                return i
        return -1

    def parents(self) -> Parents:
        """The inline modules around here (inside a macro_rules! body: around it there)."""
        return tuple((f[1], f[2]) for f in self.stack[self._mr_at() + 1 :] if f[0] == "mod")

    def decls(self) -> Decls:
        """Where a declaration here goes: the file's, or the enclosing macro body's."""
        i = self._mr_at()
        return self.stack[i][1] if i >= 0 else self.out

    def in_macro(self) -> bool:
        return any(f[0] in ("mac", "mr") for f in self.stack)

    def run(self) -> FileScan:
        text, pos, n = self.text, 0, len(self.text)
        while pos < n:
            m = _MODULE_RE.match(text, pos)
            if m is None:
                break
            pos = self.step(m)
        return self.out

    def step(self, m: re.Match[str]) -> int:
        """Handle one token; return where to continue."""
        k, text = m.lastgroup, self.text
        if k in ("bc", "rs", "other"):
            return _skip_literal(text, m, k)
        if k == "attr":
            return self.attribute(m)
        if k == "item":
            return self.item(m)
        return self.punct(m, k)

    def punct(self, m: re.Match[str], k: str | None) -> int:
        """Braces, `;`, macro bodies, includes."""
        opaque, self.opaque_next = self.opaque_next, False
        self.pending = []
        if k == "semi":
            return m.end()
        if k == "close":
            if self.stack:
                self.stack.pop()
            return m.end()
        if k == "inc":
            self.decls().includes.append((m.group("incpath"), self.parents()))
        elif k == "auto":
            self.decls().automods.append((m.group("autopath"), self.parents()))
        elif k == "mr":
            body = Decls()
            self.out.macros.setdefault(m.group("mrname"), []).append(body)
            self.stack.append(("mr", body))
        elif k in ("mi", "mc") and self._mr_at() < 0:
            self.out.invocations.append((m.group(k + "name"), self.parents()))
        if k == "mi" or (k == "open" and not opaque and self.in_macro()):
            self.stack.append(("mac",))
        elif k == "open":
            return _skip_opaque(text=self.text, pos=m.end())
        return m.end()

    def attribute(self, m: re.Match[str]) -> int:
        body = _ATTR_BODY_RE.match(self.text, m.end())
        if body is None:
            return m.end()
        attr = self.text[m.start("attr") : body.end()]
        if attr.startswith("#!"):
            inner = _attrs([attr])
            if not self.stack and not self.seen_item:
                self.out.hidden = self.out.hidden or inner.hidden
                self.out.test = self.out.test or inner.test
        else:
            self.pending.append(attr)
        return body.end()

    def item(self, m: re.Match[str]) -> int:
        kw, end = m.group("kw"), m.end()
        public = m.group("vis") is not None and m.group("scope") is None
        attrs, self.pending = _attrs(self.pending), []
        self.seen_item = True
        if kw == "mod":
            return self.mod(end, public, attrs)
        if kw == "use":
            use = _USE_RE.match(self.text, end)
            if use is None:
                return end
            tree = " ".join(_COMMENT_RE.sub(" ", use.group()[:-1]).split())
            self.decls().uses.append(UseDecl(tree, self.parents(), public, attrs))
            return use.end()
        self.opaque_next = True
        if kw in ("impl", "const", "static"):
            return end
        name = _NAME_RE.match(self.text, end)
        if name is None:
            return end
        self.decls().items.append(ItemDecl(kw, name.group(1), self.parents(), public, attrs))
        return name.end()

    def mod(self, end: int, public: bool, attrs: Attrs) -> int:
        mm = _MOD_END_RE.match(self.text, end)
        if mm is None:
            return end
        name, inline = mm.group(1), mm.group(2) == "{"
        self.decls().mods.append(ModDecl(name, self.parents(), public, attrs, inline))
        if inline:
            self.stack.append(("mod", name, attrs.paths[-1] if attrs.paths else None))
        return mm.end()


def scan(text: str) -> FileScan:
    """Module declarations, items and uses of one file's text (never raises)."""
    try:
        return _Scanner(text).run()
    except RecursionError:  # pragma: no cover - the scanner does not recurse
        return FileScan()
