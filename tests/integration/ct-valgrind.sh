#!/usr/bin/env bash
# Constant-time check of shamir/ under valgrind's memcheck (the ctgrind
# method): tests/ct/ct_shamir marks the secret, every random byte and every
# share undefined and runs split and combine with each kernel that
# valgrind's emulated CPU offers.  Any "Conditional jump or move depends on
# uninitialised value" or "Use of uninitialised value" fails the check.
# Two negative controls prove that memcheck does see such leaks.
. "$(dirname "$0")/../lib.sh"

CT="$TOP/$B/tests/ct/ct_shamir"
. "$TOP/tests/ct/memcheck.sh"
ct_need
ct_check "split and combine take no secret-dependent branch or address"
# Negative controls: a branch and a table index on a secret byte.
ct_neg ct "secret-dependent branch" --negative-branch \
	'Conditional jump or move depends on uninitialised value' ct_leak_branch
ct_neg ct "secret-dependent table index" --negative-index \
	'Use of uninitialised value of size' ct_leak_index
t_done
