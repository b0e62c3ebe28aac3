/* stale: temporaries (scratch directories, output files being written) that a later run can
 * tell from live ones, so that what a SIGKILL leaves behind is removed by the next run
 * (DESIGN.md decision 5, PITFALLS §3.4 "clean up stale temp files on startup").
 *
 * A live temporary is held with flock(LOCK_EX) on an O_CLOEXEC descriptor of it: forked
 * workers share the lock, exec'ed tools (mksquashfs) do not, and the kernel drops it when the
 * last holder dies, however it dies.  A sibling with the same template whose lock can be
 * taken is a dead run's and is removed; the creator checks, once it holds its lock, that its
 * name still names its inode, so a sweep that raced it costs a retry, never a live file. */
#ifndef STALE_H
#define STALE_H

/* Make a temporary from TEMPLATE (ending in at least six X; a directory when dir is
 * non-zero, else a 0600 file), locked; first remove every unlocked sibling matching the
 * template.  TEMPLATE is rewritten with the name made.  Returns the locking descriptor
 * (keep it open while the temporary lives), or -1 with errno. */
int stale_mktemp(char *template, int dir);

/* Remove the unlocked siblings of TEMPLATE (as stale_mktemp does first). */
void stale_sweep(const char *template);

#endif
