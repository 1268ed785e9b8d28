#!/bin/sh
# `koop help`: the usage text, a command's and a topic's help, unknown
# names (exit 2, the list of names), and the man page generated from the
# same texts (roff that man(1) can render when it is installed).
. tests/lib.sh

run "$KOOP" help
expect_rc "koop help exits 0" 0
expect_out_has "koop help is the usage text" '^usage: koop'
run "$KOOP" help test
expect_out_has "help for a command shows its usage" '^usage: koop test'
run "$KOOP" help repl
expect_out_has "help for a topic" 'Ctrl-C'
run "$KOOP" help db
expect_out_has "help db lists db:tx" 'db:tx'
run "$KOOP" help nosuch
expect_rc "unknown help topic exits 2" 2
expect_err_has "unknown topic lists the topics" "no command or topic 'nosuch'.*init"
run "$KOOP" help --man
expect_out_has "man page has a NAME section" '^\.SH NAME'
expect_out_has "man page documents --today" 'today'
expect_out_has "man page documents the test command" '^\.SS test'
if command -v man >/dev/null 2>&1; then
  "$KOOP" help --man > "$T/koop.1"
  run man -l "$T/koop.1"
  expect_rc "man renders the page" 0
fi
run "$KOOP" test --bogus
expect_rc "unknown command option exits 2" 2
expect_err_has "unknown command option is named" "test: unknown option '--bogus'"
finish
