"""Values of Rust string literals (escapes, raw strings, line continuations)."""

from __future__ import annotations

import re

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "0": "\0", "'": "'", '"': '"'}
_ESC_RE = re.compile(r"\\(x[0-9a-fA-F]{2}|u\{[0-9a-fA-F_]{1,8}\}|\n[ \t\n\r]*|\r\n[ \t\n\r]*|.)")
_RAW_RE = re.compile(r'^r(#*)"(.*)"\1$', re.S)


class InvalidEscape(ValueError):
    """An escape rustc rejects (a code point past U+10FFFF, a surrogate, \\x above 7F)."""


def unescape_rust_string(body: str) -> str:
    """The value of a Rust (non-raw) string literal body, escapes and line continuations applied.

    Raises ``InvalidEscape`` for escapes rustc rejects in a string literal.
    """

    def sub(m: re.Match[str]) -> str:
        e = m.group(1)
        if e[0] in "\r\n":
            return ""  # `\` at end of line skips the newline and leading whitespace
        if e[0] == "x":
            code = int(e[1:], 16)
            if code > 0x7F:
                raise InvalidEscape(f"\\{e}: only \\x00-\\x7F in a str literal")
            return chr(code)
        if e[0] == "u":
            code = int(e[2:-1].replace("_", ""), 16)
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise InvalidEscape(f"\\{e}: not a Unicode scalar value")
            return chr(code)
        return _ESCAPES.get(e, "\\" + e)

    return _ESC_RE.sub(sub, body.replace("\r\n", "\n"))


def rust_string_value(literal: str) -> str | None:
    """The value of a `"..."` or `r#"..."#` literal's source text; None for other literals
    and for literals rustc would reject."""
    if literal.startswith("r"):
        m = _RAW_RE.match(literal)
        return m.group(2).replace("\r\n", "\n") if m else None
    if len(literal) >= 2 and literal[0] == '"' and literal[-1] == '"':
        try:
            return unescape_rust_string(literal[1:-1])
        except InvalidEscape:
            return None  # not a valid literal: callers treat the doc as unresolved
    return None
