# The template writes dates like "10月5日前" and "9月5日": no zero-padded month.
MONTH_DAY_FORMAT = "n月j日"
