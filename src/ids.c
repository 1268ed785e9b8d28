/*
** ids.c — Polish identifiers: PESEL, NIP, REGON (9 and 14 digits), TERC.
** The checks follow the published algorithms (see the domain reference,
** §3) and say exactly what is wrong.  Input is normalised the way people
** type these numbers: surrounding blanks are ignored; NIP and REGON may be
** grouped with spaces or '-' (866-000-00-16), NIP may carry the VAT-EU
** prefix PL.  PESEL and TERC are plain digits.
*/
#include "koop.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Messages that quote digits live in a per-thread buffer, like strerror's:
** valid until the next check on the same thread. */
#define MESSAGE_SIZE 96
static _Thread_local char message[MESSAGE_SIZE];

/* Format a message into the per-thread buffer and return it. */
static const char *say(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  return message;
}

/* Drop ASCII blanks around s[0..*len). */
static const char *trim(const char *s, size_t *len)
{
  size_t n = *len;
  while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) s++, n--;
  while (n > 0 && (s[n-1] == ' ' || s[n-1] == '\t' || s[n-1] == '\r' || s[n-1] == '\n')) n--;
  *len = n;
  return s;
}

/* Copy the digits of s into out (at most max, NUL-terminated), skipping
** the characters in `separators`.  Returns the number of digits seen (it
** may exceed max, nothing beyond max is stored), or -1 on any other char. */
static int digits_of(const char *s, size_t len, const char *separators,
                     char *out, int max)
{
  int n = 0;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      if (n < max) out[n] = c;
      n++;
    }
    else if (c == '\0' || !strchr(separators, c))
      return -1;
  }
  out[n < max ? n : max] = '\0';
  return n;
}

/* True if the n digits are all '0'. */
static int all_zero(const char *d, int n)
{
  for (int i = 0; i < n; i++)
    if (d[i] != '0') return 0;
  return 1;
}

/* Σ d[i]·w[i] over n digits. */
static int weighted(const char *d, const int *w, int n)
{
  int sum = 0;
  for (int i = 0; i < n; i++) sum += (d[i] - '0') * w[i];
  return sum;
}

/* ---- NIP ---------------------------------------------------------------- */

/* Normalise a NIP into 10 digits in out[11]; NULL or the problem. */
static const char *nip_digits(const char *s, size_t len, char out[11])
{
  s = trim(s, &len);
  if (len >= 2 && (s[0] == 'P' || s[0] == 'p') && (s[1] == 'L' || s[1] == 'l'))
    s += 2, len -= 2;
  int n = digits_of(s, len, " -", out, 10);
  if (n < 0) return "NIP may contain only digits, spaces and '-' (and the prefix PL)";
  if (n != 10) return say("NIP must have 10 digits, found %d", n);
  return NULL;
}

/* Check the 10 digits of a NIP. */
static const char *nip_verify(const char *d)
{
  static const int w[9] = { 6, 5, 7, 2, 3, 4, 5, 6, 7 };
  if (all_zero(d, 10)) return "all-zero NIP is not valid";
  int c = weighted(d, w, 9) % 11;
  if (c == 10) return "NIP is not valid: its first 9 digits give check value 10, which is never issued";
  if (c != d[9] - '0') return say("NIP checksum digit is %c, expected %d", d[9], c);
  return NULL;
}

const char *koop_check_nip(const char *s, size_t len)
{
  char d[11];
  const char *problem = nip_digits(s, len, d);
  return problem ? problem : nip_verify(d);
}

/* ---- REGON -------------------------------------------------------------- */

/* Normalise a REGON into 9 or 14 digits in out[15]; NULL or the problem. */
static const char *regon_digits(const char *s, size_t len, char out[15])
{
  s = trim(s, &len);
  int n = digits_of(s, len, " -", out, 14);
  if (n < 0) return "REGON may contain only digits, spaces and '-'";
  if (n != 9 && n != 14) return say("REGON must have 9 or 14 digits, found %d", n);
  return NULL;
}

/* The REGON check digit of the first n-1 digits (mod 11, 10 counts as 0). */
static int regon_check(const char *d, int n)
{
  static const int w9[8] = { 8, 9, 2, 3, 4, 5, 6, 7 };
  static const int w14[13] = { 2, 4, 8, 5, 0, 9, 7, 3, 6, 1, 2, 4, 8 };
  return weighted(d, n == 9 ? w9 : w14, n - 1) % 11 % 10;
}

/* Check the 9 or 14 digits of a REGON (a REGON-14 starts with its unit's REGON-9). */
static const char *regon_verify(const char *d)
{
  int n = (int)strlen(d);
  if (all_zero(d, n)) return "all-zero REGON is not valid";
  int c = regon_check(d, n);
  if (c != d[n-1] - '0') return say("REGON checksum digit is %c, expected %d", d[n-1], c);
  if (n == 14) {
    if (all_zero(d, 9)) return "REGON-14 starts with an all-zero REGON-9";
    c = regon_check(d, 9);
    if (c != d[8] - '0')
      return say("REGON-14 starts with an invalid REGON-9 (checksum digit is %c, expected %d)", d[8], c);
  }
  return NULL;
}

const char *koop_check_regon(const char *s, size_t len)
{
  char d[15];
  const char *problem = regon_digits(s, len, d);
  return problem ? problem : regon_verify(d);
}

/* ---- TERC --------------------------------------------------------------- */

static const char *const voivodeships[17] = {
  NULL, "dolnośląskie", "kujawsko-pomorskie", "lubelskie", "lubuskie", "łódzkie",
  "małopolskie", "mazowieckie", "opolskie", "podkarpackie", "podlaskie",
  "pomorskie", "śląskie", "świętokrzyskie", "warmińsko-mazurskie",
  "wielkopolskie", "zachodniopomorskie"
};

/* Names of the TERC kind digit R (rodzaj), by digit, as GUS writes them
** (4 and 5 are the town and the rural area of a gmina miejsko-wiejska,
** 8 a district of Warsaw, 9 a delegatura of Kraków, Łódź, Poznań, Wrocław). */
static const char *const terc_kinds[10] = {
  NULL, "gmina miejska", "gmina wiejska", "gmina miejsko-wiejska", "miasto",
  "obszar wiejski", NULL, NULL, "dzielnica", "delegatura"
};

/* Two digits at d as a number. */
static int two(const char *d) { return (d[0] - '0') * 10 + (d[1] - '0'); }

/* Normalise a TERC code into 2, 4 or 7 digits in out[8]; NULL or the problem. */
static const char *terc_digits(const char *s, size_t len, char out[8])
{
  s = trim(s, &len);
  int n = digits_of(s, len, "", out, 7);
  if (n < 0) return "TERC code may contain only digits";
  if (n != 2 && n != 4 && n != 7)
    return say("TERC code must have 2 (voivodeship), 4 (powiat) or 7 (gmina) digits, found %d", n);
  return NULL;
}

/* Check the digits of a TERC code WW[PP[GGR]]. */
static const char *terc_verify(const char *d)
{
  int n = (int)strlen(d);
  if (all_zero(d, n)) return "all-zero TERC code is not valid";
  int ww = two(d);
  if (ww < 2 || ww > 32 || ww % 2)
    return say("TERC voivodeship code %02d does not exist (even numbers 02-32)", ww);
  if (n >= 4 && two(d + 2) == 0) return "TERC powiat code 00 is not valid";
  if (n == 7) {
    if (two(d + 4) == 0) return "TERC gmina code 00 is not valid";
    int r = d[6] - '0';
    if (!terc_kinds[r])
      return say("TERC kind digit (rodzaj) %d is not valid (1-5, 8 or 9)", r);
  }
  return NULL;
}

const char *koop_check_terc(const char *s, size_t len)
{
  char d[8];
  const char *problem = terc_digits(s, len, d);
  return problem ? problem : terc_verify(d);
}

/* ---- PESEL -------------------------------------------------------------- */

/* Days in month m (1..12) of year y, Gregorian. */
static int month_days(int y, int m)
{
  static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 ? 28 + leap : days[m-1];
}

const char *koop_check_pesel(const char *s, size_t len, struct koop_pesel *out)
{
  static const int w[10] = { 1, 3, 7, 9, 1, 3, 7, 9, 1, 3 };
  /* Month offsets by century: 1900 +0, 2000 +20, 2100 +40, 2200 +60, 1800 +80. */
  static const int century[5] = { 1900, 2000, 2100, 2200, 1800 };
  char d[12];
  s = trim(s, &len);
  int n = digits_of(s, len, "", d, 11);
  if (n < 0) return "PESEL may contain only digits";
  if (n != 11) return say("PESEL must have 11 digits, found %d", n);
  if (all_zero(d, 11)) return "all-zero PESEL is not valid";
  int q = (10 - weighted(d, w, 10) % 10) % 10;
  if (q != d[10] - '0') return say("PESEL checksum digit is %c, expected %d", d[10], q);
  int mm = two(d + 2), month = mm % 20, day = two(d + 4);
  if (month < 1 || month > 12) return say("PESEL encodes an impossible month (month digits %02d)", mm);
  int year = century[mm / 20] + two(d);
  if (day < 1 || day > month_days(year, month))
    return say("PESEL encodes an impossible date %04d-%02d-%02d", year, month, day);
  if (out) {
    out->year = year;
    out->month = month;
    out->day = day;
    out->sex = (d[9] - '0') % 2 ? 'M' : 'K';
  }
  return NULL;
}

/* ---- Lua: koop.ids ------------------------------------------------------ */

/* The string argument 1, or NULL after pushing nil and a message. */
static const char *string_arg(lua_State *L, const char *what, size_t *len)
{
  if (lua_type(L, 1) == LUA_TSTRING) return lua_tolstring(L, 1, len);
  const char *type = luaL_typename(L, 1);
  lua_pushnil(L);
  lua_pushfstring(L, "%s must be given as a string, got %s", what, type);
  return NULL;
}

/* Return nil, problem. */
static int refuse(lua_State *L, const char *problem)
{
  lua_pushnil(L);
  lua_pushstring(L, problem);
  return 2;
}

/* t[key] = the n bytes at s, for the table on top. */
static void set_lstring(lua_State *L, const char *key, const char *s, size_t n)
{
  lua_pushlstring(L, s, n);
  lua_setfield(L, -2, key);
}

/* koop.ids.pesel(s) → {value=, birth_date=, sex=} or nil, message */
static int ids_pesel(lua_State *L)
{
  size_t len;
  const char *s = string_arg(L, "PESEL", &len);
  if (!s) return 2;
  struct koop_pesel p;
  const char *problem = koop_check_pesel(s, len, &p);
  if (problem) return refuse(L, problem);
  s = trim(s, &len);
  lua_createtable(L, 0, 3);
  set_lstring(L, "value", s, len);
  lua_pushfstring(L, "%d-%s%d-%s%d", p.year, p.month < 10 ? "0" : "", p.month,
                  p.day < 10 ? "0" : "", p.day);
  lua_setfield(L, -2, "birth_date");
  set_lstring(L, "sex", &p.sex, 1);
  return 1;
}

/* koop.ids.nip(s) → {value=} (10 digits) or nil, message */
static int ids_nip(lua_State *L)
{
  size_t len;
  const char *s = string_arg(L, "NIP", &len);
  if (!s) return 2;
  char d[11];
  const char *problem = nip_digits(s, len, d);
  if (!problem) problem = nip_verify(d);
  if (problem) return refuse(L, problem);
  lua_createtable(L, 0, 1);
  set_lstring(L, "value", d, 10);
  return 1;
}

/* koop.ids.regon(s) → {value=, kind=9|14[, parent=]} or nil, message */
static int ids_regon(lua_State *L)
{
  size_t len;
  const char *s = string_arg(L, "REGON", &len);
  if (!s) return 2;
  char d[15];
  const char *problem = regon_digits(s, len, d);
  if (!problem) problem = regon_verify(d);
  if (problem) return refuse(L, problem);
  size_t n = strlen(d);
  lua_createtable(L, 0, 3);
  set_lstring(L, "value", d, n);
  lua_pushinteger(L, (lua_Integer)n);
  lua_setfield(L, -2, "kind");
  if (n == 14) set_lstring(L, "parent", d, 9);
  return 1;
}

/* koop.ids.terc(s) → {value=, level=, woj=, woj_name=, pow=, gmi=, rodzaj=,
** rodzaj_name=} (fields beyond the level absent) or nil, message */
static int ids_terc(lua_State *L)
{
  size_t len;
  const char *s = string_arg(L, "TERC code", &len);
  if (!s) return 2;
  char d[8];
  const char *problem = terc_digits(s, len, d);
  if (!problem) problem = terc_verify(d);
  if (problem) return refuse(L, problem);
  size_t n = strlen(d);
  lua_createtable(L, 0, 8);
  set_lstring(L, "value", d, n);
  lua_pushstring(L, n == 2 ? "wojewodztwo" : n == 4 ? "powiat" : "gmina");
  lua_setfield(L, -2, "level");
  set_lstring(L, "woj", d, 2);
  lua_pushstring(L, voivodeships[two(d) / 2]);
  lua_setfield(L, -2, "woj_name");
  if (n >= 4) set_lstring(L, "pow", d + 2, 2);
  if (n == 7) {
    set_lstring(L, "gmi", d + 4, 2);
    lua_pushinteger(L, d[6] - '0');
    lua_setfield(L, -2, "rodzaj");
    lua_pushstring(L, terc_kinds[d[6] - '0']);
    lua_setfield(L, -2, "rodzaj_name");
  }
  return 1;
}

void koop_open_ids(lua_State *L)
{
  static const luaL_Reg funcs[] = {
    { "pesel", ids_pesel }, { "nip", ids_nip }, { "regon", ids_regon },
    { "terc", ids_terc }, { NULL, NULL }
  };
  luaL_newlib(L, funcs);
  lua_setfield(L, -2, "ids");
}
