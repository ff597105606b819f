#!/usr/bin/env bash
# keyquorum audit verify: a transcript written by an independent writer
# (Python, canonical JSON) verifies; each kind of tampering is named at the
# right line and exits 6.
. "$(dirname "$0")/../lib.sh"

mk() { # FILE N : N chained lines, canonical form, made without keyquorum
	python3 - "$1" "$2" <<'PY'
import hashlib, json, sys
prev = "0" * 64
out = []
for i in range(1, int(sys.argv[2]) + 1):
    o = {"seq": i, "time": "2026-11-29T06:%02d:00Z" % i, "prev": prev,
         "op": "unseal", "outcome": "share-accepted", "holder": "h%d" % i,
         "set_id": "5a" * 16, "vault": {"progress": i, "threshold": 3,
         "nonce_sha256": hashlib.sha256(b"nonce").hexdigest()}}
    line = json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    out.append(line)
    prev = hashlib.sha256(line.encode()).hexdigest()
open(sys.argv[1], "w").write("".join(l + "\n" for l in out))
PY
}

mk "$T/t.jsonl" 5
t_run "an intact transcript verifies" "$KQ" audit verify "$T/t.jsonl"
t_grep "it says how many lines" '^.*t\.jsonl: 5 lines, chain intact$' "$T/out"

: >"$T/empty.jsonl"
t_run "an empty transcript verifies" "$KQ" audit verify "$T/empty.jsonl"

sed '2s/"h2"/"mallory"/' "$T/t.jsonl" >"$T/edit.jsonl"
t_expect 6 "an edited line breaks the chain" "$KQ" audit verify "$T/edit.jsonl"
t_grep "named at the next line (prev)" 'line 3: prev' "$T/err"

sed '3d' "$T/t.jsonl" >"$T/del.jsonl"
t_expect 6 "a removed line breaks the chain" "$KQ" audit verify "$T/del.jsonl"
t_grep "named as a seq gap" 'line 3: seq' "$T/err"

head -c -1 "$T/t.jsonl" >"$T/cut.jsonl"
t_expect 6 "a cut-short last line is refused" "$KQ" audit verify "$T/cut.jsonl"
t_grep "named as the missing newline" 'line 5: no newline' "$T/err"

sed '1s/,/, /' "$T/t.jsonl" >"$T/ws.jsonl"
t_expect 6 "a non-canonical line is refused" "$KQ" audit verify "$T/ws.jsonl"
t_grep "named as not canonical" 'line 1: not in canonical form' "$T/err"

sed '4s/^/x/' "$T/t.jsonl" >"$T/junk.jsonl"
t_expect 6 "a line that is not JSON is refused" "$KQ" audit verify "$T/junk.jsonl"
t_grep "named at that line" 'line 4: not a JSON object' "$T/err"

t_expect 1 "a missing file is an error, not integrity" "$KQ" audit verify "$T/none"
t_expect 2 "a missing FILE is a usage error" "$KQ" audit verify
t_done
