"""The rewards of `corpus train rl`: named, weighted components and two guards, no model needed.

Every component scores one raw generation against its record in [0, 1] (None where it is
undefined, as the eval metric it comes from: TRL then leaves it out of that example's sum).
They are `corpus eval`'s own metric functions (``pipelines.eval.metrics``), never rewritten:

- ``format_valid``: the raw output is a doc comment and only that (``format_valid``);
- ``section_agreement``: F1 of the rustdoc sections against the reference (``section_f1``);
- ``param_coverage``: share of the named parameters the doc mentions (``param_coverage``);
- ``doctest_parse``: share of compiled Rust code blocks that parse with tree-sitter;
- ``no_invented_ids``: 1 / (1 + identifiers in backticks that the prompt, the source and the
  repository never mention) (``KnownNames.invented``);
- ``rouge_l``: ROUGE-L F1 of the doc against the reference, / 100;
- ``reward_model``: a `corpus train reward` model's score through a sigmoid (given as a
  callable: this module loads nothing).

The guards make reward hacking cost: ``length`` subtracts up to ``length_penalty`` from a doc
outside half to twice its reference's length (a log-scale ramp: four times as long costs
the whole weight), so padding a doc to raise coverage does not pay; ``degenerate`` gives an
empty doc, prose without a doc line or a loop of repeated words a total below that of any
sound output, whatever its components say (it subtracts the sum of every weight plus one).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from corpus.prompt import comment_as_doc
from pipelines.eval import metrics as m

COMPONENTS = (
    "format_valid",
    "section_agreement",
    "param_coverage",
    "doctest_parse",
    "no_invented_ids",
    "rouge_l",
    "reward_model",
)
GUARDS = ("length", "degenerate")
#: A doc between these multiples of its reference's length costs nothing.
LENGTH_BAND = (0.5, 2.0)
#: At least this many words before repetition can be judged (a short doc may repeat a word).
MIN_WORDS_FOR_REPEAT = 8


def degenerate_reason(raw: str) -> str | None:
    """Why ``raw`` is a degenerate output (None when it is not): no doc at all, or a loop."""
    doc = comment_as_doc(raw)
    words = doc.split()
    if not words:
        return "no doc line" if raw.strip() else "empty"
    if len(words) >= MIN_WORDS_FOR_REPEAT:
        top = max(words.count(w) for w in set(words))
        if top / len(words) > 0.5:
            return "one word repeated"
        trigrams = list(zip(words, words[1:], words[2:], strict=False))
        if len(set(trigrams)) / len(trigrams) < 0.5:
            return "a phrase repeated"
    return None


def length_cost(generated_doc: str, reference: str) -> float:
    """0 inside :data:`LENGTH_BAND`, rising with |log2| of the ratio outside it, at most 1."""
    ratio = m.length_ratio(generated_doc, reference)
    lo, hi = LENGTH_BAND
    if ratio <= 0:
        return 1.0
    if lo <= ratio <= hi:
        return 0.0
    edge = lo if ratio < lo else hi
    return min(1.0, abs(math.log2(ratio / edge)))


def component(name: str, raw: str, record: dict[str, Any], known: m.KnownNames) -> float | None:
    """One component's score of ``raw`` against ``record`` (not ``reward_model``)."""
    gen, ref = comment_as_doc(raw), record["doc"]
    if name == "format_valid":
        return float(m.format_valid(raw))
    if name == "section_agreement":
        return m.section_f1(gen, ref)
    if name == "param_coverage":
        return m.param_coverage(gen, record.get("params"))
    if name == "doctest_parse":
        return m.doctest_parse(gen)
    if name == "no_invented_ids":
        return 1.0 / (1.0 + len(known.invented(m.backticked(gen), record)))
    if name == "rouge_l":
        return m.rouge_l(gen, ref) / 100.0
    raise ValueError(f"unknown reward component {name!r}")


#: Scores a batch: (prompt conversations, raw outputs) -> one raw score each.
ModelScorer = Callable[[list[list[dict]], list[str]], list[float]]


@dataclass
class RewardSet:
    """The weighted components and guards of one RL run, over the records it prompts with.

    ``extra`` adds named components (a callable ``(raw, record) -> float | None``): a toy
    reward in tests, or a reward of your own.
    """

    weights: dict[str, float]
    records: list[dict[str, Any]]
    length_penalty: float = 0.5
    degenerate_guard: bool = True
    reward_model: ModelScorer | None = None
    extra: dict[str, Callable[[str, dict[str, Any]], float | None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.known = m.KnownNames(self.records)
        self.by_id = {r["id"]: r for r in self.records}
        if "reward_model" in self.weights and self.reward_model is None:
            raise ValueError("the reward_model component needs a reward model scorer")

    @property
    def names(self) -> list[str]:
        """Components with a weight, then the extra ones, in order."""
        return [n for n in COMPONENTS if n in self.weights] + list(self.extra)

    def floor(self) -> float:
        """What the degenerate guard subtracts: more than every component could add."""
        return sum(self.weights.values()) + sum(self.weights.get(n, 1.0) for n in self.extra) + 1

    def score(self, raw: str, record: dict[str, Any], prompt: list[dict] | None = None) -> dict:
        """Every component, guard and the weighted ``total`` of one output (the report's view)."""
        out: dict[str, float | None] = {}
        for name in self.names:
            if name == "reward_model":
                assert self.reward_model is not None
                out[name] = _sigmoid(self.reward_model([prompt or []], [raw])[0])
            elif name in self.extra:
                out[name] = self.extra[name](raw, record)
            else:
                out[name] = component(name, raw, record, self.known)
        out["length"] = -length_cost(comment_as_doc(raw), record["doc"])
        out["degenerate"] = -self.floor() if degenerate_reason(raw) is not None else 0.0
        out["total"] = self.total(out)
        return out

    def weight(self, name: str) -> float:
        """The weight of a component or guard (length: length_penalty; degenerate: 1, or 0
        with the guard off). A weight of 0 still measures and logs the score."""
        if name == "length":
            return self.length_penalty
        if name == "degenerate":
            return 1.0 if self.degenerate_guard else 0.0
        return self.weights.get(name, 1.0)

    def total(self, scores: dict[str, float | None]) -> float:
        """The weighted sum over the defined scores (as TRL sums them: nansum)."""
        return sum(
            self.weight(n) * v
            for n, v in scores.items()
            if n != "total" and v is not None and math.isfinite(v)
        )

    def trl_functions(self) -> tuple[list[Callable[..., list[float | None]]], list[float]]:
        """One TRL reward function per component and guard (so TRL logs each as
        ``rewards/<name>/mean``), and their weights."""
        names = [*self.names, *GUARDS]
        return [self._trl_function(n) for n in names], [self.weight(n) for n in names]

    def _trl_function(self, name: str) -> Callable[..., list[float | None]]:
        def reward(prompts: list, completions: list, **kw: Any) -> list[float | None]:
            raws = [_text(c) for c in completions]
            recs = [self.by_id[i] for i in kw["id"]]
            if name == "reward_model":
                assert self.reward_model is not None
                return [_sigmoid(x) for x in self.reward_model(list(prompts), raws)]
            if name == "length":
                return [-length_cost(comment_as_doc(r), rec["doc"]) for r, rec in
                        zip(raws, recs, strict=True)]  # fmt: skip
            if name == "degenerate":
                return [-self.floor() if degenerate_reason(r) else 0.0 for r in raws]
            if name in self.extra:
                return [self.extra[name](r, rec) for r, rec in zip(raws, recs, strict=True)]
            return [component(name, r, rec, self.known) for r, rec in zip(raws, recs, strict=True)]

        reward.__name__ = name  # TRL names the logged metric after the function
        return reward


def _text(completion: Any) -> str:
    """The assistant's text of a TRL completion (conversational: a list of turns)."""
    if isinstance(completion, str):
        return completion
    return "".join(t.get("content") or "" for t in completion if t.get("role") == "assistant")


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, x))))


def summarise(rows: Iterable[dict[str, float | None]]) -> dict[str, dict[str, float | int]]:
    """Mean and count of every score over ``rows`` (undefined values left out)."""
    acc: dict[str, list[float]] = {}
    for row in rows:
        for k, v in row.items():
            if v is not None and math.isfinite(v):
                acc.setdefault(k, []).append(v)
    return {k: {"mean": sum(v) / len(v), "n": len(v)} for k, v in acc.items()}
