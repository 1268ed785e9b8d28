# W1 in Python: the csv module and executemany in one transaction.
# Run as: python3 python.py SCHEMA CSV DB
import csv
import sqlite3
import sys

schema, data, path = sys.argv[1:4]
con = sqlite3.connect(path)
with open(schema, encoding="utf-8") as f:
    con.executescript(f.read())
with open(data, newline="", encoding="utf-8") as f:
    rows = csv.reader(f)
    next(rows)  # the header
    with con:  # one transaction, committed at the end
        con.executemany("INSERT INTO services VALUES(?,?,?,?,?,?,?)", rows)
con.close()
