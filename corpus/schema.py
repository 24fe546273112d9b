"""THE record schema: one function item of Rust source with its doc comment and provenance.

Every writer and reader (extractor, store, filters, falsification, publish, TUI, trainer) uses
the declarations here; nothing else spells out a column list.

Two layers:
- ``EXTRACT_FIELDS``: what the extractor produces for each function item.
- ``BUILD_FIELDS``: what the build adds after filtering, dedup and splitting.
The published table has ``ALL_FIELDS`` in that order.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

#: Bumped whenever extraction output for the same input can change.
EXTRACTOR_VERSION = "1.4.0"

CONTAINER_KINDS = ("free", "impl", "trait_impl", "trait", "extern")
#: Cargo target kinds a file's crate can have (``target_kind`` is null when no target reads it)
TARGET_KINDS = ("lib", "proc-macro", "bin", "test", "example", "bench", "build-script")
SPLITS = ("train", "validation", "test")
DOC_SECTIONS = ("Examples", "Errors", "Panics", "Safety", "Arguments")


@dataclass(frozen=True)
class Field:
    """One column: its name, Arrow type, nullability and what it means."""

    name: str
    type: pa.DataType
    nullable: bool
    description: str

    @property
    def type_name(self) -> str:
        """Human-readable type for the dataset card's field table."""
        return str(self.type).replace("large_", "")


_S = pa.string()
_I32 = pa.int32()
_I64 = pa.int64()
_B = pa.bool_()
_LS = pa.list_(pa.string())

EXTRACT_FIELDS: tuple[Field, ...] = (
    Field("id", _S, False, "sha256 over repo, commit, path, byte span and source text (hex)"),
    Field("repo", _S, False, "source repository as owner/name"),
    Field("commit", _S, False, "full 40-hex commit SHA the file was read at"),
    Field("path", _S, False, "file path inside the repository (POSIX)"),
    Field("start_line", _I32, False, "1-based first line of the function item"),
    Field("end_line", _I32, False, "1-based last line of the function item (inclusive)"),
    Field("start_byte", _I64, False, "byte offset of the item's first byte in the file"),
    Field("end_byte", _I64, False, "byte offset one past the item's last byte"),
    Field(
        "permalink",
        _S,
        True,
        "GitHub permalink to the lines at the pinned commit (path percent-encoded); null when "
        "the tree was not a GitHub checkout",
    ),
    Field("name", _S, False, "function name without the raw-identifier prefix"),
    Field("raw_name", _S, False, "function name as written (e.g. r#match)"),
    Field(
        "crate_name",
        _S,
        False,
        "rustc crate name of the Cargo target that compiles the file (rg, search_stdin, "
        "build_script_build); guessed from directories when target_kind is null",
    ),
    Field(
        "target_kind",
        _S,
        True,
        "the crate's Cargo target kind: lib, proc-macro, bin, test, example, bench or "
        "build-script; null when no target reads the file (trybuild cases, test data)",
    ),
    Field(
        "def_path",
        _S,
        False,
        "where the item is defined: crate::module::Type::name, modules as rustc resolves "
        "them from the target's root (rg::flags::config::Config::new), trait impls as "
        "<Self as Trait>::name with their generics",
    ),
    Field(
        "qualified_path",
        _S,
        False,
        "alias of def_path, kept for one release (1.3); read def_path or public_path",
    ),
    Field(
        "public_path",
        _S,
        True,
        "the path rustdoc shows, through the crate's own pub use re-exports "
        "(tokio::runtime::Builder::new); null when not publicly reachable from a library",
    ),
    Field("container_kind", _S, False, "free, impl, trait_impl, trait or extern"),
    Field("self_type", _S, True, "impl self type (impl/trait_impl), else null"),
    Field("trait_name", _S, True, "implemented or declaring trait, else null"),
    Field(
        "container_header",
        _S,
        True,
        "the enclosing impl/trait/extern block's header as written, whitespace-normalised "
        "(impl<T> Foo<T> where T: Clone), null for free fns",
    ),
    Field("visibility", _S, True, "visibility as written (pub, pub(crate), ...), null if none"),
    Field("is_async", _B, False, "declared async"),
    Field("is_const", _B, False, "declared const"),
    Field("is_unsafe", _B, False, "declared unsafe"),
    Field("extern_abi", _S, True, 'extern ABI ("C" for a bare extern), null if not extern'),
    Field("generics", _S, True, "generic parameter list as written, e.g. <T: Clone>"),
    Field("where_clause", _S, True, "where clause as written, whitespace-normalised"),
    Field("params", _LS, False, "parameter patterns in order (self included as written)"),
    Field("return_type", _S, True, "return type as written, null for ()"),
    Field("signature", _S, False, "the signature without body, whitespace-normalised"),
    Field("source", _S, False, "the full function item source text at the byte span"),
    Field("has_body", _B, False, "false for trait required methods and extern declarations"),
    Field("doc", _S, True, "outer doc text as rustc attaches it (normalised), null if none"),
    Field("doc_summary", _S, True, "first paragraph of the doc (rustdoc's summary)"),
    Field("doc_sections", _LS, False, "rustdoc sections present: Examples, Errors, ..."),
    Field("doc_include", _S, True, "path of an include_str! doc, if any"),
    Field("doc_unresolved", _B, False, "part of the doc could not be resolved (macro doc)"),
    Field("attributes", _LS, False, "outer attributes on the item, as written, in order"),
    Field("is_test", _B, False, "a test, bench or example function"),
    Field(
        "test_reason",
        _S,
        True,
        "why is_test: attribute:<name>, cfg_test_module, cfg_test, path:<dir>",
    ),
    Field("is_nested", _B, False, "defined inside another function's body"),
    Field("origin", _S, False, "source, or macro:<name> when recovered from a macro body"),
    Field("parse_error", _B, False, "the item's own span holds a parse error (in its body)"),
    Field(
        "file_parse_error",
        _B,
        False,
        "its file (or the macro body it came from) has a parse error anywhere",
    ),
    Field("license", _S, False, "SPDX licence expression of the source repository"),
    Field("extractor_version", _S, False, "version of this extractor"),
    Field("grammar_version", _S, False, "tree-sitter-rust and tree-sitter versions"),
)

BUILD_FIELDS: tuple[Field, ...] = (
    Field("dup_cluster", _S, False, "id of the representative of this record's duplicate cluster"),
    Field("split", _S, False, "train, validation or test"),
    Field("redacted", _B, False, "secrets were redacted from doc or source"),
)

ALL_FIELDS: tuple[Field, ...] = EXTRACT_FIELDS + BUILD_FIELDS
EXTRACT_COLUMNS: tuple[str, ...] = tuple(f.name for f in EXTRACT_FIELDS)
ALL_COLUMNS: tuple[str, ...] = tuple(f.name for f in ALL_FIELDS)


def arrow_schema(fields: tuple[Field, ...] = ALL_FIELDS) -> pa.Schema:
    """The Arrow schema for a table with ``fields``."""
    return pa.schema([pa.field(f.name, f.type, nullable=f.nullable) for f in fields])


EXTRACT_SCHEMA = arrow_schema(EXTRACT_FIELDS)
RECORD_SCHEMA = arrow_schema(ALL_FIELDS)


def record_id(
    repo: str, commit: str, path: str, start_byte: int, end_byte: int, source: str
) -> str:
    """Stable record id: sha256 over provenance and content, recomputable from the record."""
    h = hashlib.sha256()
    for part in (repo, commit, path, str(start_byte), str(end_byte), source):
        h.update(part.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


#: What `corpus extract` records when a tree is not a GitHub checkout: no permalink can work.
UNKNOWN_REPO = "local/unknown"
UNKNOWN_COMMIT = "0" * 40


def permalink(repo: str, commit: str, path: str, start_line: int, end_line: int) -> str | None:
    """GitHub permalink to a line range at a pinned commit; None when repo or commit is unknown.

    The path is percent-encoded per segment as GitHub's own links are (JavaScript's
    ``encodeURIComponent``: letters, digits and ``-_.~!*'()`` stay, everything else, spaces,
    ``#``, ``?``, ``[`` and non-ASCII bytes included, is escaped), so any file name links.
    """
    if repo == UNKNOWN_REPO or commit == UNKNOWN_COMMIT:
        return None
    from urllib.parse import quote

    encoded = quote(path, safe="/!~*'()")
    return f"https://github.com/{repo}/blob/{commit}/{encoded}#L{start_line}-L{end_line}"


def sort_key(rec: dict[str, Any]) -> tuple[str, str, int, int, str]:
    """The stable row order of every table we write."""
    return (rec["repo"], rec["path"], rec["start_byte"], rec["end_byte"], rec["origin"])


SORT_COLUMNS = ("repo", "path", "start_byte", "end_byte", "origin")
