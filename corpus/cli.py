"""The `corpus` command: wires one command group per module in corpus/commands (thin)."""

from __future__ import annotations

import importlib

import typer

from corpus import __version__
from corpus.commands._common import group_class

app = typer.Typer(
    name="corpus",
    cls=group_class(),
    help="Build, falsify, publish, browse and train on a corpus of Rust doc comments.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Each module defines `register(app)`; they import nothing heavy at module level. Each command
# names its help panel (corpus.commands._common.PANEL_*); `corpus --help` lists the panels in
# the order their first command is registered.
_COMMAND_MODULES = (
    "corpus.commands.sources",
    "corpus.commands.extract",
    "corpus.commands.build",
    "corpus.commands.rebuild",
    "corpus.commands.validate",
    "corpus.commands.falsify",
    "corpus.commands.stats",
    "corpus.commands.sample",
    "corpus.commands.tui",
    "corpus.commands.publish",
    "corpus.commands.train",
    "corpus.commands.train_methods",
    "corpus.commands.pairs",
    "corpus.commands.export",
    "corpus.commands.eval",
    "corpus.commands.generate",
    "corpus.commands.serve",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"rustdoc-corpus {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Build, falsify, publish, browse and train on a corpus of Rust doc comments."""


for _name in _COMMAND_MODULES:
    try:
        _mod = importlib.import_module(_name)
    except ModuleNotFoundError as exc:  # a command group not written yet
        if exc.name != _name:
            raise
        continue
    _mod.register(app)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
