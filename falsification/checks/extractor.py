"""Extractor: generated Rust items round-trip through the project's extractor, and mutated
real code never crashes it. Both are seeded, so a run is reproducible.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from falsification.context import SuiteContext
from falsification.registry import Outcome, check

KEYWORDS = frozenset(
    "as async await break const continue crate dyn else enum extern false fn for if impl in "
    "let loop match mod move mut pub ref return self static struct super trait true type "
    "union unsafe use where while abstract become box do final gen macro override priv try "
    "typeof unsized virtual yield macro_rules".split()
)
RAW_OK = ("match", "type", "loop", "move", "ref", "box", "try", "gen")
TYPES = ("u32", "&str", "Vec<u8>", "Option<String>", "&mut [i64]", "Result<(), Error>", "bool")
FUZZ_SNIPPETS = (b"{", b"}", b"(", b"///", b"/*", b"*/", b"fn ", b"\xff", b"\xc3", b"#[", b"'")


@dataclass(frozen=True)
class GenItem:
    """A generated fn item and what the extractor must report for it."""

    code: str
    name: str
    raw_name: str
    container: str
    visibility: str | None
    is_async: bool
    is_const: bool
    is_unsafe: bool
    params: tuple[str, ...]
    return_type: str | None
    doc: str | None
    attributes: tuple[str, ...]
    signature: str


def _strategies():
    from hypothesis import strategies as st

    ident = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True).filter(
        lambda s: s not in KEYWORDS
    )
    word = st.from_regex(r"[A-Za-z][A-Za-z0-9`.,:#()-]{0,9}", fullmatch=True)
    line = st.lists(word, min_size=1, max_size=6).map(" ".join)
    doc_lines = st.lists(st.one_of(line, line, st.just("")), min_size=1, max_size=6).filter(
        lambda ls: ls[0] != "" and ls[-1] != ""
    )

    @st.composite
    def item(draw) -> GenItem:
        container = draw(st.sampled_from(("free", "impl", "trait", "trait_impl")))
        raw = draw(st.one_of(ident, st.sampled_from(RAW_OK).map(lambda k: "r#" + k)))
        name = raw[2:] if raw.startswith("r#") else raw
        vis = (
            None
            if container in ("trait", "trait_impl")
            else draw(st.sampled_from((None, "pub", "pub(crate)")))
        )
        qual = draw(st.sampled_from(("", "const", "async", "unsafe", "async unsafe")))
        selfp = (
            []
            if container == "free"
            else draw(st.sampled_from(([], ["&self"], ["&mut self"], ["self"])))
        )
        pnames = draw(st.lists(ident, max_size=3, unique=True))
        params = [*selfp, *(f"{p}: {draw(st.sampled_from(TYPES))}" for p in pnames)]
        ret = draw(st.one_of(st.none(), st.sampled_from(TYPES)))
        lines = draw(st.one_of(st.none(), doc_lines))
        style = draw(st.sampled_from(("line", "block", "attr")))
        attrs = draw(
            st.lists(st.sampled_from(("#[inline]", "#[must_use]")), max_size=2, unique=True)
        )
        prefix = draw(st.sampled_from(("", "// a plain comment\n", "const K: u32 = 1;\n\n")))

        head = " ".join(x for x in (vis, qual, "fn") if x)
        sig = f"{head} {raw}({', '.join(params)})" + (f" -> {ret}" if ret else "")
        body = ";" if container == "trait" else " {\n    todo!()\n}"
        doc_text = None if lines is None else "\n".join(lines)
        if lines is None:
            doc_src = ""
        elif style == "line":
            doc_src = "".join(f"/// {ln}".rstrip() + "\n" for ln in lines)
        elif style == "block":
            doc_src = "/**\n" + "".join(f" * {ln}".rstrip() + "\n" for ln in lines) + " */\n"
        else:
            doc_src = "".join(f'#[doc = "{ln}"]\n' for ln in lines)
        fn = doc_src + "".join(a + "\n" for a in attrs) + sig + body + "\n"
        wrap = {
            "free": "{}",
            "impl": "struct Foo;\nimpl Foo {{\n{}}}\n",
            "trait": "trait Bar {{\n{}}}\n",
            "trait_impl": "struct Foo;\ntrait Bar {{}}\nimpl Bar for Foo {{\n{}}}\n",
        }[container]
        return GenItem(
            code=prefix + wrap.format(fn),
            name=name,
            raw_name=raw,
            container=container,
            visibility=vis,
            is_async="async" in qual,
            is_const="const" in qual,
            is_unsafe="unsafe" in qual,
            params=tuple(params),
            return_type=ret,
            doc=doc_text,
            attributes=tuple(attrs),
            signature=sig,
        )

    return item()


def _ctx():
    from corpus.extract import FileContext

    return FileContext(repo="fuzz/roundtrip", commit="f" * 40, license="MIT", module_path="gen")


def roundtrip_problems(gen: GenItem, extract_file_bytes=None) -> list[str]:
    """What the extractor got wrong about ``gen`` (empty when it round-trips)."""
    from corpus.schema import record_id

    if extract_file_bytes is None:
        from corpus.extract import extract_file_bytes

    data = gen.code.encode("utf-8")
    recs = [
        r for r in extract_file_bytes(data, "src/gen.rs", _ctx()).records if r["name"] == gen.name
    ]
    if len(recs) != 1:
        return [f"expected 1 record named {gen.name}, got {len(recs)}"]
    r = recs[0]
    expected = {
        "raw_name": gen.raw_name,
        "container_kind": gen.container,
        "visibility": gen.visibility,
        "is_async": gen.is_async,
        "is_const": gen.is_const,
        "is_unsafe": gen.is_unsafe,
        "params": list(gen.params),
        "return_type": gen.return_type,
        "doc": gen.doc,
        "attributes": [a for a in gen.attributes],
        "signature": gen.signature,
        "has_body": gen.container != "trait",
        "source": data[r["start_byte"] : r["end_byte"]].decode("utf-8"),
        "start_line": data.count(b"\n", 0, r["start_byte"]) + 1,
        "id": record_id(
            r["repo"], r["commit"], r["path"], r["start_byte"], r["end_byte"], r["source"]
        ),
    }
    if gen.doc is not None:
        expected["attributes"] = [a for a in r["attributes"] if a.startswith("#[doc")] + list(
            gen.attributes
        )
    return [f"{k}: got {r.get(k)!r}, want {v!r}" for k, v in expected.items() if r.get(k) != v]


@check(
    "extractor.roundtrip",
    points=2,
    hypothesis="Every generated fn item (free/impl/trait/trait impl; raw names; qualifiers; "
    "///, /** */ and #[doc] docs; attributes) round-trips through the extractor with the "
    "expected name, signature, params, doc, flags and span (seeded Hypothesis run).",
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
    @given(_strategies())
    def prop(gen: GenItem) -> None:
        problems = roundtrip_problems(gen, ctx.extractor)
        if problems:
            failure[:] = [gen.code, *problems]
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
