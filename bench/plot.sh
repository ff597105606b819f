#!/usr/bin/env bash
# bench/plot.sh [OUTDIR]: how the cost of split and combine grows, as two
# PNGs drawn by gnuplot (Debian package gnuplot-nox):
#   OUTDIR/perf-size.png       time per call against secret size
#                              (1 KiB .. 256 MiB, 3-of-5 and 5-of-10, the
#                              automatic kernel)
#   OUTDIR/perf-threshold.png  time per call of 1 MiB against k (2..20 of
#                              20), each kernel
# OUTDIR defaults to docs/.  The data come from
# $B/bench/bench_shamir --sweep size|threshold (medians of repeated calls,
# in-process) and are kept beside the PNGs' data in OUTDIR/perf-*.dat
# together with the BENCH lines (OUTDIR/perf-sweep.txt).  About two
# minutes on a 2-core machine.  `make bench-plot` builds and runs it.
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 1
: "${B:=build}"
OUT=${1:-docs}
BS=$B/bench/bench_shamir
if [ ! -x "$BS" ]; then
	echo "missing $BS (make bench-plot builds it)"
	exit 1
fi
command -v gnuplot >/dev/null || {
	echo "gnuplot not installed (apt-get install gnuplot-nox)"
	exit 1
}
mkdir -p "$OUT"
W=$(mktemp -d "${TMPDIR:-/tmp}/kqplot.XXXXXX")
trap 'rm -rf "$W"' EXIT

echo "sweep by size ..."
"$BS" --sweep size >"$W/size.txt" || exit 1
echo "sweep by threshold ..."
"$BS" --sweep threshold >"$W/thr.txt" || exit 1
cat "$W/size.txt" "$W/thr.txt" >"$OUT/perf-sweep.txt"

# size  split3/5  combine3/5  split5/10  combine5/10   (us)
awk '
	{ for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	  c = (f["name"] == "sweep_split" ? 0 : 1) + (f["k"] == 3 ? 0 : 2)
	  v[f["size"], c] = f["value"]; if (!(f["size"] in s)) { s[f["size"]] = 1; o[++n] = f["size"] }
	  kern = f["kernel"] }
	END {
		print "# size split_3of5_us combine_3of5_us split_5of10_us combine_5of10_us (kernel " kern ")"
		for (i = 1; i <= n; i++) printf "%s %s %s %s %s\n", o[i], v[o[i], 0], v[o[i], 1], v[o[i], 2], v[o[i], 3]
	}' "$W/size.txt" >"$OUT/perf-size.dat"
kernel=$(sed -n 's/.*(kernel \(.*\))$/\1/p' "$OUT/perf-size.dat")

# blocks per kernel: header "kernel k split_us combine_us", then rows
awk '
	{ for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	  kn = f["kernel"]; if (!(kn in seen)) { seen[kn] = 1; ks[++nk] = kn }
	  if (!((kn, f["k"]) in has)) { has[kn, f["k"]] = 1; rows[kn] = rows[kn] " " f["k"] }
	  v[kn, f["k"], f["name"]] = f["value"] }
	END {
		for (i = 1; i <= nk; i++) {
			if (i > 1) printf "\n\n"
			printf "%s k split_us combine_us\n", ks[i]
			n = split(rows[ks[i]], r, " ")
			for (j = 1; j <= n; j++)
				printf "%s %s %s %s\n", ks[i], r[j], v[ks[i], r[j], "sweep_split"], v[ks[i], r[j], "sweep_combine"]
		}
	}' "$W/thr.txt" >"$OUT/perf-threshold.dat"
nk=$(grep -c ' k split_us' "$OUT/perf-threshold.dat")

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
sub="$cpu, $(nproc) cores; auto kernel $kernel; $(date -u +%Y-%m-%d); load average $(cut -d' ' -f1 /proc/loadavg)"
gnuplot -e "dat='$OUT/perf-size.dat'; out='$OUT/perf-size.png'; sub='$sub'" bench/size.gp || exit 1
gnuplot -e "dat='$OUT/perf-threshold.dat'; nk=$nk; out='$OUT/perf-threshold.png'; sub='$sub'" bench/threshold.gp || exit 1
echo "wrote $OUT/perf-size.png and $OUT/perf-threshold.png (data: $OUT/perf-*.dat, $OUT/perf-sweep.txt)"
