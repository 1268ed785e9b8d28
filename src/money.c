/*
** money.c — exact amounts of money: an int64 of grosze (1/100 zł), never a
** float.  The C half parses and formats amounts for the importer and the
** fuzzers; the Lua half is the value type koop.money (metatable
** "koop.Money", __name "Money").
**
** Accepted text (surrounding blanks ignored):
**   [sign] integer-part [decimal-separator 1-2 digits] [unit]
**   sign      '-', '+' or U+2212 MINUS SIGN
**   unit      zł, zl or PLN in any case, with or without a blank before it
**   integer   plain digits (56340), or groups of three digits after a first
**             group of 1-3, separated by blanks (space, U+00A0, U+202F,
**             U+2009) or, when a decimal comma follows or there are two
**             dots or more, by dots: 56 340, 1.234,56, 1.234.567
**   decimal   ',' always; '.' when it is the only dot and there is no comma
** Refused, each with its own message: more than two decimal places
** (12,345), a second decimal comma (1,2,3), a comma used for thousands
** (1,234.56), a lone dot followed by exactly three digits (1.234: a
** thousands separator or a decimal point?), groups of the wrong size
** (12 34,00), two kinds of group separator in one number, no digits on
** either side of the separator (,50  12,), anything else (NaN, inf, 1e5),
** and amounts beyond ±(2^63-1) grosze.  INT64_MIN is never an amount, so
** negation never overflows and every result is range-checked.
**
** Display: "56 340,00 zł" — U+00A0 between digit groups (from four digits
** on: 1 234,50 zł) and before the unit, a decimal comma, "-" for negatives.
**
** Rounding (the only places where an exact result has to be rounded):
**   percent_of  half away from zero to 0,01%: 10 800,00 of 56 340,00 is
**               19,1693...% -> "19,17%"
**   split(n)    n parts differing by at most 1 grosz, the larger first
**   allocate    each part gets the floor of its exact share; the grosze
**               left over go one by one to the parts with the largest
**               remainders (ties: the earlier part).  Every part is within
**               1 grosz of its exact share and the parts add up to the whole.
**   //, %       Lua's floor division and modulo on grosze.
*/
#include "koop.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MONEY_MT "koop.Money"
#define NBSP "\xC2\xA0"

static const char TOO_LARGE[] =
  "is too large (amounts are limited to ±92 233 720 368 547 758,07 zł)";
static const char NOT_AMOUNT[] =
  "is not an amount of money (write e.g. 56 340,00 zł, 56340,00 or 56340.00)";
static const char TOO_PRECISE[] =
  "has more than two decimal places (the grosz is the smallest unit)";

/* ---- parsing ------------------------------------------------------------ */

/* Length of the group-separator blank (space, U+00A0, U+202F, U+2009) at
** s[0..n); 0 if there is none. */
static size_t blank_at(const unsigned char *s, size_t n)
{
  if (n >= 1 && s[0] == ' ') return 1;
  if (n >= 2 && s[0] == 0xC2 && s[1] == 0xA0) return 2;
  if (n >= 3 && s[0] == 0xE2 && s[1] == 0x80 && (s[2] == 0xAF || s[2] == 0x89)) return 3;
  return 0;
}

/* Length of the blank (a group-separator blank, TAB, CR or LF) that ends
** s[0..n); 0 if there is none. */
static size_t blank_before(const unsigned char *s, size_t n)
{
  if (n >= 1 && (s[n-1] == ' ' || s[n-1] == '\t' || s[n-1] == '\r' || s[n-1] == '\n'))
    return 1;
  if (n >= 2 && s[n-2] == 0xC2 && s[n-1] == 0xA0) return 2;
  if (n >= 3 && s[n-3] == 0xE2 && s[n-2] == 0x80 && (s[n-1] == 0xAF || s[n-1] == 0x89))
    return 3;
  return 0;
}

/* Drop blanks at both ends of s[0..*n); returns the new start. */
static const unsigned char *trim(const unsigned char *s, size_t *n)
{
  size_t k;
  for (;;) {
    if (*n > 0 && (s[0] == '\t' || s[0] == '\r' || s[0] == '\n')) k = 1;
    else k = blank_at(s, *n);
    if (k == 0) break;
    s += k, *n -= k;
  }
  while ((k = blank_before(s, *n)) > 0) *n -= k;
  return s;
}

/* Lower-case an ASCII letter. */
static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* If s[0..*n) ends with a unit (zł, zl, PLN in any case), drop it and the
** blanks before it. */
static void drop_unit(const unsigned char *s, size_t *n)
{
  size_t m = *n, k;
  if (m >= 3 && lower(s[m-3]) == 'p' && lower(s[m-2]) == 'l' && lower(s[m-1]) == 'n')
    m -= 3;
  else if (m >= 3 && lower(s[m-3]) == 'z' && s[m-2] == 0xC5 && (s[m-1] == 0x82 || s[m-1] == 0x81))
    m -= 3;
  else if (m >= 2 && lower(s[m-2]) == 'z' && lower(s[m-1]) == 'l')
    m -= 2;
  else
    return;
  while ((k = blank_before(s, m)) > 0) m -= k;
  *n = m;
}

/* A lone dot with one to three digits before it and exactly three after
** (1.234): a thousands separator or a decimal point? */
static int ambiguous_dot(const unsigned char *s, size_t n, size_t dot)
{
  if (dot < 1 || dot > 3 || n - dot - 1 != 3) return 0;
  for (size_t i = 0; i < n; i++)
    if (i != dot && (s[i] < '0' || s[i] > '9')) return 0;
  return 1;
}

/* Parse the integer part s[0..n) (digits, maybe grouped) into *v (złoty);
** NULL or why not. */
static const char *parse_integer(const unsigned char *s, size_t n, int64_t *v)
{
  int64_t acc = 0;
  size_t group = 0, groups = 0, k;
  int sep_kind = 0;                   /* 0 none yet, 1 blanks, 2 dots */
  for (size_t i = 0; i < n; ) {
    if (s[i] >= '0' && s[i] <= '9') {
      if (__builtin_mul_overflow(acc, 10, &acc) || __builtin_add_overflow(acc, s[i] - '0', &acc))
        return TOO_LARGE;
      group++, i++;
      continue;
    }
    int kind = s[i] == '.' ? 2 : (k = blank_at(s + i, n - i)) > 0 ? 1 : 0;
    if (kind == 0 || i == 0) return NOT_AMOUNT;
    if (kind == 2) k = 1;
    if (sep_kind != 0 && kind != sep_kind) return "mixes two kinds of thousands separator";
    if (group == 0 || group > 3 || (groups > 0 && group != 3))
      return "has digit groups of the wrong size (after the first group, groups of three: 12 345,00)";
    sep_kind = kind, groups++, group = 0, i += k;
  }
  if (groups > 0 && group != 3)
    return "has digit groups of the wrong size (after the first group, groups of three: 12 345,00)";
  *v = acc;
  return NULL;
}

/* Parse an unsigned amount s[0..n) into *out grosze; NULL or why not. */
static const char *parse_unsigned(const unsigned char *s, size_t n, int64_t *out)
{
  size_t commas = 0, dots = 0, comma = 0, first_dot = 0, last_dot = 0;
  size_t point = n;                   /* the decimal separator; n = none */
  int64_t zloty, grosze = 0;
  const char *why;
  if (n == 0) return NOT_AMOUNT;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == ',') commas++, comma = i;
    else if (s[i] == '.') {
      if (dots++ == 0) first_dot = i;
      last_dot = i;
    }
  }
  if (commas > 1) return "has more than one decimal comma";
  if (commas == 1) {
    if (dots > 0 && last_dot > comma)
      return "uses a comma as a thousands separator (write 1 234,56 or 1234.56)";
    point = comma;
  }
  else if (dots == 1) {
    if (ambiguous_dot(s, n, first_dot))
      return "is ambiguous: the dot may be a decimal point or a thousands separator "
             "(write 1234 or 1 234 for thousands, 1,23 for a fraction)";
    point = first_dot;
  }
  if (point == 0) return "has no digits before the decimal separator (write 0,50)";
  if ((why = parse_integer(s, point, &zloty)) != NULL) return why;
  if (point < n) {
    size_t digits = n - point - 1;
    if (digits == 0) return "has no digits after the decimal separator";
    for (size_t i = point + 1; i < n; i++)
      if (s[i] < '0' || s[i] > '9') return NOT_AMOUNT;
    if (digits > 2) return TOO_PRECISE;
    grosze = (s[point+1] - '0') * 10 + (digits == 2 ? s[point+2] - '0' : 0);
  }
  if (__builtin_mul_overflow(zloty, 100, &zloty) || __builtin_add_overflow(zloty, grosze, &zloty))
    return TOO_LARGE;
  *out = zloty;
  return NULL;
}

int koop_money_parse(const char *text, size_t len, int64_t *grosze, const char **why)
{
  const unsigned char *s = trim((const unsigned char *)text, &len);
  int negative = 0;
  int64_t v;
  const char *problem;
  if (len == 0) { problem = "is empty"; goto fail; }
  drop_unit(s, &len);
  if (len >= 1 && (s[0] == '-' || s[0] == '+')) negative = s[0] == '-', s++, len--;
  else if (len >= 3 && s[0] == 0xE2 && s[1] == 0x88 && s[2] == 0x92) negative = 1, s += 3, len -= 3;
  if ((problem = parse_unsigned(s, len, &v)) != NULL) goto fail;
  *grosze = negative ? -v : v;
  return 1;
fail:
  if (why) *why = problem;
  return 0;
}

/* ---- formatting ---------------------------------------------------------- */

/* How an amount is written. */
struct style {
  int group;            /* U+00A0 between groups of three digits (from 1 000) */
  char point;           /* ',' or '.' */
  const char *unit;     /* written after U+00A0; NULL for none */
};

/* Prepend the n bytes of s to the text that starts at *p. */
static void prepend(char **p, const char *s, size_t n)
{
  *p -= n;
  memcpy(*p, s, n);
}

/* Write g in the style to buf (at most size bytes with the NUL, like
** snprintf); returns the full length. */
static size_t format_styled(int64_t g, const struct style *st, char *buf, size_t size)
{
  char text[64], *p = text + sizeof text;
  uint64_t v = g < 0 ? -(uint64_t)g : (uint64_t)g;
  uint64_t zloty = v / 100;
  char cents[2] = { (char)('0' + v % 100 / 10), (char)('0' + v % 10) };
  if (st->unit) {
    prepend(&p, st->unit, strlen(st->unit));
    prepend(&p, NBSP, 2);
  }
  prepend(&p, cents, 2);
  prepend(&p, &st->point, 1);
  int digits = 0;
  do {
    if (st->group && digits > 0 && digits % 3 == 0 && v >= 100000) prepend(&p, NBSP, 2);
    char d = (char)('0' + zloty % 10);
    prepend(&p, &d, 1);
    digits++;
    zloty /= 10;
  } while (zloty > 0);
  if (g < 0) prepend(&p, "-", 1);
  size_t len = (size_t)(text + sizeof text - p);
  if (size > 0) {
    size_t n = len < size ? len : size - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
  }
  return len;
}

static const struct style display = { 1, ',', "zł" };

size_t koop_money_format(int64_t grosze, char *buf, size_t size)
{
  return format_styled(grosze, &display, buf, size);
}

/* ---- the Lua value type -------------------------------------------------- */

/* Push a new Money holding g grosze. */
static void push_money(lua_State *L, int64_t g)
{
  int64_t *m = (int64_t *)lua_newuserdatauv(L, sizeof *m, 0);
  *m = g;
  luaL_setmetatable(L, MONEY_MT);
}

int koop_money_check(lua_State *L, int idx, int64_t *grosze)
{
  const int64_t *m = (const int64_t *)luaL_testudata(L, idx, MONEY_MT);
  if (m == NULL) return 0;
  *grosze = *m;
  return 1;
}

/* The grosze of the Money at idx (a method's self), or raise. */
static int64_t self_grosze(lua_State *L, int idx)
{
  return *(const int64_t *)luaL_checkudata(L, idx, MONEY_MT);
}

/* What the value at idx is, for messages: "an amount", "a number", ... */
static const char *kind_of(lua_State *L, int idx)
{
  switch (lua_type(L, idx)) {
    case LUA_TUSERDATA: return luaL_testudata(L, idx, MONEY_MT) ? "an amount" : "a userdata";
    case LUA_TNUMBER: return "a number";
    case LUA_TSTRING: return "a string";
    case LUA_TTABLE: return "a table";
    case LUA_TBOOLEAN: return "a boolean";
    case LUA_TFUNCTION: return "a function";
    default: return luaL_typename(L, idx);
  }
}

/* Push s[0..len) quoted for a message, cut after 40 bytes at a character
** boundary. */
static const char *push_quoted(lua_State *L, const char *s, size_t len)
{
  size_t n = len;
  if (n > 40) {
    n = 40;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
  }
  lua_pushfstring(L, "\"%s%s\"", lua_pushlstring(L, s, n), n < len ? "…" : "");
  lua_remove(L, -2);
  return lua_tostring(L, -1);
}

/* Write x with the fewest digits that read back as x ("nan", "inf" and
** "-inf" the same on every platform). */
static void shortest(double x, char *buf, size_t size)
{
  if (!isfinite(x)) {
    snprintf(buf, size, "%s", isnan(x) ? "nan" : x < 0 ? "-inf" : "inf");
    return;
  }
  for (int precision = 15; precision <= 17; precision++) {
    snprintf(buf, size, "%.*g", precision, x);
    if (strtod(buf, NULL) == x) return;
  }
}

/* Grosze of x złoty given as a float; NULL or why not.  x must be a whole
** number of grosze once rounded to 1e-9 zł (so 0.1 + 0.2 is 0,30 zł, but
** 0.123 and 1/3 are refused); large values must be the float nearest to a
** number with two decimals. */
static const char *float_grosze(double x, int64_t *out)
{
  if (!isfinite(x)) return "is not a finite number";
  if (x == floor(x)) {
    if (fabs(x) >= 0x1p63 / 100) return TOO_LARGE;
    int64_t g;
    if (__builtin_mul_overflow((int64_t)x, 100, &g) || g == INT64_MIN) return TOO_LARGE;
    *out = g;
    return NULL;
  }
  if (fabs(x) >= 1e13)
    return "is a float too large to hold grosze exactly (give the amount as a string)";
  double r = round(x * 100.0);
  if (!(fabs(fma(x, 100.0, -r)) <= 0.5e-7) && r / 100.0 != x) return TOO_PRECISE;
  *out = (int64_t)r;
  return NULL;
}

/* Refuse the value at idx as an amount for `field`. */
static int refuse(lua_State *L, int idx, const char *field, const char *why)
{
  const char *shown;
  char number[32];
  if (lua_type(L, idx) == LUA_TSTRING) {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    shown = push_quoted(L, s, len);
  }
  else if (lua_isinteger(L, idx))
    shown = lua_pushfstring(L, "%I", lua_tointeger(L, idx));
  else {
    shortest(lua_tonumber(L, idx), number, sizeof number);
    shown = lua_pushstring(L, number);
  }
  return koop_error_raise(L, "invalid", field, "%s: %s %s", field, shown, why);
}

/* Grosze of the value at idx (Money, text, integer złoty, float złoty) for
** `field` in messages; raises an "invalid" error when it is not an amount. */
static int64_t to_grosze(lua_State *L, int idx, const char *field)
{
  int64_t g = 0;
  const char *why;
  idx = lua_absindex(L, idx);
  switch (lua_type(L, idx)) {
    case LUA_TUSERDATA:
      if (koop_money_check(L, idx, &g)) return g;
      break;
    case LUA_TSTRING: {
      size_t len;
      const char *s = lua_tolstring(L, idx, &len);
      if (koop_money_parse(s, len, &g, &why)) return g;
      refuse(L, idx, field, why);
      break;
    }
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) {
        if (__builtin_mul_overflow(lua_tointeger(L, idx), 100, &g) || g == INT64_MIN)
          refuse(L, idx, field, TOO_LARGE);
        return g;
      }
      if ((why = float_grosze(lua_tonumber(L, idx), &g)) != NULL) refuse(L, idx, field, why);
      return g;
  }
  koop_error_raise(L, "invalid", field,
                   "%s: expected an amount (\"56 340,00 zł\", a number of złoty or a Money), got %s",
                   field, luaL_typename(L, idx));
  return 0;
}

/* Raise the overflow of an arithmetic result. */
static int overflow(lua_State *L, const char *op)
{
  return koop_error_raise(L, "invalid", NULL,
                          "amount overflow in %s: the result is beyond ±92 233 720 368 547 758,07 zł",
                          op);
}

/* Push g as a Money after checking that the operation did not overflow. */
static int push_result(lua_State *L, int overflowed, int64_t g, const char *op)
{
  if (overflowed || g == INT64_MIN) return overflow(L, op);
  push_money(L, g);
  return 1;
}

/* The whole number at idx (an integer, or a float with an integral value),
** or raise a "misuse" error with `message`. */
static int64_t whole_number(lua_State *L, int idx, const char *message)
{
  int exact = 0;
  lua_Integer n = 0;
  if (lua_type(L, idx) == LUA_TNUMBER) n = lua_tointegerx(L, idx, &exact);
  if (!exact) koop_error_raise(L, "misuse", NULL, "%s, got %s", message,
                               lua_type(L, idx) == LUA_TNUMBER ? luaL_tolstring(L, idx, NULL)
                                                               : kind_of(L, idx));
  return n;
}

/* Both operands of `op` as grosze, or raise: amounts mix only with amounts. */
static void both_amounts(lua_State *L, const char *op, int64_t *a, int64_t *b)
{
  if (koop_money_check(L, 1, a) && koop_money_check(L, 2, b)) return;
  koop_error_raise(L, "misuse", NULL,
                   "cannot %s %s and %s: both must be amounts (write koop.money(x) for złoty, "
                   "koop.money.grosze(n) for grosze)",
                   op, kind_of(L, 1), kind_of(L, 2));
}

/* __add */
static int money_add(lua_State *L)
{
  int64_t a, b, r;
  both_amounts(L, "add", &a, &b);
  int over = __builtin_add_overflow(a, b, &r);
  return push_result(L, over, r, "+");
}

/* __sub */
static int money_sub(lua_State *L)
{
  int64_t a, b, r;
  both_amounts(L, "subtract", &a, &b);
  int over = __builtin_sub_overflow(a, b, &r);
  return push_result(L, over, r, "-");
}

/* __unm (the range is symmetric: negation cannot overflow) */
static int money_unm(lua_State *L)
{
  push_money(L, -self_grosze(L, 1));
  return 1;
}

/* __mul: an amount times a whole number, on either side. */
static int money_mul(lua_State *L)
{
  int64_t a = 0, r;
  int m = koop_money_check(L, 1, &a) ? 1 : 2;
  if (m == 2) koop_money_check(L, 2, &a);
  if (luaL_testudata(L, 3 - m, MONEY_MT))
    return koop_error_raise(L, "misuse", NULL, "an amount times an amount is not an amount");
  int64_t n = whole_number(L, 3 - m,
                           "an amount can only be multiplied by a whole number "
                           "(for shares use m:allocate{...} or m:percent_of(total))");
  int over = __builtin_mul_overflow(a, n, &r);
  return push_result(L, over, r, "*");
}

/* __div: refused, with what to use instead. */
static int money_div(lua_State *L)
{
  return koop_error_raise(L, "misuse", NULL,
                          "amounts are not divided with '/': use m // n (whole grosze, rounded down), "
                          "m:split(n) (exact parts), m:allocate{...} or m:ratio(total)");
}

/* Floor of a / b (b != 0, a != INT64_MIN). */
static int64_t floor_div(int64_t a, int64_t b)
{
  int64_t q = a / b;
  if (a % b != 0 && (a < 0) != (b < 0)) q--;
  return q;
}

/* a - b * floor(a / b) (b != 0). */
static int64_t floor_mod(int64_t a, int64_t b)
{
  int64_t r = a % b;
  if (r != 0 && (r < 0) != (b < 0)) r += b;
  return r;
}

/* The divisor of m // x or m % x: the grosze of an amount (*is_money set)
** or a whole number; raises on zero and on a number divided by an amount. */
static int64_t divisor(lua_State *L, const char *op, int *is_money)
{
  int64_t a, d;
  if (!koop_money_check(L, 1, &a))
    return koop_error_raise(L, "misuse", NULL, "cannot %s %s by an amount", op, kind_of(L, 1));
  *is_money = koop_money_check(L, 2, &d);
  if (!*is_money) d = whole_number(L, 2, "an amount can only be divided by a whole number or an amount");
  if (d == 0) koop_error_raise(L, "invalid", NULL, "division of an amount by zero");
  return d;
}

/* __idiv: Money // n -> Money (floor of the grosze); Money // Money -> integer. */
static int money_idiv(lua_State *L)
{
  int is_money;
  int64_t d = divisor(L, "divide", &is_money), a = self_grosze(L, 1);
  if (is_money) lua_pushinteger(L, floor_div(a, d));
  else push_money(L, floor_div(a, d));
  return 1;
}

/* __mod: Money % n and Money % Money -> Money, so (m // n) * n + m % n == m. */
static int money_mod(lua_State *L)
{
  int is_money;
  int64_t d = divisor(L, "take the remainder of", &is_money);
  push_money(L, floor_mod(self_grosze(L, 1), d));
  return 1;
}

/* __eq (Lua calls it only for two userdata) */
static int money_eq(lua_State *L)
{
  int64_t a, b;
  lua_pushboolean(L, koop_money_check(L, 1, &a) && koop_money_check(L, 2, &b) && a == b);
  return 1;
}

/* __lt */
static int money_lt(lua_State *L)
{
  int64_t a, b;
  both_amounts(L, "compare", &a, &b);
  lua_pushboolean(L, a < b);
  return 1;
}

/* __le */
static int money_le(lua_State *L)
{
  int64_t a, b;
  both_amounts(L, "compare", &a, &b);
  lua_pushboolean(L, a <= b);
  return 1;
}

/* Push the display text of g ("56 340,00 zł"). */
static void push_display(lua_State *L, int64_t g)
{
  char buf[KOOP_MONEY_BUFSIZE];
  size_t n = koop_money_format(g, buf, sizeof buf);
  lua_pushlstring(L, buf, n);
}

/* __tostring */
static int money_tostring(lua_State *L)
{
  push_display(L, self_grosze(L, 1));
  return 1;
}

/* __concat: amounts join text as they display. */
static int money_concat(lua_State *L)
{
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 1; i <= 2; i++) {
    int64_t g;
    if (koop_money_check(L, i, &g)) push_display(L, g);
    else if (lua_type(L, i) == LUA_TSTRING || lua_type(L, i) == LUA_TNUMBER)
      lua_pushstring(L, lua_tostring(L, i));
    else
      return koop_error_raise(L, "misuse", NULL, "cannot concatenate an amount and %s",
                              kind_of(L, i));
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  return 1;
}

/* m:grosze() -> integer */
static int money_grosze_of(lua_State *L)
{
  lua_pushinteger(L, self_grosze(L, 1));
  return 1;
}

/* m:zloty() -> "56340.00" (exact, for machines) */
static int money_zloty(lua_State *L)
{
  static const struct style machine = { 0, '.', NULL };
  char buf[KOOP_MONEY_BUFSIZE];
  size_t n = format_styled(self_grosze(L, 1), &machine, buf, sizeof buf);
  lua_pushlstring(L, buf, n);
  return 1;
}

/* m:format{currency="zł"|"PLN"|false, plain=bool, dot=bool}:
**   {}               56 340,00 zł
**   {currency="PLN"} 56 340,00 PLN
**   {plain=true}     56340,00       (Polish Excel CSV: no groups, decimal comma)
**   {dot=true}       56340.00       (machine CSV)
** plain and dot drop the unit unless a currency is asked for. */
static int money_format(lua_State *L)
{
  int64_t g = self_grosze(L, 1);
  struct style st = display;
  char buf[KOOP_MONEY_BUFSIZE];
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, 2)) {
      const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
      if (strcmp(key, "plain") != 0 && strcmp(key, "dot") != 0 && strcmp(key, "currency") != 0)
        return koop_error_raise(L, "invalid", "format",
                                "format: unknown option %s (known: currency, plain, dot)",
                                lua_type(L, -2) == LUA_TSTRING ? key : luaL_typename(L, -2));
      lua_pop(L, 1);
    }
    int plain = lua_getfield(L, 2, "plain") != LUA_TNIL && lua_toboolean(L, -1);
    int dot = lua_getfield(L, 2, "dot") != LUA_TNIL && lua_toboolean(L, -1);
    int currency = lua_getfield(L, 2, "currency");
    if (plain || dot) st.group = 0, st.unit = NULL;
    if (dot) st.point = '.';
    if (currency == LUA_TSTRING) {
      const char *c = lua_tostring(L, -1);
      if (strcmp(c, "PLN") == 0) st.unit = "PLN";
      else if (strcmp(c, "zł") == 0) st.unit = "zł";
      else return koop_error_raise(L, "invalid", "currency",
                                   "format: currency must be \"zł\", \"PLN\" or false, got \"%s\"", c);
    }
    else if (currency == LUA_TBOOLEAN && !lua_toboolean(L, -1)) st.unit = NULL;
    else if (currency != LUA_TNIL)
      return koop_error_raise(L, "invalid", "currency",
                              "format: currency must be \"zł\", \"PLN\" or false, got %s",
                              luaL_typename(L, -1));
  }
  size_t n = format_styled(g, &st, buf, sizeof buf);
  lua_pushlstring(L, buf, n);
  return 1;
}

/* The total at idx for a share of it: any amount, never zero. */
static int64_t nonzero_total(lua_State *L, int idx)
{
  int64_t total = to_grosze(L, idx, "total");
  if (total == 0) koop_error_raise(L, "invalid", "total", "total: a share of a zero total is undefined");
  return total;
}

/* Push the decimal digits of v (any size) followed by nothing. */
static void add_digits(luaL_Buffer *b, unsigned __int128 v)
{
  char digits[48], *p = digits + sizeof digits;
  do { *--p = (char)('0' + (int)(v % 10)); v /= 10; } while (v > 0);
  luaL_addlstring(b, p, (size_t)(digits + sizeof digits - p));
}

/* m:percent_of(total) -> "19,17%": m / total in percent with two decimals,
** rounded half away from zero. */
static int money_percent_of(lua_State *L)
{
  __int128 num = (__int128)self_grosze(L, 1) * 10000;
  __int128 total = nonzero_total(L, 2);
  __int128 q = num / total, r = num % total;
  if (r != 0 && 2 * (r < 0 ? -r : r) >= (total < 0 ? -total : total))
    q += (num < 0) == (total < 0) ? 1 : -1;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  if (q < 0) luaL_addchar(&b, '-');
  unsigned __int128 v = (unsigned __int128)(q < 0 ? -q : q);
  add_digits(&b, v / 100);
  luaL_addchar(&b, ',');
  luaL_addchar(&b, (char)('0' + (int)(v % 100 / 10)));
  luaL_addchar(&b, (char)('0' + (int)(v % 10)));
  luaL_addchar(&b, '%');
  luaL_pushresult(&b);
  return 1;
}

/* m:ratio(total) -> m / total as a number (a ratio, not an amount). */
static int money_ratio(lua_State *L)
{
  int64_t m = self_grosze(L, 1), total = nonzero_total(L, 2);
  lua_pushnumber(L, (lua_Number)((long double)m / (long double)total));
  return 1;
}

/* m:split(n) -> n amounts that differ by at most one grosz, the larger
** first, adding up to m exactly. */
static int money_split(lua_State *L)
{
  int64_t g = self_grosze(L, 1);
  lua_Integer n = luaL_checkinteger(L, 2);
  if (n < 1 || n > INT32_MAX)
    return koop_error_raise(L, "invalid", "n", "split: the number of parts must be from 1 to %d, got %I",
                            INT32_MAX, n);
  uint64_t whole = g < 0 ? (uint64_t)-g : (uint64_t)g;
  uint64_t base = whole / (uint64_t)n, extra = whole % (uint64_t)n;
  lua_createtable(L, (int)n, 0);
  for (lua_Integer i = 0; i < n; i++) {
    int64_t part = (int64_t)(base + ((uint64_t)i < extra));
    push_money(L, g < 0 ? -part : part);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* One part of an allocation while it is computed. */
struct share { int64_t weight; __int128 remainder; size_t index; };

/* qsort order: larger remainder first, then the earlier part. */
static int by_remainder(const void *x, const void *y)
{
  const struct share *a = x, *b = y;
  if (a->remainder != b->remainder) return a->remainder > b->remainder ? -1 : 1;
  return a->index < b->index ? -1 : a->index > b->index;
}

/* The weight at index i of the table at idx: a whole number >= 0 or an
** amount >= 0 (its grosze). */
static int64_t weight_at(lua_State *L, int idx, lua_Integer i)
{
  int64_t w = -1;
  int exact = 0;
  lua_geti(L, idx, i);
  if (koop_money_check(L, -1, &w)) exact = 1;
  else if (lua_type(L, -1) == LUA_TNUMBER) w = lua_tointegerx(L, -1, &exact);
  if (!exact || w < 0)
    koop_error_raise(L, "invalid", "weights",
                     "allocate: weight %I must be a whole number or an amount, not negative, got %s",
                     i, luaL_tolstring(L, -1, NULL));
  lua_pop(L, 1);
  return w;
}

/* m:allocate{w1, w2, ...} -> amounts proportional to the weights (whole
** numbers or amounts), adding up to m exactly: each part gets the floor of
** its exact share, and the grosze left over go one by one to the parts with
** the largest remainders (ties: the earlier part). */
static int money_allocate(lua_State *L)
{
  int64_t g = self_grosze(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_Integer n = luaL_len(L, 2);
  if (n < 1 || n > INT32_MAX)
    return koop_error_raise(L, "invalid", "weights",
                            "allocate: expected a list of weights, got %I of them", n);
  struct share *shares = lua_newuserdatauv(L, (size_t)n * sizeof *shares, 0);
  __int128 total_weight = 0;
  for (lua_Integer i = 1; i <= n; i++) {
    shares[i-1].weight = weight_at(L, 2, i);
    shares[i-1].index = (size_t)i;
    total_weight += shares[i-1].weight;
  }
  if (total_weight == 0)
    return koop_error_raise(L, "invalid", "weights", "allocate: the weights add up to zero");
  uint64_t whole = g < 0 ? -(uint64_t)g : (uint64_t)g, given = 0;
  uint64_t *parts = lua_newuserdatauv(L, (size_t)n * sizeof *parts, 0);
  for (lua_Integer i = 0; i < n; i++) {
    __int128 exact = (__int128)whole * shares[i].weight;
    parts[i] = (uint64_t)(exact / total_weight);
    shares[i].remainder = exact % total_weight;
    given += parts[i];
  }
  qsort(shares, (size_t)n, sizeof *shares, by_remainder);
  for (uint64_t k = 0; k < whole - given; k++)     /* fewer than n are left */
    parts[shares[k].index - 1]++;
  lua_createtable(L, (int)n, 0);
  for (lua_Integer i = 0; i < n; i++) {
    push_money(L, g < 0 ? -(int64_t)parts[i] : (int64_t)parts[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* koop.money(x [, field]): x as an amount (see to_grosze); field names it
** in error messages (default "amount"). */
static int money_call(lua_State *L)
{
  const char *field = luaL_optstring(L, 3, "amount");
  if (luaL_testudata(L, 2, MONEY_MT)) {
    lua_settop(L, 2);
    return 1;
  }
  push_money(L, to_grosze(L, 2, field));
  return 1;
}

/* koop.money.grosze(n) -> the amount of n grosze (a whole number). */
static int money_from_grosze(lua_State *L)
{
  int exact = 0;
  lua_Integer n = 0;
  if (lua_type(L, 1) == LUA_TNUMBER) n = lua_tointegerx(L, 1, &exact);
  if (!exact) {
    if (lua_type(L, 1) == LUA_TNUMBER) refuse(L, 1, "grosze", "is not a whole number of grosze");
    return koop_error_raise(L, "invalid", "grosze", "grosze: expected a whole number, got %s",
                            luaL_typename(L, 1));
  }
  if (n == INT64_MIN) refuse(L, 1, "grosze", TOO_LARGE);
  push_money(L, n);
  return 1;
}

/* koop.money.sum(list [, field]) -> the sum of the amounts in list (each
** anything koop.money accepts); an empty list sums to 0,00 zł. */
static int money_sum(lua_State *L)
{
  const char *field = luaL_optstring(L, 2, "list");
  int64_t total = 0;
  if (!lua_istable(L, 1))
    return koop_error_raise(L, "invalid", field, "%s: expected a list of amounts, got %s",
                            field, luaL_typename(L, 1));
  lua_Integer n = luaL_len(L, 1);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_geti(L, 1, i);
    const char *item = lua_pushfstring(L, "%s[%I]", field, i);
    int64_t g = to_grosze(L, -2, item);
    if (__builtin_add_overflow(total, g, &total) || total == INT64_MIN)
      return overflow(L, "sum");
    lua_pop(L, 2);
  }
  push_money(L, total);
  return 1;
}

/* koop.money.is(v) -> true if v is an amount. */
static int money_is(lua_State *L)
{
  lua_pushboolean(L, luaL_testudata(L, 1, MONEY_MT) != NULL);
  return 1;
}

/* koop.money.parse(s) -> the amount, or nil and why not (never raises for
** a string; for validating input without pcall). */
static int money_parse(lua_State *L)
{
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  int64_t g;
  const char *why;
  if (koop_money_parse(s, len, &g, &why)) {
    push_money(L, g);
    return 1;
  }
  lua_pushnil(L);
  push_quoted(L, s, len);
  lua_pushfstring(L, " %s", why);
  lua_concat(L, 2);
  return 2;
}

void koop_open_money(lua_State *L)
{
  static const luaL_Reg metamethods[] = {
    { "__add", money_add }, { "__sub", money_sub }, { "__unm", money_unm },
    { "__mul", money_mul }, { "__div", money_div }, { "__idiv", money_idiv },
    { "__mod", money_mod }, { "__eq", money_eq }, { "__lt", money_lt },
    { "__le", money_le }, { "__tostring", money_tostring }, { "__concat", money_concat },
    { NULL, NULL }
  };
  static const luaL_Reg methods[] = {
    { "grosze", money_grosze_of }, { "zloty", money_zloty }, { "format", money_format },
    { "percent_of", money_percent_of }, { "ratio", money_ratio }, { "split", money_split },
    { "allocate", money_allocate }, { NULL, NULL }
  };
  static const luaL_Reg functions[] = {
    { "grosze", money_from_grosze }, { "sum", money_sum }, { "is", money_is },
    { "parse", money_parse }, { NULL, NULL }
  };
  luaL_newmetatable(L, MONEY_MT);
  luaL_setfuncs(L, metamethods, 0);
  lua_pushliteral(L, "Money");
  lua_setfield(L, -2, "__name");
  luaL_newlib(L, methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_newlib(L, functions);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, money_call);
  lua_setfield(L, -2, "__call");
  lua_setmetatable(L, -2);
  lua_setfield(L, -2, "money");
}
