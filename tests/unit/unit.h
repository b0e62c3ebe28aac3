/* unit.h: a minimal unit-test helper. Each CHECK prints "ok N - expr" or "not ok N - expr";
 * tests/unit.test counts those lines as cases. */
#ifndef UNIT_H
#define UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_n, unit_failed;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		unit_n++;                                                                          \
		if (cond) {                                                                        \
			printf("ok %d - %s\n", unit_n, #cond);                                     \
		} else {                                                                           \
			unit_failed++;                                                             \
			printf("not ok %d - %s (%s:%d)\n", unit_n, #cond, __FILE__, __LINE__);     \
		}                                                                                  \
	} while (0)

#define CHECK_STR(got, want)                                                                       \
	do {                                                                                       \
		const char *g_ = (got), *w_ = (want);                                              \
		CHECK(g_ &&w_ && !strcmp(g_, w_));                                                 \
		if (!(g_ && w_ && !strcmp(g_, w_)))                                                \
			printf("#   got \"%s\", want \"%s\"\n", g_ ? g_ : "(null)",                \
			       w_ ? w_ : "(null)");                                                \
	} while (0)

static inline int unit_done(void)
{
	printf("1..%d\n", unit_n);
	return unit_failed ? 1 : 0;
}

#endif
