"""Where units of work run: a local process pool (default) or a Ray cluster, same stage code.

``get_executor("local"|"ray", ...)`` builds one; ``run_units`` runs units through it, skipping
those whose completion marker is already written, so a rerun does only what is left.
"""

from pipelines.executors.base import Executor, RunSummary, Unit, UnitFailed, run_units
from pipelines.executors.factory import EXECUTORS, get_executor

__all__ = [
    "EXECUTORS",
    "Executor",
    "RunSummary",
    "Unit",
    "UnitFailed",
    "get_executor",
    "run_units",
]
