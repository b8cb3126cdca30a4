#!/usr/bin/env python3
"""A registry that misbehaves on purpose, for reef's bad-input tests. 127.0.0.1 only.

usage: badregistry.py PORTFILE

Serves the OCI distribution read API for these repositories (tag "latest"):
  good        a valid one-layer image (the control case)
  tampered    the layer blob's bytes do not match its digest (same size)
  truncated   the layer blob ends early (the response is complete but short)
  sizelie     the manifest gives the layer a smaller size than it has
  dotdot      a layer with a "../escape" entry
  symlink     a layer with "link -> /tmp" followed by "link/pwned"
  diffid      the config's diff_id is not the layer's
  noplat      an index with only linux/s390x and windows/amd64
  badlayermt  a layer with an unknown media type
  badmt       a manifest served with an unknown media type
  hang        accepts the manifest request and never answers
  slow        a 256 KiB layer served in small pieces over about two seconds (to kill a pull)
  flaky       a layer whose first download breaks off halfway; a retry with Range resumes it
              (GET /flaky-count tells how many blob requests it saw and which had Range)
  stall       a layer blob that stops halfway and then sends nothing
  redirect    a layer whose blob URL answers 307 to another path (as blob storage does)
  unstable    the manifest request fails with 503 the first time
  private/x   the image of "good" behind the bearer-token flow: /token issues a token to
              user "reef" with password "s3cret" (GET), or for refresh token "idtok" (POST, the
              OAuth2 form an identity token uses)
Writes the port it listens on to PORTFILE once ready.
"""
import base64
import gzip
import hashlib
import http.server
import io
import json
import os
import sys
import tarfile
import threading
import time
import urllib.parse

BLOBS = {}  # digest -> bytes as served
SLOW = set()  # digests served slowly
FLAKY = {}  # digest -> requests seen
RANGES = []
REDIRECT = set()
STALL = set()
UNSTABLE = {"n": 0}
MANIFESTS = {}  # (repo, ref) -> (media type, bytes)
TOKEN = "tok-" + hashlib.sha256(str(time.time()).encode()).hexdigest()[:16]


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, data in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1700000000
            if kind == "dir":
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                t.addfile(ti)
            elif kind == "sym":
                ti.type = tarfile.SYMTYPE
                ti.linkname = data
                t.addfile(ti)
            else:
                ti.size = len(data)
                ti.mode = 0o644
                t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def gz(b):
    return gzip.compress(b, mtime=0)


def image(repo, layer_tar, layer_mt="application/vnd.oci.image.layer.v1.tar+gzip",
          diff_override=None, size_delta=0, serve=None, manifest_mt=None, arch="amd64"):
    blob = gz(layer_tar)
    ld = sha(blob)
    BLOBS[ld] = serve(blob) if serve else blob
    cfg = json.dumps({
        "architecture": arch, "os": "linux",
        "config": {"Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_override or sha(layer_tar)]},
    }).encode()
    BLOBS[sha(cfg)] = cfg
    mt = manifest_mt or "application/vnd.oci.image.manifest.v1+json"
    man = json.dumps({
        "schemaVersion": 2, "mediaType": mt,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": sha(cfg), "size": len(cfg)},
        "layers": [{"mediaType": layer_mt, "digest": ld, "size": len(blob) + size_delta}],
    }).encode()
    if repo:
        MANIFESTS[(repo, "latest")] = (mt, man)
    MANIFESTS[(repo or "_", sha(man))] = (mt, man)
    return man


def build(arch):
    good = tar([("etc", "dir", None), ("etc/hello", "file", b"hello from a bad registry\n")])
    image("good", good, arch=arch)
    image("private/x", good, arch=arch)

    def flip(b):
        b = bytearray(b)
        b[len(b) // 2] ^= 0xFF
        return bytes(b)

    image("tampered", tar([("a", "file", b"tampered " * 100)]), serve=flip, arch=arch)
    image("truncated", tar([("b", "file", b"truncated " * 1000)]), serve=lambda b: b[: len(b) // 2],
          arch=arch)
    image("sizelie", tar([("c", "file", b"size lie " * 1000)]), size_delta=-10, arch=arch)
    image("dotdot", tar([("ok", "file", b"x"), ("../escape", "file", b"out")]), arch=arch)
    image("symlink", tar([("link", "sym", "/tmp"), ("link/pwned", "file", b"out")]), arch=arch)
    image("diffid", tar([("d", "file", b"diff id")]), diff_override="sha256:" + "0" * 64,
          arch=arch)
    image("badlayermt", tar([("e", "file", b"e")]), layer_mt="application/vnd.example.unknown",
          arch=arch)
    image("badmt", tar([("f", "file", b"f")]), manifest_mt="application/vnd.example.manifest+json",
          arch=arch)
    rnd = os.urandom(256 << 10)
    man = json.loads(image("slow", tar([("big.bin", "file", rnd)]), arch=arch))
    SLOW.add(man["layers"][0]["digest"])
    man = json.loads(image("flaky", tar([("f.bin", "file", os.urandom(300 << 10))]), arch=arch))
    FLAKY[man["layers"][0]["digest"]] = 0
    man = json.loads(image("stall", tar([("s.bin", "file", os.urandom(200 << 10))]), arch=arch))
    STALL.add(man["layers"][0]["digest"])
    man = json.loads(image("redirect", tar([("r", "file", b"redirected\n")]), arch=arch))
    REDIRECT.add(man["layers"][0]["digest"])
    image("unstable", tar([("u", "file", b"unstable\n")]), arch=arch)
    m1 = image(None, tar([("s", "file", b"s390x")]), arch="s390x")
    m2 = image(None, tar([("w", "file", b"win")]), arch="amd64")
    idx = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(m1),
             "size": len(m1), "platform": {"os": "linux", "architecture": "s390x"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(m2),
             "size": len(m2), "platform": {"os": "windows", "architecture": "amd64"}},
        ]}).encode()
    MANIFESTS[("noplat", "latest")] = ("application/vnd.oci.image.index.v1+json", idx)
    for d in (sha(m1), sha(m2)):
        MANIFESTS[("noplat", d)] = MANIFESTS[("_", d)]


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, code, body=b"", ctype="application/json", extra=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_POST(self):
        # OAuth2 refresh-token grant, for identity tokens: refresh_token "idtok" is accepted.
        n = int(self.headers.get("Content-Length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(n).decode())
        if self.path.split("?")[0] != "/token":
            return self.send(404)
        if (form.get("grant_type") != ["refresh_token"] or form.get("refresh_token") != ["idtok"]
                or not form.get("scope") or not form.get("service")):
            return self.send(401, b'{"error":"invalid_grant"}')
        return self.send(200, json.dumps({"access_token": TOKEN, "expires_in": 300}).encode())

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = self.path.split("?")[0]
        host = self.headers.get("Host", "127.0.0.1")
        if path == "/token":
            want = "Basic " + base64.b64encode(b"reef:s3cret").decode()
            if self.headers.get("Authorization") != want:
                return self.send(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"bad login"}]}')
            return self.send(200, json.dumps({"token": TOKEN, "expires_in": 300}).encode())
        if path == "/flaky-count":
            return self.send(200, json.dumps({"requests": sum(FLAKY.values()),
                                              "ranges": RANGES}).encode())
        if path.startswith("/storage/"):
            if self.headers.get("Authorization"):
                return self.send(400, b"credentials must not follow a redirect")
            b = BLOBS.get(path[len("/storage/"):])
            return self.send(200 if b else 404, b or b"", ctype="application/octet-stream")
        if path == "/v2/" or path == "/v2":
            return self.send(200, b"{}")
        if not path.startswith("/v2/"):
            return self.send(404)
        rest = path[4:]
        if rest.startswith("private/"):
            if self.headers.get("Authorization") != "Bearer " + TOKEN:
                chal = ('Bearer realm="http://%s/token",service="bad-registry",'
                        'scope="repository:private/x:pull"' % host)
                return self.send(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"token"}]}',
                                 extra={"WWW-Authenticate": chal})
        if "/manifests/" in rest:
            repo, ref = rest.split("/manifests/", 1)
            if repo == "unstable":
                UNSTABLE["n"] += 1
                if UNSTABLE["n"] == 1:
                    return self.send(503, b'{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}')
            if repo == "hang":
                time.sleep(3600)
                return
            m = MANIFESTS.get((repo, ref))
            if not m:
                return self.send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}')
            return self.send(200, m[1], ctype=m[0], extra={"Docker-Content-Digest": sha(m[1])})
        if "/blobs/" in rest:
            d = rest.split("/blobs/", 1)[1]
            b = BLOBS.get(d)
            if b is None:
                return self.send(404, b'{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}')
            if d in STALL:
                self.send_response(200)
                self.send_header("Content-Length", str(len(b)))
                self.end_headers()
                self.wfile.write(b[: len(b) // 2])
                self.wfile.flush()
                time.sleep(3600)
                return
            if d in REDIRECT:
                return self.send(307, b"", extra={"Location": "http://%s/storage/%s" % (host, d)})
            if d in SLOW:
                self.send_response(200)
                self.send_header("Content-Length", str(len(b)))
                self.end_headers()
                for i in range(0, len(b), 8192):
                    self.wfile.write(b[i:i + 8192])
                    self.wfile.flush()
                    time.sleep(0.06)
                return
            if d in FLAKY:
                FLAKY[d] += 1
                rng = self.headers.get("Range")
                RANGES.append(rng or "")
                if FLAKY[d] == 1:
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(b)))
                    self.end_headers()
                    self.wfile.write(b[: len(b) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    import socket
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if rng and rng.startswith("bytes=") and rng.endswith("-"):
                    start = int(rng[6:-1])
                    part = b[start:]
                    return self.send(206, part, ctype="application/octet-stream",
                                     extra={"Content-Range": "bytes %d-%d/%d" % (start, len(b) - 1, len(b))})
            return self.send(200, b, ctype="application/octet-stream")
        return self.send(404)


def main():
    portfile = sys.argv[1]
    arch = sys.argv[2] if len(sys.argv) > 2 else "amd64"
    build(arch)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    with open(portfile + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(portfile + ".tmp", portfile)
    srv.serve_forever()


if __name__ == "__main__":
    threading.current_thread().name = "badregistry"
    main()
