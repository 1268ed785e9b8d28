/*
** money_test.c — the C half of money.c: koop_money_format byte for byte
** (U+00A0 groups from 1 000 on, decimal comma, sign, the int64 limits,
** snprintf-style truncation), koop_money_parse on every accepted form and
** every refused one with its exact message, format -> parse round trips
** over random amounts, random byte strings (never a crash, and whatever is
** accepted agrees with a plain reference reading of the same text), and
** koop_money_check on a Lua stack.
*/
#include "koop.h"

#include <inttypes.h>
#include <lualib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NB "\xC2\xA0"                 /* U+00A0 NO-BREAK SPACE */
#define NNB "\xE2\x80\xAF"            /* U+202F NARROW NO-BREAK SPACE */

#include "check.h"

/* koop_money_format(g) is exactly `want`. */
static void formats(int64_t g, const char *want)
{
  char buf[KOOP_MONEY_BUFSIZE], what[128];
  size_t n = koop_money_format(g, buf, sizeof buf);
  snprintf(what, sizeof what, "%" PRId64 " grosze print as \"%s\"", g, want);
  check(n == strlen(want) && strcmp(buf, want) == 0, what, "got \"%s\" (length %zu)", buf, n);
}

/* s[0..len) with control characters written as \t \r \n \0, for a test's
** one-line name. */
static const char *visible(const char *s, size_t len)
{
  static char out[128];
  size_t n = 0;
  for (size_t i = 0; i < len && n + 3 < sizeof out; i++) {
    const char *esc = s[i] == '\t' ? "\\t" : s[i] == '\r' ? "\\r" : s[i] == '\n' ? "\\n"
                    : s[i] == '\0' ? "\\0" : NULL;
    if (esc) out[n++] = esc[0], out[n++] = esc[1];
    else out[n++] = s[i];
  }
  out[n] = '\0';
  return out;
}

/* s parses to g grosze. */
static void accepts(const char *s, int64_t g)
{
  char what[160];
  int64_t got = 0;
  const char *why = "";
  int good = koop_money_parse(s, strlen(s), &got, &why);
  snprintf(what, sizeof what, "\"%s\" is %" PRId64 " grosze", visible(s, strlen(s)), g);
  if (good) check(got == g, what, "got %" PRId64, got);
  else check(0, what, "refused: %s", why);
}

/* s is refused with exactly `message`. */
static void refuses(const char *s, size_t len, const char *message)
{
  char what[256];
  int64_t got = 12345;
  const char *why = NULL;
  int good = koop_money_parse(s, len, &got, &why);
  snprintf(what, sizeof what, "\"%s\" is refused: %s", visible(s, len), message);
  if (good) check(0, what, "accepted as %" PRId64, got);
  else check(why && strcmp(why, message) == 0 && got == 12345, what, "got \"%s\"",
             why ? why : "(null)");
}
#define REFUSES(s, m) refuses(s, sizeof(s) - 1, m)

static const char TOO_LARGE[] =
  "is too large (amounts are limited to ±92 233 720 368 547 758,07 zł)";
static const char NOT_AMOUNT[] =
  "is not an amount of money (write e.g. 56 340,00 zł, 56340,00 or 56340.00)";
static const char TOO_PRECISE[] =
  "has more than two decimal places (the grosz is the smallest unit)";
static const char BAD_GROUPS[] =
  "has digit groups of the wrong size (after the first group, groups of three: 12 345,00)";
static const char AMBIGUOUS[] =
  "is ambiguous: the dot may be a decimal point or a thousands separator "
  "(write 1234 or 1 234 for thousands, 1,23 for a fraction)";

static void test_format(void)
{
  formats(0, "0,00" NB "zł");
  formats(1, "0,01" NB "zł");
  formats(-1, "-0,01" NB "zł");
  formats(10, "0,10" NB "zł");
  formats(99999, "999,99" NB "zł");
  formats(100000, "1" NB "000,00" NB "zł");
  formats(123450, "1" NB "234,50" NB "zł");
  formats(1234567, "12" NB "345,67" NB "zł");
  formats(5634000, "56" NB "340,00" NB "zł");
  formats(-5634000, "-56" NB "340,00" NB "zł");
  formats(10000000, "100" NB "000,00" NB "zł");
  formats(100000000, "1" NB "000" NB "000,00" NB "zł");
  formats(INT64_MAX, "92" NB "233" NB "720" NB "368" NB "547" NB "758,07" NB "zł");
  formats(-INT64_MAX, "-92" NB "233" NB "720" NB "368" NB "547" NB "758,07" NB "zł");

  char buf[KOOP_MONEY_BUFSIZE], small[8];
  size_t full = koop_money_format(-INT64_MAX, buf, sizeof buf);
  check(full + 1 <= KOOP_MONEY_BUFSIZE, "KOOP_MONEY_BUFSIZE holds the longest amount",
        "%zu bytes needed", full + 1);
  size_t n = koop_money_format(5634000, small, sizeof small);
  check(n == strlen("56" NB "340,00" NB "zł") && strcmp(small, "56" NB "340") == 0,
        "a short buffer gets a NUL-terminated prefix and the full length",
        "got \"%s\", %zu", small, n);
  memset(small, 'x', sizeof small);
  n = koop_money_format(1, small, 0);
  check(n == strlen("0,01" NB "zł") && small[0] == 'x', "size 0 writes nothing and returns the length", "%zu", n);
}

static void test_accepted(void)
{
  accepts("56 340,00 zł", 5634000);
  accepts("56" NB "340,00" NB "zł", 5634000);
  accepts("56" NNB "340,00" NNB "zł", 5634000);
  accepts("56\xE2\x80\x89" "340,00", 5634000);           /* U+2009 thin space */
  accepts("56340,00", 5634000);
  accepts("56340.00", 5634000);
  accepts("56 340 zł", 5634000);
  accepts("56340zł", 5634000);
  accepts("56340 ZŁ", 5634000);
  accepts("56340 zl", 5634000);
  accepts("56 340,00 PLN", 5634000);
  accepts("56340pln", 5634000);
  accepts("  56 340,00 zł \r\n", 5634000);
  accepts("\t12,50", 1250);
  accepts("-12,5", -1250);
  accepts("+12,5", 1250);
  accepts("\xE2\x88\x92" "12,50 zł", -1250);             /* U+2212 minus sign */
  accepts("-56 340,00 zł", -5634000);
  accepts("0", 0);
  accepts("-0,00", 0);
  accepts("0,01", 1);
  accepts("0.5", 50);
  accepts("999,99", 99999);
  accepts("1 234,50", 123450);
  accepts("1234,50", 123450);
  accepts("1.234,56", 123456);
  accepts("1.234.567,89", 123456789);
  accepts("1.234.567", 123456700);
  accepts("1 234.56", 123456);
  accepts("1 000 000,00", 100000000);
  accepts("12,3", 1230);
  accepts("1.23", 123);
  accepts("12.3", 1230);
  accepts("0056340", 5634000);
  accepts("92 233 720 368 547 758,07", INT64_MAX);
  accepts("-92 233 720 368 547 758,07 zł", -INT64_MAX);
  accepts("92233720368547758.07", INT64_MAX);
}

static void test_refused(void)
{
  REFUSES("", "is empty");
  REFUSES("   ", "is empty");
  REFUSES(NB NNB, "is empty");
  REFUSES("zł", NOT_AMOUNT);
  REFUSES("-", NOT_AMOUNT);
  REFUSES("abc", NOT_AMOUNT);
  REFUSES("NaN", NOT_AMOUNT);
  REFUSES("inf", NOT_AMOUNT);
  REFUSES("-inf", NOT_AMOUNT);
  REFUSES("1e5", NOT_AMOUNT);
  REFUSES("0x10", NOT_AMOUNT);
  REFUSES("12 zł 50", NOT_AMOUNT);
  REFUSES("- 12", NOT_AMOUNT);
  REFUSES("12,5 0", NOT_AMOUNT);
  REFUSES("1\t234", NOT_AMOUNT);
  REFUSES("€12", NOT_AMOUNT);
  REFUSES("12\0" "34", NOT_AMOUNT);
  REFUSES("12,345", TOO_PRECISE);
  REFUSES("0,001", TOO_PRECISE);
  REFUSES("56340.000", TOO_PRECISE);
  REFUSES("1234.567", TOO_PRECISE);
  REFUSES("1 234.567", TOO_PRECISE);
  REFUSES("1.234", AMBIGUOUS);
  REFUSES("12.345", AMBIGUOUS);
  REFUSES("-123.456 zł", AMBIGUOUS);
  REFUSES("1,2,3", "has more than one decimal comma");
  REFUSES("1,234.56", "uses a comma as a thousands separator (write 1 234,56 or 1234.56)");
  REFUSES("12 34,00", BAD_GROUPS);
  REFUSES("1234 567", BAD_GROUPS);
  REFUSES("1 2345", BAD_GROUPS);
  REFUSES("1  234", BAD_GROUPS);
  REFUSES("1 234 ,50", BAD_GROUPS);
  REFUSES("1.23.456", BAD_GROUPS);
  REFUSES("1.234 567,00", "mixes two kinds of thousands separator");
  REFUSES(",50", "has no digits before the decimal separator (write 0,50)");
  REFUSES("-.5", "has no digits before the decimal separator (write 0,50)");
  REFUSES("12,", "has no digits after the decimal separator");
  REFUSES("12.", "has no digits after the decimal separator");
  REFUSES("92 233 720 368 547 758,08", TOO_LARGE);
  REFUSES("-92 233 720 368 547 758,08", TOO_LARGE);
  REFUSES("99999999999999999999", TOO_LARGE);
  REFUSES("92233720368547759", TOO_LARGE);

  int64_t g;
  check(koop_money_parse("1,2,3", 5, &g, NULL) == 0, "why may be NULL", "accepted");
  check(koop_money_parse("12,50xyz", 5, &g, NULL) == 1 && g == 1250,
        "only len bytes are read", "got %" PRId64, g);
}

/* xorshift64*: the test's own deterministic random numbers. */
static uint64_t rnd(void)
{
  static uint64_t x = 0x9E3779B97F4A7C15u;
  x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
  return x * 0x2545F4914F6CDD1Du;
}

/* A random amount of every magnitude, never INT64_MIN. */
static int64_t random_amount(void)
{
  int bits = (int)(rnd() % 64);
  int64_t g = (int64_t)(rnd() >> (64 - bits - (bits < 63)) >> 1);
  return rnd() & 1 ? -g : g;
}

static void test_round_trips(void)
{
  int bad = 0;
  char buf[KOOP_MONEY_BUFSIZE], plain[64];
  for (int i = 0; i < 200000 && bad < 5; i++) {
    int64_t g = random_amount(), back = 0;
    uint64_t v = g < 0 ? -(uint64_t)g : (uint64_t)g;
    size_t n = koop_money_format(g, buf, sizeof buf);
    if (!koop_money_parse(buf, n, &back, NULL) || back != g) {
      bad++;
      printf("# \"%s\" read back as %" PRId64 "\n", buf, back);
    }
    n = (size_t)snprintf(plain, sizeof plain, "%s%" PRIu64 "%c%02u", g < 0 ? "-" : "",
                         v / 100, i & 1 ? ',' : '.', (unsigned)(v % 100));
    if (!koop_money_parse(plain, n, &back, NULL) || back != g) {
      bad++;
      printf("# \"%s\" read back as %" PRId64 "\n", plain, back);
    }
  }
  check(bad == 0, "200000 random amounts read back from their display and plain forms",
        "%d failures", bad);
}

/* The value an accepted text must have by the documented rules, read the
** simple way: its digits in order, scaled by the digits after the decimal
** separator (the comma if there is one, else a lone dot), negative if it
** has a '-'.  0 when the digits do not fit. */
static int reference(const char *s, int64_t *out)
{
  const char *comma = strchr(s, ','), *dot = strchr(s, '.');
  const char *point = comma ? comma : (dot && dot == strrchr(s, '.')) ? dot : NULL;
  __int128 v = 0;
  int frac = 0;
  for (const char *p = s; *p; p++)
    if (*p >= '0' && *p <= '9') {
      v = v * 10 + (*p - '0');
      if (point && p > point) frac++;
      if (v > INT64_MAX) return 0;
    }
  for (; frac < 2; frac++) v *= 10;
  if (v > INT64_MAX) return 0;
  *out = strchr(s, '-') ? -(int64_t)v : (int64_t)v;
  return 1;
}

static void test_random_text(void)
{
  static const char *pieces[] = { "0", "1", "2", "5", "9", "12", "345", "000", " ",
                                  ",", ".", "-", "zł", NB, "\xC5", "a", "99999999" };
  char s[64];
  int bad = 0, accepted = 0;
  for (int i = 0; i < 300000 && bad < 5; i++) {
    size_t n = 0;
    int count = 1 + (int)(rnd() % 8);
    for (int k = 0; k < count; k++) {
      const char *piece = pieces[rnd() % (sizeof pieces / sizeof *pieces)];
      size_t len = strlen(piece);
      if (n + len >= sizeof s) break;
      memcpy(s + n, piece, len);
      n += len;
    }
    s[n] = '\0';
    int64_t g = 0, want = 0;
    const char *why = NULL;
    if (koop_money_parse(s, n, &g, &why)) {
      accepted++;
      if (g == INT64_MIN || !reference(s, &want) || want != g) {
        bad++;
        printf("# \"%s\" accepted as %" PRId64 " (reference %" PRId64 ")\n", s, g, want);
      }
    }
    else if (why == NULL || why[0] == '\0') {
      bad++;
      printf("# \"%s\" refused without a reason\n", s);
    }
  }
  check(bad == 0 && accepted > 1000,
        "300000 random texts: each refused with a reason or read as the reference reads it",
        "%d disagreements, %d accepted", bad, accepted);
}

static void test_check(void)
{
  lua_State *L = luaL_newstate();
  int64_t g = 0;
  luaL_openlibs(L);
  lua_newtable(L);
  koop_open_errors(L);
  koop_open_money(L);
  lua_setglobal(L, "koop");
  int rc = luaL_dostring(L, "return koop.money('56 340,00 zł'), io.stdout, 5634000, '56340'");
  check(rc == LUA_OK, "koop.money runs in a plain Lua state", "%s", lua_tostring(L, -1));
  check(koop_money_check(L, 1, &g) && g == 5634000, "koop_money_check reads an amount",
        "got %" PRId64, g);
  int top = lua_gettop(L);
  g = 7;
  check(!koop_money_check(L, 2, &g) && !koop_money_check(L, 3, &g) &&
        !koop_money_check(L, 4, &g) && !koop_money_check(L, 5, &g) && g == 7,
        "koop_money_check refuses other userdata, numbers, strings, none", "g = %" PRId64, g);
  check(lua_gettop(L) == top, "koop_money_check leaves the stack as it was", "top %d", lua_gettop(L));
  lua_close(L);
}

int main(void)
{
  test_format();
  test_accepted();
  test_refused();
  test_round_trips();
  test_random_text();
  test_check();
  printf("%d passed, %d failed\n", passed, failed);
  return failed > 0;
}
