"""THE prompt: what the user turn shows for every kind of container, and generation callers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.errors import BadInputError
from corpus.extract import context_for, extract_file_bytes
from corpus.prompt import (
    PromptSpec,
    code_block,
    messages,
    module_of,
    record_for,
    split_path,
    truncate_middle,
)

SHA = "a" * 40
SRC = """\
mod outer {
    /// A free fn.
    pub fn free(x: u8) -> u8 { x }

    /// Makes a widget.
    impl<T: Clone> Widget<T> where T: Send {
        /// Creates a new `Widget`.
        pub fn new(x: T) -> Self { todo!() }
    }

    impl Default for Builder {
        /// The default `Builder`.
        fn default() -> Self { todo!() }
    }

    pub trait Shape: Sized {
        /// The area of a `Shape`.
        fn area(&self) -> f64;
    }

    extern "C" {
        /// A C function.
        pub fn c_fn(x: i32) -> i32;
    }

    /// Outer fn.
    pub fn host() {
        /// A nested helper.
        fn helper() {}
    }

    cfg_thing! {
        /// From a macro.
        pub fn in_macro() {}
    }
}
"""


def _records() -> dict[str, dict]:
    ctx = context_for(None, "src/lib.rs", repo="o/r", commit=SHA, license="MIT")
    return {r["name"]: r for r in extract_file_bytes(SRC.encode(), "src/lib.rs", ctx).records}


@pytest.mark.parametrize(
    ("name", "block"),
    [
        ("free", "// src::lib::outer\npub fn free(x: u8) -> u8;"),
        (
            "new",
            "// src::lib::outer\nimpl<T: Clone> Widget<T> where T: Send {\n"
            "    pub fn new(x: T) -> Self;\n}",
        ),
        ("default", "// src::lib::outer\nimpl Default for Builder {\n    fn default() -> Self;\n}"),
        ("area", "// src::lib::outer\npub trait Shape: Sized {\n    fn area(&self) -> f64;\n}"),
        ("c_fn", '// src::lib::outer\nextern "C" {\n    pub fn c_fn(x: i32) -> i32;\n}'),
        ("helper", "// src::lib::outer::host\nfn helper();"),
        ("in_macro", "// src::lib::outer\npub fn in_macro();"),
    ],
)
def test_every_container_kind_shows_its_context(name: str, block: str) -> None:
    rec = _records()[name]
    assert code_block(rec, PromptSpec()) == block
    assert code_block(rec, PromptSpec(input="signature")) == rec["signature"]
    user = messages(rec, PromptSpec())[1]["content"]
    assert user.endswith(f"```rust\n{block}\n```")


def test_types_a_doc_names_from_its_surroundings_are_in_the_prompt() -> None:
    rec = _records()["new"]
    assert "Widget" not in rec["signature"]  # the signature alone would hide it
    assert "Widget" in messages(rec)[1]["content"] and "Widget" in rec["doc"]


def test_source_prompts_cut_the_middle_of_a_long_body_never_its_ends() -> None:
    body = "\n".join(f"    let v{i} = {i};" for i in range(400))
    rec = {**_records()["free"], "source": f"pub fn free(x: u8) -> u8 {{\n{body}\n    x\n}}"}
    block = code_block(rec, PromptSpec(input="source", source_budget=200), count=len)
    assert len(block) < 400 and "lines elided" in block
    assert "pub fn free(x: u8) -> u8 {" in block and block.endswith("let v399 = 399;\n    x\n}")
    short = code_block(rec | {"source": "pub fn free(x: u8) -> u8 { x }"},
                       PromptSpec(input="source"), count=len)  # fmt: skip
    assert "elided" not in short


@given(st.text(alphabet="abcdefgh\n ", min_size=1, max_size=300), st.integers(1, 400))
def test_truncate_middle_fits_the_budget_or_is_a_marker(text: str, budget: int) -> None:
    out = truncate_middle(text, budget, len)
    assert out == text if len(text) <= budget else ("elided" in out)
    if len(text) > budget and len(out) <= budget:
        kept = [ln for ln in out.split("\n") if "elided" not in ln]
        lines = text.split("\n")
        assert kept == lines[: len(kept) // 2] + lines[len(lines) - len(kept) // 2 :]


def test_hand_given_signatures_build_the_same_kind_of_prompt() -> None:
    rec = record_for("pub fn new(x: T) -> Self", container="impl<T> Widget<T>", module="w::x")
    assert rec["container_kind"] == "impl"
    assert (
        code_block(rec, PromptSpec())
        == "// w::x\nimpl<T> Widget<T> {\n    pub fn new(x: T) -> Self;\n}"
    )
    tr = record_for("fn fmt(&self, f: &mut Formatter) -> Result", container="impl Display for W")
    assert tr["container_kind"] == "trait_impl"
    assert record_for("fn f();", container='extern "C"')["container_kind"] == "extern"
    assert record_for("fn f(&self);", container="pub trait T")["container_kind"] == "trait"
    assert code_block(record_for("pub fn f()"), PromptSpec()) == "pub fn f();"


def test_paths_split_outside_angle_brackets() -> None:
    assert split_path("a::<Box<dyn E> as From<E>>::from") == [
        "a",
        "<Box<dyn E> as From<E>>",
        "from",
    ]
    assert split_path("a::b::<T as X<Y>>::f") == ["a", "b", "<T as X<Y>>", "f"]
    assert module_of({"qualified_path": "a::b::f", "container_kind": "free"}) == "a::b"
    assert module_of({"qualified_path": "a::b::T::f", "container_kind": "impl"}) == "a::b"
    assert module_of({"qualified_path": "f", "container_kind": "free"}) == ""


def test_an_unknown_prompt_input_is_bad_input() -> None:
    with pytest.raises(BadInputError, match="prompt_input 'body': choose one of"):
        PromptSpec(input="body")


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", ":", "::", ":::", ">", "->", " as "]), max_size=14))
def test_split_path_without_generics_is_a_plain_split(pieces: list[str]) -> None:
    # without `<` the fast path answers; it must agree with the nesting-aware scan
    from corpus.prompt import split_nested_path, split_path

    path = "".join(pieces)
    assert split_path(path) == split_nested_path(path)
