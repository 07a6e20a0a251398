# How a guide states a deadline ("自用工之日起30日内", "第一个工作日内", "十五个工作日内"): its clause answers a
# question for one. One regular expression a line, matched anywhere in a passage.
第?[0-9０-９一二三四五六七八九十百两]+个?(工作日|自然日|日|天|周|个月|月|年)(之内|以内|内)
第[0-9０-９一二三四五六七八九十]+个(工作日|自然日)
