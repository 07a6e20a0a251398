"""Text from outside made storable: no NUL, no other control character but tab and line breaks, and no lone
surrogate (half of a UTF-16 pair, which no UTF-8 database can store; PostgreSQL refuses NUL as well)."""

from __future__ import annotations

import re

_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``text`` without the characters a database cannot store or a person cannot see."""
    return _UNSTORABLE.sub("", text)
