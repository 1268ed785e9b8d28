/*
** ids_fuzz.c — libFuzzer target for the identifier checks (src/ids.c):
** PESEL with its date and sex, NIP, REGON-9/14 and TERC, from C and
** through koop.ids.  The input is given to every check as it is (libFuzzer
** hands over exactly `size` bytes, so ASan sees any read past len).
** Properties:
**  - a refusal is a non-empty message; an acceptance holds up against a
**    separate implementation here: the digits (blanks around, NIP/REGON
**    groups and the PL prefix dropped) have the right count, are not all
**    zero, and the check digit recomputes; PESEL's date exists and its sex
**    is the parity of digit 10; TERC's parts are codes that exist;
**  - changing any one digit of a valid PESEL or NIP makes it invalid;
**  - blanks added around the input change nothing;
**  - koop.ids.X agrees with the C check and returns the digits as value.
*/
#include "fuzz.h"

/* The digits of s[0..len), skipping the bytes in `skip`; -1 on any other
** byte or more than max digits.  Blanks around and the NIP prefix are the
** caller's to drop. */
static int digits(const char *s, size_t len, const char *skip, char *out, int max)
{
  int n = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] >= '0' && s[i] <= '9') {
      if (n == max) return -1;
      out[n++] = s[i];
    }
    else if (s[i] == '\0' || !strchr(skip, s[i])) return -1;
  }
  out[n] = '\0';
  return n;
}

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* s[0..*len) without the blanks around it. */
static const char *trimmed(const char *s, size_t *len)
{
  while (*len > 0 && is_blank(s[0])) s++, (*len)--;
  while (*len > 0 && is_blank(s[*len - 1])) (*len)--;
  return s;
}

static int zeros(const char *d) { return strspn(d, "0") == strlen(d); }

/* Σ digit·weight mod m. */
static int checksum(const char *d, const int *w, int n, int m)
{
  int s = 0;
  for (int i = 0; i < n; i++) s += (d[i] - '0') * w[i];
  return s % m;
}

static void check_nip(const char *s, size_t len)
{
  static const int w[9] = { 6, 5, 7, 2, 3, 4, 5, 6, 7 };
  char d[12];
  if (koop_check_nip(s, len) != NULL) return;
  s = trimmed(s, &len);
  if (len >= 2 && (s[0] == 'P' || s[0] == 'p') && (s[1] == 'L' || s[1] == 'l')) s += 2, len -= 2;
  FUZZ_CHECK(digits(s, len, " -", d, 11) == 10 && !zeros(d), "NIP accepted: %.*s", (int)len, s);
  FUZZ_CHECK(checksum(d, w, 9, 11) == d[9] - '0', "NIP accepted with a wrong check digit: %s", d);
  for (int i = 0; i < 10; i++) {             /* any one digit changed is caught */
    char e[11];
    memcpy(e, d, 11);
    e[i] = (char)('0' + (e[i] - '0' + 1 + i % 9) % 10);
    FUZZ_CHECK(koop_check_nip(e, 10) != NULL, "NIP %s accepted, and so is %s", d, e);
  }
}

static void check_regon(const char *s, size_t len)
{
  static const int w9[8] = { 8, 9, 2, 3, 4, 5, 6, 7 };
  static const int w14[13] = { 2, 4, 8, 5, 0, 9, 7, 3, 6, 1, 2, 4, 8 };
  char d[16];
  if (koop_check_regon(s, len) != NULL) return;
  s = trimmed(s, &len);
  int n = digits(s, len, " -", d, 15);
  FUZZ_CHECK((n == 9 || n == 14) && !zeros(d), "REGON accepted: %.*s", (int)len, s);
  FUZZ_CHECK(checksum(d, n == 9 ? w9 : w14, n - 1, 11) % 10 == d[n - 1] - '0',
             "REGON accepted with a wrong check digit: %s", d);
  if (n == 14) {
    d[9] = '\0';
    FUZZ_CHECK(koop_check_regon(d, 9) == NULL, "REGON-14 accepted on an invalid REGON-9 %s", d);
  }
}

static void check_terc(const char *s, size_t len)
{
  char d[9];
  if (koop_check_terc(s, len) != NULL) return;
  s = trimmed(s, &len);
  int n = digits(s, len, "", d, 8);
  FUZZ_CHECK(n == 2 || n == 4 || n == 7, "TERC accepted: %.*s", (int)len, s);
  int woj = (d[0] - '0') * 10 + d[1] - '0';
  FUZZ_CHECK(woj >= 2 && woj <= 32 && woj % 2 == 0, "TERC voivodeship %02d accepted", woj);
  FUZZ_CHECK(n < 4 || memcmp(d + 2, "00", 2) != 0, "TERC powiat 00 accepted");
  FUZZ_CHECK(n < 7 || (memcmp(d + 4, "00", 2) != 0 && strchr("1234589", d[6])),
             "TERC gmina %s accepted", d);
}

static void check_pesel(const char *s, size_t len)
{
  static const int w[10] = { 1, 3, 7, 9, 1, 3, 7, 9, 1, 3 };
  static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
  struct koop_pesel p = { -1, -1, -1, '?' };
  char d[13];
  if (koop_check_pesel(s, len, &p) != NULL) return;
  s = trimmed(s, &len);
  FUZZ_CHECK(digits(s, len, "", d, 12) == 11 && !zeros(d), "PESEL accepted: %.*s", (int)len, s);
  FUZZ_CHECK((10 - checksum(d, w, 10, 10)) % 10 == d[10] - '0', "PESEL %s: wrong check digit", d);
  int mm = (d[2] - '0') * 10 + d[3] - '0';
  int year = (int[]){ 1900, 2000, 2100, 2200, 1800 }[mm / 20] + (d[0] - '0') * 10 + d[1] - '0';
  int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  FUZZ_CHECK(p.year == year && p.month == mm % 20 && p.month >= 1 && p.month <= 12,
             "PESEL %s: year %d month %d", d, p.year, p.month);
  FUZZ_CHECK(p.day == (d[4] - '0') * 10 + d[5] - '0' && p.day >= 1
             && p.day <= mdays[p.month - 1] + (p.month == 2 && leap),
             "PESEL %s: day %d", d, p.day);
  FUZZ_CHECK(p.sex == ((d[9] - '0') % 2 ? 'M' : 'K'), "PESEL %s: sex %c", d, p.sex);
  for (int i = 0; i < 11; i++) {
    char e[12];
    memcpy(e, d, 12);
    e[i] = (char)('0' + (e[i] - '0' + 1 + i % 9) % 10);
    FUZZ_CHECK(koop_check_pesel(e, 11, NULL) != NULL, "PESEL %s accepted, and so is %s", d, e);
  }
}

/* The verdict of every check on s[0..len): one bit each, 1 = valid; and
** every refusal is a non-empty message. */
static int verdicts(const char *s, size_t len)
{
  const char *why[4] = { koop_check_nip(s, len), koop_check_regon(s, len),
                         koop_check_terc(s, len), koop_check_pesel(s, len, NULL) };
  int v = 0;
  for (int i = 0; i < 4; i++) {
    FUZZ_CHECK(why[i] == NULL || why[i][0] != '\0', "an empty message from check %d", i);
    v |= (why[i] == NULL) << i;
  }
  return v;
}

/* koop.ids.X(s) agrees with the verdict bit, and its value is the digits. */
static void check_lua(const char *s, size_t len, int v)
{
  static lua_State *L;
  static const char *const names[4] = { "nip", "regon", "terc", "pesel" };
  if (!L) {
    L = luaL_newstate();
    luaL_openlibs(L);
    lua_newtable(L);
    koop_open_ids(L);
    lua_getfield(L, -1, "ids");
    lua_setglobal(L, "ids");
    lua_pop(L, 1);
  }
  for (int i = 0; i < 4; i++) {
    lua_getglobal(L, "ids");
    lua_getfield(L, -1, names[i]);
    lua_pushlstring(L, s, len);
    if (lua_pcall(L, 1, 2, 0) != LUA_OK) fuzz_fail("koop.ids.%s raised %s", names[i], lua_tostring(L, -1));
    int valid = lua_istable(L, -2);
    FUZZ_CHECK(valid == (v >> i & 1), "koop.ids.%s disagrees with the C check", names[i]);
    FUZZ_CHECK(valid ? lua_isnil(L, -1) : lua_isstring(L, -1), "koop.ids.%s: no message", names[i]);
    if (valid) {
      size_t n;
      lua_getfield(L, -2, "value");
      const char *value = lua_tolstring(L, -1, &n);
      FUZZ_CHECK(value && n >= 2 && strspn(value, "0123456789") == n, "koop.ids.%s value", names[i]);
    }
    lua_settop(L, 0);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *s = (const char *)data;
  int v = verdicts(s, size);
  check_nip(s, size);
  check_regon(s, size);
  check_terc(s, size);
  check_pesel(s, size);
  if (size < 256) {
    char padded[260];
    padded[0] = ' ';
    memcpy(padded + 1, s, size);
    padded[size + 1] = '\t';
    FUZZ_CHECK(verdicts(padded, size + 2) == v, "blanks around the input change a verdict");
  }
  check_lua(s, size, v);
  return 0;
}
