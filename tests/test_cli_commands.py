"""The course's commands (clone-sources, validate, stats, sample, review, card), the grouped
help with real metavars, and their error cases: one clear line and the documented exit code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest
import typer
from typer.testing import CliRunner

from corpus.cli import app
from corpus.errors import ExitCode
from tests.falsification_fixtures import CleanCorpus, make_clean_corpus, rewrite_records
from tests.tui_fixtures import CONTROL_DOC, RUSTDOC_DOC, make_tui_dataset

runner = CliRunner()


def invoke(*args: str) -> click.testing.Result:
    return runner.invoke(app, [str(a) for a in args], terminal_width=120)


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> CleanCorpus:
    return make_clean_corpus(tmp_path_factory.mktemp("clean"))


# -- help -------------------------------------------------------------------------------------


def test_help_groups_the_commands_in_panels() -> None:
    out = invoke("--help").output
    panels = re.findall(r"╭─ (.+?) ─", out)
    assert panels == ["Options", "Get the sources", "Build the corpus", "Check and inspect",
                      "Publish", "Train", "Use the model"]  # fmt: skip
    body = {p: out.split(f"╭─ {p} ")[1].split("╰")[0] for p in panels[1:]}
    assert all(f" {c} " in body["Get the sources"] for c in ("clone", "clone-sources", "sources"))
    for cmd in ("validate", "falsify", "stats", "sample", "review", "tui", "inspect"):
        assert f" {cmd} " in body["Check and inspect"], cmd
    assert " card " in body["Publish"] and " export " in body["Publish"]
    assert " train " in body["Train"] and " eval " in body["Train"]
    assert " generate " in body["Use the model"] and " serve " in body["Use the model"]


def _commands(cmd: click.Command, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:  # fmt: skip
    out = [(path, cmd)]
    for name, sub in getattr(cmd, "commands", {}).items():
        out += _commands(sub, (*path, name))
    return out


def test_every_option_has_a_real_metavar_and_flags_show_none() -> None:
    root = typer.main.get_command(app)
    bad = []
    for path, cmd in _commands(root):
        for param in cmd.params:
            if getattr(param, "is_flag", False):
                if param.metavar != "":
                    bad.append(f"{' '.join(path)} {param.opts[0]}: a flag with a metavar")
            elif not param.metavar or "<" in param.metavar or "[" in param.metavar:
                bad.append(f"{' '.join(path)} {param.name}: metavar {param.metavar!r}")
    assert not bad, "\n".join(bad)
    for path, _ in _commands(root):
        text = invoke(*path, "--help").output
        assert not re.search(r"<(bool|str|int|float|path|list\[)", text), (path, text)
        usage = next(line for line in text.splitlines() if "Usage:" in line)
        assert "{" not in usage, usage  # arguments read PATH..., not {paths}...
    usage = invoke("extract", "--help").output
    assert "corpus extract [OPTIONS] PATH..." in usage


# -- clone-sources ----------------------------------------------------------------------------


def test_clone_sources_is_clone(tmp_path: Path) -> None:
    from tests.gitrepos import make_rust_repo

    remote = tmp_path / "remote"
    sha = make_rust_repo(remote)
    src = tmp_path / "sources.toml"
    src.write_text(
        f'[[source]]\nrepo = "owner/demo"\nurl = "{remote.as_uri()}"\ncommit = "{sha}"\n'
        'license = "MIT"\nbranch = "master"\n'
    )
    result = invoke("clone-sources", "--sources", src, "--cache-dir", tmp_path / "cache")
    assert result.exit_code == 0, result.output
    assert "owner/demo" in result.output and "fetched" in result.output
    assert (tmp_path / "cache" / "owner" / "demo" / ".git").exists()
    bad = invoke("clone-sources", "--sources", tmp_path / "nope.toml")
    assert bad.exit_code == ExitCode.BAD_INPUT and "Traceback" not in bad.output


# -- validate ---------------------------------------------------------------------------------


def test_validate_runs_the_integrity_and_syntax_checks_only(clean: CleanCorpus) -> None:
    result = invoke("validate", clean.dataset)
    assert result.exit_code == 0, result.output
    assert "integrity.schema" in result.output and "syntax.signatures_parse" in result.output
    assert "provenance" not in result.output  # no clones needed, none asked for
    assert "valid: 13 integrity and syntax checks pass" in flat(result.output)
    as_json = json.loads(invoke("validate", clean.dataset, "--json").output)
    assert as_json["valid"] is True and len(as_json["checks"]) == 13
    assert not (clean.dataset / "falsification.json").exists()  # it writes nothing


def test_validate_fails_a_broken_dataset_and_refuses_an_unreadable_one(
    clean: CleanCorpus, tmp_path: Path
) -> None:
    import shutil

    ds = tmp_path / "dataset"
    shutil.copytree(clean.dataset, ds)
    rewrite_records(ds, lambda recs: [recs[0], *recs])  # a duplicated record: ids not unique
    result = invoke("validate", ds)
    assert result.exit_code == ExitCode.FAILURE
    assert "4 of 13 checks failed: integrity.schema, integrity.ids_unique" in flat(result.output)
    assert invoke("validate", tmp_path / "nope").exit_code == ExitCode.BAD_INPUT
    (ds / "data" / "train-00000-of-00001.parquet").write_bytes(b"garbage")
    unreadable = invoke("validate", ds)
    assert unreadable.exit_code == ExitCode.BAD_INPUT and "Traceback" not in unreadable.output


# -- stats ------------------------------------------------------------------------------------


def test_stats_tables_and_json(tmp_path: Path) -> None:
    ds = make_tui_dataset(tmp_path, 40)
    tokens = {"prompt": {"mean": 120.5, "max": 410}, "answer": {"mean": 33.0}}
    stats = json.loads((ds / "stats.json").read_text())
    (ds / "stats.json").write_text(json.dumps({**stats, "tokens": tokens}))
    figures = json.loads(invoke("stats", ds, "--json").output)
    assert figures["records"] == 40
    assert sum(sum(per.values()) for per in figures["per_repo"].values()) == 40
    assert figures["per_repo"]["clap-rs/clap"] == {"test": 1, "train": 11, "validation": 1}
    assert sum(figures["per_split"].values()) == 40 and set(figures["per_split"]) == {
        "train", "validation", "test"}  # fmt: skip
    assert figures["per_container_kind"] == {k: 8 for k in ("extern", "free", "impl", "trait",
                                                               "trait_impl")}  # fmt: skip
    assert figures["per_doc_section"] == {"Examples": 11}
    assert figures["filters"]["undocumented"] == 120 and figures["tokens"] == tokens
    text = invoke("stats", ds).output
    for heading in ("records per repo and split", "Container kind", "Doc sections",
                    "Filters (stats.json)", "Tokens (stats.json)"):  # fmt: skip
        assert heading in text, heading
    assert "prompt.mean" in text and "120.5" in text
    assert re.search(r"clap-rs/clap\s+│\s+13\s+│\s+11\s+│\s+1\s+│\s+1", text)


def test_stats_of_an_unreadable_dataset_is_bad_input(tmp_path: Path) -> None:
    result = invoke("stats", tmp_path)
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "no dataset here" in result.output and "Traceback" not in result.output


# -- sample and review ------------------------------------------------------------------------


def test_sample_is_seeded_and_shows_corpus_text_literally(tmp_path: Path) -> None:
    ds = make_tui_dataset(tmp_path, 40)
    first = invoke("sample", ds, "-n", "40", "--seed", "3")
    assert first.exit_code == 0, first.output
    assert first.output == invoke("sample", ds, "-n", "40", "--seed", "3").output
    assert first.output != invoke("sample", ds, "-n", "40", "--seed", "4").output
    assert first.output.count("/40  ") == 40  # every record, numbered
    assert "␛[31mred␛[0m" in first.output and "\x1b[31m" not in first.output  # CONTROL_DOC
    assert "[bold]every[/bold]" in first.output  # markup in a doc stays literal
    only = invoke("sample", ds, "-n", "3", "--split", "test")
    assert only.exit_code == 0 and only.output.count("split test") == 3
    bad = invoke("sample", ds, "--split", "nope")
    assert bad.exit_code == ExitCode.BAD_INPUT and "this dataset has test, train" in flat(
        bad.output
    )


def test_review_writes_a_markdown_sheet_with_a_checklist_per_record(tmp_path: Path) -> None:
    from corpus.review import CHECKLIST

    ds = make_tui_dataset(tmp_path, 40)
    out = tmp_path / "review.md"
    result = invoke("review", ds, "-n", "40", "--out", out, "--seed", "1")
    assert result.exit_code == 0, result.output
    sheet = out.read_text(encoding="utf-8")
    assert sheet.startswith("# Review sheet: 40 records of")
    assert sheet.count("\n## ") == 41  # 40 records and the tally
    assert sheet.count("- [ ] ") == 40 * len(CHECKLIST)
    assert "Passed: ____ / 40" in sheet
    # The doc is quoted exactly (controls made visible) in a fence that cannot close early.
    shown = CONTROL_DOC.replace("\x1b", "␛").replace("\x07", "␇")
    assert f"```text\n{shown}\n```" in sheet and "\x1b" not in sheet
    # RUSTDOC_DOC holds a ``` fence: its own fence is four backticks long, so it cannot close.
    assert f"````text\n{RUSTDOC_DOC}\n````" in sheet
    again = tmp_path / "again.md"
    invoke("review", ds, "-n", "40", "--out", again, "--seed", "1")
    assert again.read_text(encoding="utf-8") == sheet
    missing = invoke("review", ds, "-n", "2")
    assert missing.exit_code == ExitCode.BAD_INPUT and "--out" in missing.output


# -- card -------------------------------------------------------------------------------------


def test_card_renders_the_publish_card_to_a_file(clean: CleanCorpus, tmp_path: Path) -> None:
    out = tmp_path / "README.md"
    result = invoke("card", clean.dataset, "--out", out, "--repo-id", "acme/rustdoc",
                    "--tag", "v2026.01.02-abc")  # fmt: skip
    assert result.exit_code == 0, result.output
    card = out.read_text(encoding="utf-8")
    assert card.startswith("---\n") and "configs:" in card
    assert 'load_dataset("acme/rustdoc", revision="v2026.01.02-abc")' in card
    # No falsification.json here: the card says the build did not pass.
    assert "did not pass falsification" in card


def test_card_refuses_a_folder_that_is_not_a_build(tmp_path: Path) -> None:
    ds = make_tui_dataset(tmp_path, 5)  # no sources.lock
    result = invoke("card", ds, "--out", tmp_path / "card.md")
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "sources.lock" in result.output and not (tmp_path / "card.md").exists()
    missing = invoke("card", tmp_path / "nope", "--out", tmp_path / "card.md")
    assert missing.exit_code == ExitCode.BAD_INPUT


def test_help_paragraphs_wrap_at_the_terminal_not_at_the_source() -> None:
    # Regression: Typer's rich mode kept the docstrings' line breaks ("Exit 2 when the\n
    # folder"), giving ragged help at 80 columns.
    from corpus.commands._common import reflow

    assert reflow("One two\nthree.\n\n- item\n  more\n- next\n\nEnd\nhere.") == (
        "One two three.\n\n- item\n  more\n- next\n\nEnd here."
    )
    res = runner.invoke(app, ["card", "--help"], env={"COLUMNS": "200"})
    assert "Exit 2 when the folder is not a complete build" in res.output


@pytest.mark.parametrize("columns", ["80", "120"])
def test_sample_lines_end_in_text_not_a_dangling_separator(tmp_path: Path, columns: str) -> None:
    # Regression: "impl · split train ·" with the permalink wrapped onto the next line.
    ds = make_tui_dataset(tmp_path, 10)
    result = runner.invoke(app, ["sample", str(ds), "-n", "10"], env={"COLUMNS": columns})
    assert result.exit_code == 0, result.output
    rows = [row.strip("│ ") for row in result.output.splitlines()]
    assert not [row for row in rows if row.endswith("·") or row.startswith("·")], result.output
    assert sum(row.startswith("https://github.com/") for row in rows) == 10  # a line of its own
    assert result.output.count(" · split ") == 10


def _split_tokens(examples: int, total: int, p99: int, over_512: int) -> dict[str, object]:
    return {"examples": examples, "tokens": total, "prompt_tokens": total // 2,
            "answer_tokens": total - total // 2,
            "length": {"max": p99 + 9, "p50": 135, "p90": 315, "p99": p99},
            "longer_than": {"1024": 1, "2048": 0, "4096": 0, "512": over_512}}  # fmt: skip


#: A tokens section as `corpus build` writes it (corpus.tokens.token_stats): splits by figures.
BUILD_TOKENS = {"prompt_input": "context", "test": _split_tokens(360, 63885, 695, 12),
                "tokenizer": "Qwen2.5", "train": _split_tokens(2886, 619794, 2016, 143),
                "validation": _split_tokens(362, 70817, 955, 13)}  # fmt: skip


@pytest.mark.parametrize("columns", ["80", "120"])
def test_stats_tokens_are_one_table_with_a_row_per_split(tmp_path: Path, columns: str) -> None:
    ds = make_tui_dataset(tmp_path, 40)
    stats = json.loads((ds / "stats.json").read_text())
    (ds / "stats.json").write_text(json.dumps({**stats, "tokens": BUILD_TOKENS}))
    result = runner.invoke(app, ["stats", str(ds)], env={"COLUMNS": columns})
    assert result.exit_code == 0, result.output
    text = result.output[result.output.index("Tokens (stats.json)") :]
    header = r"split\s+examples\s+prompt\s+answer\s+total\s+p50\s+p90\s+p99\s+max\s+>512\s+>1k"
    assert re.search(header + r"\s+>2k\s+>4k\n", text), text
    rows = [line.split() for line in text.splitlines()]
    train = ["train", "2,886", "309,897", "309,897", "619,794", "135", "315", "2,016", "2,025",
             "143", "1", "0", "0"]  # fmt: skip
    assert train in rows, text
    assert [r[0] for r in rows if r and r[0] in ("train", "validation", "test")] == [
        "train", "validation", "test"]  # fmt: skip
    assert "train.length" not in text and "…" not in text  # no dotted keys, no cut figures
    assert "tokenizer Qwen2.5" in flat(text) and "prompt input context" in flat(text)
    assert "other figures" not in text  # everything is in the one table
    figures = json.loads(invoke("stats", ds, "--json").output)
    assert figures["tokens"] == BUILD_TOKENS  # --json as it was: the section itself
