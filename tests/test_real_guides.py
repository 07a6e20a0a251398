"""The dialogue rules on a second knowledge base: a slice of the real 广东 export (read from ../shared/data, never
copied into the project), ingested into a fresh index. It shows the rules do not lean on the bundled pack's wording."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import GD_EXPORT, require

# Every guide whose name has one of these: the families the questions below choose within, with their neighbours.
SLICE = ("残疾人证", "实验动物生产许可", "出入境通行证", "往来港澳通行证", "律师执业变更审核", "植物检疫证书",
         "教师资格认定", "复转退军人医师资格证书换发", "人工繁育", "工作人员申诉", "投诉监测",
         "注册消防工程师", "二级注册结构工程师", "规范性文件查询", "公证员", "危险化学品港口装卸管理人员", "普通护照",
         "结婚证", "婚登记预约", "往来台湾通行证")


def _slice_assistant(tmp_path_factory: pytest.TempPathFactory, embedder: Any, words: tuple[str, ...]) -> Any:
    from assistant.query import load_synonyms
    from assistant.retriever import HybridSearch
    from assistant.service import Assistant
    from ingest.pipeline import Ingestor, load_source
    from knowledge.index import KnowledgeIndex

    export = require(GD_EXPORT)
    folder = tmp_path_factory.mktemp("gd-slice")
    rows = [line for line in export.read_text(encoding="utf-8").splitlines()
            if any(word in json.loads(line)["事项名称"] for word in words)]
    assert 40 <= len(rows) <= 400  # the slice is what it says: a few families, not the whole export
    (folder / "slice.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    index = KnowledgeIndex(tmp_path_factory.mktemp("gd-slice-data"), embedder)
    Ingestor(index).run([load_source(folder / "slice.jsonl")])
    return Assistant(HybridSearch(index, load_synonyms()))


@pytest.fixture(scope="module")
def real_assistant(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Any:
    return _slice_assistant(tmp_path_factory, embedder, SLICE)


def _asked(assistant: Any, *questions: str) -> Any:
    from assistant.session import Session

    session = Session()
    answers = [assistant.ask(q, session) for q in questions]
    return answers[-1]


def _answered_by(assistant: Any, question: str, title: str) -> Any:
    """The answer to ``question``, asserted to be answered from the guide whose title holds ``title``."""
    answer = _asked(assistant, question)
    assert answer.decision == "answer" and title in answer.citations[0].title, answer.text
    return answer


def test_the_act_asked_for_picks_the_variant(real_assistant: Any) -> None:
    _answered_by(real_assistant, "残疾人证丢了怎么补办", "《中华人民共和国残疾人证》挂失补办")
    _answered_by(real_assistant, "残疾人证旧了破了能换新的吗", "《中华人民共和国残疾人证》换领")


def test_a_name_said_whole_singles_out_its_guide_though_each_word_is_shared(real_assistant: Any) -> None:
    """二级 is in 二级注册结构工程师…, 消防 in 一级注册消防工程师…: the run "二级注册消防工程师" is in one name."""
    answer = _answered_by(real_assistant, "二级注册消防工程师初始注册要什么材料", "二级注册消防工程师注册审批")
    assert "资格证书" in answer.text.split("\n")[0]


def test_a_department_s_short_name_is_its_full_name(real_assistant: Any) -> None:
    """发改委 is 发展改革委 (the synonyms table): that department's guide. (On the whole export, without the rule, a
    question back among the 规范性文件查询 of 水利 and 农村水电; on this slice the guide is found either way.)"""
    from assistant.query import load_synonyms, normalise_query

    assert "发展改革委" in normalise_query("发改委的规范性文件能在网上查吗", load_synonyms()).expansions
    _answered_by(real_assistant, "发改委的规范性文件能在网上查吗", "广东省发展改革委规范性文件查询")


def test_a_follow_up_stays_with_the_guide_and_answers_the_field(real_assistant: Any) -> None:
    answer = _asked(real_assistant, "残疾人证丢了怎么补办", "要多久")
    assert answer.decision == "answer" and "挂失补办" in answer.citations[0].title
    assert answer.text.split("\n")[0].endswith("5个工作日（承诺办结时限）；法定办结时限10个工作日。")


def test_a_licence_the_question_names_is_the_one_the_guide_issues(real_assistant: Any) -> None:
    """实验动物生产许可证: its guides are named 实验动物生产许可(…) and speak of the 证 only as a condition."""
    answer = _answered_by(real_assistant, "新申请实验动物生产许可证要几个工作日", "实验动物生产许可(新申请)")
    assert "8个工作日" in answer.text
    held = _asked(real_assistant, "港澳回乡证在内地丢了，办出入境通行证几天能拿到？")  # what one holds, what one asks
    assert held.decision == "answer" and "出入境通行证" in held.citations[0].title


def test_one_item_several_publishers_issue_is_asked_back_not_guessed(real_assistant: Any) -> None:
    answer = _asked(real_assistant, "律师执业变更审核要什么材料")
    assert answer.decision == "clarify" and answer.text.count("律师执业变更审核") >= 2  # the variants, numbered



def test_an_abbreviation_the_lexicon_knows_names_the_guide(real_assistant: Any) -> None:
    """高校 is 高等学校 (the synonyms table, data): answered with that guide, not asked back among the levels. (On the
    whole export the table's line is what settles it; on this slice the ranking alone does too.)"""
    from assistant.query import load_synonyms, normalise_query

    assert "高等学校" in normalise_query("高校教师资格认定要准备哪些材料", load_synonyms()).expansions
    _answered_by(real_assistant, "高校教师资格认定要准备哪些材料", "高等学校教师资格认定")


def test_options_that_would_get_the_same_answer_are_not_asked_back(real_assistant: Any) -> None:
    """复转退军人医师资格证书换发 临床, 中医, 口腔 and 公共卫生 list the same materials word for word: which one
    the citizen means changes nothing in the answer, so it is given, and said to hold for the others (and they
    are cited: the line naming them is grounded). A bare name still asks which. Where the answers differ
    (出省 and 省内《植物检疫证书》 ask for other materials) the question back stays."""
    from dataclasses import replace

    asked = "复员军人换发医师资格证书要带哪些材料"
    answer = _asked(real_assistant, asked)
    assert answer.decision == "answer" and "复转退军人医师资格证书换发" in answer.citations[0].title
    assert "军队《医师资格证书》" in answer.text and "以上内容同样适用于" in answer.text
    others = answer.text.split("以上内容同样适用于")[1].split("\n")[0]
    assert others.count("复转退军人医师资格证书换发") == 3 and answer.citations[0].title not in others
    search = real_assistant.search
    search.config = replace(search.config, without=frozenset({"alike"}))
    try:  # the comparison of the answers is what spares the question back
        unruled = _asked(real_assistant, asked)
    finally:
        search.config = replace(search.config, without=frozenset())
    assert unruled.decision == "clarify"
    cited = {c.guide_id: c.title for c in answer.citations}
    assert len(cited) == 4 and all("复转退军人医师资格证书换发" in title for title in cited.values())
    assert _asked(real_assistant, "复转退军人医师资格证书换发").decision == "clarify"
    differing = _asked(real_assistant, "植物检疫证书要准备什么材料")
    assert differing.decision == "clarify" and "以上内容同样适用于" not in differing.text


def test_options_the_same_in_what_was_asked_are_answered_without_what_differs(real_assistant: Any) -> None:
    """广州's 公证员考核任职 and 公证员一般任职 are done at the same window; the passages the question's words pick
    from each (their materials, their conditions) differ. Asked where, the window is the answer for both, said to
    hold for the other, and what differs is not shown as if it held for both. Asked what to bring, the question
    back stays."""
    where = _asked(real_assistant, "公证员任职申请在广州哪个窗口办？")
    assert where.decision == "answer" and "广州市公共法律服务中心二楼1、2号窗口" in where.text, where.text
    assert "以上内容同样适用于" in where.text and len({c.guide_id for c in where.citations}) == 2
    assert "**相关说明**" not in where.text and "离开原工作岗位证明" not in where.text
    assert _asked(real_assistant, "广州公证员任职申请要带什么材料").decision == "clarify"


def test_an_act_asked_is_not_outweighed_by_a_guide_for_another_act_that_writes_the_thing_alike(
        real_assistant: Any) -> None:
    """"…资格证到期换证" asks for 换发. Only 遗失补发's name writes "资格证书", which the question's 资格证 shares a
    character pair with; a guide named for an act the question does not ask (补发) is not singled out that way."""
    answer = _asked(real_assistant, "危险化学品港口装卸管理人员资格证到期换证需要什么条件？")
    assert answer.decision == "answer" and "资格认可换发" in answer.citations[0].title, answer.text[:120]
    lost = _asked(real_assistant, "危险化学品港口装卸管理人员资格证丢了怎么补？")
    assert lost.decision == "answer" and "遗失补发" in lost.citations[0].title, lost.text[:120]


def test_following_an_application_is_answered_when_every_lookup_answers_alike(real_assistant: Any) -> None:
    """"我想查护照办好了没有" asks how to follow an application; the four 普通护照办证进度查询 (首次, 换发, 补发, 加注)
    are followed the same way, word for word: answered, said to hold for the others, not asked which."""
    answer = _asked(real_assistant, "我想查护照办好了没有")
    assert answer.decision == "answer" and "办证进度查询" in answer.citations[0].title, answer.text[:120]
    assert "以上内容同样适用于" in answer.text and "可全程网上办理" in answer.text


def test_a_move_and_a_first_application_pick_their_variant(real_assistant: Any) -> None:
    """迁出 and 迁入 are acts like 补领: the guide named for the one asked; a first application is none of them,
    nor the card's 查询."""
    _answered_by(real_assistant, "我要把户口迁往外省，残疾人证怎么转出去", "《中华人民共和国残疾人证》迁出")
    _answered_by(real_assistant, "残疾人证从外省迁到本地要带什么", "《中华人民共和国残疾人证》迁入")
    _answered_by(real_assistant, "初次办残疾人证要多久", "《中华人民共和国残疾人证》新办证申请")


def test_a_place_said_with_the_thing_is_not_another_thing(real_assistant: Any) -> None:
    """"香港探亲签注" and "广东残疾证" name a place with the thing: the guides that name that place answer (探亲签注,
    残疾人证迁入), not "暂未收录…"."""
    _answered_by(real_assistant, "我想去香港探亲 签注怎么办", "探亲签注")
    _answered_by(real_assistant, "我户口刚从江西迁到广东 残疾证要转过来", "《中华人民共和国残疾人证》迁入")


def test_the_city_every_option_serves_tells_none_apart(real_assistant: Any) -> None:
    """"在广州办往来台湾通行证": 广州 is where every 广州 guide for the permit is applied for, not the 广州市户籍居民
    that one 团队游签注's name holds, and 签注 is an act the question does not ask for. "我是广州户口" says who
    applies: that variant, among the 团队游签注 of 广东省内 and 全国通办 residents."""
    answer = _answered_by(real_assistant, "在广州办往来台湾通行证怎么预约？", "办理往来台湾通行证")
    assert "签注" not in answer.citations[0].title, answer.citations[0].title
    _answered_by(real_assistant, "我是广州户口，跟团去台湾旅游，签注怎么办", "广州市户籍居民办理往来台湾通行证")


def test_a_follow_up_of_cue_words_only_stays_on_the_guide(tmp_path_factory: pytest.TempPathFactory,
                                                           embedder: Any) -> None:
    """"能网上办吗" after 残疾人证迁入 names nothing: its 网上 is a cue word, not the part of a name (门诊网上预约)
    that the guide under discussion lacks."""
    assistant = _slice_assistant(tmp_path_factory, embedder, (*SLICE, "门诊网上预约", "外事咨询网上留言"))
    answer = _asked(assistant, "我户口刚从江西迁到广东 残疾证要转过来", "能网上办吗")
    assert answer.decision == "answer" and "迁入" in answer.citations[0].title, answer.text[:120]
    assert "不能网上办理" in answer.text.split("\n", 1)[0]


def test_a_bare_name_whose_close_guides_all_name_an_act_gets_its_first_issue(real_assistant: Any) -> None:
    """"残疾证": the close guides are 换领, 查询, 迁入, 注销…, and 查询 is the only one whose act a short question may
    leave unsaid; that is no pick. The guide for a first application, further down, answers."""
    _answered_by(real_assistant, "残疾证", "《中华人民共和国残疾人证》新办证申请")


def test_a_handoff_word_inside_a_services_name_asks_for_the_service(real_assistant: Any) -> None:
    """人工 in 人工繁育, 工作人员 in 事业单位工作人员申诉: the question names a service, it does not ask for a person.
    Said on its own, or with a complaint about staff, the word still hands over."""
    _answered_by(real_assistant, "人工繁育国家一级保护水生野生动物要交什么材料", "人工繁育")
    _answered_by(real_assistant, "事业单位工作人员申诉要多久", "事业单位工作人员申诉")
    # the name's two characters after the word are enough ("…公众信访投诉监测": 投诉监测)
    _answered_by(real_assistant, "通信基站投诉监测怎么申请", "通信基站公众信访投诉监测")
    assert _asked(real_assistant, "转人工").decision == "handoff"
    assert _asked(real_assistant, "我要投诉，基站的辐射监测一直没人管").decision == "handoff"
    assert _asked(real_assistant, "我要投诉窗口工作人员").decision == "handoff"


def test_words_that_tell_a_variant_from_those_left_once_an_unasked_act_is_out(real_assistant: Any) -> None:
    """出省 tells 出省《植物检疫证书》核发 from 省内…核发 once the 变更 guides, an act not asked for, are out."""
    answer = _answered_by(real_assistant, "花木运到外省去，出省植物检疫证书要多长时间", "出省《植物检疫证书》核发")
    assert "10个工作日" in answer.text


def test_a_question_about_ones_own_application_gets_the_guide_for_following_it(real_assistant: Any) -> None:
    """"批了没" asks how far one's own application has got: 办理往来港澳通行证探亲签注进度查询, not the 签注
    itself."""
    from dataclasses import replace

    asked = "港澳通行证探亲签注批了没，在哪能看到"
    answer = _asked(real_assistant, asked)
    assert answer.decision == "answer" and "探亲签注进度查询" in answer.citations[0].title
    search = real_assistant.search
    search.config = replace(search.config, without=frozenset({"lookups"}))
    try:
        unruled = _asked(real_assistant, asked)
    finally:
        search.config = replace(search.config, without=frozenset())
    assert not (unruled.decision == "answer" and "探亲签注进度查询" in unruled.citations[0].title)


def test_a_guide_for_booking_says_the_booking_is_online_not_the_service(real_assistant: Any) -> None:
    """The export's only guide for a lost 结婚证 is 补领结婚证预约, done wholly online: its answer must not tell a
    citizen that getting the certificate again needs no visit, only that booking it needs none."""
    answer = _answered_by(real_assistant, "补领结婚证", "补领结婚证预约")
    assert "可全程网上预约（广东省婚姻登记网上预约系统），预约无需到现场。" in answer.text
    assert "全程网上办理" not in answer.text and "全程网上办理" not in answer.speech
    where = _answered_by(real_assistant, "补领结婚证预约去哪里办", "补领结婚证预约")
    assert "[网上预约入口](" in where.text and "无线下办理窗口，仅网上预约。" in where.text
    assert "网上办理入口" not in where.text and "仅网上办理" not in where.text


def test_a_colloquial_word_the_synonyms_know_names_the_variant(real_assistant: Any) -> None:
    """名字 is what people say for 姓名: of the 二级注册结构工程师 registrations (姓名变更, 聘用企业变更, 重新注册…),
    the one for a changed name is answered, not asked back."""
    _answered_by(real_assistant, "二级注册结构工程师的名字改了，注册要怎么变更", "个人姓名变更")


def test_a_new_topic_after_a_question_back_is_searched_not_taken_for_an_option(real_assistant: Any) -> None:
    """"那离婚呢" after 结婚登记预约 or 补领结婚证预约 was offered: the synonym's 离婚登记 shares 登记 with the first
    option, which is no pick of it."""
    from assistant.session import Session

    session = Session()
    first = real_assistant.ask("我要结婚，广东", session)
    assert first.decision == "clarify" and any("结婚登记预约" in s for s in first.suggestions)
    answer = real_assistant.ask("那离婚呢", session)
    assert answer.decision == "answer" and "离婚登记预约" in answer.citations[0].title, answer.text


def test_a_follow_up_naming_another_variant_leaves_the_guide_under_discussion(real_assistant: Any) -> None:
    """"新办残疾证要多久" after the card's 查询: 新办 is of 新办证申请's name, not of the guide under discussion, though
    it asks a facet as a follow-up does; the next follow-up stays on the new guide."""
    from assistant.session import Session

    session = Session()
    first = real_assistant.ask("怎么查残疾证是不是真的", session)
    assert first.decision == "answer" and "查询" in first.citations[0].title
    asked = real_assistant.ask("新办残疾证要多久", session)
    assert asked.decision == "answer" and "新办证申请" in asked.citations[0].title, asked.text
    assert "30个工作日" in asked.text and "30个工作日" in real_assistant.ask("那要多久", session).text


def test_a_guide_whose_whole_name_the_question_says_is_picked_from_just_below_the_options(
        tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> None:
    """"打官司请不起律师，怎么申请法律援助": the four 法律援助律师执业许可 guides come first (律师), and 法律援助, whose
    whole name the question says, fifth; it answers, not a question back among the licences."""
    assistant = _slice_assistant(tmp_path_factory, embedder, (*SLICE, "法律援助"))
    answer = _answered_by(assistant, "打官司请不起律师，怎么申请法律援助", "法律援助")
    assert "执业许可" not in answer.citations[0].title, answer.text[:80]
