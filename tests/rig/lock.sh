# Sourced by whatever brings the test rig up (tests/run, tests/demo-ceremony,
# bench/ceremony.sh).  One rig per machine: pcscd's socket is machine-wide
# and the rig's state lives in the tree, so users take turns.  rig_lock
# takes the lock on fd 9 and holds it until the process exits.
rig_lock() {
	exec 9>"${TMPDIR:-/tmp}/keyquorum-rig.lock"
	if ! flock -n 9; then
		echo "waiting for another user of the test rig to finish" >&2
		flock 9
	fi
}
