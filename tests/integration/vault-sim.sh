#!/usr/bin/env bash
# The Vault API test server (tests/vault-sim) against VAULT_API.md, driven
# with curl: its Shamir self-test, init, unseal, generate-root, seal,
# recovery (auto-unseal) mode, OpenBao modes, fault knobs, bad certificates,
# restart, and a log that never holds a secret.  Success/failure in pairs.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vault-sim/lib.sh"

PY=/usr/bin/python3
if ! command -v curl >/dev/null || [ ! -x $PY ]; then
	t_fail "curl and /usr/bin/python3 present" "tests/deps installs curl and python3"
	t_done
fi

# api METHOD PATH [JSON]: body to $T/body, prints the HTTP status.  The JSON
# goes through stdin, the token through a header file ($TOKFILE), so no key
# or token is on a command line.
api() {
	local args=(-sS --max-time 10 --cacert "$VAULT_CACERT" -o "$T/body" -w '%{http_code}' -X "$1")
	[ -n "${TOKFILE:-}" ] && args+=(-H "@$TOKFILE")
	if [ $# -ge 3 ]; then
		printf '%s' "$3" | curl "${args[@]}" -H 'Content-Type: application/json' \
			--data-binary @- "$VAULT_ADDR$2" 2>"$T/curl.err"
	else
		curl "${args[@]}" "$VAULT_ADDR$2" 2>"$T/curl.err"
	fi
}

# jf FIELD [FILE]: a dotted path into a JSON document (list items by index).
jf() {
	$PY -c '
import json, sys
v = json.load(open(sys.argv[2]))
for p in sys.argv[1].split("."):
    if p == "":
        continue
    if isinstance(v, list):
        v = v[int(p)] if int(p) < len(v) else None
    elif isinstance(v, dict):
        v = v.get(p)
    else:
        v = None
if v is True or v is False:
    print("true" if v else "false")
elif v is None:
    print("<none>")
elif isinstance(v, str):
    print(v)
else:
    print(json.dumps(v))' "$1" "${2:-$T/body}"
}

# check NAME WANT GOT [FIELD=VALUE | FIELD~=SUBSTRING | FIELD/=REGEX ...]
# (one python run checks every field of $T/body)
check() {
	local name=$1 want=$2 got=$3 why
	shift 3
	if [ "$got" != "$want" ]; then
		t_fail "$name" "HTTP $got, wanted $want: $(head -c 300 "$T/body") $(head -c 200 "$T/curl.err")"
		return
	fi
	if [ $# -gt 0 ]; then
		why=$($PY -c '
import json, re, sys
try:
    doc = json.load(open(sys.argv[1]))
except ValueError:
    doc = None
def get(path):
    v = doc
    for p in path.split("."):
        if isinstance(v, list):
            v = v[int(p)] if int(p) < len(v) else None
        elif isinstance(v, dict):
            v = v.get(p)
        else:
            v = None
    if v is True or v is False:
        return "true" if v else "false"
    if v is None:
        return "<none>"
    return v if isinstance(v, str) else json.dumps(v)
for spec in sys.argv[2:]:
    for op in ("~=", "/=", "="):
        if op in spec:
            f, want = spec.split(op, 1)
            break
    a = get(f)
    ok = (want in a) if op == "~=" else (re.search(want, a) is not None) if op == "/=" else a == want
    if not ok:
        print("%s is %r, wanted %s %r" % (f, a, op, want))
        break' "$T/body" "$@")
		if [ -n "$why" ]; then
			t_fail "$name" "$why"
			return
		fi
	fi
	t_ok "$name"
}

# Secrets seen, to prove later that no log holds one.
: >"$T/secrets"
remember() { printf '%s\n' "$@" >>"$T/secrets"; }
settoken() {
	printf 'X-Vault-Token: %s\n' "$1" >"$T/tok.hdr"
	TOKFILE=$T/tok.hdr
}
notoken() { TOKFILE=; }
# decode_otp: encoded token and OTP on stdin (two lines) -> token
decode_otp() {
	$PY -c '
import base64, sys
enc, otp = sys.stdin.read().split("\n")[:2]
if "=" in enc: sys.exit("padded")
raw = base64.b64decode(enc + "=" * (-len(enc) % 4))
if len(raw) != len(otp): sys.exit("length")
tok = bytes(a ^ b for a, b in zip(raw, otp.encode()))
print(tok.decode() if all(32 < c < 127 for c in tok) else "<binary>")'
}
# flip the first byte of a hex share (same x: a wrong share of the same holder)
forge() { printf '%02x%s' $((0x${1:0:2} ^ 0x5a)) "${1:2}"; }
now_ms() { date +%s%3N; }
# state_is NAME FIELD WANT: a field of GET /_sim/state
state_is() {
	local a
	a=$(vsim_state "$2")
	if [ "$a" = "$3" ]; then t_ok "$1"; else t_fail "$1" "state $2 is '$a', wanted '$3'"; fi
}
TOKFILE=

# --- Shamir, key decoding and root-token encoding against the shared vectors
t_run "own Shamir and token encoding pass the self-test on the shared vectors" \
	$PY "$TOP/tests/vault-sim/vault_sim.py" --self-test

# --- start-up -------------------------------------------------------------------
t0=$(now_ms)
vsim_start
t1=$(now_ms)
# No time limit is asserted (no timing in tests); the figure is printed.
if [ -s "$VSIM_DIR/env" ]; then
	t_ok "starts and writes its env (took $((t1 - t0)) ms)"
else
	t_fail "starts and writes its env" "$((t1 - t0)) ms"
fi
t_grep "env names the address, CA, pid and directory" \
	"^export VAULT_ADDR=https://127\.0\.0\.1:[0-9]+$" "$VSIM_DIR/env"
t_expect 60 "the test CA is needed: curl without it refuses the server" \
	curl -sS --max-time 5 -o /dev/null "$VAULT_ADDR/v1/sys/seal-status"
t_run "with VAULT_CACERT curl verifies the server for 127.0.0.1" \
	curl -sS --max-time 5 --fail --cacert "$VAULT_CACERT" -o /dev/null "$VAULT_ADDR/v1/sys/seal-status"
t_run "and for localhost" \
	curl -sS --max-time 5 --fail --cacert "$VAULT_CACERT" -o /dev/null "https://localhost:$VSIM_PORT/v1/sys/seal-status"

# --- uninitialised --------------------------------------------------------------
s=$(api GET /v1/sys/seal-status)
check "uninitialised: seal-status initialized false, sealed true, t/n 0" 200 "$s" \
	initialized=false sealed=true t=0 n=0 type=shamir version=1.15.6
s=$(api GET /v1/sys/init)
check "GET sys/init: initialized false" 200 "$s" initialized=false
s=$(api PUT /v1/sys/unseal "{\"key\":\"$(openssl rand -hex 33)\"}")
check "unseal before init: 400 Vault is not initialized" 400 "$s" "errors.0=Vault is not initialized"
s=$(api GET /v1/sys/generate-root/attempt)
check "generate-root before init: 400 server is not yet initialized" 400 "$s" \
	"errors.0=server is not yet initialized"
s=$(api PUT /v1/sys/init '{"secret_shares":2,"secret_threshold":3}')
check "init refuses threshold > shares" 400 "$s" "errors.0~=threshold cannot be larger than shares"
s=$(api PUT /v1/sys/init '{"secret_shares":3,"secret_threshold":1}')
check "init refuses threshold 1 with several shares" 400 "$s" \
	"errors.0~=threshold must be greater than one for multiple shares"
s=$(api PUT /v1/sys/init '{"recovery_shares":3,"recovery_threshold":2}')
check "init refuses recovery parameters without auto-unseal" 400 "$s" \
	"errors.0=parameters specific to auto unseal seals present"

# --- init 3-of-5 ----------------------------------------------------------------
s=$(api PUT /v1/sys/init '{"secret_shares":5,"secret_threshold":3}')
cp "$T/body" "$T/init.json"
check "init 3-of-5: 5 hex keys of 33 bytes, padded base64, hvs. root token" 200 "$s" \
	"keys.0/=^[0-9a-f]{66}$" "keys.4/=^[0-9a-f]{66}$" "keys.5=<none>" \
	"keys_base64.0/=^[A-Za-z0-9+/]{43}[A-Za-z0-9+/=]$" "root_token/=^hvs\.[A-Za-z0-9]{24}$" \
	"recovery_keys=<none>"
K=() B=()
for i in 0 1 2 3 4; do
	K[i]=$(jf "keys.$i" "$T/init.json")
	B[i]=$(jf "keys_base64.$i" "$T/init.json")
	remember "${K[i]}" "${B[i]}"
done
ROOT=$(jf root_token "$T/init.json")
remember "$ROOT"
same=1
for i in 0 1 2 3 4; do
	[ "$($PY -c 'import base64,sys; print(base64.b64decode(sys.stdin.read()).hex())' <<<"${B[i]}")" = "${K[i]}" ] || same=0
done
xs=$(for i in 0 1 2 3 4; do echo "${K[i]:64:2}"; done | sort -u | wc -l)
if [ $same = 1 ] && [ "$xs" = 5 ]; then
	t_ok "keys and keys_base64 are the same shares; x-coordinates (last byte) distinct"
else
	t_fail "keys and keys_base64 are the same shares; x-coordinates distinct" "same=$same distinct x=$xs"
fi
s=$(api PUT /v1/sys/init '{"secret_shares":5,"secret_threshold":3}')
check "init again: 400 Vault is already initialized" 400 "$s" "errors.0=Vault is already initialized"
s=$(api GET /v1/sys/seal-status)
check "after init: sealed, t 3, n 5, progress 0" 200 "$s" initialized=true sealed=true t=3 n=5 progress=0 nonce=

# --- sealed ---------------------------------------------------------------------
s=$(api GET /v1/secret/data/x)
check "sealed: other endpoints answer 503 Vault is sealed" 503 "$s" "errors.0=Vault is sealed"
s=$(api GET /v1/sys/generate-root/attempt)
check "sealed: generate-root answers 503" 503 "$s" "errors.0=Vault is sealed"
s=$(api GET /v1/sys/health)
check "sealed: sys/health 503 with sealed true" 503 "$s" sealed=true initialized=true

# --- unseal progress, duplicate, reset -----------------------------------------
calls0=$(vsim_state unseal_calls)
s=$(api PUT /v1/sys/unseal "{\"key\":\"${K[0]}\"}")
check "unseal share 1 (hex): progress 1/3 with a nonce" 200 "$s" sealed=true progress=1 t=3 \
	"nonce/=^[0-9a-f-]{36}$"
nonce1=$(jf nonce)
s=$(api PUT /v1/sys/unseal "{\"key\":\"${B[0]}\"}")
check "the same share again (base64) is silently ignored: progress stays 1" 200 "$s" progress=1 \
	"nonce=$nonce1"
state_is "the control state counts both unseal calls" unseal_calls $((calls0 + 2))
s=$(api PUT /v1/sys/unseal '{"reset":true}')
check "reset: progress 0, nonce cleared" 200 "$s" progress=0 nonce= sealed=true
s=$(api PUT /v1/sys/unseal '{"key":"zz"}')
check "key neither hex nor base64: 400" 400 "$s" "errors.0='key' must be a valid hex or base64 string"
s=$(api PUT /v1/sys/unseal "{\"key\":\"$($PY -c 'import base64,sys; print(base64.b64encode(bytes.fromhex(sys.argv[1])).decode().rstrip("="))' "$(openssl rand -hex 32)")\"}")
check "RawStd (unpadded) base64 key: 400" 400 "$s" "errors.0='key' must be a valid hex or base64 string"
s=$(api PUT /v1/sys/unseal "{\"key\":\"$(openssl rand -hex 8)\"}")
check "16 hex chars are 8 bytes, read as base64 (12 bytes): too short" 400 "$s" \
	"errors.0=invalid key: key is shorter than minimum 16 bytes"
s=$(api PUT /v1/sys/unseal "{\"key\":\"$(openssl rand -base64 40 | tr -d '\n')\"}")
check "a 40-byte key: too long" 400 "$s" "errors.0=invalid key: key is longer than maximum 33 bytes"
s=$(api PUT /v1/sys/unseal '{}')
check "no key and no reset: 400" 400 "$s" \
	"errors.0='key' must be specified in request body as JSON, or 'reset' set to true"
s=$(api GET /v1/sys/seal-status)
check "rejected keys made no progress" 200 "$s" progress=0 sealed=true

# --- a wrong share: threshold reached, authentication fails, progress resets ---
BAD=$(forge "${K[2]}")
remember "$BAD"
api PUT /v1/sys/unseal "{\"key\":\"${K[0]}\"}" >/dev/null
api PUT /v1/sys/unseal "{\"key\":\"${B[1]}\"}" >/dev/null
s=$(api PUT /v1/sys/unseal "{\"key\":\"$BAD\"}")
check "a wrong third share: 400 cipher: message authentication failed" 400 "$s" \
	"errors.0~=cipher: message authentication failed"
s=$(api GET /v1/sys/seal-status)
check "after the failed combine: progress reset, still sealed" 200 "$s" progress=0 sealed=true nonce=
api PUT /v1/sys/unseal "{\"key\":\"${K[0]}\"}" >/dev/null
api PUT /v1/sys/unseal "{\"key\":\"$BAD\"}" >/dev/null
s=$(api PUT /v1/sys/unseal "{\"key\":\"${K[2]}\"}")
check "two shares with the same x: 400 duplicate part detected" 400 "$s" \
	"errors.0=invalid key: failed to compute combined key: duplicate part detected"
if vsim_state unseal_keys | grep -qxF "$BAD"; then
	t_ok "the control state lists the keys submitted (the forged one included)"
else
	t_fail "the control state lists the keys submitted"
fi
api PUT /v1/sys/unseal "{\"key\":\"${K[3]}\"}" >/dev/null
api PUT /v1/sys/unseal "{\"key\":\"${B[1]}\"}" >/dev/null
s=$(api PUT /v1/sys/unseal "{\"key\":\"${K[4]}\"}")
check "three good shares (any three, mixed encodings): unsealed" 200 "$s" sealed=false progress=0 \
	"cluster_id/=^[0-9a-f-]{36}$"
s=$(api PUT /v1/sys/unseal "{\"key\":\"${K[0]}\"}")
check "unseal while unsealed: 200, no error" 200 "$s" sealed=false
s=$(api PUT /v1/sys/unseal '{"reset":true}')
check "reset while unsealed: 400 vault is unsealed" 400 "$s" "errors.0=vault is unsealed"
s=$(api GET /v1/sys/health)
check "unsealed: sys/health 200" 200 "$s" sealed=false

# --- generate-root ----------------------------------------------------------------
s=$(api GET /v1/sys/generate-root/attempt)
check "generate-root GET, no attempt: started false, required 3, otp_length 28" 200 "$s" \
	started=false required=3 otp_length=28 nonce= progress=0
s=$(api PUT /v1/sys/generate-root/update "{\"key\":\"${K[0]}\",\"nonce\":\"x\"}")
check "update with no attempt: 400 no root generation in progress" 400 "$s" \
	"errors.0=no root generation in progress"
s=$(api PUT /v1/sys/generate-root/attempt '{"otp":"tooShort"}')
check "attempt with a client OTP of the wrong length: 400" 400 "$s" "errors.0=OTP string is wrong length"
s=$(api PUT /v1/sys/generate-root/attempt '{}')
check "attempt {}: server-made OTP of 28 base62 characters, a nonce" 200 "$s" started=true \
	"otp/=^[A-Za-z0-9]{28}$" otp_length=28 "nonce/=^[0-9a-f-]{36}$" required=3 progress=0
OTP=$(jf otp)
NONCE=$(jf nonce)
remember "$OTP"
s=$(api GET /v1/sys/generate-root/attempt)
check "the OTP is returned once: GET shows otp empty, same nonce" 200 "$s" otp= started=true "nonce=$NONCE"
s=$(api PUT /v1/sys/generate-root/attempt '{}')
check "a second attempt: 400 root generation already in progress" 400 "$s" \
	"errors.0=root generation already in progress"
s=$(api PUT /v1/sys/generate-root/update "{\"key\":\"${K[0]}\",\"nonce\":\"00000000-0000-0000-0000-000000000000\"}")
check "update with a wrong nonce: 400 naming the real nonce" 400 "$s" \
	"errors.0~=incorrect nonce supplied" "errors.0~=$NONCE"
s=$(api PUT /v1/sys/generate-root/update "{\"key\":\"${K[0]}\",\"nonce\":\"$NONCE\"}")
check "update share 1: progress 1, not complete, otp_length empty" 200 "$s" progress=1 required=3 \
	complete=false encoded_token= otp_length=0 "nonce=$NONCE"
s=$(api PUT /v1/sys/generate-root/update "{\"key\":\"${B[0]}\",\"nonce\":\"$NONCE\"}")
check "the same share twice: 400 (unlike unseal)" 400 "$s" \
	"errors.0=given key has already been provided during this generation operation"
api PUT /v1/sys/generate-root/update "{\"key\":\"${K[1]}\",\"nonce\":\"$NONCE\"}" >/dev/null
s=$(api PUT /v1/sys/generate-root/update "{\"key\":\"$BAD\",\"nonce\":\"$NONCE\"}")
check "a wrong share at the threshold: 400 root generation aborted" 400 "$s" \
	"errors.0~=root generation aborted: "
s=$(api GET /v1/sys/generate-root/attempt)
check "after the abort: progress 0, the attempt and its nonce stay" 200 "$s" progress=0 started=true \
	"nonce=$NONCE"
for k in "${K[3]}" "${B[4]}"; do
	api PUT /v1/sys/generate-root/update "{\"key\":\"$k\",\"nonce\":\"$NONCE\"}" >/dev/null
done
s=$(api PUT /v1/sys/generate-root/update "{\"key\":\"${K[1]}\",\"nonce\":\"$NONCE\"}")
check "three good shares: complete, encoded_token (RawStd) = encoded_root_token" 200 "$s" \
	complete=true progress=3 "encoded_token/=^[A-Za-z0-9+/]{38}$"
ENC=$(jf encoded_token)
if [ "$(jf encoded_root_token)" = "$ENC" ]; then t_ok "encoded_root_token equals encoded_token"; else
	t_fail "encoded_root_token equals encoded_token"; fi
NEWTOK=$(printf '%s\n%s\n' "$ENC" "$OTP" | decode_otp)
remember "$NEWTOK"
if [[ $NEWTOK =~ ^hvs\.[A-Za-z0-9]{24}$ ]] && [ "$NEWTOK" != "$ROOT" ]; then
	t_ok "encoded token XOR OTP is a new hvs. root token"
else
	t_fail "encoded token XOR OTP is a new hvs. root token" "got ${#NEWTOK} characters"
fi
WRONGOTP=$($PY -c 'import secrets,string; a=string.ascii_letters+string.digits; print("".join(secrets.choice(a) for _ in range(28)))')
wrongtok=$(printf '%s\n%s\n' "$ENC" "$WRONGOTP" | decode_otp)
if [ -n "$wrongtok" ] && [ "$wrongtok" != "$NEWTOK" ]; then
	t_ok "with another OTP the same encoded token decodes to garbage"
else
	t_fail "with another OTP the same encoded token decodes to garbage"
fi
s=$(api PUT /v1/sys/decode-token "{\"encoded_token\":\"$ENC\",\"otp\":\"$OTP\"}")
check "sys/decode-token gives the same token" 200 "$s" "data.token=$NEWTOK"
s=$(api GET /v1/sys/generate-root/attempt)
check "after completion no attempt is running" 200 "$s" started=false
settoken "$NEWTOK"
s=$(api GET /v1/auth/token/lookup-self)
check "the new root token is valid for X-Vault-Token" 200 "$s" "data.policies.0=root"
settoken "hvs.$($PY -c 'print("A"*24)')"
s=$(api GET /v1/auth/token/lookup-self)
check "a made-up token is refused: 403" 403 "$s" "errors.0=permission denied"
notoken
s=$(api PUT /v1/sys/generate-root/attempt '{}')
check "cancel: start an attempt" 200 "$s" started=true
remember "$(jf otp)"
s=$(api DELETE /v1/sys/generate-root/attempt)
check "DELETE attempt: 204" 204 "$s"
s=$(api GET /v1/sys/generate-root/attempt)
check "after cancel: started false" 200 "$s" started=false progress=0
s=$(api PUT /v1/sys/generate-root/update "{\"key\":\"${K[0]}\",\"nonce\":\"$NONCE\"}")
check "update after cancel: 400 no root generation in progress" 400 "$s" \
	"errors.0=no root generation in progress"
state_is "the control state counts the attempts (1 completed, 1 cancelled)" generate_root_attempts 2

# --- seal --------------------------------------------------------------------------
s=$(api PUT /v1/sys/seal)
check "seal without a token: 403" 403 "$s" "errors.0=permission denied"
settoken "$NEWTOK"
s=$(api PUT /v1/sys/seal)
check "seal with the generated root token: 204" 204 "$s"
notoken
s=$(api GET /v1/sys/seal-status)
check "sealed again" 200 "$s" sealed=true progress=0

# --- restart ---------------------------------------------------------------------
api PUT /v1/sys/unseal "{\"key\":\"${K[0]}\"}" >/dev/null
s=$(api PUT /v1/sys/unseal "{\"key\":\"${K[1]}\"}")
check "restart: progress 2 before" 200 "$s" progress=2
vsim_ctl restart >/dev/null
s=$(api GET /v1/sys/seal-status)
check "after /_sim/restart: sealed, progress 0, still initialised" 200 "$s" sealed=true progress=0 \
	initialized=true t=3
for i in 2 3; do api PUT /v1/sys/unseal "{\"key\":\"${K[i]}\"}" >/dev/null; done
s=$(api PUT /v1/sys/unseal "{\"key\":\"${K[4]}\"}")
check "after restart the same keys unseal (stored key kept)" 200 "$s" sealed=false
api PUT /v1/sys/generate-root/attempt '{}' >/dev/null
remember "$(jf otp)"
vsim_ctl restart >/dev/null
for i in 0 1 2; do api PUT /v1/sys/unseal "{\"key\":\"${K[i]}\"}" >/dev/null; done
s=$(api GET /v1/sys/generate-root/attempt)
check "a restart drops a running generate-root attempt" 200 "$s" started=false
state_is "the control state counts restarts" restarts 2

# --- faults ---------------------------------------------------------------------------
vsim_ctl restart >/dev/null
vsim_ctl reset-counters >/dev/null
vsim_ctl fault '{"status":503,"count":2,"path":"/v1/sys/unseal"}' >/dev/null
s1=$(api PUT /v1/sys/unseal "{\"key\":\"${K[0]}\"}")
s2=$(api PUT /v1/sys/unseal "{\"key\":\"${K[0]}\"}")
s3=$(api PUT /v1/sys/unseal "{\"key\":\"${K[0]}\"}")
if [ "$s1 $s2 $s3" = "503 503 200" ] && [ "$(vsim_state unseal_calls)" = 1 ] && [ "$(vsim_state progress)" = 1 ]; then
	t_ok "fault 503 x2 on unseal: two 503s never reach the unseal logic, the third counts"
else
	t_fail "fault 503 x2 on unseal" "statuses $s1 $s2 $s3, calls $(vsim_state unseal_calls)"
fi
vsim_ctl fault '{"status":500}' >/dev/null
s1=$(api GET /v1/sys/seal-status)
s2=$(api GET /v1/sys/seal-status)
if [ "$s1 $s2" = "500 200" ]; then t_ok "fault 500 (any path, once), then normal"; else
	t_fail "fault 500 (any path, once), then normal" "$s1 $s2"; fi
vsim_ctl fault '{"delay_ms":800,"path":"/v1/sys/seal-status"}' >/dev/null
a=$(now_ms)
s=$(api GET /v1/sys/seal-status)
b=$(now_ms)
s2=$(api GET /v1/sys/seal-status)
c=$(now_ms)
# The delay is a lower bound the server guarantees; the next answer is only
# checked for success (its time is printed, not asserted).
if [ "$s" = 200 ] && [ $((b - a)) -ge 800 ] && [ "$s2" = 200 ]; then
	t_ok "fault delay 800 ms: one delayed answer ($((b - a)) ms), the next not delayed ($((c - b)) ms)"
else
	t_fail "fault delay 800 ms" "status $s, $((b - a)) ms then $((c - b)) ms"
fi
vsim_ctl fault '{"delay_ms":3000}' >/dev/null
t_expect 28 "a client timeout shorter than the delay fails (curl 28)" \
	curl -sS --max-time 1 --cacert "$VAULT_CACERT" -o /dev/null "$VAULT_ADDR/v1/sys/seal-status"
vsim_ctl fault '{"drop":true,"path":"/v1/sys/unseal"}' >/dev/null
api PUT /v1/sys/unseal "{\"key\":\"${K[1]}\"}" >/dev/null
rc=$?
if [ -s "$T/curl.err" ] && [ "$(vsim_state progress)" = 1 ] && [ "$(vsim_state unseal_calls)" = 1 ]; then
	t_ok "fault drop: connection closed without an answer, the share not applied"
else
	t_fail "fault drop" "rc $rc, curl said '$(cat "$T/curl.err")', progress $(vsim_state progress)"
fi
vsim_ctl fault '{"drop":true,"apply":true,"path":"/v1/sys/unseal"}' >/dev/null
api PUT /v1/sys/unseal "{\"key\":\"${K[1]}\"}" >/dev/null
if [ -s "$T/curl.err" ] && [ "$(vsim_state progress)" = 2 ]; then
	t_ok "fault drop+apply: the share is applied but the answer is lost"
else
	t_fail "fault drop+apply" "progress $(vsim_state progress)"
fi
vsim_ctl fault '{"status":503,"count":-1,"path":"/v1/sys/*"}' >/dev/null
s1=$(api GET /v1/sys/seal-status)
s2=$(api GET /v1/sys/health)
vsim_ctl fault '{"clear":true}' >/dev/null
s3=$(api GET /v1/sys/seal-status)
if [ "$s1 $s2 $s3" = "503 503 200" ]; then t_ok "a permanent prefix fault until cleared"; else
	t_fail "a permanent prefix fault until cleared" "$s1 $s2 $s3"; fi
head -c 1100000 /dev/zero | tr '\0' a >"$T/big"
# No "Expect: 100-continue": curl would report the interim 100 as the status.
s=$(curl -sS -H 'Expect:' -o "$T/body" -w '%{http_code}' --cacert "$VAULT_CACERT" -X PUT --data-binary @"$T/big" "$VAULT_ADDR/v1/sys/unseal")
check "a body over 1 MiB: 413" 413 "$s" "errors.0=http: request body too large"
s=$(printf '{"reset":true}' | curl -sS -o "$T/body" -w '%{http_code}' --cacert "$VAULT_CACERT" -X PUT \
	-H 'Transfer-Encoding: chunked' --data-binary @- "$VAULT_ADDR/v1/sys/unseal")
check "a chunked request body is read" 200 "$s" progress=0
s=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$VAULT_CACERT" -X POST --data '{"status":"x"}' "$VAULT_ADDR/_sim/fault")
if [ "$s" = 400 ]; then t_ok "the control endpoint refuses a malformed fault"; else
	t_fail "the control endpoint refuses a malformed fault" "HTTP $s"; fi
vsim_stop

# --- a fault set at start, and certificates the client must refuse ----------------
vsim_start --fault '{"status":503,"count":1}'
s1=$(api GET /v1/sys/seal-status)
s2=$(api GET /v1/sys/seal-status)
if [ "$s1 $s2" = "503 200" ]; then t_ok "--fault at start applies to the first request"; else
	t_fail "--fault at start applies to the first request" "$s1 $s2"; fi
vsim_stop
for mode in wrong-ca wrong-host expired; do
	vsim_start --bad-cert=$mode
	t_expect 60 "bad certificate ($mode): curl with the test CA refuses it" \
		curl -sS --max-time 5 --cacert "$VAULT_CACERT" -o /dev/null "$VAULT_ADDR/v1/sys/seal-status"
	t_run "bad certificate ($mode): the server itself answers (curl -k)" \
		curl -sS --max-time 5 -k --fail -o /dev/null "$VAULT_ADDR/v1/sys/seal-status"
	state_is "bad certificate ($mode): the control helpers still reach it (key pin)" mode vault
	t_grep "bad certificate ($mode): the server logs the refused handshake" \
		'TLS (handshake failed|error|connection closed before any request)' "$VSIM_DIR/log"
	vsim_stop
done

# --- 1-of-1: the raw key -------------------------------------------------------------
vsim_start
s=$(api PUT /v1/sys/init '{"secret_shares":1,"secret_threshold":1}')
check "init 1-of-1 returns the raw 32-byte key" 200 "$s" "keys.0/=^[0-9a-f]{64}$"
K1=$(jf keys.0)
remember "$K1" "$(jf keys_base64.0)" "$(jf root_token)"
s=$(api PUT /v1/sys/unseal "{\"key\":\"$(openssl rand -hex 32)\"}")
check "1-of-1: a wrong key fails at once" 400 "$s" "errors.0~=message authentication failed"
s=$(api PUT /v1/sys/unseal "{\"key\":\"$K1\"}")
check "1-of-1: the key unseals" 200 "$s" sealed=false t=1 n=1
vsim_stop

# --- recovery mode (auto-unseal) -------------------------------------------------------
vsim_start --recovery
s=$(api PUT /v1/sys/init '{"secret_shares":5,"secret_threshold":3}')
check "recovery mode refuses secret_shares" 400 "$s" \
	"errors.0=parameters not specific to auto unseal seals present"
s=$(api PUT /v1/sys/init '{"recovery_shares":4,"recovery_threshold":2}')
cp "$T/body" "$T/rinit.json"
check "recovery init: no unseal keys, 4 recovery keys" 200 "$s" keys=[] "recovery_keys.3/=^[0-9a-f]{66}$" \
	"recovery_keys_base64.0/=^[A-Za-z0-9+/]{43}[A-Za-z0-9+/=]$"
R=()
for i in 0 1 2 3; do
	R[i]=$(jf "recovery_keys.$i" "$T/rinit.json")
	remember "${R[i]}" "$(jf "recovery_keys_base64.$i" "$T/rinit.json")"
done
RROOT=$(jf root_token "$T/rinit.json")
remember "$RROOT"
s=$(api GET /v1/sys/seal-status)
check "recovery: unsealed right after init, recovery_seal true, t/n of the recovery keys" 200 "$s" \
	sealed=false recovery_seal=true t=2 n=4 type=pkcs11
s=$(api PUT /v1/sys/generate-root/attempt '{}')
ROTP=$(jf otp) RNONCE=$(jf nonce)
remember "$ROTP"
check "recovery: generate-root requires the recovery threshold" 200 "$s" required=2
api PUT /v1/sys/generate-root/update "{\"key\":\"${R[0]}\",\"nonce\":\"$RNONCE\"}" >/dev/null
s=$(api PUT /v1/sys/generate-root/update "{\"key\":\"$(forge "${R[1]}")\",\"nonce\":\"$RNONCE\"}")
remember "$(forge "${R[1]}")"
check "recovery: a wrong recovery share aborts" 400 "$s" "errors.0~=root generation aborted"
api PUT /v1/sys/generate-root/update "{\"key\":\"${R[2]}\",\"nonce\":\"$RNONCE\"}" >/dev/null
s=$(api PUT /v1/sys/generate-root/update "{\"key\":\"${R[3]}\",\"nonce\":\"$RNONCE\"}")
check "recovery: two recovery keys complete generate-root" 200 "$s" complete=true
RTOK=$(printf '%s\n%s\n' "$(jf encoded_token)" "$ROTP" | decode_otp)
remember "$RTOK"
settoken "$RTOK"
s=$(api PUT /v1/sys/seal)
check "recovery: the generated token seals" 204 "$s"
notoken
s=$(api PUT /v1/sys/unseal "{\"key\":\"${R[0]}\"}")
check "recovery: a recovery key without migrate does not unseal" 400 "$s" "errors.0~=migrate"
s=$(api PUT /v1/sys/unseal "{\"key\":\"${R[0]}\",\"migrate\":true}")
check "recovery: with migrate=true it counts" 200 "$s" progress=1 sealed=true
s=$(api PUT /v1/sys/unseal "{\"key\":\"${R[1]}\",\"migrate\":true}")
check "recovery: threshold of recovery keys with migrate unseals" 200 "$s" sealed=false
settoken "$RROOT"
api PUT /v1/sys/seal >/dev/null
notoken
vsim_ctl restart >/dev/null
s=$(api GET /v1/sys/seal-status)
check "recovery: a restart auto-unseals" 200 "$s" sealed=false
vsim_stop

# --- OpenBao 2.5.3 (default): unauthenticated generate-root and rekey off -----------
vsim_start --openbao
s=$(api GET /v1/sys/seal-status)
check "OpenBao: seal-status reports version 2.5.3 and raft storage" 200 "$s" version=2.5.3 \
	storage_type=raft type=shamir
s=$(api PUT /v1/sys/init '{"secret_shares":3,"secret_threshold":2}')
cp "$T/body" "$T/binit.json"
check "OpenBao: init gives an s. root token" 200 "$s" "root_token/=^s\.[A-Za-z0-9]{24}$"
O=()
for i in 0 1 2; do
	O[i]=$(jf "keys.$i" "$T/binit.json")
	remember "${O[i]}" "$(jf "keys_base64.$i" "$T/binit.json")"
done
BROOT=$(jf root_token "$T/binit.json")
remember "$BROOT"
for i in 0 1; do api PUT /v1/sys/unseal "{\"key\":\"${O[i]}\"}" >/dev/null; done
s=$(api GET /v1/sys/generate-root/attempt)
check "OpenBao 2.5.3: unauthenticated generate-root is off (405 unsupported operation)" 405 "$s" \
	"errors.0~=unsupported operation"
s=$(api PUT /v1/sys/generate-root/update "{\"key\":\"${O[0]}\",\"nonce\":\"x\"}")
check "OpenBao 2.5.3: generate-root/update likewise" 405 "$s" "errors.0~=unsupported operation"
s=$(api PUT /v1/sys/rekey/init '{"secret_shares":3,"secret_threshold":2}')
check "OpenBao 2.5.3: rekey is off" 405 "$s" "errors.0~=unsupported operation"
settoken "$BROOT"
s=$(api PUT /v1/sys/generate-root-token/attempt '{}')
check "OpenBao 2.5.3: no generate-root-token yet (came in 2.6.0)" 404 "$s" "errors.0~=unsupported path"
notoken
vsim_stop

# --- OpenBao 2.6.0: authenticated generate-root-token and decode-token --------------
vsim_start --openbao --openbao-version 2.6.0
s=$(api PUT /v1/sys/init '{"secret_shares":3,"secret_threshold":2}')
cp "$T/body" "$T/b6init.json"
O=()
for i in 0 1 2; do
	O[i]=$(jf "keys.$i" "$T/b6init.json")
	remember "${O[i]}" "$(jf "keys_base64.$i" "$T/b6init.json")"
done
BROOT=$(jf root_token "$T/b6init.json")
remember "$BROOT"
for i in 1 2; do api PUT /v1/sys/unseal "{\"key\":\"${O[i]}\"}" >/dev/null; done
s=$(api GET /v1/sys/seal-status)
check "OpenBao 2.6.0: unsealed, version 2.6.0" 200 "$s" sealed=false version=2.6.0
s=$(api GET /v1/sys/generate-root/attempt)
check "OpenBao 2.6.0: unauthenticated generate-root off" 405 "$s" "errors.0~=unsupported operation"
s=$(api PUT /v1/sys/generate-root-token/attempt '{}')
check "generate-root-token without a token: 403" 403 "$s" "errors.0=permission denied"
settoken "$BROOT"
s=$(api GET /v1/sys/generate-root-token/attempt)
check "generate-root-token GET with the root token: data.started false, otp_length 26" 200 "$s" \
	data.started=false data.otp_length=26 data.required=2
s=$(api PUT /v1/sys/generate-root-token/attempt '{}')
check "generate-root-token attempt: data.otp of 26, a nonce" 200 "$s" "data.otp/=^[A-Za-z0-9]{26}$" \
	"data.nonce/=^[0-9a-f-]{36}$"
BOTP=$(jf data.otp) BNONCE=$(jf data.nonce)
remember "$BOTP"
s=$(api PUT /v1/sys/generate-root-token/attempt '{}')
check "generate-root-token: already in progress (400)" 400 "$s" "errors.0~=root generation already in progress"
s=$(api PUT /v1/sys/generate-root-token/update "{\"key\":\"${O[0]}\",\"nonce\":\"nope\"}")
check "generate-root-token update, wrong nonce: 500 from the logical layer, real nonce named" 500 "$s" \
	"errors.0~=incorrect nonce supplied" "errors.0~=$BNONCE"
s=$(api PUT /v1/sys/generate-root-token/update "{\"key\":\"${O[0]}\"}")
check "generate-root-token update without nonce: 400 nonce is required" 400 "$s" "errors.0=nonce is required"
api PUT /v1/sys/generate-root-token/update "{\"key\":\"${O[0]}\",\"nonce\":\"$BNONCE\"}" >/dev/null
s=$(api PUT /v1/sys/generate-root-token/update "{\"key\":\"${O[2]}\",\"nonce\":\"$BNONCE\"}")
check "generate-root-token update: complete, data.encoded_token" 200 "$s" data.complete=true \
	"data.encoded_token/=^[A-Za-z0-9+/]{35}$"
BENC=$(jf data.encoded_token)
BTOK=$(printf '%s\n%s\n' "$BENC" "$BOTP" | decode_otp)
remember "$BTOK"
s=$(api PUT /v1/sys/decode-token "{\"encoded_token\":\"$BENC\",\"otp\":\"$BOTP\"}")
check "sys/decode-token returns the same s. token" 200 "$s" "data.token=$BTOK" "data.token/=^s\.[A-Za-z0-9]{24}$"
notoken
s=$(api PUT /v1/sys/decode-token "{\"encoded_token\":\"$BENC\",\"otp\":\"\"}")
check "sys/decode-token with an empty otp: 400" 400 "$s" "errors.0~=is empty"
settoken "$BTOK"
s=$(api GET /v1/auth/token/lookup-self)
check "the OpenBao generated token is valid" 200 "$s" "data.policies.0=root"
s=$(api DELETE /v1/sys/generate-root-token/attempt)
check "generate-root-token DELETE: 204" 204 "$s"
notoken
vsim_stop

# --- OpenBao 2.4.0: unauthenticated generate-root still on ------------------------
vsim_start --openbao --openbao-version 2.4.0
api PUT /v1/sys/init '{"secret_shares":2,"secret_threshold":2}' >/dev/null
cp "$T/body" "$T/b4init.json"
remember "$(jf keys.0 "$T/b4init.json")" "$(jf keys.1 "$T/b4init.json")" "$(jf root_token "$T/b4init.json")"
for i in 0 1; do api PUT /v1/sys/unseal "{\"key\":\"$(jf keys.$i "$T/b4init.json")\"}" >/dev/null; done
s=$(api PUT /v1/sys/generate-root/attempt '{}')
check "OpenBao 2.4.0: unauthenticated generate-root works, otp_length 26" 200 "$s" started=true \
	otp_length=26 "otp/=^[A-Za-z0-9]{26}$"
remember "$(jf otp)"
vsim_stop

# --- the logs -------------------------------------------------------------------------
cat "$T"/vsim*/log >"$T/all.log"
t_grep "the logs record requests (method, path, status)" '^[0-9T:-]+ PUT /v1/sys/unseal 200 ' "$T/all.log"
sort -u "$T/secrets" | grep -v '^$' >"$T/secrets.u"
if [ "$(wc -l <"$T/secrets.u")" -gt 40 ] && ! grep -qFf "$T/secrets.u" "$T/all.log" "$T"/vsim*/stderr "$T"/vsim*/stdout; then
	t_ok "no key, share, OTP or token ($(wc -l <"$T/secrets.u") of them) in any log"
else
	t_fail "no key, share, OTP or token in any log" "$(grep -cFf "$T/secrets.u" "$T/all.log") lines hold one"
fi
t_done
