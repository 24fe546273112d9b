"""The run history: one JSON line per `corpus build` or `corpus rebuild` in ``<out>/history.jsonl``.

``recorded_run`` wraps one run: it notes a run that was killed before it finished (it left
``<out>/.running.json``), undoes a folder swap the kill interrupted, and appends the record —
also when the run fails, with its exit code and error.

Appending is atomic for a reader: each record is serialised to one line and handed to a
single ``write`` on an ``O_APPEND`` descriptor, then flushed to disk with ``fsync``. A crash can
at worst leave a torn last line (the write was cut short); readers skip a line that is not a
JSON object, and the next append starts on a fresh line so the torn one never swallows it.

Also here: ``dataset_changes``, the per-repository diff between two builds that every record
carries (added / removed / changed functions).
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from corpus.errors import CorpusError, ExitCode
from corpus.layout import HISTORY_FILE, OutLayout

#: What identifies one function across builds. The record ``id`` hashes the commit, so every
#: id of a repository changes whenever its pin moves; (repo, path, qualified path) does not.
#: Several items can share it (e.g. a method of two impls of one trait in a file), so the
#: n-th occurrence in byte order is part of the key.
KEY_COLUMNS = ("repo", "path", "qualified_path")
#: What a function "changed" means: its signature, doc or source text differ.
CONTENT_COLUMNS = ("signature", "doc", "source")


def history_path(out: Path) -> Path:
    """``<out>/history.jsonl``."""
    return Path(out) / HISTORY_FILE


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@contextmanager
def recorded_run(layout: OutLayout, command: str) -> Iterator[dict[str, Any]]:
    """Yield the run's history record; append it when the block ends, however it ends.

    The caller holds the output folder's lock. The block sets ``exit_code`` (a raised
    ``CorpusError`` sets its own, any other exception 1, with ``error``).
    """
    from corpus.store import read_json, recover_dir

    t0 = time.perf_counter()
    record: dict[str, Any] = {"command": command, "started_at": _now()}
    if layout.running.is_file():
        try:
            record["recovered"] = read_json(layout.running)
        except (CorpusError, ValueError, OSError):
            record["recovered"] = {"started_at": None}
    from corpus.store import write_json

    write_json(layout.running, {"command": command, "started_at": record["started_at"],
                                "pid": os.getpid()})  # fmt: skip
    recover_dir(layout.dataset.root)
    try:
        yield record
    except CorpusError as exc:
        record.update(exit_code=int(exc.exit_code), error=str(exc), reason=str(exc))
        raise
    except Exception as exc:
        record.update(exit_code=int(ExitCode.FAILURE), error=f"{type(exc).__name__}: {exc}"[:2000])
        raise
    finally:
        record["ended_at"] = _now()
        record["duration_s"] = round(time.perf_counter() - t0, 3)
        append_record(history_path(layout.root), record)
        layout.running.unlink(missing_ok=True)


def append_record(path: Path, record: dict[str, Any]) -> None:
    """Append ``record`` as one JSON line (one write, then fsync)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    data = (line + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        if size:
            # A torn last line from a crashed run: start ours on a line of its own.
            with open(path, "rb") as fh:
                fh.seek(size - 1)
                if fh.read(1) != b"\n":
                    data = b"\n" + data
        written = os.write(fd, data)
        if written != len(data):  # a full disk: say so rather than leave a silent stub
            raise OSError(f"{path}: short write ({written} of {len(data)} bytes)")
        os.fsync(fd)
    finally:
        os.close(fd)


def read_history(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    """Every readable record of ``path``, oldest first (the last ``limit`` when given).

    A missing file is an empty history; a line that is not a JSON object (torn by a crash,
    or edited by hand) is skipped.
    """
    path = Path(path)
    if not path.is_file():
        return []
    records = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(rec, dict):
                records.append(rec)
    if limit is not None:
        records = records[-limit:] if limit > 0 else []
    return records


def _keyed(df: Any) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """(repo, path, qualified_path, occurrence) -> (signature, doc, source)."""
    if df is None or df.height == 0:
        return {}
    rows = df.select([*KEY_COLUMNS, "start_byte", *CONTENT_COLUMNS]).sort(
        [*KEY_COLUMNS, "start_byte"]
    )
    seen: Counter[tuple[Any, ...]] = Counter()
    out = {}
    for row in rows.iter_rows():
        key = tuple(row[: len(KEY_COLUMNS)])
        seen[key] += 1
        out[(*key, seen[key])] = tuple(row[len(KEY_COLUMNS) + 1 :])
    return out


def dataset_changes(old: Path | None, new: Path) -> dict[str, dict[str, int]]:
    """Per repository: functions ``added``, ``removed`` and ``changed`` from ``old`` to ``new``.

    ``old`` None (no previous build) counts every function of ``new`` as added. Repositories
    with no difference are left out.
    """
    from corpus.store import read_records

    before = _keyed(read_records(old)) if old is not None else {}
    after = _keyed(read_records(new))
    changes: dict[str, dict[str, int]] = {}

    def bump(repo: str, what: str) -> None:
        changes.setdefault(repo, {"added": 0, "removed": 0, "changed": 0})[what] += 1

    for key, content in after.items():
        if key not in before:
            bump(key[0], "added")
        elif before[key] != content:
            bump(key[0], "changed")
    for key in before.keys() - after.keys():
        bump(key[0], "removed")
    return dict(sorted(changes.items()))
