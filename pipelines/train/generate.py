"""One function for `corpus generate`: found in a file, or given by hand; and the ``///``
block of a completion. Generation itself is the inference engine's (`inference.py`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from corpus.errors import BadInputError


def find_function(path: Path, name: str) -> dict[str, Any]:
    """The function ``name`` in a Rust file, as a record-like dict (signature, source).

    Uses the project's extractor when it is importable; otherwise falls back to the parser and
    a lookup of ``function_item`` nodes by name.
    """
    data = Path(path).read_bytes()
    try:
        from corpus.extract import context_for, extract_file_bytes
    except ImportError:
        context_for = extract_file_bytes = None
    if extract_file_bytes is not None and context_for is not None:
        root = Path(path).parent
        ctx = context_for(root, Path(path).name, repo="local/file", commit="0" * 40, license="")
        for rec in extract_file_bytes(data, Path(path).name, ctx).records:
            if rec["name"] == name or rec.get("raw_name") == name:
                return rec
        raise BadInputError(f"{path}: no function named {name!r}")
    return _find_with_parser(data, name, path)


def _find_with_parser(data: bytes, name: str, path: Path) -> dict[str, Any]:
    from corpus.extract.parser import parse

    stack = [parse(data).root_node]
    while stack:
        node = stack.pop()
        if node.type == "function_item":
            ident = node.child_by_field_name("name")
            if ident is not None and ident.text.decode().removeprefix("r#") == name:
                body = node.child_by_field_name("body")
                end = body.start_byte if body is not None else node.end_byte
                sig = data[node.start_byte : end].decode().strip().rstrip(";").strip()
                return {"name": name, "signature": sig, "source": node.text.decode()}
        stack.extend(reversed(node.children))
    raise BadInputError(f"{path}: no function named {name!r}")


def doc_block(completion: str) -> str:
    """The ``///`` block of a completion: its ``///`` lines, or every line made one."""
    text = completion.strip()
    lines = [ln.rstrip() for ln in text.splitlines() if ln.strip().startswith("///")]
    if lines:
        return "\n".join(ln.strip() for ln in lines)
    return "\n".join(f"/// {ln}".rstrip() for ln in text.splitlines())


def function_record(
    signature: str, *, container: str | None = None, module: str = "", source: str | None = None
) -> dict[str, Any]:
    """A record for a function given by hand (``corpus.prompt.record_for``)."""
    from corpus.prompt import record_for

    return record_for(signature, container=container, module=module, source=source)
