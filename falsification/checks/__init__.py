"""The checks, one module per category (provenance_licenses: the licence checks of
provenance); importing this package registers them in order."""

from falsification.checks import (  # noqa: F401  (import registers)
    distribution,
    extractor,
    integrity,
    privacy,
    provenance,
    provenance_licenses,
    semantics,
    syntax,
)
