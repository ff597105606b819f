#!/usr/bin/env bash
# Constant-time check of shamir/ under MemorySanitizer: the same program as
# ct-valgrind.sh (tests/ct/ct_shamir.c), built with clang
# -fsanitize=memory -DKQ_CTMSAN (tests/ct/ct_shamir_msan).  MSan's shadow
# plays the part of memcheck's definedness: the secret, every random byte
# and every share are poisoned, and a branch or a memory address that
# depends on one is reported.  MSan runs the code natively, so it checks
# every kernel this CPU offers, the GFNI and AVX-512 ones that valgrind
# 3.19 cannot decode among them.  Where MSan does not know an intrinsic it
# checks its operands strictly (a report, not a silence), and it propagates
# through the ones it knows (GFNI multiply, masked loads and stores).  Two
# negative controls prove that it sees such leaks.
. "$(dirname "$0")/../lib.sh"

CT="$TOP/$B/tests/ct/ct_shamir_msan"
if [ ! -x "$CT" ]; then
	t_fail "ct_shamir_msan is built" "$CT missing: make B=$B tests (needs clang and libclang-rt-14-dev)"
	t_done
fi
echo "# kernels on this CPU: $("$CT" --list | tr '\n' ' ')"
MSAN_OPTIONS=exitcode=99 "$CT" >"$T/ct.out" 2>"$T/ct.log"
rc=$?
grep '^#' "$T/ct.out"
checked=$(grep -c '^ok - ct ' "$T/ct.out")
kernels=$(grep -o 'kernel [a-z0-9-]*: checking' "$T/ct.out" | cut -d' ' -f2 | tr -d : | tr '\n' ' ')
if [ "$rc" = 0 ] && [ "$checked" -gt 0 ] && ! grep -q '^not ok' "$T/ct.out" &&
	! grep -q 'MemorySanitizer' "$T/ct.log"; then
	t_ok "ct (MSan): split and combine take no secret-dependent branch or address ($checked cases, kernels: $kernels)"
else
	t_fail "ct (MSan): split and combine take no secret-dependent branch or address" \
		"exit $rc, $checked cases; log: $(head -c 3000 "$T/ct.log")"
fi
# Every kernel the CPU offers was checked.
offered=$("$CT" --list | awk '$2 == "usable" { print $1 }' | sort | tr '\n' ' ')
[ "$(echo "$kernels" | tr ' ' '\n' | grep . | sort | tr '\n' ' ')" = "$offered" ] &&
	t_ok "ct (MSan): every kernel this CPU offers was checked ($offered)" ||
	t_fail "ct (MSan): every kernel this CPU offers was checked" "offered: $offered; checked: $kernels"

neg() { # NAME FLAG FUNCTION
	MSAN_OPTIONS=exitcode=99 "$CT" "$2" >"$T/neg.out" 2>"$T/neg.log"
	local nrc=$?
	if [ "$nrc" = 99 ] && grep -q 'use-of-uninitialized-value' "$T/neg.log" && grep -q "$3" "$T/neg.log"; then
		t_ok "ct (MSan) negative control: $1 is reported"
	else
		t_fail "ct (MSan) negative control: $1 is reported" "exit $nrc; log: $(head -c 1500 "$T/neg.log")"
	fi
}
neg "secret-dependent branch" --negative-branch ct_leak_branch
neg "secret-dependent table index" --negative-index ct_leak_index
t_done
