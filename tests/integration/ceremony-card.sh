#!/usr/bin/env bash
# A card holder through OpenSC (the rig's virtual CAC card behind pcscd)
# next to SoftHSM holders: init, unseal, the card pulled (named, nothing
# sent), and interactive mode waiting until the card is inserted.
. "$(dirname "$0")/../lib.sh"
t_need_rig
. "$TOP/tests/vault-sim/lib.sh"
. "$TOP/tests/integration/ceremony-common.inc"
[ -n "${KQ_CARD_TOKEN:-}" ] || { t_fail "the rig has a card"; t_done; }
t_on_exit "$KQ_CARD_INSERT"

vsim_start || { t_fail "vault-sim starts"; t_done; }
C=$T/mixed.json
SH="?module-path=$KQ_SOFTHSM_MODULE"
CARD="pkcs11:token=$KQ_CARD_TOKEN;id=%00%03?module-path=$KQ_OPENSC_MODULE"
# Two modules named on the command line: the custody file's module-path
# values are loaded only when the operator allowed them.
P=("${PINS[@]}" --pin-source "casey=file:$KQ_CARD_PIN_FILE" --module "$KQ_SOFTHSM_MODULE" --module "$KQ_OPENSC_MODULE")

t_run "custody create with a card holder (OpenSC) and SoftHSM holders" \
	"$KQ" custody create --name mixed --kind vault-unseal --threshold 2 \
	--holder "alice=$(cer_uri alice)$SH" --holder "casey=$CARD" --holder "bob=$(cer_uri bob)$SH" --out "$C"
t_grep "the card's RSA key is read from its certificate" '^casey: token "kq-card1", rsa key' "$T/out"
t_run "init seals a key to the card" \
	"$KQ" ceremony init --custody "$C" --holders alice,casey,bob "${P[@]}" --yes --root-token-out "$T/root"
cp "$C" "$T/orig"

# A module-path in the custody file is never loaded on the file's word.
t_expect 4 "a module named only in the custody file is not loaded" \
	"$KQ" ceremony drill --custody "$C" --holders casey "${PINS[@]}" --pin-source "casey=file:$KQ_CARD_PIN_FILE"
t_grep "... and the error says how to allow it" "module-path=$KQ_OPENSC_MODULE, which this ceremony was not told to load.*--module" "$T/err"
sed "s|module-path=$KQ_SOFTHSM_MODULE|module-path=$T/evil.so|" "$C" >"$T/evil.json"
printf 'this is not a PKCS#11 module\n' >"$T/evil.so"
t_expect 4 "an edited custody file cannot make keyquorum load its module" \
	"$KQ" ceremony drill --custody "$T/evil.json" --holders alice "${P[@]}"
t_grep "... named, and refused before it is opened" "module-path=$T/evil.so, which this ceremony was not told to load" "$T/err"

# The card pulled: named, nothing sent to Vault.
$KQ_CARD_REMOVE
sleep 0.5
c0=$(cer_state unseal_calls)
t_expect 4 "card pulled: exit 4" "$KQ" ceremony unseal --custody "$C" --holders casey,alice "${P[@]}"
t_grep "card pulled: names the holder" 'holder casey' "$T/err"
[ "$(cer_state unseal_calls)" = "$c0" ] && t_ok "card pulled: nothing sent to Vault" || t_fail "card pulled: nothing sent to Vault"
cmp -s "$C" "$T/orig" && t_ok "card pulled: custody file intact" || t_fail "card pulled: custody file intact"

# Interactive: the SoftHSM holders are there, the card comes later: once
# the drill says it is waiting for casey (polled: a slow run still works).
(
	for _ in $(seq "$(t_scale 200)"); do
		grep -q '"event":"waiting-for-token".*casey' "$T/out" 2>/dev/null && break
		sleep 0.1
	done
	$KQ_CARD_INSERT
) &
t_run "interactive drill waits for the card, then drills it" \
	"$KQ" ceremony drill --custody "$C" "${P[@]}" --wait "$(t_scale 20)" --json
t_grep "... told the operator who is still needed" '"event":"waiting-for-token".*casey' "$T/out"
t_grep "... found the card by its key" '"event":"token-found","holder":"casey","token":"kq-card1"' "$T/out"
t_grep "... and asked to remove it" '"event":"remove-token","holder":"casey"' "$T/out"
wait

sleep 0.5
t_run "unseal with the card and alice" \
	"$KQ" ceremony unseal --custody "$C" --holders casey,alice "${P[@]}"
[ "$(cer_state sealed)" = false ] && t_ok "Vault unsealed with the card's share" || t_fail "Vault unsealed with the card's share"
t_done
