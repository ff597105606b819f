#!/usr/bin/env bash
# Tokens in a reader with a PIN pad (CKF_PROTECTED_AUTHENTICATION_PATH).
#
# The reader is simulated by the fault shim (tests/fault/libkqfault.so,
# KQ_FAULT_PINPAD) in front of real SoftHSM tokens made in $T: every
# C_GetTokenInfo reports the protected path, and a C_Login without a PIN
# from the host is forwarded with the PIN "typed on the pad" (the first
# line of $T/pad, read at that moment; no file = cancelled on the pad).
# The shim's log tags each C_Login "pinpad" (no PIN came from the host) or
# "host-pin".  KQ_FAULT_TOKEN_FLAGS adds PIN-state flags (final try,
# locked) without spending a try.
#
# What must hold: with a PIN pad and no pin source, keyquorum never asks on
# the terminal and never sends a PIN from the host; it tells the holder to
# use the pad; a wrong PIN on the pad is exit 3 naming the token, with the
# tries reported and the token not locked; a cancel on the pad is exit 3;
# the final-try and locked checks happen before any login, pad or not;
# ceremonies unseal through the pad.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vault-sim/lib.sh"
. "$TOP/tests/softhsm.sh"

need_fault_shim
softhsm_setup
unset KEYQUORUM_TEST_ALLOW_PIN_VALUE KQ_FAULT KQ_FAULT_CONFIG KQ_FAULT_TOKEN_FLAGS
export KQ_FAULT_MODULE=$SM KQ_FAULT_PINPAD=$T/pad KQ_FAULT_LOG=$T/p11.log
softhsm_token pp-a ec-p256 && softhsm_token pp-b rsa-2048 && softhsm_token pp-c ec-p256 || {
	t_fail "make the test tokens"
	t_done
}

# pad PIN: what the holder types on the pad (absent: cancelled).
pad() { if [ "$1" = cancel ]; then rm -f "$T/pad"; else printf '%s\n' "$1" >"$T/pad"; fi; }
logins() { grep -c ' C_Login ' "$T/p11.log" 2>/dev/null || true; }
fresh_log() { : >"$T/p11.log"; }

# --- what the token says -----------------------------------------------------
t_run "tokens: through the pad reader" "$KQ" tokens --module "$SHIM"
t_grep "tokens: the token is listed with its PIN pad" 'PIN pad' "$T/out"
t_run "tokens --json: through the pad reader" "$KQ" tokens --module "$SHIM" --json
if python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
toks = [t for s in d.get("slots", []) for t in ([s["token"]] if s.get("token") else [])]
assert toks and all(t.get("protected_auth_path") is True for t in toks), toks' "$T/out" 2>"$T/py"; then
	t_ok "tokens --json: protected_auth_path is true"
else
	t_fail "tokens --json: protected_auth_path is true" "$(head -c 400 "$T/py")"
fi

# --- decrypt through the pad -------------------------------------------------
head -c 32 /dev/urandom >"$T/secret"
for k in a b; do
	"$KQ" encrypt --module "$SHIM" --to "pkcs11:token=pp-$k;object=kq" <"$T/secret" >"$T/blob.$k" 2>"$T/err" ||
		t_fail "encrypt to pp-$k (no PIN)" "$(cat "$T/err")"
done
fresh_log
[ "$(logins)" = 0 ] && t_ok "encrypt: no login at all" || t_fail "encrypt: no login at all" "$(cat "$T/p11.log")"

for k in a b; do
	pad 123456
	fresh_log
	t_run "decrypt (pp-$k): PIN typed on the pad, no pin source, no terminal" \
		"$KQ" decrypt --module "$SHIM" --with "pkcs11:token=pp-$k;object=kq" <"$T/blob.$k"
	cmp -s "$T/out" "$T/secret" && t_ok "decrypt (pp-$k): the plaintext is right" ||
		t_fail "decrypt (pp-$k): the plaintext is right"
	t_grep "decrypt (pp-$k): the holder is told to use the pad" "enter the PIN of token \"pp-$k\" on the reader's PIN pad" "$T/err"
	if grep -q ' C_Login 1 CKR_OK pinpad$' "$T/p11.log" && ! grep -q 'host-pin' "$T/p11.log"; then
		t_ok "decrypt (pp-$k): one login, through the pad; no PIN from the host"
	else
		t_fail "decrypt (pp-$k): one login, through the pad; no PIN from the host" "$(grep C_Login "$T/p11.log")"
	fi
done

# A wrong PIN on the pad: exit 3, the token named, not locked; then the
# right one works (the token was not locked).
pad 000000
fresh_log
t_expect 3 "decrypt: a wrong PIN on the pad is exit 3" \
	"$KQ" decrypt --module "$SHIM" --with "pkcs11:token=pp-a;object=kq" <"$T/blob.a"
t_grep "decrypt: the wrong-PIN error names the token" 'pp-a' "$T/err"
t_grep "decrypt: the wrong-PIN error says the token is not locked" 'not locked' "$T/err"
[ -s "$T/out" ] && t_fail "decrypt: nothing on stdout after a wrong PIN" || t_ok "decrypt: nothing on stdout after a wrong PIN"
grep -q ' C_Login 1 CKR_PIN_INCORRECT pinpad$' "$T/p11.log" && t_ok "decrypt: the wrong PIN was the pad's, one try" ||
	t_fail "decrypt: the wrong PIN was the pad's, one try" "$(grep C_Login "$T/p11.log")"
pad 123456
t_run "decrypt: the right PIN on the pad after a wrong one" \
	"$KQ" decrypt --module "$SHIM" --with "pkcs11:token=pp-a;object=kq" <"$T/blob.a"

# Cancelled on the pad.
pad cancel
t_expect 3 "decrypt: cancelled on the pad is exit 3" \
	"$KQ" decrypt --module "$SHIM" --with "pkcs11:token=pp-a;object=kq" <"$T/blob.a"
t_grep "decrypt: the cancel is named" 'cancel' "$T/err"

# A pin source still wins over the pad (the holder chose it).
pad 000000
fresh_log
t_run "decrypt: a pin source is used even with a pad" \
	"$KQ" decrypt --module "$SHIM" --with "pkcs11:token=pp-a;object=kq?pin-source=$T/pin" <"$T/blob.a"
grep -q ' C_Login 1 CKR_OK host-pin$' "$T/p11.log" && t_ok "decrypt: the pin source's PIN reached the token" ||
	t_fail "decrypt: the pin source's PIN reached the token" "$(grep C_Login "$T/p11.log")"

# Final try and locked: refused before any login, pad or not.
# refused FLAG NAME PATTERN: exit 3 with PATTERN on stderr, no C_Login.
refused() {
	pad 123456
	fresh_log
	t_expect 3 "decrypt: $2 on a pad token is exit 3" \
		env KQ_FAULT_TOKEN_FLAGS="$1" "$KQ" decrypt --module "$SHIM" --with "pkcs11:token=pp-a;object=kq" <"$T/blob.a"
	t_grep "decrypt: ... saying so, naming the token" "$3" "$T/err"
	[ "$(logins)" = 0 ] && t_ok "decrypt: ... with no login attempted" ||
		t_fail "decrypt: ... with no login attempted" "$(grep C_Login "$T/p11.log")"
}
refused CKF_USER_PIN_FINAL_TRY "a final try without --allow-final-try" 'token "pp-a" has one PIN try left'
t_run "decrypt: --allow-final-try spends it on the pad" \
	env KQ_FAULT_TOKEN_FLAGS=CKF_USER_PIN_FINAL_TRY "$KQ" decrypt --allow-final-try --module "$SHIM" --with "pkcs11:token=pp-a;object=kq" <"$T/blob.a"
refused CKF_USER_PIN_LOCKED "a locked PIN" 'token "pp-a" is locked'

# token keygen through the pad.
pad 123456
t_run "token keygen: logs in through the pad" \
	"$KQ" token keygen --module "$SHIM" --token "pkcs11:token=pp-c" --label kq2 --type ec-p256
t_grep "token keygen: the holder is told to use the pad" "on the reader's PIN pad" "$T/err"

# --- a ceremony through the pad ------------------------------------------------
if ! vsim_start; then
	t_fail "vault-sim starts"
	t_done
fi
C=$T/set.json
HOLD=(--holder "a=pkcs11:token=pp-a;object=kq" --holder "b=pkcs11:token=pp-b;object=kq" --holder "c=pkcs11:token=pp-c;object=kq")
PS=(--pin-source "a=file:$T/pin" --pin-source "b=file:$T/pin" --pin-source "c=file:$T/pin")
"$KQ" custody create --name pad --kind vault-unseal --threshold 2 --module "$SM" --out "$C" "${HOLD[@]}" >/dev/null 2>"$T/err" &&
	"$KQ" ceremony init --custody "$C" --holders a,b,c --module "$SM" "${PS[@]}" --yes --root-token-out "$T/root0" >/dev/null 2>>"$T/err" ||
	{
		t_fail "set up a 2-of-3 Vault and its custody set" "$(cat "$T/err")"
		t_done
	}
vsim_ctl restart >/dev/null
pad 123456
fresh_log
t_run "ceremony unseal: two holders through their pads, no pin source" \
	"$KQ" ceremony unseal --custody "$C" --holders a,b --module "$SHIM"
[ "$(vsim_state sealed 2>/dev/null | tr -d '\n')" = false ] && t_ok "ceremony unseal: Vault is unsealed" ||
	t_fail "ceremony unseal: Vault is unsealed" "$(vsim_state sealed 2>&1)"
t_grep "ceremony unseal: holder a is told to use the pad" '>> a: enter the PIN for token "pp-a" on the reader.s PIN pad' "$T/out"
t_grep "ceremony unseal: holder b is told to use the pad" '>> b: enter the PIN for token "pp-b" on the reader.s PIN pad' "$T/out"
if [ "$(grep -c ' C_Login [0-9]* CKR_OK pinpad$' "$T/p11.log")" = 2 ] && ! grep -q host-pin "$T/p11.log"; then
	t_ok "ceremony unseal: two pad logins, no PIN from the host"
else
	t_fail "ceremony unseal: two pad logins, no PIN from the host" "$(grep C_Login "$T/p11.log")"
fi
t_run "ceremony drill --json: through the pads" \
	"$KQ" ceremony drill --custody "$C" --holders a,b --module "$SHIM" --json
if python3 -c 'import json,sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
pn = [e for e in ev if e.get("event") == "pin-needed"]
assert len(pn) == 2 and all(e.get("message") == "PIN pad" for e in pn), pn' "$T/out" 2>"$T/py"; then
	t_ok "ceremony drill --json: pin-needed says PIN pad for each holder"
else
	t_fail "ceremony drill --json: pin-needed says PIN pad for each holder" "$(head -c 400 "$T/py")"
fi
t_done
