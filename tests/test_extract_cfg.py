"""cfg_attr doc text, resolved for the docs.rs-like configuration."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from corpus.extract.cfg import DOC_CFG_FLAGS, cfg_attr_docs
from tests.test_extract_edges import doc_of

# Atoms with a known value in the docs configuration.
ATOMS = {
    'feature = "string"': True,
    "docsrs": True,
    "unix": True,
    "windows": False,
    "test": False,
    'target_os = "linux"': True,
    'target_os = "macos"': False,
    "miri": False,
}


def test_clap_conditional_fence_keeps_exactly_one_fence() -> None:
    # Regression: clap writes the opening fence in a pair of cfg_attrs; dropping both left an
    # unbalanced fence in 6 published docs.
    src = (
        "/// # Examples\n///\n"
        '#[cfg_attr(feature = "string", doc = "```")]\n'
        '#[cfg_attr(not(feature = "string"), doc = "```ignore")]\n'
        "/// let x = 1;\n/// ```\nfn f() {}\n"
    )
    assert doc_of(src) == "# Examples\n\n```\nlet x = 1;\n```"


def test_cfg_attr_doc_list_form_is_never_text() -> None:
    assert doc_of('#[cfg_attr(docsrs, doc(cfg(feature = "x")))]\nfn f() {}\n') is None
    assert doc_of("#[cfg_attr(docsrs, doc(hidden))]\n/// Shown.\nfn f() {}\n") == "Shown."


def test_cfg_attr_with_other_attributes_and_nesting() -> None:
    assert cfg_attr_docs('cfg_attr(unix, inline, doc = "a", allow(x), doc = r#"b"#)') == ["a", "b"]
    assert cfg_attr_docs('cfg_attr(windows, doc = "a")') == []
    assert cfg_attr_docs("cfg_attr(unix, inline)") == []
    assert cfg_attr_docs('cfg_attr(unix, doc = concat!("a"))') is None


def _render(tree: object) -> tuple[str, bool]:
    if isinstance(tree, str):
        return tree, ATOMS[tree]
    op, args = tree  # type: ignore[misc]
    parts = [_render(a) for a in args]
    text = f"{op}({', '.join(t for t, _ in parts)})"
    values = [v for _, v in parts]
    if op == "all":
        return text, all(values)
    if op == "any":
        return text, any(values)
    return text, not values[0]


predicates = st.recursive(
    st.sampled_from(sorted(ATOMS)),
    lambda inner: st.one_of(
        st.tuples(st.sampled_from(["all", "any"]), st.lists(inner, max_size=3)),
        st.tuples(st.just("not"), st.lists(inner, min_size=1, max_size=1)),
    ),
    max_leaves=8,
)


@given(predicates)
def test_cfg_predicates_evaluate_like_rustc(tree: object) -> None:
    text, expected = _render(tree)
    assert cfg_attr_docs(f'cfg_attr({text}, doc = "x")') == (["x"] if expected else [])


def test_flags_documented() -> None:
    assert {"docsrs", "doc", "unix"} == set(DOC_CFG_FLAGS)
