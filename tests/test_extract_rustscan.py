"""The lexical module scan and use-tree parsing the crate layout is built on."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.extract.public import UseLeaf, parse_use
from corpus.extract.rustscan import scan


def _mods(text: str) -> list[tuple[str, bool, bool]]:
    return [(m.name, m.public, m.inline) for m in scan(text).mods]


def test_comments_strings_and_literals_hide_nothing_and_fake_nothing() -> None:
    text = (
        "// mod a;\n/* mod b; /* nested */ mod c; */\n/// mod d;\n"
        'const S: &str = "mod e; }";\nconst R: &str = r#"mod f; " }"#;\n'
        "const C: char = '{';\nconst Q: char = '\\'';\nfn g<'a>(x: &'a str) -> char { '}' }\n"
        "pub mod real;\n"
    )
    assert _mods(text) == [("real", True, False)]


def test_bodies_are_skipped_and_macro_braces_are_not() -> None:
    text = (
        "fn f() { mod in_fn {} let x = { 1 }; }\n"
        "impl S { fn m() {} }\n"
        "cfg_rt! {\n    pub mod runtime;\n    pub struct Handle;\n}\n"
        "cfg_if::cfg_if! { if #[cfg(unix)] { mod unix; } else { mod other; } }\n"
        "pub(crate) mod krate;\n"
    )
    assert _mods(text) == [
        ("runtime", True, False),
        ("unix", False, False),
        ("other", False, False),
        ("krate", False, False),
    ]
    assert [(i.kind, i.name) for i in scan(text).items] == [
        ("fn", "f"),
        ("struct", "Handle"),
    ]


def test_attributes_path_hidden_test() -> None:
    text = (
        '#[path = "x/y.rs"]\nmod a;\n#[cfg_attr(docsrs, path = "z.rs")]\nmod b;\n'
        "#[doc(hidden)]\npub mod c;\n#[cfg(test)]\nmod tests;\n"
        'mod inner {\n    #[path = "deep.rs"]\n    mod d;\n}\n'
    )
    mods = {m.name: m for m in scan(text).mods}
    assert mods["a"].attrs.paths == ("x/y.rs",) and mods["a"].attrs.plain_path
    assert mods["b"].attrs.paths == ("z.rs",) and not mods["b"].attrs.plain_path
    assert mods["c"].attrs.hidden and mods["c"].public
    assert mods["tests"].attrs.test
    assert mods["d"].parents == (("inner", None),)


def test_inner_attributes_and_uses() -> None:
    fs = scan("#![doc(hidden)]\n//! Docs.\npub use self::a::{B, c as d /* x */};\nuse e::*;\n")
    assert fs.hidden
    assert [(u.tree, u.public) for u in fs.uses] == [
        ("self::a::{B, c as d }", True),
        ("e::*", False),
    ]


def test_macro_rules_bodies_are_kept_per_macro_with_their_invocations() -> None:
    fs = scan(
        "macro_rules! crate_root {\n    () => {\n        pub mod de;\n"
        "        pub use crate::de::Deserialize;\n        mod lib { pub use core::*; }\n    };\n}\n"
        "crate_root!();\nmod own;\n"
    )
    assert _mods("mod own;") == [("own", False, False)]
    assert [m.name for m in fs.mods] == ["own"]
    (body,) = fs.macros["crate_root"]
    assert [m.name for m in body.mods] == ["de", "lib"]
    assert [u.tree for u in body.uses] == ["crate::de::Deserialize", "core::*"]
    assert body.uses[1].parents == (("lib", None),)
    assert ("crate_root", ()) in fs.invocations


def test_use_trees() -> None:
    assert parse_use("self::a::{B, c as d, e::{self, F}, g::*}") == [
        UseLeaf(("self", "a", "B"), None, False),
        UseLeaf(("self", "a", "c"), "d", False),
        UseLeaf(("self", "a", "e", "self"), None, False),
        UseLeaf(("self", "a", "e", "F"), None, False),
        UseLeaf(("self", "a", "g"), None, True),
    ]
    assert [leaf.name for leaf in parse_use("a::{self, b as _}")] == ["a", None]
    assert parse_use("::std::fmt")[0].path == ("::", "std", "fmt")
    assert parse_use("r#type::X")[0].path == ("type", "X")
    assert parse_use("{") == [] and parse_use("") == []


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="mod pub{}();'\"/*#[]r!x\n", max_size=80))
def test_any_text_scans_without_error(text: str) -> None:
    scan(text)  # never raises, never loops
    parse_use(text)
