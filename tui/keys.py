"""The key bindings, listed once for the help screen (and the README's keys table)."""

from __future__ import annotations

KEYS: tuple[tuple[str, str, str], ...] = (
    ("Everywhere", "1 / 2 / 3 / 4", "Records / Stats / Falsification / Runs screen"),
    ("Everywhere", "?", "This help"),
    ("Everywhere", "q", "Quit"),
    ("Everywhere", "tab / shift+tab", "Next / previous pane"),
    ("Records", "↑ ↓  j k", "Move the cursor"),
    ("Records", "pgup pgdn  ctrl+b ctrl+f", "Page up / down"),
    ("Records", "home end  g G", "First / last row"),
    ("Records", "enter  (double click)", "Open the record"),
    ("Records", "/", "Search name, path, signature and doc (incremental; matches highlighted)"),
    ("Records", "ctrl+r", "Toggle regex search"),
    ("Records", "escape  enter (in search)", "Back to the table"),
    ("Records", "s / S  (click a header)", "Sort by the next column / reverse the order"),
    ("Records", "ctrl+l", "Go to the filters"),
    ("Records", "F", "Hide / show the filters panel"),
    ("Records", "x", "Clear every filter and the search"),
    ("Detail", "n p  ] [", "Next / previous record of the list it was opened from"),
    ("Detail", "t", "Doc as the /// lines the model is trained on (again: exact text)"),
    ("Detail", "m", "Doc rendered as Markdown (again: exact text)"),
    ("Detail", "c", "Copy the permalink"),
    ("Detail", "↑ ↓  j k", "Scroll"),
    ("Detail", "escape  backspace  h", "Back"),
    ("Falsification", "↑ ↓  j k", "Choose a check"),
    ("Falsification", "enter", "List the records it names; enter again opens one"),
    ("Falsification", "r", "Show the selected check's records on the Records screen"),
    ("Runs", "↑ ↓", "Choose a run (the list and its curves refresh every second)"),
    ("Runs", "c / e / g", "Curves / eval report / sample generations beside the references"),
    ("Runs", "u", "Look at the runs folder again now"),
)
