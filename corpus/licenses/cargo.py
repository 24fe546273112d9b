"""The licence fields of a repository's Cargo manifests: ``license`` and ``license-file`` of
every ``[package]``, with ``license.workspace = true`` taken from ``[workspace.package]``.

Every ``Cargo.toml`` in the tree that has a ``[package]`` table is a package; its folder owns
the files under it down to the next package (the nearest Cargo.toml, as Cargo resolves a
file's package). A package inheriting its licence reads it from the nearest manifest at or
above it with a ``[workspace]`` table, as Cargo finds a workspace root. A manifest that cannot
be read or parsed is a *problem* (noted, never a crash); its folder then belongs to the
package above it.
"""

from __future__ import annotations

import posixpath
import tomllib
from dataclasses import dataclass
from typing import Any

from corpus.licenses.tree import Tree, TreeReadError

MANIFEST = "Cargo.toml"
#: A manifest larger than this is not read (a problem, like an unparseable one).
MAX_MANIFEST_BYTES = 1 << 20
#: Manifests read per repository at most (tokio has 15, syn 16).
MAX_MANIFESTS = 2000


@dataclass(frozen=True)
class Manifest:
    """What one Cargo.toml says about licences."""

    path: str
    package: str | None  # the package name; None when it has no [package] table
    license: str | None  # the package's own ``license`` (None: not set)
    license_file: str | None  # the package's own ``license-file``
    inherits_license: bool  # ``license.workspace = true``
    inherits_license_file: bool
    workspace: bool  # has a [workspace] table
    workspace_license: str | None  # ``[workspace.package] license``
    workspace_license_file: str | None

    @property
    def dir(self) -> str:
        """The folder of the manifest (``""`` at the repository root)."""
        return posixpath.dirname(self.path)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _inherits(value: Any) -> bool:
    return isinstance(value, dict) and value.get("workspace") is True


def parse_manifest(path: str, data: bytes) -> Manifest:
    """The licence fields of the manifest ``path``; ValueError when it is not valid TOML."""
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as exc:
        raise ValueError(f"{path}: not a readable Cargo.toml ({type(exc).__name__})") from exc
    pkg = doc.get("package")
    ws = doc.get("workspace")
    ws_pkg = ws.get("package") if isinstance(ws, dict) else None
    ws_pkg = ws_pkg if isinstance(ws_pkg, dict) else {}
    pkg = pkg if isinstance(pkg, dict) else None
    return Manifest(
        path=path,
        package=(_text(pkg.get("name")) or "?") if pkg is not None else None,
        license=_text(pkg.get("license")) if pkg else None,
        license_file=_text(pkg.get("license-file")) if pkg else None,
        inherits_license=_inherits(pkg.get("license")) if pkg else False,
        inherits_license_file=_inherits(pkg.get("license-file")) if pkg else False,
        workspace=isinstance(ws, dict),
        workspace_license=_text(ws_pkg.get("license")),
        workspace_license_file=_text(ws_pkg.get("license-file")),
    )


def read_manifests(tree: Tree, paths: list[str]) -> tuple[list[Manifest], list[str]]:
    """(every readable manifest in ``paths``, the problems met), manifests by path."""
    manifests: list[Manifest] = []
    problems: list[str] = []
    names = [p for p in paths if posixpath.basename(p) == MANIFEST]
    if len(names) > MAX_MANIFESTS:
        problems.append(f"{len(names)} Cargo.toml files; only the first {MAX_MANIFESTS} read")
        names = names[:MAX_MANIFESTS]
    for path in names:
        try:
            manifests.append(parse_manifest(path, tree.read(path, MAX_MANIFEST_BYTES)))
        except TreeReadError as exc:
            problems.append(f"{path}: not read ({exc.code})")
        except ValueError as exc:
            problems.append(str(exc))
    return manifests, problems


def workspace_root(manifest: Manifest, by_dir: dict[str, Manifest]) -> Manifest | None:
    """The nearest manifest at or above ``manifest`` that has a ``[workspace]`` table."""
    d = manifest.dir
    while True:
        m = by_dir.get(d)
        if m is not None and m.workspace:
            return m
        if not d:
            return None
        d = posixpath.dirname(d)


def package_license(m: Manifest, by_dir: dict[str, Manifest]) -> tuple[str | None, str | None, str]:
    """(licence, licence file, where from) of a package: its own fields, else the workspace's
    when it inherits them (``own``, ``workspace``; ``none`` when neither is set). The licence
    file is relative to the manifest that states it, returned relative to the repository."""
    ws = workspace_root(m, by_dir) if (m.inherits_license or m.inherits_license_file) else None
    lic, source = m.license, "own" if m.license is not None else "none"
    if lic is None and m.inherits_license and ws is not None and ws.workspace_license:
        lic, source = ws.workspace_license, "workspace"
    lfile = _join(m.dir, m.license_file) if m.license_file else None
    if lfile is None and m.inherits_license_file and ws is not None and ws.workspace_license_file:
        lfile = _join(ws.dir, ws.workspace_license_file)
    return lic, lfile, source


def _join(base: str, rel: str) -> str:
    """``rel`` (as written in a manifest) relative to the repository; may start with ``..``
    when it points outside (the caller refuses it)."""
    if rel.startswith("/"):
        return "/" + rel.lstrip("/")  # absolute: refused by the reader
    return posixpath.normpath(posixpath.join(base, rel)) if base or rel else rel
