# A question whether the service can be done online or without going there ("网上能办吗", "手机上怎么申请",
# "不用去现场吧", "要跑几趟", "一定要去窗口吗"): answered with what the guide says of online handling, the same in every district.
# One regular expression a line, matched anywhere in the question, letters in any case.
(网上|线上|在线|手机上?|掌上|app|小程序)(能|可以|可不可以|能不能|帮.{0,3})?(办|申请|弄|搞|提交|怎么|预约)
(网上|线上|手机上?)(能|可以|能不能|可不可以)[^查看]{1,4}[吗么]
网办
不用去
不去现场
跑一趟
跑几次
跑几趟
(能|可以|能不能|可不可以)在?(网上|线上|手机上?)[^查看]{1,4}[吗么]
(网上|线上|手机上?)[^查看不说]{1,2}[吗么]
(一定|必须|非得|非要|只能)要?(去|到|跑)(窗口|现场|大厅|政务中心|服务中心)
