/*
** ids_test.c — identifier checks in ids.c: PESEL (checksum, the five
** century encodings, real calendar dates, sex), NIP (separators, PL prefix,
** checksum, the impossible check value 10), REGON-9 and REGON-14 (with its
** REGON-9 prefix), TERC (voivodeship, powiat and gmina codes), all-zero
** values, wrong lengths and letters, and the exact messages.
** Vectors marked "domain" come from the domain reference §3; the others are
** built here with the PESEL weights in their second published form
** (9 7 3 1 9 7 3 1 9 7, check = sum mod 10), independent of ids.c's.
*/
#include "koop.h"

#include <lualib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

/* The problem reported for s by `fn` ("valid" when none). */
static const char *problem(const char *(*fn)(const char *, size_t), const char *s)
{
  const char *p = fn(s, strlen(s));
  return p ? p : "valid";
}

/* s is valid for fn. */
static void valid(const char *(*fn)(const char *, size_t), const char *kind, const char *s)
{
  char what[128];
  snprintf(what, sizeof what, "%s \"%s\" is valid", kind, s);
  const char *p = problem(fn, s);
  check(strcmp(p, "valid") == 0, what, "%s", p);
}

/* fn rejects s with exactly `message`. */
static void invalid(const char *(*fn)(const char *, size_t), const char *kind, const char *s,
                    const char *message)
{
  char what[160];
  snprintf(what, sizeof what, "%s \"%s\" is rejected: %s", kind, s, message);
  const char *p = problem(fn, s);
  check(strcmp(p, message) == 0, what, "got \"%s\"", p);
}

/* PESEL check without the decoded date, for the tables. */
static const char *pesel_only(const char *s, size_t len)
{
  return koop_check_pesel(s, len, NULL);
}

/* s (10 digits) with its PESEL check digit appended, into out[12]. */
static const char *with_pesel_check(const char *s, char out[12])
{
  static const int w[10] = { 9, 7, 3, 1, 9, 7, 3, 1, 9, 7 };
  int sum = 0;
  for (int i = 0; i < 10; i++) sum += (s[i] - '0') * w[i];
  memcpy(out, s, 10);
  out[10] = (char)('0' + sum % 10);
  out[11] = '\0';
  return out;
}

/* PESEL s is valid and decodes to date y-m-d and sex. */
static void pesel_decodes(const char *s, int y, int m, int d, char sex)
{
  char what[128];
  struct koop_pesel p = { 0, 0, 0, 0 };
  const char *why = koop_check_pesel(s, strlen(s), &p);
  snprintf(what, sizeof what, "PESEL %s is %04d-%02d-%02d %c", s, y, m, d, sex);
  check(!why && p.year == y && p.month == m && p.day == d && p.sex == sex, what,
        "%s; decoded %04d-%02d-%02d %c", why ? why : "valid", p.year, p.month, p.day,
        p.sex ? p.sex : '?');
}

static void test_pesel(void)
{
  char b[12];
  /* domain §3.1 vectors, and the scenario's synthetic family */
  pesel_decodes("44051401359", 1944, 5, 14, 'M');
  pesel_decodes("04231115629", 2004, 3, 11, 'K');
  pesel_decodes("02270803624", 2002, 7, 8, 'K');
  pesel_decodes("02070803628", 1902, 7, 8, 'K');
  pesel_decodes("90830512343", 1890, 3, 5, 'K');
  pesel_decodes("01410100113", 2101, 1, 1, 'M');
  pesel_decodes("00222900009", 2000, 2, 29, 'K');
  pesel_decodes("84031201236", 1984, 3, 12, 'M');
  pesel_decodes("87093004582", 1987, 9, 30, 'K');
  pesel_decodes("11250707812", 2011, 5, 7, 'M');
  pesel_decodes("14211909029", 2014, 1, 19, 'K');
  /* the other centuries and edges, built here */
  pesel_decodes(with_pesel_check("0561151234", b), 2205, 1, 15, 'K');   /* 2200s: +60 */
  pesel_decodes(with_pesel_check("9972311238", b), 2299, 12, 31, 'K');
  pesel_decodes(with_pesel_check("9083290001", b), 1890, 3, 29, 'M');
  pesel_decodes(with_pesel_check("0081010000", b), 1800, 1, 1, 'K');   /* 1800s: +80 */
  pesel_decodes(with_pesel_check("9992310002", b), 1899, 12, 31, 'K');
  pesel_decodes(with_pesel_check("9912310001", b), 1999, 12, 31, 'M');
  pesel_decodes(with_pesel_check("2442290004", b), 2124, 2, 29, 'K');  /* 2124 is leap */
  pesel_decodes(with_pesel_check("9604300007", b), 1996, 4, 30, 'M');
  pesel_decodes(" 44051401359\t", 1944, 5, 14, 'M');                   /* blanks around */

  invalid(pesel_only, "PESEL", "00000000000", "all-zero PESEL is not valid");
  invalid(pesel_only, "PESEL", "44051401358", "PESEL checksum digit is 8, expected 9");
  invalid(pesel_only, "PESEL", "00022900003", "PESEL encodes an impossible date 1900-02-29");
  invalid(pesel_only, "PESEL", "44023001356", "PESEL encodes an impossible date 1944-02-30");
  invalid(pesel_only, "PESEL", with_pesel_check("0042290000", b),
          "PESEL encodes an impossible date 2100-02-29");
  invalid(pesel_only, "PESEL", with_pesel_check("4404310000", b),
          "PESEL encodes an impossible date 1944-04-31");
  invalid(pesel_only, "PESEL", with_pesel_check("4405000000", b),
          "PESEL encodes an impossible date 1944-05-00");
  invalid(pesel_only, "PESEL", with_pesel_check("4413010000", b),
          "PESEL encodes an impossible month (month digits 13)");
  invalid(pesel_only, "PESEL", with_pesel_check("4400010000", b),
          "PESEL encodes an impossible month (month digits 00)");
  invalid(pesel_only, "PESEL", with_pesel_check("4493010000", b),
          "PESEL encodes an impossible month (month digits 93)");
  invalid(pesel_only, "PESEL", "4405140135", "PESEL must have 11 digits, found 10");
  invalid(pesel_only, "PESEL", "440514013590", "PESEL must have 11 digits, found 12");
  invalid(pesel_only, "PESEL", "", "PESEL must have 11 digits, found 0");
  invalid(pesel_only, "PESEL", "4405140135X", "PESEL may contain only digits");
  invalid(pesel_only, "PESEL", "440514 01359", "PESEL may contain only digits");
  invalid(pesel_only, "PESEL", "44-05-14-01359", "PESEL may contain only digits");

  /* the message buffer holds the latest message, which has the right digits */
  const char *first = koop_check_pesel("44051401358", 11, NULL);
  check(first && strstr(first, "is 8, expected 9"), "PESEL message quotes the digits",
        "%s", first ? first : "valid");
  const char *embedded = koop_check_pesel("4405140\0" "1359", 12, NULL);
  check(embedded && strcmp(embedded, "PESEL may contain only digits") == 0,
        "PESEL with an embedded NUL is rejected", "%s", embedded ? embedded : "valid");
}

static void test_nip(void)
{
  valid(koop_check_nip, "NIP", "8660000016");                          /* domain */
  valid(koop_check_nip, "NIP", "1234563218");
  valid(koop_check_nip, "NIP", "123-456-32-18");
  valid(koop_check_nip, "NIP", "123-45-63-218");
  valid(koop_check_nip, "NIP", "866-000-00-16");
  valid(koop_check_nip, "NIP", "PL1234563218");
  valid(koop_check_nip, "NIP", "pl 123 456 32 18");
  valid(koop_check_nip, "NIP", "  8660000016 ");
  invalid(koop_check_nip, "NIP", "1234563217", "NIP checksum digit is 7, expected 8");
  invalid(koop_check_nip, "NIP", "866-000-00-17", "NIP checksum digit is 7, expected 6");
  invalid(koop_check_nip, "NIP", "1234567890",
          "NIP is not valid: its first 9 digits give check value 10, which is never issued");
  invalid(koop_check_nip, "NIP", "1234560020",
          "NIP is not valid: its first 9 digits give check value 10, which is never issued");
  invalid(koop_check_nip, "NIP", "0000000000", "all-zero NIP is not valid");
  invalid(koop_check_nip, "NIP", "000-000-00-00", "all-zero NIP is not valid");
  invalid(koop_check_nip, "NIP", "123456321", "NIP must have 10 digits, found 9");
  invalid(koop_check_nip, "NIP", "12345632188", "NIP must have 10 digits, found 11");
  invalid(koop_check_nip, "NIP", "", "NIP must have 10 digits, found 0");
  invalid(koop_check_nip, "NIP", "PL", "NIP must have 10 digits, found 0");
  invalid(koop_check_nip, "NIP", "12345632I8",
          "NIP may contain only digits, spaces and '-' (and the prefix PL)");
  invalid(koop_check_nip, "NIP", "DE1234563218",
          "NIP may contain only digits, spaces and '-' (and the prefix PL)");
  invalid(koop_check_nip, "NIP", "123.456.32.18",
          "NIP may contain only digits, spaces and '-' (and the prefix PL)");
  invalid(koop_check_nip, "NIP", "1234563218PL",
          "NIP may contain only digits, spaces and '-' (and the prefix PL)");
}

static void test_regon(void)
{
  valid(koop_check_regon, "REGON", "990000016");                        /* domain */
  valid(koop_check_regon, "REGON", "99000001600012");
  valid(koop_check_regon, "REGON", "123456785");
  valid(koop_check_regon, "REGON", "100000050");                       /* mod gives 10 → 0 */
  valid(koop_check_regon, "REGON", "12345678512347");
  valid(koop_check_regon, "REGON", "123-456-785");
  valid(koop_check_regon, "REGON", " 123456785 ");
  invalid(koop_check_regon, "REGON", "123456786", "REGON checksum digit is 6, expected 5");
  invalid(koop_check_regon, "REGON", "12345678512348", "REGON checksum digit is 8, expected 7");
  invalid(koop_check_regon, "REGON", "000000000", "all-zero REGON is not valid");
  invalid(koop_check_regon, "REGON", "00000000000000", "all-zero REGON is not valid");
  /* 14 digits whose own check digit is right but whose REGON-9 is not */
  invalid(koop_check_regon, "REGON", "12345678612342",
          "REGON-14 starts with an invalid REGON-9 (checksum digit is 6, expected 5)");
  invalid(koop_check_regon, "REGON", "00000000000018", "REGON-14 starts with an all-zero REGON-9");
  invalid(koop_check_regon, "REGON", "12345678", "REGON must have 9 or 14 digits, found 8");
  invalid(koop_check_regon, "REGON", "1234567851", "REGON must have 9 or 14 digits, found 10");
  invalid(koop_check_regon, "REGON", "1234567851234", "REGON must have 9 or 14 digits, found 13");
  invalid(koop_check_regon, "REGON", "", "REGON must have 9 or 14 digits, found 0");
  invalid(koop_check_regon, "REGON", "12345678S",
          "REGON may contain only digits, spaces and '-'");
}

static void test_terc(void)
{
  valid(koop_check_terc, "TERC", "26");                                /* świętokrzyskie */
  valid(koop_check_terc, "TERC", "02");
  valid(koop_check_terc, "TERC", "32");
  valid(koop_check_terc, "TERC", "2612");                              /* powiat staszowski */
  valid(koop_check_terc, "TERC", "1465");                              /* Warszawa */
  valid(koop_check_terc, "TERC", "2612012");                           /* Bogoria until 2023 */
  valid(koop_check_terc, "TERC", "2612013");
  valid(koop_check_terc, "TERC", "2612014");
  valid(koop_check_terc, "TERC", "2612015");
  valid(koop_check_terc, "TERC", "2609052");                           /* Łoniów */
  valid(koop_check_terc, "TERC", "2011032");                           /* Korycin */
  valid(koop_check_terc, "TERC", "1465011");                           /* Warszawa */
  valid(koop_check_terc, "TERC", "1465028");                           /* a district */
  valid(koop_check_terc, "TERC", "1261029");                           /* a delegatura */
  invalid(koop_check_terc, "TERC", "0000000", "all-zero TERC code is not valid");
  invalid(koop_check_terc, "TERC", "00", "all-zero TERC code is not valid");
  invalid(koop_check_terc, "TERC", "01", "TERC voivodeship code 01 does not exist (even numbers 02-32)");
  invalid(koop_check_terc, "TERC", "27", "TERC voivodeship code 27 does not exist (even numbers 02-32)");
  invalid(koop_check_terc, "TERC", "34", "TERC voivodeship code 34 does not exist (even numbers 02-32)");
  invalid(koop_check_terc, "TERC", "0012012",
          "TERC voivodeship code 00 does not exist (even numbers 02-32)");
  invalid(koop_check_terc, "TERC", "2600", "TERC powiat code 00 is not valid");
  invalid(koop_check_terc, "TERC", "2600012", "TERC powiat code 00 is not valid");
  invalid(koop_check_terc, "TERC", "2612002", "TERC gmina code 00 is not valid");
  invalid(koop_check_terc, "TERC", "2612016", "TERC kind digit (rodzaj) 6 is not valid (1-5, 8 or 9)");
  invalid(koop_check_terc, "TERC", "2612017", "TERC kind digit (rodzaj) 7 is not valid (1-5, 8 or 9)");
  invalid(koop_check_terc, "TERC", "2612010", "TERC kind digit (rodzaj) 0 is not valid (1-5, 8 or 9)");
  invalid(koop_check_terc, "TERC", "261201",
          "TERC code must have 2 (voivodeship), 4 (powiat) or 7 (gmina) digits, found 6");
  invalid(koop_check_terc, "TERC", "2",
          "TERC code must have 2 (voivodeship), 4 (powiat) or 7 (gmina) digits, found 1");
  invalid(koop_check_terc, "TERC", "", 
          "TERC code must have 2 (voivodeship), 4 (powiat) or 7 (gmina) digits, found 0");
  invalid(koop_check_terc, "TERC", "26 12 01 2", "TERC code may contain only digits");
  invalid(koop_check_terc, "TERC", "26-12", "TERC code may contain only digits");
}

/* koop.ids from Lua: info tables, nil + message, non-strings. */
static void test_lua(void)
{
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  lua_newtable(L);
  koop_open_ids(L);
  lua_setglobal(L, "koop");
  static const struct { const char *what, *code; } cases[] = {
    { "pesel info", "local t = koop.ids.pesel('84031201236') return t.value == '84031201236' "
                    "and t.birth_date == '1984-03-12' and t.sex == 'M'" },
    { "pesel 1800s date", "return koop.ids.pesel('90830512343').birth_date == '1890-03-05'" },
    { "pesel trims blanks", "return koop.ids.pesel(' 87093004582 ').value == '87093004582'" },
    { "pesel refusal", "local t, m = koop.ids.pesel('00022900003') return t == nil and "
                       "m == 'PESEL encodes an impossible date 1900-02-29'" },
    { "pesel number refused", "local t, m = koop.ids.pesel(84031201236) return t == nil and "
                              "m == 'PESEL must be given as a string, got number'" },
    { "nip normalised", "return koop.ids.nip('PL 866-000-00-16').value == '8660000016'" },
    { "nip refusal", "local t, m = koop.ids.nip('1234563217') return t == nil and "
                     "m == 'NIP checksum digit is 7, expected 8'" },
    { "nip nil refused", "local t, m = koop.ids.nip() return t == nil and m:find('got no value')" },
    { "regon 9", "local t = koop.ids.regon('990000016') return t.value == '990000016' and "
                 "t.kind == 9 and t.parent == nil" },
    { "regon 14", "local t = koop.ids.regon('99000001600012') return t.kind == 14 and "
                  "t.parent == '990000016'" },
    { "terc gmina", "local t = koop.ids.terc('2612012') return t.level == 'gmina' and "
                    "t.woj == '26' and t.pow == '12' and t.gmi == '01' and t.rodzaj == 2 and "
                    "t.rodzaj_name == 'gmina wiejska' and t.woj_name == 'świętokrzyskie'" },
    { "terc powiat", "local t = koop.ids.terc('2612') return t.level == 'powiat' and "
                     "t.pow == '12' and t.gmi == nil and t.rodzaj == nil" },
    { "terc voivodeship", "local t = koop.ids.terc('20') return t.level == 'wojewodztwo' and "
                          "t.woj_name == 'podlaskie' and t.pow == nil" },
    { "terc refusal", "local t, m = koop.ids.terc('2612016') return t == nil and m:find('rodzaj')" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char what[96];
    snprintf(what, sizeof what, "koop.ids: %s", cases[i].what);
    int status = luaL_dostring(L, cases[i].code);
    check(status == LUA_OK && lua_toboolean(L, -1), what, "%s",
          status == LUA_OK ? "returned false" : lua_tostring(L, -1));
    lua_settop(L, 0);
  }
  lua_close(L);
}

int main(void)
{
  test_pesel();
  test_nip();
  test_regon();
  test_terc();
  test_lua();
  printf("%d passed, %d failed\n", passed, failed);
  return failed > 0;
}
