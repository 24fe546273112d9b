"""Does a declared licence expression agree with the licence texts found? The one rule.

Inputs: ``D``, a declared SPDX expression (sources.toml, or a package's Cargo.toml), and the
ids of the licence *texts* detected in the licence files that go with it. Both sides are
compared by licence family (``corpus.licenses.spdx.family``), ``WITH`` exceptions dropped.
With ``K`` the families ``D`` names, ``T`` the families of the texts and the alternatives of
``D`` its DNF clauses:

- ``invalid``: ``D`` is not a usable SPDX expression;
- ``no-texts``: no licence text was found at all (a missing, empty, prose-only or unreadable
  licence file);
- ``disagree``: a text of a licence ``D`` does not name is present (``MIT`` declared, the
  GPL-3.0 text found; ``Apache-2.0`` declared, only an MIT file), or the texts satisfy no
  alternative of ``D`` (``MIT AND Apache-2.0`` declared, only the MIT text);
- ``incomplete``: every text is declared and one alternative is fully covered, but a licence
  ``D`` also offers ships no text (``MIT OR Apache-2.0``, only the MIT file): it passes, with
  a note;
- ``agree``: otherwise (``MIT OR Apache-2.0`` with both texts; ``MIT/Apache-2.0``).

``agree`` and ``incomplete`` pass; the others are failures.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from corpus.licenses import spdx

PASSING = ("agree", "incomplete")


@dataclass(frozen=True)
class Agreement:
    """The verdict of one declared expression against its texts."""

    status: str
    declared: str | None
    texts: tuple[str, ...] = ()  # families of the texts found
    missing: tuple[str, ...] = ()  # declared families without a text
    extra: tuple[str, ...] = ()  # text families the declaration does not name
    note: str = ""

    @property
    def ok(self) -> bool:
        """Whether the declaration stands (``agree`` or ``incomplete``)."""
        return self.status in PASSING


def agreement(declared: str, text_ids: Iterable[str]) -> Agreement:
    """The verdict of ``declared`` against the detected text ids ``text_ids``."""
    found = tuple(sorted({spdx.family(i) for i in text_ids}))
    try:
        expr = spdx.parse(declared)
    except spdx.ExpressionProblem as exc:
        return Agreement("invalid", declared, found, note=str(exc))
    alternatives = spdx.clauses(expr)
    # what the declaration names, read literally (its DNF may absorb a redundant alternative)
    named = {spdx.family(k) for k in spdx.license_ids(declared)}
    missing = tuple(sorted(named - set(found)))
    extra = tuple(sorted(set(found) - named))
    canonical = str(expr)
    if not found:
        return Agreement("no-texts", canonical, found, missing, extra, "no licence text found")
    if extra:
        note = f"a licence text the declaration does not name: {', '.join(extra)}"
        return Agreement("disagree", canonical, found, missing, extra, note)
    if not any(alt <= set(found) for alt in alternatives):
        note = "the texts found satisfy no alternative of the declaration"
        return Agreement("disagree", canonical, found, missing, extra, note)
    if missing:
        note = f"no text for the declared alternative(s) {', '.join(missing)}"
        return Agreement("incomplete", canonical, found, missing, extra, note)
    return Agreement("agree", canonical, found, missing, extra)
