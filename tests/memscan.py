#!/usr/bin/env python3
"""Search a core file for secrets, in every encoding the code handles.

usage: memscan.py CORE LABEL=HEX [LABEL=HEX ...]

Each HEX is the raw secret.  It is searched for raw, as lower- and
upper-case hex, as padded and unpadded standard base64 and URL-safe base64
(and at the three byte alignments base64 can take inside a longer
encoding), and JSON-escaped where that differs.  Prints one line per
needle and a total; exits 1 if anything was found.
"""
import base64
import sys


def forms(raw):
    out = {"raw": raw, "hex": raw.hex().encode(), "HEX": raw.hex().upper().encode()}
    for shift in range(3):
        chunk = raw[shift:]
        # only the part of the encoding that does not depend on neighbours
        usable = len(chunk) - len(chunk) % 3
        if usable >= 6:
            b = base64.b64encode(chunk[:usable])
            out[f"base64@{shift}"] = b
            out[f"base64url@{shift}"] = base64.urlsafe_b64encode(chunk[:usable])
    if all(32 <= c < 127 for c in raw):
        out["json"] = raw.replace(b"\\", b"\\\\").replace(b'"', b'\\"')
    return out


def main():
    core = open(sys.argv[1], "rb").read()
    total = 0
    print(f"core: {sys.argv[1]} ({len(core)} bytes)")
    for arg in sys.argv[2:]:
        label, hexval = arg.split("=", 1)
        raw = bytes.fromhex(hexval)
        if len(raw) < 8:
            print(f"{label}: too short to search reliably ({len(raw)} bytes)")
            sys.exit(2)
        found = []
        for name, needle in forms(raw).items():
            n = core.count(needle)
            if n:
                found.append(f"{name}x{n}")
            total += n
        print(f"searched {label} ({len(raw)} bytes; raw, hex, base64, json): "
              f"{'found ' + ' '.join(found) if found else '0 found'}")
    print(f"total found: {total}")
    sys.exit(1 if total else 0)


main()
