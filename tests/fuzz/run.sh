#!/bin/sh
# make fuzz: builds lts-fuzz with libFuzzer and the address sanitizer (in
# .build-fuzz, so .build stays as it is) and fuzzes each target for
# SECONDS seconds (default 600), starting from the seeds kept in
# fuzz/corpus/TARGET/. What the fuzzer adds goes to .build-fuzz/corpus/TARGET/;
# a crash, a leak-free out-of-memory or a hang over 10 s fails the run and
# leaves the input in .build-fuzz/crashes/ (replay it with
# `LTS_FUZZ_TARGET=TARGET .build/debug/lts-fuzz FILE`).
# Usage: tests/fuzz/run.sh [SECONDS] [TARGET...]
set -eu
cd "$(dirname "$0")/../.."
seconds=${1:-600}
[ $# -gt 0 ] && shift
targets=${*:-$(ls fuzz/corpus)}
mkdir -p .build-fuzz/crashes
# The linker warns about every sanitizer symbol it cannot export (harmless):
# the build's output is shown only when it fails.
if ! swift build --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DLTS_LIBFUZZER --product lts-fuzz \
    > .build-fuzz/build.log 2>&1; then
    cat .build-fuzz/build.log
    exit 1
fi
grep -v "Cannot export local symbol" .build-fuzz/build.log | tail -1
failed=""
for target in $targets; do
    [ -d "fuzz/corpus/$target" ] || { echo "fuzz: no target $target (see fuzz/corpus/)" >&2; exit 2; }
    mkdir -p ".build-fuzz/corpus/$target"
    echo "fuzz: $target for $seconds s"
    if ! ASAN_OPTIONS=detect_leaks=0 LTS_FUZZ_TARGET="$target" .build-fuzz/debug/lts-fuzz \
        -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
        -artifact_prefix=".build-fuzz/crashes/$target-" ".build-fuzz/corpus/$target" "fuzz/corpus/$target" \
        > ".build-fuzz/$target.log" 2>&1; then
        tail -40 ".build-fuzz/$target.log"
        failed="$failed $target"
    else
        grep -E "stat::number_of_executed_units|stat::new_units_added" ".build-fuzz/$target.log" | sed "s/^/fuzz: $target: /"
    fi
done
if [ -n "$failed" ]; then
    echo "fuzz: failed:$failed (inputs in .build-fuzz/crashes/)" >&2
    exit 1
fi
echo "fuzz: every target ran $seconds s without a crash"
