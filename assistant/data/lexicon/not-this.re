# What the citizen says a message is not about, before what it is about ("不是到期，是身份证坏了要换", "我不是要新办，
# 而是补办"): taken out of the message, so that neither the search nor the act read the words it rules out. One regular
# expression a line, matched anywhere in the message.
不是[^，,。；;！？!?]{1,12}[，,]\s*(而|只|就)?是
不是[^，,。；;！？!?]{1,8}?而是
