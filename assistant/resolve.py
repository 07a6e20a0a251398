"""Which guide a turn is about: the steps of resolve, applied in order until one settles the turn."""

from __future__ import annotations

from dataclasses import replace

from assistant.acts import is_story
from assistant.candidates import Candidates, char_pairs
from assistant.fields import item_key
from assistant.followups import FollowUps
from assistant.hits import UNMATCHED_CAP, Filters
from assistant.intent import has_words
from assistant.lexicon import LEXICON
from assistant.query import normalise_query
from assistant.session import PICKS_BY_NUMBER, narrow_options, pick_option
from assistant.turn import A_NUMBER, MAX_OPTIONS, NOT_SERVICE, SURE, TurnState
from knowledge.schema import Hall, Theme

_NONE_OF_THESE = LEXICON.words("none-of-these")
_HALL_WORDS = LEXICON.groups("hall-words")
_HALL_FACETS = frozenset(("where", "phone", "time"))


class Resolve(FollowUps, Candidates):
    """The resolve stage: a part of Assistant (its search, index, names and regions)."""

    names: dict[str, str]
    halls: dict[str, Hall]
    areas: list[str]
    region_names: dict[str, str]

    def resolve(self, state: TurnState) -> TurnState:
        """Find the guide. Each step settles the turn (a guide, options to ask among, noise) or leaves it to the
        next, in this order: an answer to our own question back, an item picked by its number, a question about a
        hall itself, a field asked with no service named, then a search: a follow-up on the guide under discussion,
        or the candidates found. Options the citizen turned down are then set aside."""
        if state.handoff_reason or state.small_talk:
            return state
        for step in (self._answers_our_question, self._picks_by_number, self._asks_about_hall, self._names_no_service,
                     self._searches):
            if step(state):
                break
        if state.session.options and any(word in state.text for word in _NONE_OF_THESE):
            # "都不是，我想问社保卡怎么激活": not the menu turned down again, nor one of it
            refused = set(state.session.options)
            state.options = [r for r in state.options if r.id not in refused]
            if state.record is not None and state.record.id in refused:
                state.record = None
            if len(state.options) == 1:
                state.record, state.options = state.options[0], []
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
        # the pairs of services' names the reply has ("离婚登记要预约吗": 离婚, 登记…)
        services = char_pairs([NOT_SERVICE.sub("", state.residue)]) & self.service_pairs
        if session.options:
            # "我老公去世了" picks 住房公积金提取（职工死亡）: the standard terms synonym rules add count too
            names = [self.names.get(i, i) for i in session.options]
            # a reply naming a service none of the options is asks anew ("离婚登记要预约吗" after the 医保 options:
            # its 登记 picks no 参保登记), unless it picks by number
            unoffered = services - char_pairs(names)
            picked = pick_option(state.text, names)
            if picked is not None and unoffered and not PICKS_BY_NUMBER.search(state.text):
                picked = None
            # …a standard term only where an option's name holds it whole: "离婚" adds 离婚登记, whose 登记 is no
            # pick of 结婚登记预约 ("那离婚呢" after 结婚登记预约 or 补领结婚证预约 asks anew)
            terms = [t for t in normalise_query(state.text, self.search.synonyms).expansions
                     if any(t in name for name in names)]
            if picked is None:
                picked = pick_option(" ".join((state.text, *terms)), names) if terms else None
            if picked is not None:
                state.record = self.index.record(session.options[picked])
                state.facets = state.facets or session.facets
                state.confidence = 1.0
                return True
            # Words that some options hold and the others lack narrow the choice, unless the reply names a service
            # none of them is
            narrowed = [] if unoffered else narrow_options(" ".join((state.text, *terms)), names)
            if len(narrowed) == 1:  # "大陆居民 小车": the one option holding both
                state.record = self.index.record(session.options[narrowed[0]])
                state.facets = state.facets or session.facets
                state.confidence = 1.0
                return True
            if narrowed and not state.facets:  # "大陆居民": among the options of 大陆居民, asked again
                state.options = [r for r in (self.index.record(session.options[i]) for i in narrowed) if r is not None]
                state.reasked = True
                return True
        if session.options and (A_NUMBER.fullmatch(state.text) or not state.residue or state.facets and not services):
            # "5" after four options, only a district ("青山区"), or a field asked of none of them ("多少钱一年"): ask
            # again among them rather than search, or answer about the guide discussed before them.
            state.options = [r for r in (self.index.record(i) for i in session.options) if r is not None]
            state.asked_again = A_NUMBER.fullmatch(state.text) is not None
            state.reasked = True
            return True
        return False

    def _picks_by_number(self, state: TurnState) -> bool:
        """"第三个" after a theme's numbered list of items is that item; with nothing under discussion, nothing
        was picked (and "第一个" is no question about a first application). A message with no words is noise."""
        session = state.session
        if A_NUMBER.fullmatch(state.text):
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

    def _asks_about_hall(self, state: TurnState) -> bool:
        """"你们政务中心几点下班", "明湖区政务服务中心在哪": where, when or which phone of a hall itself, naming no
        service: the hall named, else the kiosk's own, else the area's main hall."""
        text = state.text
        when = any(word in text for word in _HALL_WORDS.get("when", ()))
        hours = when or any(word in text for word in _HALL_WORDS.get("hours", ()))  # "你们中午休息吗": no cue
        if not self.halls or not (state.facets or hours) or not set(state.facets) <= _HALL_FACETS or \
                any(word in text for word in _HALL_WORDS.get("inside", ())):
            return False
        halls = sorted(self.halls.values(), key=lambda h: -len(h.name))
        named = next((h for h in halls if h.name in text), None)
        general = any(word in text for word in _HALL_WORDS.get("hall", ()))
        # at a kiosk, "你们这几点关门", or "周六开门吗" with nothing under discussion: the hall it stands in
        here = state.hall is not None and (any(word in text for word in _HALL_WORDS.get("here", ())) or
                                           state.session.record_id is None and when)
        if named is None and general:
            # "明湖区政务中心": the hall of the district named; "市政务服务中心": the area's own
            regions = [region for name, region in self.region_names.items() if name in text]
            named = next((h for h in halls if h.region and h.region in regions), None)
        if named is None and not (general or here):
            return False
        residue = state.residue  # without cue, district, question and filler words
        for word in (*(h.name for h in halls), *_HALL_WORDS.get("hall", ()), *_HALL_WORDS.get("here", ()),
                     *_HALL_WORDS.get("when", ()), *_HALL_WORDS.get("hours", ()), "市"):
            residue = residue.replace(word, "")
        if len(residue) > 1:
            return False  # "政务中心办社保卡在几楼": a service is named
        state.hall_asked = named or state.hall or next((h for h in halls if h.region in self.areas), halls[-1])
        return True

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
