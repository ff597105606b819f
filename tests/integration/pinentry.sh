#!/usr/bin/env bash
# PINs through a real pinentry program (pinentry-tty; pinentry-curses when
# installed) on a real terminal (tmux), against a SoftHSM token made in $T:
# decrypt and token keygen with --pinentry, the PIN never on the screen, an
# empty or wrong PIN asked again with the error shown, three wrong PINs
# (exit 3, tries reported), Ctrl-D / Cancel (exit 3), Ctrl-C (130, echo
# back), KEYQUORUM_PINENTRY, missing programs named, the source order
# (pin-source wins), the final-try warning, the OPTIONs gpg-agent sends;
# then the login under gdb, the process dumped at exit_group and searched
# for the PIN (tests/memscan.py), with a control.
. "$(dirname "$0")/../lib.sh"

command -v tmux >/dev/null || { t_fail "tmux is installed"; t_done; }
PE_TTY=/usr/bin/pinentry-tty
PE_CURSES=/usr/bin/pinentry-curses
[ -x "$PE_TTY" ] || { t_fail "pinentry-tty is installed (apt-get install pinentry-tty)"; t_done; }

SOFTHSM=/usr/lib/softhsm/libsofthsm2.so
mkdir -p "$T/tok"
printf 'directories.tokendir = %s/tok\nobjectstore.backend = file\nlog.level = ERROR\n' "$T" >"$T/softhsm2.conf"
export SOFTHSM2_CONF="$T/softhsm2.conf"
unset KEYQUORUM_TEST_ALLOW_PIN_VALUE KEYQUORUM_PINENTRY
# A PIN long enough for the memory scan, fresh each run, with a '%' that
# pinentry must escape (%25) and keyquorum must decode.
PIN="kq%41-$(od -An -tx1 -N6 /dev/urandom | tr -d ' \n')"
for tok in pe1 pe2; do
	softhsm2-util --init-token --free --label "$tok" --so-pin 87654321 --pin "$PIN" >/dev/null
done
printf '%s\n' "$PIN" >"$T/pin"
chmod 600 "$T/pin"
M=(--module "$SOFTHSM")
URI="pkcs11:token=pe1;object=kpe"
"$KQ" token keygen "${M[@]}" --token "pkcs11:token=pe1?pin-source=$T/pin" --label kpe >/dev/null 2>"$T/err" ||
	{ t_fail "keygen with pin-source" "$(cat "$T/err")"; t_done; }
head -c 48 /dev/urandom | od -An -tx1 -v | tr -d ' \n' >"$T/payload"
"$KQ" encrypt "${M[@]}" --to "$URI" <"$T/payload" >"$T/blob" 2>/dev/null

sock="kqpe$$"
tm() { tmux -L "$sock" "$@"; }
t_on_exit "tmux -L $sock kill-server 2>/dev/null"
unset TMUX
# A session that stays, so that killing the test's session never ends the
# server while the next one starts.
tm new-session -d -s keep "sleep 3600"
# wait_for PATTERN [TENTHS]: until the pane shows it (5 s by default)
wait_for() {
	local i
	for i in $(seq "${2:-50}"); do
		tm capture-pane -p -S - -t kq >"$T/screen" 2>/dev/null
		grep -qE -- "$1" "$T/screen" && return 0
		sleep 0.1
	done
	return 1
}
start() { # CMD...  (runs in a fresh pane; EXIT=status when it ends)
	tm kill-session -t kq 2>/dev/null
	tm new-session -d -s kq -x 150 -y 40 "env SOFTHSM2_CONF='$SOFTHSM2_CONF' $*; echo EXIT=\$?; sleep 60"
}
screen_has_pin() { grep -qF -- "$PIN" "$T/screen"; }
DEC="$KQ decrypt ${M[*]} --with '$URI' <'$T/blob' >'$T/plain' 2>'$T/err'"
DEC_ERR="$KQ decrypt ${M[*]} --with '$URI' <'$T/blob' >'$T/plain'"

# 1. the right PIN
rm -f "$T/plain"
start "$DEC_ERR --pinentry=$PE_TTY"
wait_for '^PIN:' && t_ok "decrypt --pinentry=pinentry-tty shows pinentry's prompt" || t_fail "pinentry prompt" "$(cat "$T/screen")"
grep -q 'needs the PIN of token "pe1"' "$T/screen" && t_ok "…with a description naming the token" || t_fail "description names the token" "$(cat "$T/screen")"
tm send-keys -t kq -l "$PIN"
tm send-keys -t kq Enter
wait_for 'EXIT=' || true
grep -q 'EXIT=0' "$T/screen" && cmp -s "$T/plain" "$T/payload" && t_ok "…and the right PIN opens the blob" || t_fail "right PIN opens the blob" "$(cat "$T/screen")"
screen_has_pin && t_fail "the PIN appeared on the screen" "$(cat "$T/screen")" || t_ok "…and the PIN never appears on the screen"

# 2. an empty PIN, a wrong PIN, then the right one: the error text on
# each retry; the empty one is never sent to the token
start "$DEC_ERR --pinentry=$PE_TTY"
wait_for '^PIN:' || true
tm send-keys -t kq Enter
wait_for 'No PIN was entered' && t_ok "an empty PIN is asked again: No PIN was entered" || t_fail "empty PIN asked again" "$(cat "$T/screen")"
sleep 0.2
tm send-keys -t kq -l "wrong-$PIN"
tm send-keys -t kq Enter
wait_for 'Wrong PIN' && t_ok "a wrong PIN is asked again with the error shown" || t_fail "wrong PIN error shown on retry" "$(cat "$T/screen")"
grep -qE 'Wrong PIN: .*(tries|not locked)' "$T/screen" && t_ok "…saying what the token reports about the tries" || t_fail "retry error reports tries" "$(cat "$T/screen")"
sleep 0.2
tm send-keys -t kq -l "$PIN"
tm send-keys -t kq Enter
wait_for 'EXIT=' || true
grep -q 'EXIT=0' "$T/screen" && cmp -s "$T/plain" "$T/payload" && t_ok "…and the right PIN then opens the blob" || t_fail "right PIN after a wrong one" "$(cat "$T/screen")"
screen_has_pin && t_fail "the PIN appeared on the screen (retry)" "$(cat "$T/screen")" || t_ok "…and neither PIN appears on the screen"

# 3. three wrong PINs: exit 3, the tries reported
start "$DEC_ERR --pinentry=$PE_TTY"
for i in 1 2 3; do
	wait_for "^PIN:" || true
	n=$(grep -c '^PIN:' "$T/screen")
	tm send-keys -t kq -l "bad$i-$PIN"
	tm send-keys -t kq Enter
	# until the next prompt (or the end)
	for _ in $(seq 50); do
		tm capture-pane -p -S - -t kq >"$T/screen"
		[ "$(grep -c '^PIN:' "$T/screen")" -gt "$n" ] || grep -q 'EXIT=' "$T/screen" && break
		sleep 0.1
	done
done
wait_for 'EXIT=' || true
grep -q 'EXIT=3' "$T/screen" && grep -q 'the PIN is incorrect' "$T/screen" &&
	t_ok "three wrong PINs: exit 3, the PIN is incorrect" || t_fail "three wrong PINs exit 3" "$(cat "$T/screen")"
grep -qE 'incorrect: token "pe1": .*(tries|not locked)' "$T/screen" && t_ok "…and the tries left are reported" || t_fail "tries reported" "$(cat "$T/screen")"
[ "$(grep -c '^PIN:' "$T/screen")" = 3 ] && t_ok "…after exactly 3 asks" || t_fail "3 asks" "$(cat "$T/screen")"

# 4. Ctrl-D at pinentry-tty's prompt cancels
start "$DEC_ERR --pinentry=$PE_TTY"
wait_for '^PIN:' || true
tm send-keys -t kq C-d
wait_for 'EXIT=' || true
grep -q 'EXIT=3' "$T/screen" && grep -q 'PIN entry was cancelled' "$T/screen" &&
	t_ok "Ctrl-D cancels: exit 3, PIN entry was cancelled" || t_fail "Ctrl-D cancels" "$(cat "$T/screen")"
grep -q 'pinentry-tty' "$T/screen" && t_ok "…naming the pinentry program" || t_fail "cancel names the program" "$(cat "$T/screen")"
[ ! -s "$T/plain" ] && t_ok "…and nothing is written" || t_fail "nothing written on cancel"

# 5. --pinentry alone: $KEYQUORUM_PINENTRY names the program
start "KEYQUORUM_PINENTRY=$PE_TTY $DEC_ERR --pinentry"
wait_for '^PIN:' && t_ok "--pinentry runs the program KEYQUORUM_PINENTRY names" || t_fail "KEYQUORUM_PINENTRY" "$(cat "$T/screen")"
tm send-keys -t kq -l "$PIN"
tm send-keys -t kq Enter
wait_for 'EXIT=' || true
grep -q 'EXIT=0' "$T/screen" && t_ok "…and logs in" || t_fail "KEYQUORUM_PINENTRY login" "$(cat "$T/screen")"

# 6. token keygen --pinentry
start "$KQ token keygen ${M[*]} --token 'pkcs11:token=pe1' --label kpe2 --pinentry=$PE_TTY"
wait_for '^PIN:' || true
tm send-keys -t kq -l "$PIN"
tm send-keys -t kq Enter
wait_for 'EXIT=' || true
grep -q 'EXIT=0' "$T/screen" && grep -q '^uri: pkcs11:.*token=pe1' "$T/screen" && grep -q '^fingerprint: SHA256:' "$T/screen" &&
	t_ok "token keygen --pinentry logs in through pinentry" || t_fail "keygen --pinentry" "$(cat "$T/screen")"
screen_has_pin && t_fail "the PIN appeared on the screen (keygen)" "$(cat "$T/screen")" || t_ok "…without the PIN on the screen"

# 7. pinentry-curses, when installed: the PIN, then its Cancel button
if [ -x "$PE_CURSES" ]; then
	start "TERM=xterm $DEC_ERR --pinentry=$PE_CURSES"
	wait_for 'PIN: _' && t_ok "pinentry-curses draws its dialog" || t_fail "pinentry-curses dialog" "$(cat "$T/screen")"
	tm send-keys -t kq -l "$PIN"
	tm send-keys -t kq Enter
	wait_for 'EXIT=' || true
	grep -q 'EXIT=0' "$T/screen" && cmp -s "$T/plain" "$T/payload" && t_ok "…and the right PIN opens the blob" || t_fail "curses right PIN" "$(cat "$T/screen")"
	screen_has_pin && t_fail "the PIN appeared on the screen (curses)" "$(cat "$T/screen")" || t_ok "…without the PIN on the screen"
	start "TERM=xterm $DEC_ERR --pinentry=$PE_CURSES"
	wait_for 'PIN: _' || true
	tm send-keys -t kq Tab
	sleep 0.3
	tm send-keys -t kq Tab
	sleep 0.3
	tm send-keys -t kq Enter
	wait_for 'EXIT=' || true
	grep -q 'EXIT=3' "$T/screen" && grep -q 'PIN entry was cancelled' "$T/screen" &&
		t_ok "pinentry-curses Cancel: exit 3, PIN entry was cancelled" || t_fail "curses cancel" "$(cat "$T/screen")"
else
	echo "ok - pinentry-curses # SKIP not installed"
fi

# 8. without a terminal: errors that name the program, and the order
t_expect 3 "--pinentry=/nonexistent: exit 3" sh -c "$DEC --pinentry=/nonexistent/pinentry"
t_grep "…naming the program" 'pinentry program /nonexistent/pinentry is not an executable file' "$T/err"
t_expect 3 "--pinentry with no pinentry on PATH: exit 3" env PATH=/nonexistent /bin/sh -c "$DEC --pinentry"
t_grep "…saying pinentry is not on PATH" 'the pinentry program "pinentry" is not on PATH' "$T/err"
t_expect 3 "KEYQUORUM_PINENTRY naming a missing program: exit 3" env KEYQUORUM_PINENTRY=kq-no-such-pinentry sh -c "$DEC --pinentry"
t_grep "…naming it" '"kq-no-such-pinentry" is not on PATH' "$T/err"
t_run "pin-source in the URI comes before pinentry (never started)" sh -c "'$KQ' decrypt ${M[*]} --with '$URI?pin-source=$T/pin' --pinentry=/nonexistent/pinentry <'$T/blob' >'$T/plain'"
cmp -s "$T/plain" "$T/payload" && t_ok "…and opens the blob" || t_fail "pin-source before pinentry opens the blob"
if grep -qF -- "$PIN" "$T/err" "$T/out" 2>/dev/null; then t_fail "a PIN in keyquorum's output"; else t_ok "no PIN in keyquorum's output"; fi

# 9. a final try: refused before asking; with --allow-final-try the
# description warns.  (SoftHSM never counts tries: set the token's flag.)
python3 - "$T/tok" pe2 0x00020000 <<'PY' || t_fail "set CKF_USER_PIN_FINAL_TRY on pe2"
import glob, struct, sys
d, label, bits = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3], 0)
tag = struct.pack('>QQ', 0x8000534b, 2)  # CKA_OS_TOKENFLAGS, ulong
for f in glob.glob(d + '/*/token.object'):
    b = bytearray(open(f, 'rb').read())
    if label.ljust(32) not in b:
        continue
    i = b.find(tag)
    if i < 0:
        sys.exit(2)
    v = struct.unpack('>Q', b[i + 16:i + 24])[0] | bits
    b[i + 16:i + 24] = struct.pack('>Q', v)
    open(f, 'wb').write(b)
    sys.exit(0)
sys.exit(1)
PY
t_expect 3 "final try without --allow-final-try: exit 3 before pinentry starts" sh -c "'$KQ' token keygen ${M[*]} --token 'pkcs11:token=pe2' --label k --pinentry=/nonexistent/pinentry"
t_grep "…saying one try is left" 'one PIN try left' "$T/err"
start "$KQ token keygen ${M[*]} --token 'pkcs11:token=pe2' --label kfin --allow-final-try --pinentry=$PE_TTY"
wait_for '^PIN:' || true
grep -q 'This is the FINAL try' "$T/screen" && t_ok "with --allow-final-try pinentry warns of the final try" || t_fail "final try warning" "$(cat "$T/screen")"
tm send-keys -t kq C-d
wait_for 'EXIT=' || true

# 10. what keyquorum tells pinentry (a pinentry stand-in that logs each
# command): on a terminal its name, type and locale, as gpg-agent does;
# without one (setsid), no ttyname.
cat >"$T/logpe" <<EOF
#!/bin/sh
echo 'OK Pleased to meet you'
while IFS= read -r line; do
	printf '%s\\n' "\$line" >>'$T/pe.log'
	case "\$line" in
	GETPIN) printf 'D %s\\nOK\\n' '${PIN//%/%25}' ;;
	BYE) exit 0 ;;
	*) echo OK ;;
	esac
done
EOF
chmod 700 "$T/logpe"
rm -f "$T/pe.log"
start "TERM=xterm LC_ALL= LC_CTYPE= LC_MESSAGES= LANG=C.UTF-8 $DEC_ERR --pinentry=$T/logpe"
wait_for 'EXIT=' || true
grep -q 'EXIT=0' "$T/screen" && cmp -s "$T/plain" "$T/payload" && t_ok "a pinentry that sends D with %25 logs in (the escape decoded)" || t_fail "logging pinentry login" "$(cat "$T/screen")"
t_grep "on a terminal: OPTION ttyname" '^OPTION ttyname=/dev/(pts/[0-9]+|tty)$' "$T/pe.log"
t_grep "…OPTION ttytype" '^OPTION ttytype=xterm$' "$T/pe.log"
t_grep "…OPTION lc-ctype" '^OPTION lc-ctype=C.UTF-8$' "$T/pe.log"
t_grep "…then SETTITLE, SETDESC, SETPROMPT, GETPIN" '^GETPIN$' "$T/pe.log"
if tr '\n' ' ' <"$T/pe.log" | grep -qE 'SETTITLE keyquorum SETDESC keyquorum needs the PIN of token "pe1"\. SETPROMPT PIN: GETPIN'; then t_ok "…in that order"; else t_fail "command order" "$(cat "$T/pe.log")"; fi
rm -f "$T/pe.log"
t_run "without a terminal pinentry is still asked" setsid -w sh -c "$DEC --pinentry=$T/logpe"
if grep -q '^GETPIN$' "$T/pe.log" && ! grep -q '^OPTION ttyname' "$T/pe.log"; then t_ok "…without OPTION ttyname"; else t_fail "…without OPTION ttyname" "$(cat "$T/pe.log")"; fi

# 11. Ctrl-C at pinentry's prompt, from an interactive shell: keyquorum
# dies of SIGINT and the terminal has its echo back.
tm kill-session -t kq 2>/dev/null
tm new-session -d -s kq -x 150 -y 40 "env -i PATH=$PATH TERM=screen SOFTHSM2_CONF=$SOFTHSM2_CONF bash --norc --noprofile -i"
sleep 0.3
tm send-keys -t kq "$DEC_ERR --pinentry=$PE_TTY" Enter
wait_for '^PIN:' || true
tm send-keys -t kq C-c
sleep 0.3
tm send-keys -t kq "echo EXIT=\$?; stty -a | grep -o -- ' -*echo ' | head -1 | sed 's/^/STTY/'" Enter
wait_for '^STTY' || true
grep -q '^EXIT=130' "$T/screen" && t_ok "Ctrl-C at pinentry's prompt ends decrypt by SIGINT (130)" || t_fail "Ctrl-C at pinentry" "$(cat "$T/screen")"
grep -qE '^STTY +echo' "$T/screen" && t_ok "…and leaves the terminal's echo on" || t_fail "…echo on after Ctrl-C" "$(cat "$T/screen")"

# 12. no PIN left in memory: decrypt under gdb in the pane, dumped at
# exit_group (as tests/integration/memscan.sh does), searched for the PIN
# and for its escaped form as pinentry sent it.
if nm -D "$KQ" 2>/dev/null | grep -q __asan_init; then
	echo "ok - pinentry memory scan # SKIP sanitizer build"
elif ! command -v gdb >/dev/null; then
	t_fail "gdb is installed"
else
	rm -f "$T/core" "$T/plain"
	cat >"$T/gdb.cmds" <<EOF
set dump-excluded-mappings on
catch syscall exit_group
run decrypt ${M[*]} --with '$URI' --pinentry=$PE_TTY <'$T/blob' >'$T/plain' 2>'$T/err'
gcore $T/core
kill
EOF
	start "gdb -nx -batch -q -x '$T/gdb.cmds' '$KQ_REAL' >'$T/gdb.log' 2>&1"
	wait_for '^PIN:' 200 || t_fail "pinentry prompt under gdb" "$(cat "$T/screen")"
	tm send-keys -t kq -l "$PIN"
	tm send-keys -t kq Enter
	wait_for 'EXIT=' 300 || true
	if [ ! -s "$T/core" ]; then
		t_fail "decrypt --pinentry under gdb: core dumped at exit" "$(tail -5 "$T/gdb.log")"
	else
		cmp -s "$T/plain" "$T/payload" && t_ok "decrypt --pinentry under gdb opened the blob" || t_fail "decrypt under gdb" "$(cat "$T/err")"
		hex() { printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n'; }
		# $KQ (the front) execs keyquorum-full; gdb follows the exec.
		if python3 "$TOP/tests/memscan.py" --image keyquorum-full "$T/core" pin="$(hex "$PIN")" \
			pin-escaped="$(hex "${PIN//%/%25}")" >"$T/scan.report"; then
			t_ok "after a pinentry login no PIN is in memory at exit"
		else
			t_fail "PIN found in memory at exit" "$(cat "$T/scan.report")"
		fi
		sed 's/^/# /' "$T/scan.report"
		# control: the scan sees what the process does keep (its argv)
		if python3 "$TOP/tests/memscan.py" "$T/core" uri="$(hex "$URI")" >/dev/null; then
			t_fail "the scan finds the URI from argv in the same core (control)"
		else
			t_ok "the scan finds the URI from argv in the same core (control)"
		fi
	fi
fi
t_done
