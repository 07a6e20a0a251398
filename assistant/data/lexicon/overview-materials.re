# A question that names no field but asks what to hand in ("要交什么", "交哪些表"): the answer leads with the
# materials. One regular expression a line, matched anywhere in the question.
交什么
交回什么
哪些表
交哪些
要交啥
