"""What a question names, and whether a guide speaks of that thing or of another of its kind.

"药品经营许可证怎么申请" is close, word for word, to the guide 食品经营许可: both have 经营许可证. Ranking
and confidence see the shared words; a citizen would read about the wrong licence. A question that
names a certificate, registration, subsidy or loan with its own modifier (药品经营许可证, 收养登记,
高龄补贴, 退役军人优待证) is about that thing. A guide that does not have the term, and whose name puts
another word where the question puts its own (食品 for 药品, 老年人 for 退役军人, 育儿 for 高龄), is about
another thing of the same kind; so is a guide named after something else that has none of the term's
words anywhere.

What is not judged, so that citizens' own details do not turn a right guide away: a guide without the
head word or its kin at all (the citizen may say 出生证 for 出生医学证明); a guide whose names know every
word of the term (假肢补贴 among the aliases of 辅助器具适配补贴); a guide whose name has the head with
nothing of its own before it ("电子居住证" against 居住证申领, "香港个人旅游签注" against 往来港澳通行证及签注).
Only noun-like words and place names right before the head are modifiers, so "听说生育津贴…" or "店铺门头招牌
备案" keep their context out of the term; a place the guide itself names is satisfied by it (see ``speaks_of``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.lexicon import LEXICON
from knowledge.tokenize import STOPWORDS, Tokenizer

# Last words of what services issue or register: a term ending in one of these names a service.
HEADS = LEXICON.words("heads")
# Heads of documents one holds (a licence, a certificate, a card), as against acts (登记, 备案, 补贴).
DOCUMENTS = LEXICON.words("documents")
# Heads that name the same kind of thing: a guide with one of them is judged for the others.
_FAMILIES = tuple(LEXICON.groups("head-families").values())
# Verbs of asking and doing, not part of what is named ("听说生育津贴", "能办社会保障卡"); time and place.
_NOT_MODIFIERS = frozenset(LEXICON.words("not-modifiers"))
_LACKING = LEXICON.words("lacking")
_ASKING_VERBS = "".join(LEXICON.words("asking-verbs"))
_MAX_MODIFIERS = 3
_MAX_MODIFIER_LENGTH = 4
_MAX_GAP = 8  # characters between two of a term's characters in a guide that still reads as one term
_CJK = re.compile(r"[\u4e00-\u9fff]+")


@dataclass(frozen=True)
class NamedTerm:
    modifiers: tuple[str, ...]
    head: str
    lead: str = ""  # a negation before it that the citizen said (无犯罪记录证明): shown, not matched
    places: frozenset[str] = frozenset()  # the modifiers that are place names (香港, 广东, 日本)

    @property
    def text(self) -> str:
        return "".join(self.modifiers) + self.head

    @property
    def said(self) -> str:
        return self.lead + self.text

    @property
    def unplaced(self) -> NamedTerm:
        """The term without the place names among its modifiers ("广东残疾证" → 残疾证): what it is of."""
        return NamedTerm(tuple(m for m in self.modifiers if m not in self.places), self.head, self.lead)


def named_terms(text: str, tokenizer: Tokenizer) -> list[NamedTerm]:
    """The modified service terms of a question: "药品经营许可证" → (药品, 经营) + 许可证. A head with no
    modifier names nothing particular ("补贴怎么领") and is left out."""
    return _terms(tokenizer.tagged(text))


def _terms(words: list[tuple[str, str]]) -> list[NamedTerm]:
    found: list[NamedTerm] = []
    for i, (word, _) in enumerate(words):
        if not word.endswith(HEADS) or not _CJK.fullmatch(word) or (len(word) > 3 and word[0] in _ASKING_VERBS):
            continue  # "办居住证", an alias of the knowledge: a verb phrase, what precedes it is no modifier
        modifiers: list[str] = []
        places: set[str] = set()
        j = i - 1
        while j >= 0 and len(modifiers) < _MAX_MODIFIERS:
            before, tag = words[j]
            adjacent_verb = not modifiers and tag == "verb"  # 收养登记, 入职登记: the act registered
            # A longer "word" is a whole alias of the knowledge ("疫苗本丢了补办"): a phrase, not a modifier.
            if not 2 <= len(before) <= _MAX_MODIFIER_LENGTH or before in STOPWORDS or before in _NOT_MODIFIERS \
                    or not _CJK.fullmatch(before) or not (tag in ("noun", "place") or adjacent_verb):
                break
            modifiers.insert(0, before)
            if tag == "place":
                places.add(before)
            j -= 1
        if len(word) == 1 and modifiers:
            word = modifiers.pop() + word  # 证 alone is in every guide (身份证): "运输证" is the head
        if modifiers:
            lead = words[j][0][-1] if j >= 0 and words[j][0].endswith(_LACKING) else ""
            found.append(NamedTerm(tuple(modifiers), word, lead, frozenset(places)))
    return found


_PHRASE_CHAR = "[^，。；、：:;,.（）()【】|\\s]"  # within one phrase: no punctuation in between


def _in_order(term: str, text: str, gap: int = _MAX_GAP) -> re.Match[str] | None:
    """The term's characters in this order, at most ``gap`` apart, within one phrase of ``text``."""
    return re.search(f"{_PHRASE_CHAR}{{0,{gap}}}".join(map(re.escape, term)), text)


def _has_word(head: str, record_text: str) -> bool:
    return head in record_text or (len(head) > 2 and _in_order(head, record_text) is not None)


def has_head(term: NamedTerm, record_text: str, names: str) -> bool:
    """Does a guide have the term's head word, or a head of its family in its names?"""
    return _has_word(term.head, record_text) or \
        any(k in names for family in _FAMILIES if term.head in family for k in family)


def speaks_of(term: NamedTerm, record_text: str, names: str, context: str,
              synonyms: dict[str, tuple[str, ...]], tokenizer: Tokenizer) -> bool | None:
    """Does a guide speak of the thing named? ``record_text`` is all its text, ``names`` its name and
    aliases, ``context`` the whole question with the standard terms synonym rules added.

    True when the guide has the term; False when it names a different thing of the same kind: its name
    puts another word where the question puts the term's own (食品经营许可 for 药品经营许可证, 老年人优待证
    for 退役军人优待证), or the guide is named after something else and has none of the term's modifiers
    anywhere (教育入学 for 收养登记). None when it cannot tell: the guide lacks even the head word (the
    citizen may have a colloquial word for it: 出生证 for 出生医学证明), or its name has the head with
    nothing of its own before it ("电子居住证" against 居住证申领: the citizen says more than the name).
    """
    # A place the guide itself names is where it is done, not what it is of: "广东残疾证" of the guide for a card
    # moved to 广东省, "香港探亲签注" of one that names 香港; "日本签证" of a guide that never says 日本 stays judged.
    if term.places and (kept := tuple(m for m in term.modifiers if m not in term.places or m not in record_text)) \
            != term.modifiers:
        if not kept:
            return True if _has_word(term.head, record_text) else None
        term = NamedTerm(kept, term.head, term.lead)
    head = term.head
    if not _has_word(head, record_text):
        # 高龄津贴 against 育儿补贴: a head of the same family stands for it
        kin = next((k for family in _FAMILIES if head in family for k in family if k in names), None)
        if kin is None:
            return None
        head = kin
        term = NamedTerm(term.modifiers, head)
    if len(head) >= 4 and head in record_text:
        return True  # the head is itself a whole name of the knowledge (门头招牌备案): what precedes is context
    if _in_order(term.text, record_text):
        return True
    # 医保卡 → 社会保障卡: the rule must cover all of the term's modifiers, said by the citizen ("公基金贷款", whose
    # term the words cut as 基金 + 贷款)
    for colloquial, standards in synonyms.items():
        if "".join(term.modifiers) in colloquial and colloquial in context and \
                any(_in_order(s, record_text) for s in standards if len(s) >= 3):
            return True
    # The longest end of the term the guide's names have: the modifiers nearest the head, then the head alone;
    # the head or its kin (经营许可证 asked, 食品经营许可 named).
    heads = [head, *(k for family in _FAMILIES if head in family for k in family if k != head)]
    found = None
    for k in range(len(term.modifiers) + 1):
        found = next((f for h in heads if (f := _in_order("".join(term.modifiers[k:]) + h, names))), None)
        if found:
            break
    if found is None:
        absent = all(m not in record_text and not _in_order(m, record_text) for m in term.modifiers)
        return False if absent else None
    if all(m in names for m in term.modifiers):
        return None  # its names know every word of it (假肢补贴 among the aliases of 辅助器具适配补贴)
    before = tokenizer.tagged(names[: found.start()])
    word, kind = before[-1] if before else ("", "")
    if len(word) >= 2 and kind != "other" and _CJK.fullmatch(word) and word not in context:
        return False  # another word in the same place: another thing of the same kind (离婚登记, 育儿补贴)
    return None


def named_things(text: str, tokenizer: Tokenizer) -> list[str]:
    """Single words of the question that name a particular certificate, card or registration ("无房证明",
    "医保卡"): a guide that never says it, while another found does, is not about it (随迁子女入学 against
    不动产登记资料查询 for "无房证明去哪开"). Bare heads (补贴) and heads of modified terms are left out."""
    return names_of(text, tokenizer)[1]


def names_of(text: str, tokenizer: Tokenizer) -> tuple[list[NamedTerm], list[str]]:
    """``named_terms`` and ``named_things`` of a question, from one pass of the tokenizer."""
    words = tokenizer.tagged(text)
    terms = _terms(words)
    heads = {t.head for t in terms}  # 消防检查合格证: judged as a term, not as a thing
    things = [w for w, _ in words
              if len(w) >= 3 and w.endswith(HEADS) and w not in HEADS and w not in heads and _CJK.fullmatch(w)]
    return terms, things


def has_thing(thing: str, record_text: str, synonyms: dict[str, tuple[str, ...]]) -> bool:
    """The thing's characters in order with at most 3 between two of them, within one phrase (出生证明 in
    出生医学证明), or a standard name a synonym rule gives it."""
    return _in_order(thing, record_text, gap=3) is not None or \
        any(s in record_text for s in synonyms.get(thing, ()) if len(s) >= 3)
