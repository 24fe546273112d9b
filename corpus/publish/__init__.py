"""Publish a build to the Hugging Face Hub: stage the files, render and check the card, push.

- ``stage_dataset(dataset, out_dir, force=False)``: the folder to upload, validated offline.
- ``publish_dataset(dataset, repo_id, ...) -> PublishResult``: one commit + one tag per build.
- ``latest_build_tag(repo_id)``, ``content_hash(dataset)``, ``needs_publish(dataset, repo_id)``:
  what the scheduled rebuild needs to decide whether to publish.
"""

from corpus.publish.hub import (
    BuildTag,
    PublishResult,
    latest_build_tag,
    needs_publish,
    parse_build_tag,
    publish_dataset,
)
from corpus.publish.stage import build_tag, content_hash, falsification_verdict, stage_dataset

__all__ = [
    "BuildTag",
    "PublishResult",
    "build_tag",
    "content_hash",
    "falsification_verdict",
    "latest_build_tag",
    "needs_publish",
    "parse_build_tag",
    "publish_dataset",
    "stage_dataset",
]
