# A question where to look something up online ("网上查得到吗", "上哪查", "在线报名"): for a guide that can be done
# online, the answer leads with its online entry. One regular expression a line, matched anywhere.
(网上|在线|线上).{0,4}(查|看|报名|预约|找)
上哪.{0,2}(查|看)
哪里能?(查|看)
哪.?查
