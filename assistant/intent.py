"""Which facets a question asks for: 谁能办, 在哪办, 如何办, 材料, 时限, 收费, 电话, 结果 — or an overview.

Keyword cues, checked on the normalised question (简体, lower case). Several facets at once are
normal ("在哪办要带什么"). No cue means an overview.
"""

from __future__ import annotations

import re
from typing import Literal

Facet = Literal["who", "where", "how", "materials", "time", "fee", "phone", "result"]
FACET_ORDER: tuple[Facet, ...] = ("who", "materials", "how", "where", "time", "fee", "result", "phone")
FACET_LABELS: dict[Facet, str] = {
    "who": "谁能办", "where": "在哪办", "how": "如何办", "materials": "申请材料",
    "time": "办理时限", "fee": "收费标准", "phone": "咨询电话", "result": "办理结果",
}

# "能加急吗": how long it takes, and whether the guide says anything about hurrying it.
URGENT_CUES = ("加急", "急用", "急需", "急件", "加快", "快点", "快一点", "尽快", "赶时间")
CUES: dict[Facet, tuple[str, ...]] = {
    "who": ("谁能", "谁可以", "条件", "资格", "能不能办", "能办吗", "可以办吗", "能不能申请", "能申请吗", "符合",
            "够不够", "有没有资格", "我能", "能领吗", "能不能领", "可以领吗", "能不能上", "能上吗", "要求",
            "可以吗", "可不可以", "行不行", "行吗"),
    "where": ("在哪", "哪里", "哪儿", "去哪", "地址", "窗口", "几楼", "地点", "边度", "喺边", "网上办", "网上能",
              "线上", "在线", "网办", "能不能网上", "几点", "上班时间", "办公时间", "开门", "周末", "星期六", "周六",
              "哪个部门", "找哪", "找谁", "到哪", "哪个区", "自助机", "跑一趟", "要跑", "跑几次", "去现场"),
    "how": ("怎么办", "如何办", "流程", "步骤", "怎么申请", "如何申请", "咋办", "咋整", "点样", "怎么弄", "怎么搞",
            "手续", "程序", "办法", "怎么操作", "怎么走", "怎么处理"),
    "materials": ("材料", "带什么", "带啥", "带哪些", "准备什么", "准备啥", "准备哪些", "要什么证", "资料", "证件",
                  "拿什么", "带咩", "要带", "提交什么", "复印件", "原件", "照片"),
    "time": ("多久", "几天", "时限", "多长时间", "多少天", "什么时候能", "几时", "几耐", "要等", "办结", "当天",
             "马上能", "工作日", *URGENT_CUES),
    "fee": ("收费", "多少钱", "费用", "要钱", "免费", "几多钱", "花钱", "交钱", "收钱", "钱吗", "工本费", "给钱",
            "贵不贵", "贵吗", "贵不"),
    # Not a bare 咨询: "我想咨询一下社保" asks about 社保, not for its phone number.
    "phone": ("电话", "热线", "号码", "联系方式", "怎么联系", "如何联系", "联系谁", "怎么咨询", "咨询方式", "打哪个"),
    "result": ("拿到什么", "办理结果", "发什么", "领什么证", "出什么", "结果", "邮寄", "寄到", "能寄", "寄回", "快递",
               "送到家", "怎么领取", "去哪领", "哪里领"),
}


# "我的件办到哪一步了": the progress of one's own application, which no guide can tell.
PROGRESS_CUES = ("进度", "办到哪", "到哪一步", "哪一步了", "办好了没", "办好没", "办完了没", "办完没", "审批到哪",
                 "审核到哪", "批下来了没", "批下来没", "批了没", "好了没有")


def asks_urgent(text: str) -> bool:
    return any(cue in text for cue in URGENT_CUES)


def asks_progress(text: str) -> bool:
    return any(cue in text for cue in PROGRESS_CUES)


def detect_facets(text: str) -> list[Facet]:
    """Facets asked for, in the order an answer presents them; empty means an overview."""
    for cue in PROGRESS_CUES:  # "办到哪一步" asks about progress, not where (到哪)
        text = text.replace(cue, "")
    text = text.replace("手续费", "费用")  # a fee, not the procedure (手续)
    found = {facet for facet, cues in CUES.items() if any(cue in text for cue in cues)}
    return [facet for facet in FACET_ORDER if facet in found]


HANDOFF_CUES = ("人工", "转人", "找真人", "要真人", "转真人", "客服", "工作人员", "找人", "找个人", "叫人", "有没有人",
                "投诉", "举报你们", "态度差", "态度不好", "不满意", "听不懂", "答非所问", "没用", "不想跟机器",
                "看不懂这个机器")


# "叫个真人同我倾", "跟真人说", "找你们领导": a verb of asking with a person. 领导/负责人 only with 找/叫/跟,
# since "申请表要领导签字吗" and "负责人身份证" are about materials.
_ASKS_FOR_PERSON = re.compile(r"(找|叫|要|转|换|跟|和|同|让)(一?个|一位|位)?(真人|活人)"
                              r"|(找|叫|跟|同)(你们的?|一?个|一位)?(领导|负责人|主管|经理|值班)")


# "投诉电话多少", "投诉打哪个电话", "投诉渠道": a question about where to complain, answered from the guide.
_ASKS_WHERE_TO_COMPLAIN = re.compile(r"(监督)?投诉(举报)?(打|找|拨)?(哪个|什么|啥)?(电话|热线|号码|渠道|方式)")


def wants_human(text: str) -> bool:
    """The citizen asks for a person or complains about the service."""
    text = _ASKS_WHERE_TO_COMPLAIN.sub("", text)
    return any(cue in text for cue in HANDOFF_CUES) or _ASKS_FOR_PERSON.search(text) is not None


HOTLINE = "12345"  # the national government-service hotline that replies name


def called_hotline(said: list[str]) -> bool:
    """Has the citizen spoken of the 12345 hotline ("打了三次12345都说转给街道了")? Then no reply sends them back."""
    return any(HOTLINE in text for text in said)


BUNDLE_CUES = ("一起办", "一起", "一次办", "一次过", "一次申请", "一次性", "一件事", "顺便", "一并", "联办", "一站式",
               "哪些手续", "哪些证", "都要办", "都要整", "要跑哪些", "跑哪些", "好几个地方", "一个个跑", "分别去",
               "要办哪些", "办哪些")


def for_cues(text: str) -> str:
    """The question as cue lists and synonym rules read it: "第一次办社保卡" is a first application (首次),
    not a request to do things at once ("一次办")."""
    return text.replace("第一次", "首次")


def asks_for_bundle(text: str) -> bool:
    """The citizen wants several items done together: a one-thing theme answers, not one guide."""
    text = for_cues(text)
    return any(cue in text for cue in BUNDLE_CUES)


# "personal": the message only gives personal numbers (身份证号, 手机号), no question (see Assistant.understand).
# "hotline": the 12345 chip of a refusal, clicked (or "12345" typed alone).
SmallTalk = Literal["identity", "thanks", "bye", "greeting", "ack", "personal", "hotline"]
# Whole messages made only of these words are small talk, not questions about a service. The kind
# answered is the first of SmallTalk present: "你好，你是谁" is about the assistant, "好的谢谢" thanks.
_SMALL_TALK: dict[SmallTalk, tuple[str, ...]] = {
    "identity": ("你是谁", "您是谁", "你是什么", "你是机器人吗", "你是机器人", "你是人工智能吗", "你是真人吗",
                 "你是人吗", "你能做什么", "你能干什么", "你会什么", "你会做什么", "你可以做什么", "你都能做什么",
                 "你能帮我做什么", "你有什么功能", "能做什么", "能干什么"),
    "thanks": ("谢谢", "多谢晒", "多谢", "唔该晒", "唔该", "感谢", "谢了", "谢啦", "辛苦了", "辛苦", "麻烦你了",
               "麻烦您了", "费心了", "thanks", "thankyou", "thx"),
    "bye": ("再见", "拜拜", "拜", "bye", "byebye", "没有了", "没事了", "没问题了", "没别的了", "就这些", "先这样"),
    "greeting": ("你好", "您好", "你们好", "大家好", "嗨", "哈喽", "哈啰", "hello", "hi", "早上好", "上午好", "中午好",
                 "下午好", "晚上好", "早安", "在吗", "在不在", "在么", "有人吗"),
    "hotline": ("12345热线", "12345", "热线"),
    "ack": ("好的", "好滴", "好嘞", "好", "嗯嗯", "嗯", "哦哦", "哦", "噢", "知道了", "明白了", "懂了", "了解了",
            "清楚了", "收到", "可以", "行", "ok", "okay"),
}
# Words that only soften or join small talk: "非常感谢你的帮助啊", "请问你是谁".
_SMALL_TALK_FILLER = ("非常", "十分", "太", "真的", "真是", "的帮助", "帮助", "你", "您", "了", "啊", "呀", "哈", "啦",
                      "哦", "呢", "吧", "嘛", "哟", "喔", "请问", "那", "那就", "就", "先", "也")
_SMALL_TALK_WORDS = sorted({w for words in _SMALL_TALK.values() for w in words} | set(_SMALL_TALK_FILLER),
                           key=len, reverse=True)
_NOT_WORDS = re.compile(r"[\s\W_]+")
_EMOJI = {"👍": "好", "👌": "好", "🙏": "谢谢", "👋": "再见", "😊": "好", "🙂": "好"}
_EMOJI_WORDS = re.compile("|".join(_EMOJI))


def small_talk(text: str) -> SmallTalk | None:
    """The kind of small talk when the whole message is a greeting, thanks, goodbye, an acknowledgement or a
    question about the assistant itself; None when anything in it could be a question about a service."""
    rest = _NOT_WORDS.sub("", _EMOJI_WORDS.sub(lambda m: _EMOJI[m.group()], text.lower()))
    found: set[str] = set()
    while rest:
        word = next((w for w in _SMALL_TALK_WORDS if rest.startswith(w)), None)
        if word is None:
            return None
        found.add(word)
        rest = rest[len(word):]
    kinds = [kind for kind, words in _SMALL_TALK.items() if found & set(words)]
    return kinds[0] if kinds else None


def has_words(text: str) -> bool:
    """Does the message hold any Chinese character or Latin letter? "123", "？？？" and "😂" do not."""
    return re.search(r"[\u3400-\u9fffA-Za-z]", text) is not None
