# shellcheck shell=bash disable=SC2153
# Vault API test server helpers for integration tests.
# Source after tests/lib.sh (needs $T, $TOP and t_on_exit):
#
#   . "$TOP/tests/vault-sim/lib.sh"
#   vsim_start [options]     start a server in $T/vsim (then $T/vsim.2, ...),
#                            export VAULT_ADDR, VAULT_CACERT, VSIM_PID, VSIM_DIR,
#                            VSIM_PORT, VSIM_PIN; stopped automatically at exit
#   vsim_stop                stop the server started last
#   vsim_ctl PATH [JSON]     POST to the control endpoint /_sim/PATH
#                            (fault, restart, reset-counters); prints the answer.
#                            The control helpers pin the server key (curl -k
#                            --pinnedpubkey), so they work in --bad-cert modes too
#   vsim_state [FIELD]       GET /_sim/state (JSON) or one field as text
#                            (lists: one item a line)
#   vsim_ccert               curl options for the client certificate of a
#                            --client-cert=... server (used by the helpers)
#   vsim_init N T [recovery] PUT /v1/sys/init; the answer goes to $VSIM_DIR/init.json
#                            (0600) -- never to stdout
#
# The options are those of tests/vault-sim/start (README.md there).

VSIM_HOME=$TOP/tests/vault-sim
vsim_n=0

vsim_start() {
	local d
	vsim_n=$((vsim_n + 1))
	d=$T/vsim
	[ "$vsim_n" -gt 1 ] && d=$T/vsim.$vsim_n
	"$VSIM_HOME/start" "$d" "$@" || return 1
	# shellcheck disable=SC1091
	. "$d/env"
	t_on_exit "vsim_kill $VSIM_PID"
}

# vsim_kill PID: stop one server we started, by its id, and wait for it.
vsim_kill() {
	local pid=$1 i=0
	kill "$pid" 2>/dev/null || return 0
	# The server is not our child (start detached it), so it may stay a
	# zombie until its new parent reaps it: that counts as gone.
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
		case $(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$pid/status" 2>/dev/null) in
		Z | X | '') return 0 ;;
		esac
		sleep 0.02
		i=$((i + 1))
	done
	kill -9 "$pid" 2>/dev/null || true
}

vsim_stop() {
	if [ -n "${VSIM_PID:-}" ]; then
		vsim_kill "$VSIM_PID"
		unset VSIM_PID
	fi
}

# vsim_ccert: curl options presenting the server's good client certificate
# (a --client-cert=... server; nothing otherwise)
vsim_ccert() {
	[ -n "${VSIM_CLIENT_CERT:-}" ] && printf '%s\n' --cert "$VSIM_CLIENT_CERT" --key "$VSIM_CLIENT_KEY"
	return 0
}

vsim_ctl() {
	local body=${2-}
	[ -n "$body" ] || body='{}'
	# shellcheck disable=SC2046
	curl -sS --max-time 10 -k --pinnedpubkey "$VSIM_PIN" $(vsim_ccert) -X POST \
		-H 'Content-Type: application/json' --data-binary "$body" \
		"$VAULT_ADDR/_sim/$1"
}

vsim_state() {
	# shellcheck disable=SC2046
	curl -sS --max-time 10 --fail -k --pinnedpubkey "$VSIM_PIN" $(vsim_ccert) \
		"$VAULT_ADDR/_sim/state${1:+/$1}"
}

vsim_init() {
	local body
	if [ "${3:-}" = recovery ]; then
		body="{\"recovery_shares\":$1,\"recovery_threshold\":$2}"
	else
		body="{\"secret_shares\":$1,\"secret_threshold\":$2}"
	fi
	(
		umask 077
		# shellcheck disable=SC2046
		curl -sS --max-time 10 --fail --cacert "$VAULT_CACERT" $(vsim_ccert) -X PUT \
			--data-binary "$body" -o "$VSIM_DIR/init.json" "$VAULT_ADDR/v1/sys/init"
	)
}
