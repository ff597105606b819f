#!/usr/bin/env bash
# keyquorum custody create / show / enroll on the rig's SoftHSM holders:
# fingerprints read from the tokens, an existing Vault key imported and
# proven to open before the file is written, and the refusals.
. "$(dirname "$0")/../lib.sh"
t_need_rig
. "$TOP/tests/vault-sim/lib.sh"
. "$TOP/tests/integration/ceremony-common.inc"

C=$T/set.json
t_expect 2 "create: unknown kind is a usage error" \
	"$KQ" custody create --name x --kind nope --threshold 2 --holder "a=$(cer_uri alice)" --out "$C"
t_expect 4 "create: a holder whose token is absent" \
	"$KQ" custody create --name x --kind secret --threshold 1 --module "$M" \
	--holder "ghost=pkcs11:token=kq-nobody;object=kq-holder" --out "$C"
[ ! -e "$C" ] && t_ok "create: nothing written on failure" || t_fail "create: nothing written on failure"
t_run "create a 2-of-3 vault-unseal set" cer_create "$C" vault-unseal 2 alice bob carol
t_run "show" "$KQ" custody show "$C"
t_grep "show lists each holder's key" 'key +SHA256:' "$T/out"
t_grep "show: no share enrolled yet" 'none enrolled' "$T/out"
t_run "show --json" "$KQ" custody show "$C" --json
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/out" && t_ok "show --json is JSON" || t_fail "show --json is JSON"

# Import the keys of a Vault initialised elsewhere (vault operator init).
vsim_start || { t_fail "vault-sim starts"; t_done; }
vsim_init 3 2 || t_fail "vault-sim init 3/2"
key() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["keys"][int(sys.argv[2])])' "$VSIM_DIR/init.json" "$1"; }
keyb64() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["keys_base64"][int(sys.argv[2])])' "$VSIM_DIR/init.json" "$1"; }
P=(--module "$M" --pin-source "alice=file:$KQ_HOLDER_PIN_FILE_alice" --pin-source "bob=file:$KQ_HOLDER_PIN_FILE_bob" --pin-source "carol=file:$KQ_HOLDER_PIN_FILE_carol")

t_run "enroll alice: a hex Vault key from --share-fd" \
	bash -c '"$1" custody enroll "$2" --holder alice --share-fd 3 "${@:4}" 3<<<"$3"' _ "$KQ" "$C" "$(key 0)" "${P[@]}"
t_grep "enroll proves the token opens it" 'opens again' "$T/out"
cp "$C" "$T/after-alice"
t_expect 1 "enroll alice again without --force is refused" \
	bash -c '"$1" custody enroll "$2" --holder alice --share-fd 3 "${@:4}" 3<<<"$3"' _ "$KQ" "$C" "$(key 1)" "${P[@]}"
t_expect 6 "enroll bob with alice's share (same x) is refused" \
	bash -c '"$1" custody enroll "$2" --holder bob --share-fd 3 "${@:4}" 3<<<"$3"' _ "$KQ" "$C" "$(key 0)" "${P[@]}"
t_grep "... naming alice" "holder alice's already" "$T/err"
printf 'wrong' >"$T/bad.pin"
chmod 600 "$T/bad.pin"
t_expect 3 "enroll with a wrong PIN fails before writing" \
	bash -c '"$1" custody enroll "$2" --holder bob --share-fd 3 --module "$4" --pin-source "bob=file:$5" 3<<<"$3"' _ "$KQ" "$C" "$(key 1)" "$M" "$T/bad.pin"
cmp -s "$C" "$T/after-alice" && t_ok "failed enrolments leave the file byte-identical" || t_fail "failed enrolments leave the file byte-identical"
t_expect 2 "enroll rejects text that is not a key" \
	bash -c '"$1" custody enroll "$2" --holder bob --share-fd 3 "${@:4}" 3<<<"$3"' _ "$KQ" "$C" "not a key" "${P[@]}"
t_run "enroll bob: a base64 Vault key" \
	bash -c '"$1" custody enroll "$2" --holder bob --share-fd 3 "${@:4}" 3<<<"$3"' _ "$KQ" "$C" "$(keyb64 1)" "${P[@]}"
if ! grep -q "$(key 1)" "$C" "$T/out" "$T/err"; then t_ok "the key appears nowhere in the file or output"; else t_fail "the key appears nowhere in the file or output"; fi
t_run "the imported keys unseal that Vault" \
	"$KQ" ceremony unseal --custody "$C" --holders alice,bob "${P[@]}"
[ "$(cer_state sealed)" = false ] && t_ok "Vault unsealed with imported keys" || t_fail "Vault unsealed with imported keys"
t_expect 1 "carol (not enrolled) fails the drill (exit 1: no share, not a corrupt one)" \
	"$KQ" ceremony drill --custody "$C" --holders carol "${P[@]}"
t_grep "... and is named" 'carol \(the holder has no share enrolled\)' "$T/err"
# --pin-source is parsed by one function for every verb: enroll too refuses
# a bare path (it once took anything after NAME=), before touching a token.
for v in "custody enroll $C --holder bob" "ceremony drill --custody $C" "ceremony seal-envelope --custody $C"; do
	t_expect 2 "$v: --pin-source NAME=PATH (no file: or fd:) is refused" \
		$KQ $v --pin-source "bob=$T/pin"
	t_grep "... naming the forms it takes" "NAME=file:PATH or NAME=fd:N" "$T/err"
done
# The verbs with actions (custody, envelope) share one dispatcher: a
# missing or unknown action is a usage error that lists the actions.
t_expect 2 "custody with no action: usage error" "$KQ" custody
t_grep "... listing the actions" "create, show or enroll\?" "$T/err"
t_expect 2 "envelope bogus: usage error" "$KQ" envelope bogus
t_grep "... naming it and listing the actions" "unknown action 'bogus' \(show or list\)" "$T/err"
# One parser takes the quorum options of every ceremony (src/cli_quorum.c).
for v in "ceremony drill" "ceremony unseal" "ceremony seal-envelope" "ceremony open-envelope"; do
	t_expect 2 "$v --holders ',,': usage error" $KQ $v --custody "$C" --holders ,,
	t_grep "... naming the form" "--holders wants NAME,NAME" "$T/err"
	t_expect 2 "$v --wait 0: usage error" $KQ $v --custody "$C" --wait 0
done
t_done
