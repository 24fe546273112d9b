"""`corpus generate --fill`: docs for undocumented functions, as a diff that applies cleanly and
as files rewritten in place; the extractor re-reads each new doc on its function, and every
other byte of the file is unchanged."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from typer.testing import CliRunner

from corpus.cli import app
from falsification.rustgen import rust_file
from tests.ship_fixtures import Ship, ship

__all__ = ["ship"]
runner = CliRunner()

LIB = """//! Demo crate.

/// Already documented.
pub fn documented(x: u32) -> u32 {
    x
}

#[inline]
// a plain comment between the attributes
#[must_use]
pub fn add_one(x: u32) -> u32 {
    x + 1
}

pub struct Counter {
    n: u64,
}

impl Counter {
    pub fn new() -> Self {
        Counter { n: 0 }
    }

    // a plain comment, not a doc
    fn bump(&mut self) {
        fn helper() {}
        helper();
        self.n += 1;
    }
}

pub trait Named {
    fn name(&self) -> String;
}

#[cfg(test)]
mod tests {
    #[test]
    fn it_works() {}
}
"""
WINDOWS = "pub fn crlf(x: u8) -> u8 {\r\n    x\r\n}\r\n"


def _extract(path: Path, root: Path) -> list[dict]:
    from corpus.extract import context_for, extract_file_bytes

    rel = path.relative_to(root).as_posix()
    ctx = context_for(root, rel, repo="t/t", commit="0" * 40, license="")
    return extract_file_bytes(path.read_bytes(), rel, ctx).records


def _crate(root: Path) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "Cargo.toml").write_text('[package]\nname = "demo"\nversion = "0.1.0"\n')
    (root / "src" / "lib.rs").write_text(LIB)
    (root / "src" / "win.rs").write_bytes(WINDOWS.encode())
    return root


def test_fill_diff_applies_cleanly_and_re_extracts(ship: Ship, tmp_path: Path, monkeypatch):
    crate = _crate(tmp_path / "crate")
    before = {f: _extract(crate / "src" / f, crate) for f in ("lib.rs", "win.rs")}
    originals = {f: (crate / "src" / f).read_bytes() for f in ("lib.rs", "win.rs")}
    monkeypatch.chdir(crate)
    res = runner.invoke(app, ["generate", "--adapter", f"one={ship.adapter('one')}", "--fill",
                              "src", "--max-new-tokens", "40", "--device", "cpu"])  # fmt: skip
    assert res.exit_code == 0, res.output
    diff = res.stdout_bytes.decode()  # .stdout would turn the CRLF file's \r\n into \n
    assert diff.startswith("--- a/src/lib.rs\n+++ b/src/lib.rs\n") and "+++ b/src/win.rs" in diff
    assert "skipped it_works: test function" in res.stderr
    assert "skipped helper: nested in a function body" in res.stderr
    assert "proposed 5 doc(s) in 2 file(s)" in res.stderr
    assert all(not ln[1:].strip() or ln[1:].lstrip().startswith("///")
               for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++"))  # fmt: skip
    (tmp_path / "fill.patch").write_bytes(diff.encode())
    subprocess.run(["git", "apply", "--check", str(tmp_path / "fill.patch")], cwd=crate, check=True)
    subprocess.run(["git", "apply", str(tmp_path / "fill.patch")], cwd=crate, check=True)

    for f in ("lib.rs", "win.rs"):
        after = _extract(crate / "src" / f, crate)
        assert [r["name"] for r in after] == [r["name"] for r in before[f]]
        for old, new in zip(before[f], after, strict=True):
            if old["doc"] or old["is_test"] or old["is_nested"]:
                assert new["doc"] == old["doc"], old["name"]
            else:  # a new doc, attached to its own function
                assert new["doc"] and new["doc_summary"], old["name"]
        # every other byte unchanged: dropping the added lines gives the original back
        kept = [ln for ln in (crate / "src" / f).read_bytes().splitlines(keepends=True)
                if not ln.lstrip().startswith(b"///") or ln in originals[f]]  # fmt: skip
        assert b"".join(kept) == originals[f]
    assert b"\r\n" in (crate / "src" / "win.rs").read_bytes().split(b"pub fn")[0]  # CRLF kept
    lib = (crate / "src" / "lib.rs").read_text()
    assert "\n    /// " in lib.split("pub fn new()")[0][-200:]  # the impl's indentation


def test_fill_write_rewrites_files_as_the_diff_would(ship: Ship, tmp_path: Path, monkeypatch):
    crate = _crate(tmp_path / "crate")
    monkeypatch.chdir(crate)
    args = ["generate", "--adapter", str(ship.adapter("one")), "--fill", "src/lib.rs",
            "--only-pub", "--max-new-tokens", "16", "--device", "cpu"]  # fmt: skip
    (tmp_path / "p").write_bytes(runner.invoke(app, args).stdout_bytes)
    copy = tmp_path / "copy"
    _crate(copy)
    subprocess.run(["git", "apply", str(tmp_path / "p")], cwd=copy, check=True)
    res = runner.invoke(app, [*args, "--write"])
    assert res.exit_code == 0 and res.stdout == "" and "wrote 2 doc(s)" in res.stderr
    assert (crate / "src" / "lib.rs").read_bytes() == (copy / "src" / "lib.rs").read_bytes()
    names = {r["name"] for r in _extract(crate / "src" / "lib.rs", crate) if r["doc"]}
    assert names == {"documented", "add_one", "new"}  # bump and the trait's name are not pub


def test_fill_bad_input(ship: Ship, tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("fn f() {}")
    one = ["--adapter", str(ship.adapter("one"))]
    cases = [
        ([*one, "--fill", str(tmp_path / "missing")], "no such file or directory"),
        ([*one, "--fill", str(tmp_path / "x.txt")], "not a Rust source file"),
        ([*one, "--write", "--signature", "fn f()"], "go with --fill"),
        ([*one, "--fill", str(tmp_path), "--signature", "fn f()"], "exactly one of"),
        ([*one, "--adapter", f"b={ship.adapter('two')}", "--fill", str(tmp_path)], "one --adapter"),
    ]
    for args, message in cases:
        res = runner.invoke(app, ["generate", *args])
        assert res.exit_code == 2 and message in " ".join(res.output.split()), (args, res.output)


def _writer(records: list[dict]) -> list[str]:
    return [f"/// Documents `{r['name']}`.\n///\n///     indented example line" for r in records]


def _expected(name: str) -> str:
    return f"Documents `{name}`.\n\n    indented example line"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rust_file())
def test_every_filled_doc_attaches_to_its_function(tmp_path_factory, generated) -> None:
    from pipelines.train.fill import Source, fill_sources

    text, _ = generated
    root = tmp_path_factory.getbasetemp()
    data = text.encode()
    [fill] = fill_sources([Source(root / "lib.rs", "lib.rs", data, root)], _writer)
    before, after = _extract_bytes(data, root), _extract_bytes(fill.filled, root)
    assert [r["signature"] for r in after] == [r["signature"] for r in before]
    filled = {(e.offset, e.name) for e in fill.edits}
    for old, new in zip(before, after, strict=True):
        eligible = not (old["doc"] or old["is_test"] or old["is_nested"])
        assert new["doc"] == (_expected(old["name"]) if eligible else old["doc"])
    assert len(filled) == sum(1 for r in before if not (r["doc"] or r["is_test"] or r["is_nested"]))
    # only whole lines were inserted: removing the blocks gives back the original bytes
    out, pos = fill.filled, 0
    for e in sorted(fill.edits, key=lambda e: e.offset):
        start = e.offset + pos
        assert out[start : start + len(e.block)] == e.block
        out = out[:start] + out[start + len(e.block) :]
    assert out == data


def _extract_bytes(data: bytes, root: Path) -> list[dict]:
    from corpus.extract import context_for, extract_file_bytes

    ctx = context_for(root, "lib.rs", repo="t/t", commit="0" * 40, license="")
    return extract_file_bytes(data, "lib.rs", ctx).records


def test_doc_text_takes_the_doc_lines_and_nothing_else() -> None:
    from pipelines.train.fill import doc_text

    assert doc_text("/// One.\n///\n/// Two.\nnot a doc") == "One.\n\nTwo."
    assert doc_text("  plain text\n  answer \x07") == "plain text\nanswer"
    assert doc_text("\n\n") is None and doc_text("///\n///") is None


@pytest.mark.parametrize("src", ["fn a() {} fn b() {}\n"])
def test_an_item_sharing_its_line_is_skipped_not_mangled(tmp_path: Path, src: str) -> None:
    from pipelines.train.fill import Source, fill_sources

    [fill] = fill_sources([Source(tmp_path / "l.rs", "l.rs", src.encode(), tmp_path)], _writer)
    assert [e.name for e in fill.edits] == ["a"]
    assert fill.skipped == [("b", "shares its first line with other code")]
