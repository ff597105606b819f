#!/usr/bin/env bash
# bench/summary.sh LOG [--markdown]: the summary of a bench/run output (run
# by bench/run at its end): the headline figures, each with the target of
# issue 2 or 8 when there is one and whether this run met it, as a table
# and one line per figure:
#   SUMMARY name=<id> value=<v> unit=<u> target=<op><t>|- met=yes|no|-
# --markdown prints the table in Markdown instead (docs/performance.md).
# A figure missing from the log (a section skipped) is left out.
set -u
if [ $# -lt 1 ] || [ ! -r "$1" ]; then
	echo "usage: bench/summary.sh LOG [--markdown]" >&2
	exit 2
fi
md=0
[ "${2:-}" = --markdown ] && md=1

# id | label | BENCH name | kernel | size | k | n | unit | target op | target | source
rows() {
	cat <<'EOF'
split16|in-process split, 16 MiB, 3-of-5|split|auto|16777216|3|5|MB/s|>=|1500|issue 2
combine16|in-process combine, 16 MiB, 3-of-5|combine|auto|16777216|3|5|MB/s|>=|4000|issue 2
split32|in-process split, 32 B, 3-of-5|split_latency|auto|32|3|5|us|<|1|issue 2
combine32|in-process combine, 32 B, 3-of-5|combine_latency|auto|32|3|5|us|<|0.3|issue 2
startup_split|whole-process split 32 B / /bin/true (median of 5 rounds)|ratio_split32_true|-|32|3|5|x|<=|1.5|issue 2
startup_split_max|whole-process split 32 B / /bin/true (worst round)|ratio_split32_true_max|-|32|3|5|x|<=|1.5|issue 2
startup_combine|whole-process combine 32 B / /bin/true (median of 5 rounds)|ratio_combine32_true|-|32|3|5|x|<=|1.5|issue 2
startup_combine_max|whole-process combine 32 B / /bin/true (worst round)|ratio_combine32_true_max|-|32|3|5|x|<=|1.5|issue 2
startup_version|keyquorum --version / /bin/true (median of 5 rounds)|ratio_version_true|-|0|0|0|x|-|-|issue 8
startup_full_version|keyquorum-full --version / /bin/true (median of 5 rounds)|ratio_full_version_true|-|0|0|0|x|-|-|issue 8
split16_rand|split 16 MiB 3-of-5 / RAND_bytes floor (per k-1 bytes)|split_vs_rand_floor|auto|16777216|3|5|x|-|-|issue 8
split16_chacha|split 16 MiB 3-of-5 / ChaCha20 floor (per k-1 bytes)|split_vs_chacha_floor|auto|16777216|3|5|x|-|-|issue 8
combine16_memcpy|combine 16 MiB 3-of-5 / memcpy floor|combine_vs_memcpy|auto|16777216|3|5|x|-|-|issue 8
split256|in-process split, 256 MiB, 3-of-5|split|auto|268435456|3|5|MB/s|-|-|issue 8
combine256|in-process combine, 256 MiB, 3-of-5|combine|auto|268435456|3|5|MB/s|-|-|issue 8
split256_10|in-process split, 256 MiB, 10-of-20|split|auto|268435456|10|20|MB/s|-|-|issue 8
combine256_10|in-process combine, 256 MiB, 10-of-20|combine|auto|268435456|10|20|MB/s|-|-|issue 8
k_gfni512_split|kernel gfni-avx512: split 1 MiB 3-of-5|split|gfni-avx512|1048576|3|5|MB/s|-|-|issue 8
k_gfni512_combine|kernel gfni-avx512: combine 1 MiB 3-of-5|combine|gfni-avx512|1048576|3|5|MB/s|-|-|issue 8
k_gfni256_split|kernel gfni-avx2: split 1 MiB 3-of-5|split|gfni-avx2|1048576|3|5|MB/s|-|-|issue 8
k_gfni256_combine|kernel gfni-avx2: combine 1 MiB 3-of-5|combine|gfni-avx2|1048576|3|5|MB/s|-|-|issue 8
k_avx2_split|kernel avx2 (nibble tables): split 1 MiB 3-of-5|split|avx2|1048576|3|5|MB/s|-|-|issue 8
k_avx2_combine|kernel avx2 (nibble tables): combine 1 MiB 3-of-5|combine|avx2|1048576|3|5|MB/s|-|-|issue 8
k_ssse3_split|kernel ssse3 (nibble tables): split 1 MiB 3-of-5|split|ssse3|1048576|3|5|MB/s|-|-|issue 8
k_ssse3_combine|kernel ssse3 (nibble tables): combine 1 MiB 3-of-5|combine|ssse3|1048576|3|5|MB/s|-|-|issue 8
k_portable_split|kernel portable: split 1 MiB 3-of-5|split|portable|1048576|3|5|MB/s|-|-|issue 8
k_portable_combine|kernel portable: combine 1 MiB 3-of-5|combine|portable|1048576|3|5|MB/s|-|-|issue 8
vs_gfsplit_1m|whole-process split 1 MiB 3-of-5, keyquorum/gfsplit time|ratio_kq_gfsplit|-|1048576|3|5|x|-|-|issue 8
vs_gfcombine_1m|whole-process combine 1 MiB 3-of-5, keyquorum/gfcombine time|ratio_kq_gfcombine|-|1048576|3|5|x|-|-|issue 8
vs_gfsplit_16m|whole-process split 16 MiB 3-of-5, keyquorum/gfsplit time|ratio_kq_gfsplit|-|16777216|3|5|x|-|-|issue 8
vs_gfcombine_16m|whole-process combine 16 MiB 3-of-5, keyquorum/gfcombine time|ratio_kq_gfcombine|-|16777216|3|5|x|-|-|issue 8
vs_gfsplit_16m_10|whole-process split 16 MiB 10-of-20, keyquorum/gfsplit time|ratio_kq_gfsplit|-|16777216|10|20|x|-|-|issue 8
vs_gfcombine_16m_10|whole-process combine 16 MiB 10-of-20, keyquorum/gfcombine time|ratio_kq_gfcombine|-|16777216|10|20|x|-|-|issue 8
vs_gfsplit_256m|whole-process split 256 MiB 3-of-5, keyquorum/gfsplit time|ratio_kq_gfsplit|-|268435456|3|5|x|-|-|issue 8
vs_gfcombine_256m|whole-process combine 256 MiB 3-of-5, keyquorum/gfcombine time|ratio_kq_gfcombine|-|268435456|3|5|x|-|-|issue 8
vs_ssss_split|whole-process split 32 B 3-of-5, keyquorum/ssss-split time|ratio_kq_ssss_split|-|32|3|5|x|-|-|issue 8
vs_ssss_combine|whole-process combine 32 B 3-of-5, keyquorum/ssss-combine time|ratio_kq_ssss_combine|-|32|3|5|x|-|-|issue 8
cer_softhsm35|unseal 3-of-5, SoftHSM: whole ceremony|cer_unseal_wall|softhsm|0|3|5|ms|-|-|issue 8
cer_softhsm35_token|unseal 3-of-5, SoftHSM: of which in PKCS#11|cer_unseal_token|softhsm|0|3|5|ms|-|-|issue 8
cer_softhsm510|unseal 5-of-10, SoftHSM: whole ceremony|cer_unseal_wall|softhsm|0|5|10|ms|-|-|issue 8
cer_softhsm510_token|unseal 5-of-10, SoftHSM: of which in PKCS#11|cer_unseal_token|softhsm|0|5|10|ms|-|-|issue 8
cer_rsa35_plain|unseal 3-of-5, SoftHSM RSA holders: keyquorum, no timing shim|cer_unseal_wall_noshim|softhsm-rsa|0|3|5|ms|-|-|issue 8
cer_rsa35_manual|the same by hand: pkcs11-tool --decrypt + curl per holder|cer_unseal_wall_manual|softhsm-rsa|0|3|5|ms|-|-|issue 8
cer_rsa35_ratio|unseal 3-of-5 RSA SoftHSM, keyquorum / by hand|ratio_kq_manual_unseal|softhsm-rsa|0|3|5|x|-|-|issue 8
cer_card35|unseal 3-of-5, virtual CAC cards: whole ceremony|cer_unseal_wall|card|0|3|5|ms|-|-|issue 8
cer_card35_token|unseal 3-of-5, virtual CAC cards: of which in PKCS#11|cer_unseal_token|card|0|3|5|ms|-|-|issue 8
holder_p256|holder step, SoftHSM EC P-256|cer_holder_step|softhsm-ec-p256|0|0|0|ms|-|-|issue 8
holder_p256_token|holder step, SoftHSM EC P-256: token part|cer_holder_token|softhsm-ec-p256|0|0|0|ms|-|-|issue 8
holder_rsa2048|holder step, SoftHSM RSA-2048|cer_holder_step|softhsm-rsa-2048|0|0|0|ms|-|-|issue 8
holder_rsa2048_token|holder step, SoftHSM RSA-2048: token part|cer_holder_token|softhsm-rsa-2048|0|0|0|ms|-|-|issue 8
holder_card|holder step, virtual CAC card RSA-2048|cer_holder_step|card-rsa-2048|0|0|0|ms|-|-|issue 8
holder_card_token|holder step, virtual CAC card RSA-2048: token part|cer_holder_token|card-rsa-2048|0|0|0|ms|-|-|issue 8
env_seal_256m|envelope seal 256 MiB (whole ceremony)|envelope_seal|-|268435456|2|3|MB/s|-|-|issue 8
age_enc_256m|age -e 256 MiB|age_encrypt|-|268435456|2|3|MB/s|-|-|issue 8
env_open_256m|envelope open 256 MiB (whole ceremony)|envelope_open|-|268435456|2|3|MB/s|-|-|issue 8
age_dec_256m|age -d 256 MiB|age_decrypt|-|268435456|2|3|MB/s|-|-|issue 8
env_seal_rss_1g|envelope seal 1 GiB: peak RSS|envelope_seal_peak_rss|-|1073741824|2|3|kB|-|-|issue 8
age_enc_rss_1g|age -e 1 GiB: peak RSS|age_encrypt_peak_rss|-|1073741824|2|3|kB|-|-|issue 8
EOF
}

rows | awk -F'|' -v md="$md" -v logf="$1" -v load="$(cut -d' ' -f1-3 /proc/loadavg)" '
BEGIN {
	while ((getline l < logf) > 0) {
		if (l !~ /^BENCH name=/) continue
		n = split(l, w, " ")
		delete f
		for (i = 2; i <= n; i++) { split(w[i], kv, "="); f[kv[1]] = kv[2] }
		v[f["name"] "|" f["kernel"] "|" f["size"] "|" f["k"] "|" f["n"]] = f["value"]
	}
	if (md) {
		print "| figure | value | target | met |"
		print "|---|---:|---|---|"
	} else {
		print "== summary (load average at the end: " load ")"
		printf "%-64s %16s %-5s %-22s %s\n", "figure", "value", "unit", "target", "met"
	}
}
{
	key = $3 "|" $4 "|" $5 "|" $6 "|" $7
	if (!(key in v)) next
	val = v[key]; unit = $8; op = $9; tg = $10; src = $11
	sdkey = $3 "_sd|" $4 "|" $5 "|" $6 "|" $7
	d = unit == "MB/s" ? 0 : unit == "ms" ? 1 : unit == "us" ? 3 : 2
	shown = sprintf("%." d "f", val)
	if (sdkey in v) shown = shown sprintf(" ± %." d "f", v[sdkey])
	met = "-"
	if (op == ">=") met = (val + 0 >= tg + 0) ? "yes" : "no"
	if (op == "<") met = (val + 0 < tg + 0) ? "yes" : "no"
	if (op == "<=") met = (val + 0 <= tg + 0) ? "yes" : "no"
	target = op == "-" ? src : op " " tg " " unit " (" src ")"
	if (md)
		printf "| %s | %s %s | %s | %s |\n", $2, shown, unit, target, met
	else
		printf "%-64s %16s %-5s %-22s %s\n", $2, shown, unit, target, met
	out[++no] = sprintf("SUMMARY name=%s value=%s unit=%s target=%s met=%s", $1, val,
	    unit == "MB/s" ? "MB/s" : unit, op == "-" ? "-" : op tg, met)
}
END {
	if (!md) for (i = 1; i <= no; i++) print out[i]
}'
