"""The crate model of checkouts against `cargo metadata`, and what it says about their files.

Usage: python benchmarks/cargo_layout.py CHECKOUT [CHECKOUT...] [--cargo PATH] [--json OUT]

For every workspace the model finds (a [workspace] manifest, or a package with none above),
runs ``cargo metadata --no-deps --offline`` (which reads manifests only: no build script runs)
and compares the member packages and every target's (kind, name, root file) with the model's.
Then prints, per checkout: packages, targets, .rs files per target kind, files several targets
read, files no target reads, manifest findings, and the seconds the model took to build.
Exits 1 when any workspace differs from cargo.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from corpus.clone import iter_rust_files
from corpus.extract.crates import CrateModel

_KIND = {"custom-build": "build-script"}


def cargo_view(cargo: str, root: Path, ws: str) -> tuple[set, set] | None:
    """(members, targets) of the workspace at ``root/ws`` as cargo reports them."""
    proc = subprocess.run(
        [cargo, "metadata", "--no-deps", "--offline", "--format-version", "1",
         "--manifest-path", str(root / ws / "Cargo.toml")],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        return None
    real = os.path.realpath(root)

    def rel(p: str) -> str:
        r = os.path.relpath(os.path.realpath(p), real)
        return "" if r == "." else r

    meta = json.loads(proc.stdout)
    members = {rel(os.path.dirname(p["manifest_path"])) for p in meta["packages"]}
    targets = {
        (_KIND.get(t["kind"][0], t["kind"][0]), t["name"], rel(t["src_path"]))
        for p in meta["packages"]
        for t in p["targets"]
    }
    return members, targets


def model_view(model: CrateModel, members: list[str]) -> set:
    """The model's targets of the packages in ``members``."""
    return {
        (t.kind, t.name, t.root)
        for p in model.layout.packages
        if p.dir in members
        for t in p.targets
    }


def measure(root: Path, cargo: str | None) -> dict:
    """Build the model of ``root`` and compare it with cargo."""
    t0 = time.perf_counter()
    model = CrateModel(root)
    seconds = time.perf_counter() - t0
    out = {"seconds": round(seconds, 3), "packages": len(model.layout.packages),
           "targets": len(model.trees), "mismatches": []}  # fmt: skip
    out.update(model.summary(iter_rust_files(root)))
    for ws, members in sorted(model.layout.workspaces.items()):
        seen = cargo_view(cargo, root, ws) if cargo else None
        if seen is None and cargo and not model_view(model, members):
            continue  # cargo refuses a package without targets (bat's TOML test sample)
        if seen is None:
            out["mismatches"].append(f"{ws or '.'}: cargo metadata unavailable or failed")
            continue
        cargo_members, cargo_targets = seen
        mine = model_view(model, members)
        if set(members) != cargo_members or mine != cargo_targets:
            out["mismatches"].append(
                f"{ws or '.'}: cargo-only {sorted(cargo_targets - mine)[:5]}, "
                f"model-only {sorted(mine - cargo_targets)[:5]}"
            )
    out["workspaces"] = len(model.layout.workspaces)
    return out


def main() -> None:
    """Measure every checkout and print the table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("checkouts", nargs="+", type=Path)
    ap.add_argument(
        "--cargo", default=shutil.which("cargo") or str(Path.home() / ".cargo/bin/cargo")
    )
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    cargo = args.cargo if os.access(args.cargo, os.X_OK) else None
    results, bad = {}, False
    for root in args.checkouts:
        r = measure(root, cargo)
        results[str(root)] = r
        bad = bad or bool(r["mismatches"])
        print(
            f"{root}: {r['workspaces']} workspaces, {r['packages']} packages, {r['targets']} "
            f"targets, model {r['seconds']:.2f} s; files by kind {r['files_by_target_kind']}; "
            f"{r['files_in_several_targets']} in several targets; "
            f"{len(r['files_in_no_target'])} in no target; "
            f"{'MATCHES cargo' if not r['mismatches'] else r['mismatches']}"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
