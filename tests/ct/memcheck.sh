# tests/ct/memcheck.sh: the ctgrind method, for tests/integration/
# ct-valgrind.sh (shamir/) and ct-encoding.sh (the codecs).  Sourced after
# tests/lib.sh with CT set to the check program (tests/ct/ct_*.c), which
# marks its secret bytes undefined (tests/ct/ct.h) and exits 99 on a
# negative control.  Any "Conditional jump or move depends on
# uninitialised value" or "Use of uninitialised value" under memcheck is a
# secret-dependent branch or address.

VG=(valgrind --tool=memcheck --error-exitcode=99 --track-origins=yes
	--num-callers=12)

# ct_need: valgrind and $CT are there, or the script ends failed.
ct_need() {
	if ! command -v valgrind >/dev/null 2>&1; then
		t_fail "valgrind is installed" "apt-get install valgrind"
		t_done
	fi
	if [ ! -x "$CT" ]; then
		t_fail "$(basename "$CT") is built" "$CT missing: make B=$B tests"
		t_done
	fi
	# What the real CPU offers and what valgrind's emulated CPUID offers.
	echo "# kernels on this CPU: $("$CT" --list | tr '\n' ' ')"
	echo "# kernels under valgrind: $("${VG[@]}" -q "$CT" --list 2>/dev/null | tr '\n' ' ')"
}

# ct_check CLAIM: run $CT under memcheck; CLAIM ("split and combine take no
# secret-dependent branch or address") holds when it exits 0 with cases
# checked, no "not ok" and no memcheck report.
ct_check() {
	local rc checked bad kernels
	"${VG[@]}" "$CT" >"$T/ct.out" 2>"$T/ct.log"
	rc=$?
	grep '^#' "$T/ct.out"
	checked=$(grep -c '^ok - ct ' "$T/ct.out")
	bad=$(grep -cE 'Conditional jump or move depends on uninitialised value|Use of uninitialised value' "$T/ct.log")
	kernels=$(grep -o 'kernel [a-z0-9-]*: checking' "$T/ct.out" | cut -d' ' -f2 | tr -d : | tr '\n' ' ')
	if [ "$rc" = 0 ] && [ "$bad" = 0 ] && [ "$checked" -gt 0 ] &&
		! grep -q '^not ok' "$T/ct.out"; then
		t_ok "ct: $1 ($checked cases, kernels: $kernels)"
	else
		t_fail "ct: $1" \
			"exit $rc, $bad memcheck reports, $checked cases; log: $(grep -A8 -E 'uninitialised|^not ok' "$T/ct.log" "$T/ct.out" | head -c 3000)"
	fi
	grep -o 'kernel [a-z0-9-]*: not offered[^,]*' "$T/ct.out" |
		sed 's/^/# not checked (valgrind cannot run it): /'
}

# ct_neg WHO NAME FLAG EXPECTED-REPORT FUNCTION: the negative control
# `$CT FLAG` leaks on purpose; memcheck must report EXPECTED-REPORT in
# FUNCTION (and $CT exit 99).
ct_neg() {
	local nrc
	"${VG[@]}" "$CT" "$3" >"$T/neg.out" 2>"$T/neg.log"
	nrc=$?
	if [ "$nrc" = 99 ] && grep -q "$4" "$T/neg.log" && grep -q "$5" "$T/neg.log"; then
		t_ok "$1 negative control: $2 is reported"
	else
		t_fail "$1 negative control: $2 is reported" \
			"exit $nrc; log: $(head -c 1500 "$T/neg.log")"
	fi
}
