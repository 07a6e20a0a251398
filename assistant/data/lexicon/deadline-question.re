# A question for a deadline ("入职多久内要办社保", "几天内可以申请复核", "单位最晚多少天内要办"): answered by the
# guide's own words on it ("自用工之日起30日内"), not by how long the procedure takes. One regular expression a
# line, matched anywhere in the question.
(多久|多长时间|几天|多少天|几个月|多少个?工作日)(之内|以内|内)
最晚.{0,6}(多久|多长时间|几天|多少天)
(有没有|有什么|有无)时间限制
