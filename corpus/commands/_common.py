"""What every command shares: the console, exit codes, and turning known errors into messages."""

from __future__ import annotations

import functools
import os
import re
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
#: Into a pipe or a file (cron, CI) every message is one line however long: soft wrap.
err_console = Console(stderr=True, highlight=False, soft_wrap=not sys.stderr.isatty())


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
            # The traceback, then the same line and exit code as without: scripts that
            # branch on the code must not change behaviour when someone debugs them.
            import traceback

            traceback.print_exc(file=sys.stderr)
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


# -- help: command groups, and metavars that read as words ------------------------------------

#: The panels `corpus --help` groups its commands in, in order.
PANEL_SOURCES = "Get the sources"
PANEL_BUILD = "Build the corpus"
PANEL_CHECK = "Check and inspect"
PANEL_PUBLISH = "Publish"
PANEL_TRAIN = "Train"
PANEL_USE = "Use the model"


def _quiet_flags(params: list[Any]) -> None:
    """Flags take no value: their metavar is empty (Typer would print ``<bool>``)."""
    for param in params:
        if getattr(param, "is_flag", False) and getattr(param, "metavar", None) is None:
            param.metavar = ""


def _plain_arguments(params: list[Any]) -> None:
    """An argument with a metavar (``PATH...``) says what it takes: no ``<list[Path]>`` beside."""
    for param in params:
        if getattr(param, "param_type_name", "") == "argument" and param.metavar:
            param.display_type_rich = lambda ctx: None


def _usage_piece(param: Any) -> str:
    name = param.metavar or param.name.upper()
    name += "..." if param.nargs != 1 and not name.endswith("...") else ""
    return name if param.required else f"[{name}]"


_KEEP_BREAK = re.compile(r"^(\s|[-*] |\d+[.)] |\|)")


def reflow(text: str | None) -> str | None:
    """A docstring's paragraphs as single lines, so help wraps at the terminal's width, not
    the source's (Typer's rich mode keeps every line break). List items, indented lines and
    table rows keep their own lines."""
    if not text:
        return text
    paragraphs = []
    for para in text.split("\n\n"):
        lines: list[str] = []
        for line in para.split("\n"):
            if lines and line.strip() and not _KEEP_BREAK.match(line):
                lines[-1] = f"{lines[-1].rstrip()} {line.strip()}"
            else:
                lines.append(line)
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def _help_class(base: type) -> type:
    """``base`` (Typer's command or group class) with flags that show no metavar, the help
    option included, and arguments written ``PATH...`` / ``[DATASET]`` in the usage line."""

    class Command(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.help = reflow(self.help)
            _quiet_flags(self.params)
            _plain_arguments(self.params)

        def get_help_option(self, ctx: Any) -> Any:
            option = super().get_help_option(ctx)
            if option is not None:
                _quiet_flags([option])
            return option

        def collect_usage_pieces(self, ctx: Any) -> list[str]:
            pieces = [self.options_metavar] if self.options_metavar else []
            for param in self.get_params(ctx):
                if getattr(param, "param_type_name", "") == "argument":
                    pieces.append(_usage_piece(param))
            if hasattr(self, "commands"):
                pieces.append(self.subcommand_metavar)
            return pieces

    Command.__name__ = f"Corpus{base.__name__}"
    return Command


@functools.cache
def command_class() -> type:
    """The class every `corpus` command is made with (pass as ``cls=``)."""
    from typer.core import TyperCommand

    return _help_class(TyperCommand)


@functools.cache
def group_class() -> type:
    """The class every `corpus` command group is made with (pass as ``cls=``)."""
    from typer.core import TyperGroup

    class Group(_help_class(TyperGroup)):  # type: ignore[misc]
        def main(
            self,
            args: Any = None,
            prog_name: str | None = None,
            complete_var: str | None = None,
            standalone_mode: bool = True,
            windows_expand_args: bool = True,
            **extra: Any,
        ) -> Any:
            # A usage error into a pipe (cron, CI) is click's plain lines, not a panel drawn
            # 80 columns wide that splits an option's name; help keeps its panels.
            from typer import core

            plain = getattr(core, "_main", None)  # Typer's private loop: absent, keep its own
            if sys.stderr.isatty() or plain is None:
                return super().main(args, prog_name, complete_var, standalone_mode,
                                    windows_expand_args, **extra)  # fmt: skip
            return plain(
                self,
                args=args,
                prog_name=prog_name,
                complete_var=complete_var,
                standalone_mode=standalone_mode,
                windows_expand_args=windows_expand_args,
                rich_markup_mode=None,
                **extra,
            )

    return Group


def add_command(app: typer.Typer, name: str, fn: Callable[..., Any], panel: str, **kw: Any) -> None:
    """Register ``fn`` as ``corpus <name>`` in help panel ``panel``."""
    app.command(name, cls=command_class(), rich_help_panel=panel, **kw)(fn)
