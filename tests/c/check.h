/*
** check.h — the test protocol of the C-level tests: check() prints one
** "ok - ..." or "not ok - ...: detail" line per check and counts it;
** main() ends by printing "N passed, N failed" from the two counters and
** exits 1 when a check failed.  Included by the C tests in this directory.
*/
#ifndef KOOP_CHECK_H
#define KOOP_CHECK_H

#include <stdarg.h>
#include <stdio.h>

static int passed, failed;

/* Print one check's line. */
static void check(int good, const char *what, const char *fmt, ...)
{
  if (good) {
    passed++;
    printf("ok - %s\n", what);
    return;
  }
  failed++;
  printf("not ok - %s: ", what);
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
}

#endif
