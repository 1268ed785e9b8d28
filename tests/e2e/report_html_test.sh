#!/bin/sh
# The HTML report as a person sees it: the Bogoria and Łoniów examples in
# one database, `koop report overview` written as HTML, rendered by
# headless Chromium (Debian's `chromium`; scripts/deps.sh --check installs
# it — a missing browser is a failure, not a skip) to A4-sized and
# phone-sized PNGs.  Checked: the page rendered (the PNGs exist, have the
# window's size and are well above a blank page's size), the HTML holds
# its inline SVG charts and nothing loaded from elsewhere.  The PNGs stay
# in $KOOP_REPORT_PNG (a directory) when it is set, for a person to look at.
. tests/lib.sh
top=$(pwd)
cd "$T" || exit 1

browser=""
for b in chromium chromium-browser; do
  command -v "$b" >/dev/null 2>&1 && { browser=$b; break; }
done
if [ -z "$browser" ]; then
  flunk "chromium is installed" "no chromium on PATH (sh scripts/deps.sh --check installs it)"
  finish
  exit 1
fi

# shot FILE.html OUT.png WIDTH,HEIGHT: render with headless Chromium.
shot() {
  profile=$(mktemp -d)
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --user-data-dir="$profile" \
    --hide-scrollbars --screenshot="$2" --window-size="$3" "file://$T/$1" >"$T/chromium.log" 2>&1
  status=$?
  rm -rf "$profile"
  return $status
}
# png_size FILE: "WIDTHxHEIGHT" from the PNG header (IHDR).
png_size() { od -An -tu1 -j16 -N8 "$1" | awk '{ printf "%dx%d", (($1*256+$2)*256+$3)*256+$4, (($5*256+$6)*256+$7)*256+$8 }'; }
bytes() { wc -c < "$1" | tr -d ' '; }

"$KOOP" -d g.db init --gmina 2612012 >/dev/null 2>&1
"$KOOP" -d g.db "$top/examples/bogoria.lua" >/dev/null 2>&1
"$KOOP" -d g.db "$top/examples/loniow.lua" >/dev/null 2>&1
run "$KOOP" -d g.db --today 2020-03-31 --as demo report overview --gmina all --from 2019-06-01 --to 2020-03-31 -o report.html
expect_rc "the overview is written as HTML" 0
grep -c '<svg ' report.html | grep -qv '^0$' && pass "the HTML holds inline SVG charts" || flunk "SVG charts" "no <svg"
grep -q '<script' report.html && flunk "no script" "found <script" || pass "no script"
grep -Eo 'https?://[^"'"'"' )]+' report.html | grep -v '^http://www.w3.org/2000/svg$' | grep -q . \
  && flunk "nothing loaded from elsewhere" "$(grep -Eo 'https?://[^"]+' report.html | sort -u | head -3)" \
  || pass "nothing loaded from elsewhere"

printf '<!DOCTYPE html><html lang="pl"><head><meta charset="utf-8"></head><body></body></html>\n' > blank.html
shot blank.html blank.png 1240,1754
expect_true "chromium renders a blank page" test -s blank.png
shot report.html report.png 1240,1754
rc=$?
[ $rc -eq 0 ] && pass "chromium renders the report" || flunk "chromium renders the report" "exit status $rc: $(tail -n 3 chromium.log)"
[ "$(png_size report.png)" = 1240x1754 ] && pass "an A4-proportioned PNG (1240x1754)" || flunk "PNG size" "$(png_size report.png)"
blank=$(bytes blank.png)
page=$(bytes report.png)
[ "$page" -gt $((blank * 5)) ] && [ "$page" -gt 40000 ] \
  && pass "the page is not blank ($page bytes; a blank page is $blank)" \
  || flunk "the page is not blank" "$page bytes; a blank page is $blank"
shot report.html phone.png 390,844
[ "$(png_size phone.png)" = 390x844 ] && [ "$(bytes phone.png)" -gt $((blank / 2)) ] \
  && pass "it renders at phone width too" || flunk "phone width" "$(png_size phone.png), $(bytes phone.png) bytes"
if [ -n "${KOOP_REPORT_PNG:-}" ]; then
  mkdir -p "$KOOP_REPORT_PNG" && cp report.png phone.png report.html "$KOOP_REPORT_PNG/"
fi
finish
