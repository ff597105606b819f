#!/usr/bin/env bash
# The interactive ceremony on a real terminal (tmux): an unseal without
# --holders, PINs typed at the prompts.  alice's SoftHSM token is there at
# once; casey's card (the rig's virtual CAC card) is out, so the ceremony
# waits for it and says who is still needed and which readers it watches.
# The screen must show the state, progress as k of n, the remove-token
# step, never a PIN; colour on a terminal, none with NO_COLOR=1, none on a
# pipe.
. "$(dirname "$0")/../lib.sh"
t_need_rig
. "$TOP/tests/vault-sim/lib.sh"
. "$TOP/tests/integration/ceremony-common.inc"
command -v tmux >/dev/null || { t_fail "tmux is installed"; t_done; }
[ -n "${KQ_CARD_TOKEN:-}" ] || { t_fail "the rig has a card"; t_done; }
t_on_exit "$KQ_CARD_INSERT"
sock="kqc$$"
tm() { tmux -L "$sock" "$@"; }
t_on_exit "tmux -L $sock kill-server 2>/dev/null"
unset TMUX

vsim_start || { t_fail "vault-sim starts"; t_done; }
C=$T/tty.json
CARD="pkcs11:token=$KQ_CARD_TOKEN;id=%00%03?module-path=$KQ_OPENSC_MODULE"
"$KQ" custody create --name on-call --kind vault-unseal --threshold 2 \
	--holder "alice=$(cer_uri alice)?module-path=$KQ_SOFTHSM_MODULE" \
	--holder "casey=$CARD" --out "$C" >/dev/null &&
	"$KQ" ceremony init --custody "$C" --holders alice,casey "${PINS[@]}" \
		--module "$KQ_SOFTHSM_MODULE" --module "$KQ_OPENSC_MODULE" \
		--pin-source "casey=file:$KQ_CARD_PIN_FILE" --yes --root-token-out "$T/root" >/dev/null ||
	{ t_fail "set up a 2-of-2 set (alice SoftHSM, casey card) and init Vault"; t_done; }
PIN_A=$(cat "$KQ_HOLDER_PIN_FILE_alice")
# The modules the operator allows (the custody file's module-path values).
MODS="--module $KQ_SOFTHSM_MODULE --module $KQ_OPENSC_MODULE"
PIN_C=$(cat "$KQ_CARD_PIN_FILE")

# wait_for PATTERN [SECONDS]: until the pane shows it.
wait_for() {
	local i
	for i in $(seq $((${2:-10} * 10))); do
		tm capture-pane -p -J -t kq -S - >"$T/screen" 2>/dev/null
		grep -qE -- "$1" "$T/screen" && return 0
		sleep 0.1
	done
	return 1
}
# run NAME ENV PIPE: one interactive unseal; the plain screen in
# $T/NAME.screen, with escape sequences in $T/NAME.esc.
run() {
	local name=$1 envs=$2 pipe=$3
	$KQ_CARD_REMOVE
	sleep 0.3
	tm kill-session -t kq 2>/dev/null
	tm new-session -d -s kq -x 160 -y 50 \
		"env $envs $KQ ceremony unseal --custody $C $MODS --wait 30 $pipe; echo EXIT=\$?; sleep 60"
	# Each step waits for the one before; a failure ends the run at once.
	if ! wait_for 'PIN for token "kq-alice"|EXIT='; then
		t_fail "$name: asks for alice's PIN" "$(cat "$T/screen")"
	elif ! grep -q EXIT= "$T/screen"; then
		tm send-keys -t kq "$PIN_A" Enter
		if ! wait_for 'watching:|EXIT='; then
			t_fail "$name: waits for casey's card" "$(cat "$T/screen")"
		elif ! grep -q EXIT= "$T/screen"; then
			$KQ_CARD_INSERT
			if wait_for 'PIN for token "kq-card1"|EXIT=' 20 && ! grep -q EXIT= "$T/screen"; then
				tm send-keys -t kq "$PIN_C" Enter
			else
				t_fail "$name: asks for casey's PIN once the card is in" "$(cat "$T/screen")"
			fi
		fi
	fi
	wait_for 'EXIT=' 20 || true
	tm capture-pane -p -J -t kq -S - >"$T/$name.screen"
	tm capture-pane -p -e -J -t kq -S - >"$T/$name.esc"
	tm kill-session -t kq 2>/dev/null
}
# see NAME LABEL PATTERN: the screen of run NAME matches PATTERN.
see() {
	if grep -qE -- "$3" "$T/$1.screen"; then t_ok "$1: $2"; else t_fail "$1: $2" "no /$3/ in: $(cat "$T/$1.screen")"; fi
}

# --- a colour terminal ---------------------------------------------------------
start=$SECONDS
run colour "-u NO_COLOR TERM=xterm-256color" ""
see colour "exit 0" '^EXIT=0'
see colour "names the ceremony, the set and how many are needed" '== keyquorum ceremony unseal: set "on-call" \(vault-unseal\), all 2 holders needed'
see colour "shows Vault's state first, where it is and who said so" "^Vault [0-9.]+ at $VAULT_ADDR \\(from VAULT_ADDR\\): initialised, sealed, .*progress 0/2"
see colour "alice's token is found by its key" '^>> alice: token "kq-alice" found; its key SHA256:[A-Za-z0-9+/]+ is alice'"'"'s'
see colour "says where to type alice's PIN" '^>> alice: type the PIN for token "kq-alice" at the prompt \(it is not shown\)'
see colour "alice's share is accepted" '^>> alice: share opened on the token, commitment matches'
see colour "progress 1 of 2, and who is still needed" 'progress 1/2: 1 of 2 shares, 1 more needed from: casey'
see colour "tells alice to remove her token" '^!! alice: remove your token "kq-alice" now'
see colour "waits, with progress k of n" '^-- waiting for a token \(progress 1 of 2\)'
see colour "... saying who is still needed" '^ +still needed: 1 more share from casey'
see colour "... and which reader it watches" "watching: .*reader \"$KQ_CARD_READER\" \\(empty\\)"
see colour "the card is found once inserted" '^>> casey: token "kq-card1" found'
see colour "progress 2 of 2" 'progress 2/2: 2 of 2 shares, enough'
see colour "tells casey to remove the card" '^!! casey: remove your token "kq-card1" now'
see colour "ends with Vault unsealed" '^done: Vault is unsealed \(2 shares from this ceremony\)'
[ "$(cer_state sealed)" = false ] && t_ok "colour: Vault is unsealed" || t_fail "colour: Vault is unsealed"
grep -qF -e "$PIN_A" -e "$PIN_C" "$T/colour.screen" && t_fail "colour: no PIN on the screen" || t_ok "colour: no PIN on the screen"
grep -q $'\e\[' "$T/colour.esc" && t_ok "colour: colour on a terminal" || t_fail "colour: colour on a terminal" "$(head -5 "$T/colour.esc" | cat -v)"
# The lines in order: found, PIN, accepted, progress, remove, waiting, found.
order=$(grep -nE '^>> alice: token|^>> alice: type|^>> alice: share|progress 1/2|^!! alice|^-- waiting|^>> casey: token' "$T/colour.screen" | cut -d: -f1 | tr '\n' ' ')
[ "$order" = "$(echo "$order" | tr ' ' '\n' | sed '/^$/d' | sort -n | tr '\n' ' ')" ] && [ "$(echo "$order" | wc -w)" = 7 ] &&
	t_ok "colour: the steps come in order" || t_fail "colour: the steps come in order" "lines $order"
# Nothing but the ceremony's own lines: markers, prompts, Vault's state.
stray=$(sed '/^$/d' "$T/colour.screen" | grep -vE '^(== |   |>> |!! |-- |PIN for token |Vault |done: |EXIT=)')
[ -z "$stray" ] && t_ok "colour: no stray output" || t_fail "colour: no stray output" "$stray"

# --- NO_COLOR=1 ------------------------------------------------------------------------
cer_seal "$T/root" || t_fail "seal Vault again"
run nocolour "NO_COLOR=1 TERM=xterm-256color" ""
see nocolour "exit 0" '^EXIT=0'
see nocolour "the same steps" '^!! casey: remove your token "kq-card1" now'
grep -q $'\e' "$T/nocolour.esc" && t_fail "nocolour: no escape sequence at all" "$(grep $'\e' "$T/nocolour.esc" | head -3 | cat -v)" ||
	t_ok "nocolour: no escape sequence at all"
grep -qF -e "$PIN_A" -e "$PIN_C" "$T/nocolour.screen" && t_fail "nocolour: no PIN on the screen" || t_ok "nocolour: no PIN on the screen"

# --- standard output a pipe ---------------------------------------------------------------
cer_seal "$T/root" || t_fail "seal Vault again"
run pipe "-u NO_COLOR TERM=xterm-256color" "| tee $T/pipe.out"
see pipe "exit 0" '^EXIT=0'
see pipe "PINs still asked on the terminal" 'PIN for token "kq-card1"'
grep -q 'progress 2/2' "$T/pipe.out" && t_ok "pipe: the lines go to the pipe" || t_fail "pipe: the lines go to the pipe" "$(cat "$T/pipe.out")"
grep -q $'\e' "$T/pipe.out" && t_fail "pipe: no escape sequence on a pipe" "$(cat -v "$T/pipe.out" | head -3)" || t_ok "pipe: no escape sequence on a pipe"
grep -qF -e "$PIN_A" -e "$PIN_C" "$T/pipe.out" "$T/pipe.screen" && t_fail "pipe: no PIN in the output" || t_ok "pipe: no PIN in the output"
# --- NO_COLOR set but empty, and TERM=dumb: a short scripted drill --------------------
drill() { # NAME ENV
	tm kill-session -t kq 2>/dev/null
	tm new-session -d -s kq -x 160 -y 50 \
		"env $2 $KQ ceremony drill --custody $C $MODS --holders alice --pin-source alice=file:$KQ_HOLDER_PIN_FILE_alice; echo EXIT=\$?; sleep 60"
	wait_for 'EXIT=' 20 || true
	tm capture-pane -p -e -J -t kq -S - >"$T/$1.esc"
	tm kill-session -t kq 2>/dev/null
}
drill emptync "NO_COLOR= TERM=xterm-256color"
grep -q '^EXIT=0' "$T/emptync.esc" && grep -q $'\e\[' "$T/emptync.esc" &&
	t_ok "NO_COLOR set but empty: colour" || t_fail "NO_COLOR set but empty: colour" "$(cat -v "$T/emptync.esc" | head -5)"
drill dumb "-u NO_COLOR TERM=dumb"
grep -q '^EXIT=0' "$T/dumb.esc" && ! grep -q $'\e' "$T/dumb.esc" &&
	t_ok "TERM=dumb: no escape sequence" || t_fail "TERM=dumb: no escape sequence" "$(cat -v "$T/dumb.esc" | head -5)"
echo "# three interactive ceremonies and two drills in $((SECONDS - start)) s"
t_done
