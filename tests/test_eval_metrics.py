"""Every eval metric against hand-computed values and against the libraries themselves.

CodeXGLUE's BLEU is checked three ways: pairs computed by hand, sacrebleu's add-one BLEU
wherever the two brevity penalties agree (hypothesis at least as long as the reference), and
an oracle written here from the published formula, on Hypothesis-generated token sequences.
"""

from __future__ import annotations

import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.prompt import comment_as_doc, doc_as_comment
from pipelines.eval import bleu, metrics
from tests.records_factory import make_record

VOCAB = ["the", "a", "value", "of", "returns", "read", "x", ".", ",", "(", ")", "foo", "1"]
tokens = st.lists(st.sampled_from(VOCAB), max_size=12)


def oracle_bleu(hyp: list[str], ref: list[str]) -> float:
    """CodeXGLUE's sentence BLEU-4 from its formula (an independent check, not the code)."""
    logb = 0.0
    for k in range(1, 5):
        hc = Counter(tuple(hyp[i : i + k]) for i in range(len(hyp) - k + 1))
        rc = Counter(tuple(ref[i : i + k]) for i in range(len(ref) - k + 1))
        m = sum(min(v, rc[g]) for g, v in hc.items())
        g = max(len(hyp) - k + 1, 0)
        a = 1 if k > 1 else 0
        if m + a == 0:
            return 0.0 if g else math.exp(min(0.0, -len(ref)))  # log(tiny): ~1e-77 in theirs
        logb += math.log(m + a) - math.log(g + a) if g + a else 0.0
    return math.exp(logb / 4 + min(0.0, 1 - (len(ref) + 1) / (len(hyp) + 1)))


# --- CodeXGLUE smoothed BLEU-4 ------------------------------------------------------------


def test_bleu_tokenizer_lowercases_and_splits_underscores_and_punctuation() -> None:
    assert bleu.tokenize("Sets the read_timeout") == ["sets", "the", "read", "_", "timeout"]
    assert bleu.tokenize("SHA-256 -> [u8; 32]") == (
        ["sha", "-", "256", "-", ">", "[", "u8", ";", "32", "]"]
    )


@pytest.mark.parametrize(
    ("hyp", "ref", "want"),
    [
        ("Flushes the output stream.", "Flushes the output stream.", 1.0),
        # p1 = 1/2, p2 = (0+1)/(1+1), p3 = p4 = (0+1)/(0+1); c >= r so BP = 1.
        ("the value", "value", math.sqrt(0.5)),
        # c = 1 < r = 4: every p_k is 1; BP = exp(1 - (4+1)/(1+1)) = exp(-1.5).
        ("Flushes", "Flushes the stream.", math.exp(-1.5)),
        # p1 = 4/5, p2 = 4/5, p3 = 3/4, p4 = 2/3: (8/25) ** (1/4).
        ("a b c d e", "a b c d f", 0.32**0.25),
        # The evaluator's quirk: an empty hypothesis keeps only the brevity penalty, exp(-r).
        ("", "Returns the length.", math.exp(-4)),
        ("abc", "xyz", 0.0),  # no unigram match
    ],
)
def test_bleu_hand_computed(hyp: str, ref: str, want: float) -> None:
    assert bleu.sentence_bleu(hyp, ref) == pytest.approx(want, abs=1e-12)


@settings(max_examples=300, deadline=None)
@given(tokens, tokens.filter(bool))
def test_bleu_is_sacrebleu_add_one_where_brevity_penalties_agree(hyp, ref) -> None:
    from sacrebleu.metrics import BLEU

    ours = bleu.sentence_bleu(" ".join(hyp), " ".join(ref))
    if len(hyp) >= len(ref) and hyp:  # both brevity penalties are 1 here
        lib = BLEU(tokenize="none", smooth_method="add-k", smooth_value=1, effective_order=True)
        want = lib.sentence_score(" ".join(hyp), [" ".join(ref)]).score / 100
        assert ours == pytest.approx(want, abs=1e-12)


@settings(max_examples=300, deadline=None)
@given(tokens, tokens.filter(bool))
def test_bleu_matches_the_published_formula(hyp, ref) -> None:
    ours = bleu.sentence_bleu(" ".join(hyp), " ".join(ref))
    assert ours == pytest.approx(oracle_bleu(hyp, ref), abs=1e-12)


# --- ROUGE-L and chrF ---------------------------------------------------------------------


def test_rouge_l_hand_computed() -> None:
    # LCS 5 of hyp 5 / ref 6 tokens: P = 1, R = 5/6, F = 10/11.
    assert metrics.rouge_l("the cat on the mat", "the cat sat on the mat") == pytest.approx(
        100 * 10 / 11
    )
    assert metrics.rouge_l("", "anything") == 0.0


def test_chrf_hand_computed() -> None:
    # n=1: P 2/2, R 2/3; n=2: P 1/1, R 1/2; no 3..6-grams in "ab": 2 effective orders.
    # avg P = 1, avg R = 7/12; F2 = 5 * 7/12 / (4 + 7/12) = 7/11.
    assert metrics.chrf("ab", "abc") == pytest.approx(100 * 7 / 11)
    assert metrics.chrf("Adds one.", "Adds one.") == pytest.approx(100.0)


texts = st.text(alphabet="abc xyz_`.", max_size=40)


@settings(max_examples=100, deadline=None)
@given(texts, texts)
def test_rouge_and_chrf_are_the_libraries_own(hyp: str, ref: str) -> None:
    import sacrebleu
    from rouge_score import rouge_scorer

    want = rouge_scorer.RougeScorer(["rougeL"]).score(ref, hyp)["rougeL"].fmeasure
    assert metrics.rouge_l(hyp, ref) == pytest.approx(100 * want)
    assert metrics.chrf(hyp, ref) == pytest.approx(sacrebleu.sentence_chrf(hyp, [ref]).score)


# --- format, sections, parameters, doc tests, identifiers, length -------------------------


@pytest.mark.parametrize(
    ("raw", "valid"),
    [
        ("/// Adds one.", True),
        ("    /// Adds one.\n    ///\n    /// More.", True),
        ("/// Adds.\n///\n/// ```\n/// let x = 1;\n/// ```", True),
        ("//// Adds one.", False),  # four slashes: a plain comment for rustc
        ("/// Adds one.\nThis function adds one.", False),  # prose after the doc
        ("Here is the doc:\n/// Adds one.", False),  # prose before it
        ("```rust\n/// Adds one.\n```", False),  # wrapped in a fence
        ("/// Adds.\n\n/// More.", False),  # a blank line inside
        ("/// Adds.\n/// ```\n/// let x = 1;", False),  # an unclosed fence
        ("///", False),  # blank doc
        ("", False),
        ("Adds one.", False),
    ],
)
def test_format_validity(raw: str, valid: bool) -> None:
    assert metrics.format_valid(raw) is valid


doc_lines = st.lists(st.text(alphabet="abcXYZ 123.,`#", max_size=30), min_size=1, max_size=6)


@settings(max_examples=100, deadline=None)
@given(doc_lines)
def test_every_rendered_doc_is_valid_and_round_trips(lines: list[str]) -> None:
    doc = "\n".join(lines).strip("\n")
    if not doc.strip() or "```" in doc:
        return
    raw = doc_as_comment(doc)
    assert metrics.format_valid(raw)
    assert comment_as_doc(raw) == "\n".join(line.rstrip() for line in doc.split("\n"))
    assert not metrics.format_valid(raw + "\nand then some prose")


def test_section_f1() -> None:
    gen = "Does.\n\n# Examples\n\n```\nf();\n```\n\n# Panics\n\nNever."
    ref = "Does.\n\n# Example\n\nx\n\n# Errors\n\nSometimes."
    assert metrics.section_f1(gen, ref) == pytest.approx(0.5)  # Examples shared, 2 + 2 sets
    assert metrics.section_f1("Does.", "Does it.") == 1.0  # neither has a section
    assert metrics.section_f1("", "Does it.") == 0.0  # no doc at all earns nothing
    assert metrics.section_f1("# Safety\n\nx", "Does.") == 0.0


def test_param_names_and_coverage() -> None:
    params = ["&self", "mut buf: &mut [u8]", "(a, b): (u32, u32)", "_unused: u8", "r#type: u8",
              "x: u32"]  # fmt: skip
    assert metrics.param_names(params) == ["buf", "type", "x"]
    assert metrics.param_coverage("Reads into `buf` until x bytes.", params) == pytest.approx(2 / 3)
    assert metrics.param_coverage("Reads into buffer.", params) == 0.0  # whole words only
    assert metrics.param_coverage("Anything.", ["&self"]) is None
    assert metrics.param_coverage("Anything.", None) is None


def test_doctest_parse() -> None:
    good = "Does.\n\n```\nlet x = 1;\nassert_eq!(x, 1);\n```"
    bad = "Does.\n\n```rust\nlet x = ;\n```"
    assert metrics.doctest_parse(good) == 1.0
    assert metrics.doctest_parse(bad) == 0.0
    assert metrics.doctest_parse(good + "\n\n" + bad.split("\n\n")[1]) == 0.5
    assert metrics.doctest_parse("```ignore\nnot rust at all (\n```") is None
    assert metrics.doctest_parse("```text\nnot rust (\n```") is None
    assert metrics.doctest_parse("No blocks.") is None


def test_invented_identifiers() -> None:
    me = make_record(0, name="load", source="pub fn load(x: u32) -> Foo {\n    Foo::new(x)\n}",
                     doc="Loads `Secret`.")  # fmt: skip
    other = make_record(1, doc="Returns a `Bar`.")
    elsewhere = make_record(2, repo="other/crate", doc="Makes a `Baz`.")
    known = metrics.KnownNames([me, other, elsewhere])
    gen = 'Uses `Foo`, `Bar`, `Baz`, `Option<u8>`, `self.qux()` and `"lit"`.\n\n```\nNope\n```'
    names = metrics.backticked(gen)
    assert names == {"Foo", "Bar", "Baz", "Option", "u8", "self", "qux"}  # not in code blocks
    # Baz lives in another crate; qux nowhere; the item's own reference doc does not count.
    assert known.invented(names, me) == {"Baz", "qux"}
    assert known.invented(metrics.backticked("Loads `Secret`."), me) == {"Secret"}
    assert known.invented(metrics.backticked("Loads `func_1`."), me) == set()


def test_length_ratio() -> None:
    assert metrics.length_ratio("a b c", "a b c d e f") == 0.5
    assert metrics.length_ratio("", "a") == 0.0


def test_a_generation_that_is_not_a_doc_scores_as_such() -> None:
    # Regression guard: prose is never re-wrapped into ///, so it earns nothing for text.
    rec = make_record(3, doc="Adds 3 to `x`.")
    known = metrics.KnownNames([rec])
    prose = metrics.score("Adds 3 to `x`.", rec, known)
    assert prose["format_valid"] == 0.0
    assert prose["chrf_doc"] == prose["rouge_l_doc"] == prose["rouge_l_summary"] == 0.0
    assert prose["section_f1"] == 0.0 and prose["length_ratio"] == 0.0
    assert prose["bleu_summary"] == pytest.approx(100 * math.exp(-len(bleu.tokenize(rec["doc"]))))
    doc = metrics.score("/// Adds 3 to `x`.", rec, known)
    assert doc["format_valid"] == 1.0 and doc["chrf_doc"] == pytest.approx(100.0)
    assert doc["bleu_summary"] == pytest.approx(100.0) and doc["section_f1"] == 1.0
    assert set(doc) == set(metrics.METRICS)
