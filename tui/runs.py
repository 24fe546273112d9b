"""Training runs for the runs dashboard: find run folders, follow metrics.jsonl as it grows, and
read summary.json and eval/eval.json defensively (no Textual, no polars).

A run folder (made by `corpus train`) holds ``metrics.jsonl`` (one JSON object per log event:
``step``, ``loss``, ``learning_rate``, ``grad_norm``, or ``eval_loss`` ...), ``summary.json``
once it has finished, ``train_config.yaml`` (also under ``adapter/``), and, once evaluated,
``eval/eval.json``. Every file may be absent, partial or being written: readers keep what they
can use and say what they skipped, never raise.

Status of a run:

- **finished**: ``summary.json`` is there (and is a JSON object);
- **running**: no summary, and ``metrics.jsonl`` (or the config a starting run writes first)
  changed in the last ``STALE_S`` seconds — it is being written;
- **stopped**: neither: the run failed, was killed or interrupted (``--resume`` continues it).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

METRICS_FILE = "metrics.jsonl"
SUMMARY_FILE = "summary.json"
CONFIG_FILE = "train_config.yaml"
EVAL_FILE = "eval/eval.json"
#: A run whose files have not changed for this long is not running any more.
STALE_S = 120.0
#: Files whose presence makes a folder a run.
_MARKERS = (METRICS_FILE, SUMMARY_FILE, CONFIG_FILE, f"adapter/{CONFIG_FILE}")
#: Examples shown from an eval report (the Samples tab).
MAX_EXAMPLES = 50


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if value == value else None  # NaN is no number to plot


def row_kind(row: dict[str, Any]) -> str:
    """``eval`` (an evaluation), ``train`` (a training log step) or ``other`` (the end-of-run
    totals and anything else)."""
    if "eval_loss" in row:
        return "eval"
    return "train" if "loss" in row else "other"


class MetricsTail:
    """Follows one metrics.jsonl: each :meth:`poll` reads only the bytes appended since the last.

    A line still being written (no newline yet) waits for the next poll; a line that is not a
    JSON object with an integer ``step`` is counted in ``skipped``. A file that got shorter was
    rewritten: it is read again from the start. Rows replayed by a resumed run (a step not
    after the last of its kind) replace the rows from that step on: the later run is the one
    the adapter comes from.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._reset()

    def _reset(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.skipped = 0
        self._offset = 0
        self._partial = b""
        self._last_step: dict[str, int] = {}

    def poll(self) -> bool:
        """Read what was appended; True when new rows arrived."""
        try:
            size = self.path.stat().st_size
        except OSError:
            return False
        if size < self._offset:
            self._reset()  # rewritten: read it again from the start
        if size == self._offset:
            return False
        with self.path.open("rb") as f:
            f.seek(self._offset)
            data = f.read(size - self._offset)
        self._offset += len(data)
        *lines, self._partial = (self._partial + data).split(b"\n")
        for line in lines:
            if line.strip():
                self._add_line(line)
        return bool(lines)

    def _add_line(self, line: bytes) -> None:
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            self.skipped += 1
            return
        step = row.get("step") if isinstance(row, dict) else None
        if isinstance(step, bool) or not isinstance(step, int):
            self.skipped += 1
            return
        kind = row_kind(row)
        if step <= self._last_step.get(kind, -1) and kind != "other":
            self.rows = [r for r in self.rows if row_kind(r) != kind or r["step"] < step]
        self._last_step[kind] = step
        self.rows.append(row)


@dataclass(frozen=True)
class Curves:
    """The series a run's charts draw: (step, value) in step order."""

    train_loss: list[tuple[int, float]]
    eval_loss: list[tuple[int, float]]
    learning_rate: list[tuple[int, float]]


def curves(rows: list[dict[str, Any]]) -> Curves:
    """Train loss, eval loss and learning rate against the step, from metrics rows."""

    def series(kind: str, key: str) -> list[tuple[int, float]]:
        out = []
        for r in rows:
            value = _number(r.get(key))
            if row_kind(r) == kind and value is not None:
                out.append((r["step"], value))
        return sorted(out, key=lambda sv: sv[0])

    return Curves(series("train", "loss"), series("eval", "eval_loss"),
                  series("train", "learning_rate"))  # fmt: skip


def read_json_object(path: Path) -> dict[str, Any] | None:
    """A JSON object from ``path``; None when it is absent, unreadable or not an object."""
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None


def read_config(run: Path) -> dict[str, Any]:
    """The run's train_config.yaml (at the top, else under adapter/); {} when unreadable."""
    import yaml

    for candidate in (run / CONFIG_FILE, run / "adapter" / CONFIG_FILE):
        try:
            value = yaml.safe_load(candidate.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if isinstance(value, dict):
            return value
    return {}


def is_run(path: Path) -> bool:
    """True when ``path`` is a run folder (it holds any of a run's files)."""
    return path.is_dir() and any((path / m).exists() for m in _MARKERS)


def find_runs(root: Path) -> list[Path]:
    """``root`` itself if it is a run, else the runs in it and one level further (a sweep's
    ``runs/ablate/r8``), sorted by path."""
    root = Path(root)
    if is_run(root):
        return [root]
    found: list[Path] = []
    try:
        children = sorted(p for p in root.iterdir() if p.is_dir())
    except OSError:
        return []
    for child in children:
        if is_run(child):
            found.append(child)
            continue
        try:
            found += sorted(p for p in child.iterdir() if is_run(p))
        except OSError:
            continue
    return found


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def run_status(run: Path, summary: dict[str, Any] | None, now: float | None = None) -> str:
    """``finished``, ``running`` or ``stopped`` (see the module docstring)."""
    if summary is not None:
        return "finished"
    now = time.time() if now is None else now
    times = [t for t in (_mtime(run / METRICS_FILE), _mtime(run / CONFIG_FILE)) if t is not None]
    return "running" if times and now - max(times) < STALE_S else "stopped"


@dataclass(frozen=True)
class Interval:
    """A metric's mean with its confidence interval (``lo``/``hi`` may be unknown)."""

    mean: float
    lo: float | None = None
    hi: float | None = None


@dataclass(frozen=True)
class System:
    """One evaluated system (the base model, an adapter, a baseline) and its metrics."""

    name: str
    kind: str
    metrics: dict[str, Interval]


@dataclass(frozen=True)
class Example:
    """One evaluated record: the reference doc and each system's output and score."""

    id: str
    repo: str
    reference: str
    outputs: dict[str, str]
    scores: dict[str, float]
    #: The item's name and why it was picked (``best`` / ``worst``), when the report says.
    name: str = ""
    pick: str = ""


@dataclass
class EvalReport:
    """What an eval/eval.json holds, as far as it could be read."""

    split: str | None = None
    n: int | None = None
    primary: str | None = None
    systems: list[System] = field(default_factory=list)
    comparisons: list[dict[str, Any]] = field(default_factory=list)
    per_repo: dict[str, Any] = field(default_factory=dict)
    examples: list[Example] = field(default_factory=list)
    #: Parts of the file that were skipped, and why.
    problems: list[str] = field(default_factory=list)

    def per_repo_primary(self) -> dict[str, dict[str, float]]:
        """repo -> system -> mean of the primary metric, from ``per_repo`` when it has the
        shape ``{repo: {system: {metric: {"mean": ..}}}}`` (other shapes give nothing)."""
        out: dict[str, dict[str, float]] = {}
        for repo, systems in self.per_repo.items():
            if not isinstance(systems, dict):
                continue
            for name, metrics in systems.items():
                value = metrics.get(self.primary) if isinstance(metrics, dict) else None
                iv = _interval(value)
                if iv is not None:
                    out.setdefault(str(repo), {})[str(name)] = iv.mean
        return out

    def headline(self) -> tuple[str, float] | None:
        """(primary metric, mean) of the trained system: the first of kind ``adapter`` (or
        ``finetuned``/``trained``), else the first system; None without a primary metric."""
        if not self.primary or not self.systems:
            return None
        trained = [s for s in self.systems if s.kind in ("adapter", "finetuned", "trained")]
        for system in trained or self.systems:
            if self.primary in system.metrics:
                return self.primary, system.metrics[self.primary].mean
        return None


def _interval(value: Any) -> Interval | None:
    if _number(value) is not None:
        return Interval(float(value))
    if isinstance(value, dict) and _number(value.get("mean")) is not None:
        return Interval(value["mean"], _number(value.get("lo")), _number(value.get("hi")))
    return None


def _system(obj: Any, where: str, problems: list[str]) -> System | None:
    if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
        problems.append(f"{where} (not a system with a name)")
        return None
    raw = obj.get("metrics") if isinstance(obj.get("metrics"), dict) else {}
    metrics = {str(k): iv for k, v in raw.items() if (iv := _interval(v)) is not None}
    return System(obj["name"], str(obj.get("kind") or "-"), metrics)


def _example(obj: Any, where: str, problems: list[str]) -> Example | None:
    if not isinstance(obj, dict) or not isinstance(obj.get("reference"), str):
        problems.append(f"{where} (no reference text)")
        return None
    outputs = obj.get("outputs") if isinstance(obj.get("outputs"), dict) else {}
    scores = obj.get("scores") if isinstance(obj.get("scores"), dict) else {}
    return Example(
        id=str(obj.get("id") or "?"),
        repo=str(obj.get("repo") or "?"),
        reference=obj["reference"],
        outputs={str(k): v for k, v in outputs.items() if isinstance(v, str)},
        scores={str(k): float(v) for k, v in scores.items() if _number(v) is not None},
        name=str(obj.get("name") or ""),
        pick=str(obj.get("kind") or ""),
    )


def parse_eval(obj: dict[str, Any]) -> EvalReport:
    """An EvalReport from eval.json's object, keeping every part that has the right shape."""
    rep = EvalReport(
        split=obj.get("split") if isinstance(obj.get("split"), str) else None,
        n=obj.get("n") if isinstance(obj.get("n"), int) else None,
        primary=obj.get("primary") if isinstance(obj.get("primary"), str) else None,
    )
    for i, s in enumerate(obj.get("systems") or []):
        if (system := _system(s, f"systems[{i}]", rep.problems)) is not None:
            rep.systems.append(system)
    comparisons = obj.get("comparisons") or []
    rep.comparisons = [c for c in comparisons if isinstance(c, dict)]
    if len(rep.comparisons) != len(comparisons):
        rep.problems.append(f"{len(comparisons) - len(rep.comparisons)} comparison(s)")
    if isinstance(obj.get("per_repo"), dict):
        rep.per_repo = obj["per_repo"]
    for i, e in enumerate(obj.get("examples") or []):
        if len(rep.examples) >= MAX_EXAMPLES:
            break
        if (example := _example(e, f"examples[{i}]", rep.problems)) is not None:
            rep.examples.append(example)
    return rep


def read_eval(run: Path) -> EvalReport | None:
    """The run's eval/eval.json, None when there is none (or it is not a JSON object)."""
    obj = read_json_object(Path(run) / EVAL_FILE)
    return parse_eval(obj) if obj is not None else None


@dataclass
class RunView:
    """Everything the dashboard shows about one run (refreshed by :meth:`refresh`)."""

    path: Path
    name: str
    tail: MetricsTail
    status: str = "stopped"
    summary: dict[str, Any] | None = None
    config: dict[str, Any] = field(default_factory=dict)
    eval: EvalReport | None = None
    _eval_mtime: float | None = None

    @classmethod
    def open(cls, path: Path, root: Path) -> RunView:
        """A view of the run at ``path``, named relative to the dashboard's ``root``."""
        rel = os.path.relpath(path, root) if path != root else path.name
        view = cls(path=path, name=rel, tail=MetricsTail(path / METRICS_FILE))
        view.config = read_config(path)
        view.refresh()
        return view

    def refresh(self, now: float | None = None) -> bool:
        """Read what changed (appended metrics, a new summary or eval report); True if any."""
        changed = self.tail.poll()
        if self.summary is None:
            self.summary = read_json_object(self.path / SUMMARY_FILE)
            changed |= self.summary is not None
        mtime = _mtime(self.path / EVAL_FILE)
        if mtime != self._eval_mtime:
            self._eval_mtime, self.eval = mtime, read_eval(self.path)
            changed = True
        status = run_status(self.path, self.summary, now)
        changed |= status != self.status
        self.status = status
        return changed

    @property
    def steps(self) -> int | None:
        """Steps done: the summary's, else the last logged step."""
        if self.summary and isinstance(self.summary.get("steps"), int):
            return self.summary["steps"]
        steps = [r["step"] for r in self.tail.rows]
        return max(steps) if steps else None

    @property
    def max_steps(self) -> int | None:
        """The configured number of steps, when the config fixes one."""
        value = self.config.get("max_steps")
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            return None
        return value

    @property
    def best_eval_loss(self) -> float | None:
        """The lowest eval loss logged (or the summary's, without eval rows)."""
        evals = curves(self.tail.rows).eval_loss
        if evals:
            return min(v for _, v in evals)
        return _number((self.summary or {}).get("eval_loss"))
