#!/usr/bin/env python3
"""tests/hostile.py: hostile images for tests/hostile.test, pushed straight to a registry.

  hostile.py push REGISTRY HOST WORK   build every case of CASES and push it to
                                       http://REGISTRY as hostile:CASE (blobs by monolithic
                                       upload, the manifest by PUT, so descriptors may lie);
                                       HOST is the absolute host directory the layers aim at
                                       (the test's sentinel tree).  For each case, WORK gets
                                       CASE.N (the raw blob of layer N, for layer-unpack) and
                                       CASE.digests (the digests of its blobs, config first)
  hostile.py serve PORTFILE            a lying registry on 127.0.0.1 (port written to
                                       PORTFILE): every manifest it serves is one index whose
                                       only entry is the index itself (by a digest that it
                                       answers with the same body), for "an index pointing to
                                       itself", which a real registry cannot hold

Layers are written with tarfile into memory, or by hand where size matters: the 10 GiB file
is a PAX 1.0 sparse entry (a one-block map), the gzip bomb is one small gzip member of zeros
repeated (gzip readers concatenate members), so nothing big is ever made on disk.
"""
import gzip
import hashlib
import http.server
import io
import json
import os
import sys
import tarfile
import urllib.request
import zlib

REG = None
GiB = 1 << 30


def entry(t, kind, name, arg="", mode=None, data=None):
    """Add one entry: f(ile) d(ir) l(symlink) h(ardlink) c b p (devices, fifo), s (a socket as
    star writes one; tar has no type for it, libarchive reads an empty file)."""
    i = tarfile.TarInfo(name)
    if kind == "s":
        i.pax_headers, kind = {"SCHILY.filetype": "socket"}, "f"
    i.mtime, i.uid, i.gid = 1700000000, 0, 0
    i.type = {"f": tarfile.REGTYPE, "d": tarfile.DIRTYPE, "l": tarfile.SYMTYPE,
              "h": tarfile.LNKTYPE, "c": tarfile.CHRTYPE, "b": tarfile.BLKTYPE,
              "p": tarfile.FIFOTYPE}[kind]
    i.mode = mode if mode is not None else (0o755 if kind == "d" else 0o644)
    if kind in "lh":
        i.linkname = arg
    elif kind in "cb":
        i.devmajor, i.devminor = 1, 3
    elif kind == "f":
        data = arg.encode() if data is None else data
        i.size = len(data)
    t.addfile(i, io.BytesIO(data) if kind == "f" else None)


def tar(entries, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for e in entries:
            entry(t, *e)
    return buf.getvalue()


def gz(raw):
    return gzip.compress(raw, compresslevel=1, mtime=0)


def sparse_layer(name, size):
    """A PAX 1.0 sparse file of SIZE apparent bytes holding one 'x' at its end."""
    mapblock = b"1\n%d\n1\n" % (size - 1)
    mapblock += bytes(512 - len(mapblock))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        i = tarfile.TarInfo("GNUSparseFile.0/" + name)
        i.mtime, i.mode, i.size = 1700000000, 0o644, 513
        i.pax_headers = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0",
                         "GNU.sparse.name": name, "GNU.sparse.realsize": str(size)}
        t.addfile(i, io.BytesIO(mapblock + b"x"))
        entry(t, "f", "after-sparse", "ok")
    return gz(buf.getvalue())


def bomb_layer(size):
    """A gzip bomb: a tar of one SIZE-byte file of zeros, as repeated gzip members."""
    head = tarfile.TarInfo("bomb")
    head.size, head.mtime, head.mode = size, 1700000000, 0o644
    chunk = 64 << 20
    zeros = gzip.compress(bytes(chunk), compresslevel=9, mtime=0)
    assert size % chunk == 0
    return (gz(head.tobuf(format=tarfile.GNU_FORMAT)) + zeros * (size // chunk) +
            gz(bytes(1024)))


def ustar(name, kind, size, mode):
    """A ustar header, made by hand: tarfile takes 60 us per header, too slow for 100 000."""
    h = bytearray(512)
    h[0:len(name)] = name.encode()
    h[100:108] = b"%07o\0" % mode
    h[108:124] = b"0000000\0" * 2
    h[124:136] = b"%011o\0" % size
    h[136:148] = b"%011o\0" % 1700000000
    h[148:156] = b" " * 8
    h[156:157] = kind
    h[257:265] = b"ustar\x0000"
    h[148:155] = b"%06o\0" % sum(h)
    return bytes(h)


def many_layer(n):
    """N small files in N/100 directories, streamed into one gzip member."""
    out = io.BytesIO()
    z = zlib.compressobj(1, zlib.DEFLATED, 31)
    for d in range(n // 100):
        block = [ustar("many/%03d" % d, b"5", 0, 0o755)]
        for f in range(100):
            block.append(ustar("many/%03d/%02d" % (d, f), b"0", 2, 0o644))
            block.append(b"%02d" % f + bytes(510))
        out.write(z.compress(b"".join(block)))
    out.write(z.compress(bytes(1024)) + z.flush())
    return out.getvalue()


C255 = "c" * 255


def long_path_layer():
    """A 4096-byte path and a 256-byte name (both skipped), a 2817-byte path (kept)."""
    over = "/".join([C255] * 15) + "/" + "d" * 200 + "/" + "g" * 55
    assert len(over) == 4096
    mid = "/".join([C255] * 11) + "/m"
    return gz(tar([("f", over, "over"), ("f", "n/" + "n" * 256, "name"), ("f", mid, "mid"),
                   ("f", "short", "ok")]))


def longest_path_layer():
    """The longest path Linux can name: 4095 bytes (mksquashfs cannot: its own prefix)."""
    fits = "/".join([C255] * 15) + "/" + "f" * 255
    assert len(fits) == 4095
    return gz(tar([("f", fits, "fits")]))


def cases(host):
    """CASE -> (layers, config overrides).  HOST is the sentinel directory on the host."""
    up = "../" * 12
    return {
        "dotdot": [[("f", "ok", "ok"), ("f", "../x", "x"), ("f", "a/../../y", "y"),
                    ("f", up + host[1:] + "/dotdot", "pwned"), ("d", "../d")]],
        "absolute": [[("f", "/abs", "abs"), ("f", host + "/absolute", "pwned"),
                      ("l", "/lnk", host), ("h", "/hl", "/abs")]],
        "symlink-same": [[("l", "esc", "/"), ("f", "esc" + host + "/same", "pwned"),
                          ("l", "up", ".."), ("f", "up/up1", "u"),
                          ("l", "hostdir", host), ("f", "hostdir/through", "pwned"),
                          ("d", "hostdir/sub"), ("f", "hostdir/sub/deep", "pwned")]],
        "symlink-later": [[("l", "esc", "/"), ("l", "up", "../../.."), ("l", "hostdir", host),
                           ("l", "rel", up + host[1:])],
                          [("f", "esc" + host + "/later", "pwned"), ("f", "up/up2", "u"),
                           ("f", "hostdir/later", "pwned"), ("f", "rel/later", "pwned"),
                           ("l", "hostdir/lnk", "/"), ("h", "hostdir/hl", "esc/etc/passwd")]],
        "hardlink-host": [[("f", "inside", "in"),
                           ("h", "abs", host + "/secret"), ("h", "rel", up + host[1:] + "/secret"),
                           ("l", "s", host), ("h", "via-symlink", "s/secret"),
                           ("h", "dotdot", "../secret"), ("h", "ok", "inside")]],
        "hardlink-replaced": [[("f", "f", "one"), ("h", "h", "f"), ("f", "f", "two"),
                               ("f", "g", "three"), ("h", "k", "g")],
                              [("f", "g", "four"), ("h", "m", "k")]],
        "whiteout-climb": [[("f", "keep", "k"), ("d", "a"), ("f", "a/keep", "k")],
                           [("f", "a/../../.wh.keep", ""), ("f", "../.wh.sentinel", ""),
                            ("f", up + host[1:] + "/.wh.secret", ""),
                            ("f", "a/../../a/.wh.keep", ""), ("f", "../.wh..wh..opq", "")]],
        "whiteout-symlink": [[("l", "link", host), ("l", "link2", "../../.."), ("f", "keep", "k"),
                              ("l", "esc", "/")],
                             [("f", "link/.wh.secret", ""), ("f", "link2/.wh.keep", ""),
                              ("f", "link/.wh..wh..opq", ""),
                              ("f", "esc" + host + "/.wh.secret", "")]],
        "bare-wh": [[("d", "d"), ("f", "d/file", "f"), ("f", "top", "t")],
                    [("f", ".wh.", ""), ("f", "d/.wh.", ""), ("f", "d/.wh..wh..plnk", ""),
                     ("f", ".wh..", ""), ("f", ".wh...", "")]],
        "devices": [[("c", "dev/null"), ("b", "dev/sda"), ("p", "fifo"),
                     ("c", "hostdev", "", 0o666), ("s", "sock"), ("f", "ok", "ok")]],
        "symlink-loop": [[("l", "a", "a"), ("l", "b", "c"), ("l", "c", "b"), ("f", "a/x", "x"),
                          ("f", "b/y", "y"), ("h", "h", "h"), ("f", "ok", "ok")]],
        "root-replace": [[("l", "./", host), ("l", "/", "/"), ("f", ".", "not a dir"),
                          ("f", "x", "x")],
                         [("f", "y", "y")]],
        "mode0000": [[("d", "locked", "", 0), ("f", "locked/f", "f"), ("d", "locked/sub", "", 0),
                      ("f", "locked/sub/g", "g")],
                     [("f", "locked/h", "h"), ("f", "locked/.wh.f", "")]],
    }


class Pusher:
    def __init__(self, registry, repo):
        self.base = "http://%s/v2/%s" % (registry, repo)
        self.pushed = set()

    def blob(self, data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if digest in self.pushed:
            return digest, len(data)
        self.pushed.add(digest)
        req = urllib.request.Request(self.base + "/blobs/uploads/", method="POST", data=b"")
        loc = urllib.request.urlopen(req).headers["Location"]
        if loc.startswith("/"):
            loc = self.base.split("/v2/")[0] + loc
        sep = "&" if "?" in loc else "?"
        req = urllib.request.Request(loc + sep + "digest=" + digest, method="PUT", data=data,
                                     headers={"Content-Type": "application/octet-stream"})
        urllib.request.urlopen(req).read()
        return digest, len(data)

    def manifest(self, tag, body, mt):
        req = urllib.request.Request(self.base + "/manifests/" + tag, method="PUT", data=body,
                                     headers={"Content-Type": mt})
        urllib.request.urlopen(req).read()
        return "sha256:" + hashlib.sha256(body).hexdigest(), len(body)


MT_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_INDEX = "application/vnd.oci.image.index.v1+json"


def push_image(p, work, name, blobs, config=None, lie=None):
    """Push layers BLOBS (raw bytes) and a config; LIE maps 'layer'/'config' to a size to
    claim instead of the real one.  Writes WORK/NAME.N and WORK/NAME.digests."""
    lie = lie or {}
    if config is None:
        config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                             "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    cd, cs = p.blob(config)
    layers, digests = [], [cd]
    for n, b in enumerate(blobs):
        d, s = p.blob(b)
        with open(os.path.join(work, "%s.%d" % (name, n)), "wb") as f:
            f.write(b)
        layers.append({"mediaType": MT_LAYER, "digest": d, "size": lie.get("layer", s)})
        digests.append(d)
    m = {"schemaVersion": 2, "mediaType": MT_MANIFEST,
         "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd,
                    "size": lie.get("config", cs)},
         "layers": layers}
    with open(os.path.join(work, name + ".digests"), "w") as f:
        f.write("\n".join(digests) + "\n")
    return p.manifest(name, json.dumps(m).encode(), MT_MANIFEST)


def push_all(registry, host, work):
    p = Pusher(registry, "hostile")
    for name, layers in cases(host).items():
        push_image(p, work, name, [gz(tar(l)) for l in layers])
    push_image(p, work, "sparse-10g", [sparse_layer("big", 10 * GiB)])
    push_image(p, work, "sparse-256m", [sparse_layer("big", 256 << 20)])
    push_image(p, work, "gzip-bomb", [bomb_layer(1 * GiB)])
    even = gz(tar([("f", "f", "even"), ("d", "d"), ("f", "d/e", "e")]))
    odd = gz(tar([("f", "f", "odd"), ("f", ".wh.d", "")]))
    push_image(p, work, "many-layers", [even, odd] * 100)
    push_image(p, work, "many-files", [many_layer(100000)])
    push_image(p, work, "long-path", [long_path_layer()])
    push_image(p, work, "long-4095", [longest_path_layer()])
    small = gz(tar([("f", "f", "x" * 3000)]))
    push_image(p, work, "size-short", [small], lie={"layer": len(small) - 100})
    push_image(p, work, "size-long", [small], lie={"layer": len(small) + 100})
    push_image(p, work, "not-a-tar", [gz(b"this is not a tar archive\n" * 40)])
    push_image(p, work, "truncated", [gz(tar([("f", "f", "x" * 5000)])[:1536])])
    big = (b'{"architecture": "amd64", "os": "linux", "config": {"Env": ["A=' +
           b"a" * (100 << 20) + b'"]}}')
    push_image(p, work, "config-100m", [small], config=big)
    push_image(p, work, "config-100m-lie", [small], config=big, lie={"config": 2000})
    # Indexes nested deeper than any client should follow.
    d, s = push_image(p, work, "nest0", [small])
    for k in range(1, 7):
        idx = {"schemaVersion": 2, "mediaType": MT_INDEX,
               "manifests": [{"mediaType": MT_MANIFEST if k == 1 else MT_INDEX, "digest": d,
                              "size": s,
                              "platform": {"os": "linux", "architecture": "amd64"}}]}
        d, s = p.manifest("nest%d" % k, json.dumps(idx).encode(), MT_INDEX)
        with open(os.path.join(work, "nest0.digests")) as f, \
                open(os.path.join(work, "nest%d.digests" % k), "w") as g:
            g.write(f.read())


class Liar(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    BODY = json.dumps({"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": [
        {"mediaType": MT_INDEX, "digest": "sha256:" + "5" * 64, "size": 300,
         "platform": {"os": "linux", "architecture": "amd64"}}]}).encode()

    def log_message(self, *a):
        pass

    def do_GET(self):
        body, mt = b"{}", "application/json"
        if "/manifests/" in self.path:
            body, mt = self.BODY, MT_INDEX
        self.send_response(200)
        self.send_header("Content-Type", mt)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET


def serve(portfile):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Liar)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(portfile + ".tmp", portfile)
    srv.serve_forever()


def main():
    if sys.argv[1] == "push":
        push_all(*sys.argv[2:5])
    elif sys.argv[1] == "serve":
        serve(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
