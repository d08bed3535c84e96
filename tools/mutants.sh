#!/bin/sh
# tools/mutants.sh: plants each tests/mutations/*.patch into a copy of the tree, runs a fuzz campaign on it,
# and prints per mutant whether it was caught and after how many seeds.
#
# A mutant is caught by a seed that fails on the mutant but passed (or failed another check) on the
# unmutated tree: the baseline campaign runs first with the same seeds, so failures the tree already
# has (open bugs) do not count as catches.
#
#   SEEDS=500 JOBS=2 FROM=1 sh tools/mutants.sh [PATCH...]
# Exit 0 when every mutant was caught, 1 otherwise.
set -eu
SEEDS=${SEEDS:-500}
JOBS=${JOBS:-2}
FROM=${FROM:-1}
root=$(cd "$(dirname "$0")/.." && pwd)
work=${TMPDIR:-/tmp}/raftfleet-mutants.$$
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT INT TERM

# "seed check" per failing seed of a campaign's JSON summary.
failures() {
    tr '{' '\n' <"$1" | sed -n 's/^"seed":\([0-9]*\),"outcome":"[a-z]*","check":"\([^"]*\)".*/\1 \2/p' | sort
}

campaign() { # BIN OUT
    "$1" fuzz --seeds "$SEEDS" --from "$FROM" --jobs "$JOBS" --shrink-max 0 --out "$2" \
        --json >"$2.json" 2>/dev/null || true
}

make -C "$root" --no-print-directory -s build/bin/fleet-sim
echo "mutants: baseline campaign of $SEEDS seeds from $FROM"
campaign "$root/build/bin/fleet-sim" "$work/base"
failures "$work/base.json" >"$work/base.txt"
echo "mutants: the unmutated tree fails $(wc -l <"$work/base.txt") of $SEEDS seeds (not counted as catches)"

patches=${*:-$(ls "$root"/tests/mutations/*.patch)}
missed=0
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
    campaign "$tree/build/bin/fleet-sim" "$work/$name"
    failures "$work/$name.json" >"$work/$name.txt"
    first=$(comm -13 "$work/base.txt" "$work/$name.txt" | sort -n | head -1)
    if [ -n "$first" ]; then
        seed=${first%% *}
        echo "mutant $name: caught after $((seed - FROM + 1)) seeds (seed $seed, check ${first#* })"
    else
        echo "mutant $name: NOT caught in $SEEDS seeds"
        missed=$((missed + 1))
    fi
done
[ "$missed" -eq 0 ]
