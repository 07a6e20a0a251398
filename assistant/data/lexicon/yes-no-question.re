# Forms of a yes-or-no question ("能网上办吗", "要不要预约", "是否收费", "能不能…"): such a question opens with
# 能/不能/需要/不需要 when the guide's FAQ says so, and "能网上办吗" is answered with whether it can be done online.
# One regular expression a line, matched anywhere in the question; the last two are "…能不？" and "…还能上户口不？" at
# the very end.
吗
能不能
可不可以
可以不
要不要
需不需要
是不是
是否
能否
用不用
行不行
[能可要用]不[？?]?$
[能可要用会得][^，,。？?！!]{1,10}不[？?]?$
