"""The suite with a second process (``run_suite(workers=2)``, what `corpus falsify` runs):
the same results, in the same order, as in one process, passing or failing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from falsification import all_checks, run_suite
from falsification.apart import Apart
from falsification.suite import _picklable
from tests.falsification_fixtures import copy_corpus, make_clean_corpus, rewrite_records


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """The clean corpus, built once per worker."""
    return make_clean_corpus(tmp_path_factory.mktemp("clean"))


def _report(dataset: Path, sources: Path | None, workers: int) -> dict:
    return run_suite(dataset, sources, seed=3, hypothesis_examples=10, workers=workers).to_json()


def test_some_checks_run_apart_and_the_rest_here() -> None:
    apart = [c.id for c in all_checks() if c.apart]
    assert "provenance.paths_resolve" in apart and "privacy.no_secrets" in apart
    assert len(apart) < len(all_checks()) / 2


def test_two_processes_give_the_one_process_report(clean) -> None:
    assert _report(clean.dataset, clean.sources_dir, 2) == _report(
        clean.dataset, clean.sources_dir, 1
    )


def test_failures_found_apart_are_the_same_too(clean, tmp_path: Path) -> None:
    corpus = copy_corpus(clean, tmp_path)

    def damage(recs: list[dict]) -> list[dict]:
        recs[0]["def_path"] = recs[0]["def_path"] + "::nowhere"  # paths_resolve (apart)
        recs[1]["doc"] = (recs[1]["doc"] or "") + "\nAWS key AKIAIOSFODNN7EXAMPLE"  # no_secrets
        return recs

    rewrite_records(corpus.dataset, damage)
    two = _report(corpus.dataset, corpus.sources_dir, 2)
    assert two == _report(corpus.dataset, corpus.sources_dir, 1)
    failed = {c["id"] for c in two["checks"] if not c["passed"]}
    assert {"provenance.paths_resolve", "privacy.no_secrets"} <= failed
    assert _report(corpus.dataset, None, 2) == _report(corpus.dataset, None, 1)


@pytest.mark.parametrize(
    "dies",
    [
        "import os; os.kill(os.getpid(), 9)",  # before it is handed its checks
        "import os, sys; sys.stdin.buffer.read(); os.kill(os.getpid(), 9)",  # after
    ],
    ids=["before-the-job", "after-the-job"],
)
def test_a_second_process_that_dies_costs_no_check(clean, monkeypatch, dies: str) -> None:
    import falsification.suite as suite

    def dead_spawn() -> Apart:
        # a second process killed before it could answer
        proc = subprocess.Popen([sys.executable, "-c", dies], stdin=subprocess.PIPE)
        read_fd, write_fd = os.pipe()
        os.close(write_fd)
        return Apart(proc, read_fd)

    monkeypatch.setattr(suite, "_spawn_apart", dead_spawn)
    assert _report(clean.dataset, clean.sources_dir, 2) == _report(
        clean.dataset, clean.sources_dir, 1
    )


def test_a_script_without_a_main_guard_runs_once(clean, tmp_path: Path) -> None:
    # the second process must not re-run the caller's __main__ (as a multiprocessing spawn
    # would): this script prints once
    script = tmp_path / "run.py"
    script.write_text(
        "from falsification import run_suite\n"
        f"r = run_suite({str(clean.dataset)!r}, {str(clean.sources_dir)!r}, "
        "hypothesis_examples=5, workers=2)\n"
        "print('score', r.score)\n"
    )
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("score") == 1


def test_an_injected_extractor_keeps_every_check_in_this_process() -> None:
    assert _picklable({"hypothesis_examples": 5, "previous_manifest": Path("m.json")})
    assert not _picklable({"extract_bytes": lambda *a: None})
    assert not _picklable({"x": (lambda: None)})
