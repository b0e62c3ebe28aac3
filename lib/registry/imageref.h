/* imageref: docker:// image references (spec §4.1), the default output name (§4.8), the
 * provenance string (§4.6) and the architecture mapping (§4.1, PITFALLS §3.3). */
#ifndef IMAGEREF_H
#define IMAGEREF_H

#define IMAGEREF_DOCKER_HUB "registry-1.docker.io"

struct imageref {
	char *user;	/* USER@, or NULL */
	char *registry; /* canonical registry host[:port] */
	char *image;	/* repository, e.g. "library/ubuntu" */
	char *tag;	/* tag; "latest" when the URI had none */
	char *digest;	/* "sha256:<hex>", or NULL; when set, the tag is ignored */
	int tag_given;	/* 1 when the URI named a tag */
};

/* Parse a docker:// URI with the nine patterns of §4.1 (full-string match, in order) and
 * canonicalise Docker Hub.  -1 with errno EINVAL when no pattern matches (the caller prints
 * "Invalid image reference: URI"), ENOMEM on allocation failure. */
int imageref_parse(const char *uri, struct imageref *ref);
void imageref_free(struct imageref *ref);

/* What to ask the registry for: the digest when there is one, else the tag. */
const char *imageref_reference(const struct imageref *ref);

/* The .credentials rule of §4.1: with no USER, take the login of the first
 * "machine <registry-without-port> login <X>" line of the netrc file at path.  0 (user
 * possibly still NULL), -1 with errno on a read error other than ENOENT. */
int imageref_default_user(struct imageref *ref, const char *path);

/* The default import output name, "ubuntu+24.04.sqsh" (§4.8).  Malloc'ed; NULL on ENOMEM. */
char *imageref_output_name(const struct imageref *ref);
/* "docker://<registry>#<image>:<tag or digest>".  Malloc'ed; NULL on ENOMEM. */
char *imageref_provenance(const struct imageref *ref);

/* An OCI platform to match in an image index. */
struct imageref_platform {
	const char *os;		  /* "linux" */
	const char *architecture; /* "amd64", "arm64", "ppc64le" */
	const char *variant;	  /* preferred variant ("v8" for arm64), or NULL */
};

/* Map a uname -m name (x86_64, aarch64, ppc64le) to the OCI platform; -1 with EINVAL for any
 * other ("Unsupported architecture").  NULL machine means this host's uname -m. */
int imageref_platform(const char *machine, struct imageref_platform *p);

#endif
