"""The answer first, then a compact card: what each kind of question opens with, and what is said aloud."""

from __future__ import annotations

import dataclasses

import pytest

from assistant.compose import compose_answer
from assistant.fields import MAX_SPEECH
from assistant.grounding import source_text, unsupported_statements
from assistant.intent import Facet, detect_facets
from assistant.replies import compose_clarify
from knowledge.records import Chunk
from knowledge.schema import Location, Material, ServiceGuide, Theme

GUIDE = ServiceGuide(
    id="g1", name="居住证申领", eligibility="在示例市居住半年以上，有合法稳定住所的非本市户籍人员。",
    materials=[Material(name=n, form="原件", copies=1) for n in ("居民身份证", "居住证相片", "住所证明",
                                                                 "劳动合同", "就业证明", "学籍证明")],
    locations=[Location(name="明湖派出所", address="湖滨路1号", window="户政窗口", region="示例市明湖区")],
    channels=["窗口办理"], visits=1, time_limit_promised="10(工作日)", fee="不收费", consult_phone="0000-1234",
)
ONLINE = GUIDE.model_copy(update={"channels": ["网上办理", "窗口办理"], "visits": 0,
                                  "online_url": "https://zwfw.example.org/apply/g1"})


def _faq(answer: str, asked: str = "租房能办吗？") -> Chunk:
    return Chunk(id="c1", record_id="g1", record_type="guide", section="faq", position=0,
                 text=f"【居住证申领】问：{asked}答：{answer}", name="居住证申领", region=None, level=None,
                 kind=None, audience=(), source_title=None, source_url=None, origin="test")


@pytest.mark.parametrize(("question", "facets", "guide", "related", "opening"), [
    ("居住证要多少天", ["time"], GUIDE, [], "**居住证申领**：10个工作日（承诺办结时限）。"),
    ("办居住证多少钱", ["fee"], GUIDE, [], "**居住证申领**：收费标准：不收费。"),
    ("租房能办居住证吗", ["who"], GUIDE, [_faq("可以。持登记备案的租赁合同即可。")],
     "**居住证申领**：可以。持登记备案的租赁合同即可。"),
    ("居住证能网上办吗", ["where"], ONLINE, [], "**居住证申领**：可全程网上办理，无需到现场。"),
    ("居住证能网上办吗", ["where"], GUIDE, [], "**居住证申领**：不能网上办理，需到现场1次。"),
    ("居住证要带什么", ["materials"], GUIDE, [],
     "**居住证申领**：需要准备居民身份证、居住证相片、住所证明等6项材料。"),
    # the guide's own FAQ asks the question: its answer, not the field that 多少天 names
    ("居住证办好能用多少天", ["time"], GUIDE, [_faq("有效期一年，期满前可签注。", "居住证办好能用多少天？")],
     "**居住证申领**：有效期一年，期满前可签注。"),
    # an FAQ that asks something else does not displace the field asked for
    ("居住证办理要多少天", ["time"], GUIDE, [_faq("有效期一年，期满前可签注。", "居住证办好能用多少天？")],
     "**居住证申领**：10个工作日（承诺办结时限）。"),
])
def test_the_answer_comes_first(question: str, facets: list[Facet], guide: ServiceGuide, related: list[Chunk],
                                opening: str) -> None:
    answer = compose_answer(guide, facets, related=related, question=question)
    assert answer.text.split("\n")[0] == opening
    assert unsupported_statements(answer.text, source_text([guide])) == []


def test_whether_one_may_is_answered_with_the_conditions_however_long_the_clause() -> None:
    """"能…吗" in one clause asks whether one may: the conditions lead, though a long service name sits between."""
    lead = "**居住证申领**：受理条件：在示例市居住半年以上，有合法稳定住所的非本市户籍人员。"
    for question in ("我能办吗", "外地户口的个人能申请示例市的居住证申领吗", "别人可以帮我代办示例市居住证申领吗"):
        assert compose_answer(GUIDE, [], question=question).text.split("\n")[0] == lead


def test_a_theme_opens_with_what_it_does_together_in_short_then_how_long_it_takes() -> None:
    """"能一次办吗" about a 一件事, or its bare name: its summary's first sentence, cut at a clause when long (the items
    are listed below it), then its time limit; not the whole summary with the time limit far below."""
    theme = Theme(id="t1", name="开办饭店一件事", items=["g1"], time_limit_promised="3(工作日)",
                  summary="申请人开办饭店，一次申请即可联办个体工商户设立登记、食品经营许可、公众聚集场所投入使用营业前消防安全检查、"
                          "户外招牌设置和新办纳税人涉税事项。各部门共享信息，申请人无需重复提交材料。")
    for question in ("开饭店的执照和许可能一次办吗", "开办饭店一件事"):
        first = compose_answer(theme, [], question=question, item_names={"g1": "居住证申领"}).text.split("\n")[0]
        assert first.startswith("**开办饭店一件事**：申请人开办饭店，一次申请即可联办") and "无需重复提交" not in first
        assert first.endswith("承诺办结时限3个工作日。") and len(first) < 120


def test_the_online_entry_only_when_the_guide_says_it_can_be_done_online() -> None:
    online = compose_answer(ONLINE, ["how"], question="怎么办").text
    assert "[网上办理入口](https://zwfw.example.org/apply/g1)" in online
    offline = GUIDE.model_copy(update={"online_url": "https://zwfw.example.org/apply/g1"})
    text = compose_answer(offline, ["how"], question="怎么办").text
    assert "https://zwfw.example.org/apply/g1" not in text and "不能网上办理，需到现场1次。" in text


def test_a_shortened_list_says_so_and_the_full_guide_has_everything() -> None:
    answer = compose_answer(GUIDE, [], question="居住证")
    # an overview leads with online, time limit, fee and the first materials, saying how many there are; its card
    # gives the other fields a line each: the first place by its name and window
    assert answer.text.startswith("**居住证申领**：不能网上办理，需到现场1次。承诺办结时限10个工作日。"
                                  "收费标准：不收费。需要准备居民身份证、居住证相片、住所证明等6项材料。\n")
    assert "**申请材料**" not in answer.text
    timed = compose_answer(GUIDE, ["how", "time"], question="怎么办，要多久").text
    assert "**申请材料**：居民身份证、居住证相片、住所证明等6项，详见完整指南。" in timed
    assert "**办理地点**：明湖派出所户政窗口。" in answer.text and "湖滨路1号" not in answer.text
    listed = compose_answer(GUIDE, ["materials"], question="要带什么").text  # asked: the list, each item
    assert "\n1. 居民身份证（原件，1份）\n" in listed and "6. 学籍证明（原件，1份）" in listed
    assert "6. 学籍证明（原件，1份）" in answer.guide and "6. 学籍证明" not in answer.text
    assert "(工作日)" not in answer.text + answer.guide
    assert "6. 学籍证明（原件，1份）" in compose_answer(GUIDE, ["time"], question="多久").guide  # whatever was asked


@pytest.mark.parametrize(("facets", "spoken"), [
    (["time"], "居住证，承诺办结时限为10个工作日。"),  # the screen's brackets are not read out
    (["fee"], "居住证，收费标准：不收费。"),
    (["phone"], "居住证，咨询电话：0000-1234。"),
    (["materials"], "居住证，需要准备居民身份证、居住证相片、住所证明等6项材料。"),
    (["where"], "居住证，可到明湖派出所（湖滨路1号）户政窗口办理。"),
])
def test_the_speech_says_the_answer_itself(facets: list[Facet], spoken: str) -> None:
    assert compose_answer(GUIDE, facets, question="居住证").speech == spoken


def test_the_speech_is_short_and_a_clarifying_question_names_at_most_three_options() -> None:
    long = GUIDE.model_copy(update={"fee": "工本费20元；" * 30})
    assert len(compose_answer(long, ["fee"], question="多少钱").speech) <= MAX_SPEECH
    options = [GUIDE.model_copy(update={"id": f"g{i}", "name": name})
               for i, name in enumerate(("首次申领", "换领", "补领", "临时身份证申领"))]
    answer = compose_clarify(options)
    # three said; that the screen has a fourth is said too
    assert answer.speech == "请问您要办理的是：首次，还是换领，还是补领？屏幕上共有4项可选。"
    assert answer.suggestions == ["首次申领", "换领", "补领", "临时身份证申领"]


@pytest.mark.parametrize(("names", "speech"), [
    (["律师执业变更审核(（执业类别变更）)", "律师执业注销"], "请问您要办的是律师执业的哪一项：变更审核，还是注销？"),
    # the same item told apart by its brackets: their words, after the item's name said once
    (["律师执业变更审核(（执业类别变更）)", "律师执业变更审核(执业机构变更)"],
     "请问您要办的是律师执业变更审核的哪一项：执业类别变更，还是执业机构变更？"),
    (["居住证申领", "居住证签注（续期）"], "请问您要办理的是：居住证，还是居住证签注？"),  # nothing worth saying once
    # an act word in the brackets is what tells them apart: said whole, not "…许可新"
    (["实验动物生产许可(新申请)", "实验动物生产许可(延续)"],
     "请问您要办的是实验动物生产许可的哪一项：新申请，还是延续？"),
    # what every option repeats within its brackets is said not at all
    (["二级注册结构工程师执业资格注册核准(二级注册结构工程师个人姓名变更)",
      "二级注册结构工程师执业资格注册核准(二级注册结构工程师重新注册)"],
     "请问您要办的是二级注册结构工程师执业资格注册核准的哪一项：个人姓名变更，还是重新注册？"),
    (["火灾事故认定复核(对支队作出的一般火灾事故认定的复核)", "火灾事故认定复核(对支队作出的重大火灾事故认定的复核)",
      "火灾事故认定复核(对支队作出的较大火灾事故认定的复核)"],
     "请问您要办的是火灾事故认定复核的哪一项：一般，还是重大，还是较大？"),
    # an end the name they share does not say is what they are: it stays
    (["司法鉴定机构信息查询", "司法鉴定人执业信息查询"],
     "请问您要办的是司法鉴定的哪一项：机构信息查询，还是人执业信息查询？"),
])
def test_a_clarifying_question_says_what_the_options_share_once(names: list[str], speech: str) -> None:
    options = [GUIDE.model_copy(update={"id": f"g{i}", "name": name}) for i, name in enumerate(names)]
    asked = compose_clarify(options)
    assert asked.speech == speech
    assert all(name in asked.text for name in names)  # the screen lists them in full


def test_one_item_two_publishers_write_is_labelled_by_publisher_and_said_once() -> None:
    """律师执业变更审核 from 广州 and from the province, brackets written two ways, nested: on screen each with its
    region and department; aloud each item once, without its brackets' brackets."""
    names = [("律师执业变更审核(（执业类别变更）)", "广东省广州市", "广州市司法局"),
             ("律师执业变更审核(执业类别变更)", "广东省", "广东省司法厅"),
             ("律师执业变更审核(（市内转所（执业机构变更））)", "广东省广州市", "广州市司法局"),
             ("律师执业变更审核(市内转所（执业机构变更）)", "广东省", "广东省司法厅")]
    options = [GUIDE.model_copy(update={"id": f"g{i}", "name": name, "region": region, "department": department})
               for i, (name, region, department) in enumerate(names)]
    asked = compose_clarify(options)
    assert "1. 律师执业变更审核(（执业类别变更）)（广东省广州市，广州市司法局）" in asked.text
    assert "2. 律师执业变更审核(执业类别变更)（广东省，广东省司法厅）" in asked.text
    assert asked.speech == "请问您要办的是律师执业变更审核的哪一项：执业类别变更，还是市内转所执业机构变更？"


def test_steps_are_listed_when_the_procedure_is_asked_and_left_to_the_full_guide_otherwise() -> None:
    stepped = GUIDE.model_copy(update={"steps": ["申请：到窗口提交材料", "审核：民警核验", "领证：到窗口领取"]})
    how = compose_answer(stepped, ["how"], question="居住证怎么办")
    assert "**办理流程**\n1. 申请：到窗口提交材料\n2. 审核：民警核验\n3. 领证：到窗口领取" in how.text
    overview = compose_answer(stepped, [], question="居住证")
    assert "办理流程" not in overview.text and "1. 申请：到窗口提交材料" in overview.guide


def test_an_faq_that_only_shares_a_word_with_the_question_does_not_lead() -> None:
    unrelated = _faq("不能。证件下来之前不得营业。", asked="证还没下来，能不能先开业？")
    how = compose_answer(GUIDE, ["how"], question="居住证咋办", related=[unrelated])
    assert not how.text.startswith("**居住证申领**：不能。") and not how.speech.startswith("不能")
    assert "需要准备居民身份证、居住证相片、住所证明等6项材料。" in how.text.split("\n")[0]
    assert "- 问：证还没下来，能不能先开业？" in how.text  # still shown, as a related passage
    asked = _faq("可以。持登记备案的租赁合同即可。", asked="租房能办居住证吗？")
    assert compose_answer(GUIDE, ["how"], question="我租房住，能办居住证吗", related=[asked]).text.startswith(
        "**居住证申领**：可以。持登记备案的租赁合同即可。")
    # a follow-up about something the guide speaks of ("户口本也要吗") is answered by the passage found for it
    pointed = compose_answer(GUIDE, [], question="户口本也要吗", only_related=True,
                             related=[_faq("不用。只需居民身份证。", asked="现在办居住证还要带户口本吗？")])
    assert pointed.text.startswith("**居住证申领**：不用。只需居民身份证。")


def test_how_long_of_something_the_faq_names_is_answered_by_the_faq() -> None:
    """"签注要多久" of 居住证申领: the guide's name says nothing of 签注 and its FAQ on 多久 does, so the FAQ's answer
    leads and the time limit of the whole procedure follows in the card; "居住证要多久" names only the service, and
    its time limit, a number, leads."""
    endorse = _faq("签注当场办结，有效期顺延一年。", asked="居住证签注要多长时间？")
    asked = compose_answer(GUIDE, ["time"], question="签注要多久", related=[endorse])
    assert asked.text.startswith("**居住证申领**：签注当场办结，有效期顺延一年。")
    assert "**办理时限**：10个工作日" in asked.text and asked.speech.startswith("签注当场办结")
    whole = compose_answer(GUIDE, ["time"], question="居住证要多久", related=[endorse])
    assert whole.text.startswith("**居住证申领**：10个工作日（承诺办结时限）。")


def test_how_long_is_said_with_the_time_limit_and_the_faqs_own_answer_to_how_long() -> None:
    """"多久" may be how long the procedure takes or how long the permit lasts: the time limit leads on screen, the
    guide's FAQ that asks 多久 of the same thing follows it, and the voice says both (an item of a list ends
    with a full stop when it ends what is said). An FAQ on another facet adds nothing to the voice."""
    lasts = _faq("居住证有效期为一年；期满前三十日内可到居住地派出所或通过网上办事大厅申请签注延续以继续享受居住地基本"
                 "公共服务和便利。", asked="居住证办下来能用多久？")
    answer = compose_answer(GUIDE, ["time"], question="居住证办好后能用多长时间", related=[lasts])
    assert answer.text.startswith("**居住证申领**：10个工作日（承诺办结时限）。")
    assert "答：居住证有效期为一年" in answer.text
    assert answer.speech.endswith("承诺办结时限为10个工作日。居住证有效期为一年。")
    fee = _faq("不收费。", asked="办居住证要花钱吗？")
    took = compose_answer(GUIDE, ["time"], question="居住证要等多久才能办好", related=[fee])
    assert "不收费" not in took.speech


def test_the_speech_ends_on_a_whole_sentence_or_clause() -> None:
    long = GUIDE.model_copy(update={"materials": [Material(name=n, form="原件", copies=1) for n in (
        "居民身份证或者其他有效身份证明文件", "居住证相片回执", "合法稳定住所证明材料", "劳动合同")]})
    speech = compose_answer(long, [], question="居住证").speech
    assert speech.endswith("。") and "…" not in speech
    # a list said in part; then, for a question how to do it, the number to call
    assert speech.endswith("需要准备居民身份证或者其他有效身份证明文件、居住证相片回执等。详情可致电0000-1234。")
    faq = _faq("系统会自动调整。额度不够时可在电子税务局申请调整开具金额总额度，税务机关按规定审核后调整，"
               "也可以到主管税务机关的办税服务厅窗口或者拨打纳税服务热线咨询。", asked="开票额度不够用怎么办？")
    said = compose_answer(GUIDE, ["how"], question="开票额度不够用怎么办", related=[faq]).speech
    assert said == "系统会自动调整。额度不够时可在电子税务局申请调整开具金额总额度，税务机关按规定审核后调整。" \
                   "详情可致电0000-1234。"
    # a question for one field is answered by it alone; a speech with no room left gets no number
    assert "致电" not in compose_answer(GUIDE, ["time"], question="居住证要多久").speech
    # a field written without a full stop ends with one; a "；" inside brackets ends no sentence
    gas = GUIDE.model_copy(update={"fee": "不收费（原户名下欠缴的燃气费须结清；过户安全检查不收费，更换不合格软管、"
                                          "报警器等由用户自愿购买，费用以燃气公司公布的价格为准）"})
    free = compose_answer(gas, ["fee"], question="燃气过户要钱吗").speech
    assert free.endswith("。") and free.count("（") == free.count("）")
    # after a whole sentence, never a clause that only leads into the next one ("网上申请邮寄的。" says nothing)
    fees = GUIDE.model_copy(update={"fee": "工本费每证10元；网上申请邮寄的，邮寄费用以交管12123 App页面提示为准。"})
    overview = compose_answer(fees, [], question="驾照丢了咋补").speech
    assert "收费标准：工本费每证10元。" in overview and "邮寄的" not in overview


def test_conditions_the_guide_breaks_off_say_so_under_related_passages_too() -> None:
    """A passage of 受理条件 that ends where the guide breaks its list off ("…可以提出申请：") says, as the card does,
    that the conditions are not listed and whom to ask, instead of ending on "：" (or "；")."""
    cut = GUIDE.model_copy(update={"eligibility": "注销无线电频率使用许可，申请人有下列情形之一的可以提出申请："})
    passage = dataclasses.replace(_faq(""), section="eligibility",
                                  text=f"【居住证申领】受理条件：{cut.eligibility}")
    text = compose_answer(cut, ["where"], question="在哪办", related=[passage]).text
    assert "可以提出申请：（具体条件指南未列出，可致电 0000-1234 咨询）" in text
    # a passage that stops in the middle of a list says that the rest is in the full guide
    steps = dataclasses.replace(_faq(""), section="steps", text="【居住证申领】办理流程：1. 申请：到派出所申请；"
                                                                 "2. 审查：必要时发布公告；")
    shown = compose_answer(GUIDE, ["fee"], question="怎么收费", related=[steps]).text
    assert "必要时发布公告……（详见完整指南）" in shown and "公告；" not in shown


def test_the_voice_says_which_materials_are_needed_only_in_some_cases() -> None:
    """The screen's list marks a material the guide asks only in some cases; the voice has no list, so it says so
    too ("损坏的原居民身份证（非必需）"), and the text's lead stays as short as before."""
    some = GUIDE.model_copy(update={"materials": [
        Material(name="居民户口簿", form="原件", copies=1),
        Material(name="损坏的原居民身份证", form="原件", copies=1, required=False)]})
    answer = compose_answer(some, ["materials"], question="补领身份证要带什么")
    assert "居民户口簿、损坏的原居民身份证（非必需）" in answer.speech
    assert answer.text.startswith("**居住证申领**：需要准备居民户口簿、损坏的原居民身份证。")
    # a bare name's overview says what to bring, and the voice marks it the same way
    overview = compose_answer(some, [], question="居住证申领")
    assert "需要准备居民户口簿、损坏的原居民身份证。" in overview.text
    assert "居民户口簿、损坏的原居民身份证（非必需）" in overview.speech


def test_a_time_limit_promised_and_by_law_the_same_is_said_once() -> None:
    same = GUIDE.model_copy(update={"time_limit_promised": "即时办结", "time_limit_legal": "即时办结"})
    answer = compose_answer(same, ["time"], question="要多久")
    assert answer.text.startswith("**居住证申领**：即时办结（承诺及法定办结时限）。")
    assert "法定办结时限即时办结" not in answer.speech
    both = GUIDE.model_copy(update={"time_limit_legal": "20(工作日)"})
    assert compose_answer(both, ["time"], question="要多久").text.startswith(
        "**居住证申领**：10个工作日（承诺办结时限）；法定办结时限20个工作日。")
    # said aloud without the screen's brackets
    assert answer.speech.endswith("即时办结。") and "（" not in answer.speech
    assert compose_answer(both, ["time"], question="要多久").speech.endswith(
        "承诺办结时限为10个工作日，法定办结时限为20个工作日。")
    equal = GUIDE.model_copy(update={"time_limit_legal": "10(工作日)"})
    assert compose_answer(equal, ["time"], question="要多久").speech.endswith("承诺及法定办结时限均为10个工作日。")


def test_a_sentence_said_in_part_never_stops_before_what_follows_from_its_condition() -> None:
    """"…确有困难的，经职工代表大会或者工会讨论通过，并经审批后，可以降低缴存比例或者缓缴": its first clauses alone
    give a condition without what follows from it; the voice stops before that sentence instead."""
    rates = _faq("单位和职工的缴存比例相同，在5%至12%之间由单位自主确定。生产经营确有困难的，经职工代表大会或者工会讨论"
                 "通过，并经审批后，可以降低缴存比例或者缓缴。", asked="缴存比例能定多少？")
    said = compose_answer(GUIDE, ["who"], question="缴存比例能定多少？", related=[rates]).speech
    assert said.startswith("单位和职工的缴存比例相同，在5%至12%之间由单位自主确定。") and "讨论通过。" not in said


def test_the_ways_a_guide_is_done_are_not_repeated_under_related_passages() -> None:
    """The card has said how it is done online and given the entry: the passage "办理形式：…；网办入口：…" adds
    nothing."""
    ways = dataclasses.replace(_faq(""), section="locations",
                               text="【居住证申领】办理形式：网上办理、窗口办理；网办入口：https://zwfw.example.org/apply/g1")
    text = compose_answer(ONLINE, ["who"], question="谁能办，网上能办吗", related=[ways]).text
    assert "[网上办理入口](https://zwfw.example.org/apply/g1)" in text and "办理形式：" not in text


def test_the_speech_goes_on_with_the_sentence_of_the_passage_that_speaks_of_the_question() -> None:
    """A passage longer than the voice's lead: after its first sentences, the one that shares words with the
    question and that nothing said shares ("现做现卖" → "现做饮品…就需要申请"); none when no sentence left does,
    and never a clause said twice."""
    permit = _faq("不用办许可证。仅销售预包装食品的，取得营业执照后向所在区市场监督管理局办理备案即可，可在政务服务网"
                  "在线备案。但如果还卖散装食品、现做饮品或熟食，就需要申请食品经营许可。",
                  asked="开奶茶店要办许可证吗？")
    said = compose_answer(GUIDE, ["who"], question="开奶茶店要办许可证吗？就是现做现卖的那种", related=[permit]).speech
    assert said.startswith("不用办许可证。") and "现做饮品或熟食，就需要申请食品经营许可。" in said
    assert len(said) <= MAX_SPEECH
    plain = compose_answer(GUIDE, ["who"], question="开奶茶店要办许可证吗？", related=[permit]).speech
    assert "现做" not in plain
    moved = _faq("不需要。在示例市参保后，通过国家社会保险公共服务平台、电子社保卡或到社保窗口申请转入即可，由两地社保"
                 "经办机构线上传递信息，您无需回原参保地。", asked="养老保险转入要回原参保地吗？")
    back = compose_answer(GUIDE, ["who"], question="养老保险从外地转过来，要回原来的城市办吗？", related=[moved]).speech
    assert back.count("申请转入即可") == 1 and "您无需回原参保地。" in back
    assert "线上传递信息，您无需回原参保地。" in back  # the rest of a sentence said in part goes on from it


def test_a_question_whether_it_can_be_done_online_gets_the_place_in_a_line() -> None:
    text = compose_answer(ONLINE, ["where"], question="网上能办吗").text
    assert text.startswith("**居住证申领**：可全程网上办理") and "**办理地点**：明湖派出所户政窗口。" in text
    assert "湖滨路1号" not in text  # the halls in full are for "在哪办"
    # the entry comes right after the answer, before the place and whatever else the question's words ask
    assert text.split("\n")[1] == "[网上办理入口](https://zwfw.example.org/apply/g1)"
    asked = compose_answer(ONLINE, ["who"], question="可以在网上申请吗").text
    assert asked.split("\n")[1] == "[网上办理入口](https://zwfw.example.org/apply/g1)"
    # where online: the same; where after failing online: the place
    where_online = compose_answer(ONLINE, ["where"], question="在网上哪里预约").text
    assert where_online.startswith("**居住证申领**：可全程网上办理")
    assert where_online.split("\n")[1] == "[网上办理入口](https://zwfw.example.org/apply/g1)"
    failed = compose_answer(ONLINE, ["where"], question="网上查不到，去哪里查").text
    assert failed.startswith("**居住证申领**：可到明湖派出所")
    assert asked.split("\n")[1] == "[网上办理入口](https://zwfw.example.org/apply/g1)"
    assert "湖滨路1号" in compose_answer(ONLINE, ["where"], question="在哪办").text


TOWNS = GUIDE.model_copy(update={"locations": [
    Location(name="示例市政务服务中心", address="示例市明湖区市民大道88号", window="一楼A区1-12号窗口"),
    Location(name="青山区政务服务中心", address="示例市青山区青山大道200号", window="居住证申领窗口",
             region="示例市青山区"),
    Location(name="青山区松岭镇便民服务中心", address="示例市青山区松岭镇松岭街8号", window="综合窗口",
             region="示例市青山区"),
]})


@pytest.mark.parametrize(("question", "first"), [
    ("我住青山区松岭镇，居住证去哪办", "青山区松岭镇便民服务中心"),  # the town before the district and the city
    ("居住证在青山区哪里办", "青山区政务服务中心"),
    # "示例市" is in every place and "居住证申领" is the service's own name (in a window): neither names a place
    ("示例市居住证申领在哪办", "示例市政务服务中心"),
])
def test_the_place_the_question_names_comes_first(question: str, first: str) -> None:
    answer = compose_answer(TOWNS, ["where"], question=question)
    assert answer.text.split("\n")[0].startswith(f"**居住证申领**：可到{first}")
    assert first in answer.speech
    places = [line for line in answer.text.split("\n") if line.startswith("- ")]
    assert places[0].startswith(f"- {first}") and len(places) == 3  # every place still listed


def test_a_question_a_passage_answers_gets_a_card_of_where_and_whom_to_call_not_the_whole_overview() -> None:
    """"租房能办吗" answered by the guide's FAQ: where, online and the phone follow the answer; the materials, time
    limit and fee (asked for by no one) are behind "查看完整指南". A bare name still gets the whole overview."""
    faq = [_faq("可以。持登记备案的租赁合同即可。")]
    text = compose_answer(GUIDE, [], related=faq, question="租房能办居住证吗").text
    assert text.split("\n")[0] == "**居住证申领**：可以。持登记备案的租赁合同即可。"
    assert "**办理地点**" in text and "**咨询电话**：0000-1234。" in text and "**受理条件**" in text
    assert "**申请材料**" not in text and "**办理时限**" not in text and "**收费标准**" not in text
    bare = compose_answer(GUIDE, [], related=faq, question="居住证申领").text
    assert "需要准备居民身份证、居住证相片、住所证明等6项材料" in bare and "**办理地点**" in bare


def test_the_voice_also_says_the_place_and_the_phone_asked_for_after_the_answer() -> None:
    """"能在青山区办吗？地址在哪？电话多少": the FAQ's "可以。…" leads; the kiosk then says where and whom to
    call, which only the screen's card gave before."""
    faq = [_faq("可以。在本市居住半年以上即可申请。", "外地户口能办吗？")]
    question = "外地户口能在青山区办吗？地址在哪？电话多少"
    answer = compose_answer(TOWNS, ["who", "where", "phone"], related=faq, question=question)
    assert answer.speech.startswith("可以。在本市居住半年以上即可申请。")
    assert "可到青山区政务服务中心居住证申领窗口办理。" in answer.speech and "咨询电话0000-1234。" in answer.speech
    assert len(answer.speech) <= MAX_SPEECH


def test_a_question_naming_a_place_of_the_guide_is_answered_with_that_place() -> None:
    """"住松岭镇，在镇上能办吗" asks whether that place does it: the town's centre leads, said aloud too. A district
    the guide's places serve ("住青山区，能办吗"), or a word of a window with punctuation ("消防、"), names none."""
    first = compose_answer(TOWNS, ["who"], question="我们住青山区松岭镇，在镇上能办吗").text.split("\n")[0]
    assert first.startswith("**居住证申领**：可到青山区松岭镇便民服务中心")
    answer = compose_answer(TOWNS, ["who"], region="示例市青山区", question="我住青山区，能办吗")
    assert answer.text.split("\n")[0].startswith("**居住证申领**：受理条件：")
    assert "可到" not in answer.speech
    spoken = compose_answer(TOWNS, ["materials"], question="在松岭镇办要带什么").speech
    assert spoken.startswith("居住证，需要准备") and "可到青山区松岭镇便民服务中心综合窗口办理。" in spoken


def test_the_speech_never_reads_out_a_link() -> None:
    """A guide with no hall answers "在哪办" with its online channel and entry link: the screen shows the link,
    the voice says where, not "[网上办理入口](" cut in half."""
    nowhere = ONLINE.model_copy(update={"locations": [], "name": "补领离婚证预约"})
    answer = compose_answer(nowhere, ["where"], question="补领离婚证预约要找哪个机关")
    assert "[网上预约入口](https://zwfw.example.org/apply/g1)" in answer.text
    assert answer.speech.startswith("补领离婚证预约，可全程网上预约，预约无需到现场。")
    assert not any(mark in answer.speech for mark in ("[", "]", "(", "入口", "http"))


def test_a_passage_the_card_shows_whole_is_not_shown_again() -> None:
    """"怎么申请" gets the conditions in the card; the same conditions, found again as a passage, are not
    repeated under 相关说明. A FAQ that quotes them still is: it answers a question of its own."""
    conditions = dataclasses.replace(_faq(""), section="eligibility",
                                     text=f"【居住证申领】受理条件：{GUIDE.eligibility}")
    text = compose_answer(GUIDE, [], question="居住证", related=[conditions]).text
    assert text.count(GUIDE.eligibility.rstrip("。")) == 1 and "相关说明" not in text
    faq = _faq(GUIDE.eligibility, "谁能办？")
    assert "相关说明" in compose_answer(GUIDE, ["time"], question="居住证要多久", related=[faq]).text


def test_the_speech_answers_each_thing_asked() -> None:
    """"要钱吗？要多久？": the voice says the time limit and the fee, not one of them; "能网上办吗" asked with a
    fee is answered too."""
    both = compose_answer(GUIDE, ["time", "fee"], question="办居住证要钱吗？要多久？").speech
    assert "10个工作日" in both and "不收费" in both
    online = compose_answer(ONLINE, ["fee"], question="办居住证多少钱，网上能办吗").speech
    assert "不收费" in online and "可全程网上办理" in online
    assert len(both) <= MAX_SPEECH and len(online) <= MAX_SPEECH
    where = compose_answer(GUIDE, ["where", "materials"], question="居住证在哪办，要带什么").speech
    assert "明湖派出所" in where and "居民身份证" in where
    assert "phone" in detect_facets("松材线虫病的政策找谁咨询")
    # after a passage that answers one part, the other part asked: "现在能去吗？要多少钱"
    went = compose_answer(GUIDE, ["fee"], question="租房能办居住证吗？要多少钱",
                          related=[_faq("可以。持登记备案的租赁合同即可。")]).speech
    assert went.startswith("可以。") and went.endswith("收费标准：不收费。") and "…" not in went
    # a fee said after another answer: whole sentences, not a clause that means nothing alone
    fees = ONLINE.model_copy(update={"fee": "工本费每证10元；网上申请邮寄的，"
                                            "邮寄费用以交管12123 App页面提示的金额为准。"})
    both_asked = compose_answer(fees, ["fee"], question="换证多少钱，能网上换吗").speech
    assert both_asked.endswith("收费标准：工本费每证10元。") and "可全程网上办理" in both_asked
    # never the time limit after a passage: its "多少天" (98天) is seldom the days the procedure takes
    days = compose_answer(GUIDE, ["time"], question="居住证办好能用多少天",
                          related=[_faq("有效期一年。", asked="居住证办好能用多少天？")]).speech
    assert "10个工作日" not in days
    # a passage that answers in its own words is not followed by a field it may contradict
    paid = GUIDE.model_copy(update={"fee": "工本费20元"})
    faq = _faq("补领免费，换领收取工本费。", asked="补领居住证要交钱吗？")
    said = compose_answer(paid, ["fee"], question="补领居住证要交钱吗", related=[faq]).speech
    assert said.startswith("补领免费") and "20元" not in said


def test_conditions_the_guide_breaks_off_say_the_rest_is_not_listed() -> None:
    """An export that keeps only the first paragraph of 受理条件 ends it where the list starts: the answer says
    the conditions are not listed and whom to ask, and the voice leaves no bracket open."""
    cut = GUIDE.model_copy(update={"eligibility": "具备下列条件之一，并在中国境内从事审计业务工作2年以上者，"
                                                  "可以向省级注册会计师协会申请注册："})
    answer = compose_answer(cut, ["who"], question="申请注册要满足什么条件")
    assert answer.text.split("\n")[0].endswith("申请注册：（具体条件指南未列出，可致电 0000-1234 咨询）")
    assert answer.speech.count("（") == answer.speech.count("）")
    listed = GUIDE.model_copy(update={"eligibility": "1.符合有关规定；"})
    assert "（其余条件指南未列出，可致电 0000-1234 咨询）" in compose_answer(listed, [], question="居住证").text
    assert "指南未列出" not in compose_answer(GUIDE, ["who"], question="谁能办").text


def test_a_passage_that_goes_on_with_a_list_says_of_what() -> None:
    """A long list is indexed in parts; the part from item 4 on shows as "申请材料（第4项起）：4. …", not as a bare
    "4."."""
    part = dataclasses.replace(_faq(""), section="materials",
                               text="【居住证申领】4. 劳动合同（原件，1份）；5. 就业证明（原件，1份）")
    text = compose_answer(GUIDE, ["time"], question="劳动合同要多久", related=[part]).text
    assert "- 申请材料（第4项起）：4. 劳动合同（原件，1份）" in text


def test_a_question_for_the_conditions_opens_with_them_not_with_a_faq_on_something_else() -> None:
    took = _faq("一般10个工作日办结。", asked="申请居住证要多久？")
    lead = compose_answer(GUIDE, ["who"], question="想申请居住证，要什么条件？", related=[took]).text.split("\n")[0]
    assert lead == "**居住证申领**：受理条件：在示例市居住半年以上，有合法稳定住所的非本市户籍人员。"
    who = _faq("在示例市居住半年以上即可。", asked="哪些人可以申请居住证？")
    assert compose_answer(GUIDE, ["who"], question="想申请居住证，要什么条件？",
                          related=[who]).text.startswith("**居住证申领**：在示例市居住半年以上即可。")


def test_whether_it_can_be_done_online_is_answered_whatever_the_words_order() -> None:
    """"能在网上续吗" asks the same as "网上能续吗"; "不想跑窗口" says what the citizen will not do, it asks for no
    place; "去哪个窗口" still does."""
    online = compose_answer(ONLINE, ["where"], question="居住证一年到了，不想跑窗口，能在网上续吗？").text
    assert online.startswith("**居住证申领**：可全程网上办理")
    assert compose_answer(ONLINE, [], question="居住证能网上换吗").text.startswith("**居住证申领**：可全程网上办理")
    assert "how" in detect_facets("商品条码怎么查")  # how to look it up: the card says whether it is online
    # done nowhere but online, "怎么查" is answered aloud by where online
    lookup = ONLINE.model_copy(update={"locations": [], "channels": ["网上办理"]})
    assert "可全程网上办理" in compose_answer(lookup, ["how", "phone"], question="商品条码怎么查？电话多少？").speech
    assert not compose_answer(ONLINE, ["where"], question="我不会在网上弄，去哪个窗口办").text.startswith(
        "**居住证申领**：可全程网上办理")


def test_one_place_is_given_with_its_hours_and_they_are_said_whole_or_not_at_all() -> None:
    hall = Location(name="中山市火炬开发区政务服务中心", address="中山市火炬开发区中心城区祥兴路6号",
                    window="一楼综合窗口", hours="周一至周五 上午9:00至12:00；下午14:00至17:30；法定节假日除外",
                    region="示例市明湖区")
    guide = GUIDE.model_copy(update={"locations": [hall]})
    answer = compose_answer(guide, ["where"], question="在哪里办，几点上班")
    assert "办理时间：周一至周五 上午9:00至12:00，下午14:00至17:30，法定节假日除外。" in answer.text.split("\n")[0]
    assert "上午9:00" not in answer.speech and answer.speech.endswith("一楼综合窗口办理。")


def test_several_places_are_named_once_with_their_addresses_in_the_list() -> None:
    second = Location(name="青山派出所", address="翠湖路9号", window="户政窗口", region="示例市青山区")
    answer = compose_answer(GUIDE.model_copy(update={"locations": [*GUIDE.locations, second]}), ["where"],
                            question="在哪办")
    text = answer.text
    assert text.split("\n")[0] == "**居住证申领**：可到明湖派出所户政窗口等2处办理。"
    assert text.count("湖滨路1号") == 1 and "翠湖路9号" in text
    # the voice has no list: it gives the first place's address
    assert "明湖派出所（湖滨路1号）户政窗口等2处办理。" in answer.speech


def test_a_cue_inside_a_longer_cue_of_another_facet_asks_nothing() -> None:
    """"住满多久" asks how long one must have lived here (a condition), not how long the procedure takes; "几个钱"
    asks the fee."""
    assert detect_facets("外地人办居住证要在这住满多久") == ["who"]
    assert detect_facets("居住证办下来要多久") == ["time"]
    assert detect_facets("驾照丢了，补一个要几个钱，当天能拿到不") == ["time", "fee"]


def test_how_to_redo_it_is_asked_with_the_other_facets() -> None:
    """"身份证掉了咋补啊 要多少钱" asks how to get a new one as well as the fee: both are answered."""
    assert detect_facets("身份证掉了咋补啊 要多少钱") == ["how", "fee"]
    assert detect_facets("结婚证丢了怎么补") == ["how"]


def test_an_faqs_verdict_on_its_own_case_is_no_answer_to_a_question_that_is_not_yes_or_no() -> None:
    """The FAQ "刚来一个月，能办居住证吗？" opens "暂时不能。": to "居住登记满多久才能办" it answers with what follows;
    to a yes-or-no question in any form ("还能办不？") it still opens with its verdict."""
    faq = _faq("暂时不能。需要先办理居住登记，登记满半年，才能申领居住证。", asked="刚来一个月，能办居住证吗？")
    how_long = compose_answer(GUIDE, ["who"], question="居住登记满多久才能办居住证", related=[faq]).text
    assert how_long.startswith("**居住证申领**：需要先办理居住登记，登记满半年，才能申领居住证。")
    yes_no = compose_answer(GUIDE, ["who"], question="刚来一个月，还能办居住证不？", related=[faq]).text
    assert yes_no.startswith("**居住证申领**：暂时不能。需要先办理居住登记")


def test_an_faq_about_someone_else_does_not_answer_a_question_about_oneself() -> None:
    """"能查别人名下有几套房吗？" answered "不能。…" must not lead "怎么查我名下有几套房"; asked of another, it does."""
    faq = _faq("不能。只能按不动产坐落查询，不能按他人姓名查询其名下全部房产。", asked="能查别人名下有几套房吗？")
    own = compose_answer(GUIDE, [], question="我能查自己名下有几套房吗", related=[faq]).text
    assert not own.startswith("**居住证申领**：不能。")
    other = compose_answer(GUIDE, [], question="能查别人名下有几套房吗", related=[faq]).text
    assert other.startswith("**居住证申领**：不能。只能按不动产坐落查询")


def test_a_fee_that_ends_in_a_bracket_still_ends_its_sentence() -> None:
    bracket = GUIDE.model_copy(update={"fee": "不收费（首次办理和补办均免费）"})
    overview = compose_answer(bracket, [], question="居住证申领").text
    assert "收费标准：不收费（首次办理和补办均免费）。需要准备" in overview


def test_a_question_when_the_places_are_open_leads_with_their_hours() -> None:
    """"几点能去领证": each place's hours first (two at most), the voice the first one's; the card lists them.
    "周六能去领证不": the places open on Saturday (a range that ends on it too) come first."""
    two = GUIDE.model_copy(update={"locations": [
        Location(name="明湖派出所", address="湖滨路1号", window="户政窗口", hours="周一至周五 9:00-17:00"),
        Location(name="青山派出所", address="青山路2号", hours="周一至周六 9:00-12:00；")]})
    answer = compose_answer(two, ["where"], question="几点能去办居住证")
    assert answer.text.startswith("**居住证申领**：明湖派出所办理时间：周一至周五 9:00-17:00。"
                                  "青山派出所办理时间：周一至周六 9:00-12:00。")
    assert answer.speech.endswith("明湖派出所办理时间：周一至周五 9:00-17:00。")
    saturday = compose_answer(two, ["where"], question="周六能去办居住证不")
    assert saturday.text.startswith("**居住证申领**：青山派出所办理时间：周一至周六 9:00-12:00。明湖派出所办理时间：")
    assert saturday.speech.endswith("青山派出所办理时间：周一至周六 9:00-12:00。")
    assert compose_answer(two, ["where"], question="礼拜天能去办居住证不").text.startswith("**居住证申领**：明湖派出所")
    assert compose_answer(two, ["where"], question="在哪办居住证").text.startswith("**居住证申领**：可到明湖派出所")


def test_whether_the_result_can_be_posted_is_answered_yes_when_the_guide_lists_post() -> None:
    posted = GUIDE.model_copy(update={"delivery": ["窗口领取", "邮寄"], "result": "居住证"})
    question = "能不能寄到家里"
    answer = compose_answer(posted, detect_facets(question), question=question)
    assert answer.text.startswith("**居住证申领**：可以邮寄。结果送达：")
    unposted = posted.model_copy(update={"delivery": ["窗口领取"]})
    assert "可以邮寄" not in compose_answer(unposted, detect_facets(question), question=question).text


def test_a_place_whose_name_ends_in_a_bracket_gets_no_second_one() -> None:
    from assistant.fields import short_place

    inside = Location(name="示例市婚姻登记处（示例市政务服务中心内）", address="市民大道88号", window="三楼F区")
    assert short_place(inside) == "示例市婚姻登记处（示例市政务服务中心内），市民大道88号，三楼F区"
    assert short_place(GUIDE.locations[0]) == "明湖派出所（湖滨路1号）户政窗口"


def test_a_material_name_with_its_own_full_stop_reads_as_one_list() -> None:
    """An export's material name may end with "。" ("…有金融功能的社会保障卡。"): the list it leads says "卡等4项", not
    "卡。等4项"."""
    stops = GUIDE.model_copy(update={"materials": [Material(name=n, form="原件", copies=1) for n in (
        "居民身份证", "申报表", "有金融功能的社会保障卡。", "照片")]})
    lead = compose_answer(stops, ["materials"], question="要带什么").text.split("\n", 1)[0]
    assert "社会保障卡等4项" in lead and "。等" not in lead


def test_conditions_that_answer_are_shown_once_and_whole() -> None:
    """The question's words pick the 受理条件 passage: the card gives the conditions whole, and they are not repeated
    under 相关说明 after a line cut short."""
    long = GUIDE.model_copy(update={"eligibility": (
        "户口不在示例市、到示例市居住的中国公民，已在居住地办理居住登记满半年，并符合有合法稳定就业、合法稳定住所、"
        "连续就读条件之一的，可以申请居住证；未满16周岁的未成年人和行动不便的老年人、残疾人等，可由其监护人、近亲属"
        "代为申请。")})
    passage = Chunk(id="c2", record_id="g1", record_type="guide", section="eligibility", position=0,
                    text=f"【居住证申领】受理条件：{long.eligibility}", name="居住证申领", region=None, level=None,
                    kind=None, audience=(), source_title=None, source_url=None, origin="test")
    text = compose_answer(long, [], question="代办居住证要不要监护人", related=[passage]).text
    assert text.count("监护人、近亲属代为申请") == 1 and "（详见完整指南）" not in text


def test_conditions_that_are_only_a_laws_title_say_the_guide_lists_none() -> None:
    """受理条件 "《居住证暂行条例》" names a law, not who may apply: the card says the guide lists no conditions and
    whom to ask, and "能补办吗" is answered with the overview, not the title alone."""
    law = GUIDE.model_copy(update={"eligibility": "《居住证暂行条例》", "consult_phone": "0000-1234"})
    answer = compose_answer(law, [], question="居住证能补办吗")
    assert not answer.text.startswith("**居住证申领**：受理条件：") and not answer.speech.startswith("受理条件")
    assert "**受理条件**：具体条件指南未列出（依据《居住证暂行条例》），可致电 0000-1234 咨询。" in answer.text
    assert unsupported_statements(answer.text, source_text([law])) == []


def test_a_card_cuts_a_long_material_note_unless_the_question_speaks_of_it() -> None:
    """A materials list on a phone: each note to its first clauses ("…"), whole in the full guide; a note the
    question speaks of ("拍不了照片") is the answer, whole on the card."""
    photo = Material(name="新生儿电子照片", form="电子照片", copies=1, required=False,
                     note="白色背景、免冠正面、露出双耳；暂不上传的可先制发无照片社会保障卡，以后可申请换发带照片的卡")
    guide = GUIDE.model_copy(update={"name": "新生儿社会保障卡申领", "materials": [*GUIDE.materials[:2], photo]})
    listed = compose_answer(guide, ["materials"], question="新生儿社保卡要带什么材料").text
    line = next(line for line in listed.split("\n") if line.startswith("3. "))
    assert line == "3. 新生儿电子照片（电子照片，1份）（非必需）：白色背景、免冠正面、露出双耳…"
    assert photo.note in compose_answer(guide, ["materials"], question="新生儿社保卡要带什么材料").guide
    asked = compose_answer(guide, ["materials"], question="宝宝太小拍不了照片咋办").text
    assert photo.note in asked
    assert unsupported_statements(listed, source_text([guide])) == []


def test_a_bare_yes_to_the_faqs_own_question_does_not_answer_another() -> None:
    """"是的。" says yes to the FAQ's "真的免费刻章吗"; to "刻公章要钱吗" it would say the opposite: what follows
    leads."""
    faq = _faq("是的。新办企业首套印章免费。", "新开的公司真的免费刻章吗？")
    other = compose_answer(GUIDE, [], related=[faq], question="新开的公司刻公章要钱吗")
    assert other.text.split("\n")[0] == "**居住证申领**：新办企业首套印章免费。"
    assert not other.speech.startswith("是的")
    same = compose_answer(GUIDE, [], related=[faq], question="新开的公司真的免费刻章吗")
    assert same.text.split("\n")[0] == "**居住证申领**：是的。新办企业首套印章免费。"


def test_a_yes_or_no_question_the_conditions_speak_of_is_answered_with_them() -> None:
    """"要住满半年吗" names no facet, but the conditions hold its words (半年以上): they lead,
    not the overview; a yes-or-no question they do not speak of still gets the overview."""
    said = compose_answer(GUIDE, [], question="居住证要住满半年吗")
    assert said.text.split("\n")[0].startswith("**居住证申领**：受理条件：在示例市居住半年以上")
    other = compose_answer(GUIDE, [], question="居住证要拍照吗")
    assert not other.text.split("\n")[0].startswith("**居住证申领**：受理条件")


def test_an_faq_on_a_case_with_a_number_the_citizen_did_not_give_does_not_lead() -> None:
    """"以前交的养老保险怎么转过来" is not answered by the FAQ of one aged 52 ("我52岁了，…能转过来吗？"); asked with
    that number, it is."""
    faq = _faq("男性年满50周岁的，建立临时缴费账户。", "我52岁了，户口不在本市，以前交的养老保险能转过来吗？")
    general = compose_answer(GUIDE, [], related=[faq], question="从外省跳槽来工作，以前交的养老保险怎么转过来")
    assert "临时缴费账户" not in general.text.split("\n")[0]
    aged = compose_answer(GUIDE, [], related=[faq], question="我52岁了，以前交的养老保险能转过来吗")
    assert aged.text.split("\n")[0] == "**居住证申领**：男性年满50周岁的，建立临时缴费账户。"


def test_a_field_asked_that_the_guide_lacks_is_said_so_and_the_card_of_the_service_follows() -> None:
    """"想报名参加免费的职业技能培训" of a guide with no 收费标准: "指南未载明收费标准，可致电…", then who may
    apply, where, the time limit and online, as for its bare name; the phone the lead gives is not repeated."""
    unpriced = GUIDE.model_copy(update={"fee": None})
    answer = compose_answer(unpriced, ["fee"], question="想报名参加免费的居住证申领")
    lines = answer.text.split("\n")
    assert lines[0] == "**居住证申领**：指南未载明收费标准，可致电 0000-1234 咨询。"
    assert any(line.startswith("**受理条件**") for line in lines) and any("明湖派出所" in line for line in lines)
    assert any(line.startswith("**办理时限**") for line in lines)
    assert answer.text.count("0000-1234") == 1
    assert "**受理条件**" not in compose_answer(GUIDE, ["fee"], question="要钱吗").text  # the fee stated: no card


def test_a_yes_or_no_the_conditions_answer_leads_with_their_sentence_that_speaks_of_it() -> None:
    """"…五个人都要到场吗": the sentence of the 受理条件 holding the question's own words leads (全体继承人应到场…),
    without its list number; the conditions in short follow on the card. A question their first sentence answers
    ("要住满半年吗") is led by the conditions from their start, as before."""
    heirs = GUIDE.model_copy(update={"name": "继承公证", "eligibility": (
        "1）被继承人死亡后，其法定继承人可申请办理继承公证；2）全体继承人应到场或提交经公证的委托书。")})
    answer = compose_answer(heirs, [], question="办继承公证，家里兄弟姐妹五个人都要到场吗")
    lead = "**继承公证**：全体继承人应到场或提交经公证的委托书。\n**受理条件**："
    assert answer.text.startswith(lead), answer.text[:80]
    assert answer.speech.startswith("继承公证，全体继承人应到场")
    assert unsupported_statements(answer.text, source_text([heirs])) == []
    half = GUIDE.model_copy(update={"eligibility": "在示例市居住半年以上，有合法稳定住所。未成年人由监护人代办。"})
    assert compose_answer(half, [], question="居住证申领要住满半年吗").text.startswith(
        "**居住证申领**：受理条件：在示例市居住半年以上")
