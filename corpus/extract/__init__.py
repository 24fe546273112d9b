"""Rust function items and their doc comments, extracted with tree-sitter as rustc attaches docs."""

from corpus.extract.crate import FileContext, context_for
from corpus.extract.docs import normalize_fragments
from corpus.extract.file import FileResult, extract_file_bytes
from corpus.extract.tree import extract_tree, iter_records, rust_files

__all__ = [
    "FileContext",
    "FileResult",
    "context_for",
    "extract_file_bytes",
    "extract_tree",
    "iter_records",
    "normalize_fragments",
    "rust_files",
]
