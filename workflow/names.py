"""Names and identifiers people type: refuse the characters that hide or reorder text.

A party's or a user's name, a user id, a mediator id, a centre, a proceeding number are
shown on pages, printed in reports and exported to spreadsheets. A control character
(CR/LF splits a log line or a CSV row, a tab shifts a column), a zero-width character
(two ids that look the same are different) or a bidirectional override (the text reads
differently from what is stored: "Trojan Source") would make what a person sees differ
from what was recorded. They are refused, naming the field, the character and the
reason, before anything is written. Every script's letters pass: Cyrillic, the Kazakh
letters (ә ғ қ ң ө ұ ү һ і), Latin with diacritics.
"""

from __future__ import annotations

import re
import unicodedata

from workflow.errors import InvalidField

# C0 and C1 controls (tab, CR and LF included), and DEL.
_CONTROL = "\x00-\x1f\x7f-\x9f"
# Zero-width space, non-joiner, joiner, word joiner, byte-order mark (zero-width no-break).
_ZERO_WIDTH = "\u200b-\u200d\u2060\ufeff"
# Embeddings and overrides (LRE RLE PDF LRO RLO), isolates (LRI RLI FSI PDI), and the
# invisible direction marks (LRM RLM ALM).
_BIDI = "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"
# Line and paragraph separators: line breaks by another name.
_LINE_BREAK = "\u2028\u2029"
_HIDDEN = re.compile(f"[{_CONTROL}{_ZERO_WIDTH}{_BIDI}{_LINE_BREAK}]")
_KINDS = (
    (re.compile(f"[{_CONTROL}]"), "a control character"),
    (re.compile(f"[{_ZERO_WIDTH}]"), "a zero-width character"),
    (re.compile(f"[{_BIDI}]"), "a bidirectional control character"),
    (re.compile(f"[{_LINE_BREAK}]"), "a line break"),
)


def fault(value: str) -> str | None:
    """Why `value` cannot be a name or an identifier, or None when it can."""
    found = _HIDDEN.search(value)
    if found is None:
        return None
    char = found.group()
    kind = next(label for pattern, label in _KINDS if pattern.match(char))
    name = unicodedata.name(char, "")
    shown = f"U+{ord(char):04X}" + (f" {name}" if name else "")
    return f"must not contain {kind} ({shown}, at position {found.start() + 1})"


def check(field: str, value: str) -> None:
    """Refuse `value` for `field` if it holds a hidden or reordering character."""
    reason = fault(value)
    if reason is not None:
        raise InvalidField(field, reason)
