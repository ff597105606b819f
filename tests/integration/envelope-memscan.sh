#!/usr/bin/env bash
# Envelope ceremonies leave no plaintext in memory: seal and open a
# rollback plan and a file under gdb, stop at exit_group, dump the whole
# process with `set dump-excluded-mappings on` (sodium_malloc's
# MADV_DONTDUMP pages included), and search the core for the plan's
# previous values and the file's bytes (tests/memscan.py).  The HSM PIN is
# random and never leaves the process, so it cannot be searched for here.
. "$(dirname "$0")/../lib.sh"

if nm -D "$KQ" 2>/dev/null | grep -q __asan_init; then
	echo "ok - envelope memory scan # SKIP sanitizer build"
	t_done
fi
command -v gdb >/dev/null || { t_fail "gdb is installed"; t_done; }

SOFTHSM=/usr/lib/softhsm/libsofthsm2.so
mkdir -p "$T/tok"
printf 'directories.tokendir = %s/tok\nobjectstore.backend = file\nlog.level = ERROR\n' "$T" >"$T/softhsm2.conf"
export SOFTHSM2_CONF="$T/softhsm2.conf"
for tok in h-alice h-bob kq-hsm; do
	softhsm2-util --init-token --free --label "$tok" --so-pin 87654321 --pin 123456 >/dev/null
done
printf '123456\n' >"$T/pin"
printf '87654321\n' >"$T/sopin"
chmod 600 "$T/pin" "$T/sopin"
HOLD=()
for h in alice bob; do
	"$KQ" token keygen --module "$SOFTHSM" --token "pkcs11:token=h-$h?pin-source=$T/pin" \
		--label seal --type ec-p256 >/dev/null || { t_fail "keygen $h"; t_done; }
	HOLD+=(--holder "$h=pkcs11:token=h-$h;object=seal")
done
C=$T/set.json
"$KQ" custody create --kind hsm-pin --name scan --threshold 2 "${HOLD[@]}" --hsm "pkcs11:token=kq-hsm" \
	--module "$SOFTHSM" --hsm-module "$SOFTHSM" --so-pin-source "file:$T/sopin" --out "$C" >/dev/null ||
	{ t_fail "custody create --kind hsm-pin"; t_done; }
S="--custody $C --holders alice,bob --module $SOFTHSM --hsm-module $SOFTHSM --pin-source alice=file:$T/pin --pin-source bob=file:$T/pin"

# scan NAME LABEL=HEX... -- ARGS...
scan() {
	local name=$1 needles=()
	shift
	while [ "$1" != "--" ]; do needles+=("$1"); shift; done
	shift
	rm -f "$T/core"
	gdb -nx -batch -q \
		-ex 'set dump-excluded-mappings on' \
		-ex 'catch syscall exit_group' \
		-ex "run $* </dev/null >$T/scan.out 2>$T/scan.err" \
		-ex "gcore $T/core" \
		-ex 'kill' \
		--args "$KQ" "$@" >"$T/gdb.log" 2>&1
	if [ ! -s "$T/core" ]; then
		t_fail "$name: core dumped at exit" "$(tail -5 "$T/gdb.log")"
		return
	fi
	# $KQ (the front) execs keyquorum-full; gdb follows the exec.
	if python3 "$TOP/tests/memscan.py" --image keyquorum-full "$T/core" "${needles[@]}" >"$T/scan.report"; then
		t_ok "$name: no plaintext in memory at exit"
	else
		t_fail "$name: plaintext found in memory at exit" "$(cat "$T/scan.report")"
	fi
	sed 's/^/# /' "$T/scan.report"
}
hexs() { printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n'; }
hexof() { od -An -tx1 -v "$1" | tr -d ' \n'; }

V1=PREV-scan-value-6c0ffee1d
V2=PREV-scan-value-2deadbea7
cat >"$T/plan.json" <<EOF
{"keyquorum_rollback_plan": 1, "entries": [
 {"credential": "a", "previous_value": "$V1", "revert": "r", "verify": "v", "time_limit": "5m"},
 {"credential": "b", "previous_value": "$V2", "revert": "r", "verify": "v", "time_limit": "5m"}]}
EOF
N=(v1="$(hexs "$V1")" v2="$(hexs "$V2")")
scan "seal-envelope of a plan" "${N[@]}" -- ceremony seal-envelope $S --in "$T/plan.json" --label scan --out "$T/plan.kqenv"
[ -s "$T/plan.kqenv" ] && t_ok "... sealed under gdb" || t_fail "... sealed under gdb" "$(cat "$T/scan.err")"
scan "open-envelope checklist" "${N[@]}" -- ceremony open-envelope $S --envelope "$T/plan.kqenv"
grep -q "$V1" "$T/scan.out" && t_ok "... printed the checklist under gdb" || t_fail "... printed the checklist under gdb"
scan "open-envelope --format json" "${N[@]}" -- ceremony open-envelope $S --envelope "$T/plan.kqenv" --format json

head -c 4096 /dev/urandom >"$T/file"
F=(file="$(hexof "$T/file" | cut -c1-64)" tail="$(hexof "$T/file" | tail -c 64)")
"$KQ" ceremony seal-envelope $S --in "$T/file" --label f --out "$T/file.kqenv" >/dev/null 2>&1
scan "open-envelope of a file" "${F[@]}" -- ceremony open-envelope $S --envelope "$T/file.kqenv" --out "$T/file.out"
cmp -s "$T/file" "$T/file.out" && t_ok "... opened under gdb" || t_fail "... opened under gdb"
t_done
