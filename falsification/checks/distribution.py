"""Distribution and leakage: enough repos, none dominant, 80/10/10 splits, and no exact or
near duplicate on both sides of a split (leakage is critical).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict

from corpus.defaults import MAX_REPO_SHARE
from falsification.context import SuiteContext
from falsification.registry import Outcome, check, outcome

MIN_REPOS = 5
TARGET = {"train": 0.80, "validation": 0.10, "test": 0.10}
TOLERANCE = 0.02
#: Repositories with at least this many records are held to REPO_TOLERANCE of the targets.
REPO_MIN_RECORDS = 20
REPO_TOLERANCE = 0.03
NEAR_DUP_JACCARD = 0.7
NEAR_MIN_WORDS = 8
SHINGLE = 3
TEST_ATTRS = re.compile(r"#\[\s*([\w:]*::)?(test|bench|rstest|quickcheck|proptest)\b")
TEST_DIRS = frozenset({"tests", "benches", "examples"})


@check(
    "distribution.repo_count",
    points=1,
    hypothesis=f"The corpus draws on at least {MIN_REPOS} source repositories.",
)
def repo_count(ctx: SuiteContext) -> Outcome:
    repos = sorted({r["repo"] for r in ctx.records})
    return outcome(len(repos) >= MIN_REPOS, f"{len(repos)} repos: {', '.join(repos)}")


@check(
    "distribution.repo_share",
    points=2,
    hypothesis=f"The balanced config is a subset of the default one, row for row (same split "
    f"and fields, so it leaks and moves nothing the default does not), in which no repository "
    f"contributes more than {MAX_REPO_SHARE:.0%} of the records (without a balanced config: "
    "the default one).",
)
def repo_share(ctx: SuiteContext) -> Outcome:
    table = ctx.balanced if ctx.balanced is not None else ctx.df
    which = "balanced" if ctx.balanced is not None else "default"
    n = table.height
    if not n:
        return Outcome(False, f"no records in the {which} config")
    default = {r["id"]: r for r in ctx.records}
    extra = sorted(set(table["id"].to_list()) - set(default))
    differ = sorted(
        r["id"]
        for r in (table.to_dicts() if which == "balanced" else ())
        if r["id"] in default and r != default[r["id"]]
    )
    counts = Counter(table["repo"].to_list())
    top, k = counts.most_common(1)[0]
    over = [repo for repo, c in counts.items() if c / n > MAX_REPO_SHARE]
    ev = f"{which} config: largest {top} {k}/{n} = {k / n:.1%}"
    if over:
        ev += f"; over {MAX_REPO_SHARE:.0%}: {over}"
    if extra:
        ev += f"; {len(extra)} balanced records are not in the default config"
    if differ:
        ev += f"; {len(differ)} balanced records differ from their default row (split or fields)"
    return outcome(not over and not extra and not differ, ev, extra + differ)


def _repo_offsets(records: list[dict]) -> dict[str, str]:
    """repo -> why its split shares are off (repos of REPO_MIN_RECORDS+ records only).

    A repository can be placed no closer than its largest file allows (a file is never split),
    so the tolerance is REPO_TOLERANCE or that file's share of the repository, if larger.
    """
    per_repo: dict[str, Counter] = defaultdict(Counter)
    per_file: dict[str, Counter] = defaultdict(Counter)
    for r in records:
        per_repo[r["repo"]][r["split"]] += 1
        per_file[r["repo"]][r["path"]] += 1
    off = {}
    for repo, c in sorted(per_repo.items()):
        n = sum(c.values())
        if n < REPO_MIN_RECORDS:
            continue
        tol = max(REPO_TOLERANCE, max(per_file[repo].values()) / n)
        bad = [s for s in TARGET if abs(c.get(s, 0) / n - TARGET[s]) > tol + 1e-12]
        if bad:
            off[repo] = "/".join(str(c.get(s, 0)) for s in TARGET) + f" (tolerance {tol:.0%})"
    return off


@check(
    "distribution.split_ratios",
    points=2,
    hypothesis=f"Split shares are within {TOLERANCE:.0%} of 80/10/10 train/validation/test "
    f"overall, and within {REPO_TOLERANCE:.0%} (or the share of its largest file, which cannot "
    f"be split) for every repository with {REPO_MIN_RECORDS}+ records, in every config.",
)
def split_ratios(ctx: SuiteContext) -> Outcome:
    if not ctx.records:
        return Outcome(False, "no records")
    configs = {"default": ctx.records}
    if ctx.balanced is not None and ctx.balanced.height:
        configs["balanced"] = ctx.balanced.to_dicts()
    evidence, ok = [], True
    for which, records in configs.items():
        text, good = _config_ratios(records)
        evidence.append(f"{which}: {text}" if len(configs) > 1 else text)
        ok = ok and good
    return outcome(ok, " | ".join(evidence))


def _config_ratios(records: list[dict]) -> tuple[str, bool]:
    """(evidence, on target) for one config's records."""
    n = len(records)
    counts = Counter(r["split"] for r in records)
    shares = {s: counts.get(s, 0) / n for s in TARGET}
    off = {s: v for s, v in shares.items() if abs(v - TARGET[s]) > TOLERANCE + 1e-12}
    ev = ", ".join(f"{s} {counts.get(s, 0)} ({v:.1%})" for s, v in shares.items())
    repos = _repo_offsets(records)
    if off:
        ev += f"; off target: {sorted(off)}"
    if repos:
        ev += "; repos off target: " + ", ".join(f"{r} {why}" for r, why in repos.items())
    return ev, not off and not repos


@check(
    "distribution.splits_sticky",
    points=2,
    severity="critical",
    hypothesis="Every record is in its file's split of the split manifest, and no file the "
    "previous build placed has moved (no validation or test file becomes training data).",
)
def splits_sticky(ctx: SuiteContext) -> Outcome:
    manifest = ctx.manifest
    if manifest is None:
        return Outcome(False, "the dataset has no split_manifest.json: splits are not sticky")
    bad = [r["id"] for r in ctx.records if manifest.get(r["repo"], r["path"]) != r["split"]]
    ev = f"{len(bad)} records off their file's split in {len(manifest)} files"
    moved: list[str] = []
    if ctx.previous is not None:
        for repo, paths in sorted(ctx.previous.files.items()):
            for path, split in sorted(paths.items()):
                if manifest.get(repo, path) != split:
                    moved.append(f"{repo}:{path} {split}->{manifest.get(repo, path)}")
        ev += f"; {len(moved)} of the previous build's {len(ctx.previous)} files moved"
        ev += f" (e.g. {moved[0]})" if moved else ""
    else:
        ev += "; no previous manifest given (first build): nothing could move"
    return outcome(not bad and not moved, ev, bad)


def _norm(text: str) -> str:
    return " ".join(text.split())


def _cross_split(groups: dict) -> list[list[dict]]:
    return [g for g in groups.values() if len({r["split"] for r in g}) > 1]


@check(
    "distribution.no_exact_leak",
    points=3,
    apart=True,
    severity="critical",
    hypothesis="No duplicate cluster, (signature, doc) pair or source text (whitespace-"
    "normalised) appears in more than one split.",
)
def no_exact_leak(ctx: SuiteContext) -> Outcome:
    by_cluster, by_pair, by_src = defaultdict(list), defaultdict(list), defaultdict(list)
    for r in ctx.records:
        by_cluster[r["dup_cluster"]].append(r)
        by_src[_norm(r["source"])].append(r)
        by_pair[(_norm(r["signature"]), _norm(r["doc"] or ""))].append(r)
    leaks = {
        "dup_cluster": _cross_split(by_cluster),
        "signature+doc": _cross_split(by_pair),
        "source": _cross_split(by_src),
    }
    offenders = [r["id"] for gs in leaks.values() for g in gs for r in g]
    ev = ", ".join(f"{k}: {len(v)} groups" for k, v in leaks.items())
    return outcome(not offenders, f"cross-split duplicates: {ev}", offenders)


def shingles(text: str, k: int = SHINGLE) -> frozenset[str]:
    """Lower-cased word k-grams of ``text``."""
    words = re.findall(r"\w+", text.lower())
    return frozenset(" ".join(words[i : i + k]) for i in range(len(words) - k + 1))


def near_duplicate_pairs(
    docs: dict[str, str], threshold: float = NEAR_DUP_JACCARD, min_words: int = NEAR_MIN_WORDS
) -> list[tuple[str, str, float]]:
    """Every pair of ids whose doc shingle sets have Jaccard >= ``threshold``, exactly.

    An all-pairs similarity join with prefix filtering: with shingles ordered rarest first, two
    sets with Jaccard >= t must share one of the first ``n - ceil(t*n) + 1`` shingles of each, so
    only pairs sharing a prefix shingle are compared, and none is missed (unlike MinHash).
    """
    sets = {
        i: s
        for i, d in sorted(docs.items())
        if len(re.findall(r"\w+", d)) >= min_words and (s := shingles(d))
    }
    freq: Counter = Counter(sh for s in sets.values() for sh in s)
    index: dict[str, list[str]] = defaultdict(list)
    pairs = []
    for i, s in sets.items():
        ordered = sorted(s, key=lambda sh: (freq[sh], sh))
        prefix = ordered[: len(ordered) - math.ceil(threshold * len(ordered)) + 1]
        seen: set[str] = set()
        for sh in prefix:
            for j in index[sh]:
                if j in seen:
                    continue
                seen.add(j)
                t = sets[j]
                jac = len(s & t) / len(s | t)
                if jac >= threshold:
                    pairs.append((j, i, jac))
            index[sh].append(i)
    return pairs


@check(
    "distribution.no_near_leak",
    points=3,
    apart=True,
    severity="critical",
    hypothesis=f"No two docs of {NEAR_MIN_WORDS}+ words in different splits are near "
    f"duplicates (word {SHINGLE}-gram Jaccard >= {NEAR_DUP_JACCARD}), recomputed by an exact "
    "similarity join, not read from dup_cluster.",
)
def no_near_leak(ctx: SuiteContext) -> Outcome:
    split = {r["id"]: r["split"] for r in ctx.records}
    pairs = near_duplicate_pairs({r["id"]: r["doc"] for r in ctx.documented})
    leaks = [(a, b, j) for a, b, j in pairs if split[a] != split[b]]
    ev = f"{len(pairs)} near-duplicate doc pairs, {len(leaks)} across splits"
    if leaks:
        a, b, j = leaks[0]
        ev += f" (e.g. {a[:12]} {split[a]} / {b[:12]} {split[b]}, J={j:.2f})"
    return outcome(not leaks, ev, [x for a, b, _ in leaks for x in (a, b)])


def looks_like_test(rec: dict) -> bool:
    """Evidence in the record itself that it is a test/bench/example fn."""
    dirs = set(rec["path"].split("/")[:-1])
    return bool(dirs & TEST_DIRS) or any(TEST_ATTRS.match(a) for a in rec["attributes"])


@check(
    "distribution.test_fns",
    points=2,
    hypothesis="Test fns are handled as configured: flagged (is_test with a test_reason, and "
    "every fn with a test attribute or under tests/ benches/ examples/ flagged) and excluded "
    "unless stats.json config sets keep_tests: true.",
)
def test_fns(ctx: SuiteContext) -> Outcome:
    keep = bool(ctx.config.get("keep_tests", False))
    inconsistent = [
        r["id"]
        for r in ctx.records
        if (r["is_test"] != (r["test_reason"] is not None))
        or (looks_like_test(r) and not r["is_test"])
    ]
    kept = [] if keep else [r["id"] for r in ctx.records if r["is_test"]]
    ev = (
        f"{len(inconsistent)} test flags inconsistent; {len(kept)} test fns published "
        f"(keep_tests={'on' if keep else 'off'})"
    )
    return outcome(not (inconsistent or kept), ev, inconsistent + kept)
