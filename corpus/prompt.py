"""THE prompt: how a record becomes the conversation a model is trained on, evaluated with and
asked at inference time. The trainer, `corpus export`, `corpus eval`, `corpus generate` and
`corpus serve` all build their prompts here, so what a model sees never drifts between them.

A conversation is three ChatML turns: the system prompt; the user turn, which asks for the
rustdoc comment of one function and shows it in a ``rust`` code block; the assistant turn, the
doc as ``///`` lines. What the code block shows is the *prompt input*:

- ``signature``: the signature alone (the first release's prompt);
- ``context`` (default): the item's place, then its signature — the module path as a comment,
  then the enclosing ``impl<..> Type<..> where ..`` / ``impl Trait for Type`` / ``trait Name``
  / ``extern "C"`` block around the signature, so every type a doc names from its
  surroundings (``Creates a new `Builder`.``) is in the prompt;
- ``source``: the same, with the whole item instead of the signature; a body longer than the
  token budget is cut from the middle (its first and last lines are kept), never the doc.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from corpus.text import dedent_item

PROMPT_INPUTS = ("signature", "context", "source")
DEFAULT_PROMPT_INPUT = "context"
#: Tokens the item's source may take in a ``source`` prompt before its middle is cut.
DEFAULT_SOURCE_BUDGET = 1024
SYSTEM_PROMPT = (
    "You are an expert Rust programmer. You write idiomatic rustdoc comments: a one-line "
    "summary, then details, and sections such as # Examples, # Errors, # Panics or # Safety "
    "when they apply."
)
INSTRUCTION = "Write the rustdoc comment for this Rust function."
_CONTAINED = ("impl", "trait_impl", "trait", "extern")
#: Counts the tokens of a text (``corpus.tokens.count`` by default).
Counter = Callable[[str], int]


@dataclass(frozen=True)
class PromptSpec:
    """How prompts are built: what the code block shows, the system prompt, the body budget."""

    input: str = DEFAULT_PROMPT_INPUT
    system: str = SYSTEM_PROMPT
    source_budget: int = DEFAULT_SOURCE_BUDGET

    def __post_init__(self) -> None:
        if self.input not in PROMPT_INPUTS:
            from corpus.errors import BadInputError

            raise BadInputError(
                f"prompt_input {self.input!r}: choose one of {', '.join(PROMPT_INPUTS)}"
            )


def split_path(path: str) -> list[str]:
    """``a::<T as B<C>>::f`` -> ``[a, <T as B<C>>, f]``: ``::`` outside angle brackets only."""
    if "<" not in path:  # the common case; same answer as the scan below
        return [p for p in path.split("::") if p]
    return split_nested_path(path)


def split_nested_path(path: str) -> list[str]:
    """``split_path`` by a scan that tracks angle-bracket depth."""
    parts, depth, cur = [], 0, []
    i = 0
    while i < len(path):
        ch = path[i]
        if ch == "<":
            depth += 1
        elif ch == ">" and depth and path[i - 1 : i] != "-":
            depth -= 1
        if depth == 0 and path.startswith("::", i):
            parts.append("".join(cur))
            cur = []
            i += 2
            continue
        cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return [p for p in parts if p]


def module_of(record: dict[str, Any]) -> str:
    """The module the item is defined in: its path without its own name and its container."""
    parts = split_path(
        record.get("public_path") or record.get("def_path") or record["qualified_path"]
    )
    drop = 2 if record.get("container_kind") in ("impl", "trait_impl", "trait") else 1
    return "::".join(parts[:-drop]) if len(parts) > drop else ""


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" if line else "" for line in text.split("\n"))


def truncate_middle(text: str, budget: int, count: Counter) -> str:
    """``text`` if it fits ``budget`` tokens, else its first and last lines around a marker."""
    if count(text) <= budget:
        return text
    lines = text.split("\n")
    lo, hi = 0, len(lines) // 2  # how many lines to keep at each end
    best = None
    while lo <= hi:
        k = (lo + hi) // 2
        cut = len(lines) - 2 * k
        candidate = "\n".join([*lines[:k], f"    // ... {cut} lines elided ...", *lines[-k:]])
        if k == 0:
            candidate = f"// ... {len(lines)} lines elided ..."
        if count(candidate) <= budget:
            best, lo = candidate, k + 1
        else:
            hi = k - 1
    return best if best is not None else f"// ... {len(lines)} lines elided ..."


def code_block(record: dict[str, Any], spec: PromptSpec, count: Counter | None = None) -> str:
    """What the user turn's ``rust`` block shows for ``record`` (see the module docstring)."""
    if spec.input == "signature":
        return record["signature"]
    if spec.input == "source":
        from corpus.tokens import count_tokens

        body = truncate_middle(
            dedent_item(record["source"]), spec.source_budget, count or count_tokens
        )
    else:
        body = record["signature"] + ";"
    lines = []
    module = module_of(record)
    if module:
        lines.append(f"// {module}")
    header = record.get("container_header")
    if header and record.get("container_kind") in _CONTAINED:
        lines += [f"{header} {{", _indent(body), "}"]
    else:
        lines.append(body)
    return "\n".join(lines)


def user_prompt(code: str) -> str:
    """The user turn around a code block."""
    return f"{INSTRUCTION}\n\n```rust\n{code}\n```"


def doc_as_comment(doc: str) -> str:
    """``"Adds.\\n\\nMore."`` -> ``"/// Adds.\\n///\\n/// More."`` (blank lines become bare ///)."""
    return "\n".join(f"/// {line}".rstrip() for line in doc.strip("\n").split("\n"))


def comment_as_doc(text: str) -> str:
    """Inverse of :func:`doc_as_comment` for generated text: keep the ``///`` lines' content."""
    lines = []
    for line in text.strip().splitlines():
        s = line.strip()
        if not s.startswith("///"):
            continue
        s = s[3:]
        lines.append(s[1:] if s.startswith(" ") else s)
    return "\n".join(lines)


def messages(
    record: dict[str, Any],
    spec: PromptSpec | None = None,
    *,
    with_answer: bool = True,
    count: Counter | None = None,
) -> list[dict[str, str]]:
    """The ChatML conversation of one record (system, user and, with the doc, assistant)."""
    spec = spec or PromptSpec()
    msgs = [
        {"role": "system", "content": spec.system},
        {"role": "user", "content": user_prompt(code_block(record, spec, count))},
    ]
    if with_answer:
        msgs.append({"role": "assistant", "content": doc_as_comment(record["doc"])})
    return msgs


def record_for(
    signature: str,
    *,
    container: str | None = None,
    module: str = "",
    source: str | None = None,
) -> dict[str, Any]:
    """A record-like dict for a function given by hand (``corpus generate --signature``,
    ``/v1/rustdoc``): ``container`` is its ``impl ..`` / ``trait ..`` / ``extern ..`` header."""
    kind = "free"
    if container:
        head = container.strip().split()[0] if container.strip() else ""
        if head.startswith("impl"):
            kind = "trait_impl" if " for " in f" {container} " else "impl"
        elif head == "extern":
            kind = "extern"
        elif "trait" in container.split("<")[0].split():
            kind = "trait"
    name = signature.split("fn", 1)[-1].strip().split("(")[0].split("<")[0].strip() or "f"
    container_seg = "Self" if kind != "free" else ""
    qualified = "::".join(p for p in (module, container_seg, name) if p)
    return {
        "signature": " ".join(signature.split()).rstrip(";").rstrip(),
        "source": source or signature,
        "qualified_path": qualified,
        "container_kind": kind,
        "container_header": " ".join(container.split()) if container else None,
        "doc": "",
    }
