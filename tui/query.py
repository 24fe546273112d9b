"""What the records screen is asked to show: filters, search and sort (no polars, no Textual).

A ``Filters`` value is a conjunction: each field that is set narrows the rows, and the order in
which fields are applied never matters (tested as a property). ``tui.filters`` turns these into
polars expressions; this module stays import-free so that the first frame does not wait for polars.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from corpus.errors import BadInputError

#: ``Filters.check`` value: the records that fail at least one check.
ANY_FAILED = "*failed"
#: ``Filters.check`` value: the records that any check names, failed or passed.
ANY_NAMED = "*named"

#: Sortable table columns -> the frame columns they sort by (location sorts by path, then line).
SORT_KEYS: dict[str, tuple[str, ...]] = {
    "repo_name": ("repo_name",),
    "location": ("path", "start_line"),
    "qualified_path": ("qualified_path",),
    "container_kind": ("container_kind",),
    "vis": ("vis",),
    "summary": ("summary",),
    "flags": ("flags",),
}


class SearchError(BadInputError):
    """The search text is not a valid regular expression."""


@dataclass(frozen=True)
class Filters:
    """What the records screen shows. ``None`` means "any" for every field."""

    repo: str | None = None
    container_kind: str | None = None
    visibility: str | None = None  # as written, or "-" for no visibility (private)
    split: str | None = None
    has_examples: bool | None = None
    is_test: bool | None = None
    macro_origin: bool | None = None
    #: A check id (the records it names, whether it failed or passed), ANY_FAILED or ANY_NAMED.
    check: str | None = None
    search: str = ""
    regex: bool = False

    def only(self, name: str) -> Filters:
        """These filters with every field but ``name`` (and the regex flag) reset."""
        keep = {name: getattr(self, name)}
        if name == "search":
            keep["regex"] = self.regex
        return Filters(**keep)

    def parts(self) -> list[Filters]:
        """One ``Filters`` per field that is set: their conjunction is ``self``."""
        return [
            self.only(f.name)
            for f in fields(self)
            if f.name != "regex" and getattr(self, f.name) not in (None, "")
        ]

    def cleared(self) -> Filters:
        """No filters, no search."""
        return Filters()

    def with_(self, **changes: object) -> Filters:
        """A copy with ``changes`` applied."""
        return replace(self, **changes)


@dataclass(frozen=True)
class Sort:
    """The table's order: by ``column`` (a key of SORT_KEYS), or the dataset's order if None."""

    column: str | None = None
    descending: bool = False

    def toggled(self, column: str) -> Sort:
        """Clicking ``column``: sort by it ascending; again, descending; a third time, unsorted."""
        if self.column != column:
            return Sort(column)
        return Sort(column, True) if not self.descending else Sort()


def _plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def filters_set(f: Filters) -> int:
    """How many filters (not counting the search) narrow the rows."""
    return sum(1 for part in f.parts() if not part.search)


def count_line(shown: int, total: int, f: Filters) -> str:
    """The line above the table: ``1 match of 3,120``, ``42 records of 3,120`` or
    ``3,120 records``."""
    text = _plural(shown, "match", "matches") if f.search else _plural(shown, "record", "records")
    return text + (f" of {total:,}" if shown != total or f.search else "")


def empty_hint(f: Filters) -> str:
    """Why the table is empty, and the key that changes that."""
    n = filters_set(f)
    narrowed = f"with {_plural(n, 'filter', 'filters')} set" if n else ""
    if f.search:
        what = "regex" if f.regex else "text"
        hint = f"No record matches the {what} {f.search!r} in its name, path, signature or doc"
        hint += f" {narrowed}." if n else "."
        if f.regex:
            hint += " ctrl+r searches the text literally."
        return hint + (" x clears the filters and the search." if n else " / edits the search.")
    if n:
        return f"No record passes these {_plural(n, 'filter', 'filters')}. x clears them."
    return "This dataset has no records."
