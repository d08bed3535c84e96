#!/bin/sh
# report_chromium: opens a fleet-report page in headless Chromium and checks
# that it loads with no console message, that its SVG graphs and the leader
# timeline are there, and that a screenshot is not blank.
#
# Usage: tests/e2e/report_chromium.sh DIR     (DIR holds index.html)
#        tests/e2e/report_chromium.sh         (renders the quickstart report
#                                              first: needs build/bin/fleet-sim)
# Exit: 0 passed, 1 failed, 77 skipped (Chromium or the simulator missing;
# the reason is printed). Chromium comes from Debian's `chromium` package.
set -u
BUILD=${RF_BUILD:-build}
fail() { echo "report_chromium: FAIL: $*" >&2; exit 1; }
skip() { echo "report_chromium: SKIP: $*" >&2; exit 77; }

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || skip "chromium is not installed (Debian package 'chromium': apt-get install chromium)"

if [ $# -ge 1 ]; then
  DIR=$1
else
  [ -x "$BUILD/bin/fleet-sim" ] || skip "$BUILD/bin/fleet-sim is not built: no quickstart report to open"
  [ -f scenarios/quickstart.scn ] || skip "scenarios/quickstart.scn is missing"
  # Until `fleet-sim run` records a history and writes a report, there is no
  # quickstart report to open; its usage text says when it can.
  "$BUILD/bin/fleet-sim" --help 2>&1 | grep -q -- '--report' ||
    skip "$BUILD/bin/fleet-sim has no --report option yet"
  DIR=$BUILD/e2e-quickstart
  rm -rf "$DIR" && mkdir -p "$DIR"
  "$BUILD/bin/fleet-sim" run scenarios/quickstart.scn --quiet --db "$DIR/history.db" \
    --report "$DIR" >"$DIR/run.log" 2>&1 || fail "fleet-sim run quickstart failed: $(tail -5 "$DIR/run.log")"
fi
PAGE=$DIR/index.html
[ -f "$PAGE" ] || fail "$PAGE does not exist"
ABS=$(cd "$DIR" && pwd)
WORK=$(mktemp -d /tmp/rf-e2e-XXXXXX)
trap 'rm -rf "$WORK"' EXIT INT TERM

# 1. Self-contained: nothing from the network, every local figure present.
if grep -Eq '(src|href)="(https?:)?//|url\((https?:)?//|@import' "$PAGE"; then
  fail "the page refers to something on the network"
fi
figures=0
for f in $(grep -o 'src="[^"]*"' "$PAGE" | sed 's/^src="//; s/"$//'); do
  [ -s "$DIR/$f" ] || fail "figure $f is missing or empty"
  grep -q '<svg' "$DIR/$f" || fail "figure $f is not an SVG"
  figures=$((figures + 1))
done
[ "$figures" -ge 1 ] || fail "the page shows no placement graph"

# No background networking: the machine has no network, and Chromium's own
# connection attempts only slow it down. A browser that fails to start under
# load (not the page) gets one more try; the page is a static file.
chromium_once() {
  timeout 90 "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --no-first-run \
    --disable-quic --disable-background-networking --disable-component-update \
    --disable-sync --user-data-dir="$WORK/profile" --enable-logging=stderr --v=0 \
    --run-all-compositor-stages-before-draw --virtual-time-budget=5000 \
    --window-size=1280,2000 --hide-scrollbars "$@"
}
run_chromium() {
  chromium_once "$@" || { sleep 1; chromium_once "$@"; }
}

# 2. Loads with no console message (the page has no script: any message,
#    an error above all, means something went wrong).
run_chromium --dump-dom "file://$ABS/index.html" >"$WORK/dom.html" 2>"$WORK/console.log" ||
  fail "chromium could not load the page: $(tail -3 "$WORK/console.log")"
if grep -E ':CONSOLE[:(]|Uncaught|net::ERR_' "$WORK/console.log" >"$WORK/errors.txt"; then
  fail "console messages: $(cat "$WORK/errors.txt")"
fi

# 3. The rendered DOM has the timeline and the graphs.
grep -q '<svg[^>]*class="timeline"' "$WORK/dom.html" || fail "no leader timeline in the page"
grep -q 'class="lead"' "$WORK/dom.html" || fail "the timeline shows no leader"
imgs=$(grep -o '<img src="placement-[0-9]*\.svg"' "$WORK/dom.html" | wc -l)
[ "$imgs" -ge 1 ] || fail "no placement graph in the rendered page"

# 4. A screenshot is not blank: compared with an empty page of the same
#    size, the PNG must carry several times more content.
run_chromium --screenshot="$WORK/page.png" "file://$ABS/index.html" >/dev/null 2>&1 ||
  fail "chromium could not take a screenshot"
printf '<!DOCTYPE html><html><body></body></html>' >"$WORK/blank.html"
run_chromium --screenshot="$WORK/blank.png" "file://$WORK/blank.html" >/dev/null 2>&1 ||
  fail "chromium could not take the blank screenshot"
page_bytes=$(wc -c <"$WORK/page.png")
blank_bytes=$(wc -c <"$WORK/blank.png")
[ "$page_bytes" -gt $((blank_bytes * 4)) ] ||
  fail "the screenshot looks blank ($page_bytes bytes against $blank_bytes for an empty page)"
cp "$WORK/page.png" "$DIR/screenshot.png" 2>/dev/null || true
echo "report_chromium: ok ($figures graphs, $imgs drawn, screenshot $page_bytes bytes vs blank $blank_bytes)"
exit 0
