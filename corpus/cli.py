"""The `corpus` command: wires one command group per module in corpus/commands (thin)."""

from __future__ import annotations

import importlib

import typer

from corpus import __version__

app = typer.Typer(
    name="corpus",
    help="Build, falsify, publish, browse and train on a corpus of Rust doc comments.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Each module defines `register(app)`; they import nothing heavy at module level.
_COMMAND_MODULES = (
    "corpus.commands.sources",
    "corpus.commands.extract",
    "corpus.commands.falsify",
    "corpus.commands.build",
    "corpus.commands.publish",
    "corpus.commands.tui",
    "corpus.commands.rebuild",
    "corpus.commands.train",
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
