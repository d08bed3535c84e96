#!/bin/sh
# make demo: runs scenarios/quickstart.scn in the simulator and writes its
# report to BUILD/demo/.
set -e
BUILD=${1:-build}
mkdir -p "$BUILD/demo"
if [ ! -x "$BUILD/bin/fleet-sim" ]; then
  echo "demo: $BUILD/bin/fleet-sim is not built yet (make builds it)" >&2
  exit 1
fi
exec "$BUILD/bin/fleet-sim" run scenarios/quickstart.scn --db "$BUILD/demo/history.db" --report "$BUILD/demo"
