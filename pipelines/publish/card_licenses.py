"""The card's licences: Hub metadata ids from SPDX expressions, and the table of what was
detected at each pin (stats.json ``licenses``, written by ``corpus.licenses``).

Expressions are read with license-expression (``corpus.licenses.spdx``): ``GPL-2.0+`` is the
canonical ``GPL-2.0-or-later``, and a ``WITH`` exception is not a licence of its own, so
``Apache-2.0 WITH LLVM-exception`` is published as the Hub's ``apache-2.0`` (the exception only
adds permissions; the card's text names it). An id without a Hub id makes the card
``license: other`` with a ``license_name`` the Hub accepts (lower case, digits, ``.`` and ``-``).
"""

from __future__ import annotations

import re
from typing import Any

from pipelines.publish.card_markdown import table

#: SPDX licence id -> Hub licence id. An id not listed here makes the card ``license: other``.
#: The Hub has one id per licence family, so ``-only`` and ``-or-later`` share it.
SPDX_TO_HUB = {
    "MIT": "mit",
    "Apache-2.0": "apache-2.0",
    "Unlicense": "unlicense",
    "BSD-2-Clause": "bsd-2-clause",
    "BSD-3-Clause": "bsd-3-clause",
    "ISC": "isc",
    "MPL-2.0": "mpl-2.0",
    "Zlib": "zlib",
    "CC0-1.0": "cc0-1.0",
    "BSL-1.0": "bsl-1.0",
    "Artistic-2.0": "artistic-2.0",
    "GPL-2.0-only": "gpl-2.0",
    "GPL-2.0-or-later": "gpl-2.0",
    "GPL-3.0-only": "gpl-3.0",
    "GPL-3.0-or-later": "gpl-3.0",
    "LGPL-2.1-only": "lgpl-2.1",
    "LGPL-2.1-or-later": "lgpl-2.1",
    "LGPL-3.0-only": "lgpl-3.0",
    "LGPL-3.0-or-later": "lgpl-3.0",
    "AGPL-3.0-only": "agpl-3.0",
    "AGPL-3.0-or-later": "agpl-3.0",
    "NCSA": "ncsa",
    "WTFPL": "wtfpl",
}
_NOT_NAME = re.compile(r"[^a-z0-9.-]+")


def spdx_ids(expression: str) -> list[str]:
    """The licence ids of an SPDX expression, exceptions left out, canonical and in order
    (``MIT OR Apache-2.0`` -> [MIT, Apache-2.0]; ``GPL-2.0+`` -> [GPL-2.0-or-later]). An
    expression that does not parse is one id of its own (it can only be ``other``)."""
    from corpus.licenses import spdx

    try:
        return spdx.license_ids(expression, known_only=False)
    except spdx.ExpressionProblem:
        return [expression.strip()]


def hub_licenses(expressions: list[str]) -> tuple[list[str], list[str]]:
    """(Hub licence ids, SPDX ids without a Hub id) for every licence in ``expressions``."""
    hub: list[str] = []
    unmapped: list[str] = []
    for expr in expressions:
        for spdx in spdx_ids(expr):
            target = SPDX_TO_HUB.get(spdx)
            bucket, value = (hub, target) if target else (unmapped, spdx)
            if value not in bucket:
                bucket.append(value)
    return sorted(hub), sorted(unmapped)


def license_metadata(expressions: list[str]) -> dict[str, Any]:
    """The card's ``license`` (and, for ``other``, ``license_name`` / ``license_link``)."""
    hub, unmapped = hub_licenses(expressions)
    meta: dict[str, Any] = {"license": hub + (["other"] if unmapped else [])}
    if unmapped:
        name = _NOT_NAME.sub("-", "-".join(u.lower() for u in unmapped)).strip("-.")
        meta["license_name"] = name or "unknown"
        first = unmapped[0]
        meta["license_link"] = (
            f"https://spdx.org/licenses/{first}.html"
            if re.fullmatch(r"[A-Za-z0-9.-]+", first) and not first.startswith("LicenseRef-")
            else "https://spdx.org/licenses/"
        )
    return meta


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _files_cell(summary: dict[str, Any]) -> str:
    shown = []
    for f in summary.get("files") or []:
        if f.get("path") not in (summary.get("root") or {}).get("files", []):
            continue
        what = ", ".join(f.get("ids") or []) or f.get("error") or "no licence text"
        shown.append(f"`{f['path']}`: {what}")
    return _cell("; ".join(shown) or "none")


def _packages_cell(summary: dict[str, Any]) -> str:
    declared = summary.get("declared")
    other = sorted(
        {
            f"`{m.get('name')}`: {m.get('record_license')}"
            for m in summary.get("members") or []
            if m.get("record_license") != declared
        }
    )
    return _cell(", ".join(other) or "all as the repository")


def licenses_table(repos: list[Any], stats: dict[str, Any]) -> str:
    """Declared vs detected per repository, the licence files read and what each holds, and
    the workspace packages whose records carry another licence."""
    detections = stats.get("licenses") or {}
    rows = []
    for r in repos:
        s = detections.get(r.repo)
        if not isinstance(s, dict):
            rows.append([r.repo, _cell(r.license), "not detected (an older build)", "", ""])
            continue
        detected = f"{s.get('detected')} (from {s.get('detected_from')})"
        rows.append([r.repo, _cell(str(s.get("declared"))), _cell(detected), _files_cell(s),
                     _packages_cell(s)])  # fmt: skip
    header = ["repository", "declared", "detected at the pin", "licence files", "packages"]
    return table(header, rows)
