# Asking for a person in one's own words ("叫个真人同我倾", "跟真人说", "找你们领导"): handed to an agent. 领导 and
# 负责人 count only after 找/叫/跟/同, since "申请表要领导签字吗" and "负责人身份证" are about materials.
# One regular expression a line, matched anywhere in the message (after the words of handoff.txt).
(找|叫|要|转|换|跟|和|同|让)(一?个|一位|位)?(真人|活人)
(找|叫|跟|同)(你们的?|一?个|一位)?(领导|负责人|主管|经理|值班)
