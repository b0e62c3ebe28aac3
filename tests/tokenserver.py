#!/usr/bin/env python3
"""A registry token service for tests/netrc-auth.test, on 127.0.0.1 with a kernel-picked port.

Prints the port on stdout, then serves until killed.  The expected Basic credentials come from
the environment (TOKENSERVER_CREDS=user:password), never from argv, so a scan of
/proc/*/cmdline for the password stays meaningful.  Each request is logged to the file named
by TOKENSERVER_LOG as "PATH?QUERY auth=yes|no" (credentials are never logged).

  /token     needs the Basic credentials (401 otherwise); {"token": "tok-123"}
  /anon      no credentials needed; {"token": "anon-tok"}
  /access    {"access_token": "acc-tok"} only
  /401 /500  that status
  /badjson   200 with a body that is not JSON
  /notoken   200 with JSON but no token field
  /badtoken  200 with a token holding CR LF
"""
import base64
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CREDS = os.environ.get("TOKENSERVER_CREDS", "")
LOG = os.environ.get("TOKENSERVER_LOG")


class Handler(BaseHTTPRequestHandler):
    def reply(self, status, body, ctype="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def authorized(self):
        h = self.headers.get("Authorization", "")
        if not h.startswith("Basic "):
            return False
        try:
            return base64.b64decode(h[6:]).decode() == CREDS
        except Exception:
            return False

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if LOG:
            with open(LOG, "a") as f:
                sent = "yes" if "Authorization" in self.headers else "no"
                f.write("%s auth=%s\n" % (self.path, sent))
        if path == "/token":
            if not self.authorized():
                return self.reply(401, '{"errors":[{"code":"UNAUTHORIZED"}]}')
            return self.reply(200, json.dumps({"token": "tok-123", "expires_in": 300}))
        if path == "/anon":
            return self.reply(200, json.dumps({"token": "anon-tok"}))
        if path == "/access":
            return self.reply(200, json.dumps({"access_token": "acc-tok"}))
        if path == "/401":
            return self.reply(401, "{}")
        if path == "/500":
            return self.reply(500, "{}")
        if path == "/badjson":
            return self.reply(200, "{not json")
        if path == "/notoken":
            return self.reply(200, json.dumps({"expires_in": 300}))
        if path == "/badtoken":
            return self.reply(200, json.dumps({"token": "a\r\nX-Injected: y"}))
        return self.reply(404, "{}")

    def log_message(self, fmt, *args):
        pass


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(srv.server_address[1], flush=True)
    sys.stdout.close()
    srv.serve_forever()


if __name__ == "__main__":
    main()
