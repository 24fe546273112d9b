"""rustdoc-corpus: Rust function signatures and their doc comments, as a trustworthy dataset."""

__version__ = "0.1.0"
