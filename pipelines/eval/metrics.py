"""Every metric of `corpus eval`, each a pure function of (raw output, record, context).

A generation is scored as generated. The raw output is what the system returned;
``corpus.prompt.comment_as_doc`` keeps the content of its ``///`` lines (the *generated doc*)
for the text metrics, while format validity looks at the raw output itself. Prose that is not
a doc is never re-wrapped into ``///``: it has no doc lines, so its generated doc is empty and
it scores 0 (or "invalid") wherever that is the honest answer.

The reference is the record's ``doc``; a *summary* is rustdoc's first paragraph with its
whitespace collapsed (``falsification.docs.summary``), of the reference and of the generated
doc alike. Exact definitions are in :data:`METRICS` (also written into eval.json and README).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from corpus.prompt import PromptSpec, code_block, comment_as_doc
from falsification.docs import sections, split_doc, summary
from pipelines.eval.bleu import sentence_bleu


@dataclass(frozen=True)
class Metric:
    """A metric's name, what "better" means, whether it is defined for every example, and its
    exact definition (one sentence, shown in reports)."""

    name: str
    better: str  # "higher", "lower" or "one" (closest to 1)
    always: bool  # defined for every example (may be a primary metric)
    definition: str


SECTIONS = ("Examples", "Errors", "Panics", "Safety", "Arguments")
METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric(
            "rouge_l_doc",
            "higher",
            True,
            "ROUGE-L F1 x 100 of the generated doc against the reference doc (rouge-score "
            "0.1.2, rougeL, its default tokenizer: lower-cased [a-z0-9]+ tokens, no stemmer).",
        ),
        Metric(
            "chrf_doc",
            "higher",
            True,
            "chrF x 100 of the generated doc against the reference doc (sacrebleu "
            "sentence_chrf: character 6-grams, beta 2, whitespace ignored, case-sensitive).",
        ),
        Metric(
            "rouge_l_summary",
            "higher",
            True,
            "ROUGE-L F1 x 100 (as rouge_l_doc) of the "
            "generated summary against the reference summary (first paragraphs).",
        ),
        Metric(
            "chrf_summary",
            "higher",
            True,
            "chrF x 100 (as chrf_doc) of the generated summary against the reference summary.",
        ),
        Metric(
            "bleu_summary",
            "higher",
            True,
            "CodeXGLUE code-to-text smoothed sentence BLEU-4 x 100 of the generated summary "
            "against the reference summary (pipelines/eval/bleu.py states it exactly).",
        ),
        Metric(
            "section_f1",
            "higher",
            True,
            "F1 between the sets of sections (# Examples, Errors, Panics, Safety, Arguments; "
            "singular/plural headings alike) of the generated and the reference doc; 1 when "
            "both have none, 0 when the generated doc is empty.",
        ),
        Metric(
            "format_valid",
            "higher",
            True,
            "1 if the raw output is a doc comment and nothing else: not blank, every line "
            "starts with /// (not ////), no prose before or after, every code fence closed.",
        ),
        Metric(
            "invented_ids",
            "lower",
            True,
            "Distinct identifiers inside backticks in the generated doc's prose that occur "
            "nowhere in the prompt (context), the item's source, or any other record of the "
            "same repository (source, signature, path, doc); Rust keywords, primitive types "
            "and std prelude names are never counted.",
        ),
        Metric(
            "param_coverage",
            "higher",
            False,
            "Share of the function's named parameters (self excluded, _-prefixed skipped) "
            "whose name occurs as a whole word in the generated doc; undefined without any.",
        ),
        Metric(
            "doctest_parse",
            "higher",
            False,
            "Share of the generated doc's Rust code blocks that rustdoc would compile (no "
            "ignore/compile_fail) which parse with tree-sitter-rust without ERROR (hidden # "
            "lines shown, wrapped in fn main); undefined when the doc has none.",
        ),
        Metric(
            "length_ratio",
            "one",
            True,
            "Words of the generated doc divided by words of the reference doc (whitespace "
            "split; 1 is the reference's length).",
        ),
    )
}

KEYWORDS = frozenset(
    "as async await break const continue crate dyn else enum extern false fn for if impl in "
    "let loop match mod move mut pub ref return self Self static struct super trait true type "
    "unsafe use where while bool char str u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize "
    "f32 f64 std core alloc Option Some None Result Ok Err Vec String Box ToString ToOwned "
    "Clone Copy Send Sync Sized Unpin Drop Fn FnMut FnOnce Iterator IntoIterator "
    "DoubleEndedIterator ExactSizeIterator Extend Default Eq PartialEq Ord PartialOrd Debug "
    "Display From Into TryFrom TryInto AsRef AsMut FromIterator".split()
)
_IDENT = re.compile(r"(?<!\w)(?:r#)?([A-Za-z_]\w*)")
_SPAN = re.compile(r"(`+)(.+?)\1")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_DOC_LINE = re.compile(r"^\s*///(?!/)")


def identifiers(text: str) -> set[str]:
    """Identifier-like words of ``text`` (``r#`` prefixes dropped)."""
    return set(_IDENT.findall(text or ""))


@lru_cache(maxsize=1)
def _rouge() -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)


def rouge_l(hypothesis: str, reference: str) -> float:
    """ROUGE-L F1 x 100 (rouge-score; note its argument order: target first)."""
    return 100.0 * _rouge().score(reference, hypothesis)["rougeL"].fmeasure


def chrf(hypothesis: str, reference: str) -> float:
    """chrF x 100 (sacrebleu's defaults: char 6-grams, beta 2)."""
    import sacrebleu

    return float(sacrebleu.sentence_chrf(hypothesis, [reference]).score)


def format_valid(raw: str) -> bool:
    """The raw output is a doc comment and only that (see ``METRICS["format_valid"]``)."""
    from falsification.docs import fences_balanced

    lines = raw.strip().splitlines()
    if not lines or not all(_DOC_LINE.match(line) for line in lines):
        return False
    doc = comment_as_doc(raw)
    return bool(doc.strip()) and fences_balanced(doc)


def section_f1(generated: str, reference: str) -> float:
    """F1 of the rustdoc sections of two docs (1 when neither has one; 0 for an empty doc)."""
    if not generated.strip():
        return 0.0
    got = sections(generated) & set(SECTIONS)
    want = sections(reference) & set(SECTIONS)
    if not got and not want:
        return 1.0
    return 2 * len(got & want) / (len(got) + len(want))


def param_names(params: Iterable[str] | None) -> list[str]:
    """Named parameters of a signature's ``params`` (``"mut buf: &mut [u8]"`` -> ``buf``);
    receivers, ``_``-prefixed names and patterns are skipped."""
    out = []
    for p in params or []:
        head = p.split(":", 1)[0].strip() if ":" in p else ""
        for prefix in ("mut ", "ref "):
            head = head.removeprefix(prefix).strip()
        head = head.removeprefix("r#")
        if re.fullmatch(r"[A-Za-z]\w*", head) and head != "self":
            out.append(head)
    return out


def param_coverage(generated: str, params: Iterable[str] | None) -> float | None:
    """Share of named parameters mentioned as whole words in ``generated`` (None: no params)."""
    names = param_names(params)
    if not names:
        return None
    hit = sum(1 for n in names if re.search(rf"(?<!\w){re.escape(n)}(?!\w)", generated))
    return hit / len(names)


def doctest_parse(generated: str) -> float | None:
    """Share of compiled Rust blocks of ``generated`` that parse (None: no such block)."""
    from corpus.extract.parser import parse
    from falsification.docs import rustdoc_source

    blocks = [b for b in split_doc(generated)[1] if b.must_parse]
    if not blocks:
        return None
    ok = sum(not parse(rustdoc_source(b.text).encode("utf-8")).root_node.has_error for b in blocks)
    return ok / len(blocks)


def backticked(doc: str) -> set[str]:
    """Identifiers inside inline code spans of ``doc``'s prose (code blocks excluded)."""
    prose = " ".join(split_doc(doc)[0])
    names: set[str] = set()
    for _, span in _SPAN.findall(prose):
        names |= identifiers(_STRING.sub(" ", span))
    return names


def length_ratio(generated: str, reference: str) -> float:
    """Words of ``generated`` over words of ``reference``."""
    return len(generated.split()) / max(1, len(reference.split()))


class KnownNames:
    """Which identifiers a record's doc may name without inventing them: those in the prompt
    (context), its source, and the other records of its repository. Built once per dataset."""

    def __init__(self, records: Iterable[dict[str, Any]]) -> None:
        self._counts: dict[str, Counter[str]] = {}
        for r in records:
            self._counts.setdefault(r["repo"], Counter()).update(self._own(r))

    @staticmethod
    def _own(record: dict[str, Any]) -> set[str]:
        texts = (record.get(k) or "" for k in ("source", "signature", "qualified_path", "doc"))
        return set().union(*(identifiers(t) for t in texts))

    def invented(self, names: set[str], record: dict[str, Any]) -> set[str]:
        """The ``names`` that the record's prompt, source and repository never mention."""
        counts = self._counts.get(record["repo"], Counter())
        own = self._own(record)
        local = identifiers(code_block(record, PromptSpec(input="context"))) | identifiers(
            record.get("source") or ""
        )
        return {
            n for n in names if n not in KEYWORDS and n not in local and counts[n] - (n in own) <= 0
        }


def score(raw: str, record: dict[str, Any], known: KnownNames) -> dict[str, float | None]:
    """Every metric of one raw output against its record (None: undefined for this example)."""
    ref = record["doc"]
    gen = comment_as_doc(raw)
    gen_sum, ref_sum = summary(gen), summary(ref)
    return {
        "rouge_l_doc": rouge_l(gen, ref),
        "chrf_doc": chrf(gen, ref),
        "rouge_l_summary": rouge_l(gen_sum, ref_sum),
        "chrf_summary": chrf(gen_sum, ref_sum),
        "bleu_summary": 100.0 * sentence_bleu(gen_sum, ref_sum),
        "section_f1": section_f1(gen, ref),
        "format_valid": float(format_valid(raw)),
        "invented_ids": float(len(known.invented(backticked(gen), record))),
        "param_coverage": param_coverage(gen, record.get("params")),
        "doctest_parse": doctest_parse(gen),
        "length_ratio": length_ratio(gen, ref),
    }


def is_number(x: float | None) -> bool:
    """A defined, finite score."""
    return x is not None and math.isfinite(x)
