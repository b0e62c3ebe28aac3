/* size: byte counts as users write them in options and settings ("1000", "64M", "2G"). */
#ifndef SIZE_H
#define SIZE_H

/* Parse S: decimal digits, optionally followed by one of K M G T (powers of 1024, either
 * case).  Returns 0 with *OUT set, or -1 with errno EINVAL (not a size) or ERANGE (too big). */
int size_parse(const char *s, unsigned long long *out);

#endif
