/* test_fstab: lexing, escapes, shorthand completion and options of the enroot fstab dialect
 * (spec §7.1-§7.3). */
#include <errno.h>
#include <stdlib.h>
#include <sys/mount.h>

#include "runtime/fstab.h"
#include "unit.h"

static struct fstab_entry e;
static struct fstab_opts o;

static int parse(const char *line)
{
	return fstab_parse_line(line, strlen(line), &e);
}

/* Parse and complete a line; the fields as "SRC|DST|TYPE|OPTS" or "invalid". */
static const char *complete(const char *line)
{
	static char out[FSTAB_LINE_MAX * 2];

	if (parse(line) != 1 || fstab_complete(&e) < 0)
		return "invalid";
	snprintf(out, sizeof(out), "%s|%s|%s|%s", e.source, e.target, e.type, e.options);
	return out;
}

static void test_lexing(void)
{
	CHECK(parse("") == 0);
	CHECK(parse("   \t ") == 0);
	CHECK(parse("# comment") == 0);
	CHECK(parse("  \t# indented comment") == 0);
	CHECK(parse("/a /b none bind 0 0") == 1);
	CHECK_STR(e.source, "/a");
	CHECK_STR(e.target, "/b");
	CHECK_STR(e.type, "none");
	CHECK_STR(e.options, "bind");
	CHECK(e.freq == 0 && e.pass == 0);
	CHECK(parse("/a\t/b  none\tbind") == 1 && !strcmp(e.options, "bind"));
	CHECK(parse("/a") == 1 && !strcmp(e.target, "") && !strcmp(e.type, "") && e.pass == 0);
	CHECK(parse("a b c d 0 -1") == 1 && e.pass == -1);
	CHECK(parse("a b c d 2") == 1 && e.freq == 2 && e.pass == 2);
	CHECK(parse("a b c d -1 0") == 1 && e.pass == -1);
	CHECK(parse("a b c d 3 1") == 1 && e.pass == 1);
	CHECK(parse("a b c d 0 0 extra fields") == 1 && e.pass == 0);
	CHECK(parse("a b c d 0 x") == -1 && errno == EINVAL);
	CHECK(parse("a b c d 1x") == -1);
	CHECK(parse("a b c d 0 99999999999") == -1);
	CHECK(fstab_parse_line("a b\nc", 3, &e) == 1 && !strcmp(e.target, "b"));
}

static void test_long_line(void)
{
	char *line = malloc(FSTAB_LINE_MAX + 1);

	memset(line, 'a', FSTAB_LINE_MAX);
	line[FSTAB_LINE_MAX] = '\0';
	CHECK(fstab_parse_line(line, FSTAB_LINE_MAX - 1, &e) == 1);
	CHECK(strlen(e.source) == FSTAB_LINE_MAX - 1);
	CHECK(fstab_parse_line(line, FSTAB_LINE_MAX, &e) == -1 && errno == ENAMETOOLONG);
	free(line);
}

static void test_escapes(void)
{
	CHECK(parse("/my\\040dir /dst\\011x\\012y a\\134b c\\\\d") == 1);
	CHECK_STR(e.source, "/my dir");
	CHECK_STR(e.target, "/dst\tx\ny");
	CHECK_STR(e.type, "a\\b");
	CHECK_STR(e.options, "c\\d");
	CHECK(parse("\\40x \\101 \\1010 \\0") == 1);
	CHECK_STR(e.source, " x");
	CHECK_STR(e.target, "A");
	CHECK_STR(e.type, "A0");
	CHECK_STR(e.options, "\\0");
	CHECK(parse("\\400 \\9 \\000 x") == 1);
	CHECK_STR(e.source, "\\400");
	CHECK_STR(e.target, "\\9");
	CHECK_STR(e.type, "\\000");
	CHECK(parse("a b c d \\060") == -1);
}

static void test_shorthands(void)
{
	CHECK_STR(complete("/src"), "/src|/src|none|rbind,x-create=auto");
	CHECK_STR(complete("/src /dst"), "/src|/dst|none|rbind,x-create=auto");
	CHECK_STR(complete("/src bind"), "/src|/src|none|bind");
	CHECK_STR(complete("/src ro,bind"), "/src|/src|none|ro,bind");
	CHECK_STR(complete("/src /dst bind"), "/src|/dst|none|bind");
	CHECK_STR(complete("/src /dst x-create=auto,rbind"), "/src|/dst|none|x-create=auto,rbind");
	CHECK_STR(complete("/src /dst x-create=dir"), "/src|/dst|none|x-create=dir");
	CHECK_STR(complete("umount /root x-detach"), "umount|/root|none|x-detach");
	CHECK_STR(complete("/src none bind"), "/src|/src|none|bind");
	CHECK_STR(complete("tmpfs /dst"), "tmpfs|/dst|tmpfs|");
	CHECK_STR(complete("tmpfs /dst none"), "tmpfs|/dst|tmpfs|");
	CHECK_STR(complete("tmpfs /dst x-create=dir"), "tmpfs|/dst|tmpfs|x-create=dir");
	CHECK_STR(complete("tmpfs /dst tmpfs mode=755"), "tmpfs|/dst|tmpfs|mode=755");
	CHECK_STR(complete("none /dst devpts"), "none|/dst|devpts|");
	CHECK_STR(complete("/src /dst none"), "/src|/dst|none|rbind,x-create=auto");
	CHECK_STR(complete("/src /dst none ro"), "/src|/dst|none|ro");
	CHECK_STR(complete("/src /dst ext4"), "/src|/dst|ext4|");
	CHECK_STR(complete("/src /dst mode=755"), "/src|/dst|mode=755|");
	CHECK_STR(complete("tmpfs"), "invalid");
	CHECK_STR(complete("tmpfs none x-create=dir"), "invalid");
	CHECK_STR(complete("tmpfs bind"), "invalid");
}

static void test_looks_like_options(void)
{
	CHECK(fstab_looks_like_options("a,b"));
	CHECK(fstab_looks_like_options("bind"));
	CHECK(fstab_looks_like_options("rslave"));
	CHECK(fstab_looks_like_options("nofail"));
	CHECK(fstab_looks_like_options("x-detach"));
	CHECK(fstab_looks_like_options("x-create=file"));
	CHECK(!fstab_looks_like_options("/dst"));
	CHECK(!fstab_looks_like_options("tmpfs"));
	CHECK(!fstab_looks_like_options("none"));
	CHECK(!fstab_looks_like_options("mode=755"));
}

static void test_flags(void)
{
	CHECK(fstab_parse_options("ro,nosuid,nodev,noexec", &o) == 0);
	CHECK(o.flags == (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC));
	CHECK_STR(o.data, "");
	CHECK(fstab_parse_options("ro,rw,suid,nosuid,exec", &o) == 0 && o.flags == MS_NOSUID);
	CHECK(fstab_parse_options("rw,ro", &o) == 0 && o.flags == MS_RDONLY);
	CHECK(fstab_parse_options("bind", &o) == 0 && o.flags == MS_BIND);
	CHECK(fstab_parse_options("rbind", &o) == 0 && o.flags == (MS_BIND | MS_REC));
	CHECK(fstab_parse_options("remount,ro", &o) == 0 && o.flags == (MS_REMOUNT | MS_RDONLY));
	CHECK(fstab_parse_options("noatime,atime,nodiratime,relatime,norelatime", &o) == 0);
	CHECK(o.flags == MS_NODIRATIME);
	CHECK(fstab_parse_options("strictatime,sync,dirsync,mand,iversion,lazytime", &o) == 0);
	CHECK(o.flags == (MS_STRICTATIME | MS_SYNCHRONOUS | MS_DIRSYNC | MS_MANDLOCK |
			  MS_I_VERSION | (1 << 25)));
	CHECK(fstab_parse_options("x-move", &o) == 0 && o.flags == MS_MOVE);
	CHECK(fstab_parse_options("x-detach", &o) == 0 && o.detach && !o.flags);
	CHECK(fstab_parse_options("defaults,auto,noauto,user,nouser,users,nousers,owner,noowner,"
				  "group,nogroup",
				  &o) == 0);
	CHECK(o.flags == 0 && !strcmp(o.data, "") && !o.nofail);
}

static void test_extensions(void)
{
	CHECK(fstab_parse_options("nofail", &o) == 0 && o.nofail && !o.quiet);
	CHECK(fstab_parse_options("nofail,silent", &o) == 0 && o.nofail && o.quiet);
	CHECK(o.flags == MS_SILENT);
	CHECK(fstab_parse_options("silent,loud", &o) == 0 && !o.quiet && o.flags == 0);
	CHECK(fstab_parse_options("loud,silent", &o) == 0 && o.quiet);
	CHECK(fstab_parse_options("x-create=dir", &o) == 0 && o.create == FSTAB_CREATE_DIR);
	CHECK(fstab_parse_options("x-create=file", &o) == 0 && o.create == FSTAB_CREATE_FILE);
	CHECK(fstab_parse_options("x-create=auto,rbind", &o) == 0 && o.create == FSTAB_CREATE_AUTO);
	CHECK(fstab_parse_options("", &o) == 0 && o.create == FSTAB_CREATE_NONE);
	CHECK(fstab_parse_options("x-create=fifo", &o) == -1 && errno == EINVAL);
	CHECK(fstab_parse_options("x-create=", &o) == -1);
	CHECK(fstab_parse_options("x-create=dirs", &o) == -1);
}

static void test_propagation_and_data(void)
{
	CHECK(fstab_parse_options("rslave", &o) == 0);
	CHECK(o.propagation[FSTAB_PROP_SLAVE] == (MS_SLAVE | MS_REC) && o.flags == 0);
	CHECK(fstab_parse_options("private,unbindable,shared", &o) == 0);
	CHECK(o.propagation[FSTAB_PROP_PRIVATE] == MS_PRIVATE);
	CHECK(o.propagation[FSTAB_PROP_UNBINDABLE] == MS_UNBINDABLE);
	CHECK(o.propagation[FSTAB_PROP_SHARED] == MS_SHARED);
	CHECK(o.propagation[FSTAB_PROP_SLAVE] == 0);
	CHECK(fstab_parse_options("rprivate,private", &o) == 0);
	CHECK(o.propagation[FSTAB_PROP_PRIVATE] == MS_PRIVATE);
	CHECK(fstab_parse_options("rshared,runbindable", &o) == 0);
	CHECK(o.propagation[FSTAB_PROP_SHARED] == (MS_SHARED | MS_REC));
	CHECK(o.propagation[FSTAB_PROP_UNBINDABLE] == (MS_UNBINDABLE | MS_REC));
	CHECK(fstab_parse_options("mode=755,x-create=dir,size=1g,,nosuid,huge=within_size", &o) ==
	      0);
	CHECK_STR(o.data, "mode=755,size=1g,huge=within_size");
	CHECK(o.flags == MS_NOSUID);
	CHECK(fstab_parse_options("newinstance,ptmxmode=0666", &o) == 0);
	CHECK_STR(o.data, "newinstance,ptmxmode=0666");
	CHECK(fstab_parse_options("lowerdir=/a:/b", &o) == 0);
	CHECK_STR(o.data, "lowerdir=/a:/b");
}

int main(void)
{
	test_lexing();
	test_long_line();
	test_escapes();
	test_shorthands();
	test_looks_like_options();
	test_flags();
	test_extensions();
	test_propagation_and_data();
	return unit_done();
}
