#!/usr/bin/env bash
# The ceremonies end to end through the CLI on the rig's SoftHSM holders
# against the Vault API test server: custody create -> init (3-of-5) ->
# unseal -> generate-root -> drill, remote-holder mode and --json events.
. "$(dirname "$0")/../lib.sh"
t_need_rig
. "$TOP/tests/vault-sim/lib.sh"
. "$TOP/tests/integration/ceremony-common.inc"

vsim_start || { t_fail "vault-sim starts"; t_done; }
C=$T/prod.json
S=(--module "$M" "${PINS[@]}")

t_run "custody create 3-of-5 reads each token's key" \
	cer_create "$C" vault-unseal 3 alice bob carol dave erin
t_grep "create prints each holder's fingerprint" '^erin: token "kq-erin", rsa key, SHA256:' "$T/out"
t_expect 1 "custody create refuses to overwrite without --force" \
	cer_create "$C" vault-unseal 3 alice bob carol dave erin

t_run "ceremony init seals each key to its holder" \
	"$KQ" ceremony init --custody "$C" --holders alice,bob,carol,dave,erin \
	"${S[@]}" --yes --root-token-out "$T/root0"
t_grep "init says no key is displayed" 'never displayed' "$T/out"
if [ "$(cer_state initialized)" = true ] && [ "$(cer_state shares)" = 5 ] &&
	[ "$(cer_state threshold)" = 3 ]; then t_ok "Vault is initialised 3-of-5"; else t_fail "Vault is initialised 3-of-5"; fi
if [ "$(stat -c %a "$T/root0")" = 600 ] && [ -s "$T/root0" ]; then
	t_ok "initial root token in a 0600 file"
else t_fail "initial root token in a 0600 file"; fi
if ! grep -q "$(cat "$T/root0")" "$T/out" "$T/err" "$C" "$C.transcript"; then
	t_ok "root token is in no output, custody file or transcript"
else t_fail "root token is in no output, custody file or transcript"; fi
n=$(cer_json "$C" 'sum(1 for h in d["holders"] if h.get("sealed_share"))')
[ "$n" = 5 ] && t_ok "custody file holds 5 sealed shares" || t_fail "custody file holds 5 sealed shares" "$n"
t_expect 1 "init again refuses a set that holds shares" \
	"$KQ" ceremony init --custody "$C" --holders alice,bob,carol,dave,erin "${S[@]}" --yes --root-token-out "$T/root-again"
cer_create "$T/fresh.json" vault-unseal 2 alice bob >/dev/null
t_expect 5 "init of an initialised Vault is refused" \
	"$KQ" ceremony init --custody "$T/fresh.json" --holders alice,bob "${S[@]}" --yes --root-token-out "$T/root-again"
t_grep "... saying nothing changed" 'already initialised; nothing was changed' "$T/err"
[ ! -e "$T/root-again" ] && t_ok "... and leaves no token file" || t_fail "... and leaves no token file"

cp "$C" "$T/before"
t_run "unseal with alice, carol, erin (EC P-256 + RSA)" \
	"$KQ" ceremony unseal --custody "$C" --holders alice,carol,erin "${S[@]}"
[ "$(cer_state sealed)" = false ] && t_ok "Vault reports unsealed" || t_fail "Vault reports unsealed"
t_grep "unseal shows progress" 'progress 2/3' "$T/out"
cmp -s "$C" "$T/before" && t_ok "unseal leaves the custody file untouched" || t_fail "unseal leaves the custody file untouched"
t_run "unseal of an unsealed Vault is a no-op" \
	"$KQ" ceremony unseal --custody "$C" --holders bob "${S[@]}"
t_grep "... and says so" 'already unsealed' "$T/out"

if cer_token_ok "$T/root0"; then t_ok "initial root token is valid"; else t_fail "initial root token is valid"; fi
t_run "generate-root with bob, dave (P-384), erin" \
	"$KQ" ceremony generate-root --custody "$C" --holders bob,dave,erin "${S[@]}" --yes --out "$T/root1"
if cer_token_ok "$T/root1"; then t_ok "decoded root token is valid"; else t_fail "decoded root token is valid"; fi
if ! grep -q "$(cat "$T/root1")" "$T/out" "$T/err" "$C.transcript"; then
	t_ok "generated token not in output or transcript"
else t_fail "generated token not in output or transcript"; fi
t_expect 1 "generate-root --out refuses an existing file" \
	"$KQ" ceremony generate-root --custody "$C" --holders bob,dave,erin "${S[@]}" --yes --out "$T/root1"
[ "$(cer_state generate_root_started)" = false ] && t_ok "... before starting an attempt" || t_fail "... before starting an attempt"

t_run "drill: every holder proves their share" \
	"$KQ" ceremony drill --custody "$C" --holders alice,bob,carol,dave,erin "${S[@]}"
n=$(cer_json "$C" 'sum(1 for h in d["holders"] if h.get("last_drill"))')
[ "$n" = 5 ] && t_ok "drill records last_drill for each" || t_fail "drill records last_drill for each" "$n"
calls=$(cer_state unseal_calls)
[ "$calls" = 3 ] && t_ok "drill sends nothing to Vault" || t_fail "drill sends nothing to Vault" "unseal_calls=$calls"

# Remote holders: each runs their own part; Vault aggregates.
cer_seal "$T/root1"
[ "$(cer_state sealed)" = true ] && t_ok "Vault sealed again" || t_fail "Vault sealed again"
t_run "remote holder bob submits one share" \
	"$KQ" ceremony unseal --custody "$C" --holder bob "${S[@]}"
t_grep "... and is told others continue" 'still sealed, progress 1/3' "$T/out"
t_run "remote holder dave submits one share" \
	"$KQ" ceremony unseal --custody "$C" --holder dave "${S[@]}"
t_run "remote holder carol completes the unseal" \
	"$KQ" ceremony unseal --custody "$C" --holder carol "${S[@]}" --json
[ "$(cer_state sealed)" = false ] && t_ok "Vault unsealed by three remote holders" || t_fail "Vault unsealed by three remote holders"
if python3 -c '
import json,sys
ev=[json.loads(l)["event"] for l in open(sys.argv[1])]
need=["token-found","pin-needed","share-accepted","progress","done"]
sys.exit(0 if all(e in ev for e in need) else 1)' "$T/out"; then
	t_ok "--json: one JSON event per line"
else t_fail "--json: one JSON event per line" "$(head -c 300 "$T/out")"; fi

t_run "remote generate-root: alice starts, keeps the OTP" \
	"$KQ" ceremony generate-root --custody "$C" --holder alice "${S[@]}" --yes --otp-out "$T/otp"
nonce=$(cer_state generate_root_nonce)
t_run "remote generate-root: erin joins with the nonce" \
	"$KQ" ceremony generate-root --custody "$C" --holder erin --nonce "$nonce" "${S[@]}"
t_run "remote generate-root: carol completes and decodes with the OTP" \
	"$KQ" ceremony generate-root --custody "$C" --holder carol --nonce "$nonce" --otp-file "$T/otp" "${S[@]}" --out "$T/root2"
if cer_token_ok "$T/root2"; then t_ok "remote generate-root token is valid"; else t_fail "remote generate-root token is valid"; fi

t_run "the transcript's chain is intact" "$KQ" audit verify "$C.transcript"
if grep -q '"outcome":"share-accepted"' "$C.transcript" && grep -q '"op":"drill"' "$C.transcript"; then
	t_ok "transcript records shares and the drill"
else t_fail "transcript records shares and the drill"; fi
t_done
