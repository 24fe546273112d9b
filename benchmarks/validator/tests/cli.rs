//! Runs the built `validator` binary on a fixture tree written to a fresh temp dir.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const FIXTURE: &str = r####"//! inner module doc
/// line one
#[inline]
/// line two
pub(crate) async unsafe fn r#match() {
    //! inner fn doc
    /// nested doc
    fn inner() {
        fn deeper() {}
    }
}
/** block
 * doc */
#[doc = "attr \"doc\""]
#[doc(hidden)]
#[doc = include_str!("x.md")]
#[cfg_attr(feature = "x", doc = "cond")]
const fn c() {}
//// not doc
/*** not doc */
// plain
fn plain() {}
mod m {
    mod n {
        /// deep
        extern "C" fn e() {}
        extern "C" {
            /// foreign
            fn ff(x: i32);
        }
    }
}
trait T {
    /// req
    fn req(&self);
    fn def(&self) {}
}
impl T for () {
    fn req(&self) {}
}
impl S {
    pub default fn d() {}
}
macro_rules! m { () => { fn in_macro() {} } }
cfg_rt! {
    /// x
    fn in_invocation() {}
}
const _: () = { fn in_const() {} };
/**/
fn after_empty_block() {}
fn uses_c_string() { let _ = c"x\x80"; }
"####;

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("validator-test-{}-{tag}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("sub")).unwrap();
    dir
}

fn run(root: &Path) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_validator"))
        .arg(root)
        .output()
        .expect("run validator");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn fns(lines: &[Value]) -> Vec<&Value> {
    lines.iter().filter(|v| v["type"] == "fn").collect()
}

fn find<'a>(lines: &'a [Value], path: &str, name: &str) -> &'a Value {
    fns(lines)
        .into_iter()
        .find(|v| v["path"] == path && v["name"] == name)
        .unwrap_or_else(|| panic!("{path} {name} not listed"))
}

#[test]
fn lists_every_fn_outside_macros_with_its_docs() {
    let dir = temp_dir("main");
    fs::write(dir.join("sub/a.rs"), FIXTURE).unwrap();
    let out = run(&dir);
    let names: Vec<&str> = fns(&out)
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "match",
            "inner",
            "deeper",
            "c",
            "plain",
            "e",
            "ff",
            "req",
            "def",
            "req",
            "d",
            "in_const",
            "after_empty_block",
            "uses_c_string"
        ]
    );
    let m = find(&out, "sub/a.rs", "match");
    assert_eq!(m["raw"], true);
    assert_eq!(m["line"], 5, "line of `pub`, after attributes");
    assert_eq!(m["attr_line"], 2);
    assert_eq!(
        m["doc_fragments"],
        serde_json::json!([" line one", " line two"])
    );
    assert_eq!(m["doc_kinds"], serde_json::json!(["line", "line"]));
    assert_eq!(m["nested"], false);

    let inner = find(&out, "sub/a.rs", "inner");
    assert_eq!(inner["nested"], true);
    assert_eq!(inner["doc_fragments"], serde_json::json!([" nested doc"]));
    assert_eq!(find(&out, "sub/a.rs", "deeper")["nested"], true);

    let c = find(&out, "sub/a.rs", "c");
    assert_eq!(
        c["doc_fragments"],
        serde_json::json!([" block\n * doc ", "attr \"doc\"", {"unresolved": "include_str ! (\"x.md\")"}])
    );
    assert_eq!(c["doc_kinds"], serde_json::json!(["block", "attr", "attr"]));
    assert_eq!(c["cfg_attr_docs"], 1);
    assert_eq!(c["line"], 18);

    for plain in ["plain", "def", "d", "in_const", "after_empty_block"] {
        assert_eq!(
            find(&out, "sub/a.rs", plain)["doc_fragments"],
            serde_json::json!([])
        );
    }
    let e = find(&out, "sub/a.rs", "e");
    assert_eq!(
        (e["kind"].as_str(), e["line"].as_u64()),
        (Some("free"), Some(26))
    );
    let ff = find(&out, "sub/a.rs", "ff");
    assert_eq!(
        (ff["kind"].as_str(), ff["has_body"].as_bool()),
        (Some("extern"), Some(false))
    );
    let req: Vec<&Value> = fns(&out)
        .into_iter()
        .filter(|v| v["name"] == "req")
        .collect();
    assert_eq!(
        (req[0]["kind"].as_str(), req[0]["has_body"].as_bool()),
        (Some("trait"), Some(false))
    );
    assert_eq!(
        (req[1]["kind"].as_str(), req[1]["trait_impl"].as_bool()),
        (Some("impl"), Some(true))
    );
    assert_eq!(
        find(&out, "sub/a.rs", "d")["line"],
        42,
        "`pub default fn` starts at pub"
    );
    assert!(out
        .iter()
        .any(|v| v["type"] == "patched" && v["path"] == "sub/a.rs"));
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn bom_shebang_crlf_bad_files_and_symlinks() {
    let dir = temp_dir("edge");
    fs::write(dir.join("bom.rs"), "\u{feff}/// bom doc\nfn bom() {}\n").unwrap();
    fs::write(
        dir.join("sb.rs"),
        "#!/usr/bin/env run\n/// after\nfn sb() {}\n",
    )
    .unwrap();
    fs::write(
        dir.join("crlf.rs"),
        "/// one\r\n/// two\r\n\r\nfn crlf() {}\r\n",
    )
    .unwrap();
    fs::write(dir.join("bad.rs"), "fn broken( {}\nfn ok() {}\n").unwrap();
    fs::write(dir.join("latin1.rs"), b"// caf\xe9\nfn x() {}\n").unwrap();
    fs::write(dir.join("sub/real.rs"), "fn real() {}\n").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.join("sub/real.rs"), dir.join("link.rs")).unwrap();
    let out = run(&dir);

    let bom = find(&out, "bom.rs", "bom");
    assert_eq!(
        (bom["line"].as_u64(), bom["doc_kinds"][0].as_str()),
        (Some(2), Some("line"))
    );
    assert_eq!(find(&out, "sb.rs", "sb")["line"], 3);
    let crlf = find(&out, "crlf.rs", "crlf");
    assert_eq!(crlf["doc_fragments"], serde_json::json!([" one", " two"]));
    assert_eq!(crlf["line"], 4);
    assert!(out
        .iter()
        .any(|v| v["type"] == "parse_error" && v["path"] == "bad.rs"));
    assert!(out
        .iter()
        .any(|v| v["type"] == "read_error" && v["path"] == "latin1.rs"));
    let paths: Vec<&str> = fns(&out)
        .iter()
        .map(|v| v["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        ["bom.rs", "crlf.rs", "sb.rs", "sub/real.rs"],
        "symlink skipped"
    );
    let summary = out.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(
        (summary["fns"].as_u64(), summary["files"].as_u64()),
        (Some(4), Some(6))
    );
    let _ = fs::remove_dir_all(&dir);
}
