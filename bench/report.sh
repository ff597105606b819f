#!/usr/bin/env bash
# bench/report.sh LOG [--update FILE]: Markdown tables from the output of a
# `make bench` run kept with BENCH_LOG=LOG (bench/run).  Prints them, or
# with --update replaces the part of FILE between the lines
# "<!-- bench:begin -->" and "<!-- bench:end -->" (docs/performance.md):
#
#   make bench BENCH_LOG=/tmp/bench.log
#   bench/report.sh /tmp/bench.log --update docs/performance.md
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 1
if [ $# -lt 1 ] || [ ! -r "$1" ]; then
	echo "usage: bench/report.sh LOG [--update FILE]" >&2
	exit 2
fi
LOG=$1

tables() {
	echo "Run: $(sed -n 's/^date: //p' "$LOG" | head -1); $(sed -n 's/^cpu: //p' "$LOG" | head -1);"
	echo "load average at the start $(sed -n 's/^load: \([0-9. ]*\).*/\1/p' "$LOG" | head -1 | sed 's/ *$//'),"
	echo "at the end $(sed -n 's/^== summary (load average at the end: \(.*\))$/\1/p' "$LOG" | head -1);"
	echo "$(sed -n 's/^(bench: \(.*\))$/\1/p' "$LOG" | head -1)."
	echo
	echo "### Summary and targets"
	echo
	bench/summary.sh "$LOG" --markdown
	echo
	awk '
	/^BENCH name=/ {
		delete f
		for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		k = f["name"] "|" f["kernel"] "|" f["size"] "|" f["k"] "|" f["n"]
		v[k] = f["value"]
		if (f["name"] == "split" || f["name"] == "split_latency") {
			p = f["kernel"] "|" f["size"] "|" f["k"] "|" f["n"]
			if (!(p in seen)) { seen[p] = 1; pts[++np] = p }
		}
		if (f["name"] ~ /^wp_kq-split$/) {
			p = f["size"] "|" f["k"] "|" f["n"]
			if (!(p in wseen)) { wseen[p] = 1; wpts[++nw] = p }
		}
		if (f["name"] ~ /^(envelope|age)_/) { ek[++ne] = f["name"] "|" f["size"]; ev[ne] = f["value"]; eu[ne] = f["unit"] }
	}
	function g(name, p) { return v[name "|" p] }
	function hsize(s) {
		if (s >= 1048576) return s / 1048576 " MiB"
		if (s >= 1024) return s / 1024 " KiB"
		return s " B"
	}
	function fmt(x, d) { return x == "" ? "-" : sprintf("%." d "f", x) }
	function ratio(a, b) { return (a == "" || b == "" || b == 0) ? "-" : sprintf("%.2f", a / b) }
	END {
		print "### Floors (in-process)"
		print ""
		print "| floor | rate |"
		print "|---|---:|"
		printf "| memcpy, 16 MiB | %s MB/s |\n", fmt(g("floor_memcpy", "-|16777216|0|0"), 0)
		printf "| RAND_bytes, 64 KiB requests | %s MB/s |\n", fmt(g("floor_rand_bytes", "-|16777216|0|0"), 0)
		printf "| ChaCha20 keystream (libsodium), 64 KiB requests | %s MB/s |\n", fmt(g("floor_chacha20", "-|16777216|0|0"), 0)
		printf "| kq_random, one 104-byte call | %s ns |\n", fmt(g("floor_kq_random_call", "-|104|0|0"), 0)
		print ""
		print "### Shamir in-process (bench/bench_shamir; median wall time, CPU time beside it)"
		print ""
		print "Throughput in MB/s of secret (32 B: time per call).  Split / floor: split rate against RAND_bytes / (k-1)"
		print "(and ChaCha20 / (k-1)), the rate at which the randomness split needs can be drawn; combine / floor: against memcpy."
		print ""
		print "| kernel | size | k-of-n | split | split CPU | combine | combine CPU | split / RAND floor | split / ChaCha20 floor | combine / memcpy |"
		print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		for (i = 1; i <= np; i++) {
			split(pts[i], x, "|")
			if (x[2] <= 4096)
				printf "| %s | %s | %s-of-%s | %s µs | %s µs | %s µs | %s µs | | | |\n", x[1], hsize(x[2]), x[3], x[4],
				    fmt(g("split_latency", pts[i]), 3), fmt(g("split_latency_cpu", pts[i]), 3),
				    fmt(g("combine_latency", pts[i]), 3), fmt(g("combine_latency_cpu", pts[i]), 3)
			else
				printf "| %s | %s | %s-of-%s | %s | %s | %s | %s | %s | %s | %s |\n", x[1], hsize(x[2]), x[3], x[4],
				    fmt(g("split", pts[i]), 0), fmt(g("split_cpu", pts[i]), 0),
				    fmt(g("combine", pts[i]), 0), fmt(g("combine_cpu", pts[i]), 0),
				    fmt(g("split_vs_rand_floor", pts[i]), 2), fmt(g("split_vs_chacha_floor", pts[i]), 2),
				    fmt(g("combine_vs_memcpy", pts[i]), 2)
		}
		print ""
		print "### Whole process, beside the peers (mean wall time per process, fork and exec included)"
		print ""
		printf "`/bin/true`: %s ms; `keyquorum --version`: %s ms.\n", fmt(g("wp_true", "-|0|-|-"), 3), fmt(g("wp_kq-version", "-|0|-|-"), 3)
		print ""
		print "| size | k-of-n | keyquorum split | gfsplit | ratio | ssss-split | ratio | keyquorum combine | gfcombine | ratio | ssss-combine | ratio |"
		print "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		for (i = 1; i <= nw; i++) {
			p = "-|" wpts[i]; split(wpts[i], x, "|")
			a = g("wp_kq-split", p); b = g("wp_gfsplit", p); c = g("wp_ssss-split", p)
			d = g("wp_kq-combine", p); e = g("wp_gfcombine", p); h = g("wp_ssss-combine", p)
			printf "| %s | %s-of-%s | %s ms | %s | %s | %s | %s | %s ms | %s | %s | %s | %s |\n", hsize(x[1]), x[2], x[3],
			    fmt(a, 2), b == "" ? "-" : fmt(b, 2) " ms", ratio(a, b), c == "" ? "-" : fmt(c, 2) " ms", ratio(a, c),
			    fmt(d, 2), e == "" ? "-" : fmt(e, 2) " ms", ratio(d, e), h == "" ? "-" : fmt(h, 2) " ms", ratio(d, h)
		}
		print ""
		print "Ratios are keyquorum time / peer time: below 1 keyquorum is faster."
		print ""
		print "### Ceremonies (bench/ceremony.sh; ms, mean ± standard deviation over the runs)"
		print ""
		print "| ceremony | wall | CPU | token (PKCS#11) | module load | Vault server | rest | start-up | finish |"
		print "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
		split("softhsm|0|3|5 softhsm|0|5|10 softhsm-rsa|0|3|5 card|0|3|5", C, " ")
		split("SoftHSM 3-of-5;SoftHSM 5-of-10;SoftHSM RSA holders 3-of-5;virtual CAC cards 3-of-5", L, ";")
		split("wall cpu token module vault rest startup finish", F, " ")
		for (c = 1; c <= 4; c++) {
			if (g("cer_unseal_wall", C[c]) == "") continue
			printf "| %s |", L[c]
			for (j = 1; j <= 8; j++) printf " %s ± %s |", fmt(g("cer_unseal_" F[j], C[c]), 1), fmt(g("cer_unseal_" F[j] "_sd", C[c]), 1)
			printf "\n"
		}
		print ""
		print "Without the timing shim and the event stamping (wall only), and the same unseal by hand:"
		print ""
		for (c = 1; c <= 3; c += 2)
			if (g("cer_unseal_wall_noshim", C[c]) != "")
				printf "- %s, keyquorum without the shim: %s ± %s ms\n", L[c], fmt(g("cer_unseal_wall_noshim", C[c]), 1), fmt(g("cer_unseal_wall_noshim_sd", C[c]), 1)
		if (g("cer_unseal_wall_manual", C[3]) != "")
			printf "- %s by hand (per holder `pkcs11-tool --decrypt` of an RSA-OAEP-encrypted key, then `curl -X PUT sys/unseal`): %s ± %s ms; keyquorum / by hand: **%s**\n",
			    L[3], fmt(g("cer_unseal_wall_manual", C[3]), 1), fmt(g("cer_unseal_wall_manual_sd", C[3]), 1), fmt(g("ratio_kq_manual_unseal", C[3]), 2)
		print ""
		print "| holder step, by token and key | step | token (PKCS#11) | Vault server | rest (keyquorum, TLS, waiting) |"
		print "|---|---:|---:|---:|---:|"
		split("softhsm-ec-p256 softhsm-ec-p384 softhsm-rsa-2048 softhsm-rsa-3072 card-rsa-2048", H, " ")
		for (h = 1; h <= 5; h++) {
			p = H[h] "|0|0|0"
			if (g("cer_holder_step", p) == "") continue
			printf "| %s |", H[h]
			split("step token vault rest", G, " ")
			for (j = 1; j <= 4; j++) printf " %s ± %s |", fmt(g("cer_holder_" G[j], p), 2), fmt(g("cer_holder_" G[j] "_sd", p), 2)
			printf "\n"
		}
		if (ne) {
			print ""
			print "### Envelopes beside age (bench/envelope.sh)"
			print ""
			print "| figure | size | value |"
			print "|---|---:|---:|"
			for (i = 1; i <= ne; i++) { split(ek[i], x, "|"); printf "| %s | %s | %s %s |\n", x[1], hsize(x[2]), ev[i], eu[i] }
		}
	}' "$LOG"
	if grep -q ', PKCS#11 time per run:' "$LOG"; then
		echo
		echo "Where the token time goes (PKCS#11 functions, ms per ceremony, largest first):"
		echo
		sed -n 's/^\(.*\), PKCS#11 time per run: \(.*\)$/- \1: \2/p' "$LOG"
	fi
}

if [ "${2:-}" = --update ]; then
	f=$3
	grep -q '^<!-- bench:begin -->$' "$f" && grep -q '^<!-- bench:end -->$' "$f" || {
		echo "bench/report.sh: $f has no bench:begin / bench:end lines" >&2
		exit 1
	}
	tables >"$f.tables"
	awk -v t="$f.tables" '
		/^<!-- bench:begin -->$/ { print; while ((getline l < t) > 0) print l; skip = 1; next }
		/^<!-- bench:end -->$/ { skip = 0 }
		!skip' "$f" >"$f.new" && mv "$f.new" "$f"
	rm -f "$f.tables"
else
	tables
fi
