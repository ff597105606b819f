#!/usr/bin/env python3
"""Write the seed corpora of tests/fuzz/corpus/NAME/ (small valid and
near-valid inputs).  Deterministic: rerun after a format change and commit
the result.  Vault vectors come from tests/vectors/."""
import base64
import hashlib
import json
import os
import random
import struct
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(TOP, "tests", "fuzz", "corpus")
rnd = random.Random(6)


def put(name, tag, data):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, tag), "wb") as f:
        f.write(data)


def vectors(fname):
    with open(os.path.join(TOP, "tests", "vectors", fname)) as f:
        return [json.loads(l) for l in f if l.strip()]


# ---- shares: first byte 0 auto, 1 hex, 2 base64, 3 raw ----
for i, v in enumerate(vectors("vault_shamir_sample.jsonl")[:6]):
    put("shares", "hex-%d" % i, b"\x01" + "\n".join(v["shares_hex"]).encode() + b"\n")
    put("shares", "b64-%d" % i, b"\x02" + "\n".join(v["shares_b64"]).encode() + b"\n")
    put("shares", "auto-%d" % i, b"\x00" + "\r\n\n  ".join(v["shares_b64"]).encode())
    put("shares", "dup-%d" % i, b"\x00" + "\n".join([v["shares_hex"][0]] * 2).encode())
put("shares", "raw", b"\x03correct horse battery staple\n")
put("shares", "short", b"\x01aa\nbb\n")
put("shares", "zero-x", b"\x01" + b"0a00\n0b01\n")
put("shares", "lengths", b"\x01" + b"0a0b01\n0b02\n")
put("shares", "badhex", b"\x01" + b"0g01\n0b02\n")

# ---- encoding: first byte & 3: 0 hex, 1 padded b64, 2 raw b64, 3 vault ----
for i, b in enumerate([b"", b"\x00", b"\xff\xfe", b"abc", bytes(range(33)), bytes(range(17))]):
    put("encoding", "hex-%d" % i, b"\x00" + b.hex().encode())
    put("encoding", "b64-%d" % i, b"\x01" + base64.b64encode(b))
    put("encoding", "raw-%d" % i, b"\x02" + base64.b64encode(b).rstrip(b"="))
    put("encoding", "vault-%d" % i, b"\x03" + (b.hex().encode() if i % 2 else base64.b64encode(b)))
put("encoding", "noncanon", b"\x01QR==")
put("encoding", "oddhex", b"\x00abc")
put("encoding", "upperhex", b"\x00ABCDEF")


# ---- blob: docs/sealed-blob.md layout ----
def blob(alg, kem_len, ct_len, kem0=4):
    kem = bytes([kem0]) + bytes(rnd.randrange(256) for _ in range(kem_len - 1))
    return (b"KQSB" + bytes([1, alg]) + struct.pack(">H", kem_len)
            + bytes(32) + bytes(range(32)) + kem + bytes(24)
            + struct.pack(">I", ct_len) + bytes(ct_len))


put("blob", "p256", blob(1, 65, 33))
put("blob", "p384", blob(2, 97, 16))
put("blob", "rsa2048", blob(3, 256, 49, 0))
put("blob", "rsa-short", blob(3, 255, 49, 0))
put("blob", "trailing", blob(1, 65, 33) + b"x")
put("blob", "truncated", blob(1, 65, 33)[:-1])
put("blob", "version2", b"KQSB\x02\x01" + blob(1, 65, 17)[6:])
put("blob", "point", blob(1, 65, 17, 2))

# ---- uri: first byte bit 0 allows pin-value, bit 1 asks for why ----
for i, u in enumerate([
        "pkcs11:token=alice;object=keyquorum;type=private",
        "pkcs11:serial=0123456789;id=%01%02%ff",
        "pkcs11:model=SoftHSM%20v2;manufacturer=SoftHSM%20project;token=t?module-path=/usr/lib/softhsm/libsofthsm2.so",
        "pkcs11:token=a?pin-source=file:/run/pin",
        "pkcs11:token=a?pin-value=1234",
        "pkcs11:slot-id=3;library-description=x;library-manufacturer=y;library-version=1.2",
        "pkcs11:token=a?module-name=softhsm2",
        "pkcs11:bogus=1",
        "pkcs11:token=%zz",
        "pkcs11:object=a%00b",
        "pkcs11:",
        "http://x"]):
    put("uri", "u%02d" % i, bytes([i & 3]) + u.encode())

# ---- custody ----
def custody(n=2, kind="vault-unseal", enrolled=1, extra=None):
    hs = []
    for i in range(n):
        h = {"name": "holder%d" % i, "token_uri": "pkcs11:token=h%d;object=keyquorum" % i,
             "key_fingerprint": hashlib.sha256(b"fp%d" % i).hexdigest()}
        if i < enrolled:
            h.update({"x": i + 1, "commitment": hashlib.sha256(b"c%d" % i).hexdigest(),
                      "sealed_share": base64.b64encode(blob(1, 65, 33)).decode(),
                      "enrolled": "2026-11-29T06:01:10Z"})
            if i == 0:
                h["last_drill"] = "2026-12-15T09:30:00Z"
        hs.append(h)
    o = {"keyquorum_custody": 1, "set_id": "6f1c0e0b2b4f4a1f9d0f5c3e2a1b0c9d",
         "name": "prod-vault unseal", "kind": kind, "threshold": 2,
         "created": "2026-11-29T06:00:00Z", "holders": hs}
    if kind.startswith("vault"):
        o["vault"] = {"address": "https://vault.example.net:8200",
                      "cluster_id": "0c1f2e3d-4c5b-6a79-8897-a6b5c4d3e2f1"}
    if kind == "hsm-pin":
        o["hsm"] = {"token_uri": "pkcs11:token=hsm", "key_label": "kek"}
    if extra:
        o.update(extra)
    return json.dumps(o, indent=2) + "\n"


put("custody", "unseal", custody())
put("custody", "recovery", custody(3, "vault-recovery", 3))
put("custody", "hsm-pin", custody(2, "hsm-pin", 0))
put("custody", "secret", custody(4, "secret", 2))
put("custody", "version2", custody(extra={"keyquorum_custody": 2}))
put("custody", "threshold", custody(extra={"threshold": 3}))
put("custody", "unknown", custody(extra={"extra": 1}))
put("custody", "dupkey", custody().replace('"threshold": 2', '"threshold": 2, "threshold": 2'))
put("custody", "badtime", custody().replace("2026-11-29T06:00:00Z", "2026-02-30T06:00:00Z"))


# ---- transcript: canonical lines, chained ----
def tline(seq, prev, **kw):
    o = {"seq": seq, "time": "2026-11-29T07:%02d:00Z" % seq, "prev": prev}
    o.update(kw)
    return json.dumps(o, sort_keys=True, separators=(",", ":"))


def chain(entries):
    prev = "0" * 64
    out = []
    for i, kw in enumerate(entries):
        l = tline(i + 1, prev, **kw)
        out.append(l)
        prev = hashlib.sha256(l.encode()).hexdigest()
    return ("\n".join(out) + "\n").encode()


E = [dict(op="unseal", outcome="started", set_id="6f1c0e0b2b4f4a1f9d0f5c3e2a1b0c9d"),
     dict(op="unseal", outcome="share-accepted", holder="alice",
          fingerprint=hashlib.sha256(b"a").hexdigest(),
          vault={"nonce_sha256": hashlib.sha256(b"n").hexdigest(), "progress": 1, "threshold": 2}),
     dict(op="unseal", outcome="error", holder="bob", detail="the PIN is incorrect"),
     dict(op="unseal", outcome="ok")]
for k in range(1, 5):
    put("transcript", "chain%d" % k, b"\x00" + chain(E[:k]))
    put("transcript", "fix%d" % k, b"\x01" + chain(E[:k]))
put("transcript", "empty", b"\x00")
put("transcript", "nonl", b"\x00" + chain(E[:2])[:-1])
put("transcript", "broken", b"\x00" + chain(E[:3]).replace(b"alice", b"mallory"))
put("transcript", "noncanon", b"\x01" + chain(E[:1]).replace(b'"op"', b' "op"'))

# ---- roottoken: byte 0 mode (0 detect, 1 legacy, 2/3 length from byte 1) ----
for i, v in enumerate(vectors("vault_roottoken_sample.jsonl")[:8]):
    body = (v["encoded_token"] + "\n" + v["otp"]).encode()
    put("roottoken", "detect-%d" % i, b"\x00\x00" + body)
    put("roottoken", "len-%d" % i, bytes([2, int(v["otp_length"])]) + body)
    put("roottoken", "small-%d" % i, bytes([6, 5]) + body)
a, b = bytes(range(16)), bytes(range(100, 116))
x = bytes(p ^ q for p, q in zip(a, b))
put("roottoken", "legacy", b"\x01\x00" + base64.b64encode(x) + b"\n" + base64.b64encode(b))

# ---- vault: byte 0 selects the parser (see fuzz_vault.c), byte 1 its argument ----
seal = {"type": "shamir", "initialized": True, "sealed": True, "t": 3, "n": 5,
        "progress": 1, "nonce": "0c1f2e3d-4c5b-6a79-8897-a6b5c4d3e2f1",
        "version": "1.15.2", "build_date": "2023-11-06T11:33:28Z",
        "migration": False, "recovery_seal": False, "storage_type": "raft",
        "cluster_name": "vault-cluster-1", "cluster_id": "abc"}
put("vault", "seal", b"\x00\x00" + json.dumps(seal).encode())
put("vault", "seal-bao", b"\x00\x00" + json.dumps(dict(seal, version="2.0.0")).encode())
put("vault", "seal-data", b"\x00\x00" + json.dumps({"data": seal}).encode())
gr = {"nonce": "2dbd10f1-8528-6246-09e7-82b25b8aba63", "started": True, "progress": 1,
      "required": 3, "complete": False, "encoded_token": "", "encoded_root_token": "",
      "pgp_fingerprint": "", "otp": "Ah9qwYQzspnj9iS0WJmuQQNCXUcd", "otp_length": 28}
put("vault", "genroot", b"\x01\x00" + json.dumps(gr).encode())
put("vault", "genroot-done", b"\x02\x03" + json.dumps(dict(gr, complete=True, progress=3,
    encoded_token="KR5KXz0vNxFECAcIaQQlfAYJCgEgEDQ1CS8bJg", otp="")).encode())
keys = [bytes(rnd.randrange(256) for _ in range(33)) for _ in range(3)]
init = {"keys": [k.hex() for k in keys], "keys_base64": [base64.b64encode(k).decode() for k in keys],
        "root_token": "hvs.Jvfk7xibPmvLQCgtqAzvQzxB"}
put("vault", "init", b"\x03\x03" + json.dumps(init).encode())
put("vault", "init-nob64", b"\x03\x03" + json.dumps({"keys": init["keys"], "root_token": "s.x"}).encode())
put("vault", "init-recovery", b"\x0b\x03" + json.dumps({"recovery_keys": init["keys"],
    "recovery_keys_base64": init["keys_base64"], "root_token": "hvs.x"}).encode())
put("vault", "init-twin", b"\x03\x03" + json.dumps(dict(init, keys_base64=init["keys_base64"][::-1])).encode())
put("vault", "token", b"\x05\x00" + json.dumps({"data": {"token": "hvs.Jvfk7xibPmvLQCgtqAzvQzxB"}}).encode())
put("vault", "errors", b"\x06\x40" + json.dumps({"errors": ["1 error occurred:\n\t* permission denied\n\n", "x\x1b[31m"]}).encode())
put("vault", "errors-small", b"\x06\x03" + json.dumps({"errors": ["Vault is sealed"]}).encode())
put("vault", "map", b"\x07\x85" + b"incorrect nonce supplied")
put("vault", "flavor", b"\x07\x00" + b"v2.1.0-bao")

# ---- pinentry: byte 0 is the data maximum ----
for tag, body in [("pin", b"\x80D 123456\nOK\n"), ("escaped", b"\x80D 12%2534%0A\nOK\n"),
                  ("multi", b"\x10S PASSPHRASE_CACHE\n# comment\nD abc\nD def\nOK"),
                  ("cancel", b"\x40ERR 83886179 Operation cancelled <Pinentry>\n"),
                  ("inquire", b"\x40INQUIRE PINENTRY_LAUNCHED 1234 curses 1.2.1\nEND\nD 1\nOK\n"),
                  ("toolong", b"\x04D 123456\nOK\n"), ("nul", b"\x40D 12%00\nOK\n"),
                  ("badesc", b"\x40D %zz\n"), ("err0", b"\x40ERR 0 x\n"), ("after", b"\x40OK\nD 1\n"),
                  ("greet", b"\x40OK Pleased to meet you\n")]:
    put("pinentry", tag, body)


# ---- envelope: byte 0 % 3 is the mode (see fuzz_envelope.c) ----
def env_header(content=1, chunk=65536, strs=("label", "alice", "kq-hsm", "0123", "keyquorum-envelope-key", "alice,bob")):
    body = bytes(range(16)) + struct.pack(">II", 0, 1764400000) + struct.pack(">I", chunk) + bytes(16)
    for x in strs:
        body += bytes([len(x)]) + x.encode()
    body += bytes(60) + bytes(range(24))
    hl = 8 + len(body)
    return b"KQEV" + bytes([1, content]) + struct.pack(">H", hl) + body


put("envelope", "header", b"\x00" + env_header())
put("envelope", "header-plan", b"\x00" + env_header(2, 1024))
put("envelope", "header-token", b"\x00" + env_header(3, 1048576, ("", "", "", "", "", "")))
put("envelope", "header-chunk", b"\x00" + env_header(1, 1023))
put("envelope", "header-ctl", b"\x00" + env_header(strs=("a\x01", "", "", "", "", "")))
put("envelope", "header-trunc", b"\x00" + env_header()[:100])
put("envelope", "header-v2", b"\x00" + b"KQEV\x02" + env_header()[5:])
put("envelope", "body", b"\x01" + env_header(1, 1024) + bytes(1024 + 17) + bytes(40))
put("envelope", "body-short", b"\x01" + env_header(1, 1024) + bytes(10))
put("envelope", "body-none", b"\x01" + env_header(1, 1024))
for i, n in enumerate([0, 1, 1023, 1024, 2100, 4096]):
    put("envelope", "seal-%d" % i, b"\x02" + bytes([i * 37 & 255, 0, i * 91 & 255]) + bytes(rnd.randrange(256) for _ in range(n)))

# ---- rollback: byte 0 bit 0: 0 plan, 1 duration ----
def plan(entries, **top):
    o = {"keyquorum_rollback_plan": 1, "title": "Q4 credential rotation", "change": "CHG-1234", "entries": entries}
    o.update(top)
    return json.dumps(o, indent=2).encode()


E0 = {"credential": "database/prod/app", "previous_value": "the old password",
      "revert": "vault write database/static-roles/app password=...\nrestart app",
      "verify": "psql -h db -U app -c 'select 1'", "time_limit": "15m"}
E1 = dict(E0, credential="aws/iam/deploy", time_limit="1h30m", previous_value="AKIA\u00e9\u0000x")
put("rollback", "plan", b"\x00" + plan([E0]))
put("rollback", "plan2", b"\x00" + plan([E0, E1, dict(E0, credential="c", time_limit="2d")]))
put("rollback", "minimal", b"\x00" + json.dumps({"keyquorum_rollback_plan": 1, "entries": [E0]}).encode())
put("rollback", "dup", b"\x00" + plan([E0, E0]))
put("rollback", "badtime", b"\x00" + plan([dict(E0, time_limit="31d")]))
put("rollback", "missing", b"\x00" + plan([{k: v for k, v in E0.items() if k != "verify"}]))
put("rollback", "extra", b"\x00" + plan([E0], other=1))
put("rollback", "empty", b"\x00" + plan([]))
put("rollback", "version", b"\x00" + plan([E0], keyquorum_rollback_plan=2))
for i, d in enumerate(["90s", "15m", "1h30m", "2d", "30d", "31d", "0s", "1d1h1m1s", "1d1h1m1s1s", "m", "99999999999d", ""]):
    put("rollback", "dur-%02d" % i, b"\x01" + d.encode())
