"""Grounded answers, clarifying questions, refusals and handoffs over the bundled demo pack."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from assistant.chain import build_chain
from assistant.compose import compose_answer
from assistant.fields import spoken_duration
from assistant.grounding import unsupported_statements
from assistant.intent import asks_for_bundle, detect_facets, small_talk, wants_human
from assistant.session import Session, narrow_options, pick_option
from tests.conftest import small_pack_search


def test_facets() -> None:
    assert detect_facets("在哪办要带什么") == ["materials", "where"]
    assert detect_facets("居住证") == []
    assert detect_facets("要多久，收费吗") == ["time", "fee"]
    assert detect_facets("我想咨询一下社保") == [] and detect_facets("居住证的咨询电话") == ["phone"]
    assert asks_for_bundle("新生儿的手续能一次办吗") and not asks_for_bundle("第一次办社保卡要多久")
    assert asks_for_bundle("开饭店要办哪些") and not asks_for_bundle("我到退休年龄了，要办什么手续")
    assert detect_facets("要交手续费吗") == ["fee"] and detect_facets("要办什么手续") == ["how"]
    assert detect_facets("开幼儿园要交费吗") == ["fee"] and detect_facets("备案注销要交什么") == ["materials"]
    # "多久出结果" asks how long it takes, not what one gets; "办理结果是什么" does
    assert detect_facets("林木品种审定多久能出结果") == ["time"] and detect_facets("办理结果是什么") == ["result"]
    # who does it ("谁来开") is asked of the conditions, as who may; "有没有时间限制" asks a deadline
    assert detect_facets("新员工公积金账户谁来开") == ["who"] and detect_facets("老人走了谁去销户口") == ["who"]
    assert detect_facets("生源地助学贷款找谁办？") == ["where"] and detect_facets("有没有时间限制") == ["time"]
    assert wants_human("叫个真人同我倾啦") and wants_human("我想找你们负责人")
    assert not wants_human("你是机器人还是真人") and not wants_human("申请表要领导签字吗")
    assert wants_human("转人工") and wants_human("我要投诉你们窗口态度差") and not wants_human("居住证怎么办")


def test_pick_option() -> None:
    names = ["居民身份证首次申领", "居民身份证补领（遗失、损坏）", "居民身份证换领（有效期满）"]
    assert pick_option("第二个", names) == 1
    assert pick_option("3", names) == 2
    assert pick_option("补领的那个", names) == 1
    assert pick_option("第五个", names) is None
    assert pick_option("不知道", names) is None
    assert pick_option("第一次办", names) is None  # a first application, not the first option
    assert pick_option("第二胎", names) is None


def test_a_reply_that_picks_no_option_may_narrow_them() -> None:
    """"大陆居民 小车" after four variants of a first driving licence: no option's own pair, but two hold 大陆居民 and
    one of them 小型汽车 (as a synonym rule may add it); a question for a field narrows nothing."""
    names = ["机动车驾驶证初次申领(外国人申领摩托车准驾车型)", "机动车驾驶证初次申领(大陆居民申领摩托车准驾车型)",
             "机动车驾驶证初次申领(外国人申领小型汽车准驾车型)", "机动车驾驶证初次申领(大陆居民申领小型汽车准驾车型)"]
    assert pick_option("大陆居民 小车", names) is None
    assert narrow_options("大陆居民 小车", names) == [1, 3]
    assert narrow_options("大陆居民 小车 小型汽车", names) == [3]
    assert narrow_options("要多久", names) == [] and narrow_options("驾驶证初次申领", names) == []


def test_a_reply_that_narrows_the_options_is_asked_among_those_left(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    session = Session()
    assert demo_assistant.ask("医保怎么办", session).decision == "clarify"
    again = demo_assistant.ask("城乡居民的", session)  # two of the three options are 城乡居民's
    options = [line for line in again.text.splitlines() if line[:1].isdigit()]
    assert again.decision == "clarify" and len(options) == 2  # not a new search (城乡居民养老保险…)
    assert "城乡居民基本医疗保险参保登记" in again.text and "新生儿参加城乡居民基本医疗保险" in again.text
    assert demo_assistant.ask("新生儿那个", session).citations[0].guide_id == "demo-medins-newborn"
    # a reply naming a service none of the options is asks anew: 登记 picks no 城乡居民…参保登记
    session = Session()
    demo_assistant.ask("医保怎么办", session)
    assert demo_assistant.ask("离婚登记要预约吗", session).citations[0].guide_id == "demo-divorce"


def test_materials_answer_is_grounded_and_cited(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    answer = demo_assistant.ask("外地人办居住证要带什么")
    assert answer.decision == "answer"
    assert answer.text.startswith("**居住证申领**：需要准备居民身份证、居住证相片、合法稳定住所证明等6项材料。\n"
                                  "**申请材料**\n1. 居民身份证（原件，1份）")
    assert answer.citations[0].guide_id == "demo-residence-permit"
    assert answer.citations[1].section == "materials"
    assert unsupported_statements(answer.text, demo_assistant.sources(answer)) == []
    assert len(answer.speech) <= 120 and "http" not in answer.speech and "*" not in answer.speech
    assert answer.cards[0].name == "居住证申领" and answer.cards[0].materials


def test_the_spoken_line_says_durations_as_people_do(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    answer = demo_assistant.ask("办护照要多久")
    assert answer.text.startswith("**普通护照签发**：7个工作日（承诺办结时限）")  # the number first, as one says it
    assert "(工作日)" not in answer.text and "承诺办结时限为7个工作日，法定办结时限为15个自然日。" in answer.speech
    fee = demo_assistant.ask("办护照要多少钱")
    assert "收费标准：普通护照120元/本；选择邮寄的，邮寄费用由申请人承担。" in fee.text  # a sentence ends
    assert fee.speech.endswith("邮寄费用由申请人承担。")
    assert spoken_duration("实体卡5(工作日)，需调档的10（工作日）") == "实体卡5个工作日，需调档的10个工作日"
    vaccination = demo_assistant.ask("预防接种证要带什么材料")  # the guide is named 预防接种证办理
    assert vaccination.speech.startswith("预防接种证，需要准备"), vaccination.speech


def test_where_depends_on_the_district(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    session = Session()
    demo_assistant.ask("外地人办居住证要带什么", session)
    ask_back = demo_assistant.ask("在哪办", session)
    assert ask_back.decision == "clarify" and ask_back.suggestions == ["明湖区", "青山区"]
    answer = demo_assistant.ask("青山区的呢", session)
    assert answer.decision == "answer" and session.region == "示例市青山区"
    places = [line for line in answer.text.splitlines() if line.startswith("- ") and "办理时间" in line]
    assert places and all("示例市青山区" in line for line in places)
    assert places[0].startswith("- 青山区政务服务中心，示例市青山区青山大道200号")
    follow_up = demo_assistant.ask("要多久", session)
    assert follow_up.citations[0].guide_id == "demo-residence-permit"
    assert "10个工作日（承诺办结时限）" in follow_up.text


def test_ambiguous_item_is_asked_back_and_the_pick_is_answered(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    session = Session()
    ask_back = demo_assistant.ask("身份证怎么办", session)
    assert ask_back.decision == "clarify"
    assert set(session.options) >= {"demo-idcard-renew", "demo-idcard-reissue"}
    assert all(option.startswith("demo-idcard-") for option in session.options)
    second = session.options[1]
    answer = demo_assistant.ask("第二个", session)
    assert answer.decision == "answer" and answer.citations[0].guide_id == second
    fee = demo_assistant.ask("多少钱", session)
    assert fee.citations[0].guide_id == second and "收费标准：" in fee.text


def test_a_bare_facet_question_is_asked_which_service(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    session = Session()
    which = demo_assistant.ask("多少钱", session)  # nothing under discussion: no guide may be guessed
    assert which.decision == "clarify" and which.citations == []
    assert which.text == "请问您想了解哪项业务的收费标准？请告诉我要办的事项名称，我来为您查找。"
    fee = demo_assistant.ask("办护照", session)  # the answer to our question: still about the fee
    assert fee.citations[0].guide_id == "demo-passport" and "收费标准：" in fee.text
    assert demo_assistant.ask("在哪办").text.startswith("请问您想了解哪项业务的办理地点？")

    session = Session()
    demo_assistant.ask("身份证怎么办", session)
    offered = list(session.options)
    again = demo_assistant.ask("多少钱", session)  # options offered, none picked: ask again among them
    assert again.decision == "clarify" and session.options == offered
    picked = demo_assistant.ask("第一个", session)
    assert picked.citations[0].guide_id == offered[0] and "收费标准：" in picked.text


def test_small_talk_is_answered_politely_and_changes_nothing(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    assert [small_talk(t) for t in ("您好！", "好的，谢谢", "非常感谢你的帮助啊", "拜拜~", "你好，你是谁", "嗯嗯")] == [
        "greeting", "thanks", "thanks", "bye", "identity", "ack"]
    assert [small_talk(t) for t in ("你好，我想办护照", "谢谢，那要多久", "好的要带什么", "有没有人", "可以办吗")] == [
        None] * 5
    assert (small_talk("👍"), small_talk("🙏🙏")) == ("ack", "thanks")
    assert (small_talk("唔该"), small_talk("多谢晒")) == ("thanks", "thanks")  # Cantonese
    session = Session()
    for said in ("你好", "在吗", "你好"):  # never a refusal, never a failure that pages staff
        hello = demo_assistant.ask(said, session)
        assert hello.decision == "chat" and hello.citations == [] and hello.text.startswith("您好！")
    assert session.failures == 0
    passport = demo_assistant.ask("你好，我想办护照", session)  # a greeting in front of a question: the question
    assert passport.citations[0].guide_id == "demo-passport"
    thanks = demo_assistant.ask("谢谢", session)
    assert (thanks.decision, thanks.text) == ("chat", "不客气！还有其他问题，请随时问我。")
    assert "7个工作日（承诺办结时限）" in demo_assistant.ask("要多久", session).text  # still about the passport
    assert demo_assistant.ask("你是人工智能吗", session).decision == "chat"  # about the assistant, not for a person
    assert demo_assistant.ask("转人工", session).decision == "handoff"

    for noise in ("123", "？？？", "😂"):  # no words: neither a question nor a follow-up to the last answer
        assert demo_assistant.ask(noise, session).decision == "refuse"
        demo_assistant.ask("办护照要多少钱", session)
    session = Session()
    for noise in ("123", "？？？", "？"):  # a slip of the keyboard, however often, sends nobody to staff
        assert demo_assistant.ask(noise, session).decision == "refuse"
    assert session.failures == 0
    demo_assistant.ask("身份证怎么办", session)
    offered = list(session.options)
    again = demo_assistant.ask("9", session)  # no such option: the same question again
    assert again.decision == "clarify" and session.options == offered
    assert demo_assistant.ask("2", session).citations[0].guide_id == offered[1]  # "请回复序号": a number picks

    session = Session()
    demo_assistant.ask("帮我写首诗", session)
    demo_assistant.ask("好的", session)
    assert session.failures == 1  # small talk neither adds to the failures nor clears them


def test_numbers_the_citizen_gives_are_not_the_question(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    session = Session()
    answer = demo_assistant.ask("我叫张三，身份证号110101199003074578，电话13812345678，社保卡丢了，"
                                "卡号6222021234567890123", session)
    assert answer.citations[0].guide_id == "demo-sscard-reissue"
    assert not answer.text.startswith("关于**社会保障卡挂失与补换**：\n咨询电话")  # not a phone-number answer
    assert "申请材料" in answer.text or "需要准备" in answer.text
    assert "13812345678" not in str(session.model_dump())
    asked = demo_assistant.ask("社保卡丢了，咨询电话多少")  # a real question about the phone stays one
    assert "咨询电话：" in asked.text


def test_a_message_of_only_personal_numbers_is_answered_with_a_word_on_privacy(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    session = Session()
    demo_assistant.ask("办护照", session)
    for given in ("我身份证号110101199003071234", "我的电话：138-1234-5678", "13812345678"):
        answer = demo_assistant.ask(given, session)
        assert answer.decision == "chat" and answer.citations == []
        assert answer.text.startswith("为保护您的个人信息，请不要在这里发送身份证号、手机号或银行卡号。")
    stored = str(session.model_dump())
    assert "110101199003071234" not in stored and "1234-5678" not in stored and "13812345678" not in stored
    assert demo_assistant.ask("要多久", session).citations[0].guide_id == "demo-passport"  # the topic stays


def test_a_question_given_with_a_personal_number_is_answered_with_a_word_on_privacy(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """"我身份证号…，办护照要多少钱": the answer, and above its source a word on not sending such numbers here; the
    number is nowhere in the reply. A question without one gets no such word."""
    answer = demo_assistant.ask("我身份证号是110101199003071234，办护照要多少钱")
    assert answer.decision == "answer" and answer.citations[0].guide_id == "demo-passport"
    assert "\n\n提示：为保护您的个人信息，请不要在这里发送身份证号、手机号或银行卡号。\n\n来源：" in answer.text
    assert "110101199003071234" not in answer.text + answer.speech
    assert "为保护您的个人信息" not in demo_assistant.ask("办护照要多少钱").text


def test_asking_where_to_complain_is_a_question_not_a_complaint(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    for question in ("宽带过户投诉打哪个电话", "宽带过户的投诉电话多少", "宽带过户投诉渠道有哪些"):
        answer = demo_assistant.ask(question)
        assert answer.decision == "answer" and answer.citations[0].guide_id == "demo-broadband-transfer", question
    assert demo_assistant.ask("我要投诉宽带过户办得太慢").decision == "handoff"


def test_a_facet_follow_up_stays_on_the_guide_unless_it_names_another(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    session = Session()
    first = demo_assistant.ask("我没工作，想交居民医保", session)
    assert first.citations[0].guide_id == "demo-medins-enroll"
    fee = demo_assistant.ask("一年交多少钱", session)  # searched alone, another guide's FAQ matches better
    assert fee.decision == "answer" and fee.citations[0].guide_id == "demo-medins-enroll"
    other = demo_assistant.ask("护照多少钱", session)  # names a service the current guide never mentions
    assert other.citations[0].guide_id == "demo-passport"


def test_a_question_that_finds_nothing_else_and_speaks_of_the_guide_goes_on_about_it(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """"一次能提多少" after 租房提取 asks of its 提 (alone, no guide is found with confidence); a question that shares
    no word with the guide is still refused."""
    session = Session()
    assert demo_assistant.ask("住房公积金提取（租房）", session).citations[0].guide_id == "demo-hpf-withdraw-rent"
    more = demo_assistant.ask("一次能提多少", session)
    assert more.decision == "answer" and more.citations[0].guide_id == "demo-hpf-withdraw-rent"
    assert "每月最高1500元" in more.text
    assert demo_assistant.ask("明天天气怎么样", session).decision != "answer"


def test_a_thing_the_guide_mentions_in_passing_is_still_another_service(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    session = Session()
    assert demo_assistant.ask("办护照要多久", session).citations[0].guide_id == "demo-passport"
    material = demo_assistant.ask("要带身份证吗", session)  # the passport's material: the same guide
    assert material.citations[0].guide_id == "demo-passport" and "居民身份证" in material.text
    other = demo_assistant.ask("身份证怎么办", session)  # the ID card as a service of its own
    assert other.decision == "clarify"
    assert {c.guide_id for c in other.citations} <= {"demo-idcard-first", "demo-idcard-reissue",
                                                     "demo-idcard-renew", "demo-idcard-temp"}
    session = Session()
    assert demo_assistant.ask("结婚登记要带什么", session).citations[0].guide_id == "demo-marriage"
    assert demo_assistant.ask("离婚怎么办", session).citations[0].guide_id == "demo-divorce"  # 离婚证 is a material


def test_a_refusal_says_back_what_the_citizen_named(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    answer = demo_assistant.ask("开无犯罪记录证明去哪开")
    assert answer.decision == "refuse" and "“无犯罪记录证明”" in answer.text  # with its 无
    lost = demo_assistant.ask("搬家的时候结婚证弄没了")  # 时候 says when, not which certificate
    assert lost.decision == "answer" and lost.citations[0].guide_id == "demo-marriage-cert-reissue"


def test_a_certificate_the_guides_only_ask_for_is_refused_by_name(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    # 建设工程规划许可 lists a 建设用地规划许可证 among its materials and conditions; no guide issues one
    answer = demo_assistant.ask("建设用地规划许可证怎么办")
    assert answer.decision == "refuse" and "“建设用地规划许可证”" in answer.text
    bring = demo_assistant.ask("办建设工程规划许可要带建设用地规划许可证吗")  # bringing it: the guide answers
    assert bring.decision == "answer" and bring.citations[0].guide_id == "demo-planning-permit"
    # 育儿补贴 is another subsidy; 住房公积金提取（租房） is no subsidy at all: neither answers
    rent = demo_assistant.ask("住房租赁补贴怎么申请")
    assert rent.decision == "refuse" and "“住房租赁补贴”" in rent.text
    assert demo_assistant.ask("育儿补贴怎么领").citations[0].guide_id == "demo-childcare-subsidy"


def test_a_licence_the_knowledge_does_not_have_is_refused_by_name(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    # 食品经营许可 shares 经营许可证 with the question; it is still not the 药品 licence.
    answer = demo_assistant.ask("想开一家药店，药品经营许可证怎么申请？")
    assert answer.decision == "refuse" and not answer.citations
    assert "暂未收录“药品经营许可证”" in answer.text and "12345" in answer.text
    assert "药品经营许可证" in answer.speech
    session = Session()
    assert demo_assistant.ask("食品经营许可证要什么材料", session).citations[0].guide_id == "demo-food-license"
    other = demo_assistant.ask("药品经营许可证呢", session)  # not a follow-up about the food licence
    assert other.decision == "refuse" and "药品经营许可证" in other.text
    back = demo_assistant.ask("那食品经营许可证要多久", session)
    assert back.decision == "answer" and back.citations[0].guide_id == "demo-food-license"


def test_a_reissue_is_not_offered_for_a_first_issue(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    # 补领结婚证 contains "领结婚证" word for word, and nothing was lost.
    first = demo_assistant.ask("结婚证怎么领")
    assert first.decision == "answer" and first.citations[0].guide_id == "demo-marriage"
    lost = demo_assistant.ask("结婚证丢了怎么领")
    assert lost.decision == "answer" and lost.citations[0].guide_id == "demo-marriage-cert-reissue"
    # The pack has no first driving licence: its reissue and its renewal are offered, not one of them as the answer.
    driving = demo_assistant.ask("驾驶证怎么考")
    assert driving.decision == "clarify"
    renew = demo_assistant.ask("居住证签注能在自助机办吗")  # 签注 names the renewal in the citizen's own words
    assert {c.guide_id for c in renew.citations} == {"demo-residence-permit-renew"}
    first_time = demo_assistant.ask("第一次领结婚证要带啥")
    assert first_time.decision == "answer" and first_time.citations[0].guide_id == "demo-marriage"


@pytest.mark.parametrize(("first", "then", "guide"), [
    # a short question for another service keeps the citizen's situation
    ("办退休", "医保呢", "demo-medins-retire"),
    ("办退休要准备啥", "医保那边需要单独办吗", "demo-medins-retire"),  # 那边, 单独 name no service
    ("新生儿上户口", "医保呢", "demo-medins-newborn"),
    ("死亡人员户口注销", "公积金呢", "demo-hpf-withdraw-death"),
    ("单位社保变更", "税务呢", "demo-tax-change"),
    # asking to redo the thing goes to the guide of that thing named for it
    ("居住证怎么办", "到期了怎么续", "demo-residence-permit-renew"),
    ("驾照到期换证", "丢了呢", "demo-driving-license-reissue"),
    ("结婚登记", "证丢了怎么办", "demo-marriage-cert-reissue"),
    ("新生儿上户口", "出生证明要原件吗", "demo-hukou-newborn"),  # its material 出生医学证明: stays
])
def test_a_follow_up_goes_where_the_situation_and_the_act_point(demo_assistant, first: str, then: str,  # type: ignore[no-untyped-def]
                                                                 guide: str) -> None:
    session = Session()
    demo_assistant.ask(first, session)
    answer = demo_assistant.ask(then, session)
    assert answer.decision == "answer" and answer.citations[0].guide_id == guide, answer.text[:80]


@pytest.mark.parametrize(("question", "guide"), [
    ("结婚证被老鼠啃了", "demo-marriage-cert-reissue"),  # everyday words for a damaged certificate
    ("社保卡芯片坏了", "demo-sscard-reissue"),  # the one candidate for redoing it, among 申领 and 新生儿
    ("驾照被人偷了", "demo-driving-license-reissue"),
    ("身份证丢了，急着用，能办个临时的吗", "demo-idcard-temp"),  # its own words name 临时, over the act
])
def test_a_reissue_is_chosen_when_the_question_asks_for_one(demo_assistant, question: str, guide: str) -> None:  # type: ignore[no-untyped-def]
    answer = demo_assistant.ask(question)
    assert answer.decision == "answer" and answer.citations[0].guide_id == guide, answer.text[:80]


def test_an_act_the_situation_names_does_not_take_the_answer_from_a_guide_far_ahead(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """"老人去世了火化要自己花钱吗": 去世 asks for the 注销 of 死亡人员户口注销 in "老人去世了要办什么", but here the
    guide for the cremation's fee is far ahead of it: that one answers, not the 户口's fee."""
    answer = demo_assistant.ask("老人去世了火化要自己花钱吗？")
    assert answer.decision == "answer" and answer.citations[0].guide_id == "demo-funeral-fee-waiver", answer.text


def test_where_asked_as_the_faq_asks_it_is_answered_by_the_faq_without_a_district_question(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """"我爸晚上在家里走了，死亡证明找谁开": the guide's FAQ asks this case ("老人半夜在家里去世了，死亡证明找谁开？")
    and says whom to go to in any district; it answers, instead of asking for the district. A question where to
    go in general still asks for it: the places differ by district."""
    answer = demo_assistant.ask("我爸晚上在家里走了，死亡证明找谁开？要带啥？")
    assert answer.decision == "answer", answer.text
    assert answer.text.startswith("**居民死亡医学证明（推断）书办理**：请联系户籍或居住地所在的社区卫生服务中心")
    assert "死者居民身份证" in answer.text  # what to bring, asked too
    assert demo_assistant.ask("死亡证明在哪里开？").decision == "clarify"


def test_a_correction_that_says_what_it_is_not_leaves_those_words_out(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """"换身份证" → the renewal; "不是到期，是身份证坏了要换" rules 到期 out: the guide for a damaged card, not the
    renewal the ruled-out word would keep."""
    session = Session()
    assert demo_assistant.ask("换身份证", session).citations[0].guide_id == "demo-idcard-renew"
    damaged = demo_assistant.ask("不是到期，是身份证坏了要换", session)
    assert damaged.decision == "answer" and damaged.citations[0].guide_id == "demo-idcard-reissue", damaged.text[:80]


def test_asking_to_hurry_gets_the_time_limit_and_what_the_guide_says_of_it(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    session = Session()
    demo_assistant.ask("办护照", session)
    passport = demo_assistant.ask("能加急吗", session)
    assert passport.citations[0].guide_id == "demo-passport"
    assert "承诺办结时限" in passport.text and "指南未载明能否加急办理" in passport.text
    assert "指南未载明能否加急办理" in passport.speech
    session = Session()
    demo_assistant.ask("身份证丢了", session)
    idcard = demo_assistant.ask("能加急吗", session)  # this guide does speak of it: its passage, no "未载明"
    assert "急需用证" in idcard.text and "未载明能否加急" not in idcard.text
    assert idcard.speech.endswith("急需用证的可同时申请临时居民身份证。")  # the clause that answers, said
    session = Session()
    demo_assistant.ask("结婚登记", session)
    instant = demo_assistant.ask("能加急吗", session)  # done on the spot: nothing to hurry
    assert "即时办结" in instant.text and "未载明能否加急" not in instant.text


def test_a_follow_up_naming_another_service_is_not_read_as_a_material_by_a_synonym_of_a_part(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    session = Session()
    assert demo_assistant.ask("新生儿上户口", session).citations[0].guide_id == "demo-hukou-newborn"
    # 宝宝 → 新生儿 is a synonym, and 新生儿 is in this guide's materials; 宝宝补贴 is not
    subsidy = demo_assistant.ask("宝宝补贴怎么领", session)
    assert subsidy.citations[0].guide_id == "demo-childcare-subsidy"


def test_a_certificate_is_asked_of_the_guide_that_issues_it(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    # 随迁子女入学 speaks of school and housing; only the real-estate query issues a 无房证明
    answer = demo_assistant.ask("孩子上学要开无房证明，去哪里开")
    assert answer.citations[0].guide_id == "demo-realestate-query"


@pytest.mark.parametrize("follow_up", ["电话多少", "怎么预约", "需要预约吗", "网上怎么办", "贵不贵", "那小孩的呢",
                                       "外地户口可以吗"])
def test_question_words_in_other_guides_aliases_do_not_leave_the_guide(demo_assistant, follow_up: str) -> None:  # type: ignore[no-untyped-def]
    # Aliases such as "公积金能贷多少", "结婚登记预约" and "给孩子办护照" use these words; they name no service.
    session = Session()
    assert demo_assistant.ask("申请低保", session).citations[0].guide_id == "demo-dibao"
    answer = demo_assistant.ask(follow_up, session)
    assert answer.decision == "answer" and answer.citations[0].guide_id == "demo-dibao"


def test_a_phone_follow_up_gives_the_phone_of_the_guide_under_discussion(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    session = Session()
    demo_assistant.ask("办护照", session)
    assert "咨询电话：0000-6600120" in demo_assistant.ask("电话多少", session).text


def test_a_follow_up_about_one_thing_the_guide_speaks_of_gets_what_it_says(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    session = Session()
    demo_assistant.ask("办护照", session)
    material = demo_assistant.ask("户口本也要吗", session)  # 户口本 → 居民户口簿, in a material's note
    assert material.decision == "answer" and material.citations[0].guide_id == "demo-passport"
    assert "**申请材料**" in material.text and "居民户口簿" in material.text
    session = Session()
    demo_assistant.ask("结婚登记", session)
    faq = demo_assistant.ask("户口本也要吗", session)  # not a material of it: its FAQ says so
    assert faq.decision == "answer" and faq.citations[0].guide_id == "demo-marriage"
    assert "不再需要户口簿" in faq.text and "**谁能办**" not in faq.text  # to the point, not the whole guide
    assert faq.speech.startswith("不用。")
    assert unsupported_statements(faq.text, demo_assistant.sources(faq)) == []


def test_a_short_follow_up_with_a_question_word_stays_and_gets_the_passage(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    session = Session()
    demo_assistant.ask("公积金租房提取", session)
    amount = demo_assistant.ask("额度多少", session)  # 多少 asks; 额度 is in the guide's FAQ
    assert amount.citations[0].guide_id == "demo-hpf-withdraw-rent" and "每月最高1500元" in amount.text


def test_an_option_is_picked_in_the_citizens_own_words(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    session = Session()
    assert demo_assistant.ask("社保卡怎么办", session).decision == "clarify"
    assert demo_assistant.ask("补办那个", session).citations[0].guide_id == "demo-sscard-reissue"  # 补办 → 补换
    session = Session()
    assert demo_assistant.ask("公积金怎么取", session).decision == "clarify"
    assert demo_assistant.ask("我老公去世了", session).citations[0].guide_id == "demo-hpf-withdraw-death"  # 去世 → 死亡


def test_how_much_a_subsidy_pays_is_not_asked_as_a_fee(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    session = Session()
    demo_assistant.ask("育儿补贴", session)
    paid = demo_assistant.ask("每个月多少钱", session)
    assert paid.citations[0].guide_id == "demo-childcare-subsidy"
    assert "每月按300元" in paid.text and "收费标准" not in paid.text and "收费标准" not in paid.speech
    assert "收费标准：不收费。" in demo_assistant.ask("要交钱吗", session).text  # what it costs: still the fee


def test_asking_about_delivery_is_not_the_last_facet_again(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    session = Session()
    demo_assistant.ask("身份证过期了", session)
    assert "收费标准" in demo_assistant.ask("多少钱", session).text
    sent = demo_assistant.ask("能寄到家吗", session)
    assert sent.citations[0].guide_id == "demo-idcard-renew" and "结果送达：窗口领取、邮寄。" in sent.text
    assert "收费标准" not in sent.text
    assert sent.speech.startswith("可以邮寄。结果送达：窗口领取、邮寄。")  # a yes: the guide lists 邮寄


def test_a_number_picks_a_themes_item_and_a_district_answers_no_clarifying_question(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    session = Session()
    assert demo_assistant.ask("生孩子要办哪些手续", session).citations[0].guide_id == "theme-newborn"
    assert demo_assistant.ask("第三个", session).citations[0].guide_id == "demo-hukou-newborn"  # its third item
    demo_assistant.ask("要带什么", session)
    assert demo_assistant.ask("第五个", session).citations[0].guide_id == "demo-sscard-newborn"  # the list still counts
    demo_assistant.ask("办护照", session)
    assert demo_assistant.ask("第二个", session).citations[0].guide_id == "demo-passport"  # not once the topic moved on
    session = Session()
    assert demo_assistant.ask("第一个", session).decision == "refuse"  # nothing offered: nothing picked
    assert session.failures == 0
    session = Session()
    asked = demo_assistant.ask("居住证在哪办", session)
    assert asked.decision == "clarify"
    again = demo_assistant.ask("青山区", session)  # the district, not the service: the same question again
    assert again.decision == "clarify" and again.suggestions == asked.suggestions
    assert "青山区" in demo_assistant.ask("1", session).text  # and the district is kept


def test_the_progress_of_ones_own_application_is_not_something_a_guide_tells(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    session = Session()
    demo_assistant.ask("办护照", session)
    asked = demo_assistant.ask("我身份证号110101199003071234，能查到办到哪一步了吗", session)  # not 在哪办 (到哪)
    assert asked.text == ("我根据办事指南解答问题，无法查询个人的办件进度。"
                          "请致电普通护照签发的咨询电话 0000-6600120 查询，也可以转人工服务。"
                          "\n\n提示：为保护您的个人信息，请不要在这里发送身份证号、手机号或银行卡号。")
    assert asked.decision == "answer" and asked.citations[0].guide_id == "demo-passport"
    session = Session()
    alone = demo_assistant.ask("我的件办到哪一步了", session)
    assert alone.decision == "refuse" and "12345" in alone.text and session.failures == 0
    told = demo_assistant.ask("养老保险转移进度怎么查")  # a guide that says how to follow it: its passage
    assert told.citations[0].guide_id == "demo-pension-transfer" and "转移进度查询" in told.text
    assert "**谁能办**" not in told.text


@pytest.mark.parametrize(("first", "then", "other"), [
    ("结婚登记", "那离婚呢", "demo-divorce"),  # 离婚证 is one of marriage's materials, 离婚 names a service
    ("结婚登记", "离婚要带什么材料", "demo-divorce"),
    ("小学入学报名", "小升初呢", "demo-school-junior"),  # the start of another guide's alias
    ("驾照到期换证", "驾照丢了怎么办", "demo-driving-license-reissue"),
    ("交居民医保", "给宝宝交医保要带什么", "demo-medins-newborn"),  # 宝宝 names no service; the rest does
    ("二手房过户", "燃气过户要带什么", "demo-gas-transfer"),
])
def test_a_follow_up_naming_another_service_by_its_name_or_alias_leaves_the_guide(
        demo_assistant, first: str, then: str, other: str) -> None:  # type: ignore[no-untyped-def]
    session = Session()
    demo_assistant.ask(first, session)
    assert demo_assistant.ask(then, session).citations[0].guide_id == other


def test_an_elliptical_follow_up_varies_a_detail_of_the_same_guide(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    session = Session()
    first = demo_assistant.ask("出生医学证明在哪里开", session)
    assert first.citations[0].guide_id == "demo-birth-cert"
    variant = demo_assistant.ask("如果是在青山区人民医院生的", session)
    assert variant.decision == "answer" and variant.citations[0].guide_id == "demo-birth-cert"
    assert "青山区人民医院" in variant.text


def test_a_modest_match_says_how_to_correct_it(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    record = demo_assistant.index.record("demo-food-license")
    sure = compose_answer(record, ["materials"], confidence=0.9)
    unsure = compose_answer(record, ["materials"], confidence=0.6, unsure=True)
    line = "如果您要办的不是“食品经营许可（新办）”，请换个说法再问，也可以转人工服务。"
    assert line not in sure.text and "转人工" not in sure.suggestions
    assert line in unsure.text and unsure.suggestions[-1] == "转人工"
    assert unsupported_statements(unsure.text, demo_assistant.sources(unsure)) == []


def test_the_citizens_own_words_pick_among_close_guides(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    # 补办 matches the reissue guides of several documents best; 居住证 names only one of them.
    answer = demo_assistant.ask("居住證丟了，補辦要錢嗎？")
    assert answer.decision == "answer" and answer.citations[0].guide_id == "demo-residence-permit"
    # "第一次办" is a first application: no "一次办" bundle, and no 一件事 added to the search.
    first = demo_assistant.ask("第一次辦社會保障卡，多久能拿到？")
    assert first.citations[0].guide_id == "demo-sscard-apply"


def test_missing_field_says_so_with_the_phone(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    answer = demo_assistant.ask("老年人优待证的投诉电话是多少")
    assert answer.citations[0].guide_id == "demo-senior-card"
    assert re.search(r"咨询电话：0000-\d{7}。", answer.text)
    assert "监督投诉电话" not in answer.text  # the guide has none, and none is invented
    unstated = demo_assistant.ask("育儿补贴法定办结时限多久")
    assert unstated.citations[0].guide_id == "demo-childcare-subsidy"
    assert "法定办结时限" not in unstated.text or "指南未载明" in unstated.text


def test_theme_lists_its_items_in_order(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    answer = demo_assistant.ask("孩子刚出生，出生证明、上户口、医保、社保卡能一起办吗")
    assert answer.citations[0].guide_id == "theme-newborn"
    lines = answer.text.splitlines()
    start = lines.index("**包含事项（按办理顺序）**")
    assert lines[start + 1] == "1. 出生医学证明签发"
    # Every list ends with a blank line, or markdown would pull the next heading into its last item.
    after = next(i for i in range(start + 1, len(lines)) if not lines[i][:1].isdigit())
    assert lines[after] == "" and lines[after + 1].startswith("**")
    assert {c.guide_id for c in answer.citations} >= {"demo-hukou-newborn", "demo-sscard-newborn"}
    assert unsupported_statements(answer.text, demo_assistant.sources(answer)) == []


def test_kiosk_names_its_own_hall(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    answer = demo_assistant.ask("结婚登记在哪办", hall_id="hall-city")
    assert "本大厅即可办理：三楼F区76-85号窗口" in answer.text
    # a hall that is none of the guide's places says so, on screen and aloud, before sending the citizen elsewhere
    elsewhere = demo_assistant.ask("护照在哪办", hall_id="hall-minghu")
    assert elsewhere.text.startswith("**普通护照签发**：本大厅不受理此项业务，可到示例市政务服务中心")
    assert "本大厅不受理此项业务" in elsewhere.speech
    assert unsupported_statements(elsewhere.text, demo_assistant.sources(elsewhere)) == []
    assert answer.speech.startswith("结婚登记") and len(answer.speech) <= 120
    hall = demo_assistant.ask("我想补办结婚证，这个大厅能办吗", Session(), hall_id="hall-minghu")  # 这个大厅 is here
    assert hall.text.startswith("**补领结婚证、离婚证**：本大厅不受理此项业务，可到示例市婚姻登记处"), hall.text[:80]
    # here, but its window is not open on the day asked: says so, and where it is done that day
    saturday = demo_assistant.ask("这周六能来办二手房过户吗", Session(), hall_id="hall-city")
    assert saturday.text.startswith("**二手房转移登记（存量房买卖）**：本大厅可办理：三楼E区61-75号窗口（不动产登记），"
                                    "但周六不在办理时间内。周六可到青山区政务服务中心"), saturday.text[:120]
    assert "周六不在办理时间内" in saturday.speech and "即可办理" not in saturday.speech
    assert unsupported_statements(saturday.text, demo_assistant.sources(saturday)) == []


def test_out_of_scope_twice_offers_a_human(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    session = Session()
    first = demo_assistant.ask("帮我写首诗", session)
    assert first.decision == "refuse" and first.suggestions == ["转人工", "12345热线"]  # no unrelated guide offered
    second = demo_assistant.ask("今天天气怎么样", session)
    assert second.decision == "handoff" and second.handoff_reason == "repeated_failure"


@pytest.mark.parametrize(("question", "reason"), [("转人工", "requested"), ("我要投诉你们窗口态度差", "complaint"),
                                                ("没有人帮我，机器人一点用都没有，气死了", "complaint")])
def test_handoff_on_request(demo_assistant, question: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    answer = demo_assistant.ask(question)
    assert (answer.decision, answer.handoff_reason) == ("handoff", reason)
    assert "12345" in answer.text


def test_asking_for_the_complaint_phone_is_not_a_complaint(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    answer = demo_assistant.ask("居住证申领的投诉电话是多少")
    assert answer.decision == "answer" and "咨询电话" in answer.text


def test_chain_invoke_and_stream(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    chain = build_chain(demo_assistant)
    session = Session()
    answer = chain.invoke({"question": "办护照要多少钱", "session": session})
    assert answer.decision == "answer" and answer.citations[0].guide_id == "demo-passport"
    streamed = list(chain.stream({"question": "要多久", "session": session}))
    assert streamed[-1].citations[0].guide_id == "demo-passport"
    assert chain.invoke({"question": "  "}).decision == "refuse"


_PASSPORT_PACK = {
    "pack.yaml": "name: passports\ntitle: 护照测试包\nregion: 测试市\nsample: true\ndescription: 测试用。\n"
                 "licence: MIT\n",
    "guides/passports.yaml": """- id: t-passport
  name: 首次办理普通护照
  aliases: [第一次办护照, 办护照]
  kind: 行政许可
  department: 测试市公安局出入境管理支队
  region: 测试市
  materials:
    - name: 居民身份证
  fee: 120元
  consult_phone: 0000-1110003
- id: t-passport-progress
  name: 首次办理普通护照办证进度查询
  aliases: [护照办到哪了, 第一次办护照进度]
  kind: 公共服务
  department: 测试市公安局出入境管理支队
  region: 测试市
  consult_phone: 0000-1110003
""",
}


@pytest.fixture(scope="module")
def passport_search(tmp_path_factory: pytest.TempPathFactory, embedder):  # type: ignore[no-untyped-def]
    return small_pack_search(tmp_path_factory, embedder, "passport", _PASSPORT_PACK)


def test_a_progress_lookup_guide_answers_only_a_question_about_progress(passport_search) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from assistant.service import Assistant

    assert Assistant(passport_search).ask("第一次办护照要带什么材料").citations[0].guide_id == "t-passport"
    follow = Assistant(passport_search).ask("第一次办的护照办到哪了，在哪查进度")
    assert follow.decision == "answer" and follow.citations[0].guide_id == "t-passport-progress"
    how = "首次办理普通护照的办证流程"  # 办证 is in the lookup's name only: it scores first
    ruled = Assistant(passport_search).ask(how)
    assert "t-passport-progress" not in {c.guide_id for c in ruled.citations}
    passport_search.config = replace(passport_search.config, without=frozenset({"lookups"}))
    try:  # the rule is what keeps it out
        unruled = Assistant(passport_search).ask(how)
    finally:
        passport_search.config = replace(passport_search.config, without=frozenset())
    assert unruled.citations[0].guide_id == "t-passport-progress"


def test_a_city_the_knowledge_covers_keeps_another_citys_guides_out(tmp_path_factory, embedder) -> None:  # type: ignore[no-untyped-def]
    """A question from 深圳 to knowledge of 广东省 with only 广州's item: not answered with 广州's."""
    from dataclasses import replace

    from assistant.query import load_synonyms
    from assistant.retriever import HybridSearch
    from assistant.service import Assistant
    from ingest.pipeline import Ingestor, load_source
    from knowledge.index import KnowledgeIndex

    pack = tmp_path_factory.mktemp("province-pack")
    (pack / "guides").mkdir()
    (pack / "pack.yaml").write_text("name: province\ntitle: 省测试包\nregion: 广东省\nsample: true\n"
                                    "description: 测试用。\nlicence: MIT\n", encoding="utf-8")
    (pack / "guides" / "visas.yaml").write_text("""- id: t-hk-visa-gz
  name: 办理往来港澳通行证个人游签注
  aliases: [港澳个人游签注, 去香港旅游签注]
  kind: 行政许可
  department: 广州市公安局出入境管理支队
  region: 广东省广州市
  fee: 15元
  consult_phone: 020-0000001
""", encoding="utf-8")
    index = KnowledgeIndex(tmp_path_factory.mktemp("province-data"), embedder)
    Ingestor(index).run([load_source(pack)])
    search = HybridSearch(index, load_synonyms())
    assert Assistant(search).ask("在广州办港澳个人游签注要多少钱").citations[0].guide_id == "t-hk-visa-gz"
    asked = "深圳办理往来港澳通行证个人游签注收费吗"
    shenzhen = Assistant(search).ask(asked)
    assert shenzhen.decision != "answer" and not shenzhen.citations
    search.config = replace(search.config, without=frozenset({"places"}))
    unruled = Assistant(search).ask(asked)
    assert unruled.decision == "answer" and unruled.citations[0].guide_id == "t-hk-visa-gz"  # what it did before


def _food_licence_by_district(pack: Path) -> None:
    """The fixture pack's 食品经营许可 issued again by two districts, each with its own office and phone."""
    for district, phone in (("东区", "0000-2220001"), ("西区", "0000-2220002")):
        (pack / "guides" / f"food-{district}.yaml").write_text(f"""\
id: t-food-license-{'east' if district == '东区' else 'west'}
name: 食品经营许可
kind: 行政许可
department: 测试市{district}市场监督管理局
region: 测试市{district}
audience: [企业法人, 个体工商户]
materials:
  - name: 食品经营许可申请书
locations:
  - name: 测试市{district}政务服务中心
    address: 测试市{district}{district}路8号
    region: 测试市{district}
fee: 不收费
consult_phone: {phone}
""", encoding="utf-8")


@pytest.fixture(scope="module")
def districts_assistant(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from assistant.build import build_search
    from assistant.service import Assistant
    from assistant.settings import Settings
    from tests.conftest import FIXTURE_PACK, ingested

    pack = tmp_path_factory.mktemp("districts") / "pack"
    shutil.copytree(FIXTURE_PACK, pack)
    _food_licence_by_district(pack)
    data = ingested(tmp_path_factory.mktemp("districts-data"), pack)
    return Assistant(build_search(Settings(data_dir=data)))


def test_an_item_each_district_issues_is_asked_where_and_the_place_picks_the_guide(districts_assistant) -> None:  # type: ignore[no-untyped-def]
    session = Session()
    asked = districts_assistant.ask("食品经营许可要带什么材料", session)
    assert asked.decision == "clarify"
    assert "请问您在哪里办理" in asked.text and "1." not in asked.text  # regions, not a list of same-named guides
    assert set(asked.suggestions) == {"测试市", "东区", "西区"} and "东区" in asked.speech
    picked = districts_assistant.ask("西区", session)
    assert picked.decision == "answer" and picked.citations[0].guide_id == "t-food-license-west"
    assert "测试市西区政务服务中心" in picked.text  # its own office


@pytest.mark.parametrize(("question", "region", "guide"), [
    ("东区开饭店要办什么证", None, "t-food-license-east"),  # the question names the place
    ("食品经营许可要带什么材料", "测试市西区", "t-food-license-west"),  # the chat's district selector, a kiosk's hall
    ("开饭店要办什么证", "测试市西区", "t-food-license-west"),  # the city's guide has the words, the district's is his
    ("食品经营许可要带什么材料", "测试市", "t-food-license"),  # the city's own guide for the city
])
def test_a_known_place_picks_the_guide_without_asking(districts_assistant, question: str, region: str | None,  # type: ignore[no-untyped-def]
                                                      guide: str) -> None:
    answer = districts_assistant.ask(question, Session(region=region))
    assert answer.decision == "answer" and answer.citations[0].guide_id == guide, answer.text


def test_without_the_region_rule_the_same_named_guides_are_listed(districts_assistant) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from assistant.service import Assistant

    search = districts_assistant.search
    plain = Assistant(search.with_config(replace(search.config, without=frozenset({"regions"}))))
    asked = plain.ask("食品经营许可要带什么材料", Session())
    assert asked.decision == "clarify" and "1." in asked.text and "请问您在哪里办理" not in asked.text


def test_an_online_question_is_not_asked_for_the_district(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    online = demo_assistant.ask("居住证到期了，网上能签注吗", Session())
    assert online.decision == "answer" and online.text.split("\n")[0].endswith("可全程网上办理，无需到现场。")
    window = demo_assistant.ask("育儿补贴我不会在网上弄，去哪个窗口办", Session())
    assert window.decision == "clarify" and "请问您在哪个区" in window.text  # a window: that depends on the district


def test_the_district_a_question_names_is_the_most_specific_one_and_two_districts_are_neither(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    session = Session()
    demo_assistant.ask("我在示例市青山区菜市场旁边租了个门面，想开个小店卖日用百货，要办什么", session)
    assert session.region == "示例市青山区"  # not the city, which the question names too
    both = Session()
    demo_assistant.ask("户口在明湖区，但是住在青山区，孩子上小学该去哪个区报名？", both)
    assert both.region is None  # which of the two is the citizen's is not said


def test_a_follow_up_naming_one_item_of_a_theme_answers_for_that_item(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    session = Session()
    bundle = demo_assistant.ask("人去世了要办哪些手续，能一次办吗", session)
    assert bundle.citations[0].guide_id == "theme-after-death"
    item = demo_assistant.ask("那销户口要带啥", session)
    assert item.decision == "answer" and item.citations[0].guide_id == "demo-hukou-death"
    assert "12项" not in item.text  # the item's own materials, not the bundle's
    again = Session()
    demo_assistant.ask("人去世了要办哪些手续，能一次办吗", again)
    whole = demo_assistant.ask("那要带什么材料", again)  # names no item: the bundle's materials
    assert whole.citations[0].guide_id == "theme-after-death"
    # "第一步先办什么" asks for the procedure of the theme under discussion, not for a guide with a 第一联
    first = Session()
    demo_assistant.ask("我想开个早餐店", first)
    steps = demo_assistant.ask("第一步先办什么", first)
    assert steps.citations[0].guide_id == "theme-restaurant" and "**办理流程**" in steps.text, steps.text[:80]


def test_a_yes_or_no_follow_up_asks_its_own_question_not_the_field_asked_before(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """"孩子跟谁也要写进协议吗" after "协议离婚", "要带什么": the conditions that speak of it, not the materials
    again."""
    session = Session()
    demo_assistant.ask("协议离婚", session)
    assert demo_assistant.ask("要带什么", session).text.split("\n")[1] == "**申请材料**"
    asked = demo_assistant.ask("孩子跟谁也要写进协议吗", session)
    assert asked.citations[0].guide_id == "demo-divorce" and "**申请材料**\n" not in asked.text, asked.text[:120]
    first = asked.text.split("\n")[0]
    assert first.startswith("**离婚登记（内地居民）**：受理条件：") and "子女抚养" in first


def test_an_faqs_yes_or_no_of_another_certificate_is_not_said(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """"要不要办就业登记" is not answered "不需要" by the FAQ "招港澳台员工还要办就业证吗": that says no of a 就业证;
    what follows the verdict still leads."""
    answer = demo_assistant.ask("公司招了两个香港员工，要不要办就业登记", Session())
    lead = "**就业登记（用人单位招用人员）**：港澳台居民在内地（大陆）就业已无需办理就业证"
    assert answer.text.startswith(lead), answer.text[:80]
    assert not answer.speech.startswith("不需要")
    asked = demo_assistant.ask("招港澳台员工还要办就业证吗", Session())  # the FAQ's own question: its verdict
    assert asked.text.startswith("**就业登记（用人单位招用人员）**：不需要。"), asked.text[:80]


def test_a_cue_word_inside_a_certificate_the_question_names_asks_for_nothing(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    from assistant.turn import TurnState

    def facets(question: str) -> list[str]:
        return list(demo_assistant.understand(TurnState(question=question, session=Session())).facets)

    # 资格 is in the certificate's name: no question of who (怎么补 asks how)
    assert facets("法律职业资格证书丢了怎么补") == ["how"]
    assert facets("办居住证有什么条件") == ["who"]  # outside a name, the cue asks
    assert facets("教师资格证考试要带什么材料") == ["materials"]


_LICENCE_PACK = {
    "pack.yaml": "name: licences\ntitle: 许可测试包\nregion: 测试市\nsample: true\ndescription: 测试用。\n"
                 "licence: MIT\n",
    "guides/licences.yaml": """- id: t-lab-new
  name: 实验动物生产许可(新申请)
  kind: 行政许可
  department: 测试市科学技术局
  region: 测试市
  eligibility: 申请实验动物生产许可证的单位应当具备相应的设施和人员。
  time_limit_promised: 8(工作日)
  consult_phone: 0000-1110005
- id: t-lab-renew
  name: 实验动物生产许可(延续)
  kind: 行政许可
  department: 测试市科学技术局
  region: 测试市
  eligibility: 实验动物生产许可证有效期届满需要延续的单位。
  materials:
    - name: 原实验动物生产许可证
  time_limit_promised: 10(工作日)
  consult_phone: 0000-1110005
- id: t-building
  name: 建设工程规划许可证核发
  kind: 行政许可
  department: 测试市自然资源局
  region: 测试市
  materials:
    - name: 建设用地规划许可证
  time_limit_promised: 15(工作日)
  consult_phone: 0000-1110006
""",
}


@pytest.fixture(scope="module")
def licence_search(tmp_path_factory: pytest.TempPathFactory, embedder):  # type: ignore[no-untyped-def]
    return small_pack_search(tmp_path_factory, embedder, "licence", _LICENCE_PACK)


def test_a_licence_named_by_its_guide_is_answered_though_the_guide_writes_it_without_zheng(licence_search) -> None:  # type: ignore[no-untyped-def]
    """实验动物生产许可证 is what 实验动物生产许可(新申请) issues, though its text speaks of it only as a condition;
    建设用地规划许可证 is only brought to 建设工程规划许可, which issues another licence."""
    from assistant.service import Assistant

    issued = Assistant(licence_search).ask("新申请实验动物生产许可证要几个工作日")
    assert issued.decision == "answer" and issued.citations[0].guide_id == "t-lab-new"
    assert "8个工作日" in issued.text
    brought = Assistant(licence_search).ask("建设用地规划许可证怎么办")
    assert brought.decision == "refuse" and "“建设用地规划许可证”" in brought.text


def test_a_theme_asked_by_name_says_what_it_bundles_and_how_long_it_takes_first(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    answer = demo_assistant.ask("开办餐饮店一件事")
    lead = answer.text.split("\n")[0]
    assert lead.startswith("**开办餐饮店一件事**：申请人开办餐饮店") and lead.endswith("承诺办结时限5个工作日。")
    assert "**办理时限**" not in answer.text and "**包含事项（按办理顺序）**" in answer.text



# a guide about something else, so that a small pack's words are not all in every guide
_OTHER_GUIDE = """- id: t-marriage
  name: 结婚登记
  kind: 行政确认
  department: 测试市民政局婚姻登记处
  region: 测试市
  materials:
    - name: 户口簿
  fee: 不收费
  consult_phone: 0000-1110004
"""
_ALLOWANCE_GUIDE = """- id: {id}
  name: 高龄老人津贴申领（{kind}）
  aliases: [高龄津贴, 老人津贴]
  kind: 公共服务
  department: 测试市民政局
  region: 测试市
  materials:
    - name: 居民身份证
  fee: {fee}
  consult_phone: 0000-1110009
  faq:
    - q: 高龄津贴每个月能领多少钱？
      a: 年满80周岁的老人每人每月200元。
"""
_ALLOWANCE_PACK = {
    "pack.yaml": "name: allowances\ntitle: 津贴测试包\nregion: 测试市\nsample: true\ndescription: 测试用。\n"
                 "licence: MIT\n",
    "guides/allowances.yaml": _ALLOWANCE_GUIDE.format(id="t-allowance-town", kind="城镇", fee="不收费") +
    _ALLOWANCE_GUIDE.format(id="t-allowance-village", kind="农村", fee="不收取任何费用") + _OTHER_GUIDE,
}


def test_an_allowance_asked_what_it_pays_is_compared_on_what_it_pays(tmp_path_factory, embedder) -> None:  # type: ignore[no-untyped-def]
    """"每个月能领多少钱" of an allowance asks what it pays, not what it costs. The two allowances pay the same
    200元 and word what they charge differently: asked what they pay, the answer is the same for both and is
    given at once, said to hold for the other; asked what they cost, the citizen is asked which."""
    from assistant.service import Assistant

    search = small_pack_search(tmp_path_factory, embedder, "allowance", _ALLOWANCE_PACK)
    paid = Assistant(search).ask("高龄津贴每个月能领多少钱")
    assert paid.decision == "answer" and "200元" in paid.text, paid.text
    assert "以上内容同样适用于" in paid.text and len({c.guide_id for c in paid.citations}) == 2
    assert Assistant(search).ask("高龄老人津贴申领要收费吗").decision == "clarify"


_DEADLINE_PACK = {
    "pack.yaml": "name: deadlines\ntitle: 时限测试包\nregion: 测试市\nsample: true\ndescription: 测试用。\n"
                 "licence: MIT\n",
    "guides/deadlines.yaml": """- id: t-injury-record
  name: 工伤事故备案
  aliases: [工伤备案, 事故伤害登记]
  kind: 公共服务
  department: 测试市人力资源和社会保障局
  region: 测试市
  eligibility: >-
    用人单位应当在职工发生事故伤害后的第一个工作日，通知社会保险经办机构，进行事故伤害登记；逾期的须说明原因。
  time_limit_promised: 1(工作日)
  materials:
    - name: 工伤事故备案表
  consult_phone: 0000-1110011
""" + _OTHER_GUIDE,
}


def test_a_deadline_asked_is_answered_by_the_guides_deadline_before_the_time_limit(tmp_path_factory, embedder) -> None:  # type: ignore[no-untyped-def]
    """"多久之内要登记" asks for a deadline, which the guide states in its conditions ("…第一个工作日，…"): it leads,
    on screen and aloud (its clause that holds the deadline), with its passage cited, and the time the procedure
    takes follows in the card. "要多久" asks how long it takes: no deadline."""
    from assistant.service import Assistant

    search = small_pack_search(tmp_path_factory, embedder, "deadline", _DEADLINE_PACK)
    answer = Assistant(search).ask("员工受伤了，单位几天之内要去做工伤事故备案")
    assert answer.decision == "answer" and answer.citations[0].guide_id == "t-injury-record"
    lines = answer.text.split("\n")
    assert lines[0].startswith("**工伤事故备案**：") and "第一个工作日" in lines[0]
    assert lines[1] == "**办理时限**：1个工作日（承诺办结时限）。"
    assert answer.speech == "工伤事故备案，用人单位应当在职工发生事故伤害后的第一个工作日，通知社会保险经办机构，" \
                            "进行事故伤害登记。"
    assert "eligibility" in {c.section for c in answer.citations}
    assert answer.text.count("第一个工作日") == 1  # the passage is not quoted again below it
    took = Assistant(search).ask("工伤事故备案要多久")
    assert "第一个工作日" not in took.speech and took.text.split("\n")[1:2] != lines[1:2]


def test_a_where_question_naming_a_place_is_not_asked_for_the_district(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """The places of 出生医学证明签发 depend on the district, but a question naming one of them has chosen."""
    named = demo_assistant.ask("出生医学证明在妇幼保健院哪里办", Session())
    assert named.decision == "answer" and "妇幼保健院" in named.text.split("\n")[0]
    unnamed = demo_assistant.ask("出生医学证明在哪里办", Session())
    assert unnamed.decision == "clarify" and "请问您在哪个区" in unnamed.text


def test_a_cue_word_inside_the_service_name_asks_for_nothing(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """"殡葬费用减免" has 费用 in its name: the question is where and when, answered with the one place and its
    hours, not with the fee."""
    answer = demo_assistant.ask("殡葬费用减免在哪里办，几点上班？")
    lead = answer.text.split("\n")[0]
    assert lead.startswith("**基本殡葬服务费用减免**：可到") and "8:00-17:00" in lead
    assert "收费标准" not in lead


def test_options_turned_down_are_not_offered_again_and_a_number_out_of_range_says_how_many(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """"都不是，我想问社保卡怎么激活" after the 社保卡 menu: not the same menu again (the citizen is stuck in it), but
    that no guide fits; "第五个" of four asks again, saying there are four."""
    session = Session()
    assert demo_assistant.ask("社保卡", session).decision == "clarify"
    turned_down = demo_assistant.ask("都不是，我想问社保卡怎么激活", session)
    assert turned_down.decision == "refuse", turned_down.text
    session = Session()
    menu = demo_assistant.ask("公积金", session)
    assert menu.decision == "clarify" and len(menu.suggestions) == 4
    again = demo_assistant.ask("第五个", session)
    assert again.decision == "clarify" and again.text.startswith("可选的共有4项，请回复序号（1至4）或名称：")
    session = Session()
    demo_assistant.ask("社保卡", session)
    assert demo_assistant.ask("社保卡", session).decision == "clarify"  # no option turned down: asked again


def test_a_question_about_a_hall_itself_is_answered_from_the_pack(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """"你们政务中心几点下班", "明湖区政务服务中心在哪": the hall's hours or address (pack.yaml), not a refusal; a
    service named with the hall ("政务中心办社保卡在几楼") is still that service's answer."""
    hours = demo_assistant.ask("你们政务中心几点下班", Session())
    assert hours.decision == "answer" and hours.text.startswith("**示例市政务服务中心**：办理时间：")
    where = demo_assistant.ask("明湖区政务服务中心在哪", Session())
    assert where.text.startswith("**明湖区政务服务中心**：地址：示例市明湖区湖滨路16号。")
    assert "0000-6610001" in where.text and where.citations[0].title == "明湖区政务服务中心"
    service = demo_assistant.ask("政务中心办社保卡在几楼", Session())
    assert service.citations[0].guide_id == "demo-sscard-apply"
    assert demo_assistant.ask("几点下班", Session()).decision == "clarify"  # on the web, no hall is meant
    # words of when alone ("中午休息", "几点上班") ask for the hours too: no service is left once they are out
    for question, hall in (("你们中午休息吗，下午几点开门", "hall-minghu"), ("明湖区政务服务中心几点上班", None)):
        asked = demo_assistant.ask(question, Session(), hall_id=hall)
        assert asked.text.startswith("**明湖区政务服务中心**：办理时间：周一至周五 9:00-12:00、13:30-17:30"), question


def test_a_kiosk_asked_whether_its_hall_opens_on_a_day_it_does_not_says_so(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """"你们周六开门吗" at 明湖 (open 周一至周五): not then, and when; at the city's hall (open 周六 9:00-12:00)
    the hours alone answer."""
    closed = demo_assistant.ask("你们周六开门吗", Session(), hall_id="hall-minghu")
    assert closed.text.startswith("**明湖区政务服务中心**：周六不在办理时间内，办理时间：周一至周五")
    assert closed.speech.startswith("明湖区政务服务中心周六不在办理时间内")
    assert "不在办理时间内" not in demo_assistant.ask("你们周六开门吗", Session(), hall_id="hall-city").text


def test_a_question_in_another_language_is_told_the_answers_are_in_chinese(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    session = Session()
    answer = demo_assistant.ask("How do I renew my ID card?", session)
    assert answer.decision == "refuse" and "只能用中文" in answer.text and "in Chinese" in answer.text
    assert session.failures == 0 and "转人工" in answer.suggestions
    assert "只能用中文" not in demo_assistant.ask("ETC怎么办", Session()).text  # Chinese with a Latin word


def test_who_does_it_is_answered_by_the_conditions(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """"新员工公积金账户谁来开": the guide's conditions say the employer opens it; that leads, not a FAQ on the base."""
    answer = demo_assistant.ask("新员工公积金账户谁来开")
    assert answer.citations[0].guide_id == "demo-hpf-employee-open"
    assert "为职工办理住房公积金账户设立" in answer.text[:120] and "为职工办理" in answer.speech


def test_a_bare_name_is_not_led_by_a_faq_that_asks_more(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """"申请低保" holds every word of the FAQ "申请低保要多长时间？" but asks no time: the overview leads."""
    answer = demo_assistant.ask("申请低保")
    assert answer.citations[0].guide_id == "demo-dibao"
    lead = answer.text.split("\n", 1)[0]
    assert "需要准备最低生活保障申请书" in lead and "30个工作日内完成审核确认" not in lead
    assert "30个工作日内完成审核确认" in demo_assistant.ask("申请低保要多长时间").text.split("\n", 1)[0]


def test_a_verdict_of_another_kind_of_question_does_not_lead(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """"能…领结婚证不" asks whether one can; the FAQ "还要带户口本吗" opens "不用。", which answers whether one needs
    to: its words after the verdict lead. Asked its own question, the FAQ keeps its verdict."""
    can = demo_assistant.ask("我和我对象都是外地户口 能在你们这领结婚证不")
    lead = can.text.split("\n", 1)[0]
    assert "不用" not in lead and "全国任一婚姻登记机关" in can.text and not can.speech.startswith("不用")
    need = demo_assistant.ask("现在领结婚证还要带户口本吗")
    assert need.text.split("\n", 1)[0].startswith("**结婚登记（内地居民）**：不用。")


def test_a_field_asked_while_options_are_pending_asks_among_them_again(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """"多少钱一年" after the question back on 医保 names none of the options: the options again, saying why the choice
    comes first and offering a person (not the same question word for word); the one picked then gets that field."""
    session = Session()
    asked = demo_assistant.ask("医保怎么办", session)
    assert asked.decision == "clarify" and "新生儿参加城乡居民基本医疗保险" in asked.text
    again = demo_assistant.ask("多少钱一年", session)
    assert again.decision == "clarify" and "新生儿参加城乡居民基本医疗保险" in again.text
    assert again.text.startswith("这几项的收费标准要看您具体办哪一项") and again.text != asked.text
    assert again.speech.startswith("这几项的收费标准要看您具体办哪一项。") and "转人工" in again.suggestions
    assert "转人工" not in asked.suggestions
    options = [line for line in again.text.splitlines() if line[:1].isdigit()]
    picked = next(line.split(".", 1)[0] for line in options if "新生儿参加城乡居民基本医疗保险" in line)
    fee = demo_assistant.ask(picked, session)
    assert fee.citations[0].guide_id == "demo-medins-newborn" and "个人缴费标准" in fee.text.split("\n", 1)[0]


def test_the_guide_under_discussion_picks_the_option_it_names(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """"医保怎么给他办" after 新生儿社会保障卡申领: of the three 医保 guides the search finds close, the one for a
    newborn; asked with nothing under discussion, a question back among them."""
    session = Session()
    demo_assistant.ask("孩子刚出生", session)
    answer = demo_assistant.ask("医保怎么给他办", session)
    assert answer.decision == "answer" and answer.citations[0].guide_id == "demo-medins-newborn"
    assert demo_assistant.ask("医保怎么给他办").decision == "clarify"


def test_an_item_of_the_theme_under_discussion_is_meant_though_another_guide_ranks_first(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """After 个人身后一件事 and its 户口注销, "他的公积金能取吗": the theme's own 公积金 item (职工死亡), not the
    租房提取 that the question alone ranks first."""
    session = Session()
    demo_assistant.ask("我爸走了 后面要办些什么手续", session)
    demo_assistant.ask("户口注销在哪办", session)
    answer = demo_assistant.ask("他的公积金能取吗", session)
    assert answer.decision == "answer" and answer.citations[0].guide_id == "demo-hpf-withdraw-death"
    assert demo_assistant.ask("他的公积金能取吗").citations[0].guide_id != "demo-hpf-withdraw-death"


def test_a_name_said_short_is_no_word_the_faq_on_how_long_names(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """"临时身份证当天能拿到吗": 临时身份证 is the guide's own name said short, not something its FAQ "临时身份证能用
    多久？" names beyond it; the time limit (即时办结) leads, not how long the card lasts."""
    answer = demo_assistant.ask("临时身份证当天能拿到吗")
    assert answer.text.startswith("**临时居民身份证申领**：即时办结")


def test_how_much_is_paid_is_said_with_the_amount(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """"育儿补贴一个月给多少钱": the passage that answers opens with a long rule on earlier births; the voice still says
    its clause with the amount."""
    answer = demo_assistant.ask("育儿补贴一个月给多少钱")
    assert answer.citations[0].guide_id == "demo-childcare-subsidy" and "300元" in answer.speech


def test_must_i_go_to_a_window_is_answered_with_what_can_be_done_online(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    answer = demo_assistant.ask("退休了公积金怎么取出来 一定要去窗口吗")
    assert answer.citations[0].guide_id == "demo-hpf-withdraw-retire"
    assert "可全程网上办理，无需到现场" in answer.speech


def test_a_certificate_the_guide_never_speaks_of_is_no_follow_up(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """"狗证在哪办" after 租房提取 asks where, but of a 证 the guide never mentions: not its places, a refusal;
    "除了身份证还要准备啥" after 护照 speaks of a material it lists and stays."""
    session = Session()
    demo_assistant.ask("公积金租房提取", session)
    assert demo_assistant.ask("狗证在哪办", session).decision == "refuse"
    session = Session()
    demo_assistant.ask("我想办护照", session)
    assert demo_assistant.ask("除了身份证还要准备啥", session).citations[0].guide_id == "demo-passport"


def test_saying_who_one_is_goes_on_about_the_guide_under_discussion(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """"我是外地户口呢" after the passport's places: who the citizen is, not a service named 户口…; what the guide says
    of who may apply answers (全国通办). "我是来办离婚的" after 结婚登记 says what the citizen came to do."""
    session = Session()
    demo_assistant.ask("我想办护照", session)
    demo_assistant.ask("在哪办", session)
    answer = demo_assistant.ask("我是外地户口呢", session)
    assert answer.decision == "answer" and answer.citations[0].guide_id == "demo-passport"
    assert "全国通办" in answer.text.split("\n", 1)[0]
    session = Session()
    demo_assistant.ask("结婚登记", session)
    assert demo_assistant.ask("我是来办离婚的", session).citations[0].guide_id == "demo-divorce"


def test_a_weekend_question_leads_with_the_places_open_that_day(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """"周六能办吗" (living in 明湖区): the police station open on Saturday first, on screen and aloud, not the hall
    that opens Monday to Friday only."""
    session = Session()
    demo_assistant.ask("我想办居住证", session)
    demo_assistant.ask("我住明湖区", session)
    answer = demo_assistant.ask("周六能办吗", session)
    lead = answer.text.split("\n", 1)[0]
    assert lead.startswith("**居住证申领**：示例市公安局明湖分局湖滨派出所办理时间：") and "周六 9:00-12:00" in lead
    assert "周六 9:00-12:00" in answer.speech


def test_a_time_limit_done_on_the_spot_is_said_as_people_say_it(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    answer = demo_assistant.ask("社保卡丢了")
    assert "承诺即时办结。" in answer.text and "承诺办结时限即时办结" not in answer.text + answer.speech


def test_at_a_kiosk_asking_whether_it_is_done_here_is_a_question_of_where(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """"办护照在这里吗" at the 明湖 hall's kiosk: not here, and where; "社保卡丢了在这能补吗": its window here."""
    passport = demo_assistant.ask("办护照在这里吗", hall_id="hall-minghu")
    assert passport.text.split("\n")[0].startswith("**普通护照签发**：本大厅不受理此项业务，可到")
    card = demo_assistant.ask("社保卡丢了在这能补吗", hall_id="hall-minghu")
    assert card.text.split("\n")[0] == "**社会保障卡挂失与补换**：本大厅即可办理：1-8号综合窗口。"
    assert not demo_assistant.ask("办护照在这里吗").text.split("\n")[0].startswith("**普通护照签发**：本大厅")


def test_a_cue_word_the_service_name_holds_asks_for_nothing(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """"殡葬费用怎么减免": its 费用 is of 基本殡葬服务费用减免's name, the question is how; "要多少钱" still asks
    the fee."""
    how = demo_assistant.ask("殡葬费用怎么减免")
    assert how.citations[0].guide_id == "demo-funeral-fee-waiver"
    assert not how.text.split("\n")[0].startswith("**基本殡葬服务费用减免**：收费标准")
    assert "**受理条件**" in how.text
    fee = demo_assistant.ask("殡葬费用减免要多少钱")
    assert fee.text.split("\n")[0].startswith("**基本殡葬服务费用减免**：收费标准")


def test_cantonese_for_the_first_primary_year_finds_its_guide(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """"小一" is how Guangdong and Hong Kong say the first year of primary school (synonyms.tsv)."""
    answer = demo_assistant.ask("我喺青山區住，個仔九月要讀小一，點樣報名呀")
    assert answer.decision == "answer" and answer.citations[0].guide_id == "demo-school-primary"


def test_how_much_a_service_pays_asked_with_how_to_apply_opens_with_the_sum(demo_assistant) -> None:  # type: ignore[no-untyped-def]
    """"育儿补贴每个月能领多少钱，怎么申请": the sum paid first, in text and aloud, from the passage that states it
    (cited under 相关说明), then how to apply."""
    answer = demo_assistant.ask("育儿补贴每个月能领多少钱，怎么申请")
    assert answer.text.split("\n")[0].startswith("**育儿补贴申领**：每月按300元（每年3600元）计算。可全程网上办理")
    assert "300元" in answer.speech and "**办理流程**" in answer.text
