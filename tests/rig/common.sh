# shellcheck shell=bash disable=SC2034
# Shared by tests/rig/up and tests/rig/down (sourced, not run).
#
# The rig is one per machine: pcscd's socket (/run/pcscd/pcscd.comm) and
# vpcd's TCP ports are fixed, so up and down serialise on one lock file and
# every process the rig starts is recognised by its command line naming
# this checkout's state directory.

RIG=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$RIG/../.." && pwd)
S=$RIG/state
RIG_LOCK=/run/lock/keyquorum-rig.lock

SOFTHSM_MODULE=/usr/lib/softhsm/libsofthsm2.so
OPENSC_MODULE=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so
P11KIT_PROXY=/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so
VPCD_DRIVER=/usr/lib/pcsc/drivers/serial/libifdvpcd.so
PCSCD_COMM=/run/pcscd/pcscd.comm
PCSCD_PIDFILE=/run/pcscd/pcscd.pid

rig_lock() {
	mkdir -p "$(dirname "$RIG_LOCK")"
	exec 9>"$RIG_LOCK"
	if ! flock -w 120 9; then
		echo "$(basename "$0"): another tests/rig/up or down has held $RIG_LOCK for 2 minutes" >&2
		exit 1
	fi
}

# rig_cmdline PID: the process's command line with spaces, or nothing.
rig_cmdline() {
	tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" || true
}

# rig_ours PID: true when PID is a live process this rig started (its
# command line names the state directory).
rig_ours() {
	[ -n "$1" ] && [ -d "/proc/$1" ] && case "$(rig_cmdline "$1")" in *"$S/"*) true ;; *) false ;; esac
}

# rig_pids: every live process whose command line names $S/ (pcscd and the
# bridges, including strays whose pid files are gone).
rig_pids() {
	local p
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[ "$p" = $$ ] && continue
		case "$(rig_cmdline "$p")" in
		*pcscd*"$S/"* | *vcard-bridge*"$S/"*) echo "$p" ;;
		esac
	done
}

# rig_stop PID...: SIGTERM, up to 2 s, then SIGKILL.
rig_stop() {
	local p i alive
	[ $# -gt 0 ] || return 0
	kill -TERM "$@" 2>/dev/null || true
	for i in $(seq 40); do
		alive=
		for p in "$@"; do
			[ -d "/proc/$p" ] && ! grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null && alive=1
		done
		[ -z "$alive" ] && return 0
		sleep 0.05
	done
	kill -KILL "$@" 2>/dev/null || true
}

# live_pcscd: "PID CMDLINE" of each running (not zombie) pcscd.
live_pcscd() {
	local p
	for p in $(pgrep -x pcscd || true); do
		grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null && continue
		echo "$p $(rig_cmdline "$p")"
	done
}

# Stop everything the rig started and remove its state.
rig_teardown() {
	local pids
	# shellcheck disable=SC2046
	pids=$(rig_pids)
	# shellcheck disable=SC2086
	rig_stop $pids
	# pcscd leaves its socket and pid file behind when killed.
	if [ -z "$(live_pcscd)" ]; then
		rm -f "$PCSCD_COMM" "$PCSCD_PIDFILE"
	fi
	rm -rf "$S"
}

# Live pids of the runs using the rig (tests/rig/up records its parent).
rig_users() {
	local f p
	for f in "$S"/users/*; do
		[ -e "$f" ] || continue
		p=${f##*/}
		if [ -d "/proc/$p" ]; then echo "$p"; else rm -f "$f"; fi
	done
}
