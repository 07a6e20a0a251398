"""The assistant: a question and the dialogue state in; an answer, a clarifying question, a refusal
or a handoff out.

The turn goes through stages that each take and return a :class:`TurnState`: understand (normalise,
facets, district, handoff cues) → resolve (dialogue state and retrieval: which guide?) → decide →
compose. :mod:`assistant.chain` strings the same stages together as a LangChain runnable.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from importlib.resources import files

from assistant.acts import asked_act, asks_an_act, is_story, story_unasked, unasked_act
from assistant.answer import Answer
from assistant.complaints import ComplaintDetector
from assistant.compose import (
    FACET_SECTIONS,
    asks_online,
    compose_answer,
    compose_clarify,
    compose_district_question,
    compose_handoff,
    compose_progress,
    compose_refusal,
    compose_region_question,
    compose_small_talk,
    compose_topic_question,
    district_choices,
    note_elsewhere,
    note_story_unsure,
    unstated,
)
from assistant.intent import (
    BUNDLE_CUES,
    CUES,
    HANDOFF_CUES,
    PROGRESS_CUES,
    Facet,
    SmallTalk,
    asks_for_bundle,
    asks_progress,
    asks_urgent,
    called_hotline,
    detect_facets,
    has_words,
    small_talk,
    wants_human,
)
from assistant.lexicon import LEXICON
from assistant.named import DOCUMENTS, has_thing, names_of
from assistant.places import Place, load_places, place_elsewhere
from assistant.query import normalise_query
from assistant.redact import redact
from assistant.retriever import UNMATCHED_CAP, Filters, Hit, HybridSearch, Retrieval
from assistant.session import Session, pick_option
from knowledge.records import Chunk
from knowledge.schema import Hall, ServiceGuide, Theme

logger = logging.getLogger(__name__)

_GENERIC_CHARS = frozenset("的了吗呢吧啊呀么嘛是在和与及或我你您他她要想请怎样如何什哪里儿"
                           "个些这那还就都也有没能可办理申请咋弄整去带")
CLARIFY_RATIO = 0.8  # guides scoring this close to the first are candidates the question must tell apart
CLEAR_LEAD = 0.9  # unless the second scores below this share of the first
# Below this a searched guide is answered with a line on how to correct a wrong match; and a long message that
# tells a situation (acts.is_story) gets it only as the nearest guide, for reference (docs/trust.md)
SURE = 0.7
MAX_OPTIONS = 4
FAILURES_BEFORE_HANDOFF = 2
# "那…呢", "如果…呢", "要是…": a follow-up that varies a detail of what was just asked.
_ELLIPTICAL = re.compile(f"^(?:{LEXICON.pattern('follow-up-openings').pattern})|呢[?？!！。.]*$")
# A number the citizen gives ("电话13812345678", "身份证号…"), not a question about phones: the number
# (redacted first) goes, with the word that introduces it.
_GIVEN_NUMBER = re.compile(r"(我的?)?(联系)?"
                           r"(电话号码|电话|手机号码|手机号|手机|号码|身份证号码|身份证号|卡号|银行卡号)?"
                           r"\s*(是|为)?[:：]?\s*"
                           r"\[(身份证号|手机号|银行卡号)已隐藏\]")
_A_NUMBER = re.compile(r"\s*第?\s*[0-9０-９一二三四五六七八九十]+\s*[个项条]?\s*[。.!！]?\s*")
# Words of a question that name no service, although aliases use them ("公积金能贷多少", "结婚登记预约",
# "给孩子办护照"): what is asked (every cue word of every facet) and who for. A follow-up using only
# these ("电话多少", "怎么预约", "那小孩的呢") is about the guide under discussion.
_NOT_SERVICE_WORDS = LEXICON.words("not-a-service")
# Services that pay money out (a subsidy, a pension, a withdrawal): "多少钱" asks how much one receives.
_PAID_OUT = LEXICON.words("paid-out")
_PAYS = LEXICON.pattern("pays")
_WHAT = LEXICON.pattern("what")
_URGENT_TEXT = LEXICON.pattern("guide-urgent")  # a guide that speaks of hurrying: its passage answers
_AT_ONCE = LEXICON.pattern("at-once")
_NOT_SERVICE = re.compile("|".join(_NOT_SERVICE_WORDS))
# Every cue word, longest first: "到哪一步" goes before "到哪" can leave "一步" behind.
_ALL_CUES = sorted({c for cues in (*CUES.values(), PROGRESS_CUES) for c in cues}, key=lambda c: (-len(c), c))
_QUESTION_WORDS = LEXICON.pattern("question-words")
_FILLER = re.compile(
    r"[那这就还也都呢吗呀啊吧嘛哦噢的了要需得请问我你您们想个些是在去到和跟对"
    r"能可以怎么样如何什么哪儿里些\s?？!！,，.。、~～]"
)


CLOSE_OTHER = 0.6  # another guide this close to the first makes "如果您要办的不是…" worth saying


@dataclass
class TurnState:
    question: str
    session: Session
    hall: Hall | None = None
    text: str = ""  # normalised question
    facets: list[Facet] = field(default_factory=list)
    handoff_reason: str | None = None
    retrieval: Retrieval | None = None
    record: ServiceGuide | Theme | None = None
    options: list[ServiceGuide | Theme] = field(default_factory=list)
    districts: list[str] = field(default_factory=list)
    confidence: float = 0.0
    unsure: bool = False  # a fresh search found the guide with modest confidence: say how to correct it
    story_unsure: bool = False  # a long story, and the guide found with too little confidence to be its answer
    ask_topic: bool = False  # the question names no service and none is under discussion
    ask_region: bool = False  # the options are one item as each region issues it: ask where, not which
    small_talk: SmallTalk | None = None  # "你好", "谢谢", "你是谁": no question about a service
    residue: str = ""  # the text without cue, district, question and filler words (see Assistant._residue)
    noise: bool = False  # "123", "？？？": no words, so no question (refused, but no failed turn either)
    to_the_point: bool = False  # a follow-up about one thing the guide speaks of: only the passages on it
    progress: bool = False  # "办到哪一步了": one's own application, which no guide can tell
    beside: Retrieval | None = None  # the question searched with the current guide's name (Assistant._beside)
    elsewhere: Place | None = None  # a province or city the question names outside the knowledge's area
    answer: Answer | None = None


class Assistant:
    """Holds the search and the knowledge it answers from; one per process, shared by sessions.

    ``complaints`` recognises complaints, appeals and reports told as a story (none: only the cue words do).
    """

    def __init__(self, search: HybridSearch, complaints: ComplaintDetector | None = None) -> None:
        self.search = search
        self.complaints = complaints
        self.index = search.index
        self.halls = {h.id: h for h in self.index.halls()}
        # The areas the packs and imports declare they cover (广东省, 示例市); none declared: no place is outside.
        self.areas = [p.region for p in self.index.packs() if p.region]
        self.places = load_places()
        records = self.index.records()
        self.names = {r.id: r.name for r in records}
        # One item as several regions issue it (a province's cities each publish 律师执业变更审核): name → guides.
        by_name: dict[str, list[str]] = {}
        for record in records:
            if isinstance(record, ServiceGuide):
                by_name.setdefault(item_key(record.name), []).append(record.id)
        self.issued_by = {name: ids for name, ids in by_name.items() if len(ids) > 1}
        self.theme_ids = {r.id for r in records if isinstance(r, Theme)}
        self.region_names = _region_names(
            [loc.region for r in records for loc in r.locations if loc.region]
            + [h.region for h in self.halls.values() if h.region])
        if "places" not in search.config.without:
            self.region_names = _with_places(self.region_names, self.places, self.areas)
        generic = _pairs([*(c for cues in CUES.values() for c in cues), *BUNDLE_CUES, *HANDOFF_CUES,
                          *_NOT_SERVICE_WORDS, *self.region_names.values()])
        # Character pairs of every guide's name and aliases: a follow-up that uses one of them (and the guide
        # under discussion does not) is about another service. Only pairs inside words: "外地户口孩子上学" gives
        # 户口 and 上学, not 地户 or 口孩 (longer words, "外地户口", come with their parts in jieba's search mode).
        words = self.search.tokenizer.words
        in_words = _pairs([w for r in records for name in (r.name, *r.aliases) for w in words(name) if len(w) <= 3])
        self.service_pairs = (set().union(*(_name_pairs(r) for r in records)) & in_words) - generic
        # What is left of each name and alias once cue and filler words go: a follow-up that is the start
        # of another service's alias ("驾照丢了" → 驾照丢) or part of its name ("离婚") names that service.
        self.name_residues = {r.id: [_NOT_SERVICE.sub("", self._residue(n))
                                     for n in (r.name.lower(), *(a.lower() for a in r.aliases))] for r in records}

    def swap(self, search: HybridSearch) -> None:
        """Answer from ``search`` from now on (the knowledge was re-indexed); a turn in flight ends on the old."""
        self.__dict__.update(Assistant(search, self.complaints).__dict__)  # one update: no turn sees half of each

    # -- the stages -----------------------------------------------------------------------------
    def understand(self, state: TurnState) -> TurnState:
        question = state.question
        # Personal numbers are no part of the question, and are kept out of the dialogue state.
        redacted = redact(state.question)
        rest = _GIVEN_NUMBER.sub("", redacted).strip(" ，,。")
        state.question = rest or redacted
        text = normalise_query(state.question, self.search.synonyms).text
        state.text = text
        state.residue = self._residue(text)
        state.facets = detect_facets(self._without_names(text))
        state.progress = asks_progress(text)
        # A message of nothing but personal numbers ("我身份证号…"): a word on keeping them to oneself.
        state.small_talk = "personal" if redacted != question and not rest else small_talk(text)
        if state.small_talk:
            return state  # "你是人工智能吗" asks about the assistant, not for a person
        if wants_human(text):
            complains = any(w in text for w in ("投诉", "态度", "不满意")) or self._is_complaint(state)
            state.handoff_reason = "complaint" if complains else "requested"
        elif self._is_complaint(state):
            state.handoff_reason = "complaint"  # a neighbour's noise, unpaid wages: for a person, never a guide
        named = {region for name, region in self.region_names.items() if name in text}
        named = {r for r in named if not any(o != r and o.startswith(r) for o in named)}  # 青山区, not 示例市 too
        if len(named) == 1:
            state.session.region = named.pop()
        # two districts named ("户口在明湖区，但是住在青山区"): neither is taken for the citizen's; the answer
        # gives what the guide says for each
        if state.session.region is None and state.hall is not None:
            state.session.region = state.hall.region  # a kiosk knows where it stands
        state.elsewhere = place_elsewhere(state.question, self.areas, self.places)
        return state

    def _without_names(self, text: str) -> str:
        """The question without the certificates and licences it names: a cue word inside a name asks for nothing
        ("法律职业资格证书丢了怎么补" is no question of who may apply, though 资格 is a cue of it)."""
        if "named" in self.search.config.without:
            return text
        terms, things = names_of(text, self.search.tokenizer)
        for name in sorted([*(t.text for t in terms if t.head.endswith(DOCUMENTS)), *things], key=len, reverse=True):
            text = text.replace(name, "，")
        return text

    def _is_complaint(self, state: TurnState) -> bool:
        """Does the message tell of a wrong done and ask for it to be dealt with, without the cue words?"""
        return self.complaints is not None and self.complaints.is_complaint(state.question)

    def resolve(self, state: TurnState) -> TurnState:
        """Find the guide. Each step settles the turn (a guide, options to ask among, noise) or leaves it to the
        next, in this order: an answer to our own question back, an item picked by its number, a field asked with
        no service named, then a search: a follow-up on the guide under discussion, or the candidates found."""
        if state.handoff_reason or state.small_talk:
            return state
        for step in (self._answers_our_question, self._picks_by_number, self._names_no_service, self._searches):
            if step(state):
                break
        return state

    def _answers_our_question(self, state: TurnState) -> bool:
        """A district, a region or an option given after we asked for one."""
        session = state.session
        if session.region_options and session.record_id and session.region:
            state.record = self.index.record(session.record_id)  # the district answer to our question
            state.facets = state.facets or session.facets
            return True
        if session.options and session.region:
            # "深圳" after we asked where an item that every city issues is to be done: that city's guide
            local = self._issued_in(session.options, session.region)
            if len(local) == 1:
                state.record = local[0]
                state.facets = state.facets or session.facets
                state.confidence = 1.0
                return True
            if local:  # two guides of the item for that region: which one (they differ by department)
                state.options = local
                return True
        if session.options:
            # "我老公去世了" picks 住房公积金提取（职工死亡）: the standard terms synonym rules add count too
            names = [self.names.get(i, i) for i in session.options]
            picked = pick_option(state.text, names)
            if picked is None:
                said = " ".join((state.text, *normalise_query(state.text, self.search.synonyms).expansions))
                picked = pick_option(said, names)
            if picked is not None:
                state.record = self.index.record(session.options[picked])
                state.facets = state.facets or session.facets
                state.confidence = 1.0
                return True
        if session.options and (_A_NUMBER.fullmatch(state.text) or not state.residue):
            # "5" after four options, or only a district ("青山区"): ask again among them rather than search.
            state.options = [r for r in (self.index.record(i) for i in session.options) if r is not None]
            return True
        return False

    def _picks_by_number(self, state: TurnState) -> bool:
        """"第三个" after a theme's numbered list of items is that item; with nothing under discussion, nothing
        was picked (and "第一个" is no question about a first application). A message with no words is noise."""
        session = state.session
        if _A_NUMBER.fullmatch(state.text):
            current = self.index.record(session.record_id) if session.record_id else None
            theme = current if isinstance(current, Theme) else \
                self.index.record(session.theme_id) if session.theme_id else None
            if isinstance(theme, Theme):  # the theme just listed, or the one whose item is being read
                picked = pick_option(state.text, [self.names.get(i, i) for i in theme.items])
                item = self.index.record(theme.items[picked]) if picked is not None else None
                if item is not None:
                    state.record, state.confidence = item, 1.0
                    state.facets = state.facets or session.facets
                    return True
            if current is None:
                state.noise = True
                return True
        if not has_words(state.text):
            state.noise = True  # "123", "？？？" (once no option is picked by its number): no question, no follow-up
            return True
        return False

    def _names_no_service(self, state: TurnState) -> bool:
        """"多少钱", "在哪办" with nothing under discussion: ask which service, or ask again among the options."""
        session = state.session
        if state.facets and session.record_id is None and len(state.residue) <= 1:
            state.options = [r for r in (self.index.record(i) for i in session.options) if r is not None]
            state.ask_topic = not state.options
            return True
        if session.awaiting_topic and session.record_id is None:
            state.facets = state.facets or session.facets  # "居住证" after we asked which service "多少钱" was about
        return False

    def _searches(self, state: TurnState) -> bool:
        """A search: a follow-up keeps (or narrows) the guide under discussion; otherwise the candidates found
        are weighed."""
        session = state.session
        filters = Filters(region=session.region)
        result = self.search.search(state.question, k=MAX_OPTIONS + 1, filters=filters)
        state.retrieval = result
        threshold = self.search.calibration.refuse_below
        current = self.index.record(session.record_id) if session.record_id else None
        followed = self._follows(state, result, current, filters, threshold)
        if followed is None:
            return True
        result = followed
        if result.confidence < threshold and current is None and session.last_user_question():
            # "我是个体户呢" after "开店要办什么": search the two turns together.
            combined = self.search.search(f"{session.last_user_question()} {state.question}", k=MAX_OPTIONS + 1,
                                          filters=filters)
            if combined.confidence >= threshold:
                result = combined
                state.retrieval = combined
        required = self._only_required(state, result)
        if required:  # "建设用地规划许可证怎么办": the guides found ask for one, none issues it
            state.retrieval = replace(result, confidence=min(result.confidence, threshold * UNMATCHED_CAP),
                                      unmatched=(required,))
            return True
        if result.confidence < threshold or not result.hits:
            return True
        state.confidence = result.confidence
        state.unsure = result.confidence < SURE
        state.story_unsure = "stories" not in self.search.config.without and is_story(state.text) and \
            result.confidence < SURE
        close, records = self._candidates(state, result, threshold)
        if len(records) > 1:
            self._choose(state, result, close, records)
        elif records:
            state.record = records[0]
        if state.record is not None and session.region and "regions" not in self.search.config.without:
            # the citizen's own district's guide for the item, though the city's scored higher (it has more words)
            local = self._issued_in(self.issued_by.get(item_key(state.record.name), []), session.region)
            if len(local) == 1:
                state.record = local[0]
        return True

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
            state.facets = state.facets or session.facets
            state.confidence = max(result.confidence, threshold)
            return None
        if current is not None and follows:
            within = self._within(state, current, filters, threshold)
            if within is not None:  # "医保呢" after 办理退休: 退休人员医保, not any 医保
                result = within
                state.retrieval = within
        return result

    def _candidates(self, state: TurnState, result: Retrieval,
                    threshold: float) -> tuple[list[Hit], list[ServiceGuide | Theme]]:
        """The hits close enough to the first to be what the question means, and their guides: a theme and its own
        items are not alternatives (the bundle when asked for, else the item)."""
        close = [h for h in result.hits[:MAX_OPTIONS]
                 if h.score >= CLARIFY_RATIO * result.hits[0].score and h.confidence >= threshold]
        if "lookups" not in self.search.config.without and not (state.progress or asks_lookup(state.text)):
            # "居住证要怎么申请": not 居住证办理进度查询, whatever its score; nothing else close is no answer
            close = [h for h in close if not _is_lookup(h.name)]
        if "stories" not in self.search.config.without and not state.progress:
            # "…出生证丢了要怎么补办，回原来出生的医院能办吗": not 出生医学证明信息查询, a guide for an act the
            # whole story never asks for; nothing else close is no answer
            close = [h for h in close if story_unasked(state.text, h.name) is None]
        records = [r for r in (self.index.record(h.record_id) for h in close) if r is not None]
        if records:
            wanted = Theme if asks_for_bundle(state.text) else ServiceGuide
            first = next((r for r in records if isinstance(r, wanted) and
                          any(_bundled(r, o) for o in records if o is not r)), records[0])
            records = [first, *(r for r in records if r is not first and not _bundled(first, r))]
        return close, records

    def _choose(self, state: TurnState, result: Retrieval, close: list[Hit],
                records: list[ServiceGuide | Theme]) -> None:
        """Which of several candidates: the one the question's act or words single out, else ask back."""
        clearly_ahead = close[1].score < CLEAR_LEAD * close[0].score
        # A guide the question singles out in its own words ("居住证签注") is asked for, act or not.
        own = _pairs(self.search.tokenizer.words(state.text))
        without = self.search.config.without
        plain = records if "acts" in without else [
            r for r in records if not unasked_act(state.text, r.name) or
            own & (_name_pairs(r) - set().union(*(_name_pairs(o) for o in records if o is not r)))]
        acted = [] if "acts" in without else [r for r in records if asked_act(state.text, r.name)]
        # A candidate the citizen's own words name ("…能先办个临时的吗") outranks the act asked for.
        named = [] if "singles-out" in without else [
            r for r in records if _singles_out(state.text, r, [o for o in records if o is not r], aliases=False)]
        if len(plain) == 1 and (plain[0] is not records[0] or _FIRST_ISSUE.search(state.text)):
            state.record = plain[0]  # "结婚证怎么领", "第一次领结婚证": 结婚登记, not 补领结婚证
        elif len(acted) == 1 and len(plain) > 1 and (not named or named == acted):
            state.record = acted[0]  # "社保卡芯片坏了": the one guide for redoing it, among 申领, 新生儿 …
        elif records[0] in plain and (clearly_ahead or "singles-out" not in without and
                                      _singles_out(result.query.search_text, records[0], records[1:])):
            state.record = records[0]
        else:
            # Another candidate wins only when the citizen's own words name it ("居住证丢了，补办要钱吗"): a
            # pair of its name (not aliases, not synonyms added to the question) that no other one has…
            # …and it speaks of every thing the question names ("二级注册消防工程师…初始注册": not 结构工程师's)
            stems = self._document_stems(state.text)
            others_named = [r for r in named if r is not records[0] and
                            all(stem in r.name for stem in stems if stem in records[0].name)]
            if len(others_named) == 1:
                state.record = others_named[0]
            else:
                state.options = records
                self._where_issued(state)

    def _where_issued(self, state: TurnState) -> None:
        """Options that are one item as several regions issue it. With the citizen's region known, each item keeps
        only its guide for that region (its own, else its nearest parent's); with none known and one item left,
        ask where, among every region that issues it."""
        if "regions" in self.search.config.without:
            return
        region = state.session.region
        groups: dict[str, list[ServiceGuide | Theme]] = {}
        for record in state.options:
            groups.setdefault(item_key(record.name), []).append(record)
        if region:
            kept: list[ServiceGuide | Theme] = []
            for key, group in groups.items():
                everywhere = list(dict.fromkeys([*(r.id for r in group), *self.issued_by.get(key, [])]))
                kept.extend(self._issued_in(everywhere, region) or group)
            if len(kept) == 1:
                state.record, state.options = kept[0], []
            else:
                state.options = kept
        elif len(groups) == 1:
            everywhere = self.issued_by.get(next(iter(groups)), [])
            if len({self._region_of(i) for i in everywhere}) > 1:
                state.options = [r for r in (self.index.record(i) for i in everywhere) if r is not None]
                state.ask_region = True

    def _region_of(self, record_id: str) -> str:
        record = self.index.record(record_id)
        return record.region or "" if isinstance(record, ServiceGuide) else ""

    def _issued_in(self, record_ids: Sequence[str], region: str) -> list[ServiceGuide | Theme]:
        """Among guides of one item, those for ``region``: its own, or else its nearest parent's (a province's
        guide serves its cities). None when the ids are not one item, or none covers the region."""
        records = [r for r in (self.index.record(i) for i in record_ids) if isinstance(r, ServiceGuide)]
        if len(records) < 2 or len({item_key(r.name) for r in records}) != 1:
            return []
        covering = [r for r in records if r.region and region.startswith(r.region)]
        deepest = max((len(r.region or "") for r in covering), default=0)
        return [r for r in covering if len(r.region or "") == deepest]

    def _only_required(self, state: TurnState, result: Retrieval) -> str | None:
        """A certificate or licence the question asks how or where to get, which the guides found speak of only
        as something to bring or to hold (规划许可 asks for a 建设用地规划许可证; it does not issue one): no
        guide of the knowledge issues it. Not for questions about bringing it or about who may apply."""
        if {"materials", "who"} & set(state.facets) or result.confidence < self.search.calibration.refuse_below or \
                "named" in self.search.config.without:
            return None
        names = [h.name for h in result.hits[:MAX_OPTIONS]]
        if any(stem in name for name in names for stem in self._document_stems(state.text)):
            # a guide found is named for a thing the question names (实验动物生产许可证: 实验动物生产许可(新申请));
            # the other things it names are what the citizen holds ("港澳回乡证丢了，办出入境通行证")
            return None
        for said, thing in self._documents(state.text):
            having = [self.search.sections_having(h.record_id, thing) for h in result.hits[:MAX_OPTIONS]]
            having = [sections for sections in having if sections]
            if having and all(sections <= _REQUIRING for sections in having):
                return said
        return None

    def _documents(self, text: str) -> list[tuple[str, str]]:
        """The certificates and licences the question names: as said, and as the guides write them."""
        return [(said, thing) for said, thing, _ in self._named_documents(text)]

    def _named_documents(self, text: str) -> list[tuple[str, str, str]]:
        terms, things = names_of(text, self.search.tokenizer)
        named = [*((t.said, t.text, t.text[:-len(t.head)]) for t in terms), *((w, w, w) for w in things)]
        return [(said, thing, _document_stem(of)) for said, thing, of in named
                if thing.endswith(DOCUMENTS)]  # not 缴费登记: an act

    def _document_stems(self, text: str) -> list[str]:
        """What the documents the question names are of: 消防工程师资格证 → 消防工程师, 操作证 → 操作."""
        return [stem for _, _, stem in self._named_documents(text) if len(stem) >= 2]

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
        thing = _NOT_SERVICE.sub("", state.residue)
        if not 2 <= len(thing) <= 4 or "within" in self.search.config.without:
            return None
        asked = _pairs([thing, *normalise_query(thing, self.search.synonyms).expansions])
        found = self._beside(state, current, filters)
        for hit in found.hits:  # the current guide may well come first: its name is in the search
            record = self.index.record(hit.record_id)
            # not the 一件事 that bundles the current guide: "小升初呢" after 小学入学 is 初中入学 itself
            if record is not None and record.id != current.id and hit.confidence >= threshold and \
                    asked & _name_pairs(record) and not _bundled(record, current):
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
                    _name_pairs(record, aliases=False) & _name_pairs(current, aliases=False):
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
        if not isinstance(current, Theme) or "within" in self.search.config.without or asks_for_bundle(state.text) \
                or len(_NOT_SERVICE.sub("", state.residue)) < 2 or not result.hits:
            return None
        first = result.hits[0]
        ahead = len(result.hits) == 1 or result.hits[1].score < CLARIFY_RATIO * first.score
        return self.index.record(first.record_id) if first.record_id in current.items and ahead else None

    def _is_follow_up(self, state: TurnState, result: Retrieval, current_id: str, threshold: float) -> bool:
        """A question about the guide under discussion: nothing left once facet words are taken away,
        or a search whose best guide is the one under discussion."""
        residue = state.residue
        if "who" not in state.facets and self._named_elsewhere(residue, current_id):
            # "驾照丢了怎么办" after 驾照换证, "给宝宝交医保要带什么" after 居民医保: another service. Not "外地户口
            # 可以吗": who may apply is asked with attributes that other services are named after.
            return False
        core = _NOT_SERVICE.sub("", residue)  # "每个月能取多少" asks about 取: short
        short_or_facet = len(core) <= 2 or bool(state.facets) or _ELLIPTICAL.search(state.text) is not None
        if short_or_facet and not self._names_another_service(residue, current_id) and \
                not self._asks_about_its_own_service(state, residue, result, current_id, threshold):
            return True  # "要多久", "一年交多少钱", "那要是在青山区人民医院生的呢": about the guide just answered
        if not result.hits:
            return bool(state.facets)
        # A facet question ("实体卡多久拿到") that points nowhere else confidently is about the current guide,
        # and so is one whose search keeps the current guide close to the top.
        current = next((h for h in result.hits if h.record_id == current_id), None)
        if current is not None and current.score >= CLARIFY_RATIO * result.hits[0].score and \
                (state.facets or result.confidence >= threshold):
            return True
        return bool(state.facets) and result.confidence < threshold

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
        if listed and "materials" in state.facets and not _WHAT.search(state.text):
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
        residue = _NOT_SERVICE.sub("", residue)  # "小孩", "外地" name no service, nor do "网上", "周六"
        if not _pairs([residue]) & self.service_pairs or \
                any(residue in n for n in self.name_residues.get(current_id, [])):
            return False
        return any(residue in names[0] or any(a.startswith(residue) for a in names[1:])
                   for record_id, names in self.name_residues.items() if record_id != current_id)

    def _residue(self, text: str) -> str:
        """What is left of a question without its facet cues, district names and filler words."""
        for cue in _ALL_CUES:
            text = text.replace(cue, "")
        for name in self.region_names:
            text = text.replace(name, "")
        return _FILLER.sub("", _QUESTION_WORDS.sub("", text))

    def _names_another_service(self, residue: str, current_id: str) -> bool:
        """Does the question name a service (a pair of some guide's name) that the current guide never mentions?"""
        current_text = self.search.record_text(current_id)
        return any(p in self.service_pairs and p not in current_text for p in _pairs([residue]))

    def _asks_about_its_own_service(self, state: TurnState, residue: str, result: Retrieval, current_id: str,
                                    threshold: float) -> bool:
        """Does the question ask how or where to get a thing the current guide only mentions in passing?

        A passport guide lists 居民身份证 among its materials and a marriage guide 离婚证, but "身份证怎么办"
        and "离婚怎么办" ask for the service named after them, when a fresh search confidently finds one.
        "要带身份证吗" (a material) and "那小孩的呢" (a detail of the same service) stay.
        """
        if "materials" in state.facets or _ELLIPTICAL.search(state.text) or not result.hits or \
                result.confidence < threshold or result.hits[0].record_id == current_id:
            return False
        top, current = self.index.record(result.hits[0].record_id), self.index.record(current_id)
        if top is None or current is None:
            return False
        named = _pairs([residue]) & self.service_pairs
        return bool(named) and named <= _name_pairs(top, aliases=False) and not named & _name_pairs(current)

    def decide(self, state: TurnState) -> TurnState:
        session = state.session
        if state.small_talk:
            state.answer = compose_small_talk(state.small_talk)
        elif state.handoff_reason:
            state.answer = compose_handoff(state.handoff_reason, hotline=self._hotline_useful(state))
        elif state.ask_topic:
            state.answer = compose_topic_question(state.facets)
        elif state.options and state.ask_region:
            state.answer = compose_region_question(state.options, state.confidence)
        elif state.options:
            state.answer = compose_clarify(state.options, state.confidence)
        elif state.record is not None:
            districts = district_choices(state.record)
            if "where" in state.facets and districts and not session.region and \
                    not _names_a_location(state.text, state.record) and not asks_online(state.text, state.facets):
                state.districts = districts
                state.answer = compose_district_question(state.record, districts)
        elif state.noise:
            # a slip of the keyboard does not send anyone to staff
            state.answer = compose_refusal(hotline=self._hotline_useful(state))
        elif state.progress:
            state.answer = compose_progress(None)  # no failed turn: the question was clear
        else:
            session.failures += 1
            if session.failures >= FAILURES_BEFORE_HANDOFF:
                state.answer = compose_handoff("repeated_failure", hotline=self._hotline_useful(state))
            else:
                # No guide names as chips: below the threshold they were what the citizen meant in 4 of
                # 73 development questions, and a weather question was offered 燃气过户.
                unmatched = state.retrieval.unmatched if state.retrieval is not None else ()
                state.answer = compose_refusal(unmatched[0] if unmatched else None,
                                               hotline=self._hotline_useful(state))
        return state

    @staticmethod
    def _close_other(state: TurnState) -> bool:
        """Another guide scored close to the one answered (at least CLOSE_OTHER of its score): only then is
        "如果您要办的不是…" worth saying."""
        hits = state.retrieval.hits if state.retrieval is not None else []
        if not hits or state.record is None:
            return True  # a follow-up on the guide under discussion: no ranking to judge by
        top = max(h.score for h in hits)
        return any(h.chunk.record_id != state.record.id and h.score >= CLOSE_OTHER * top for h in hits[:5])

    @staticmethod
    def _hotline_useful(state: TurnState) -> bool:
        """Not when the citizen has already called 12345 (this turn or earlier): no reply sends them back."""
        said = [t.content for t in state.session.turns if t.role == "user"]
        return not called_hotline([*said, state.question])

    def compose(self, state: TurnState) -> TurnState:
        if state.answer is None and state.record is not None and state.progress:
            if "进度" in self.search.record_text(state.record.id):
                state.to_the_point = True  # the guide says how to follow it: that passage
            else:
                state.answer = compose_progress(state.record)
        if state.answer is None and state.record is not None and "fee" in state.facets and \
                any(w in state.record.name for w in _PAID_OUT) and not _PAYS.search(state.text):
            # "每个月多少钱" about 育儿补贴 asks how much is paid out, not what the service costs
            state.facets = [f for f in state.facets if f != "fee"]
            state.to_the_point = state.to_the_point or not state.facets
        if state.answer is None and state.record is not None:
            shown = {FACET_SECTIONS[f] for f in state.facets} | {"name", "aliases", "overview", "contact", "basis"}
            related = self.search.best_chunks(state.question, state.record.id, skip=tuple(shown))
            notes = []
            said = None
            if "time" in state.facets and asks_urgent(state.text):
                # "能加急吗": the time limit, and what the guide says of hurrying (said aloud: the clause that
                # answers), or that it says nothing (nothing to hurry when it is done on the spot). Not the
                # passages on 办理时间 that "赶时间" would match.
                related = self.search.passages(state.record.id, _URGENT_TEXT)
                if related:
                    said = _clauses(related[:1], _URGENT_TEXT)
                elif not _AT_ONCE.search(state.record.time_limit_promised or ""):
                    notes.append(unstated("能否加急办理", state.record))
            state.answer = compose_answer(state.record, state.facets, region=state.session.region, hall=state.hall,
                                          item_names=self.names, related=related, confidence=state.confidence,
                                          unsure=state.unsure and self._close_other(state),
                                          only_related=state.to_the_point, notes=notes,
                                          spoken_notes=said, question=state.text)
        assert state.answer is not None
        if state.elsewhere is not None and state.answer.decision in ("answer", "clarify", "refuse"):
            state.answer = note_elsewhere(state.answer, state.elsewhere.name, self.areas)
        elif state.story_unsure and state.answer.decision == "answer" and state.record is not None:
            state.answer = note_story_unsure(state.answer, state.record.consult_phone)
        self._update_session(state)
        return state

    def _update_session(self, state: TurnState) -> None:
        session = state.session
        answer = state.answer
        assert answer is not None
        session.remember("user", state.question)
        session.remember("assistant", answer.text)
        if answer.decision == "chat":
            return  # small talk: the guide under discussion, the options offered and the failures stay as they were
        session.options = [r.id for r in state.options] if answer.decision == "clarify" and state.options else []
        session.region_options = state.districts
        session.awaiting_topic = state.ask_topic
        if state.record is not None:
            session.record_id = state.record.id
            theme = self.index.record(session.theme_id) if session.theme_id else None
            if isinstance(state.record, Theme):
                session.theme_id = state.record.id
            elif not (isinstance(theme, Theme) and state.record.id in theme.items):
                session.theme_id = None
        if state.facets:
            session.facets = state.facets
        if answer.decision in ("answer", "clarify") or answer.decision == "handoff":
            session.failures = 0

    # -- the whole turn ---------------------------------------------------------------------------
    def run_turn(self, question: str, session: Session | None = None, *, hall_id: str | None = None) -> TurnState:
        """One turn through every stage; ``session`` (updated in place) carries the dialogue state."""
        session = session if session is not None else Session()
        hall = self.halls.get(hall_id) if hall_id else None
        state = TurnState(question=question.strip(), session=session, hall=hall)
        if not state.question:
            state.answer = compose_refusal()
            return state
        for stage in (self.understand, self.resolve, self.decide, self.compose):
            state = stage(state)
        assert state.answer is not None
        logger.info("turn decided %s (record %s, confidence %.2f)", state.answer.decision,
                    state.record.id if state.record else None, state.confidence)
        return state

    def ask(self, question: str, session: Session | None = None, *, hall_id: str | None = None) -> Answer:
        """Answer one turn (see :meth:`run_turn`)."""
        answer = self.run_turn(question, session, hall_id=hall_id).answer
        assert answer is not None
        return answer

    def sources(self, answer: Answer) -> str:
        """The text of every record an answer cites (and the halls), for the grounding check."""
        from assistant.grounding import source_text

        records = [r for r in (self.index.record(i) for i in dict.fromkeys(c.guide_id for c in answer.citations)) if r]
        return source_text(records, self.halls.values())


def _bundled(first: ServiceGuide | Theme, other: ServiceGuide | Theme) -> bool:
    return (isinstance(first, Theme) and other.id in first.items) or \
        (isinstance(other, Theme) and first.id in other.items)


def _name_pairs(record: ServiceGuide | Theme, *, aliases: bool = True) -> set[str]:
    """Character pairs of the record's name (and aliases), without the ones every question has."""
    words = [record.name, *record.aliases] if aliases else [record.name]
    return {p for p in _pairs(words) if not set(p) & _GENERIC_CHARS}


def _pairs(words: list[str]) -> set[str]:
    """Every pair of adjacent characters of each word."""
    return {w[i : i + 2] for w in words for i in range(len(w) - 1)}


def _names_a_location(text: str, record: ServiceGuide | Theme) -> bool:
    """The question names one of the record's places ("妇幼保健院"), so the district does not matter."""
    for location in record.locations:
        name = location.name or ""
        if any(name[i : i + 4] in text for i in range(max(0, len(name) - 3))):
            return True
    return False


_FIRST_ISSUE = LEXICON.pattern("first-issue")


# Guides named for following an application (…办证进度查询), and the words of a question that asks to follow one.
_LOOKUPS = json.loads(files("assistant").joinpath("data/lookups.json").read_text(encoding="utf-8"))
_LOOKUP_GUIDE_ENDS = tuple(_LOOKUPS["guide_ends"])
_LOOKUP_ASKS = tuple(_LOOKUPS["question_asks"])


def _is_lookup(name: str) -> bool:
    return name.strip().endswith(_LOOKUP_GUIDE_ENDS)


def asks_lookup(text: str) -> bool:
    return any(word in text for word in _LOOKUP_ASKS)


# Sections where a guide speaks of a certificate it asks for, not one it issues (that is in its name,
# aliases, overview, steps or outcomes; an FAQ may answer for it either way).
_REQUIRING = frozenset(("materials", "eligibility"))


def _document_stem(thing: str) -> str:
    """What a named document is of, without what kind of paper it is: 消防工程师资格证 → 消防工程师 (the term's
    head already taken off), 操作证 → 操作."""
    for head in sorted(DOCUMENTS, key=len, reverse=True):
        if thing.endswith(head):
            return thing[:-len(head)]
    return thing


def _clauses(chunks: list[Chunk], pattern: re.Pattern[str]) -> list[str]:
    """The clauses of the passages that match, each as a sentence: what to say of a long passage."""
    found = []
    for chunk in chunks:
        for clause in re.split(r"[；;。\n]", chunk.text.split("】", 1)[-1]):
            if pattern.search(clause):
                found.append(re.sub(r"^\s*\d+[.、]\s*", "", clause.strip()) + "。")
    return found[:1]


def _singles_out(text: str, record: ServiceGuide | Theme, others: list[ServiceGuide | Theme], *,
                 aliases: bool = True) -> bool:
    """Does the question name something of ``record`` that the ``others`` lack?

    A character pair of its name (and aliases) ("补领", "个体", "退休") that none of the others has in
    name or aliases; a question naming only what they share ("身份证", "公积金提取") needs a clarifying question.
    """
    theirs = set().union(*(_name_pairs(o) for o in others))
    return any(pair in text for pair in _name_pairs(record, aliases=aliases) - theirs)


def _with_places(names: dict[str, str], places: list[Place], areas: list[str]) -> dict[str, str]:
    """``names`` and the cities inside the knowledge's areas that a question may name (data/places.tsv):
    "汕头" → 广东省汕头市, so a question from 汕头 is searched among 汕头's and the province's guides, not
    another city's, even where the knowledge has no guide of 汕头's own."""
    widened = dict(names)
    for place in places:
        if place.name != place.province and any(place.within(area) for area in areas):
            full = place.name if place.name.startswith(place.province) else f"{place.province}{place.name}"
            for name in (place.name, place.short):
                widened.setdefault(name, full)
    return dict(sorted(widened.items(), key=lambda kv: -len(kv[0])))


def item_key(name: str) -> str:
    """A guide's name as one item, whoever publishes it: "律师执业变更审核(（执业类别变更）)" and
    "律师执业变更审核(执业类别变更)" are one item with its brackets written two ways."""
    return _BRACKETS.sub("", name)


_BRACKETS = re.compile(r"[()（）《》〈〉\[\]【】\s]")


def _region_names(regions: list[str]) -> dict[str, str]:
    """Short names a citizen uses ("明湖区", "明湖") → the full region ("示例市明湖区")."""
    unique = sorted(set(regions), key=lambda r: (len(r), r))
    names: dict[str, str] = {}
    for region in unique:
        parents = [p for p in unique if p != region and region.startswith(p)]
        short = region[len(max(parents, key=len)):] if parents else region
        if len(short) >= 2:
            names.setdefault(short, region)
            if short[-1] in "区县市镇" and len(short) >= 3:
                names.setdefault(short[:-1], region)
    return dict(sorted(names.items(), key=lambda kv: -len(kv[0])))

