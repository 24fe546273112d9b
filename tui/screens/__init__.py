"""Screens of the corpus TUI: records, detail, stats, falsification, help, message."""
