"""The shipped scheduler integrations: GitHub Actions workflow, systemd units, crontab line.

Each one must run a real `corpus` invocation: its arguments are parsed by the CLI's own
(click) command, and every flag is checked against `corpus rebuild --help`.
"""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from corpus.cli import app

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "rebuild.yml"
DEPLOY = ROOT / "deploy"
SERVICE = DEPLOY / "rustdoc-corpus-rebuild.service"
TIMER = DEPLOY / "rustdoc-corpus-rebuild.timer"
CRONTAB = DEPLOY / "crontab"

runner = CliRunner()
#: What a Hugging Face access token looks like: none may ever be written into these files.
TOKEN_LITERAL = re.compile(r"\bhf_[A-Za-z0-9]{30,}")


def _help(command: str) -> str:
    res = runner.invoke(app, [command, "--help"], env={"COLUMNS": "300"})
    assert res.exit_code == 0, res.output
    return res.output


# Appended to a scheduler's arguments so the real command parses and converts every one of
# them, then stops at its first check, before touching anything (the last value of an option
# wins, so these override the scheduler's own --sources / --out).
_STOP_AT = {
    "rebuild": (["--sources", "/nonexistent/sources.toml"], 2, "no such file or directory"),
    "history": (["--out", "/nonexistent/out"], 0, "no history yet"),
}


def check_invocation(argv: list[str]) -> list[str]:
    """``argv`` (``corpus <command> ...``) must be a valid command line; returns its flags."""
    assert argv[0].endswith("corpus"), argv
    command, args = argv[1], argv[2:]
    stop, code, expected = _STOP_AT[command]
    res = runner.invoke(app, [command, *args, *stop], env={"COLUMNS": "300"})
    # Our own message and exit code: every option existed and took its value; a usage error
    # (unknown option, bad value) exits 2 with click's message instead.
    assert res.exit_code == code and expected in res.output, res.output
    flags = [a.split("=", 1)[0] for a in args if a.startswith("-")]
    help_text = _help(command)
    for flag in flags:
        assert re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", help_text), flag
    return flags


def _substitute(text: str, values: dict[str, str]) -> str:
    """Replace ``${{ expr }}`` / ``${VAR}`` / ``$VAR`` with plausible values."""
    text = re.sub(r"\$\{\{\s*([^}]+?)\s*\}\}", lambda m: values[m.group(1)], text)
    text = re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], text)
    return re.sub(r"\$(\w+)", lambda m: values[m.group(1)], text)


def _cron_minute_ok(minute: str) -> bool:
    """A fixed minute that is not 0 (off the hour, where schedulers pile up)."""
    return minute.isdigit() and 0 < int(minute) < 60


# --------------------------------------------------------------------------- GitHub Actions


@pytest.fixture(scope="module")
def workflow() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text())
    # YAML 1.1 reads the key `on` as the boolean True.
    data["on"] = data.pop(True, data.get("on"))
    return data


def test_workflow_triggers_concurrency_and_permissions(workflow: dict) -> None:
    on = workflow["on"]
    assert set(on) == {"schedule", "workflow_dispatch"}
    [entry] = on["schedule"]
    fields = entry["cron"].split()
    assert len(fields) == 5 and _cron_minute_ok(fields[0]) and fields[1].isdigit(), fields
    assert workflow["concurrency"]["group"]
    assert workflow["concurrency"]["cancel-in-progress"] is False
    assert workflow["permissions"] == {"contents": "read"}


def _steps(workflow: dict) -> list[dict]:
    [job] = workflow["jobs"].values()
    return job["steps"]


def test_workflow_caches_clones_and_installs_the_torch_free_core(workflow: dict) -> None:
    steps = _steps(workflow)
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("actions/setup-python@") for u in uses)
    restore = next(s for s in steps if s.get("uses", "").startswith("actions/cache/restore@"))
    save = next(s for s in steps if s.get("uses", "").startswith("actions/cache/save@"))
    for step in (restore, save):
        assert "~/.cache/rustdoc-corpus" in step["with"]["path"].split()  # the XDG cache dir
        assert "out" in step["with"]["path"].split()  # shards, last good build, history
    assert save["if"] == "always()"  # a failing run's history is kept too
    assert uses.index(restore["uses"]) < uses.index(save["uses"])
    install = next(s for s in steps if "pip install" in s.get("run", "") and "-c" in s["run"])
    last = install["run"].strip().splitlines()[-1]
    assert shlex.split(last)[-3:] == ["-c", "constraints.txt", "."]  # no [train] extra: no torch


def test_workflow_runs_a_real_rebuild_with_the_token_from_secrets(workflow: dict) -> None:
    steps = _steps(workflow)
    rebuilds = [s for s in steps if "corpus rebuild" in s.get("run", "")]
    assert len(rebuilds) == 1
    step = rebuilds[0]
    assert step["env"]["HF_TOKEN"] == "${{ secrets.HF_TOKEN }}"
    values = {"vars.HF_DATASET_REPO": "acme/rustdoc-corpus"}
    argv = shlex.split(_substitute(step["run"], values))
    flags = check_invocation(argv)
    assert {"--push", "--repo-id", "--out"} <= set(flags)
    assert argv[argv.index("--repo-id") + 1] == "acme/rustdoc-corpus"
    # The token only ever comes from secrets, and only that step gets it.
    text = WORKFLOW.read_text()
    assert text.count("secrets.") == 1 and not TOKEN_LITERAL.search(text)
    assert all("HF_TOKEN" not in s.get("env", {}) for s in steps if s is not step)
    for s in steps:
        if "corpus history" in s.get("run", ""):
            check_invocation(shlex.split(s["run"].split("||")[0]))


# --------------------------------------------------------------------------- systemd and cron


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True, delimiters=("=",))
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(path.read_text())
    return parser


def test_systemd_service_runs_a_real_rebuild_without_the_token() -> None:
    unit = _unit(SERVICE)
    assert unit.sections() == ["Unit", "Service", "Install"]
    svc = unit["Service"]
    assert svc["Type"] == "oneshot"
    env_file = svc["EnvironmentFile"].lstrip("-")
    assert env_file.startswith("/etc/") and env_file.endswith(".env")
    assert "network-online.target" in unit["Unit"]["After"]
    argv = shlex.split(_substitute(svc["ExecStart"], {"CORPUS_REPO_ID": "acme/corpus"}))
    flags = check_invocation(argv)
    assert {"--push", "--repo-id", "--out", "--cache-dir"} <= set(flags)
    assert Path(argv[0]).is_absolute()  # systemd needs an absolute ExecStart
    text = SERVICE.read_text()
    assert not TOKEN_LITERAL.search(text)
    assert not any("HF_TOKEN" in ln for ln in text.splitlines() if not ln.startswith("#"))


def test_systemd_timer_is_off_the_hour_and_starts_the_service() -> None:
    unit = _unit(TIMER)
    assert unit.sections() == ["Unit", "Timer", "Install"]
    timer = unit["Timer"]
    assert timer["Unit"] == SERVICE.name
    assert timer["Persistent"] == "true"
    m = re.fullmatch(r"\*-\*-\* (\d{2}):(\d{2}):00( UTC)?", timer["OnCalendar"])
    assert m and _cron_minute_ok(str(int(m.group(2)))), timer["OnCalendar"]
    assert unit["Install"]["WantedBy"] == "timers.target"


def test_crontab_line_is_off_the_hour_and_a_real_rebuild() -> None:
    lines = [ln for ln in CRONTAB.read_text().splitlines() if ln.strip() and ln[0] != "#"]
    assert len(lines) == 1
    fields = lines[0].split(None, 5)
    assert _cron_minute_ok(fields[0]) and fields[1].isdigit() and fields[2:5] == ["*"] * 3
    command = fields[5]
    assert "rebuild.env" in command and "HF_TOKEN" not in command
    assert not TOKEN_LITERAL.search(CRONTAB.read_text())
    call = command[command.index(".venv/bin/corpus rebuild") :].split(">>")[0]
    env = {"HOME": "/home/u", "CORPUS_REPO_ID": "acme/corpus"}
    check_invocation(shlex.split(_substitute(call, env)))


def test_env_example_holds_no_value() -> None:
    text = (DEPLOY / "rebuild.env.example").read_text()
    assigned = dict(
        ln.split("=", 1) for ln in text.splitlines() if ln.strip() and not ln.startswith("#")
    )
    assert assigned == {"HF_TOKEN": "", "CORPUS_REPO_ID": ""}


def test_check_invocation_rejects_a_flag_the_cli_does_not_have() -> None:
    # The validator itself must be able to fail.
    for bad in (["--push", "--repo-id", "a/b", "--no-such-flag"], ["--workers", "many"]):
        with pytest.raises(AssertionError):
            check_invocation(["corpus", "rebuild", *bad])
