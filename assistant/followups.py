"""Follow-ups: whether a message goes on about the guide under discussion ("要多久", "户口本也要吗"), about one item
of a theme, about the same service elsewhere ("医保呢"), or leaves it for another."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from assistant.acts import asked_act, asks_an_act
from assistant.candidates import CLARIFY_RATIO, GENERIC_CHARS, bundled, char_pairs, name_pairs
from assistant.compose import QUESTION_WORDS, asks_something, asks_yes_no
from assistant.hits import Filters, Retrieval
from assistant.intent import (
    asks_for_bundle,
)
from assistant.lexicon import LEXICON
from assistant.named import DOCUMENTS, has_thing
from assistant.query import normalise_query
from assistant.retriever import HybridSearch
from assistant.turn import ELLIPTICAL, MAX_OPTIONS, NOT_SERVICE, WHAT, TurnState
from knowledge.index import KnowledgeIndex
from knowledge.schema import ServiceGuide, Theme

_SELF = LEXICON.regex("self-description")  # "我是外地户口": who the citizen is
# a certificate, card or licence by the character before its head ("狗证", "康证", "执照"): heads of documents.txt
_DOCUMENT = re.compile(f"[\u4e00-\u9fff](?:{'|'.join(sorted(DOCUMENTS, key=len, reverse=True))})")


class FollowUps:
    """The follow-up rules: a part of Assistant (its search, index and the pairs of the services' names)."""

    search: HybridSearch
    index: KnowledgeIndex
    service_pairs: set[str]
    name_residues: dict[str, list[str]]
    _residue: Callable[[str], str]  # the question without cue, district, question and filler words

    def _follows(self, state: TurnState, result: Retrieval, current: ServiceGuide | Theme | None, filters: Filters,
                 threshold: float) -> Retrieval | None:
        """A follow-up on the guide under discussion settles the turn (None); else the result to weigh: the
        search's, or one a follow-up rule found instead ("到期了怎么续" after 居住证申领: 居住证签注)."""
        session = state.session
        # "药品经营许可证呢" after 食品经营许可 names another thing: not a follow-up
        follows = current is not None and not self.search.lacks_named(state.question, current.id)
        if follows and current is not None:
            redo = self._redo_of(state, current, filters, threshold)
            if redo is not None:  # "到期了怎么续" after 居住证申领: 居住证签注（续期）
                result = redo
                state.retrieval = redo
                follows = False
        item = self._item_of_theme(state, result, current) if follows and current is not None else None
        if item is not None:  # "那销户口要带啥" after 个人身后一件事: 死亡人员户口注销's materials, not the bundle's
            state.record = item
            state.facets = state.facets or session.facets
            state.confidence = max(result.confidence, threshold)
            return None
        mentioned = self._mentions_only(state, current) if follows and current is not None else None
        if current is not None and mentioned:
            # "户口本也要吗" after a passport answer: about one of its materials, or something its text speaks of
            state.record = current
            state.facets = ["materials"] if mentioned == "materials" else state.facets
            state.to_the_point = mentioned == "text"  # what the guide says of it, not the whole guide again
            state.confidence = max(result.confidence, threshold)
            return None
        if follows and current is not None and self._is_follow_up(state, result, current.id, threshold):
            state.record = current
            # "我是外地户口呢": whether it holds for who the citizen is, not the field asked before; "孩子跟谁也要写进
            # 协议吗" after "要带什么": a yes or no of its own, not the materials again
            own_question = asks_yes_no(state.text) and ELLIPTICAL.search(state.text) is None
            state.facets = state.facets or (["who"] if _SELF.search(state.text) else
                                            [] if own_question else session.facets)
            state.confidence = max(result.confidence, threshold)
            return None
        if current is not None and follows:
            within = self._within(state, current, filters, threshold)
            if within is not None:  # "医保呢" after 办理退休: 退休人员医保, not any 医保
                result = within
                state.retrieval = within
        return result

    def _beside(self, state: TurnState, current: ServiceGuide | Theme, filters: Filters) -> Retrieval:
        """The question searched together with the name of the guide under discussion, once a turn."""
        if state.beside is None:
            state.beside = self.search.search(f"{current.name} {state.question}", k=MAX_OPTIONS + 1,
                                              filters=filters)
        return state.beside

    def _within(self, state: TurnState, current: ServiceGuide | Theme, filters: Filters,
                threshold: float) -> Retrieval | None:
        """A short question that leaves the guide under discussion for another service ("医保呢", "公积金呢",
        "税务呢") asks for that service in the same situation: a search with the current guide's name,
        when it finds, confidently, another guide whose name or aliases have the service asked for."""
        # of what is left once the words that name no service go ("医保那边需要单独办吗": 医保), before the
        # characters that name nothing (那, 办) take theirs apart
        thing = NOT_SERVICE.sub("", self._residue(NOT_SERVICE.sub("，", state.text)))
        if not 2 <= len(thing) <= 4 or "within" in self.search.config.without:
            return None
        if state.facets or QUESTION_WORDS.search(state.text):
            return None  # "身份证怎么办" after a passport's answer asks of its own: the ID card itself
        asked = char_pairs([thing, *normalise_query(thing, self.search.synonyms).expansions])
        found = self._beside(state, current, filters)
        for hit in found.hits:  # the current guide may well come first: its name is in the search
            record = self.index.record(hit.record_id)
            # not the 一件事 that bundles the current guide: "小升初呢" after 小学入学 is 初中入学 itself
            if record is not None and record.id != current.id and hit.confidence >= threshold and \
                    asked & name_pairs(record) and not bundled(record, current):
                rest = [h for h in found.hits if h is not hit and h.record_id != current.id]
                return replace(found, hits=[hit, *rest], confidence=hit.confidence)
        return None

    def _redo_of(self, state: TurnState, current: ServiceGuide | Theme, filters: Filters,
                 threshold: float) -> Retrieval | None:
        """A follow-up asking to redo, renew or end the thing under discussion ("丢了咋办", "到期了怎么续"),
        which another guide of the same thing is named for: a search with the current guide's name (to keep
        the thing), led by that guide."""
        if "acts" in self.search.config.without or not asks_an_act(state.text) or \
                asked_act(state.text, current.name):
            return None
        found = self._beside(state, current, filters)
        for hit in found.hits:
            record = self.index.record(hit.record_id)
            # Ranked by score, not confidence: the current guide's name in the search names its own act
            # (期满换证), which the check of named things holds against the others.
            if record is not None and record.id != current.id and hit.score >= CLARIFY_RATIO * found.hits[0].score \
                    and asked_act(state.text, record.name) and \
                    name_pairs(record, aliases=False) & name_pairs(current, aliases=False):
                others = [h for h in found.hits if h is not hit]
                trusted = replace(hit, confidence=max(hit.confidence, threshold))
                return replace(found, hits=[trusted, *others], confidence=trusted.confidence)
        return None

    def _item_of_theme(self, state: TurnState, result: Retrieval,
                       current: ServiceGuide | Theme) -> ServiceGuide | Theme | None:
        """After a one-thing theme, a follow-up that names one of its items ("那销户口要带啥"): that item, when the
        question's own search ranks it first and clearly ahead of the next guide, and the citizen does not ask
        about doing everything together. The theme under discussion vouches for it, so no confidence is asked
        of the search: "销户口" alone is too short to be sure of."""
        session = state.session
        theme = current if isinstance(current, Theme) else \
            self.index.record(session.theme_id) if session.theme_id else None
        thing = NOT_SERVICE.sub("", state.residue)
        if not isinstance(theme, Theme) or "within" in self.search.config.without or asks_for_bundle(state.text) \
                or len(thing) < 2 or not result.hits:
            return None
        first = result.hits[0]
        ahead = len(result.hits) == 1 or result.hits[1].score < CLARIFY_RATIO * first.score
        if first.record_id in theme.items and first.record_id != current.id and ahead:
            return self.index.record(first.record_id)
        # "他的公积金能取吗" after 死亡人员户口注销, an item of 个人身后一件事: of the guides found, the one item of
        # that theme whose name has the words asked (住房公积金提取（职工死亡…）, not 租房 ranked first)
        asked = {p for p in char_pairs([thing]) if not set(p) & GENERIC_CHARS}
        named = [r for r in (self.index.record(h.record_id) for h in result.hits
                             if h.record_id in theme.items and h.record_id != current.id)
                 if r is not None and asked & name_pairs(r)]
        return named[0] if len(named) == 1 else None

    def _is_follow_up(self, state: TurnState, result: Retrieval, current_id: str, threshold: float) -> bool:
        """A question about the guide under discussion: nothing left once facet words are taken away,
        or a search whose best guide is the one under discussion."""
        residue = state.residue
        described = _SELF.search(state.text) is not None  # who the citizen is: no service named
        if "who" not in state.facets and not described and self._named_elsewhere(residue, current_id):
            # "驾照丢了怎么办" after 驾照换证, "给宝宝交医保要带什么" after 居民医保: another service. Not "外地户口
            # 可以吗" nor "我是广州户口，要带什么": who may apply is asked, and who one is said, with attributes that
            # other services are named after.
            return False
        core = NOT_SERVICE.sub("", residue)  # "每个月能取多少" asks about 取: short
        # "狗证在哪办" after 租房提取: a certificate the guide never speaks of (the character before its head and the
        # head, "狗证", nowhere in it), no detail of it; "除了身份证还要准备啥" after 护照 speaks of its 身份证
        things = [m.group(0) for m in _DOCUMENT.finditer(core) if m.group(0)[0] not in GENERIC_CHARS]
        if things and not any(t in self.search.record_text(current_id) for t in things):
            return False
        short_or_facet = len(core) <= 2 or bool(state.facets) or ELLIPTICAL.search(state.text) is not None
        if short_or_facet and not self._names_another_service(residue, current_id) and \
                not self._asks_about_its_own_service(state, residue, result, current_id, threshold) and \
                (described or not self._names_the_first(state, result, current_id, threshold)):
            return True  # "要多久", "一年交多少钱", "那要是在青山区人民医院生的呢": about the guide just answered
        if not result.hits:
            return bool(state.facets)
        # A facet question ("实体卡多久拿到") that points nowhere else confidently is about the current guide,
        # and so is one whose search keeps the current guide close to the top.
        current = next((h for h in result.hits if h.record_id == current_id), None)
        if current is not None and current.score >= CLARIFY_RATIO * result.hits[0].score and \
                (state.facets or result.confidence >= threshold) and \
                not self._names_the_first(state, result, current_id, threshold):
            return True
        # "一次能提多少" after 租房提取: a question that finds nothing else with confidence, and asks of something the
        # guide speaks of (提), goes on about it, as a facet question does
        if result.confidence < threshold and asks_something(state.text) and self._speaks_of_any(core, current_id):
            return True
        return bool(state.facets) and result.confidence < threshold

    def _speaks_of_any(self, core: str, current_id: str) -> bool:
        """Does the guide's text hold a word of the question, question words and generic characters aside?"""
        text = self.search.record_text(current_id)
        words = [w for w in self.search.tokenizer.words(QUESTION_WORDS.sub("，", core)) if not set(w) <= GENERIC_CHARS]
        return any(w in text for w in words)

    def _names_the_first(self, state: TurnState, result: Retrieval, current_id: str, threshold: float) -> bool:
        """Does the question name, in its own words, what sets the search's first guide apart from the one under
        discussion ("我要新办一个残疾证" after 残疾人证查询: 新办 is of 新办证申请's name, not of 查询's)?"""
        first = result.hits[0]
        if first.record_id == current_id or first.confidence < threshold:
            return False
        top, current = self.index.record(first.record_id), self.index.record(current_id)
        if top is None or current is None:
            return False
        # of what the question names, its cue words aside ("能网上办吗" names nothing: not 门诊网上预约's 网上)
        own = {p for p in char_pairs(self.search.tokenizer.words(state.residue)) if not set(p) <= GENERIC_CHARS}
        return bool(own & (char_pairs([top.name]) - char_pairs([current.name, *current.aliases])))

    def _mentions_only(self, state: TurnState, current: ServiceGuide | Theme) -> str | None:
        """Is the question about nothing but a thing the current guide speaks of ("户口本也要吗", "照片呢")?
        "materials" when the guide lists it among its materials, "text" when it says it elsewhere (an FAQ:
        "不再需要户口簿"), else None. "身份证怎么办" asks how to get one, not whether to bring it."""
        if set(state.facets) - {"materials"} or "mentions" in self.search.config.without:
            return None
        residue = state.residue
        if not 2 <= len(residue) <= 5:  # a thing named, not a question of its own
            return None
        # The standard name of the whole thing ("户口本" → 居民户口簿), not of a part ("宝宝补贴": 宝宝 → 新生儿).
        terms = [residue, *self.search.synonyms.get(residue, ())]
        # in so many words, a word or two apart at most: "出生证明" is the 出生医学证明 it lists
        listed = any(has_thing(t, f"{m.name} {m.note or ''}", {}) for t in terms for m in current.materials)
        if listed and "materials" in state.facets and not WHAT.search(state.text):
            # "要带身份证吗": whether to bring one of its materials, though 身份证 names services too; but
            # "离婚要带什么材料" asks what another service needs
            return "materials"
        if self._named_elsewhere(residue, current.id):
            return None  # "那离婚呢" after 结婚登记 (whose materials list 离婚证): another service
        if listed:
            return "materials"
        return "text" if any(t in self.search.record_text(current.id) for t in terms) else None

    def _named_elsewhere(self, residue: str, current_id: str) -> bool:
        """Is the residue part of another service's name, or the start of one of its aliases, and of none of
        the current guide's ("离婚" after 结婚登记, "小升初" after 小学入学, "驾照丢" after 驾照换证)?"""
        residue = NOT_SERVICE.sub("", residue)  # "小孩", "外地" name no service, nor do "网上", "周六"
        if not char_pairs([residue]) & self.service_pairs or \
                any(residue in n for n in self.name_residues.get(current_id, [])):
            return False
        return any(residue in names[0] or any(a.startswith(residue) for a in names[1:])
                   for record_id, names in self.name_residues.items() if record_id != current_id)

    def _names_another_service(self, residue: str, current_id: str) -> bool:
        """Does the question name a service (a pair of some guide's name) that the current guide never mentions?"""
        current_text = self.search.record_text(current_id)
        return any(p in self.service_pairs and p not in current_text for p in char_pairs([residue]))

    def _asks_about_its_own_service(self, state: TurnState, residue: str, result: Retrieval, current_id: str,
                                    threshold: float) -> bool:
        """Does the question ask how or where to get a thing the current guide only mentions in passing?

        A passport guide lists 居民身份证 among its materials and a marriage guide 离婚证, but "身份证怎么办"
        and "离婚怎么办" ask for the service named after them, when a fresh search confidently finds one.
        "要带身份证吗" (a material) and "那小孩的呢" (a detail of the same service) stay.
        """
        if "materials" in state.facets or ELLIPTICAL.search(state.text) or not result.hits or \
                result.confidence < threshold or result.hits[0].record_id == current_id:
            return False
        top, current = self.index.record(result.hits[0].record_id), self.index.record(current_id)
        if top is None or current is None:
            return False
        named = char_pairs([residue]) & self.service_pairs
        return bool(named) and named <= name_pairs(top, aliases=False) and not named & name_pairs(current)
