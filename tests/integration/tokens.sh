#!/usr/bin/env bash
# keyquorum tokens: slots, tokens, PIN state and sealing keys, from SoftHSM
# directly and through p11-kit's proxy (the default module).
. "$(dirname "$0")/../lib.sh"

. "$TOP/tests/softhsm.sh"
softhsm_setup
SOFTHSM=$SM
softhsm_token "holder one" && softhsm_token empty
"$KQ" token keygen --module "$SOFTHSM" --token "pkcs11:token=holder%20one?pin-source=$T/pin" --label seal-ec --type ec-p256 >"$T/kg" 2>&1
fp=$(sed -n 's/^fingerprint: //p' "$T/kg")
uri=$(sed -n 's/^uri: //p' "$T/kg")
# An RSA key made by another tool, with only a certificate-free pair.
pkcs11-tool --module "$SOFTHSM" --token-label "holder one" --login --pin 123456 --keypairgen --key-type rsa:2048 --id 42 --label other-rsa >/dev/null 2>&1
# A key that cannot seal (P-521) is not listed.
pkcs11-tool --module "$SOFTHSM" --token-label "holder one" --login --pin 123456 --keypairgen --key-type EC:secp521r1 --id 43 --label p521 >/dev/null 2>&1

# Fixed-string match (fingerprints hold + and /).
t_fgrep() { if grep -Fq -- "$2" "$3"; then t_ok "$1"; else t_fail "$1" "no '$2' in $3: $(head -c 300 "$3")"; fi; }

t_run "tokens (SoftHSM module)" "$KQ" tokens --module "$SOFTHSM"
t_grep "token label printed without padding" "token: holder one$" "$T/out"
t_grep "manufacturer and model" "manufacturer: SoftHSM project  model: SoftHSM v2" "$T/out"
t_grep "PIN state" "PIN: ok, login required" "$T/out"
t_fgrep "EC key with its fingerprint" "key: ec-256 $fp \"seal-ec\"" "$T/out"
t_grep "RSA key made elsewhere listed" 'key: rsa-2048 SHA256:[A-Za-z0-9+/]{43} "other-rsa"' "$T/out"
if grep -q p521 "$T/out"; then t_fail "P-521 key not offered for sealing" "$(cat "$T/out")"; else t_ok "P-521 key not offered for sealing"; fi
t_grep "key URI printed" "pkcs11:.*token=holder%20one.*object=seal-ec" "$T/out"

t_run "tokens --json" "$KQ" tokens --module "$SOFTHSM" --json
if python3 - "$T/out" "$fp" <<'PY'; then t_ok "tokens --json parses and carries the key"; else t_fail "tokens --json parses and carries the key" "$(head -c 400 "$T/out")"; fi
import json, sys
d = json.load(open(sys.argv[1]))
toks = [s["token"] for s in d["slots"] if s["token_present"]]
h = [t for t in toks if t["label"] == "holder one"][0]
assert h["pin_state"] == "ok" and h["serial"] and h["model"] == "SoftHSM v2"
assert any(k["fingerprint"] == sys.argv[2] and k["type"] == "ec-p256" for k in h["keys"])
assert all(k["uri"].startswith("pkcs11:") for k in h["keys"])
PY

# The printed URI is usable as is.
head -c 32 /dev/urandom >"$T/p"
t_run "printed URI seals" sh -c "'$KQ' encrypt --module '$SOFTHSM' --to '$uri' <'$T/p' >'$T/b'"
t_run "printed URI (+pin-source) unseals" sh -c "'$KQ' decrypt --module '$SOFTHSM' --with '$uri?pin-source=$T/pin' <'$T/b' >'$T/p2'"
cmp -s "$T/p" "$T/p2" && t_ok "printed URI round trip" || t_fail "printed URI round trip" "differs"

# p11-kit's proxy is the default and sees the SoftHSM tokens.
t_run "tokens (default: p11-kit proxy)" "$KQ" tokens
t_grep "proxy is the default module" "^module: .*p11-kit-proxy.so" "$T/out"
t_fgrep "proxy shows the SoftHSM token and its key" "key: ec-256 $fp" "$T/out"
t_run "module-name=softhsm2 in a URI" sh -c "'$KQ' encrypt --to 'pkcs11:token=holder%20one;object=seal-ec?module-name=softhsm2' <'$T/p' >/dev/null"
t_run "module-path in a URI" sh -c "'$KQ' encrypt --to 'pkcs11:token=holder%20one;object=seal-ec?module-path=$SOFTHSM' <'$T/p' >/dev/null"

# Failure twins.
t_expect 4 "unloadable module" "$KQ" tokens --module "$T/nope.so"
t_grep "unloadable module named" "cannot load module" "$T/err"
t_expect 2 "tokens takes no argument" "$KQ" tokens extra
t_expect 4 "two keys match: ambiguous" sh -c "'$KQ' encrypt --module '$SOFTHSM' --to 'pkcs11:token=holder%20one' </dev/null >/dev/null"
t_expect 2 "keygen: unknown key type" "$KQ" token keygen --module "$SOFTHSM" --token "pkcs11:token=empty" --label x --type dsa
t_expect 2 "token: unknown operation" "$KQ" token frob
t_done
