"""Named adapters on the command line: ``--adapter NAME=DIR`` (repeatable), or a bare ``DIR``."""

from __future__ import annotations

from pathlib import Path

from corpus.commands._common import ExitCode, fail


def default_name(path: Path) -> str:
    """A run's adapter folder ``runs/small/adapter`` is named ``small``; any other folder by
    its own name."""
    p = Path(path)
    name = p.parent.name if p.name == "adapter" and p.parent.name else p.name
    return "".join(c if c.isalnum() or c in "_-" else "-" for c in name).lstrip("_-") or "a"


def parse_adapters(specs: list[str]) -> dict[str, Path]:
    """``["a=runs/a/adapter", "runs/b/adapter"]`` -> ``{"a": ..., "b": ...}``; every folder
    must exist and every name be unique (exit 2 otherwise)."""
    out: dict[str, Path] = {}
    for spec in specs or []:
        name, sep, rest = spec.partition("=")
        if sep and name and "/" not in name and rest:
            path = Path(rest)
        else:
            path, name = Path(spec), default_name(Path(spec))
        if name in out:
            fail(f"--adapter: the name {name!r} is given twice; use NAME=DIR", ExitCode.BAD_INPUT)
        if not path.is_dir():
            fail(f"no such adapter folder: {path}", ExitCode.BAD_INPUT)
        out[name] = path
    return out
