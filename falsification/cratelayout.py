"""An independent reader of a repository's crate layout at a pinned commit, from its git blobs.

It shares no code with the extractor's Cargo model (``corpus.extract.cargo``/``modtree``/
``public``): targets are found generously from each ``[package]`` manifest (every declared
target and every conventional file, whatever ``autobins`` and the like say), and modules by
regular expressions over comment-stripped text, not by scanning tokens. With that it checks a
record's paths segment by segment:

- ``def_path``: its first segment is the record's ``crate_name``; from a root file of a target of
  that name and ``target_kind``, each next segment is a ``mod`` the current file declares (out of
  line: the file it loads, by rustc's rules, ``#[path]`` included; inline: the same file), until
  the record's own file, where the rest are items it declares (a type, a trait, an
  ``impl Trait for Type``, a fn) and the last is the fn itself;
- ``public_path``: a library's; each module segment is a ``pub mod`` of the current file or a
  name a ``pub use`` binds (after a re-export, of any file of the crate), the type is a ``pub``
  type or a re-exported name, the last is the fn (or a name a re-export, or a derive, gives it);
- a record no target reads (``target_kind`` null): no target of its package reads the file, and
  no segment is a ``src`` or ``crates`` directory of its path.
"""

from __future__ import annotations

import posixpath
import re
import tomllib
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

#: Literals are kept (a "/*" in a string is no comment), comments become a space. Every
#: branch starts with a literal character, so the engine skips to the next such character.
_COMMENT_RE = re.compile(
    r"""r(?P<h>#+)".*?"(?P=h)|"(?:[^"\\]|\\.)*"|'(?:[^'\\\n]|\\.)'"""
    r"|//[^\n]*|/\*.*?\*/",
    re.S,
)
_MOD_RE = re.compile(r"mod(?<!\wmod)\s+(?:r#)?(?P<name>[A-Za-z_]\w*)\s*(?P<end>[;{])")
#: what precedes a `mod`: its attributes, then its visibility
_MOD_PREFIX_RE = re.compile(r"(?P<attrs>(?:#\[[^\]]*\]\s*)*)(?P<pub>\bpub(?:\s*\([^)]*\))?\s+)?$")
_ATTR_PATH_RE = re.compile(r'\bpath\s*=\s*"([^"]+)"')
_PUB_TYPE_RE = re.compile(
    r"pub(?<!\wpub)\s+(?:unsafe\s+|auto\s+)*(?:struct|enum|union|trait|type)\s+(?:r#)?([A-Za-z_]\w*)"
)
_PUB_USE_RE = re.compile(r"pub(?<!\wpub)\s+use\s+([^;]*);")
_INCLUDE_RE = re.compile(r'include!(?<!\winclude!)\s*\(\s*"([^"]+)"\s*\)')
_AUTOMOD_RE = re.compile(r'automod::dir!(?<!\wautomod::dir!)\s*\(\s*"([^"]+)"')
#: the `!` of a macro invocation, found first (a pattern that starts with an identifier is tried
#: at every position); the name is the word that ends there
_BANG_RE = re.compile(r"!\s*[({\[]")
_WORD_CHAR_RE = re.compile(r"\w")
_ITEM_RE = re.compile(
    r"(?:struct(?<!\wstruct)|enum(?<!\wenum)|union(?<!\wunion)|trait(?<!\wtrait)"
    r"|type(?<!\wtype)|fn(?<!\wfn)|mod(?<!\wmod))\s+(?:r#)?([A-Za-z_]\w*)"
)
_FN_RE = re.compile(r"fn(?<!\wfn)\s+(?:r#)?([A-Za-z_]\w*)")
_IMPL_RE = re.compile(
    r"impl(?<!\wimpl)\b(?:\s*<[^{;]*?>)?\s*(?:[A-Za-z_]\w*::)*(?:r#)?([A-Za-z_]\w*)"
)
_MACRO_RULES_RE = re.compile(r"macro_rules!(?<!\wmacro_rules!)\s*([A-Za-z_]\w*)\s*\{")
_DERIVE_RE = re.compile(r"proc_macro_derive\s*\(\s*(?:r#)?([A-Za-z_]\w*)")
_KINDS = {"bin": "src/bin", "example": "examples", "test": "tests", "bench": "benches"}
_AUTO = {"bin": "autobins", "example": "autoexamples", "test": "autotests", "bench": "autobenches"}
_NON_MODULE_DIRS = frozenset({"src", "crates"})


def _norm(path: str) -> str | None:
    out: list[str] = []
    for part in path.split("/"):
        if part == "..":
            if not out:
                return None
            out.pop()
        elif part not in ("", "."):
            out.append(part)
    return "/".join(out)


def _uncomment(m: re.Match[str]) -> str:
    text = m.group()
    return " " if text[0] == "/" else text


def _braced(text: str, start: int) -> str:
    """The text up to the `}` that closes the brace opened just before ``start``."""
    depth, i = 1, start
    for m in re.finditer(r"[{}]", text[start:]):
        depth += 1 if m.group() == "{" else -1
        if depth == 0:
            i = start + m.start()
            break
    return text[start:i]


def _invoked(text: str) -> set[str]:
    """The names of the macros ``text`` invokes: every word (``\\w+``) right before a
    ``!`` that a bracket follows."""
    out: set[str] = set()
    is_word = _WORD_CHAR_RE.match
    for m in _BANG_RE.finditer(text):
        end = start = m.start()
        while start > 0 and is_word(text[start - 1]):
            start -= 1
        if start < end:
            out.add(text[start:end])
    return out


def _nospace(text: str) -> str:
    return re.sub(r"\s+", "", text)


@dataclass
class FileFacts:
    """What one file declares, read with regular expressions."""

    text: str
    mods: dict[str, list[tuple[tuple[str, ...], bool, bool]]] = field(default_factory=dict)
    pub_types: set[str] = field(default_factory=set)
    pub_use_names: set[str] = field(default_factory=set)
    pub_glob: bool = False
    includes: list[str] = field(default_factory=list)
    automods: list[str] = field(default_factory=list)
    invoked: set[str] = field(default_factory=set)  # names of the macros the file invokes
    names: set[str] = field(default_factory=set)  # declared items, modules, impl self types
    fns: set[str] = field(default_factory=set)
    macros: dict[str, list[str]] = field(default_factory=dict)  # macro_rules! name -> bodies

    @classmethod
    def read(cls, raw: bytes) -> FileFacts:
        """The facts of a file's bytes."""
        return cls.of_text(_COMMENT_RE.sub(_uncomment, raw.decode("utf-8", "replace")))

    def merge(self, other: FileFacts) -> None:
        """Add what ``other`` (a macro body expanded here) declares."""
        for name, decls in other.mods.items():
            self.mods.setdefault(name, []).extend(decls)
        self.pub_types |= other.pub_types
        self.pub_use_names |= other.pub_use_names
        self.pub_glob = self.pub_glob or other.pub_glob

    @classmethod
    def of_text(cls, text: str) -> FileFacts:
        """The facts of comment-stripped text."""
        facts = cls(text)
        for m in _MOD_RE.finditer(text):
            pre = _MOD_PREFIX_RE.search(text, max(0, m.start() - 400), m.start())
            paths = tuple(_ATTR_PATH_RE.findall(pre.group("attrs"))) if pre else ()
            public = pre is not None and (pre.group("pub") or "").strip() == "pub"
            facts.mods.setdefault(m.group("name"), []).append(
                (paths, public, m.group("end") == "{")
            )
        facts.pub_types = set(_PUB_TYPE_RE.findall(text))
        for m in _PUB_USE_RE.finditer(text):
            tree = m.group(1)
            facts.pub_glob = facts.pub_glob or "*" in tree
            facts.pub_use_names.update(re.findall(r"(?:r#)?([A-Za-z_]\w*)\s*(?=[,}]|$)", tree))
        facts.includes = _INCLUDE_RE.findall(text)
        facts.automods = _AUTOMOD_RE.findall(text)
        facts.invoked = _invoked(text)
        facts.fns = set(_FN_RE.findall(text))
        facts.names = set(_ITEM_RE.findall(text)) | set(_IMPL_RE.findall(text))
        for m in _MACRO_RULES_RE.finditer(text):
            facts.macros.setdefault(m.group(1), []).append(_braced(text, m.end()))
        return facts

    def declares(self, segment: str) -> bool:
        """Whether the file declares ``segment`` as a type, trait, impl, fn or module."""
        if segment.startswith("<") and " as " in segment:
            self_ty, _, trait = segment[1:-1].partition(" as ")
            return f"{_nospace(trait)}for{_nospace(self_ty)}" in self.flat
        return segment.removeprefix("r#") in self.names

    @cached_property
    def flat(self) -> str:
        """The text without whitespace (to find ``Trait for Type`` however it is spaced)."""
        return _nospace(self.text)

    def has_fn(self, name: str) -> bool:
        """Whether ``fn name`` is written in the file."""
        return name in self.fns


@dataclass(frozen=True)
class Root:
    """A crate root file: its target kind, crate name and package directory."""

    kind: str
    crate: str
    file: str
    package_dir: str


def _declared(man: dict[str, Any], kind: str, d: str, pkg: str) -> list[tuple[str, list[str]]]:
    out = []
    for t in man.get(kind, []) if isinstance(man.get(kind), list) else []:
        if not isinstance(t, dict) or not isinstance(t.get("name"), str):
            continue
        n, p = t["name"], t.get("path")
        cands = [p] if isinstance(p, str) else [f"{d}/{n}.rs", f"{d}/{n}/main.rs"]
        if kind == "bin" and not isinstance(p, str) and n == pkg:
            cands.append("src/main.rs")
        out.append((n, cands))
    return out


class CommitLayout:
    """The crates of one repository at one commit, from ``blobs`` (path -> bytes)."""

    def __init__(self, blobs: dict[str, bytes]) -> None:
        self.blobs = blobs
        self._own: dict[str, FileFacts] = {}
        self._facts: dict[str, FileFacts] = {}
        self._reach: dict[Root, set[str]] = {}

    def _own_facts(self, path: str) -> FileFacts:
        if path not in self._own:
            self._own[path] = FileFacts.read(self.blobs[path])
        return self._own[path]

    @cached_property
    def macro_bodies(self) -> dict[str, list[FileFacts]]:
        """macro_rules! name -> what each body declares, over every file of the commit."""
        out: dict[str, list[FileFacts]] = {}
        for path in sorted(self.blobs):
            if path.endswith(".rs") and b"macro_rules!" in self.blobs[path]:
                for name, bodies in self._own_facts(path).macros.items():
                    out.setdefault(name, []).extend(FileFacts.of_text(b) for b in bodies)
        return out

    def facts(self, path: str) -> FileFacts | None:
        """The facts of the file at ``path``, with the bodies of the macros it invokes
        expanded in it (None when there is no such file)."""
        if path not in self.blobs or not path.endswith(".rs"):
            return None
        if path not in self._facts:
            own = self._own_facts(path)
            facts = replace(
                own,
                mods={k: list(v) for k, v in own.mods.items()},
                pub_types=set(own.pub_types),
                pub_use_names=set(own.pub_use_names),
            )
            for name in sorted(own.invoked & set(self.macro_bodies)):
                for body in self.macro_bodies[name]:
                    facts.merge(body)
            self._facts[path] = facts
        return self._facts[path]

    @cached_property
    def roots(self) -> list[Root]:
        """Every crate root of every [package] manifest (generously: see the module doc)."""
        out: list[Root] = []
        for path in sorted(p for p in self.blobs if posixpath.basename(p) == "Cargo.toml"):
            try:
                man = tomllib.loads(self.blobs[path].decode("utf-8", "replace"))
            except tomllib.TOMLDecodeError:
                continue
            pkg = man.get("package")
            if isinstance(pkg, dict) and isinstance(pkg.get("name"), str):
                out += self._package_roots(posixpath.dirname(path), man, pkg)
        return [r for r in out if r.file in self.blobs]

    def _package_roots(self, d: str, man: dict[str, Any], pkg: dict[str, Any]) -> list[Root]:
        name = pkg["name"]
        lib = man.get("lib") if isinstance(man.get("lib"), dict) else {}
        kind = "proc-macro" if lib.get("proc-macro") or lib.get("proc_macro") else "lib"
        found = [(kind, str(lib.get("name", name)), [str(lib.get("path", "src/lib.rs"))])]
        if pkg.get("autobins") is not False:
            found.append(("bin", name, ["src/main.rs"]))
        for k, sub in _KINDS.items():
            found += [(k, n, c) for n, c in _declared(man, k, sub, name)]
            if pkg.get(_AUTO[k]) is False:
                continue  # `autotests = false`: only the declared ones
            prefix = _norm(f"{d}/{sub}") or sub
            for f in self.blobs:
                rest = f[len(prefix) + 1 :] if f.startswith(prefix + "/") else ""
                parts = rest.split("/")
                if len(parts) == 1 and rest.endswith(".rs"):
                    found.append((k, rest[:-3], [f"{sub}/{rest}"]))
                elif len(parts) == 2 and parts[1] == "main.rs":
                    found.append((k, parts[0], [f"{sub}/{rest}"]))
        build = pkg.get("build")
        script = build if isinstance(build, str) else "build.rs"
        stem = posixpath.splitext(posixpath.basename(script))[0]
        found.append(("build-script", f"build_script_{stem}", [script]))
        return [
            Root(k, n.replace("-", "_"), f, d)
            for k, n, cands in found
            for f in (_norm(f"{d}/{c}" if d else c) for c in cands)
            if f is not None
        ]

    def children(self, file: str, child_dir: str, seg: str, root: Root) -> list[tuple[str, str]]:
        """(file, its child directory) that ``mod seg`` declared in ``file`` may name; an inline
        ``mod seg { }`` is (``file``, child_dir/seg)."""
        facts = self.facts(file)
        out: list[tuple[str, str]] = []
        for paths, _pub, inline in facts.mods.get(seg, []) if facts else ():
            if inline:
                out.append((file, f"{child_dir}/{seg}".strip("/")))
                continue
            for p in paths:
                for base in (posixpath.dirname(file), child_dir):
                    f = _norm(f"{base}/{p}")
                    if f:
                        out.append((f, posixpath.dirname(f)))
            for base in (child_dir, posixpath.dirname(root.file)):
                pre = f"{base}/{seg}".strip("/")
                out += [(f"{pre}.rs", pre), (f"{pre}/mod.rs", pre)]
        for lit in facts.automods if facts else ():
            f = _norm(f"{root.package_dir}/{lit}/{seg}.rs")
            if f:
                out.append((f, posixpath.dirname(f)))
        return [(f, c) for f, c in out if f in self.blobs]

    def reach(self, root: Root) -> set[str]:
        """Every file the target at ``root`` may read (all `mod` declarations followed)."""
        if root not in self._reach:
            seen: set[str] = set()
            stack = [(root.file, posixpath.dirname(root.file))]
            while stack:
                f, d = stack.pop()
                if f in seen or len(seen) > 20_000:
                    continue
                seen.add(f)
                facts = self.facts(f)
                for seg in facts.mods if facts else ():
                    stack += self.children(f, d, seg, root)
                for lit in facts.includes if facts else ():
                    g = _norm(f"{posixpath.dirname(f)}/{lit}")
                    if g in self.blobs:
                        stack.append((g, d))
            self._reach[root] = seen
        return self._reach[root]
