#!/usr/bin/env python3
# An independent verifier of a popid audit export (docs/AUDIT.md), in Python, for third parties
# who would rather not run popid: recomputes the hash chain and checks every checkpoint's
# Ed25519 signature (with the `cryptography` package) against the public key given.
#   scripts/audit-verify.py EXPORT.jsonl PUBLIC_KEY
# Exit 0 when the export holds, 5 with the first bad seq otherwise, 2 on a malformed file.
import base64, hashlib, json, struct, sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def b64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def canonical(e):
    def text(s):
        b = s.encode("utf-8")
        return struct.pack(">I", len(b)) + b
    subject = int(e["subject"]) if e["subject"] is not None else 0
    return (bytes([1]) + struct.pack(">QqQ", e["seq"], e["time"], subject)
            + text(e["actor"]) + text(e["action"]) + text(",".join(e["fields"]))
            + text(e["purpose"]) + text(e["outcome"]) + text(e["rule"])
            + text(e["request_id"]))


def bad(seq, why):
    print("bad seq %d: %s" % (seq, why))
    sys.exit(5)


def main(path, key_text):
    key = Ed25519PublicKey.from_public_bytes(b64url(key_text))
    try:
        lines = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
        header = lines[0]
        assert header["type"] == "header" and header["format"] == "popid-audit-export-v1"
    except (ValueError, KeyError, IndexError, AssertionError) as e:
        print("malformed export: %r" % e)
        sys.exit(2)
    if header["public_key"] != key_text:
        print("the export was made with another key")
        sys.exit(5)
    chain, expect = bytes.fromhex(header["prev_hash"]), header["from_seq"]
    last, sealed, ahead = expect - 1, expect - 1, None
    for o in lines[1:]:
        if o["type"] == "entry":
            if o["seq"] != expect:
                bad(expect, "entry missing or out of order")
            chain = hashlib.blake2b(chain + canonical(o), digest_size=32).digest()
            if chain.hex() != o["hash"]:
                bad(o["seq"], "entry does not match the chain")
            last, expect = o["seq"], expect + 1
            if ahead and ahead["seq"] == last:
                o, ahead = ahead, None
            else:
                continue
        # A checkpoint: the signed head at its seq.
        msg = (b"popid-audit-checkpoint-v1" + struct.pack(">Q", o["seq"])
               + bytes.fromhex(o["hash"]) + struct.pack(">q", o["time"]))
        try:
            key.verify(b64url(o["sig"]), msg)
        except InvalidSignature:
            bad(o["seq"], "checkpoint signature invalid")
        if o["seq"] > last:
            ahead = ahead or o  # seals entries not seen yet
            continue
        if o["seq"] != last or bytes.fromhex(o["hash"]) != chain:
            bad(sealed + 1, "checkpoint at %d seals a different chain" % o["seq"])
        sealed = o["seq"]
    if ahead:
        bad(last + 1, "entries missing: a checkpoint seals seq %d" % ahead["seq"])
    print("ok: entries %d..%d, sealed up to %d, head %s" % (header["from_seq"], last, sealed,
                                                           chain.hex()))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__ or "usage: audit-verify.py EXPORT PUBLIC_KEY")
        sys.exit(2)
    main(sys.argv[1], sys.argv[2])
