#!/usr/bin/env bash
# Rollback envelopes beside age: seal and open throughput and peak memory
# for 1 MiB, 256 MiB and 1 GiB (BENCH_QUICK=1: 1 MiB and 64 MiB).  Called
# by bench/run (or alone: B=build bench/envelope.sh); builds nothing.
#
# keyquorum runs a whole ceremony each time: a 2-of-3 quorum of SoftHSM
# holder tokens rebuilds the HSM's PIN, the HSM (SoftHSM) encrypts or
# decrypts the data key, then the body streams through secretstream and
# the output is fsync'd before it is linked into place.  age encrypts and
# decrypts the same file with an X25519 key file (and does not fsync).  Both
# read and write files on the same disk; wall time of the whole process
# ($EPOCHREALTIME around /usr/bin/time, after a sync), the median of 10
# runs up to 16 MiB (5 with BENCH_QUICK) and of 3 above; CPU time and peak
# resident set from /usr/bin/time.  The empty envelope's rows are the
# ceremony's fixed cost; the *_body rows take it off the whole (derived).
# ENVELOPE_SIZES="1 1024" (MiB) picks the sizes.  Rows:
#   BENCH name=<tool>_<op>[_wall|_cpu|_peak_rss] kernel=- size=<bytes> k=2 n=3
#         value=<v> unit=<MB/s|ms|kB>
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

if [ -n "${ENVELOPE_SIZES:-}" ]; then
	sizes=$ENVELOPE_SIZES # MiB, e.g. ENVELOPE_SIZES="1 1024"
elif [ -n "${BENCH_QUICK:-}" ]; then
	sizes="1 64"
else
	sizes="1 256 1024"
fi

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

# time1 CMD...: one run after a sync; T_WALL (s, from $EPOCHREALTIME), T_CPU
# (user + system, s) and T_RSS (peak resident, kB) from /usr/bin/time.
time1() {
	local t0 t1 u s
	sync
	t0=$EPOCHREALTIME
	/usr/bin/time -f '%U %S %M' -o "$W/time" "$@" >/dev/null 2>"$W/err" || return 1
	t1=$EPOCHREALTIME
	read -r u s T_RSS <"$W/time"
	T_WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
	T_CPU=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# run NAME SIZE REPS PREP CMD...: REPS timed runs of CMD, PREP (shell code:
# removing the outputs) before each; prints the row (median wall and CPU,
# largest peak RSS) and its BENCH lines.  Sets R_WALL (median, s).
run() {
	local name=$1 size=$2 reps=$3 prep=$4 i mbs rss=0 walls=() cpus=() cpu
	shift 4
	R_WALL=
	for ((i = 0; i < reps; i++)); do
		eval "$prep"
		if ! time1 "$@"; then
			printf '%-20s %10s  failed: %s\n' "$name" "$size" "$(tail -1 "$W/err")"
			return
		fi
		walls+=("$T_WALL")
		cpus+=("$T_CPU")
		[ "$T_RSS" -gt "$rss" ] && rss=$T_RSS
	done
	R_WALL=$(median "${walls[@]}")
	cpu=$(median "${cpus[@]}")
	mbs=$(awk -v s="$size" -v e="$R_WALL" 'BEGIN { printf "%.1f", s / e / 1e6 }')
	printf '%-20s %10s %3s %9.1f ms %9.1f MB/s %7.0f ms %9s kB\n' "$name" "$size" "$reps" \
		"$(awk -v e="$R_WALL" 'BEGIN { print e * 1e3 }')" "$mbs" "$(awk -v c="$cpu" 'BEGIN { print c * 1e3 }')" "$rss"
	echo "BENCH name=$name kernel=- size=$size k=2 n=3 value=$mbs unit=MB/s"
	echo "BENCH name=${name}_wall kernel=- size=$size k=2 n=3 value=$(awk -v e="$R_WALL" 'BEGIN { printf "%.1f", e * 1e3 }') unit=ms"
	echo "BENCH name=${name}_cpu kernel=- size=$size k=2 n=3 value=$(awk -v c="$cpu" 'BEGIN { printf "%.0f", c * 1e3 }') unit=ms"
	echo "BENCH name=${name}_peak_rss kernel=- size=$size k=2 n=3 value=$rss unit=kB"
}

# body NAME SIZE WALL EMPTY: throughput of the body alone, the empty
# envelope's whole ceremony taken off (a derived figure, said so); not
# given when the difference is under a quarter of the whole (noise).
body() {
	local v
	[ -n "$3" ] && [ -n "$4" ] || return
	v=$(awk -v s="$2" -v w="$3" -v e="$4" 'BEGIN { d = w - e; if (d < w / 4) print "-"; else printf "%.1f", s / d / 1e6 }')
	if [ "$v" = - ]; then
		printf '%-20s %10s     (whole minus the empty envelope: within the ceremony'"'"'s noise)\n' "$1" "$2"
		return
	fi
	printf '%-20s %10s     (whole minus the empty envelope) %9s MB/s\n' "$1" "$2" "$v"
	echo "BENCH name=$1 kernel=- size=$2 k=2 n=3 value=$v unit=MB/s"
}

reps_for() { # MiB: runs a figure
	if [ "$1" -gt 16 ]; then
		echo 3
	elif [ -n "${BENCH_QUICK:-}" ]; then
		echo 5
	else
		echo 10
	fi
}

echo "== envelopes beside age (whole process: keyquorum includes a 2-of-3 quorum and the HSM)"
echo "   load average at the start: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"
echo "   median of N runs; CPU is user + system; peak RSS the largest of the runs"
printf '%-20s %10s %3s %12s %14s %10s %12s\n' what bytes N wall throughput CPU peak-RSS
# The ceremony's fixed cost: an empty envelope, sealed and opened.
: >"$W/in"
run envelope_seal_empty 0 "$(reps_for 0)" 'rm -f "$W/env0"' \
	"$KQ" ceremony seal-envelope "${S[@]}" --in "$W/in" --label empty --out "$W/env0"
E_SEAL=$R_WALL
run envelope_open_empty 0 "$(reps_for 0)" 'rm -f "$W/env0.out"' \
	"$KQ" ceremony open-envelope "${S[@]}" --envelope "$W/env0" --out "$W/env0.out"
E_OPEN=$R_WALL
for mib in $sizes; do
	size=$((mib * 1024 * 1024))
	n=$(reps_for "$mib")
	head -c "$size" /dev/urandom >"$W/in"
	rm -f "$W/env" "$W/env.out" "$W/in.age" "$W/age.out"
	run envelope_seal "$size" "$n" 'rm -f "$W/env"' \
		"$KQ" ceremony seal-envelope "${S[@]}" --in "$W/in" --label bench --out "$W/env"
	S_WALL=$R_WALL
	run envelope_open "$size" "$n" 'rm -f "$W/env.out"' \
		"$KQ" ceremony open-envelope "${S[@]}" --envelope "$W/env" --out "$W/env.out"
	O_WALL=$R_WALL
	cmp -s "$W/in" "$W/env.out" || echo "envelope bench: round trip of $size bytes differs"
	run age_encrypt "$size" "$n" 'rm -f "$W/in.age"' age -e -i "$W/age.key" -o "$W/in.age" "$W/in"
	run age_decrypt "$size" "$n" 'rm -f "$W/age.out"' age -d -i "$W/age.key" -o "$W/age.out" "$W/in.age"
	cmp -s "$W/in" "$W/age.out" || echo "envelope bench: age round trip of $size bytes differs"
	body envelope_seal_body "$size" "$S_WALL" "$E_SEAL"
	body envelope_open_body "$size" "$O_WALL" "$E_OPEN"
	rm -f "$W/in" "$W/env" "$W/env.out" "$W/in.age" "$W/age.out"
done
echo "   load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
