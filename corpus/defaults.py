"""Every default a user can change, in one place (light: the CLI imports it at start-up)."""

from __future__ import annotations

from pathlib import Path

from corpus.layout import DATASET_DIR

#: Where `corpus build` and `corpus rebuild` write their state and stage the dataset.
DEFAULT_OUT = Path("out")
#: The staged dataset: what falsify, publish and tui read by default.
DEFAULT_DATASET = DEFAULT_OUT / DATASET_DIR
#: No repository may hold more than this share of the published records (1.0 = no cap).
MAX_REPO_SHARE = 0.4
#: Retries of a transient network failure (clone, ls-remote), with backoff 1 s, 2 s, 4 s...
NETWORK_RETRIES = 3
#: Where build units run, and how many local worker processes (0 = one per CPU).
EXECUTOR = "local"
WORKERS = 0
