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
