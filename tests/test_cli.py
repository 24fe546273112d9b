"""The `corpus` command as a newcomer meets it: fast start-up, every command listed."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("torch", "transformers", "peft", "trl", "polars", "pyarrow", "datasets",
         "huggingface_hub", "textual", "tree_sitter", "git", "ray", "pandera")  # fmt: skip


def test_cli_start_up_imports_no_heavy_library() -> None:
    code = (
        "import sys, corpus.cli; "
        f"bad = [m for m in {HEAVY!r} if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


def test_help_lists_every_command() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "corpus.cli", "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0
    for cmd in ("sources", "clone", "extract", "build", "falsify", "publish", "tui", "inspect",
                "rebuild", "history", "train", "generate"):  # fmt: skip
        assert f" {cmd} " in proc.stdout, cmd


def test_error_messages_are_printed_literally() -> None:
    # Regression: `fail()` rendered messages as Rich markup, so the install hint
    # "pip install 'rustdoc-corpus[train]'" lost its "[train]".
    proc = subprocess.run(
        [sys.executable, "-m", "corpus.cli", "extract", "/no/such/[train]/path", "--out", "/tmp/x"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "/no/such/[train]/path" in " ".join(proc.stderr.split())


def test_corpus_debug_prints_the_traceback_and_keeps_the_exit_code(tmp_path) -> None:
    # Regression: CORPUS_DEBUG re-raised the error, so a bad input (exit 2) exited 1.
    import os

    missing = tmp_path / "nothing-here"
    cmd = [sys.executable, "-m", "corpus.cli", "stats", str(missing)]
    plain = subprocess.run(cmd, capture_output=True, text=True)
    debug = subprocess.run(
        cmd, capture_output=True, text=True, env={**os.environ, "CORPUS_DEBUG": "1"}
    )
    assert plain.returncode == debug.returncode == 2, (plain.stderr, debug.stderr)
    assert "Traceback" not in plain.stderr and "Traceback" in debug.stderr
    assert plain.stderr.strip().splitlines()[-1] == debug.stderr.strip().splitlines()[-1]


def test_messages_into_a_pipe_are_never_wrapped(tmp_path) -> None:
    # Regression: into a pipe (cron, CI) warnings were wrapped at 80 columns ("pass --repo
    # \nOWNER/NAME") and usage errors drawn as an 80-column panel splitting the option name.
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "lib.rs").write_text("/// Doc.\npub fn f() {}\n")
    env = {"PATH": "/usr/bin:/bin", "COLUMNS": "80", "HOME": str(tmp_path)}
    run = [sys.executable, "-m", "corpus.cli", "extract"]
    proc = subprocess.run([*run, str(tmp_path), "--out", str(tmp_path / "o")], cwd=tmp_path,
                          capture_output=True, text=True, env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    warning = next(ln for ln in proc.stderr.splitlines() if ln.startswith("warning:"))
    assert len(warning) > 80 and warning.endswith("for working permalinks"), proc.stderr
    import pyarrow.parquet as pq

    # Outside a git checkout: no fake `local/unknown/blob/000…` permalink, none at all.
    (rec,) = pq.read_table(tmp_path / "o" / "records.parquet").to_pylist()
    assert rec["name"] == "f" and rec["permalink"] is None
    long = "--" + "no-such-option-" * 6
    proc = subprocess.run([*run, long, "x"], capture_output=True, text=True, env=env)
    assert proc.returncode == 2
    assert f"Error: No such option: {long}" in proc.stderr.splitlines(), proc.stderr
    assert "╭" not in proc.stderr
