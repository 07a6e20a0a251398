# Guide names for making an appointment, not for the service itself ("补领结婚证预约", "预约现场探访…"): done online,
# such a guide says the appointment needs no visit, not the service ("可全程网上预约…，预约无需到现场"). One regular
# expression a line, matched against the guide's name without what is in brackets.
预约(申请)?$
^预约
