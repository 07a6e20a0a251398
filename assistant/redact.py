"""Personal data out of logs and transcripts: 身份证号, 手机号 and 银行卡号 become labels.

Numbers are found however they are typed: full-width (１３８…), in Chinese numerals (一三八…, 幺 and 〇
too), and broken up by spaces, dots or dashes (138 1234 5678, 138.1234.5678, 138-1234-5678).
"""

from __future__ import annotations

import re

# One character for one, so a match in the normalised text is the same span of the original.
_DIGITS = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)},
                         **dict(zip("〇零一幺二三四五六七八九", "001123456789", strict=True)),
                         "Ｘ": "X", "ｘ": "x", "\u3000": " ", "．": ".",
                         "－": "-", "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-"})
# A run of digits with at most one separator between two of them, an ID card's final X included.
_RUN = re.compile(r"(?<![\dXx])\d(?:[ .\-]?\d)*(?:[ .\-]?[Xx])?(?![\dXx])")
_GROUP = re.compile(r"[\dXx]+")  # the digits between two separators
_LONGEST = 19  # digits in the longest number looked for (a bank card)
_DATE = r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_ID_CARD = re.compile(rf"[1-9]\d{{5}}(?:19|20)\d{{2}}{_DATE}\d{{3}}[\dXx]")
_OLD_ID_CARD = re.compile(rf"[1-9]\d{{5}}\d{{2}}{_DATE}\d{{3}}")  # 15 digits, issued until 2004
_MOBILE = re.compile(r"(?:86)?1[3-9]\d{9}")
_BANK_CARD = re.compile(r"\d{16,19}")


def redact(text: str) -> str:
    """The text with ID-card, bank-card and mobile numbers replaced; official landlines stay."""
    pieces, at = [], 0
    for start, end, label in _numbers(text.translate(_DIGITS)):
        pieces += [text[at:start], label]
        at = end
    return "".join([*pieces, text[at:]]) if pieces else text


def _numbers(normal: str) -> list[tuple[int, int, str]]:
    """Spans of personal numbers in ``normal``, with their labels. A run of digit groups may hold two
    numbers side by side, or one and a stray digit: the longest number from each group on is taken."""
    found = []
    for run in _RUN.finditer(normal):
        groups = [(g.start() + run.start(), g.end() + run.start(), g.group()) for g in _GROUP.finditer(run.group())]
        first = 0
        while first < len(groups):
            last, digits, spans = first, "", []
            while last < len(groups) and len(digits) + len(groups[last][2]) <= _LONGEST:
                digits += groups[last][2]
                spans.append((len(digits), last))
                last += 1
            for length, end_group in reversed(spans):
                label = _label(digits[:length])
                if label is not None:
                    found.append((groups[first][0], groups[end_group][1], label))
                    first = end_group + 1
                    break
            else:
                first += 1
    return found


def _label(digits: str) -> str | None:
    if _ID_CARD.fullmatch(digits) or _OLD_ID_CARD.fullmatch(digits):
        return "[身份证号已隐藏]"
    if _MOBILE.fullmatch(digits):
        return "[手机号已隐藏]"
    if _BANK_CARD.fullmatch(digits):
        return "[银行卡号已隐藏]"
    return None
