"""One-line text: a name, a ZIP or a source typed by the public stays one line wherever we print it.

A CR or LF (or any other line separator Python's str.splitlines knows: VT, FF, FS, GS, RS,
NEL, U+2028, U+2029) inside a field would otherwise start a new log line ("CRITICAL ...")
or a new line in a producer's text message. Tabs become spaces too.
"""
from __future__ import annotations

import re

_BREAKS = re.compile(r"[\r\n\t\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]+")


def one_line(text: str) -> str:
    """`text` with every run of line breaks or tabs turned into one space, and no surrounding space."""
    if not text:
        return text
    return _BREAKS.sub(" ", text).strip()


def escape_breaks(text: str) -> str:
    """Line breaks shown as \\n, \\r (for log lines: a record stays one line, and a reader sees the trick)."""
    return _BREAKS.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)
