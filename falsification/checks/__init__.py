"""The checks, one module per category; importing this package registers them in order."""

from falsification.checks import (  # noqa: F401  (import registers)
    distribution,
    extractor,
    integrity,
    privacy,
    provenance,
    semantics,
    syntax,
)
