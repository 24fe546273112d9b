"""Provenance and reproducibility: every record is traceable to, and re-derivable from, a
pinned blob of a cloned source. Critical: a corpus that cannot be traced is invalid.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict

from falsification.context import SuiteContext
from falsification.docs import redaction_of
from falsification.registry import Outcome, check, outcome

HEX = frozenset("0123456789abcdef")


def _is_full_sha(s: str) -> bool:
    return len(s) == 40 and set(s) <= HEX


@check(
    "provenance.pins_full_sha",
    points=2,
    severity="critical",
    hypothesis="Every record's commit is a full 40-hex SHA equal to its repo's pin in the "
    "dataset's sources.lock (and stats.json).",
)
def pins_full_sha(ctx: SuiteContext) -> Outcome:
    if ctx.lock is None:
        return Outcome(False, "sources.lock is missing from the dataset dir: pins unverifiable")
    bad, problems = [], set()
    for r in ctx.records:
        pin = ctx.lock.get(r["repo"], {}).get("commit")
        stat_pin = ctx.stats.get("repos", {}).get(r["repo"], {}).get("commit", pin)
        if not _is_full_sha(r["commit"]) or r["commit"] != pin or stat_pin != pin:
            bad.append(r["id"])
            problems.add(r["repo"])
    for repo, entry in ctx.lock.items():
        if not _is_full_sha(str(entry.get("commit", ""))):
            problems.add(f"{repo} (lock pin not a full SHA)")
    ev = (
        f"{len(bad)} records off their pin; repos: {sorted(problems)}"
        if problems
        else (f"{len(ctx.lock)} pins, all full SHAs, all records on their pin")
    )
    return outcome(not problems, ev, bad)


@check(
    "provenance.commit_exists",
    points=3,
    severity="critical",
    needs_sources=True,
    hypothesis="Every (repo, commit) of the corpus is a commit object in the cloned source.",
)
def commit_exists(ctx: SuiteContext) -> Outcome:
    missing_repos = sorted({r["repo"] for r in ctx.records if not ctx.repos.has_repo(r["repo"])})
    bad = [
        r["id"] for r in ctx.records if r["commit"] not in ctx.existing_commits.get(r["repo"], ())
    ]
    pairs = {(r["repo"], r["commit"]) for r in ctx.records}
    ev = f"{len(bad)} records cite a commit missing from {len(pairs)} (repo, commit) pairs"
    if missing_repos:
        ev += f"; no clone for {missing_repos}"
    return outcome(not bad, ev, bad)


@check(
    "provenance.path_exists",
    points=3,
    severity="critical",
    needs_sources=True,
    hypothesis="Every record's path is a file (blob) at its commit.",
)
def path_exists(ctx: SuiteContext) -> Outcome:
    bad = [r["id"] for r in ctx.records if (r["repo"], r["commit"], r["path"]) not in ctx.blobs]
    files = {(r["repo"], r["commit"], r["path"]) for r in ctx.records}
    return outcome(
        not bad,
        f"{len(bad)} records; {len(files) - len(ctx.blobs)} of "
        f"{len(files)} cited files not found at their commit",
        bad,
    )


@check(
    "provenance.source_matches_blob",
    points=4,
    severity="critical",
    needs_sources=True,
    hypothesis="Each record's source equals the blob's text at its span and start_line is "
    "the line of start_byte; a redacted source equals that text with spans replaced by "
    "<REDACTED>, and its id is the hash of the original text.",
)
def source_matches_blob(ctx: SuiteContext) -> Outcome:
    from corpus.schema import record_id

    bad, redacted = [], 0
    for r in ctx.records:
        blob = ctx.blobs.get((r["repo"], r["commit"], r["path"]))
        if blob is None:
            bad.append(r["id"])
            continue
        piece = blob[r["start_byte"] : r["end_byte"]]
        line = blob.count(b"\n", 0, r["start_byte"]) + 1
        if line != r["start_line"]:
            bad.append(r["id"])
        elif not r["redacted"]:
            if piece != r["source"].encode("utf-8"):
                bad.append(r["id"])
        else:
            redacted += 1
            text = piece.decode("utf-8", "replace")
            rid = record_id(r["repo"], r["commit"], r["path"], r["start_byte"], r["end_byte"], text)
            if rid != r["id"] or not redaction_of(r["source"], text):
                bad.append(r["id"])
    return outcome(
        not bad,
        f"{len(bad)}/{len(ctx.records)} records differ from the blob at their span "
        f"({redacted} redacted, matched as redactions)",
        bad,
    )


#: Columns the secret filter may rewrite (``<REDACTED>`` spans): compared as redactions.
REDACTABLE = ("doc", "doc_summary", "source")


def _field_matches(column: str, stored: object, fresh: object, redacted: bool) -> bool:
    if redacted and column in REDACTABLE:
        return redaction_of(stored, fresh)  # type: ignore[arg-type]
    if redacted and column == "attributes":
        return (
            isinstance(stored, list)
            and isinstance(fresh, list)
            and len(stored) == len(fresh)
            and all(redaction_of(a, b) for a, b in zip(stored, fresh, strict=True))
        )
    return _same_value(stored, fresh)


#: Types whose equal values (of the same type) serialise to the same JSON.
_PLAIN = (str, int, bool, type(None))


def _same_value(a: object, b: object) -> bool:
    """``_canon([a]) == _canon([b])``, without serialising the common equal cases: equal
    values of one plain type (a list of plain values) have one JSON text; anything else is
    compared as JSON (``True`` and ``1`` differ there, though ``==`` holds)."""
    if type(a) is type(b) and a == b:
        if isinstance(a, _PLAIN):
            return True
        if isinstance(a, list) and all(type(x) in _PLAIN for x in (*a, *b)):  # type: ignore[misc]
            return _types(a) == _types(b)  # type: ignore[arg-type]
    return _canon([a]) == _canon([b])


def _types(items: list) -> list[type]:
    return [type(x) for x in items]


def differing_fields(stored: dict, fresh: dict) -> list[str]:
    """The extract columns in which ``stored`` differs from a fresh extraction of its blob."""
    from corpus.schema import EXTRACT_COLUMNS

    return [
        c for c in EXTRACT_COLUMNS
        if not _field_matches(c, stored.get(c), fresh.get(c), bool(stored.get("redacted")))
    ]  # fmt: skip


@check(
    "provenance.fields_reextract",
    points=4,
    severity="critical",
    needs_sources=True,
    hypothesis="Re-extracting each cited blob with this extractor yields, for every record, a "
    "record with the same id and the same value in every extracted column (signature, params, "
    "return type, generics, names, paths, container, flags, attributes, test flags, origin, "
    "spans, doc and its derived fields; redacted text: the same up to <REDACTED>).",
)
def fields_reextract(ctx: SuiteContext) -> Outcome:
    crashed = {k: v for k, v in ctx.reextracted.items() if isinstance(v, str)}
    fresh: dict[str, dict] = {}
    for recs in ctx.reextracted.values():
        if not isinstance(recs, str):
            fresh.update((x["id"], x) for x in recs)
    missing, differ = [], []
    fields: dict[str, int] = defaultdict(int)
    for r in ctx.records:
        f = fresh.get(r["id"])
        if f is None:
            missing.append(r["id"])
            continue
        bad = differing_fields(r, f)
        if bad:
            differ.append(r["id"])
            for c in bad:
                fields[c] += 1
    ev = (
        f"{len(differ)} records differ, {len(missing)} not re-extracted, from "
        f"{len(ctx.reextracted)} files"
    )
    if fields:
        ev += "; fields: " + ", ".join(f"{c} {n}" for c, n in sorted(fields.items()))
    if crashed:
        ev += f"; extractor crashed on {len(crashed)} files, e.g. {next(iter(crashed.values()))}"
    return outcome(not (missing or differ or crashed), ev, differ + missing)


def _canon(records: list[dict]) -> bytes:
    return json.dumps(records, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")


@check(
    "provenance.deterministic",
    points=3,
    severity="critical",
    needs_sources=True,
    hypothesis="Re-extracting a seeded sample of files three times gives byte-identical "
    "records, equal in every extract field to the stored (unredacted) records.",
)
def deterministic(ctx: SuiteContext) -> Outcome:
    from corpus.schema import EXTRACT_COLUMNS

    files = sorted(ctx.blobs)
    if not files:
        return Outcome(False, "no cited file could be read: nothing to re-extract")
    sample = random.Random(ctx.seed).sample(files, min(ctx.determinism_files, len(files)))
    by_file = defaultdict(list)
    for r in ctx.records:
        by_file[(r["repo"], r["commit"], r["path"])].append(r)
    unstable, bad = [], []
    for key in sample:
        runs = [_canon(ctx.extract_file(key)) for _ in range(3)]
        if len(set(runs)) != 1:
            unstable.append("/".join(key))
        fresh = {x["id"]: x for x in json.loads(runs[0])}
        for r in by_file[key]:
            if r["redacted"]:
                continue
            f = fresh.get(r["id"])
            if f is None or any(not _same_value(f.get(c), r[c]) for c in EXTRACT_COLUMNS):
                bad.append(r["id"])
    ev = (
        f"{len(sample)} files x3 (seed {ctx.seed}): {len(unstable)} unstable, "
        f"{len(bad)} stored records differ from the fresh extraction"
    )
    if unstable:
        ev += f"; unstable: {unstable[:3]}"
    return outcome(not (unstable or bad), ev, bad)


@check(
    "provenance.permalinks",
    points=2,
    severity="critical",
    hypothesis="Every permalink is the well-formed GitHub URL of the record's repo, pinned "
    "commit, path and line span.",
)
def permalinks(ctx: SuiteContext) -> Outcome:
    from corpus.schema import permalink

    bad = [
        r["id"]
        for r in ctx.records
        if r["permalink"]
        != permalink(r["repo"], r["commit"], r["path"], r["start_line"], r["end_line"])
    ]
    return outcome(not bad, f"{len(bad)}/{len(ctx.records)} permalinks malformed or off", bad)


@check(
    "provenance.versions",
    points=2,
    severity="critical",
    hypothesis="Every record (and stats.json) names the extractor and grammar versions that "
    "are running now.",
)
def versions(ctx: SuiteContext) -> Outcome:
    from corpus.extract.parser import GRAMMAR_VERSION
    from corpus.schema import EXTRACTOR_VERSION

    bad = [
        r["id"]
        for r in ctx.records
        if r["extractor_version"] != EXTRACTOR_VERSION or r["grammar_version"] != GRAMMAR_VERSION
    ]
    problems = []
    for key, want in (
        ("extractor_version", EXTRACTOR_VERSION),
        ("grammar_version", GRAMMAR_VERSION),
    ):
        got = ctx.stats.get(key)
        if got != want:
            problems.append(f"stats.json {key}={got!r}, running {want!r}")
    ev = f"{len(bad)} records on other versions (running {EXTRACTOR_VERSION}; {GRAMMAR_VERSION})"
    if problems:
        ev += "; " + "; ".join(problems)
    return outcome(not (bad or problems), ev, bad)


@check(
    "provenance.license_pinned",
    points=1,
    severity="critical",
    needs_sources=True,
    hypothesis="Each record's licence equals its package's licence as detected at the pin "
    "(stats.json `licenses`; the repo's pinned licence in sources.lock unless a workspace "
    "member declares another), and a non-empty licence file exists at the root of the pinned "
    "commit.",
)
def license_pinned(ctx: SuiteContext) -> Outcome:
    from falsification.checks.provenance_licenses import expected_license

    if ctx.lock is None:
        return Outcome(False, "sources.lock is missing from the dataset dir: licences unverifiable")
    bad = [r["id"] for r in ctx.records if r["license"] != expected_license(ctx, r)]
    no_file = []
    for repo, commit in sorted({(r["repo"], r["commit"]) for r in ctx.records}):
        names = ctx.repos.license_files(repo, commit)
        blobs = ctx.repos.read_blobs(repo, [(commit, n) for n in names])
        if not any(b.strip() for b in blobs.values()):
            no_file.append(repo)
    ev = f"{len(bad)} records' licence differs from their package's"
    ev += f"; no licence file at the pin for {no_file}" if no_file else "; licence files present"
    return outcome(not (bad or no_file), ev, bad)


@check(
    "provenance.paths_resolve",
    points=2,
    apart=True,
    severity="critical",
    needs_sources=True,
    hypothesis="Every def_path resolves in the crate layout at the pinned commit, read from "
    "the blobs independently of the extractor: its crate is a Cargo target of that name and "
    "kind, each segment a module file or inline mod from the crate root to the record's file, "
    "then items the file declares; every public_path is a library's, each segment a pub "
    "module or a name a pub use re-exports; a record no target reads has no src/crates "
    "directory segment, and indeed no target reads its file.",
)
def paths_resolve(ctx: SuiteContext) -> Outcome:
    from falsification.pathcheck import def_path_problem, public_path_problem

    bad: dict[str, list[str]] = defaultdict(list)
    example: dict[str, str] = {}
    for r in ctx.records:
        layout = ctx.layouts[(r["repo"], r["commit"])]
        for field, problem in (
            ("def_path", def_path_problem(layout, r)),
            ("public_path", public_path_problem(layout, r)),
        ):
            if problem is not None:
                bad[field].append(r["id"])
                example.setdefault(field, f"{r[field]} ({r['path']}): {problem}")
    ev = ", ".join(f"{k}: {len(v)}" for k, v in sorted(bad.items())) or "all resolve"
    if example:
        ev += "; e.g. " + "; ".join(example[k] for k in sorted(example))
    offenders = sorted({i for v in bad.values() for i in v})
    return outcome(not bad, f"{len(offenders)}/{len(ctx.records)} records' paths ({ev})", offenders)
