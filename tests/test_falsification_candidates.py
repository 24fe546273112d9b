"""The privacy check's fast prefilter answers exactly what its reference regex answers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from falsification.candidates import CANDIDATE, is_candidate

#: Pieces of every alternative, and the characters that end or break them.
_PIECES = [
    '"', "'", "`", " ", "\n", "\t", ":", "=", "@", "/", "://", "-", "_",
    "pass", "PASS", "Secret", "token", "api", "apikey", "api_key", "API-KEY", "auth", "cred",
    "private", "privateKey", "bearer", "AKIA", "asia", "ghp_", "GHO_", "ghs_", "github_pat_",
    "glpat-", "hf_", "xox", "xoxb-", "XOXP-", "xoxz-", "sk_live_", "sk-", "aiza", "eyJ",
    "-----BEGIN", "-----begin", "abcdefghijklmnop", "0123456789", "x", "é",
    "\u212a",  # KELVIN SIGN: `k` under re.IGNORECASE, not to str.lower
    "\u017f",  # LATIN SMALL LETTER LONG S: `s` under re.IGNORECASE
]  # fmt: skip

texts = st.lists(st.sampled_from(_PIECES), max_size=24).map("".join)


@settings(max_examples=2000, deadline=None)
@given(texts)
def test_is_candidate_is_the_reference_regex(text: str) -> None:
    assert is_candidate(text) is (CANDIDATE.search(text) is not None)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_is_candidate_on_any_text(text: str) -> None:
    assert is_candidate(text) is (CANDIDATE.search(text) is not None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('let s = "abcdefghijklmnop";', True),  # a quoted 16-character run
        ('let s = "abcdefghijklmno";', False),  # 15 is too short
        ("TOKEN =", True),
        ("my_api-key: x", True),
        ("the tokenizer splits", False),
        ("xoxb-1", True),
        ("xoxz-1", False),
        ("https://user:pw@example.com", True),
        ("https://example.com/a:b", False),
        ("pa\u017fs = 1", True),  # the long s is an `s` to the regex
        ("\u212aEY", False),
        ("-----begin", True),
    ],
)
def test_is_candidate_examples(text: str, expected: bool) -> None:
    assert is_candidate(text) is expected
    assert (CANDIDATE.search(text) is not None) is expected


_TOKEN_PIECES = [
    "ghp_", "gho_", "ghu_", "github_pat_", "glpat-", "hf_", "AKIA", "ASIA", "xoxb-", "sk_live_",
    "sk-", "AIza", "eyJ", ".", "-----BEGIN RSA PRIVATE KEY-----", "-----END PRIVATE KEY-----",
    "-----", "@", "jane.doe", "corp-mail.io", "example.com", "A1b2C3d4E5", "_", "-", " ", "\n",
]  # fmt: skip


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(_TOKEN_PIECES), max_size=20).map("".join))
def test_emails_and_tokens_prefilter_loses_nothing(text: str) -> None:
    from falsification.checks import privacy

    unguarded = [
        m.group(0)
        for m in privacy._EMAIL.finditer(text)
        if not privacy._EXAMPLE_DOMAIN.search(m.group(0))
    ] + [m.group(0) for m in privacy._TOKENS.finditer(text)]
    assert privacy.emails_and_tokens(text) == unguarded


@pytest.mark.parametrize(
    "text",
    [
        "token ghp_" + "A1b2C3d4E5" * 3 + "f6G7h8",
        "-----BEGIN RSA PRIVATE KEY-----",
        "mail jane.doe@corp-mail.io now",
        "eyJ" + "a" * 10 + ".eyJ" + "b" * 10 + "." + "c" * 10,
    ],
)
def test_emails_and_tokens_finds_each_kind(text: str) -> None:
    from falsification.checks import privacy

    assert len(privacy.emails_and_tokens(text)) == 1
