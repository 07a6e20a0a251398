"""What a question names, and whether a guide speaks of that thing at all.

"药品经营许可证怎么申请" is close, word for word, to the guide 食品经营许可: both ask for a 经营许可证.
Ranking and confidence see the shared words; a citizen sees the wrong licence. A question that names a
certificate, a registration or a subsidy with its own modifier (药品经营许可证, 收养登记, 高龄补贴,
退役军人优待证) is about that thing, and a guide that has the head word (许可证, 登记, 补贴) but never that
modifier with it is about something else.

Only noun-like modifiers right before the head count, so the citizen's own context ("店铺门头招牌备案",
"办了残疾人证能领啥补贴") is not taken for a different service. A modifier counts as present when its
characters occur in order, a few characters apart at most (职工代表大会（职工大会）决议公证), and a
synonym of the whole term (社保卡 → 社会保障卡) counts as well.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.tokenize import STOPWORDS, Tokenizer

# Last words of what services issue or register: a term ending in one of these names a service.
HEADS = ("许可证", "证明", "证书", "执照", "通行证", "证", "卡", "登记", "备案", "许可", "公证", "补贴", "津贴",
         "补助金", "补助", "保障金", "救助", "贷款", "签注")
# Verbs of asking and doing, not part of what is named ("听说生育津贴", "能办社会保障卡").
_NOT_MODIFIERS = frozenset(("听说", "请问", "申请", "想要", "准备", "能办", "要办", "去办", "咨询", "了解", "知道",
                            "问问", "打算", "顺便", "领取", "补办", "办好", "还有", "还要", "拿到", "开具", "没有"))
_MAX_MODIFIERS = 3
_MAX_GAP = 8  # characters between two of a term's characters in a guide that still reads as one term
_CJK = re.compile(r"[\u4e00-\u9fff]+")


@dataclass(frozen=True)
class NamedTerm:
    modifiers: tuple[str, ...]
    head: str

    @property
    def text(self) -> str:
        return "".join(self.modifiers) + self.head


def named_terms(text: str, tokenizer: Tokenizer) -> list[NamedTerm]:
    """The modified service terms of a question: "药品经营许可证" → (药品, 经营) + 许可证. A head with no
    modifier names nothing particular ("补贴怎么领") and is left out."""
    words = tokenizer.tagged(text)
    found: list[NamedTerm] = []
    for i, (word, _) in enumerate(words):
        if not word.endswith(HEADS) or not _CJK.fullmatch(word):
            continue
        modifiers: list[str] = []
        j = i - 1
        while j >= 0 and len(modifiers) < _MAX_MODIFIERS:
            before, tag = words[j]
            adjacent_verb = not modifiers and tag == "verb"  # 收养登记, 入职登记: the act registered
            if len(before) < 2 or before in STOPWORDS or before in _NOT_MODIFIERS or not _CJK.fullmatch(before) \
                    or not (tag == "noun" or adjacent_verb):
                break
            modifiers.insert(0, before)
            j -= 1
        if len(word) == 1 and modifiers:
            word = modifiers.pop() + word  # 证 alone is in every guide (身份证): "运输证" is the head
        if modifiers:
            found.append(NamedTerm(tuple(modifiers), word))
    return found


def _in_order(term: str, text: str) -> bool:
    return re.search(f".{{0,{_MAX_GAP}}}".join(map(re.escape, term)), text) is not None


def speaks_of(term: NamedTerm, record_text: str, synonyms: dict[str, tuple[str, ...]]) -> bool | None:
    """Does a guide's text speak of the thing named? None when it lacks even the head word: the citizen may
    have used a colloquial word for it (出生证 for 出生医学证明), so the guide is not judged here."""
    head_here = term.head in record_text or (len(term.head) > 2 and _in_order(term.head, record_text))
    if not head_here:
        return None
    if len(term.head) >= 4 and term.head in record_text:
        return True  # the head is itself a whole name of the knowledge (门头招牌备案): what precedes is context
    if _in_order(term.text, record_text):
        return True
    standard = [s for colloquial, standards in synonyms.items() if colloquial in term.text for s in standards]
    return any(s in record_text and len(s) >= 3 for s in standard)
