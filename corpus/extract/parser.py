"""The tree-sitter Rust parser, its versions, and a per-process cache of it."""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import version

import tree_sitter
import tree_sitter_rust

TREE_SITTER_VERSION = version("tree-sitter")
TREE_SITTER_RUST_VERSION = version("tree-sitter-rust")
GRAMMAR_VERSION = f"tree-sitter-rust {TREE_SITTER_RUST_VERSION}; tree-sitter {TREE_SITTER_VERSION}"

RUST = tree_sitter.Language(tree_sitter_rust.language())


@lru_cache(maxsize=1)
def parser() -> tree_sitter.Parser:
    """This process's Rust parser (parsers are not shareable across processes)."""
    return tree_sitter.Parser(RUST)


def parse(data: bytes) -> tree_sitter.Tree:
    """Parse Rust source bytes."""
    return parser().parse(data)


def has_error(node: tree_sitter.Node) -> bool:
    """True if the subtree contains an ERROR or MISSING node."""
    return node.has_error
