#!/bin/sh
# Faults (issue #8.5): the disk fills up (a 3 MiB tmpfs; a file size limit,
# ulimit -f, under which koop must not die of SIGXFSZ), the file system is
# read-only (a read-only remount; --readonly), the database file is
# deleted or replaced while koop has it open, another process holds the
# lock (the sqlite3 CLI in BEGIN EXCLUSIVE, in WAL and in rollback mode).
# Each gives a clear error (code, the file named, what to do) and exit
# status 1, and leaves the database as it was: the same dump before and
# after, integrity_check ok, the audit chain verified.  Also: a db:tx whose
# transaction SQLite rolled back (disk full) refuses to go on writing, so a
# caught error cannot leave half a change committed.  Mounting needs root
# (CAP_SYS_ADMIN); without it those cases print "ok - skipped: why".
. tests/lib.sh
SQLITE3=${SQLITE3:-sqlite3}
if ! command -v "$SQLITE3" >/dev/null 2>&1; then
  pass "skipped: needs the sqlite3 CLI (sh scripts/deps.sh --check installs it)"
  finish; exit
fi
MNT=$T/mnt
mkdir -p "$MNT"
trap 'umount "$MNT" 2>/dev/null; rm -rf "$T"' EXIT
KILLAFTER=${KILLAFTER:-$(dirname "${KOOP_BIN:-$KOOP}")/tools/killafter}
cd "$T" || exit 1
now_ms() { echo $(($(date +%s%N) / 1000000)); }
hold=7                                # s; longer under valgrind's slow start
[ -n "${KOOP_VALGRIND:-}" ] && hold=15

cases_db base.db
awk 'BEGIN { print "case;provider;service;date;hours;cost"
  for (i = 1; i <= 200000; i++)
    printf "%d;1;terapia;2020-%02d-%02d;1,5;%d,%02d\n", i % 50 + 1, i % 12 + 1, i % 28 + 1, i % 90, i % 100 }' > big.csv
"$SQLITE3" base.db .dump > base.dump

# unchanged NAME DB [DUMP]: DB holds what DUMP (base.dump) holds, is whole,
# and its audit chain verifies.
unchanged() {
  "$SQLITE3" "$2" .dump > now.dump 2>&1
  if cmp -s "${3:-base.dump}" now.dump && [ "$("$SQLITE3" "$2" 'PRAGMA integrity_check')" = ok ] \
     && "$KOOP" -d "$2" audit verify >/dev/null 2>&1; then
    pass "$1: nothing written, integrity ok, audit verified"
  else
    flunk "$1: unchanged" "$(diff "${3:-base.dump}" now.dump | head -n 5)"
  fi
}

# --- disk full --------------------------------------------------------------
if mount -t tmpfs -o size=3m koop-full "$MNT" 2>/dev/null; then
  cp base.db "$MNT/g.db"
  run "$KOOP" -d "$MNT/g.db" --today 2021-12-31 import services big.csv
  expect_rc "disk full during an import: exit status 1" 1
  expect_err_has "the message names the file and what to do" \
    "cannot write database $MNT/g.db: the disk is full: free some space, then run it again"
  expect_true "one error, not one per row" [ "$(wc -l < "$T/err")" -le 3 ]
  unchanged "disk full during an import" "$MNT/g.db"

  run "$KOOP" -d "$MNT/g.db" --today 2021-12-31 -e '
    local ok, e = pcall(db.tx, db, function()
      local ok, e = pcall(db.exec, db, [[WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 200000)
        INSERT INTO service_delivery (case_id, provider_id, service_type, date, units, unit, cost, status)
        SELECT 1, 1, ?, ?, 1, ?, k, ? FROM n]], "terapia", "2020-01-01", "godziny", "delivered")
      print(e.code)                                   -- caught: the script goes on
      institutions.add{ name = "Po błędzie", kind = "NGO" }
    end)
    print(e.code, e.message)'
  expect_out_has "a caught full disk inside db:tx" '^full$'
  expect_out_has "leaves db:tx unable to write more" '^abort	.*rolled back by an earlier error in it'
  unchanged "nothing of that transaction" "$MNT/g.db"
  rm -f "$MNT/g.db-wal"   # (empty after the checkpoint on close: frees nothing)
  run "$KOOP" -d "$MNT/g.db" -e 'institutions.add{ name = "Po awarii", kind = "NGO" }'
  expect_rc "the database still takes a small write" 0

  # --- read-only file system ------------------------------------------------
  # g.db with its -wal and -shm (as a crash leaves them), and r.db alone
  cp base.db "$MNT/g.db"
  rm -f "$MNT/g.db-wal" "$MNT/g.db-shm"
  "$KILLAFTER" 1000 "$KOOP" -d "$MNT/g.db" -e 'db:tx(function()
    institutions.add{ name = "Niedokończona", kind = "NGO" } os.execute("sleep 5") end)' >/dev/null
  cp base.db "$MNT/r.db"
  if mount -o remount,ro "$MNT" 2>/dev/null; then
    run "$KOOP" -d "$MNT/r.db" -e 'print(institutions.count())'
    expect_rc "a WAL database alone on a read-only file system cannot be opened" 1
    expect_err_has "the message says why and what to do" \
      "cannot open database $MNT/r.db: it is on a read-only file system, without the $MNT/r.db-shm file .*copy it to a writable place"
    run "$KOOP" -d "$MNT/g.db" -e 'institutions.add{ name = "X", kind = "NGO" }'
    expect_rc "a read-only file system: exit status 1" 1
    expect_err_has "says so" "cannot write: database $MNT/g.db is on a read-only file system"
    run "$KOOP" -d "$MNT/g.db" -e 'print(institutions.count())'
    expect_out "reading still works" "1"
    run "$KOOP" -d "$MNT/g.db" --today 2021-12-31 import services big.csv
    expect_rc "an import on it: exit status 1" 1
    unchanged "a read-only file system" "$MNT/g.db"
  else
    pass "skipped: read-only remount refused"
  fi
  umount "$MNT"
else
  pass "skipped: disk full and read-only file system: cannot mount a tmpfs (needs root)"
fi

# --- file size limit (ulimit -f) --------------------------------------------
cp base.db u.db
run sh -c "ulimit -f 2048 && exec \"\$0\" -d u.db --today 2021-12-31 import services big.csv" "$KOOP"
expect_rc "past the file size limit: exit status 1, not death by SIGXFSZ" 1
expect_err_has "the message names the file and the limit" 'cannot write database u\.db: the file has reached its size limit \(ulimit -f\)'
unchanged "past the file size limit" u.db

# --- --readonly, and a file the user cannot write ---------------------------
cp base.db r.db
run "$KOOP" --readonly -d r.db -e 'institutions.add{ name = "X", kind = "NGO" }'
expect_rc "--readonly: a write fails" 1
expect_err_has "says so" 'database r\.db (was opened|is open) read-only'
unchanged "--readonly" r.db
if [ "$(id -u)" != 0 ]; then
  chmod 444 r.db
  run "$KOOP" -d r.db -e 'institutions.add{ name = "X", kind = "NGO" }'
  expect_rc "a read-only file: a write fails" 1
  expect_err_has "says so" 'r\.db is read-only'
  chmod 644 r.db
  unchanged "a read-only file" r.db
else
  pass "skipped: chmod 444 as root (root writes anyway; the read-only mount covers it)"
fi

# --- deleted or replaced while open -----------------------------------------
cp base.db d.db
run "$KOOP" -d d.db -e '
  institutions.add{ name = "Przed", kind = "NGO" }
  os.remove("d.db")
  institutions.add{ name = "Po", kind = "NGO" }'
expect_rc "deleted while open: the next write fails" 1
expect_err_has "saying what happened" 'database d\.db was deleted, moved or replaced while koop had it open; nothing more was written'
rm -f d.db-wal d.db-shm
cp base.db d.db
"$KOOP" -d other.db init --gmina 2612012 >/dev/null 2>&1
"$KOOP" -d other.db -e 'institutions.add{ name = "Inna gmina", kind = "OPS" }' >/dev/null 2>&1
"$SQLITE3" other.db .dump > other.dump
run "$KOOP" -d d.db -e '
  institutions.add{ name = "Przed", kind = "NGO" }
  os.rename("other.db", "d.db")
  local ok, e = pcall(institutions.add, { name = "Po", kind = "NGO" })
  print(e.code) error(e, 0)'
expect_rc "replaced while open: the next write fails" 1
expect_out "with code readonly" "readonly"
expect_err_has "saying what happened" 'database d\.db was deleted, moved or replaced'
unchanged "the file put in its place (no write, no stray WAL replayed into it)" d.db other.dump

# --- locked by another process ------------------------------------------------
# WAL mode (koop's): the sqlite3 CLI in BEGIN EXCLUSIVE holds the write
# lock; rollback mode (a foreign file): it holds the whole file, so even
# opening it waits.  Both waits run at once.
cp base.db l.db
"$SQLITE3" -cmd 'PRAGMA journal_mode=DELETE' rb.db 'CREATE TABLE t(x); INSERT INTO t VALUES (1)' >/dev/null
rm -f locked1 locked2
printf 'BEGIN EXCLUSIVE;\nDELETE FROM institution WHERE 0;\n.shell touch locked1; sleep %s\n' "$hold" | "$SQLITE3" l.db >/dev/null 2>&1 &
h1=$!
printf 'BEGIN EXCLUSIVE;\nINSERT INTO t VALUES (2);\n.shell touch locked2; sleep %s\n' "$hold" | "$SQLITE3" rb.db >/dev/null 2>&1 &
h2=$!
while { [ ! -f locked1 ] || [ ! -f locked2 ]; } && kill -0 "$h1" 2>/dev/null; do sleep 0.05; done
start=$(now_ms)
"$KOOP" -d l.db --today 2021-12-31 import services big.csv >w1.out 2>w1.err &
w1=$!
"$KOOP" -d :memory: -e 'koop.open("rb.db", { schema = false }):value("SELECT count(*) FROM t")' >w2.out 2>w2.err &
w2=$!
wait "$w1"; rc1=$?
wait "$w2"; rc2=$?
took=$(($(now_ms) - start))
cp w1.err "$T/err"; rc=$rc1
expect_rc "locked (WAL mode): the import fails" 1
expect_err_has "after the busy timeout, naming the holder" \
  "database l\\.db is busy: another process \\(pid $h1: sqlite3 l\\.db\\) holds the write lock; koop waited 5\\.0 s"
cp w2.err "$T/err"; rc=$rc2
expect_rc "locked (rollback mode): opening fails" 1
expect_err_has "naming the holder too" "database rb\\.db is busy: another process \\(pid $h2: sqlite3 rb\\.db\\)"
[ "$took" -ge 4800 ] && pass "both waited the busy timeout ($took ms)" || flunk "both waited" "$took ms"
wait "$h1" "$h2"
unchanged "locked" l.db
finish
