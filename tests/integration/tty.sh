#!/usr/bin/env bash
# The offline verbs on a real terminal (tmux): prompts, no echo of secrets,
# raw output refused on a terminal.
. "$(dirname "$0")/../lib.sh"
command -v tmux >/dev/null || { t_fail "tmux is installed"; t_done; }
sock="kq$$"
tm() { tmux -L "$sock" "$@"; }
t_on_exit "tmux -L $sock kill-server 2>/dev/null"
unset TMUX
# wait_for PATTERN: until the pane shows it (5 s at most)
wait_for() {
	local i
	for i in $(seq 50); do
		tm capture-pane -p -t kq >"$T/screen" 2>/dev/null
		grep -qE -- "$1" "$T/screen" && return 0
		sleep 0.1
	done
	return 1
}
start() { # CMD...
	tm kill-session -t kq 2>/dev/null
	tm new-session -d -s kq -x 150 -y 20 "$*; echo EXIT=\$?; sleep 60"
}

enc=KR5KXz0vNxFECAcIaQQlfAYJCgEgEDQ1CS8bJg
otp=Ah9qwYQzspnj9iS0WJmuQQNCXUcd
start "$KQ decode-root"
wait_for 'Encoded token:' && t_ok "decode-root asks for the encoded token" || t_fail "decode-root asks for the encoded token" "$(cat "$T/screen")"
tm send-keys -t kq "$enc" Enter
wait_for 'OTP \(not echoed\):' && t_ok "…then for the OTP, saying it is not echoed" || t_fail "…then for the OTP" "$(cat "$T/screen")"
tm send-keys -t kq "$otp" Enter
wait_for 'EXIT=' || true
grep -q 'hvs.Jvfk7xibPmvLQCgtqAzvQzxB' "$T/screen" && grep -q 'EXIT=0' "$T/screen" && t_ok "…and prints the token" || t_fail "…and prints the token" "$(cat "$T/screen")"
grep -q "$otp" "$T/screen" && t_fail "the OTP was echoed" "$(cat "$T/screen")" || t_ok "the OTP never appears on the screen"
grep -q "$enc" "$T/screen" && t_ok "the encoded token (not secret) is echoed as typed" || t_fail "the encoded token is echoed" "$(cat "$T/screen")"

head -c 32 /dev/urandom >"$T/secret"
"$KQ" split -t 2 -n 3 --secret-file "$T/secret" >"$T/shares"
start "$KQ combine <$T/shares"
wait_for 'EXIT=' || true
grep -q 'refusing to write raw secret bytes to a terminal' "$T/screen" && grep -q 'EXIT=2' "$T/screen" &&
	t_ok "combine refuses raw output on a terminal (exit 2)" || t_fail "combine refuses raw output on a terminal" "$(cat "$T/screen")"
start "$KQ combine --out hex <$T/shares"
wait_for 'EXIT=' || true
grep -q "$(od -An -tx1 -v "$T/secret" | tr -d ' \n')" "$T/screen" && t_ok "combine --out hex prints on a terminal" || t_fail "combine --out hex prints on a terminal" "$(cat "$T/screen")"
if grep -q $'\e\[' "$T/screen"; then t_fail "no stray escape sequences"; else t_ok "no stray escape sequences"; fi

start "$KQ split -t 2 -n 2 --in hex --out hex >$T/tshares"
wait_for 'Secret \(not echoed\):' && t_ok "split on a terminal asks for the secret" || t_fail "split on a terminal asks for the secret" "$(cat "$T/screen")"
tm send-keys -t kq "00112233445566778899aabbccddeeff" Enter
wait_for 'EXIT=' || true
grep -q 00112233445566778899aabbccddeeff "$T/screen" && t_fail "the secret was echoed" "$(cat "$T/screen")" || t_ok "the secret is not echoed"
[ "$("$KQ" combine --in hex --out hex <"$T/tshares")" = 00112233445566778899aabbccddeeff ] && t_ok "…and the shares recombine to it" || t_fail "…and the shares recombine to it"

# Ctrl-C at the OTP prompt, from an interactive shell as an operator would:
# keyquorum dies of SIGINT and the terminal has its echo back.
tm kill-session -t kq 2>/dev/null
tm new-session -d -s kq -x 150 -y 20 "env -i PATH=$PATH TERM=screen bash --norc --noprofile -i"
sleep 0.3
tm send-keys -t kq "$KQ decode-root" Enter
wait_for 'Encoded token:' || true
tm send-keys -t kq "$enc" Enter
wait_for 'OTP' || true
tm send-keys -t kq C-c
sleep 0.3
tm send-keys -t kq "echo EXIT=\$?; stty -a | grep -o -- ' -*echo ' | head -1 | sed 's/^/STTY/'" Enter
wait_for '^STTY' || true
grep -q 'EXIT=130' "$T/screen" && t_ok "Ctrl-C at the OTP prompt ends decode-root by SIGINT (130)" || t_fail "Ctrl-C ends decode-root by SIGINT" "$(cat "$T/screen")"
grep -qE '^STTY +echo' "$T/screen" && t_ok "…and leaves the terminal's echo on" || t_fail "…and leaves the terminal's echo on" "$(cat "$T/screen")"
t_done
