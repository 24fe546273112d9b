"""Syntax: signatures and doc-test code parse as Rust; doc text is clean, normalised Markdown."""

from __future__ import annotations

import re

from falsification.context import SuiteContext
from falsification.docs import fences_balanced, rustdoc_source, split_doc
from falsification.registry import Outcome, check, outcome, ratio_outcome

FN_NODES = frozenset({"function_item", "function_signature_item"})
CODE_BLOCK_THRESHOLD = 0.98
# C0/C1 controls except \t and \n; \r is reported separately; U+FFFD marks a lossy decode.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffd]")
_MARKER = re.compile(r"^\s*(///|//!|/\*\*|/\*!|\*/)")
_GUTTER = re.compile(r"^\s*\*( |$)")


def _wrappings(sig: str) -> tuple[str, ...]:
    # A signature alone is not an item: give it a body, or put it where `;` / self are legal.
    return (
        f"{sig} {{}}\n",
        f"trait __T {{ {sig}; }}\n",
        f"impl __T {{ {sig} {{}} }}\n",
        f'extern "C" {{ {sig}; }}\n',
    )


def _parses_as_fn(code: str) -> bool:
    from corpus.extract.parser import parse

    root = parse(code.encode("utf-8")).root_node
    if root.has_error:
        return False
    stack = [root]
    while stack:  # tiny trees: a walk is cheap here
        n = stack.pop()
        if n.type in FN_NODES:
            return True
        stack.extend(n.named_children)
    return False


def signature_parses(sig: str) -> bool:
    """True when ``sig`` parses as a Rust fn item in some legal wrapping, with no ERROR."""
    return any(_parses_as_fn(w) for w in _wrappings(sig))


@check(
    "syntax.signatures_parse",
    points=5,
    hypothesis="Every signature parses as a Rust fn with tree-sitter (with a body, or as a "
    "trait / impl / extern member) with no ERROR or MISSING node.",
)
def signatures_parse(ctx: SuiteContext) -> Outcome:
    bad = [r["id"] for r in ctx.records if not signature_parses(r["signature"])]
    return outcome(not bad, f"{len(bad)}/{len(ctx.records)} signatures do not parse", bad)


@check(
    "syntax.doc_code_blocks_parse",
    points=4,
    hypothesis=f"At least {CODE_BLOCK_THRESHOLD:.0%} of the Rust code blocks rustdoc would "
    "compile (fence with no language or `rust`; not ignore / compile_fail / other languages; "
    "hidden `# ` lines included; wrapped in fn main) parse without ERROR.",
)
def doc_code_blocks_parse(ctx: SuiteContext) -> Outcome:
    from corpus.extract.parser import parse

    total, ok, bad = 0, 0, []
    for r in ctx.documented:
        for block in split_doc(r["doc"])[1]:
            if not block.must_parse:
                continue
            total += 1
            if parse(rustdoc_source(block.text).encode("utf-8")).root_node.has_error:
                bad.append(r["id"])
            else:
                ok += 1
    return ratio_outcome(ok, total, CODE_BLOCK_THRESHOLD, "doc-test blocks parse", bad)


@check(
    "syntax.doc_text_clean",
    points=3,
    hypothesis="Every doc is valid UTF-8 text with no control characters, no \\r, no U+FFFD, "
    "and balanced code fences.",
)
def doc_text_clean(ctx: SuiteContext) -> Outcome:
    kinds: dict[str, list[str]] = {"control": [], "cr": [], "utf8": [], "fence": []}
    for r in ctx.documented:
        doc = r["doc"]
        try:
            doc.encode("utf-8")  # lone surrogates cannot be encoded
        except UnicodeEncodeError:
            kinds["utf8"].append(r["id"])
            continue
        if "\r" in doc:
            kinds["cr"].append(r["id"])
        if _CONTROL.search(doc.replace("\r", "")):
            kinds["control"].append(r["id"])
        if not fences_balanced(doc):
            kinds["fence"].append(r["id"])
    bad = [i for v in kinds.values() for i in v]
    ev = ", ".join(f"{k}: {len(v)}" for k, v in kinds.items())
    return outcome(not bad, f"{len(set(bad))}/{len(ctx.documented)} dirty docs ({ev})", bad)


def leftover_markers(doc: str) -> bool:
    """True when normalisation left comment syntax in the prose of ``doc``."""
    prose, _ = split_doc(doc)
    if any(_MARKER.match(line) for line in prose):
        return True
    body = [line for line in prose if line.strip()]
    # A ` * ` gutter on every prose line is a block comment that was not un-guttered.
    return len(body) >= 2 and all(_GUTTER.match(line) for line in body)


@check(
    "syntax.no_comment_markers",
    points=3,
    hypothesis="No doc keeps comment syntax after normalisation: no prose line starts with "
    "///, //!, /**, /*! or */, and no doc has a ` * ` gutter on every line.",
)
def no_comment_markers(ctx: SuiteContext) -> Outcome:
    bad = [r["id"] for r in ctx.documented if leftover_markers(r["doc"])]
    return outcome(not bad, f"{len(bad)}/{len(ctx.documented)} docs with comment markers", bad)
