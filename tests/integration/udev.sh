#!/usr/bin/env bash
# udev/70-keyquorum.rules: syntax, well-formed vendor/product matches, and
# the token families it promises to cover.
. "$(dirname "$0")/../lib.sh"
rules="$TOP/udev/70-keyquorum.rules"
check="$TOP/tests/check-udev-rules"
if "$check" "$rules" >"$T/report" 2>&1; then t_ok "udev rules are well formed and cover the token families"; else t_fail "udev rules" "$(cat "$T/report")"; fi
# The checker must catch what it claims to.
sed 's/ATTR{idVendor}=="1050"/ATTR{idVendor}=="10G0"/' "$rules" >"$T/bad1.rules"
t_expect 1 "a malformed vendor id is caught" "$check" "$T/bad1.rules"
sed 's/GOTO="keyquorum_end"/GOTO="nowhere"/' "$rules" >"$T/bad2.rules"
t_expect 1 "a GOTO without its LABEL is caught" "$check" "$T/bad2.rules"
grep -v '096e' "$rules" >"$T/bad3.rules"
t_expect 1 "a missing token family is caught" "$check" "$T/bad3.rules"
sed 's/TAG+="uaccess"/TAG=="uaccess"/' "$rules" >"$T/bad4.rules"
t_expect 1 "a match where an assignment belongs is caught" "$check" "$T/bad4.rules"
t_done
