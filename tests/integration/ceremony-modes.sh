#!/usr/bin/env bash
# Ceremonies in the other server modes: recovery keys under auto-unseal,
# and OpenBao (its authenticated generate-root-token variant).
. "$(dirname "$0")/../lib.sh"
t_need_rig
. "$TOP/tests/vault-sim/lib.sh"
. "$TOP/tests/integration/ceremony-common.inc"
S=(--module "$M" "${PINS[@]}")

# --- recovery keys (auto-unseal) --------------------------------------------
vsim_start --recovery || { t_fail "vault-sim --recovery starts"; t_done; }
R=$T/recovery.json
cer_create "$R" vault-recovery 2 alice dave erin >/dev/null || t_fail "create a vault-recovery set"
t_expect 2 "init --recovery refuses a vault-unseal set" bash -c \
	"cp '$R' '$T/r2.json' && sed -i 's/vault-recovery/vault-unseal/' '$T/r2.json' &&
	 '$KQ' ceremony init --custody '$T/r2.json' --recovery --holders alice,dave,erin --module '$M' --yes --root-token-out '$T/x'"
t_run "init with recovery keys sealed to holders" \
	"$KQ" ceremony init --custody "$R" --recovery --holders alice,dave,erin "${S[@]}" --yes --root-token-out "$T/rroot"
t_grep "init says recovery keys" 'recovery keys sealed to their holders' "$T/out"
[ "$(cer_state recovery)" = true ] && [ "$(cer_state initialized)" = true ] && [ "$(cer_state sealed)" = false ] &&
	t_ok "Vault initialised with recovery keys, auto-unsealed" || t_fail "Vault initialised with recovery keys, auto-unsealed"
t_expect 2 "unseal with a recovery set is refused" \
	"$KQ" ceremony unseal --custody "$R" --holders alice,dave "${S[@]}"
t_grep "... saying recovery keys do not unseal" 'recovery keys serve generate-root' "$T/err"
t_run "generate-root with recovery keys (dave P-384, erin RSA)" \
	"$KQ" ceremony generate-root --custody "$R" --holders dave,erin "${S[@]}" --yes --out "$T/rtok"
cer_token_ok "$T/rtok" && t_ok "recovery generate-root token is valid" || t_fail "recovery generate-root token is valid"
t_run "drill the recovery set" "$KQ" ceremony drill --custody "$R" --holders alice,dave,erin "${S[@]}"
vsim_stop

# --- OpenBao -------------------------------------------------------------------
vsim_start --openbao || { t_fail "vault-sim --openbao starts"; t_done; }
O=$T/bao.json
cer_create "$O" vault-unseal 2 bob carol frank >/dev/null || t_fail "create a set for OpenBao"
t_run "OpenBao: init" "$KQ" ceremony init --custody "$O" --holders bob,carol,frank "${S[@]}" --yes --root-token-out "$T/broot"
t_run "OpenBao: unseal (frank RSA-3072)" "$KQ" ceremony unseal --custody "$O" --holders frank,bob "${S[@]}"
t_grep "OpenBao: detected as OpenBao" '^OpenBao ' "$T/out"
[ "$(cer_state sealed)" = false ] && t_ok "OpenBao: unsealed" || t_fail "OpenBao: unsealed"
c0=$(cer_state generate_root_attempts)
t_expect 5 "OpenBao: unauthenticated generate-root is disabled, said clearly" \
	env -u VAULT_TOKEN "$KQ" ceremony generate-root --custody "$O" --holders bob,carol "${S[@]}" --yes --out "$T/btok0"
t_grep "... the message names the cause" 'disabled|token' "$T/err"
[ "$(cer_state generate_root_attempts)" = "$c0" ] && t_ok "... and no attempt was started" || t_fail "... and no attempt was started"

# OpenBao 2.6 has the authenticated generate-root-token endpoints.
vsim_stop
vsim_start --openbao --openbao-version 2.6.0 || { t_fail "vault-sim --openbao 2.6 starts"; t_done; }
O=$T/bao26.json
cer_create "$O" vault-unseal 2 bob carol frank >/dev/null
"$KQ" ceremony init --custody "$O" --holders bob,carol,frank "${S[@]}" --yes --root-token-out "$T/broot26" >/dev/null &&
	"$KQ" ceremony unseal --custody "$O" --holders carol,bob "${S[@]}" >/dev/null || t_fail "OpenBao 2.6: init and unseal"
t_run "OpenBao: generate-root with a token uses generate-root-token" \
	"$KQ" ceremony generate-root --custody "$O" --holders bob,carol "${S[@]}" --yes \
	--token-file "$T/broot26" --out "$T/btok"
cer_token_ok "$T/btok" && t_ok "OpenBao: generated token is valid" || t_fail "OpenBao: generated token is valid"
t_done
