"""Text that applications supply and people read: no terminal controls, no reordering.

An application's message, details or name end up on a terminal (the CLI authenticator) and on
screens. C0/C1 control characters drive terminals (ESC sequences move the cursor, rewrite what
is shown, set the window title) and bidirectional overrides make text read differently from
what it is ("Trojan Source"). The provider strips them from what it stores; the CLI escapes
anything left, whatever its source, before printing.
"""

from __future__ import annotations

import re

# C0 controls and DEL, C1 controls, bidi marks, embeddings, overrides and isolates.
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
WHITESPACE = re.compile("[\t\n\r\x0b\x0c]")


def clean(text: str) -> str:
    """``text`` without control characters or bidi overrides; line breaks become spaces."""
    return UNSAFE.sub("", WHITESPACE.sub(" ", text))


def clean_map(values: dict[str, str]) -> dict[str, str]:
    """Both labels and values of a details object, cleaned."""
    return {clean(key): clean(value) for key, value in values.items()}


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: object) -> str:
    """``text`` for printing on a terminal: every control or bidi character shown escaped."""
    return UNSAFE.sub(_escaped, str(text))
