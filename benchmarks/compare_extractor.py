"""Coverage and doc accuracy of our tree-sitter extractor against an independent syn parser.

For each pinned source checkout, runs ``benchmarks/validator`` (a Rust program built on the
``syn`` crate, sharing no code with the extractor) and ``corpus.extract.extract_tree``, and
matches function items by (path, start line after attributes, name). Records our extractor
recovered from macro bodies (``origin`` ``macro:*``) are left out: syn does not parse macro
bodies. Docs are compared after the same normalisation
(``corpus.extract.docs.normalize_fragments``) on both sides.

Usage::

    cargo build --release --manifest-path benchmarks/validator/Cargo.toml
    .venv/bin/python benchmarks/compare_extractor.py [--src-root /work/src]
        [--repos ripgrep,tokio] [--out /tmp/compare_summary.json] [--examples 20]
        [--workers 1]

Exit status: 0 when every target is met (>= 99.5% of validator fns found, >= 99.5% exact doc
text among validator-documented fns, no plain comment taken as doc), 1 otherwise, 2 on bad
input (missing checkout or validator binary).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VALIDATOR_DIR = ROOT / "benchmarks" / "validator"
DEFAULT_VALIDATOR = VALIDATOR_DIR / "target" / "release" / "validator"
TARGET_FOUND = 0.995
TARGET_DOC_EXACT = 0.995

Key = tuple[str, int, str]

_INCLUDE_RE = re.compile(r'^\s*include_str\s*!\s*\(\s*"((?:[^"\\]|\\.)*)"\s*,?\s*\)\s*$')


def run_validator(binary: Path, root: Path) -> dict[str, Any]:
    """Run the validator on ``root``; returns its fns and its problem lines by type."""
    proc = subprocess.run([str(binary), str(root)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"validator failed on {root}: {proc.stderr.strip()}")
    out: dict[str, Any] = defaultdict(list)
    for line in proc.stdout.splitlines():
        obj = json.loads(line)
        out[obj["type"]].append(obj)
    return out


def resolve_fragments(fn: dict[str, Any], root: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """The validator's fragments as (kind, text); unresolvable ones listed separately.

    ``#[doc = include_str!("x")]`` is read relative to the source file, as rustc does.
    """
    frags: list[tuple[str, str]] = []
    unresolved: list[str] = []
    for kind, value in zip(fn["doc_kinds"], fn["doc_fragments"], strict=True):
        if isinstance(value, str):
            frags.append((kind, value))
            continue
        tokens = value["unresolved"]
        m = _INCLUDE_RE.match(tokens)
        target = (root / fn["path"]).parent / m.group(1) if m else None
        if target is not None and target.is_file():
            frags.append((kind, target.read_text(encoding="utf-8")))
        else:
            unresolved.append(tokens)
    return frags, unresolved


_ERROR_CACHE: dict[Path, list[tuple[int, int, str]]] = {}


def tree_sitter_error_in(path: Path, first_line: int, fn: dict[str, Any]) -> str | None:
    """The first tree-sitter ERROR/MISSING node within the fn's lines, if any (diagnostics)."""
    from corpus.extract.parser import parse

    if path not in _ERROR_CACHE:
        data = path.read_bytes()
        found: list[tuple[int, int, str]] = []
        stack = [parse(data).root_node]
        while stack:
            n = stack.pop()
            if n.type == "ERROR" or n.is_missing:
                snippet = data[n.start_byte : n.end_byte][:60].decode("utf-8", "replace")
                kind = f"MISSING {n.type}" if n.is_missing else "ERROR"
                found.append((n.start_point[0] + 1, n.end_point[0] + 1, f"{kind} {snippet!r}"))
            elif n.has_error:
                stack.extend(n.children)
        _ERROR_CACHE[path] = sorted(found)
    for start, end, what in _ERROR_CACHE[path]:
        if start <= fn["end_line"] and end >= first_line:
            return f"{what} at line {start}"
    return None


def first_difference(a: str, b: str) -> str:
    """A short description of where two doc texts first differ."""
    la, lb = a.split("\n"), b.split("\n")
    for i, (x, y) in enumerate(zip(la, lb, strict=False)):
        if x != y:
            return f"line {i + 1}: validator={x!r} ours={y!r}"
    return f"line counts differ: validator={len(la)} ours={len(lb)}"


def _index(items: list[dict[str, Any]], key) -> dict[Key, list[dict[str, Any]]]:
    out: dict[Key, list[dict[str, Any]]] = defaultdict(list)
    for it in items:
        out[key(it)].append(it)
    return out


def _fmt(fn: dict[str, Any], line_field: str, name_field: str = "name") -> str:
    return f"{fn['path']}:{fn[line_field]} {fn[name_field]}"


def compare_repo(
    repo: str,
    root: Path,
    validator: dict[str, Any],
    records: list[dict[str, Any]],
    normalize,
    n_examples: int,
) -> dict[str, Any]:
    """Match one repository's validator fns with our records and compare their docs."""
    vfns = validator["fn"]
    ours_all = records
    ours = [r for r in ours_all if not str(r["origin"]).startswith("macro:")]
    unparsed = {e["path"] for e in validator["parse_error"] + validator["read_error"]}

    vidx = _index(vfns, lambda f: (f["path"], f["line"], f["name"]))
    oidx = _index(ours, lambda r: (r["path"], r["start_line"], r["name"]))
    ours_by_path_name = _index(ours, lambda r: (r["path"], 0, r["name"]))
    ours_paths = {r["path"] for r in ours}
    all_ours_paths = {r["path"] for r in ours_all}

    matched: list[tuple[dict[str, Any], dict[str, Any]]] = []
    missing: list[dict[str, Any]] = []
    for key, vs in vidx.items():
        os_ = oidx.get(key, [])
        matched.extend(zip(vs, os_, strict=False))
        missing.extend(vs[len(os_) :])
    extra: list[dict[str, Any]] = []
    for key, os_ in oidx.items():
        extra.extend(os_[len(vidx.get(key, [])) :])

    # Why each missing fn is missing.
    missing_cats: dict[str, list[str]] = defaultdict(list)
    for f in sorted(missing, key=lambda f: (f["path"], f["line"])):
        same_name = ours_by_path_name.get((f["path"], 0, f["name"]), [])
        if f["path"] not in all_ours_paths:
            cat = "file_without_records"
        elif same_name:
            lines = sorted(r["start_line"] for r in same_name)
            cat = "line_mismatch"
            missing_cats[cat].append(f"{_fmt(f, 'line')} (ours at lines {lines})")
            continue
        elif f["path"] not in ours_paths:
            cat = "file_only_macro_records"
        else:
            err = tree_sitter_error_in(root / f["path"], f.get("attr_line") or f["line"], f)
            if err is not None:
                missing_cats["tree_sitter_error_in_fn"].append(f"{_fmt(f, 'line')}: {err}")
                continue
            cat = "absent"
        detail = f" [{f['kind']}{' nested' if f['nested'] else ''}]"
        missing_cats[cat].append(_fmt(f, "line") + detail)

    extra_cats: dict[str, list[str]] = defaultdict(list)
    for r in sorted(extra, key=lambda r: (r["path"], r["start_line"])):
        cat = "in_file_validator_could_not_parse" if r["path"] in unparsed else "not_in_validator"
        extra_cats[cat].append(_fmt(r, "start_line"))

    # Docs and other attributes of the matched pairs.
    documented = exact = fake = lost = wrong = unresolved_v = 0
    doc_examples: dict[str, list[str]] = defaultdict(list)
    attr_mismatch: Counter = Counter()
    attr_examples: dict[str, list[str]] = defaultdict(list)
    for v, o in matched:
        frags, unresolved = resolve_fragments(v, root)
        vdoc = normalize(frags)
        odoc = o["doc"]
        where = _fmt(v, "line")
        if unresolved:
            unresolved_v += 1
            if not (o.get("doc_unresolved") or o.get("doc_include")):
                doc_examples["unresolved_not_flagged"].append(f"{where} {unresolved}")
        if vdoc is not None:
            documented += 1
            if odoc == vdoc:
                exact += 1
            elif odoc is None:
                lost += 1
                doc_examples["doc_lost"].append(f"{where} kinds={sorted(set(v['doc_kinds']))}")
            else:
                wrong += 1
                doc_examples["doc_text_differs"].append(f"{where}: {first_difference(vdoc, odoc)}")
        elif odoc is not None:
            fake += 1
            doc_examples["fake_doc"].append(f"{where}: ours={odoc[:80]!r}")
        want_kind = "trait_impl" if v["trait_impl"] else v["kind"]
        checks = {
            "container_kind": (want_kind, o["container_kind"]),
            "is_nested": (v["nested"], o["is_nested"]),
            "has_body": (v["has_body"], o["has_body"]),
            "raw_name": (v["raw"], str(o["raw_name"]).startswith("r#")),
        }
        for field, (want, got) in checks.items():
            if want != got:
                attr_mismatch[field] += 1
                attr_examples[field].append(f"{where}: validator={want} ours={got}")

    n_v = len(vfns)
    found = len(matched)
    return {
        "repo": repo,
        "validator_files": validator["summary"][0]["files"] if validator["summary"] else None,
        "validator_unparsed_files": sorted(unparsed),
        "validator_patched_files": sorted(p["path"] for p in validator["patched"]),
        "validator_verbatim_with_fn": [
            f"{v['path']}:{v['line']}" for v in validator["verbatim"] if v["contains_fn"]
        ],
        "validator_fns": n_v,
        "ours_records": len(ours_all),
        "ours_macro_records": len(ours_all) - len(ours),
        "matched": found,
        "found_rate": found / n_v if n_v else 1.0,
        "missing": len(missing),
        "missing_by_category": {k: len(v) for k, v in sorted(missing_cats.items())},
        "missing_examples": {k: v[:n_examples] for k, v in sorted(missing_cats.items())},
        "extra": len(extra),
        "extra_by_category": {k: len(v) for k, v in sorted(extra_cats.items())},
        "extra_examples": {k: v[:n_examples] for k, v in sorted(extra_cats.items())},
        "documented_by_validator": documented,
        "doc_exact": exact,
        "doc_exact_rate": exact / documented if documented else 1.0,
        "doc_lost": lost,
        "doc_text_differs": wrong,
        "plain_comment_as_doc": fake,
        "validator_unresolved_docs": unresolved_v,
        "doc_examples": {k: v[:n_examples] for k, v in sorted(doc_examples.items())},
        "attribute_mismatches": dict(attr_mismatch),
        "attribute_examples": {k: v[:n_examples] for k, v in sorted(attr_examples.items())},
    }


def totals(per_repo: list[dict[str, Any]]) -> dict[str, Any]:
    """Sums over repositories and the verdict on each target."""
    keys = (
        "validator_fns",
        "ours_records",
        "ours_macro_records",
        "matched",
        "missing",
        "extra",
        "documented_by_validator",
        "doc_exact",
        "doc_lost",
        "doc_text_differs",
        "plain_comment_as_doc",
    )
    t: dict[str, Any] = {k: sum(r[k] for r in per_repo) for k in keys}
    t["found_rate"] = t["matched"] / t["validator_fns"] if t["validator_fns"] else 1.0
    docs = t["documented_by_validator"]
    t["doc_exact_rate"] = t["doc_exact"] / docs if docs else 1.0
    t["targets"] = {
        "found_rate>=0.995": t["found_rate"] >= TARGET_FOUND,
        "doc_exact_rate>=0.995": t["doc_exact_rate"] >= TARGET_DOC_EXACT,
        "plain_comment_as_doc==0": t["plain_comment_as_doc"] == 0,
    }
    t["all_targets_met"] = all(t["targets"].values())
    return t


def print_table(per_repo: list[dict[str, Any]], tot: dict[str, Any]) -> None:
    """The per-repository table and, below it, the categories of disagreement."""
    cols = (
        ("repo", "repo", "{:<18}"),
        ("validator", "validator_fns", "{:>9}"),
        ("matched", "matched", "{:>8}"),
        ("found%", "found_rate", "{:>8.2%}"),
        ("missing", "missing", "{:>8}"),
        ("extra", "extra", "{:>6}"),
        ("macro", "ours_macro_records", "{:>6}"),
        ("documented", "documented_by_validator", "{:>10}"),
        ("doc_exact%", "doc_exact_rate", "{:>10.2%}"),
        ("lost", "doc_lost", "{:>5}"),
        ("differs", "doc_text_differs", "{:>7}"),
        ("fake", "plain_comment_as_doc", "{:>5}"),
    )
    widths = [18, 9, 8, 8, 8, 6, 6, 10, 10, 5, 7, 5]
    header = " ".join(
        t.ljust(w) if i == 0 else t.rjust(w)
        for i, ((t, _, _), w) in enumerate(zip(cols, widths, strict=True))
    )
    print(header)
    print("-" * len(header))
    for row in [*per_repo, {**tot, "repo": "TOTAL"}]:
        print(" ".join(fmt.format(row[key]) for _, key, fmt in cols))
    print()
    for name, ok in tot["targets"].items():
        print(f"  target {name}: {'MET' if ok else 'NOT MET'}")
    for r in per_repo:
        sections = [
            ("missing", r["missing_examples"]),
            ("extra", r["extra_examples"]),
            ("doc", r["doc_examples"]),
            ("attribute", r["attribute_examples"]),
        ]
        if not any(ex for _, ex in sections) and not r["validator_unparsed_files"]:
            continue
        print(f"\n== {r['repo']}")
        if r["validator_unparsed_files"]:
            print(f"  validator could not parse: {r['validator_unparsed_files']}")
        counts = {
            "missing": r["missing_by_category"],
            "extra": r["extra_by_category"],
            "attribute": r["attribute_mismatches"],
        }
        for title, examples in sections:
            for cat, items in examples.items():
                n = counts.get(title, {}).get(cat, len(items))
                print(f"  {title}/{cat} ({n}):")
                for it in items:
                    print(f"    {it}")


def main(argv: list[str] | None = None) -> int:
    """Compare the extractor with the validator on the pinned checkouts."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--src-root", type=Path, default=Path("/work/src"))
    ap.add_argument("--validator", type=Path, default=DEFAULT_VALIDATOR)
    ap.add_argument("--repos", default="", help="comma-separated checkout names (default all)")
    ap.add_argument("--out", type=Path, default=Path("/tmp/compare_summary.json"))
    ap.add_argument("--examples", type=int, default=20)
    ap.add_argument("--workers", type=int, default=1, help="extractor processes (0 = all cores)")
    ap.add_argument("--sources", type=Path, default=None, help="sources.toml (default packaged)")
    args = ap.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from corpus.extract import extract_tree
    from corpus.extract.docs import normalize_fragments
    from corpus.sources import load_sources
    from corpus.store import write_json

    if not args.validator.is_file():
        print(
            f"validator binary not found at {args.validator}; build it with\n"
            f"  cargo build --release --manifest-path {VALIDATOR_DIR / 'Cargo.toml'}",
            file=sys.stderr,
        )
        return 2
    wanted = {n for n in args.repos.split(",") if n}
    sources = [
        s for s in load_sources(args.sources) if not wanted or s.repo.split("/")[1] in wanted
    ]
    if wanted - {s.repo.split("/")[1] for s in sources}:
        print(
            f"unknown repos: {sorted(wanted - {s.repo.split('/')[1] for s in sources})}",
            file=sys.stderr,
        )
        return 2
    per_repo = []
    timings: dict[str, dict[str, float]] = {}
    for src in sources:
        root = args.src_root / src.repo.split("/")[1]
        if not root.is_dir():
            print(f"checkout missing: {root}", file=sys.stderr)
            return 2
        t0 = time.perf_counter()
        val = run_validator(args.validator, root)
        t1 = time.perf_counter()
        records, _stats = extract_tree(
            root, repo=src.repo, commit=src.commit, license=src.license, workers=args.workers
        )
        t2 = time.perf_counter()
        per_repo.append(
            compare_repo(src.repo, root, val, records, normalize_fragments, args.examples)
        )
        timings[src.repo] = {"validator_s": round(t1 - t0, 3), "extractor_s": round(t2 - t1, 3)}
    tot = totals(per_repo)
    print_table(per_repo, tot)
    write_json(args.out, {"totals": tot, "repos": per_repo, "timings": timings})
    print(f"\nsummary written to {args.out}")
    return 0 if tot["all_targets_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
