"""The acts of data/acts.json: what a guide does against what a message asks to do."""

from __future__ import annotations

import json
from dataclasses import replace
from importlib.resources import files

import pytest

from assistant.acts import ACTS, STORY_CHARS, asked_act, is_story, load_acts, story_unasked, unasked_act
from knowledge.errors import ConfigError
from tests.conftest import small_pack_search

RAW = json.loads(files("assistant").joinpath("data/acts.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("raw", RAW["acts"], ids=[a["act"] for a in RAW["acts"]])
def test_every_act_of_the_file_matches_its_own_words(raw: dict) -> None:  # type: ignore[type-arg]
    act = next(a for a in ACTS if a.name == raw["act"])
    for word in raw["guide"]:
        assert act.names(f"某某证{word}"), word
    for word in raw["asked"]:
        assert act.asked_in(f"请问{word}怎么办"), word
    for word in raw["unasking"]:  # a word that only looks like an asked word asks for nothing
        assert not act.asked_in(f"听说有{word}"), word
    assert not act.names("某某证") and not act.asked_in("请问怎么办")


@pytest.mark.parametrize(("text", "guide", "unasked", "asked"), [
    ("结婚证怎么领", "补领结婚证", True, False),
    ("结婚证丢了怎么补", "补领结婚证", False, True),
    ("残疾证办了有补助吗", "残疾人证挂失补办", True, False),  # 补助 is no 补办
    ("社保卡刷不了了", "社会保障卡挂失与补换", False, True),
    ("驾照到期了怎么办", "机动车驾驶证期满换证", False, True),
    ("出生证丢了怎么补办", "出生医学证明信息查询", False, False),  # 查询 is judged for long messages only…
    ("残疾证怎么办", "《中华人民共和国残疾人证》查询", False, False),  # …so a short question unasked keeps it
    ("怎么查残疾证是不是真的", "《中华人民共和国残疾人证》查询", False, True),  # but asked, it picks (picks: true)
    ("事故调查", "生产安全事故信息查询", False, False),  # 调查 is no 查
])
def test_the_acts_asked_among_candidates(text: str, guide: str, unasked: bool, asked: bool) -> None:
    assert unasked_act(text, guide) is unasked
    assert asked_act(text, guide) is asked


def test_a_long_story_is_judged_on_every_act_and_a_short_question_is_not() -> None:
    story = "孩子是前年在广州一家医院出生的，出生医学证明一直夹在户口本里，搬家以后怎么都找不到了，出生证丢了要怎么补办"
    assert is_story(story) and not is_story("出生证丢了要怎么补办")
    assert story_unasked(story, "出生医学证明信息查询") == "查询"
    assert story_unasked(story, "出生医学证明补发") is None
    assert story_unasked("出生证丢了要怎么补办", "出生医学证明信息查询") is None
    moving = ("我是江西人，大专毕业后来深圳工作两年多了，社保一直在深圳交，"
              "现在想把户口迁到深圳来，人才引进落户要怎么申请")
    assert story_unasked(moving, "户口迁出") == "迁出"
    assert story_unasked(moving.replace("迁到深圳来", "迁回江西老家"), "户口迁出") is None
    assert is_story("一" * STORY_CHARS) and not is_story("一" * (STORY_CHARS - 1) + "abc")


@pytest.mark.parametrize("text, message", [
    ("[]", "expected an object"),
    ('{"acts": [{"guide": ["补领"], "asked": ["补"]}]}', "needs a name"),
    ('{"acts": [{"act": "补领", "guide": [], "asked": ["补"]}]}', "needs guide words"),
    ('{"acts": [{"act": "补领", "guide": ["补领"], "asked": "补"}]}', "补领.asked must be a list"),
])
def test_a_bad_acts_file_is_refused_with_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_acts(text)


_PACK = {
    "pack.yaml": "name: births\ntitle: 出生测试包\nregion: 测试市\nsample: true\ndescription: 测试用。\nlicence: MIT\n",
    "guides/births.yaml": """- id: t-birth-lookup
  name: 出生医学证明信息查询
  aliases: [出生证查询, 查出生医学证明]
  kind: 公共服务
  department: 测试市卫生健康局
  region: 测试市
  eligibility: 在本市医院出生、持有出生医学证明的，可查询其信息，核对出生证真伪。
  consult_phone: 0000-1110009
""",
}


@pytest.fixture(scope="module")
def birth_search(tmp_path_factory: pytest.TempPathFactory, embedder):  # type: ignore[no-untyped-def]
    return small_pack_search(tmp_path_factory, embedder, "birth", _PACK)


def test_a_story_is_not_answered_with_a_guide_for_an_act_it_never_asks(birth_search) -> None:  # type: ignore[no-untyped-def]
    from assistant.service import Assistant

    story = ("孩子在测试市医院出生，出生医学证明一直夹在户口本里，搬家以后怎么都找不到了，"
             "出生医学证明信息丢了，要怎么补办出生医学证明")
    assert Assistant(birth_search).ask("出生医学证明信息查询在哪里查").citations[0].guide_id == "t-birth-lookup"
    refused = Assistant(birth_search).ask(story)
    assert refused.decision == "refuse" and not refused.citations
    birth_search.config = replace(birth_search.config, without=frozenset({"stories"}))
    try:  # the rule is what keeps the lookup out
        unruled = Assistant(birth_search).ask(story)
    finally:
        birth_search.config = replace(birth_search.config, without=frozenset())
    assert unruled.decision == "answer" and unruled.citations[0].guide_id == "t-birth-lookup"
    asked = Assistant(birth_search).ask(story.replace("要怎么补办出生医学证明", "要怎么查询出生医学证明"))
    assert asked.decision == "answer" and asked.citations[0].guide_id == "t-birth-lookup"


def test_a_story_found_with_modest_confidence_gets_the_guide_only_as_a_reference(birth_search) -> None:  # type: ignore[no-untyped-def]
    from assistant.service import Assistant
    from assistant.turn import SURE

    story = ("孩子在测试市医院出生，出生医学证明一直夹在户口本里，单位要核对出生证明的真伪，"
             "想问出生医学证明信息要怎么查询")
    hedged = Assistant(birth_search).ask(story)
    assert hedged.decision == "answer" and hedged.citations[0].guide_id == "t-birth-lookup"
    assert hedged.confidence < SURE and hedged.reference_only
    assert hedged.text.startswith("以下指南与您的情况不一定相符，仅供参考") and "0000-1110009" in hedged.text
    assert "仅供参考" in hedged.speech and "转人工" in hedged.suggestions
    short = Assistant(birth_search).ask("出生医学证明怎么查询")  # a short question: answered as asked
    assert short.decision == "answer" and short.confidence < SURE and not short.reference_only
    birth_search.config = replace(birth_search.config, without=frozenset({"stories"}))
    try:
        plain = Assistant(birth_search).ask(story)
    finally:
        birth_search.config = replace(birth_search.config, without=frozenset())
    assert plain.decision == "answer" and not plain.reference_only and not plain.text.startswith("以下指南")

