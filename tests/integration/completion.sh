#!/usr/bin/env bash
# src/keyquorum.bash: the verbs, sub-verbs and options it completes are
# the ones the binary's own --help lists (so it fails when completion falls
# behind a new option), a few option values, and its install/uninstall.
. "$(dirname "$0")/../lib.sh"
SRC="$TOP/src/keyquorum.bash"

t_run "the completion script parses (bash -n)" bash -n "$SRC"
# shellcheck disable=SC1090
. "$SRC"
complete -p keyquorum 2>/dev/null | grep -q -- '-F _keyquorum' &&
	t_ok "sourcing it registers _keyquorum for keyquorum" ||
	t_fail "sourcing it registers _keyquorum for keyquorum"

# comp WORD...: what completing the last word offers, sorted, one a line.
comp() {
	COMP_WORDS=(keyquorum "$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_keyquorum 2>/dev/null
	printf '%s\n' "${COMPREPLY[@]+"${COMPREPLY[@]}"}" | sed '/^$/d' | sort -u
}
# opts_in: the options a text names (-t, --threshold, ...), sorted.
opts_in() {
	grep -oE -- '(^|[][ (,|])--?[a-z][a-z0-9-]*' | sed 's/^[][ (,|]*//' | sort -u
}
# missing A B: lines of file A not in file B.
missing() { comm -23 "$1" "$2" | tr '\n' ' '; }

# --- verbs ----------------------------------------------------------------
"$KQ" --help | awk '/^verbs:/ { f = 1; next } f && /^  [a-z]/ { print $1 }' | sort -u >"$T/verbs"
[ -s "$T/verbs" ] || t_fail "keyquorum --help lists verbs"
{ cat "$T/verbs"; printf '%s\n' --help --version; } | sort -u >"$T/want"
comp '' >"$T/got"
if cmp -s "$T/want" "$T/got"; then
	t_ok "verbs: completes exactly the $(wc -l <"$T/verbs") verbs of keyquorum --help"
else
	t_fail "verbs: completes the verbs of keyquorum --help" "missing: $(missing "$T/want" "$T/got"); extra: $(missing "$T/got" "$T/want")"
fi
comp cer >"$T/got"
[ "$(cat "$T/got")" = ceremony ] && t_ok "verbs: 'cer' completes to ceremony" || t_fail "verbs: 'cer' completes to ceremony" "$(cat "$T/got")"

# --- sub-verbs and options of each verb ------------------------------------
# Every help first: a verb's help may show another verb's sub-verb
# (envelope --help shows "keyquorum ceremony seal-envelope ...").
: >"$T/usage"
while read -r v; do
	"$KQ" "$v" --help >"$T/help.$v" 2>&1 || t_fail "$v --help exits 0"
	# "X Y OPT" (Y "-" when X has no sub-verb) for each option on the
	# usage lines, and "X Y" alone for each usage line.
	sed -n '/^$/q;p' "$T/help.$v" | awk -v v="$v" '
		{ l = $0; sub(/^usage:/, "", l) }
		l ~ /^ *keyquorum / { n = split(l, w, " "); x = w[2]; y = (w[3] ~ /^[a-z][a-z-]*$/) ? w[3] : "-"; i = 4; print v, x, y, "-" }
		l !~ /^ *keyquorum / { n = split(l, w, " "); i = 1 }
		{ for (; i <= n; i++) { o = w[i]; gsub(/^[][(|]+|[]=)|,].*$/, "", o); if (o ~ /^--?[a-z][a-z0-9-]*$/) print v, x, y, o } }' >>"$T/usage"
done <"$T/verbs"
while read -r v; do
	awk -v v="$v" '$2 == v && $3 != "-" { print $3 }' "$T/usage" | sort -u >"$T/subs.$v"
	subs=$(cat "$T/subs.$v")
	if [ -n "$subs" ]; then
		comp "$v" '' | grep -v '^--help$' >"$T/got"
		if cmp -s "$T/subs.$v" "$T/got"; then
			t_ok "$v: completes its sub-verbs ($(tr '\n' ' ' <"$T/subs.$v"))"
		else
			t_fail "$v: completes its sub-verbs" "want: $(tr '\n' ' ' <"$T/subs.$v"); got: $(tr '\n' ' ' <"$T/got")"
		fi
	fi
	# Options on the usage lines, sub-verb by sub-verb.
	m=''
	while read -r h x y o; do
		[ "$o" = - ] && continue
		[ "$y" = - ] && y=''
		comp "$x" $y - | grep -qx -- "$o" || m="$m $x $y $o;"
	done < <(awk -v v="$v" '$2 == v' "$T/usage")
	# Options in the rest of the help: completed for one of the sub-verbs
	# this help describes.
	: >"$T/near"
	while read -r x y; do
		[ "$y" = - ] && y=''
		comp "$x" $y - >>"$T/near"
	done < <(awk -v v="$v" '$1 == v { print $2, $3 }' "$T/usage" | sort -u)
	[ -s "$T/near" ] || comp "$v" - >"$T/near"
	sort -u -o "$T/near" "$T/near"
	for o in $(opts_in <"$T/help.$v"); do
		grep -qx -- "$o" "$T/near" || m="$m $o"
	done
	[ -z "$m" ] && t_ok "$v: every option of '$v --help' is completed" ||
		t_fail "$v: every option of '$v --help' is completed" "missing from src/keyquorum.bash:$m"
	# Each option completed is documented: in the help of the verb, or of
	# any verb whose help shows this sub-verb; and the binary knows it.
	bad='' undoc='' unknown=''
	for s in ${subs:-''}; do
		{
			cat "$T/help.$v"
			for h in $(awk -v v="$v" -v s="${s:--}" '$2 == v && $3 == s { print $1 }' "$T/usage" | sort -u); do cat "$T/help.$h"; done
		} | opts_in >"$T/doc"
		while read -r opt; do
			[ "$opt" = --help ] && continue
			grep -qx -- "$opt" "$T/doc" || undoc="$undoc $v $s $opt;"
			# With a value after it: only an unknown option is an error here.
			(cd "$T" && "$KQ" $v $s "$opt" kq-x </dev/null >/dev/null 2>"$T/e") || true
			grep -qE 'unknown option|unrecognized option' "$T/e" && bad="$bad $v $s $opt;"
			grep -qE "unknown (ceremony|sub-?verb)" "$T/e" && unknown="$v $s"
		done < <(comp "$v" $s -)
	done
	[ -z "$undoc" ] && t_ok "$v: every option completed is documented in a --help" ||
		t_fail "$v: every option completed is documented in a --help" "not documented:$undoc"
	[ -z "$bad" ] && t_ok "$v: the binary accepts every option completed" || t_fail "$v: the binary accepts every option completed" "$bad"
	[ -z "$unknown" ] || echo "# '$unknown' is documented but this binary does not run it yet"
done <"$T/verbs"

# --- option values and files --------------------------------------------------
[ "$(comp custody create --kind vault- | tr '\n' ' ')" = "vault-recovery vault-unseal " ] &&
	t_ok "values: --kind vault- completes the two Vault kinds" || t_fail "values: --kind completes kinds" "$(comp custody create --kind vault-)"
for k in $(comp custody create --kind ''); do
	grep -q -- "$k" "$T/help.custody" || t_fail "values: kind $k is in custody --help"
done
for ty in $(comp token keygen --type ''); do
	grep -q -- "$ty" "$T/help.token" || t_fail "values: key type $ty is in token --help"
done
[ "$(comp token keygen --type '' | wc -l)" = 4 ] && t_ok "values: --type offers the 4 key types of token --help" || t_fail "values: --type offers 4 key types"
[ "$(comp split --in '' | tr '\n' ' ')" = "base64 hex raw " ] && t_ok "values: split --in" || t_fail "values: split --in" "$(comp split --in '')"
[ "$(comp combine --out '' | tr '\n' ' ')" = "base64 hex raw " ] && t_ok "values: combine --out" || t_fail "values: combine --out"
mkdir -p "$T/d" && touch "$T/d/prod.json" "$T/d/prod.json.transcript"
[ "$(comp ceremony unseal --custody "$T/d/pr" | tr '\n' ' ')" = "$T/d/prod.json $T/d/prod.json.transcript " ] &&
	t_ok "files: --custody completes file names" || t_fail "files: --custody completes file names" "$(comp ceremony unseal --custody "$T/d/pr")"
[ "$(comp audit verify "$T/d/prod.json.t")" = "$T/d/prod.json.transcript" ] &&
	t_ok "files: audit verify FILE" || t_fail "files: audit verify FILE"
[ "$(comp ceremony seal-envelope --type '' | tr '\n' ' ')" = "file rollback-plan " ] && t_ok "values: seal-envelope --type" || t_fail "values: seal-envelope --type" "$(comp ceremony seal-envelope --type '')"
touch "$T/d/plan.json"; [ "$(comp ceremony seal-envelope --in "$T/d/pla")" = "$T/d/plan.json" ] && t_ok "files: seal-envelope --in FILE" || t_fail "files: seal-envelope --in FILE"
[ -z "$(comp ceremony unseal --pin-source '')" ] && t_ok "values: nothing guessed for --pin-source" || t_fail "values: nothing guessed for --pin-source"

# --- make install / uninstall ---------------------------------------------------
stage=$T/stage
# make install depends on the build: give it the flags $B was built with,
# or it would relink a sanitizer build without them.
MK=(make -s -C "$TOP" B="$B")
if [ -n "${SANITIZE:-}" ]; then MK+=(SANITIZE="$SANITIZE")
elif nm -D "$KQ" 2>/dev/null | grep -q __asan_init; then MK+=(SANITIZE=address,undefined); fi
t_run "make install DESTDIR=... installs the completion" \
	"${MK[@]}" install DESTDIR="$stage" PREFIX=/usr UDEVRULESDIR=/usr/lib/udev/rules.d
inst=$stage/usr/share/bash-completion/completions/keyquorum
cmp -s "$inst" "$SRC" && t_ok "installed usr/share/bash-completion/completions/keyquorum" ||
	t_fail "installed usr/share/bash-completion/completions/keyquorum" "$(cd "$stage" && find . -path '*compl*')"
[ "$(stat -c %a "$inst" 2>/dev/null)" = 644 ] && t_ok "... mode 0644" || t_fail "... mode 0644"
out=$(env -i PATH="$PATH" bash --norc --noprofile -c ". '$inst'; COMP_WORDS=(keyquorum ceremony ''); COMP_CWORD=2; _keyquorum; echo \${COMPREPLY[*]}")
case $out in *generate-root*) t_ok "the installed file works in a bare bash" ;; *) t_fail "the installed file works in a bare bash" "$out" ;; esac
"${MK[@]}" install DESTDIR="$T/stage2" PREFIX=/opt/kq BASHCOMPDIR=/etc/bash_completion.d UDEVRULESDIR=/x >/dev/null 2>&1
[ -f "$T/stage2/etc/bash_completion.d/keyquorum" ] && t_ok "BASHCOMPDIR is honoured" || t_fail "BASHCOMPDIR is honoured"
t_run "make uninstall" "${MK[@]}" uninstall DESTDIR="$stage" PREFIX=/usr UDEVRULESDIR=/usr/lib/udev/rules.d
[ ! -e "$inst" ] && t_ok "uninstall removes the completion" || t_fail "uninstall removes the completion"
t_done
