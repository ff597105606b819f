#!/usr/bin/env bash
# ceremony generate-root --seal-envelope: the new root token goes straight
# into a rollback envelope (never shown, never in a plain file), against
# the Vault API test server, with SoftHSM holder tokens and an HSM made in
# $T.  The envelope opens to a valid root token; its failure twins leave
# no file and no generate-root attempt behind.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vault-sim/lib.sh"

SOFTHSM=/usr/lib/softhsm/libsofthsm2.so
mkdir -p "$T/tok"
printf 'directories.tokendir = %s/tok\nobjectstore.backend = file\nlog.level = ERROR\n' "$T" >"$T/softhsm2.conf"
export SOFTHSM2_CONF="$T/softhsm2.conf"
for tok in h-alice h-bob h-carol kq-hsm; do
	softhsm2-util --init-token --free --label "$tok" --so-pin 87654321 --pin 123456 >/dev/null
done
printf '123456\n' >"$T/pin"
printf '87654321\n' >"$T/sopin"
chmod 600 "$T/pin" "$T/sopin"
HOLD=()
for h in alice bob carol; do
	"$KQ" token keygen --module "$SOFTHSM" --token "pkcs11:token=h-$h?pin-source=$T/pin" \
		--label seal --type ec-p256 >/dev/null || { t_fail "keygen $h"; t_done; }
	HOLD+=(--holder "$h=pkcs11:token=h-$h;object=seal")
done
P=(--pin-source "alice=file:$T/pin" --pin-source "bob=file:$T/pin" --pin-source "carol=file:$T/pin")

vsim_start || { t_fail "vault-sim starts"; t_done; }
V=$T/vault.json
E=$T/pin-set.json
t_run "custody create vault-unseal 2-of-3" "$KQ" custody create --name prod --kind vault-unseal --threshold 2 \
	--module "$SOFTHSM" --out "$V" "${HOLD[@]}"
t_run "ceremony init" "$KQ" ceremony init --custody "$V" --holders alice,bob,carol --module "$SOFTHSM" "${P[@]}" \
	--yes --root-token-out "$T/root0"
t_run "unseal" "$KQ" ceremony unseal --custody "$V" --holders alice,bob --module "$SOFTHSM" "${P[@]}"
t_run "custody create hsm-pin 2-of-3" "$KQ" custody create --kind hsm-pin --name rollback --threshold 2 \
	"${HOLD[@]}" --hsm "pkcs11:token=kq-hsm" --module "$SOFTHSM" --hsm-module "$SOFTHSM" \
	--so-pin-source "file:$T/sopin" --out "$E"

GR=(ceremony generate-root --custody "$V" --holders bob,carol --module "$SOFTHSM" "${P[@]}" --yes
	--seal-envelope "$E" --hsm-module "$SOFTHSM")
t_expect 1 "generate-root --seal-envelope short of the hsm-pin quorum" "$KQ" "${GR[@]}" \
	--envelope-holders alice --out "$T/short.kqenv"
[ ! -e "$T/short.kqenv" ] && t_ok "... no envelope written" || t_fail "... no envelope written"
[ "$(vsim_state generate_root_started)" != true ] && t_ok "... and no attempt started at Vault" ||
	t_fail "... and no attempt started at Vault"
t_expect 2 "generate-root --seal-envelope needs --out" "$KQ" "${GR[@]}" --envelope-holders alice,carol

t_run "generate-root --seal-envelope" "$KQ" "${GR[@]}" --envelope-holders alice,carol \
	--envelope-label "break-glass root" --out "$T/root.kqenv"
t_grep "... says where the token went" "sealed into the envelope $T/root.kqenv" "$T/out"
[ "$(stat -c %a "$T/root.kqenv")" = 600 ] && t_ok "... envelope 0600" || t_fail "... envelope 0600"
t_run "envelope show" "$KQ" envelope show "$T/root.kqenv"
t_grep "... a vault root token" 'content +vault-root-token' "$T/out"
t_grep "... labelled" 'label +break-glass root' "$T/out"
t_run "open the root token envelope" "$KQ" ceremony open-envelope --custody "$E" --envelope "$T/root.kqenv" \
	--holders bob,carol --module "$SOFTHSM" --hsm-module "$SOFTHSM" "${P[@]}" --out "$T/root1"
tok=$(cat "$T/root1")
if curl -sS --fail --max-time 10 --cacert "$VAULT_CACERT" -H "X-Vault-Token: $tok" \
	"$VAULT_ADDR/v1/auth/token/lookup-self" | grep -q '"policies": \["root"\]'; then
	t_ok "the sealed token is a valid root token"
else t_fail "the sealed token is a valid root token"; fi
if ! grep -rqF "$tok" "$T/out" "$T/err" "$V.transcript" "$E.transcript" "$T/root.kqenv"; then
	t_ok "the token is in no output, transcript or envelope in clear"
else t_fail "the token is in no output, transcript or envelope in clear"; fi
t_done
