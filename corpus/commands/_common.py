"""What every command shares: the console, exit codes, and turning known errors into messages."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console

from corpus.errors import BadInputError, CorpusError, ExitCode

__all__ = ["BadInputError", "CorpusError", "ExitCode", "console", "err_console", "fail"]

console = Console(stderr=False, highlight=False)
err_console = Console(stderr=True, highlight=False)


def fail(message: str, code: ExitCode = ExitCode.FAILURE) -> NoReturn:
    """Print ``message`` as an error and exit with ``code``.

    The message is plain text, never markup: paths, extras (`rustdoc-corpus[train]`) and doc
    text contain brackets that Rich would otherwise swallow.
    """
    from rich.text import Text

    # soft_wrap: one line per line of the message, however narrow the terminal (or cron's pipe).
    err_console.print(
        Text.assemble(("error:", "bold red"), " ", message), highlight=False, soft_wrap=True
    )
    raise typer.Exit(int(code))


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn CorpusError into a clean message and exit code; tracebacks only with CORPUS_DEBUG=1."""
    try:
        yield
    except CorpusError as exc:
        if os.environ.get("CORPUS_DEBUG"):
            raise
        fail(str(exc), exc.exit_code)


def existing_paths(paths: list[Path]) -> list[Path]:
    """Every path must exist; otherwise exit 2 naming the missing ones."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        fail(f"no such file or directory: {', '.join(missing)}", ExitCode.BAD_INPUT)
    return paths


def is_interactive() -> bool:
    """True when progress bars make sense (a terminal, not CI)."""
    return sys.stderr.isatty() and not os.environ.get("CI")


@contextmanager
def stage_progress() -> Iterator[Callable[[str, int, int], None]]:
    """A (stage, done, total) callback drawing one bar per stage; silent when not interactive."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=not is_interactive(),
        transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=max(total, 1))
            bar.update(tasks[stage], completed=done if total else 1, total=max(total, 1))

        yield update
