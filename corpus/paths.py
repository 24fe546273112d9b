"""Default locations (a light module: the CLI imports it at start-up)."""

from __future__ import annotations

from pathlib import Path

#: Where `corpus build` writes its state and stages the dataset.
DEFAULT_OUT = Path("out")
#: The staged dataset: what falsify, publish and tui read by default.
DEFAULT_DATASET = DEFAULT_OUT / "dataset"
