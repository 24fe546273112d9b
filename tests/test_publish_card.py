"""The dataset card and the staged folder: rendered from the build, validated offline."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from corpus.errors import BadInputError, CorpusError, ExitCode
from corpus.schema import ALL_FIELDS
from corpus.store import read_records
from pipelines.publish import build_tag, content_hash, parse_build_tag, stage_dataset
from pipelines.publish.card import hub_licenses, size_category, spdx_ids
from pipelines.publish.validate import card_errors, check_card, parse_card_metadata, vocabularies
from tests.hub_fixtures import REPO_ID, hf_env, hub, make_build, run_cli
from tests.hub_server import HubServer

__all__ = ["hub"]


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    root = tmp_path_factory.mktemp("card")
    ds = make_build(root / "ds", 45)
    out = stage_dataset(ds, root / "stage", repo_id=REPO_ID, tag="v2026.11.21-abc")
    return ds, out, (out / "README.md").read_text()


def test_staged_folder_has_exactly_the_build(staged: tuple[Path, Path, str]) -> None:
    ds, out, _ = staged
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    data = sorted(p.relative_to(ds).as_posix() for p in (ds / "data").glob("*.parquet"))
    reports = ["falsification.json", "falsification.md"]  # the report for people goes too
    # The preferences config is mined at staging (the build folder holds no pairs of its own).
    prefs = [n for n in names if n.startswith("preferences/")]
    assert "preferences/pairs.json" in prefs and "preferences/train-00000-of-00001.parquet" in prefs
    rest = [n for n in names if not n.startswith("preferences/")]
    assert rest == sorted([*data, "README.md", *reports, "stats.json", "sources.lock"])
    for rel in [*data, *reports, "stats.json", "sources.lock"]:
        assert (out / rel).read_bytes() == (ds / rel).read_bytes()
    assert content_hash(out) == content_hash(ds)


def test_card_metadata_comes_from_the_build(staged: tuple[Path, Path, str]) -> None:
    _, _, card = staged
    meta = parse_card_metadata(card)
    assert meta["license"] == ["apache-2.0", "mit", "unlicense"]  # every licence included
    assert meta["language"] == ["code", "en"]
    assert meta["size_categories"] == ["n<1K"]
    assert meta["configs"][0]["data_files"] == [
        {"split": s, "path": f"data/{s}-*.parquet"} for s in ("train", "validation", "test")
    ]
    assert card_errors(card) == []


def test_card_body_numbers_match_the_build(staged: tuple[Path, Path, str]) -> None:
    ds, _, card = staged
    stats = json.loads((ds / "stats.json").read_text())
    for f in ALL_FIELDS:  # the field table is generated from the schema
        assert f"| `{f.name}` | `{f.type_name}` |" in card
    assert 'load_dataset("rustdoc/rustdoc-corpus", revision="v2026.11.21-abc")' in card
    df = read_records(ds)
    for repo, commit, files, extracted in (("acme/widgets", "a" * 40, 7, 90),
                                           ("other/thing", "b" * 40, 3, 45)):  # fmt: skip
        rows = df.filter(df["repo"] == repo)
        per = [str((rows["split"] == s).sum()) for s in ("train", "validation", "test")]
        lic = rows["license"][0]
        cells = [f"`{commit}`", lic, str(files), str(extracted), *per, str(rows.height)]
        assert "| " + " | ".join(cells) + " |" in card
    for split in ("train", "validation", "test"):
        assert f"| {split} | {(df['split'] == split).sum()} |" in card
    assert f"| filtered: exact duplicate | {stats['filters']['exact_duplicate']} |" in card
    n_checks = len(json.loads((ds / "falsification.json").read_text())["checks"])
    assert f"Score **97 / 100**, verdict **PASS**, over {n_checks} checks." in card
    report = json.loads((ds / "falsification.json").read_text())
    for cat, sums in report["categories"].items():
        assert f"| {cat} | {sums['score']} / {sums['max']} |" in card
    failed = [c for c in report["checks"] if not c["passed"]]
    assert sum(c["points"] for c in failed) == 3
    for c in failed:
        assert f"- `{c['id']}` (0/{c['points']} points, normal): planted failure" in card
    assert "[!WARNING]" not in card


def test_unmapped_licence_becomes_other_with_name_and_link(tmp_path: Path) -> None:
    ds = make_build(tmp_path / "ds", 9, extra_licenses={"other/thing": "BlueOak-1.0.0"})
    out = stage_dataset(ds, tmp_path / "stage", check_load=False)
    meta = parse_card_metadata((out / "README.md").read_text())
    assert meta["license"] == ["apache-2.0", "mit", "other"]
    assert meta["license_name"] == "blueoak-1.0.0"
    assert meta["license_link"] == "https://spdx.org/licenses/BlueOak-1.0.0.html"


@given(st.integers(min_value=0, max_value=10**13))
def test_size_category_is_in_datasets_vocabulary_and_contains_n(n: int) -> None:
    cat = size_category(n)
    assert cat in vocabularies()["size_categories"]
    lo, hi = _bounds(cat)
    assert lo <= n < hi


def _bounds(cat: str) -> tuple[float, float]:
    units = {"K": 10**3, "M": 10**6, "B": 10**9, "T": 10**12}
    num = [int(x[:-1]) * units[x[-1]] for x in re.findall(r"\d+[KMBT]", cat)]
    if cat.startswith("n<"):
        return 0, num[0]
    if cat.startswith("n>"):
        return num[0], float("inf")
    return num[0], num[1]


_IDS = st.sampled_from(["MIT", "Apache-2.0", "Unlicense", "BSD-3-Clause", "Zlib", "Foo-1.0"])


@given(st.lists(_IDS, min_size=1, max_size=4), st.sampled_from([" OR ", " AND "]))
def test_every_spdx_id_is_on_the_card_as_hub_id_or_other(ids: list[str], op: str) -> None:
    expr = op.join(ids)
    # an exception after WITH is not a licence of its own
    both = f"({expr}) AND BSL-1.0 WITH LLVM-exception"
    assert spdx_ids(both) == list(dict.fromkeys([*ids, "BSL-1.0"]))
    hub_ids, unmapped = hub_licenses([expr])
    assert set(unmapped) == {i for i in ids if i == "Foo-1.0"}
    assert len(hub_ids) + len(unmapped) == len(set(ids))
    assert set(hub_ids) <= vocabularies()["license"]


def _with_meta(card: str, edit: str) -> str:
    return card.replace("---\n", "---\n" + edit, 1)


def test_validation_catches_bad_values_and_duplicate_keys(staged: tuple[Path, Path, str]) -> None:
    _, out, card = staged
    bad_size = card.replace("- n<1K", "- 1K<n<5K")
    assert any("size_categories: '1K<n<5K'" in e for e in card_errors(bad_size))
    dup = _with_meta(card, "pretty_name: twice\n")
    with pytest.raises(BadInputError, match="duplicate key 'pretty_name'"):
        check_card(dup)
    nested_dup = card.replace("- split: train\n", "- split: train\n    split: test\n", 1)
    assert any("duplicate key 'split'" in e for e in card_errors(nested_dup))
    assert any("language: 'rust'" in e for e in card_errors(card.replace("- en", "- rust")))
    assert any("task_categories" in e for e in card_errors(card.replace("- summarization", "- x")))
    assert any("license: 'MIT'" in e for e in card_errors(card.replace("- mit", "- MIT")))
    no_name = _with_meta(card, "").replace("- unlicense", "- other")
    assert any("license_name" in e for e in card_errors(no_name))
    bad_split = card.replace("split: validation", "split: valid-ation")
    assert any(e.startswith("configs") for e in card_errors(bad_split))
    missing_files = card.replace("data/test-*.parquet", "data/tests-*.parquet")
    assert any("matches no file" in e for e in card_errors(missing_files, out))
    assert card_errors(card, out) == []


def test_stage_refuses_unpassed_builds_unless_forced(tmp_path: Path) -> None:
    for verdict in ("FAIL", "WARN", None):
        ds = make_build(tmp_path / f"ds-{verdict}", 6, verdict=verdict, score=90)
        with pytest.raises(CorpusError, match="did not pass") as err:
            stage_dataset(ds, tmp_path / f"out-{verdict}")
        assert err.value.exit_code == ExitCode.FAILURE
        assert not (tmp_path / f"out-{verdict}").exists()
        out = stage_dataset(ds, tmp_path / f"out-{verdict}", force=True, check_load=False)
        _, body = (out / "README.md").read_text().split("---\n", 2)[1:]
        first = body.lstrip().split("\n\n")[0]
        assert first.startswith("> [!WARNING]") and (verdict or "MISSING") in first


def test_stage_errors_are_clear_and_lose_nothing(tmp_path: Path) -> None:
    ds = make_build(tmp_path / "ds", 6)
    keep = tmp_path / "mine"
    keep.mkdir()
    (keep / "notes.txt").write_text("precious")
    with pytest.raises(BadInputError, match="not a staged dataset"):
        stage_dataset(ds, keep)
    assert (keep / "notes.txt").read_text() == "precious"
    (ds / "sources.lock").write_text((ds / "sources.lock").read_text().replace("a" * 40, "c" * 40))
    with pytest.raises(BadInputError, match=r"read at a{40} but sources\.lock pins c{40}"):
        stage_dataset(ds, tmp_path / "out")
    (ds / "sources.lock").unlink()
    with pytest.raises(BadInputError, match=r"sources\.lock: missing"):
        stage_dataset(ds, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_dry_run_cli_stages_and_validates_without_network(hub: HubServer, tmp_path: Path) -> None:
    ds = make_build(tmp_path / "ds", 12)
    env = hf_env(hub, tmp_path / "hf-home")
    out = tmp_path / "staged"
    proc = run_cli(
        ["publish", str(ds), "--repo-id", REPO_ID, "--dry-run", "--out", str(out)], env, tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert "nothing uploaded" in proc.stdout
    assert hub.state.requests == []
    meta = yaml.safe_load((out / "README.md").read_text().split("---\n")[1])
    assert meta["pretty_name"]
    # Rerun replaces the earlier staging; a FAIL build is refused with exit 1 and no traceback.
    again = run_cli(["publish", str(ds), "--dry-run", "--out", str(out)], env, tmp_path)
    assert again.returncode == 0, again.stderr
    bad = make_build(tmp_path / "bad", 6, verdict="FAIL", score=50)
    refused = run_cli(
        ["publish", str(bad), "--dry-run", "--out", str(tmp_path / "x")], env, tmp_path
    )
    assert refused.returncode == ExitCode.FAILURE and "--force" in refused.stderr
    assert "Traceback" not in refused.stderr
    missing = run_cli(["publish", str(ds)], env, tmp_path)
    assert missing.returncode == ExitCode.BAD_INPUT and "--repo-id" in missing.stderr


@given(st.dates(), st.text("0123456789abcdef", min_size=64, max_size=64))
def test_build_tag_round_trips(day: date, chash: str) -> None:
    tag = build_tag(chash, day)
    parsed = parse_build_tag(tag, "c" * 40)
    assert parsed is not None and (parsed.day, parsed.short_hash) == (day, chash[:12])
    assert parse_build_tag(tag + ".3") is not None and parse_build_tag(tag + "x") is None


@pytest.mark.parametrize("content", ['["PASS"]', '"PASS"', "42"])
def test_a_report_that_is_not_an_object_is_a_clear_error(tmp_path: Path, content: str) -> None:
    # Regression: report.get() on a list raised AttributeError (a traceback, exit 1).
    from corpus.errors import BadInputError
    from pipelines.publish.stage import require_pass

    ds = make_build(tmp_path / "ds", 6)
    (ds / "falsification.json").write_text(content)
    with pytest.raises(BadInputError, match="expected a JSON object"):
        require_pass(ds, force=False)


def _write_report(ds: Path, report: dict) -> None:
    (ds / "falsification.json").write_text(json.dumps(report))


def test_the_gate_recomputes_the_verdict_and_wants_the_whole_suite(tmp_path: Path) -> None:
    # Regression: a one-check report {'score': 2, 'max_score': 2, 'partial': true,
    # 'verdict': 'PASS'} was accepted without --force; so was a verdict string the checks deny.
    from pipelines.publish.stage import require_pass
    from tests.report_fixtures import make_report, report_json

    ds = make_build(tmp_path / "ds", 6)
    assert require_pass(ds, force=False) is False  # a complete PASS report passes
    cases = {
        "partial": (report_json(drop=38), "38 registered check(s) missing"),
        "stored verdict": ({**report_json({"integrity.ids_unique": []}), "verdict": "PASS",
                            "score": 100}, "stored score 100 disagrees with its checks (98)"),
        "unknown check": (
            {**report_json(), "checks": [*report_json()["checks"], {**report_json()["checks"][0],
                                                                    "id": "quality.vibes"}]},
            "quality.vibes: not a registered check",
        ),
        "points": (
            {**report_json(), "checks": [{**c, "points": 50, "awarded": 50}
                                         if c["id"] == "integrity.schema" else c
                                         for c in report_json()["checks"]]},
            "integrity.schema: 50 points",
        ),
        "awarded": (
            {**report_json(), "checks": [{**c, "awarded": 0} if c["id"] == "integrity.schema"
                                         else c for c in report_json()["checks"]]},
            "integrity.schema: awarded 0/4 but passed=True",
        ),
    }  # fmt: skip
    for name, (report, why) in cases.items():
        _write_report(ds, report)
        with pytest.raises(CorpusError, match="cannot vouch for this build") as err:
            require_pass(ds, force=False)
        assert why in str(err.value), (name, str(err.value))
        assert require_pass(ds, force=True) is True  # --force still publishes, with a warning
    one_check = make_report(drop=38)
    assert one_check.to_json()["verdict"] == "PASS" and one_check.partial


_TERMS = st.sampled_from(
    ["MIT", "Apache-2.0 WITH LLVM-exception", "GPL-2.0+", "LGPL-2.1+", "GPL-3.0-or-later",
     "GPL-2.0-or-later WITH Classpath-exception-2.0", "BlueOak-1.0.0", "LicenseRef-Acme_v1.2",
     "MPL-2.0", "Unlicense"]
)  # fmt: skip


@given(st.lists(st.lists(_TERMS, min_size=1, max_size=3), min_size=1, max_size=3))
def test_with_and_plus_expressions_make_valid_card_metadata(
    staged: tuple[Path, Path, str], groups: list[list[str]]
) -> None:
    from pipelines.publish.card_licenses import license_metadata
    from pipelines.publish.validate import split_front_matter

    exprs = [" OR ".join(g) for g in groups]
    _, _, card = staged
    meta = parse_card_metadata(card)
    for key in ("license", "license_name", "license_link"):
        meta.pop(key, None)
    lic = license_metadata(exprs)
    text = "---\n" + yaml.safe_dump({**lic, **meta}) + "---\n" + split_front_matter(card)[1]
    assert card_errors(text) == []
    # every licence is named: by its Hub id, or in license_name under `other`
    terms = {t for g in groups for t in g}
    assert ("apache-2.0" in lic["license"]) == any("Apache" in t for t in terms)
    assert ("gpl-2.0" in lic["license"]) == any(t.startswith("GPL-2.0") for t in terms)
    assert ("lgpl-2.1" in lic["license"]) == ("LGPL-2.1+" in terms)
    assert ("other" in lic["license"]) == bool(terms & {"BlueOak-1.0.0", "LicenseRef-Acme_v1.2"})


def test_plus_and_with_map_to_the_licence_family_on_the_hub() -> None:
    assert spdx_ids("GPL-2.0+ OR Apache-2.0 WITH LLVM-exception") == [
        "GPL-2.0-or-later",
        "Apache-2.0",
    ]
    assert hub_licenses(["GPL-2.0+", "Apache-2.0 WITH LLVM-exception"]) == (
        ["apache-2.0", "gpl-2.0"],
        [],
    )
    assert hub_licenses(["MIT/Apache-2.0"]) == (["apache-2.0", "mit"], [])  # Cargo's slash


def test_the_licence_table_comes_from_the_detection(tmp_path: Path) -> None:
    ds = make_build(tmp_path / "ds", 9)
    stats = json.loads((ds / "stats.json").read_text())
    root_files = ["LICENSE-APACHE", "LICENSE-MIT"]
    stats["licenses"] = {
        "acme/widgets": {
            "declared": "MIT OR Apache-2.0", "detected": "MIT OR Apache-2.0",
            "detected_from": "Cargo.toml", "root": {"files": root_files},
            "files": [{"path": "LICENSE-APACHE", "ids": ["Apache-2.0"]},
                      {"path": "LICENSE-MIT", "ids": ["MIT"]},
                      {"path": "tools/LICENSE", "ids": ["MPL-2.0"]}],
            "members": [{"name": "widgets", "record_license": "MIT OR Apache-2.0"},
                        {"name": "widget-tools", "record_license": "MPL-2.0"}],
        }
    }  # fmt: skip
    (ds / "stats.json").write_text(json.dumps(stats))
    out = stage_dataset(ds, tmp_path / "stage", check_load=False)
    card = (out / "README.md").read_text()
    assert (
        "| acme/widgets | MIT OR Apache-2.0 | MIT OR Apache-2.0 (from Cargo.toml) | "
        "`LICENSE-APACHE`: Apache-2.0; `LICENSE-MIT`: MIT | `widget-tools`: MPL-2.0 |" in card
    )
    assert "| other/thing | Unlicense OR MIT | not detected (an older build) |" in card


def test_restaging_over_a_killed_staging_loses_nothing(tmp_path: Path) -> None:
    # Regression: staging replaced the folder by rmtree then rename, so a kill between the
    # two lost it; it is the one swap mechanism now (a kill leaves the old or the new).
    import os

    from corpus.store import _swap_names

    ds = make_build(tmp_path / "ds", 6)
    out = stage_dataset(ds, tmp_path / "stage", check_load=False)
    card = (out / "README.md").read_text()
    _, old = _swap_names(out)
    os.replace(out, old)  # killed after moving the old staging aside
    assert not out.exists()
    out = stage_dataset(ds, tmp_path / "stage", check_load=False)
    assert (out / "README.md").read_text() == card
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds", "stage"]


def test_card_shows_a_real_record_as_the_trainer_sees_it_and_how_to_report_one(
    staged: tuple[Path, Path, str],
) -> None:
    from corpus.prompt import PromptSpec, messages

    ds, _, card = staged
    m = re.search(r"A real example, `([^`]+)` \(\[source\]\(([^)]+)\)\):", card)
    assert m, "the card has no real example"
    rows = [r for r in read_records(ds).to_dicts() if r["permalink"] == m.group(2)]
    assert len(rows) == 1 and rows[0]["qualified_path"] == m.group(1)
    for turn in messages(rows[0], PromptSpec(), count=len):  # every turn, verbatim
        assert f"**{turn['role']}**" in card and turn["content"] in card
    assert rows[0]["signature"].split("(")[0] in card
    problems = card.split("## Report a problem or request removal", 1)
    assert len(problems) == 2, "no report-a-problem section"
    body = problems[1].split("\n## ", 1)[0]
    assert f"https://huggingface.co/datasets/{REPO_ID}/discussions" in body
    assert "`id`" in body and "removed" in body
