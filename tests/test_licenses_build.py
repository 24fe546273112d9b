"""Licences from the repository, end to end: `corpus build` detects them in its extraction
units, writes them to the shard and stats.json, gives a workspace member's records its own
licence, and falsification fails a source whose declared licence its files contradict;
`corpus sources` shows declared vs detected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corpus.cli import app
from corpus.sources import Source, load_sources, write_sources
from corpus.store import read_json, read_records
from pipelines.build import RepoJob, clone_and_extract, shard_paths
from tests.build_fixtures import Fixture, make_fixture
from tests.gitrepos import commit_files, license_text, make_repo

runner = CliRunner()


@pytest.fixture
def fx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fixture:
    fixture = make_fixture(tmp_path / "fx")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(fixture.gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    return fixture


def _relicense_alpha_gpl(fx: Fixture) -> None:
    """alpha's upstream becomes GPL-3.0 (text and Cargo.toml); its pin moves there, still
    declared MIT: the issue's finding."""
    cargo = '[package]\nname = "alpha"\nversion = "0.1.0"\nlicense = "GPL-3.0-only"\n'
    origin = fx.root / "origin" / "acme" / "alpha.git"
    new = commit_files(origin, {"LICENSE": license_text("GPL-3.0"), "Cargo.toml": cargo})
    srcs = [
        Source(**{**s.__dict__, "commit": new}) if s.repo == "acme/alpha" else s
        for s in load_sources(fx.sources_file)
    ]
    write_sources(fx.sources_file, srcs)


def test_build_records_detection_and_a_gpl_source_declared_mit_fails(
    fx: Fixture, tmp_path: Path
) -> None:
    out, cache = tmp_path / "out", tmp_path / "cache"
    args = ["build", "--sources", str(fx.sources_file), "--out", str(out)]
    res = runner.invoke(app, [*args, "--cache-dir", str(cache), "-j", "1"])
    stats = read_json(out / "dataset" / "stats.json")
    assert set(stats["licenses"]) == {"acme/alpha", "acme/beta"}
    assert all(s["ok"] and s["detected"] == "MIT" for s in stats["licenses"].values())
    shard = shard_paths(out, load_sources(fx.sources_file)[0])
    assert read_json(shard.licenses) == stats["licenses"]["acme/alpha"]
    assert shard.licenses.name in json.loads(shard.marker.read_text())["files"]
    report = read_json(out / "dataset" / "falsification.json")
    checks = {c["id"]: c for c in report["checks"]}
    assert checks["provenance.license_detected"]["passed"], res.output

    _relicense_alpha_gpl(fx)
    res = runner.invoke(app, [*args, "--cache-dir", str(cache), "-j", "1"])
    assert res.exit_code == 1, res.output
    assert "provenance.license_detected" in res.output or "falsification FAIL" in res.output
    key = read_json(out / "build_report.json")["stages"]["filter_split"]["key"]
    cand = out / "builds" / key / "dataset"
    checks = {c["id"]: c for c in read_json(cand / "falsification.json")["checks"]}
    ev = checks["provenance.license_detected"]["evidence"]
    assert not checks["provenance.license_detected"]["passed"]
    assert "acme/alpha" in ev and "declared 'MIT'" in ev and "GPL-3.0" in ev
    assert not checks["privacy.license_allowed"]["passed"]  # GPL-3.0-only detected at the pin

    listing = runner.invoke(
        app, ["sources", "--sources", str(fx.sources_file), "--cache-dir", str(cache)]
    )
    assert listing.exit_code == 0, listing.output
    assert "DISAGREE" in listing.output and "GPL-3.0-only" in listing.output
    assert "declared 'MIT'" in listing.output and "from the clones in" in listing.output
    empty = runner.invoke(
        app, ["sources", "--sources", str(fx.sources_file), "--cache-dir", str(tmp_path / "no")]
    )
    assert empty.exit_code == 0 and "nothing cloned at the pins" in " ".join(empty.output.split())


def test_a_workspace_members_records_carry_its_own_licence(tmp_path: Path) -> None:
    from tests.falsification_fixtures import write_dataset

    mit, apache = license_text("MIT"), license_text("Apache-2.0")
    docs = {
        "core": "/// Returns how many widgets the registry holds right now.\n",
        "extra": "/// Counts the spare bolts left in the cabinet after the audit.\n",
    }
    files = {
        "LICENSE": mit,
        "Cargo.toml": '[workspace]\nmembers = ["core", "extra"]\n',
        "core/Cargo.toml": '[package]\nname = "core"\nversion = "0.1.0"\nlicense = "MIT"\n',
        "core/src/lib.rs": docs["core"] + "pub fn core_count() -> u32 {\n    1\n}\n",
        "extra/Cargo.toml": '[package]\nname = "extra"\nversion = "0.1.0"\nlicense = "Apache-2.0"\n',
        "extra/LICENSE-APACHE": apache,
        "extra/src/lib.rs": docs["extra"] + "pub fn extra_count() -> u32 {\n    2\n}\n",
    }
    repo = tmp_path / "sources" / "acme" / "ws"
    sha = make_repo(repo, files)
    src = Source("acme/ws", "https://github.com/acme/ws.git", sha, "MIT", "master")
    shard = shard_paths(tmp_path / "out", src)
    job = RepoJob(src, str(tmp_path / "cache"), str(shard.dir), shard.stem, checkout=str(repo))
    stats = clone_and_extract(job)
    recs = read_records(shard.parquet)
    by_path = dict(zip(recs["path"].to_list(), recs["license"].to_list(), strict=True))
    assert by_path == {"core/src/lib.rs": "MIT", "extra/src/lib.rs": "Apache-2.0"}

    from falsification import run_suite

    ds = write_dataset(tmp_path / "ds", recs.to_dicts(), [src], {src.repo: stats},
                       {src.repo: read_json(shard.licenses)})  # fmt: skip
    only = ["provenance.license_pinned", "provenance.license_detected", "privacy.license_allowed"]
    # re-extraction gives each file its package's licence too (license is an extract field)
    report = run_suite(ds, tmp_path / "sources", only=[*only, "provenance.deterministic"])
    assert all(c.passed for c in report.checks), [c.evidence for c in report.checks]

    # The defect: the member's records carry the repository's licence after all.
    from tests.falsification_fixtures import rewrite_records

    rewrite_records(ds, lambda rs: [{**r, "license": "MIT"} for r in rs], balanced=False)
    (pinned,) = run_suite(ds, tmp_path / "sources", only=only[:1]).checks
    extra_ids = set(recs.filter(recs["path"] == "extra/src/lib.rs")["id"].to_list())
    assert not pinned.passed and set(pinned.offending_ids) == extra_ids
