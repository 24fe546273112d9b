"""The records table's columns and the Flags legend, defined once (no polars, no Textual).

The table, the help screen and the loader (which derives the columns) all read these.
"""

from __future__ import annotations

#: Columns of the records table, in display order, with their header labels.
TABLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("repo_name", "Repo"),
    ("location", "Path:line"),
    ("qualified_path", "Qualified name"),
    ("container_kind", "Kind"),
    ("vis", "Vis"),
    ("summary", "Doc summary"),
    ("flags", "Flags"),
)

#: One letter per flag in the Flags column (also listed in the help screen).
FLAG_LEGEND: tuple[tuple[str, str], ...] = (
    ("E", "doc has an Examples section"),
    ("T", "test, bench or example function"),
    ("M", "recovered from a macro body"),
    ("U", "unsafe"),
    ("A", "async"),
    ("R", "secrets redacted"),
    ("!", "fails a falsification check"),
)
