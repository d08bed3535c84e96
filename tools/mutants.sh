#!/bin/sh
# tools/mutants.sh: plants each tests/mutations/*.patch into a copy of the tree, runs a fuzz campaign on it,
# and prints per mutant whether it was caught and after how many seeds.
#
# A mutant is caught by a seed that fails on the mutant but passed (or failed another check) on the
# unmutated tree: the baseline campaign runs the same seeds, so failures the tree already has (open
# bugs) do not count as catches. Seeds run in chunks of CHUNK, each chunk first on the unmutated tree
# (once, kept for every mutant), then on the mutant, which stops at its first chunk with a catch.
# A chunk that does not end within CHUNK_TIMEOUT seconds (a mutant can make a run spin) is reported
# and counts as not caught.
#
#   SEEDS=500 JOBS=2 FROM=1 KINDS=all CHUNK=50 CHUNK_TIMEOUT=900 sh tools/mutants.sh [PATCH...]
# KINDS is fleet-sim fuzz's --kinds (default `all`: restarts and disk faults too). Exit 0 when every
# mutant was caught, 1 otherwise.
set -eu
SEEDS=${SEEDS:-500}
JOBS=${JOBS:-2}
FROM=${FROM:-1}
KINDS=${KINDS:-all}
CHUNK=${CHUNK:-50}
CHUNK_TIMEOUT=${CHUNK_TIMEOUT:-900}
root=$(cd "$(dirname "$0")/.." && pwd)
work=${TMPDIR:-/tmp}/raftfleet-mutants.$$
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT INT TERM

# "seed check" per failing seed of a campaign's JSON summary.
failures() {
    tr '{' '\n' <"$1" | sed -n 's/^"seed":\([0-9]*\),"outcome":"[a-z]*","check":"\([^"]*\)".*/\1 \2/p' | sort
}

# BIN OUT START COUNT: the seeds' failures into OUT.txt; status 1 when the chunk timed out.
campaign() {
    rc=0
    timeout "$CHUNK_TIMEOUT" "$1" fuzz --seeds "$4" --from "$3" --jobs "$JOBS" --kinds "$KINDS" \
        --shrink-max 0 --out "$2" --json >"$2.json" 2>/dev/null || rc=$?
    failures "$2.json" >"$2.txt"
    [ "$rc" -ne 124 ]
}

base_chunk() { # START COUNT
    [ -f "$work/base-$1.txt" ] && return 0
    if ! campaign "$root/build/bin/fleet-sim" "$work/base-$1" "$1" "$2"; then
        echo "mutants: the unmutated tree did not run seeds $1.. ($2) within ${CHUNK_TIMEOUT}s"
    fi
    base_failed=$((base_failed + $(wc -l <"$work/base-$1.txt")))
    base_run=$((base_run + $2))
}

make -C "$root" --no-print-directory -s build/bin/fleet-sim
echo "mutants: up to $SEEDS seeds from $FROM per mutant, kinds $KINDS, chunks of $CHUNK"
base_failed=0
base_run=0
patches=${*:-$(ls "$root"/tests/mutations/*.patch)}
missed=0
end=$((FROM + SEEDS))
for p in $patches; do
    name=$(basename "$p" .patch)
    tree="$work/tree"
    rm -rf "$tree"
    mkdir -p "$tree"
    # The tree and its objects: make then rebuilds only what the patch touches.
    (cd "$root" && tar --exclude=./.git --exclude=./build/asan --exclude=./build/fuzz -cf - .) |
        (cd "$tree" && tar -xf -)
    if ! patch -s -p1 -d "$tree" <"$p"; then
        echo "mutant $name: the patch does not apply"
        missed=$((missed + 1))
        continue
    fi
    if ! make -C "$tree" --no-print-directory -s build/bin/fleet-sim >"$work/build.log" 2>&1; then
        echo "mutant $name: does not build"
        missed=$((missed + 1))
        continue
    fi
    start=$FROM
    first=
    while [ -z "$first" ] && [ "$start" -lt "$end" ]; do
        n=$((end - start < CHUNK ? end - start : CHUNK))
        base_chunk "$start" "$n"
        if ! campaign "$tree/build/bin/fleet-sim" "$work/$name-$start" "$start" "$n"; then
            echo "mutant $name: seeds $start.. ($n) did not end within ${CHUNK_TIMEOUT}s"
        fi
        first=$(comm -13 "$work/base-$start.txt" "$work/$name-$start.txt" | sort -n | head -1)
        start=$((start + n))
    done
    if [ -n "$first" ]; then
        seed=${first%% *}
        echo "mutant $name: caught after $((seed - FROM + 1)) seeds (seed $seed, check ${first#* })"
    else
        echo "mutant $name: NOT caught in $SEEDS seeds"
        missed=$((missed + 1))
    fi
done
echo "mutants: the unmutated tree failed $base_failed of the $base_run seeds it ran (not counted as catches)"
[ "$missed" -eq 0 ]
