#!/usr/bin/env bash
# Secrets leave no trace: run each offline verb under gdb, stop at the
# exit_group system call (nothing unmapped yet), dump the whole process
# with `set dump-excluded-mappings on` (so sodium_malloc's MADV_DONTDUMP
# pages are included), and search the core for every secret the run used.
. "$(dirname "$0")/../lib.sh"

if nm -D "$KQ" 2>/dev/null | grep -q __asan_init; then
	# ASan reserves terabytes of shadow as excluded mappings: no core can
	# hold them, and this build uses plain malloc anyway.  The scan runs
	# on the normal build of the same CI run.
	echo "ok - memory scan # SKIP sanitizer build"
	t_done
fi
command -v gdb >/dev/null || { t_fail "gdb is installed"; t_done; }

# scan NAME STDIN-FILE LABEL=HEX... -- ARGS...
scan() {
	local name=$1 input=$2 needles=() args
	shift 2
	while [ "$1" != "--" ]; do needles+=("$1"); shift; done
	shift
	rm -f "$T/core"
	gdb -nx -batch -q \
		-ex 'set dump-excluded-mappings on' \
		-ex 'catch syscall exit_group' \
		-ex "run $* <$input >$T/scan.out 2>$T/scan.err" \
		-ex "gcore $T/core" \
		-ex 'kill' \
		--args "$KQ" "$@" >"$T/gdb.log" 2>&1
	if [ ! -s "$T/core" ]; then
		t_fail "$name: core dumped at exit" "$(tail -5 "$T/gdb.log")"
		return
	fi
	# The front runs the offline verbs itself: its own image holds them.
	if python3 "$TOP/tests/memscan.py" --image keyquorum "$T/core" "${needles[@]}" >"$T/scan.report"; then
		t_ok "$name: no secret in memory at exit"
	else
		t_fail "$name: secrets found in memory at exit" "$(cat "$T/scan.report")"
	fi
	sed 's/^/# /' "$T/scan.report"
}

hexof() { od -An -tx1 -v "$1" | tr -d ' \n'; }

# split: the secret (raw input) and every share it printed
head -c 32 /dev/urandom >"$T/secret"
"$KQ" split -t 3 -n 5 --secret-file "$T/secret" >/dev/null # warm up nothing; sanity
scan "split 3-of-5" "$T/secret" secret="$(hexof "$T/secret")" -- split -t 3 -n 5
cp "$T/scan.out" "$T/shares"
needles=(secret="$(hexof "$T/secret")")
i=0
while read -r s; do
	i=$((i + 1))
	needles+=("share$i=$(printf '%s' "$s" | base64 -d | od -An -tx1 -v | tr -d ' \n')")
done <"$T/shares"
[ $i = 5 ] && t_ok "split printed 5 shares under gdb" || t_fail "split printed 5 shares under gdb" "$(cat "$T/scan.err")"
sed -n '1p;3p;5p' "$T/shares" >"$T/three"
scan "combine (base64 in, raw out)" "$T/three" "${needles[@]}" -- combine
cmp -s "$T/scan.out" "$T/secret" && t_ok "combine under gdb gave the secret" || t_fail "combine under gdb gave the secret"
scan "combine (hex out)" "$T/three" "${needles[@]}" -- combine --out hex

# split with hex input: the hex text of the secret is itself a form searched
hexof "$T/secret" >"$T/secret.hex"
scan "split --in hex" "$T/secret.hex" secret="$(hexof "$T/secret")" -- split -t 2 -n 3 --in hex

# decode-root: the OTP and the root token
printf '%s\n%s\n' KR5KXz0vNxFECAcIaQQlfAYJCgEgEDQ1CS8bJg Ah9qwYQzspnj9iS0WJmuQQNCXUcd >"$T/root.in"
scan "decode-root" "$T/root.in" \
	otp="$(printf Ah9qwYQzspnj9iS0WJmuQQNCXUcd | od -An -tx1 -v | tr -d ' \n')" \
	token="$(printf hvs.Jvfk7xibPmvLQCgtqAzvQzxB | od -An -tx1 -v | tr -d ' \n')" -- decode-root
grep -q '^hvs.Jvfk7xibPmvLQCgtqAzvQzxB$' "$T/scan.out" && t_ok "decode-root under gdb printed the token" || t_fail "decode-root under gdb printed the token"

# The scan must be able to see secrets: a control that keeps one.
printf 'hvs.ControlTokenKeptInMemory1\n' >"$T/ctl"
python3 - "$T/ctl" <<'PY' >"$T/ctl.hex"
import sys; print(open(sys.argv[1],'rb').read().strip().hex())
PY
rm -f "$T/core"
gdb -nx -batch -q -ex 'set dump-excluded-mappings on' -ex 'catch syscall exit_group' \
	-ex "run -c 'read -r x; exit 0' <$T/ctl" -ex "gcore $T/core" -ex kill --args /bin/bash >/dev/null 2>&1
if python3 "$TOP/tests/memscan.py" "$T/core" "control=$(cat "$T/ctl.hex")" >"$T/ctl.report"; then
	t_fail "the scanner finds a secret left in memory (control: bash keeps a line it read)" "$(cat "$T/ctl.report")"
else
	t_ok "the scanner finds a secret left in memory (control: bash keeps a line it read)"
fi
t_done
