#!/usr/bin/env bash
# Rollback envelopes beside age: seal and open throughput and peak memory
# for 1 MiB, 256 MiB and 1 GiB (BENCH_QUICK=1: 1 MiB and 64 MiB).  Called
# by bench/run (or alone: B=build bench/envelope.sh); builds nothing.
#
# keyquorum runs a whole ceremony each time: a 2-of-3 quorum of SoftHSM
# holder tokens rebuilds the HSM's PIN, the HSM (SoftHSM) encrypts or
# decrypts the data key, then the body streams through secretstream.  age
# encrypts and decrypts the same file with an X25519 key file.  Both read
# and write files on the same disk; wall time of the whole process, peak
# resident set from /usr/bin/time.  Rows:
#   BENCH name=<tool>_<op> kernel=- size=<bytes> k=2 n=3 value=<v> unit=<MB/s|kB|ms>
set -u
cd "$(dirname "$0")/.."
: "${B:=build}"
KQ=$PWD/$B/keyquorum
SOFTHSM=/usr/lib/softhsm/libsofthsm2.so
W=$(mktemp -d "${TMPDIR:-/var/tmp}/kqbench-env.XXXXXX")
trap 'rm -rf "$W"' EXIT

for x in "$KQ" /usr/bin/time "$SOFTHSM"; do
	[ -e "$x" ] || { echo "envelope bench: missing $x"; exit 1; }
done
command -v age >/dev/null || { echo "envelope bench: age not installed (apt-get install age)"; exit 1; }

if [ -n "${BENCH_QUICK:-}" ]; then sizes="1 64"; else sizes="1 256 1024"; fi

# SoftHSM holders and HSM, and the hsm-pin set.
mkdir -p "$W/tok"
printf 'directories.tokendir = %s/tok\nobjectstore.backend = file\nlog.level = ERROR\n' "$W" >"$W/softhsm2.conf"
export SOFTHSM2_CONF="$W/softhsm2.conf"
for t in h-alice h-bob h-carol kq-hsm; do
	softhsm2-util --init-token --free --label "$t" --so-pin 87654321 --pin 123456 >/dev/null
done
printf '123456\n' >"$W/pin"
printf '87654321\n' >"$W/sopin"
chmod 600 "$W/pin" "$W/sopin"
HOLD=()
for h in alice bob carol; do
	"$KQ" token keygen --module "$SOFTHSM" --token "pkcs11:token=h-$h?pin-source=$W/pin" \
		--label seal --type ec-p256 >/dev/null || { echo "envelope bench: keygen failed"; exit 1; }
	HOLD+=(--holder "$h=pkcs11:token=h-$h;object=seal")
done
"$KQ" custody create --kind hsm-pin --name bench --threshold 2 "${HOLD[@]}" --hsm "pkcs11:token=kq-hsm" \
	--module "$SOFTHSM" --hsm-module "$SOFTHSM" --so-pin-source "file:$W/sopin" --out "$W/set.json" >/dev/null ||
	{ echo "envelope bench: custody create --kind hsm-pin failed"; exit 1; }
S=(--custody "$W/set.json" --holders alice,bob --module "$SOFTHSM" --hsm-module "$SOFTHSM"
	--pin-source "alice=file:$W/pin" --pin-source "bob=file:$W/pin")
age-keygen -o "$W/age.key" 2>/dev/null

# run NAME SIZE CMD...: one timed run; prints the row and BENCH lines.
run() {
	local name=$1 size=$2 e m mbs
	shift 2
	sync
	if ! /usr/bin/time -f '%e %M' -o "$W/time" "$@" >/dev/null 2>"$W/err"; then
		printf '%-16s %10s  failed: %s\n' "$name" "$size" "$(tail -1 "$W/err")"
		return
	fi
	read -r e m <"$W/time"
	mbs=$(awk -v s="$size" -v e="$e" 'BEGIN { if (e < 0.005) e = 0.005; printf "%.1f", s / e / 1e6 }')
	printf '%-16s %10s %9s s %9s MB/s %9s kB\n' "$name" "$size" "$e" "$mbs" "$m"
	echo "BENCH name=$name kernel=- size=$size k=2 n=3 value=$mbs unit=MB/s"
	echo "BENCH name=${name}_peak_rss kernel=- size=$size k=2 n=3 value=$m unit=kB"
}

echo "== envelopes beside age (whole process: keyquorum includes a 2-of-3 quorum and the HSM)"
printf '%-16s %10s %11s %14s %12s\n' what bytes wall throughput peak-RSS
for mib in $sizes; do
	size=$((mib * 1024 * 1024))
	head -c "$size" /dev/urandom >"$W/in"
	rm -f "$W/env" "$W/env.out" "$W/in.age" "$W/age.out"
	run envelope_seal "$size" "$KQ" ceremony seal-envelope "${S[@]}" --in "$W/in" --label bench --out "$W/env"
	run envelope_open "$size" "$KQ" ceremony open-envelope "${S[@]}" --envelope "$W/env" --out "$W/env.out"
	cmp -s "$W/in" "$W/env.out" || echo "envelope bench: round trip of $size bytes differs"
	run age_encrypt "$size" age -e -i "$W/age.key" -o "$W/in.age" "$W/in"
	run age_decrypt "$size" age -d -i "$W/age.key" -o "$W/age.out" "$W/in.age"
	cmp -s "$W/in" "$W/age.out" || echo "envelope bench: age round trip of $size bytes differs"
	rm -f "$W/in" "$W/env" "$W/env.out" "$W/in.age" "$W/age.out"
done
# The ceremony's fixed cost: an empty envelope.
: >"$W/in"
run envelope_seal_empty 0 "$KQ" ceremony seal-envelope "${S[@]}" --in "$W/in" --label empty --out "$W/env0"
