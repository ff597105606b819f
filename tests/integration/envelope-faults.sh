#!/usr/bin/env bash
# The HSM lost in the middle of an envelope ceremony: the HSM is reached
# through the PKCS#11 fault shim (tests/fault/p11shim.c, libkqfault.so) in
# front of SoftHSM, the holders' tokens through SoftHSM directly.  Each
# fault: a clear error naming the HSM, the documented exit status, no
# output file, nothing left on the HSM, and the HSM's PIN in the state the
# error describes.
. "$(dirname "$0")/../lib.sh"

SOFTHSM=/usr/lib/softhsm/libsofthsm2.so
SHIM=$TOP/$B/tests/fault/libkqfault.so
[ -f "$SHIM" ] || { t_fail "fault shim built" "$SHIM missing (make tests)"; t_done; }
unset KQ_FAULT KQ_FAULT_LOG KQ_FAULT_CONFIG KEYQUORUM_TEST_ALLOW_PIN_VALUE
export KQ_FAULT_MODULE=$SOFTHSM
mkdir -p "$T/tok"
printf 'directories.tokendir = %s/tok\nobjectstore.backend = file\nlog.level = ERROR\n' "$T" >"$T/softhsm2.conf"
export SOFTHSM2_CONF="$T/softhsm2.conf"
for tok in h-alice h-bob hsm-one hsm-two; do
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
login_ok() { pkcs11-tool --module "$SOFTHSM" --token-label "$1" --login --pin "$2" --list-objects >/dev/null 2>&1; }
nothing_left() { # NAME FILE
	if [ ! -e "$2" ] && ! ls -A "$(dirname "$2")" | grep -q '^\.kq-envelope'; then
		t_ok "$1: nothing written"
	else t_fail "$1: nothing written" "$(ls -la "$(dirname "$2")")"; fi
}
CREATE=(custody create --kind hsm-pin --threshold 2 "${HOLD[@]}" --module "$SOFTHSM" --hsm-module "$SHIM"
	--so-pin-source "file:$T/sopin")

# custody create: the HSM gone as the PIN is set.
t_expect 4 "hsm-pin create: HSM removed at C_InitPIN" env KQ_FAULT=C_InitPIN:CKR_DEVICE_REMOVED:1:gone \
	"$KQ" "${CREATE[@]}" --name f --hsm "pkcs11:token=hsm-two" --out "$T/f.json"
t_grep "... says the PIN was not changed" "NOT changed" "$T/err"
[ ! -e "$T/f.json" ] && [ ! -e "$T/f.json.pending" ] && t_ok "... no set, no marker" || t_fail "... no set, no marker"
login_ok hsm-two 123456 && t_ok "... the HSM's PIN is as it was" || t_fail "... the HSM's PIN is as it was"
# custody create: the PIN is set, then the HSM goes before the key is made.
t_run "hsm-pin create: HSM removed after the PIN change" env KQ_FAULT=C_Login:CKR_DEVICE_REMOVED:2:gone \
	"$KQ" "${CREATE[@]}" --name g --hsm "pkcs11:token=hsm-two" --out "$T/g.json"
t_grep "... warns that the key is still to be made" "PIN is set and .* written, but the envelope key" "$T/err"
[ -s "$T/g.json" ] && [ ! -e "$T/g.json.pending" ] && t_ok "... the set is in place" || t_fail "... the set is in place"

C=$T/set.json
t_run "hsm-pin create through the shim" "$KQ" "${CREATE[@]}" --name env --hsm "pkcs11:token=hsm-one" --out "$C"
S=(--custody "$C" --holders alice,bob --module "$SOFTHSM" --hsm-module "$SHIM"
	--pin-source "alice=file:$T/pin" --pin-source "bob=file:$T/pin")
head -c 5000 /dev/urandom >"$T/in"
t_run "seal through the shim" "$KQ" ceremony seal-envelope "${S[@]}" --in "$T/in" --label ok --out "$T/ok.kqenv"

t_expect 4 "seal: HSM removed while it encrypts the data key" env KQ_FAULT=C_Encrypt:CKR_DEVICE_REMOVED:1:gone \
	"$KQ" ceremony seal-envelope "${S[@]}" --in "$T/in" --label x --out "$T/x.kqenv"
t_grep "... names the HSM and the removal" "HSM did not encrypt the data key.*(removed|device)" "$T/err"
nothing_left "seal, HSM removed" "$T/x.kqenv"
t_expect 4 "seal: HSM removed at login" env KQ_FAULT=C_Login:CKR_DEVICE_REMOVED:1:gone \
	"$KQ" ceremony seal-envelope "${S[@]}" --in "$T/in" --label x --out "$T/x.kqenv"
t_grep "... names the HSM" 'logging in to HSM token "hsm-one"' "$T/err"
nothing_left "seal, HSM removed at login" "$T/x.kqenv"
t_expect 4 "seal --store-in-hsm: HSM removed storing the envelope" \
	env KQ_FAULT=C_CreateObject:CKR_DEVICE_REMOVED:1:gone \
	"$KQ" ceremony seal-envelope "${S[@]}" --in "$T/in" --label x --out "$T/x.kqenv" --store-in-hsm
nothing_left "store, HSM removed" "$T/x.kqenv"
t_expect 4 "seal --store-in-hsm: the public header refused" \
	env KQ_FAULT=C_CreateObject:CKR_DEVICE_ERROR:2 \
	"$KQ" ceremony seal-envelope "${S[@]}" --in "$T/in" --label x --out "$T/x.kqenv" --store-in-hsm
nothing_left "store, header refused" "$T/x.kqenv"
"$KQ" envelope list --hsm "pkcs11:token=hsm-one" --module "$SOFTHSM" >"$T/list" 2>&1
t_grep "... and no envelope left on the HSM" "^0 envelopes listed" "$T/list"

t_expect 4 "open: HSM removed while it decrypts the data key" env KQ_FAULT=C_Decrypt:CKR_DEVICE_REMOVED:1:gone \
	"$KQ" ceremony open-envelope "${S[@]}" --envelope "$T/ok.kqenv" --out "$T/x.out"
t_grep "... says so" "HSM did not decrypt the data key" "$T/err"
nothing_left "open, HSM removed" "$T/x.out"
t_expect 4 "open: session handle lost" env KQ_FAULT=C_DecryptInit:CKR_SESSION_HANDLE_INVALID:1 \
	"$KQ" ceremony open-envelope "${S[@]}" --envelope "$T/ok.kqenv" --out "$T/x.out"
nothing_left "open, session lost" "$T/x.out"
t_run "open through the shim after the faults" "$KQ" ceremony open-envelope "${S[@]}" --envelope "$T/ok.kqenv" \
	--out "$T/ok.out"
cmp -s "$T/in" "$T/ok.out" && t_ok "... round trip" || t_fail "... round trip"
t_done
