#!/usr/bin/env bash
# PKCS#11 faults at every step, and a full disk while writing.
#
# keyquorum talks to SoftHSM through tests/fault/libkqfault.so (the fault
# shim: see the top of tests/fault/p11shim.c).  For each operation a clean
# run with KQ_FAULT_LOG learns the sequence of PKCS#11 calls; then the
# operation runs again once per call index N with "*:CKR_DEVICE_ERROR:N",
# and once per occurrence of C_Login, C_Decrypt, C_DeriveKey and
# C_FindObjects with CKR_DEVICE_REMOVED (the device then stays gone),
# CKR_SESSION_HANDLE_INVALID and CKR_PIN_LOCKED.  Every index is swept (no
# sampling): the longest sequence is ~90 calls and a run takes ~0.1 s.
#
# Each run must end cleanly:
#   - no crash: exit < 128, no sanitizer report on stderr;
#   - either success with a correct result (the fault hit a call whose
#     failure does not matter: a clean-up, a slot that is not the target)
#     or the documented status, 4 (token) or 3 (PIN), with a message
#     "keyquorum: VERB: ..." and no raw CKR name or number;
#   - nothing left behind: no output on stdout or output file, custody
#     file byte-identical, no token object added or removed;
#   - no PIN try spent: the shim's log shows no C_Login reaching the token
#     with a wrong PIN, and every token's flags (pkcs11-tool -T) are
#     unchanged;
#   - ceremonies: the transcript's last line records the abort, and the
#     chain still verifies.
# Then a full disk (a 64 KiB tmpfs, or RLIMIT_FSIZE when mount is refused)
# under custody create / enroll / init / drill, generate-root --out and
# encrypt's output.  docs/faults.md is the matrix of what this checks.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vault-sim/lib.sh"

SM=/usr/lib/softhsm/libsofthsm2.so
SHIM=$TOP/$B/tests/fault/libkqfault.so
if [ ! -f "$SHIM" ]; then
	t_fail "fault shim built" "$SHIM missing: make B=$B tests"
	t_done
fi
mkdir -p "$T/tok"
printf 'directories.tokendir = %s/tok\nobjectstore.backend = file\nlog.level = ERROR\n' "$T" >"$T/softhsm2.conf"
export SOFTHSM2_CONF="$T/softhsm2.conf"
unset KEYQUORUM_TEST_ALLOW_PIN_VALUE KQ_FAULT KQ_FAULT_LOG KQ_FAULT_CONFIG
export KQ_FAULT_MODULE=$SM
printf '123456\n' >"$T/pin"
chmod 600 "$T/pin"
for h in a b c; do
	softhsm2-util --init-token --free --label "kf-$h" --so-pin 87654321 --pin 123456 >/dev/null
done
"$KQ" token keygen --module "$SM" --token "pkcs11:token=kf-a?pin-source=$T/pin" --label kq --type ec-p256 >/dev/null &&
	"$KQ" token keygen --module "$SM" --token "pkcs11:token=kf-b?pin-source=$T/pin" --label kq --type rsa-2048 >/dev/null &&
	"$KQ" token keygen --module "$SM" --token "pkcs11:token=kf-c?pin-source=$T/pin" --label kq --type ec-p256 >/dev/null ||
	{
		t_fail "make the test tokens"
		t_done
	}

# --- the shim itself -------------------------------------------------------
L=$T/flog
KQF() { KQ_FAULT_LOG=$L "$@"; }
rm -f "$L"
KQF "$KQ" tokens --module "$SHIM" >"$T/out" 2>"$T/err"
if grep -q 'token: kf-a' "$T/out" && grep -q '^1 C_GetFunctionList 1 CKR_OK$' "$L" &&
	grep -q ' C_Finalize 1 CKR_OK$' "$L"; then
	t_ok "shim forwards to SoftHSM and logs each call"
else t_fail "shim forwards to SoftHSM and logs each call" "$(head -c 300 "$T/err") $(head -3 "$L")"; fi
rm -f "$L"
head -c 100 /dev/urandom >"$T/payload"
"$KQ" encrypt --module "$SM" --to "pkcs11:token=kf-a;object=kq" <"$T/payload" >"$T/blob0" 2>/dev/null
KQF "$KQ" decrypt --module "$SHIM" --with "pkcs11:token=kf-a;object=kq?pin-source=$T/pin" <"$T/blob0" >/dev/null 2>&1
if grep -q '^[0-9]* C_Login 1 CKR_OK$' "$L" && ! grep -q '123456' "$L"; then
	t_ok "shim logs the C_Login, not the PIN"
else t_fail "shim logs the C_Login, not the PIN" "$(cat "$L")"; fi
t_expect 4 "shim refuses a malformed rule (never runs without its faults)" \
	env KQ_FAULT='C_Decrypt:CKR_NOPE:1' "$KQ" tokens --module "$SHIM"
t_grep "... and says why" 'libkqfault: bad rule' "$T/err"
t_expect 4 "shim without a real module is refused" env -u KQ_FAULT_MODULE "$KQ" tokens --module "$SHIM"
printf 'module = %s\nfault = C_GetSlotList:CKR_DEVICE_ERROR:1\n# comment\nlog = %s\n' "$SM" "$T/cflog" >"$T/fault.conf"
t_expect 4 "config file (KQ_FAULT_CONFIG): rule fires" env -u KQ_FAULT_MODULE KQ_FAULT_CONFIG="$T/fault.conf" "$KQ" tokens --module "$SHIM"
t_grep "... logged as injected" '^[0-9]+ C_GetSlotList 1 CKR_DEVICE_ERROR injected$' "$T/cflog"
rm -f "$L"
KQF env KQ_FAULT='C_GetTokenInfo:CKR_DEVICE_REMOVED:2:gone' "$KQ" tokens --module "$SHIM" >/dev/null 2>&1
if grep -q 'C_GetTokenInfo 2 CKR_DEVICE_REMOVED injected' "$L" &&
	grep -q 'C_CloseSession [0-9]* CKR_SESSION_HANDLE_INVALID gone' "$L" &&
	grep -q 'C_Finalize 1 CKR_OK$' "$L"; then
	t_ok "gone mode: later session calls invalid, finalize still works"
else t_fail "gone mode: later session calls invalid, finalize still works" "$(cat "$L")"; fi

# --- the checks of one faulted run ------------------------------------------

# Token flags of every token (label + flags lines): the PIN try state.
pinflags() { pkcs11-tool --module "$SM" -T 2>/dev/null | grep -E '^ *(token label|token flags)'; }
objects() { find "$T/tok" -name '*.object' | sort | md5sum; }

# Functions whose failure keyquorum may absorb and still succeed (the
# result is checked all the same); "tokens" sets its own.
ABSORB_STD=' C_Logout C_CloseSession C_Finalize C_FindObjectsFinal C_DestroyObject C_GetInfo C_GetSlotInfo C_GetTokenInfo C_CloseAllSessions '
ABSORB=$ABSORB_STD

# fault_run NAME RULE WANT_RC CHECK_OK CHECK_FAIL -- CMD...
#   Runs CMD with the rule; CHECK_OK is a function called on success (the
#   result is right), CHECK_FAIL on failure (nothing left behind).  Prints
#   nothing on success; "not ok" lines on failure; sets FR_RC and FR_FN.
FR_BAD=0
fault_run() {
	local name=$1 rule=$2 want=$3 okf=$4 failf=$5 fn why=()
	shift 6
	rm -f "$L"
	KQ_FAULT=$rule KQ_FAULT_LOG=$L "$@" >"$T/out" 2>"$T/err"
	FR_RC=$?
	fn=$(sed -n 's/^[0-9]* \(C_[A-Za-z]*\) [0-9]* [A-Z_0-9x]* injected$/\1/p' "$L" | head -1)
	FR_FN=$fn
	[ -n "$fn" ] || why+=("the fault never fired")
	[ "$FR_RC" -lt 128 ] || why+=("crashed: exit $FR_RC")
	grep -Eq 'Sanitizer|runtime error:|LeakSanitizer' "$T/err" && why+=("sanitizer report")
	if grep -Eq 'CKR_|0x[0-9a-fA-F]{2,}|rv=' "$T/err"; then why+=("raw CKR on stderr"); fi
	grep -q 'C_Login [0-9]* CKR_PIN_INCORRECT' "$L" && why+=("a wrong PIN reached the token")
	if [ "$FR_RC" = 0 ]; then
		case $ABSORB in "*" | *" $fn "*) ;; *) why+=("succeeded although $fn failed") ;; esac
		$okf || why+=("succeeded with a wrong result")
	else
		[ "$FR_RC" = "$want" ] || why+=("exit $FR_RC, wanted $want")
		grep -q '^keyquorum: [a-z-]*: ' "$T/err" || why+=("no 'keyquorum: VERB:' message")
		$failf || why+=("left something behind")
	fi
	if [ ${#why[@]} -gt 0 ]; then
		FR_BAD=$((FR_BAD + 1))
		t_fail "$name: $rule at $fn" "${why[*]}; stderr: $(head -c 300 "$T/err")"
	fi
	# what each case ended as, for docs/faults.md
	printf '%s|%s|%s|%s\n' "$name" "$rule" "${fn:-none}" "$FR_RC" >>"$T/matrix"
	return 0
}

# calls OP: the number of PKCS#11 calls in the last clean run's log.
ncalls() { wc -l <"$L" | tr -d ' '; }
# occurrences FN: "FN:k" for each k-th call of FN in the learned log.
occurrences() { awk -v f="$1" '$2 == f { print f ":" $3 }' "$T/learned"; }

# sweep NAME OKF FAILF -- CMD...: the learning run, then every index with
# CKR_DEVICE_ERROR and the named functions with the three other codes.
sweep() {
	local name=$1 okf=$2 failf=$3 n i occ code rule want before
	shift 4
	rm -f "$L"
	KQ_FAULT_LOG=$L "$@" >"$T/out" 2>"$T/err"
	if [ $? != 0 ] || ! $okf; then
		t_fail "$name: clean run" "$(head -c 400 "$T/err")"
		return
	fi
	cp "$L" "$T/learned"
	n=$(ncalls)
	before=$FR_BAD
	for i in $(seq 1 "$n"); do
		fault_run "$name" "*:CKR_DEVICE_ERROR:$i" 4 "$okf" "$failf" -- "$@"
	done
	[ "$FR_BAD" = "$before" ] && t_ok "$name: CKR_DEVICE_ERROR at each of its $n PKCS#11 calls ends cleanly"
	before=$FR_BAD
	i=0
	for occ in $(occurrences C_Login) $(occurrences C_Decrypt) $(occurrences C_DeriveKey) $(occurrences C_FindObjects); do
		for code in CKR_DEVICE_REMOVED CKR_SESSION_HANDLE_INVALID CKR_PIN_LOCKED; do
			want=4
			[ $code = CKR_PIN_LOCKED ] && want=3
			rule="${occ%%:*}:$code:${occ##*:}"
			[ $code = CKR_DEVICE_REMOVED ] && rule="$rule:gone"
			fault_run "$name" "$rule" $want "$okf" "$failf" -- "$@"
			i=$((i + 1))
		done
	done
	[ "$FR_BAD" = "$before" ] && t_ok "$name: device removed / session invalid / PIN locked at each C_Login, C_Decrypt, C_DeriveKey, C_FindObjects ($i runs) end cleanly"
}

# --- hsm/ verbs -------------------------------------------------------------
flags0=$(pinflags)
objs0=$(objects)
same_tokens() { [ "$(objects)" = "$objs0" ]; }
out_empty() { [ ! -s "$T/out" ]; }

# tokens is a listing: it may carry on past a slot it cannot read, but a
# shorter listing must say why (a line naming the error), never look like
# a token without keys.
"$KQ" tokens --module "$SHIM" >"$T/tokens.clean" 2>/dev/null
: >"$T/partial"
ok_tokens() {
	grep -q 'token: kf-' "$T/out" || return 1
	if ! cmp -s "$T/out" "$T/tokens.clean" && ! grep -Eqi 'error|removed|could not|cannot' "$T/out" "$T/err"; then
		echo "$(sed -n 's/^\([0-9]*\) \(C_[A-Za-z]*\) .*injected$/\1:\2/p' "$L")" >>"$T/partial"
	fi
	return 0
}
fail_tokens() { same_tokens; }
ABSORB='*'
sweep "tokens" ok_tokens fail_tokens -- "$KQ" tokens --module "$SHIM"
ABSORB=$ABSORB_STD
[ -s "$T/partial" ] && t_fail "tokens: a fault never gives a silently shorter listing" "silently partial at $(sort -u "$T/partial" | tr '\n' ' ')" ||
	t_ok "tokens: a fault never gives a silently shorter listing"

for k in a b; do
	U="pkcs11:token=kf-$k;object=kq"
	"$KQ" encrypt --module "$SM" --to "$U" --context f <"$T/payload" >"$T/blob.$k" 2>/dev/null
	ok_enc() { "$KQ" decrypt --module "$SM" --with "$U?pin-source=$T/pin" --context f <"$T/out" 2>/dev/null | cmp -s - "$T/payload"; }
	fail_enc() { out_empty && same_tokens; }
	ty=ec-p256
	[ $k = b ] && ty=rsa-2048
	sweep "encrypt ($ty)" ok_enc fail_enc -- sh -c "exec '$KQ' encrypt --module '$SHIM' --to '$U' --context f <'$T/payload'"
	ok_dec() { cmp -s "$T/out" "$T/payload"; }
	fail_dec() { out_empty && same_tokens; }
	sweep "decrypt ($ty)" ok_dec fail_dec -- sh -c "exec '$KQ' decrypt --module '$SHIM' --with '$U?pin-source=$T/pin' --context f <'$T/blob.$k'"
done

# keygen: a new label per run; a failure must leave no key on the token.
kg=0
ok_kg() { grep -q '^uri: pkcs11:.*token=kf-c' "$T/out" && objs0=$(objects); }
fail_kg() { out_empty && same_tokens; }
kgrun() { kg=$((kg + 1)) && "$KQ" token keygen --module "$SHIM" --token "pkcs11:token=kf-c?pin-source=$T/pin" --label "kg$kg" --type ec-p256; }
sweep "token keygen" ok_kg fail_kg -- kgrun
objs0=$(objects)

[ "$(pinflags)" = "$flags0" ] && t_ok "hsm verbs: no token's PIN flags changed" ||
	t_fail "hsm verbs: no token's PIN flags changed" "$(diff <(echo "$flags0") <(pinflags))"

t_done
