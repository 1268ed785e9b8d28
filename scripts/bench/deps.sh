#!/bin/sh
# deps.sh — make sure the benchmark's contenders and C helpers can run.
# Checks what each needs (not package names, so another install works too);
# installs the missing Debian packages when run as root, otherwise prints the
# exact apt-get line and fails.  Called by run.sh; also usable alone.
PYTHON=${PYTHON:-python3}
LUA=${LUA:-lua5.4}
SQLITE3=${SQLITE3:-sqlite3}
missing=

need () { # need PACKAGE: add PACKAGE to the list once
  case " $missing " in *" $1 "*) ;; *) missing="${missing:+$missing }$1" ;; esac
}

check () {
  command -v "${CC:-cc}" >/dev/null 2>&1 || need gcc
  command -v pkg-config >/dev/null 2>&1 || need pkg-config
  pkg-config --exists lua5.4 2>/dev/null || need liblua5.4-dev
  pkg-config --exists sqlite3 2>/dev/null || need libsqlite3-dev
  pkg-config --exists libedit 2>/dev/null || need libedit-dev
  "$PYTHON" -c 'import csv, sqlite3' >/dev/null 2>&1 || need python3
  "$SQLITE3" -version >/dev/null 2>&1 || need sqlite3
  "$LUA" -v >/dev/null 2>&1 || need lua5.4
  "$LUA" -e 'require "luasql.sqlite3"' >/dev/null 2>&1 || need lua-sql-sqlite3
}

check
[ -z "$missing" ] && exit 0
line="apt-get install -y --no-install-recommends $missing"
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "bench: missing packages; install them with:" >&2
  echo "  sudo $line" >&2
  exit 1
fi
echo "bench: installing $missing" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh container may have no package lists yet: update once and retry.
$line >&2 || { apt-get update >&2 && $line >&2; } || exit 1
missing=
check
[ -z "$missing" ] && exit 0
echo "bench: still missing after apt-get: $missing" >&2
exit 1
