"""Pytest fixtures and helpers for publish tests: a loopback Hub, build folders, Hub reads.

Import the fixtures into a test module with ``from tests.hub_fixtures import hub, hub_env``.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.hub_server import HubServer
from tests.records_factory import COMMIT, make_dataset_dir, make_record

ORG = "rustdoc"
REPO_ID = f"{ORG}/rustdoc-corpus"
OTHER_COMMIT = "b" * 40
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubServer]:
    """A loopback Hub on a free port; ``hub.token`` may write to the ``rustdoc`` namespace."""
    token = "hf_test_" + secrets.token_hex(12)
    server = HubServer(tmp_path / "hub-storage", tokens={token: {ORG}}).start()
    server.token = token  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def hub_env(hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> HubServer:
    """Point huggingface_hub at ``hub`` with a fresh HF_HOME, LFS uploads, and hub.token."""
    for key, value in hf_env(hub, tmp_path / "hf-home").items():
        monkeypatch.setenv(key, value)
    # HF_HUB_DISABLE_XET is read once, at import: tests/conftest.py sets it for the process.
    return hub


def hf_env(hub: HubServer, hf_home: Path, token: str | None = None) -> dict[str, str]:
    """The environment a process needs to talk to ``hub`` (token defaults to hub.token)."""
    return {
        "HF_ENDPOINT": hub.url,
        "HF_HOME": str(hf_home),
        "HF_HUB_DISABLE_XET": "1",
        "HF_TOKEN": token if token is not None else hub.token,  # type: ignore[attr-defined]
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "NO_COLOR": "1",
    }


SOURCES_LOCK = """\
[[source]]
repo = "acme/widgets"
url = "https://github.com/acme/widgets.git"
commit = "{a}"
license = "MIT OR Apache-2.0"
branch = "main"

[[source]]
repo = "other/thing"
url = "https://github.com/other/thing.git"
commit = "{b}"
license = "Unlicense OR MIT"
branch = "master"
"""


def make_build(
    root: Path,
    n: int = 30,
    *,
    verdict: str | None = "PASS",
    score: int = 97,
    first: int = 0,
    extra_licenses: dict[str, str] | None = None,
) -> Path:
    """A dataset folder as `corpus build` + `corpus falsify` leave it, from synthetic records.

    ``n`` rows from two pinned repos (two thirds acme/widgets, a third other/thing); ``first``
    shifts the record numbers so two builds differ; ``verdict=None`` leaves falsification.json
    out. ``extra_licenses`` overrides the licence of a repo (rows and lock).
    """
    lic = {"acme/widgets": "MIT OR Apache-2.0", "other/thing": "Unlicense OR MIT"}
    lic.update(extra_licenses or {})
    records = []
    for i in range(first, first + n):
        repo, commit = ("other/thing", OTHER_COMMIT) if i % 3 == 2 else ("acme/widgets", COMMIT)
        records.append(make_record(i, repo=repo, commit=commit, license=lic[repo]))
    per_repo: dict[str, dict[str, int]] = {}
    for r in records:
        d = per_repo.setdefault(r["repo"], {"train": 0, "validation": 0, "test": 0})
        d[r["split"]] += 1
    stats = {
        "extractor_version": "1.0.0",
        "grammar_version": "tree-sitter-rust 0.24.2",
        "repos": {
            "acme/widgets": {"commit": COMMIT, "license": lic["acme/widgets"], "files": 7,
                             "records": 2 * n, "documented": n},
            "other/thing": {"commit": OTHER_COMMIT, "license": lic["other/thing"], "files": 3,
                            "records": n, "documented": n // 2},
        },
        "drops": {"non_utf8_file": 1, "oversized_file": 0, "mostly_error_file": 2,
                  "fn_with_error": 3},
        "filters": {"exact_duplicate": 11, "near_duplicate": 5, "secret_redacted": 0,
                    "secret_dropped": 0, "test_excluded": 4, "undocumented": 13},
        "splits": {"per_repo": per_repo},
        "totals": {"files": 10, "records": 3 * n, "documented": n + n // 2, "published": n},
    }  # fmt: skip
    make_dataset_dir(root, records, stats)
    (root / "sources.lock").write_text(
        SOURCES_LOCK.format(a=COMMIT, b=OTHER_COMMIT)
        .replace('"MIT OR Apache-2.0"', f'"{lic["acme/widgets"]}"')
        .replace('"Unlicense OR MIT"', f'"{lic["other/thing"]}"')
    )
    if verdict is not None:
        from falsification.report import Report, write_report
        from tests.report_fixtures import report_for

        write_report(Report.from_json(report_for(verdict, score)), root)  # .json and .md
    return root


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``corpus ARGS`` in a fresh interpreter with exactly the HF settings in ``env``."""
    full = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    full |= env | {"PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-c", "from corpus.cli import app; app(prog_name='corpus')", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )


_LOAD_SCRIPT = """
import json, sys
from datasets import load_dataset
out = {}
for rev in sys.argv[3:]:
    ds = load_dataset(sys.argv[1], sys.argv[2], revision=None if rev == "-" else rev)
    out[rev] = {split: sorted(d["id"]) for split, d in ds.items()}
print(json.dumps(out))
"""


def hub_load(
    hub: HubServer, repo_id: str, revisions: list[str], hf_home: Path, config: str = "default"
) -> dict[str, Any]:
    """``datasets.load_dataset(repo_id, config, revision=r)`` per revision ("-" = none), in a
    fresh process (datasets reads HF_ENDPOINT at import): {rev: {split: sorted ids}}."""
    full = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    full |= hf_env(hub, hf_home) | {"PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", _LOAD_SCRIPT, repo_id, config, *revisions],
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])
