"""How often a doc names its impl's self type while the prompt does not show it.

For every impl / trait-impl record of a dataset: does the doc mention the self type (its
last path segment, generics dropped, as a whole word), and does the prompt's user turn? A doc
that names a type the prompt never shows teaches the model to invent type names. Printed for
each prompt input (signature, context, source).

    python benchmarks/prompt_context.py out/dataset [--config balanced] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path


def self_type_name(self_type: str) -> str | None:
    """``tokio::net::TcpStream<T>`` -> ``TcpStream``; None for a non-path type (&T, [T])."""
    base = self_type.split("<", 1)[0].strip().split("::")[-1].strip()
    return base if re.fullmatch(r"[A-Za-z_]\w*", base or "") else None


def measure(dataset: Path, config: str = "default") -> dict:
    from corpus.prompt import PromptSpec, messages
    from corpus.store import read_records

    recs = [r for r in read_records(dataset, config).to_dicts()
            if r["container_kind"] in ("impl", "trait_impl") and r["self_type"]]  # fmt: skip
    out = {"impl_records": len(recs)}
    for prompt_input in ("signature", "context", "source"):
        spec = PromptSpec(input=prompt_input)
        named = absent = 0
        for r in recs:
            name = self_type_name(r["self_type"])
            if not name or not re.search(rf"\b{re.escape(name)}\b", r["doc"] or ""):
                continue
            named += 1
            user = messages(r, spec, with_answer=False, count=len)[1]["content"]
            if not re.search(rf"\b{re.escape(name)}\b", user):
                absent += 1
        out[prompt_input] = {"doc_names_self_type": named, "absent_from_prompt": absent}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", type=Path)
    ap.add_argument("--config", default="default", help="default or balanced")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    res = measure(a.dataset, a.config)
    print(json.dumps(res, indent=2))
    if a.json:
        a.json.write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
