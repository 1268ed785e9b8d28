# W3 in Python: iterate over the cursor and sum hours per case and month in
# a dict; print how many cases have a month over 20 hours.
# Run as: python3 python.py DB QUERY
import sqlite3
import sys

path, query = sys.argv[1:3]
with open(query, encoding="utf-8") as f:
    sql = f.read()
con = sqlite3.connect("file:" + path + "?mode=ro", uri=True)
sums, flagged = {}, set()
for case_id, date, hours in con.execute(sql):
    # one integer, as the C floor's key (case_id << 20 | year*12 + month)
    key = case_id << 20 | (int(date[:4]) * 12 + int(date[5:7]))
    total = sums.get(key, 0.0) + hours
    sums[key] = total
    if total > 20:
        flagged.add(case_id)
print(len(flagged))
con.close()
