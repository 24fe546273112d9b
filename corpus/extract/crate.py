"""Where a file sits in its crate: the crate name and module path rustc would give it."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

# Directories whose files are tests, benches or examples by Cargo's conventions.
TEST_DIRS = ("tests", "benches", "examples")


@dataclass(frozen=True)
class FileContext:
    """Provenance and crate context for one file."""

    repo: str
    commit: str
    license: str
    module_path: str = ""
    test_reason: str | None = None  # set when the file's path makes every fn a test
    root: str | None = None  # repository root on disk (for include_str!), None = don't read


def _crate_name(cargo_toml: Path) -> str | None:
    """The [lib] or [package] name in a Cargo.toml, or None for a virtual workspace."""
    try:
        stamp = cargo_toml.stat()
    except OSError:
        return None
    # Keyed by size and mtime too: a cached checkout moves between pins under the same path.
    return _crate_name_at(cargo_toml, stamp.st_mtime_ns, stamp.st_size)


@lru_cache(maxsize=4096)
def _crate_name_at(cargo_toml: Path, _mtime_ns: int, _size: int) -> str | None:
    try:
        data = tomllib.loads(cargo_toml.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    name = (data.get("lib") or {}).get("name") or (data.get("package") or {}).get("name")
    return str(name).replace("-", "_") if isinstance(name, str) else None


def _find_crate(root: Path, rel: PurePosixPath) -> tuple[PurePosixPath, str] | None:
    """The nearest ancestor directory of ``rel`` (inside root) holding a package Cargo.toml."""
    for depth in range(len(rel.parts) - 1, -1, -1):
        d = PurePosixPath(*rel.parts[:depth]) if depth else PurePosixPath()
        toml = root / d / "Cargo.toml"
        if toml.is_file():
            name = _crate_name(toml)
            if name:
                return d, name
    return None


def module_path_for(rel_in_crate: PurePosixPath, crate: str) -> str:
    """Module path of a file from its path inside the crate directory (Cargo layout)."""
    parts = list(rel_in_crate.parts)
    stem = PurePosixPath(parts[-1]).stem
    dirs = parts[:-1]
    if dirs[:1] == ["src"]:
        dirs = dirs[1:]
        if dirs[:1] == ["bin"]:  # each src/bin file (or dir with main.rs) is its own crate
            dirs = dirs[1:]
            if not dirs:
                return stem
            crate, dirs = dirs[0], dirs[1:]
            if not dirs and stem == "main":
                return crate
    elif dirs and dirs[0] in TEST_DIRS:
        crate, dirs = dirs[0], dirs[1:]
    elif not dirs and stem == "build":
        return f"{crate}::build_script"
    segs = [crate, *dirs]
    if stem not in ("lib", "main", "mod"):
        segs.append(stem)
    return "::".join(s.replace("-", "_") for s in segs if s)


def test_reason_for_path(rel: PurePosixPath) -> str | None:
    """A path-based reason every fn in the file is test code, or None."""
    for part in rel.parts[:-1]:
        if part in TEST_DIRS:
            return f"path:{part}"
    if rel.stem in ("tests", "test"):
        return f"path:{rel.name}"
    return None


def context_for(
    root: Path | str | None,
    rel_path: str,
    *,
    repo: str,
    commit: str,
    license: str,
    read_includes: bool = True,
) -> FileContext:
    """Build the FileContext for ``rel_path`` inside the repository checked out at ``root``."""
    rel = PurePosixPath(rel_path)
    module = ""
    if root is not None:
        found = _find_crate(Path(root), rel)
        if found is not None:
            crate_dir, crate = found
            module = module_path_for(rel.relative_to(crate_dir), crate)
    if not module:
        module = "::".join(p.replace("-", "_") for p in (*rel.parts[:-1], rel.stem))
    return FileContext(
        repo=repo,
        commit=commit,
        license=license,
        module_path=module,
        test_reason=test_reason_for_path(rel),
        root=str(root) if (root is not None and read_includes) else None,
    )
