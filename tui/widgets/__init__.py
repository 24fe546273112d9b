"""Widgets of the corpus TUI."""
