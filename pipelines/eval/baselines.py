"""The two baselines every model must beat: ``template`` (the floor) and ``retrieval``.

``template`` writes one fixed sentence from the function's name alone (rules in
:func:`template_doc`). ``retrieval`` answers with the doc of the most similar *train* function
by BM25 (bm25s, Lucene variant, k1 = 1.2, b = 0.75) between the prompt's code blocks
(``corpus.prompt.code_block`` with ``input="context"``: module path, enclosing impl/trait
header and signature). Both return ``///`` comments, like a model.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from corpus.prompt import PromptSpec, code_block, doc_as_comment

_WORD = re.compile(r"[A-Za-z0-9_]+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+[0-9]*|[A-Z]+[0-9]*|[0-9]+")
_PREDICATES = ("is", "has", "can", "should", "contains", "needs")
_CONVERSIONS = {
    "to": "Converts this value to",
    "into": "Converts this value into",
    "as": "Returns a view of this value as",
}


def name_words(name: str) -> list[str]:
    """``read_to_end`` -> ``[read, to, end]``; ``parseJSON`` -> ``[parse, json]``."""
    return [p.lower() for s in name.removeprefix("r#").split("_") if s for p in _CAMEL.findall(s)]


def template_doc(name: str) -> str:
    """A fixed one-sentence doc from a function name (deterministic; the floor to beat).

    ``new`` -> ``Creates a new `Self`.``; ``is_x``/``has_x``/... -> ``Returns `true` if x.``;
    ``set_x`` -> ``Sets the x.``; ``to_x``/``into_x``/``as_x`` -> ``Converts this value to x.``
    (into / a view as); ``from_x`` -> ``Creates a value from x.``; ``with_x`` -> ``Returns
    this value with the given x.``; anything else, ``get_`` dropped -> ``Returns the x.``
    """
    words = name_words(name)
    if not words:
        return "Returns the value."
    head, rest = words[0], " ".join(words[1:])
    if words == ["new"]:
        return "Creates a new `Self`."
    if head in _PREDICATES and rest:
        return f"Returns `true` if {'it ' + head + ' ' if head != 'is' else ''}{rest}."
    if head == "set" and rest:
        return f"Sets the {rest}."
    if head in _CONVERSIONS and rest:
        return f"{_CONVERSIONS[head]} {rest}."
    if head == "from" and rest:
        return f"Creates a value from {rest}."
    if head == "with" and rest:
        return f"Returns this value with the given {rest}."
    if head == "get" and rest:
        words = words[1:]
    return f"Returns the {' '.join(words)}."


def template(records: list[dict[str, Any]]) -> list[str]:
    """The template system's output for each record."""
    return [doc_as_comment(template_doc(r["name"])) for r in records]


def code_tokens(text: str) -> list[str]:
    """Tokens for BM25 over code: every identifier whole (lower-cased) and, when it is
    compound, its snake_case / camelCase parts too (``read_to_end`` -> ``read_to_end read to
    end``; ``HTTPServer`` -> ``httpserver http server``)."""
    out: list[str] = []
    for word in _WORD.findall(text):
        parts = [p.lower() for s in word.split("_") if s for p in _CAMEL.findall(s)]
        if len(parts) != 1 or parts[0] != word.lower():
            out.append(word.lower())
        out.extend(parts)
    return out


def query_text(record: dict[str, Any]) -> str:
    """What retrieval compares: the prompt's code block (signature in its context)."""
    return code_block(record, PromptSpec(input="context"))


class Retriever:
    """A BM25 index over train records; :meth:`nearest` never returns the query itself."""

    def __init__(self, train: list[dict[str, Any]]) -> None:
        import bm25s

        self.train = train
        self._bm25 = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
        self._bm25.index([code_tokens(query_text(r)) for r in train], show_progress=False)
        self._row = {r["id"]: i for i, r in enumerate(train)}

    def ranked(self, record: dict[str, Any]) -> Iterator[tuple[dict[str, Any], float]]:
        """Every train record sharing a token with ``record``, best first (ties: dataset
        order), with its BM25 score; a train record with the same id is left out. Lazy:
        callers usually stop at the first few."""
        import numpy as np

        scores = np.asarray(self._bm25.get_scores(code_tokens(query_text(record))), np.float64)
        own = self._row.get(record["id"])
        if own is not None:
            scores[own] = -np.inf
        order = np.argsort(-scores, kind="stable")  # stable: equal scores keep dataset order
        for i in order.tolist():
            if scores[i] <= 0:
                return
            yield self.train[i], float(scores[i])

    def nearest(self, record: dict[str, Any]) -> dict[str, Any] | None:
        """The train record scoring highest against ``record`` (ties: the first in the
        dataset's order), excluding a train record with the same id; None when no train
        record shares a token with it."""
        import numpy as np

        tokens = code_tokens(query_text(record))
        scores = np.asarray(self._bm25.get_scores(tokens), dtype=np.float64)
        own = self._row.get(record["id"])
        if own is not None:
            scores[own] = -np.inf
        best = int(np.argmax(scores))  # argmax returns the first of equal maxima
        return self.train[best] if scores[best] > 0 else None


def retrieval(records: list[dict[str, Any]], train: list[dict[str, Any]]) -> list[str]:
    """The retrieval system's output for each record: its nearest train doc, as ``///``
    lines; the template doc when no train record shares a token with it."""
    from corpus.errors import BadInputError

    if not train:
        raise BadInputError("retrieval needs train records: the dataset has no train split")
    index = Retriever(train)
    out = []
    for r in records:
        hit = index.nearest(r)
        out.append(doc_as_comment(hit["doc"]) if hit else doc_as_comment(template_doc(r["name"])))
    return out
