# keyquorum integration-test helpers (sourced by tests/integration/*.sh).
#
# Each script runs cases and prints TAP-style lines, "ok - NAME" or
# "not ok - NAME", which tests/run counts.  Use:
#
#   t_run NAME CMD...          case passes when CMD exits 0
#   t_expect STATUS NAME CMD...  passes when CMD exits with STATUS
#   t_ok NAME / t_fail NAME WHY  record an outcome decided by the script
#
# KQ is the built binary; T is a fresh temporary directory removed on exit.
#
# Valgrind mode (KQ_VALGRIND=1: `tests/run --valgrind`, `make
# check-valgrind`): KQ is then a wrapper that runs the binary under
# memcheck (tests/valgrind-run), every keyquorum it execs included; at exit
# each process's report is read and a process with a memcheck error or a
# definitely lost block is a "not ok - valgrind: SCRIPT: COMMAND" line
# (logs kept in $B/valgrind-logs/SCRIPT/).  KQ_REAL is always the binary
# itself (for gdb, nm, ldd).  KQ_TSCALE (default 1; 10 under valgrind)
# scales every `timeout DURATION` a script runs (timeout is a function
# here); scripts with their own waiting loops multiply by it.
set -u

: "${B:=build}"
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KQ_REAL="$TOP/$B/keyquorum"
KQ=$KQ_REAL
T=$(mktemp -d "${TMPDIR:-/tmp}/kqtest.XXXXXX")
T_FAILED=0
trap 't_cleanup' EXIT
t_cleanup_hooks=()
t_cleanup() {
	local h rc=$?
	for h in "${t_cleanup_hooks[@]+"${t_cleanup_hooks[@]}"}"; do
		eval "$h" || true
	done
	if [ -n "${KQ_VG_LOGDIR:-}" ] && [ -d "$KQ_VG_LOGDIR" ]; then
		local name keep
		name=$(basename "$0" .sh)
		if ! "$TOP/tests/valgrind-run" --report "$KQ_VG_LOGDIR" "$name"; then
			keep=$TOP/$B/valgrind-logs/$name
			rm -rf "$keep"
			mkdir -p "$keep" && cp "$KQ_VG_LOGDIR"/vg.*.log "$keep"/ 2>/dev/null
			echo "#   memcheck logs: $keep"
			rc=1
		fi
	fi
	rm -rf "$T"
	exit "$rc"
}

: "${KQ_TSCALE:=1}"
if [ "${KQ_VALGRIND:-}" = 1 ] && [ -x "$KQ_REAL" ]; then
	if nm -D "$KQ_REAL" 2>/dev/null | grep -q '__asan_init\|__ubsan_handle'; then
		echo "# KQ_VALGRIND=1 ignored: valgrind cannot run a sanitizer build"
	else
		[ "$KQ_TSCALE" = 1 ] && KQ_TSCALE=10
		export KQ_VG_LOGDIR=$T/.vg/log
		mkdir -p "$KQ_VG_LOGDIR"
		KQ=$T/.vg/keyquorum
		# (absolute paths: a test may run $KQ with any PATH)
		printf '#!/bin/sh\nKQ_VG_LOGDIR=%s KQ_VG_BIN=%s exec /bin/bash %s %s "$@"\n' \
			"'$KQ_VG_LOGDIR'" "'$(command -v valgrind)'" "'$TOP/tests/valgrind-run'" "'$KQ_REAL'" >"$KQ"
		chmod 755 "$KQ"
	fi
fi
export KQ_TSCALE

# t_scale DURATION: DURATION (N, N.N, with s/m/h/d) times KQ_TSCALE, in seconds.
t_scale() {
	local n=${1%[smhd]} u=1
	case $1 in *m) u=60 ;; *h) u=3600 ;; *d) u=86400 ;; esac
	awk -v n="$n" -v u="$u" -v s="$KQ_TSCALE" 'BEGIN { printf "%.10g\n", n * u * s }'
}
if [ "$KQ_TSCALE" != 1 ]; then
	# timeout [OPTION]... DURATION CMD...: DURATION (and -k's) scaled.
	timeout() {
		local a=()
		while [ $# -gt 0 ]; do
			case $1 in
			-k | --kill-after) a+=("$1" "$(t_scale "$2")") && shift 2 ;;
			-s | --signal) a+=("$1" "$2") && shift 2 ;;
			--kill-after=*) a+=("--kill-after=$(t_scale "${1#*=}")") && shift ;;
			-*) a+=("$1") && shift ;;
			*) break ;;
			esac
		done
		[ $# -gt 0 ] || set -- 0
		command timeout "${a[@]+"${a[@]}"}" "$(t_scale "$1")" "${@:2}"
	}
fi

# Register a command to run at exit (stop a server, ...).
t_on_exit() { t_cleanup_hooks+=("$1"); }

t_ok() { printf 'ok - %s\n' "$1"; }
t_fail() {
	printf 'not ok - %s\n' "$1"
	shift
	[ $# -gt 0 ] && printf '#   %s\n' "$*"
	T_FAILED=1
}
# t_run NAME CMD... : CMD's stdout/stderr go to $T/out and $T/err.
t_run() {
	local name=$1
	shift
	if "$@" >"$T/out" 2>"$T/err"; then
		t_ok "$name"
	else
		t_fail "$name" "exit $? from: $*; stderr: $(head -c 400 "$T/err")"
	fi
}
t_expect() {
	local want=$1 name=$2 rc
	shift 2
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" = "$want" ]; then
		t_ok "$name"
	else
		t_fail "$name" "wanted exit $want, got $rc from: $*; stderr: $(head -c 400 "$T/err")"
	fi
}
# t_grep NAME PATTERN FILE : passes when FILE matches the extended regex.
t_grep() {
	if grep -Eq -- "$2" "$3"; then t_ok "$1"; else t_fail "$1" "no /$2/ in $3: $(head -c 300 "$3")"; fi
}
t_done() { exit "$T_FAILED"; }

# The rig's environment (module paths, tokens, PIN files), when it is up.
t_need_rig() {
	local env="$TOP/tests/rig/state/env"
	if [ ! -f "$env" ]; then
		t_fail "rig is up" "tests/rig/state/env missing: run tests/rig/up"
		t_done
	fi
	# shellcheck disable=SC1090
	. "$env"
}
