#!/usr/bin/env bash
# The libFuzzer harnesses of tests/fuzz/ in CI (docs/fuzzing.md): build them
# with clang (`make fuzz`, separate from the gcc build), then run each for a
# bounded time over its seed corpus, replaying tests/fuzz/crashes/NAME/
# first.  One "ok"/"not ok" line per harness.  The time per harness is
# KQ_FUZZ_SECS, by default 48 s shared among the harnesses (at most 8 s, at
# least 3 s each), which keeps the whole script near 90 s on two cores with
# a fresh clang build.  The long runs (10 million executions per harness)
# are recorded in docs/fuzzing.md, not repeated here.
. "$(dirname "$0")/../lib.sh"

if ! command -v clang >/dev/null 2>&1; then
	t_fail "clang is installed" "apt-get install clang libclang-rt-14-dev"
	t_done
fi
cd "$TOP" || exit 1
if ! make --no-print-directory -j2 B="$B" fuzz >"$T/build.log" 2>&1; then
	t_fail "make fuzz builds the harnesses" "$(grep -m10 -E 'error|Error' "$T/build.log")"
	t_done
fi
t_ok "make fuzz builds the harnesses"

names=()
for f in tests/fuzz/fuzz_*.c; do
	n=${f#tests/fuzz/fuzz_}
	names+=("${n%.c}")
done
secs=${KQ_FUZZ_SECS:-$((48 / ${#names[@]}))}
[ "$secs" -gt 8 ] && secs=8
[ "$secs" -lt 3 ] && secs=3
echo "# ${#names[@]} harnesses, ${secs} s each"
B="$B" tests/fuzz/run -t "$secs" "${names[@]}" || T_FAILED=1
t_done
