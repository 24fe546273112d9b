"""README stays true: every `corpus ...` command line it shows uses flags that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corpus.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"
GROUPS = {
    "sources": {"update"},
    "train": {
        "plan",
        "validate",
        "merge",
        "ablate",
        "lr-find",
        "combine",
        "export",
        "quant-report",
        "dpo",
        "kto",
        "orpo",
        "reward",
        "rl",
    },
}


def _command_lines() -> list[str]:
    text = README.read_text(encoding="utf-8")
    # Fences open and close at the start of a line (``` inside inline code is not a fence).
    fenced = re.findall(r"^```([\w-]*)\n(.*?)^```", text, re.S | re.M)
    blocks = [body for lang, body in fenced if lang in ("", "bash", "sh", "cron")]
    lines: list[str] = []
    for block in blocks:
        joined = re.sub(r"\\\n\s*", " ", block)  # continuation lines
        for line in joined.splitlines():
            m = re.search(r"(?:^|[\s/])corpus (\w[\w-]*)(.*)", line)
            if m and not line.lstrip().startswith("#"):
                lines.append(f"{m.group(1)}{m.group(2)}")
    outside = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    lines += [m.group(1) for m in re.finditer(r"`corpus (\w[^`]*)`", outside)]
    return lines


LINES = _command_lines()


def test_readme_shows_commands() -> None:
    assert len(LINES) > 20


@pytest.mark.parametrize("line", LINES)
def test_readme_flags_exist(line: str) -> None:
    words = line.split()
    path = [words[0]]
    if len(words) > 1 and words[1] in GROUPS.get(words[0], set()):
        path.append(words[1])
    res = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "250"})
    assert res.exit_code == 0, (path, res.output)
    help_text = res.output
    for flag in re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", line.split("#")[0]):
        if flag in ("--help",):
            continue
        assert flag in help_text, f"`corpus {' '.join(path)}` has no {flag} (README: {line})"
