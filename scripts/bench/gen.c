/*
** gen.c — the benchmark's dataset: service deliveries as CSV.
** Usage: gen ROWS [FILE]   (FILE defaults to standard output)
** Columns: id,case_id,institution_id,service_type,date,hours,cost_grosze.
** The same ROWS always give the same bytes (fixed seed, own PRNG, no
** locale).  Shape, chosen to look like a powiat's three years of records:
**  - ROWS/100 cases (at least 10); case ids are skewed (u^2), so a few
**    cases get many services a month and most get one or two;
**  - 48 institutions; ten service types with Polish letters, one with a
**    comma and one with double quotes, so CSV quoting is exercised;
**  - dates uniform over 2019-01-01..2021-12-31; hours in quarter hours
**    from 0.25 to 4 (exact in binary floating point, so every language
**    sums them to the same value); cost_grosze = hours x the type's
**    hourly rate x 90..110 %.
*/
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>

#define INSTITUTIONS 48

struct service_type { const char *csv; int weight; int rate; };  /* rate: grosze/h */

static const struct service_type types[] = {
  { "poradnictwo", 20, 6000 },
  { "terapia rodzinna", 8, 12000 },
  { "rehabilitacja ruchowa", 12, 9000 },
  { "Świetlica", 15, 2500 },
  { "wolontariat", 6, 0 },
  { "asystent rodziny", 10, 4500 },
  { "usługi opiekuńcze", 14, 3800 },
  { "pomoc żywnościowa", 8, 1500 },
  { "\"mieszkanie chronione, treningowe\"", 3, 7000 },
  { "\"klub \"\"Senior+\"\"\"", 4, 2000 },
};
#define NTYPES (sizeof types / sizeof types[0])

/* splitmix64: small, fast, and the same on every platform. */
static uint64_t next (uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15u);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
  return z ^ (z >> 31);
}

/* A uniform double in [0, 1). */
static double uniform (uint64_t *state) {
  return (double)(next(state) >> 11) * (1.0 / 9007199254740992.0);
}

/* Fill dates[] with every ISO date of 2019..2021; returns how many. */
static int make_dates (char dates[][11]) {
  static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
  int n = 0;
  for (int y = 2019; y <= 2021; y++)
    for (int m = 1; m <= 12; m++) {
      int days = mdays[m - 1] + (m == 2 && y % 4 == 0);
      for (int d = 1; d <= days; d++)
        snprintf(dates[n++], 11, "%04u-%02u-%02u",
                 (unsigned)y % 10000, (unsigned)m % 100, (unsigned)d % 100);
    }
  return n;
}

/* Hours as the shortest decimal: 0.25, 0.5, 0.75, 1, 1.25, ... */
static void format_hours (char *buf, size_t size, int quarters) {
  static const char *frac[] = { "", ".25", ".5", ".75" };
  snprintf(buf, size, "%d%s", quarters / 4, frac[quarters % 4]);
}

/* Pick a service type by weight (weights sum to 100). */
static const struct service_type *pick_type (uint64_t *state) {
  int w = (int)(next(state) % 100);
  size_t i = 0;
  while (w >= types[i].weight) w -= types[i++].weight;
  return &types[i];
}

int main (int argc, char **argv) {
  static char dates[3 * 366][11];
  char *end, hours[16];
  FILE *out = stdout;
  long long rows, cases;
  int ndates, status = 1;
  uint64_t state = 20190101;
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: gen ROWS [FILE]\n");
    return 2;
  }
  errno = 0;
  rows = strtoll(argv[1], &end, 10);
  if (errno != 0 || *end != '\0' || rows < 1) {
    fprintf(stderr, "gen: ROWS must be a positive integer, not '%s'\n", argv[1]);
    return 2;
  }
  if (argc == 3 && (out = fopen(argv[2], "w")) == NULL) {
    fprintf(stderr, "gen: %s: %s\n", argv[2], strerror(errno));
    return 1;
  }
  setvbuf(out, NULL, _IOFBF, 1 << 20);
  cases = rows / 100 < 10 ? 10 : rows / 100;
  ndates = make_dates(dates);
  fputs("id,case_id,institution_id,service_type,date,hours,cost_grosze\n", out);
  for (long long id = 1; id <= rows; id++) {
    double u = uniform(&state);
    long long case_id = 1 + (long long)(u * u * (double)cases);
    int institution = 1 + (int)(next(&state) % INSTITUTIONS);
    const struct service_type *type = pick_type(&state);
    const char *date = dates[next(&state) % (uint64_t)ndates];
    int quarters = 1 + (int)(next(&state) % 16);
    int percent = 90 + (int)(next(&state) % 21);
    long long cost = (long long)quarters * type->rate * percent / 400;
    format_hours(hours, sizeof hours, quarters);
    fprintf(out, "%lld,%lld,%d,%s,%s,%s,%lld\n",
            id, case_id, institution, type->csv, date, hours, cost);
  }
  if (ferror(out)) goto done;
  status = 0;
done:
  if ((out != stdout ? fclose(out) : fflush(out)) != 0 || status != 0) {
    fprintf(stderr, "gen: write error: %s\n", strerror(errno));
    status = 1;
  }
  return status;
}
