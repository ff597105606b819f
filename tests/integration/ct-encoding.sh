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
. "$TOP/tests/ct/memcheck.sh"
ct_need
ct_check "hex and base64 codecs take no data-dependent branch or address"
ct_neg ct-encoding "secret-dependent branch" --negative-branch \
	'Conditional jump or move depends on uninitialised value' ct_leak_branch
ct_neg ct-encoding "secret-dependent table index" --negative-index \
	'Use of uninitialised value of size' ct_leak_index
ct_neg ct-encoding "libsodium's base64 decoder (stops at the first bad character)" \
	--negative-sodium \
	'Conditional jump or move depends on uninitialised value' sodium_base642bin
t_done
