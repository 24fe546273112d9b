"""Integrity: the table is well-formed, ids are honest, spans agree with the text."""

from __future__ import annotations

from collections import Counter, defaultdict

from corpus.schema import DOC_SECTIONS
from falsification.context import SuiteContext
from falsification.docs import sections, summary
from falsification.registry import Outcome, check, outcome


@check(
    "integrity.schema",
    points=4,
    apart=True,
    severity="critical",
    hypothesis="The table has rows, and every row satisfies the pandera record schema "
    "(types, nullability, id/SHA/URL regexes, ranges, allowed values, uniqueness).",
)
def schema(ctx: SuiteContext) -> Outcome:
    import pandera.errors

    from falsification.schema import record_schema

    if ctx.df.height == 0:
        return Outcome(False, "the table has no rows: an empty corpus refutes nothing")
    try:
        record_schema().validate(ctx.df, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        groups = fc.group_by(["column", "check"]).len().sort(["column", "check"])
        parts = [f"{r['column']}: {r['check']} x{r['len']}" for r in groups.to_dicts()]
        rows = [i for i in fc["index"].to_list() if i is not None]
        ids = ctx.df["id"].to_list() if "id" in ctx.df.columns else []
        offenders = [str(ids[i]) for i in rows if i < len(ids)]
        return outcome(False, f"{fc.height} schema failures: " + "; ".join(parts[:8]), offenders)
    return Outcome(True, f"{ctx.df.height} rows satisfy {ctx.df.width} column rules")


@check(
    "integrity.ids_unique",
    points=2,
    severity="critical",
    hypothesis="No two records share an id.",
)
def ids_unique(ctx: SuiteContext) -> Outcome:
    counts = Counter(r["id"] for r in ctx.records)
    dups = [i for i, n in counts.items() if n > 1]
    return outcome(not dups, f"{len(dups)} ids used more than once in {len(counts)} ids", dups)


@check(
    "integrity.ids_recomputable",
    points=3,
    severity="critical",
    hypothesis="Every id equals sha256(repo, commit, path, byte span, source) recomputed from "
    "the record's own content.",
)
def ids_recomputable(ctx: SuiteContext) -> Outcome:
    from corpus.schema import record_id

    # A redacted record keeps the id of its original text (verified against the blob by
    # provenance.source_matches_blob), so only unredacted ids can be recomputed here.
    plain = [r for r in ctx.records if not r["redacted"]]
    bad = [
        r["id"]
        for r in plain
        if r["id"]
        != record_id(r["repo"], r["commit"], r["path"], r["start_byte"], r["end_byte"], r["source"])
    ]
    return outcome(
        not bad,
        f"{len(bad)}/{len(plain)} ids differ from the recomputed "
        f"({len(ctx.records) - len(plain)} redacted: checked against the blob)",
        bad,
    )


@check(
    "integrity.no_duplicate_content",
    # 2 -> 1 for provenance.paths_resolve: the build's exact dedup already guarantees it, and
    # distribution.no_exact_leak recomputes duplicates independently across splits
    points=1,
    hypothesis="No two records carry the same (source, doc) content.",
)
def no_duplicate_content(ctx: SuiteContext) -> Outcome:
    groups: dict[tuple[str, str | None], list[str]] = defaultdict(list)
    for r in ctx.records:
        groups[(r["source"], r["doc"])].append(r["id"])
    dups = [ids for ids in groups.values() if len(ids) > 1]
    offenders = [i for ids in dups for i in ids]
    return outcome(
        not dups,
        f"{len(dups)} groups of identical source+doc ({len(offenders)} records)",
        offenders,
    )


@check(
    "integrity.spans_consistent",
    # 2 -> 1 when provenance.license_detected came in (2 points, with 1 from license_pinned):
    # with the clones, provenance.source_matches_blob checks every span against its blob.
    points=1,
    hypothesis="Byte spans measure the source text (end-start = UTF-8 length) and line spans "
    "count its lines (end_line-start_line = newlines); redacted sources need only ordered spans.",
)
def spans_consistent(ctx: SuiteContext) -> Outcome:
    bad = []
    for r in ctx.records:
        src = r["source"]
        ordered = 0 <= r["start_byte"] < r["end_byte"] and 1 <= r["start_line"] <= r["end_line"]
        measured = r["redacted"] or (
            r["end_byte"] - r["start_byte"] == len(src.encode("utf-8"))
            and r["end_line"] - r["start_line"] == src.count("\n")
        )
        if not (ordered and measured):
            bad.append(r["id"])
    return outcome(not bad, f"{len(bad)}/{len(ctx.records)} records with inconsistent spans", bad)


@check(
    "integrity.nonempty",
    points=2,
    hypothesis="No record has a blank name, signature or source, and every doc that is "
    "present is non-blank with a non-blank summary.",
)
def nonempty(ctx: SuiteContext) -> Outcome:
    bad = []
    for r in ctx.records:
        blank = any(not (r[k] or "").strip() for k in ("name", "signature", "source"))
        if r["doc"] is not None and (not r["doc"].strip() or not (r["doc_summary"] or "").strip()):
            blank = True
        if blank:
            bad.append(r["id"])
    return outcome(not bad, f"{len(bad)} records with a blank name/signature/source/doc", bad)


@check(
    "integrity.published_documented",
    points=2,
    hypothesis="Every published record has a doc (null only when stats.json config sets "
    "keep_undocumented: true).",
)
def published_documented(ctx: SuiteContext) -> Outcome:
    allowed = bool(ctx.config.get("keep_undocumented", False))
    bad = [r["id"] for r in ctx.records if r["doc"] is None]
    if allowed:
        return Outcome(True, f"{len(bad)} undocumented records, allowed by keep_undocumented")
    return outcome(not bad, f"{len(bad)} undocumented records (keep_undocumented is off)", bad)


def _paths_agree(r: dict) -> bool:
    dp, crate, pub = r["def_path"], r["crate_name"], r["public_path"]
    ends = dp == r["name"] or dp.endswith("::" + r["name"]) or dp.endswith("::" + r["raw_name"])
    starts = dp.startswith(crate + "::") or dp == crate == r["name"]
    starts = starts and (pub is None or pub.startswith(crate + "::"))
    return ends and starts and r["qualified_path"] == dp


@check(
    "integrity.derived_fields",
    points=2,
    hypothesis="Derived fields agree with their origin: name is raw_name without r#, "
    "def_path ends in the name and starts with crate_name, qualified_path equals def_path, "
    "a public_path starts with crate_name, doc_summary is the doc's first paragraph, and "
    "doc_sections lists exactly the rustdoc sections whose headings the doc has.",
)
def derived_fields(ctx: SuiteContext) -> Outcome:
    bad: dict[str, list[str]] = defaultdict(list)
    for r in ctx.records:
        raw = r["raw_name"]
        if r["name"] != (raw[2:] if raw.startswith("r#") else raw):
            bad["name"].append(r["id"])
        if not _paths_agree(r):
            bad["paths"].append(r["id"])
        doc = r["doc"]
        if doc is None:
            if r["doc_summary"] is not None or r["doc_sections"]:
                bad["doc_summary"].append(r["id"])
            continue
        if " ".join((r["doc_summary"] or "").split()) != summary(doc):
            bad["doc_summary"].append(r["id"])
        if set(r["doc_sections"]) != sections(doc) & set(DOC_SECTIONS):
            bad["doc_sections"].append(r["id"])
    n = sum(len(v) for v in bad.values())
    ev = ", ".join(f"{k}: {len(v)}" for k, v in sorted(bad.items())) or "all agree"
    return outcome(n == 0, f"{n} disagreements ({ev})", [i for v in bad.values() for i in v])


@check(
    "integrity.stats_consistent",
    points=1,
    hypothesis="stats.json describes this table: its split counts, published total and repo "
    "list equal what the parquet files hold.",
)
def stats_consistent(ctx: SuiteContext) -> Outcome:
    from corpus.schema import SPLITS

    problems = []
    splits = ctx.stats.get("splits", {})
    actual = Counter(r["split"] for r in ctx.records)
    for s in SPLITS:
        if splits.get(s) != actual.get(s, 0):
            problems.append(f"splits.{s}={splits.get(s)} but table has {actual.get(s, 0)}")
    published = ctx.stats.get("totals", {}).get("published")
    if published != len(ctx.records):
        problems.append(f"totals.published={published} but table has {len(ctx.records)}")
    repos = set(ctx.stats.get("repos", {}))
    table_repos = {r["repo"] for r in ctx.records}
    if not table_repos <= repos:
        problems.append(f"repos missing from stats.json: {sorted(table_repos - repos)}")
    return outcome(not problems, "; ".join(problems) or "stats.json matches the table")
