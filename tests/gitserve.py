"""Git "servers" for clone tests: real git upload-pack behind small wrappers, and git config.

A fetch from a local path runs ``remote.<name>.uploadpack`` (default ``git-upload-pack``) as
the server side. Pointing ``remote.origin.uploadpack`` (in a test's global config) at one of
these scripts gives a real remote that counts its fetches, or fails N times and then recovers.
"""

from __future__ import annotations

import shlex
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

TRANSIENT_MESSAGE = "fatal: unable to access 'remote': Connection reset by peer"


def set_config(config_file: Path, key: str, value: str, *, add: bool = False) -> None:
    """Set ``key = value`` in the git config file ``config_file`` (``--add`` appends)."""
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.touch()
    args = ["git", "config", "--file", str(config_file)]
    args += ["--add", key, value] if add else [key, value]
    subprocess.run(args, check=True, capture_output=True)


def counting_upload_pack(directory: Path) -> tuple[Path, Path]:
    """A real upload-pack that appends a line to a counter file on each fetch.

    Returns ``(script, counter_file)``; ``fetch_count(counter_file)`` reads the count.
    """
    directory.mkdir(parents=True, exist_ok=True)
    counter = directory / "fetches.log"
    script = directory / "counting-upload-pack"
    script.write_text(
        f'#!/bin/sh\necho fetch >> {shlex.quote(str(counter))}\nexec git upload-pack "$@"\n'
    )
    script.chmod(0o755)
    return script, counter


def flaky_upload_pack(
    directory: Path, fails: int, message: str = TRANSIENT_MESSAGE
) -> tuple[Path, Path]:
    """An upload-pack that fails its first ``fails`` calls with ``message``, then serves.

    Returns ``(script, counter_file)``; every call, failed or not, is counted.
    """
    directory.mkdir(parents=True, exist_ok=True)
    counter = directory / "attempts.log"
    script = directory / "flaky-upload-pack"
    script.write_text(
        "#!/bin/sh\n"
        f"counter={shlex.quote(str(counter))}\n"
        'echo attempt >> "$counter"\n'
        f'if [ "$(wc -l < "$counter")" -le {int(fails)} ]; then\n'
        f"  echo {shlex.quote(message)} >&2\n"
        "  exit 128\n"
        "fi\n"
        'exec git upload-pack "$@"\n'
    )
    script.chmod(0o755)
    return script, counter


def fetch_count(counter: Path) -> int:
    """How many times a counting/flaky upload-pack was run."""
    return len(counter.read_text().splitlines()) if counter.exists() else 0


def hook_script(marker: Path) -> str:
    """A hook body that proves it ran by appending its name to ``marker``."""
    return f'#!/bin/sh\necho "$0" >> {shlex.quote(str(marker))}\n'


def write_hooks(hooks_dir: Path, marker: Path, names: tuple[str, ...]) -> None:
    """Executable hooks ``names`` in ``hooks_dir``, each writing to ``marker`` when run."""
    hooks_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        path = hooks_dir / name
        path.write_text(hook_script(marker))
        path.chmod(0o755)


class _AuthRequired(BaseHTTPRequestHandler):
    """Answers every request with 401 Basic: what a private or mistyped repo URL gets."""

    def do_GET(self) -> None:
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="git"')
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.server.hits += 1  # type: ignore[attr-defined]

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass


@contextmanager
def auth_required_server() -> Iterator[tuple[str, ThreadingHTTPServer]]:
    """An HTTP server on 127.0.0.1 (free port) that demands credentials; yields (url, server)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AuthRequired)
    server.hits = 0  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/owner/private.git", server
    finally:
        server.shutdown()
        server.server_close()
