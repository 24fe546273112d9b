"""Text helpers shared by the prompt, the CLI and the TUI (no dependencies)."""

from __future__ import annotations


def dedent_item(source: str) -> str:
    """An item's source as it reads at its own indentation.

    The span starts at the item's first token, mid-line, so its first line has no indentation
    while the others keep the file's; the last line (the closing `}` or the whole item) sits at
    the item's column, so that is what comes off the other lines.
    """
    lines = source.split("\n")
    if len(lines) < 2:
        return source
    last = lines[-1]
    col = len(last) - len(last.lstrip(" \t"))
    if any(ln.strip() and not ln[:col].isspace() for ln in lines[1:] if col):
        return source  # something sits left of the item's column: show it as it is
    return "\n".join([lines[0], *(ln[col:] for ln in lines[1:])])


#: Bidirectional-override and isolate characters ("Trojan Source"): they reorder what is shown.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _visible(ch: str) -> str:
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # U+2400 block: ␀ ... ␛ (ESC) ... ␟
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{code:04X}>"  # C1 controls and bidi overrides have no picture of their own


def _is_control(ch: str) -> bool:
    code = ord(ch)
    return code < 0x20 or 0x7F <= code <= 0x9F or ch in _BIDI


def has_controls(text: str, keep: str = "\n\t") -> bool:
    """Whether ``text`` holds a control character (C0, DEL, C1) or a bidi override other
    than those in ``keep``: what no published text may carry (filter ``control_characters``)."""
    if text.isprintable() and not _BIDI.intersection(text):
        return False
    return any(ch not in keep and _is_control(ch) for ch in text)


def show_controls(text: str, keep: str = "\n\t") -> str:
    """``text`` with every control character drawn as a visible symbol, ready to display.

    C0 controls become their Unicode control pictures (ESC is ``␛``, NUL ``␀``, CR ``␍``), DEL
    is ``␡``, C1 controls (U+0080-U+009F, e.g. the one-byte CSI) and bidi overrides are written
    ``<U+XXXX>``. The characters in ``keep`` (newline and tab by default) stay as they are.
    Corpus text is shown through this everywhere, so that a doc can never move the cursor,
    recolour the terminal or reorder what the reader sees.
    """
    if text.isprintable() and not _BIDI.intersection(text):
        return text  # the common case: nothing to replace (isprintable is false for \n and \t)
    return "".join(_visible(ch) if ch not in keep and _is_control(ch) else ch for ch in text)
