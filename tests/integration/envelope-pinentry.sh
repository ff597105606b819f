#!/usr/bin/env bash
# The envelope ceremonies with --pinentry: holders type their token PINs
# into a real pinentry program (pinentry-tty) on a real terminal (tmux),
# against SoftHSM tokens made in $T.  seal-envelope with every holder on
# pinentry, open-envelope with one holder on a pin source and the other on
# pinentry (the source wins: one prompt), a wrong PIN asked again, Ctrl-D
# cancelling (exit 3, nothing written, no temporary left), and the PINs
# never on the screen.
. "$(dirname "$0")/../lib.sh"

command -v tmux >/dev/null || { t_fail "tmux is installed"; t_done; }
PE=/usr/bin/pinentry-tty
[ -x "$PE" ] || { t_fail "pinentry-tty is installed (apt-get install pinentry-tty)"; t_done; }

SOFTHSM=/usr/lib/softhsm/libsofthsm2.so
mkdir -p "$T/tok" "$T/out"
printf 'directories.tokendir = %s/tok\nobjectstore.backend = file\nlog.level = ERROR\n' "$T" >"$T/softhsm2.conf"
export SOFTHSM2_CONF="$T/softhsm2.conf"
unset KEYQUORUM_TEST_ALLOW_PIN_VALUE KEYQUORUM_PINENTRY
# Each holder's PIN fresh each run, one with a '%' pinentry must escape.
PA="kq%41-$(od -An -tx1 -N6 /dev/urandom | tr -d ' \n')"
PB="kqb-$(od -An -tx1 -N6 /dev/urandom | tr -d ' \n')"
softhsm2-util --init-token --free --label h-alice --so-pin 87654321 --pin "$PA" >/dev/null
softhsm2-util --init-token --free --label h-bob --so-pin 87654321 --pin "$PB" >/dev/null
softhsm2-util --init-token --free --label h-carol --so-pin 87654321 --pin 123456 >/dev/null
softhsm2-util --init-token --free --label hsm-pe --so-pin 87654321 --pin 111111 >/dev/null
printf '%s\n' "$PA" >"$T/pin-alice"
printf '%s\n' "$PB" >"$T/pin-bob"
printf '123456\n' >"$T/pin-carol"
printf '87654321\n' >"$T/sopin"
chmod 600 "$T"/pin-* "$T/sopin"
HOLD=()
for h in alice bob carol; do
	"$KQ" token keygen --module "$SOFTHSM" --token "pkcs11:token=h-$h?pin-source=$T/pin-$h" \
		--label seal --type ec-p256 >/dev/null 2>"$T/err" || { t_fail "keygen $h" "$(cat "$T/err")"; t_done; }
	HOLD+=(--holder "$h=pkcs11:token=h-$h;object=seal")
done
C=$T/set.json
"$KQ" custody create --kind hsm-pin --name pe --threshold 2 "${HOLD[@]}" --hsm "pkcs11:token=hsm-pe" \
	--module "$SOFTHSM" --hsm-module "$SOFTHSM" --so-pin-source "file:$T/sopin" --out "$C" >/dev/null 2>"$T/err" ||
	{ t_fail "custody create --kind hsm-pin" "$(cat "$T/err")"; t_done; }
head -c 300000 /dev/urandom >"$T/in"
M="--module $SOFTHSM --hsm-module $SOFTHSM"

sock="kqenvpe$$"
tm() { tmux -L "$sock" "$@"; }
t_on_exit "tmux -L $sock kill-server 2>/dev/null"
unset TMUX
tm new-session -d -s keep "sleep 3600"
# wait_for PATTERN [TENTHS]: until the pane shows it (10 s by default)
wait_for() {
	local i
	for i in $(seq "$(t_scale "${2:-100}")"); do
		tm capture-pane -p -S - -t kq >"$T/screen" 2>/dev/null
		grep -qE -- "$1" "$T/screen" && return 0
		sleep 0.1
	done
	return 1
}
# prompts: how many PIN prompts the pane shows (kept in $T/screen)
prompts() {
	tm capture-pane -p -S - -t kq >"$T/screen" 2>/dev/null
	grep -c '^PIN:' "$T/screen"
}
# wait_prompt N: until the Nth prompt (or the end)
wait_prompt() {
	local i
	for i in $(seq "$(t_scale 100)"); do
		[ "$(prompts)" -ge "$1" ] && return 0
		grep -q 'EXIT=' "$T/screen" && return 1
		sleep 0.1
	done
	return 1
}
start() { # CMD...  (a fresh pane; EXIT=status when it ends)
	tm kill-session -t kq 2>/dev/null
	tm new-session -d -s kq -x 160 -y 50 "cd '$T/out' && env SOFTHSM2_CONF='$SOFTHSM2_CONF' $*; echo EXIT=\$?; sleep 60"
}
type_pin() { # PIN
	sleep 0.2
	tm send-keys -t kq -l "$1"
	tm send-keys -t kq Enter
}
no_pin_on_screen() { # NAME
	if grep -qF -- "$PA" "$T/screen" || grep -qF -- "$PB" "$T/screen"; then
		t_fail "$1: no PIN on the screen" "$(cat "$T/screen")"
	else t_ok "$1: no PIN on the screen"; fi
}
nothing_left() { # NAME FILE
	if [ ! -e "$2" ] && ! ls -A "$(dirname "$2")" | grep -q '^\.kq-envelope'; then
		t_ok "$1: nothing written"
	else t_fail "$1: nothing written" "$(ls -la "$(dirname "$2")")"; fi
}

# 1. seal: both holders type their PINs into pinentry
start "$KQ ceremony seal-envelope --custody '$C' --holders alice,bob $M --in '$T/in' --label pe --out env.kqenv --pinentry=$PE"
wait_prompt 1 && t_ok "seal-envelope --pinentry: pinentry asks alice" || t_fail "seal: first prompt" "$(cat "$T/screen")"
grep -q 'holder alice needs the PIN of token "h-alice"' "$T/screen" && t_ok "... pinentry's description naming her token" ||
	t_fail "seal: prompt names h-alice" "$(cat "$T/screen")"
type_pin "$PA"
wait_prompt 2 && t_ok "... then bob" || t_fail "seal: second prompt" "$(cat "$T/screen")"
type_pin "$PB"
wait_for 'EXIT=' || true
grep -q 'EXIT=0' "$T/screen" && [ -s "$T/out/env.kqenv" ] && t_ok "... and the envelope is sealed" ||
	t_fail "seal with --pinentry" "$(cat "$T/screen")"
grep -q 'holder bob needs the PIN of token "h-bob"' "$T/screen" && t_ok "... bob's prompt named his token" ||
	t_fail "seal: prompt names h-bob" "$(cat "$T/screen")"
[ "$(prompts)" = 2 ] && t_ok "... after exactly two prompts" || t_fail "seal: two prompts" "$(cat "$T/screen")"
no_pin_on_screen "seal"
grep -q '"outcome":"sealed"' "$C.transcript" 2>/dev/null && t_ok "... and the transcript records it" ||
	t_fail "seal: transcript" "$(tail -3 "$C.transcript" 2>/dev/null)"

# 2. open: alice from a pin source (it wins), bob on pinentry: one prompt
start "$KQ ceremony open-envelope --custody '$C' --holders alice,bob $M --pin-source 'alice=file:$T/pin-alice' --envelope env.kqenv --out plain --pinentry=$PE"
wait_prompt 1 && t_ok "open-envelope --pinentry: pinentry asks" || t_fail "open: prompt" "$(cat "$T/screen")"
grep -q 'holder bob needs the PIN of token "h-bob"' "$T/screen" && ! grep -q 'holder alice needs' "$T/screen" &&
	grep -q 'alice: PIN for token "h-alice" from the pin source' "$T/screen" &&
	t_ok "... bob only (alice's PIN came from her pin source)" || t_fail "open: bob only" "$(cat "$T/screen")"
type_pin "$PB"
wait_for 'EXIT=' || true
grep -q 'EXIT=0' "$T/screen" && cmp -s "$T/in" "$T/out/plain" && t_ok "... and the envelope opens" ||
	t_fail "open with --pinentry" "$(cat "$T/screen")"
[ "$(prompts)" = 1 ] && t_ok "... after exactly one prompt" || t_fail "open: one prompt" "$(cat "$T/screen")"
no_pin_on_screen "open"

# 3. a wrong PIN is asked again, the right one then opens
rm -f "$T/out/plain"
start "$KQ ceremony open-envelope --custody '$C' --holders alice,bob $M --pin-source 'alice=file:$T/pin-alice' --envelope env.kqenv --out plain --pinentry=$PE"
wait_prompt 1 || true
type_pin "wrong-$PB"
wait_for 'Wrong PIN' && t_ok "open: a wrong PIN is asked again with the error shown" ||
	t_fail "open: wrong PIN asked again" "$(cat "$T/screen")"
wait_prompt 2 || true
type_pin "$PB"
wait_for 'EXIT=' || true
grep -q 'EXIT=0' "$T/screen" && cmp -s "$T/in" "$T/out/plain" && t_ok "... and the right PIN then opens it" ||
	t_fail "open after a wrong PIN" "$(cat "$T/screen")"
no_pin_on_screen "wrong PIN"

# 4. Ctrl-D at the prompt cancels: exit 3, nothing written
start "$KQ ceremony seal-envelope --custody '$C' --holders alice,bob $M --in '$T/in' --label pe --out cancelled.kqenv --pinentry=$PE"
wait_prompt 1 || true
type_pin "$PA"
wait_prompt 2 || true
sleep 0.2
tm send-keys -t kq C-d
wait_for 'EXIT=' || true
grep -q 'EXIT=3' "$T/screen" && grep -q 'PIN entry was cancelled' "$T/screen" &&
	t_ok "seal: Ctrl-D cancels (exit 3, PIN entry was cancelled)" || t_fail "seal: Ctrl-D cancels" "$(cat "$T/screen")"
nothing_left "seal cancelled" "$T/out/cancelled.kqenv"
start "$KQ ceremony open-envelope --custody '$C' --holders alice,bob $M --envelope env.kqenv --out plain2 --pinentry=$PE"
wait_prompt 1 || true
sleep 0.2
tm send-keys -t kq C-d
wait_for 'EXIT=' || true
grep -q 'EXIT=3' "$T/screen" && t_ok "open: Ctrl-D cancels (exit 3)" || t_fail "open: Ctrl-D cancels" "$(cat "$T/screen")"
nothing_left "open cancelled" "$T/out/plain2"
no_pin_on_screen "cancel"

t_done
