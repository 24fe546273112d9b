"""A Cargo workspace laid out like the seven repositories, in one git repo: a root package whose
binary lives elsewhere (``[[bin]] path``, like ripgrep's ``rg``), ``autotests = false`` with a
``[[test]]``, a build script, a library with ``[lib] name`` and private modules re-exported
(``pub use``, globs, renames, ``pub(crate)``, ``#[doc(hidden)]``), ``#[path]`` modules (one
escaping the checkout, one into ``.git``, one a cycle), a macro-declared module tree (serde's
``crate_root!``), ``src/bin/*.rs`` and ``src/bin/*/main.rs``, examples, benches, tests with a
shared module, a proc-macro crate, a member excluded from the workspace, a malformed manifest,
and a trybuild-style file no target reads.

``EXPECTED`` maps (file, fn) to (crate_name, target_kind, def_path, public_path).
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

from tests.gitrepos import make_repo

ROOT_TOML = """\
[workspace]
members = ["crates/m*"]
exclude = ["crates/mexcluded"]

[package]
name = "my-app"
version = "0.1.0"
edition = "2021"
autotests = false
build = "build.rs"

[[bin]]
name = "app"
path = "crates/core/main.rs"

[[test]]
name = "integration"
path = "tests/tests.rs"

[dependencies]
my-lib = { path = "crates/mylib" }
"""

LIB_TOML = """\
[package]
name = "my-lib"
version = "0.1.0"
edition = "2021"

[lib]
name = "mylib"
"""

MACROS_TOML = """\
[package]
name = "my-macros"
version = "0.1.0"
edition = "2021"

[lib]
proc-macro = true
"""

LIB_RS = """\
//! The library.
mod private;
pub mod public;
mod re {
    pub mod deep;
}
#[path = "odd/place.rs"]
pub mod placed;
pub use crate::private::Thing;
pub use self::private::helpers::*;
pub use private::Renamed as Alias;
pub(crate) use private::Internal;
#[doc(hidden)]
pub use private::Hidden;

/// Free.
pub fn top() {}
pub(crate) fn internal() {}
#[doc(hidden)]
pub fn hidden_fn() {}

#[path = "lib.rs"]
mod again;
#[path = "../../../../../outside.rs"]
mod evil;
#[path = "../../../.git/config"]
mod sneaky;

cfg_if::cfg_if! {
    if #[cfg(unix)] {
        mod unix_only;
        pub use unix_only::Unix;
    }
}

// mod commented_out;
const _: &str = "mod in_a_string;";

macro_rules! crate_root {
    () => {
        pub mod de;
        mod hidden_by_macro;
    };
}
crate_root!();
"""

PRIVATE_RS = """\
pub mod helpers;
pub struct Thing;
pub struct Renamed;
pub struct Internal;
pub struct Hidden;

impl Thing {
    /// New.
    pub fn new() -> Self {
        Thing
    }
    fn private_method(&self) {}
}

impl<T: Into<String>> From<T> for Thing {
    fn from(_: T) -> Self {
        Thing
    }
}

impl From<Thing> for Box<dyn std::error::Error> {
    fn from(_: Thing) -> Self {
        todo!()
    }
}

impl Renamed {
    pub fn make() {}
}

impl Internal {
    pub fn touch() {}
}

impl Hidden {
    pub fn peek() {}
}
"""

FILES: dict[str, str] = {
    "Cargo.toml": ROOT_TOML,
    "LICENSE": "MIT\n",
    "build.rs": "fn main() {}\n",
    "crates/core/main.rs": (
        'mod flags;\n#[cfg(feature = "idx")]\n#[path = "index/enabled.rs"]\nmod index;\n'
        "/// Entry.\nfn main() {}\n"
    ),
    "crates/core/flags/mod.rs": "pub mod config;\n",
    "crates/core/flags/config.rs": "/// Parses args.\npub fn args() {}\n",
    "crates/core/index/enabled.rs": "pub fn build() {}\n",
    "tests/tests.rs": "mod util;\n#[test]\nfn t() {}\n",
    "tests/util.rs": "pub fn helper() {}\n",
    "tests/other.rs": "fn lonely() {}\n",
    "crates/mylib/Cargo.toml": LIB_TOML,
    "crates/mylib/build.rs": "fn main() {}\n",
    "crates/mylib/src/lib.rs": LIB_RS,
    "crates/mylib/src/private/mod.rs": PRIVATE_RS,
    "crates/mylib/src/private/helpers.rs": "pub fn assist() {}\nfn quiet() {}\n",
    "crates/mylib/src/public.rs": (
        "pub trait Greet {\n    fn hi(&self);\n}\npub fn visible() {}\n"
        "#[cfg(test)]\nmod tests {\n    #[test]\n    fn t() {}\n}\n"
    ),
    "crates/mylib/src/re/deep.rs": "pub fn deep() {}\n",
    "crates/mylib/src/odd/place.rs": "pub fn placed() {}\n",
    "crates/mylib/src/unix_only.rs": "pub struct Unix;\nimpl Unix {\n    pub fn go() {}\n}\n",
    "crates/mylib/src/de.rs": "pub struct Thing2;\nimpl Thing2 {\n    pub fn new() {}\n}\n",
    "crates/mylib/src/hidden_by_macro.rs": "pub fn secret() {}\n",
    "crates/mylib/src/bin/tool.rs": "fn main() {}\n",
    "crates/mylib/src/bin/multi/main.rs": "mod helper;\nfn main() {}\n",
    "crates/mylib/src/bin/multi/helper.rs": "pub fn help() {}\n",
    "crates/mylib/examples/demo.rs": "fn main() {}\n",
    "crates/mylib/examples/big/main.rs": "fn main() {}\n",
    "crates/mylib/benches/speed.rs": "fn main() {}\n",
    "crates/mylib/tests/it.rs": "mod common;\n#[test]\nfn it() {}\n",
    "crates/mylib/tests/it2.rs": "mod common;\n#[test]\nfn it2() {}\n",
    "crates/mylib/tests/common/mod.rs": "pub fn setup() {}\n",
    "crates/mylib/tests/ui/fail.rs": "fn main() {}\n",
    "crates/macros/Cargo.toml": MACROS_TOML,
    "crates/macros/src/lib.rs": (
        "#[proc_macro_derive(Thing)]\npub fn derive_thing(input: TokenStream) -> TokenStream {\n"
        "    input\n}\nfn helper() {}\n"
    ),
    "crates/mexcluded/Cargo.toml": '[package]\nname = "excluded"\nversion = "0.1.0"\n',
    "crates/mexcluded/src/lib.rs": "pub fn out() {}\n",
    "data/Cargo.toml": "this is = not [valid toml\n",
}

_L = "crates/mylib/src/"
EXPECTED: dict[tuple[str, str], tuple[str, str | None, str, str | None]] = {
    ("build.rs", "main"): ("build_script_build", "build-script", "build_script_build::main", None),
    ("crates/core/main.rs", "main"): ("app", "bin", "app::main", None),
    ("crates/core/flags/config.rs", "args"): ("app", "bin", "app::flags::config::args", None),
    ("crates/core/index/enabled.rs", "build"): ("app", "bin", "app::index::build", None),
    ("tests/tests.rs", "t"): ("integration", "test", "integration::t", None),
    ("tests/util.rs", "helper"): ("integration", "test", "integration::util::helper", None),
    ("tests/other.rs", "lonely"): ("tests", None, "tests::other::lonely", None),
    ("crates/mylib/build.rs", "main"): (
        "build_script_build", "build-script", "build_script_build::main", None),
    (_L + "lib.rs", "top"): ("mylib", "lib", "mylib::top", "mylib::top"),
    (_L + "lib.rs", "internal"): ("mylib", "lib", "mylib::internal", None),
    (_L + "lib.rs", "hidden_fn"): ("mylib", "lib", "mylib::hidden_fn", None),
    (_L + "private/mod.rs", "new"): (
        "mylib", "lib", "mylib::private::Thing::new", "mylib::Thing::new"),
    (_L + "private/mod.rs", "private_method"): (
        "mylib", "lib", "mylib::private::Thing::private_method", None),
    (_L + "private/mod.rs", "make"): (
        "mylib", "lib", "mylib::private::Renamed::make", "mylib::Alias::make"),
    (_L + "private/mod.rs", "touch"): ("mylib", "lib", "mylib::private::Internal::touch", None),
    (_L + "private/mod.rs", "peek"): ("mylib", "lib", "mylib::private::Hidden::peek", None),
    (_L + "private/helpers.rs", "assist"): (
        "mylib", "lib", "mylib::private::helpers::assist", "mylib::assist"),
    (_L + "private/helpers.rs", "quiet"): ("mylib", "lib", "mylib::private::helpers::quiet", None),
    (_L + "public.rs", "hi"): ("mylib", "lib", "mylib::public::Greet::hi", "mylib::public::Greet::hi"),
    (_L + "public.rs", "visible"): (
        "mylib", "lib", "mylib::public::visible", "mylib::public::visible"),
    (_L + "public.rs", "t"): ("mylib", "lib", "mylib::public::tests::t", None),
    (_L + "re/deep.rs", "deep"): ("mylib", "lib", "mylib::re::deep::deep", None),
    (_L + "odd/place.rs", "placed"): (
        "mylib", "lib", "mylib::placed::placed", "mylib::placed::placed"),
    (_L + "unix_only.rs", "go"): ("mylib", "lib", "mylib::unix_only::Unix::go", "mylib::Unix::go"),
    (_L + "de.rs", "new"): ("mylib", "lib", "mylib::de::Thing2::new", "mylib::de::Thing2::new"),
    (_L + "hidden_by_macro.rs", "secret"): ("mylib", "lib", "mylib::hidden_by_macro::secret", None),
    (_L + "bin/tool.rs", "main"): ("tool", "bin", "tool::main", None),
    (_L + "bin/multi/main.rs", "main"): ("multi", "bin", "multi::main", None),
    (_L + "bin/multi/helper.rs", "help"): ("multi", "bin", "multi::helper::help", None),
    ("crates/mylib/examples/demo.rs", "main"): ("demo", "example", "demo::main", None),
    ("crates/mylib/examples/big/main.rs", "main"): ("big", "example", "big::main", None),
    ("crates/mylib/benches/speed.rs", "main"): ("speed", "bench", "speed::main", None),
    ("crates/mylib/tests/it.rs", "it"): ("it", "test", "it::it", None),
    ("crates/mylib/tests/common/mod.rs", "setup"): ("it", "test", "it::common::setup", None),
    ("crates/macros/src/lib.rs", "derive_thing"): (
        "my_macros", "proc-macro", "my_macros::derive_thing", "my_macros::Thing"),
    ("crates/macros/src/lib.rs", "helper"): ("my_macros", "proc-macro", "my_macros::helper", None),
    ("crates/mylib/tests/ui/fail.rs", "main"): ("tests", None, "tests::ui::fail::main", None),
    ("crates/mexcluded/src/lib.rs", "out"): ("excluded", "lib", "excluded::out", "excluded::out"),
}  # fmt: skip

#: the trait impls' methods (both named `from`), by their def paths
TRAIT_IMPLS = {
    "mylib::private::<Thing as From<T>>::from": "mylib::<Thing as From<T>>::from",
    "mylib::private::<Box<dyn std::error::Error> as From<Thing>>::from": (
        "mylib::<Box<dyn std::error::Error> as From<Thing>>::from"
    ),
}

#: (kind, name, path) of every target cargo metadata reports for the workspace (cargo 1.95)
CARGO_TARGETS = {
    ("bin", "app", "crates/core/main.rs"),
    ("test", "integration", "tests/tests.rs"),
    ("build-script", "build-script-build", "build.rs"),
    ("lib", "mylib", "crates/mylib/src/lib.rs"),
    ("bin", "tool", "crates/mylib/src/bin/tool.rs"),
    ("bin", "multi", "crates/mylib/src/bin/multi/main.rs"),
    ("example", "demo", "crates/mylib/examples/demo.rs"),
    ("example", "big", "crates/mylib/examples/big/main.rs"),
    ("test", "it", "crates/mylib/tests/it.rs"),
    ("test", "it2", "crates/mylib/tests/it2.rs"),
    ("bench", "speed", "crates/mylib/benches/speed.rs"),
    ("build-script", "build-script-build", "crates/mylib/build.rs"),
    ("proc-macro", "my_macros", "crates/macros/src/lib.rs"),
}
CARGO_MEMBERS = ["", "crates/mylib", "crates/macros"]


def make_workspace(root: Path) -> str:
    """Write the workspace as a git repository at ``root``; return its commit."""
    return make_repo(root, dict(FILES))


# --------------------------------------------------------------------------- generated trees
_NAMES = st.sampled_from(["alpha", "beta", "gamma", "delta", "r#type", "mod_x"])


@st.composite
def module_trees(draw, depth: int = 0) -> list[dict]:
    """Children of a module: name, how declared (file, dir/mod.rs, inline), pub or not."""
    names = draw(st.lists(_NAMES, unique=True, max_size=3 if depth < 3 else 0))
    return [
        {
            "name": n,
            "style": draw(st.sampled_from(["file", "mod_rs", "inline"])),
            "pub": draw(st.booleans()),
            "fn_pub": draw(st.booleans()),
            "children": draw(module_trees(depth + 1)),
        }
        for n in names
    ]


def write_tree(
    children: list[dict], own_dir: str, files: dict[str, str], path: tuple, out: dict
) -> str:
    """The declarations for ``children`` (text to put in the parent), writing their files."""
    text = ""
    for c in children:
        seg = c["name"].removeprefix("r#")
        fn = f"f_{len(out)}"
        mod_path = (*path, seg)
        vis = "pub " if c["pub"] else ""
        body = f"{'pub ' if c['fn_pub'] else ''}fn {fn}() {{}}\n"
        out[fn] = (mod_path, c["fn_pub"] and all(x for x in c["chain"]) if "chain" in c else None)
        if c["style"] == "inline":
            inner = write_tree(c["children"], f"{own_dir}/{seg}", files, mod_path, out)
            text += f"{vis}mod {c['name']} {{\n{body}{inner}}}\n"
            continue
        rel = f"{own_dir}/{seg}.rs" if c["style"] == "file" else f"{own_dir}/{seg}/mod.rs"
        inner = write_tree(c["children"], f"{own_dir}/{seg}", files, mod_path, out)
        files[rel] = body + inner
        text += f"{vis}mod {c['name']};\n"
    return text


def mark_chain(children: list[dict], chain: tuple = ()) -> None:
    """Record on each module whether every module down to it is `pub`."""
    for c in children:
        c["chain"] = (*chain, c["pub"])
        mark_chain(c["children"], c["chain"])
