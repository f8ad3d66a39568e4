"""A push service and browser for tests/api/push.rs, independent of parlor's own crypto.

It makes a browser's P-256 key pair and auth secret, listens on 127.0.0.1 and prints one JSON
line: {"port", "p256dh", "auth"}. Then for every POST it prints one JSON line with the path,
the headers, the payload decrypted with http_ece (RFC 8291 aes128gcm, the browser's private
key), and the VAPID token checked with `cryptography` (ES256 over the header and claims, with
the key in `k=`): {"jwt_valid", "claims", "k"}. It answers by path: /gone/... 410,
/flaky/... 503 the first time then 201, anything else 201.
"""

import base64
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64d(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64e(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


BROWSER_KEY = ec.generate_private_key(ec.SECP256R1())
BROWSER_PUBLIC = BROWSER_KEY.public_key().public_bytes(
    serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
)
AUTH = os.urandom(16)
SEEN = set()


def check_vapid(authorization):
    """The `vapid t=..., k=...` header: the JWT's signature checked with k, its claims."""
    if not authorization.startswith("vapid "):
        return {"jwt_valid": False, "why": "not a vapid scheme"}
    parts = dict(p.strip().split("=", 1) for p in authorization[len("vapid "):].split(","))
    header, claims, signature = parts["t"].split(".")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64d(parts["k"]))
    raw = b64d(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
        valid = len(raw) == 64
    except InvalidSignature:
        valid = False
    return {
        "jwt_valid": valid,
        "jwt_header": json.loads(b64d(header)),
        "claims": json.loads(b64d(claims)),
        "k": parts["k"],
    }


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        report = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}}
        try:
            plain = http_ece.decrypt(body, private_key=BROWSER_KEY, auth_secret=AUTH, version="aes128gcm")
            report["payload"] = json.loads(plain)
        except Exception as e:  # the test fails on a missing payload and shows why
            report["decrypt_error"] = repr(e)
        report.update(check_vapid(self.headers.get("Authorization", "")))
        if self.path.startswith("/gone/"):
            status = 410
        elif self.path.startswith("/unknown/"):
            status = 404
        elif self.path.startswith("/flaky/") and self.path not in SEEN:
            status = 503
        elif self.path.startswith("/busy/") and self.path not in SEEN:
            status = 429
        else:
            status = 201
        SEEN.add(self.path)
        report["answered"] = status
        print(json.dumps(report), flush=True)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Handler)
print(json.dumps({"port": server.server_address[1], "p256dh": b64e(BROWSER_PUBLIC), "auth": b64e(AUTH)}), flush=True)
try:
    server.serve_forever()
except KeyboardInterrupt:
    sys.exit(0)
