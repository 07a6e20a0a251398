# Picking an option by its number ("第三个", "第2项", or a bare "2"); "第一次办" is a first application and "第二胎" a
# second child, not a pick. Each expression has one group that holds the numeral (ordinals.tsv), the first group
# that matched and is a numeral counts. Matched anywhere in the message.
第\s*([一二两三四五六七八九1-9])\s*(?![次回胎孩年月天周])(个|项|种|条)?
^\s*([1-9])\s*[.、)）]?\s*$
