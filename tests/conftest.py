"""Process-wide test settings for libraries that read them once, at import time.

This module is imported before any test module, so the settings below take effect through the
libraries' documented environment variables rather than by patching their internals.
"""

import os

# The loopback test Hub speaks the LFS upload protocol, not Xet (huggingface_hub reads this
# variable at import).
os.environ["HF_HUB_DISABLE_XET"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from hypothesis import settings

# Property tests assert what a rule does, not how fast: the default 200 ms deadline fails
# them at random on a loaded 2-core CI machine (a first call that imports a library).
settings.register_profile("corpus", deadline=None)
settings.load_profile("corpus")
