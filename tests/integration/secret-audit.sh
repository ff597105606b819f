#!/usr/bin/env bash
# No secret reaches argv, the environment, stderr, a transcript or a file
# that is not meant to hold one (issue 6, "Secrets leave no trace"), across
# every verb in one place.
#
# A representative run of every verb and ceremony (split, combine,
# decode-root, tokens, token keygen, encrypt, decrypt by PIN file, PIN fd
# and pinentry, custody create/show/enroll, ceremony init, unseal (scripted
# and remote), generate-root (scripted, remote with an OTP file, and
# --seal-envelope), drill, seal-envelope, open-envelope, envelope
# show/list, audit verify, and error paths: wrong PIN, duplicated share,
# wrong OTP) on SoftHSM tokens made in $T against the Vault API test
# server, each under `strace -f -e trace=execve -v -s 65536`: every exec's
# full argv and envp, children (keyquorum-full, pinentry) included.  Then
# every secret of the run is searched for in
#   argv/env    the strace logs
#   stderr      every run's standard error
#   stdout      the standard output of runs whose output is not a secret
#   transcripts every *.transcript
#   files       custody sets, envelopes, the Vault server's request log
# as raw bytes, hex (both cases), base64 (padded, unpadded, URL-safe),
# JSON-escaped, percent-escaped and strace's \x-escaped form.  The secrets:
# every PIN (holders', wrong, SO, the HSM's first user PIN), the split and
# enrolled secrets and every share, encrypt's payload, the rollback plan's
# previous values, decode-root's token and OTP, every root token file and
# OTP file, and everything the Vault server made or accepted (unseal
# keys, shares, the barrier key, root tokens, OTPs, encoded tokens:
# tests/vault-sim --secrets-log).  Expected count: zero everywhere.
# Not observable from outside, so not searched: envelope data keys and the
# HSM PIN that custody create --kind hsm-pin sets (the memory scans,
# tests/integration/*memscan.sh, look for what lives only in memory).
#
# Negative controls: a decoy file with a planted secret in every encoding
# is found once per encoding, and a secret put in the argv and the
# environment of a traced grandchild is found in the strace log.
#
# Also: a running keyquorum is not dumpable and has RLIMIT_CORE 0, for the
# front (split, blocked on its input) and keyquorum-full (decrypt, blocked
# on its input), each run as nobody so that /proc shows it (a non-dumpable
# process's /proc files belong to root), with `sleep` as the control.
# (front.sh checks the front's core limit only.)
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vault-sim/lib.sh"

SOFTHSM=/usr/lib/softhsm/libsofthsm2.so
for c in strace python3 softhsm2-util pkcs11-tool setpriv; do
	if ! command -v "$c" >/dev/null 2>&1; then
		t_fail "$c is installed" "tests/deps installs it"
		t_done
	fi
done
if [ ! -x "$KQ_REAL" ] || [ ! -f "$SOFTHSM" ]; then
	t_fail "keyquorum and SoftHSM are here" "$KQ_REAL, $SOFTHSM"
	t_done
fi
san=0
nm -D "$KQ_REAL" 2>/dev/null | grep -q '__asan_init\|__ubsan_handle' && san=1
# LeakSanitizer cannot run under ptrace.
[ "$san" = 1 ] && export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

A=$T/audit
mkdir -p "$A/run" "$T/tok"
SECRETS=$A/secrets # KIND<TAB>HEX, one secret a line
rnd() { head -c 64 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c "$1"; }
secret_text() { printf '%s\t%s\n' "$1" "$(printf '%s' "$2" | od -An -tx1 -v | tr -d ' \n')" >>"$SECRETS"; }
secret_file() { # KIND FILE: the file's bytes, without a final newline
	printf '%s\t%s\n' "$1" "$(python3 -c 'import sys;print(open(sys.argv[1],"rb").read().rstrip(b"\n").hex())' "$2")" >>"$SECRETS"
}
secret_lines() { # KIND FILE: each line as text
	local l
	while IFS= read -r l; do [ -n "$l" ] && secret_text "$1" "$l"; done <"$2"
}
secret_shares() { # KIND FILE: each base64 or hex share line, as the bytes it encodes
	secret_lines "$1-text" "$2"
	python3 - "$2" "$1" >>"$SECRETS" <<'PY'
import base64, binascii, sys
for l in open(sys.argv[1]):
    l = l.strip()
    if not l:
        continue
    try:
        b = bytes.fromhex(l)
    except ValueError:
        b = base64.b64decode(l)
    print("%s\t%s" % (sys.argv[2], b.hex()))
PY
}

# ---- tokens, PINs (random, distinct, long enough to be unmistakable) ----
printf 'directories.tokendir = %s/tok\nobjectstore.backend = file\nlog.level = ERROR\n' "$T" >"$T/softhsm2.conf"
export SOFTHSM2_CONF="$T/softhsm2.conf"
unset KEYQUORUM_TEST_ALLOW_PIN_VALUE
umask 077
SO=$(rnd 16)
printf '%s\n' "$SO" >"$T/sopin"
secret_text so-pin "$SO"
for h in alice bob carol; do
	p=$(rnd 14)
	printf '%s\n' "$p" >"$T/pin.$h"
	secret_text pin "$p"
	softhsm2-util --init-token --free --label "h-$h" --so-pin "$SO" --pin "$p" >/dev/null
done
HP=$(rnd 14)
secret_text hsm-first-pin "$HP"
softhsm2-util --init-token --free --label kq-hsm --so-pin "$SO" --pin "$HP" >/dev/null
BAD=$(rnd 14)
printf '%s\n' "$BAD" >"$T/pin.wrong"
secret_text wrong-pin "$BAD"

# The fake pinentry (tests only): answers GETPIN with bob's PIN on the
# Assuan pipe, as pinentry-tty would after the holder typed it.
cat >"$T/fake-pinentry" <<EOF
#!/bin/bash
echo "OK Pleased to meet you"
while IFS= read -r line; do
	case \$line in
	GETPIN*) printf 'D %s\nOK\n' "\$(cat '$T/pin.bob')" ;;
	BYE*) echo OK; exit 0 ;;
	*) echo OK ;;
	esac
done
EOF
chmod 700 "$T/fake-pinentry"

# kq NAME [--secret-out] ARGS...: keyquorum ARGS under strace; stdin and
# extra fds from the caller.  Outputs in $A/run/N.{trace,out,err}; a run
# whose stdout is its secret output (split, combine, ...) says
# --secret-out and its stdout is not searched.
n=0
kq() {
	local name=$1 so=0 rc
	shift
	[ "${1:-}" = --secret-out ] && so=1 && shift
	n=$((n + 1))
	strace -f -qq -x -v -s 65536 -e trace=execve -o "$A/run/$n.trace" \
		"$KQ" "$@" >"$A/run/$n.out" 2>"$A/run/$n.err"
	rc=$?
	[ "$so" = 1 ] && mv "$A/run/$n.out" "$A/run/$n.secret-out"
	printf '%s\t%s\t%s\n' "$n" "$rc" "$name" >>"$A/runs"
	cp "$A/run/$n.err" "$T/err"
	[ -f "$A/run/$n.out" ] && cp "$A/run/$n.out" "$T/out" || cp "$A/run/$n.secret-out" "$T/out"
	return $rc
}
# step WANT NAME [--secret-out] ARGS...: kq, and a case for its exit status
step() {
	local want=$1 name=$2 rc
	shift 2
	kq "$name" "$@"
	rc=$?
	if [ "$rc" = "$want" ]; then
		t_ok "run: $name"
	else
		t_fail "run: $name" "exit $rc (want $want): $(head -c 400 "$T/err")"
	fi
}

# ---- offline verbs ----------------------------------------------------------
head -c 32 /dev/urandom >"$T/secret"
secret_file split-secret "$T/secret"
step 0 "split 3-of-5 (--secret-file)" --secret-out split -t 3 -n 5 --secret-file "$T/secret"
cp "$T/out" "$T/shares"
secret_shares share "$T/shares"
head -c 24 /dev/urandom >"$T/secret2"
secret_file split-secret "$T/secret2"
step 0 "split 2-of-3 --out hex (stdin)" --secret-out split -t 2 -n 3 --out hex <"$T/secret2"
cp "$T/out" "$T/hexshares"
secret_shares share "$T/hexshares"
head -3 "$T/shares" >"$T/three"
step 0 "combine" --secret-out combine <"$T/three"
cmp -s "$T/out" "$T/secret" && t_ok "combine gives the secret back" || t_fail "combine gives the secret back"
{ head -1 "$T/shares"; head -1 "$T/shares"; } >"$T/dup"
step 6 "combine: the same share twice (error)" --secret-out combine <"$T/dup"
{ head -2 "$T/shares"; sed -n 3p "$T/shares" | tr 'A-M' 'N-Z'; } >"$T/badshare"
secret_lines damaged-share "$T/badshare"
kq "combine: a damaged share" --secret-out combine <"$T/badshare" || true
read -r enc otp tok < <(python3 -c '
import json, sys
v = json.loads(open(sys.argv[1]).readline())
print(v["encoded_token"], v["otp"], v["token"])' "$TOP/tests/vectors/vault_roottoken_sample.jsonl")
secret_text decode-root-otp "$otp"
secret_text decode-root-token "$tok"
secret_text decode-root-encoded "$enc"
printf '%s\n%s\n' "$enc" "$otp" >"$T/dr"
step 0 "decode-root" --secret-out decode-root <"$T/dr"
[ "$(cat "$T/out")" = "$tok" ] && t_ok "decode-root gives the token" || t_fail "decode-root gives the token"
printf '%s\n%s\n' "$enc" "$(printf '%s' "$otp" | rev)" >"$T/dr2"
secret_text decode-root-wrong-otp "$(printf '%s' "$otp" | rev)"
kq "decode-root: wrong OTP (error)" --secret-out decode-root <"$T/dr2" || true

# ---- tokens, keys, encrypt / decrypt -----------------------------------
step 0 "tokens" tokens --module "$SOFTHSM"
step 0 "token keygen (alice, ec-p256, PIN file)" token keygen --module "$SOFTHSM" \
	--token "pkcs11:token=h-alice?pin-source=$T/pin.alice" --label seal --type ec-p256
step 0 "token keygen (bob, ec-p384, pinentry)" token keygen --module "$SOFTHSM" \
	--token "pkcs11:token=h-bob" --label seal --type ec-p384 --pinentry="$T/fake-pinentry"
# carol's RSA pair outside keyquorum (as valgrind.sh: fast under memcheck)
pkcs11-tool --module "$SOFTHSM" --token-label h-carol --login --pin "$(cat "$T/pin.carol")" \
	--keypairgen --key-type rsa:2048 --id 42 --label seal >/dev/null 2>&1 ||
	t_fail "an RSA key on carol's token" "pkcs11-tool failed"
U() { printf 'pkcs11:token=h-%s;object=seal' "$1"; }
head -c 48 /dev/urandom >"$T/payload"
secret_file payload "$T/payload"
step 0 "tokens --json (p11-kit proxy)" tokens --json
step 0 "encrypt (alice)" encrypt --module "$SOFTHSM" --to "$(U alice)" --context audit <"$T/payload"
cp "$T/out" "$T/blob.alice"
step 0 "encrypt (bob)" encrypt --module "$SOFTHSM" --to "$(U bob)" <"$T/payload"
cp "$T/out" "$T/blob.bob"
step 0 "encrypt (carol, RSA)" encrypt --module "$SOFTHSM" --to "$(U carol)" <"$T/payload"
cp "$T/out" "$T/blob.carol"
step 0 "decrypt (PIN file)" --secret-out decrypt --module "$SOFTHSM" --context audit \
	--with "$(U alice)?pin-source=$T/pin.alice" <"$T/blob.alice"
cmp -s "$T/out" "$T/payload" && t_ok "decrypt gives the payload back" || t_fail "decrypt gives the payload back"
step 0 "decrypt (pinentry)" --secret-out decrypt --module "$SOFTHSM" --with "$(U bob)" \
	--pinentry="$T/fake-pinentry" <"$T/blob.bob"
grep -q 'fake-pinentry' "$A/run/$n.trace" && t_ok "the pinentry's exec is traced" ||
	t_fail "the pinentry's exec is traced" "$(grep execve "$A/run/$n.trace" | cut -c1-200)"
step 0 "decrypt (PIN on fd 5, RSA)" --secret-out decrypt --module "$SOFTHSM" \
	--with "$(U carol)?pin-source=fd:5" <"$T/blob.carol" 5<"$T/pin.carol"
step 3 "decrypt: wrong PIN (error)" --secret-out decrypt --module "$SOFTHSM" \
	--with "$(U alice)?pin-source=$T/pin.wrong" --context audit <"$T/blob.alice"

# ---- custody, Vault ceremonies ------------------------------------------------
export VSIM_SECRETS_LOG=$A/vsim-secrets
vsim_start || {
	t_fail "vault-sim starts"
	t_done
}
unset VSIM_SECRETS_LOG
HOLD=()
for h in alice bob carol; do HOLD+=(--holder "$h=$(U "$h")"); done
P=(--module "$SOFTHSM" --pin-source "alice=file:$T/pin.alice" --pin-source "bob=fd:4"
	--pin-source "carol=file:$T/pin.carol")
V=$T/vault.json
step 0 "custody create vault-unseal 2-of-3" custody create --name prod --kind vault-unseal \
	--threshold 2 --module "$SOFTHSM" --out "$V" "${HOLD[@]}"
step 0 "custody show" custody show "$V"
step 0 "ceremony init" ceremony init --custody "$V" --holders alice,bob,carol "${P[@]}" \
	--yes --root-token-out "$T/root0" 4<"$T/pin.bob"
secret_file root-token-file "$T/root0"
step 0 "ceremony unseal (scripted; bob's PIN on fd 4)" ceremony unseal --custody "$V" \
	--holders alice,bob "${P[@]}" 4<"$T/pin.bob"
step 0 "ceremony generate-root (scripted)" ceremony generate-root --custody "$V" \
	--holders bob,carol "${P[@]}" --yes --out "$T/root1" 4<"$T/pin.bob"
secret_file root-token-file "$T/root1"
step 0 "ceremony drill (--json)" ceremony drill --custody "$V" --holders alice,bob,carol \
	"${P[@]}" --json 4<"$T/pin.bob"
step 0 "ceremony generate-root (remote: alice starts, keeps the OTP)" ceremony generate-root \
	--custody "$V" --holder alice "${P[@]}" --yes --otp-out "$T/otp" 4<"$T/pin.bob"
secret_file otp-file "$T/otp"
nonce=$(vsim_state generate_root_nonce)
step 0 "ceremony generate-root (remote: carol completes with the OTP file)" ceremony generate-root \
	--custody "$V" --holder carol --nonce "$nonce" --otp-file "$T/otp" "${P[@]}" --out "$T/root2" 4<"$T/pin.bob"
secret_file root-token-file "$T/root2"
curl -sS --fail --max-time 10 --cacert "$VAULT_CACERT" -X PUT \
	-H "X-Vault-Token: $(cat "$T/root2")" "$VAULT_ADDR/v1/sys/seal" >/dev/null ||
	t_fail "Vault sealed again with the generated token"
step 0 "ceremony unseal (remote holder bob)" ceremony unseal --custody "$V" --holder bob "${P[@]}" 4<"$T/pin.bob"
step 0 "ceremony unseal (remote holder carol completes, --json)" ceremony unseal --custody "$V" \
	--holder carol "${P[@]}" --json 4<"$T/pin.bob"
step 3 "ceremony drill: wrong PIN (error)" ceremony drill --custody "$V" --holders alice \
	--module "$SOFTHSM" --pin-source "alice=file:$T/pin.wrong"

# ---- a "secret" set by enrolment ------------------------------------------
S=$T/secret-set.json
step 0 "custody create secret 2-of-2" custody create --name sec --kind secret --threshold 2 \
	--module "$SOFTHSM" --out "$S" --holder "a=$(U alice)" --holder "b=$(U carol)"
head -c 32 /dev/urandom >"$T/secret3"
secret_file enrolled-secret "$T/secret3"
"$KQ_REAL" split -t 2 -n 2 --secret-file "$T/secret3" >"$T/es" 2>/dev/null
secret_shares enrolled-share "$T/es"
sed -n 1p "$T/es" >"$T/es1"
sed -n 2p "$T/es" >"$T/es2"
step 0 "custody enroll (a, share on fd 3)" custody enroll "$S" --holder a --share-fd 3 \
	--module "$SOFTHSM" --pin-source "a=file:$T/pin.alice" 3<"$T/es1"
step 0 "custody enroll (b, RSA)" custody enroll "$S" --holder b --share-fd 3 \
	--module "$SOFTHSM" --pin-source "b=file:$T/pin.carol" 3<"$T/es2"
step 0 "ceremony drill (secret set)" ceremony drill --custody "$S" --holders a,b --module "$SOFTHSM" \
	--pin-source "a=file:$T/pin.alice" --pin-source "b=file:$T/pin.carol"

# ---- hsm-pin set, envelopes ------------------------------------------------
E=$T/pin-set.json
step 0 "custody create hsm-pin 2-of-3 (SO PIN from a file)" custody create --kind hsm-pin \
	--name rollback --threshold 2 "${HOLD[@]}" --hsm "pkcs11:token=kq-hsm" --module "$SOFTHSM" \
	--hsm-module "$SOFTHSM" --so-pin-source "file:$T/sopin" --out "$E"
p1=PREV-$(rnd 20)
p2=PREV-$(rnd 20)
secret_text plan-previous-value "$p1"
secret_text plan-previous-value "$p2"
cat >"$T/plan.json" <<EOF
{"keyquorum_rollback_plan": 1, "title": "audit", "change": "CHG-1",
 "entries": [
  {"credential": "db/prod/app", "previous_value": "$p1", "revert": "vault write x", "verify": "psql -c 'select 1'", "time_limit": "15m"},
  {"credential": "aws/iam/deploy", "previous_value": "$p2", "revert": "aws iam x", "verify": "aws sts get-caller-identity", "time_limit": "1h"}
 ]}
EOF
EP=(--module "$SOFTHSM" --hsm-module "$SOFTHSM" --pin-source "alice=file:$T/pin.alice"
	--pin-source "bob=fd:4" --pin-source "carol=file:$T/pin.carol")
step 0 "ceremony seal-envelope (rollback plan)" ceremony seal-envelope --custody "$E" \
	--in "$T/plan.json" --label "audit plan" --out "$T/plan.kqenv" --holders alice,bob "${EP[@]}" 4<"$T/pin.bob"
step 0 "ceremony seal-envelope --store-in-hsm" ceremony seal-envelope --custody "$E" \
	--in "$T/plan.json" --label "audit stored" --store-in-hsm --holders alice,carol "${EP[@]}" 4<"$T/pin.bob"
step 0 "envelope show" envelope show "$T/plan.kqenv"
step 0 "envelope list --hsm" envelope list --hsm "pkcs11:token=kq-hsm" --module "$SOFTHSM" --json
step 0 "ceremony open-envelope (checklist)" --secret-out ceremony open-envelope --custody "$E" \
	--envelope "$T/plan.kqenv" --holders bob,carol "${EP[@]}" 4<"$T/pin.bob"
grep -qF "$p1" "$T/out" && t_ok "open-envelope shows the previous value (stdout)" ||
	t_fail "open-envelope shows the previous value (stdout)" "$(head -c 300 "$T/err")"
step 0 "ceremony generate-root --seal-envelope" ceremony generate-root --custody "$V" \
	--holders alice,carol "${P[@]}" --yes --seal-envelope "$E" --hsm-module "$SOFTHSM" \
	--envelope-holders alice,carol --envelope-label "break-glass" --out "$T/root.kqenv" 4<"$T/pin.bob"
step 0 "ceremony open-envelope --out (the root token)" ceremony open-envelope --custody "$E" \
	--envelope "$T/root.kqenv" --holders bob,carol "${EP[@]}" --out "$T/root3" 4<"$T/pin.bob"
secret_file root-token-file "$T/root3"

for tr in "$T"/*.transcript; do
	step 0 "audit verify $(basename "$tr")" audit verify "$tr"
done
vsim_stop

# ---- the Vault server's secrets -------------------------------------------------
if [ -s "$A/vsim-secrets" ]; then
	python3 - "$A/vsim-secrets" >>"$SECRETS" <<'PY'
import sys
for l in open(sys.argv[1]):
    kind, v = l.rstrip("\n").split(" ", 1)
    if v.startswith("bytes:"):
        print("vault-%s\t%s" % (kind, v[6:]))
    else:
        print("vault-%s\t%s" % (kind, v[5:].encode().hex()))
PY
	t_ok "the Vault server logged $(wc -l <"$A/vsim-secrets") secrets it made or accepted"
else
	t_fail "the Vault server logged the secrets it made or accepted" "$A/vsim-secrets is empty"
fi

# ---- the search -----------------------------------------------------------------
# search.py SECRETS CATEGORY=FILE...: counts every encoding of every secret
# in every file; prints "CATEGORY COUNT" lines and, for each hit, where.
cat >"$A/search.py" <<'PY'
import base64, collections, json, sys, urllib.parse

def forms(b):
    f = {"raw": b, "hex": b.hex().encode(), "HEX": b.hex().upper().encode()}
    b64 = base64.b64encode(b)
    f["base64"] = b64
    f["base64-unpadded"] = b64.rstrip(b"=")
    f["base64url"] = base64.urlsafe_b64encode(b).rstrip(b"=")
    f["json"] = json.dumps(b.decode("latin-1"))[1:-1].encode()
    f["percent"] = urllib.parse.quote_from_bytes(b, safe="").encode()
    f["strace"] = "".join(chr(c) if 32 <= c < 127 and c not in (34, 92) else
                          ("\\" + chr(c) if c in (34, 92) else "\\x%02x" % c)
                          for c in b).encode()
    # one needle per distinct form; none shorter than 8 bytes (a random
    # secret that short would match by chance)
    out, seen = {}, set()
    for k, v in f.items():
        if len(v) >= 8 and v not in seen:
            seen.add(v)
            out[k] = v
    return out

def main():
    secrets = []
    for l in open(sys.argv[1]):
        kind, h = l.rstrip("\n").split("\t")
        if h:
            secrets.append((kind, bytes.fromhex(h)))
    kinds = collections.Counter(k for k, _ in secrets)
    needles = [(k, e, v) for k, b in secrets for e, v in forms(b).items()]
    encs = sorted({e for _, e, _ in needles})
    hits = collections.Counter()
    files = collections.Counter()
    size = 0
    where = []
    for arg in sys.argv[2:]:
        cat, path = arg.split("=", 1)
        data = open(path, "rb").read()
        files[cat] += 1
        size += len(data)
        hits[cat] += 0
        for k, e, v in needles:
            c = data.count(v)
            if c:
                hits[cat] += c
                i = data.find(v)
                where.append("%s: %s (%s) x%d in %s: ...%r..." % (
                    cat, k, e, c, path, data[max(0, i - 40):i + len(v) + 20]))
    print("# searched %d secrets (%s)" % (
        len(secrets), ", ".join("%s %d" % kv for kv in sorted(kinds.items()))))
    print("# in %d encodings (%s), %d needles, %d files, %d bytes" % (
        len(encs), " ".join(encs), len(needles), sum(files.values()), size))
    for cat in sorted(files):
        print("COUNT %s %d %d" % (cat, hits[cat], files[cat]))
    for w in where[:40]:
        print("# FOUND " + w)


if __name__ == "__main__":
    main()
PY

corpus=()
for f in "$A"/run/*.trace; do corpus+=("argv-env=$f"); done
for f in "$A"/run/*.err; do corpus+=("stderr=$f"); done
for f in "$A"/run/*.out; do corpus+=("stdout=$f"); done
for f in "$T"/*.transcript; do corpus+=("transcripts=$f"); done
for f in "$V" "$S" "$E" "$T/plan.kqenv" "$T/root.kqenv" "$T"/vsim/log "$T"/vsim/stderr; do
	[ -f "$f" ] && corpus+=("files=$f")
done
python3 "$A/search.py" "$SECRETS" "${corpus[@]}" >"$A/result"
grep '^#' "$A/result" | grep -v '^# FOUND' | head -5
execs=$(cat "$A"/run/*.trace | grep -c 'execve(.*= 0$')
while read -r _ cat count nfiles; do
	what="no secret in $cat ($nfiles files"
	[ "$cat" = argv-env ] && what="$what, $execs execs"
	what="$what): $count found"
	if [ "$count" = 0 ] && [ "$nfiles" -gt 0 ]; then
		t_ok "$what"
	else
		t_fail "$what" "$(grep "^# FOUND $cat:" "$A/result" | head -10 | cut -c1-400)"
	fi
done < <(grep '^COUNT ' "$A/result")
for c in argv-env stderr stdout transcripts files; do
	grep -q "^COUNT $c " "$A/result" || t_fail "the corpus has $c" "none searched"
done
nsec=$(wc -l <"$SECRETS")
[ "$nsec" -ge 40 ] && t_ok "$nsec secrets searched for" || t_fail "at least 40 secrets searched for" "$nsec"

# ---- negative controls --------------------------------------------------------
# 1. a decoy with one secret planted in every encoding: each is found.
python3 - "$SECRETS" "$A/decoy" "$A/decoy-secret" <<'PY'
import os, sys
sys.path.insert(0, os.path.dirname(sys.argv[2]))
from search import forms
b = os.urandom(32)
f = forms(b)
with open(sys.argv[2], "wb") as o:
    for e, v in f.items():
        o.write(b"decoy " + e.encode() + b": " + v + b"\n")
open(sys.argv[3], "w").write("decoy\t%s\n%d\n" % (b.hex(), len(f)))
PY
nforms=$(sed -n 2p "$A/decoy-secret")
sed -n 1p "$A/decoy-secret" >"$A/decoy-secrets"
python3 "$A/search.py" "$A/decoy-secrets" "decoy=$A/decoy" >"$A/decoy-result" 2>&1
got=$(awk '/^COUNT decoy / { print $3 }' "$A/decoy-result")
[ -n "$got" ] && [ "$got" -ge "$nforms" ] && [ "$nforms" -ge 8 ] &&
	t_ok "negative control: a secret planted in $nforms encodings in a decoy is found ($got)" ||
	t_fail "negative control: a planted secret is found" "want $nforms, got '$got': $(head -c 600 "$A/decoy-result")"
# 2. argv and environment of a traced grandchild are in the strace log.
cp "$A/decoy-secrets" "$A/decoy2-secrets"
d=$(cut -f2 "$A/decoy-secrets")
printf 'decoy-pin\t%s\n' "$(printf 'PIN-%s' "${d:0:16}" | od -An -tx1 -v | tr -d ' \n')" >>"$A/decoy2-secrets"
strace -f -qq -x -v -s 65536 -e trace=execve -o "$A/decoy.trace" \
	sh -c 'exec env KQ_DECOY="$1" /bin/true "$2"' _ "PIN-${d:0:16}" \
	"$(python3 -c 'import base64,sys;print(base64.b64encode(bytes.fromhex(sys.argv[1])).decode())' "$d")"
python3 "$A/search.py" "$A/decoy2-secrets" "argv-env=$A/decoy.trace" >"$A/decoy2-result" 2>&1
grep -q 'FOUND argv-env: decoy (base64)' "$A/decoy2-result" &&
	grep -q 'FOUND argv-env: decoy-pin (raw)' "$A/decoy2-result" &&
	t_ok "negative control: a secret in a traced grandchild's argv and environment is found" ||
	t_fail "negative control: a secret in a traced grandchild's argv and environment is found" "$(head -c 800 "$A/decoy2-result")"

# 3. the whole pipeline: a PIN put (tests only) in a URI's pin-value is in
# keyquorum's argv, and kq's trace and the search find it there.
KEYQUORUM_TEST_ALLOW_PIN_VALUE=1 kq "control: a PIN in the URI" --secret-out decrypt \
	--module "$SOFTHSM" --context audit --with "$(U alice)?pin-value=$(cat "$T/pin.alice")" <"$T/blob.alice"
python3 "$A/search.py" "$SECRETS" "argv-env=$A/run/$n.trace" >"$A/decoy3-result" 2>&1
grep -q 'FOUND argv-env: pin (raw)' "$A/decoy3-result" &&
	t_ok "negative control: a PIN in keyquorum's own argv (pin-value URI) is found" ||
	t_fail "negative control: a PIN in keyquorum's own argv (pin-value URI) is found" "$(head -c 800 "$A/decoy3-result")"

# ---- not dumpable, RLIMIT_CORE 0 ----------------------------------------------
# probe NAME EXE-WANTED CMD...: CMD as nobody, core limit raised first,
# blocked on a fifo on its stdin; prints "OWNER-OF-/proc/PID UID CORE-SOFT
# CORE-HARD EXE" once the process has reached the read.
probe() {
	local want=$1 pid i exe owner uid core
	shift
	rm -f "$A/fifo"
	mkfifo -m 666 "$A/fifo"
	(
		ulimit -H -c unlimited 2>/dev/null
		ulimit -S -c unlimited 2>/dev/null
		exec setpriv --reuid=65534 --regid=65534 --clear-groups "$@" <"$A/fifo" >/dev/null 2>&1
	) &
	pid=$!
	exec 8>"$A/fifo"
	for i in $(seq 200); do
		exe=$(readlink "/proc/$pid/exe" 2>/dev/null)
		[ "$exe" = "$want" ] && [ "$(cat "/proc/$pid/wchan" 2>/dev/null)" = anon_pipe_read ] && break
		[ "$exe" = "$want" ] && grep -q '^State:.*S' "/proc/$pid/status" 2>/dev/null && [ "$i" -gt 20 ] && break
		sleep 0.05
	done
	owner=$(stat -c %u "/proc/$pid/status" 2>/dev/null)
	uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
	core=$(awk '/^Max core file size/ { print $5, $6 }' "/proc/$pid/limits" 2>/dev/null)
	exec 8>&-
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	echo "$owner $uid $core $exe"
}
FULL=$(dirname "$KQ_REAL")/keyquorum-full
[ -x "$FULL" ] || FULL=$KQ_REAL
r=$(probe /usr/bin/sleep sleep 60)
[ "$r" = "65534 65534 unlimited unlimited /usr/bin/sleep" ] &&
	t_ok "control: a plain process as nobody is dumpable, cores allowed ($r)" ||
	t_fail "control: a plain process as nobody is dumpable, cores allowed" "$r"
r=$(probe "$KQ_REAL" "$KQ_REAL" split -t 2 -n 3)
[ "$r" = "0 65534 0 0 $KQ_REAL" ] &&
	t_ok "split waiting for its secret: not dumpable, RLIMIT_CORE 0 0 ($r)" ||
	t_fail "split waiting for its secret: not dumpable, RLIMIT_CORE 0 0" "owner uid core exe: $r"
r=$(probe "$FULL" "$KQ_REAL" decrypt --with 'pkcs11:token=h-alice;object=seal')
[ "$r" = "0 65534 0 0 $FULL" ] &&
	t_ok "decrypt ($(basename "$FULL")) waiting for its blob: not dumpable, RLIMIT_CORE 0 0 ($r)" ||
	t_fail "decrypt waiting for its blob: not dumpable, RLIMIT_CORE 0 0" "owner uid core exe: $r"
t_done
