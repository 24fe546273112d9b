"""`corpus rebuild` (what a scheduler runs) and `corpus history` (what the runs did)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from corpus.commands import _options as opt
from corpus.commands._common import (
    PANEL_BUILD,
    add_command,
    console,
    err_console,
    existing_paths,
    fail,
    user_errors,
)

UPDATE_PINS_ENV = "CORPUS_REBUILD_UPDATE_PINS"


def register(app: typer.Typer) -> None:
    """Add the rebuild and history commands to ``app``."""
    add_command(app, "rebuild", rebuild, PANEL_BUILD)
    add_command(app, "history", history, PANEL_BUILD)


def rebuild(
    out: opt.Out = opt.DEFAULTS["out"],
    sources_file: opt.SourcesFile = None,
    cache_dir: opt.CacheDir = None,
    update_pins: bool = typer.Option(
        True,
        "--update-pins/--no-update-pins",
        envvar=UPDATE_PINS_ENV,
        help="Move every pin to its branch tip before building (git ls-remote). "
        f"Also settable with {UPDATE_PINS_ENV}=0/1.",
    ),
    write_sources: bool = typer.Option(
        False,
        "--write-sources",
        help="After a PASS build, also write the moved pins back into --sources.",
    ),
    push: opt.Push = False,
    repo_id: opt.RepoId = None,
    private: opt.Private = False,
    workers: opt.Workers = opt.DEFAULTS["workers"],
    executor: opt.Executor = opt.DEFAULTS["executor"],
    address: opt.Address = None,
    include_tests: opt.IncludeTests = False,
    max_repo_share: opt.MaxRepoShare = opt.DEFAULTS["max_repo_share"],
    split_manifest: opt.SplitManifestFile = None,
    retries: opt.Retries = opt.DEFAULTS["retries"],
) -> None:
    """Rebuild on a schedule: move pins, re-extract what changed, falsify, publish if PASS.

    Only a PASS build whose rows differ from the Hub's latest build tag is published; otherwise
    the last good build stays (in OUT/dataset and as the Hub's latest tag) and the run says
    why. Every run appends a record to OUT/history.jsonl (see `corpus history`).

    Exit codes: 0 ok (published, or nothing to publish), 1 a stage failed or falsification
    FAILed, 2 bad input, 3 falsification WARN (not published), 4 another run holds the lock.
    """
    options = dict(locals())
    own = {k: options.pop(k) for k in ("update_pins", "write_sources", "retries")}
    if sources_file is not None:
        existing_paths([sources_file])
    with user_errors():
        from pipelines.rebuild import RebuildConfig
        from pipelines.rebuild import rebuild as run_rebuild

        result = run_rebuild(RebuildConfig(build=opt.build_config(**options), **own))
    _print_run(result.record)
    if result.exit_code:
        fail(result.message, result.exit_code)
    console.print(result.message, markup=False)


def _changes_text(changes: dict[str, Any]) -> str:
    if not changes:
        return "none"
    parts = []
    for repo, c in changes.items():
        parts.append(f"{repo} +{c.get('added', 0)} -{c.get('removed', 0)} ~{c.get('changed', 0)}")
    return "; ".join(parts)


def _print_run(record: dict[str, Any]) -> None:
    console.print(f"pins moved: {', '.join(record.get('moved', [])) or 'none'}", markup=False)
    console.print(f"re-extracted: {', '.join(record.get('extracted', [])) or 'none'}", markup=False)
    console.print(f"changes: {_changes_text(record.get('changes', {}))}", markup=False)
    console.print(
        f"falsification {record.get('verdict', '?')} ({record.get('score', '?')}/100) in "
        f"{record.get('duration_s', 0):.2f}s",
        markup=False,
    )


def history(
    out: opt.Out = opt.DEFAULTS["out"],
    limit: int = typer.Option(
        20, "--limit", "-n", min=0, metavar="N", help="Show the last N runs (0 = all)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the records as JSON lines."),
) -> None:
    """Show what the builds and rebuilds in OUT did: pins moved, changes, verdict, tag."""
    with user_errors():
        import json

        from corpus.errors import BadInputError
        from pipelines.history import history_path, read_history

        if not Path(out).is_dir():  # a mistyped --out is not an empty history
            raise BadInputError(f"{out}: no such output folder (the --out of a build)")
        path = history_path(out)
        records = read_history(path, limit or None)
        if as_json:
            for rec in records:
                typer.echo(json.dumps(rec, sort_keys=True))
            return
        if not records:
            what = "no history yet" if not path.is_file() else "no readable records"
            err_console.print(
                f"{path}: {what} (`corpus build` and `corpus rebuild` add one line per run)",
                markup=False,
            )
            return
        console.print(_history_table(path, records))


def _started(value: Any) -> str:
    """``2026-12-01T11:40:18Z`` as ``2026-12-01 11:40`` (the header says UTC)."""
    text = str(value or "?")
    return f"{text[:10]} {text[11:16]}" if len(text) >= 16 and text[10] == "T" else text


def _totals(changes: dict[str, Any]) -> str:
    if not changes:
        return "none"
    added, removed, changed = (
        sum(int(c.get(k, 0)) for c in changes.values()) for k in ("added", "removed", "changed")
    )
    return f"+{added} -{removed} ~{changed}"


def _history_table(path: Path, records: list[dict[str, Any]]) -> Any:
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title=f"Run history ({path})",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        padding=0,  # the box's column separator is the one space between columns
    )
    for col in ("started (UTC)", "run", "secs", "moved", "changes", "verdict", "published",
                "exit"):  # fmt: skip
        # One line per run at 80 columns: only the free-text columns may fold.
        free = col in ("moved", "published")
        table.add_column(col, overflow="fold", no_wrap=not free, min_width=min(len(col), 9))
    for rec in records:
        verdict = rec.get("verdict")
        outcome = rec.get("tag") if rec.get("published") else rec.get("reason") or "-"
        code = rec.get("exit_code", "?")
        moved = [m.rsplit("/", 1)[-1] for m in rec.get("moved", [])]
        table.add_row(
            Text(_started(rec.get("started_at"))),
            Text(str(rec.get("command", "rebuild"))),
            f"{rec.get('duration_s', 0):.1f}",
            Text(", ".join(moved) or "-"),
            Text(_totals(rec.get("changes", {}))),
            f"{verdict} {rec.get('score')}" if verdict else "-",
            Text(str(outcome)),
            Text(str(code), style="red" if code not in (0, "?") else ""),
        )
    return Group(table, *_latest_changes(records))


def _latest_changes(records: list[dict[str, Any]]) -> list[Any]:
    """Per-repository changes of the latest run (all runs: ``--json``)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    changes = records[-1].get("changes", {}) if records else {}
    if not changes:
        return []
    table = Table(
        title="Latest run, per repository",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for col, justify in (("repo", "left"), ("added", "right"), ("removed", "right"),
                         ("changed", "right")):  # fmt: skip
        table.add_column(col, justify=justify, overflow="fold")
    for repo, c in sorted(changes.items()):
        table.add_row(Text(repo), *(str(c.get(k, 0)) for k in ("added", "removed", "changed")))
    return [table]
