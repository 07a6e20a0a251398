"""The word tables kept as data (assistant/data/lexicon/): each does what its header says, and a deployment
can extend them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest

from assistant.intent import (
    FACET_ORDER,
    SmallTalk,
    asks_for_bundle,
    asks_progress,
    asks_urgent,
    detect_facets,
    small_talk,
    wants_human,
)
from assistant.lexicon import BUNDLED, LEXICON, Lexicon, read_table
from knowledge.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_every_bundled_table_says_what_it_is_for_and_has_entries() -> None:
    files = sorted(p for p in BUNDLED.iterdir() if p.suffix in (".txt", ".tsv", ".re"))
    assert len(files) >= 30 and any(p.suffix == ".re" for p in files)
    for path in files:
        table = read_table(path)
        assert len(table.header) >= 30, path.name  # what it is for and how it is matched
        assert "match" in table.header.lower() or "substring" in table.header.lower(), path.name
        assert table.entries or table.groups


def test_grouped_tables_name_only_groups_the_code_reads() -> None:
    assert set(LEXICON.groups("facets")) <= set(FACET_ORDER)
    assert set(LEXICON.groups("small-talk")) <= set(get_args(SmallTalk))
    assert set(LEXICON.groups("verdict-kinds")) == {"can", "need", "asks-can", "asks-need", "confirm"}


@pytest.mark.parametrize(("facet", "cue"), [(f, c) for f, cues in LEXICON.groups("facets").items() for c in cues])
def test_every_facet_cue_asks_for_its_facet(facet: str, cue: str) -> None:
    assert facet in detect_facets(cue)


@pytest.mark.parametrize(("table", "check"), [
    ("urgent", asks_urgent), ("progress", asks_progress), ("handoff", wants_human), ("bundle", asks_for_bundle),
])
def test_every_cue_of_a_list_does_what_its_table_is_for(table: str, check) -> None:  # type: ignore[no-untyped-def]
    missed = [word for word in LEXICON.words(table) if not check(f"请问{word}")]
    assert missed == []


def test_every_small_talk_word_is_small_talk_of_its_kind() -> None:
    kinds = LEXICON.groups("small-talk")
    for kind, words in kinds.items():
        for word in words:
            said = small_talk(word)
            assert said is not None and word in kinds[said], (kind, word)
    for filler in LEXICON.words("small-talk-filler"):
        assert small_talk(f"{filler}谢谢") == "thanks", filler


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_a_deployment_extends_a_table_with_a_file_of_the_same_name(tmp_path: Path) -> None:
    extra = _write(tmp_path / "lex", "urgent.txt", "# 本市说法：matched as plain substrings.\n十万火急\n加急\n")
    _write(extra, "facets.tsv", "# 本市说法：matched as plain substrings.\nfee\t几个钱\n")
    lexicon = Lexicon(extra=extra)
    assert lexicon.words("urgent")[-1] == "十万火急" and lexicon.words("urgent").count("加急") == 1
    assert lexicon.words("urgent")[: len(LEXICON.words("urgent"))] == LEXICON.words("urgent")
    assert lexicon.groups("facets")["fee"][-1] == "几个钱"
    assert lexicon.groups("facets")["who"] == LEXICON.groups("facets")["who"]


def test_the_extension_folder_reaches_a_running_process(tmp_path: Path) -> None:
    extra = _write(tmp_path / "lex", "urgent.txt", "# 本市说法：matched as plain substrings.\n十万火急\n")
    code = "from assistant.intent import asks_urgent; print(asks_urgent('办证十万火急'))"
    env = {**os.environ, "BANSHI_LEXICON": str(extra)}
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "True"
    env.pop("BANSHI_LEXICON")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "False"


@pytest.mark.parametrize(("name", "text", "message"), [
    ("urgent.txt", "十万火急\n", "starts with a # header"),
    ("urgent.txt", "# what it is, matched as substrings\n\n", "empty"),
    ("urgent.txt", "# what it is, matched as substrings\n十万\t火急\n", "one entry a line"),
    ("facets.tsv", "# what it is, matched as substrings\n几个钱\n", "expected group<TAB>entry"),
    ("facets.tsv", "# what it is, matched as substrings\nprice\t几个钱\n", "unknown groups"),
    ("urgent.tsv", "# what it is, matched as substrings\nx\t十万火急\n", "is a list"),
    ("nonsense.txt", "# what it is, matched as substrings\n十万火急\n", "no bundled table is called nonsense"),
    ("online-question.re", "# what it is, matched anywhere\n(网上\n", "line 2: not a regular expression"),
    ("online-question.txt", "# what it is, matched as substrings\n网上\n", "is a table of .re entries"),
])
def test_a_bad_extension_is_refused_naming_the_file_and_what_is_wrong(tmp_path: Path, name: str, text: str,
                                                                    message: str) -> None:
    extra = _write(tmp_path / "lex", name, text)
    with pytest.raises(ConfigError, match=message):
        Lexicon(extra=extra)


def test_an_extension_folder_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a folder"):
        Lexicon(extra=tmp_path / "missing")


def test_no_word_table_comes_back_into_code() -> None:
    from evals.word_tables import ROOT as CODE
    from evals.word_tables import word_tables

    left = word_tables([CODE / "assistant", CODE / "knowledge"])
    assert left == [], [name for _, _, name, _ in left]  # docs/lexicon.md: 41 before the tables moved


def _patterns():  # type: ignore[no-untyped-def]
    import assistant.candidates as candidates
    import assistant.complaints as complaints
    import assistant.compose as compose
    import assistant.fields as fields
    import assistant.grounding as grounding
    import assistant.places as places
    import assistant.service as service
    import assistant.turn as turn

    return {
        "pays": (service._PAYS, "{}吗"), "guide-urgent": (service._URGENT_TEXT, "可{}办理"),
        "at-once": (service._AT_ONCE, "{}办结"), "first-issue": (candidates._FIRST_ISSUE, "{}领证"),
        "what": (turn.WHAT, "要带{}"), "question-words": (compose.QUESTION_WORDS, "要{}"),
        "follow-up-openings": (turn.ELLIPTICAL, "{}青山区的"), "asks-procedure": (complaints._ASKS_PROCEDURE, "{}"),
        "document-kinds": (grounding._DOCUMENT, "带上{}"), "place-question": (compose._PLACE_QUESTION, "{}"),
        "delivery-question": (compose._DELIVERY_QUESTION, "能{}吗"), "yes-no-answers": (compose._YES_NO_ANSWER, "{}。"),
        "origin-before": (places._ORIGIN_BEFORE, "我{}"), "origin-after": (places._ORIGIN_AFTER, "{}的"),
        "name-act-suffixes": (fields._ACT_SUFFIX, "居住证{}"),
    }


@pytest.mark.parametrize("table", sorted(_patterns()))
def test_every_word_of_a_pattern_table_is_matched_where_the_code_reads_it(table: str) -> None:
    pattern, template = _patterns()[table]
    search = pattern.match if pattern.pattern.startswith("^") else pattern.search
    missed = [w for w in LEXICON.words(table) if not search(template.format(w))]
    assert missed == []
    assert not search(template.format("天气"))  # and nothing else


def test_a_guide_with_an_online_channel_can_be_done_online() -> None:
    from assistant.fields import can_do_online
    from knowledge.schema import ServiceGuide

    for channel in LEXICON.words("online-channels"):
        assert can_do_online(ServiceGuide(id="g", name="某事项", channels=[channel], visits=1))
    assert not can_do_online(ServiceGuide(id="g", name="某事项", channels=["窗口办理"], visits=1))


def _regex_tables():  # type: ignore[no-untyped-def]
    """Each table of regular expressions, where the code reads it, with messages it must match and must not."""
    import assistant.compose as compose
    import assistant.followups as followups
    import assistant.intent as intent
    import assistant.service as service
    import assistant.session as session

    return {
        "yes-no-question": (compose._YES_NO, ["能网上办吗", "要不要预约", "是否收费", "网上办能不？"],
                            ["怎么办", "要带什么"]),
        "online-question": (compose._ONLINE_QUESTION, ["手机上能办吗", "网上怎么申请", "APP能办吗", "要跑几趟",
                                                       "一定要去窗口吗"], ["网上能查到吗", "在哪办", "去哪个窗口"]),
        "self-description": (followups._SELF, ["我是广州户口，要带什么", "我是外地户口呢", "本人是个体户"],
                             ["我是来办离婚的", "他是外地户口", "要是外地的呢"]),
        "online-lookup": (compose._ONLINE_LOOKUP, ["上哪查", "网上可以看吗", "在线报名"], ["要多久"]),
        "overview-materials": (compose._OVERVIEW_CUES[0][1], ["要交什么", "交哪些表"], ["要多久"]),
        "overview-who": (compose._OVERVIEW_CUES[1][1], ["哪些人可以申请", "我还能领吗"], ["要多久"]),
        "asks-for-person": (intent._ASKS_FOR_PERSON, ["叫个真人同我倾", "找你们领导"], ["申请表要领导签字吗"]),
        "asks-where-to-complain": (intent._ASKS_WHERE_TO_COMPLAIN, ["投诉电话多少", "投诉打哪个电话"], ["我要投诉"]),
        "given-number": (service._GIVEN_NUMBER, ["我的电话是[手机号已隐藏]", "[身份证号已隐藏]"], ["电话多少"]),
        "option-pick": (session.PICKS_BY_NUMBER, ["第三个", "第2项", "2"], ["第一次办", "第二胎", "22"]),
        "deadline-question": (service._DEADLINE_QUESTION, ["入职多久内要办社保", "几天之内可以申请复核",
                                                           "最晚多少天要办"], ["要多久", "多少天能办好"]),
        "deadline-text": (service._DEADLINE_TEXT, ["自用工之日起30日内", "十五个工作日内", "后的第一个工作日"],
                          ["即时办结", "10个工作日", "一次性"]),
    }


@pytest.mark.parametrize("table", sorted(_regex_tables()))
def test_every_table_of_expressions_matches_what_it_is_for_where_the_code_reads_it(table: str) -> None:
    pattern, matched, unmatched = _regex_tables()[table]
    assert pattern.pattern == LEXICON.regex(table, flags=pattern.flags).pattern
    assert [m for m in matched if not pattern.search(m)] == []
    assert [m for m in unmatched if pattern.search(m)] == []


def test_numerals_and_emoji_are_read_from_their_tables() -> None:
    from assistant.intent import small_talk
    from assistant.session import pick_option

    assert [pick_option(text, ["甲", "乙", "丙"]) for text in ("第三个", "第两个", "第一个", "3", "第九个")] == \
        [2, 1, 0, 2, None]
    assert small_talk("🙏") == small_talk("谢谢") is not None


def test_a_pick_of_a_numeral_the_ordinals_lack_picks_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A city's option-pick.re may match a numeral that ordinals.tsv does not have (十): no option, no error."""
    import assistant.session as session

    monkeypatch.setattr(session, "PICKS_BY_NUMBER", re.compile(r"第\s*(十)\s*个"))
    assert session.pick_option("第十个", ["甲", "乙"]) is None


def test_the_small_tables_are_read_where_the_code_reads_them(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """complaint-words makes a request for a person a complaint; last-option picks the last option; lacking keeps
    "无"/"非" with what a question names."""
    from assistant.named import names_of
    from assistant.session import Session, pick_option
    from knowledge.tokenize import Tokenizer

    for word in LEXICON.words("complaint-words"):
        state = demo_assistant.run_turn(f"我要转人工，{word}", Session())
        assert state.handoff_reason == "complaint", word
    assert demo_assistant.run_turn("我要转人工", Session()).handoff_reason == "requested"
    for word in LEXICON.words("last-option"):
        assert pick_option(f"{word}吧", ["居住证申领", "居住证签注", "临时居民身份证申领"]) == 2, word
    tokenizer = Tokenizer()
    for lead in LEXICON.words("lacking"):
        terms, _ = names_of(f"开{lead}犯罪记录证明要什么材料", tokenizer)
        assert any(t.lead == lead for t in terms), lead


def test_filler_characters_and_asking_verbs_are_read_from_their_tables(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """Each filler character leaves nothing of a question that names no service; a word that starts with a verb of
    asking ("领居住证明") is the act and the document, not a document's name."""
    from assistant.named import _terms

    for char in LEXICON.words("filler-chars"):
        assert demo_assistant._residue(f"{char}居住证{char}") == "居住证", char
    assert [t.text for t in _terms([("暂住", "noun"), ("居住证明", "noun")])] == ["暂住居住证明"]
    for verb in LEXICON.words("asking-verbs"):
        assert _terms([("暂住", "noun"), (f"{verb}居住证明", "noun")]) == [], verb
