"""One test per doc-attachment and coverage edge case (see shared/notes/rust-doc-rules.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.extract import context_for, extract_file_bytes
from corpus.schema import EXTRACT_COLUMNS, permalink, record_id

SHA = "b" * 40


def ex(src: str | bytes, path: str = "src/lib.rs", root: Path | None = None):
    """Extract one file's source; returns (records by name, FileResult)."""
    data = src.encode("utf-8") if isinstance(src, str) else src
    ctx = context_for(root, path, repo="o/r", commit=SHA, license="MIT")
    res = extract_file_bytes(data, path, ctx)
    return {r["name"]: r for r in res.records}, res


def doc_of(src: str, name: str = "f") -> str | None:
    recs, _ = ex(src)
    return recs[name]["doc"]


def test_attribute_between_doc_and_fn() -> None:
    src = "/// Before.\n#[inline]\n/// After.\n#[must_use]\npub fn f() -> u8 { 1 }\n"
    recs, _ = ex(src)
    assert recs["f"]["doc"] == "Before.\nAfter."
    assert recs["f"]["attributes"] == ["#[inline]", "#[must_use]"]


def test_plain_comment_above_fn_is_not_a_doc() -> None:
    assert doc_of("// Not a doc.\nfn f() {}\n") is None
    assert doc_of("/* not a doc */\nfn f() {}\n") is None


def test_plain_comment_between_doc_and_fn_is_skipped() -> None:
    assert doc_of("/// Real doc.\n// plain note\nfn f() {}\n") == "Real doc."


def test_four_slashes_and_three_stars_are_plain() -> None:
    assert doc_of("//// Not a doc.\nfn f() {}\n") is None
    assert doc_of("/*** not a doc */\nfn f() {}\n") is None
    assert doc_of("/**/\nfn f() {}\n") is None


def test_doc_hidden_is_not_doc_text() -> None:
    recs, _ = ex("/// Shown.\n#[doc(hidden)]\npub fn f() {}\n#[doc(hidden)]\npub fn g() {}\n")
    assert recs["f"]["doc"] == "Shown."
    assert recs["g"]["doc"] is None
    assert recs["g"]["attributes"] == ["#[doc(hidden)]"]


def test_cfg_attr_doc_is_not_doc_text() -> None:
    src = '#[cfg_attr(docsrs, doc(cfg(feature = "x")))]\n#[cfg_attr(x, doc = "y")]\nfn f() {}\n'
    assert doc_of(src) is None


def test_doc_attribute_string_and_raw_string() -> None:
    src = '#[doc = "Line one \\"quoted\\"\\n\\tx"]\n#[doc = r#"Raw "text""#]\nfn f() {}\n'
    assert doc_of(src) == 'Line one "quoted"\n\tx\nRaw "text"'


def test_include_str_doc_resolved_relative_to_file(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "f.md").write_text("Included doc.\n\nMore.\n")
    src = '#[doc = include_str!("../docs/f.md")]\npub fn f() {}\n'
    recs, _ = ex(src, "src/lib.rs", root=tmp_path)
    assert recs["f"]["doc"] == "Included doc.\n\nMore."
    assert recs["f"]["doc_include"] == "docs/f.md"
    assert recs["f"]["doc_unresolved"] is False


def test_include_str_missing_or_outside_is_flagged(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path.parent / "outside.md").write_text("secret")
    src = (
        '#[doc = include_str!("missing.md")]\npub fn f() {}\n'
        '#[doc = include_str!("../../outside.md")]\npub fn g() {}\n'
        '#[doc = concat!("a", "b")]\npub fn h() {}\n'
    )
    recs, _ = ex(src, "src/lib.rs", root=tmp_path)
    for name in ("f", "g", "h"):
        assert recs[name]["doc"] is None
        assert recs[name]["doc_unresolved"] is True
    assert recs["f"]["doc_include"] == "src/missing.md"


def test_crlf_line_docs_are_normalised() -> None:
    recs, _ = ex(b"/// One.\r\n///\r\n/// Two.\r\nfn f() {}\r\n")
    assert recs["f"]["doc"] == "One.\n\nTwo."
    assert recs["f"]["start_line"] == 4


def test_block_doc_gutters_are_removed() -> None:
    src = "/**\n * Summary line.\n *\n * Details.\n */\nfn f() {}\n"
    assert doc_of(src) == "Summary line.\n\nDetails."
    assert doc_of("/** One line. */\nfn f() {}\n") == "One line."


def test_block_doc_without_gutters_is_unindented() -> None:
    assert doc_of("/**\n    Indented.\n      More.\n*/\nfn f() {}\n") == "Indented.\n  More."


def test_raw_identifier_names() -> None:
    recs, _ = ex("/// Matches.\npub fn r#match() {}\n")
    rec = recs["match"]
    assert rec["raw_name"] == "r#match"
    assert rec["qualified_path"].endswith("::match")
    assert rec["doc"] == "Matches."


def test_orphan_doc_at_end_of_block_belongs_to_nothing() -> None:
    recs, _ = ex("mod m {\n    fn f() {}\n    /// Orphan.\n}\nfn g() {}\n")
    assert recs["f"]["doc"] is None
    assert recs["g"]["doc"] is None


def test_inner_doc_is_never_attached() -> None:
    src = "//! Crate doc.\nfn f() {}\nmod m {\n    //! Module doc.\n    fn g() {}\n}\n"
    recs, _ = ex(src)
    assert recs["f"]["doc"] is None
    assert recs["g"]["doc"] is None


def test_doc_does_not_cross_an_item() -> None:
    recs, _ = ex("/// For the struct.\nstruct S;\nfn f() {}\n")
    assert recs["f"]["doc"] is None


def test_trait_required_and_default_methods() -> None:
    src = (
        "pub trait Shape {\n    /// Area.\n    fn area(&self) -> f64;\n"
        '    /// Name.\n    fn name(&self) -> &str { "shape" }\n}\n'
    )
    recs, _ = ex(src)
    assert recs["area"]["container_kind"] == "trait"
    assert recs["area"]["has_body"] is False
    assert recs["area"]["signature"] == "fn area(&self) -> f64"
    assert recs["area"]["trait_name"] == "Shape"
    assert recs["name"]["has_body"] is True
    assert recs["name"]["doc"] == "Name."
    assert recs["area"]["qualified_path"] == "src::lib::Shape::area"


def test_extern_block_fns() -> None:
    recs, _ = ex(
        'extern "C" {\n    /// Abs.\n    pub fn abs(x: i32) -> i32;\n}\nextern {\n    fn bare();\n}\n'
    )
    assert recs["abs"]["container_kind"] == "extern"
    assert recs["abs"]["extern_abi"] == "C"
    assert recs["abs"]["doc"] == "Abs."
    assert recs["bare"]["extern_abi"] == "C"


def test_extern_abi_on_fn() -> None:
    recs, _ = ex('pub unsafe extern "system" fn cb() {}\nextern fn bare() {}\n')
    assert recs["cb"]["extern_abi"] == "system"
    assert recs["cb"]["is_unsafe"] is True
    assert recs["bare"]["extern_abi"] == "C"


def test_nested_mods_any_depth() -> None:
    src = "mod a {\n    pub mod b {\n        mod c {\n            /// Deep.\n            fn f() {}\n        }\n    }\n}\n"
    recs, _ = ex(src, "crate_dir/src/x.rs")
    assert recs["f"]["qualified_path"] == "crate_dir::src::x::a::b::c::f"
    assert recs["f"]["doc"] == "Deep."


def test_qualified_path_from_crate_layout(tmp_path: Path) -> None:
    (tmp_path / "Cargo.toml").write_text('[package]\nname = "my-crate"\n')
    src = "pub struct S;\nimpl S { pub fn new() -> S { S } }\nimpl Default for S { fn default() -> S { S } }\n"
    recs, _ = ex(src, "src/io/util.rs", root=tmp_path)
    assert recs["new"]["qualified_path"] == "my_crate::io::util::S::new"
    assert recs["default"]["qualified_path"] == "my_crate::io::util::<S as Default>::default"
    assert recs["default"]["container_kind"] == "trait_impl"
    assert recs["default"]["self_type"] == "S"
    assert recs["default"]["trait_name"] == "Default"
    recs, _ = ex(src, "src/io/mod.rs", root=tmp_path)
    assert recs["new"]["qualified_path"] == "my_crate::io::S::new"
    recs, _ = ex(src, "src/lib.rs", root=tmp_path)
    assert recs["new"]["qualified_path"] == "my_crate::S::new"


def test_nested_fn_is_flagged_and_free() -> None:
    src = "impl S {\n    fn outer(&self) {\n        /// Inner doc.\n        fn inner() {}\n        inner();\n    }\n}\n"
    recs, _ = ex(src)
    assert recs["inner"]["is_nested"] is True
    assert recs["inner"]["container_kind"] == "free"
    assert recs["inner"]["doc"] == "Inner doc."
    assert recs["inner"]["qualified_path"] == "src::lib::S::outer::inner"
    assert recs["outer"]["is_nested"] is False
    assert recs["outer"]["container_kind"] == "impl"


def test_nested_fn_doc_stops_at_statement() -> None:
    recs, _ = ex("fn outer() {\n    /// Stray.\n    let x = 1;\n    fn inner() {}\n}\n")
    assert recs["inner"]["doc"] is None


def test_macro_bodies_are_reparsed_and_flagged() -> None:
    src = (
        "cfg_rt! {\n    /// In a macro.\n    #[inline]\n    pub fn spawn() {}\n}\n"
        "impl Handle {\n    cfg_net! {\n        /// Method in macro.\n        pub fn bind(&self) {}\n    }\n}\n"
        "outer! { inner! { fn deep() {} } }\n"
    )
    recs, _ = ex(src)
    assert recs["spawn"]["origin"] == "macro:cfg_rt"
    assert recs["spawn"]["doc"] == "In a macro."
    assert recs["spawn"]["attributes"] == ["#[inline]"]
    assert recs["spawn"]["start_line"] == 4
    assert recs["bind"]["container_kind"] == "impl"
    assert recs["bind"]["self_type"] == "Handle"
    assert recs["bind"]["origin"] == "macro:cfg_net"
    assert recs["deep"]["origin"] == "macro:inner"
    # spans point into the original file
    data = src.encode()
    for rec in recs.values():
        assert data[rec["start_byte"] : rec["end_byte"]].decode() == rec["source"]


def test_macro_body_with_metavariables_keeps_clean_fns() -> None:
    src = (
        "gen! {\n    fn good() {}\n    fn $name() -> $t { $body }\n    fn broken( {\n    }\n"
        "    fn also_good(x: u8) {}\n    @@ => ;\n}\n"
    )
    recs, res = ex(src)
    assert set(recs) == {"good", "also_good"}
    assert recs["good"]["file_parse_error"] is True
    assert recs["good"]["parse_error"] is False  # its own span is clean
    assert res.drops["macro_template_fn"] == 1
    assert res.drops["macro_fn_with_error"] + res.drops["macro_fn_in_error"] >= 1


def test_macro_rules_definitions_are_not_items() -> None:
    recs, _ = ex("macro_rules! m {\n    () => { fn hidden() {} };\n}\n")
    assert recs == {}


def test_error_in_one_fn_keeps_neighbours() -> None:
    src = (
        "/// Before.\nfn before() {}\nfn broken( { let = ; }\n/// After.\nfn after() -> u8 { 1 }\n"
    )
    recs, res = ex(src)
    assert recs["before"]["doc"] == "Before."
    assert recs["after"]["doc"] == "After."
    assert recs["after"]["file_parse_error"] is True
    assert recs["after"]["parse_error"] is False and recs["before"]["parse_error"] is False
    assert "broken" not in recs
    assert sum(res.drops.values()) >= 1


def test_mostly_error_file_is_dropped_and_counted() -> None:
    recs, res = ex("fn ok() {}\n" + "@@@ ### $$$ %%% ^^^ \x01\n" * 50)
    assert recs == {}
    assert res.drops["mostly_error_file"] == 1


def test_non_utf8_file_is_counted_not_crashing() -> None:
    recs, res = ex(b"/// Caf\xe9.\nfn f() {}\n")
    assert recs == {}
    assert res.drops["non_utf8_file"] == 1


def test_bom_keeps_offsets() -> None:
    data = "\ufeff/// Doc.\nfn f() {}\n".encode()
    recs, _ = ex(data)
    rec = recs["f"]
    assert data[rec["start_byte"] : rec["end_byte"]].decode() == rec["source"]
    assert rec["doc"] == "Doc."


def test_blank_lines_between_doc_and_fn_do_not_matter() -> None:
    assert doc_of("/// Doc.\n\n\nfn f() {}\n") == "Doc."


def test_signature_modifiers_generics_where() -> None:
    src = (
        "pub(crate) const unsafe fn f<'a, T: Clone>(\n    &'a self,\n    x: T, // the x\n"
        "    mut y: u8,\n) -> Result<(), E>\nwhere\n    T: Copy,\n{\n    todo!()\n}\n"
        "pub async fn g() {}\n"
    )
    recs, _ = ex(src)
    f = recs["f"]
    # As rustfmt prints it on one line: no space inside brackets, no trailing commas.
    assert f["signature"] == (
        "pub(crate) const unsafe fn f<'a, T: Clone>(&'a self, x: T, mut y: u8) "
        "-> Result<(), E> where T: Copy"
    )
    assert f["visibility"] == "pub(crate)"
    assert (f["is_const"], f["is_unsafe"], f["is_async"]) == (True, True, False)
    assert f["generics"] == "<'a, T: Clone>"
    assert f["where_clause"] == "where T: Copy"
    assert f["params"] == ["&'a self", "x: T", "mut y: u8"]
    assert f["return_type"] == "Result<(), E>"
    assert f["source"].startswith("pub(crate) const unsafe fn f") and f["source"].endswith("}")
    assert recs["g"]["is_async"] is True and recs["g"]["visibility"] == "pub"
    assert recs["g"]["return_type"] is None


def test_test_reasons(tmp_path: Path) -> None:
    src = (
        '#[test]\nfn t1() {}\n#[tokio::test(flavor = "multi_thread")]\nasync fn t2() {}\n'
        "#[cfg(test)]\nmod tests {\n    fn helper() {}\n}\n"
        "#[cfg(not(test))]\nmod real {\n    fn r() {}\n}\nfn plain() {}\n"
    )
    recs, _ = ex(src)
    assert recs["t1"]["test_reason"] == "attribute:test"
    assert recs["t2"]["test_reason"] == "attribute:tokio::test"
    assert recs["helper"]["test_reason"] == "cfg_test_module"
    assert recs["r"]["is_test"] is False
    assert recs["plain"]["is_test"] is False
    recs, _ = ex("fn x() {}\n", "tests/integration.rs")
    assert recs["x"]["test_reason"] == "path:tests"
    recs, _ = ex("#![cfg(test)]\nfn y() {}\n", "src/thing.rs")
    assert recs["y"]["test_reason"] == "cfg_test_module"


def test_summary_and_sections() -> None:
    src = (
        "/// Does a thing\n/// in two lines.\n///\n/// More.\n///\n/// # Examples\n///\n"
        "/// ```\n/// # Errors\n/// ```\n///\n/// # Panics\n///\n/// Never.\nfn f() {}\n"
    )
    recs, _ = ex(src)
    assert recs["f"]["doc_summary"] == "Does a thing in two lines."
    assert recs["f"]["doc_sections"] == ["Examples", "Panics"]  # `# Errors` is inside a fence


def test_provenance_fields_are_consistent() -> None:
    src = "\n\n/// Doc.\npub fn f() {\n    1;\n}\n"
    recs, _ = ex(src)
    r = recs["f"]
    assert set(r) == set(EXTRACT_COLUMNS)
    assert (r["start_line"], r["end_line"]) == (4, 6)
    assert src.encode()[r["start_byte"] : r["end_byte"]].decode() == r["source"]
    assert r["id"] == record_id(
        "o/r", SHA, "src/lib.rs", r["start_byte"], r["end_byte"], r["source"]
    )
    assert r["permalink"] == permalink("o/r", SHA, "src/lib.rs", 4, 6)
    assert r["permalink"].endswith("/blob/" + SHA + "/src/lib.rs#L4-L6")


@pytest.mark.parametrize(
    ("bad", "drops"),
    [
        (b"", {}),
        (b"\x00\x00", {"mostly_error_file": 1}),
        (b"fn", {"mostly_error_file": 1}),
        (b"}}}}", {"mostly_error_file": 1}),
        (b"/// only a doc", {}),
        (b"\xff\xfe fn f() {}", {"non_utf8_file": 1}),
        (b"fn (x: u8) {}\nfn ok() {}\n", None),  # not an item: the next fn is unaffected
    ],
)
def test_degenerate_inputs(bad: bytes, drops: dict | None) -> None:
    # Nothing is extracted from input with no function item, and nothing crashes; what is
    # dropped is counted under its reason.
    recs, res = ex(bad)
    if drops is None:
        assert list(recs) == ["ok"] and res.parse_error and not res.drops
    else:
        assert recs == {} and dict(res.drops) == drops


def test_error_only_in_body_keeps_the_fn() -> None:
    # Regression: tree-sitter-rust cannot parse `str![..]` (a macro named like a primitive
    # type); 170 clap test fns were lost as fn_with_error.
    src = '/// Doc.\nfn t() {\n    let expected = str![[r#"x"#]];\n}\nfn after() {}\n'
    recs, _ = ex(src)
    assert recs["t"]["doc"] == "Doc."
    assert recs["t"]["parse_error"] is True and recs["t"]["file_parse_error"] is True
    assert recs["t"]["signature"] == "fn t()"
    assert recs["after"]["parse_error"] is False and recs["after"]["file_parse_error"] is True


def test_error_in_signature_drops_the_fn() -> None:
    recs, res = ex("fn bad(x: ) -> { }\nfn good() {}\n")
    assert "bad" not in recs and "good" in recs
    assert res.drops["fn_with_error"] == 1


def test_mixed_sugared_and_attr_fragments_unindent_like_rustdoc() -> None:
    # rustdoc counts one extra column for #[doc] fragments mixed with `///` ones.
    assert doc_of('/// Line\n#[doc = "attr"]\nfn f() {}\n') == "Line\nattr"
    assert doc_of('///     code\n#[doc = "attr"]\nfn f() {}\n') == "    code\nattr"


def test_include_fragment_trailing_newline_does_not_add_a_blank_line(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.md").write_text("From file.\n")
    src = '#[doc = include_str!("a.md")]\n/// After.\npub fn f() {}\n'
    recs, _ = ex(src, "src/lib.rs", root=tmp_path)
    assert recs["f"]["doc"] == "From file.\nAfter."


def test_cfg_test_modules_inside_macro_bodies_do_not_leak() -> None:
    # Regression guard: the cfg(test) cache is per tree (node ids are reused across trees).
    src = (
        "#[cfg(test)]\nmod tests {\n    fn in_test() {}\n}\n"
        + "".join(
            f"m{i}! {{\n    mod inner{i} {{\n        fn f{i}() {{}}\n    }}\n}}\n"
            for i in range(30)
        )
        + "mod real {\n    fn not_test() {}\n}\n"
    )
    for _ in range(3):
        recs, _ = ex(src)
        assert recs["in_test"]["is_test"] is True
        assert not any(recs[f"f{i}"]["is_test"] for i in range(30))
        assert recs["not_test"]["is_test"] is False


def test_fns_below_item_level_are_found() -> None:
    # The walker queries only sub-trees containing the `fn` keyword; these must all be found.
    src = (
        "const _: () = {\n    fn in_const() {}\n};\n"
        "fn outer() {\n    struct S;\n    impl S {\n        fn in_body_impl(&self) {}\n    }\n"
        "    let c = || {\n        fn in_closure() {}\n    };\n}\n"
        "static F: fn() = { fn in_static() {} in_static };\n"
        "struct P { f: fn(u8) }\n"
    )
    recs, _ = ex(src)
    assert set(recs) == {"in_const", "outer", "in_body_impl", "in_closure", "in_static"}
    # a method of an impl written inside a fn body: an impl method, and nested
    assert recs["in_body_impl"]["container_kind"] == "impl"
    assert recs["in_body_impl"]["self_type"] == "S"
    assert recs["in_body_impl"]["is_nested"] is True
    assert recs["in_closure"]["qualified_path"] == "src::lib::outer::in_closure"


@pytest.mark.parametrize(
    "attr",
    [
        r'#[doc = "\u{110000}"]',
        r'#[doc = "\u{D800}"]',
        r'#[doc = "\xFF"]',
        r'#[cfg_attr(docsrs, doc = "\u{FFFFFFFF}")]',
    ],
)
def test_escapes_rustc_rejects_leave_the_doc_unresolved(attr: str) -> None:
    # Regression: chr() raised on these and cost the whole repository its records.
    recs, _ = ex(f"{attr}\nfn f() {{}}\nfn g() {{}}\n")
    assert recs["f"]["doc"] is None and recs["f"]["doc_unresolved"] is True
    assert "g" in recs


def test_cfg_predicates_decide_test_code() -> None:
    # Regression: `cfg(not(all(test, loom)))` was taken for test code (only `not(x)` without
    # nested parentheses was understood), and `#[cfg(test)]` on an impl or fn was missed.
    src = (
        "#[cfg(not(all(test, loom)))]\nmod imp {\n    pub fn lock() {}\n}\n"
        '#[cfg(all(test, feature = "x"))]\nmod only_tests {\n    fn t() {}\n}\n'
        "struct Foo;\n#[cfg(test)]\nimpl Foo {\n    fn helper() {}\n}\n"
        "#[cfg(test)]\nfn fixture() {}\n"
        "#[cfg(any(test, unix))]\nfn both() {}\n"
    )
    recs, _ = ex(src)
    assert recs["lock"]["is_test"] is False
    assert recs["t"]["test_reason"] == "cfg_test_module"
    assert recs["helper"]["test_reason"] == "cfg_test"
    assert recs["fixture"]["test_reason"] == "cfg_test"
    assert recs["both"]["is_test"] is False  # compiled in normal (unix) builds too


def test_crate_name_follows_the_checkout_across_pins(tmp_path: Path) -> None:
    # Regression: the crate name was cached by path for the whole process.
    import os

    toml = tmp_path / "Cargo.toml"
    toml.write_text('[package]\nname = "old-name"\n')
    recs, _ = ex("pub fn f() {}\n", "src/lib.rs", root=tmp_path)
    assert recs["f"]["qualified_path"] == "old_name::f"
    toml.write_text('[package]\nname = "renamed-crate"\n')
    os.utime(toml, ns=(1, 2_000_000_000_000_000_000))
    recs, _ = ex("pub fn f() {}\n", "src/lib.rs", root=tmp_path)
    assert recs["f"]["qualified_path"] == "renamed_crate::f"


@pytest.mark.parametrize(
    ("written", "printed"),
    [
        (
            "fn f<P: AsRef<Path>>(\n    &self,\n    dir: P,\n) -> T {}",
            "fn f<P: AsRef<Path>>(&self, dir: P) -> T",
        ),
        ("fn f( x : u8 , ) {}", "fn f(x: u8)"),
        (
            "fn f<'a, T: ?Sized + Fn(u8) -> u8>(x: &'a T) {}",
            "fn f<'a, T: ?Sized + Fn(u8) -> u8>(x: &'a T)",
        ),
        (
            "fn f(x: &[u8; N], y: *const u8, z: &&str) {}",
            "fn f(x: &[u8; N], y: *const u8, z: &&str)",
        ),
        (
            "fn f(y: <T as Tr>::Out) -> Box<dyn Error + 'static> {}",
            "fn f(y: <T as Tr>::Out) -> Box<dyn Error + 'static>",
        ),
        (
            "fn f<F>(f: F) where F: for<'a> Fn(&'a str) -> &'a str, {}",
            "fn f<F>(f: F) where F: for<'a> Fn(&'a str) -> &'a str",
        ),
        (
            'pub(crate) extern "C" fn f(x: u8 /* the x */) -> ! {}',
            'pub(crate) extern "C" fn f(x: u8) -> !',
        ),
        (
            "fn f((a, b): (u8, u8), mut s: Box<Self>) -> ty!(u8) {}",
            "fn f((a, b): (u8, u8), mut s: Box<Self>) -> ty!(u8)",
        ),
        (
            "fn f<const N: usize>(x: [u8; { N + 1 }]) -> Vec<Vec<u8>,> {}",
            "fn f<const N: usize>(x: [u8; { N + 1 }]) -> Vec<Vec<u8>>",
        ),
    ],
)
def test_signatures_print_as_rustfmt_does_on_one_line(written: str, printed: str) -> None:
    recs, _ = ex(written + "\n")
    assert recs["f"]["signature"] == printed
    # and it is still a function signature tree-sitter parses cleanly
    from corpus.extract.parser import parse

    assert not parse((printed + " {}").encode()).root_node.has_error
