"""The layout reader's regexes are written literal-first for speed: each finds exactly what
its plain ``\\b`` form (kept here as the reference) finds."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from falsification import cratelayout as cl

REFERENCE = {
    "_MOD_RE": r"\bmod\s+(?:r#)?(?P<name>[A-Za-z_]\w*)\s*(?P<end>[;{])",
    "_PUB_TYPE_RE": r"\bpub\s+(?:unsafe\s+|auto\s+)*(?:struct|enum|union|trait|type)\s+"
    r"(?:r#)?([A-Za-z_]\w*)",
    "_PUB_USE_RE": r"\bpub\s+use\s+([^;]*);",
    "_INCLUDE_RE": r'\binclude!\s*\(\s*"([^"]+)"\s*\)',
    "_AUTOMOD_RE": r'\bautomod::dir!\s*\(\s*"([^"]+)"',
    "_ITEM_RE": r"\b(?:struct|enum|union|trait|type|fn|mod)\s+(?:r#)?([A-Za-z_]\w*)",
    "_FN_RE": r"\bfn\s+(?:r#)?([A-Za-z_]\w*)",
    "_IMPL_RE": r"\bimpl\b(?:\s*<[^{;]*?>)?\s*(?:[A-Za-z_]\w*::)*(?:r#)?([A-Za-z_]\w*)",
    "_MACRO_RULES_RE": r"\bmacro_rules!\s*([A-Za-z_]\w*)\s*\{",
}
_INVOKE = re.compile(r"(\w+)!\s*[({\[]")

_PIECES = [
    "mod", "pub", "use", "struct", "enum", "union", "trait", "type", "fn", "impl", "unsafe",
    "auto", "include!", "automod::dir!", "macro_rules!", "r#", "x", "_", "é", "9", "foo",
    " ", "\n", "\t", ";", "{", "}", "(", ")", "[", "<", ">", "::", "!", '"', "a/b.rs", ",",
    "*", "for",
]  # fmt: skip
texts = st.lists(st.sampled_from(_PIECES), max_size=30).map("".join)


@pytest.mark.parametrize("name", sorted(REFERENCE))
@settings(max_examples=400, deadline=None)
@given(text=texts)
def test_literal_first_regex_finds_what_its_reference_finds(name: str, text: str) -> None:
    assert getattr(cl, name).findall(text) == re.findall(REFERENCE[name], text)


@settings(max_examples=1000, deadline=None)
@given(texts)
def test_invoked_macros_are_the_words_before_a_bang(text: str) -> None:
    assert cl._invoked(text) == set(_INVOKE.findall(text))


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("fn f() {}", ["f"]),
        ("xfn f() {}", []),  # `fn` inside a word is no keyword
        ("é fn f", ["f"]),
        ("éfn f", []),  # ... whatever script the word is in
        ("fn r#match", ["match"]),
    ],
)
def test_fn_regex_examples(text: str, found: list[str]) -> None:
    assert cl._FN_RE.findall(text) == found


_COMMENT_REFERENCE = re.compile(
    r"""(?P<keep>r(?P<h>#+)".*?"(?P=h)|"(?:[^"\\]|\\.)*"|'(?:[^'\\\n]|\\.)')"""
    r"|//[^\n]*|/\*.*?\*/",
    re.S,
)
_TEXT_PIECES = ['"', "'", "\\", "r", "#", "/", "*", "//", "/*", "*/", "\n", "x", " ", "é", 'r#"']


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(_TEXT_PIECES), max_size=30).map("".join))
def test_uncommenting_keeps_literals_and_blanks_comments_as_before(text: str) -> None:
    reference = _COMMENT_REFERENCE.sub(lambda m: m.group("keep") or " ", text)
    assert cl._COMMENT_RE.sub(cl._uncomment, text) == reference
