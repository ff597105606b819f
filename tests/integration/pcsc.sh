#!/usr/bin/env bash
# hsm/pcsc.c against the rig's pcscd and virtual cards, through
# tests/rig/pcsc-probe: list, wait for removal and insertion, timeout,
# cancel (from a signal handler), a card pulled during an operation.
. "$(dirname "$0")/../lib.sh"
t_need_rig

P=$TOP/$B/tests/rig/pcsc-probe
if [ ! -x "$P" ]; then
	t_fail "pcsc-probe is built" "$P missing: make B=$B tests"
	t_done
fi
R=$KQ_CARD_READER
# Put the card back whatever happens.
t_on_exit '$KQ_CARD_INSERT'

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
# start_probe OUT ARGS...: run the probe in the background, wait until it
# says "waiting" (or "marked"); the pid is in $probe.
start_probe() {
	local out=$1 i
	shift
	"$P" "$@" >"$out" 2>&1 &
	probe=$!
	for i in $(seq 100); do
		grep -qE '^(waiting|marked)$' "$out" && return 0
		sleep 0.02
	done
	return 1
}
# finish_probe SECONDS: wait for the probe for at most SECONDS; its status
# is in $rc (124 when it had to be killed).
finish_probe() {
	local i
	for i in $(seq $(($1 * 20))); do
		if ! kill -0 "$probe" 2>/dev/null; then
			wait "$probe"
			rc=$?
			return
		fi
		sleep 0.05
	done
	kill "$probe" 2>/dev/null
	wait "$probe"
	rc=124
}

# --- list ---------------------------------------------------------------------
t_run "list: runs" "$P" list
t_grep "list: \"$R\" has a card, with its ATR" "^$R	card	3b[0-9a-f]+\$" "$T/out"
t_grep "list: the second reader too" "^$KQ_CARD2_READER	card	" "$T/out"

# --- removal and insertion ----------------------------------------------------
start_probe "$T/w" wait remove -r "$R" -t 5000 || t_fail "wait remove: starts"
t0=$(date +%s%N)
$KQ_CARD_REMOVE
finish_probe 4
ms=$(ms_since "$t0")
if [ "$rc" = 0 ] && grep -qx "removed $R" "$T/w" && [ "$ms" -le 1500 ]; then
	t_ok "wait remove: returns $ms ms after the bridge got SIGUSR1"
else
	t_fail "wait remove" "rc $rc after $ms ms: $(cat "$T/w")"
fi
t_run "list: after removal" "$P" list
t_grep "list: \"$R\" is empty" "^$R	empty	\$" "$T/out"

start_probe "$T/w" wait insert -t 5000 || t_fail "wait insert: starts"
t0=$(date +%s%N)
$KQ_CARD_INSERT
finish_probe 4
ms=$(ms_since "$t0")
if [ "$rc" = 0 ] && grep -qx "inserted $R" "$T/w" && [ "$ms" -le 1500 ]; then
	t_ok "wait insert (any reader): returns $ms ms after SIGUSR2, naming the reader"
else
	t_fail "wait insert" "rc $rc after $ms ms: $(cat "$T/w")"
fi

t_run "wait insert -n: returns at once when a card is present" \
	timeout 2 "$P" wait insert -n -r "$R" -t 1000
t_grep "wait insert -n: ... naming it" "^inserted $R\$" "$T/out"

# --- timeout and cancel -------------------------------------------------------
t0=$(date +%s%N)
t_expect 1 "wait: times out" "$P" wait remove -r "$R" -t 300
ms=$(ms_since "$t0")
t_grep "wait: ... with KQ_ERR_TIMEOUT" "^KQ_ERR_TIMEOUT:" "$T/out"
if [ "$ms" -ge 300 ] && [ "$ms" -le 1500 ]; then
	t_ok "wait: the 300 ms timeout took $ms ms"
else
	t_fail "wait: timeout duration" "$ms ms"
fi

t0=$(date +%s%N)
t_expect 1 "cancel: pcsc_cancel from a SIGALRM handler ends a wait" \
	"$P" wait remove -r "$R" -t 10000 -c 200
ms=$(ms_since "$t0")
t_grep "cancel: ... with KQ_ERR_INTERRUPTED" "^KQ_ERR_INTERRUPTED:" "$T/out"
[ "$ms" -le 1500 ] && t_ok "cancel: within $ms ms" || t_fail "cancel: took $ms ms"

start_probe "$T/w" wait any -t 10000 || t_fail "SIGINT: probe starts"
kill -INT "$probe"
finish_probe 3
if [ "$rc" = 1 ] && grep -q '^KQ_ERR_INTERRUPTED:' "$T/w"; then
	t_ok "SIGINT: a wait on every reader ends cleanly"
else
	t_fail "SIGINT" "rc $rc: $(cat "$T/w")"
fi

# --- a card pulled during an operation ----------------------------------------
t_run "hold: a card left alone is still there" "$P" hold "$R" 300
t_grep "hold: ... says so" "^still there\$" "$T/out"
start_probe "$T/h" hold "$R" 1500 || t_fail "hold: starts"
$KQ_CARD_REMOVE
sleep 0.6
$KQ_CARD_INSERT
finish_probe 4
if [ "$rc" = 1 ] && grep -q '^KQ_ERR_TOKEN_REMOVED:' "$T/h"; then
	t_ok "hold: a card pulled and put back during the operation is KQ_ERR_TOKEN_REMOVED"
else
	t_fail "hold: pulled and put back" "rc $rc: $(cat "$T/h")"
fi
# Let pcscd see the card again before the next case.
timeout 3 "$P" wait insert -n -r "$R" -t 2500 >/dev/null 2>&1

# The unit test's pcscd case (a cancel before the wait sticks) is skipped
# when tests/run runs unit tests before the rig is up: run it here.
U=$TOP/$B/tests/unit/test_pcsc
if [ -x "$U" ]; then
	CMOCKA_MESSAGE_OUTPUT=stdout "$U" >"$T/unit" 2>&1
	rc=$?
	if [ "$rc" = 0 ] && ! grep -q SKIPPED "$T/unit"; then
		t_ok "unit/test_pcsc with pcscd running: nothing skipped, all pass"
	else
		t_fail "unit/test_pcsc with pcscd" "rc $rc: $(tail -5 "$T/unit")"
	fi
fi

t_expect 1 "unknown reader: wait fails" "$P" wait insert -r "No Such Reader 00 00" -t 500
t_grep "unknown reader: ... with KQ_ERR_READER_NOT_FOUND" "^KQ_ERR_READER_NOT_FOUND:" "$T/out"
t_done
