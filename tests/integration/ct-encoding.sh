#!/usr/bin/env bash
# Constant-time check of the hex and base64 codecs (src/common/encoding*)
# under valgrind's memcheck (the ctgrind method): tests/ct/ct_encoding marks
# every data byte (binary or text) undefined and runs every encoder and
# decoder, on valid and invalid inputs and too-small outputs, with each
# kernel that valgrind's emulated CPU offers (valgrind 3.19 has no AVX-512,
# so AVX-512 kernels, if any, are not checked here).  Any "Conditional jump
# or move depends on uninitialised value" or "Use of uninitialised value"
# fails the check.  Negative controls prove memcheck sees such leaks,
# libsodium's own base64 decoder among them.
. "$(dirname "$0")/../lib.sh"

CT="$TOP/$B/tests/ct/ct_encoding"
VG=(valgrind --tool=memcheck --error-exitcode=99 --track-origins=yes
	--num-callers=12)

if ! command -v valgrind >/dev/null 2>&1; then
	t_fail "valgrind is installed" "apt-get install valgrind"
	t_done
fi
if [ ! -x "$CT" ]; then
	t_fail "ct_encoding is built" "$CT missing: make B=$B tests"
	t_done
fi

echo "# codec kernels on this CPU: $("$CT" --list | tr '\n' ' ')"
echo "# codec kernels under valgrind: $("${VG[@]}" -q "$CT" --list 2>/dev/null | tr '\n' ' ')"

"${VG[@]}" "$CT" >"$T/ct.out" 2>"$T/ct.log"
rc=$?
checked=$(grep -c '^ok - ct ' "$T/ct.out")
bad=$(grep -cE 'Conditional jump or move depends on uninitialised value|Use of uninitialised value' "$T/ct.log")
kernels=$(grep -o 'kernel [a-z0-9-]*: checking' "$T/ct.out" | cut -d' ' -f2 | tr -d : | tr '\n' ' ')
if [ "$rc" = 0 ] && [ "$bad" = 0 ] && [ "$checked" -gt 0 ] &&
	! grep -q '^not ok' "$T/ct.out"; then
	t_ok "ct: hex and base64 codecs take no data-dependent branch or address ($checked cases, kernels: $kernels)"
else
	t_fail "ct: hex and base64 codecs take no data-dependent branch or address" \
		"exit $rc, $bad memcheck reports, $checked cases; log: $(grep -A8 -E 'uninitialised|^not ok' "$T/ct.log" "$T/ct.out" | head -c 3000)"
fi
grep -o 'kernel [a-z0-9-]*: not offered[^,]*' "$T/ct.out" |
	sed 's/^/# not checked (valgrind cannot run it): /'

neg() { # NAME FLAG EXPECTED-REPORT FUNCTION
	"${VG[@]}" "$CT" "$2" >"$T/neg.out" 2>"$T/neg.log"
	local nrc=$?
	if [ "$nrc" = 99 ] && grep -q "$3" "$T/neg.log" && grep -q "$4" "$T/neg.log"; then
		t_ok "ct-encoding negative control: $1 is reported"
	else
		t_fail "ct-encoding negative control: $1 is reported" \
			"exit $nrc; log: $(head -c 1500 "$T/neg.log")"
	fi
}
neg "secret-dependent branch" --negative-branch \
	'Conditional jump or move depends on uninitialised value' ct_leak_branch
neg "secret-dependent table index" --negative-index \
	'Use of uninitialised value of size' ct_leak_index
neg "libsodium's base64 decoder (stops at the first bad character)" \
	--negative-sodium \
	'Conditional jump or move depends on uninitialised value' sodium_base642bin
t_done
