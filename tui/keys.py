"""The key bindings, listed once for the help screen (and the README's keys table)."""

from __future__ import annotations

KEYS: tuple[tuple[str, str, str], ...] = (
    ("Everywhere", "1 / 2 / 3", "Records / Stats / Falsification screen"),
    ("Everywhere", "?", "This help"),
    ("Everywhere", "q", "Quit"),
    ("Everywhere", "tab / shift+tab", "Next / previous pane"),
    ("Records", "↑ ↓  j k", "Move the cursor"),
    ("Records", "pgup pgdn  ctrl+b ctrl+f", "Page up / down"),
    ("Records", "home end  g G", "First / last row"),
    ("Records", "enter  (double click)", "Open the record"),
    ("Records", "/", "Search name, path and doc (incremental)"),
    ("Records", "ctrl+r", "Toggle regex search"),
    ("Records", "escape  enter (in search)", "Back to the table"),
    ("Records", "ctrl+l", "Go to the filters"),
    ("Records", "F", "Hide / show the filters panel"),
    ("Records", "x", "Clear every filter and the search"),
    ("Detail", "c", "Copy the permalink"),
    ("Detail", "↑ ↓  j k", "Scroll"),
    ("Detail", "escape  backspace  h", "Back"),
    ("Falsification", "↑ ↓  j k", "Choose a check"),
    ("Falsification", "enter", "List its offending records; enter again opens one"),
    ("Falsification", "r", "Show the selected failed check's records on the Records screen"),
)
