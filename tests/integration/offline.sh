#!/usr/bin/env bash
# The offline verbs through the built CLI: split, combine, decode-root.
. "$(dirname "$0")/../lib.sh"

vec_shamir="$TOP/tests/vectors/vault_shamir_sample.jsonl"
vec_root="$TOP/tests/vectors/vault_roottoken_sample.jsonl"

# ---- round trips ----------------------------------------------------
head -c 32 /dev/urandom >"$T/secret"
t_run "split 3-of-5 of a 32-byte secret" "$KQ" split -t 3 -n 5 --secret-file "$T/secret"
cp "$T/out" "$T/shares"
if [ "$(wc -l <"$T/shares")" = 5 ] && ! grep -vqE '^[A-Za-z0-9+/]{44}$' "$T/shares"; then
	t_ok "split prints 5 lines of 44-char base64 (Vault keys_base64)"
else
	t_fail "split prints 5 lines of 44-char base64" "$(cat "$T/shares")"
fi
subsets_ok=1
for s in "1 2 3" "1 2 4" "1 2 5" "1 3 4" "1 3 5" "1 4 5" "2 3 4" "2 3 5" "2 4 5" "3 4 5" "1 2 3 4 5" "5 3 1 2"; do
	for i in $s; do sed -n "${i}p" "$T/shares"; done >"$T/sub"
	if ! "$KQ" combine <"$T/sub" >"$T/got" 2>"$T/err" || ! cmp -s "$T/got" "$T/secret"; then
		subsets_ok=0
		echo "# subset $s: $(cat "$T/err")"
	fi
done
[ $subsets_ok = 1 ] && t_ok "every 3-subset (and more) of 5 recombines" || t_fail "every 3-subset recombines"
sed -n '1,2p' "$T/shares" >"$T/sub"
"$KQ" combine <"$T/sub" >"$T/got" 2>/dev/null
if cmp -s "$T/got" "$T/secret"; then t_fail "2 of a 3-of-5 do not give the secret"; else t_ok "2 of a 3-of-5 do not give the secret"; fi

x_ok=1
for i in 1 2 3 4 5; do
	x=$(sed -n "${i}p" "$T/shares" | base64 -d | tail -c 1 | od -An -tu1 | tr -d ' ')
	[ "$x" -ge 1 ] && [ "$x" -le 255 ] || x_ok=0
	echo "$x"
done >"$T/xs"
[ $x_ok = 1 ] && [ "$(sort -u "$T/xs" | wc -l)" = 5 ] && t_ok "x-coordinates distinct, in 1..255" || t_fail "x-coordinates distinct" "$(cat "$T/xs")"

printf 'hello vault' | "$KQ" split -t 2 -n 3 --out hex >"$T/hexshares" 2>"$T/err"
if grep -qE '^[0-9a-f]{24}$' "$T/hexshares" && head -2 "$T/hexshares" | "$KQ" combine --in hex --out hex >"$T/got" 2>>"$T/err" &&
	[ "$(cat "$T/got")" = "$(printf 'hello vault' | od -An -tx1 | tr -d ' \n')" ]; then
	t_ok "split --out hex / combine --in hex --out hex"
else
	t_fail "split --out hex / combine --in hex --out hex" "$(cat "$T/err")"
fi
echo "aGVsbG8gdmF1bHQ=" | "$KQ" split -t 2 -n 2 --in base64 | "$KQ" combine --out base64 >"$T/got" 2>"$T/err"
[ "$(cat "$T/got")" = "aGVsbG8gdmF1bHQ=" ] && t_ok "split --in base64 / combine --out base64" || t_fail "split --in base64" "$(cat "$T/err")"

for len in 1 2 16 33 100 300 4096; do
	head -c $len /dev/urandom >"$T/s$len"
	"$KQ" split -t 5 -n 9 --secret-file "$T/s$len" | sed -n '2p;4p;6p;8p;9p' | "$KQ" combine --in base64 >"$T/g$len" 2>"$T/err" && cmp -s "$T/s$len" "$T/g$len" || { t_fail "round trip of $len bytes, 5-of-9" "$(cat "$T/err")"; continue; }
	t_ok "round trip of $len bytes, 5-of-9"
done
head -c 64 /dev/urandom >"$T/s64"
"$KQ" split -t 255 -n 255 --secret-file "$T/s64" | "$KQ" combine --in base64 >"$T/g64" 2>"$T/err"
cmp -s "$T/s64" "$T/g64" && t_ok "255-of-255 round trip" || t_fail "255-of-255 round trip" "$(cat "$T/err")"
# Output past one write's batch (64 KiB): 255 hex lines of 2050 characters
# go out in several writes; none may be lost, cut or doubled at a boundary.
head -c 1024 /dev/urandom >"$T/s1k"
"$KQ" split -t 2 -n 255 --out hex --secret-file "$T/s1k" >"$T/big" 2>"$T/err"
if [ "$(wc -l <"$T/big")" = 255 ] && ! grep -vqE '^[0-9a-f]{2050}$' "$T/big" &&
	[ "$(cut -c2049-2050 "$T/big" | sort -u | wc -l)" = 255 ]; then
	t_ok "split of 523 KB of lines: 255 whole lines, distinct x"
else
	t_fail "split of 523 KB of lines: 255 whole lines, distinct x" "$(wc -l <"$T/big") lines; $(head -c 300 "$T/err")"
fi
sed -n '1p;255p' "$T/big" | "$KQ" combine --in hex >"$T/g1k" 2>"$T/err"
cmp -s "$T/s1k" "$T/g1k" && t_ok "... and its first and last lines combine" || t_fail "... and its first and last lines combine" "$(cat "$T/err")"

# ---- Vault's own shares ----------------------------------------------
python3 - "$vec_shamir" "$T" <<'PY'
import json, sys, itertools
vec, d = sys.argv[1], sys.argv[2]
with open(f"{d}/vcases", "w") as out:
    for i, line in enumerate(open(vec)):
        v = json.loads(line)
        t = v["threshold"]
        for enc in ("b64", "hex"):
            shares = v["shares_" + enc]
            for j, sub in enumerate(itertools.combinations(range(len(shares)), t)):
                if j >= 4: break
                name = f"{d}/v{i}_{enc}_{j}"
                open(name, "w").write("".join(shares[k] + "\n" for k in sub))
                out.write(f"{name} {enc} {v['secret_hex']} {t}-of-{v['parts']}\n")
PY
vok=0
vbad=0
while read -r f enc want desc; do
	in=$([ "$enc" = b64 ] && echo base64 || echo hex)
	got=$("$KQ" combine --in "$in" --out hex <"$f" 2>"$T/err")
	if [ "$got" = "$want" ]; then vok=$((vok + 1)); else vbad=$((vbad + 1)); echo "# $f ($desc $enc): got '$got' want '$want' $(cat "$T/err")"; fi
done <"$T/vcases"
[ $vbad = 0 ] && [ $vok -gt 0 ] && t_ok "Vault's shares combine to Vault's secret ($vok subsets, hex and base64)" || t_fail "Vault's shares combine" "$vbad bad of $((vok + vbad))"
# --in auto on 33-byte shares, in both encodings, as Vault decodes keys
python3 -c '
import json,sys
for l in open(sys.argv[1]):
    v=json.loads(l)
    if len(v["secret_hex"])==64:
        print(v["shares_hex"][0]); print(v["shares_b64"][1]); print(v["shares_hex"][2] if v["threshold"]>2 else ""); print(v["secret_hex"]); break
' "$vec_shamir" >"$T/auto"
want=$(sed -n 4p "$T/auto")
sed -n 1,3p "$T/auto" | "$KQ" combine --out hex >"$T/got" 2>"$T/err"
[ "$(cat "$T/got")" = "$want" ] && t_ok "combine --in auto takes hex and base64 shares mixed, as Vault does" || t_fail "combine --in auto" "$(cat "$T/err")"

# ---- decode-root on Vault's and OpenBao's tokens ---------------------
python3 -c '
import json,sys
for l in open(sys.argv[1]):
    v=json.loads(l); print(v["encoded_token"], v["otp"], v["otp_length"], v["token"], v["variant"])
' "$vec_root" >"$T/rcases"
while read -r enc otp olen tok variant; do
	got=$(printf '%s\n%s\n' "$enc" "$otp" | "$KQ" decode-root 2>"$T/err")
	[ "$got" = "$tok" ] && t_ok "decode-root detects and decodes $variant" || t_fail "decode-root $variant" "got '$got' $(cat "$T/err")"
	got=$(printf '%s\n%s\n' "$enc" "$otp" | "$KQ" decode-root --otp-length "$olen" 2>"$T/err")
	[ "$got" = "$tok" ] && t_ok "decode-root --otp-length $olen ($variant)" || t_fail "decode-root --otp-length $olen" "got '$got' $(cat "$T/err")"
done <"$T/rcases"
read -r enc otp olen tok variant <"$T/rcases"
wrong=$(printf '%s' "$otp" | tr 'A-Za-z' 'B-ZAb-za')
t_expect 6 "decode-root with the wrong OTP is an integrity error" sh -c "printf '%s\n%s\n' '$enc' '$wrong' | '$KQ' decode-root"
if grep -q "$wrong" "$T/err" "$T/out"; then t_fail "the wrong OTP is not echoed"; else t_ok "the wrong OTP is not echoed"; fi
t_expect 6 "decode-root with an OTP of another length" sh -c "printf '%s\n%s\n' '$enc' '${otp}xx' | '$KQ' decode-root"
t_expect 2 "decode-root with a token that is not base64" sh -c "printf '%s\n%s\n' 'not*base64!' '$otp' | '$KQ' decode-root"
t_grep "…and says which value" "encoded token|OTP" "$T/err"
t_expect 2 "decode-root without the OTP line" sh -c "printf '%s\n' '$enc' | '$KQ' decode-root"
t_expect 2 "decode-root refuses arguments (no OTP on argv)" "$KQ" decode-root "$otp"
t_expect 2 "decode-root --otp-length wants a number" "$KQ" decode-root --otp-length x

# ---- bad input: clear errors, exit 2 or 6, never a crash ------------
sed -n 1p "$T/shares" >"$T/one"
t_expect 6 "combine with one share" "$KQ" combine <"$T/one"
t_grep "…says at least 2 are needed" "at least 2" "$T/err"
{ sed -n 1p "$T/shares"; sed -n 1p "$T/shares"; } >"$T/dup"
t_expect 6 "combine with the same share twice" "$KQ" combine <"$T/dup"
t_grep "…names the lines" "lines 1 and 2" "$T/err"
{ sed -n 1p "$T/shares"; sed -n 1p "$T/hexshares"; } >"$T/mixed"
t_expect 6 "combine with shares of unequal length" "$KQ" combine <"$T/mixed"
t_grep "…names the line and both lengths" "line 2 has 18 bytes, on line 1 33" "$T/err"
{ sed -n 1p "$T/shares"; printf 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n'; } >"$T/zero"
t_expect 6 "combine with an x = 0 share" "$KQ" combine <"$T/zero"
t_grep "…names the share" "line 2" "$T/err"
{ sed -n 1p "$T/shares"; echo 'this is not base64!'; } >"$T/bad"
t_expect 2 "combine with a line that is not base64" "$KQ" combine <"$T/bad"
t_grep "…names the line" "share on line 2" "$T/err"
if grep -q "this is not" "$T/err"; then t_fail "…and does not echo it"; else t_ok "…and does not echo it"; fi
t_expect 2 "combine --in hex with base64 input" "$KQ" combine --in hex <"$T/shares"
t_expect 6 "combine with empty input" "$KQ" combine </dev/null
t_expect 6 "combine with a 1-byte share" sh -c "echo AA== | '$KQ' combine --in base64; "
t_expect 2 "combine --out bogus" "$KQ" combine --out bogus
t_expect 2 "split -t 1" "$KQ" split -t 1 -n 3 --secret-file "$T/secret"
t_expect 2 "split -t 4 -n 3" "$KQ" split -t 4 -n 3 --secret-file "$T/secret"
t_expect 2 "split -n 256" "$KQ" split -t 2 -n 256 --secret-file "$T/secret"
t_expect 2 "split without -t" "$KQ" split -n 3 --secret-file "$T/secret"
t_expect 2 "split of an empty secret" "$KQ" split -t 2 -n 3 </dev/null
t_expect 2 "split --in hex of odd hex" sh -c "echo abc | '$KQ' split -t 2 -n 3 --in hex"
t_expect 2 "split --out raw is not offered" "$KQ" split -t 2 -n 3 --out raw --secret-file "$T/secret"
t_expect 1 "split of a missing file" "$KQ" split -t 2 -n 3 --secret-file "$T/nope"
t_grep "…names the file" "nope" "$T/err"
t_expect 2 "unknown verb" "$KQ" frobnicate
t_expect 0 "--version" "$KQ" --version
t_grep "…prints the version" "^keyquorum [0-9]" "$T/out"
for v in split combine decode-root; do
	t_expect 0 "$v --help" "$KQ" "$v" --help
done
t_done
