"""Pairs on disk: the ``preferences`` config, its KTO view and pairs.json.

A pairs folder (``corpus pairs DATASET --out DIR``; DIR may be the dataset folder itself, so
that `corpus publish` ships the pairs as the dataset's ``preferences`` config)::

    preferences/{train,validation,test}-00000-of-00001.parquet   id repo split rejection detail
                                                                 source_id prompt chosen rejected
    preferences/pairs.json    counts per kind and split, checks, prompt spec, data hash
    kto/{train,validation,test}-00000-of-00001.parquet           id repo split label rejection
                                                                 prompt completion

``prompt``, ``chosen``, ``rejected`` and ``completion`` are conversations (lists of
``{role, content}``): TRL's conversational preference and unpaired-preference formats, so
``load_dataset(..., "preferences")`` feeds DPOTrainer as it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from corpus.errors import BadInputError
from corpus.layout import KTO_DIR, PAIRS_REPORT, PREFERENCES_DIR, dataset_base, split_file_name

PAIR_COLUMNS = ("prompt", "chosen", "rejected")
KTO_COLUMNS = ("prompt", "completion", "label")


def _schemas() -> tuple[Any, Any]:
    import pyarrow as pa

    turns = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
    head = [("id", pa.string()), ("repo", pa.string()), ("split", pa.string())]
    pairs = pa.schema(
        [
            *head,
            ("rejection", pa.string()),
            ("detail", pa.string()),
            ("source_id", pa.string()),
            ("prompt", turns),
            ("chosen", turns),
            ("rejected", turns),
        ]
    )
    kto = pa.schema(
        [
            *head,
            ("label", pa.bool_()),
            ("rejection", pa.string()),
            ("prompt", turns),
            ("completion", turns),
        ]
    )
    return pairs, kto


def _write_split_files(folder: Path, rows: list[dict[str, Any]], schema: Any) -> dict[str, int]:
    """One parquet file per split (in ``rows``' order), written deterministically."""
    import pyarrow as pa

    from corpus.store import write_parquet

    counts: dict[str, int] = {}
    for split in dict.fromkeys(r["split"] for r in rows):
        part = [r for r in rows if r["split"] == split]
        table = pa.Table.from_pylist([{k: r[k] for k in schema.names} for r in part], schema)
        write_parquet(folder / split_file_name(split), table)
        counts[split] = len(part)
    return counts


def write_preferences(pairset: Any, out: Path) -> Path:
    """Write ``out/preferences/`` (one file per split, and pairs.json), swapped in whole."""
    from corpus.store import swap_dir, write_json

    pairs_schema, _ = _schemas()

    def fill(tmp: Path) -> None:
        _write_split_files(tmp, pairset.pairs, pairs_schema)
        write_json(tmp / PAIRS_REPORT, pairset.report)

    swap_dir(Path(out) / PREFERENCES_DIR, fill)
    return Path(out) / PREFERENCES_DIR


def write_pairs(pairset: Any, out: Path) -> dict[str, Path]:
    """Write ``out/preferences/`` (with pairs.json) and ``out/kto/``, each swapped in whole."""
    from corpus.store import swap_dir

    _, kto_schema = _schemas()
    out = Path(out)
    write_preferences(pairset, out)
    swap_dir(out / KTO_DIR, lambda tmp: _write_split_files(tmp, pairset.kto, kto_schema))
    return {"preferences": out / PREFERENCES_DIR, "kto": out / KTO_DIR}


def _parquet_files(path: Path, view: str) -> list[Path]:
    """The parquet files a pairs path names: a file; a folder of them; or a pairs/dataset
    folder, whose ``preferences/`` or ``kto/`` holds the view."""
    if path.is_file():
        return [path]
    sub = path / (KTO_DIR if view == "kto" else PREFERENCES_DIR)
    for folder in (sub, path):
        files = sorted(folder.glob("*.parquet"))
        if files:
            return files
    if view == "kto" and sorted((path / PREFERENCES_DIR).glob("*.parquet")):
        raise BadInputError(
            f"{path}: holds preference pairs only (no {KTO_DIR}/); a KTO run needs the KTO view "
            "(prompt, completion, label) that `corpus pairs DATASET --out DIR` writes beside them"
        )
    raise BadInputError(
        f"{path}: no pairs here (expected {PREFERENCES_DIR}/*.parquet and {KTO_DIR}/*.parquet, "
        "as `corpus pairs DATASET --out DIR` writes them)"
    )


def check_pairs_path(spec: str, view: str) -> list[Path]:
    """The files of ``view`` (``preferences`` or ``kto``) at ``spec``, their columns checked
    (reading the parquet schema only). Cheap: nothing else is read."""
    import pyarrow.parquet as pq

    if not spec:
        raise BadInputError("no pairs: pass --pairs DIR (made by `corpus pairs DATASET --out DIR`)")
    path = Path(spec).expanduser()
    if not path.exists():
        raise BadInputError(f"--pairs {spec}: no such file or directory")
    files = _parquet_files(path, view)
    need = KTO_COLUMNS if view == "kto" else PAIR_COLUMNS
    for f in files:
        try:
            names = set(pq.read_schema(f).names)
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise BadInputError(f"{f}: not a readable parquet file ({exc})") from exc
        missing = [c for c in need if c not in names]
        if not missing:
            continue
        if view == "kto" and set(PAIR_COLUMNS) <= names:
            raise BadInputError(
                f"{f}: holds preference pairs (prompt, chosen, rejected) only; a KTO run needs "
                "the KTO view (prompt, completion, label): pass the `corpus pairs` folder, "
                f"whose {KTO_DIR}/ holds it"
            )
        raise BadInputError(f"{f}: lacks column(s) {', '.join(missing)}; not a {view} file")
    return files


def read_pairs(spec: str, view: str = "preferences") -> list[dict[str, Any]]:
    """Every row of ``view`` at ``spec`` (see :func:`check_pairs_path`), in file order."""
    import pyarrow.parquet as pq

    rows: list[dict[str, Any]] = []
    for f in check_pairs_path(spec, view):
        rows += pq.read_table(f).to_pylist()
    return rows


def find_report(spec: str) -> dict[str, Any] | None:
    """pairs.json of a pairs path (beside its preferences files), or None when it has none."""
    from corpus.store import read_json_object

    base = dataset_base(Path(spec).expanduser())
    for cand in (
        base / PREFERENCES_DIR / PAIRS_REPORT,
        base / PAIRS_REPORT,
        base.parent / PREFERENCES_DIR / PAIRS_REPORT,
    ):
        if cand.is_file():
            return read_json_object(cand)
    return None
