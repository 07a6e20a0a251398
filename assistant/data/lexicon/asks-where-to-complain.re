# A question where to complain ("投诉电话多少", "投诉打哪个电话", "投诉渠道"): answered from the guide's phones,
# not handed off as a complaint. Taken out of the message before the handoff words are looked for.
# One regular expression a line, matched anywhere in the message.
(监督)?投诉(举报)?(打|找|拨)?(哪个|什么|啥)?(电话|热线|号码|渠道|方式)
