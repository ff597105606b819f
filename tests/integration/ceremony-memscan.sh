#!/usr/bin/env bash
# Secret hygiene of the ceremonies: run unseal and generate-root under gdb,
# stop at exit_group, dump everything (dump-excluded-mappings on, so the
# locked secure-memory pages are in the core) and search it for every
# share submitted (as Vault received them), every PIN used and the root
# token produced.  The count must be zero.
. "$(dirname "$0")/../lib.sh"
if nm -D "$KQ" 2>/dev/null | grep -q __asan_init; then
	echo "ok - ceremony memory scan # SKIP sanitizer build"
	t_done
fi
command -v gdb >/dev/null || { t_fail "gdb is installed"; t_done; }
t_need_rig
. "$TOP/tests/vault-sim/lib.sh"
. "$TOP/tests/integration/ceremony-common.inc"

vsim_start || { t_fail "vault-sim starts"; t_done; }
C=$T/c.json
cer_create "$C" vault-unseal 3 alice bob carol dave erin >/dev/null &&
	"$KQ" ceremony init --custody "$C" --holders alice,bob,carol,dave,erin --module "$M" \
		"${PINS[@]}" --yes --root-token-out "$T/root0" >/dev/null ||
	{ t_fail "set up an initialised Vault"; t_done; }
hexs() { printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n'; }
pin_needles() {
	local h v
	for h in "$@"; do
		v=KQ_HOLDER_PIN_FILE_$h
		printf 'pin-%s=%s ' "$h" "$(od -An -tx1 -v "${!v}" | tr -d ' \n')"
	done
}

# under_gdb OUT ARGS...: run keyquorum ARGS under gdb, core at exit_group
# in $T/core (the arguments have no spaces).  $KQ is the front: it execs
# keyquorum-full, and gdb follows the exec, so the core is of the process
# that held the shares (memscan.py --image checks it).
under_gdb() {
	local out=$1
	shift
	rm -f "$T/core"
	gdb -nx -batch -q -ex 'set dump-excluded-mappings on' -ex 'catch syscall exit_group' \
		-ex "run $* >$out.out 2>$out.err </dev/null" -ex "gcore $T/core" -ex kill \
		--args "$KQ" >"$T/gdb.log" 2>&1
}

# Unseal: run once under gdb; the shares are the ones Vault received.
under_gdb "$T/u" ceremony unseal --custody "$C" --holders alice,dave,erin --module "$M" "${PINS[@]}"
[ "$(cer_state sealed)" = false ] && t_ok "unseal under gdb unsealed Vault" || t_fail "unseal under gdb unsealed Vault" "$(cat "$T/u.err")"
needles=()
i=0
for k in $(vsim_state unseal_keys); do i=$((i + 1)); needles+=("share$i=$k"); done
[ $i = 3 ] && t_ok "Vault received 3 shares" || t_fail "Vault received 3 shares" "$i"
# shellcheck disable=SC2207
needles+=($(pin_needles alice dave erin))
if [ -s "$T/core" ] && [ $i = 3 ] && python3 "$TOP/tests/memscan.py" --image keyquorum-full "$T/core" "${needles[@]}" >"$T/scan.report"; then
	t_ok "unseal: no share or PIN in memory at exit"
else
	t_fail "unseal: secrets found in memory at exit" "$(cat "$T/scan.report" 2>/dev/null; tail -3 "$T/gdb.log")"
fi
sed 's/^/# /' "$T/scan.report"
# The scan sees what is there: the process's argv is in the core.
if python3 "$TOP/tests/memscan.py" "$T/core" "control=$(hexs "alice,dave,erin")" >/dev/null; then
	t_fail "control: the scan finds the argv string it must see"
else t_ok "control: the scan finds the argv string it must see"; fi

# Generate-root: shares, PINs, and the token it wrote.
under_gdb "$T/g" ceremony generate-root --custody "$C" --holders bob,carol,dave --module "$M" "${PINS[@]}" \
	--yes --out "$T/root1"
[ -s "$T/root1" ] && t_ok "generate-root under gdb wrote a token" || t_fail "generate-root under gdb wrote a token" "$(cat "$T/g.err")"
needles=(token="$(hexs "$(cat "$T/root1")")")
i=0
for k in $(vsim_state generate_root_keys); do i=$((i + 1)); needles+=("share$i=$k"); done
# shellcheck disable=SC2207
needles+=($(pin_needles bob carol dave))
if [ -s "$T/core" ] && [ $i = 3 ] && python3 "$TOP/tests/memscan.py" --image keyquorum-full "$T/core" "${needles[@]}" >"$T/scan.report"; then
	t_ok "generate-root: no share, PIN or token in memory at exit"
else
	t_fail "generate-root: secrets found in memory at exit" "$(cat "$T/scan.report" 2>/dev/null)"
fi
sed 's/^/# /' "$T/scan.report"
t_done
