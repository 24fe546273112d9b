"""Extractor: generated Rust items round-trip through the project's extractor, and mutated
real code never crashes it. Both are seeded, so a run is reproducible.
"""

from __future__ import annotations

import random

from falsification.context import SuiteContext
from falsification.registry import Outcome, check
from falsification.rustgen import rust_file

FUZZ_SNIPPETS = (b"{", b"}", b"(", b"///", b"/*", b"*/", b"fn ", b"\xff", b"\xc3", b"#[", b"'")


def _ctx():
    from corpus.extract import FileContext

    return FileContext(repo="fuzz/roundtrip", commit="f" * 40, license="MIT", module_path="gen")


def roundtrip_problems(source: str, items: list, extract_file_bytes=None) -> list[str]:
    """What the extractor got wrong about a generated file (empty when it round-trips)."""
    from corpus.schema import record_id

    if extract_file_bytes is None:
        from corpus.extract import extract_file_bytes

    data = source.encode("utf-8")
    res = extract_file_bytes(data, "src/gen.rs", _ctx())
    if res.drops:
        return [f"dropped {dict(res.drops)} from a file that parses"]
    if len(res.records) != len(items):
        return [f"expected {len(items)} records, got {len(res.records)}"]
    problems = []
    for r, gen in zip(res.records, items, strict=True):
        expected = {
            **gen.expected(),
            "source": data[r["start_byte"] : r["end_byte"]].decode("utf-8"),
            "start_line": data.count(b"\n", 0, r["start_byte"]) + 1,
            "id": record_id(
                r["repo"], r["commit"], r["path"], r["start_byte"], r["end_byte"], r["source"]
            ),
        }
        problems += [
            f"{gen.name}.{k}: got {r.get(k)!r}, want {v!r}"
            for k, v in expected.items()
            if r.get(k) != v
        ]
    return problems


@check(
    "extractor.roundtrip",
    points=2,
    apart=True,
    hypothesis="Every generated file of fn items (free, impl, trait impl, trait, extern, nested "
    "mods; raw names; qualifiers; ///, /** */ and #[doc] docs interleaved with attributes and "
    "plain comments) round-trips through the extractor with the expected name, signature, "
    "params, doc, flags, attributes and span (seeded Hypothesis run).",
)
def roundtrip(ctx: SuiteContext) -> Outcome:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed

    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if ctx.hypothesis_shrink else [])

    failure: list[str] = []

    @hseed(ctx.seed)
    @settings(
        max_examples=ctx.hypothesis_examples,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
        phases=phases,
    )
    @given(rust_file())
    def prop(generated: tuple[str, list]) -> None:
        source, items = generated
        problems = roundtrip_problems(source, items, ctx.extractor)
        if problems:
            failure[:] = [source, *problems]
            raise AssertionError(problems[0])

    try:
        prop()
    except Exception as exc:
        detail = "; ".join(failure[1:3]) if failure else f"{type(exc).__name__}: {exc}"
        code = failure[0] if failure else ""
        return Outcome(False, f"falsified: {detail}; minimal item: {code!r}")
    return Outcome(True, f"{ctx.hypothesis_examples} generated items round-trip (seed {ctx.seed})")


def mutate(data: bytes, rng: random.Random) -> bytes:
    """Delete, insert, duplicate or truncate a few random spans of ``data``."""
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(4)
        i = rng.randrange(len(b) + 1)
        if op == 0 and b:
            del b[i : i + rng.randint(1, 8)]
        elif op == 1:
            b[i:i] = rng.choice(FUZZ_SNIPPETS)
        elif op == 2 and b:
            j = rng.randrange(len(b))
            b[i:i] = b[j : j + rng.randint(1, 40)]
        else:
            b = b[: max(1, i)]
    return bytes(b)


@check(
    "extractor.fuzz",
    points=2,
    hypothesis="Randomly mutated corpus sources (seeded) never crash the extractor, and every "
    "record it returns has source equal to the input bytes at its span.",
)
def fuzz(ctx: SuiteContext) -> Outcome:
    extract_file_bytes = ctx.extractor
    rng = random.Random(ctx.seed)
    pool = sorted(r["source"] for r in ctx.records) or ["/// Doc.\npub fn f(x: u32) -> u32 { x }\n"]
    crashes, wrong, records = [], 0, 0
    for _ in range(ctx.fuzz_cases):
        # Glue two sources so spans move and items sit next to each other.
        data = mutate((rng.choice(pool) + "\n\n" + rng.choice(pool)).encode("utf-8"), rng)
        try:
            res = extract_file_bytes(data, "src/fuzz.rs", _ctx())
        except Exception as exc:
            crashes.append(f"{type(exc).__name__}: {exc}")
            continue
        for r in res.records:
            records += 1
            if data[r["start_byte"] : r["end_byte"]] != r["source"].encode("utf-8"):
                wrong += 1
    ev = (
        f"{ctx.fuzz_cases} mutated inputs (seed {ctx.seed}): {len(crashes)} crashes, "
        f"{wrong}/{records} records off their span"
    )
    if crashes:
        ev += f"; e.g. {crashes[0]}"
    return Outcome(not crashes and not wrong, ev)
