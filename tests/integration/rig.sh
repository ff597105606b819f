#!/usr/bin/env bash
# The test rig itself: every SoftHSM token and key through SoftHSM and
# through p11-kit-proxy, the virtual cards through OpenSC, an RSA-OAEP
# round trip on a card, wrong PINs and the card's retry counter, card removal and
# insertion, up twice, down then up.
# PINs reach pkcs11-tool as --pin env:KQ_PIN (these are throwaway tokens).
. "$(dirname "$0")/../lib.sh"
t_need_rig

p11() { pkcs11-tool --module "$@"; }
# alive PID: running (a zombie waiting for init to reap it is not).
alive() { [ -d "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
pin() { cat "$1"; }

# --- SoftHSM tokens ---------------------------------------------------------
for h in $KQ_HOLDERS; do
	tok=KQ_HOLDER_TOKEN_$h pf=KQ_HOLDER_PIN_FILE_$h kt=KQ_HOLDER_KEYTYPE_$h
	tok=${!tok} pf=${!pf} kt=${!kt}
	case $kt in
	ec-p256) want='EC.*256 bits' ;;
	ec-p384) want='EC.*384 bits' ;;
	rsa-2048) want='RSA 2048 bits' ;;
	rsa-3072) want='RSA 3072 bits' ;;
	*) want=unknown ;;
	esac
	KQ_PIN=$(pin "$pf") p11 "$KQ_SOFTHSM_MODULE" --token-label "$tok" \
		--login --pin env:KQ_PIN -O >"$T/obj" 2>&1
	if grep -Eq "Public Key Object; $want" "$T/obj" &&
		awk '/^Private Key Object/ { p = 1 } p && /label: *kq-holder/ { l = 1 }
			p && /ID: *01$/ { i = 1 }
			p && /Access:.*sensitive.*never extractable/ { a = 1 }
			END { exit !(l && i && a) }' "$T/obj"; then
		t_ok "softhsm: $tok has its $kt key pair kq-holder/01, private key sensitive and never extractable"
	else
		t_fail "softhsm: $tok key pair" "$(head -c 600 "$T/obj")"
	fi
	p11 "$KQ_P11KIT_PROXY" --token-label "$tok" -O >"$T/obj" 2>&1
	t_grep "p11-kit-proxy: $tok and its public key are visible" "Public Key Object; $want" "$T/obj"
done
hsm_login() { # PIN
	KQ_PIN=$1 p11 "$KQ_SOFTHSM_MODULE" --token-label "$KQ_HSM_TOKEN" \
		--login --pin env:KQ_PIN -O
}
t_run "softhsm: log in to $KQ_HSM_TOKEN with its PIN file" \
	hsm_login "$(pin "$KQ_HSM_PIN_FILE")"
t_expect 1 "softhsm: a wrong PIN for $KQ_HSM_TOKEN is refused" \
	hsm_login not-the-pin
t_grep "softhsm: ... as CKR_PIN_INCORRECT" CKR_PIN_INCORRECT "$T/err"
for f in "$KQ_HSM_PIN_FILE" "$KQ_HSM_SO_PIN_FILE" "$KQ_CARD_PIN_FILE"; do
	if [ "$(stat -c %a "$f")" = 600 ] && [ "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" != '\n' ]; then
		t_ok "pin file ${f##*/}: mode 0600, no trailing newline"
	else
		t_fail "pin file ${f##*/}" "mode $(stat -c %a "$f")"
	fi
done

# --- the virtual cards through OpenSC ---------------------------------------
p11 "$KQ_OPENSC_MODULE" -L >"$T/slots" 2>&1
t_grep "opensc: card 1 in \"$KQ_CARD_READER\" shows token \"$KQ_CARD_TOKEN\"" \
	"token label *: $KQ_CARD_TOKEN\$" "$T/slots"
t_grep "opensc: card 2 in \"$KQ_CARD2_READER\" shows token \"$KQ_CARD2_TOKEN\"" \
	"token label *: $KQ_CARD2_TOKEN\$" "$T/slots"
p11 "$KQ_P11KIT_PROXY" -L >"$T/slots" 2>&1
t_grep "p11-kit-proxy: the card's token is visible too (through opensc-pkcs11)" \
	"token label *: $KQ_CARD_TOKEN\$" "$T/slots"

card() { p11 "$KQ_OPENSC_MODULE" --token-label "$KQ_CARD_TOKEN" "$@"; }
oaep=(-m RSA-PKCS-OAEP --hash-algorithm SHA256 --mgf MGF1-SHA256)
card --read-object --type pubkey --id 0001 -o "$T/pub.der" >/dev/null 2>&1
head -c 32 /dev/urandom >"$T/pt"
if openssl pkeyutl -encrypt -pubin -keyform DER -inkey "$T/pub.der" \
	-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 \
	-pkeyopt rsa_mgf1_md:sha256 -in "$T/pt" -out "$T/ct" 2>"$T/err"; then
	t_ok "openssl: RSA-OAEP-SHA256 encrypt to the card's key 0001"
else
	t_fail "openssl: encrypt to the card's key" "$(cat "$T/err")"
fi
decrypt() { # PIN
	KQ_PIN=$1 card --login --pin env:KQ_PIN --decrypt "${oaep[@]}" \
		--id 0001 -i "$T/ct" -o "$T/out"
}
t0=$(date +%s%N)
if decrypt "$(pin "$KQ_CARD_PIN_FILE")" >"$T/log" 2>&1 && cmp -s "$T/pt" "$T/out"; then
	t_ok "opensc: the card decrypts it (RSA-PKCS-OAEP, SHA-256) in $((($(date +%s%N) - t0) / 1000000)) ms"
else
	t_fail "opensc: decrypt on the card" "$(head -c 400 "$T/log")"
fi
rm -f "$T/out"
# The card's PIN retry counter (the bridge's, 3 tries: see vcard-bridge.c).
pinflags() { p11 "$KQ_OPENSC_MODULE" -T 2>/dev/null | awk -v t="$KQ_CARD_TOKEN" '
	/^Slot / { s = 0 } /token label/ && $0 ~ (": *" t "$") { s = 1 } s && /token flags/ { print; exit }'; }
t_expect 1 "opensc: a wrong PIN on the card fails" decrypt 00000000
t_grep "opensc: ... as CKR_PIN_INCORRECT (63Cx from the card)" CKR_PIN_INCORRECT "$T/err"
t_expect 1 "opensc: a second wrong PIN fails" decrypt 11111111
pinflags >"$T/flags"
t_grep "opensc: ... and the token then reports its final try" 'final user PIN try' "$T/flags"
if decrypt "$(pin "$KQ_CARD_PIN_FILE")" >"$T/log" 2>&1 && cmp -s "$T/pt" "$T/out"; then
	t_ok "opensc: the right PIN on the final try works"
else
	t_fail "opensc: card after wrong PINs" "$(head -c 400 "$T/log")"
fi
pinflags >"$T/flags"
if grep -q 'token flags' "$T/flags" && ! grep -Eq 'final user PIN try|user PIN count low|user PIN locked' "$T/flags"; then
	t_ok "opensc: ... and restores the count"
else
	t_fail "opensc: ... and restores the count" "$(cat "$T/flags")"
fi

# --- card removal and insertion -----------------------------------------------
# reader_has CARD|EMPTY: opensc-tool's view of reader 0.
reader_state() {
	opensc-tool -l 2>/dev/null | awk -v r="$KQ_CARD_READER" 'index($0, r) { print $2 }'
}
# wait_state WANT: polls for up to 3 s, prints the milliseconds it took.
wait_state() {
	local t0 i
	t0=$(date +%s%N)
	for i in $(seq 60); do
		if [ "$(reader_state)" = "$1" ]; then
			echo $((($(date +%s%N) - t0) / 1000000))
			return 0
		fi
		sleep 0.05
	done
	return 1
}
$KQ_CARD_REMOVE
if ms=$(wait_state No) && [ "$ms" -le 1500 ]; then
	t_ok "bridge: SIGUSR1 empties \"$KQ_CARD_READER\" (seen after $ms ms)"
else
	t_fail "bridge: removal by SIGUSR1" "reader state: $(reader_state) after ${ms:-3000} ms"
fi
t_expect 1 "opensc: no token in the emptied reader" \
	pkcs11-tool --module "$KQ_OPENSC_MODULE" --token-label "$KQ_CARD_TOKEN" -O
$KQ_CARD_INSERT
if ms=$(wait_state Yes) && [ "$ms" -le 1500 ]; then
	t_ok "bridge: SIGUSR2 puts the card back (seen after $ms ms)"
else
	t_fail "bridge: insertion by SIGUSR2" "reader state: $(reader_state)"
fi
if decrypt "$(pin "$KQ_CARD_PIN_FILE")" >"$T/log" 2>&1 && cmp -s "$T/pt" "$T/out"; then
	t_ok "opensc: the card decrypts again after being put back"
else
	t_fail "opensc: decrypt after re-insertion" "$(head -c 400 "$T/log")"
fi

# A card pulled during a decrypt, on cue.
$KQ_CARD_PULL_ON_DECRYPT
rm -f "$T/out"
t_expect 1 "bridge: armed by SIGRTMIN, the card leaves during the decrypt" \
	decrypt "$(pin "$KQ_CARD_PIN_FILE")"
# OpenSC's CAC driver turns the vanished card into CKR_GENERAL_ERROR (seen
# with OpenSC 0.23): only PC/SC (hsm/pcsc.c: pcsc_mark/pcsc_check) can say
# that it was a removal.
t_grep "opensc: ... and the decrypt fails with a PKCS#11 error" \
	'C_Decrypt[A-Za-z]* failed: rv = CKR_(GENERAL_ERROR|DEVICE_REMOVED|TOKEN_NOT_PRESENT|DEVICE_ERROR)' "$T/err"
cp "$T/err" "$T/pull-err"
if ms=$(wait_state No); then
	t_ok "bridge: ... and the reader is empty afterwards ($ms ms)"
else
	t_fail "bridge: reader after the pull" "$(reader_state)"
fi
$KQ_CARD_INSERT
wait_state Yes >/dev/null
if decrypt "$(pin "$KQ_CARD_PIN_FILE")" >"$T/log" 2>&1 && cmp -s "$T/pt" "$T/out"; then
	t_ok "bridge: the pull is one-shot; put back, the card decrypts"
else
	t_fail "bridge: decrypt after the pull" "$(head -c 400 "$T/log")"
fi

# --- up twice, down then up -------------------------------------------------
pcscd_pid=$KQ_PCSCD_PID
t_run "up: running tests/rig/up on a rig that is up is fine" "$TOP/tests/rig/up"
t_grep "up: ... and reuses it" "already up" "$T/out"
. "$KQ_RIG_DIR/env"
[ "$KQ_PCSCD_PID" = "$pcscd_pid" ] && alive "$pcscd_pid" &&
	t_ok "up: ... keeping pcscd $pcscd_pid" || t_fail "up: reuse keeps pcscd"

# A forced down and up would pull the rig from under another run that is
# using it right now (there is one pcscd per machine): only when the runs
# registered with the rig are this script's own ancestors (tests/run).
mine=" $$ "
p=$$
while [ "$p" -gt 1 ] 2>/dev/null; do
	p=$(awk '/^PPid:/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)
	mine="$mine$p "
done
users=() others=()
for f in "$KQ_RIG_DIR"/users/*; do
	[ -e "$f" ] || continue
	p=${f##*/}
	alive "$p" || continue
	case "$mine" in *" $p "*) users+=("$p") ;; *) others+=("$p") ;; esac
done
if [ ${#others[@]} -gt 0 ]; then
	t_ok "down then up # SKIP the rig is in use by other runs (${others[*]})"
else
	t_run "down: tests/rig/down --force stops the rig" "$TOP/tests/rig/down" --force
	if [ ! -e "$KQ_RIG_DIR" ] && ! alive "$pcscd_pid" &&
		! alive "$KQ_BRIDGE_PID" && ! alive "$KQ_CARD2_BRIDGE_PID"; then
		t_ok "down: pcscd and the bridges are gone, and the state"
	else
		t_fail "down: leftovers" "$(ls "$KQ_RIG_DIR" 2>&1; ps -o pid,stat,args -p "$pcscd_pid,$KQ_BRIDGE_PID,$KQ_CARD2_BRIDGE_PID")"
	fi
	t_run "down: again (idempotent)" "$TOP/tests/rig/down" --force
	# A start that fails (here: the bridge cannot be built) says why and
	# leaves nothing behind.
	t_expect 1 "up: a failed start exits 1" env B=/proc/kq-no-build "$TOP/tests/rig/up"
	t_grep "up: ... naming the reason" "cannot build" "$T/err"
	if [ ! -e "$KQ_RIG_DIR" ] && [ -z "$(pgrep -x pcscd | while read -r p; do alive "$p" && echo "$p"; done)" ]; then
		t_ok "up: ... and cleaning up after itself"
	else
		t_fail "up: cleanup after a failed start" "$(ls "$KQ_RIG_DIR" 2>&1; pgrep -a pcscd)"
	fi
	t0=$(date +%s%N)
	t_run "up: after down" "$TOP/tests/rig/up"
	t_ok "up: from nothing took $((($(date +%s%N) - t0) / 1000000)) ms"
	. "$KQ_RIG_DIR/env"
	p11 "$KQ_OPENSC_MODULE" -L >"$T/slots" 2>&1
	t_grep "up: after down the card is back in OpenSC" "token label *: $KQ_CARD_TOKEN\$" "$T/slots"
	# The runs that asked for the rig (tests/run) still own it.
	for p in "${users[@]+"${users[@]}"}"; do touch "$KQ_RIG_DIR/users/$p"; done
fi
t_done
