#!/bin/bash
# tests/e2e/html_browser.sh - index.html as a person's browser shows it.
#
# Writes a report directory (--out) for three traces that between them
# draw every kind of plot (a collecting trace: pause CDF, timeline, MMU;
# pymalloc and glibc breakdowns; a version-2 trace with marks and
# recorded collections: occupancy at marks, dashed mark lines, grey
# ticks), opens index.html in Debian's chromium (headless), and checks:
#   - the page loads with no console message at all (the page has no
#     script of its own, so any message is the browser complaining);
#   - every <img> decoded (complete, naturalWidth > 0), read by a probe
#     script added to a copy of the page, since chromium logs no console
#     line for a missing file:// image;
#   - every href and src names a file in the directory (read from the
#     page itself by python's HTML parser, independently of the probe);
#   - a screenshot of the page is a whole PNG that is not blank; it is
#     kept in build/test-output/html_browser/index.png for a person to
#     look at (make test prints the path).
# Without chromium or gnuplot the cells are "# SKIP" lines saying so.
. "$ROOT/tests/lib.sh"

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ] || ! command -v gnuplot >/dev/null 2>&1; then
	t_skip "index.html in a browser" "needs chromium and gnuplot (tools/setup.sh installs both)"
	t_done
	exit 0
fi
KEEP="$ROOT/build/test-output/html_browser"
mkdir -p "$KEEP"

# A version-2 trace: marks around a burst, a timed recorded collection.
printf '%s\n' '#memsim-trace 2' '@ 1000' 'a 1 64 dict' 'a 2 64 list' 'm warm' \
	'a 3 4096' 'a 4 300000' '@ 2000' 'g 0' 'f 2' '@ 2600' 'g' 'm burst' 'f 4' \
	'f 3' '@ 3000' >"$T/v2.trace"
"$MEMSIM" replay -q --out "$T/out" -p cpython-3.11 -p cpython-3.13 -p malloc \
	"$ROOT/traces/cycle.trace" "$ROOT/traces/list-churn.trace.gz" "$T/v2.trace" \
	>"$T/replay.out" 2>"$T/replay.err"
t_is "report written" "$?" 0

# Chromium headless: no sandbox (root in a container), no GPU, the
# console on stderr, a profile of its own in $T; --virtual-time-budget lets the load event fire
# before the DOM is dumped. dbus and GPU chatter is the browser's own.
browse() {
	timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--user-data-dir="$T/chromium-profile" \
		--enable-logging=stderr --v=0 --virtual-time-budget=10000 "$@" 2>"$T/console.log"
}
python3 - "$T/out/index.html" "$T/out/probe.html" <<'PY'
import sys
page = open(sys.argv[1]).read()
probe = """<script>
window.addEventListener('load', function () {
  var bad = [];
  for (var i = 0; i < document.images.length; i++) {
    var im = document.images[i];
    if (!(im.complete && im.naturalWidth > 0)) bad.push(im.getAttribute('src'));
  }
  var out = document.createElement('pre');
  out.id = 'memsim-probe';
  out.textContent = 'PROBE images=' + document.images.length + ' broken=' + bad.join(',');
  document.body.appendChild(out);
});
</script>"""
assert page.count('</body>') == 1, 'index.html has no single </body>'
open(sys.argv[2], 'w').write(page.replace('</body>', probe + '</body>'))
PY
browse --dump-dom "file://$T/out/probe.html" >"$T/dom.html"
probe=$(grep -o 'PROBE images=[0-9]* broken=[^<]*' "$T/dom.html")
# the page shows one image per plot (each .gp has its .svg on the page)
nplots=$(ls "$T/out/plots/"*.gp | wc -l)
t_is "browser: every image decoded" "$probe" "PROBE images=$nplots broken="
t_is "browser: no console message" "$(grep ':CONSOLE' "$T/console.log")" ""

browse --window-size=1280,4000 --screenshot="$KEEP/index.png" "file://$T/out/index.html" >/dev/null
t_is "browser: screenshot is a whole, non-blank 1280x4000 PNG" "$(python3 -c '
import sys
sys.path.insert(0, sys.argv[2])
from pngcheck import png_info
print("%dx%d %s" % png_info(sys.argv[1]))' "$KEEP/index.png" "$ROOT/tests")" "1280x4000 ok"
echo "# screenshot: $KEEP/index.png"

t_is "page: every href and src is a file of the report" "$(python3 - "$T/out" <<'PY'
import html.parser, os, sys
d = sys.argv[1]
refs = []
class P(html.parser.HTMLParser):
    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ('href', 'src'):
                refs.append(v)
P().feed(open(os.path.join(d, 'index.html')).read())
bad = [r for r in refs if not os.path.exists(os.path.join(d, r))]
print(len(refs) > 10, ' '.join(bad))
PY
)" "True "
t_done
