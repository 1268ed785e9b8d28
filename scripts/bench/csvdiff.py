# csvdiff.py — do two CSV files hold the same rows?  Quoting style and line
# ends may differ (the sqlite3 CLI quotes more than it must and ends lines
# with CRLF).  Usage: python3 csvdiff.py EXPECTED ACTUAL
# Exit 0 when equal; else exit 1 and say where they first differ.
import csv
import sys


def rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


expected, actual = rows(sys.argv[1]), rows(sys.argv[2])
for i, (e, a) in enumerate(zip(expected, actual), 1):
    if e != a:
        sys.exit(f"{sys.argv[2]}:{i}: {a} where {sys.argv[1]} has {e}")
if len(expected) != len(actual):
    sys.exit(f"{sys.argv[2]}: {len(actual)} rows where {sys.argv[1]} has {len(expected)}")
