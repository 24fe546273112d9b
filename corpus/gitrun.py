"""THE git runner: every git command the project runs goes through here, hardened.

The repositories are untrusted input — a cloned tree, or a checkout a user points
`corpus extract` or `corpus falsify --sources-dir` at, whose ``.git/config`` may set anything.
No setting of theirs (or a surprise in the system config) may run code, prompt, or reach the
network unasked:

- hooks never run (``core.hooksPath`` is an empty directory made for the session) and
  ``git init --template=`` copies none;
- no fsmonitor, no credential helper or prompt (``credential.helper=`` empties the list),
  no pager, editor, ``core.sshCommand`` or ``core.gitProxy`` of the repository's;
- submodules are never fetched; auto-gc and maintenance are off;
- only the https, http, ssh, git and file transports (``GIT_ALLOW_PROTOCOL``, unless the user
  set it); ``ext::`` is refused; git LFS never downloads;
- the system config is not read (``GIT_CONFIG_NOSYSTEM``); the user's global config is (its
  ``url.<base>.insteadOf`` rules are how a mirror is used), but every ``-c`` here wins over it;
- ``safe.directory`` names exactly the directories the session works in;
- read-only commands take no optional locks (``GIT_OPTIONAL_LOCKS=0``).

``-c`` settings override every config file, so these hold whatever the repository says.
Commands that would run a repository's filters or fsmonitor (``git status``, ``git diff``)
are not needed by readers: :mod:`corpus.extract.run` hashes files itself to tell a dirty tree.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from corpus.errors import CorpusError

ALLOWED_PROTOCOLS = "https:http:ssh:git:file"


class GitError(CorpusError):
    """A git command failed: its arguments, exit status and stderr."""

    def __init__(self, args: Sequence[str], returncode: int, stderr: str) -> None:
        # Credentials in a URL (https://user:token@host) never reach a message.
        shown = re.sub(r"(\w+://)[^/@\s]+@", r"\1***@", " ".join(args))
        super().__init__(f"git {shown} failed ({returncode}): {stderr.strip()}")
        self.git_args = list(args)
        self.returncode = returncode
        self.stderr = stderr


def environment() -> dict[str, str]:
    """The environment of every git command: ours on top of the caller's."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GIT_TRACE", "GIT_EXEC_PATH", "GIT_DIR", "GIT_WORK_TREE"))
    }
    env.update(
        GIT_TERMINAL_PROMPT="0",
        GCM_INTERACTIVE="never",
        GIT_ASKPASS="",
        SSH_ASKPASS="",
        GIT_LFS_SKIP_SMUDGE="1",
        GIT_ALLOW_PROTOCOL=os.environ.get("GIT_ALLOW_PROTOCOL") or ALLOWED_PROTOCOLS,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_OPTIONAL_LOCKS="0",
        # A reader never fetches a missing object behind our back (partial clones).
        GIT_NO_LAZY_FETCH="1",
        GIT_PAGER="cat",
        PAGER="cat",
        GIT_EDITOR=":",
        # Messages are matched by callers to tell transient failures from permanent ones.
        LC_ALL="C",
        LANGUAGE="C",
    )
    return env


def config_overrides(hooks_dir: Path, safe_dirs: Sequence[Path] = ()) -> list[str]:
    """``-c`` settings that win over every config file (global and the repository's own)."""
    settings = [
        f"core.hooksPath={hooks_dir}",
        "core.fsmonitor=false",
        "core.untrackedCache=false",
        "core.pager=cat",
        "core.editor=:",
        "core.sshCommand=ssh",
        "core.gitProxy=",
        "core.askPass=",
        # Refuse tree entries that alias .git on case-folding or NTFS-like filesystems.
        "core.protectHFS=true",
        "core.protectNTFS=true",
        "submodule.recurse=false",
        "fetch.recurseSubmodules=false",
        "credential.helper=",
        "credential.interactive=never",
        "gc.auto=0",
        "maintenance.auto=false",
        "advice.detachedHead=false",
        "protocol.ext.allow=never",
        # Give up on a stalled HTTP transfer (then retried) instead of hanging forever.
        "http.lowSpeedLimit=1000",
        "http.lowSpeedTime=60",
    ]
    settings += [f"safe.directory={Path(d).resolve()}" for d in safe_dirs]
    return [arg for s in settings for arg in ("-c", s)]


class Git:
    """Runs hardened git commands in one directory."""

    def __init__(self, cwd: Path, overrides: list[str], env: dict[str, str]) -> None:
        self.cwd = Path(cwd)
        self._overrides = overrides
        self._env = env

    def run_bytes(
        self, *args: str, input: bytes | None = None, timeout: float | None = None
    ) -> bytes:
        """stdout of ``git ARGS`` (``GitError`` when it fails, times out or git is missing)."""
        cmd = ["git", *self._overrides, *args]
        try:
            proc = subprocess.run(
                cmd,
                cwd=self.cwd,
                env=self._env,
                input=input,
                capture_output=True,
                timeout=timeout,
                check=False,
                stdin=None if input is not None else subprocess.DEVNULL,
            )
        except FileNotFoundError as exc:
            raise CorpusError("git is not installed (or not on PATH)") from exc
        except subprocess.TimeoutExpired as exc:
            raise GitError(args, -1, f"timed out after {timeout} s") from exc
        if proc.returncode != 0:
            raise GitError(args, proc.returncode, proc.stderr.decode("utf-8", "replace"))
        return proc.stdout

    def popen(self, *args: str) -> subprocess.Popen[bytes]:
        """A long-lived ``git ARGS`` with piped stdin and stdout (``cat-file --batch``)."""
        return subprocess.Popen(
            ["git", *self._overrides, *args],
            cwd=self.cwd,
            env=self._env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )

    def run(self, *args: str, timeout: float | None = None) -> str:
        """stdout of ``git ARGS`` as text, trailing newline stripped."""
        return self.run_bytes(*args, timeout=timeout).decode("utf-8", "replace").rstrip("\n")

    def ok(self, *args: str, timeout: float | None = None) -> bool:
        """Whether ``git ARGS`` succeeds."""
        try:
            self.run_bytes(*args, timeout=timeout)
        except GitError:
            return False
        return True


class LongSession:
    """``session()`` for an object that outlives one ``with`` block: ``close()`` ends it."""

    def __init__(self, safe_dirs: Sequence[Path] = ()) -> None:
        self._hooks = tempfile.TemporaryDirectory(prefix="corpus-nohooks-")
        self._safe = list(safe_dirs)
        self._env = environment()

    def git(self, cwd: Path) -> Git:
        """A hardened runner in ``cwd``."""
        overrides = config_overrides(Path(self._hooks.name), [*self._safe, Path(cwd)])
        return Git(Path(cwd), overrides, self._env)

    def close(self) -> None:
        """Remove the session's empty hooks directory."""
        self._hooks.cleanup()


@contextmanager
def session(safe_dirs: Sequence[Path] = ()) -> Iterator[Callable[[Path], Git]]:
    """Yield ``git(cwd) -> Git``, a factory of hardened runners sharing one empty hooks dir.

    ``safe_dirs`` (and every ``cwd`` asked for) are the directories git may trust as
    repositories despite their owner.
    """
    env = environment()
    with tempfile.TemporaryDirectory(prefix="corpus-nohooks-") as hooks:

        def git(cwd: Path) -> Git:
            return Git(Path(cwd), config_overrides(Path(hooks), [*safe_dirs, Path(cwd)]), env)

        yield git


#: The local settings git itself writes into a clone the project made (`init`, `remote add`,
#: and, on some filesystems, the case and symlink probes). Anything else in a cached
#: checkout's ``.git/config`` was put there by someone else.
_OWN_SETTINGS = frozenset({
    "core.repositoryformatversion", "core.filemode", "core.bare", "core.logallrefupdates",
    "core.symlinks", "core.ignorecase", "core.precomposeunicode", "extensions.objectformat",
    "remote.origin.url", "remote.origin.fetch",
})  # fmt: skip


def foreign_settings(g: Git) -> list[str]:
    """Keys in the repository's own ``.git/config`` that the project never writes — a
    ``filter.*.smudge`` there would run at the next checkout whatever ``-c`` says."""
    try:
        names = g.run("config", "--local", "--list", "--name-only", timeout=10)
    except GitError:
        return ["(unreadable .git/config)"]
    return sorted({n for n in names.splitlines() if n and n.lower() not in _OWN_SETTINGS})
