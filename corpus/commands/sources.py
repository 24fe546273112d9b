"""`corpus sources` (list the pins), `corpus sources update` (move them) and `corpus clone`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from corpus.commands._common import (
    PANEL_SOURCES,
    add_command,
    console,
    err_console,
    group_class,
    is_interactive,
    user_errors,
)

if TYPE_CHECKING:
    from rich.table import Table

    from corpus.sources import Source

SOURCES_HELP = "sources.toml to use (default: the one shipped with the package)."


def register(app: typer.Typer) -> None:
    """Add the `sources` group and the `clone` command to ``app``."""
    group = typer.Typer(
        name="sources",
        cls=group_class(),
        help="List the pinned source repositories, or move the pins (`update`).",
        invoke_without_command=True,
        no_args_is_help=False,
        rich_markup_mode="rich",
    )
    group.callback()(sources_list)
    add_command(group, "update", sources_update, PANEL_SOURCES)
    app.add_typer(group, name="sources", rich_help_panel=PANEL_SOURCES)
    add_command(app, "clone", clone, PANEL_SOURCES)
    # The course's name for it: its users type `clone-sources`.
    add_command(app, "clone-sources", clone, PANEL_SOURCES, help="Alias of `corpus clone`.")


def _sources_path(path: Path | None) -> Path:
    from corpus.sources import default_sources_path

    return path if path is not None else default_sources_path()


CACHE_HELP = "Where clones live (default: $XDG_CACHE_HOME/rustdoc-corpus/repos)."


def sources_list(
    ctx: typer.Context,
    sources: Path | None = typer.Option(None, "--sources", metavar="FILE", help=SOURCES_HELP),
    cache_dir: Path | None = typer.Option(
        None, "--cache-dir", envvar="CORPUS_CACHE_DIR", metavar="DIR", help=CACHE_HELP
    ),
) -> None:
    """List the source repositories, their pins, branches and licences: declared, and
    detected at the pin from the clone cache (never fetched here)."""
    ctx.obj = {"sources": sources}
    if ctx.invoked_subcommand is not None:
        return
    with user_errors():
        from corpus.clone import default_cache_dir
        from corpus.sources import load_sources

        path = _sources_path(sources)
        srcs = load_sources(path)
        cache = cache_dir if cache_dir is not None else default_cache_dir()
        found = {s.repo: _detection(s, cache) for s in srcs}
        console.print(_sources_table(path, srcs, found))
        for repo, det in found.items():
            for reason in det.get("reasons", []) if isinstance(det, dict) else []:
                err_console.print(f"[red]{repo}[/]: {_escape(reason)}")
        if all(isinstance(d, str) for d in found.values()):
            console.print(f"Detected licences: nothing cloned at the pins in {cache}.")
        else:
            console.print(f"Detected licences: from the clones in {cache}.")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _detection(src: Source, cache: Path) -> dict | str:
    """The licence detection of ``src`` at its pin from the cache, or why there is none."""
    from corpus.clone import repo_dir

    clone = repo_dir(cache, src.repo)
    if not clone.exists():
        return "not cloned"  # no import of the detector at all
    from corpus.licenses import detect_cached

    return detect_cached(clone, src.commit, src.license)


def _verdict(det: dict | str) -> str:
    if isinstance(det, str):
        return f"[dim]{_escape(det)}[/]"
    if det["ok"]:
        return det["status"]
    return f"[red]{det['status'].upper()}[/]"


def _sources_table(path: Path, srcs: list[Source], found: dict[str, dict | str]) -> Table:
    from rich.table import Table

    # The URL column only when some URL is not the plain GitHub one (keeps 80 columns).
    show_url = any(s.url != f"https://github.com/{s.repo}.git" for s in srcs)
    # Detected and verdict only when something is cloned (nothing cloned keeps 80 columns).
    show_found = any(isinstance(d, dict) for d in found.values())
    cols = ["repo", "commit", "branch", "declared"] + (["detected", "verdict"] * show_found)
    table = Table(title=f"Sources ({path})", title_justify="left")
    for col in cols + (["url"] if show_url else []):
        table.add_column(col, overflow="fold")
    for s in srcs:
        det = found[s.repo]
        detected = (det.get("detected") or "none") if isinstance(det, dict) else "-"
        extra = [_escape(detected), _verdict(det)] if show_found else []
        table.add_row(s.repo, s.commit[:12], s.branch, s.license, *extra,
                      *([s.url] if show_url else []))  # fmt: skip
    return table


def sources_update(
    ctx: typer.Context,
    sources: Path | None = typer.Option(None, "--sources", metavar="FILE", help=SOURCES_HELP),
    only: list[str] = typer.Option(
        [], "--only", metavar="REPO", help="Update only this repo (owner/name or name); repeatable."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the new pins; write nothing."),
    retries: int = typer.Option(
        3, "--retries", min=0, metavar="N", help="Retries of a failing ls-remote."
    ),
) -> None:
    """Move each pin to the newest commit of its branch (`git ls-remote`) and rewrite the file."""
    if sources is None and ctx.obj:
        sources = ctx.obj.get("sources")
    with user_errors():
        from rich.markup import escape
        from rich.table import Table

        from corpus.clone import CloneEvent, branch_tip
        from corpus.sources import load_sources, select_sources, update_pins, write_sources

        path = _sources_path(sources)
        srcs = load_sources(path)
        chosen = {s.repo for s in select_sources(srcs, only)}
        todo = [s for s in srcs if s.repo in chosen]

        def progress(ev: CloneEvent) -> None:
            err_console.print(f"[yellow]{escape(ev.repo)}[/]: {escape(ev.message)}")

        new, report = update_pins(todo, lambda s: branch_tip(s, retries=retries, progress=progress))
        by_repo = {s.repo: s for s in new}
        merged = [by_repo.get(s.repo, s) for s in srcs]
        table = Table(title=f"Pins ({path})", title_justify="left")
        for col in ("repo", "branch", "old", "new", ""):
            table.add_column(col, no_wrap=True)
        for r in report:
            table.add_row(
                r.repo,
                r.branch,
                r.old[:12],
                r.new[:12],
                "[yellow]moved[/]" if r.changed else "[dim]unchanged[/]",
            )
        console.print(table)
        moved = sum(r.changed for r in report)
        if dry_run:
            console.print(f"{moved} pin(s) would move; --dry-run: {path} not written.")
        elif moved:
            write_sources(path, merged)
            console.print(f"{moved} pin(s) moved; wrote {path}.")
        else:
            console.print("All pins are at their branch tips; nothing written.")


def clone(
    sources: Path | None = typer.Option(None, "--sources", metavar="FILE", help=SOURCES_HELP),
    cache_dir: Path | None = typer.Option(
        None,
        "--cache-dir",
        metavar="DIR",
        envvar="CORPUS_CACHE_DIR",
        help="Where clones live (default: $XDG_CACHE_HOME/rustdoc-corpus/repos).",
    ),
    only: list[str] = typer.Option(
        [], "--only", metavar="REPO", help="Clone only this repo (owner/name or name); repeatable."
    ),
    retries: int = typer.Option(
        3, "--retries", min=0, metavar="N", help="Retries of a transient network failure."
    ),
) -> None:
    """Fetch each source at exactly its pinned commit into the cache (no-op when present)."""
    with user_errors():
        from rich.markup import escape
        from rich.table import Table

        from corpus.clone import CloneError, CloneEvent, EventKind, clone_all, default_cache_dir
        from corpus.sources import load_sources, select_sources

        srcs = select_sources(load_sources(_sources_path(sources)), only)
        cache = cache_dir if cache_dir is not None else default_cache_dir()
        verbose = is_interactive()

        def progress(ev: CloneEvent) -> None:
            if ev.kind is EventKind.START and verbose:
                err_console.print(f"[{ev.index + 1}/{ev.total}] {ev.repo} …")
            elif ev.kind in (EventKind.RETRY, EventKind.FALLBACK):
                err_console.print(f"[yellow]{escape(ev.repo)}[/]: {escape(ev.message)}")

        failure = None
        try:
            results = clone_all(srcs, cache, retries=retries, progress=progress)
        except CloneError as exc:
            failure = exc
            results = exc.results
        table = Table(title=f"Clones ({cache})", title_justify="left")
        for col in ("repo", "commit", "status", "seconds"):
            table.add_column(col, no_wrap=True, justify="right" if col == "seconds" else "left")
        for r in results:
            status = f"fetched ({r.method})" if r.fetched else "cached"
            table.add_row(r.repo, r.commit[:12], status, f"{r.seconds:.2f}")
        for f in failure.failures if failure else []:
            table.add_row(f.repo, "", "[red]FAILED[/]", f"{f.seconds:.2f}")
        console.print(table)
        if failure:
            raise failure
