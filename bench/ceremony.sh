#!/usr/bin/env bash
# shellcheck disable=SC1090,SC1091  # env files made at run time
# bench/ceremony.sh: scripted unseal ceremonies, timed (called by
# bench/run; builds nothing: `make bench` builds keyquorum and
# $B/bench/libkqtime.so first).
#
#   B=build bench/ceremony.sh          10 runs of each ceremony
#   BENCH_QUICK=1 bench/ceremony.sh    3 runs of each
#   BENCH_CER_RUNS=N                   N runs of each
#
# Ceremonies, each against its own Vault API test server (tests/vault-sim),
# re-sealed through the API (PUT sys/seal with the root token) before every
# run:
#   softhsm 3-of-5    holders h01..h05 on SoftHSM tokens made here, in a
#                     private SOFTHSM2_CONF; unseal with h01,h02,h03
#   softhsm 5-of-10   h01..h10, unseal with h01..h05
#   softhsm-rsa 3-of-5  h02, h04, ..., h10 (the RSA ones), unseal with h02,
#                     h04, h06; and beside it the manual way on the same
#                     tokens (bench_manual below): keyquorum / manual
#   card 3-of-5       the rig's two virtual CAC cards through OpenSC
#                     (pcscd -> vpcd -> libcacard -> NSS -> SoftHSM): card 1
#                     keys 03, 02, 01 and card 2 keys 03, 02; unseal with
#                     card1/03, card2/03, card1/02.  Uses the rig as it is
#                     when it is up; else brings it up (tests/rig/up) and
#                     down again at the end (tests/rig/down: stops it only
#                     when no one else uses it).  Skipped when the rig
#                     cannot start.
# The SoftHSM key types cycle ec-p256, rsa-2048, ec-p384, rsa-3072 over the
# holders (`keyquorum token keygen --type`); the cards are RSA-2048.
#
# How a run is split (each keyquorum process runs with --json, through
# $B/bench/libkqtime.so in front of the real module):
#   wall     the keyquorum process, fork to exit, as bash sees it
#   cpu      its user + system CPU time (getrusage, through bash's times;
#            1 ms resolution): on a loaded machine wall - cpu is mostly
#            time spent waiting for a core
#   token    time inside PKCS#11 calls (libkqtime.so: two clock reads
#            around every call of the module's function list), without:
#   module   loading the module (dlopen), C_Initialize and C_Finalize
#   vault    the server's own handling time of every request (the sim's
#            request log; 1 ms resolution, so small values round to 0)
#   rest     wall - token - module - vault: keyquorum itself, process
#            start, TLS, the local network, writing the transcript
# Per holder, the step runs from the previous holder's "progress" event
# (the first holder: from the "info" event that follows the seal-status
# request) to the holder's own "progress" event; events are stamped with
# $EPOCHREALTIME as they arrive on the pipe (each line is flushed).  The
# holder's token part is the PKCS#11 time that starts inside the step; its
# vault part the server time of its sys/unseal request; the rest is
# keyquorum's per-holder work (find the token, read the key, unseal the
# share, check it, the HTTPS request).
#
# The SoftHSM 3-of-5 sets also run without the shim and --json stamping
# (wall only), which shows what the measurement itself costs.
#
# Output: tables (mean and standard deviation over the runs), the PKCS#11
# functions the token time goes to, and
#   BENCH name=cer_unseal_<what>[_sd] kernel=<softhsm|softhsm-rsa|card> size=0 k=<t> n=<n> value=<v> unit=ms
#   BENCH name=cer_unseal_wall_noshim[_sd] ... / cer_unseal_wall_manual[_sd] kernel=softhsm-rsa ...
#   BENCH name=ratio_kq_manual_unseal kernel=softhsm-rsa size=0 k=3 n=5 value=<v> unit=ratio
#   BENCH name=cer_holder_<what>[_sd] kernel=<softhsm|card>-<keytype> size=0 k=0 n=0 value=<v> unit=ms
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 1
TOP=$PWD
: "${B:=build}"
case "$B" in /*) BD=$B ;; *) BD=$TOP/$B ;; esac
RUNS=${BENCH_CER_RUNS:-10}
[ -n "${BENCH_QUICK:-}" ] && RUNS=${BENCH_CER_RUNS:-3}
KQ=$BD/keyquorum
SHIM=$BD/bench/libkqtime.so
SM=/usr/lib/softhsm/libsofthsm2.so
W=$(mktemp -d "${TMPDIR:-/tmp}/kqcer.XXXXXX")
SIMS=()
RIG_UP=0

cleanup() {
	local p i
	for p in "${SIMS[@]}"; do
		kill "$p" 2>/dev/null || continue
		# start detached the server: it may linger as a zombie
		for ((i = 0; i < 100; i++)); do
			kill -0 "$p" 2>/dev/null || break
			case $(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$p/status" 2>/dev/null) in
			Z | X | '') break ;;
			esac
			sleep 0.02
		done
	done
	[ "$RIG_UP" = 1 ] && B=$B "$TOP/tests/rig/down" >/dev/null 2>&1
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for f in "$KQ" "$SHIM"; do
	if [ ! -e "$f" ]; then
		echo "missing $f (make bench builds it)"
		exit 1
	fi
done

# sim_start NAME: a Vault API test server in $W/NAME (its env: $W/NAME/env).
sim_start() {
	"$TOP/tests/vault-sim/start" "$W/$1" >/dev/null 2>"$W/$1.err" || return 1
	SIMS+=("$(sed -n 's/^export VSIM_PID=//p' "$W/$1/env")")
}

# seal ENVFILE ROOTFILE: seal that Vault (the sim answers 503 when sealed).
seal() {
	(
		. "$1"
		curl -sS --max-time 10 --cacert "$VAULT_CACERT" -X PUT -o /dev/null \
			-H "X-Vault-Token: $(cat "$2")" "$VAULT_ADDR/v1/sys/seal"
	)
}

sealed() {
	(
		. "$1"
		curl -sS --max-time 10 --cacert "$VAULT_CACERT" \
			"$VAULT_ADDR/v1/sys/seal-status" | grep -q '"sealed": *true'
	)
}

stamp() {
	local l
	while IFS= read -r l; do
		printf '%s %s\n' "$EPOCHREALTIME" "$l"
	done
}

# run_one SET ENVFILE REALMODULE HOLDERS ARGS...: one timed unseal; appends
# one line to $W/SET.runs and one per holder to $W/SET.holders.
run_one() {
	local set=$1 envf=$2 real=$3 holders=$4 s e rc l0 l1 cpu
	shift 4
	seal "$envf" "$W/$set.root"
	if ! sealed "$envf"; then
		echo "$set: could not seal Vault before the run"
		return 1
	fi
	. "$envf"
	l0=$(wc -l <"$VSIM_DIR/log")
	rm -f "$W/tlog"
	s=$EPOCHREALTIME
	(
		KQ_TIME_MODULE=$real KQ_TIME_LOG=$W/tlog "$KQ" ceremony unseal \
			--custody "$W/$set.json" --holders "$holders" --module "$SHIM" \
			--json "$@" 2>"$W/err"
		echo $? >"$W/rc"
		times >"$W/times" # 2nd line: the children's user and system time
	) | stamp >"$W/ev"
	e=$EPOCHREALTIME
	rc=$(cat "$W/rc")
	cpu=$(sed -n 2p "$W/times" | awk '{ for (i = 1; i <= 2; i++) { split($i, a, "m"); c += a[1] * 60 + a[2] } printf "%.3f", c * 1e3 }')
	l1=$(wc -l <"$VSIM_DIR/log")
	if [ "$rc" != 0 ] || sealed "$envf"; then
		echo "$set: unseal failed (exit $rc): $(head -c 300 "$W/err")"
		return 1
	fi
	sed -n "$((l0 + 1)),${l1}p" "$VSIM_DIR/log" >"$W/vlog"
	cat "$W/tlog" >>"$W/$set.calls"
	awk -v s="$s" -v e="$e" -v cpu="$cpu" -v types="$W/$set.types" \
		-v runs="$W/$set.runs" -v hold="$W/$set.holders" '
	function t(x) { return x - base }      # seconds since the run began
	BEGIN {
		base = int(s)
		while ((getline l < types) > 0) { split(l, a, " "); ty[a[1]] = a[2] }
	}
	FILENAME ~ /ev$/ {
		ev = $0; sub(/.*"event":"/, "", ev); sub(/".*/, "", ev)
		h = $0; if (!sub(/.*"holder":"/, "", h)) h = ""; sub(/".*/, "", h)
		if (ev == "info" && info == "") info = t($1)
		if (ev == "progress") { nh++; hn[nh] = h; ht[nh] = t($1) }
		next
	}
	FILENAME ~ /tlog$/ {
		st = (substr($2, 1, length($2) - 9) - base) + substr($2, length($2) - 8) / 1e9
		d = $3 / 1e6
		if ($4 == "load" || $4 == "C_Initialize" || $4 == "C_Finalize") { mod += d; next }
		tok += d
		for (i = 1; i <= nh; i++) if (st < ht[i]) { htok[i] += d; break }
		next
	}
	FILENAME ~ /vlog$/ {
		if ($2 == "-" || !match($0, / [0-9]+ms/)) next
		ms = substr($0, RSTART + 1, RLENGTH - 3)
		vault += ms
		if ($3 == "/v1/sys/unseal") { nu++; hv[nu] = ms }
	}
	END {
		wall = (t(e) - t(s)) * 1e3
		printf "wall=%.3f cpu=%.3f token=%.3f module=%.3f vault=%.3f rest=%.3f startup=%.3f finish=%.3f holders=%d\n",
		    wall, cpu, tok, mod, vault, wall - tok - mod - vault, (info - t(s)) * 1e3,
		    (t(e) - ht[nh]) * 1e3, nh >> runs
		prev = info
		for (i = 1; i <= nh; i++) {
			step = (ht[i] - prev) * 1e3; prev = ht[i]
			printf "%s %s step=%.3f token=%.3f vault=%.3f rest=%.3f\n", hn[i],
			    ty[hn[i]], step, htok[i], hv[i], step - htok[i] - hv[i] >> hold
		}
	}' "$W/ev" "$W/tlog" "$W/vlog"
}

# summary SET LABEL KERNEL K N: mean and sd of the runs, table rows and
# BENCH lines.
summary() {
	local set=$1 label=$2 kern=$3 k=$4 n=$5
	[ -s "$W/$set.runs" ] || return 0
	awk -v label="$label" -v kern="$kern" -v k="$k" -v n="$n" '
	function kv(i, a) { split($i, a, "="); return a[2] }
	{
		r++
		for (i = 1; i <= NF; i++) { split($i, a, "="); x[a[1], r] = a[2] }
	}
	function mean(f, i, s) { s = 0; for (i = 1; i <= r; i++) s += x[f, i]; return s / r }
	function sd(f, m, i, s) {
		if (r < 2) return 0
		m = mean(f); s = 0
		for (i = 1; i <= r; i++) s += (x[f, i] - m) ^ 2
		return sqrt(s / (r - 1))
	}
	END {
		printf "%-17s %4d", label, r
		split("wall cpu token module vault rest startup finish", F, " ")
		for (j = 1; j <= 8; j++) printf " %7.1f±%-5.1f", mean(F[j]), sd(F[j])
		printf "\n"
		for (j = 1; j <= 8; j++) {
			printf "BENCH name=cer_unseal_%s kernel=%s size=0 k=%d n=%d value=%.3f unit=ms\n",
			    F[j], kern, k, n, mean(F[j])
			printf "BENCH name=cer_unseal_%s_sd kernel=%s size=0 k=%d n=%d value=%.3f unit=ms\n",
			    F[j], kern, k, n, sd(F[j])
		}
	}' "$W/$set.runs"
	sed "s/^/${kern%-rsa} /" "$W/$set.holders" >>"$W/all.holders"
	# where the token time goes: the PKCS#11 functions, ms per run
	awk -v label="$label" -v r="$(wc -l <"$W/$set.runs")" '
	{ t[$4] += $3 / 1e6; c[$4]++ }
	END {
		n = 0
		for (f in t) o[++n] = f
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (t[o[j]] > t[o[i]]) { x = o[i]; o[i] = o[j]; o[j] = x }
		printf "%s, PKCS#11 time per run:", label
		for (i = 1; i <= n && i <= 8; i++) printf " %s %.1f ms (%d calls)%s", o[i], t[o[i]] / r, c[o[i]] / r, i < n && i < 8 ? "," : ""
		printf "\n"
	}' "$W/$set.calls" >>"$W/calls"
}

# tokens N: SoftHSM tokens kb-01..kb-N with a key each, in $W/softhsm.
tokens() {
	local i id
	local -a ty=(ec-p256 rsa-2048 ec-p384 rsa-3072)
	mkdir -p "$W/softhsm/tok"
	printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
		"$W/softhsm/tok" >"$W/softhsm/conf"
	export SOFTHSM2_CONF=$W/softhsm/conf
	(umask 077 && head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$W/pin")
	for ((i = 1; i <= $1; i++)); do
		id=$(printf '%02d' "$i")
		# softhsm2-util takes the PIN on its command line only: a
		# throw-away token, as in tests/rig
		softhsm2-util --init-token --free --label "kb-$id" --so-pin "$(cat "$W/pin")" \
			--pin "$(cat "$W/pin")" >/dev/null || return 1
		"$KQ" token keygen --module "$SM" --token "pkcs11:token=kb-$id?pin-source=$W/pin" \
			--label kq --type "${ty[(i - 1) % 4]}" >/dev/null || return 1
		echo "h$id ${ty[(i - 1) % 4]}" >>"$W/softhsm.types"
	done
}

# ceremony_set SET K N MODULE HOLDER=URI...: custody set + Vault init.
ceremony_set() {
	local set=$1 k=$2 n=$3 mod=$4 a h try args=() pins=()
	shift 4
	for a in "$@"; do
		args+=(--holder "$a")
		h=${a%%=*}
		pins+=(--pin-source "$h=file:$(pinfile "$h")")
	done
	sim_start "$set" || {
		echo "$set: vault-sim does not start: $(head -c 300 "$W/$set.err")"
		return 1
	}
	# A test may pull a rig card for a moment: three tries, 2 s apart.
	for ((try = 0; try < 3; try++)); do
		[ "$try" -gt 0 ] && sleep 2
		rm -f "$W/$set.json"
		"$KQ" custody create --name "bench-$set" --kind vault-unseal --threshold "$k" \
			--module "$mod" --out "$W/$set.json" "${args[@]}" >/dev/null 2>"$W/err" && break
	done
	[ -s "$W/$set.json" ] &&
		(. "$W/$set/env" && "$KQ" ceremony init --custody "$W/$set.json" \
			--holders "$(IFS=,; echo "${*%%=*}")" --module "$mod" "${pins[@]}" \
			--yes --root-token-out "$W/$set.root" >/dev/null 2>>"$W/err") || {
		echo "$set: custody create / ceremony init failed: $(head -c 300 "$W/err")"
		return 1
	}
	PINS=("${pins[@]}")
}

# pinfile HOLDER
pinfile() {
	case $1 in
	h*) echo "$W/pin" ;;
	c2 | c5) echo "$KQ_CARD2_PIN_FILE" ;;
	c*) echo "$KQ_CARD_PIN_FILE" ;;
	esac
}

# bench_set SET LABEL KERNEL K N REALMODULE UNSEAL-HOLDERS
bench_set() {
	local set=$1 label=$2 kern=$3 k=$4 n=$5 real=$6 hs=$7 i ok=0
	for ((i = 0; i < RUNS; i++)); do
		run_one "$set" "$W/$set/env" "$real" "$hs" "${PINS[@]}" && ok=$((ok + 1))
	done
	[ "$ok" -lt "$RUNS" ] && echo "$set: $((RUNS - ok)) of $RUNS runs failed"
	summary "$set" "$label" "$kern" "$k" "$n" >>"$W/table"
}

# bench_plain SET LABEL KERNEL K N REALMODULE UNSEAL-HOLDERS: the same
# unseal straight through the real module, wall time only: how much the
# timing shim and the event stamping themselves cost.
bench_plain() {
	local set=$1 label=$2 kern=$3 k=$4 n=$5 real=$6 hs=$7 i s e
	: >"$W/$set.plain"
	for ((i = 0; i < RUNS; i++)); do
		seal "$W/$set/env" "$W/$set.root"
		(
			. "$W/$set/env"
			s=$EPOCHREALTIME
			"$KQ" ceremony unseal --custody "$W/$set.json" --holders "$hs" \
				--module "$real" --json "${PINS[@]}" >/dev/null 2>"$W/err" || exit 1
			e=$EPOCHREALTIME
			awk -v a="$s" -v b="$e" 'BEGIN { printf "%.3f\n", (b - a) * 1e3 }'
		) >>"$W/$set.plain" || echo "$set: unseal without the shim failed: $(head -c 300 "$W/err")"
	done
	awk -v label="$label" -v kern="$kern" -v k="$k" -v n="$n" '
	{ x[++r] = $1; m += $1 }
	END {
		if (!r) exit
		m /= r
		for (i = 1; i <= r; i++) s += (x[i] - m) ^ 2
		s = r > 1 ? sqrt(s / (r - 1)) : 0
		printf "%-17s %4d %7.1f±%-5.1f (wall only: the same unseal without libkqtime.so and --json stamping)\n", label, r, m, s
		printf "BENCH name=cer_unseal_wall_noshim kernel=%s size=0 k=%d n=%d value=%.3f unit=ms\n", kern, k, n, m
		printf "BENCH name=cer_unseal_wall_noshim_sd kernel=%s size=0 k=%d n=%d value=%.3f unit=ms\n", kern, k, n, s
	}' "$W/$set.plain" >>"$W/table"
}

# bench_manual: what an operator does without keyquorum, on the tokens of
# holders h02, h04, h06 (RSA): the unseal keys of a 3-of-5 Vault (PUT
# sys/init with curl) encrypted with RSA-OAEP (SHA-1: SoftHSM's only OAEP
# hash) to each token's public key; then per holder one `pkcs11-tool
# --decrypt` on the token and one `curl PUT sys/unseal`.  Wall time of the
# three holders' commands.
bench_manual() {
	local i h j s e
	sim_start manual || return 1
	(
		. "$W/manual/env"
		umask 077
		curl -sS --fail --max-time 10 --cacert "$VAULT_CACERT" -X PUT -o "$W/manual.init" \
			--data-binary '{"secret_shares":5,"secret_threshold":3}' "$VAULT_ADDR/v1/sys/init"
	) || return 1
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); open(sys.argv[2],"w").write(d["root_token"])
for i,k in enumerate(d["keys_base64"][:3]): open(sys.argv[3]+str(i),"w").write(k)' \
		"$W/manual.init" "$W/manual.root" "$W/manual.key"
	j=0
	for h in 02 04 06; do
		pkcs11-tool --module "$SM" --token-label "kb-$h" --read-object --type pubkey \
			--label kq -o "$W/m$h.der" >/dev/null 2>&1 &&
			openssl pkey -pubin -inform DER -in "$W/m$h.der" -out "$W/m$h.pem" &&
			openssl pkeyutl -encrypt -pubin -inkey "$W/m$h.pem" -pkeyopt rsa_padding_mode:oaep \
				-in "$W/manual.key$j" -out "$W/m$h.enc" || {
			echo "manual: could not encrypt a key to kb-$h"
			return 1
		}
		j=$((j + 1))
	done
	rm -f "$W"/manual.key* "$W/manual.init"
	: >"$W/manual.wall"
	for ((i = 0; i < RUNS; i++)); do
		seal "$W/manual/env" "$W/manual.root"
		(
			. "$W/manual/env"
			s=$EPOCHREALTIME
			for h in 02 04 06; do
				KQ_PIN=$(cat "$W/pin") pkcs11-tool --module "$SM" --token-label "kb-$h" --login \
					--pin env:KQ_PIN --decrypt -m RSA-PKCS-OAEP --hash-algorithm SHA-1 \
					--mgf MGF1-SHA1 --label kq --input-file "$W/m$h.enc" \
					--output-file "$W/m.dec" >/dev/null 2>&1 || exit 1
				printf '{"key":"%s"}' "$(cat "$W/m.dec")" >"$W/m.body"
				curl -sS --fail --max-time 10 --cacert "$VAULT_CACERT" -X PUT -o /dev/null \
					--data-binary @"$W/m.body" "$VAULT_ADDR/v1/sys/unseal" || exit 1
			done
			e=$EPOCHREALTIME
			rm -f "$W/m.dec" "$W/m.body"
			awk -v a="$s" -v b="$e" 'BEGIN { printf "%.3f\n", (b - a) * 1e3 }'
		) >>"$W/manual.wall" || echo "manual: run failed"
		sealed "$W/manual/env" && echo "manual: Vault still sealed after a run"
	done
	awk -v kq="$W/rsa35.plain" '
	{ x[++r] = $1; m += $1 }
	END {
		if (!r) exit
		m /= r
		for (i = 1; i <= r; i++) s += (x[i] - m) ^ 2
		s = r > 1 ? sqrt(s / (r - 1)) : 0
		while ((getline l < kq) > 0) { q += l; nq++ }
		printf "%-17s %4d %7.1f±%-5.1f (wall only: per holder pkcs11-tool --decrypt + curl PUT sys/unseal)\n", "manual rsa 3-of-5", r, m, s
		printf "BENCH name=cer_unseal_wall_manual kernel=softhsm-rsa size=0 k=3 n=5 value=%.3f unit=ms\n", m
		printf "BENCH name=cer_unseal_wall_manual_sd kernel=softhsm-rsa size=0 k=3 n=5 value=%.3f unit=ms\n", s
		if (nq && m > 0) {
			printf "%-17s      keyquorum (no shim) / manual: %.2f\n", "", q / nq / m
			printf "BENCH name=ratio_kq_manual_unseal kernel=softhsm-rsa size=0 k=3 n=5 value=%.3f unit=ratio\n", q / nq / m
		}
	}' "$W/manual.wall" >>"$W/table"
}

echo "== ceremonies: scripted unseal, $RUNS runs each (ms, mean±sd; the columns: bench/ceremony.sh)"
t0=$EPOCHREALTIME
PINS=()
if tokens 10 2>"$W/err"; then
	H=()
	for i in 01 02 03 04 05 06 07 08 09 10; do H+=("h$i=pkcs11:token=kb-$i;object=kq"); done
	cp "$W/softhsm.types" "$W/s35.types"
	cp "$W/softhsm.types" "$W/s510.types"
	ceremony_set s35 3 5 "$SM" "${H[@]:0:5}" &&
		bench_set s35 "softhsm 3-of-5" softhsm 3 5 "$SM" h01,h02,h03 &&
		bench_plain s35 "  (no shim)" softhsm 3 5 "$SM" h01,h02,h03
	ceremony_set s510 5 10 "$SM" "${H[@]}" &&
		bench_set s510 "softhsm 5-of-10" softhsm 5 10 "$SM" h01,h02,h03,h04,h05
	# keyquorum beside the manual way, on the same three RSA tokens
	cp "$W/softhsm.types" "$W/rsa35.types"
	ceremony_set rsa35 3 5 "$SM" "${H[1]}" "${H[3]}" "${H[5]}" "${H[7]}" "${H[9]}" &&
		bench_set rsa35 "softhsm-rsa 3-of-5" softhsm-rsa 3 5 "$SM" h02,h04,h06 &&
		bench_plain rsa35 "  (no shim)" softhsm-rsa 3 5 "$SM" h02,h04,h06 &&
		bench_manual
else
	echo "softhsm: could not make the tokens: $(head -c 300 "$W/err")"
fi

# The card: the rig, shared with the tests.  A rig that is up is used as
# it is (not even re-inserting its cards: a test may be using it); one
# that is not is brought up and taken down again at the end.
unset SOFTHSM2_CONF
rig=0
. "$TOP/tests/rig/lock.sh"
rig_lock
if [ -f "$TOP/tests/rig/state/ready" ] && [ -f "$TOP/tests/rig/state/env" ]; then
	rig=1
elif B=$B "$TOP/tests/rig/up" >"$W/rig.out" 2>&1; then
	rig=1
	RIG_UP=1
fi
if [ "$rig" = 1 ]; then
	. "$TOP/tests/rig/state/env"
	O=$KQ_OPENSC_MODULE
	# A test may have pulled a card for a moment: wait for both (10 s).
	for ((i = 0; i < 50; i++)); do
		"$KQ" tokens --module "$O" >"$W/tokens" 2>/dev/null
		grep -q "$KQ_CARD_TOKEN" "$W/tokens" && grep -q "$KQ_CARD2_TOKEN" "$W/tokens" && break
		sleep 0.2
	done
	printf '%s\n' "c1 rsa-2048" "c2 rsa-2048" "c3 rsa-2048" "c4 rsa-2048" "c5 rsa-2048" >"$W/card.types"
	ceremony_set card 3 5 "$O" "c1=pkcs11:token=$KQ_CARD_TOKEN;id=%00%03" \
		"c2=pkcs11:token=$KQ_CARD2_TOKEN;id=%00%03" "c3=pkcs11:token=$KQ_CARD_TOKEN;id=%00%02" \
		"c4=pkcs11:token=$KQ_CARD_TOKEN;id=%00%01" "c5=pkcs11:token=$KQ_CARD2_TOKEN;id=%00%02" &&
		bench_set card "card 3-of-5" card 3 5 "$O" c1,c2,c3
else
	echo "card: skipped, the rig does not come up: $(tail -n 3 "$W/rig.out" | tr '\n' ' ')"
fi

printf '%-17s %4s %13s %13s %13s %13s %13s %13s %13s %13s\n' set runs wall cpu token module vault rest startup finish
grep -v '^BENCH' "$W/table"
grep '^BENCH' "$W/table"

cat "$W/calls" 2>/dev/null

echo
echo "per holder step by token and key type (ms, mean±sd over holders and runs)"
printf '%-22s %4s %13s %13s %13s %13s\n' token n step token vault rest
if [ -s "$W/all.holders" ]; then
	awk '
	{
		g = $1 "-" $3
		if (!(g in cnt)) order[++ng] = g
		c = ++cnt[g]
		for (i = 4; i <= NF; i++) { split($i, a, "="); x[g, a[1], c] = a[2] }
	}
	function mean(g, f, i, s) { s = 0; for (i = 1; i <= cnt[g]; i++) s += x[g, f, i]; return s / cnt[g] }
	function sd(g, f, m, i, s) {
		if (cnt[g] < 2) return 0
		m = mean(g, f); s = 0
		for (i = 1; i <= cnt[g]; i++) s += (x[g, f, i] - m) ^ 2
		return sqrt(s / (cnt[g] - 1))
	}
	END {
		split("step token vault rest", F, " ")
		for (o = 1; o <= ng; o++) {
			g = order[o]
			printf "%-22s %4d", g, cnt[g]
			for (j = 1; j <= 4; j++) printf " %7.2f±%-5.2f", mean(g, F[j]), sd(g, F[j])
			printf "\n"
		}
		for (o = 1; o <= ng; o++) {
			g = order[o]
			for (j = 1; j <= 4; j++) {
				printf "BENCH name=cer_holder_%s kernel=%s size=0 k=0 n=0 value=%.3f unit=ms\n", F[j], g, mean(g, F[j])
				printf "BENCH name=cer_holder_%s_sd kernel=%s size=0 k=0 n=0 value=%.3f unit=ms\n", F[j], g, sd(g, F[j])
			}
		}
	}' "$W/all.holders"
fi
awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "(ceremony section: %.1f s)\n", b - a }'
