"""Reading doc text the way rustdoc does: fenced code blocks, hidden lines, sections, summary."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")
_HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_PARA_BREAK = re.compile(r"\n[ \t]*\n")

#: Info-string words rustdoc understands on a Rust block (anything else names another language).
RUSTDOC_ATTRS = frozenset(
    {
        "rust",
        "ignore",
        "should_panic",
        "no_run",
        "compile_fail",
        "test_harness",
        "allow_fail",
        "standalone_crate",
        "edition2015",
        "edition2018",
        "edition2021",
        "edition2024",
    }
)
#: Blocks that rustdoc does not require to compile: they need not parse either.
NEED_NOT_PARSE = frozenset({"ignore", "compile_fail"})


@dataclass(frozen=True)
class CodeBlock:
    """A fenced code block of a doc."""

    info: tuple[str, ...]
    text: str
    closed: bool

    @property
    def is_rust(self) -> bool:
        """rustdoc treats the block as Rust: no info, or only rustdoc attributes."""
        words = [w for w in self.info if not w.startswith("ignore-")]
        return all(w in RUSTDOC_ATTRS or w.startswith("edition") for w in words)

    @property
    def must_parse(self) -> bool:
        """A Rust block that rustdoc would compile (not ignore / compile_fail)."""
        return (
            self.is_rust
            and not (set(self.info) & NEED_NOT_PARSE)
            and not any(w.startswith("ignore-") for w in self.info)
        )


@lru_cache(maxsize=1 << 14)
def split_doc(doc: str) -> tuple[tuple[str, ...], tuple[CodeBlock, ...]]:
    """(prose lines outside fences, fenced code blocks) of ``doc``: cached (six checks split
    every doc), so immutable."""
    prose: list[str] = []
    blocks: list[CodeBlock] = []
    lines = doc.split("\n")
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m or (m.group(2)[0] == "`" and "`" in m.group(3)):
            prose.append(lines[i])
            i += 1
            continue
        fence, indent = m.group(2), len(m.group(1))
        info = tuple(w for w in re.split(r"[\s,]+", m.group(3).strip().strip("{}")) if w)
        body: list[str] = []
        i += 1
        closed = False
        while i < len(lines):
            c = _FENCE.match(lines[i])
            if (
                c
                and c.group(2)[0] == fence[0]
                and len(c.group(2)) >= len(fence)
                and not c.group(3).strip()
            ):
                closed = True
                i += 1
                break
            line = lines[i]
            # CommonMark: strip up to the opening fence's indentation from content lines.
            strip = min(indent, len(line) - len(line.lstrip(" ")))
            body.append(line[strip:])
            i += 1
        blocks.append(CodeBlock(info, "\n".join(body), closed))
    return tuple(prose), tuple(blocks)


def fences_balanced(doc: str) -> bool:
    """Every opened fence is closed."""
    return all(b.closed for b in split_doc(doc)[1])


#: Heading spellings that name the same rustdoc section (singular/plural, "Parameters").
SECTION_NAMES = {
    "example": "Examples",
    "examples": "Examples",
    "error": "Errors",
    "errors": "Errors",
    "panic": "Panics",
    "panics": "Panics",
    "safety": "Safety",
    "arguments": "Arguments",
    "args": "Arguments",
    "parameters": "Arguments",
}


def canonical_section(heading: str) -> str:
    """The canonical section a heading names (or the heading itself)."""
    return SECTION_NAMES.get(heading.strip().lower(), heading.strip())


def sections(doc: str) -> set[str]:
    """Canonical heading names outside code blocks (``# Example`` -> ``Examples``)."""
    prose, _ = split_doc(doc)
    return {canonical_section(m.group(1)) for line in prose if (m := _HEADING.match(line))}


def section_text(doc: str, name: str) -> str | None:
    """Prose under the heading ``name`` up to the next heading (None when absent)."""
    prose, _ = split_doc(doc)
    out: list[str] | None = None
    for line in prose:
        m = _HEADING.match(line)
        if m:
            if out is not None:
                break
            if canonical_section(m.group(1)) == name:
                out = []
            continue
        if out is not None:
            out.append(line)
    return None if out is None else "\n".join(out)


def summary(doc: str) -> str:
    """rustdoc's summary: the first paragraph, whitespace-collapsed."""
    return " ".join(_PARA_BREAK.split(doc.strip(), maxsplit=1)[0].split())


def rustdoc_source(block: str) -> str:
    """The code rustdoc compiles for a doc test: hidden ``# `` lines shown, wrapped in main."""
    out = []
    for line in block.split("\n"):
        s = line.lstrip()
        if s.startswith("##"):
            out.append(line.replace("##", "#", 1))  # escaped leading '#'
        elif s == "#":
            out.append("")
        elif s.startswith("# "):
            out.append(s[2:])
        else:
            out.append(line)
    code = "\n".join(out)
    if re.search(r"\bfn\s+main\s*\(", code):
        return code
    # rustdoc keeps crate attributes and `extern crate` outside the wrapper; other items
    # (fn, struct, use, impl) are legal inside a fn body, so one wrapper parses them all.
    head, body = [], []
    for line in code.split("\n"):
        (head if line.lstrip().startswith(("#![", "extern crate")) else body).append(line)
    return "\n".join(head) + "\nfn main() {\n" + "\n".join(body) + "\n}\n"


REDACTED = "<REDACTED>"


def redaction_of(stored: str | None, original: str | None) -> bool:
    """True when ``stored`` is ``original`` with some spans replaced by ``<REDACTED>``."""
    if stored is None or original is None:
        return stored == original
    if REDACTED not in stored:
        return stored == original
    parts = [re.escape(p) for p in stored.split(REDACTED)]
    return re.fullmatch("(?s:.+?)".join(parts), original) is not None
