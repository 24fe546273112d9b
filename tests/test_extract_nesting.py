"""Deep nesting of every container kind: extraction stays linear, finds the innermost item,
and a file that asks for more than any real source does is dropped with a reason."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus.extract import context_for, extract_file_bytes
from corpus.extract.items import Budget

CTX = context_for(None, "src/deep.rs", repo="o/r", commit="c" * 40, license="MIT")

#: (opening, closing) of each container an fn can sit in; "{}" marks where the inside goes.
CONTAINERS = {
    "mod": ("mod m {\n", "}\n"),
    "fn_body": ("fn outer() {\n", "}\n"),
    "block": ("fn b() { {\n", "} }\n"),
    "const_block": ("const _: () = {\n", "};\n"),
    "impl_in_fn": ("fn host() { impl S {\n", "} }\n"),
    "closure": ("fn c() { let _ = || {\n", "}; }\n"),
    "macro": ("m! {\n", "}\n"),
    "cfg_mod": ('#[cfg(feature = "x")]\nmod c {\n', "}\n"),
}
INNER = "/// The innermost function.\npub fn innermost() -> u8 { 1 }\n"


def nest(kinds: list[str]) -> str:
    opens = "".join(CONTAINERS[k][0] for k in kinds)
    closes = "".join(CONTAINERS[k][1] for k in reversed(kinds))
    return opens + INNER + closes


#: Containers that are themselves fns: every level is a record whose source repeats all the
#: levels inside it, so thousands of them are dropped whole (``nesting_amplification``).
FN_CONTAINERS = {"fn_body", "block", "closure", "impl_in_fn"}


@pytest.mark.parametrize("kind", sorted(CONTAINERS))
def test_three_thousand_deep_of_each_kind_is_extracted_or_dropped_whole(kind: str) -> None:
    res = extract_file_bytes(nest([kind] * 3000).encode(), "src/deep.rs", CTX)
    names = [r["name"] for r in res.records]
    if kind in FN_CONTAINERS:
        assert res.records == [] and res.drops == {"nesting_amplification": 1}
        shallow = extract_file_bytes(nest([kind] * 40).encode(), "src/deep.rs", CTX)
        assert "innermost" in [r["name"] for r in shallow.records], shallow.drops
        return
    if kind == "macro":
        # A macro body is re-parsed only at item position one level down: no record, and no
        # crash, no hang, no drop of the file either.
        assert "innermost" in names or not res.drops, res.drops
        return
    assert "innermost" in names, (kind, res.drops)
    rec = next(r for r in res.records if r["name"] == "innermost")
    assert rec["doc"] == "The innermost function."
    if kind == "mod":
        assert rec["qualified_path"].split("::").count("m") == 3000


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from(sorted(CONTAINERS)), min_size=1, max_size=400).filter(
        lambda ks: sum(k in FN_CONTAINERS for k in ks) <= 30
    )
)
def test_any_mix_of_containers_is_extracted_without_a_drop(kinds: list[str]) -> None:
    res = extract_file_bytes(nest(kinds).encode(), "src/deep.rs", CTX)
    assert not {"file_time_budget", "nesting_amplification", "extractor_error"} & set(res.drops)
    if "macro" not in kinds:
        assert [r["name"] for r in res.records].count("innermost") == 1


def test_a_file_over_its_time_budget_is_dropped_whole_with_a_reason() -> None:
    data = nest(["mod"] * 200).encode()
    res = extract_file_bytes(data, "src/deep.rs", CTX, Budget(seconds=-1.0))
    assert res.records == [] and res.drops == {"file_time_budget": 1}


def test_nested_fns_whose_sources_repeat_the_file_many_times_are_dropped() -> None:
    # 2,000 nested fns: each record's source holds every fn inside it, ~2000x the file.
    data = nest(["fn_body"] * 2000).encode()
    res = extract_file_bytes(data, "src/deep.rs", CTX)
    assert res.records == [] and res.drops == {"nesting_amplification": 1}
    # The same depth of modules publishes one small record: nothing to drop.
    assert len(extract_file_bytes(nest(["mod"] * 2000).encode(), "src/d.rs", CTX).records) == 1


def _extractor_lines(source: str) -> int:
    """Lines of the extractor's Python run to extract ``source``: a count, not a timing."""
    import sys

    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        if "corpus/extract/" not in frame.f_code.co_filename:
            return None
        if event == "line":
            count += 1
        return tracer

    sys.settrace(tracer)
    try:
        extract_file_bytes(source.encode(), "src/deep.rs", CTX)
    finally:
        sys.settrace(None)
    return count


@pytest.mark.parametrize("kind", ["mod", "cfg_mod", "const_block", "macro"])
def test_work_grows_linearly_with_nesting_depth(kind: str) -> None:
    # Regression: the crate-path walker counted a frame's segments by walking them at every
    # `mod`, and 20,000 nested modules took 6.2 s again (0.15 s linear). Twice as deep must
    # be about twice the work; quadratic would be about four times.
    small, large = (_extractor_lines(nest([kind] * n)) for n in (600, 1200))
    assert large / small < 2.5, (small, large)
