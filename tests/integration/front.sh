#!/usr/bin/env bash
# The front (src/front.c): `keyquorum` runs the offline verbs (those
# marked KQ_VERB_OFFLINE in src/verbs.def) in-process without mapping
# libcrypto or any other library the ceremonies need, and execs
# keyquorum-full, found beside it (build tree) or in
# ../libexec/keyquorum/ (installed), for every other verb, with argv,
# output and exit status as they are.
. "$(dirname "$0")/../lib.sh"

F=$KQ_REAL
FULL=$TOP/$B/keyquorum-full
[ -x "$FULL" ] || { t_fail "the build has $B/keyquorum-full" "make B=$B"; t_done; }
# What only the ceremonies need: none of it may be mapped by an offline verb.
HEAVY='lib(crypto|ssl|p11-kit|jansson|pcsclite|assuan|gpg-error|ffi|curl)[.]so'
san=0
nm -D "$F" 2>/dev/null | grep -q '__asan_init\|__ubsan_handle' && san=1

# ---- the layout --------------------------------------------------------
readelf -d "$F" | awk '/NEEDED/ { print $NF }' | tr -d '[]' >"$T/needed"
if grep -qE "$HEAVY" "$T/needed"; then
	t_fail "the front links none of libcrypto, libssl, p11-kit, jansson, pcsclite, assuan" "$(tr '\n' ' ' <"$T/needed")"
else
	t_ok "the front links none of libcrypto, libssl, p11-kit, jansson, pcsclite, assuan ($(tr '\n' ' ' <"$T/needed"))"
fi
# libsodium: its archive linked in (FRONT_SODIUM=static, the default) or
# the shared library (FRONT_SODIUM=shared).
if grep -q '^libsodium' "$T/needed"; then
	sodium=shared
	t_ok "the front links libsodium (shared)"
elif nm "$F" 2>/dev/null | grep -q ' T sodium_malloc$' && nm "$F" | grep -q ' T sodium_init$'; then
	sodium=static
	t_ok "the front has libsodium linked in (static)"
else
	sodium=
	t_fail "the front links libsodium, shared or static" "$(cat "$T/needed")"
fi
readelf -d "$FULL" | grep -q 'NEEDED.*libcrypto' && t_ok "keyquorum-full links libcrypto (every verb)" ||
	t_fail "keyquorum-full links libcrypto"

# ---- offline verbs load nothing heavy (LD_DEBUG=files: dlopen too) -------
head -c 32 /dev/urandom >"$T/s32"
"$F" split -t 3 -n 5 --secret-file "$T/s32" >"$T/shares" || t_fail "split"
head -3 "$T/shares" >"$T/three"
printf '%s\n%s\n' KR5KXz0vNxFECAcIaQQlfAYJCgEgEDQ1CS8bJg Ah9qwYQzspnj9iS0WJmuQQNCXUcd >"$T/root.in"
# light NAME STDIN ARGS...: the run succeeds and loads no heavy library.
light() {
	local name=$1 in=$2
	shift 2
	if ! LD_DEBUG=files LD_DEBUG_OUTPUT="$T/ld" "$F" "$@" <"$in" >"$T/out" 2>"$T/err"; then
		t_fail "$name: runs" "$(head -c 300 "$T/err")"
		return
	fi
	cat "$T"/ld.* >"$T/ldlog" 2>/dev/null
	rm -f "$T"/ld.*
	if [ ! -s "$T/ldlog" ]; then
		t_fail "$name: LD_DEBUG=files logged the libraries"
	elif grep -qE "file=.*$HEAVY" "$T/ldlog"; then
		t_fail "$name: in-process, no libcrypto (nor p11-kit, jansson...) loaded" "$(grep -oE "file=[^ ]+" "$T/ldlog" | sort -u | tr '\n' ' ')"
	elif grep -q 'keyquorum-full' "$T/ldlog"; then
		t_fail "$name: in-process (the front did not exec keyquorum-full)"
	else
		t_ok "$name: in-process, no libcrypto (nor p11-kit, jansson...) loaded"
	fi
}
light "split 3-of-5" "$T/s32" split -t 3 -n 5
light "split --secret-file, hex out" /dev/null split -t 2 -n 3 --out hex --secret-file "$T/s32"
light "combine" "$T/three" combine --out hex
[ "$(cat "$T/out")" = "$(od -An -tx1 -v "$T/s32" | tr -d ' \n')" ] && t_ok "combine gave the secret back" || t_fail "combine gave the secret back"
light "decode-root" "$T/root.in" decode-root
grep -qx 'hvs.Jvfk7xibPmvLQCgtqAzvQzxB' "$T/out" && t_ok "decode-root decoded" || t_fail "decode-root decoded" "$(cat "$T/out")"
light "--version" /dev/null --version
light "--help" /dev/null --help
light "split --help" /dev/null split --help
light "help combine" /dev/null help combine
light "decode-root --help" /dev/null decode-root --help

# The same from outside, while split waits for its secret: its maps, its
# hardening (umask 077, no core) and that it is the front itself.
if [ "$san" = 0 ]; then
	mkfifo "$T/fifo"
	"$F" split -t 2 -n 3 <"$T/fifo" >"$T/fifo.out" 2>&1 &
	pid=$!
	exec 9>"$T/fifo"
	for _ in $(seq 100); do
		grep -q 'libc[.]so' "/proc/$pid/maps" 2>/dev/null && break
		sleep 0.05
	done
	sleep 0.1
	maps=$(awk '{ print $6 }' "/proc/$pid/maps" 2>/dev/null | sort -u)
	umask_=$(awk '/^Umask:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
	core=$(awk '/^Max core file size/ { print $5, $6 }' "/proc/$pid/limits" 2>/dev/null)
	exe=$(readlink "/proc/$pid/exe")
	printf 'secret' >&9
	exec 9>&-
	wait "$pid" && [ "$(wc -l <"$T/fifo.out")" = 3 ] && t_ok "split read from a pipe it waited on" || t_fail "split from a fifo" "$(cat "$T/fifo.out")"
	if [ -n "$maps" ] && ! grep -qE "$HEAVY" <<<"$maps" &&
		{ [ "$sodium" = static ] || grep -q libsodium <<<"$maps"; }; then
		t_ok "/proc/PID/maps of a running split: no libcrypto (libsodium $sodium)"
	else
		t_fail "/proc/PID/maps of a running split: no libcrypto (libsodium $sodium)" "$(tr '\n' ' ' <<<"$maps")"
	fi
	[ "$exe" = "$F" ] && t_ok "split runs in the front itself" || t_fail "split runs in the front itself" "$exe"
	[ "$umask_" = 0077 ] && t_ok "the front sets umask 077" || t_fail "the front sets umask 077" "$umask_"
	[ "$core" = "0 0" ] && t_ok "the front allows no core dump (RLIMIT_CORE 0)" || t_fail "the front: RLIMIT_CORE 0" "$core"
else
	echo "ok - /proc view of a running split # SKIP sanitizer build (its run-time maps more)"
fi

# ---- every other verb: exec keyquorum-full, argv as it is ---------------
# strace shows the exec (LeakSanitizer cannot run under ptrace: off here).
nolsan="ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
if ! command -v strace >/dev/null; then
	echo "ok - audit: the front execs keyquorum-full (strace view) # SKIP strace not installed (the probe below checks argv)"
else
env "$nolsan" strace -f -qq -s 256 -e trace=execve -o "$T/strace" "$F" audit verify 'a b' '' '*' "$T/none" >/dev/null 2>&1
rc=$?
# (the installed location is tried first: ENOENT in a build tree)
grep 'execve(.*= 0$' "$T/strace" | sed 's/^[0-9]* *//' >"$T/execs"
want_argv="[\"$F\", \"audit\", \"verify\", \"a b\", \"\", \"*\", \"$T/none\"]"
"$FULL" audit verify 'a b' '' '*' "$T/none" >/dev/null 2>&1
rc_full=$?
if [ "$(wc -l <"$T/execs")" = 2 ] && [ $rc = $rc_full ] && grep -qF "execve(\"$FULL\", $want_argv" "$T/execs"; then
	t_ok "audit: the front execs $B/keyquorum-full once, with argv (argv[0] too) as it is (exit $rc)"
else
	t_fail "audit: the front execs keyquorum-full with argv as it is" "$(cat "$T/execs")"
fi
fi
LD_DEBUG=files LD_DEBUG_OUTPUT="$T/ld" "$F" tokens --help >/dev/null 2>&1
cat "$T"/ld.* >"$T/ldlog" 2>/dev/null
rm -f "$T"/ld.*
grep -q "file=libcrypto" "$T/ldlog" && t_ok "tokens --help: the exec'd keyquorum-full loads libcrypto" ||
	t_fail "tokens --help: the exec'd keyquorum-full loads libcrypto" "$(grep -oE 'file=[^ ]+' "$T/ldlog" | head -5)"

# same ARGS...: the front and keyquorum-full give the same stdout, stderr
# and exit status (stdin from $IN, /dev/null unless set).
n_same=0 n_all=0 IN=/dev/null rcs_seen=
same() {
	local a b
	n_all=$((n_all + 1))
	"$F" "$@" <"$IN" >"$T/f.out" 2>"$T/f.err"
	a=$?
	"$FULL" "$@" <"$IN" >"$T/k.out" 2>"$T/k.err"
	b=$?
	if [ "$a" = "$b" ] && cmp -s "$T/f.out" "$T/k.out" && cmp -s "$T/f.err" "$T/k.err"; then
		n_same=$((n_same + 1))
		rcs_seen="$rcs_seen $a"
	else
		t_fail "front and keyquorum-full agree: keyquorum $*" "exit $a vs $b; $(diff "$T/f.err" "$T/k.err" | head -4 | tr '\n' ' ')"
	fi
}
printf '{"not": "a transcript"}\n' >"$T/bad.jsonl"
printf 'not json\n' >"$T/bad.json"
for args in "" "--help" "-h" "help" "--version" "-V" "help split" "help tokens" "help ceremony" "help nope" \
	"nope" "--nope" "split" "split --help" "split -t 3" "split -t 1 -n 2" "combine --in nope" "combine --bogus" \
	"decode-root x" "tokens --help" "ceremony" "ceremony --help" "ceremony unseal --bogus" \
	"custody" "custody show" "envelope list --help" "encrypt" "decrypt --help" "token" "audit"; do
	# shellcheck disable=SC2086
	same $args
done
same audit verify "$T/none"
same audit verify "$T/bad.jsonl"
same custody show "$T/bad.json"
same custody show "$T/none"
IN=$T/root.in same decode-root
IN=$T/three same combine --out hex
IN=$T/three same combine --in hex
rcs_seen=$(printf '%s\n' $rcs_seen | sort -u | tr '\n' ' ')
[ "$n_same" = "$n_all" ] && t_ok "front and keyquorum-full agree on output and exit status ($n_all invocations; exit statuses $rcs_seen)" ||
	t_fail "front and keyquorum-full agree on every invocation" "$n_same of $n_all"
# Exit statuses the full binary returns come through the exec unchanged.
rcs=$(for a in "audit verify $T/none" "audit verify $T/bad.jsonl" "ceremony unseal --bogus" "tokens --help"; do
	# shellcheck disable=SC2086
	"$F" $a </dev/null >/dev/null 2>&1
	printf '%s ' $?
done)
[ "$rcs" = "$(for a in "audit verify $T/none" "audit verify $T/bad.jsonl" "ceremony unseal --bogus" "tokens --help"; do
	# shellcheck disable=SC2086
	"$FULL" $a </dev/null >/dev/null 2>&1
	printf '%s ' $?
done)" ] && t_ok "exit statuses come through the exec ($rcs)" || t_fail "exit statuses through the exec" "$rcs"

# ---- one verb table ------------------------------------------------------
sed -n 's/^KQ_VERB\(_OFFLINE\)\{0,1\}("\([^"]*\)".*/\2/p' "$TOP/src/verbs.def" >"$T/def"
"$F" --help | awk '/^verbs:/ { f = 1; next } f && /^  [a-z]/ { print $1 }' >"$T/listed"
cmp -s "$T/def" "$T/listed" && t_ok "the front's --help lists every verb of src/verbs.def, in order ($(wc -l <"$T/def"))" ||
	t_fail "the front's --help lists every verb of src/verbs.def" "$(diff "$T/def" "$T/listed" | tr '\n' ' ')"
sed -n 's/^KQ_VERB_OFFLINE("\([^"]*\)".*/\1/p' "$TOP/src/verbs.def" | tr '\n' ' ' >"$T/offline"
[ "$(cat "$T/offline")" = "split combine decode-root " ] && t_ok "the offline verbs: $(cat "$T/offline")" ||
	t_fail "the offline verbs are split, combine, decode-root" "$(cat "$T/offline")"
# shellcheck disable=SC1091
_keyquorum_verbs=
. "$TOP/src/keyquorum.bash"
[ "$(printf '%s\n' $_keyquorum_verbs)" = "$(cat "$T/def")" ] && t_ok "bash completion offers the verbs of src/verbs.def" ||
	t_fail "bash completion offers the verbs of src/verbs.def" "$_keyquorum_verbs"

# ---- the full binary missing or unusable --------------------------------
# Where an installed front looks (BINDIR to LIBEXECDIR/keyquorum, as built).
rel=$(cat "$TOP/$B/src/front-path.stamp" 2>/dev/null)
[ -n "$rel" ] || rel=../libexec/keyquorum/keyquorum-full
mkdir -p "$T/lone/bin"
cp "$F" "$T/lone/bin/keyquorum"
LF=$(realpath -m "$T/lone/bin/$rel")
"$T/lone/bin/keyquorum" split -t 2 -n 3 --secret-file "$T/s32" >"$T/lone.sh" 2>"$T/err" &&
	head -2 "$T/lone.sh" | "$T/lone/bin/keyquorum" combine >"$T/lone.s" && cmp -s "$T/lone.s" "$T/s32" &&
	t_ok "without keyquorum-full the front still splits and combines" || t_fail "the front alone: split, combine" "$(cat "$T/err")"
t_expect 1 "without keyquorum-full a ceremony verb exits 1" "$T/lone/bin/keyquorum" tokens
want="keyquorum: tokens: the full keyquorum binary is missing: $LF (in a build tree: $T/lone/bin/keyquorum-full)"
[ "$(cat "$T/err")" = "$want" ] && t_ok "…and says which path is missing" || t_fail "…and says which path is missing" "$(cat "$T/err")"
t_expect 1 "help VERB of a missing full binary exits 1" "$T/lone/bin/keyquorum" help ceremony
grep -q "is missing: $LF" "$T/err" && t_ok "…naming the path" || t_fail "…naming the path" "$(cat "$T/err")"
mkdir -p "$(dirname "$LF")"
cp "$FULL" "$LF"
chmod 644 "$LF"
t_expect 1 "a keyquorum-full that cannot be executed: exit 1" "$T/lone/bin/keyquorum" tokens --help
grep -q "cannot run the full keyquorum binary $LF: Permission denied" "$T/err" &&
	t_ok "…with the path and the reason" || t_fail "…with the path and the reason" "$(cat "$T/err")"
chmod 755 "$LF"
t_run "installed layout (bin/, libexec/keyquorum/): a ceremony verb runs" "$T/lone/bin/keyquorum" tokens --help
# A probe in keyquorum-full's place: what exactly does the front pass on?
cat >"$T/probe.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
int
main(int argc, char **argv)
{
	const char *e = getenv("KQ_FRONT_PROBE");
	int i;

	for (i = 0; i < argc; i++)
		printf("[%s]\n", argv[i]);
	printf("env=%s\n", e != NULL ? e : "(unset)");
	return 7;
}
EOF
if ${CC:-cc} -o "$T/probe" "$T/probe.c" 2>"$T/err"; then
	cp "$T/probe" "$LF"
	KQ_FRONT_PROBE='x y' "$T/lone/bin/keyquorum" ceremony unseal 'a b' '' '*' '--x=$HOME' "$(printf 'l1\nl2')" >"$T/out" 2>"$T/err"
	rc=$?
	printf '[%s]\n' "$T/lone/bin/keyquorum" ceremony unseal 'a b' '' '*' '--x=$HOME' "$(printf 'l1\nl2')" >"$T/want"
	echo 'env=x y' >>"$T/want"
	cmp -s "$T/out" "$T/want" && t_ok "the exec passes argv (argv[0] too) and the environment as they are" ||
		t_fail "the exec passes argv and the environment as they are" "$(diff "$T/want" "$T/out" | tr '\n' ' ')"
	[ $rc = 7 ] && t_ok "…and the full binary's exit status is the command's (7)" || t_fail "…and the full binary's exit status" "$rc"
	"$T/lone/bin/keyquorum" help envelope >"$T/out" 2>&1
	[ "$(head -3 "$T/out" | tr '\n' ' ')" = "[$T/lone/bin/keyquorum] [help] [envelope] " ] &&
		t_ok "help VERB goes to the full binary as it was typed" || t_fail "help VERB goes to the full binary as typed" "$(cat "$T/out")"
	"$T/lone/bin/keyquorum" split --version >"$T/out" 2>&1
	grep -q '^\[' "$T/out" && t_fail "an offline verb never reaches the full binary" || t_ok "an offline verb never reaches the full binary"
	cp "$FULL" "$LF"
else
	t_fail "compile the exec probe" "$(cat "$T/err")"
fi
# Found from the front's own location: not from PATH, nor from the
# directory it is called from, nor through a symlink's directory.
ln -s "$T/lone/bin/keyquorum" "$T/link"
(cd / && PATH=/nonexistent "$T/link" ceremony --help >"$T/out" 2>"$T/err") &&
	grep -q '^usage: keyquorum ceremony' "$T/out" && t_ok "found through a symlink, with PATH empty" || t_fail "found through a symlink" "$(cat "$T/err")"
mkdir -p "$T/decoy"
printf '#!/bin/sh\necho decoy\n' >"$T/decoy/keyquorum-full"
chmod 755 "$T/decoy/keyquorum-full"
(cd "$T/decoy" && PATH="$T/decoy" "$T/lone/bin/keyquorum" tokens --help >"$T/out" 2>&1)
grep -q decoy "$T/out" && t_fail "a keyquorum-full on PATH or in the working directory is never run" || t_ok "a keyquorum-full on PATH or in the working directory is never run"

# ---- a DESTDIR install ---------------------------------------------------
stage=$T/stage
mk=(make -s -C "$TOP" B="$B")
[ "$san" = 1 ] && mk+=(SANITIZE=address,undefined)
if "${mk[@]}" install DESTDIR="$stage" PREFIX=/usr/local UDEVRULESDIR=/usr/lib/udev/rules.d >"$T/make.out" 2>&1; then
	t_ok "make install DESTDIR=... PREFIX=/usr/local"
else
	t_fail "make install DESTDIR=... PREFIX=/usr/local" "$(tail -5 "$T/make.out")"
fi
I=$stage/usr/local
[ -x "$I/bin/keyquorum" ] && [ -x "$I/libexec/keyquorum/keyquorum-full" ] &&
	t_ok "installed bin/keyquorum and libexec/keyquorum/keyquorum-full" || t_fail "installed layout" "$(cd "$stage" && find . -type f | grep keyquorum)"
cmp -s "$I/bin/keyquorum" "$F" && cmp -s "$I/libexec/keyquorum/keyquorum-full" "$FULL" &&
	t_ok "the installed binaries are the tested ones" || t_fail "the installed binaries are the tested ones"
"$I/bin/keyquorum" split -t 2 -n 2 --secret-file "$T/s32" | "$I/bin/keyquorum" combine >"$T/inst.s" 2>"$T/err" && cmp -s "$T/inst.s" "$T/s32" &&
	t_ok "installed: split | combine" || t_fail "installed: split | combine" "$(cat "$T/err")"
# (the only keyquorum-full it can reach is the staged one)
"$I/bin/keyquorum" ceremony --help >"$T/out" 2>&1 && grep -q '^usage: keyquorum ceremony' "$T/out" &&
	t_ok "installed: ceremony --help runs libexec/keyquorum/keyquorum-full" || t_fail "installed: ceremony --help" "$(head -5 "$T/out")"
"${mk[@]}" uninstall DESTDIR="$stage" PREFIX=/usr/local UDEVRULESDIR=/usr/lib/udev/rules.d >/dev/null 2>&1
[ ! -e "$I/bin/keyquorum" ] && [ ! -e "$I/libexec/keyquorum" ] && t_ok "make uninstall removes both, and libexec/keyquorum/" ||
	t_fail "make uninstall removes both" "$(cd "$stage" && find . | grep keyquorum)"
t_done
