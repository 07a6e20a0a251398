"""Personal data out of logs and transcripts: 身份证号, 手机号 and 银行卡号 become labels."""

from __future__ import annotations

import re

_ID_CARD = re.compile(r"(?<!\d)[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?!\d)")
_BANK_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){15,18}\d(?!\d)")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)")


def redact(text: str) -> str:
    """The text with ID-card, bank-card and mobile numbers replaced; official landlines stay."""
    text = _ID_CARD.sub("[身份证号已隐藏]", text)
    text = _BANK_CARD.sub("[银行卡号已隐藏]", text)
    return _MOBILE.sub("[手机号已隐藏]", text)
