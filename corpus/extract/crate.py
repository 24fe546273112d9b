"""Where a file sits in its crate: the crate name, target kind and module path rustc would give
it, from the checkout's Cargo layout (``corpus.extract.crates``), else guessed from directories.

``context_for`` uses the ``CrateModel`` registered for its root by ``crate_models`` (what
``run_jobs`` does once per extraction, before forking workers) or ``ensure_model`` (what a
worker of ``corpus.extract.table`` does for the checkouts it is given), or the one it is given;
without any it builds one for the call (when a Cargo.toml is in sight), so that a checkout that
moved to another commit is never read from a stale model.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath

from corpus.extract.crates import CrateModel, FileCrate, has_manifest_above
from corpus.extract.public import Namespace

# Directories whose files are tests, benches or examples by Cargo's conventions.
TEST_DIRS = ("tests", "benches", "examples")


@dataclass(frozen=True)
class FileContext:
    """Provenance and crate context for one file."""

    repo: str
    commit: str
    license: str
    module_path: str = ""  # crate::a::b of the file (its def path's module part)
    test_reason: str | None = None  # set when the file's path makes every fn a test
    root: str | None = None  # repository root on disk (for include_str!), None = don't read
    crate_name: str = ""  # rustc's crate name ("" = the first segment of module_path)
    target_kind: str | None = None  # lib, proc-macro, bin, ...; None: no target reads the file
    #: the file's crate facts and its crate's namespace (for public_path); None when guessed
    crate: FileCrate | None = field(default=None, compare=False, repr=False)
    namespace: Namespace | None = field(default=None, compare=False, repr=False)
    #: build only the records with these ids (each fn costs its id, the rest is skipped): what
    #: a re-verification that checks known records needs; None builds them all
    wanted_ids: frozenset[str] | None = field(default=None, compare=False, repr=False)

    @property
    def crate_or_guess(self) -> str:
        """The crate name, or the module path's first segment when it was guessed."""
        return self.crate_name or self.module_path.split("::", 1)[0]


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


_ACTIVE: dict[str, CrateModel] = {}


@contextmanager
def crate_models(roots: Iterable[str | os.PathLike[str]]) -> Iterator[dict[str, CrateModel]]:
    """Build the crate model of each root once and let ``context_for`` use it until exit.

    Forked workers started inside the block inherit the models (nothing is re-read per file).
    """
    roots = list(roots)
    added = [k for k in dict.fromkeys(map(os.path.realpath, roots)) if k not in _ACTIVE]
    for key in added:
        _ACTIVE[key] = prepared_model(key)
    try:
        yield {k: _ACTIVE[k] for k in map(os.path.realpath, roots)}
    finally:
        for key in added:
            _ACTIVE.pop(key, None)


def ensure_model(root: str | os.PathLike[str]) -> None:
    """Build and register the crate model of ``root`` for the rest of this process, unless
    one is registered: what a pool worker does for the checkouts it is given, its pool living
    no longer than the extraction (so no model outlives the checkout it read)."""
    key = os.path.realpath(root)
    if key not in _ACTIVE:
        _ACTIVE[key] = prepared_model(key)


def prepared_model(root: str) -> CrateModel:
    """The crate model of the checkout at ``root``, public namespaces computed."""
    model = CrateModel(root)
    model.prepare()
    return model


def _model_for(root: Path | str, rel: str) -> CrateModel | None:
    model = _ACTIVE.get(os.path.realpath(root))
    if model is None and has_manifest_above(root, rel):
        model = CrateModel(root)
    return model


def _guess(root: Path | str | None, rel: PurePosixPath, model: CrateModel | None) -> str:
    """The module path from directories alone (a file no target reads, or no checkout)."""
    found = None
    if model is not None:
        pkg = model.package_for(rel.as_posix())
        found = (PurePosixPath(pkg[0]), pkg[1]) if pkg else None
    elif root is not None:
        found = _find_crate(Path(root), rel)
    if found is None and root is not None and "src" in rel.parts[:-1]:
        # no package above (its manifest unreadable): the directory holding `src` is the crate
        at = len(rel.parts) - 2 - rel.parts[-2::-1].index("src")
        found = (PurePosixPath(*rel.parts[:at]), rel.parts[at - 1] if at else "crate")
    if found is not None:
        crate_dir, crate = found
        return module_path_for(rel.relative_to(crate_dir), crate)
    return "::".join(p.replace("-", "_") for p in (*rel.parts[:-1], rel.stem))


def context_for(
    root: Path | str | None,
    rel_path: str,
    *,
    repo: str,
    commit: str,
    license: str,
    read_includes: bool = True,
    model: CrateModel | None = None,
) -> FileContext:
    """Build the FileContext for ``rel_path`` inside the repository checked out at ``root``."""
    rel = PurePosixPath(rel_path)
    if model is None and root is not None:
        model = _model_for(root, rel_path)
    fc = model.file(rel.as_posix()) if model is not None else None
    ns = model.namespace(fc.tree) if fc is not None and model is not None else None
    return FileContext(
        repo=repo,
        commit=commit,
        license=license,
        module_path=fc.module_path if fc is not None else _guess(root, rel, model),
        test_reason=test_reason_for_path(rel),
        root=str(root) if (root is not None and read_includes) else None,
        crate_name=fc.crate_name if fc is not None else "",
        target_kind=fc.target_kind if fc is not None else None,
        crate=fc,
        namespace=ns if fc is not None and fc.target_kind == "lib" else None,
    )
