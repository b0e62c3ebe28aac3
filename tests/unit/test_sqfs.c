/* test_sqfs: ENROOT_SQUASH_OPTIONS as the one-pass writer reads them (sqfs_opts_parse), and a
 * small image written to a memfd whose superblock and tables say what was written. */
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "image/sqfs.h"
#include "unit.h"

static uint64_t le(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void options(void)
{
	struct sqfs_opts o;
	char why[128] = "";

	CHECK(sqfs_opts_parse(NULL, NULL, &o, why, sizeof(why)) == 0);
	CHECK(o.comp == SQFSCOMP_LZO && o.no_data && !o.no_inodes && o.block_size == 131072);
	CHECK(!o.have_mkfs_time && !o.have_all_time);
	CHECK(sqfs_opts_parse("-comp zstd -Xcompression-level 3 -b 1M -noInodeCompression -noF",
			      "1700000000", &o, why, sizeof(why)) == 0);
	CHECK(o.comp == SQFSCOMP_ZSTD && o.level == 3 && o.block_size == 1 << 20);
	CHECK(o.no_inodes && o.no_frags && !o.no_data && o.mkfs_time == 1700000000u);
	CHECK(o.all_time == 1700000000u && o.have_all_time);
	CHECK(sqfs_opts_parse("-processors 4 -comp gzip -b 4K -no-xattrs", NULL, &o, why,
			      sizeof(why)) == 0);
	CHECK(o.comp == SQFSCOMP_GZIP && o.block_size == 4096 && o.no_xattrs);
	CHECK(sqfs_opts_parse("-comp xz", NULL, &o, why, sizeof(why)) == -1);
	CHECK_STR(why, "option -comp xz");
	CHECK(sqfs_opts_parse("-comp lzo -Xalgorithm lzo1x_999", NULL, &o, why, sizeof(why)) == -1);
	CHECK(sqfs_opts_parse("-b 3000", NULL, &o, why, sizeof(why)) == -1);
	CHECK(sqfs_opts_parse("-e foo", NULL, &o, why, sizeof(why)) == -1);
	CHECK_STR(why, "option -e foo");
	CHECK(sqfs_opts_parse("-comp", NULL, &o, why, sizeof(why)) == -1);
	CHECK(sqfs_opts_parse("-all-time x", NULL, &o, why, sizeof(why)) == -1);
	CHECK(sqfs_opts_parse(NULL, "soon", &o, why, sizeof(why)) == -1);
	CHECK_STR(why, "SOURCE_DATE_EPOCH soon");
}

/* Two files (one with a hard link), a symlink, in the root: the superblock's counts. */
static void image(void)
{
	struct sqfs_opts o;
	char why[128];
	unsigned char sb[96];
	int fd = memfd_create("img", MFD_CLOEXEC);
	struct sqfs *w;
	struct sqfs_inode *root, *f, *l;

	CHECK(sqfs_opts_parse("-comp gzip -mkfs-time 5", NULL, &o, why, sizeof(why)) == 0);
	CHECK(fd >= 0 && (w = sqfs_new(fd, &o)) != NULL);
	root = sqfs_inode(w, SQFS_DIR, 0755, 1, NULL);
	f = sqfs_inode(w, SQFS_FILE, 0644, 2, NULL);
	CHECK(sqfs_file_begin(w, f) == 0 && sqfs_file_write(w, "abc", 3, 0) == 0);
	CHECK(sqfs_file_write(w, "x", 1, 1) == -1); /* never back */
	CHECK(sqfs_file_end(w, 200000) == 0 && f->size == 200000 && f->nblocks == 1);
	l = sqfs_inode(w, SQFS_SYMLINK, 0777, 3, "f");
	CHECK(sqfs_link(root, "f", f) == 0 && sqfs_link(root, "g", f) == 0);
	CHECK(sqfs_link(root, "l", l) == 0 && sqfs_finish(w, root) == 0);
	CHECK(f->nlink == 2 && root->nlink == 2);
	CHECK(pread(fd, sb, sizeof(sb), 0) == 96);
	CHECK(le(sb, 4) == 0x73717368 && le(sb + 4, 4) == 3 && le(sb + 8, 4) == 5);
	CHECK(le(sb + 16, 4) == 1 && le(sb + 20, 2) == SQFSCOMP_GZIP && le(sb + 28, 2) == 4);
	CHECK(le(sb + 40, 8) <= (uint64_t)lseek(fd, 0, SEEK_END) &&
	      lseek(fd, 0, SEEK_END) % 4096 == 0);
	sqfs_free(w);
	close(fd);
}

int main(void)
{
	options();
	image();
	return unit_done();
}
