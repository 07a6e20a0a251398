# A question that names no field but asks who may apply, or whether one may ("哪些人可以申请", "我还能领吗"):
# the answer leads with the conditions. One regular expression a line, matched anywhere in the question;
# read after overview-materials.
哪些人
什么人
哪些单位
什么单位
什么情况下
谁
还能
能[^，。,.；;？?！!]*吗
可以[^，。,.；;？?！!]*吗
