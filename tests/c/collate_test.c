/*
** collate_test.c — Polish collation and case folding in collate.c:
** the verified order of the domain reference §4 from many shuffles; case as
** a tertiary difference; spaces, digits and punctuation; foreign accents and
** expansions; decomposed letters; bytes that are not UTF-8 (no crash, and
** still a total order: checked on random byte strings); the SQLite
** collation PL and pl_lower/pl_upper (NULL, numbers, deterministic use in
** an index); koop.text from Lua; and the time to sort 100,000 names.
*/
#include "koop.h"

#include <lualib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"

/* Sign of koop_pl_compare on two C strings. */
static int cmp(const char *a, const char *b)
{
  int c = koop_pl_compare(a, strlen(a), b, strlen(b));
  return c < 0 ? -1 : c > 0;
}

/* qsort adapter over char *. */
static int cmp_ptr(const void *x, const void *y)
{
  return cmp(*(char *const *)x, *(char *const *)y);
}

/* a sorts strictly before b, and b after a. */
static void before(const char *a, const char *b)
{
  char what[160];
  snprintf(what, sizeof what, "\"%s\" < \"%s\"", a, b);
  check(cmp(a, b) < 0 && cmp(b, a) > 0, what, "compare gives %d and %d", cmp(a, b), cmp(b, a));
}

/* A small deterministic generator (xorshift). */
static unsigned long rng_state = 88172645463325252UL;
static unsigned long rng(void)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static const char *const verified[] = {
  "Azot", "Ąbc", "bogoria", "Bogoria", "Cedzyna", "Czarna", "Ćmielów", "Ełk", "Ęlk",
  "Korycin", "Lipnik", "Lublin", "Łoniów", "Łubnice", "Nowy", "Ńa", "Ołów", "Ostrów",
  "Ożarów", "Ósemka", "Sandomierz", "Szydłów", "Środa", "Zawichost", "Ząbki", "Źródła",
  "Żarnów"
};
#define NVERIFIED (sizeof verified / sizeof verified[0])

static void test_verified_list(void)
{
  const char *list[NVERIFIED];
  int all_good = 1;
  char detail[256] = "";
  for (int round = 0; round < 200 && all_good; round++) {
    memcpy(list, verified, sizeof list);
    for (size_t i = NVERIFIED - 1; i > 0; i--) {       /* Fisher-Yates */
      size_t j = rng() % (i + 1);
      const char *t = list[i]; list[i] = list[j]; list[j] = t;
    }
    qsort(list, NVERIFIED, sizeof list[0], cmp_ptr);
    for (size_t i = 0; i < NVERIFIED; i++)
      if (strcmp(list[i], verified[i]) != 0) {
        snprintf(detail, sizeof detail, "round %d: position %zu is %s, expected %s",
                 round, i, list[i], verified[i]);
        all_good = 0;
        break;
      }
  }
  check(all_good, "200 shuffles of the verified list sort back to it", "%s", detail);
  for (size_t i = 0; i + 1 < NVERIFIED; i++) before(verified[i], verified[i + 1]);
  check(cmp("Środa", "Środa") == 0, "equal strings compare 0", "%d", cmp("Środa", "Środa"));
  check(cmp("", "") == 0, "empty strings compare 0", "%d", cmp("", ""));
}

static void test_rules(void)
{
  /* case: a tertiary difference, lowercase first */
  before("bogoria", "Bogoria");
  before("Bogoria", "bogoriaa");
  before("łódź", "Łódź");
  before("łodzianin", "ŁÓDŹ");
  before("żar", "Żar");
  /* Polish letters are letters of their own */
  before("lz", "ł");
  before("Łz", "m");
  before("nz", "ń");
  before("oz", "ó");
  before("óz", "p");
  before("sz", "ś");
  before("zz", "ź");
  before("źz", "ż");
  before("az", "ą");
  before("ez", "ę");
  before("cz", "ć");
  /* spaces first, then digits, then letters; digits one by one */
  before("Nowy Sącz", "Nowy Targ");
  before("Nowy Targ", "Nowytarg");
  before(" a", "1a");
  before("10", "9");
  before("9", "a");
  before("Szkoła nr 1", "Szkoła nr 2");
  before("a", "a b");
  /* punctuation is ignored first, then counts: before letters at its place */
  before("Nowytarg", "Nowy-Targ");
  before("„Razem”", "Razem");
  before("„Razem”", "Razem dla Bogorii");
  before("a-b", "ab");
  before("-ą", "Ą");
  before("„Stowarzyszenie”", "Stowarzyszenie");
  before("Stowarzyszenie", "Stowarzyszenie”");
  /* foreign accents: the base letter, then the accent, then case */
  before("ecole", "Ecole");
  before("Ecole", "école");
  before("école", "École");
  before("Mueller", "Muller");
  before("Muller", "Müller");
  before("Müller", "Mullers");
  before("Strasse", "Straße");
  before("Straße", "Strassf");
  before("ae", "æ");
  before("æ", "af");
  before("d", "đ");
  before("ı", "j");
  before("iz", "ı");
  before("n", "ŋ");
  before("ŋ", "ń");
  before("ż", "þ");
  /* decomposed letters sort as composed ones (then differ in bytes) */
  before("oz", "o\xCC\x81");
  before("o\xCC\x81", "p");
  before("az", "a\xCC\xA8");
  before("a\xCC\xA8", "b");
  before("zz", "z\xCC\x87");
  before("z\xCC\x81z", "z\xCC\x87");
  before("Lodz", "Ło\xCC\x81" "dz\xCC\x81");
  before("e", "e\xCC\x81");
  before("e\xCC\x81", "f");
  check(cmp("o\xCC\x81", "\xC3\xB3") != 0, "decomposed ó differs from composed ó", "equal");
  check(cmp("o\xCC\x81" "a", "\xC3\xB3" "b") < 0, "decomposed ó is primary-equal to ó", "wrong");
  /* other scripts after Latin, case-insensitive first */
  before("żółw", "α");
  before("α", "е");
  before("жовтень", "Жовтень");
  before("Жовтень", "жовтеньк");
  /* embedded NUL bytes: lengths, not C strings */
  check(koop_pl_compare("a\0b", 3, "a\0c", 3) < 0, "embedded NUL compares by length", "wrong");
  check(koop_pl_compare("a\0b", 3, "a", 1) > 0, "a longer string with NUL sorts after", "wrong");
}

/* Random strings of bytes (valid UTF-8 or not) compare as a total order:
** antisymmetric, 0 only for identical bytes, and a sorted list is
** ordered pairwise (which catches intransitive results). */
static void test_total_order(void)
{
  enum { N = 400 };
  static const char *const pieces[] = {
    "a", "A", "ą", "Ą", "z", "ż", "Ż", "ł", " ", "-", ".", "1", "9", "é", "e", "\xCC\x81",
    "\xCC\xA8", "ß", "æ", "\xFF", "\xC5", "\xE2\x82", "\xED\xA0\x80", "\xC0\xAF", "\x01",
    "\t", "„", "ŉ", "ĳ", "Ĳ", "\xF4\x90\x80\x80", "\xF0\x9F\x98\x80", "\0"
  };
  static char buf[N][16];
  static size_t len[N];
  static int order[N];
  for (int i = 0; i < N; i++) {
    size_t n = 0;
    int parts = (int)(rng() % 6);
    for (int k = 0; k < parts; k++) {
      size_t which = rng() % (sizeof pieces / sizeof pieces[0]);
      const char *p = pieces[which];
      size_t plen = p[0] ? strlen(p) : 1;
      if (n + plen > sizeof buf[i]) break;
      memcpy(buf[i] + n, p, plen);
      n += plen;
    }
    len[i] = n;
    order[i] = i;
  }
  int antisymmetric = 1, zero_is_identity = 1;
  char detail[128] = "";
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) {
      int a = koop_pl_compare(buf[i], len[i], buf[j], len[j]);
      int b = koop_pl_compare(buf[j], len[j], buf[i], len[i]);
      if ((a < 0) != (b > 0) || (a > 0) != (b < 0)) antisymmetric = 0;
      int same = len[i] == len[j] && memcmp(buf[i], buf[j], len[i]) == 0;
      if ((a == 0) != same) {
        zero_is_identity = 0;
        snprintf(detail, sizeof detail, "strings %d and %d", i, j);
      }
    }
  check(antisymmetric, "random byte strings: compare(a,b) = -compare(b,a)", "not antisymmetric");
  check(zero_is_identity, "random byte strings: 0 only for identical bytes", "%s", detail);
  /* insertion sort with the comparison, then every pair must be ordered */
  for (int i = 1; i < N; i++) {
    int x = order[i], j = i - 1;
    while (j >= 0 && koop_pl_compare(buf[order[j]], len[order[j]], buf[x], len[x]) > 0) {
      order[j + 1] = order[j];
      j--;
    }
    order[j + 1] = x;
  }
  int transitive = 1;
  for (int i = 0; i < N && transitive; i++)
    for (int j = i + 1; j < N; j++) {
      int a = order[i], b = order[j];
      if (koop_pl_compare(buf[a], len[a], buf[b], len[b]) > 0) {
        transitive = 0;
        snprintf(detail, sizeof detail, "sorted positions %d and %d are out of order", i, j);
        break;
      }
    }
  check(transitive, "random byte strings: the sorted list is ordered pairwise", "%s", detail);
}

/* One SQL query's single text result (or "NULL"), into out. */
static void sql_text(sqlite3 *db, const char *sql, char *out, size_t size)
{
  sqlite3_stmt *st = NULL;
  snprintf(out, size, "(error)");
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
    snprintf(out, size, "(error: %s)", sqlite3_errmsg(db));
    return;
  }
  if (sqlite3_step(st) == SQLITE_ROW) {
    const char *t = (const char *)sqlite3_column_text(st, 0);
    snprintf(out, size, "%s", t ? t : "NULL");
  }
  sqlite3_finalize(st);
}

/* The SQL query returns `want`. */
static void sql_is(sqlite3 *db, const char *sql, const char *want)
{
  char got[512], what[300];
  sql_text(db, sql, got, sizeof got);
  snprintf(what, sizeof what, "SQL %s = %s", sql, want);
  check(strcmp(got, want) == 0, what, "got %s", got);
}

static void test_sqlite(void)
{
  sqlite3 *db;
  sqlite3_open(":memory:", &db);
  int rc = koop_collate_register(db);
  check(rc == SQLITE_OK, "koop_collate_register returns SQLITE_OK", "%d", rc);
  sql_is(db, "SELECT pl_lower('ŁÓDŹ')", "łódź");
  sql_is(db, "SELECT pl_upper('łódź żółć gęś')", "ŁÓDŹ ŻÓŁĆ GĘŚ");
  sql_is(db, "SELECT pl_upper('Zażółć gęślą jaźń')", "ZAŻÓŁĆ GĘŚLĄ JAŹŃ");
  sql_is(db, "SELECT pl_lower('ZAŻÓŁĆ GĘŚLĄ JAŹŃ')", "zażółć gęślą jaźń");
  sql_is(db, "SELECT pl_upper('àéîõüýÿæøåçñ')", "ÀÉÎÕÜÝŸÆØÅÇÑ");
  sql_is(db, "SELECT pl_lower('ÀÉÎÕÜÝŸÆØÅÇÑ')", "àéîõüýÿæøåçñ");
  sql_is(db, "SELECT pl_upper('čšžřěůőűĺľŕ')", "ČŠŽŘĚŮŐŰĹĽŔ");
  sql_is(db, "SELECT pl_lower('ČŠŽŘĚŮŐŰĹĽŔ')", "čšžřěůőűĺľŕ");
  sql_is(db, "SELECT pl_upper('straße')", "STRAßE");
  sql_is(db, "SELECT pl_upper('ıſ')", "IS");
  sql_is(db, "SELECT pl_lower('İ')", "i");
  sql_is(db, "SELECT pl_upper('жовтень ґанок')", "ЖОВТЕНЬ ҐАНОК");
  sql_is(db, "SELECT pl_lower('ЖОВТЕНЬ ЇЖАК')", "жовтень їжак");
  sql_is(db, "SELECT pl_upper('αβγ')", "ΑΒΓ");
  sql_is(db, "SELECT pl_lower(NULL) IS NULL AND pl_upper(NULL) IS NULL", "1");
  sql_is(db, "SELECT pl_upper(12)", "12");
  sql_is(db, "SELECT typeof(pl_lower(1.5)) || ' ' || pl_lower(1.5)", "text 1.5");
  sql_is(db, "SELECT hex(pl_upper(x'ff61c5'))", "FF41C5");
  sql_is(db, "SELECT ('ą' < 'b' COLLATE PL) || ('ą' < 'b')", "10");
  sql_is(db, "SELECT 'Bogoria' = 'bogoria' COLLATE PL", "0");
  sqlite3_exec(db, "CREATE TABLE t(name TEXT)", NULL, NULL, NULL);
  for (size_t i = NVERIFIED; i-- > 0;) {
    char *sql = sqlite3_mprintf("INSERT INTO t VALUES(%Q)", verified[(i * 7) % NVERIFIED]);
    sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_free(sql);
  }
  char want[1024] = "", got[1024];
  for (size_t i = 0; i < NVERIFIED; i++) {
    if (i) strcat(want, ",");
    strcat(want, verified[i]);
  }
  sql_text(db, "SELECT group_concat(name) FROM (SELECT name FROM t ORDER BY name COLLATE PL)",
           got, sizeof got);
  check(strcmp(got, want) == 0, "ORDER BY name COLLATE PL gives the verified list", "%s", got);
  rc = sqlite3_exec(db, "CREATE INDEX t_lower ON t(pl_lower(name))", NULL, NULL, NULL);
  check(rc == SQLITE_OK, "pl_lower is deterministic: usable in an index", "%s", sqlite3_errmsg(db));
  sql_is(db, "SELECT count(*) FROM t WHERE pl_lower(name) = 'łoniów'", "1");
  rc = sqlite3_exec(db, "CREATE INDEX t_pl ON t(name COLLATE PL)", NULL, NULL, NULL);
  check(rc == SQLITE_OK, "an index can use COLLATE PL", "%s", sqlite3_errmsg(db));
  sql_is(db, "SELECT name FROM t WHERE name > 'Z' COLLATE PL ORDER BY name COLLATE PL LIMIT 1",
         "Zawichost");
  sqlite3_close(db);
}

/* koop.text from Lua. */
static void test_lua(void)
{
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  lua_newtable(L);
  koop_open_text(L);
  lua_setglobal(L, "koop");
  static const struct { const char *what, *code; } cases[] = {
    { "lower", "return koop.text.lower('ŁÓDŹ Żółć') == 'łódź żółć'" },
    { "upper", "return koop.text.upper('gęślą jaźń') == 'GĘŚLĄ JAŹŃ'" },
    { "compare", "local c = koop.text.compare return c('Ąbc', 'Azot') == 1 and "
                 "c('Azot', 'Ąbc') == -1 and c('x', 'x') == 0 and math.type(c('a', 'b')) == 'integer'" },
    { "sort strings", "local t = {'Żarnów', 'Ąbc', 'Bogoria', 'bogoria', 'Azot'} "
                      "local r = koop.text.sort(t) return r == t and "
                      "table.concat(t, ',') == 'Azot,Ąbc,bogoria,Bogoria,Żarnów'" },
    { "sort by key, stable", "local t = {{n='Łoniów', i=1}, {n='Lublin', i=2}, {n='Łoniów', i=3}, "
                             "{n='Środa', i=4}, {i=5}} koop.text.sort(t, 'n') local o = {} "
                             "for _, r in ipairs(t) do o[#o+1] = r.i end "
                             "return table.concat(o, ',') == '5,2,1,3,4'" },
    { "sort numbers as text", "local t = {10, '9', 1} koop.text.sort(t) "
                              "return t[1] == 1 and t[2] == 10 and t[3] == '9'" },
    { "sort rejects a table element", "return not pcall(koop.text.sort, {'a', {}})" },
    { "sort of a short list", "local t = {} return koop.text.sort(t) == t and "
                              "koop.text.sort({'x'})[1] == 'x'" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char what[96];
    snprintf(what, sizeof what, "koop.text: %s", cases[i].what);
    int status = luaL_dostring(L, cases[i].code);
    check(status == LUA_OK && lua_toboolean(L, -1), what, "%s",
          status == LUA_OK ? "returned false" : lua_tostring(L, -1));
    lua_settop(L, 0);
  }
  lua_close(L);
}

/* Sorting 100,000 institution-like names: time it. */
static void test_speed(void)
{
  enum { N = 100000 };
  static const char *const words[] = {
    "Ośrodek", "Pomocy", "Społecznej", "w", "Bogorii", "Łoniowie", "Szkoła", "Podstawowa",
    "nr", "Środowiskowy", "Dom", "Samopomocy", "Urząd", "Gminy", "Zespół", "Żarnów",
    "Interdyscyplinarny", "Stowarzyszenie", "„Razem”", "Ąbc", "ŻŁOBEK", "ćma", "Ełk"
  };
  char **names = malloc(N * sizeof *names);
  char *pool = malloc((size_t)N * 96);
  for (int i = 0; i < N; i++) {
    char *s = pool + (size_t)i * 96;
    s[0] = '\0';
    for (int k = 0; k < 4; k++) {
      if (k) strcat(s, " ");
      strcat(s, words[rng() % (sizeof words / sizeof words[0])]);
    }
    names[i] = s;
  }
  clock_t t0 = clock();
  qsort(names, N, sizeof *names, cmp_ptr);
  double seconds = (double)(clock() - t0) / CLOCKS_PER_SEC;
  int ordered = 1;
  for (int i = 0; i + 1 < N; i++)
    if (cmp(names[i], names[i + 1]) > 0) ordered = 0;
  char what[96];
  snprintf(what, sizeof what, "100,000 names sorted in order in %.3f s", seconds);
  check(ordered && seconds < 10, what, "ordered=%d", ordered);
  free(names);
  free(pool);
}

int main(void)
{
  test_verified_list();
  test_rules();
  test_total_order();
  test_sqlite();
  test_lua();
  test_speed();
  printf("%d passed, %d failed\n", passed, failed);
  return failed > 0;
}
