#!/usr/bin/env python3
"""regproxy: an HTTP proxy in front of a test docker-registry, for tests/registry.sh.

It forwards /v2/ requests to the registry and can, on request:
  --token USER:PASS   demand Bearer tokens (opaque, one per repository) that it issues at
                      /token after checking HTTP Basic credentials, like Docker Hub's auth;
  --anonymous         also issue tokens without credentials (public repositories);
  --token-log FILE    append every token issued to FILE (for leak checks);
  --fail N:STATUS     answer the first N manifest requests with STATUS (500, 429, ...);
  --retry-after S     add "Retry-After: S" to those failures;
  --tamper            append a space to every manifest body served (its digest changes);
  --corrupt-blobs     flip the first byte of every blob body served;
  --pad-manifests N   append N spaces to every manifest body (to exceed size limits);
  --cut-blobs N       for the first N blob GETs, send half the body and close the connection;
  --delay S           wait S seconds before answering a blob GET (to make pulls overlap);
  --redirect          answer manifest and blob requests with a 307 to the same proxy under
                      another host name (localhost instead of 127.0.0.1), as registries do
                      with CDNs; the redirected request must not carry Authorization.
  --rule KIND[=ARG]:N:REGEX
                      inject a fault into the first N requests (-1: all) whose path matches
                      REGEX (re.search), then pass them through.  KIND is one of
                        STATUS     answer with that status (500, 503, 429, ...); ARG, if
                                   given, is sent as Retry-After (seconds);
                        reset      read the request, then reset the connection (RST) before
                                   answering;
                        truncate   send the headers with the full Content-Length and ARG
                                   percent of the body (default 50), then close;
                        stall      send the headers and half the body, log "STALL PATH",
                                   then wait ARG seconds (default 60) before closing.
                      Status rules apply to GET and HEAD, the others to GET.  Rules are
                      tried in order; the first that matches and has faults left applies.
Every request is logged to --log as "METHOD PATH auth=yes|no STATUS" (with " fault=KIND"
when a rule applied) so tests can count requests and see which carried credentials.  Port 0 lets the kernel pick; the chosen port is
written to --port-file once listening.
"""
import argparse
import base64
import http.client
import http.server
import json
import re
import secrets
import socket
import struct
import sys
import threading
import time

ARGS = None
TOKENS = {}
LOCK = threading.Lock()
FAILS = {"left": 0}
CUTS = {"left": 0}
RULES = []  # dicts: kind, arg, left, regex


def parse_rule(text):
    kind, n, regex = text.split(":", 2)
    kind, _, arg = kind.partition("=")
    if not (kind.isdigit() or kind in ("reset", "truncate", "stall")):
        raise SystemExit("regproxy: unknown fault kind: %s" % kind)
    return {"kind": kind, "arg": arg, "left": int(n), "regex": re.compile(regex)}


def take_rule(method, path):
    """The first rule matching this request with faults left (its count is used up)."""
    with LOCK:
        for r in RULES:
            if r["left"] == 0 or not r["regex"].search(path):
                continue
            if method != "GET" and not (r["kind"].isdigit() and method == "HEAD"):
                continue
            if r["left"] > 0:
                r["left"] -= 1
            return r
    return None


def log(line):
    with LOCK, open(ARGS.log, "a") as f:
        f.write(line + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reset(self, path):
        """Abort the connection with an RST (SO_LINGER 0) without answering."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        auth = "yes" if self.headers.get("Authorization") else "no"
        log("%s %s auth=%s 0 fault=reset" % (self.command, path, auth))
        self.connection.close()

    def partial(self, rule, body, auth, status):
        """Send part of body under the full Content-Length, then close (truncate) or stall."""
        if rule["kind"] == "truncate":
            keep = len(body) * int(rule["arg"] or 50) // 100
        else:
            keep = len(body) // 2
        self.wfile.write(body[:keep])
        self.wfile.flush()
        self.close_connection = True
        if rule["kind"] == "stall":
            log("STALL %s" % self.path)
            end = time.time() + float(rule["arg"] or 60)
            while time.time() < end:
                time.sleep(0.1)
        log("%s %s auth=%s %d fault=%s" % (self.command, self.path, auth, status, rule["kind"]))

    def reply(self, status, body=b"", headers=(), fault=None):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        auth = "yes" if self.headers.get("Authorization") else "no"
        log("%s %s auth=%s %d%s" % (self.command, self.path, auth, status,
                                    " fault=" + fault if fault else ""))

    def repo_of(self, path):
        m = re.match(r"^/v2/(.+)/(manifests|blobs|tags)/", path)
        return m.group(1) if m else ""

    def token_ok(self, repo):
        h = self.headers.get("Authorization", "")
        if not h.startswith("Bearer "):
            return False
        return TOKENS.get(h[7:]) in (repo, "*")

    def challenge(self, repo):
        realm = "http://%s/token" % self.headers.get("Host")
        value = 'Bearer realm="%s",service="regproxy"' % realm
        if repo:
            value += ',scope="repository:%s:pull"' % repo
        body = b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
        self.reply(401, body, [("WWW-Authenticate", value), ("Content-Type", "application/json")])

    def issue_token(self):
        user, pw = ARGS.token.split(":", 1)
        h = self.headers.get("Authorization", "")
        ok = False
        if h.startswith("Basic "):
            try:
                ok = base64.b64decode(h[6:]).decode() == "%s:%s" % (user, pw)
            except Exception:
                ok = False
        elif ARGS.anonymous:
            ok = True
        if not ok:
            return self.reply(401, b'{"details":"incorrect username or password"}',
                              [("Content-Type", "application/json")])
        m = re.search(r"scope=repository(?:%3A|:)([^&]+?)(?:%3A|:)pull", self.path)
        repo = m.group(1).replace("%2F", "/") if m else "*"
        tok = secrets.token_hex(16)
        TOKENS[tok] = repo
        if ARGS.token_log:
            with LOCK, open(ARGS.token_log, "a") as f:
                f.write(tok + "\n")
        body = json.dumps({"token": tok, "expires_in": 300}).encode()
        self.reply(200, body, [("Content-Type", "application/json")])

    def forward(self, path):
        if ARGS.delay and "/blobs/" in path and self.command == "GET":
            time.sleep(ARGS.delay)
        conn = http.client.HTTPConnection(ARGS.backend_host, ARGS.backend_port, timeout=30)
        # Without --token the registry behind does its own auth (htpasswd): pass it on.
        drop = ("authorization", "host", "connection") if ARGS.token else ("host", "connection")
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in drop}
        conn.request(self.command, path, headers=hdrs)
        r = conn.getresponse()
        body = r.read()
        if ARGS.tamper and "/manifests/" in path and self.command == "GET":
            body += b" "
        if ARGS.pad_manifests and "/manifests/" in path and self.command == "GET":
            body += b" " * ARGS.pad_manifests
        rule = take_rule(self.command, path)
        if rule and rule["kind"].isdigit():
            hdrs = [("Retry-After", rule["arg"])] if rule["arg"] else []
            conn.close()
            return self.reply(int(rule["kind"]), b"injected fault\n", hdrs, fault=rule["kind"])
        if rule and rule["kind"] == "reset":
            conn.close()
            return self.reset(path)
        cut = False
        if "/blobs/" in path and self.command == "GET" and r.status == 200:
            with LOCK:
                cut = CUTS["left"] > 0
                CUTS["left"] -= 1 if cut else 0
        if ARGS.corrupt_blobs and "/blobs/" in path and self.command == "GET" and body:
            body = bytes([body[0] ^ 0xFF]) + body[1:]
        strip = ("content-length", "connection", "transfer-encoding")
        if ARGS.token:
            strip += ("www-authenticate",)
        keep = [(k, v) for k, v in r.getheaders() if k.lower() not in strip]
        if self.command == "HEAD":
            keep.append(("X-Backend-Length", r.getheader("Content-Length", "0")))
        self.send_response(r.status)
        for k, v in keep:
            self.send_header(k, v)
        length = r.getheader("Content-Length", "0") if self.command == "HEAD" else len(body)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        auth = "yes" if self.headers.get("Authorization") else "no"
        if rule and rule["kind"] in ("truncate", "stall") and self.command == "GET":
            conn.close()
            return self.partial(rule, body, auth, r.status)
        if cut:
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            log("%s %s auth=%s %d cut" % (self.command, self.path, auth, r.status))
            conn.close()
            return
        if self.command != "HEAD":
            self.wfile.write(body)
        log("%s %s auth=%s %d" % (self.command, self.path, auth, r.status))
        conn.close()

    def handle_any(self):
        path = self.path
        if path.startswith("/token"):
            return self.issue_token()
        if path.startswith("/_redirected/"):
            return self.forward(path[len("/_redirected"):])
        repo = self.repo_of(path)
        if ARGS.token and not self.token_ok(repo):
            return self.challenge(repo)
        if "/manifests/" in path:
            with LOCK:
                fail = FAILS["left"] > 0
                FAILS["left"] -= 1 if fail else 0
            if fail:
                hdrs = [("Retry-After", ARGS.retry_after)] if ARGS.retry_after else []
                return self.reply(ARGS.fail_status, b"try again later\n", hdrs)
        if ARGS.redirect and ("/manifests/" in path or "/blobs/" in path):
            port = self.server.server_address[1]
            loc = "http://%s:%d/_redirected%s" % (ARGS.redirect_host, port, path)
            return self.reply(307, b"", [("Location", loc)])
        self.forward(path)

    do_GET = handle_any
    do_HEAD = handle_any


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", required=True)
    p.add_argument("--backend", required=True, help="HOST:PORT of the registry")
    p.add_argument("--log", required=True)
    p.add_argument("--token")
    p.add_argument("--anonymous", action="store_true")
    p.add_argument("--token-log")
    p.add_argument("--fail", default="0:500")
    p.add_argument("--retry-after")
    p.add_argument("--redirect", action="store_true")
    p.add_argument("--redirect-host", default="localhost",
                   help="host name in redirects (127.0.0.1 keeps the origin)")
    p.add_argument("--tamper", action="store_true")
    p.add_argument("--corrupt-blobs", action="store_true")
    p.add_argument("--delay", type=float, default=0)
    p.add_argument("--pad-manifests", type=int, default=0)
    p.add_argument("--cut-blobs", type=int, default=0)
    p.add_argument("--rule", action="append", default=[])
    ARGS = p.parse_args()
    RULES.extend(parse_rule(r) for r in ARGS.rule)
    ARGS.backend_host, port = ARGS.backend.rsplit(":", 1)
    ARGS.backend_port = int(port)
    n, status = ARGS.fail.split(":")
    FAILS["left"] = int(n)
    CUTS["left"] = ARGS.cut_blobs
    ARGS.fail_status = int(status)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    with open(ARGS.port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    import os
    os.rename(ARGS.port_file + ".tmp", ARGS.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
