"""Publish a build to the Hugging Face Hub: stage the files, render and check the card, push.

- ``stage_dataset(dataset, out_dir, force=False)``: the folder to upload, validated offline.
- ``publish_dataset(dataset, repo_id, ...) -> PublishResult``: one commit + one tag per build.
- ``latest_build_tag(repo_id)``, ``content_hash(dataset)``, ``needs_publish(dataset, repo_id)``:
  what the scheduled rebuild needs to decide whether to publish.

The gate (``require_pass``) is the falsification report model's (``falsification.report.gate``).
"""

from pipelines.publish.hub import (
    BuildTag,
    PublishResult,
    latest_build_tag,
    needs_publish,
    parse_build_tag,
    publish_dataset,
)
from pipelines.publish.stage import build_tag, content_hash, require_pass, stage_dataset

__all__ = [
    "BuildTag",
    "PublishResult",
    "build_tag",
    "content_hash",
    "latest_build_tag",
    "needs_publish",
    "parse_build_tag",
    "publish_dataset",
    "require_pass",
    "stage_dataset",
]
