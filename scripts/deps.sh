#!/bin/sh
# scripts/deps.sh [--check | --bench | --valgrind] — make sure the Debian 12 packages
# koop needs are installed.  As root it installs what is missing (apt-get);
# otherwise it prints the exact apt-get line and fails.  --check adds what
# the test suite uses (Chromium renders the HTML report to a PNG); --bench
# adds the peers that `make bench` compares koop with; --valgrind adds
# valgrind for make check-valgrind.
set -u
need="liblua5.4-dev libsqlite3-dev libedit-dev pkg-config make gcc clang libclang-rt-14-dev"
case "${1:-}" in
  --check) need="$need chromium sqlite3" ;;
  --bench) need="$need sqlite3 python3 lua5.4 lua-sql-sqlite3" ;;
  --valgrind) need="$need valgrind sqlite3" ;;
esac
missing=""
for p in $need; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "koop needs these Debian packages:$missing" >&2
  echo "install them with:  sudo apt-get install -y$missing" >&2
  exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || { echo "deps: apt-get update failed" >&2; exit 1; }
apt-get install -y -qq --no-install-recommends $missing >/dev/null \
  || { echo "deps: apt-get install$missing failed" >&2; exit 1; }
