"""`corpus generate`: write rustdoc comments with trained adapters — for one signature, one
function of a file, or every undocumented function of a file or tree (``--fill``).

Only typer/rich at module level; the model stack is imported when a command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from corpus.commands._adapters import parse_adapters
from corpus.commands._common import (
    PANEL_USE,
    ExitCode,
    add_command,
    console,
    err_console,
    fail,
    user_errors,
)


def register(app: typer.Typer) -> None:
    """Add the generate command to ``app``."""
    add_command(app, "generate", generate, PANEL_USE)


def _check_mode(
    signature: str | None,
    file: Path | None,
    fn: str | None,
    fill: Path | None,
    only_pub: bool,
    write: bool,
) -> None:
    """Exactly one of --signature, --file/--fn, --fill; their companions only with them."""
    if sum(x is not None for x in (signature, file, fill)) != 1:
        fail(
            "give exactly one of --signature TEXT, --file F --fn NAME, or --fill PATH",
            ExitCode.BAD_INPUT,
        )
    if file is not None and not fn:
        fail("--file needs --fn NAME", ExitCode.BAD_INPUT)
    if fn and file is None:
        fail("--fn goes with --file", ExitCode.BAD_INPUT)
    if file is not None and not file.is_file():
        fail(f"no such file: {file}", ExitCode.BAD_INPUT)
    if fill is not None and not fill.exists():
        fail(f"no such file or directory: {fill}", ExitCode.BAD_INPUT)
    if (only_pub or write) and fill is None:
        fail("--only-pub and --write go with --fill PATH", ExitCode.BAD_INPUT)


def _names(adapters: dict[str, Path], model: str | None, with_base: bool) -> list[str | None]:
    """Which models answer: every adapter, plus the base alone (None) when asked or when
    there is no adapter."""
    if not adapters and not model:
        fail(
            "give --adapter [NAME=]DIR (repeatable), or --model BASE to run the base alone",
            ExitCode.BAD_INPUT,
        )
    names: list[str | None] = list(adapters)
    if with_base or not adapters:
        names.insert(0, None)
    return names


_ADAPTER = typer.Option(
    [],
    "--adapter",
    "-a",
    metavar="NAME=DIR",
    help="Adapter folder, optionally named: NAME=RUN/adapter (repeatable; one base).",
)

_SIGNATURE = typer.Option(
    None, "--signature", "-s", metavar="TEXT", help="A Rust function signature."
)

_IMPL = typer.Option(
    None,
    "--impl",
    metavar="HEADER",
    help='With --signature: the enclosing block\'s header, e.g. "impl<T> Foo<T>" or '
    '"impl Display for Foo" (the context the prompt shows).',
)

_FILL = typer.Option(
    None,
    "--fill",
    metavar="PATH",
    help="Document every undocumented fn of this .rs file or tree.",
)

_WRITE = typer.Option(
    False, "--write", help="With --fill: rewrite the files instead of printing a diff."
)

_MODEL = typer.Option(
    None, "--model", "-m", metavar="MODEL", help="Base model (default: the adapters')."
)

_BITS = typer.Option(
    None,
    "--bits",
    metavar="4|16",
    help="Load the base in 4 or 16 bits (default: as the adapters trained).",
)

_MAX_NEW_TOKENS = typer.Option(256, "--max-new-tokens", metavar="N", help="Generation budget.")


def generate(
    adapter: list[str] = _ADAPTER,
    signature: str = _SIGNATURE,
    file: Path = typer.Option(None, "--file", "-f", metavar="FILE", help="A Rust source file."),
    fn: str = typer.Option(None, "--fn", metavar="NAME", help="Name of the function in --file."),
    impl: str = _IMPL,
    fill: Path = _FILL,
    only_pub: bool = typer.Option(False, "--only-pub", help="With --fill: only `pub` fns."),
    write: bool = _WRITE,
    with_base: bool = typer.Option(False, "--base", help="Also answer with the base alone."),
    model: str = _MODEL,
    bits: int = _BITS,
    max_new_tokens: int = _MAX_NEW_TOKENS,
    device: str = typer.Option("auto", "--device", metavar="DEVICE", help="auto, cpu or cuda."),
) -> None:
    """Write rustdoc comments with trained adapters (or the base alone), with the exact
    prompt each adapter was trained on."""
    from corpus.commands.train import require_modules

    _check_mode(signature, file, fn, fill, only_pub, write)
    adapters = parse_adapters(adapter)
    names = _names(adapters, model, with_base)
    if fill is not None and len(names) != 1:
        fail(
            "--fill writes one doc per function: give one --adapter (or --model alone)",
            ExitCode.BAD_INPUT,
        )
    require_modules()
    with user_errors():
        from pipelines.train.inference import load_engine

        engine = load_engine(adapters, base=model, bits=bits, device=device)
        if fill is not None:
            _fill(engine, names[0], fill, only_pub, write, max_new_tokens)
            return
        _one(engine, names, signature, impl, file, fn, max_new_tokens)


def _one(
    engine: Any,
    names: list[str | None],
    signature: str | None,
    impl: str | None,
    file: Path | None,
    fn: str | None,
    max_new_tokens: int,
) -> None:
    """One function's doc from every model asked, each under a header when there are several."""
    from pipelines.train.generate import doc_block, find_function, function_record

    if file is not None:
        rec = find_function(file, fn or "")
    else:
        rec = function_record(signature or "", container=impl)
    for name in names:
        out = engine.generate([rec], adapter=name, max_new_tokens=max_new_tokens)[0]
        if len(names) > 1:
            console.print(f"== {name or 'base'} ==", markup=False, highlight=False)
        console.print(doc_block(out), markup=False, highlight=False)


def _fill(
    engine: Any, name: str | None, path: Path, only_pub: bool, write: bool, max_new_tokens: int
) -> None:
    """Docs for every undocumented fn under ``path``: a unified diff, or the files rewritten."""
    from pipelines.train.fill import fill_paths, unified_diff, write_in_place

    def writer(records: list[dict]) -> list[str]:
        return engine.generate(records, adapter=name, max_new_tokens=max_new_tokens)

    fills = fill_paths(path, writer, only_pub=only_pub)
    n = 0
    for f in fills:
        for fn_name, why in f.skipped:
            err_console.print(f"{f.label}: skipped {fn_name}: {why}", markup=False)
        if not f.edits:
            continue
        n += len(f.edits)
        if write:
            write_in_place(f)
        else:
            typer.echo(unified_diff(f), nl=False)
    verb = "wrote" if write else "proposed"
    err_console.print(
        f"{verb} {n} doc(s) in {sum(bool(f.edits) for f in fills)} file(s)", markup=False
    )
