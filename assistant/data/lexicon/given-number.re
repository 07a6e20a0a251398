# A number the citizen gives ("电话13812345678", "身份证号…"), not a question about phones: once redacted, the
# placeholder goes with the words that introduce it, and what is left is judged. One regular expression a line,
# matched anywhere in the message.
(我的?)?(联系)?(电话号码|电话|手机号码|手机号|手机|号码|身份证号码|身份证号|卡号|银行卡号)?\s*(是|为)?[:：]?\s*\[(身份证号|手机号|银行卡号)已隐藏\]
