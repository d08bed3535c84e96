#!/bin/sh
# determinism-levels: the same scenario and seed give the same trace hash at
# every optimisation level. Runs every shipped scenario (but the scale one,
# which is a benchmark) and every regression scenario with the fleet-sim of
# each build folder given, and compares the hashes. Exit 0 when they agree,
# 1 on the first difference (both commands printed), 2 on a usage error.
#
# Usage: tools/determinism-levels.sh BUILD_DIR BUILD_DIR...
set -u
[ $# -ge 2 ] || { echo "usage: $0 BUILD_DIR BUILD_DIR..." >&2; exit 2; }
for b in "$@"; do
  [ -x "$b/bin/fleet-sim" ] || { echo "determinism-levels: $b/bin/fleet-sim is not built" >&2; exit 2; }
done
compared=0
for scn in scenarios/*.scn scenarios/regressions/*.scn; do
  case $scn in *scale-*) continue ;; esac
  first="" first_b=""
  for b in "$@"; do
    out=$(RF_BUILD=$b "$b/bin/fleet-sim" run "$scn" --quiet --model-lib "$b/models/bank.so" 2>&1)
    rc=$?
    [ $rc -eq 2 ] && continue 2 # not runnable here (refused as a whole): nothing to compare
    hash=$(printf '%s\n' "$out" | sed -n 's/^trace hash //p' | tail -1)
    [ -n "$hash" ] || { echo "determinism-levels: $b: $scn printed no trace hash (exit $rc)" >&2; exit 1; }
    if [ -z "$first" ]; then
      first=$hash first_b=$b
    elif [ "$hash" != "$first" ]; then
      echo "determinism-levels: $scn: trace hash $first with $first_b, $hash with $b" >&2
      echo "  $first_b/bin/fleet-sim run $scn --check-determinism --verbose" >&2
      echo "  $b/bin/fleet-sim run $scn --check-determinism --verbose" >&2
      exit 1
    fi
  done
  compared=$((compared + 1))
done
echo "determinism-levels: $compared scenarios, same trace hash with $*"
