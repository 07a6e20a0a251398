"""The assistant: a question and the dialogue state in; an answer, a clarifying question, a refusal
or a handoff out.

The turn goes through stages that each take and return a :class:`TurnState`: understand (normalise,
facets, district, handoff cues) → resolve (dialogue state and retrieval: which guide?) → decide →
compose. :mod:`assistant.chain` strings the same stages together as a LangChain runnable.
"""

from __future__ import annotations

import logging
import re

from assistant.acts import unasked_act
from assistant.answer import Answer
from assistant.candidates import char_pairs, name_pairs
from assistant.complaints import ComplaintDetector
from assistant.compose import QUESTION_WORDS, RELATED, SOURCE, asks_online, compose_answer, where_faq
from assistant.fields import FACET_SECTIONS, district_choices, item_key, place_named, unstated
from assistant.intent import (
    BUNDLE_CUES,
    CUES,
    FACET_ORDER,
    HANDOFF_CUES,
    PROGRESS_CUES,
    Facet,
    asks_progress,
    asks_urgent,
    called_hotline,
    detect_facets,
    small_talk,
    wants_human,
)
from assistant.lexicon import LEXICON
from assistant.named import DOCUMENTS, names_of
from assistant.places import Place, load_places, place_elsewhere
from assistant.query import normalise_query
from assistant.redact import redact
from assistant.replies import (
    compose_clarify,
    compose_district_question,
    compose_hall,
    compose_handoff,
    compose_not_chinese,
    compose_progress,
    compose_refusal,
    compose_region_question,
    compose_small_talk,
    compose_topic_question,
    note_alike,
    note_elsewhere,
    note_personal,
    note_story_unsure,
)
from assistant.resolve import Resolve
from assistant.retriever import HybridSearch
from assistant.session import Session
from assistant.turn import NOT_SERVICE, NOT_SERVICE_WORDS, TurnState
from knowledge.records import Chunk
from knowledge.schema import ServiceGuide, Theme

logger = logging.getLogger(__name__)

FAILURES_BEFORE_HANDOFF = 2
# A number the citizen gives ("电话13812345678", "身份证号…"), not a question about phones: the number
# (redacted first) goes, with the word that introduces it.
_GIVEN_NUMBER = LEXICON.regex("given-number")
_NOT_THIS = LEXICON.regex("not-this")
# Services that pay money out (a subsidy, a pension, a withdrawal): "多少钱" asks how much one receives.
_PAID_OUT = LEXICON.words("paid-out")
_COMPLAINT_WORDS = LEXICON.words("complaint-words")
_PAYS = LEXICON.pattern("pays")
_URGENT_TEXT = LEXICON.pattern("guide-urgent")  # a guide that speaks of hurrying: its passage answers
_AT_ONCE = LEXICON.pattern("at-once")
_DEADLINE_QUESTION = LEXICON.regex("deadline-question")
_DEADLINE_TEXT = LEXICON.regex("deadline-text")
_AMOUNT = re.compile(r"\d[\d,.]*\s*(万元|元)")  # a sum of money a guide states: 3600元, 1.2万元
# A message of words in Latin letters and no Chinese ("How do I renew my ID card?"): another language.
_FOREIGN = re.compile(r"[^\u4e00-\u9fff]*[A-Za-z]{2,}[^\u4e00-\u9fff]*?\s+[A-Za-z]{2,}[^\u4e00-\u9fff]*")
# Every cue word, longest first: "到哪一步" goes before "到哪" can leave "一步" behind.
_ALL_CUES = sorted({c for cues in (*CUES.values(), PROGRESS_CUES) for c in cues}, key=lambda c: (-len(c), c))
_FILLER = re.compile(f"[{re.escape(''.join(LEXICON.words('filler-chars')))}\\s?？!！,，.。、~～]")


CLOSE_OTHER = 0.6  # another guide this close to the first makes "如果您要办的不是…" worth saying




_ASKS_HERE = LEXICON.groups("hall-words")["asks-here"]
NAME_CUES = sorted({cue for cues in CUES.values() for cue in cues}, key=len, reverse=True)  # longest first
NAME_SAID = 3  # characters in a row of the question that the service's name holds: the name, as said


def _outside_name(text: str, name: str) -> str:
    """The question with every run of NAME_SAID or more characters that ``name`` holds blanked out."""
    kept = list(text)
    for i in range(len(text) - NAME_SAID + 1):
        if text[i:i + NAME_SAID] in name:
            kept[i:i + NAME_SAID] = "，" * NAME_SAID
    return "".join(kept)


class Assistant(Resolve):
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
        generic = char_pairs([*(c for cues in CUES.values() for c in cues), *BUNDLE_CUES, *HANDOFF_CUES,
                          *NOT_SERVICE_WORDS, *self.region_names.values()])
        # Character pairs of every guide's name and aliases: a follow-up that uses one of them (and the guide
        # under discussion does not) is about another service. Only pairs inside words: "外地户口孩子上学" gives
        # 户口 and 上学, not 地户 or 口孩 (longer words, "外地户口", come with their parts in jieba's search mode).
        words = self.search.tokenizer.words
        in_words = char_pairs([w for r in records for name in (r.name, *r.aliases) for w in words(name) if len(w) <= 3])
        self.service_pairs = (set().union(*(name_pairs(r) for r in records)) & in_words) - generic
        # What is left of each name and alias once cue and filler words go: a follow-up that is the start
        # of another service's alias ("驾照丢了" → 驾照丢) or part of its name ("离婚") names that service.
        self.name_residues = {r.id: [NOT_SERVICE.sub("", self._residue(n))
                                     for n in (r.name.lower(), *(a.lower() for a in r.aliases))] for r in records}
        # A handoff cue inside the knowledge's own names ("人工繁育…的审核", "事业单位工作人员申诉", "政府采购投诉处理")
        # names a service there, not a wish for a person: the cue with the characters around it in the name.
        self.cues_in_names = _cues_in_names([n.lower() for r in records for n in (r.name, *r.aliases)])

    def swap(self, search: HybridSearch) -> None:
        """Answer from ``search`` from now on (the knowledge was re-indexed); a turn in flight ends on the old."""
        self.__dict__.update(Assistant(search, self.complaints).__dict__)  # one update: no turn sees half of each

    # -- the stages -----------------------------------------------------------------------------
    def understand(self, state: TurnState) -> TurnState:
        question = state.question
        # Personal numbers are no part of the question, and are kept out of the dialogue state.
        redacted = redact(state.question)
        rest = _GIVEN_NUMBER.sub("", redacted).strip(" ，,。")
        # "不是到期，是身份证坏了要换": what it rules out is no part of what it asks
        state.question = _NOT_THIS.sub("", rest).strip(" ，,。") or rest or redacted
        text = normalise_query(state.question, self.search.synonyms).text
        state.text = text
        state.residue = self._residue(text)
        state.facets = detect_facets(self._without_names(text))
        if state.hall is not None and "where" not in state.facets and any(w in text for w in _ASKS_HERE):
            # "办护照在这里吗" at a kiosk: whether its hall does it, else where to go
            state.facets = [f for f in FACET_ORDER if f in {*state.facets, "where"}]
        state.progress = asks_progress(text)
        if state.progress and not state.facets:
            state.facets = ["how"]  # "护照办好了没有": how to follow it, the same for each of its lookups
        # A message of nothing but personal numbers ("我身份证号…"): a word on keeping them to oneself.
        state.small_talk = "personal" if redacted != question and not rest else small_talk(text)
        state.personal = redacted != question and bool(rest)
        if state.small_talk:
            return state  # "你是人工智能吗" asks about the assistant, not for a person
        if wants_human(self._without_named_cues(text)):
            complains = any(w in text for w in _COMPLAINT_WORDS) or self._is_complaint(state)
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

    def _without_named_cues(self, text: str) -> str:
        """The question without the handoff cues it uses as part of a service's name ("人工繁育")."""
        if "named" in self.search.config.without:
            return text
        for context in self.cues_in_names:
            text = text.replace(context, "，")
        return text

    def _is_complaint(self, state: TurnState) -> bool:
        """Does the message tell of a wrong done and ask for it to be dealt with, without the cue words?"""
        return self.complaints is not None and self.complaints.is_complaint(state.question)

    def _residue(self, text: str) -> str:
        """What is left of a question without its facet cues, district names and filler words."""
        for cue in _ALL_CUES:
            text = text.replace(cue, "")
        for name in self.region_names:
            text = text.replace(name, "")
        return _FILLER.sub("", QUESTION_WORDS.sub("", text))

    def decide(self, state: TurnState) -> TurnState:
        session = state.session
        if state.options and not (state.small_talk or state.handoff_reason or state.ask_topic or state.ask_region) \
                and (same := self._alike(state)):
            # named after the first one without an act the question does not ask for (核发, not 变更)
            first = state.options[0] if "acts" in self.search.config.without else \
                next((r for r in state.options if not unasked_act(state.text, r.name)), state.options[0])
            state.record, state.alike, state.options = first, [r for r in state.options if r is not first], []
            state.answer = note_alike(same[first.id], state.alike)
        if state.small_talk:
            state.answer = compose_small_talk(state.small_talk)
        elif state.handoff_reason:
            state.answer = compose_handoff(state.handoff_reason, hotline=self._hotline_useful(state))
        elif state.hall_asked is not None:
            state.answer = compose_hall(state.hall_asked, state.facets, state.text)
        elif state.ask_topic:
            state.answer = compose_topic_question(state.facets)
        elif state.options and state.ask_region:
            state.answer = compose_region_question(state.options, state.confidence)
        elif state.options:
            state.answer = compose_clarify(state.options, state.confidence, again=state.asked_again,
                                           wanted=state.facets if state.reasked else ())
        elif state.record is not None:
            districts = district_choices(state.record)
            # Not when the guide's own FAQ asks where for the citizen's case: it says whom to go to in any district.
            if "where" in state.facets and districts and not session.region and \
                    place_named(state.record, None, state.text) is None and not asks_online(state.text, state.facets) \
                    and not where_faq(state.text, self.search.best_chunks(state.question, state.record.id)):
                state.districts = districts
                state.answer = compose_district_question(state.record, districts)
        elif state.noise:
            # a slip of the keyboard does not send anyone to staff
            state.answer = compose_refusal(hotline=self._hotline_useful(state))
        elif state.progress:
            state.answer = compose_progress(None)  # no failed turn: the question was clear
        elif _FOREIGN.fullmatch(state.question):
            state.answer = compose_not_chinese(hotline=self._hotline_useful(state))  # no failed turn: not understood
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
        if state.record is not None and self._paid_out(state, state.record):
            state.facets, state.to_the_point = self._asked_of(state, state.record)  # and the session keeps that
        if state.answer is None and state.record is not None:
            state.answer = self._answer_from(state, state.record)
        assert state.answer is not None
        if state.elsewhere is not None and state.answer.decision in ("answer", "clarify", "refuse"):
            state.answer = note_elsewhere(state.answer, state.elsewhere.name, self.areas)
        elif state.story_unsure and state.answer.decision == "answer" and state.record is not None:
            state.answer = note_story_unsure(state.answer, state.record.consult_phone)
        if state.personal and state.answer.decision in ("answer", "clarify", "refuse"):
            state.answer = note_personal(state.answer)  # "我身份证号…，帮我查…": kept out of the chat, and why
        self._update_session(state)
        return state

    @staticmethod
    def _paid_out(state: TurnState, record: ServiceGuide | Theme) -> bool:
        """"每个月多少钱" about 育儿补贴 asks how much is paid out, not what the service costs."""
        return "fee" in state.facets and _pays_out(state.text, record)

    def _asked_of(self, state: TurnState, record: ServiceGuide | Theme) -> tuple[list[Facet], bool]:
        """The facets the question asks of ``record``, and whether only the passages on it answer. A cue word
        that is part of the service's name as the citizen says it, or that the name holds, asks for nothing
        ("殡葬费用减免在哪里办": 费用 is the name's, the question is where)."""
        outside = _outside_name(state.text, record.name)
        for cue in NAME_CUES:  # "工伤医疗费用怎么申报" of 工伤医疗/康复/辅助器具配置费用申报: its 费用 names it too
            if cue in record.name:
                outside = outside.replace(cue, "，")
        named = set(detect_facets(state.text)) - set(detect_facets(outside))
        facets: list[Facet] = [f for f in state.facets if f not in named]
        if not self._paid_out(state, record):
            return facets, state.to_the_point
        facets = [f for f in facets if f != "fee"]
        return facets, state.to_the_point or not facets

    def _answer_from(self, state: TurnState, record: ServiceGuide | Theme) -> Answer:
        """The answer to the turn's question from ``record``: the field asked, the passages that answer, a card."""
        facets, to_the_point = self._asked_of(state, record)
        shown = {FACET_SECTIONS[f] for f in facets} | {"name", "aliases", "overview", "contact", "basis"}
        related = self.search.best_chunks(state.question, record.id, skip=tuple(shown))
        notes = []
        said = None
        deadline = False
        opening = None
        if "time" in facets and asks_urgent(state.text):
            # "能加急吗": the time limit, and what the guide says of hurrying (said aloud: the clause that
            # answers), or that it says nothing (nothing to hurry when it is done on the spot). Not the
            # passages on 办理时间 that "赶时间" would match.
            related = self.search.passages(record.id, _URGENT_TEXT)
            if related:
                said = _clauses(related[:1], _URGENT_TEXT)
            elif not _AT_ONCE.search(record.time_limit_promised or ""):
                notes.append(unstated("能否加急办理", record))
        elif "time" in facets and _DEADLINE_QUESTION.search(state.text):
            # "多久之内要登记": the guide's words on the deadline ("…第一个工作日内…"), said after the time limit,
            # with the passage they come from cited
            found = [c for c in related if c.section == "faq" and _DEADLINE_TEXT.search(c.text)][:1] or \
                self.search.passages(record.id, _DEADLINE_TEXT, n=1)
            if found:
                notes += _clauses(found, _DEADLINE_TEXT)
                related = [*found, *(c for c in related if c.text != found[0].text)]
                # said aloud, from the clause that holds the deadline on ("应在变化之日起30日内办理。"), without
                # the field's label
                parts = re.sub(r"^[^，：]{2,6}：", "", notes[-1]).split("，")
                at = next((i for i, part in enumerate(parts) if _DEADLINE_TEXT.search(part)), 0)
                said = ["，".join(parts[at:])]
                deadline = True
        elif (to_the_point or facets) and "fee" in detect_facets(state.text) and _pays_out(state.text, record):
            # "育儿补贴一个月给多少钱": how much is paid is said with an amount (每月按300元); a passage that states one
            # comes first, and its clause with the amount is said aloud though its first sentence is long. Asked with
            # another facet ("…，怎么申请"), that clause opens the answer, then how.
            amounts = [c for c in related if _AMOUNT.search(c.text)] or \
                self.search.passages(record.id, _AMOUNT, n=1, skip=tuple(shown))
            amount = _amount_clause(amounts[0]) if amounts else None
            if to_the_point or amount:
                related = [*amounts[:1], *(c for c in related if not amounts or c.text != amounts[0].text)]
            if to_the_point:
                said = [amount] if amount else None
            else:
                opening = amount
        return compose_answer(record, facets, region=state.session.region, hall=state.hall,
                              item_names=self.names, related=related, confidence=state.confidence,
                              unsure=state.unsure and self._close_other(state),
                              only_related=to_the_point, notes=notes,
                              spoken_notes=said, question=state.text, notes_lead=deadline, opening=opening)

    def _alike(self, state: TurnState) -> dict[str, Answer] | None:
        """Would every option get the same answer to this question, word for word but for its name? Then a
        question back asks the citizen to choose what changes nothing ("复转退军人医师资格证书换发" 临床, 中医 or
        公共卫生: the same materials): answer, and say it holds for each. Each option's answer when so, else None."""
        options = state.options
        # A bare name ("房屋公证指引") asks which service; only a question for a fact of it (材料, 收费…) can be
        # answered the same whichever one is meant.
        if len(options) < 2 or not state.facets or "alike" in self.search.config.without or \
                not all(isinstance(r, ServiceGuide) for r in options):
            return None
        answers: dict[str, Answer] = {}
        texts, cores = set(), set()
        for record in options:
            answers[record.id] = self._answer_from(state, record)
            text = answers[record.id].text.replace(record.name, "")
            texts.add(_without_source(text))
            cores.add(_without_source(_without_related(text)))
            if len(cores) > 1:
                return None
        if len(texts) > 1:
            # The same but for the passages under 相关说明, picked by the question's words from each guide ("公证员任
            # 职申请在广州哪个窗口办": the same window, and materials that differ): what was asked holds for each, and
            # what differs is not said as if it did (each guide in full is a choice away).
            answers = {i: a.model_copy(update={"text": _without_related(a.text)}) for i, a in answers.items()}
        return answers  # each option's answer, the same but for its name

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

    def region_of(self, name: str) -> str | None:
        """The region a citizen's district is, by its full or its short name ("示例市青山区", "青山区"); None when
        the knowledge has no such region."""
        region = self.region_names.get(name, name)
        return region if region in self.region_names.values() else None

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


def _pays_out(text: str, record: ServiceGuide | Theme) -> bool:
    """Is the guide one that pays money out (育儿补贴, 丧葬补助金), so that "多少钱" about it asks how much is paid, not
    what it costs (unless the question's words ask a cost: "要交钱吗")?"""
    return any(w in record.name for w in _PAID_OUT) and not _PAYS.search(text)


def _amount_clause(chunk: Chunk) -> str | None:
    """The first clause of a passage that states a sum of money, as a sentence ("每月按300元（每年3600元）。")."""
    text = chunk.text.split("】", 1)[-1].split("答：", 1)[-1]
    found = next((c.strip() for c in re.split(r"[，,；;。\n]", text) if _AMOUNT.search(c)), None)
    return re.sub(r"^\s*\d+[.、]\s*", "", found) + "。" if found else None


def _clauses(chunks: list[Chunk], pattern: re.Pattern[str]) -> list[str]:
    """The clauses of the passages that match, each as a sentence: what to say of a long passage (of a FAQ, of
    its answer)."""
    found = []
    for chunk in chunks:
        for clause in re.split(r"[；;。\n]", chunk.text.split("】", 1)[-1].split("答：", 1)[-1]):
            if pattern.search(clause):
                found.append(re.sub(r"^\s*\d+[.、]\s*", "", clause.strip()) + "。")
    return found[:1]


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


def _cues_in_names(names: list[str], around: int = 2) -> list[str]:
    """Each handoff cue as a name uses it, with the ``around`` characters the name has before it, and with those
    after it ("人工繁育" from 人工繁育9种…, "工作人员申诉" from 事业单位工作人员申诉…): only a question that says that
    much of the name is taken to name it ("我要投诉工作人员" is no 工作人员申诉). Longest first."""
    contexts = set()
    for name in names:
        for cue in HANDOFF_CUES:
            start = name.find(cue)
            while start >= 0:
                end = start + len(cue)
                # either side will do: "通信基站投诉监测" names 通信基站公众信访投诉监测 by what follows 投诉
                for context in (name[max(0, start - around):end], name[start:min(len(name), end + around)]):
                    if len(context) == len(cue) + around:
                        contexts.add(context)
                start = name.find(cue, start + 1)
    return sorted(contexts, key=lambda c: (-len(c), c))


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


def _without_source(text: str) -> str:
    """An answer's text without its source line (which names the guide)."""
    return "\n".join(line for line in text.splitlines() if not line.startswith(SOURCE))


def _without_related(text: str) -> str:
    """An answer's text without its 相关说明 block (the heading and its list, up to the blank line after it)."""
    lines = text.split("\n")
    if RELATED not in lines:
        return text
    start = lines.index(RELATED)
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith("- ")), len(lines))
    return "\n".join(lines[:start] + lines[end + (end < len(lines) and not lines[end].strip()):])
