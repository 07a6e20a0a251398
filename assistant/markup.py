"""Outside text shown in a markdown view (the chat, the staff console) as written, never read as markup."""

from __future__ import annotations

# Signs that markdown, HTML, autolinks ("https:", "www.") or LaTeX could read as markup.
_MARKUP_SIGNS = frozenset("\\`*_{}[]()#+-.!|~:$<>&\"'=/")


def literal(text: str) -> str:
    """``text`` shown as typed: no markdown, no HTML, no link. A chat renders markdown and some HTML, and staff
    must never be shown a live link a citizen wrote; as character references these signs are only shown."""
    return "".join(f"&#{ord(c)};" if c in _MARKUP_SIGNS else c for c in text)


def as_text(text: str) -> str:
    """:func:`literal`, with a line break as ``<br>``: inside an HTML block a blank line would end it."""
    return literal(text).replace("\r\n", "\n").replace("\n", "<br>")
