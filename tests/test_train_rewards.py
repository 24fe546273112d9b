"""The RL reward components and guards, on hand-made generations (no model)."""

from __future__ import annotations

import math

import pytest

from pipelines.eval.metrics import KnownNames
from pipelines.train.rewards import (
    COMPONENTS,
    RewardSet,
    component,
    degenerate_reason,
    length_cost,
)
from tests.records_factory import make_record

REF = "Returns `count` plus one.\n\n# Panics\n\nNever.\n\n# Examples\n\n```\nlet y = bump(2);\n```"
RECORD = make_record(1, name="bump", params=["count: u32"], doc=REF, doc_sections=["Panics", "Examples"],
                     source="pub fn bump(count: u32) -> u32 {\n    count + 1\n}")  # fmt: skip
KNOWN = KnownNames([RECORD, make_record(2, name="other")])
GOOD = ("/// Returns `count` plus one.\n///\n/// # Panics\n///\n/// Never.\n///\n/// # Examples\n"
        "///\n/// ```\n/// let y = bump(2);\n/// ```")  # fmt: skip


def score(name: str, raw: str) -> float | None:
    return component(name, raw, RECORD, KNOWN)


def test_format_validity() -> None:
    assert score("format_valid", GOOD) == 1.0
    assert score("format_valid", "Here is the doc:\n/// Returns it.") == 0.0
    assert score("format_valid", "/// ```\n/// let x = 1;") == 0.0  # an open fence


def test_section_agreement() -> None:
    assert score("section_agreement", GOOD) == 1.0
    assert score("section_agreement", "/// Returns `count` plus one.") == 0.0
    assert score(
        "section_agreement", "/// Adds.\n///\n/// # Panics\n///\n/// Never."
    ) == pytest.approx(2 / 3)


def test_parameter_coverage() -> None:
    assert score("param_coverage", GOOD) == 1.0
    assert score("param_coverage", "/// Returns its input plus one.") == 0.0
    assert component("param_coverage", GOOD, {**RECORD, "params": []}, KNOWN) is None


def test_rust_code_blocks_must_parse() -> None:
    assert score("doctest_parse", GOOD) == 1.0
    broken = "/// Adds.\n///\n/// ```\n/// let y = bump(2;\n/// ```"
    assert score("doctest_parse", broken) == 0.0
    assert score("doctest_parse", "/// Adds one.") is None  # no code block: undefined


def test_no_invented_identifiers() -> None:
    assert score("no_invented_ids", GOOD) == 1.0
    assert score("no_invented_ids", "/// Calls `frobnicate_all` and `zorblax`.") == pytest.approx(
        1 / 3
    )


def test_rouge_l_against_the_reference() -> None:
    assert score("rouge_l", GOOD) == pytest.approx(1.0)
    assert score("rouge_l", "/// Something else entirely.") == 0.0


def test_degenerate_outputs_are_named() -> None:
    assert degenerate_reason("") == "empty"
    assert degenerate_reason("Sure! The function adds one.") == "no doc line"
    assert degenerate_reason("/// " + "the " * 20) == "one word repeated"
    assert degenerate_reason("/// " + "adds one to " * 8) == "a phrase repeated"
    assert degenerate_reason(GOOD) is None


def test_the_length_guard_is_a_ramp_outside_half_to_twice() -> None:
    ref = "one two three four five six seven eight"
    assert length_cost("one two three four", ref) == 0.0  # half
    assert length_cost(" ".join(["w"] * 16), ref) == 0.0  # twice
    assert length_cost(" ".join(["w"] * 32), ref) == pytest.approx(1.0)  # four times: all of it
    assert 0 < length_cost(" ".join(["w"] * 20), ref) < 1


def test_a_degenerate_output_gets_a_lower_total_than_any_sound_one() -> None:
    rs = RewardSet(
        {n: 1.0 for n in COMPONENTS if n != "reward_model"}, [RECORD], length_penalty=1.0
    )
    good, bad = rs.score(GOOD, RECORD), rs.score("/// " + "count " * 30, RECORD)
    # The loop mentions `count` (coverage 1) yet ranks below even an empty-ish sound doc.
    poor = rs.score("/// Does things.", RECORD)
    assert bad["param_coverage"] == 1.0
    assert bad["total"] < poor["total"] < good["total"]
    assert bad["degenerate"] == -rs.floor() and good["degenerate"] == 0.0
    assert good["total"] == pytest.approx(6.0)


def test_trl_functions_score_like_the_report_and_are_named() -> None:
    rs = RewardSet({"format_valid": 1.0, "rouge_l": 2.0}, [RECORD], length_penalty=0.5)
    funcs, weights = rs.trl_functions()
    assert [f.__name__ for f in funcs] == ["format_valid", "rouge_l", "length", "degenerate"]
    assert weights == [1.0, 2.0, 0.5, 1.0]
    comps = [[{"role": "assistant", "content": GOOD}], [{"role": "assistant", "content": ""}]]
    rows = [f(prompts=[[], []], completions=comps, id=[RECORD["id"]] * 2) for f in funcs]
    totals = [sum(w * r[i] for w, r in zip(weights, rows, strict=True)) for i in range(2)]
    assert totals[0] == pytest.approx(rs.score(GOOD, RECORD)["total"])
    assert totals[1] == pytest.approx(rs.score("", RECORD)["total"]) and totals[1] < 0


def test_a_reward_model_scores_through_a_sigmoid() -> None:
    rs = RewardSet({"reward_model": 1.0}, [RECORD], reward_model=lambda p, raws: [0.0] * len(raws))
    assert rs.score(GOOD, RECORD)["reward_model"] == 0.5
    assert math.isclose(rs.score(GOOD, RECORD)["total"], 0.5)
    with pytest.raises(ValueError):
        RewardSet({"reward_model": 1.0}, [RECORD])
