#!/usr/bin/env bash
# Failure twins of the unseal ceremony.  Each ends with a clear message,
# the custody file byte-identical, and Vault's state known from the
# server's own view (/_sim/state): wrong PIN, wrong token, tampered
# sealed share, a share from another set, Vault restarted mid-ceremony,
# a certificate that must be refused, SIGINT.
. "$(dirname "$0")/../lib.sh"
t_need_rig
. "$TOP/tests/vault-sim/lib.sh"
. "$TOP/tests/integration/ceremony-common.inc"

vsim_start || { t_fail "vault-sim starts"; t_done; }
C=$T/prod.json
S=(--module "$M" "${PINS[@]}")
cer_create "$C" vault-unseal 3 alice bob carol dave erin >/dev/null &&
	"$KQ" ceremony init --custody "$C" --holders alice,bob,carol,dave,erin \
		"${S[@]}" --yes --root-token-out "$T/root" >/dev/null ||
	{ t_fail "set up an initialised 3-of-5 Vault"; t_done; }
cp "$C" "$T/orig"

# same FILE: the file is byte-identical to the copy taken before.
same() { cmp -s "$1" "$2"; }
calls() { cer_state unseal_calls; }
# until_fired N: wait (up to 30 s, scaled under valgrind) until the Vault
# test server has taken N injected faults in all: the request carrying the
# Nth is then in flight.  Polling, not a fixed sleep, so that a slow run
# (valgrind, a busy machine) still hits the window.
until_fired() {
	local i
	for i in $(seq "$(t_scale 300)"); do
		[ "$(cer_state faults_fired)" -ge "$1" ] 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# --- wrong PIN ---------------------------------------------------------
printf 'not-the-pin' >"$T/bad.pin"
chmod 600 "$T/bad.pin"
c0=$(calls)
t_expect 3 "wrong PIN: exit 3" "$KQ" ceremony unseal --custody "$C" \
	--holders alice,bob,carol --module "$M" --pin-source "alice=file:$T/bad.pin" \
	--pin-source "bob=file:$KQ_HOLDER_PIN_FILE_bob" --pin-source "carol=file:$KQ_HOLDER_PIN_FILE_carol"
t_grep "wrong PIN: names alice and her token" 'holder alice: token "kq-alice": the PIN is incorrect' "$T/err"
t_grep "wrong PIN: reports the tries, not locked" 'not locked|tries' "$T/err"
[ "$(calls)" = "$c0" ] && t_ok "wrong PIN: nothing sent to Vault" || t_fail "wrong PIN: nothing sent to Vault"
same "$C" "$T/orig" && t_ok "wrong PIN: custody file intact" || t_fail "wrong PIN: custody file intact"
cp "$C" "$T/drill.json"
t_run "wrong PIN: the token is not locked (alice drills fine)" \
	"$KQ" ceremony drill --custody "$T/drill.json" --holders alice "${S[@]}"

# --- wrong token for a holder -----------------------------------------
python3 - "$C" "$T/wrongtok.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["holders"][0]["token_uri"] = d["holders"][0]["token_uri"].replace("kq-alice", "kq-bob")
json.dump(d, open(sys.argv[2], "w"), indent=2)
PY
cp "$T/wrongtok.json" "$T/wrongtok.orig"
c0=$(calls)
t_expect 4 "wrong token: exit 4" "$KQ" ceremony unseal --custody "$T/wrongtok.json" \
	--holders alice,bob,carol "${S[@]}"
t_grep "wrong token: says whose key the token has" 'holder alice: token "kq-bob" has key SHA256:.*not this holder.s token' "$T/err"
[ "$(calls)" = "$c0" ] && t_ok "wrong token: nothing sent to Vault" || t_fail "wrong token: nothing sent to Vault"
same "$T/wrongtok.json" "$T/wrongtok.orig" && t_ok "wrong token: custody file intact" || t_fail "wrong token: custody file intact"

# --- tampered custody file: one flipped byte in bob's sealed share ------
python3 - "$C" "$T/tampered.json" <<'PY'
import base64, json, sys
d = json.load(open(sys.argv[1]))
b = bytearray(base64.b64decode(d["holders"][1]["sealed_share"]))
b[-5] ^= 0x01
d["holders"][1]["sealed_share"] = base64.b64encode(bytes(b)).decode()
json.dump(d, open(sys.argv[2], "w"), indent=2)
PY
cp "$T/tampered.json" "$T/tampered.orig"
c0=$(calls)
t_expect 6 "tampered share: exit 6 (integrity)" "$KQ" ceremony unseal --custody "$T/tampered.json" \
	--holders alice,bob,carol "${S[@]}"
t_grep "tampered share: names bob and his token" 'holder bob, token "kq-bob": the sealed share does not open' "$T/err"
c1=$(calls)
[ "$c1" = $((c0 + 1)) ] && t_ok "tampered share: only alice's share reached Vault, bob's never" ||
	t_fail "tampered share: only alice's share reached Vault, bob's never" "calls $c0 -> $c1"
[ "$(cer_state progress)" = 1 ] && [ "$(cer_state sealed)" = true ] &&
	t_ok "tampered share: Vault sealed at progress 1/3" || t_fail "tampered share: Vault sealed at progress 1/3"
same "$T/tampered.json" "$T/tampered.orig" && t_ok "tampered share: custody file intact" || t_fail "tampered share: custody file intact"

# --- a share from another set ------------------------------------------
vsim_start || t_fail "a second vault-sim starts"
cer_create "$T/other.json" vault-unseal 2 alice bob >/dev/null
"$KQ" ceremony init --custody "$T/other.json" --holders alice,bob "${S[@]}" --yes \
	--root-token-out "$T/root-other" >/dev/null || t_fail "init the other set"
python3 - "$C" "$T/other.json" "$T/mixed.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); o = json.load(open(sys.argv[2]))
for k in ("x", "commitment", "sealed_share"):
    d["holders"][0][k] = o["holders"][0][k]
json.dump(d, open(sys.argv[3], "w"), indent=2)
PY
cp "$T/mixed.json" "$T/mixed.orig"
vsim_stop
. "$T/vsim/env"
"$KQ" ceremony unseal --custody "$C" --holders alice,bob,carol "${S[@]}" >/dev/null 2>&1 # finish the 1/3 left above
vsim_ctl restart >/dev/null
c0=$(calls)
t_expect 6 "share from another set: exit 6" "$KQ" ceremony unseal --custody "$T/mixed.json" \
	--holders alice,bob,carol "${S[@]}"
t_grep "share from another set: names alice, before any PIN" 'holder alice, token "kq-alice": the sealed share belongs to another set' "$T/err"
if ! grep -q 'pin-needed\|PIN for token "kq-alice"' "$T/out"; then t_ok "... no PIN was asked"; else t_fail "... no PIN was asked"; fi
[ "$(calls)" = "$c0" ] && t_ok "share from another set: nothing sent to Vault" || t_fail "share from another set: nothing sent to Vault"
same "$T/mixed.json" "$T/mixed.orig" && t_ok "share from another set: custody file intact" || t_fail "share from another set: custody file intact"

# --- Vault restarted mid-ceremony ---------------------------------------
[ "$(cer_state sealed)" = true ] || t_fail "Vault sealed before the restart case"
f0=$(cer_state faults_fired)
vsim_ctl fault '{"path":"/v1/sys/unseal","delay_ms":1,"count":1}' >/dev/null
vsim_ctl fault '{"path":"/v1/sys/unseal","delay_ms":2500,"count":1}' >/dev/null
"$KQ" ceremony unseal --custody "$C" --holders alice,bob,carol "${S[@]}" >"$T/rs.out" 2>"$T/rs.err" &
pid=$!
# The restart comes while the second share is held by the server.
until_fired $((f0 + 2)) || t_fail "restart: the second share reached Vault"
sleep 0.2
vsim_ctl restart >/dev/null
wait $pid
rc=$?
[ "$rc" = 5 ] && t_ok "restart: exit 5" || t_fail "restart: exit 5" "rc=$rc $(cat "$T/rs.err")"
t_grep "restart: says the progress was lost" 'restarted, resealed or its unseal attempt was reset' "$T/rs.err"
t_grep "restart: says Vault's state now" "Vault's state now: sealed, progress 1/3" "$T/rs.out"
[ "$(cer_state sealed)" = true ] && [ "$(cer_state restarts)" -ge 1 ] && t_ok "restart: Vault sealed, restart seen" || t_fail "restart: Vault sealed, restart seen"
same "$C" "$T/orig" && t_ok "restart: custody file intact" || t_fail "restart: custody file intact"

# --- TLS: a certificate from another CA is refused -----------------------
vsim_start --bad-cert=wrong-ca || t_fail "bad-cert vault-sim starts"
t_expect 5 "TLS mismatch: exit 5" "$KQ" ceremony unseal --custody "$C" --holders alice,bob,carol "${S[@]}"
t_grep "TLS mismatch: says so" 'TLS|certificate' "$T/err"
same "$C" "$T/orig" && t_ok "TLS mismatch: custody file intact" || t_fail "TLS mismatch: custody file intact"
vsim_stop
. "$T/vsim/env"

# --- SIGINT mid-ceremony ----------------------------------------------------
vsim_ctl restart >/dev/null
f0=$(cer_state faults_fired)
vsim_ctl fault '{"path":"/v1/sys/unseal","delay_ms":1500,"count":1}' >/dev/null
c0=$(calls)
"$KQ" ceremony unseal --custody "$C" --holders alice,bob,carol "${S[@]}" >"$T/si.out" 2>"$T/si.err" &
pid=$!
# SIGINT while the first share is held by the server.
until_fired $((f0 + 1)) || t_fail "SIGINT: the first share reached Vault"
sleep 0.2
kill -INT $pid
wait $pid
rc=$?
[ "$rc" != 0 ] && t_ok "SIGINT: exit non-zero ($rc)" || t_fail "SIGINT: exit non-zero"
t_grep "SIGINT: says it was interrupted" 'interrupted' "$T/si.err"
tail -1 "$C.transcript" | grep -q '"outcome":"aborted"' && t_ok "SIGINT: transcript records the abort" ||
	t_fail "SIGINT: transcript records the abort" "$(tail -1 "$C.transcript")"
t_run "SIGINT: transcript chain intact" "$KQ" audit verify "$C.transcript"
c1=$(calls)
[ "$c1" -le $((c0 + 1)) ] && [ "$(cer_state sealed)" = true ] && t_ok "SIGINT: at most the share in flight reached Vault; sealed" ||
	t_fail "SIGINT: at most the share in flight reached Vault; sealed" "calls $c0 -> $c1"
same "$C" "$T/orig" && t_ok "SIGINT: custody file intact" || t_fail "SIGINT: custody file intact"
t_done
