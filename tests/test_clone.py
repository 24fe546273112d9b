"""corpus.clone against real local git repositories: pins, retries, hooks, symlinks, mirrors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from corpus.cli import app
from corpus.clone import (
    CloneError,
    CloneEvent,
    EventKind,
    UnsafePathError,
    branch_tip,
    clone_all,
    clone_source,
    default_cache_dir,
    git_environment,
    iter_rust_files,
    repo_dir,
    safe_read,
)
from corpus.sources import Source, write_sources
from tests.gitrepos import commit_files, git, make_rust_repo, private_git_config
from tests.gitserve import (
    auth_required_server,
    counting_upload_pack,
    fetch_count,
    flaky_upload_pack,
    set_config,
    write_hooks,
)

CLI_MAIN = "from corpus.cli import main; main()"
HOOKS = (
    "post-checkout",
    "reference-transaction",
    "post-merge",
    "post-rewrite",
    "post-index-change",
    "pre-auto-gc",
    "fsmonitor-watchman",
)


__all__ = ["private_git_config"]  # a fixture, used by name


@pytest.fixture(autouse=True)
def git_config(private_git_config: Path) -> Path:
    """Every test here runs with a private, empty global git config."""
    return private_git_config


def _source(remote: Path | str, commit: str, repo: str = "owner/demo") -> Source:
    return Source(repo=repo, url=str(remote), commit=commit, license="MIT", branch="master")


def _events() -> tuple[list[CloneEvent], callable]:
    seen: list[CloneEvent] = []
    return seen, seen.append


def _no_partials(cache: Path) -> bool:
    return not list(cache.rglob(".*.partial-*"))


# --------------------------------------------------------------------------- pinning


def test_clone_fetches_exactly_the_pin_shallow(tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    first = make_rust_repo(remote)
    tip = commit_files(remote, {"src/lib.rs": "/// Newer.\npub fn newer() {}\n"})
    cache = tmp_path / "cache"

    res = clone_source(_source(remote, first), cache)

    dest = repo_dir(cache, "owner/demo")
    assert res.path == dest == cache / "owner" / "demo"
    assert (res.fetched, res.method, res.commit) == (True, "shallow", first)
    assert git(dest, "rev-parse", "HEAD") == first
    assert "add_one" in (dest / "src/lib.rs").read_text()  # the pinned content, not the tip
    assert git(dest, "rev-parse", "--is-shallow-repository") == "true"
    assert git(dest, "rev-list", "--count", "HEAD") == "1"
    assert subprocess.run(["git", "cat-file", "-e", tip], cwd=dest).returncode != 0
    assert _no_partials(cache)


def test_unadvertised_sha_falls_back_to_full_fetch(tmp_path: Path, git_config: Path) -> None:
    # Protocol v0 servers refuse a SHA that no ref points at; the pin must still arrive.
    set_config(git_config, "protocol.version", "0")
    remote = tmp_path / "remote"
    first = make_rust_repo(remote)
    commit_files(remote, {"README.md": "tip\n"})
    seen, progress = _events()

    res = clone_source(_source(remote, first), tmp_path / "cache", progress=progress)

    assert (res.fetched, res.method) == (True, "full")
    assert git(res.path, "rev-parse", "HEAD") == first
    assert [e.kind for e in seen] == [EventKind.FALLBACK]
    assert "unadvertised" in seen[0].message


def test_missing_pin_is_a_clear_error(tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    make_rust_repo(remote)
    bogus = "0123456789abcdef0123456789abcdef01234567"
    cache = tmp_path / "cache"

    with pytest.raises(CloneError) as err:
        clone_source(_source(remote, bogus), cache, backoff=0)

    msg = str(err.value)
    assert "owner/demo" in msg and bogus in msg and "does not exist" in msg
    assert not repo_dir(cache, "owner/demo").exists()
    assert _no_partials(cache)


def test_second_clone_does_no_network_work(tmp_path: Path, git_config: Path) -> None:
    script, counter = counting_upload_pack(tmp_path / "server")
    set_config(git_config, "remote.origin.uploadpack", str(script))
    remote = tmp_path / "remote"
    sha = make_rust_repo(remote)
    src = _source(remote, sha)
    cache = tmp_path / "cache"

    first = clone_source(src, cache)
    assert first.fetched and fetch_count(counter) == 1

    shutil.rmtree(remote)  # the remote is gone: any network work would now fail
    second = clone_source(src, cache)

    assert (second.fetched, second.method, second.attempts) == (False, "cached", 0)
    assert fetch_count(counter) == 1
    assert git(second.path, "rev-parse", "HEAD") == sha


def test_moved_pin_is_fetched_and_checked_out(tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    first = make_rust_repo(remote)
    cache = tmp_path / "cache"
    clone_source(_source(remote, first), cache)
    second = commit_files(remote, {"src/extra.rs": "/// Extra.\npub fn extra() {}\n"})

    res = clone_source(_source(remote, second), cache)

    assert res.fetched and git(res.path, "rev-parse", "HEAD") == second
    assert (res.path / "src/extra.rs").is_file()
    # And back to the old pin: present locally, so no fetch.
    back = clone_source(_source(remote, first), cache)
    assert not back.fetched and not (back.path / "src/extra.rs").exists()


def test_dirty_cache_is_restored_without_fetching(tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    sha = make_rust_repo(remote)
    cache = tmp_path / "cache"
    dest = clone_source(_source(remote, sha), cache).path
    (dest / "src/lib.rs").write_text("// tampered\n")
    (dest / "src/planted.rs").write_text("pub fn planted() {}\n")

    res = clone_source(_source(remote, sha), cache)

    assert not res.fetched
    assert "add_one" in (dest / "src/lib.rs").read_text()
    assert not (dest / "src/planted.rs").exists()


def test_ignored_files_left_in_the_cache_are_removed(tmp_path: Path) -> None:
    # Regression: `git status` does not list ignored files, so a `gen/evil.rs` under an ignored
    # directory survived and was extracted as if it were in the pinned commit.
    remote = tmp_path / "remote"
    sha = make_rust_repo(remote, extra={".gitignore": "gen/\n"})
    cache = tmp_path / "cache"
    dest = clone_source(_source(remote, sha), cache).path
    (dest / "gen").mkdir()
    (dest / "gen" / "evil.rs").write_text("pub fn planted() {}\n")

    res = clone_source(_source(remote, sha), cache)

    assert not res.fetched
    assert not (dest / "gen").exists()
    assert "gen/evil.rs" not in iter_rust_files(dest)


def test_changed_url_is_used_for_the_next_fetch(tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    first = make_rust_repo(remote)
    cache = tmp_path / "cache"
    clone_source(_source(remote, first), cache)
    moved = tmp_path / "moved"
    shutil.move(remote, moved)
    second = commit_files(moved, {"README.md": "moved\n"})

    res = clone_source(_source(moved, second), cache)

    assert res.fetched and git(res.path, "config", "remote.origin.url") == str(moved)


def test_non_git_directory_in_the_way_is_refused(tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    sha = make_rust_repo(remote)
    cache = tmp_path / "cache"
    dest = repo_dir(cache, "owner/demo")
    dest.mkdir(parents=True)
    (dest / "notes.txt").write_text("mine\n")

    with pytest.raises(CloneError, match=r"owner/demo: .* not a git checkout"):
        clone_source(_source(remote, sha), cache)
    assert (dest / "notes.txt").read_text() == "mine\n"  # nothing lost


def test_leftover_partial_clone_is_cleared(tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    sha = make_rust_repo(remote)
    cache = tmp_path / "cache"
    stale = cache / "owner" / ".demo.partial-dead"
    stale.mkdir(parents=True)
    (stale / "junk").write_text("x")

    res = clone_source(_source(remote, sha), cache)

    assert res.fetched and not stale.exists()


# --------------------------------------------------------------------------- retries


def test_transient_failures_are_retried_until_the_remote_recovers(
    tmp_path: Path, git_config: Path
) -> None:
    script, counter = flaky_upload_pack(tmp_path / "server", fails=2)
    set_config(git_config, "remote.origin.uploadpack", str(script))
    remote = tmp_path / "remote"
    sha = make_rust_repo(remote)
    seen, progress = _events()

    res = clone_source(_source(remote, sha), tmp_path / "cache", backoff=0.01, progress=progress)

    assert res.fetched and res.attempts == 3 and fetch_count(counter) == 3
    retries = [e for e in seen if e.kind is EventKind.RETRY]
    assert len(retries) == 2
    assert "Connection reset by peer" in retries[0].message
    assert git(res.path, "rev-parse", "HEAD") == sha


def test_retries_run_out_with_a_message_naming_the_repo(tmp_path: Path, git_config: Path) -> None:
    script, counter = flaky_upload_pack(tmp_path / "server", fails=10)
    set_config(git_config, "remote.origin.uploadpack", str(script))
    remote = tmp_path / "remote"
    sha = make_rust_repo(remote)

    with pytest.raises(CloneError) as err:
        clone_source(_source(remote, sha), tmp_path / "cache", retries=2, backoff=0.01)

    assert fetch_count(counter) == 3  # one try + two retries
    assert "owner/demo" in str(err.value) and "Connection reset by peer" in str(err.value)


def test_missing_remote_fails_fast_without_retrying(tmp_path: Path) -> None:
    seen, progress = _events()
    with pytest.raises(CloneError) as err:
        clone_source(
            _source(tmp_path / "nowhere", "a" * 40),
            tmp_path / "cache",
            backoff=5,  # a retry would make this test slow, and the assertion below fail
            progress=progress,
        )
    assert "owner/demo" in str(err.value)
    assert "does not appear to be a git repository" in str(err.value)
    assert not [e for e in seen if e.kind is EventKind.RETRY]


def test_clone_all_keeps_going_and_reports_every_failure(tmp_path: Path) -> None:
    good = tmp_path / "good"
    sha = make_rust_repo(good)
    sources = [
        _source(tmp_path / "missing", "b" * 40, repo="owner/broken"),
        _source(good, sha, repo="owner/good"),
    ]
    seen, progress = _events()

    with pytest.raises(CloneError) as err:
        clone_all(sources, tmp_path / "cache", backoff=0, progress=progress)

    assert [r.repo for r in err.value.results] == ["owner/good"]
    assert [f.repo for f in err.value.failures] == ["owner/broken"]
    assert "1 of 2" in str(err.value) and "owner/broken" in str(err.value)
    kinds = [(e.kind, e.repo) for e in seen if e.kind is not EventKind.RETRY]
    assert kinds == [
        (EventKind.START, "owner/broken"),
        (EventKind.FAILED, "owner/broken"),
        (EventKind.START, "owner/good"),
        (EventKind.DONE, "owner/good"),
    ]


# --------------------------------------------------------------------------- hardening


def test_hooks_from_user_config_and_templates_never_run(tmp_path: Path, git_config: Path) -> None:
    marker = tmp_path / "hooks-ran.log"
    evil = tmp_path / "evil-hooks"
    write_hooks(evil, marker, HOOKS)
    template = tmp_path / "template"
    write_hooks(template / "hooks", marker, HOOKS)
    set_config(git_config, "core.hooksPath", str(evil))
    set_config(git_config, "init.templateDir", str(template))
    remote = tmp_path / "remote"
    write_hooks(remote / ".git" / "hooks", marker, HOOKS)  # the "upstream's" own hooks
    sha = make_rust_repo(remote)
    marker.unlink(missing_ok=True)  # making the remote may have run them

    # Control: plain git with this config does run them, so the assertion below can fail.
    subprocess.run(["git", "clone", "-q", str(remote), str(tmp_path / "plain")], check=True)
    assert marker.exists()
    marker.unlink()

    res = clone_source(_source(remote, sha), tmp_path / "cache")

    assert res.fetched and not marker.exists()
    hooks_dir = res.path / ".git" / "hooks"
    assert not hooks_dir.exists() or not any(hooks_dir.iterdir())


def test_hooks_path_in_the_repos_own_config_cannot_reenable_hooks(tmp_path: Path) -> None:
    marker = tmp_path / "hooks-ran.log"
    remote = tmp_path / "remote"
    first = make_rust_repo(remote)
    cache = tmp_path / "cache"
    dest = clone_source(_source(remote, first), cache).path
    evil = tmp_path / "evil-hooks"
    write_hooks(evil, marker, HOOKS)
    write_hooks(dest / ".git" / "hooks", marker, HOOKS)
    git(dest, "config", "core.hooksPath", str(evil))
    git(dest, "config", "core.fsmonitor", str(evil / "fsmonitor-watchman"))
    second = commit_files(remote, {"README.md": "next\n"})

    # Control: a plain checkout in that repository runs them.
    subprocess.run(["git", "checkout", "-q", "--detach", first], cwd=dest, check=True)
    assert marker.exists()
    marker.unlink()

    res = clone_source(_source(remote, second), cache)  # fetch + checkout + clean

    assert res.fetched and git(dest, "rev-parse", "HEAD") == second
    assert not marker.exists()


def test_submodules_are_never_fetched(tmp_path: Path, git_config: Path) -> None:
    set_config(git_config, "submodule.recurse", "true")  # a user default we must override
    set_config(git_config, "protocol.file.allow", "always")
    sub = tmp_path / "sub"
    make_rust_repo(sub, name="inner")
    remote = tmp_path / "remote"
    make_rust_repo(remote)
    git(
        remote,
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        str(sub),
        "vendor/inner",
    )
    sha = commit_files(remote, {"README.md": "with submodule\n"})

    res = clone_source(_source(remote, sha), tmp_path / "cache")

    assert (res.path / ".gitmodules").is_file()
    inner = res.path / "vendor" / "inner"
    assert not inner.exists() or not any(inner.iterdir())
    assert not (res.path / ".git" / "modules").exists()
    assert "vendor/inner/src/lib.rs" not in iter_rust_files(res.path)


def test_ext_transport_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "ext-ran"
    src = _source(f"ext::sh -c touch% {marker}", "c" * 40)
    with pytest.raises(CloneError, match="owner/demo"):
        clone_source(src, tmp_path / "cache", backoff=0)
    assert not marker.exists()


def test_credential_prompt_fails_fast_instead_of_hanging(tmp_path: Path) -> None:
    assert git_environment()["GIT_TERMINAL_PROMPT"] == "0"
    with auth_required_server() as (url, server):
        with pytest.raises(CloneError) as err:
            clone_source(_source(url, "d" * 40), tmp_path / "cache", backoff=5)
        assert server.hits >= 1
    msg = str(err.value)
    assert "owner/demo" in msg and "terminal prompts disabled" in msg


def test_insteadof_redirects_to_a_mirror(tmp_path: Path, git_config: Path) -> None:
    mirror = tmp_path / "mirrors" / "owner+demo"
    first = make_rust_repo(mirror)
    tip = commit_files(mirror, {"README.md": "tip\n"})
    set_config(git_config, f"url.{mirror}.insteadOf", "https://github.invalid/owner/demo.git")
    src = _source("https://github.invalid/owner/demo.git", first)

    res = clone_source(src, tmp_path / "cache", retries=0)

    assert res.fetched and git(res.path, "rev-parse", "HEAD") == first
    # The configured URL stays the canonical one; git rewrites it on each use.
    assert git(res.path, "config", "remote.origin.url") == src.url
    assert branch_tip(src, retries=0) == tip


def test_without_insteadof_the_fake_host_is_not_reached(tmp_path: Path) -> None:
    src = _source("https://github.invalid/owner/demo.git", "e" * 40)
    with pytest.raises(CloneError, match="owner/demo"):
        clone_source(src, tmp_path / "cache", retries=0)


def test_default_cache_dir_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "rustdoc-corpus" / "repos"
    monkeypatch.setenv("CORPUS_CACHE_DIR", str(tmp_path / "explicit"))
    assert default_cache_dir() == tmp_path / "explicit"


# --------------------------------------------------------------------------- safe reading


def _symlink_repo(tmp_path: Path) -> tuple[Path, Path]:
    """A cloned repo whose tree has symlinks inside and outside; returns (checkout, secret)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.rs"
    secret.write_text("pub fn secret() {} // must never be read\n")
    (outside / "dir").mkdir()
    (outside / "dir" / "also.rs").write_text("pub fn also() {}\n")
    remote = tmp_path / "remote"
    make_rust_repo(remote)
    (remote / "src" / "abs_link.rs").symlink_to(secret)
    (remote / "src" / "rel_escape.rs").symlink_to(Path("../..") / "outside" / "secret.rs")
    (remote / "src" / "inner_link.rs").symlink_to("lib.rs")
    (remote / "src" / "linked_dir").symlink_to(outside / "dir")
    (remote / "src" / "dangling.rs").symlink_to("nope.rs")
    sha = commit_files(remote, {"src/real.rs": "pub fn real() {}\n"})
    res = clone_source(_source(remote, sha), tmp_path / "cache")
    return res.path, secret


def test_iter_rust_files_skips_escaping_symlinks_and_git(tmp_path: Path) -> None:
    root, _ = _symlink_repo(tmp_path)
    (root / ".git" / "hidden.rs").write_text("pub fn hidden() {}\n")
    (root / "src" / "git_link.rs").symlink_to(root / ".git" / "hidden.rs")
    os.mkfifo(root / "src" / "fifo.rs")

    assert iter_rust_files(root) == ["src/lib.rs", "src/real.rs"]
    (root / "target").mkdir()
    (root / "target" / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55\n")
    (root / "target" / "gen.rs").write_text("fn generated() {}\n")
    assert iter_rust_files(root) == ["src/lib.rs", "src/real.rs"]


def test_paths_with_control_characters_are_left_out_and_counted(tmp_path: Path) -> None:
    from corpus.extract import extract_tree

    root = tmp_path / "tree"
    (root / "src").mkdir(parents=True)
    for name in ("ok.rs", "new\nline.rs", "esc\x1b[2J.rs", "tab\t.rs", "sp ace [x].rs"):
        (root / "src" / name).write_text("/// Doc.\npub fn f() {}\n")
    (root / "src").joinpath(os.fsdecode(b"latin\xe9.rs")).write_text("pub fn g() {}\n")
    bad: list[str] = []
    assert iter_rust_files(root, bad) == ["src/ok.rs", "src/sp ace [x].rs"]
    assert len(bad) == 4
    records, stats = extract_tree(root, repo="o/r", commit="a" * 40, license="MIT", workers=1)
    assert stats["drops"]["bad_path"] == 4
    assert sorted(r["path"] for r in records) == ["src/ok.rs", "src/sp ace [x].rs"]


def test_safe_read_refuses_paths_leaving_the_repo(tmp_path: Path) -> None:
    root, secret = _symlink_repo(tmp_path)
    assert safe_read(root, "src/real.rs") == b"pub fn real() {}\n"
    assert safe_read(root, "src/inner_link.rs") == (root / "src/lib.rs").read_bytes()
    os.mkfifo(root / "src" / "fifo.rs")
    for bad in (
        "src/abs_link.rs",
        "src/rel_escape.rs",
        "src/linked_dir/also.rs",
        "../outside/secret.rs",
        str(secret),
        ".git/config",
        "src/fifo.rs",  # would block forever if opened for reading naively
        "src/dangling.rs",
        "src",
    ):
        with pytest.raises(UnsafePathError):
            safe_read(root, bad)


_PARTS = ("src", "a", "b.rs", "lib.rs", "alias", "link", "outside", "secret.rs", ".git", "..", ".")


def _read_tree(base: Path) -> Path:
    """A repo with files, an in-repo link, a link out, and a .git holding a secret."""
    (base / "outside").mkdir(parents=True)
    (base / "outside" / "secret.rs").write_bytes(b"SECRET")
    root = base / "repo"
    (root / "src" / "a").mkdir(parents=True)
    (root / "src" / "lib.rs").write_bytes(b"inside")
    (root / "src" / "a" / "b.rs").write_bytes(b"inside-b")
    (root / ".git").mkdir()
    (root / ".git" / "secret.rs").write_bytes(b"SECRET")
    (root / "src" / "alias").symlink_to("a")  # stays inside: allowed
    (root / "src" / "link").symlink_to(base / "outside")
    (root / "link").symlink_to(Path("..") / "outside")
    return root


def _oracle(root: Path, parts: tuple[str, ...]) -> bytes | None:
    """What safe_read must return for ``parts`` (None: it must refuse), decided independently."""
    if ".." in parts or ".git" in parts:
        return None
    real = Path(os.path.realpath(root.joinpath(*parts)))
    try:
        rel = real.relative_to(os.path.realpath(root))
    except ValueError:
        return None
    if ".git" in rel.parts or not real.is_file() or real.is_symlink():
        return None
    return real.read_bytes()


def _check_safe_read(root: Path, parts: tuple[str, ...]) -> bool:
    want = _oracle(root, parts)
    try:
        got = safe_read(root, "/".join(parts))
    except UnsafePathError:
        assert want is None, (parts, want)
        return False
    assert got == want and got != b"SECRET", (parts, got)
    return True


def test_safe_read_agrees_with_an_oracle_on_every_short_path(tmp_path: Path) -> None:
    # Exhaustive over every path of up to 3 segments: both outcomes must occur, and each must
    # be the one an independent reading of the rules gives.
    import itertools

    root = _read_tree(tmp_path)
    outcomes = [
        _check_safe_read(root, parts)
        for n in (1, 2, 3)
        for parts in itertools.product(_PARTS, repeat=n)
    ]
    assert sum(outcomes) >= 5 and outcomes.count(False) >= 1000, sum(outcomes)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(parts=st.lists(st.sampled_from(_PARTS), min_size=4, max_size=8))
def test_safe_read_never_returns_outside_bytes(tmp_path: Path, parts: list[str]) -> None:
    base = tmp_path / "prop"
    root = base / "repo" if base.exists() else _read_tree(base)
    _check_safe_read(root, tuple(parts))


# --------------------------------------------------------------------------- CLI


def _write_sources_file(path: Path, sources: list[Source]) -> Path:
    write_sources(path, sources)
    return path


def test_cli_clone_then_noop(tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    sha = make_rust_repo(remote)
    srcs = _write_sources_file(tmp_path / "sources.toml", [_source(remote, sha)])
    args = ["clone", "--sources", str(srcs), "--cache-dir", str(tmp_path / "cache")]
    runner = CliRunner()

    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "owner/demo" in first.output and "fetched" in first.output and sha[:12] in first.output

    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    assert "cached" in second.output and "fetched" not in second.output


def test_cli_clone_broken_remote_names_the_repo(tmp_path: Path) -> None:
    good = tmp_path / "good"
    sha = make_rust_repo(good)
    srcs = _write_sources_file(
        tmp_path / "sources.toml",
        [
            _source(tmp_path / "gone", "f" * 40, repo="owner/broken"),
            _source(good, sha, repo="owner/good"),
        ],
    )
    result = CliRunner().invoke(
        app, ["clone", "--sources", str(srcs), "--cache-dir", str(tmp_path / "cache")]
    )
    out = " ".join(result.output.split())  # rich wraps long lines
    assert result.exit_code == 1
    assert "owner/broken" in out and "FAILED" in out
    assert "does not appear to be a git repository" in out
    assert "Traceback" not in out
    assert (tmp_path / "cache" / "owner" / "good" / "src" / "lib.rs").is_file()


def test_cli_clone_only_selects_and_rejects_unknown(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    sa, sb = make_rust_repo(a), make_rust_repo(b)
    srcs = _write_sources_file(
        tmp_path / "sources.toml", [_source(a, sa, repo="owner/a"), _source(b, sb, repo="owner/b")]
    )
    base = ["clone", "--sources", str(srcs), "--cache-dir", str(tmp_path / "cache")]
    runner = CliRunner()

    ok = runner.invoke(app, [*base, "--only", "b"])
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "cache/owner/b").is_dir() and not (tmp_path / "cache/owner/a").exists()

    bad = runner.invoke(app, [*base, "--only", "owner/zzz"])
    out = " ".join(bad.output.split())
    assert bad.exit_code == 2 and "owner/zzz" in out and "owner/a" in out


def test_cli_clone_through_a_subprocess_with_insteadof(tmp_path: Path, git_config: Path) -> None:
    mirror = tmp_path / "mirror"
    sha = make_rust_repo(mirror)
    set_config(git_config, f"url.{mirror}.insteadOf", "https://github.invalid/owner/demo.git")
    srcs = _write_sources_file(
        tmp_path / "sources.toml", [_source("https://github.invalid/owner/demo.git", sha)]
    )
    env = {**os.environ, "CORPUS_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from corpus.cli import main; main()",
            "clone",
            "--sources",
            str(srcs),
        ],
        env=env,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "cache" / "owner" / "demo" / "src" / "lib.rs").is_file()
