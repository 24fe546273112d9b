"""The Ray executor: units as Ray tasks on a cluster (``--address auto`` or ``ray://host:port``).

Workers run the same ``run_marked(fn, unit)`` as the local pool, so outputs and markers are
identical. Paths in the payloads (cache dir, out dir) must be on a filesystem every node sees.
A task whose worker dies is retried by Ray (``max_retries``); a unit is idempotent, so a retry
just redoes it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from corpus.errors import CorpusError
from pipelines.executors.base import (
    Executor,
    OnDone,
    Unit,
    UnitFailed,
    UnitOutcome,
    run_marked,
)


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        from corpus.install import install_hint

        raise CorpusError(
            f"--executor ray needs Ray, which is not installed. Install it {install_hint('ray')}"
        ) from exc
    return ray


class RayExecutor(Executor):
    """Units as Ray tasks; connects to ``address`` (None: a local Ray started for this run)."""

    name = "ray"

    def __init__(
        self, address: str | None = None, *, max_retries: int = 3, num_cpus: float = 1
    ) -> None:
        self.ray = _import_ray()  # fail at construction, with the pip line, not mid-build
        self.address = address
        self.max_retries = max_retries
        self.num_cpus = num_cpus
        self._started = False

    def _ensure_init(self) -> None:
        if self.ray.is_initialized():
            return
        try:
            self.ray.init(address=self.address, include_dashboard=False, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = self.address or "a local cluster"
            raise CorpusError(f"cannot connect to Ray at {where}: {exc}") from exc
        self._started = True

    def map_units(
        self, fn: Callable[[Any], Any], units: Sequence[Unit], on_done: OnDone | None = None
    ) -> list[UnitOutcome]:
        """Submit every unit, wait for all, raise ``UnitFailed`` listing the ones that failed."""
        self._ensure_init()
        ray = self.ray
        task = ray.remote(num_cpus=self.num_cpus, max_retries=self.max_retries)(run_marked)
        refs = {task.remote(fn, u): u.key for u in units}
        outcomes: dict[str, UnitOutcome] = {}
        failures: dict[str, str] = {}
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                key = refs[ref]
                try:
                    outcomes[key] = ray.get(ref)
                except ray.exceptions.RayTaskError as exc:
                    cause = exc.cause if exc.cause is not None else exc
                    failures[key] = f"{type(cause).__name__}: {cause}"
                except ray.exceptions.RayError as exc:  # worker died past its retries, ...
                    failures[key] = f"{type(exc).__name__}: {exc}"
                if on_done:
                    on_done(key)
        if failures:
            raise UnitFailed(failures)
        return [outcomes[u.key] for u in units]

    def close(self) -> None:
        """Shut down the Ray runtime if this executor started it."""
        if self._started:
            self.ray.shutdown()
            self._started = False
