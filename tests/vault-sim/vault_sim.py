#!/usr/bin/python3
"""vault-sim: a HashiCorp Vault / OpenBao sys API test server for keyquorum.

Standard library only, so it shares nothing with keyquorum's C code: its own
GF(2^8) Shamir, its own key decoding, its own root-token encoding.  It serves
the sys endpoints of ../shared/VAULT_API.md over TLS, keeps everything in
memory, and has a control API under /_sim/ for tests (faults, restart, state).

Run:  /usr/bin/python3 vault_sim.py --dir DIR --cert C --key K [options]
      /usr/bin/python3 vault_sim.py --self-test [--vectors DIR]
Normally started through tests/vault-sim/start; see README.md there.

The request log (DIR/log) records method, path, status and timing only: never
a body, a header value, a key, a share, an OTP or a token.
"""

import argparse
import base64
import binascii
import collections
import hmac
import itertools
import json
import os
import secrets
import socket
import ssl
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# ---------------------------------------------------------------------------
# GF(2^8) with the AES polynomial x^8+x^4+x^3+x+1 (0x11B), and Shamir over it.
# Written from the math: Horner evaluation to split, Lagrange interpolation at
# x = 0 to combine.  A share is the evaluated bytes followed by x (x LAST).

GF_POLY = 0x11B


def gf_mul_slow(a, b):
    """Carry-less multiplication reduced by GF_POLY (reference for tables)."""
    p = 0
    while b:
        if b & 1:
            p ^= a
        a <<= 1
        if a & 0x100:
            a ^= GF_POLY
        b >>= 1
    return p


# 0x03 generates the multiplicative group of this field.
GF_EXP = [0] * 510
GF_LOG = [0] * 256
_v = 1
for _i in range(255):
    GF_EXP[_i] = _v
    GF_LOG[_v] = _i
    _v = gf_mul_slow(_v, 3)
for _i in range(255, 510):
    GF_EXP[_i] = GF_EXP[_i - 255]
del _v, _i


def gf_mul(a, b):
    if a == 0 or b == 0:
        return 0
    return GF_EXP[GF_LOG[a] + GF_LOG[b]]


def gf_div(a, b):
    if b == 0:
        raise ZeroDivisionError("division by zero in GF(2^8)")
    if a == 0:
        return 0
    return GF_EXP[(GF_LOG[a] - GF_LOG[b]) % 255]


def shamir_split(secret, parts, threshold):
    """Split secret (bytes) into `parts` shares, any `threshold` recombine."""
    if parts < threshold:
        raise ValueError("parts cannot be less than threshold")
    if parts > 255:
        raise ValueError("parts cannot exceed 255")
    if threshold < 2:
        raise ValueError("threshold must be at least 2")
    if threshold > 255:
        raise ValueError("threshold cannot exceed 255")
    if len(secret) == 0:
        raise ValueError("cannot split an empty secret")
    xs = secrets.SystemRandom().sample(range(1, 256), parts)
    out = [bytearray(len(secret) + 1) for _ in range(parts)]
    for i, x in enumerate(xs):
        out[i][len(secret)] = x
    for j, s in enumerate(secret):
        coeffs = [s] + [secrets.randbelow(256) for _ in range(threshold - 1)]
        for i, x in enumerate(xs):
            y = 0
            for c in reversed(coeffs):  # Horner
                y = gf_mul(y, x) ^ c
            out[i][j] = y
    return [bytes(o) for o in out]


def shamir_combine(parts):
    """Lagrange interpolation at 0.  Error texts follow Vault's shamir."""
    if len(parts) < 2:
        raise ValueError("less than two parts cannot be used to reconstruct the secret")
    first = len(parts[0])
    if first < 2:
        raise ValueError("parts must be at least two bytes")
    for p in parts[1:]:
        if len(p) != first:
            raise ValueError("all parts must be the same length")
    xs = [p[-1] for p in parts]
    if len(set(xs)) != len(xs):
        raise ValueError("duplicate part detected")
    # basis_i(0) = prod_{j != i} x_j / (x_j - x_i); subtraction is XOR
    basis = []
    for i, xi in enumerate(xs):
        num, den = 1, 1
        for j, xj in enumerate(xs):
            if i != j:
                num = gf_mul(num, xj)
                den = gf_mul(den, xi ^ xj)
        basis.append(gf_div(num, den))
    out = bytearray(first - 1)
    for k in range(first - 1):
        acc = 0
        for i, p in enumerate(parts):
            acc ^= gf_mul(p[k], basis[i])
        out[k] = acc
    return bytes(out)


# ---------------------------------------------------------------------------
# Encodings as Vault does them.

BASE62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
HEXDIGITS = set("0123456789abcdefABCDEF")
B64CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def base62_random(n):
    return "".join(secrets.choice(BASE62) for _ in range(n))


def hex_decode(s):
    """Go's hex.DecodeString: even length, hex digits only."""
    if len(s) % 2 or any(c not in HEXDIGITS for c in s):
        return None
    return bytes.fromhex(s)


def b64std_decode(s):
    """Go's base64.StdEncoding.DecodeString: padded, standard alphabet.

    Go ignores \\r and \\n; everything else outside the alphabet fails."""
    s = s.replace("\r", "").replace("\n", "")
    if len(s) % 4:
        return None
    body = s.rstrip("=")
    pad = len(s) - len(body)
    if pad > 2 or any(c not in B64CHARS for c in body):
        return None
    if pad and len(s) % 4 == 0 and (len(body) % 4) not in (2, 3):
        return None
    try:
        return base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        return None


def b64raw_decode(s):
    """Go's base64.RawStdEncoding: no padding allowed."""
    if "=" in s or any(c not in B64CHARS for c in s) or len(s) % 4 == 1:
        return None
    try:
        return base64.b64decode(s + "=" * (-len(s) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def decode_key(s, lo=16, hi=33):
    """VAULT_API.md: hex if it decodes to lo..hi bytes, else padded base64."""
    k = hex_decode(s)
    if k is not None and lo <= len(k) <= hi:
        return k
    return b64std_decode(s)


def xor_bytes(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


def encode_token(token, otp):
    """Server side: base64 RawStd of (token XOR otp) over the ASCII bytes."""
    t, o = token.encode(), otp.encode()
    if len(t) != len(o):
        raise ValueError("length of byte slices is not equivalent: %d != %d" % (len(o), len(t)))
    return base64.b64encode(xor_bytes(t, o)).decode().rstrip("=")


def decode_token(encoded, otp, otp_length):
    """Client side, as VAULT_API.md 'Root token and OTP' describes."""
    if otp_length == 0:
        a, b = b64std_decode(encoded), b64std_decode(otp)
        if a is None or b is None or len(a) != len(b):
            raise ValueError("error xoring token")
        h = xor_bytes(a, b).hex()
        if len(h) != 32:
            raise ValueError("error formatting base64 token value")
        return "%s-%s-%s-%s-%s" % (h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])
    raw = b64raw_decode(encoded)
    if raw is None:
        raise ValueError("error decoding base64'd token")
    if len(raw) != len(otp.encode()):
        raise ValueError("length of byte slices is not equivalent: %d != %d" % (len(raw), len(otp.encode())))
    return xor_bytes(raw, otp.encode()).decode("latin-1")


def multierr(msg):
    """How Vault's logical layer wraps an error (hashicorp/go-multierror)."""
    return "1 error occurred:\n\t* %s\n\n" % msg


def version_tuple(v):
    out = []
    for part in v.split("-")[0].split("+")[0].split("."):
        try:
            out.append(int(part))
        except ValueError:
            out.append(0)
    while len(out) < 3:
        out.append(0)
    return tuple(out[:3])


# ---------------------------------------------------------------------------
# Server state


class HTTPError(Exception):
    def __init__(self, status, msg=None):
        super().__init__(msg)
        self.status = status
        self.msg = msg


class Sim:
    def __init__(self, o):
        self.lock = threading.RLock()
        self.o = o
        self.openbao = o.openbao
        self.version = o.openbao_version if o.openbao else o.vault_version
        self.vt = version_tuple(self.version)
        self.recovery = o.recovery
        self.ssc_disabled = o.openbao or o.disable_ssc_tokens
        self.seal_type = o.seal_type or ("pkcs11" if o.recovery else "shamir")
        if self.openbao:
            self.rekey_disabled = self.vt >= (2, 5, 0)
            self.unauthed_gr = self.vt < (2, 5, 3) or o.openbao_unauthed_generate_root
            self.authed_gr = self.vt >= (2, 6, 0)
            self.new_msgs = self.vt >= (2, 6, 0)
        else:
            self.rekey_disabled = False
            self.unauthed_gr = True
            self.authed_gr = False
            self.new_msgs = False
        self.build_date = "2026-04-20T12:00:00Z" if self.openbao else "2024-02-28T17:07:34Z"
        self.storage_type = "raft" if self.openbao else "inmem"
        self.cluster_name = "vault-cluster-" + secrets.token_hex(4)
        self.cluster_id = str(uuid.uuid4())
        # stored (survives /_sim/restart)
        self.initialized = False
        self.barrier_key = None
        self.barrier_cfg = None  # (shares, threshold)
        self.recovery_key = None
        self.recovery_cfg = None
        self.tokens = set()
        # volatile
        self.sealed = True
        self.unlock_parts = None
        self.unlock_nonce = ""
        self.gr = None  # {"nonce", "otp", "parts", "authed"}
        # counters for tests
        self.requests = 0
        self.unseal_calls = 0
        self.unseal_keys = []
        self.gr_attempts = 0
        self.gr_update_calls = 0
        self.gr_keys = []
        self.gr_completed = 0
        self.restarts = 0
        self.faults = []
        self.faults_fired = 0
        # --secrets-log / $VSIM_SECRETS_LOG (tests only): every secret made
        # or accepted, one "KIND bytes:HEX" or "KIND text:STRING" a line
        # (tests/integration/secret-audit.sh searches everything else for
        # them).  Test plumbing like init.json, never the request log.
        self.secrets_log = None
        path = getattr(o, "secrets_log", None) or os.environ.get("VSIM_SECRETS_LOG")
        if path:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            self.secrets_log = os.fdopen(fd, "a", buffering=1)

    def note_secret(self, kind, value):
        if self.secrets_log is None or value is None or len(value) == 0:
            return
        if isinstance(value, (bytes, bytearray)):
            line = "%s bytes:%s\n" % (kind, bytes(value).hex())
        else:
            line = "%s text:%s\n" % (kind, value)
        with self.lock:
            self.secrets_log.write(line)

    # -- helpers ---------------------------------------------------------
    def make_token(self):
        return ("s." if self.ssc_disabled else "hvs.") + base62_random(24)

    def otp_length(self):
        return 26 if self.ssc_disabled else 28

    def key_cfg(self):
        """The config whose keys unseal / generate root: recovery under auto-unseal."""
        return self.recovery_cfg if self.recovery else self.barrier_cfg

    def key_secret(self):
        return self.recovery_key if self.recovery else self.barrier_key

    def token_ok(self, tok):
        if not tok:
            return False
        return any(hmac.compare_digest(tok.encode(), t.encode()) for t in self.tokens)

    def auth_fail_msg(self):
        if self.recovery:
            return "recovery key verification failed: cipher: message authentication failed"
        return "failed to decrypt encrypted stored keys: cipher: message authentication failed"

    def restart(self):
        with self.lock:
            self.sealed = not (self.recovery and self.initialized)  # auto-unseal
            self.unlock_parts = None
            self.unlock_nonce = ""
            self.gr = None
            self.restarts += 1

    # -- sys/seal-status, sys/health ------------------------------------
    def seal_status(self):
        cfg = self.key_cfg() if self.initialized else None
        s = {
            "type": self.seal_type,
            "initialized": self.initialized,
            "sealed": True if cfg is None else self.sealed,
            "t": cfg[1] if cfg else 0,
            "n": cfg[0] if cfg else 0,
            "progress": len(self.unlock_parts) if (cfg and self.unlock_parts) else 0,
            "nonce": self.unlock_nonce if (cfg and self.unlock_parts) else "",
            "version": self.version,
            "build_date": self.build_date,
            "migration": False,
            "recovery_seal": self.recovery,
            "storage_type": self.storage_type,
        }
        if self.recovery:
            s["recovery_seal_type"] = "shamir"
        if cfg and not self.sealed:
            s["cluster_name"] = self.cluster_name
            s["cluster_id"] = self.cluster_id
        return s

    def health(self):
        body = {
            "initialized": self.initialized,
            "sealed": self.sealed or not self.initialized,
            "standby": False,
            "performance_standby": False,
            "replication_performance_mode": "disabled",
            "replication_dr_mode": "disabled",
            "server_time_utc": int(time.time()),
            "version": self.version,
        }
        if self.initialized and not self.sealed:
            body["cluster_name"] = self.cluster_name
            body["cluster_id"] = self.cluster_id
            return 200, body
        return (501 if not self.initialized else 503), body

    # -- sys/init ---------------------------------------------------------
    @staticmethod
    def _validate_cfg(shares, threshold):
        if shares < 1:
            return "shares must be at least one"
        if threshold < 1:
            return "threshold must be at least one"
        if shares > 1 and threshold == 1:
            return "threshold must be greater than one for multiple shares"
        if shares > 255:
            return "shares must be less than 256"
        if threshold > 255:
            return "threshold must be less than 256"
        if threshold > shares:
            return "threshold cannot be larger than shares"
        return None

    @staticmethod
    def _split_key(key, shares, threshold):
        if shares == 1:
            return [key]  # Vault never splits 1-of-1: the raw key
        return shamir_split(key, shares, threshold)

    def init(self, body):
        def num(name):
            v = body.get(name, 0)
            if v is None:
                return 0
            if isinstance(v, bool) or not isinstance(v, int):
                raise HTTPError(400, "failed to parse JSON input: json: cannot unmarshal %s into Go struct field InitRequest.%s of type int" % (type(v).__name__, name))
            return v

        ss, st = num("secret_shares"), num("secret_threshold")
        stored = num("stored_shares")
        rs, rt = num("recovery_shares"), num("recovery_threshold")
        pgp = body.get("pgp_keys") or []
        rpgp = body.get("recovery_pgp_keys") or []
        with self.lock:
            barrier_flags = ss or st or stored or pgp
            recovery_flags = rs or rt or rpgp
            if self.recovery and barrier_flags:
                raise HTTPError(400, "parameters not specific to auto unseal seals present")
            if not self.recovery and recovery_flags:
                raise HTTPError(400, "parameters specific to auto unseal seals present")
            if self.initialized:
                raise HTTPError(400, "Vault is already initialized")
            if pgp or rpgp or body.get("root_token_pgp_key"):
                raise HTTPError(400, "vault-sim: PGP-encrypted keys are not simulated")
            resp = {"keys": [], "keys_base64": []}
            if self.recovery:
                err = self._validate_cfg(rs, rt)
                if err:
                    raise HTTPError(400, "invalid recovery configuration: " + err)
                self.recovery_key = secrets.token_bytes(32)
                self.recovery_cfg = (rs, rt)
                self.barrier_key = secrets.token_bytes(32)
                self.barrier_cfg = (1, 1)
                shares = self._split_key(self.recovery_key, rs, rt)
                self.note_secret("recovery-key", self.recovery_key)
                self.note_secret("barrier-key", self.barrier_key)
                for k in shares:
                    self.note_secret("recovery-share", k)
                resp["recovery_keys"] = [k.hex() for k in shares]
                resp["recovery_keys_base64"] = [base64.b64encode(k).decode() for k in shares]
            else:
                err = self._validate_cfg(ss, st)
                if err:
                    raise HTTPError(400, "invalid seal configuration: " + err)
                self.barrier_key = secrets.token_bytes(32)
                self.barrier_cfg = (ss, st)
                shares = self._split_key(self.barrier_key, ss, st)
                self.note_secret("barrier-key", self.barrier_key)
                for k in shares:
                    self.note_secret("unseal-share", k)
                resp["keys"] = [k.hex() for k in shares]
                resp["keys_base64"] = [base64.b64encode(k).decode() for k in shares]
            root = self.make_token()
            self.tokens.add(root)
            self.note_secret("root-token", root)
            resp["root_token"] = root
            self.initialized = True
            self.sealed = not self.recovery  # auto-unseal unseals at once
            self.unlock_parts = None
            self.unlock_nonce = ""
            return resp

    # -- sys/unseal -------------------------------------------------------
    def unseal(self, body):
        key_s = ci_get(body, "key", "")
        reset = ci_get(body, "reset", False)
        migrate = ci_get(body, "migrate", False)
        if not isinstance(key_s, str):
            raise HTTPError(400, "failed to parse JSON input: json: cannot unmarshal into Go struct field UnsealRequest.Key of type string")
        if not isinstance(reset, bool) or not isinstance(migrate, bool):
            raise HTTPError(400, "failed to parse JSON input: json: cannot unmarshal into Go struct field UnsealRequest of type bool")
        with self.lock:
            self.unseal_calls += 1
            if reset:
                if self.initialized and not self.sealed:
                    raise HTTPError(400, "vault is unsealed")
                self.unlock_parts = None
                self.unlock_nonce = ""
                return self.seal_status()
            if key_s == "":
                raise HTTPError(400, "'key' must be specified in request body as JSON, or 'reset' set to true")
            self.unseal_keys.append(key_s)
            self.note_secret("unseal-key-received", key_s)
            key = decode_key(key_s)
            self.note_secret("unseal-key-received", key)
            if key is None:
                raise HTTPError(400, "'key' must be a valid hex or base64 string")
            if not self.initialized:
                raise HTTPError(400, "Vault is not initialized")
            if len(key) < 16:
                raise HTTPError(400, "invalid key: key is shorter than minimum 16 bytes")
            if len(key) > 33:
                raise HTTPError(400, "invalid key: key is longer than maximum 33 bytes")
            if not self.sealed:
                return self.seal_status()
            if self.recovery and not migrate:
                raise HTTPError(400, "invalid key: recovery keys unseal only with migrate=true (vault-sim auto-unseal sealed on request)")
            if self.unlock_parts is not None:
                for p in self.unlock_parts:
                    if hmac.compare_digest(p, key):
                        return self.seal_status()  # silently ignored
            else:
                self.unlock_parts = []
                self.unlock_nonce = str(uuid.uuid4())
            self.unlock_parts.append(key)
            shares, threshold = self.key_cfg()
            if len(self.unlock_parts) < threshold:
                return self.seal_status()
            parts = self.unlock_parts
            self.unlock_parts = None  # progress resets whatever happens next
            self.unlock_nonce = ""
            if threshold == 1:
                combined = parts[0]
            else:
                try:
                    combined = shamir_combine(parts)
                except ValueError as e:
                    raise HTTPError(400, "invalid key: failed to compute combined key: %s" % e)
            if not hmac.compare_digest(combined, self.key_secret()):
                status = 400 if (self.openbao or self.vt >= (1, 13, 0)) else 500
                raise HTTPError(status, self.auth_fail_msg())
            self.sealed = False
            return self.seal_status()

    # -- sys/seal ---------------------------------------------------------
    def seal(self, token):
        with self.lock:
            if not self.initialized or self.sealed:
                raise HTTPError(503, "Vault is sealed")
            if not self.token_ok(token):
                raise HTTPError(403, "permission denied")
            self.sealed = True
            self.unlock_parts = None
            self.unlock_nonce = ""
            self.gr = None
            return None

    # -- generate-root (both the unauthenticated and OpenBao's authenticated form)
    def gr_status(self, otp=""):
        cfg = self.key_cfg()
        st = {
            "nonce": "", "started": False, "progress": 0, "required": cfg[1],
            "complete": False, "encoded_token": "", "encoded_root_token": "",
            "pgp_fingerprint": "", "otp": otp, "otp_length": self.otp_length(),
        }
        if self.gr is not None:
            st["nonce"] = self.gr["nonce"]
            st["started"] = True
            st["progress"] = len(self.gr["parts"])
        return st

    def gr_check_ready(self, need_cfg=True):
        if need_cfg and not self.initialized:
            raise HTTPError(400, "server is not yet initialized")
        if self.sealed or not self.initialized:
            raise HTTPError(503, "Vault is sealed")

    def gr_attempt_get(self):
        with self.lock:
            self.gr_check_ready()
            return self.gr_status()

    def gr_attempt_put(self, body, authed=False):
        otp = body.get("otp") or ""
        pgp = body.get("pgp_key") or ""
        if not isinstance(otp, str) or not isinstance(pgp, str):
            raise HTTPError(400, "failed to parse JSON input: otp and pgp_key must be strings")
        with self.lock:
            genned = False
            if not otp and not pgp:
                otp = base62_random(self.otp_length())
                genned = True
            elif otp:
                if len(otp) != self.otp_length():
                    raise HTTPError(400, "OTP string has incorrect length" if self.new_msgs else "OTP string is wrong length")
            else:
                raise HTTPError(400, "error parsing PGP key: vault-sim does not simulate PGP")
            self.gr_check_ready(need_cfg=False)
            if self.gr is not None:
                raise HTTPError(400, "root generation already in progress for this namespace" if self.new_msgs else "root generation already in progress")
            self.note_secret("otp", otp)
            self.gr = {"nonce": str(uuid.uuid4()), "otp": otp, "parts": [], "authed": authed}
            self.gr_attempts += 1
            return self.gr_status(otp if genned else "")

    def gr_attempt_delete(self):
        with self.lock:
            self.gr_check_ready(need_cfg=False)
            self.gr = None
            return None

    def gr_update(self, key, nonce):
        """key: decoded bytes.  Returns (progress, required, encoded)."""
        with self.lock:
            self.gr_update_calls += 1
            self.note_secret("generate-root-key-received", key)
            if len(key) < 16:
                raise HTTPError(400, "invalid key: key is shorter than minimum 16 bytes")
            if len(key) > 33:
                raise HTTPError(400, "invalid key: key is longer than maximum 33 bytes")
            if not self.initialized:
                raise HTTPError(400, "Vault is not initialized")
            if self.sealed:
                raise HTTPError(503, "Vault is sealed")
            if self.gr is None:
                raise HTTPError(400, "no root generation in progress")
            if nonce != self.gr["nonce"]:
                raise HTTPError(400, "incorrect nonce supplied; nonce for this root generation operation is %s" % json.dumps(self.gr["nonce"]))
            for p in self.gr["parts"]:
                if hmac.compare_digest(p, key):
                    raise HTTPError(400, "given key has already been provided during this generation operation")
            self.gr["parts"].append(key)
            progress = len(self.gr["parts"])
            threshold = self.key_cfg()[1]
            if progress < threshold:
                return progress, threshold, ""
            parts = self.gr["parts"]
            self.gr["parts"] = []  # progress resets; the attempt (nonce) stays
            if threshold == 1:
                combined = parts[0]
            else:
                try:
                    combined = shamir_combine(parts)
                except ValueError as e:
                    raise HTTPError(400, "failed to compute root key: %s" % e)
            if not hmac.compare_digest(combined, self.key_secret()):
                raise HTTPError(400, "root generation aborted: unable to authenticate: " + self.auth_fail_msg())
            token = self.make_token()
            encoded = encode_token(token, self.gr["otp"])
            self.tokens.add(token)
            self.note_secret("root-token", token)
            self.note_secret("encoded-root-token", encoded)
            self.gr = None
            self.gr_completed += 1
            return progress, threshold, encoded


def ci_get(d, name, default):
    """Go's encoding/json matches untagged struct fields case-insensitively."""
    if name in d:
        return d[name]
    for k, v in d.items():
        if k.lower() == name:
            return v
    return default


# ---------------------------------------------------------------------------
# HTTP

LOG_LOCK = threading.Lock()
MAX_BODY = 1 << 20  # Vault's default max_request_size is 32 MiB; tests need far less


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "vault-sim"
    sys_version = ""
    timeout = 30

    # -- plumbing ---------------------------------------------------------
    def setup(self):
        self.request.settimeout(self.timeout)
        try:
            self.request.do_handshake()
        except (ssl.SSLError, OSError) as e:
            self.server.sim_log("- TLS handshake failed: %s" % type(e).__name__
                                + (" " + e.reason if isinstance(e, ssl.SSLError) and e.reason else ""))
            self._close_gently()
            raise
        super().setup()

    def _close_gently(self):
        # Under TLS 1.3 the client may already have sent its request when
        # we refuse its certificate: closing with that data unread would
        # send a TCP reset that can overtake our alert.  Send FIN, then
        # drain what the client sends until it closes (at most 1 s).
        sock = self.request
        try:
            sock.settimeout(1)
            socket.socket.shutdown(sock, socket.SHUT_WR)
            t_end = time.monotonic() + 1
            while time.monotonic() < t_end and socket.socket.recv(sock, 4096):
                pass
        except OSError:
            pass

    def handle(self):
        # With TLS 1.3 a client that rejects our certificate says so after
        # the server's side of the handshake is done: on the first read.
        # A client that finds the wrong name just closes the connection.
        self._nreq = 0
        try:
            super().handle()
        except ssl.SSLError as e:
            self.server.sim_log("- TLS error: %s" % (e.reason or type(e).__name__))
            self.close_connection = True
            return
        if self._nreq == 0:
            self.server.sim_log("- TLS connection closed before any request")

    def log_message(self, fmt, *args):  # no request lines, no bodies
        pass

    def log_error(self, fmt, *args):
        self.server.sim_log("- protocol error")

    def _read_body(self):
        n = self.headers.get("Content-Length")
        if n is None:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                data = b""
                while len(data) <= MAX_BODY:
                    line = self.rfile.readline()
                    size = int(line.split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        break
                    data += self.rfile.read(size)
                    self.rfile.readline()
                return data
            return b""
        try:
            n = int(n)
        except ValueError:
            n = -1
        if not 0 <= n <= MAX_BODY:
            raise HTTPError(413, "http: request body too large")
        return self.rfile.read(n)

    def _send(self, status, body):
        if status == 204 or body is None:
            status = 204 if status < 300 else status
        data = b""
        if status != 204:
            data = (json.dumps(body) + "\n").encode()
        self.send_response(status)
        self.send_header("Cache-Control", "no-store")
        if status != 204:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()
        self._status = status

    def _drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._status = "dropped"

    def do_GET(self):
        self._dispatch()

    do_PUT = do_POST = do_DELETE = do_HEAD = do_LIST = do_PATCH = do_GET

    def _dispatch(self):
        t0 = time.monotonic()
        self._nreq += 1
        self._status = "?"
        note = ""
        path = self.path.split("?", 1)[0]
        try:
            try:
                raw = self._read_body()
            except HTTPError as e:
                self.close_connection = True
                self._send(e.status, {"errors": [e.msg]})
                return
            if path.startswith("/_sim/"):
                self._control(path, raw)
            else:
                self.server.note_request(self, path)
                note = self._api(path, raw)
        finally:
            ms = int((time.monotonic() - t0) * 1000)
            self.server.sim_log("%s %s %s %dms%s" % (self.command, path, self._status, ms, note))

    # -- faults -------------------------------------------------------------
    def _take_fault(self, path):
        sim = self.server.sim
        with sim.lock:
            sim.requests += 1
            for f in sim.faults:
                fp = f.get("path")
                if fp:
                    if fp.endswith("*"):
                        if not path.startswith(fp[:-1]):
                            continue
                    elif path != fp:
                        continue
                fm = f.get("method")
                if fm and fm.upper() != self.command:
                    continue
                if f["count"] > 0:
                    f["count"] -= 1
                    if f["count"] == 0:
                        sim.faults.remove(f)
                sim.faults_fired += 1
                return dict(f)
        return None

    def _api(self, path, raw):
        sim = self.server.sim
        fault = self._take_fault(path)
        note = ""
        if fault:
            note = " fault"
            if fault.get("delay_ms"):
                time.sleep(fault["delay_ms"] / 1000.0)
            action = "drop" if fault.get("drop") else ("status" if fault.get("status") else None)
            if action and not fault.get("apply"):
                if action == "drop":
                    self._drop()
                else:
                    self._send(fault["status"], {"errors": [fault.get("message") or "vault-sim: injected fault"]})
                return note
            if action:  # apply: the request takes effect, its answer is lost
                try:
                    self._route(sim, path, raw)
                except HTTPError:
                    pass
                if action == "drop":
                    self._drop()
                else:
                    self._send(fault["status"], {"errors": [fault.get("message") or "vault-sim: injected fault"]})
                return note
        try:
            status, body = self._route(sim, path, raw)
        except HTTPError as e:
            status, body = e.status, {"errors": [e.msg] if e.msg is not None else []}
        self._send(status, body)
        return note

    # -- API routing ------------------------------------------------------
    def _token(self):
        t = self.headers.get("X-Vault-Token")
        if not t:
            a = self.headers.get("Authorization", "")
            if a.startswith("Bearer "):
                t = a[7:].strip()
        if t:
            self.server.sim.note_secret("token-received", t)
        return t or ""

    def _json(self, raw):
        if not raw.strip():
            return {}
        try:
            v = json.loads(raw)
        except ValueError as e:
            raise HTTPError(400, "failed to parse JSON input: %s" % type(e).__name__)
        if not isinstance(v, dict):
            raise HTTPError(400, "failed to parse JSON input: not an object")
        return v

    def _logical(self, sim, data):
        return {
            "request_id": str(uuid.uuid4()), "lease_id": "", "renewable": False,
            "lease_duration": 0, "data": data, "wrap_info": None, "warnings": None,
            "auth": None,
        }

    def _route(self, sim, path, raw):
        m = self.command
        write = m in ("PUT", "POST")
        if path == "/v1/sys/seal-status":
            if m != "GET":
                raise HTTPError(405)
            with sim.lock:
                return 200, sim.seal_status()
        if path == "/v1/sys/health":
            if m not in ("GET", "HEAD"):
                raise HTTPError(405)
            with sim.lock:
                return sim.health()
        if path == "/v1/sys/init":
            if m == "GET":
                with sim.lock:
                    return 200, {"initialized": sim.initialized}
            if write:
                return 200, sim.init(self._json(raw))
            raise HTTPError(405)
        if path == "/v1/sys/unseal":
            if not write:
                raise HTTPError(405)
            return 200, sim.unseal(self._json(raw))
        if path == "/v1/sys/seal":
            if not write:
                raise HTTPError(405)
            sim.seal(self._token())
            return 204, None
        if path in ("/v1/sys/generate-root/attempt", "/v1/sys/generate-root/update"):
            if not sim.unauthed_gr:
                return self._disabled(sim, path)
            return self._generate_root(sim, path, raw)
        if path in ("/v1/sys/generate-root-token/attempt", "/v1/sys/generate-root-token/update") and sim.authed_gr:
            return self._generate_root_token(sim, path, raw)
        if path == "/v1/sys/decode-token":
            return self._decode_token(sim, raw)
        if path.startswith("/v1/sys/rekey"):
            if sim.rekey_disabled:
                return self._disabled(sim, path)
            with sim.lock:
                if sim.sealed or not sim.initialized:
                    raise HTTPError(503, "Vault is sealed")
            raise HTTPError(501, "vault-sim: rekey is not simulated")
        if path in ("/v1/auth/token/lookup-self", "/v1/auth/token/revoke-self"):
            return self._token_self(sim, path)
        with sim.lock:
            if sim.sealed or not sim.initialized:
                raise HTTPError(503, "Vault is sealed")
            if not sim.token_ok(self._token()):
                raise HTTPError(403, "permission denied")
        if path.startswith("/v1/sys/"):
            # the sys backend has no such path (e.g. generate-root-token
            # before OpenBao 2.6): the framework's ErrUnsupportedPath
            raise HTTPError(404, multierr("unsupported path"))
        raise HTTPError(404, "vault-sim: path not simulated")

    def _disabled(self, sim, path):
        """OpenBao answers a switched-off unauthenticated sys endpoint from its
        logical backend: the path exists only for OpenAPI, without a callback,
        so the framework returns ErrUnsupportedOperation (405), wrapped by the
        request handler's multierror.  rekey-recovery-key/* has no logical path
        at all: unsupported path (404)."""
        with sim.lock:
            if sim.sealed or not sim.initialized:
                raise HTTPError(503, "Vault is sealed")
        if path.startswith("/v1/sys/rekey-recovery-key/"):
            raise HTTPError(404, multierr("unsupported path"))
        raise HTTPError(405, multierr("unsupported operation"))

    def _decode_key_field(self, body):
        key_s = ci_get(body, "key", "")
        if not isinstance(key_s, str):
            raise HTTPError(400, "failed to parse JSON input: key must be a string")
        return key_s

    def _generate_root(self, sim, path, raw):
        m = self.command
        if path.endswith("/attempt"):
            if m == "GET":
                return 200, sim.gr_attempt_get()
            if m in ("PUT", "POST"):
                return 200, sim.gr_attempt_put(self._json(raw))
            if m == "DELETE":
                sim.gr_attempt_delete()
                return 204, None
            raise HTTPError(405)
        if m not in ("PUT", "POST"):
            raise HTTPError(405)
        body = self._json(raw)
        key_s = self._decode_key_field(body)
        nonce = ci_get(body, "nonce", "")
        if not isinstance(nonce, str):
            raise HTTPError(400, "failed to parse JSON input: nonce must be a string")
        if key_s == "":
            raise HTTPError(400, "'key' must be specified in request body as JSON")
        with sim.lock:
            sim.gr_keys.append(key_s)
            sim.note_secret("generate-root-key-received", key_s)
        key = decode_key(key_s)
        if key is None:
            raise HTTPError(400, "'key' must be a valid hex or base64 string")
        progress, required, enc = sim.gr_update(key, nonce)
        return 200, {
            "nonce": nonce, "started": True, "progress": progress, "required": required,
            "complete": progress == required, "encoded_token": enc, "encoded_root_token": enc,
            "pgp_fingerprint": "", "otp": "", "otp_length": 0,
        }

    def _require_token(self, sim):
        with sim.lock:
            if sim.sealed or not sim.initialized:
                raise HTTPError(503, "Vault is sealed")
            if not sim.token_ok(self._token()):
                raise HTTPError(403, "permission denied")

    def _generate_root_token(self, sim, path, raw):
        """OpenBao 2.6+ sys/generate-root-token/*: a logical (authenticated)
        path, so answers are wrapped in the logical envelope; callback errors
        that are not handleError()-wrapped come back as 500 multierror."""
        m = self.command
        self._require_token(sim)
        if path.endswith("/attempt"):
            if m == "GET":
                st = sim.gr_attempt_get()
            elif m in ("PUT", "POST"):
                st = sim.gr_attempt_put(self._json(raw), authed=True)
            elif m == "DELETE":
                sim.gr_attempt_delete()
                return 204, None
            else:
                raise HTTPError(405, multierr("unsupported operation"))
            data = {k: st[k] for k in ("started", "complete", "progress", "required", "otp", "otp_length")}
            if st["started"]:
                data["nonce"] = st["nonce"]
                data["pgp_fingerprint"] = ""
            return 200, self._logical(sim, data)
        if m not in ("PUT", "POST"):
            raise HTTPError(405, multierr("unsupported operation"))
        body = self._json(raw)
        nonce = body.get("nonce") or ""
        key_s = body.get("key") or ""
        if not isinstance(nonce, str) or not isinstance(key_s, str):
            raise HTTPError(400, "failed to parse JSON input: key and nonce must be strings")
        if nonce == "":
            raise HTTPError(400, "nonce is required")
        if key_s == "":
            raise HTTPError(400, "key is required")
        with sim.lock:
            sim.gr_keys.append(key_s)
            sim.note_secret("generate-root-key-received", key_s)
        key_s = key_s.strip()
        key = hex_decode(key_s)
        if key is None:
            key = b64std_decode(key_s)
            if key is None:
                raise HTTPError(500, multierr("'key' must be a valid hex or base64 string"))
        try:
            progress, required, enc = sim.gr_update(key, nonce)
        except HTTPError as e:
            if e.status == 503:
                raise
            raise HTTPError(500, multierr(e.msg))
        return 200, self._logical(sim, {
            "started": True, "complete": progress == required, "progress": progress,
            "required": required, "nonce": nonce, "encoded_token": enc, "pgp_fingerprint": "",
        })

    def _decode_token(self, sim, raw):
        """sys/decode-token: in Vault's and OpenBao's sys backend this path is
        in the Unauthenticated list, so no token is needed (one is accepted)."""
        if self.command not in ("PUT", "POST"):
            raise HTTPError(405, multierr("unsupported operation"))
        with sim.lock:
            if sim.sealed or not sim.initialized:
                raise HTTPError(503, "Vault is sealed")
        body = self._json(raw)
        enc = body.get("encoded_token") or ""
        otp = body.get("otp") or ""
        if not isinstance(enc, str) or not isinstance(otp, str):
            raise HTTPError(400, "failed to parse JSON input: encoded_token and otp must be strings")
        sim.note_secret("otp", otp)
        sim.note_secret("encoded-root-token", enc)
        if sim.new_msgs and (enc == "" or otp == ""):
            raise HTTPError(400, "provided 'encoded_token' or 'otp' is empty")
        try:
            token = decode_token(enc, otp, len(otp))
        except ValueError as e:
            if sim.new_msgs:
                raise HTTPError(400, str(e))
            raise HTTPError(500, multierr(str(e)))
        return 200, self._logical(sim, {"token": token})

    def _token_self(self, sim, path):
        m = self.command
        tok = self._token()
        with sim.lock:
            if sim.sealed or not sim.initialized:
                raise HTTPError(503, "Vault is sealed")
            if not sim.token_ok(tok):
                raise HTTPError(403, "permission denied")
            if path.endswith("lookup-self"):
                if m not in ("GET", "PUT", "POST"):
                    raise HTTPError(405, multierr("unsupported operation"))
                return 200, self._logical(sim, {
                    "accessor": "", "display_name": "root", "policies": ["root"],
                    "meta": None, "num_uses": 0, "orphan": True, "path": "auth/token/root",
                    "renewable": False, "ttl": 0, "type": "service", "id": tok,
                })
            if m not in ("PUT", "POST"):
                raise HTTPError(405, multierr("unsupported operation"))
            sim.tokens = {t for t in sim.tokens if not hmac.compare_digest(t.encode(), tok.encode())}
            return 204, None

    # -- control API (tests only) -------------------------------------------
    def _control(self, path, raw):
        sim = self.server.sim
        m = self.command
        try:
            if path == "/_sim/state" and m == "GET":
                self._send(200, self.server.state())
                return
            if path.startswith("/_sim/state/") and m == "GET":
                field = path[len("/_sim/state/"):]
                st = self.server.state()
                if field not in st:
                    raise HTTPError(404, "no state field %s" % field)
                v = st[field]
                if isinstance(v, bool):
                    txt = "true" if v else "false"
                elif isinstance(v, list):
                    txt = "".join("%s\n" % (json.dumps(x) if isinstance(x, (dict, list)) else x) for x in v)
                elif isinstance(v, dict):
                    txt = json.dumps(v) + "\n"
                else:
                    txt = "%s\n" % v
                data = txt.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                self._status = 200
                return
            if path == "/_sim/fault" and m in ("POST", "PUT"):
                body = self._json(raw)
                with sim.lock:
                    if body.get("clear"):
                        sim.faults = []
                    else:
                        sim.faults.append(parse_fault(body))
                    n = len(sim.faults)
                self._send(200, {"faults": n})
                return
            if path == "/_sim/restart" and m in ("POST", "PUT"):
                sim.restart()
                self._send(200, self.server.state())
                return
            if path == "/_sim/reset-counters" and m in ("POST", "PUT"):
                with sim.lock:
                    sim.unseal_calls = sim.gr_update_calls = sim.requests = 0
                    sim.unseal_keys, sim.gr_keys = [], []
                self._send(200, self.server.state())
                return
            raise HTTPError(404, "unknown control path")
        except HTTPError as e:
            self._send(e.status, {"errors": [e.msg]})
        except ValueError as e:
            self._send(400, {"errors": [str(e)]})


def parse_fault(body):
    f = {}
    if "status" in body:
        s = body["status"]
        if not isinstance(s, int) or not 100 <= s <= 599:
            raise ValueError("status must be an HTTP status")
        f["status"] = s
    if "delay_ms" in body:
        d = body["delay_ms"]
        if not isinstance(d, int) or d < 0:
            raise ValueError("delay_ms must be a non-negative integer")
        f["delay_ms"] = d
    if body.get("drop"):
        f["drop"] = True
    if not f:
        raise ValueError("a fault needs status, delay_ms or drop")
    c = body.get("count", 1)
    if not isinstance(c, int) or c == 0:
        raise ValueError("count must be a non-zero integer (negative: until cleared)")
    f["count"] = c
    for k in ("path", "method", "message"):
        if k in body:
            if not isinstance(body[k], str):
                raise ValueError("%s must be a string" % k)
            f[k] = body[k]
    if body.get("apply"):
        f["apply"] = True
    return f


class SimServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, sim, logf, tls_ctx):
        self.sim = sim
        self.logf = logf
        self.tls_ctx = tls_ctx
        self.client_cert_mode = "off"
        self.seen = collections.deque(maxlen=20)
        self.seen_lock = threading.Lock()
        super().__init__(addr, Handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        # headers and body leave in separate writes: without NODELAY the
        # client's delayed ACK costs ~40 ms per request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # The handshake runs in the request thread (Handler.setup), so a
        # client that never completes it cannot stall the accept loop.
        return self.tls_ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def note_request(self, h, path):
        """Record what tests check of an API request: its X-Vault-Namespace
        header and the client certificate the TLS layer verified (subject
        CN), never a token or a body."""
        cn = ""
        cert = None
        try:
            cert = h.connection.getpeercert()
        except (ValueError, ssl.SSLError):
            cert = None
        if cert:
            for rdn in cert.get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        cn = v
        rec = {
            "method": h.command,
            "path": path,
            "namespace": h.headers.get("X-Vault-Namespace"),
            "client_cert": bool(cert),
            "client_cn": cn,
        }
        with self.seen_lock:
            self.seen.append(rec)

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ssl.SSLError, ConnectionError, socket.timeout, BrokenPipeError)):
            return
        self.sim_log("- internal error: %s" % type(exc).__name__)
        super().handle_error(request, client_address)

    def sim_log(self, line):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        with LOG_LOCK:
            self.logf.write("%s %s\n" % (stamp, line))
            self.logf.flush()

    def state(self):
        s = self.sim
        with self.seen_lock:
            seen = [dict(r) for r in self.seen]
        last = seen[-1] if seen else {}
        with s.lock:
            cfg = s.key_cfg() if s.initialized else None
            return {
                "mode": "openbao" if s.openbao else "vault",
                "version": s.version,
                "recovery": s.recovery,
                "initialized": s.initialized,
                "sealed": s.sealed or not s.initialized,
                "threshold": cfg[1] if cfg else 0,
                "shares": cfg[0] if cfg else 0,
                "progress": len(s.unlock_parts) if s.unlock_parts else 0,
                "unseal_calls": s.unseal_calls,
                "unseal_keys": list(s.unseal_keys),
                "generate_root_started": s.gr is not None,
                "generate_root_nonce": s.gr["nonce"] if s.gr else "",
                "generate_root_progress": len(s.gr["parts"]) if s.gr else 0,
                "generate_root_attempts": s.gr_attempts,
                "generate_root_update_calls": s.gr_update_calls,
                "generate_root_keys": list(s.gr_keys),
                "generate_root_completed": s.gr_completed,
                "tokens": len(s.tokens),
                "requests": s.requests,
                "restarts": s.restarts,
                "faults": [dict(f) for f in s.faults],
                "faults_fired": s.faults_fired,
                "unauthed_generate_root": s.unauthed_gr,
                "authed_generate_root": s.authed_gr,
                "rekey_disabled": s.rekey_disabled,
                # the last API requests (not /_sim/), oldest first
                "last_requests": seen,
                "last_namespace": last.get("namespace") or "",
                "last_client_cert": last.get("client_cert", False),
                "last_client_cn": last.get("client_cn", ""),
                "client_cert_mode": self.client_cert_mode,
            }


# ---------------------------------------------------------------------------
# Self-test against the vectors in tests/vectors (a copy of the shared
# vectors, produced by Vault's and
# OpenBao's own code).


def self_test(vec_dir):
    fails = []
    n = 0

    def check(cond, what):
        nonlocal n
        n += 1
        if cond:
            print("ok %d - %s" % (n, what))
        else:
            print("not ok %d - %s" % (n, what))
            fails.append(what)

    # field: table multiplication equals the bitwise definition everywhere
    bad = [(a, b) for a in range(256) for b in range(256) if gf_mul(a, b) != gf_mul_slow(a, b)]
    check(not bad, "GF(2^8) tables agree with carry-less multiply mod 0x11B")
    check(gf_mul(0x57, 0x83) == 0xC1, "FIPS-197 example 0x57*0x83 = 0xc1")
    check(gf_mul(0x53, 0xCA) == 0x01, "0x53 and 0xca are inverses")
    check(all(gf_mul(a, gf_div(1, a)) == 1 for a in range(1, 256)), "every non-zero element has an inverse")

    # Shamir vectors: every threshold-sized subset recombines
    path = os.path.join(vec_dir, "vault_shamir_sample.jsonl")
    with open(path) as fh:
        lines = [json.loads(l) for l in fh if l.strip()]
    check(len(lines) > 0, "shamir vectors present (%s)" % path)
    for i, v in enumerate(lines):
        secret = bytes.fromhex(v["secret_hex"])
        shares = [bytes.fromhex(h) for h in v["shares_hex"]]
        check([base64.b64decode(b) for b in v["shares_b64"]] == shares, "vector %d: hex and base64 shares agree" % i)
        check([s[-1] for s in shares] == v["x_coords"], "vector %d: x-coordinate is the last byte" % i)
        okall = True
        for sub in itertools.combinations(shares, v["threshold"]):
            if shamir_combine(list(sub)) != secret:
                okall = False
        check(okall, "vector %d: every %d-of-%d subset combines to the secret" % (i, v["threshold"], v["parts"]))
        if v["threshold"] > 2:
            sub = shares[: v["threshold"] - 1]
            check(shamir_combine(sub) != secret, "vector %d: threshold-1 shares give a different value" % i)
        check(decode_key(v["shares_b64"][0]) == shares[0] or len(shares[0]) < 16,
              "vector %d: unseal key decoding accepts the base64 form" % i)

    # own split round trips, format
    for (ln, n_, t_) in ((32, 5, 3), (32, 3, 2), (16, 255, 255), (1, 2, 2), (33, 10, 7)):
        sec = secrets.token_bytes(ln)
        sh = shamir_split(sec, n_, t_)
        xs = [s[-1] for s in sh]
        fmt = all(len(s) == ln + 1 for s in sh) and len(set(xs)) == n_ and all(1 <= x <= 255 for x in xs)
        sub = secrets.SystemRandom().sample(sh, t_)
        check(fmt and shamir_combine(sub) == sec, "split %d bytes %d-of-%d, distinct x in 1..255, combine" % (ln, t_, n_))
    for args, what in (((b"x" * 32, 2, 3), "parts < threshold"), ((b"x" * 32, 256, 3), "parts > 255"),
                       ((b"x" * 32, 3, 1), "threshold 1"), ((b"", 3, 2), "empty secret")):
        try:
            shamir_split(*args)
            check(False, "split refuses %s" % what)
        except ValueError:
            check(True, "split refuses %s" % what)
    a, b = shamir_split(b"k" * 32, 3, 2)[:2]
    for parts, what in (([a], "one part"), ([a, a], "repeated x"), ([a, b[:-2] + b[-1:]], "unequal lengths")):
        try:
            shamir_combine(parts)
            check(False, "combine refuses %s" % what)
        except ValueError:
            check(True, "combine refuses %s" % what)
    xs = set()
    for _ in range(20):
        xs.update(s[-1] for s in shamir_split(b"z" * 4, 5, 2))
    check(len(xs) > 20, "x-coordinates are random, not sequential (%d distinct over 20 splits)" % len(xs))

    # key decoding rules
    k33 = secrets.token_bytes(33)
    check(decode_key(k33.hex()) == k33, "decode_key: 66 hex chars -> 33 bytes")
    check(decode_key(base64.b64encode(k33).decode()) == k33, "decode_key: padded base64 -> 33 bytes")
    k16hexlike = "0123456789abcdef" * 4 + "0123456789ab"  # hex of 38 bytes, also base64
    check(decode_key(k16hexlike) == base64.b64decode(k16hexlike), "decode_key: hex of the wrong size is read as base64")
    check(decode_key(base64.b64encode(k33).decode().rstrip("=") + "x") is None, "decode_key: not hex, not base64 -> None")
    k32 = secrets.token_bytes(32)
    raw = base64.b64encode(k32).decode()
    check(raw.endswith("=") and decode_key(raw.rstrip("=")) is None, "decode_key: RawStd (unpadded) base64 is refused")
    check(decode_key(base64.urlsafe_b64encode(b"\xfb\xff" * 16).decode()) is None, "decode_key: URL-safe base64 is refused")

    # root token vectors
    path = os.path.join(vec_dir, "vault_roottoken_sample.jsonl")
    with open(path) as fh:
        toks = [json.loads(l) for l in fh if l.strip()]
    check(len(toks) > 0, "root-token vectors present (%s)" % path)
    for v in toks:
        got = decode_token(v["encoded_token"], v["otp"], v["otp_length"])
        check(got == v["token"], "decode %s" % v["variant"])
        if v["otp_length"] > 0:
            check(len(v["otp"]) == v["otp_length"], "otp length %d for %s" % (v["otp_length"], v["variant"]))
            check(encode_token(v["token"], v["otp"]) == v["encoded_token"], "encode %s" % v["variant"])
            try:
                decode_token(v["encoded_token"] + "=", v["otp"], v["otp_length"])
                padded_ok = False
            except ValueError:
                padded_ok = True
            check(padded_ok, "padding is an error for %s" % v["variant"])
    for ssc in (False, True):
        otp = base62_random(26 if ssc else 28)
        tok = ("s." if ssc else "hvs.") + base62_random(24)
        check(decode_token(encode_token(tok, otp), otp, len(otp)) == tok, "own tokens round-trip (%s)" % ("s." if ssc else "hvs."))
    print("1..%d" % n)
    return 1 if fails else 0


# ---------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description="Vault/OpenBao sys API test server")
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("--vectors", help="directory with the shared vectors")
    ap.add_argument("--dir", help="state directory (port, log)")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--vault-version", default="1.15.6")
    ap.add_argument("--openbao", action="store_true")
    ap.add_argument("--openbao-version", default="2.5.3")
    ap.add_argument("--openbao-unauthed-generate-root", action="store_true",
                    help="as listener disable_unauthed_generate_root_endpoints=false")
    ap.add_argument("--disable-ssc-tokens", action="store_true")
    ap.add_argument("--recovery", action="store_true", help="auto-unseal: recovery keys")
    ap.add_argument("--seal-type", default=None)
    ap.add_argument("--fault", action="append", default=[], help="JSON fault rule, as POST /_sim/fault")
    ap.add_argument("--bad-cert", default="", help="recorded only; start makes the certificate")
    ap.add_argument("--client-ca", help="PEM CA that client certificates must chain to")
    ap.add_argument("--client-cert", choices=("required", "optional"), default="required",
                    help="with --client-ca: refuse clients without a certificate (required), "
                    "or only verify one that is presented (optional)")
    ap.add_argument("--init", default="", help="SHARES/THRESHOLD: initialise at start, write DIR/init.json")
    ap.add_argument("--secrets-log", default=None,
                    help="tests: append every secret made or accepted to this file (0600); also $VSIM_SECRETS_LOG")
    o = ap.parse_args()

    if o.self_test:
        vec = o.vectors or os.environ.get("KQ_VECTORS") or os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "..", "vectors")
        return self_test(vec)
    if not (o.dir and o.cert and o.key):
        ap.error("--dir, --cert and --key are required")
    sim = Sim(o)
    for f in o.fault:
        sim.faults.append(parse_fault(json.loads(f)))
    if o.init:
        n_, t_ = (int(x) for x in o.init.split("/"))
        body = {"recovery_shares": n_, "recovery_threshold": t_} if o.recovery else \
               {"secret_shares": n_, "secret_threshold": t_}
        res = sim.init(body)
        p = os.path.join(o.dir, "init.json")
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(res, fh)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(o.cert, o.key)
    if o.client_ca:
        ctx.load_verify_locations(cafile=o.client_ca)
        ctx.verify_mode = ssl.CERT_REQUIRED if o.client_cert == "required" else ssl.CERT_OPTIONAL
    logf = open(os.path.join(o.dir, "log"), "a", buffering=1)
    srv = SimServer(("127.0.0.1", o.port), sim, logf, ctx)
    if o.client_ca:
        srv.client_cert_mode = o.client_cert
    port = srv.server_address[1]
    tmp = os.path.join(o.dir, "port.tmp")
    with open(tmp, "w") as fh:
        fh.write("%d\n" % port)
    os.rename(tmp, os.path.join(o.dir, "port"))
    srv.sim_log("- listening on 127.0.0.1:%d mode=%s version=%s recovery=%s" % (
        port, "openbao" if o.openbao else "vault", sim.version, o.recovery))
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
