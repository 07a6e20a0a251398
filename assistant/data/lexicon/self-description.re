# A message that says who the citizen is ("我是广州户口，要带什么", "我是外地户口呢", "本人是个体户"): an attribute
# of the asker, not a service asked for, so it goes on about the guide under discussion though its words (户口)
# are part of other guides' names. Not "我是来办离婚的" (来, 想, 要, 去 after 是: what the citizen came to do).
# One regular expression a line, matched anywhere in the message.
(^|[，,。；;！!？?\s])(我|本人|我们|我家|咱|咱们)(是|属于)(?![来想要去办])
