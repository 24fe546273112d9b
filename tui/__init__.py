"""A Textual TUI to browse, search and audit the corpus (`corpus tui DATASET`)."""
