"""Property tests: generated Rust items round-trip through the extractor; bad input never hangs."""

from __future__ import annotations

import random
import signal
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus.extract import context_for, extract_file_bytes, normalize_fragments
from falsification.checks.extractor import mutate
from falsification.rustgen import rust_file
from tests.gitrepos import SAMPLE_LIB

CTX = context_for(None, "src/gen.rs", repo="o/r", commit="c" * 40, license="MIT")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rust_file())
def test_generated_items_round_trip(generated: tuple[str, list]) -> None:
    source, items = generated
    res = extract_file_bytes(source.encode("utf-8"), "src/gen.rs", CTX)
    assert not res.drops, res.drops
    got = res.records
    assert len(got) == len(items)
    for rec, item in zip(got, items, strict=True):
        assert {k: rec[k] for k in item.expected()} == item.expected()
        assert source.encode()[rec["start_byte"] : rec["end_byte"]].decode() == rec["source"]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rust_file(), st.randoms(use_true_random=False))
def test_wanted_ids_build_exactly_those_records(generated: tuple[str, list], rng) -> None:
    # what fields_reextract asks for: the records the corpus cites, the same as in a full run
    from dataclasses import replace

    data = generated[0].encode("utf-8")
    full = extract_file_bytes(data, "src/gen.rs", CTX).records
    wanted = frozenset(r["id"] for r in full if rng.random() < 0.5)
    only = extract_file_bytes(data, "src/gen.rs", replace(CTX, wanted_ids=wanted)).records
    assert only == [r for r in full if r["id"] in wanted]


@given(st.lists(st.text(max_size=30).filter(lambda s: "\r" not in s), max_size=6))
def test_normalisation_is_idempotent(lines: list[str]) -> None:
    once = normalize_fragments([("line", ln) for ln in lines])
    if once is None:
        return
    assert normalize_fragments([("line", ln) for ln in once.split("\n")]) == once
    assert not once.startswith("\n") and not once.endswith("\n")
    assert all(ln == ln.rstrip() for ln in once.split("\n"))


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Fail the test if the block runs longer than ``seconds`` (a hang is a bug)."""

    def on_alarm(signum: int, frame: object) -> None:
        raise TimeoutError(f"extraction took longer than {seconds}s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


SEED_SOURCE = SAMPLE_LIB + "\ncfg_rt! {\n    /// In macro.\n    pub fn m() {}\n}\n"


@pytest.mark.parametrize("seed", range(8))
def test_fuzz_mutated_and_random_inputs_never_crash_or_hang(seed: int) -> None:
    rng = random.Random(seed)
    base = SEED_SOURCE.encode()
    for _ in range(60):
        data = mutate(base, rng) if rng.random() < 0.8 else rng.randbytes(rng.randint(0, 400))
        with time_limit(5):
            res = extract_file_bytes(data, "src/fuzz.rs", CTX)
        for rec in res.records:
            assert data[rec["start_byte"] : rec["end_byte"]].decode() == rec["source"]
            assert rec["start_line"] <= rec["end_line"]
