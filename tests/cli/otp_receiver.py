#!/usr/bin/env python3
"""A real HTTP receiver standing in for the SMS/e-mail gateway in tests/cli/otp_test.sh and
tests/cli/eid_notify_test.sh.

Listens on 127.0.0.1 on a free port (written to PORT_FILE once listening), and for every POST
appends one JSON line to LOG_FILE: the path, the X-Popid-* headers, whether the signature holds
(HMAC-SHA256 under the secret in SECRET_FILE over "<timestamp>.<body>", docs/AUTH.md), and the
body as parsed JSON. It answers with the next status from PLAN_FILE (whitespace-separated codes,
consumed one per request; 200 once the plan is empty), so a test can make a delivery fail first.

usage: otp_receiver.py PORT_FILE LOG_FILE SECRET_FILE PLAN_FILE
"""
import hashlib
import hmac
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

port_file, log_file, secret_file, plan_file = sys.argv[1:5]
with open(secret_file, "rb") as f:
    secret = f.read().rstrip(b"\r\n")


def next_status():
    try:
        with open(plan_file) as f:
            plan = f.read().split()
    except FileNotFoundError:
        plan = []
    if not plan:
        return 200
    with open(plan_file, "w") as f:
        f.write(" ".join(plan[1:]))
    return int(plan[0])


class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        ts = self.headers.get("X-Popid-Timestamp", "")
        sig = self.headers.get("X-Popid-Signature", "")
        want = "v1=" + hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        status = next_status()
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        rec = {
            "path": self.path,
            "id": self.headers.get("X-Popid-Message-Id"),
            "sig_ok": hmac.compare_digest(sig, want),
            "content_type": self.headers.get("Content-Type"),
            "status": status,
            "body": parsed,
        }
        with open(log_file, "a") as f:
            f.write(json.dumps(rec) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


srv = HTTPServer(("127.0.0.1", 0), Hook)
with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))

os.rename(port_file + ".tmp", port_file)
srv.serve_forever()
