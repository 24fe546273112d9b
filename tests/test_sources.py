"""sources.toml: the shipped pins, strict validation, round-trips, and `corpus sources [update]`."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from corpus.cli import app
from corpus.errors import BadInputError, ExitCode
from corpus.sources import (
    FIELDS,
    Source,
    default_sources_path,
    dump_sources,
    load_sources,
    parse_sources,
    select_sources,
    update_pins,
    write_sources,
)
from tests.gitrepos import commit_files, make_rust_repo, private_git_config
from tests.gitserve import set_config

PINS = {
    "BurntSushi/ripgrep": ("3fce3b5bb0236da2df6d99672afb8a719642eca7", "Unlicense OR MIT"),
    "clap-rs/clap": ("6982fb1c98c7247e38a6d4f04191b94e30497e7b", "MIT OR Apache-2.0"),
    "sharkdp/bat": ("2ba8db9c14e5794572f5ea338c2b90404c9769cb", "MIT OR Apache-2.0"),
    "sharkdp/fd": ("ee20f426ddf338ac7ead5c5f00ea49258005caaf", "MIT OR Apache-2.0"),
    "tokio-rs/tokio": ("ea91b33ca57ff0581b38e735cc108f831bccbdaa", "MIT"),
    "serde-rs/serde": ("1023d077510b4aef36a41ef56fdb7798568a2654", "MIT OR Apache-2.0"),
    "dtolnay/syn": ("8011b1c512dbe87c6b09627790735ecdaa65c0db", "MIT OR Apache-2.0"),
}

GOOD = {
    "repo": "owner/demo",
    "url": "https://github.com/owner/demo.git",
    "commit": "a" * 40,
    "license": "MIT OR Apache-2.0",
    "branch": "master",
}


__all__ = ["private_git_config"]  # a fixture, used by name


@pytest.fixture(autouse=True)
def git_config(private_git_config: Path) -> Path:
    """Every test here runs with a private, empty global git config."""
    return private_git_config


def _toml(*entries: dict[str, object], extra: str = "") -> str:
    out = [extra] if extra else []
    for e in entries:
        out.append("[[source]]")
        for k, v in e.items():
            out.append(f"{k} = {v!r}".replace("'", '"') if isinstance(v, str) else f"{k} = {v}")
    return "\n".join(out) + "\n"


def _flat(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------- shipped file


def test_shipped_sources_are_the_seven_pins() -> None:
    sources = load_sources()
    assert {s.repo: (s.commit, s.license) for s in sources} == PINS
    assert [s.repo for s in sources] == list(PINS)
    for s in sources:
        assert s.branch == "master"
        assert s.url == f"https://github.com/{s.repo}.git"
    # The shipped file is exactly what write_sources would produce (so `update` diffs stay small).
    assert default_sources_path().read_text() == dump_sources(sources)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"commit": "abc1234"}, "not a full 40-character lower-case hex SHA (use the full SHA"),
        ({"commit": "A" * 40}, "not a full 40-character lower-case hex SHA"),
        ({"commit": "g" * 40}, "not a full 40-character lower-case hex SHA"),
        ({"commit": "a" * 41}, "not a full 40-character"),
        ({"repo": "no-slash"}, "is not a GitHub 'owner/name'"),
        ({"repo": "a/b/c"}, "is not a GitHub 'owner/name'"),
        ({"repo": "owner/.."}, "is not a GitHub 'owner/name'"),
        ({"repo": "-owner/x"}, "is not a GitHub 'owner/name'"),
        ({"repo": "own er/x"}, "is not a GitHub 'owner/name'"),
        ({"url": "ext::sh -c evil"}, "is not a git URL"),
        ({"url": "--upload-pack=evil"}, "is not a git URL"),
        ({"url": "relative/path"}, "is not a git URL"),
        ({"branch": "-f"}, "not a valid git branch name"),
        ({"branch": "a..b"}, "not a valid git branch name"),
        ({"branch": "has space"}, "not a valid git branch name"),
        ({"license": "MIT Apache-2.0"}, "two licence ids in a row"),
        ({"license": "MIT or Apache-2.0"}, "lower-case operator"),
        ({"license": "(MIT OR Apache-2.0"}, "incomplete"),
        ({"license": "MIT OR"}, "incomplete"),
        ({"license": "MIT/Apache-2.0"}, "not a licence id"),
        ({"license": ""}, "must be a non-empty string"),
        ({"commit": 12}, "'commit' must be a non-empty string"),
        ({"homepage": "https://x"}, "unknown key(s) 'homepage'"),
    ],
)
def test_bad_entry_names_file_and_entry(tmp_path: Path, change: dict, needle: str) -> None:
    other = {**GOOD, "repo": "owner/first"}
    path = tmp_path / "sources.toml"
    path.write_text(_toml(other, {**GOOD, **change}))
    with pytest.raises(BadInputError) as err:
        load_sources(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: source #2")
    assert needle in msg
    assert err.value.exit_code == ExitCode.BAD_INPUT


@pytest.mark.parametrize("field", FIELDS)
def test_missing_field_is_named(tmp_path: Path, field: str) -> None:
    entry = {k: v for k, v in GOOD.items() if k != field}
    path = tmp_path / "sources.toml"
    path.write_text(_toml(entry))
    with pytest.raises(BadInputError, match=rf"source #1.*missing required key\(s\) {field}"):
        load_sources(path)


def test_duplicate_repo_is_refused_case_insensitively(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(_toml(GOOD, {**GOOD, "repo": "Owner/Demo"}))
    with pytest.raises(BadInputError) as err:
        load_sources(path)
    assert str(err.value) == (
        f"{path}: source #2 (Owner/Demo): duplicate repo, already listed as source #1"
    )


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[[source]\nrepo = 1\n", "not valid TOML"),
        ("", "no [[source]] entries"),
        ("source = []\n", "no [[source]] entries"),
        ("source = 'x'\n", "no [[source]] entries"),
        ("source = ['x']\n", "source #1: must be a table"),
        (_toml(GOOD, extra='title = "mine"'), "unknown top-level key(s) 'title'"),
    ],
)
def test_malformed_file(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(text)
    with pytest.raises(BadInputError) as err:
        load_sources(path)
    assert str(err.value).startswith(str(path)) and needle in str(err.value)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="no such file"):
        load_sources(tmp_path / "nope.toml")
    with pytest.raises(BadInputError, match="is a directory"):
        load_sources(tmp_path)


@pytest.mark.parametrize(
    "license_",
    ["MIT", "Unlicense OR MIT", "(MIT OR Apache-2.0) AND BSD-3-Clause",
     "Apache-2.0 WITH LLVM-exception", "GPL-2.0+", "LicenseRef-Custom"],
)  # fmt: skip
def test_valid_spdx_expressions(license_: str) -> None:
    assert parse_sources(_toml({**GOOD, "license": license_}))[0].license == license_


@pytest.mark.parametrize(
    "url",
    ["https://github.com/a/b.git", "http://127.0.0.1:8080/a/b", "ssh://git@host/a/b",
     "git@github.com:a/b.git", "file:///srv/git/b", "/srv/mirrors/a+b/repo"],
)  # fmt: skip
def test_valid_urls(url: str) -> None:
    assert parse_sources(_toml({**GOOD, "url": url}))[0].url == url


# --------------------------------------------------------------------------- round-trip

_owner = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9-]{0,15}", fullmatch=True)
_name = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,15}", fullmatch=True).filter(
    lambda n: n not in (".", "..")
)
_sha = st.from_regex(r"[0-9a-f]{40}", fullmatch=True)
_license = st.sampled_from(
    ["MIT", "MIT OR Apache-2.0", "Unlicense OR MIT", "Apache-2.0 WITH LLVM-exception",
     "(MIT OR Apache-2.0) AND Unicode-DFS-2016", "BSD-3-Clause"]
)  # fmt: skip
_branch = st.from_regex(
    r"[A-Za-z0-9_][A-Za-z0-9_-]{0,10}(/[A-Za-z0-9_][A-Za-z0-9_-]{0,10})?", fullmatch=True
)


@st.composite
def _sources(draw: st.DrawFn) -> list[Source]:
    repos = draw(
        st.lists(
            st.tuples(_owner, _name).map("/".join), min_size=1, max_size=6, unique_by=str.lower
        )
    )
    return [
        Source(
            repo=r,
            url=draw(st.sampled_from([f"https://github.com/{r}.git", f"/mirrors/{r}/repo"])),
            commit=draw(_sha),
            license=draw(_license),
            branch=draw(_branch),
        )
        for r in repos
    ]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sources=_sources())
def test_write_then_load_round_trips(tmp_path: Path, sources: list[Source]) -> None:
    path = tmp_path / "rt" / "sources.toml"
    write_sources(path, sources)
    assert load_sources(path) == sources
    first = path.read_bytes()
    write_sources(path, load_sources(path))
    assert path.read_bytes() == first  # stable bytes
    assert not [p for p in path.parent.iterdir() if p.name != "sources.toml"]  # no temp files


@given(
    commit=st.text(max_size=45).filter(
        lambda c: not (len(c) == 40 and set(c) <= set("0123456789abcdef"))
    )
)
def test_any_non_sha_commit_is_refused(commit: str) -> None:
    # tomli_w writes any string as valid TOML, so only the commit rule can refuse it.
    text = tomli_w.dumps({"source": [{**GOOD, "commit": commit}]})
    with pytest.raises(BadInputError, match=r"source #1 \(owner/demo\): '?commit"):
        parse_sources(text)


def test_write_refuses_invalid_sources_and_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    good = [Source(**GOOD)]
    write_sources(path, good)
    before = path.read_bytes()
    with pytest.raises(BadInputError, match="not a full 40-character"):
        write_sources(path, [Source(**{**GOOD, "commit": "abc"})])
    assert path.read_bytes() == before


def test_select_sources() -> None:
    sources = load_sources()
    assert [s.repo for s in select_sources(sources, ["syn", "BurntSushi/ripgrep"])] == [
        "BurntSushi/ripgrep",
        "dtolnay/syn",
    ]
    assert select_sources(sources, []) == sources
    assert [s.repo for s in select_sources(sources, ["TOKIO-RS/Tokio"])] == ["tokio-rs/tokio"]
    with pytest.raises(BadInputError, match="'nope' is not in the sources; known repos: "):
        select_sources(sources, ["nope"])
    twins = [Source(**{**GOOD, "repo": "a/x"}), Source(**{**GOOD, "repo": "b/x"})]
    with pytest.raises(BadInputError, match="matches several repos"):
        select_sources(twins, ["x"])


# --------------------------------------------------------------------------- update


def _two_remotes(tmp_path: Path) -> tuple[Path, list[Source], Path, Path]:
    a, b = tmp_path / "remote-a", tmp_path / "remote-b"
    sa, sb = make_rust_repo(a), make_rust_repo(b)
    sources = [
        Source("owner/a", str(a), sa, "MIT", "master"),
        Source("owner/b", str(b), sb, "MIT OR Apache-2.0", "master"),
    ]
    path = tmp_path / "sources.toml"
    write_sources(path, sources)
    return path, sources, a, b


def test_update_pins_moves_only_the_changed_branch(tmp_path: Path) -> None:
    _, sources, a, _ = _two_remotes(tmp_path)
    new_a = commit_files(a, {"README.md": "upstream moved\n"})
    updated, report = update_pins(sources)
    assert [s.commit for s in updated] == [new_a, sources[1].commit]
    assert [r.changed for r in report] == [True, False]
    assert report[0].old == sources[0].commit and report[0].new == new_a


def test_cli_sources_update_rewrites_the_file(tmp_path: Path) -> None:
    path, sources, a, _ = _two_remotes(tmp_path)
    new_a = commit_files(a, {"README.md": "upstream moved\n"})
    runner = CliRunner()

    dry = runner.invoke(app, ["sources", "update", "--sources", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert load_sources(path) == sources

    res = runner.invoke(app, ["sources", "update", "--sources", str(path)])
    assert res.exit_code == 0, res.output
    assert "moved" in res.output and new_a[:12] in res.output
    after = load_sources(path)
    assert [s.commit for s in after] == [new_a, sources[1].commit]
    assert [(s.repo, s.url, s.license, s.branch) for s in after] == [
        (s.repo, s.url, s.license, s.branch) for s in sources
    ]

    before = path.read_bytes()
    again = runner.invoke(app, ["sources", "--sources", str(path), "update"])
    assert again.exit_code == 0 and "nothing written" in again.output
    assert path.read_bytes() == before


def test_cli_sources_update_only(tmp_path: Path) -> None:
    path, sources, a, b = _two_remotes(tmp_path)
    commit_files(a, {"README.md": "a moved\n"})
    new_b = commit_files(b, {"README.md": "b moved\n"})
    res = CliRunner().invoke(
        app, ["sources", "update", "--sources", str(path), "--only", "owner/b"]
    )
    assert res.exit_code == 0, res.output
    assert [s.commit for s in load_sources(path)] == [sources[0].commit, new_b]


def test_update_follows_insteadof(tmp_path: Path, git_config: Path) -> None:
    mirror = tmp_path / "mirror"
    old = make_rust_repo(mirror)
    new = commit_files(mirror, {"README.md": "moved\n"})
    set_config(git_config, f"url.{mirror}.insteadOf", "https://github.invalid/owner/m.git")
    path = tmp_path / "sources.toml"
    write_sources(
        path, [Source("owner/m", "https://github.invalid/owner/m.git", old, "MIT", "master")]
    )
    res = CliRunner().invoke(app, ["sources", "update", "--sources", str(path), "--retries", "0"])
    assert res.exit_code == 0, res.output
    assert load_sources(path)[0].commit == new


def test_cli_update_failure_names_the_repo_and_writes_nothing(tmp_path: Path) -> None:
    path, sources, a, _ = _two_remotes(tmp_path)
    commit_files(a, {"README.md": "moved\n"})
    broken = [
        sources[0],
        Source("owner/b", sources[1].url, sources[1].commit, "MIT", "no-such-branch"),
    ]
    write_sources(path, broken)
    before = path.read_bytes()
    res = CliRunner().invoke(app, ["sources", "update", "--sources", str(path), "--retries", "0"])
    assert res.exit_code == 1
    assert "owner/b" in _flat(res.output) and "no-such-branch" in _flat(res.output)
    assert path.read_bytes() == before


# --------------------------------------------------------------------------- listing


def test_cli_sources_lists_the_shipped_pins(tmp_path: Path) -> None:
    # An empty clone cache: nothing detected, the plain listing (the machine's cache may hold
    # clones, whose detections add columns; tests/test_licenses_build.py covers those).
    res = CliRunner(env={"CORPUS_CACHE_DIR": str(tmp_path)}).invoke(app, ["sources"])
    assert res.exit_code == 0, res.output
    for repo, (sha, license_) in PINS.items():
        assert repo in res.output and sha[:12] in res.output and license_ in res.output


def test_cli_sources_shows_urls_when_not_github(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    write_sources(path, [Source(**{**GOOD, "url": "/srv/m/x"})])
    res = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["sources", "--sources", str(path)])
    assert res.exit_code == 0 and "/srv/m/x" in res.output


def test_cli_sources_bad_file_exits_2_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(_toml({**GOOD, "commit": "deadbeef"}))
    res = CliRunner().invoke(app, ["sources", "--sources", str(path)])
    assert res.exit_code == 2
    out = _flat(res.output)
    assert str(path) in out.replace(" ", "") or "sources.toml" in out
    assert "source #1 (owner/demo)" in out and "deadbeef" in out
    assert "Traceback" not in res.output


@pytest.mark.parametrize(
    ("url", "published"),
    [
        ("https://github.com/a/b.git", "https://github.com/a/b.git"),
        ("https://user:ghp_token@github.com/a/b.git", "https://github.com/a/b.git"),
        ("ssh://git@git.example.org:2222/a/b.git", "ssh://git.example.org:2222/a/b.git"),
        ("file:///home/builder/mirrors/a/b.git", "https://github.com/o/r.git"),
        ("/home/builder/mirrors/b.git", "https://github.com/o/r.git"),
        ("git@github.com:a/b.git", "https://github.com/o/r.git"),
        ("http://localhost:8080/a/b.git", "https://github.com/o/r.git"),
        ("https://127.0.0.1/a/b.git", "https://github.com/o/r.git"),
    ],
)
def test_a_published_source_names_no_local_path_or_credential(url: str, published: str) -> None:
    from corpus.sources import public_url

    assert public_url(url, "o/r") == published
