#!/usr/bin/env python3
"""Search a core file for secrets, in every encoding the code handles.

usage: memscan.py [--image NAME] CORE LABEL=HEX [LABEL=HEX ...]

Each HEX is the raw secret.  It is searched for raw, as lower- and
upper-case hex, as padded and unpadded standard base64 and URL-safe base64
(and at the three byte alignments base64 can take inside a longer
encoding), and JSON-escaped where that differs.  Prints one line per
needle and a total; exits 1 if anything was found.

--image NAME: first check that the core is of the process that held the
secrets: the executable file mapped in it (the NT_FILE note gdb's gcore
writes) must be called NAME.  The installed `keyquorum` is a front that
runs the offline verbs itself and execs keyquorum-full for the others
(gdb follows the exec), so a scan names the image it means to search.
Exits 3 if it is not there.
"""
import base64
import os
import struct
import sys

NT_FILE = 0x46494C45


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


def mapped_files(core):
    """The paths of the NT_FILE note of an ELF64 little-endian core."""
    if core[:4] != b"\x7fELF" or core[4] != 2 or core[5] != 1:
        return None
    phoff, = struct.unpack_from("<Q", core, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", core, 0x36)
    for i in range(phnum):
        ptype, _, off, _, _, filesz, _, _ = struct.unpack_from(
            "<IIQQQQQQ", core, phoff + i * phentsize)
        if ptype != 4:  # PT_NOTE
            continue
        p = off
        while p + 12 <= off + filesz:
            namesz, descsz, ntype = struct.unpack_from("<III", core, p)
            p += 12 + ((namesz + 3) & ~3)
            desc = core[p:p + descsz]
            p += (descsz + 3) & ~3
            if ntype == NT_FILE:
                count, = struct.unpack_from("<Q", desc, 0)
                names = desc[16 + 24 * count:].split(b"\0")
                return [n.decode(errors="replace") for n in names[:count]]
    return None


def main():
    args = sys.argv[1:]
    image = None
    if args[:1] == ["--image"]:
        image, args = args[1], args[2:]
    core = open(args[0], "rb").read()
    total = 0
    print(f"core: {args[0]} ({len(core)} bytes)")
    if image is not None:
        files = mapped_files(core)
        if files is None:
            print("image: the core has no NT_FILE note")
            sys.exit(3)
        if image not in {os.path.basename(f) for f in files}:
            print(f"image: {image} is not mapped in the core "
                  f"(executables: {sorted({os.path.basename(f) for f in files if '.so' not in f})})")
            sys.exit(3)
        print(f"image: {image} (the process that held the secrets)")
    for arg in args[1:]:
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
