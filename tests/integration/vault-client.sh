#!/usr/bin/env bash
# keyquorum's Vault client (ceremony/vault*.c) against the Vault API test
# server, through tests/tools/vault-probe: seal status, init with the key
# callback, unseal, generate-root (Vault's and OpenBao's variants), decode,
# TLS refusal, and the error mapping for 5xx, dropped connections and
# timeouts.  Each success has its failure twin.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vault-sim/lib.sh"

P=$TOP/$B/tests/tools/vault-probe
if [ ! -x "$P" ]; then
	t_fail "vault-probe is built" "$P missing: make B=$B tests"
	t_done
fi

# probe ARGS...: run the probe, output in $T/out; expect_err checks the code
probe() { "$P" "$@" >"$T/out" 2>"$T/err"; }
expect_err() { # NAME CODE ARGS...
	local name=$1 code=$2
	shift 2
	probe "$@"
	if grep -qx "err=$code" "$T/out"; then
		t_ok "$name"
	else
		t_fail "$name" "wanted err=$code; got: $(tr '\n' ' ' <"$T/out" | head -c 400)"
	fi
}
field() { sed -n "s/^$1=//p" "$T/out"; }
want_field() { # NAME FIELD VALUE
	if [ "$(field "$2")" = "$3" ]; then t_ok "$1"; else
		t_fail "$1" "$2 is '$(field "$2")', wanted '$3'"
	fi
}

# ---- Vault 1.15, Shamir seal -------------------------------------------
vsim_start || {
	t_fail "vault-sim starts"
	t_done
}
K=$T/keys
mkdir -m 700 "$K"

t_run "seal-status of a fresh server" "$P" status
want_field "fresh server is not initialised" initialized 0
want_field "flavor detected as Vault" flavor vault

t_run "init 5 keys, threshold 3, through the key callback" "$P" init 5 3 "$K"
if [ "$(ls "$K"/key.* | wc -l)" = 5 ] && [ "$(stat -c %a "$K/key.0")" = 600 ]; then
	t_ok "each key arrived once, in order"
else
	t_fail "each key arrived once, in order" "$(ls -l "$K")"
fi
# The keys the client got are the server's own: the server's state holds
# no keys, so prove it by unsealing with them below.
leaks=0
for f in "$K"/key.* "$K/root"; do
	grep -qF "$(cat "$f")" "$T/out" "$T/err" && leaks=1
done
[ $leaks = 0 ] && t_ok "no key or token on the probe's output" ||
	t_fail "no key or token on the probe's output"
expect_err "second init is 'already initialised'" KQ_ERR_VAULT_INITIALIZED init 5 3 "$T"

t_run "unseal with key 0" "$P" unseal "$K/key.0"
want_field "progress 1 of 3" progress 1
t_run "the same key again" "$P" unseal "$K/key.0"
want_field "a repeated key is ignored (progress stays 1)" progress 1
t_run "unseal reset" "$P" unseal-reset
want_field "reset clears progress" progress 0
probe unseal "$K/key.1" && probe unseal "$K/key.3" && probe unseal "$K/key.4"
want_field "three keys unseal" sealed 0
want_field "cluster id once unsealed" cluster_id_set 1
expect_err "reset while unsealed is Vault's error" KQ_ERR_VAULT unseal-reset

# A wrong share: Vault only notices at the threshold.
vsim_ctl restart >/dev/null
python3 -c 'import sys; k=bytearray.fromhex(open(sys.argv[1]).read().strip()); k[3]^=1; open(sys.argv[2],"w").write(k.hex())' \
	"$K/key.2" "$T/bad.key"
chmod 600 "$T/bad.key"
probe unseal "$K/key.0" && probe unseal "$K/key.1"
expect_err "a corrupted share is 'key rejected' at the threshold" KQ_ERR_VAULT_KEY_REJECTED unseal "$T/bad.key"
t_run "status after the failed round" "$P" status
want_field "progress reset after the failed round" progress 0
probe unseal "$K/key.0" && probe unseal "$K/key.1" && probe unseal "$K/key.2"
want_field "unsealed again with good keys" sealed 0

# ---- generate-root --------------------------------------------------------
G=$T/gr
mkdir -m 700 "$G"
t_run "generate-root attempt with a server-made OTP" "$P" gr-start "$G"
nonce=$(field nonce)
want_field "OTP length 28 (hvs. tokens)" otp_length 28
[ "$(stat -c %s "$G/otp")" = 28 ] && t_ok "the OTP arrived (28 bytes)" ||
	t_fail "the OTP arrived (28 bytes)"
expect_err "a second attempt is 'in progress'" KQ_ERR_VAULT_IN_PROGRESS gr-start "$T"
expect_err "a wrong nonce is named as such" KQ_ERR_VAULT_NONCE gr-update 00000000-0000-0000-0000-000000000000 "$K/key.0" "$G"
grep -q 'server says' "$T/out" && t_ok "the nonce error is labelled as the server's words" ||
	t_fail "the nonce error is labelled as the server's words" "$(cat "$T/out")"
probe gr-update "$nonce" "$K/key.0" "$G"
want_field "update 1 of 3" progress 1
expect_err "the same key twice is refused" KQ_ERR_VAULT_KEY_REJECTED gr-update "$nonce" "$K/key.0" "$G"
probe gr-update "$nonce" "$K/key.2" "$G"
t_run "update 3 of 3 completes" "$P" gr-update "$nonce" "$K/key.4" "$G"
want_field "complete" complete 1
t_run "decode locally (root_token_decode)" "$P" decode "$G/encoded" "$G/otp" "$G/token"
t_run "decode on the server (sys/decode-token)" "$P" decode-remote "$G/encoded" "$G/otp" "$G/token2"
cmp -s "$G/token" "$G/token2" && t_ok "both decodings agree" || t_fail "both decodings agree"
printf 'X-Vault-Token: %s\n' "$(cat "$G/token")" >"$G/hdr"
if curl -sS --fail --cacert "$VAULT_CACERT" -H "@$G/hdr" "$VAULT_ADDR/v1/auth/token/lookup-self" >/dev/null; then
	t_ok "the decoded root token is valid on the server"
else
	t_fail "the decoded root token is valid on the server"
fi
expect_err "update without an attempt" KQ_ERR_VAULT_NO_ATTEMPT gr-update "$nonce" "$K/key.0" "$G"
mkdir -m 700 "$T/gr2"
t_run "a new attempt" "$P" gr-start "$T/gr2"
t_run "cancel it" "$P" gr-cancel
t_run "status after cancel" "$P" gr-status
want_field "no attempt after cancel" started 0

# ---- faults: 503, 500, dropped connection, timeout, refused ---------------
vsim_ctl fault '{"path":"/v1/sys/seal-status","status":503,"message":"Vault is sealed"}' >/dev/null
expect_err "503 is 'sealed'" KQ_ERR_VAULT_SEALED status
vsim_ctl fault '{"path":"/v1/sys/seal-status","status":500,"message":"internal error"}' >/dev/null
expect_err "500 is a Vault error" KQ_ERR_VAULT status
grep -q 'internal error' "$T/out" && t_ok "the server's message is in the detail" ||
	t_fail "the server's message is in the detail"
vsim_ctl fault '{"path":"/v1/sys/seal-status","drop":true}' >/dev/null
expect_err "a dropped connection is named" KQ_ERR_VAULT_DROPPED status
vsim_ctl fault '{"path":"/v1/sys/unseal","drop":true,"apply":true}' >/dev/null
vsim_ctl restart >/dev/null
expect_err "unseal whose answer is lost: dropped, state unknown" KQ_ERR_VAULT_DROPPED unseal "$K/key.0"
t_run "status tells what happened" "$P" status
want_field "the lost unseal did apply" progress 1
vsim_ctl fault '{"path":"/v1/sys/seal-status","delay_ms":3000}' >/dev/null
start=$(date +%s)
expect_err "a slow server times out" KQ_ERR_VAULT_TIMEOUT --timeout 1 status
[ $(($(date +%s) - start)) -lt 3 ] && t_ok "the timeout is honoured (under 3 s)" ||
	t_fail "the timeout is honoured (under 3 s)"
t_expect 2 "http:// is refused (usage)" "$P" --address "http://127.0.0.1:$VSIM_PORT" status
expect_err "no CA: the test CA is not trusted" KQ_ERR_VAULT_TLS --ca-cert /etc/ssl/certs/ca-certificates.crt status
port=$VSIM_PORT
vsim_stop
expect_err "nothing listening: cannot connect" KQ_ERR_VAULT_CONNECT --address "https://127.0.0.1:$port" status

# ---- TLS: certificates the client must refuse ------------------------------
for mode in wrong-ca wrong-host expired; do
	vsim_start --bad-cert=$mode || t_fail "vault-sim starts with --bad-cert=$mode"
	expect_err "TLS refused: $mode" KQ_ERR_VAULT_TLS status
	vsim_stop
done

# ---- auto-unseal: recovery keys --------------------------------------------
vsim_start --recovery
R=$T/rec
mkdir -m 700 "$R"
t_run "init with recovery keys" "$P" init 3 2 recovery "$R"
t_run "status under auto-unseal" "$P" status
want_field "auto-unseal is unsealed at once" sealed 0
want_field "recovery seal reported" recovery_seal 1
probe gr-start "$R"
nonce=$(field nonce)
probe gr-update "$nonce" "$R/key.0" "$R"
t_run "generate-root with recovery keys" "$P" gr-update "$nonce" "$R/key.2" "$R"
want_field "complete with recovery keys" complete 1
vsim_stop

# ---- OpenBao ----------------------------------------------------------------
vsim_start --openbao --openbao-version 2.6.0
O=$T/bao
mkdir -m 700 "$O"
probe init 3 2 "$O"
probe unseal "$O/key.0" && probe unseal "$O/key.1"
t_run "OpenBao: status" "$P" status
want_field "OpenBao detected from the version" flavor openbao
expect_err "OpenBao without a token: the endpoint is disabled" KQ_ERR_VAULT_DISABLED gr-start "$O"
grep -q 'token' "$T/out" && t_ok "the detail says a token is needed" ||
	t_fail "the detail says a token is needed" "$(cat "$T/out")"
t_run "OpenBao: authenticated generate-root-token attempt" "$P" --token-file "$O/root" gr-start "$O"
nonce=$(field nonce)
want_field "OpenBao OTP length 26 (s. tokens)" otp_length 26
expect_err "OpenBao: wrong nonce (500 multierror) still named" KQ_ERR_VAULT_NONCE --token-file "$O/root" gr-update 00000000-0000-0000-0000-000000000000 "$O/key.0" "$O"
probe --token-file "$O/root" gr-update "$nonce" "$O/key.0" "$O"
t_run "OpenBao: update completes" "$P" --token-file "$O/root" gr-update "$nonce" "$O/key.2" "$O"
want_field "OpenBao: complete" complete 1
t_run "OpenBao: decode locally" "$P" decode "$O/encoded" "$O/otp" "$O/token"
t_run "OpenBao: sys/decode-token" "$P" --token-file "$O/root" decode-remote "$O/encoded" "$O/otp" "$O/token2"
cmp -s "$O/token" "$O/token2" && t_ok "OpenBao: both decodings agree" || t_fail "OpenBao: both decodings agree"
grep -q '^s\.' "$O/token" && t_ok "OpenBao root token has the s. prefix" || t_fail "OpenBao root token has the s. prefix"
expect_err "OpenBao: a bad token is 'permission denied'" KQ_ERR_VAULT_PERMISSION --token-file "$O/key.0" gr-status
vsim_stop

# OpenBao before 2.5.3: the unauthenticated endpoint still works, no token.
vsim_start --openbao --openbao-version 2.4.1
O2=$T/bao2
mkdir -m 700 "$O2"
probe init 3 2 "$O2"
probe unseal "$O2/key.0" && probe unseal "$O2/key.1"
t_run "OpenBao 2.4: unauthenticated generate-root without a token" "$P" gr-start "$O2"
vsim_stop

t_done
