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
set -u

: "${B:=build}"
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KQ="$TOP/$B/keyquorum"
T=$(mktemp -d "${TMPDIR:-/tmp}/kqtest.XXXXXX")
T_FAILED=0
trap 't_cleanup' EXIT
t_cleanup_hooks=()
t_cleanup() {
	local h
	for h in "${t_cleanup_hooks[@]+"${t_cleanup_hooks[@]}"}"; do
		eval "$h" || true
	done
	rm -rf "$T"
}
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
