/*
** csv_test.c — the CSV reader of csv.c, through its C API and koop.csv:
** empty fields, quoted separators and quotes, embedded newlines (and the
** line numbers after them), CRLF / LF / CR, a BOM, blank lines, the last
** line without a newline, an empty file, a header only, separator
** detection, unterminated quotes, text after a closing quote, field count
** errors naming the line, bytes that are not UTF-8, CP1250 conversion,
** UTF-16 files, skip/ragged/fields options, encoding detection, files
** whose records cross the read buffer (random round trips, a 1 MB field),
** and the Lua surface (iterators, break closing the file, error objects,
** no file reading under --safe).
*/
#include "koop.h"

#include <errno.h>
#include <lualib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

/* A growing string. */
struct text { char *s; size_t len, cap; };

/* Append n bytes to t. */
static void add(struct text *t, const char *s, size_t n)
{
  if (t->len + n + 1 > t->cap) {
    t->cap = (t->len + n + 1) * 2;
    t->s = realloc(t->s, t->cap);
  }
  memcpy(t->s + t->len, s, n);
  t->len += n;
  t->s[t->len] = '\0';
}

/* Append a C string to t. */
static void adds(struct text *t, const char *s) { add(t, s, strlen(s)); }

/* Render every row the reader gives as "L:f1|f2;" (L the row's line, \n
** \r | shown escaped), and an error as "!code: message". */
static char *render(struct koop_csv *c)
{
  struct text t = { NULL, 0, 0 };
  char num[32];
  int r;
  adds(&t, "");
  while ((r = koop_csv_next(c)) == 1) {
    snprintf(num, sizeof num, "%ld:", koop_csv_line(c));
    adds(&t, num);
    for (size_t i = 0; i < koop_csv_count(c); i++) {
      size_t len;
      const char *f = koop_csv_field(c, i, &len);
      if (i) adds(&t, "|");
      for (size_t k = 0; k < len; k++)
        adds(&t, f[k] == '\n' ? "\\n" : f[k] == '\r' ? "\\r" : f[k] == '|' ? "\\|" :
                 f[k] == '\0' ? "\\0" : (char[2]){ f[k], 0 });
      if (f[len] != '\0') adds(&t, "<not NUL-terminated>");
    }
    adds(&t, ";");
  }
  if (r < 0) {
    const char *message, *code = koop_csv_error(c, &message);
    adds(&t, "!");
    adds(&t, code);
    adds(&t, ": ");
    adds(&t, message);
  }
  return t.s;
}

/* Parsing data (len bytes) with options o renders as `want`. */
static void parses(const char *what, const char *data, size_t len,
                   const struct koop_csv_options *o, const char *want)
{
  struct koop_csv *c = koop_csv_open_mem(data, len, "t.csv", o);
  char *got = render(c);
  check(strcmp(got, want) == 0, what, "\n    want %s\n    got  %s", want, got);
  free(got);
  koop_csv_close(c);
}

#define PARSES(what, lit, o, want) parses(what, lit, sizeof lit - 1, o, want)

static void test_basics(void)
{
  PARSES("two rows", "a,b,c\n1,2,3\n", NULL, "1:a|b|c;2:1|2|3;");
  PARSES("empty fields", "a,,c\n,,\n", NULL, "1:a||c;2:||;");
  PARSES("quoted separators", "\"a,b\",c\n\"x\",\"y,z\"\n", NULL, "1:a,b|c;2:x|y,z;");
  PARSES("doubled quotes", "\"say \"\"hi\"\"\",\"\"\"\"\n", NULL, "1:say \"hi\"|\";");
  PARSES("empty quoted field", "\"\",x\n", NULL, "1:|x;");
  PARSES("embedded newline keeps line numbers", "\"one\ntwo\",x\nnext,y\n\"a\n\nb\",z\nlast,w\n",
         NULL, "1:one\\ntwo|x;3:next|y;4:a\\n\\nb|z;7:last|w;");
  PARSES("CRLF line ends", "a,b\r\n1,2\r\n", NULL, "1:a|b;2:1|2;");
  PARSES("CR line ends", "a,b\r1,2\r", NULL, "1:a|b;2:1|2;");
  PARSES("CRLF inside quotes is kept", "\"x\r\ny\",z\r\n", NULL, "1:x\\r\\ny|z;");
  PARSES("last line without newline", "a,b\n1,2", NULL, "1:a|b;2:1|2;");
  PARSES("quoted field ends the file", "a,\"b\"", NULL, "1:a|b;");
  PARSES("empty file", "", NULL, "");
  PARSES("only a newline", "\n", NULL, "");
  PARSES("header only", "id,name\n", NULL, "1:id|name;");
  PARSES("blank lines are skipped", "a\n\n\r\n\nb\n\n", NULL, "1:a;5:b;");
  PARSES("trailing separator is an empty field", "a,b,\n1,2,\n", NULL, "1:a|b|;2:1|2|;");
  PARSES("bare quote inside a field is text", "a\"b,c\n", NULL, "1:a\"b|c;");
  PARSES("spaces are kept", " a , b \n", NULL, "1: a | b ;");
  PARSES("UTF-8 BOM is skipped", "\xEF\xBB\xBFid;nazwa\n1;Łódź\n", NULL, "1:id|nazwa;2:1|Łódź;");
  PARSES("NUL bytes are data", "a\0b,c\n", NULL, "1:a\\0b|c;");
  PARSES("multibyte text", "gmina;kwota\nŻółć gęślą;„56 340,00 zł”\n", NULL,
         "1:gmina|kwota;2:Żółć gęślą|„56 340,00 zł”;");
  PARSES("4-byte UTF-8", "\xF0\x9F\x98\x80,x\n", NULL, "1:\xF0\x9F\x98\x80|x;");
}

static void test_separators(void)
{
  PARSES("detects ;", "a;b;c\n1;2;3\n", NULL, "1:a|b|c;2:1|2|3;");
  PARSES("detects TAB", "a\tb\n1\t2\n", NULL, "1:a|b;2:1|2;");
  PARSES("quoted separators do not count", "\"a;b;c\",d,e\n", NULL, "1:a;b;c|d|e;");
  PARSES("a tie prefers ;", "a;b,c\n", NULL, "1:a|b,c;");
  PARSES("no separator: one field, comma", "abc\nd,e\n", NULL, "1:abc;!csv: t.csv: line 2: expected 1 fields, found 2");
  PARSES("detection skips blank lines", "\n\na;b\n", NULL, "3:a|b;");
  struct koop_csv_options o = { .sep = '|' };
  PARSES("explicit separator", "a|b,c\n", &o, "1:a|b,c;");
  o.sep = ',';
  PARSES("explicit separator over detection", "a;b,c\n", &o, "1:a;b|c;");
  struct koop_csv *c = koop_csv_open_mem("x;y\n", 4, "t.csv", NULL);
  check(koop_csv_sep(c) == ';', "koop_csv_sep before the first row", "%c", koop_csv_sep(c));
  koop_csv_close(c);
}

static void test_errors(void)
{
  PARSES("unterminated quote names its line", "a,b\n1,\"open\n2,3\n4,5\n", NULL,
         "1:a|b;!csv: t.csv: line 2: the quote that opens field 2 is never closed "
         "(the file ends first)");
  PARSES("quote opened right before the end", "a,\"", NULL,
         "!csv: t.csv: line 1: the quote that opens field 2 is never closed (the file ends first)");
  PARSES("field count against the header",
         "a,b,c,d,e\n1,2,3,4,5\n1,2,3,4,5\n\"x\ny\",2,3,4,5\n1,2,3,4,5\n1,2,3,4\n", NULL,
         "1:a|b|c|d|e;2:1|2|3|4|5;3:1|2|3|4|5;4:x\\ny|2|3|4|5;6:1|2|3|4|5;"
         "!csv: t.csv: line 7: expected 5 fields, found 4");
  PARSES("too many fields", "a,b\n1,2,3\n", NULL, "1:a|b;!csv: t.csv: line 2: expected 2 fields, found 3");
  PARSES("text after a closing quote", "a,b\n\"x\"y,z\n", NULL,
         "1:a|b;!csv: t.csv: line 2: field 1 has text after its closing quote "
         "(a quote inside a quoted field must be doubled: \"\")");
  PARSES("invalid UTF-8 names line and field", "a,b\n1,2\nx,\xB3\xF3\n", NULL,
         "1:a|b;2:1|2;!encoding: t.csv: line 3: byte 0xB3 in field 2 is not valid UTF-8 "
         "(is the file in CP1250? then read it with that encoding)");
  PARSES("invalid UTF-8 inside quotes after a newline", "a,b\n\"1\n\xFF\",2\n", NULL,
         "1:a|b;!encoding: t.csv: line 3: byte 0xFF in field 1 is not valid UTF-8 "
         "(is the file in CP1250? then read it with that encoding)");
  PARSES("overlong UTF-8", "\xC0\xAF\n", NULL,
         "!encoding: t.csv: line 1: byte 0xC0 in field 1 is not valid UTF-8 "
         "(is the file in CP1250? then read it with that encoding)");
  PARSES("UTF-8 surrogate", "a\xED\xA0\x80\n", NULL,
         "!encoding: t.csv: line 1: byte 0xED in field 1 is not valid UTF-8 "
         "(is the file in CP1250? then read it with that encoding)");
  PARSES("UTF-8 cut by the end of the file", "ab\xC5", NULL,
         "!encoding: t.csv: line 1: byte 0xC5 in field 1 is not valid UTF-8 "
         "(is the file in CP1250? then read it with that encoding)");
  PARSES("UTF-16 is refused", "\xFF\xFE" "a\0,\0b\0", NULL,
         "!encoding: t.csv: the file is UTF-16 text (Excel's \"Unicode text\"); "
         "save it as \"CSV UTF-8\" instead");
  struct koop_csv *c = koop_csv_open_mem("a\n\"b\n", 5, "t.csv", NULL);
  int first = koop_csv_next(c), second = koop_csv_next(c), third = koop_csv_next(c);
  check(first == 1 && second == -1 && third == -1 && koop_csv_count(c) == 0,
        "an error is sticky", "%d %d %d", first, second, third);
  check(koop_csv_line(c) == 2, "the error's line is kept", "%ld", koop_csv_line(c));
  koop_csv_close(c);
  errno = 0;
  c = koop_csv_open("/nonexistent/x.csv", NULL);
  check(!c && errno == ENOENT, "a missing file gives NULL and ENOENT", "errno %d", errno);
  c = koop_csv_open("/tmp", NULL);
  check(!c && errno == EISDIR, "a directory gives NULL and EISDIR", "errno %d", errno);
}

static void test_options(void)
{
  struct koop_csv_options o = { .cp1250 = 1 };
  PARSES("CP1250 is converted", "gmina;kto\n\xA3\xF3\x64\x9F;\xAF\xF3\xB3\xE6 \xB9\xE6\xEA\x9C\xF1\n", &o,
         "1:gmina|kto;2:Łódź|Żółć ąćęśń;");
  PARSES("CP1250 punctuation", "\x84Razem\x94 \x96 \x80\n", &o, "1:„Razem” – €;");
  PARSES("undefined CP1250 byte", "a\nb\x81\n", &o,
         "1:a;!encoding: t.csv: line 2: byte 0x81 in field 1 is not a CP1250 character");
  PARSES("UTF-8 BOM with CP1250 asked", "\xEF\xBB\xBFx\n", &o,
         "!encoding: t.csv: the file starts with a UTF-8 byte order mark, so it is UTF-8, not CP1250");
  o = (struct koop_csv_options){ .skip = 2 };
  PARSES("skip lines before the header", "Raport z 2024\n\nid;name\n1;x\n", &o, "3:id|name;4:1|x;");
  PARSES("skip more lines than there are", "a\n", &o, "");
  o = (struct koop_csv_options){ .ragged = 1 };
  PARSES("ragged rows", "a,b\n1\n1,2,3\n", &o, "1:a|b;2:1;3:1|2|3;");
  o = (struct koop_csv_options){ .fields = 3 };
  PARSES("a fixed field count", "1,2,3\n1,2\n", &o, "1:1|2|3;!csv: t.csv: line 2: expected 3 fields, found 2");
}

/* Write len bytes to a new temporary file; its path into path[32]. */
static int write_temp(char path[32], const char *data, size_t len)
{
  strcpy(path, "/tmp/koop-csv-XXXXXX");
  int fd = mkstemp(path);
  if (fd < 0) return -1;
  int ok = write(fd, data, len) == (ssize_t)len;
  close(fd);
  return ok ? 0 : -1;
}

/* Append field s to t, quoted when it must be. */
static void add_field(struct text *t, const char *s, char sep)
{
  if (!strpbrk(s, "\"\r\n,;") && !strchr(s, sep) && *s) {
    adds(t, s);
    return;
  }
  adds(t, "\"");
  for (; *s; s++) adds(t, *s == '"' ? "\"\"" : (char[2]){ *s, 0 });
  adds(t, "\"");
}

/* Random rows written to a file read back the same, across many buffer
** refills: fields with quotes, separators, CR/LF, multibyte letters. */
static void test_round_trip(void)
{
  static const char *const pieces[] = {
    "a", "Łódź", "\"", ";", ",", "\n", "\r\n", "\r", " ", "żółć", "12345", "€", "x y", "\xF0\x9F\x98\x80"
  };
  enum { ROWS = 40000, FIELDS = 5 };
  unsigned long seed = 12345;
  struct text file = { NULL, 0, 0 }, expect = { NULL, 0, 0 };
  adds(&file, "\xEF\xBB\xBF");
  adds(&expect, "");
  long line = 1;
  char num[32];
  for (int r = 0; r < ROWS; r++) {
    snprintf(num, sizeof num, "%ld:", line);
    adds(&expect, num);
    for (int f = 0; f < FIELDS; f++) {
      char field[64] = "";
      int parts = (int)((seed = seed * 6364136223846793005UL + 1442695040888963407UL) >> 60) % 5;
      for (int k = 0; k < parts; k++) {
        seed = seed * 6364136223846793005UL + 1442695040888963407UL;
        strcat(field, pieces[(seed >> 33) % (sizeof pieces / sizeof pieces[0])]);
      }
      if (r == 0 && f == 0 && !field[0]) strcpy(field, "h");   /* a non-blank first line */
      if (f) { adds(&file, ";"); adds(&expect, "|"); }
      add_field(&file, field, ';');
      for (const char *p = field; *p; p++) {
        if (*p == '\n') line++;
        adds(&expect, *p == '\n' ? "\\n" : *p == '\r' ? "\\r" : (char[2]){ *p, 0 });
      }
    }
    adds(&file, r % 3 ? "\n" : "\r\n");
    adds(&expect, ";");
    line++;
  }
  char path[32];
  if (write_temp(path, file.s, file.len) < 0) {
    check(0, "round trip: write the file", "%s", strerror(errno));
    return;
  }
  struct koop_csv *c = koop_csv_open(path, NULL);
  char *got = render(c);
  size_t at = 0;
  while (got[at] && got[at] == expect.s[at]) at++;
  char what[96];
  snprintf(what, sizeof what, "round trip of %d random rows (%zu bytes) through a file", ROWS, file.len);
  check(strcmp(got, expect.s) == 0, what, "first difference at byte %zu: want %.40s… got %.40s…",
        at, expect.s + at, got + at);
  koop_csv_close(c);
  free(got);

  /* the same bytes through a pipe on stdin, written a few bytes at a time,
  ** so that records, CRLFs, quote pairs and letters are cut everywhere */
  int fds[2];
  if (pipe(fds) == 0) {
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
      close(fds[0]);
      size_t at = 0, step = 1;
      while (at < file.len) {
        size_t n = file.len - at < step ? file.len - at : step;
        if (write(fds[1], file.s + at, n) < 0) _exit(1);
        at += n;
        step = step % 7 + 1;
        if (at > 300000) step = 65536;      /* then the rest at full speed */
      }
      _exit(0);
    }
    close(fds[1]);
    int saved = dup(0);
    dup2(fds[0], 0);
    close(fds[0]);
    c = koop_csv_open("-", NULL);
    got = render(c);
    check(strcmp(got, expect.s) == 0 && !strcmp(koop_csv_name(c), "stdin"),
          "round trip through a pipe on stdin, 1-7 bytes per write", "differs");
    koop_csv_close(c);
    free(got);
    dup2(saved, 0);
    close(saved);
    waitpid(child, NULL, 0);
  }

  /* the same file through the memory reader */
  c = koop_csv_open_mem(file.s, file.len, "mem", NULL);
  got = render(c);
  check(strcmp(got, expect.s) == 0, "round trip through the memory reader", "differs");
  koop_csv_close(c);
  free(got);
  unlink(path);
  free(file.s);
  free(expect.s);
}

/* A 1 MB quoted field with escapes, and records cut at every buffer end. */
static void test_big_records(void)
{
  struct text file = { NULL, 0, 0 };
  adds(&file, "id,text\n1,\"");
  for (int i = 0; i < 100000; i++) adds(&file, "ab\"\"c\nżź");
  adds(&file, "\"\n2,end\n");
  char path[32];
  if (write_temp(path, file.s, file.len) < 0) {
    check(0, "big record: write the file", "%s", strerror(errno));
    return;
  }
  struct koop_csv *c = koop_csv_open(path, NULL);
  int r1 = koop_csv_next(c), r2 = koop_csv_next(c);
  size_t len = 0;
  const char *text = r2 == 1 ? koop_csv_field(c, 1, &len) : NULL;
  static const char start[] = "ab\"c\nżźab\"c";
  int good = r1 == 1 && r2 == 1 && len == 100000 * 9 &&
             memcmp(text, start, sizeof start - 1) == 0 && strlen(text) == len;
  check(good, "a 1 MB quoted field with 100,000 escapes and newlines", "r1=%d r2=%d len=%zu", r1, r2, len);
  int r3 = koop_csv_next(c);
  check(r3 == 1 && koop_csv_line(c) == 100003 && !strcmp(koop_csv_field(c, 1, NULL), "end"),
        "the row after it is on line 100003", "r3=%d line %ld", r3, koop_csv_line(c));
  check(koop_csv_next(c) == 0, "then the end", "more rows");
  koop_csv_close(c);
  unlink(path);
  free(file.s);
}

static void test_detect_encoding(void)
{
  static const struct { const char *what, *data; size_t len; const char *want; } cases[] = {
    { "ASCII is utf-8", "id,name\n1,x\n", 12, "utf-8" },
    { "UTF-8 is utf-8", "\xC5\x81\xC3\xB3\x64\xC5\xBA\n", 8, "utf-8" },
    { "UTF-8 with BOM", "\xEF\xBB\xBFx\n", 5, "utf-8" },
    { "CP1250 bytes", "\xA3\xF3\x64\x9F\n", 5, "cp1250" },
    { "UTF-16LE by BOM", "\xFF\xFEx\0", 4, "utf-16le" },
    { "UTF-16BE by BOM", "\xFE\xFF\0x", 4, "utf-16be" },
    { "a cut sequence at the end", "ab\xC5", 3, "cp1250" },
    { "an empty file", "", 0, "utf-8" },
  };
  char path[32], what[96];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    write_temp(path, cases[i].data, cases[i].len);
    const char *got = koop_csv_detect_encoding(path);
    snprintf(what, sizeof what, "detect_encoding: %s", cases[i].what);
    check(got && !strcmp(got, cases[i].want), what, "got %s", got ? got : "NULL");
    unlink(path);
  }
  /* a UTF-8 letter cut by the 64 KiB read of the detector */
  struct text t = { NULL, 0, 0 };
  for (int i = 0; i < 65535; i++) adds(&t, "a");
  adds(&t, "ł and then \xA3");
  write_temp(path, t.s, t.len);
  const char *got = koop_csv_detect_encoding(path);
  check(got && !strcmp(got, "cp1250"), "detect_encoding looks past the first 64 KiB", "%s", got ? got : "NULL");
  unlink(path);
  t.len = 65535;
  adds(&t, "ł\n");
  write_temp(path, t.s, t.len);
  got = koop_csv_detect_encoding(path);
  check(got && !strcmp(got, "utf-8"), "detect_encoding: a letter across 64 KiB reads", "%s", got ? got : "NULL");
  unlink(path);
  free(t.s);
  errno = 0;
  check(!koop_csv_detect_encoding("/nonexistent/x.csv") && errno == ENOENT,
        "detect_encoding of a missing file: NULL, ENOENT", "errno %d", errno);
}

/* koop.csv from Lua, over a file written here. */
static void test_lua(void)
{
  char path[32], bad[32], cp[32];
  static const char data[] = "\xEF\xBB\xBFid;nazwa;kwota\r\n1;Łoniów;\"56 340,00\"\r\n"
                             "2;\"Bogoria\nmiasto\";\r\n3;Korycin;7\r\n";
  static const char broken[] = "a,b\n1,2\n3\n";
  static const char cp1250[] = "a;b\n\xA3\xF3\x64\x9F;x\n";
  write_temp(path, data, sizeof data - 1);
  write_temp(bad, broken, sizeof broken - 1);
  write_temp(cp, cp1250, sizeof cp1250 - 1);
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  lua_newtable(L);
  koop_open_errors(L);
  koop_open_csv(L);
  lua_setglobal(L, "koop");
  lua_pushstring(L, path); lua_setglobal(L, "F");
  lua_pushstring(L, bad); lua_setglobal(L, "BAD");
  lua_pushstring(L, cp); lua_setglobal(L, "CP");
  static const struct { const char *what, *code; } cases[] = {
    { "rows as named tables", "local n, s = 0, '' for r in koop.csv.rows(F) do n = n + 1 "
      "s = s .. r.id .. '=' .. r.nazwa .. '/' .. r.kwota .. ';' end "
      "return n == 3 and s == '1=Łoniów/56 340,00;2=Bogoria\\nmiasto/;3=Korycin/7;'" },
    { "unpack gives values", "local s = '' for id, name, amount in koop.csv.rows(F, {unpack=true}) do "
      "s = s .. id .. name .. amount .. ';' end return s == '1Łoniów56 340,00;2Bogoria\\nmiasto;3Korycin7;'" },
    { "header=false gives arrays", "local t = {} for r in koop.csv.rows(F, {header=false}) do t[#t+1] = r end "
      "return #t == 4 and t[1][1] == 'id' and t[4][2] == 'Korycin' and #t[2] == 3" },
    { "header names given", "local t = {} for r in koop.csv.rows(F, {header={'a','b','c'}}) do t[#t+1] = r end "
      "return #t == 4 and t[1].a == 'id' and t[2].b == 'Łoniów'" },
    { "break closes the reader", "local f, s, c, cl = koop.csv.rows(F) "
      "local open = tostring(cl) for row in f, s, c, cl do break end "
      "return open == 'csv reader (" "' .. F .. ', line 1)' and tostring(cl) == 'csv reader (closed)'" },
    { "an error in the loop body closes the reader", "local f, s, c, cl = koop.csv.rows(F) "
      "pcall(function() for row in f, s, c, cl do error('x') end end) "
      "return tostring(cl) == 'csv reader (closed)'" },
    { "the end of the rows closes the reader", "local f, s, c, cl = koop.csv.rows(F) "
      "for row in f, s, c, cl do end return tostring(cl) == 'csv reader (closed)'" },
    { "four values from rows", "local f, s, c, cl = koop.csv.rows(F) local ok = type(f) == 'function' "
      "and c == nil and rawequal(s, cl) cl:close() return ok" },
    { "reader object", "local r = koop.csv.open(F) local h = r:header() local a = r:read() "
      "local l1 = r:line() local b = r:read() local l2 = r:line() local c = r:read() "
      "local d = r:read() local e = r:read() "
      "return table.concat(h, ',') == 'id,nazwa,kwota' and a.nazwa == 'Łoniów' and l1 == 2 "
      "and l2 == 3 and c.id == '3' and d == nil and e == nil and r:line() == 5 and r:sep() == nil" },
    { "reader sep", "local r = koop.csv.open(F) local s = r:sep() r:close() return s == ';'" },
    { "reader rows", "local r = koop.csv.open(F, {unpack=true}) local n = 0 "
      "for id in r:rows() do n = n + id end return n == 6" },
    { "field count error object", "local ok, e = pcall(function() for r in koop.csv.rows(BAD) do end end) "
      "return not ok and e.code == 'csv' and e.line == 3 and e.file == BAD and "
      "e.message == BAD .. ': line 3: expected 2 fields, found 1'" },
    { "missing file is an io error", "local ok, e = pcall(koop.csv.rows, '/nonexistent/x.csv') "
      "return not ok and e.code == 'io' and e.message:find('/nonexistent/x.csv', 1, true) ~= nil" },
    { "bytes that are not UTF-8", "local ok, e = pcall(function() for r in koop.csv.rows(CP) do end end) "
      "return not ok and e.code == 'encoding' and e.line == 2" },
    { "encoding cp1250", "local t = {} for r in koop.csv.rows(CP, {encoding='cp1250'}) do t[#t+1] = r.a end "
      "return t[1] == 'Łódź'" },
    { "detect_encoding", "return koop.csv.detect_encoding(CP) == 'cp1250' and "
      "koop.csv.detect_encoding(F) == 'utf-8'" },
    { "bad option", "local ok, e = pcall(koop.csv.rows, F, {sep='ab'}) "
      "return not ok and e.code == 'invalid' and e.field == 'sep'" },
    { "bad encoding", "local ok, e = pcall(koop.csv.rows, F, {encoding='latin2'}) "
      "return not ok and e.code == 'invalid' and e.field == 'encoding'" },
    { "file name must be a string", "local ok, e = pcall(koop.csv.rows, 42) "
      "return not ok and e.code == 'invalid'" },
    { "skip and sep", "local t = {} for a, b in koop.csv.rows(F, {skip=1, sep=';', header=false, unpack=true}) do "
      "t[#t+1] = a end return t[1] == '1' and #t == 3" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char what[96];
    snprintf(what, sizeof what, "koop.csv: %s", cases[i].what);
    int status = luaL_dostring(L, cases[i].code);
    check(status == LUA_OK && lua_toboolean(L, -1), what, "%s",
          status == LUA_OK ? "returned false" : luaL_tolstring(L, -1, NULL));
    lua_settop(L, 0);
  }
  struct koop_limits safe = { 0, 0, 1, 0 };          /* --safe takes file reading away */
  koop_sandbox_apply(L, &safe);
  int status = luaL_dostring(L, "local ok, e = pcall(koop.csv.rows, F) "
                                "local ok2, e2 = pcall(koop.csv.detect_encoding, F) "
                                "return not ok and e.code == 'auth' and not ok2 and e2.code == 'auth'");
  check(status == LUA_OK && lua_toboolean(L, -1), "koop.csv: --safe refuses to read files", "%s",
        status == LUA_OK ? "returned false" : luaL_tolstring(L, -1, NULL));
  lua_close(L);
  unlink(path);
  unlink(bad);
  unlink(cp);
}

int main(void)
{
  test_basics();
  test_separators();
  test_errors();
  test_options();
  test_round_trip();
  test_big_records();
  test_detect_encoding();
  test_lua();
  printf("%d passed, %d failed\n", passed, failed);
  return failed > 0;
}
