# Private SoftHSM tokens for one integration script (sourced after lib.sh).
#
#   softhsm_setup            a token directory in $T, SOFTHSM2_CONF exported,
#                            $T/pin (mode 0600) holding the user PIN; sets
#                            SM to SoftHSM's module
#   softhsm_token LABEL [TYPE]
#                            a fresh token LABEL (SO PIN 87654321, user PIN
#                            123456) and, with TYPE (ec-p256, rsa-2048 ...),
#                            a key pair "kq" made by keyquorum token keygen
# Nothing here touches the rig's tokens or the machine's SoftHSM config.
SM=/usr/lib/softhsm/libsofthsm2.so

softhsm_setup() {
	mkdir -p "$T/tok"
	printf 'directories.tokendir = %s/tok\nobjectstore.backend = file\nlog.level = ERROR\n' "$T" >"$T/softhsm2.conf"
	export SOFTHSM2_CONF="$T/softhsm2.conf"
	printf '123456\n' >"$T/pin"
	chmod 600 "$T/pin"
}

softhsm_token() {
	softhsm2-util --init-token --free --label "$1" --so-pin 87654321 --pin 123456 >/dev/null || return 1
	[ $# -lt 2 ] && return 0
	"$KQ" token keygen --module "$SM" --token "pkcs11:token=$1?pin-source=$T/pin" --label kq --type "$2" >/dev/null
}

# need_fault_shim: SHIM is the fault shim (tests/fault/p11shim.c), or the
# script ends with a failure saying it is not built.
need_fault_shim() {
	SHIM=$TOP/$B/tests/fault/libkqfault.so
	if [ ! -f "$SHIM" ]; then
		t_fail "fault shim built" "$SHIM missing: make B=$B tests"
		t_done
	fi
}
