# The last clause of a message that appeals to someone to deal with what it tells ("恳请有关部门依法处理",
# "请交通部门查处这种驾校", "希望有关部门好好改进一下"): procedure words earlier in that sentence ("有没有审批",
# "报名学车") do not make it a question; "恳请告知", "请问怎么处理" ask. One regular expression a line, matched in
# the last clause.
(恳请|(^|[^申])请(?!问)|希望|要求)[^，,？?]{0,12}(查处|处理|督促|整治|取缔|改进|整改|解决|管一管|管管|做主|给个说法)
