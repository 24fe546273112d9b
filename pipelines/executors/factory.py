"""Build an executor from the CLI's ``--executor`` / ``--workers`` / ``--address``."""

from __future__ import annotations

from pathlib import Path

from corpus.errors import BadInputError
from pipelines.executors.base import Executor

EXECUTORS = ("local", "ray")


def get_executor(
    name: str, *, workers: int = 0, address: str | None = None, lease: Path | None = None
) -> Executor:
    """``local`` (process pool of ``workers``, share-locking ``lease``) or ``ray`` (cluster at
    ``address``; Ray ends a job's workers with its driver itself)."""
    if name == "local":
        from pipelines.executors.local import LocalExecutor

        if address:
            raise BadInputError("--address is for --executor ray only")
        return LocalExecutor(workers, lease)
    if name == "ray":
        from pipelines.executors.ray import RayExecutor

        return RayExecutor(address)
    raise BadInputError(f"unknown executor {name!r}: choose one of {', '.join(EXECUTORS)}")
