# W1 — bulk load: read the CSV and insert every row into a fresh on-disk
# database in one transaction.  Every contender creates the table from
# schema.sql.  koop opens every file database in WAL with
# synchronous=NORMAL (for concurrent readers), so its load writes the pages
# twice (to the WAL, then the checkpoint at close).  The raw-C floor opens
# its database with the same three PRAGMAs koop sets (WAL,
# synchronous=NORMAL, foreign_keys), so the ratio measures koop's own
# overhead over the same work; the peers keep SQLite's defaults (rollback
# journal, synchronous=FULL), as a user runs them.  Nobody sets another
# PRAGMA (page size, cache size: SQLite's defaults).  The
# report notes each database's journal mode.  Checked: every database holds
# exactly the values and types raw C stored (db_digest).
# shellcheck shell=sh disable=SC2034  # the variables are read by run.sh
w1_title="read the CSV, insert every row into a new on-disk database in one transaction"
w1_contenders="c koop sqlite3 python luasql"
w1_target=1.5
w1_rss_target=

w1_setup () {
  W1_DIGEST=$(db_digest "$DB")
  note "W1 loads with: sqlite3 CLI .import --csv (one transaction of its own)"
  note "W1 loads with: Python csv.reader + executemany"
  note "W1 loads with: Lua+LuaSQL gmatch + one execute per row of SQL text" \
    "(LuaSQL 2.6.0 ignores bind parameters)"
}

# w1_db C: the database contender C writes.
w1_db () { echo "$WORK/w1-$1.db"; }

w1_run () {
  db=$(w1_db "$1")
  rm -f "$db" "$db-journal" "$db-wal" "$db-shm"
  case $1 in
    c)       measure -- "$BIN/floor" w1 "$HERE/schema.sql" "$CSV" "$db" ;;
    koop)    measure -- "$KOOP" -d "$db" "$HERE/w1/koop.lua" "$HERE/schema.sql" "$CSV" ;;
    sqlite3) measure -- "$SQLITE3" -batch -bail "$db" ".read '$HERE/schema.sql'" \
               ".import --csv --skip 1 '$CSV' services" ;;
    python)  measure -- "$PYTHON" "$HERE/w1/python.py" "$HERE/schema.sql" "$CSV" "$db" ;;
    luasql)  measure -- "$LUA" "$HERE/w1/luasql.lua" "$HERE/schema.sql" "$CSV" "$db" ;;
  esac
}

w1_check () {
  db=$(w1_db "$1")
  note "W1 journal mode after the load: $(label "$1") $("$SQLITE3" "$db" 'PRAGMA journal_mode')"
  digest=$(db_digest "$db")
  rm -f "$db" "$db-journal" "$db-wal" "$db-shm"
  [ "$digest" = "$W1_DIGEST" ] && return
  echo "W1 $1: the database differs from raw C's:" >&2
  echo "  $digest" >&2
  echo "  $W1_DIGEST" >&2
  return 1
}
