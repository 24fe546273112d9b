"""Which licence texts a file holds, by licenseclassifier (a port of google/licensecheck).

It reports one SPDX id per licence *region* of a text, so a file holding the MIT and the
Apache text names both; it refuses a text that was changed (MIT plus a "no commercial use"
clause gives nothing) rather than guessing, and it reports nothing unless the recognised
regions cover at least 75 % of the words (a README that quotes a licence sentence is not a
licence file). Prose notices ("dual-licensed under ...") name nothing: only texts count.
Full GPL/LGPL/AGPL texts come out with the bare ids (``GPL-3.0``), because the text cannot say
``-only`` or ``-or-later``: compare them by family (``corpus.licenses.spdx.family``).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

#: Files larger than this are a finding ("too-large"), never read into the detector.
MAX_LICENSE_BYTES = 1 << 20


@dataclass(frozen=True)
class Region:
    """One licence text found in a file: its id and character span."""

    id: str
    start: int
    end: int


@dataclass(frozen=True)
class FileDetection:
    """What one licence file holds: the texts found, or why none could be read.

    ``covered`` is the share of the file's characters inside accepted regions. ``partial``
    lists ids the detector saw below its coverage threshold when it accepted nothing (an
    Apache appendix alone, a modified text): evidence for a person, never counted as a text.
    ``error`` is ``missing``, ``refused`` (a symlink out of the repository, not a regular
    file), ``too-large``, ``binary`` or ``undetectable`` (the detector failed on it).
    """

    path: str
    sha256: str | None = None
    size: int | None = None
    regions: tuple[Region, ...] = ()
    covered: float = 0.0
    partial: tuple[str, ...] = ()
    error: str | None = None

    @property
    def ids(self) -> list[str]:
        """The distinct licence ids of the texts found, in order."""
        return list(dict.fromkeys(r.id for r in self.regions))

    def to_json(self) -> dict[str, Any]:
        """The JSON form kept in ``<shard>.licenses.json`` and stats.json."""
        out = asdict(self)
        out["ids"] = self.ids
        out["regions"] = [asdict(r) for r in self.regions]
        out["partial"] = list(self.partial)
        return out


@dataclass
class Detector:
    """Runs licenseclassifier once per distinct content (licence files are often copies)."""

    _seen: dict[str, tuple[tuple[Region, ...], float, tuple[str, ...]]] = field(
        default_factory=dict
    )

    def detect(self, path: str, data: bytes) -> FileDetection:
        """The detection of ``data``, the bytes of the licence file ``path``."""
        digest = hashlib.sha256(data).hexdigest()
        if len(data) > MAX_LICENSE_BYTES:
            return FileDetection(path, digest, len(data), error="too-large")
        if b"\0" in data:
            return FileDetection(path, digest, len(data), error="binary")
        if digest not in self._seen:
            try:
                self._seen[digest] = _classify(data.decode("utf-8", "replace"))
            except Exception:  # a hostile text must never stop a build: it is a finding
                return FileDetection(path, digest, len(data), error="undetectable")
        regions, covered, partial = self._seen[digest]
        return FileDetection(path, digest, len(data), regions, covered, partial)


def _classify(text: str) -> tuple[tuple[Region, ...], float, tuple[str, ...]]:
    from licenseclassifier import identify_license

    found = tuple(Region(m.id, m.start, m.end) for m in identify_license(text))
    if not found:
        below = identify_license(text, coverage_threshold=0.0)
        return (), 0.0, tuple(dict.fromkeys(m.id for m in below))
    chars = sum(r.end - r.start for r in found)
    return found, round(min(1.0, chars / max(1, len(text))), 3), ()


def detector_versions() -> dict[str, str]:
    """The versions whose change must redo every detection."""
    from importlib.metadata import version

    return {
        "licenseclassifier": version("licenseclassifier"),
        "license-expression": version("license-expression"),
    }
