"""CodeXGLUE's smoothed sentence BLEU-4 (code-to-text), stated exactly so figures compare.

BLEU variants differ by tokenisation, smoothing and brevity penalty, so a "BLEU" figure means
nothing without its definition. This is the one CodeXGLUE's code-to-text task reports
(``Code-Text/code-to-text/evaluator/evaluator.py``, the CodeNN/MOSES ``bleu.py``), for one
prediction ``p`` and one reference ``g``:

1. Tokens: lower-case; split into ``\\w+`` runs and single non-space, non-word characters;
   then split every ``_`` out of a run as its own token (``read_timeout`` -> ``read _
   timeout``), which is what the evaluator's second normalisation pass does.
2. ``c`` = hypothesis tokens, ``r`` = reference tokens. For k = 1..4, ``m_k`` = clipped
   k-gram matches, ``g_k`` = max(c - k + 1, 0); ``p_1 = m_1 / g_1`` (no smoothing) and
   ``p_k = (m_k + 1) / (g_k + 1)`` for k = 2, 3, 4 (add-one), so an order longer than the
   hypothesis has ``p_k = 1``.
3. Brevity penalty ``BP = exp(min(0, 1 - (r + 1) / (c + 1)))`` — not standard BLEU's
   ``exp(1 - r / c)``.
4. Score = ``BP * exp((log p_1 + log p_2 + log p_3 + log p_4) / 4)``, in [0, 1]; the corpus
   figure papers report is 100 x the *mean* of sentence scores (not corpus BLEU).
5. Edge cases, as in the evaluator: no unigram match gives 0 (the evaluator's ``log(tiny)``
   gives ~1e-77); an *empty* hypothesis gives ``exp(-r)`` (every log-precision is 0 there and
   only the brevity penalty remains).

The n-gram statistics and add-one precisions are sacrebleu's (``smooth_method="add-k"``,
``smooth_value=1``, which smooths orders 2..4 only, exactly as above, ``tokenize="none"``
on our tokens); only the brevity penalty is CodeXGLUE's, applied here.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any

_WORD_OR_PUNCT = re.compile(r"\w+|[^\s\w]")
_UNDERSCORE = re.compile(r"(_)")


def tokenize(text: str) -> list[str]:
    """CodeXGLUE's tokens of ``text`` (step 1 of the module docstring)."""
    out: list[str] = []
    for run in _WORD_OR_PUNCT.findall(text.strip().lower()):
        out.extend(part for part in _UNDERSCORE.split(run) if part)
    return out


@lru_cache(maxsize=1)
def _add_one_bleu() -> Any:
    from sacrebleu.metrics import BLEU

    return BLEU(
        tokenize="none",
        smooth_method="add-k",
        smooth_value=1,
        effective_order=True,
        lowercase=False,
    )


def brevity_penalty(c: int, r: int) -> float:
    """CodeXGLUE's brevity penalty for ``c`` hypothesis and ``r`` reference tokens."""
    return math.exp(min(0.0, 1.0 - (r + 1) / (c + 1)))


def sentence_bleu(hypothesis: str, reference: str) -> float:
    """CodeXGLUE smoothed sentence BLEU-4 of one pair, in [0, 1] (see the module docstring)."""
    hyp, ref = tokenize(hypothesis), tokenize(reference)
    if not hyp:
        return brevity_penalty(0, len(ref))
    stats = _add_one_bleu().sentence_score(" ".join(hyp), [" ".join(ref)])
    if stats.precisions[0] == 0:  # no unigram match: the evaluator's log(tiny) ~ -708
        return 0.0
    log_p = sum(math.log(p / 100.0) for p in stats.precisions) / len(stats.precisions)
    return math.exp(log_p) * brevity_penalty(len(hyp), len(ref))
