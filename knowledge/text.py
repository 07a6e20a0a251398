"""Text normalisation shared by ingest and queries: 繁→简, full-width → half-width, whitespace."""

from __future__ import annotations

import re
from functools import lru_cache

_CHINESE = re.compile(r"[\u3400-\u9fff]")
_WHITESPACE = re.compile(r"[ \t\r\f\v\u3000\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
# A space after Chinese punctuation before more Chinese: a line break that YAML folded ("能力，\n并已" →
# "能力， 并已"). Spaces between words ("住房城乡建设部 财政部") stay.
_SPACE_AFTER_PUNCTUATION = re.compile(r"(?<=[，。；：、！？）])[ ]+(?=[\u4e00-\u9fff（《“])")
# Full-width ASCII letters and digits (and the ideographic space) become half-width; Chinese
# punctuation such as ，。：（） stays as it is, because citizens read it.
_FULLWIDTH_ALNUM = {cp: cp - 0xFEE0 for r in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
                    for cp in range(r[0], r[1] + 1)}
_FULLWIDTH_ALNUM[0x3000] = 0x20


@lru_cache(maxsize=1)
def _converter():  # type: ignore[no-untyped-def]
    import opencc  # deferred: loading the dictionaries costs time at import

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional → Simplified Chinese (OpenCC ``t2s``, which keeps words like 資料→资料)."""
    return str(_converter().convert(text))


def normalise_text(text: str) -> str:
    """Simplified, half-width letters and digits, single spaces, trimmed lines."""
    text = to_simplified(text.translate(_FULLWIDTH_ALNUM))
    lines = [_SPACE_AFTER_PUNCTUATION.sub("", _WHITESPACE.sub(" ", line)).strip() for line in text.splitlines()]
    return _BLANK_LINES.sub("\n", "\n".join(line for line in lines if line)).strip()


def chinese_chars(text: str) -> int:
    """How many Chinese characters a text holds: how long a message is, whatever its punctuation and digits."""
    return len(_CHINESE.findall(text))

