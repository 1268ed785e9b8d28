#!/bin/sh
# scripts/demo.sh KOOP — build a demo database of two real G-PZKs (Bogoria
# and Łoniów, from examples/) in build/demo/, then show what koop does with
# it: queries as tables, Polish order, indicators, due tasks, the audit
# chain.  Each step prints the command it runs, so it doubles as a tour.
set -eu
KOOP=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/demo
db=$out/gmina.db
mkdir -p "$out"
rm -f "$db" "$db-wal" "$db-shm"
export KOOP_USER=demo KOOP_HISTORY=

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
cd "$top"
step "$KOOP" -d "$db" init --gmina 2612013
step "$KOOP" -d "$db" examples/bogoria.lua
step "$KOOP" -d "$db" examples/loniow.lua
step "$KOOP" -d "$db" -e 'print(institutions.find{order = "name", limit = 12})'
step "$KOOP" -d "$db" --mode csv -e 'print(db:query("SELECT kind, count(*) AS n FROM institution GROUP BY kind ORDER BY kind COLLATE PL"))'
step "$KOOP" -d "$db" --today 2019-10-01 -e 'print(tasks.due{})'
step "$KOOP" -d "$db" procedure install examples/procedures/rodzina.lua examples/procedures/seniorzy.lua examples/procedures/niepelnosprawnosc.lua
step "$KOOP" -d "$db" procedure list
step "$KOOP" -d "$db" procedure show seniorzy
step "$KOOP" test examples/procedures
step "$KOOP" -d "$db" --today 2019-10-01 due || echo "(exit status 3: something is overdue)"
step "$KOOP" -d "$db" audit verify
step "$KOOP" -d "$db" --today 2020-03-31 report overview --gmina all --from 2019-06-01 --to 2020-03-31 -o "$out/raport.html"
step "$KOOP" -d "$db" --today 2020-03-31 report indicators --gmina all --from 2019-06-01 --to 2020-03-31
printf '\nThe report of both gminas is %s: one HTML file with its charts inside;\nit opens in any browser, prints on A4 and reads on a phone.\n' "$out/raport.html"
printf 'The database is %s; explore it with: %s -d %s\n' "$db" "$KOOP" "$db"
