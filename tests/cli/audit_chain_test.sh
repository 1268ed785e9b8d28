#!/bin/sh
# The audit chain across processes and interruptions (the head that
# audit.append keeps per connection, lib/koop/audit.lua): another koop
# process appending between two transactions of a running one; two
# processes adding people at the same time, in transactions and one by
# one; a loop of adds stopped by Ctrl-C (SIGINT), one by one and in
# transactions.  After each, `koop audit verify` passes and every person
# has the audit row of its add.
. tests/lib.sh
cd "$T" || exit 1
export KOOP_USER=tester

# check_db NAME DB: the chain of DB verifies and each person has its audit row.
check_db() {
  run "$KOOP" -d "$2" audit verify
  expect_rc "$1: koop audit verify passes" 0
  run "$KOOP" -d "$2" -e 'print(db:value("SELECT count(*) FROM person") == db:value("SELECT count(*) FROM audit_log WHERE entity = ? AND action = ?", "people", "add") and "same" or "differ")'
  expect_out "$1: one audit row per person" "same"
}

cat > adds.lua <<'EOF'
-- adds.lua NAME N [tx]: N people of one new institution, one by one or in
-- transactions of 10; N = 0 adds until stopped.
local name, n, tx = arg[1], tonumber(arg[2]), arg[3] == "tx"
local inst = institutions.add{ name = "Instytucja " .. name, kind = "NGO" }
local i = 0
while n == 0 or i < n do
  if tx then
    db:tx(function() for k = 1, 10 do people.add{ first_name = name .. (i + k), last_name = "Nowak", institution = inst } end end)
    i = i + 10
  else
    i = i + 1
    people.add{ first_name = name .. i, last_name = "Nowak", institution = inst }
  end
end
EOF

# Another process appends while this one runs, between its transactions.
"$KOOP" -d a.db init >/dev/null
cat > between.lua <<'EOF'
local koop_bin, path = arg[1], db:path()
local inst = institutions.add{ name = "Ośrodek", kind = "OPS" }
db:tx(function() people.add{ first_name = "Anna", last_name = "Nowak", institution = inst } end)
assert(os.execute(("%q -d %q -e 'people.add{first_name = \"Beata\", last_name = \"Obca\", institution = 1}'"):format(koop_bin, path)))
db:tx(function() people.add{ first_name = "Celina", last_name = "Nowak", institution = inst } end)
assert(os.execute(("%q -d %q -e 'audit.access(\"people\", 1, \"pesel\")'"):format(koop_bin, path)))
people.add{ first_name = "Dorota", last_name = "Nowak", institution = inst }
print(db:value("SELECT group_concat(first_name, ' ') FROM (SELECT first_name FROM person ORDER BY id)"))
EOF
run "$KOOP" -d a.db between.lua "$KOOP"
expect_out "another process appends between two transactions" "Anna Beata Celina Dorota"
check_db "another process between transactions" a.db

# Two processes at once, one by one and in transactions.
"$KOOP" -d b.db init >/dev/null
"$KOOP" -d b.db adds.lua x 200 > x.out 2>&1 &
px=$!
"$KOOP" -d b.db adds.lua y 200 tx > y.out 2>&1 &
py=$!
wait $px; rx=$?
wait $py; ry=$?
run cat x.out y.out
expect_true "two writers at once both finish" [ "$rx$ry" = 00 ]
run "$KOOP" -d b.db -e 'print(db:value("SELECT count(*) FROM person"))'
expect_out "... with all their people" "400"
check_db "two writers at once" b.db

# A loop of adds stopped by Ctrl-C, one by one and in transactions.
for mode in one tx; do
  "$KOOP" -d "c$mode.db" init >/dev/null
  "$KOOP" -d "c$mode.db" adds.lua "$mode" 0 $mode > c.out 2>&1 &
  pid=$!
  # stop it once some people are in (not after a fixed time: a slow run,
  # e.g. under valgrind, may not have added anyone yet)
  tries=0
  until [ "$("$KOOP" --readonly -d "c$mode.db" -e 'print(db:value("SELECT count(*) > 0 FROM person"))' 2>/dev/null)" = 1 ] \
        || [ $tries -ge 300 ]; do
    sleep 0.2; tries=$((tries + 1))
  done
  kill -INT $pid
  wait $pid
  stopped=$?
  run cat c.out
  expect_true "adds ($mode) stopped by SIGINT end with an error" [ "$stopped" -ne 0 ]
  expect_out_has "... that says interrupted" "interrupted"
  run "$KOOP" -d "c$mode.db" -e 'print(db:value("SELECT count(*) > 0 FROM person"))'
  expect_out "... after some people were added" "1"
  check_db "adds ($mode) stopped by SIGINT" "c$mode.db"
done

finish
