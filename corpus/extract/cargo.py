"""Cargo's packages, workspaces and targets, read from the checkout's Cargo.toml files alone.

A pure-Python model of cargo's ``core/workspace.rs`` (members, globs, ``exclude``, path
dependencies) and ``util/toml/targets.rs`` (auto-discovery, naming, path inference), as of
cargo 1.95; on the seven repositories it reproduces ``cargo metadata --no-deps`` exactly
(tests/test_extract_cargo.py compares the two on fixtures). Manifests are parsed with
``tomllib`` only, never run; a malformed manifest, a missing target file or a value of the
wrong type is a finding, and the rest of the checkout is still read.

Target rules (each relative to the package directory):

- lib: ``[lib] path``, else ``src/lib.rs``; named ``[lib] name``, else the package name with
  ``-`` as ``_``; ``proc-macro = true`` makes it a proc-macro;
- bins: ``src/main.rs`` (named after the package), ``src/bin/*.rs``, ``src/bin/<d>/main.rs``;
  examples, tests and benches: ``examples/``, ``tests/``, ``benches/``, each ``*.rs`` or
  ``<d>/main.rs`` one level down; dot-files are skipped;
- a declared ``[[bin]]`` (``[[example]]``, ...) without ``path`` takes the discovered file of
  its name; discovered targets are added unless a declared one has their name or path, or
  ``autobins = false`` (...) is set, or (edition 2015) any target of that kind is declared;
- the build script: ``build = "path"``, else ``build.rs``; ``build = false`` has none.

The rustc crate name (what ``crate::`` names, the first segment of a path) is the target name
with ``-`` as ``_``; a build script's is ``build_script_<stem>``.
"""

from __future__ import annotations

import fnmatch
import posixpath
import tomllib
from dataclasses import dataclass, field
from typing import Any

from corpus.extract.checkout import Checkout, normalize
from corpus.schema import TARGET_KINDS  # also the order a shared file is attributed in

__all__ = ["TARGET_KINDS", "CargoLayout", "Package", "Target", "read_layout"]
_DIRS = {"bin": "src/bin", "example": "examples", "test": "tests", "bench": "benches"}
_AUTO = {"bin": "autobins", "example": "autoexamples", "test": "autotests", "bench": "autobenches"}
_DEP_TABLES = ("dependencies", "dev-dependencies", "dev_dependencies", "build-dependencies",
               "build_dependencies")  # fmt: skip


@dataclass(frozen=True)
class Target:
    """One Cargo target: a crate rustc compiles."""

    kind: str  # one of TARGET_KINDS
    name: str  # cargo's target name (dashes kept for bins, examples, tests, benches)
    crate_name: str  # rustc --crate-name
    root: str  # the crate root file, relative to the checkout
    package: str
    package_dir: str
    edition: str


@dataclass
class Package:
    """A ``[package]`` manifest and its targets."""

    name: str
    dir: str
    manifest: dict[str, Any]
    edition: str = "2015"
    targets: list[Target] = field(default_factory=list)


@dataclass
class CargoLayout:
    """Every package of a checkout, its workspaces, and what could not be read."""

    packages: list[Package] = field(default_factory=list)
    workspaces: dict[str, list[str]] = field(default_factory=dict)  # root dir -> member dirs
    findings: list[str] = field(default_factory=list)

    @property
    def targets(self) -> list[Target]:
        """All targets of all packages, in package then declaration order."""
        return [t for p in self.packages for t in p.targets]


def _manifests(co: Checkout, findings: list[str]) -> dict[str, dict[str, Any]]:
    """dir -> parsed Cargo.toml, for every Cargo.toml in the checkout."""
    out: dict[str, dict[str, Any]] = {}
    for rel in sorted(f for f in co.files if posixpath.basename(f) == "Cargo.toml"):
        text = co.read_text(rel)
        try:
            data = tomllib.loads(text) if text is not None else None
        except tomllib.TOMLDecodeError as exc:
            findings.append(f"{rel}: not valid TOML ({exc})")
            continue
        if data is None:
            findings.append(f"{rel}: unreadable")
            continue
        out[posixpath.dirname(rel)] = data
    return out


def _table(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _tables(value: Any) -> list[dict[str, Any]]:
    return [t for t in value if isinstance(t, dict)] if isinstance(value, list) else []


def _workspace_root(pkg_dir: str, manifests: dict[str, dict[str, Any]]) -> str | None:
    """The directory of the workspace a package belongs to (its own, or the nearest above)."""
    explicit = _table(manifests[pkg_dir].get("package")).get("workspace")
    if isinstance(explicit, str):
        d = normalize(posixpath.join(pkg_dir, explicit))
        return d if d is not None and "workspace" in manifests.get(d, {}) else None
    d: str | None = pkg_dir
    while d is not None:
        if "workspace" in manifests.get(d, {}):
            return d
        d = None if d == "" else posixpath.dirname(d)
    return None


def _inherit(pkg: dict[str, Any], key: str, ws: dict[str, Any], default: Any) -> Any:
    value = pkg.get(key, default)
    if isinstance(value, dict) and value.get("workspace") is True:
        return _table(_table(ws.get("workspace")).get("package")).get(key, default)
    return value


def read_layout(co: Checkout) -> CargoLayout:
    """Packages, targets and workspaces of the checkout ``co``."""
    layout = CargoLayout()
    manifests = _manifests(co, layout.findings)
    for d, data in manifests.items():
        pkg = data.get("package")
        if pkg is None:
            continue
        if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str):
            layout.findings.append(f"{posixpath.join(d, 'Cargo.toml')}: [package] has no name")
            continue
        ws_dir = _workspace_root(d, manifests)
        ws = manifests.get(ws_dir, {}) if ws_dir is not None else {}
        edition = str(_inherit(pkg, "edition", ws, "2015"))
        package = Package(pkg["name"], d, data, edition)
        package.targets = _package_targets(co, package, layout.findings)
        layout.packages.append(package)
    for d, data in manifests.items():
        if "workspace" in data:
            layout.workspaces[d] = workspace_members(d, manifests)
        elif "package" in data and _workspace_root(d, manifests) is None:
            layout.workspaces[d] = [d]  # a package with no workspace above is its own
    return layout


# --------------------------------------------------------------------------- workspaces
def _under(path: str, prefix: str) -> bool:
    return prefix == "" or path == prefix or path.startswith(prefix + "/")


def _glob_dirs(root: str, pattern: str, manifests: dict[str, dict[str, Any]]) -> list[str]:
    """Directories holding a manifest that match the ``members`` entry ``pattern`` (cargo
    refuses a matched directory without one; here it is skipped)."""
    full = normalize(posixpath.join(root, pattern))
    if full is None:
        return []
    if not any(c in pattern for c in "*?["):
        return [full]
    depth = full.count("/")
    return sorted(d for d in manifests if d.count("/") == depth and fnmatch.fnmatchcase(d, full))


def _path_deps(data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    tables = [_table(data.get(k)) for k in _DEP_TABLES]
    for spec in _table(data.get("target")).values():
        tables.extend(_table(_table(spec).get(k)) for k in _DEP_TABLES)
    return [(n, s) for t in tables for n, s in t.items() if isinstance(s, dict)]


def workspace_members(root: str, manifests: dict[str, dict[str, Any]]) -> list[str]:
    """Member package directories of the workspace at ``root``, in cargo's discovery order."""
    ws = _table(manifests[root].get("workspace"))
    members_decl = _strings(ws.get("members"))
    exclude = _strings(ws.get("exclude"))
    wsdeps = _table(ws.get("dependencies"))
    members: list[str] = []

    def excluded(d: str) -> bool:
        hit = any(_under(d, normalize(posixpath.join(root, e)) or "") for e in exclude)
        return hit and not any(
            _under(d, normalize(posixpath.join(root, m)) or "") for m in members_decl
        )

    def add(d: str, is_path_dep: bool) -> None:
        data = manifests.get(d)
        if d in members or data is None or (is_path_dep and not _under(d, root)):
            return
        if d != root and (excluded(d) or (is_path_dep and "workspace" in data)):
            return
        members.append(d)
        for name, spec in _path_deps(data) if "package" in data else ():
            base = d
            if spec.get("workspace") is True:
                spec, base = _table(wsdeps.get(name)), root
            if isinstance(spec.get("path"), str):
                dep = normalize(posixpath.join(base, spec["path"]))
                if dep is not None:
                    add(dep, True)

    if "package" in manifests[root]:
        add(root, False)
    for m in members_decl:
        for d in _glob_dirs(root, m, manifests):
            add(d, False)
    return members


# --------------------------------------------------------------------------- targets
def _discovered(co: Checkout, pkg_dir: str, rel_dir: str) -> list[tuple[str, str]]:
    """(name, path) of ``*.rs`` and ``<d>/main.rs`` one level inside ``rel_dir``."""
    base = posixpath.join(pkg_dir, rel_dir) if pkg_dir else rel_dir
    out = []
    for e in co.listdir(base):
        if e.startswith("."):
            continue
        if e.endswith(".rs") and posixpath.join(base, e) in co.files:
            out.append((e[:-3], posixpath.join(rel_dir, e)))
        elif co.is_dir(posixpath.join(base, e)) and posixpath.join(base, e, "main.rs") in co.files:
            out.append((e, posixpath.join(rel_dir, e, "main.rs")))
    return out


def _target(
    co: Checkout, package: Package, kind: str, name: str, path: str, crate: str | None = None
) -> Target:
    full = normalize(posixpath.join(package.dir, path)) or path
    root = co.resolve(full) or full  # canonical: files are known by their real path
    return Target(kind, name, crate or name.replace("-", "_"), root, package.name, package.dir,
                  package.edition)  # fmt: skip


def _lib_target(co: Checkout, package: Package, findings: list[str]) -> list[Target]:
    man, pkg = package.manifest, _table(package.manifest.get("package"))
    lib = man.get("lib")
    if lib is not None and not isinstance(lib, dict):
        findings.append(f"{package.dir or '.'}/Cargo.toml: [lib] is not a table")
        return []
    has_auto = pkg.get("autolib", True) is not False and _exists(co, package, "src/lib.rs")
    if lib is None and not has_auto:
        return []
    lib = lib or {}
    path = lib.get("path", "src/lib.rs")
    name = lib.get("name", package.name.replace("-", "_"))
    if not isinstance(path, str) or not isinstance(name, str) or not _exists(co, package, path):
        findings.append(f"{package.dir or '.'}/Cargo.toml: [lib] has no readable file")
        return []
    kind = "proc-macro" if lib.get("proc-macro") or lib.get("proc_macro") else "lib"
    return [_target(co, package, kind, name, path)]


def _exists(co: Checkout, package: Package, path: str) -> bool:
    full = normalize(posixpath.join(package.dir, path))
    return full is not None and co.resolve(full) is not None


def _kind_targets(co: Checkout, package: Package, kind: str, findings: list[str]) -> list[Target]:
    """The bin (example, test, bench) targets: declared, then discovered ones not shadowed."""
    man, pkg = package.manifest, _table(package.manifest.get("package"))
    found = _discovered(co, package.dir, _DIRS[kind])
    if kind == "bin" and _exists(co, package, "src/main.rs"):
        found = [(package.name, "src/main.rs"), *found]
    declared = _tables(man.get(kind))
    auto = pkg.get(_AUTO[kind])
    if auto is None:
        auto = not declared or package.edition != "2015"
    chosen: list[tuple[str, str | None]] = []
    for t in declared:
        name, path = t.get("name"), t.get("path")
        if not isinstance(name, str) or (path is not None and not isinstance(path, str)):
            findings.append(f"{package.dir or '.'}/Cargo.toml: a [[{kind}]] without a name")
            continue
        chosen.append((name, path))
    if auto is not False:
        names = {n for n, _ in chosen}
        paths = {normalize(p) for _, p in chosen if p is not None}
        chosen += [(n, p) for n, p in found if n not in names and normalize(p) not in paths]
    out = []
    for name, path in chosen:
        if path is None:
            matches = [p for n, p in found if n == name]
            if len(matches) != 1:
                findings.append(f"{package.dir or '.'}/Cargo.toml: [[{kind}]] {name}: no file")
                continue
            path = matches[0]
        if _exists(co, package, path):
            out.append(_target(co, package, kind, name, path))
        else:
            findings.append(f"{package.dir or '.'}/Cargo.toml: [[{kind}]] {name}: no {path}")
    return out


def _build_target(co: Checkout, package: Package) -> list[Target]:
    build = _table(package.manifest.get("package")).get("build")
    if build is None:
        build = "build.rs" if _exists(co, package, "build.rs") else False
    if not isinstance(build, str) or not _exists(co, package, build):
        return []
    stem = posixpath.splitext(posixpath.basename(build))[0]
    name = f"build-script-{stem}"
    return [_target(co, package, "build-script", name, build, name.replace("-", "_"))]


def _package_targets(co: Checkout, package: Package, findings: list[str]) -> list[Target]:
    targets = _lib_target(co, package, findings)
    for kind in ("bin", "example", "test", "bench"):
        targets += _kind_targets(co, package, kind, findings)
    return targets + _build_target(co, package)
