#!/usr/bin/env bash
# docs/keyquorum.1 cannot fall behind the binary: every verb, sub-verb and
# option that `keyquorum VERB --help` shows, the exit statuses and every
# environment variable the code reads are in it; and every man page in
# docs/ renders without a warning.
. "$(dirname "$0")/../lib.sh"
MAN=${KQ_MANPAGE:-$TOP/docs/keyquorum.1}

# The man page's text as written, roff escapes undone ("\-" is "-").
sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\f(CR//g' -e 's/\\&//g' \
	-e 's/^\.[A-Z][A-Z]* //' "$MAN" >"$T/man.txt"
# The man page's sections: lines after .SH NAME up to the next .SH.
section() { awk -v s="$1" '/^\.SH /{ f = ($0 == ".SH " s); next } f' "$MAN" | sed -e 's/\\-/-/g'; }
in_man() { grep -qE -- "(^|[^a-zA-Z0-9-])$1([^a-zA-Z0-9-]|\$)" "$T/man.txt"; }

"$KQ" --help >"$T/help"
awk '/^verbs:/ { f = 1; next } f && /^  [a-z]/ { print $1 }' "$T/help" >"$T/verbs"
[ -s "$T/verbs" ] || { t_fail "keyquorum --help lists verbs"; t_done; }

# --- verbs ----------------------------------------------------------------------
m=''
while read -r v; do grep -qx "\.SS $v" "$MAN" || m="$m $v"; done <"$T/verbs"
[ -z "$m" ] && t_ok "every verb of keyquorum --help has its .SS section" || t_fail "every verb has its .SS section" "missing:$m"
m=''
for s in $(sed -n 's/^\.SS //p' "$MAN"); do grep -qx "$s" "$T/verbs" || m="$m $s"; done
[ -z "$m" ] && t_ok "the man page describes no verb the binary lacks" || t_fail "the man page describes no verb the binary lacks" "$m"
for o in --help --version; do in_man "$o" || t_fail "keyquorum $o is in the man page"; done

# --- each verb's sub-verbs and options ---------------------------------------------
while read -r v; do
	"$KQ" "$v" --help >"$T/h" 2>&1 || { t_fail "$v --help exits 0"; continue; }
	# Sub-verbs named on the usage lines ("keyquorum VERB SUB").
	m=''
	for vs in $(sed -n '/^$/q;p' "$T/h" | grep -oE 'keyquorum [a-z-]+ [a-z][a-z-]*' | sed 's/keyquorum //; s/ /:/' | sort -u); do
		grep -qE -- "keyquorum ${vs%%:*} ${vs#*:}( |\$)" "$T/man.txt" || m="$m ${vs/:/ };"
	done
	# Options anywhere in the help.
	for o in $(grep -oE -- '(^|[][ (,|])--?[a-z][a-z0-9-]*' "$T/h" | sed 's/^[][ (,|]*//' | sort -u); do
		in_man "$o" || m="$m $o"
	done
	[ -z "$m" ] && t_ok "$v: every sub-verb and option of '$v --help' is in keyquorum.1" ||
		t_fail "$v: every sub-verb and option of '$v --help' is in keyquorum.1" "missing:$m"
	# Help fits an 80-column terminal.
	w=$(awk 'length($0) > 79' "$T/h")
	[ -z "$w" ] || t_fail "$v --help fits 80 columns" "$w"
	# Exit statuses a verb's help names are documented.
	for n in $(grep -iA2 'exit status' "$T/h" | grep -oE '(^|[ ,:])[0-9]( |,|$)' | tr -dc '0-9\n' | sort -u); do
		section "EXIT STATUS" | grep -qx "\.B $n" || t_fail "$v: exit status $n is in EXIT STATUS"
	done
done <"$T/verbs"

# --- exit statuses --------------------------------------------------------------------
sed -n '/^exit status:/,$p' "$T/help" | tr -s '\n ' '  ' >"$T/status"
want=$(grep -oE '[0-9] ' "$T/status" | tr -d ' ' | tr '\n' ' ')
got=$(section "EXIT STATUS" | sed -n 's/^\.B \([0-9]\)$/\1/p' | tr '\n' ' ')
[ -n "$want" ] && [ "$want" = "$got" ] && t_ok "EXIT STATUS lists the statuses of keyquorum --help ($want)" ||
	t_fail "EXIT STATUS lists the statuses of keyquorum --help" "help: $want; man: $got"
# The words of each status in keyquorum --help appear in its entry.
for pair in 1:error 2:usage 3:PIN 4:token 5:Vault 6:integrity; do
	n=${pair%%:*} w=${pair#*:}
	grep -qE "(: |, )$n $w" "$T/status" || { t_fail "keyquorum --help names status $n '$w'"; continue; }
	section "EXIT STATUS" | awk -v n="$n" '$0 == ".B " n { f = 1; next } /^\.(TP|PP)/ { f = 0 } f' | grep -qi "$w" ||
		t_fail "EXIT STATUS: $n is described as $w"
done

# --- environment ---------------------------------------------------------------------------
# What the code reads (getenv, and the VAULT_* names passed to the client),
# and what any --help names.
{
	grep -rhoE 'getenv\("[A-Z_]+"\)|"(VAULT|KEYQUORUM)_[A-Z_]+"' "$TOP"/src "$TOP"/ceremony "$TOP"/hsm --include='*.[ch]' |
		grep -oE '[A-Z_]{3,}' | grep -vx getenv
	cat "$T/h" "$T/help" >/dev/null
	for v in $(cat "$T/verbs"); do "$KQ" "$v" --help 2>/dev/null; done | grep -oE '\$?(VAULT|KEYQUORUM)_[A-Z_]+' | tr -d '$'
} | grep -vxE 'PATH|LANG|LC_[A-Z]+|HOME|USER|TMPDIR' | sort -u >"$T/env"
section ENVIRONMENT >"$T/envsec"
m=''
while read -r e; do grep -qE "(^|[ ,])$e([ ,]|\$)" "$T/envsec" || m="$m $e"; done <"$T/env"
grep -q VAULT_ADDR "$T/env" && grep -q NO_COLOR "$T/env" || t_fail "the environment list was found in the code" "$(tr '\n' ' ' <"$T/env")"
[ -z "$m" ] && t_ok "ENVIRONMENT documents each variable the code reads ($(wc -l <"$T/env"))" ||
	t_fail "ENVIRONMENT documents each variable the code reads" "missing:$m"

# --- rendering -------------------------------------------------------------------------------
if command -v man >/dev/null; then
	for f in "$TOP"/docs/*.1 "$TOP"/docs/*.5; do
		[ -f "$f" ] || continue
		w=$(MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null)
		[ -z "$w" ] && t_ok "man -l $(basename "$f") renders without warnings" ||
			t_fail "man -l $(basename "$f") renders without warnings" "$w"
	done
else
	t_fail "man is installed (package man-db)"
fi
t_done
