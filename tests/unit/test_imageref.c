/* test_imageref: every pattern of spec §4.1, pyxis's spellings (§13), names and provenance. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "registry/imageref.h"
#include "unit.h"

#define HEX "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* Parse uri and compare "user|registry|image|reference" (user "-" when absent). */
static const char *parse(const char *uri)
{
	static char out[1024];
	struct imageref r;

	if (imageref_parse(uri, &r) < 0)
		return errno == EINVAL ? "invalid" : "error";
	snprintf(out, sizeof(out), "%s|%s|%s|%s", r.user ? r.user : "-", r.registry, r.image,
		 imageref_reference(&r));
	imageref_free(&r);
	return out;
}

static const char *outname(const char *uri)
{
	static char out[1024];
	struct imageref r;
	char *s;

	if (imageref_parse(uri, &r) < 0)
		return "invalid";
	s = imageref_output_name(&r);
	snprintf(out, sizeof(out), "%s", s);
	free(s);
	imageref_free(&r);
	return out;
}

static const char *provenance(const char *uri)
{
	static char out[1024];
	struct imageref r;
	char *s;

	if (imageref_parse(uri, &r) < 0)
		return "invalid";
	s = imageref_provenance(&r);
	snprintf(out, sizeof(out), "%s", s);
	free(s);
	imageref_free(&r);
	return out;
}

static void test_patterns(void)
{
	/* 1-3: HOST/IMAGE; a HOST with '.' or ':' is the registry. */
	CHECK_STR(parse("docker://u@nvcr.io/nvidia/x:1@sha256:" HEX),
		  "u|nvcr.io|nvidia/x|sha256:" HEX);
	CHECK_STR(parse("docker://nvcr.io/nvidia/x@sha256:" HEX), "-|nvcr.io|nvidia/x|sha256:" HEX);
	CHECK_STR(parse("docker://nvcr.io/nvidia/x:1.0"), "-|nvcr.io|nvidia/x|1.0");
	CHECK_STR(parse("docker://localhost:5000/img"), "-|localhost:5000|img|latest");
	CHECK_STR(parse("docker://nvidia/cuda:12.9.1-devel-ubuntu24.04"),
		  "-|registry-1.docker.io|nvidia/cuda|12.9.1-devel-ubuntu24.04");
	CHECK_STR(parse("docker://localhost/foo"), "-|registry-1.docker.io|localhost/foo|latest");
	/* 4-6: NAME is a Docker Hub library image. */
	CHECK_STR(parse("docker://ubuntu:24.04@sha256:" HEX),
		  "-|registry-1.docker.io|library/ubuntu|sha256:" HEX);
	CHECK_STR(parse("docker://ubuntu@sha256:" HEX),
		  "-|registry-1.docker.io|library/ubuntu|sha256:" HEX);
	CHECK_STR(parse("docker://ubuntu"), "-|registry-1.docker.io|library/ubuntu|latest");
	CHECK_STR(parse("docker://me@ubuntu:24.04"),
		  "me|registry-1.docker.io|library/ubuntu|24.04");
	/* 7-9: REGISTRY#IMAGE, verbatim registry. */
	CHECK_STR(parse("docker://u@nvcr.io#nvidia/x:tag@sha256:" HEX),
		  "u|nvcr.io|nvidia/x|sha256:" HEX);
	CHECK_STR(parse("docker://nvcr.io#nvidia/x@sha256:" HEX), "-|nvcr.io|nvidia/x|sha256:" HEX);
	CHECK_STR(parse("docker://nvcr.io#nvidia/pytorch:25.06-py3"),
		  "-|nvcr.io|nvidia/pytorch|25.06-py3");
	CHECK_STR(parse("docker://localhost:5000#img"), "-|localhost:5000|img|latest");
	CHECK_STR(parse("docker://$oauthtoken@nvcr.io#nvidia/x"),
		  "$oauthtoken|nvcr.io|nvidia/x|latest");
}

static void test_pyxis(void)
{
	CHECK_STR(parse("docker://nvcr.io#nvidia/x:tag"), "-|nvcr.io|nvidia/x|tag");
	CHECK_STR(parse("docker://ubuntu:24.04"), "-|registry-1.docker.io|library/ubuntu|24.04");
	CHECK_STR(parse("docker://docker.io/ubuntu:24.04"),
		  "-|registry-1.docker.io|library/ubuntu|24.04");
	CHECK_STR(parse("docker://docker.io#ubuntu"),
		  "-|registry-1.docker.io|library/ubuntu|latest");
	CHECK_STR(parse("docker://docker.io/ubuntu"),
		  "-|registry-1.docker.io|library/ubuntu|latest");
	CHECK_STR(parse("docker://index.docker.io#library/debian:12"),
		  "-|registry-1.docker.io|library/debian|12");
	CHECK_STR(parse("docker://registry-1.docker.io/nvidia/cuda"),
		  "-|registry-1.docker.io|nvidia/cuda|latest");
	CHECK_STR(parse("docker://localhost:5000#img"), "-|localhost:5000|img|latest");
	CHECK_STR(parse("docker://nvcr.io#nvidia/x:tag@sha256:" HEX),
		  "-|nvcr.io|nvidia/x|sha256:" HEX);
	CHECK_STR(parse("docker://ubuntu:24.04@sha256:" HEX),
		  "-|registry-1.docker.io|library/ubuntu|sha256:" HEX);
}

static void test_invalid(void)
{
	CHECK_STR(parse("ubuntu"), "invalid");
	CHECK_STR(parse("docker://"), "invalid");
	CHECK_STR(parse("dockerd://ubuntu"), "invalid");
	CHECK_STR(parse("docker://nvcr.io#Nvidia/x"), "invalid");
	CHECK_STR(parse("docker://nvcr.io#nvidia/x:bad tag"), "invalid");
	CHECK_STR(parse("docker://nvcr.io#nvidia/x@sha1:abc"), "invalid");
	CHECK_STR(parse("docker://ubuntu:"), "invalid");
	CHECK_STR(parse("docker://a#b#c"), "invalid");
	CHECK_STR(parse("docker://nvcr.io/nvidia/x:1 "), "invalid");
	CHECK_STR(parse("docker://ubuntu\n"), "invalid");
}

static void test_names(void)
{
	CHECK_STR(outname("docker://ubuntu:24.04"), "ubuntu+24.04.sqsh");
	CHECK_STR(outname("docker://nvidia/cuda:12.9.1-devel-ubuntu24.04"),
		  "nvidia+cuda+12.9.1-devel-ubuntu24.04.sqsh");
	CHECK_STR(outname("docker://ubuntu@sha256:" HEX), "ubuntu+sha256:" HEX ".sqsh");
	CHECK_STR(outname("docker://ubuntu"), "ubuntu.sqsh");
	CHECK_STR(outname("docker://nvcr.io#nvidia/pytorch:25.06-py3"),
		  "nvidia+pytorch+25.06-py3.sqsh");
	CHECK_STR(outname("docker://localhost:5000#library/x:1"), "library+x+1.sqsh");
	CHECK_STR(provenance("docker://ubuntu:24.04"),
		  "docker://registry-1.docker.io#library/ubuntu:24.04");
	CHECK_STR(provenance("docker://ubuntu"),
		  "docker://registry-1.docker.io#library/ubuntu:latest");
	CHECK_STR(provenance("docker://nvcr.io#nvidia/x:1@sha256:" HEX),
		  "docker://nvcr.io#nvidia/x:sha256:" HEX);
}

static void test_platform(void)
{
	struct imageref_platform p;

	CHECK(imageref_platform("x86_64", &p) == 0 && !strcmp(p.architecture, "amd64") &&
	      !strcmp(p.os, "linux") && !p.variant);
	CHECK(imageref_platform("aarch64", &p) == 0 && !strcmp(p.architecture, "arm64") &&
	      !strcmp(p.variant, "v8"));
	CHECK(imageref_platform("ppc64le", &p) == 0 && !strcmp(p.architecture, "ppc64le"));
	CHECK(imageref_platform("armv7l", &p) < 0 && errno == EINVAL);
	CHECK(imageref_platform("amd64", &p) < 0);
	CHECK(imageref_platform(NULL, &p) == 0 || errno == EINVAL);
}

static void test_credentials(void)
{
	char path[] = "/tmp/test_imageref.XXXXXX";
	int fd = mkstemp(path);
	struct imageref r;
	static const char creds[] = "machine auth.example.com login other password x\n"
				    "  machine nvcr.io login $oauthtoken password $(echo secret)\n"
				    "machine nvcr.io login second password y\n";

	CHECK(fd >= 0 && write(fd, creds, sizeof(creds) - 1) == (ssize_t)sizeof(creds) - 1);
	close(fd);
	CHECK(imageref_parse("docker://nvcr.io#nvidia/x", &r) == 0);
	CHECK(imageref_default_user(&r, path) == 0);
	CHECK_STR(r.user, "$oauthtoken");
	imageref_free(&r);
	CHECK(imageref_parse("docker://nvcr.io:443#nvidia/x", &r) == 0);
	CHECK(imageref_default_user(&r, path) == 0);
	CHECK_STR(r.user, "$oauthtoken");
	imageref_free(&r);
	CHECK(imageref_parse("docker://me@nvcr.io#nvidia/x", &r) == 0);
	CHECK(imageref_default_user(&r, path) == 0);
	CHECK_STR(r.user, "me");
	imageref_free(&r);
	CHECK(imageref_parse("docker://ubuntu", &r) == 0);
	CHECK(imageref_default_user(&r, path) == 0 && r.user == NULL);
	CHECK(imageref_default_user(&r, "/nonexistent/.credentials") == 0 && r.user == NULL);
	imageref_free(&r);
	unlink(path);
}

int main(void)
{
	test_patterns();
	test_pyxis();
	test_invalid();
	test_names();
	test_platform();
	test_credentials();
	return unit_done();
}
