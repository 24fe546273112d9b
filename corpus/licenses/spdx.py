"""SPDX licence expressions, parsed and compared with ``license-expression`` (never by hand).

Untrusted expressions come from Cargo.toml files and sources.toml. They are normalised for the
two spellings Cargo still accepts (the deprecated ``MIT/Apache-2.0`` slash meaning ``OR``, and
lower-case operators), then parsed; ``parse`` raises :class:`ExpressionProblem` with one clear
line for anything else (bad syntax, an id not on the SPDX list, an expression too large to
compare). ``validate()`` is never called: it crashes on some malformed input.

Comparing a declaration with licence *texts* uses licence **families**: a text cannot say
``-only`` or ``-or-later`` (the GPL-3.0 text is the same for both, and the detector names it
with the bare ``GPL-3.0``), so ``GPL-3.0``, ``GPL-3.0-only``, ``GPL-3.0-or-later`` and
``GPL-3.0+`` are one family. ``WITH`` exceptions are dropped for that comparison (a text
detector does not see them); everywhere else they are kept.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Any

from corpus.errors import CorpusError

if TYPE_CHECKING:
    from license_expression import LicenseExpression, Licensing

#: Longest expression accepted, and most licence ids in one, counting repeats (its DNF is
#: compared clause by clause, and ANDs of ORs grow exponentially): a hostile Cargo.toml
#: cannot stall a build.
MAX_EXPRESSION_CHARS = 512
MAX_EXPRESSION_IDS = 16

_SLASH = re.compile(r"\s*/\s*")
_OPERATOR = re.compile(r"(?<![\w.+-])(and|or|with)(?![\w.+-])", re.IGNORECASE)
_FAMILY = re.compile(r"(-only|-or-later|\+)$")
_REF_PREFIXES = ("LicenseRef-", "DocumentRef-")


class ExpressionProblem(CorpusError):
    """An SPDX expression that cannot be used (the message says why, in one line)."""


@cache
def licensing() -> Licensing:
    """The SPDX licensing of license-expression (its bundled SPDX list), built once."""
    from license_expression import get_spdx_licensing

    return get_spdx_licensing()


def normalise(raw: str) -> str:
    """Cargo's lax spellings as strict SPDX: ``/`` -> ``OR``; ``or``/``and``/``with`` upper."""
    text = _SLASH.sub(" OR ", raw.strip())
    return _OPERATOR.sub(lambda m: m.group(1).upper(), text)


def parse(raw: str, *, known_only: bool = True) -> LicenseExpression:
    """The parsed expression of ``raw`` (normalised first); ExpressionProblem if unusable.

    ``known_only``: every id must be on the SPDX list (or a ``LicenseRef-``/``DocumentRef-``).
    """
    from license_expression import ExpressionError

    if not isinstance(raw, str) or not raw.strip():
        raise ExpressionProblem("empty licence expression")
    if len(raw) > MAX_EXPRESSION_CHARS:
        raise ExpressionProblem(f"licence expression longer than {MAX_EXPRESSION_CHARS} chars")
    lic = licensing()
    try:
        expr = lic.parse(normalise(raw))
    except (ExpressionError, RecursionError, ValueError, TypeError) as exc:
        raise ExpressionProblem(f"{raw!r} is not an SPDX expression ({exc})") from exc
    if expr is None:
        raise ExpressionProblem("empty licence expression")
    if len(lic.license_symbols(expr, unique=False)) > MAX_EXPRESSION_IDS:
        raise ExpressionProblem(f"{raw!r} names more than {MAX_EXPRESSION_IDS} licences")
    keys = lic.license_keys(expr, unique=True)
    unknown = [k for k in keys if k not in lic.known_symbols and not k.startswith(_REF_PREFIXES)]
    if unknown and known_only:
        raise ExpressionProblem(f"{raw!r} names ids not on the SPDX list: {', '.join(unknown)}")
    return expr


def canonical(raw: str) -> str:
    """The expression as license-expression writes it (``GPL-2.0+`` -> ``GPL-2.0-or-later``)."""
    return str(parse(raw))


def equivalent(a: str, b: str) -> bool:
    """Whether two expressions mean the same (``A OR B`` == ``B OR A``; slash == OR)."""
    return bool(licensing().is_equivalent(parse(a), parse(b)))


def family(key: str) -> str:
    """The licence family of an id: ``GPL-3.0-or-later`` / ``GPL-3.0-only`` -> ``GPL-3.0``."""
    return _FAMILY.sub("", key)


def _symbols(expr: Any) -> list[Any]:
    return list(licensing().license_symbols(expr, unique=True, decompose=False))


def clauses(expr: LicenseExpression) -> list[frozenset[str]]:
    """The alternatives of ``expr`` (its DNF), each the set of families that must all hold;
    ``WITH`` exceptions are dropped (what a licence text can show is the licence itself)."""
    from license_expression import LicenseWithExceptionSymbol

    lic = licensing()
    dnf = lic.dnf(expr)
    alternatives = dnf.args if isinstance(dnf, lic.OR) else (dnf,)
    out: list[frozenset[str]] = []
    for alt in alternatives:
        syms = _symbols(alt)
        keys = {
            (s.license_symbol if isinstance(s, LicenseWithExceptionSymbol) else s).key for s in syms
        }
        clause = frozenset(family(k) for k in keys)
        if clause not in out:
            out.append(clause)
    return out


def license_ids(raw: str, *, known_only: bool = True) -> list[str]:
    """The licence ids of an expression, exceptions left out (``A WITH E OR B`` -> [A, B]),
    in order of appearance; canonical ids (``GPL-2.0+`` -> ``GPL-2.0-or-later``)."""
    from license_expression import LicenseWithExceptionSymbol

    ids: list[str] = []
    for s in _symbols(parse(raw, known_only=known_only)):
        key = (s.license_symbol if isinstance(s, LicenseWithExceptionSymbol) else s).key
        if key not in ids:
            ids.append(key)
    return ids


def exceptions(raw: str) -> list[str]:
    """The ``WITH`` exceptions of an expression (``Apache-2.0 WITH LLVM-exception`` ->
    [LLVM-exception])."""
    from license_expression import LicenseWithExceptionSymbol

    return sorted(
        {
            s.exception_symbol.key
            for s in _symbols(parse(raw))
            if isinstance(s, LicenseWithExceptionSymbol)
        }
    )


def satisfied_by(raw: str, allowed: frozenset[str], allowed_exceptions: frozenset[str]) -> bool:
    """Whether some alternative of ``raw`` uses only ``allowed`` licences (and exceptions):
    every id allowed under AND, one allowed side under OR. False for an unusable expression."""
    from license_expression import LicenseWithExceptionSymbol

    try:
        expr = parse(raw)
    except ExpressionProblem:
        return False
    lic = licensing()
    dnf = lic.dnf(expr)
    for alt in dnf.args if isinstance(dnf, lic.OR) else (dnf,):
        ok = True
        for s in _symbols(alt):
            if isinstance(s, LicenseWithExceptionSymbol):
                ok &= s.license_symbol.key in allowed and s.exception_symbol.key in (
                    allowed_exceptions
                )
            else:
                ok &= s.key in allowed
        if ok:
            return True
    return False
