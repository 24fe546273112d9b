"""The suite's result — THE report model: every reader and writer of falsification.json uses it.

``Report`` is what ``run_suite`` returns and what ``Report.read`` / ``Report.from_json`` give back
from a file (validated: a wrong shape is a ``BadInputError``, never a silent default). The score,
verdict and category sums are always *recomputed* from the checks; :meth:`Report.problems` says
why a report cannot vouch for a corpus at all (a partial run, checks missing from or unknown to
the registry, points or severities that differ from it, stored figures that disagree with the
checks). The publish gate (:func:`gate`) refuses anything but a PASS with no problems.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from corpus.errors import BadInputError
from corpus.layout import FALSIFICATION_JSON, FALSIFICATION_MD
from falsification.registry import CATEGORIES, MAX_SCORE, SEVERITIES

JSON_FILE = FALSIFICATION_JSON
MD_FILE = FALSIFICATION_MD
PASS_AT = 95
WARN_AT = 85
#: The figures a report file stores for readers but that are always recomputed from its checks.
DERIVED_KEYS = ("score", "verdict", "max_score", "partial", "critical_failures", "categories")


@dataclass
class CheckResult:
    """One check's verdict on the corpus."""

    id: str
    category: str
    points: int
    awarded: int
    passed: bool
    severity: str
    hypothesis: str
    evidence: str
    offending_ids: list[str] = field(default_factory=list)
    duration_s: float = 0.0

    @classmethod
    def from_json(cls, obj: Any, where: str) -> CheckResult:
        """One entry of a report's ``checks``; every field must be there with its type."""
        if not isinstance(obj, dict):
            raise BadInputError(f"{where}: expected an object, found {type(obj).__name__}")
        values: dict[str, Any] = {}
        for name, kind in _CHECK_FIELDS.items():
            if name not in obj:
                raise BadInputError(f"{where}: missing key {name!r}")
            value = obj[name]
            if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
                raise BadInputError(f"{where}: {name!r} must be {kind.__name__}, got {value!r}")
            values[name] = value
        ids = obj.get("offending_ids", [])
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise BadInputError(f"{where}: 'offending_ids' must be a list of record ids")
        return cls(**values, offending_ids=list(ids))


_CHECK_FIELDS: dict[str, type] = {
    "id": str,
    "category": str,
    "points": int,
    "awarded": int,
    "passed": bool,
    "severity": str,
    "hypothesis": str,
    "evidence": str,
}


def verdict_for(score: float, max_score: int, critical_failed: bool) -> str:
    """PASS at >= 95 (of 100), WARN at 85-94, FAIL below or on any critical failure."""
    pct = 100.0 * score / max_score if max_score else 0.0
    if critical_failed or pct < WARN_AT:
        return "FAIL"
    return "PASS" if pct >= PASS_AT else "WARN"


@dataclass
class Report:
    """The whole suite's result on one corpus."""

    checks: list[CheckResult]
    duration_s: float = 0.0
    records: int = 0
    #: The derived figures as a file stored them (None for a report computed in this process).
    stored: dict[str, Any] | None = None

    @classmethod
    def from_json(cls, obj: Any, source: str = JSON_FILE) -> Report:
        """A report from its JSON object (BadInputError naming the problem on a wrong shape)."""
        if not isinstance(obj, dict):
            raise BadInputError(f"{source}: expected a JSON object, found {type(obj).__name__}")
        raw = obj.get("checks")
        if not isinstance(raw, list):
            raise BadInputError(f"{source}: 'checks' must be a list of check results")
        checks = [CheckResult.from_json(c, f"{source}: checks[{i}]") for i, c in enumerate(raw)]
        records = obj.get("records", 0)
        if not isinstance(records, int) or isinstance(records, bool) or records < 0:
            raise BadInputError(f"{source}: 'records' must be a count, got {records!r}")
        stored = {k: obj[k] for k in DERIVED_KEYS if k in obj}
        return cls(checks, records=records, stored=stored)

    @classmethod
    def read(cls, path: Path) -> Report:
        """The report in ``path`` (a falsification.json)."""
        from corpus.store import read_json

        return cls.from_json(read_json(path), str(path))

    @property
    def failed(self) -> list[CheckResult]:
        """The checks that did not pass, in report order."""
        return [c for c in self.checks if not c.passed]

    def check(self, check_id: str) -> CheckResult | None:
        """The result of ``check_id``, or None when the report lacks it."""
        return next((c for c in self.checks if c.id == check_id), None)

    def problems(self) -> list[str]:
        """Why this report cannot vouch for a corpus (empty when it can).

        Compares it with the check registry — every registered check present once, with the
        registry's points and severity, nothing else, 100 points in all — and checks that each
        result is consistent (``awarded`` is all or nothing) and that the figures a file stored
        agree with the ones its checks give.
        """
        from falsification.registry import all_checks

        registry = {c.id: c for c in all_checks()}
        seen: dict[str, int] = {}
        out: list[str] = []
        for c in self.checks:
            seen[c.id] = seen.get(c.id, 0) + 1
            reg = registry.get(c.id)
            if reg is None:
                out.append(f"{c.id}: not a registered check")
            elif (c.points, c.severity, c.category) != (reg.points, reg.severity, reg.category):
                out.append(
                    f"{c.id}: {c.points} points, {c.severity}, {c.category}; the registry says "
                    f"{reg.points}, {reg.severity}, {reg.category}"
                )
            if c.awarded != (c.points if c.passed else 0) or c.severity not in SEVERITIES:
                out.append(f"{c.id}: awarded {c.awarded}/{c.points} but passed={c.passed}")
        out += [f"{cid}: listed {n} times" for cid, n in sorted(seen.items()) if n > 1]
        missing = sorted(set(registry) - set(seen))
        if missing:
            out.append(f"{len(missing)} registered check(s) missing: {', '.join(missing)}")
        if self.max_score != MAX_SCORE:
            out.append(f"the checks are worth {self.max_score} points, not {MAX_SCORE}")
        out += self._stored_mismatches()
        return out

    def _stored_mismatches(self) -> list[str]:
        fresh = {k: v for k, v in self.to_json().items() if k in DERIVED_KEYS}
        return [
            f"stored {key} {value!r} disagrees with its checks ({fresh[key]!r})"
            for key, value in sorted((self.stored or {}).items())
            if value != fresh[key]
        ]

    @property
    def score(self) -> int:
        """Points awarded."""
        return sum(c.awarded for c in self.checks)

    @property
    def max_score(self) -> int:
        """Points at stake (100 for a full run)."""
        return sum(c.points for c in self.checks)

    @property
    def partial(self) -> bool:
        """True when only some checks ran (a debugging run, never publishable)."""
        return self.max_score != MAX_SCORE

    @property
    def critical_failures(self) -> list[str]:
        """Ids of failed critical checks: any one invalidates the corpus."""
        return [c.id for c in self.checks if c.severity == "critical" and not c.passed]

    @property
    def verdict(self) -> str:
        """PASS, WARN or FAIL."""
        return verdict_for(self.score, self.max_score, bool(self.critical_failures))

    @property
    def categories(self) -> dict[str, dict[str, int]]:
        """category -> {score, max}, in report order."""
        out: dict[str, dict[str, int]] = {}
        for cat in CATEGORIES:
            mine = [c for c in self.checks if c.category == cat]
            if mine:
                out[cat] = {
                    "score": sum(c.awarded for c in mine),
                    "max": sum(c.points for c in mine),
                }
        return out

    def result(self, check_id: str) -> CheckResult:
        """The result of one check (KeyError if it did not run)."""
        for c in self.checks:
            if c.id == check_id:
                return c
        raise KeyError(check_id)

    def to_json(self) -> dict[str, Any]:
        """The falsification.json object: deterministic (no run times), so that rebuilding the
        same corpus writes the same bytes and publishing it makes no new commit."""
        return {
            "score": self.score,
            "verdict": self.verdict,
            "max_score": self.max_score,
            "partial": self.partial,
            "records": self.records,
            "critical_failures": self.critical_failures,
            "categories": self.categories,
            "checks": [
                {k: v for k, v in asdict(c).items() if k != "duration_s"} for c in self.checks
            ],
        }

    def to_markdown(self) -> str:
        """falsification.md: verdict, category table, every check, and what failed."""
        lines = [
            "# Falsification report",
            "",
            f"**Verdict: {self.verdict}**: score {self.score}/{self.max_score} "
            f"on {self.records} records.",
            "",
            "PASS = score >= 95 and no critical failure; WARN = 85-94 and no critical failure; "
            "FAIL otherwise.",
            "",
        ]
        if self.critical_failures:
            lines += [
                "Critical failures (the corpus is invalid whatever the total): "
                + ", ".join(f"`{i}`" for i in self.critical_failures),
                "",
            ]
        lines += ["| Category | Score | Max |", "|---|---:|---:|"]
        lines += [f"| {k} | {v['score']} | {v['max']} |" for k, v in self.categories.items()]
        lines += [
            "",
            "| Check | Severity | Points | Result | Hypothesis | Evidence |",
            "|---|---|---:|---|---|---|",
        ]
        for c in self.checks:
            mark = "pass" if c.passed else "**FAIL**"
            lines.append(
                f"| `{c.id}` | {c.severity} | {c.awarded}/{c.points} | {mark} | "
                f"{_md_cell(c.hypothesis)} | {_md_cell(c.evidence)} |"
            )
        failed = [c for c in self.checks if not c.passed and c.offending_ids]
        if failed:
            lines += ["", "## Offending records", ""]
            for c in failed:
                lines.append(f"- `{c.id}`: " + ", ".join(f"`{i}`" for i in c.offending_ids))
        return "\n".join(lines) + "\n"

    def rich_table(self):  # -> rich.table.Table
        """A rich table for the terminal."""
        from rich.table import Table

        table = Table(
            title=f"Falsification: {self.verdict} {self.score}/{self.max_score}",
            show_lines=False,
        )
        for col in ("Category", "Check", "Points", "Result", "Evidence"):
            table.add_column(col, overflow="fold")
        for c in self.checks:
            result = "[green]pass[/]" if c.passed else "[bold red]FAIL[/]"
            if c.severity == "critical" and not c.passed:
                result += " [red](critical)[/]"
            ev = c.evidence
            if c.offending_ids:
                ev += " | e.g. " + ", ".join(i[:12] for i in c.offending_ids[:3])
            from rich.markup import escape

            table.add_row(c.category, c.id, f"{c.awarded}/{c.points}", result, escape(ev))
        return table


def gate(report: Report | None, force: bool, what: str) -> bool:
    """The publish gate: pass a PASS report with no problems; refuse anything else unless
    ``force``. Returns True when forced (the card then opens with a warning)."""
    from corpus.errors import CorpusError

    if report is None:
        why = f"no {JSON_FILE}: run `corpus falsify` first"
    elif problems := report.problems():
        more = f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
        why = f"its {JSON_FILE} cannot vouch for this build: {'; '.join(problems[:3])}{more}"
    elif report.verdict != "PASS":
        why = f"verdict {report.verdict}, score {report.score}/{report.max_score}"
    else:
        return False
    if not force:
        raise CorpusError(
            f"{what}: falsification did not pass ({why}); refusing to publish. Fix the corpus, "
            "or pass --force to publish it with a warning on the card."
        )
    return True


def read_report(dataset: Path) -> Report | None:
    """The report in a dataset folder, None when it has none (BadInputError when unreadable)."""
    path = Path(dataset) / JSON_FILE
    return Report.read(path) if path.is_file() else None


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write_report(report: Report, directory: Path) -> tuple[Path, Path]:
    """Write falsification.json and falsification.md into ``directory`` (atomically)."""
    from corpus.store import write_bytes_atomic, write_json

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    jpath, mpath = directory / JSON_FILE, directory / MD_FILE
    write_json(jpath, report.to_json())
    write_bytes_atomic(mpath, report.to_markdown().encode("utf-8"))
    return jpath, mpath
