"""`corpus rebuild` (what a scheduler runs) and `corpus history` (what the runs did)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from corpus.commands._common import (
    ExitCode,
    console,
    err_console,
    existing_paths,
    fail,
    user_errors,
)
from corpus.commands._options import (
    Address,
    CacheDir,
    Executor,
    IncludeTests,
    MaxRepoShare,
    Private,
    RepoId,
    SourcesFile,
    Workers,
)
from corpus.paths import DEFAULT_OUT

UPDATE_PINS_ENV = "CORPUS_REBUILD_UPDATE_PINS"


def register(app: typer.Typer) -> None:
    """Add the rebuild and history commands to ``app``."""
    app.command("rebuild")(rebuild)
    app.command("history")(history)


def rebuild(
    out: Path = typer.Option(
        DEFAULT_OUT,
        "--out",
        "-o",
        help="State folder: dataset/ (last good build), work/ (shards, candidates), "
        "history.jsonl, run/sources.toml.",
    ),
    sources: SourcesFile = None,
    cache_dir: CacheDir = None,
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
    push: bool = typer.Option(
        False, "--push", help="Publish a PASS build whose rows differ from the Hub's latest."
    ),
    repo_id: RepoId = None,
    private: Private = False,
    workers: Workers = 0,
    executor: Executor = "local",
    address: Address = None,
    include_tests: IncludeTests = False,
    max_repo_share: MaxRepoShare = 0.4,
    retries: int = typer.Option(3, "--retries", min=0, help="Retries of a failing ls-remote."),
) -> None:
    """Rebuild on a schedule: move pins, re-extract what changed, falsify, publish if PASS.

    Only a PASS build whose rows differ from the Hub's latest build tag is published; otherwise
    the last good build stays (in OUT/dataset and as the Hub's latest tag) and the run says
    why. Every run appends a record to OUT/history.jsonl (see `corpus history`).

    Exit codes: 0 ok (published, or nothing to publish), 1 a stage failed or falsification
    FAILed, 2 bad input, 3 falsification WARN (not published), 4 another rebuild holds the lock.
    """
    if sources is not None:
        existing_paths([sources])
    with user_errors():
        from rich.markup import escape

        from pipelines.rebuild import RebuildConfig
        from pipelines.rebuild import rebuild as run_rebuild

        config = RebuildConfig(
            out=out,
            sources_file=sources,
            cache_dir=cache_dir,
            update_pins=update_pins,
            write_sources=write_sources,
            push=push,
            repo_id=repo_id,
            private=private,
            workers=workers,
            executor=executor,
            address=address,
            include_tests=include_tests,
            max_repo_share=max_repo_share,
            retries=retries,
        )
        result = run_rebuild(config)
        _print_run(result.record)
        if result.exit_code:
            fail(result.message, result.exit_code)
        console.print(escape(result.message))


def _changes_text(changes: dict[str, Any]) -> str:
    if not changes:
        return "none"
    parts = []
    for repo, c in changes.items():
        parts.append(f"{repo} +{c.get('added', 0)} -{c.get('removed', 0)} ~{c.get('changed', 0)}")
    return "; ".join(parts)


def _print_run(record: dict[str, Any]) -> None:
    from rich.markup import escape

    moved = ", ".join(record.get("moved", [])) or "none"
    extracted = ", ".join(record.get("extracted", [])) or "none"
    console.print(f"pins moved: {escape(moved)}")
    console.print(f"re-extracted: {escape(extracted)}")
    console.print(f"changes: {escape(_changes_text(record.get('changes', {})))}")
    console.print(
        f"falsification {record.get('verdict', '?')} ({record.get('score', '?')}/100) in "
        f"{record.get('duration_s', 0):.2f}s"
    )


def history(
    out: Path = typer.Option(DEFAULT_OUT, "--out", "-o", help="The rebuild's state folder."),
    limit: int = typer.Option(20, "--limit", "-n", min=0, help="Show the last N runs (0 = all)."),
    as_json: bool = typer.Option(False, "--json", help="Print the records as JSON lines."),
) -> None:
    """Show what the scheduled rebuilds did: pins moved, changes, verdict, published tag."""
    with user_errors():
        import json

        from rich.markup import escape
        from rich.table import Table

        from pipelines.history import history_path, read_history

        path = history_path(out)
        if not path.is_file():
            fail(f"{path}: no rebuild history yet (run `corpus rebuild --out {out}`)",
                 ExitCode.BAD_INPUT)  # fmt: skip
        records = read_history(path, limit or None)
        if as_json:
            for rec in records:
                typer.echo(json.dumps(rec, sort_keys=True))
            return
        table = Table(title=f"Rebuild history ({path})", title_justify="left", show_lines=False)
        for col in ("started", "secs", "moved", "changes", "verdict", "published / reason", "exit"):
            table.add_column(col, overflow="fold")
        for rec in records:
            verdict = rec.get("verdict")
            shown = f"{verdict} {rec.get('score')}" if verdict else "-"
            outcome = rec.get("tag") if rec.get("published") else rec.get("reason") or "-"
            code = rec.get("exit_code", "?")
            table.add_row(
                escape(str(rec.get("started_at", "?"))),
                f"{rec.get('duration_s', 0):.1f}",
                escape(", ".join(rec.get("moved", [])) or "-"),
                escape(_changes_text(rec.get("changes", {}))),
                shown,
                escape(str(outcome)),
                f"[red]{code}[/]" if code not in (0, "?") else str(code),
            )
        console.print(table)
        if not records:
            err_console.print("no readable records")
