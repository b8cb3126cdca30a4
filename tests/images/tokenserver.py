#!/usr/bin/env python3
"""A minimal token service for the distribution registry's "token" auth, for reef's tests.
127.0.0.1 only.

usage: tokenserver.py PORTFILE KEY CERT USER PASSWORD [ISSUER]

GET /token?service=S&scope=repository:NAME:ACTIONS answers {"token": JWT} when the request carries
HTTP basic credentials USER:PASSWORD, and 401 otherwise. The JWT is RS256-signed with KEY; its
header carries CERT in x5c, so a registry whose rootcertbundle holds CERT accepts it. Every
requested action is granted. Writes the port to PORTFILE once ready.
"""
import base64
import http.server
import json
import os
import sys
import time
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def main():
    portfile, keyf, certf, user, pw = sys.argv[1:6]
    issuer = sys.argv[6] if len(sys.argv) > 6 else "reef-test-issuer"
    key = serialization.load_pem_private_key(open(keyf, "rb").read(), None)
    cert = x509.load_pem_x509_certificate(open(certf, "rb").read())
    der = cert.public_bytes(serialization.Encoding.DER)
    want = "Basic " + base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def send(self, code, body):
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            u = urllib.parse.urlparse(self.path)
            if u.path != "/token":
                return self.send(404, b"{}")
            if self.headers.get("Authorization") != want:
                return self.send(401, b'{"details":"bad credentials"}')
            q = urllib.parse.parse_qs(u.query)
            access = []
            for sc in q.get("scope", []):
                for one in sc.split(" "):
                    parts = one.split(":")
                    if len(parts) >= 3:
                        access.append({"type": parts[0], "name": ":".join(parts[1:-1]),
                                       "actions": parts[-1].split(",")})
            now = int(time.time())
            hdr = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}
            claims = {"iss": issuer, "sub": user, "aud": q.get("service", [""])[0],
                      "exp": now + 600, "nbf": now - 10, "iat": now,
                      "jti": b64u(os.urandom(12)), "access": access}
            si = b64u(json.dumps(hdr).encode()) + "." + b64u(json.dumps(claims).encode())
            sig = key.sign(si.encode(), padding.PKCS1v15(), hashes.SHA256())
            tok = si + "." + b64u(sig)
            self.send(200, json.dumps({"token": tok, "access_token": tok,
                                       "expires_in": 600}).encode())

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    with open(portfile + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(portfile + ".tmp", portfile)
    srv.serve_forever()


if __name__ == "__main__":
    main()
