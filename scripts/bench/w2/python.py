# W2 in Python: the query's rows written by the csv module.
# Run as: python3 python.py DB QUERY
import csv
import sqlite3
import sys

path, query = sys.argv[1:3]
with open(query, encoding="utf-8") as f:
    sql = f.read()
con = sqlite3.connect("file:" + path + "?mode=ro", uri=True)
cur = con.execute(sql)
out = csv.writer(sys.stdout, lineterminator="\n")
out.writerow(d[0] for d in cur.description)
out.writerows(cur)
con.close()
