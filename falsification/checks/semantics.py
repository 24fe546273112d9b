"""Semantics: docs say true things about their signature. Real code is not perfect, so each
check states its threshold in its hypothesis and lists the offenders.
"""

from __future__ import annotations

import re

from falsification.context import SuiteContext
from falsification.docs import section_text, sections, split_doc, summary
from falsification.registry import Outcome, check, ratio_outcome

THRESHOLD = 0.98
EXAMPLES_THRESHOLD = 0.95

_IDENT = re.compile(r"(?:r#)?([A-Za-z_][A-Za-z0-9_]*)")
# `* `name` - text`, `- name: text`, `* `name` (type)`: a documented argument.
_ARG_ITEM = re.compile(r"^\s*[*+-]\s+`?(?:r#)?([A-Za-z_][A-Za-z0-9_]*)`?\s*(?:[-:—–(]|$)")
INFALLIBLE = frozenset(
    "() ! bool char str &str &'staticstr String usize isize u8 u16 u32 u64 u128 i8 i16 i32 "
    "i64 i128 f32 f64".split()
)
_TODO = re.compile(r"\b(TODO|FIXME|XXX|TBD)\b", re.IGNORECASE)
_INLINE_CODE = re.compile(r"`[^`]*`")
_URL = re.compile(r"https?://\S+|\[[^\]]*\]\([^)]*\)")
_WORD = re.compile(r"[^\W\d_]+")
STOPWORDS = frozenset(
    "the a an is are be of to and or in on for from with by as at this that it its if when "
    "returns return will not no can may must should all any each which".split()
)


def param_names(params: list[str]) -> set[str]:
    """Identifiers bound by the parameter patterns (``mut x: T``, ``(a, b): ..``, ``&self``)."""
    names: set[str] = set()
    for p in params:
        pat = p.split(":", 1)[0]  # the pattern; `&'a mut self` has no colon and stays whole
        names.update(m.group(1) for m in _IDENT.finditer(pat))
    return names - {"mut", "ref"}


def documented_args(doc: str) -> list[str]:
    """Argument names listed under ``# Arguments`` (empty when there is no such section)."""
    text = section_text(doc, "Arguments")
    if text is None:
        return []
    return [m.group(1) for line in text.split("\n") if (m := _ARG_ITEM.match(line))]


@check(
    "semantics.arguments_exist",
    points=3,
    hypothesis=f"In at least {THRESHOLD:.0%} of docs with an `# Arguments` list, every listed "
    "name is a parameter of the signature.",
)
def arguments_exist(ctx: SuiteContext) -> Outcome:
    total, bad = 0, []
    for r in ctx.documented:
        args = documented_args(r["doc"])
        if not args:
            continue
        total += 1
        if not set(args) <= param_names(r["params"]):
            bad.append(r["id"])
    return ratio_outcome(total - len(bad), total, THRESHOLD, "argument lists match", bad)


@check(
    "semantics.unsafe_has_safety",
    # 3 -> 2 for provenance.paths_resolve: the build already drops pub unsafe fns without a
    # `# Safety` section (missing_safety_doc), so this re-checks a filter
    points=2,
    hypothesis=f"At least {THRESHOLD:.0%} of documented `pub unsafe fn`s have a `# Safety` "
    "section.",
)
def unsafe_has_safety(ctx: SuiteContext) -> Outcome:
    subject = [r for r in ctx.documented if r["is_unsafe"] and r["visibility"] == "pub"]
    bad = [r["id"] for r in subject if "Safety" not in sections(r["doc"])]
    return ratio_outcome(len(subject) - len(bad), len(subject), THRESHOLD, "have # Safety", bad)


def can_fail(rec: dict) -> bool:
    """The return type could carry a failure: anything but (), !, bool, char, a number or a
    string. (A named type may be a Result alias or a future resolving to one: tokio's
    ``read_u8() -> ReadU8`` is fallible, so only the certainly-infallible types refute.)"""
    ret = (rec["return_type"] or "()").replace(" ", "")
    return ret not in INFALLIBLE


@check(
    "semantics.errors_fallible",
    points=2,
    hypothesis=f"At least {THRESHOLD:.0%} of docs with an `# Errors` section belong to a fn "
    "whose return type can carry a failure (not (), !, bool, char, a number or a string).",
)
def errors_fallible(ctx: SuiteContext) -> Outcome:
    subject = [r for r in ctx.documented if "Errors" in sections(r["doc"])]
    bad = [r["id"] for r in subject if not can_fail(r)]
    return ratio_outcome(
        len(subject) - len(bad), len(subject), THRESHOLD, "# Errors on fallible fns", bad
    )


def summary_meaningless(name: str, doc: str) -> bool:
    """Empty, only the fn name, or a TODO/FIXME placeholder."""
    s = summary(doc)
    bare = re.sub(r"[`*_.:()\[\]!\s]", "", s).lower()
    return not bare or bare == name.replace("_", "").lower() or bool(_TODO.search(s))


@check(
    "semantics.summary_meaningful",
    points=3,
    hypothesis=f"At least {THRESHOLD:.0%} of summaries are not empty, not just the fn name "
    "and not a TODO/FIXME/XXX placeholder.",
)
def summary_meaningful(ctx: SuiteContext) -> Outcome:
    bad = [r["id"] for r in ctx.documented if summary_meaningless(r["name"], r["doc"])]
    n = len(ctx.documented)
    return ratio_outcome(n - len(bad), n, THRESHOLD, "meaningful summaries", bad)


def looks_english(doc: str) -> bool:
    """Prose is Latin-script and, when long enough, uses common English function words."""
    prose = "\n".join(split_doc(doc)[0])
    prose = _URL.sub(" ", _INLINE_CODE.sub(" ", prose))
    words = _WORD.findall(prose)
    letters = "".join(words)
    if not letters:
        return True  # nothing but code and links: no language to judge
    if sum(c.isascii() for c in letters) / len(letters) < 0.9:
        return False
    return len(words) < 8 or any(w.lower() in STOPWORDS for w in words)


@check(
    "semantics.english",
    points=2,
    hypothesis=f"At least {THRESHOLD:.0%} of docs are English (≥ 90% ASCII letters in prose, "
    "and English function words in any doc of 8+ words).",
)
def english(ctx: SuiteContext) -> Outcome:
    bad = [r["id"] for r in ctx.documented if not looks_english(r["doc"])]
    n = len(ctx.documented)
    return ratio_outcome(n - len(bad), n, THRESHOLD, "English docs", bad)


def example_mentions(rec: dict) -> bool:
    """A code block of the doc names the fn (or, for a trait impl, its self type)."""
    code = "\n".join(b.text for b in split_doc(rec["doc"])[1])
    names = [rec["name"]]
    if rec["container_kind"] == "trait_impl" and rec["self_type"]:
        m = _IDENT.match(rec["self_type"].lstrip("&*( "))
        if m:
            names.append(m.group(1))
    return any(re.search(rf"\b{re.escape(n)}\b", code) for n in names)


@check(
    "semantics.examples_mention_item",
    points=2,
    hypothesis=f"At least {EXAMPLES_THRESHOLD:.0%} of docs with an `# Examples` section have "
    "example code naming the item (its name; for a trait impl, its self type).",
)
def examples_mention_item(ctx: SuiteContext) -> Outcome:
    subject = [r for r in ctx.documented if "Examples" in sections(r["doc"])]
    bad = [r["id"] for r in subject if not example_mentions(r)]
    return ratio_outcome(
        len(subject) - len(bad), len(subject), EXAMPLES_THRESHOLD, "examples name the item", bad
    )
