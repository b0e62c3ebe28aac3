#!/usr/bin/env python3
"""tests/oci.py: hand-made OCI images and tree listings for the import tests.

  oci.py build LAYOUT TAG SPEC.json   write an OCI image layout (blobs named by sha256,
                                      index.json, manifest, config) from SPEC, one layer per
                                      SPEC["layers"] entry, each "gzip", "zstd" or "tar"
  oci.py list DIR [SKIP...]           print one line per entry of the tree DIR: path, type,
                                      mode, size (files), link target (symlinks) and hardlink
                                      group (the first path with the same inode), sorted;
                                      SKIP paths (relative) are left out

umoci cannot write zstd layers, opaque markers on demand, FIFOs or chosen hardlinks, so the
layers are written here with tarfile; skopeo pushes the layout (oci:LAYOUT:TAG) as it is.

A layer entry: {"path": P, "type": "file"|"dir"|"symlink"|"hardlink"|"fifo"|"chardev", "mode": M,
"xattrs": {NAME: VALUE} (pax SCHILY.xattr headers), "data": TEXT, "src": HOST-FILE (its content), "size": N (a file of N zero bytes), "target": T}.  Whiteouts are plain files
named .wh.NAME or .wh..wh..opq.
"""
import gzip
import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import tarfile

MT = {
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
    "tar": "application/vnd.oci.image.layer.v1.tar",
}


def put_blob(layout, data):
    digest = hashlib.sha256(data).hexdigest()
    d = os.path.join(layout, "blobs", "sha256")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, digest), "wb") as f:
        f.write(data)
    return "sha256:" + digest, len(data)


class Zeros(io.RawIOBase):
    def __init__(self, n):
        self.n = n

    def readinto(self, b):
        k = min(len(b), self.n)
        b[:k] = bytes(k)
        self.n -= k
        return k


def tar_layer(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for e in entries:
            ti = tarfile.TarInfo(e["path"])
            ti.mode = e.get("mode", 0o755 if e["type"] == "dir" else 0o644)
            ti.mtime = 1700000000
            kind = e["type"]
            src = None
            if kind == "file":
                data = e.get("data", "").encode()
                if "src" in e:
                    with open(e["src"], "rb") as f:
                        data = f.read()
                ti.size = e.get("size", len(data))
                src = Zeros(ti.size) if "size" in e else io.BytesIO(data)
            elif kind == "dir":
                ti.type = tarfile.DIRTYPE
            elif kind == "symlink":
                ti.type, ti.linkname = tarfile.SYMTYPE, e["target"]
            elif kind == "hardlink":
                ti.type, ti.linkname = tarfile.LNKTYPE, e["target"]
            elif kind == "fifo":
                ti.type = tarfile.FIFOTYPE
            elif kind == "chardev":
                ti.type, ti.devmajor, ti.devminor = tarfile.CHRTYPE, 1, 3
            if "xattrs" in e:
                ti.pax_headers = {"SCHILY.xattr." + k: v for k, v in e["xattrs"].items()}
            t.addfile(ti, src)
    return buf.getvalue()


def compress(raw, how):
    if how == "gzip":
        return gzip.compress(raw, compresslevel=1, mtime=0)
    if how == "zstd":
        return subprocess.run(["zstd", "-q", "-1", "-c"], input=raw, check=True,
                              stdout=subprocess.PIPE).stdout
    return raw


def build(layout, tag, spec):
    os.makedirs(layout, exist_ok=True)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    layers, diffs = [], []
    for l in spec["layers"]:
        raw = tar_layer(l["entries"])
        how = l.get("compression", "gzip")
        digest, size = put_blob(layout, compress(raw, how))
        layers.append({"mediaType": MT[how], "digest": digest, "size": size})
        diffs.append("sha256:" + hashlib.sha256(raw).hexdigest())
    config = {"architecture": spec.get("arch", "amd64"), "os": "linux",
              "config": spec.get("config", {}),
              "rootfs": {"type": "layers", "diff_ids": diffs}}
    cdigest, csize = put_blob(layout, json.dumps(config).encode())
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": cdigest, "size": csize},
                "layers": layers}
    mdigest, msize = put_blob(layout, json.dumps(manifest).encode())
    index_path = os.path.join(layout, "index.json")
    index = {"schemaVersion": 2, "manifests": []}
    if os.path.exists(index_path):
        with open(index_path) as f:
            index = json.load(f)
    index["manifests"] = [m for m in index["manifests"]
                          if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != tag]
    index["manifests"].append({"mediaType": "application/vnd.oci.image.manifest.v1+json",
                               "digest": mdigest, "size": msize,
                               "annotations": {"org.opencontainers.image.ref.name": tag}})
    with open(index_path, "w") as f:
        json.dump(index, f)


def listing(root, skip):
    first = {}
    out = []
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for n in sorted(dirs + files):
            p = os.path.join(d, n)
            rel = os.path.relpath(p, root)
            if rel in skip:
                continue
            st = os.lstat(p)
            m = st.st_mode
            line = "%s %s %04o" % (rel, "dlpf?"[[stat.S_ISDIR(m), stat.S_ISLNK(m),
                                                 stat.S_ISFIFO(m), stat.S_ISREG(m), True].index(True)],
                                   stat.S_IMODE(m))
            if stat.S_ISREG(m):
                line += " size=%d" % st.st_size
                if st.st_nlink > 1:
                    key = (st.st_dev, st.st_ino)
                    first.setdefault(key, rel)
                    line += " link=" + first[key]
            if stat.S_ISLNK(m):
                line += " -> " + os.readlink(p)
            out.append(line)
    # Hardlink groups are named by their first path in walk order: sort after naming.
    return sorted(out)


def main():
    if sys.argv[1] == "build":
        with open(sys.argv[4]) as f:
            build(sys.argv[2], sys.argv[3], json.load(f))
    elif sys.argv[1] == "list":
        print("\n".join(listing(sys.argv[2], set(sys.argv[3:]))))
    else:
        sys.exit("usage: oci.py build LAYOUT TAG SPEC | list DIR [SKIP...]")


if __name__ == "__main__":
    main()
