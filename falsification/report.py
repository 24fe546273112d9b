"""The suite's result: score, verdict, per-category sums, and its JSON / Markdown / rich forms."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from falsification.registry import CATEGORIES, MAX_SCORE

JSON_FILE = "falsification.json"
MD_FILE = "falsification.md"
PASS_AT = 95
WARN_AT = 85


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
