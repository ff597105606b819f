#!/usr/bin/env bash
# keyquorum's Vault client TLS settings (ceremony/vault.c) against the Vault
# API test server, through tests/tools/vault-probe: VAULT_CAPATH (a hashed
# CA directory), the order of --ca-cert / VAULT_CACERT / VAULT_CAPATH (the
# vault CLI's: a CA file, when given, is the only trust), VAULT_NAMESPACE as
# X-Vault-Namespace, mutual TLS (VAULT_CLIENT_CERT + VAULT_CLIENT_KEY),
# https:// only, and SSL_OP_CLEANSE_PLAINTEXT read back from the SSL_CTX
# inside libcurl's callback.  Each success has its failure twin.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vault-sim/lib.sh"

P=$TOP/$B/tests/tools/vault-probe
if [ ! -x "$P" ]; then
	t_fail "vault-probe is built" "$P missing: make B=$B tests"
	t_done
fi

# probe ARGS...: the probe with the current environment; output in $T/out,
# exit status in $rc
probe() {
	"$P" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}
field() { sed -n "s/^$1=//p" "$T/out"; }
out1() { tr '\n' ' ' <"$T/out" | head -c 400; }
# want_ok NAME: the last probe succeeded
want_ok() {
	if [ "$rc" = 0 ] && [ "$(field initialized)" = 0 ]; then t_ok "$1"; else
		t_fail "$1" "exit $rc: $(out1)"
	fi
}
# want_err NAME CODE [MSG-REGEX]: the last probe failed with CODE, exit 5
want_err() {
	if [ "$rc" = 5 ] && [ "$(field err)" = "$2" ] &&
		{ [ -z "${3:-}" ] || grep -Eq "^msg=.*$3" "$T/out"; }; then
		t_ok "$1"
	else
		t_fail "$1" "wanted exit 5, err=$2${3:+, msg ~ /$3/}; got exit $rc: $(out1)"
	fi
}
sim_requests() { vsim_state requests; }
log_lines() { wc -l <"$VSIM_DIR/log"; }

# An unrelated CA, for the directories and files that must not be trusted.
ossl() { openssl "$@" 2>>"$T/openssl.err" >/dev/null; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/other-ca.key" -subj "/CN=vault-sim test CA" -days 2 \
	-addext "basicConstraints=critical,CA:TRUE" -out "$T/other-ca.pem"

# ---- server CA: VAULT_CAPATH and the precedence ---------------------------
vsim_start || {
	t_fail "vault-sim starts"
	t_done
}
GOOD_CA=$VAULT_CACERT
mkdir "$T/capath-good" "$T/capath-bad" "$T/capath-unhashed"
cp "$GOOD_CA" "$T/capath-good/vault-sim.pem"
cp "$GOOD_CA" "$T/capath-unhashed/vault-sim.pem"
cp "$T/other-ca.pem" "$T/capath-bad/other.pem"
if openssl rehash "$T/capath-good" "$T/capath-bad" 2>"$T/err" &&
	compgen -G "$T/capath-good/[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f].0" >/dev/null; then
	t_ok "openssl rehash makes the hash links"
else
	t_fail "openssl rehash makes the hash links" "$(cat "$T/err")"
fi

unset VAULT_CACERT
VAULT_CAPATH=$T/capath-good probe --tls-info status
want_ok "VAULT_CAPATH with the CA (hashed) is trusted"
if [ "$(field tls_ctx_calls)" -ge 1 ] 2>/dev/null && [ "$(field tls_cleanse)" = 1 ]; then
	t_ok "the SSL_CTX callback ran and SSL_OP_CLEANSE_PLAINTEXT is set on the context"
else
	t_fail "the SSL_CTX callback ran and SSL_OP_CLEANSE_PLAINTEXT is set on the context" "$(out1)"
fi
VAULT_CAPATH=$T/capath-bad probe --tls-info status
want_err "VAULT_CAPATH without the CA is refused" KQ_ERR_VAULT_TLS "certificate was refused"
if [ "$(field tls_cleanse)" = 1 ] && [ "$(field tls_ctx_calls)" -ge 1 ] 2>/dev/null; then
	t_ok "the cleanse option is set before the handshake (also when it fails)"
else
	t_fail "the cleanse option is set before the handshake (also when it fails)" "$(out1)"
fi
VAULT_CAPATH=$T/capath-unhashed probe status
want_err "a CA directory without hash links is not searched" KQ_ERR_VAULT_TLS
probe status
want_err "no CA given: the system trust does not know the test CA" KQ_ERR_VAULT_TLS

# The vault CLI: a CA file, when given, is the only trust; VAULT_CAPATH is
# then ignored.  --ca-cert replaces VAULT_CACERT.
VAULT_CACERT=$GOOD_CA VAULT_CAPATH=$T/capath-bad probe status
want_ok "VAULT_CACERT wins over a VAULT_CAPATH without the CA"
VAULT_CACERT=$T/other-ca.pem VAULT_CAPATH=$T/capath-good probe status
want_err "VAULT_CACERT without the CA: VAULT_CAPATH is ignored" KQ_ERR_VAULT_TLS
VAULT_CACERT=$T/other-ca.pem probe --ca-cert "$GOOD_CA" status
want_ok "--ca-cert wins over VAULT_CACERT"
VAULT_CACERT=$GOOD_CA probe --ca-cert "$T/other-ca.pem" status
want_err "--ca-cert without the CA: VAULT_CACERT is ignored" KQ_ERR_VAULT_TLS
export VAULT_CACERT=$GOOD_CA

# ---- VAULT_NAMESPACE -> X-Vault-Namespace ---------------------------------
VAULT_NAMESPACE=admin/team-a probe status
want_ok "status with VAULT_NAMESPACE"
ns=$(vsim_state last_namespace)
if [ "$ns" = admin/team-a ]; then t_ok "VAULT_NAMESPACE reaches the server as X-Vault-Namespace"; else
	t_fail "VAULT_NAMESPACE reaches the server as X-Vault-Namespace" "server saw '$ns'"
fi
probe status
ns=$(vsim_state last_namespace)
if [ -z "$ns" ]; then t_ok "no VAULT_NAMESPACE: no X-Vault-Namespace header"; else
	t_fail "no VAULT_NAMESPACE: no X-Vault-Namespace header" "server saw '$ns'"
fi
n0=$(sim_requests)
VAULT_NAMESPACE=$'admin\r\nX-Evil: 1' probe status
n1=$(sim_requests)
if [ "$rc" = 2 ] && [ "$(field err)" = KQ_ERR_USAGE ] && [ "$n0" = "$n1" ]; then
	t_ok "a namespace with CR/LF is refused before any request"
else
	t_fail "a namespace with CR/LF is refused before any request" "exit $rc, requests $n0 -> $n1: $(out1)"
fi

# ---- https:// only ------------------------------------------------------------
l0=$(log_lines)
probe --address "http://127.0.0.1:$VSIM_PORT" status
sleep 0.1
l1=$(log_lines)
if [ "$rc" = 2 ] && [ "$(field err)" = KQ_ERR_USAGE ] && [ "$l0" = "$l1" ] &&
	grep -q "must be https" "$T/out"; then
	t_ok "an http:// address is refused without a connection"
else
	t_fail "an http:// address is refused without a connection" "exit $rc, server log $l0 -> $l1 lines: $(out1)"
fi
VAULT_ADDR=HTTP://127.0.0.1:$VSIM_PORT probe status
if [ "$rc" = 2 ] && [ "$(field err)" = KQ_ERR_USAGE ]; then t_ok "HTTP:// (any case) is refused too"; else
	t_fail "HTTP:// (any case) is refused too" "exit $rc: $(out1)"
fi
vsim_stop

# ---- mutual TLS ---------------------------------------------------------------
vsim_start --client-cert=required || {
	t_fail "vault-sim starts with --client-cert=required"
	t_done
}
VAULT_CLIENT_CERT=$VSIM_CLIENT_CERT VAULT_CLIENT_KEY=$VSIM_CLIENT_KEY probe --tls-info status
want_ok "mutual TLS: VAULT_CLIENT_CERT + VAULT_CLIENT_KEY accepted"
if [ "$(field tls_cleanse)" = 1 ]; then t_ok "cleanse option set with a client certificate too"; else
	t_fail "cleanse option set with a client certificate too" "$(out1)"
fi
cn=$(vsim_state last_client_cn)
if [ "$(vsim_state last_client_cert)" = true ] && [ "$cn" = "vault-sim client" ]; then
	t_ok "the server saw the client certificate (CN vault-sim client)"
else
	t_fail "the server saw the client certificate (CN vault-sim client)" "cn '$cn'"
fi

n0=$(sim_requests)
probe status
want_err "mutual TLS: no client certificate is refused" KQ_ERR_VAULT_TLS_REFUSED "refused the TLS connection"
if grep -q "certificate required" "$T/out"; then t_ok "the detail names the server's alert"; else
	t_fail "the detail names the server's alert" "$(out1)"
fi
VAULT_CLIENT_CERT=$VSIM_ROGUE_CERT VAULT_CLIENT_KEY=$VSIM_ROGUE_KEY probe status
want_err "mutual TLS: a certificate from another CA is refused" KQ_ERR_VAULT_TLS_REFUSED
n1=$(sim_requests)
if [ "$n0" = "$n1" ]; then t_ok "no refused client reached the API"; else
	t_fail "no refused client reached the API" "requests $n0 -> $n1"
fi
if grep -q "PEER_DID_NOT_RETURN_A_CERTIFICATE" "$VSIM_DIR/log" &&
	grep -q "CERTIFICATE_VERIFY_FAILED" "$VSIM_DIR/log"; then
	t_ok "the server refused both in the handshake"
else
	t_fail "the server refused both in the handshake" "$(tail -5 "$VSIM_DIR/log")"
fi
VAULT_CLIENT_CERT=$VSIM_CLIENT_CERT VAULT_CLIENT_KEY=$VSIM_ROGUE_KEY probe status
want_err "a client key that does not fit the certificate is a local TLS error" KQ_ERR_VAULT_TLS
vsim_stop

vsim_start --client-cert=optional || {
	t_fail "vault-sim starts with --client-cert=optional"
	t_done
}
probe status
want_ok "optional client certificate: a client without one is served"
if [ "$(vsim_state last_client_cert)" = false ]; then t_ok "the server records that none was presented"; else
	t_fail "the server records that none was presented" "$(vsim_state last_requests)"
fi
VAULT_CLIENT_CERT=$VSIM_ROGUE_CERT VAULT_CLIENT_KEY=$VSIM_ROGUE_KEY probe status
want_err "optional: a presented certificate from another CA is still refused" KQ_ERR_VAULT_TLS_REFUSED

t_done
