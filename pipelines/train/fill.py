"""Docs into your code: give every undocumented function of a Rust file or tree a generated doc.

The extractor (``corpus.extract``) finds the functions and their byte spans, exactly as the
training data was extracted; each new doc is inserted as ``///`` lines, with the item's
indentation and line ending, at the start of the line where the item's attributes begin (or
the ``fn`` line itself): doc comments above the attributes attach to the item, as rustc does.
Nothing else in the file changes — every other byte stays where it was. The result is a
unified diff, or the file rewritten in place.

Skipped, with the reason: functions that already have a doc, test functions (as training
skipped them), functions nested in a body or inside a macro invocation (rustdoc shows
neither), and items that share their first line with other code.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus.errors import BadInputError

#: records -> one generated completion per record (the model's raw text).
Writer = Callable[[list[dict[str, Any]]], list[str]]
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class Edit:
    """One inserted doc: where, for which function, and the doc text rustdoc will show."""

    name: str
    line: int  # 1-based line of the inserted block's first line in the filled file
    offset: int  # byte offset in the original file where the block is inserted
    doc: str
    block: bytes


@dataclass
class FileFill:
    """A file before and after filling, with what was inserted and what was left alone."""

    path: Path
    label: str  # the path shown in the diff (a/<label>, b/<label>)
    original: bytes
    edits: list[Edit] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (fn name, why)

    @property
    def filled(self) -> bytes:
        """The file with every edit inserted."""
        out, last = [], 0
        for e in sorted(self.edits, key=lambda e: e.offset):
            out += [self.original[last : e.offset], e.block]
            last = e.offset
        return b"".join([*out, self.original[last:]])


def doc_text(completion: str) -> str | None:
    """The doc a completion holds: its ``///`` lines' text (or, with none, the text itself),
    without control characters, trailing spaces, outer blank lines or common indentation."""
    from corpus.prompt import comment_as_doc

    text = comment_as_doc(completion) if "///" in completion else completion
    lines = [_CONTROL.sub("", ln).rstrip() for ln in text.replace("\r", "").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        return None
    indent = min(len(ln) - len(ln.lstrip(" ")) for ln in lines if ln)
    return "\n".join(ln[indent:] for ln in lines)


def _why_skip(rec: dict[str, Any], only_pub: bool) -> str | None:
    if (rec.get("doc") or "").strip():
        return "documented"
    if rec.get("is_test"):
        return "test function"
    if rec.get("is_nested"):
        return "nested in a function body"
    if rec.get("origin", "source") != "source":
        return "inside a macro invocation"
    if only_pub and rec.get("visibility") != "pub":
        return "not pub"
    return None


def _item_node(root: Any, rec: dict[str, Any]) -> Any:
    node = root.descendant_for_byte_range(rec["start_byte"], rec["end_byte"])
    while node is not None and not (
        node.type in ("function_item", "function_signature_item")
        and (node.start_byte, node.end_byte) == (rec["start_byte"], rec["end_byte"])
    ):
        node = node.parent
    return node


def insertion_point(data: bytes, root: Any, rec: dict[str, Any]) -> tuple[int, bytes, bytes]:
    """(byte offset of the line to insert before, its indentation, its line ending).

    The line is the first of the item's attributes (walking back over attributes and comments,
    as the extractor does), else the item's own first line. Raises ValueError when that line
    holds other code before the item.
    """
    node = _item_node(root, rec)
    if node is None:
        raise ValueError("item not found in the parse tree")
    first = node
    sib = node.prev_named_sibling
    while sib is not None and sib.type in ("attribute_item", "line_comment", "block_comment"):
        if sib.type == "attribute_item":
            first = sib
        sib = sib.prev_named_sibling
    start = first.start_byte
    line_start = data.rfind(b"\n", 0, start) + 1
    indent = data[line_start:start]
    if indent.strip(b" \t"):
        raise ValueError("shares its first line with other code")
    eol = data.find(b"\n", start)
    newline = b"\r\n" if eol > 0 and data[eol - 1 : eol] == b"\r" else b"\n"
    return line_start, indent, newline


def _block(doc: str, indent: bytes, newline: bytes) -> bytes:
    from corpus.prompt import doc_as_comment

    lines = doc_as_comment(doc).split("\n")
    return b"".join(indent + ln.encode("utf-8") + newline for ln in lines)


def plan_file(path: Path, rel: str, data: bytes, root_dir: Path, only_pub: bool) -> tuple:
    """(FileFill with the skips, records to document, their insertion points)."""
    from corpus.extract import context_for, extract_file_bytes
    from corpus.extract.parser import parse

    ctx = context_for(root_dir, rel, repo="local/fill", commit="0" * 40, license="")
    fill = FileFill(Path(path), _label(Path(path)), data)
    todo, points = [], []
    tree = parse(data).root_node
    for rec in extract_file_bytes(data, rel, ctx).records:
        why = _why_skip(rec, only_pub)
        if why is None:
            try:
                points.append(insertion_point(data, tree, rec))
                todo.append(rec)
                continue
            except ValueError as exc:
                why = str(exc)
        if why != "documented":
            fill.skipped.append((rec["name"], why))
    return fill, todo, points


def _label(path: Path) -> str:
    rel = os.path.relpath(path)
    return Path(rel if not rel.startswith("..") else path).as_posix().lstrip("/")


def crate_root(path: Path) -> Path:
    """The nearest folder at or above ``path`` holding a Cargo.toml (module paths come from it),
    else the folder of ``path``."""
    start = path if path.is_dir() else path.parent
    for d in (start, *start.resolve().parents):
        if (d / "Cargo.toml").is_file():
            return d
    return start


def rust_sources(path: Path) -> list[tuple[Path, Path, str]]:
    """(file, crate root, path relative to it) for a .rs file or every .rs file of a tree."""
    from corpus.clone import iter_rust_files

    if path.is_file():
        if path.suffix != ".rs":
            raise BadInputError(f"{path}: not a Rust source file (.rs)")
        root = crate_root(path)
        return [(path, root, path.resolve().relative_to(root.resolve()).as_posix())]
    if not path.is_dir():
        raise BadInputError(f"no such file or directory: {path}")
    root = crate_root(path)
    out = []
    for rel in iter_rust_files(path):
        f = path / rel
        out.append((f, root, f.resolve().relative_to(root.resolve()).as_posix()))
    return out


@dataclass(frozen=True)
class Source:
    """One Rust file to fill: where it is, its path in its crate, its bytes, the crate root."""

    path: Path
    rel: str
    data: bytes
    root: Path


def read_sources(path: Path) -> list[Source]:
    """The UTF-8 .rs files at ``path`` (the extractor skips non-UTF-8 files too)."""
    out = []
    for f, root, rel in rust_sources(Path(path)):
        data = f.read_bytes()
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        out.append(Source(f, rel, data, root))
    return out


def fill_sources(
    sources: list[Source], writer: Writer, *, only_pub: bool = False
) -> list[FileFill]:
    """Plan every file, generate every missing doc in one call to ``writer``, insert them."""
    plans = [plan_file(s.path, s.rel, s.data, s.root, only_pub) for s in sources]
    records = [r for _, todo, _ in plans for r in todo]
    completions = writer(records) if records else []
    if len(completions) != len(records):
        raise RuntimeError("the writer returned a different number of docs than asked for")
    it = iter(completions)
    for fill, todo, points in plans:
        for rec, (offset, indent, newline) in zip(todo, points, strict=True):
            doc = doc_text(next(it))
            if doc is None:
                fill.skipped.append((rec["name"], "the model wrote no doc"))
                continue
            fill.edits.append(Edit(rec["name"], 0, offset, doc, _block(doc, indent, newline)))
        _number_lines(fill)
    return [fill for fill, _, _ in plans]


def fill_paths(path: Path, writer: Writer, *, only_pub: bool = False) -> list[FileFill]:
    """:func:`fill_sources` for a .rs file or every .rs file of a tree."""
    return fill_sources(read_sources(Path(path)), writer, only_pub=only_pub)


def _number_lines(fill: FileFill) -> None:
    shift = 0
    numbered = []
    for e in sorted(fill.edits, key=lambda e: e.offset):
        line = fill.original.count(b"\n", 0, e.offset) + 1 + shift
        numbered.append(Edit(e.name, line, e.offset, e.doc, e.block))
        shift += e.block.count(b"\n")
    fill.edits = numbered


def unified_diff(fill: FileFill) -> str:
    """The edits as a unified diff (``git apply`` / ``patch -p1`` from the current folder)."""
    a, b = _lines(fill.original.decode("utf-8")), _lines(fill.filled.decode("utf-8"))
    out = []
    for line in difflib.unified_diff(a, b, f"a/{fill.label}", f"b/{fill.label}"):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _lines(text: str) -> list[str]:
    """Lines split at ``\n`` only, ends kept (``str.splitlines`` also splits at U+2028,
    form feeds and more, which Rust strings and comments may hold)."""
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def write_in_place(fill: FileFill) -> None:
    """Rewrite the file with its docs (atomically, keeping its permission bits)."""
    from corpus.store import write_bytes_atomic

    mode = fill.path.stat().st_mode
    write_bytes_atomic(fill.path, fill.filled)
    os.chmod(fill.path, mode & 0o7777)
