"""Which guide the question means among the candidates a search found: the close ones, then the one its act
or its own words single out, the citizen's region's own, or a question back; and a certificate no guide issues."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from difflib import SequenceMatcher
from importlib.resources import files

from assistant.acts import asked_act, names_an_act, story_unasked, unasked_act
from assistant.fields import item_key
from assistant.hits import Filters, Hit, Retrieval
from assistant.intent import asks_for_bundle
from assistant.lexicon import LEXICON
from assistant.named import DOCUMENTS, names_of
from assistant.places import of_origin
from assistant.retriever import HybridSearch
from assistant.turn import MAX_OPTIONS, TurnState
from knowledge.index import KnowledgeIndex
from knowledge.schema import ServiceGuide, Theme

GENERIC_CHARS = frozenset("的了吗呢吧啊呀么嘛是在和与及或我你您他她要想请怎样如何什哪里儿"
                           "个些这那还就都也有没能可办理申请咋弄整去带")
CLARIFY_RATIO = 0.8  # guides scoring this close to the first are candidates the question must tell apart
CLEAR_LEAD = 0.9  # unless the second scores below this share of the first


def bundled(first: ServiceGuide | Theme, other: ServiceGuide | Theme) -> bool:
    return (isinstance(first, Theme) and other.id in first.items) or \
        (isinstance(other, Theme) and first.id in other.items)


def name_pairs(record: ServiceGuide | Theme, *, aliases: bool = True) -> set[str]:
    """Character pairs of the record's name (and aliases), without the ones every question has."""
    words = [record.name, *record.aliases] if aliases else [record.name]
    return {p for p in char_pairs(words) if not set(p) & GENERIC_CHARS}


def char_pairs(words: list[str]) -> set[str]:
    """Every pair of adjacent characters of each word."""
    return {w[i : i + 2] for w in words for i in range(len(w) - 1)}


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


def _singles_out(text: str, record: ServiceGuide | Theme, others: list[ServiceGuide | Theme], *,
                 aliases: bool = True) -> bool:
    """Does the question name something of ``record`` that the ``others`` lack?

    A character pair of its name (and aliases) ("补领", "个体", "退休") that none of the others has in
    name or aliases, or a longer run of its name that none of theirs has; a question naming only what they share
    ("身份证", "公积金提取") needs a clarifying question.
    """
    theirs = set().union(*(name_pairs(o) for o in others))
    if any(pair in text for pair in name_pairs(record, aliases=aliases) - theirs):
        return True
    return _run_singles_out(text, record.name, [o.name for o in others])


def _said_whole(text: str, records: list[ServiceGuide | Theme]) -> ServiceGuide | Theme | None:
    """The one candidate whose whole name (WHOLE_NAME characters or more) the question says, when no other shares
    a longer run with it ("…怎么申请法律援助": 法律援助, not 法律援助律师执业许可（聘用人员）, whose 律师 is said
    apart)."""
    said = [r for r in records if len(r.name) >= WHOLE_NAME and r.name in text]
    if len(said) != 1:
        return None
    length = len(said[0].name)
    return said[0] if not any(_common_run(text, r.name) > length for r in records if r is not said[0]) else None


WHOLE_NAME = 4  # characters of a name the question says whole that picks it
NAME_RUN = 5  # a run of the question this long, in one name and no other, singles that one out


def _run_singles_out(text: str, name: str, others: list[str]) -> bool:
    """A run of NAME_RUN characters of the question in ``name`` and in none of ``others``: "二级注册消防工程师" names
    二级注册消防工程师注册审批 though each of its pairs is in 一级注册消防工程师… or 二级注册结构工程师…"""
    for start in range(len(text) - NAME_RUN + 1):
        run = text[start:start + NAME_RUN]
        if run in name and not any(run in o for o in others):
            return True
    return False


FIRST_ISSUE_DEPTH = 10  # how far down the search the guide for a thing's first issue is looked for
SIBLING_RUN = 4  # names sharing this many characters in a row are variants of one thing (植物检疫证书)


def _common_run(a: str, b: str) -> int:
    """The length of the longest run of characters two names share."""
    return SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b)).size


class Candidates:
    """The choice among candidates: a part of Assistant (its search, index and regions)."""

    search: HybridSearch
    index: KnowledgeIndex
    region_names: dict[str, str]
    issued_by: dict[str, list[str]]

    def _candidates(self, state: TurnState, result: Retrieval,
                    threshold: float) -> tuple[list[Hit], list[ServiceGuide | Theme]]:
        """The hits close enough to the first to be what the question means, and their guides: a theme and its own
        items are not alternatives (the bundle when asked for, else the item)."""
        close = [h for h in result.hits[:MAX_OPTIONS]
                 if h.score >= CLARIFY_RATIO * result.hits[0].score and h.confidence >= threshold]
        if "lookups" not in self.search.config.without and not (state.progress or asks_lookup(state.text)):
            # "居住证要怎么申请": not 居住证办理进度查询, whatever its score; nothing else close is no answer
            close = [h for h in close if not _is_lookup(h.name)]
        elif "lookups" not in self.search.config.without and state.progress:
            # "学习签注办好了没，网上能查吗": one's own application's progress; the guide for following it, when
            # one is close, not the service itself
            close = [h for h in close if _is_lookup(h.name)] or close
        if "stories" not in self.search.config.without and not state.progress:
            # "…出生证丢了要怎么补办，回原来出生的医院能办吗": not 出生医学证明信息查询, a guide for an act the
            # whole story never asks for; nothing else close is no answer
            close = [h for h in close if story_unasked(state.text, h.name) is None]
        records = [r for r in (self.index.record(h.record_id) for h in close) if r is not None]
        if records:
            wanted = Theme if asks_for_bundle(state.text) else ServiceGuide
            first = next((r for r in records if isinstance(r, wanted) and
                          any(bundled(r, o) for o in records if o is not r)), records[0])
            records = [first, *(r for r in records if r is not first and not bundled(first, r))]
        return close, records

    def _choose(self, state: TurnState, result: Retrieval, close: list[Hit],
                records: list[ServiceGuide | Theme]) -> None:
        """Which of several candidates: the one the question's act or words single out, else ask back."""
        clearly_ahead = self._far_ahead(records, close)  # the first guide, any theme that bundles it aside
        # A guide the question singles out in its own words ("居住证签注") is asked for, act or not.
        unplaced = self._place_unsaid(state.text, records)  # the place every candidate serves tells none apart
        own = char_pairs(self.search.tokenizer.words(unplaced))
        without = self.search.config.without
        plain = records if "acts" in without else [
            r for r in records if not unasked_act(state.text, r.name) or
            own & (name_pairs(r) - set().union(*(name_pairs(o) for o in records if o is not r)))]
        acted = [] if "acts" in without else [r for r in records if asked_act(state.text, r.name)]
        # A candidate the citizen's own words name ("…能先办个临时的吗") outranks the act asked for.
        named = [] if "singles-out" in without else [
            r for r in records if _singles_out(unplaced, r, [o for o in records if o is not r], aliases=False)]
        first_issue = _FIRST_ISSUE.search(state.text) is not None
        if first_issue and "acts" not in without:
            # "第一次办残疾人证": a first application, not the card's 查询 either
            plain = [r for r in plain if not names_an_act(r.name)] or plain
        # "残疾证": every close guide is named for an act, and only the one whose act a short question may leave
        # unsaid (查询) is plain; that is no pick, the first issue of the thing is
        lone_act = "acts" not in without and len(plain) == 1 and len(records) > 1 and \
            names_an_act(plain[0].name) and not asked_act(state.text, plain[0].name) and \
            not unasked_act(state.text, plain[0].name)
        if len(plain) == 1 and not lone_act and (plain[0] is not records[0] or first_issue):
            state.record = plain[0]  # "结婚证怎么领", "第一次领结婚证": 结婚登记, not 补领结婚证
        elif lone_act and (first := self._first_issue_of(state, records)) is not None:
            state.record = first  # "残疾证": 《中华人民共和国残疾人证》新办证申请, not its 查询
        elif len(acted) == 1 and (len(plain) > 1 or plain == acted) and \
                (not (named_doing := [r for r in named if not unasked_act(state.text, r.name)]) or
                 named_doing == acted) and \
                not (acted[0] is not records[0] and clearly_ahead):
            state.record = acted[0]  # "社保卡芯片坏了": the one guide for redoing it, among 申领, 新生儿 …
        elif records[0] in plain and (clearly_ahead or "singles-out" not in without and
                                      _singles_out(self._place_unsaid(result.query.search_text, records),
                                                   records[0], records[1:])):
            state.record = records[0]
        elif "singles-out" not in without and plain and self._told_from_siblings(unplaced, plain[0], plain[1:],
                                                                                   records):
            state.record = plain[0]
        else:
            # Another candidate wins only when the citizen's own words name it ("居住证丢了，补办要钱吗"): a
            # pair of its name (not aliases, not synonyms added to the question) that no other one has…
            # …and it speaks of every thing the question names ("二级注册消防工程师…初始注册": not 结构工程师's)
            stems = self._document_stems(state.text)
            others_named = [r for r in named if r is not records[0] and
                            all(stem in r.name for stem in stems if stem in records[0].name)]
            if len(others_named) == 1:
                state.record = others_named[0]
            elif (context := self._named_by_context(state, records)) is not None:
                state.record = context
            elif (said := self._said_whole_below(state, result, records)) is not None:
                state.record = said
            else:
                state.options = records
                self._where_issued(state)

    def _said_whole_below(self, state: TurnState, result: Retrieval,
                          records: list[ServiceGuide | Theme]) -> ServiceGuide | Theme | None:
        """The guide whose whole name the question says, among the candidates or a little further down the search
        (past the options a question back lists). A name that several guides bear (one item as each district
        issues it) picks none: where is asked."""
        found = self.search.search(state.question, k=FIRST_ISSUE_DEPTH, filters=Filters(region=state.session.region))
        close: dict[str, ServiceGuide | Theme] = {r.id: r for r in records}
        for hit in found.hits:
            if hit.score >= CLARIFY_RATIO * result.hits[0].score and (record := self.index.record(hit.record_id)):
                close.setdefault(record.id, record)
        return _said_whole(state.text, list(close.values()))

    def _first_issue_of(self, state: TurnState, records: list[ServiceGuide | Theme]) -> ServiceGuide | Theme | None:
        """The guide for the first issue of the thing every candidate is a variant of: found a little further down
        the search, named with a word of a first application (新办, 首次) and sharing a run of SIBLING_RUN characters
        with each candidate; None unless exactly one."""
        found = self.search.search(state.question, k=FIRST_ISSUE_DEPTH, filters=Filters(region=state.session.region))
        firsts = [r for r in (self.index.record(h.record_id) for h in found.hits)
                  if r is not None and _FIRST_ISSUE.search(r.name) and not unasked_act(state.text, r.name) and
                  all(_common_run(r.name, o.name) >= SIBLING_RUN for o in records)]
        return firsts[0] if len(firsts) == 1 else None

    def _named_by_context(self, state: TurnState, records: list[ServiceGuide | Theme]) -> ServiceGuide | Theme | None:
        """The option the guide under discussion names: a pair of its name that one option's name has and no other
        option's. "医保怎么给他办" after 新生儿社会保障卡申领: 新生儿参加城乡居民基本医疗保险, not 城乡居民…参保登记
        or 退休人员…, as a citizen would mean at a desk."""
        current = self.index.record(state.session.record_id) if state.session.record_id else None
        if current is None or "context" in self.search.config.without or any(r.id == current.id for r in records):
            return None
        said = name_pairs(current, aliases=False)
        own = {r.id: name_pairs(r, aliases=False) for r in records}
        named = [r for r in records if said & (own[r.id] - set().union(*(own[o.id] for o in records if o is not r)))]
        return named[0] if len(named) == 1 else None

    def _place_unsaid(self, text: str, records: list[ServiceGuide | Theme]) -> str:
        """The question without the names of the one region every candidate is for, where it is said as where
        to apply: "在广州办往来台湾通行证" names no 广州市户籍居民…团队游签注 among 广州's own guides for the permit;
        "我是广州户口" says who applies, and still does."""
        regions = {r.region if isinstance(r, ServiceGuide) else None for r in records}
        region = next(iter(regions)) if len(regions) == 1 else None
        if not region:
            return text
        names = [name for name, named in self.region_names.items() if region.startswith(named)]  # longest first
        if not names:
            return text
        said = re.compile("|".join(map(re.escape, names)))
        return said.sub(lambda m: m.group() if of_origin(text[m.end():]) else "，", text)

    @staticmethod
    def _far_ahead(records: list[ServiceGuide | Theme], close: list[Hit]) -> bool:
        """Is the first guide clearly ahead of every other one offered (a theme that bundles it aside)?"""
        scores = {h.record_id: h.score for h in close}
        rivals = [scores.get(r.id, 0.0) for r in records[1:]]
        return bool(records) and max(rivals, default=0.0) < CLEAR_LEAD * scores.get(records[0].id, 0.0)

    @staticmethod
    def _told_from_siblings(text: str, first: ServiceGuide | Theme, rivals: list[ServiceGuide | Theme],
                            candidates: list[ServiceGuide | Theme]) -> bool:
        """When every candidate is a variant of one thing (their names share a run of SIBLING_RUN characters),
        and those of an act the question does not ask for are out, do the citizen's own words tell the first
        from the rivals left? "办出省植物检疫证书": 出省…核发 against 省内…核发, once the two 变更 are out. Not
        among things of several kinds (公司 设立 against 企业信息变更 and 注销: the act unsaid is no choice)."""
        return bool(rivals) and \
            all(_common_run(first.name, o.name) >= SIBLING_RUN for o in candidates if o is not first) and \
            _singles_out(text, first, rivals)

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
        documents = self._named_documents(state.text)
        names = [h.name for h in result.hits[:MAX_OPTIONS]]
        if any(len(stem) >= 2 and stem in name for name in names for _, _, stem in documents):
            # a guide found is named for a thing the question names (实验动物生产许可证: 实验动物生产许可(新申请));
            # the other things it names are what the citizen holds ("港澳回乡证丢了，办出入境通行证")
            return None
        for said, thing, _ in documents:
            having = [self.search.sections_having(h.record_id, thing) for h in result.hits[:MAX_OPTIONS]]
            having = [sections for sections in having if sections]
            if having and all(sections <= _REQUIRING for sections in having):
                return said
        return None

    def _named_documents(self, text: str) -> list[tuple[str, str, str]]:
        """The certificates and licences the question names: as said, as the guides write them, and what each is
        of (消防工程师资格证 → 消防工程师)."""
        terms, things = names_of(text, self.search.tokenizer)
        # a place said with it is where, not what it is of ("广东残疾证": 残疾证)
        named = [*((t.said, u.text, u.text[:-len(u.head)]) for t in terms for u in [t.unplaced]),
                 *((w, w, w) for w in things)]
        return [(said, thing, _document_stem(of)) for said, thing, of in named
                if thing.endswith(DOCUMENTS)]  # not 缴费登记: an act

    def _document_stems(self, text: str) -> list[str]:
        """What the documents the question names are of: 消防工程师资格证 → 消防工程师, 操作证 → 操作."""
        return [stem for _, _, stem in self._named_documents(text) if len(stem) >= 2]
