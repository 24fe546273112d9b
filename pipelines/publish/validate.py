"""Offline checks of a dataset card and a staged folder, before anything goes to the Hub.

The Hub validates card metadata only on upload; these checks catch the same mistakes locally:
- YAML front matter that parses to a mapping, with no duplicate keys at any depth;
- enumerations against the vocabularies shipped inside the installed ``datasets`` package
  (``utils/resources/{size_categories,languages,multilinguality,creators}.json`` and the
  task ids in ``datasets.utils.metadata.known_task_ids``);
- licences against the Hub's licence ids (``datasets`` ships no licence list, so the ids the
  card may use are listed here, see ``HUB_LICENSE_IDS``);
- ``configs`` through ``datasets``' own ``MetadataConfigs`` code, and every ``data_files``
  pattern must match files in the folder;
- the folder itself loads with ``datasets.load_dataset(folder)`` with the expected split sizes.
"""

from __future__ import annotations

import json
import re
import tempfile
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from corpus.errors import BadInputError

#: Hub licence ids this project can produce (a subset of the Hub's list; ``datasets`` does not
#: ship that list). Anything else is published as ``license: other`` + name + link.
HUB_LICENSE_IDS = frozenset(
    {
        "apache-2.0", "mit", "unlicense", "bsd", "bsd-2-clause", "bsd-3-clause",
        "bsd-3-clause-clear", "isc", "mpl-2.0", "zlib", "cc0-1.0", "bsl-1.0", "artistic-2.0",
        "afl-3.0", "ecl-2.0", "epl-1.0", "epl-2.0", "eupl-1.1", "agpl-3.0", "gpl-2.0", "gpl-3.0",
        "lgpl-2.1", "lgpl-3.0", "ms-pl", "ncsa", "osl-3.0", "postgresql", "wtfpl", "cc-by-4.0",
        "cc-by-sa-4.0", "odc-by", "odbl", "other", "unknown",
    }
)  # fmt: skip
_LICENSE_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9.-]*$")


class _NoDuplicatesLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping with the same key twice (the Hub refuses it too)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def split_front_matter(text: str) -> tuple[str | None, str]:
    """(YAML block, body) of a card; the same rule the Hub and ``datasets`` apply."""
    lines = text.splitlines()
    if lines and lines[0] == "---" and "---" in lines[1:]:
        end = lines[1:].index("---") + 1
        return "\n".join(lines[1:end]), "\n".join(lines[end + 1 :])
    return None, text


def parse_card_metadata(text: str) -> dict[str, Any]:
    """The card's YAML metadata as a dict; BadInputError if missing, invalid or duplicated."""
    block, _ = split_front_matter(text)
    if block is None:
        raise BadInputError("dataset card has no YAML front matter (--- ... ---)")
    try:
        meta = yaml.load(block, Loader=_NoDuplicatesLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise BadInputError(f"dataset card YAML is invalid: {exc}") from exc
    if not isinstance(meta, dict):
        raise BadInputError("dataset card YAML must be a mapping")
    return meta


@cache
def _resource(name: str) -> Any:
    return json.loads(resources.files("datasets.utils.resources").joinpath(name).read_text())


def vocabularies() -> dict[str, frozenset[str]]:
    """The allowed values per card key, from the installed ``datasets`` package (+ licences)."""
    from datasets.utils.metadata import known_task_ids

    creators = _resource("creators.json")
    return {
        "size_categories": frozenset(_resource("size_categories.json")),
        "language": frozenset(_resource("languages.json")),
        "multilinguality": frozenset(_resource("multilingualities.json")),
        "language_creators": frozenset(creators["language"]),
        "annotations_creators": frozenset(creators["annotations"]),
        "task_categories": frozenset(known_task_ids),
        "license": HUB_LICENSE_IDS,
    }


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def card_errors(text: str, folder: Path | None = None) -> list[str]:
    """Every problem with a card (empty when valid). ``folder``: check data_files match files."""
    try:
        meta = parse_card_metadata(text)
    except BadInputError as exc:
        return [str(exc)]
    errors: list[str] = []
    for key, allowed in vocabularies().items():
        for value in _as_list(meta.get(key, [])):
            if not isinstance(value, str) or value not in allowed:
                errors.append(f"{key}: {value!r} is not an allowed value")
    licenses = _as_list(meta.get("license", []))
    if "other" in licenses:
        name = meta.get("license_name")
        if not isinstance(name, str) or not _LICENSE_NAME_RE.match(name):
            errors.append("license: other needs a license_name (lowercase, digits, . and -)")
        if not str(meta.get("license_link", "")).startswith(("http://", "https://")):
            errors.append("license: other needs a license_link URL")
    if not meta.get("pretty_name"):
        errors.append("pretty_name is missing")
    errors.extend(_config_errors(meta, folder))
    return errors


def _config_errors(meta: dict[str, Any], folder: Path | None) -> list[str]:
    """Check ``configs`` with datasets' own metadata code, then the patterns against files."""
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCardData

    if not meta.get("configs"):
        return ["configs is missing (data_files per split)"]
    try:
        configs = MetadataConfigs.from_dataset_card_data(DatasetCardData(**meta))
        configs.get_default_config_name()
    except (ValueError, TypeError, KeyError) as exc:
        return [f"configs: {exc}".strip()]
    errors = []
    for name, config in configs.items():
        entries = config.get("data_files") or []
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            errors.append(f"configs[{name}]: data_files must list one entry per split")
            continue
        for entry in entries:
            for pattern in _as_list(entry["path"]):
                if folder is not None and not any(Path(folder).glob(pattern)):
                    errors.append(f"configs[{name}] {entry['split']}: {pattern} matches no file")
    return errors


def check_card(text: str, folder: Path | None = None) -> None:
    """Raise BadInputError listing every card problem at once."""
    errors = card_errors(text, folder)
    if errors:
        raise BadInputError("dataset card is not valid:\n  - " + "\n  - ".join(errors))


def check_loads(folder: Path, expected: dict[str, int], config: str = "default") -> None:
    """``datasets.load_dataset`` of one config's files (``data/`` for the default) must give
    exactly ``expected`` split -> row counts."""
    import datasets
    from datasets.utils.tqdm import (
        disable_progress_bars,
        enable_progress_bars,
        is_progress_bar_enabled,
    )

    was_enabled = is_progress_bar_enabled()
    disable_progress_bars()  # a check, not a user-facing load: keep the terminal quiet
    try:
        _load_and_compare(datasets, folder, expected, config)
    finally:
        if was_enabled:
            enable_progress_bars()


def _load_and_compare(datasets: Any, folder: Path, expected: dict[str, int], config: str) -> None:
    from corpus.layout import CONFIG_DIRS

    sub = Path(folder) / CONFIG_DIRS[config]
    files = {split: str(sub / f"{split}-*.parquet") for split in expected}
    with tempfile.TemporaryDirectory(prefix="corpus-load-check-") as cache_dir:
        try:
            dsd = datasets.load_dataset("parquet", data_files=files, cache_dir=cache_dir)
        except Exception as exc:  # datasets raises many types; all mean "does not load"
            raise BadInputError(f"{folder}: datasets.load_dataset failed: {exc}") from exc
        got = {name: ds.num_rows for name, ds in dsd.items()}
        del dsd  # release the arrow files before the cache folder goes
    if got != expected:
        raise BadInputError(
            f"{folder} ({config}): load_dataset gave splits {got}, expected {expected}"
        )
