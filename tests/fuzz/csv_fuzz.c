/*
** csv_fuzz.c — libFuzzer target for the CSV reader (src/csv.c).
** Input: one byte of options (separator given or detected, CP1250,
** ragged, lines to skip), one byte of read size, then the CSV bytes.
** Properties:
**  - every field is NUL-terminated UTF-8, rows start on increasing lines,
**    have the same field count unless ragged; an error is sticky, has a
**    code (csv, io, encoding) and a message naming the input;
**  - reading the bytes from a stream that delivers them a few at a time
**    (a record cut anywhere, the BOM cut, a CP1250 byte cut) gives exactly
**    the rows and the error that reading them from memory gives;
**  - rows written back as quoted CSV read back as the same rows;
**  - koop.csv.rows over the same bytes ends or raises an error object.
*/
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"

/* What a reading produced: rows as length-prefixed fields, then the end. */
struct transcript { char *text; size_t len, cap; };

static void add(struct transcript *t, const void *p, size_t n)
{
  if (t->len + n > t->cap) {
    size_t cap = (t->len + n) * 2 + 64;
    char *grown = realloc(t->text, cap);
    if (!grown) fuzz_fail("out of memory");
    t->text = grown, t->cap = cap;
  }
  memcpy(t->text + t->len, p, n);
  t->len += n;
}

static void add_number(struct transcript *t, long n) { add(t, &n, sizeof n); }

static int same(const struct transcript *a, const struct transcript *b)
{
  return a->len == b->len && (a->len == 0 || !memcmp(a->text, b->text, a->len));
}

/* True if s[0..len) is well-formed UTF-8 (no surrogates, nothing above U+10FFFF). */
static int valid_utf8(const unsigned char *s, size_t len)
{
  for (size_t i = 0; i < len; ) {
    unsigned c = s[i];
    size_t n = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
             : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (n == 0 || i + n > len) return 0;
    unsigned cp = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
    for (size_t k = 1; k < n; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return 0;
      cp = cp << 6 | (s[i + k] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))
        || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    i += n;
  }
  return 1;
}

/* Read every row of c, checking each, into t; returns the last result. */
static int read_all(struct koop_csv *c, const struct koop_csv_options *opt, struct transcript *t)
{
  long last_line = 0;
  size_t width = 0;
  int got;
  while ((got = koop_csv_next(c)) == 1) {
    size_t n = koop_csv_count(c), len;
    long line = koop_csv_line(c);
    FUZZ_CHECK(n >= 1, "a row without fields");
    FUZZ_CHECK(line > last_line, "row on line %ld after a row on line %ld", line, last_line);
    if (width == 0) width = opt->fields ? opt->fields : n;
    FUZZ_CHECK(opt->ragged || n == width, "row of %zu fields among rows of %zu", n, width);
    add_number(t, line);
    add_number(t, (long)n);
    for (size_t i = 0; i < n; i++) {
      const char *f = koop_csv_field(c, i, &len);
      FUZZ_CHECK(f != NULL && f[len] == '\0', "field %zu is not NUL-terminated", i);
      FUZZ_CHECK(valid_utf8((const unsigned char *)f, len), "field %zu is not UTF-8", i);
      add_number(t, (long)len);
      add(t, f, len);
    }
    FUZZ_CHECK(koop_csv_field(c, n, &len) == NULL && len == 0, "a field past the row's end");
    last_line = line;
  }
  add_number(t, got);
  const char *message;
  const char *code = koop_csv_error(c, &message);
  if (got < 0) {
    FUZZ_CHECK(code && (!strcmp(code, "csv") || !strcmp(code, "io") || !strcmp(code, "encoding")),
               "error code %s", code ? code : "(none)");
    size_t name = strlen(koop_csv_name(c));
    FUZZ_CHECK(message && !strncmp(message, koop_csv_name(c), name) && message[name] == ':',
               "message does not name the input: %s", message ? message : "(none)");
    FUZZ_CHECK(koop_csv_next(c) == -1 && koop_csv_count(c) == 0, "error is not sticky");
    add(t, code, strlen(code));
    add(t, message, strlen(message));
  }
  else FUZZ_CHECK(code == NULL && koop_csv_next(c) == 0, "end of input is not sticky");
  return got;
}

/* Read data from standard input replaced by a socket that delivers it
** `chunk` bytes per read; 0 if the stream could not be set up (then
** there is nothing to compare). */
static int read_streamed(const char *data, size_t len, size_t chunk,
                         const struct koop_csv_options *opt, struct transcript *t)
{
  int sv[2], saved = -1, ok = 0;
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return 0;
  for (size_t at = 0; at < len; at += chunk) {
    size_t n = len - at < chunk ? len - at : chunk;
    if (send(sv[1], data + at, n, MSG_DONTWAIT) != (ssize_t)n) goto done;   /* buffer full */
  }
  close(sv[1]);
  sv[1] = -1;
  if ((saved = dup(0)) < 0 || dup2(sv[0], 0) < 0) goto done;
  struct koop_csv *c = koop_csv_open("-", opt);
  if (!c) fuzz_fail("koop_csv_open(\"-\") failed");
  read_all(c, opt, t);
  koop_csv_close(c);
  ok = 1;
done:
  if (saved >= 0) { dup2(saved, 0); close(saved); }
  close(sv[0]);
  if (sv[1] >= 0) close(sv[1]);
  return ok;
}

/* The rows of transcript t written as CSV, every field quoted, sep ','. */
static void write_back(const struct transcript *t, struct transcript *csv)
{
  const char *p = t->text, *end = t->text + t->len - sizeof(long);   /* the final result */
  while (p < end) {
    long line, n, len;
    memcpy(&line, p, sizeof line), p += sizeof line;
    memcpy(&n, p, sizeof n), p += sizeof n;
    for (long i = 0; i < n; i++) {
      memcpy(&len, p, sizeof len), p += sizeof len;
      add(csv, i ? ",\"" : "\"", i ? 2 : 1);
      for (long k = 0; k < len; k++) add(csv, p[k] == '"' ? "\"\"" : p + k, p[k] == '"' ? 2 : 1);
      add(csv, "\"", 1);
      p += len;
    }
    add(csv, "\n", 1);
  }
}

/* Drop the line numbers from a transcript of rows, keeping the fields. */
static void fields_only(const struct transcript *t, struct transcript *out)
{
  const char *p = t->text, *end = t->text + t->len - sizeof(long);
  while (p < end) {
    long n, len;
    p += sizeof(long);
    memcpy(&n, p, sizeof n), p += sizeof n;
    add_number(out, n);
    for (long i = 0; i < n; i++) {
      memcpy(&len, p, sizeof len), p += sizeof len;
      add_number(out, len);
      add(out, p, (size_t)len);
      p += len;
    }
  }
}

/* koop.csv.rows over the bytes (a memfd) with the options as Lua gives
** them: it returns the row count or raises an error object. */
static void read_in_lua(const char *data, size_t len, unsigned flags)
{
  static lua_State *L;
  char path[64];
  int fd = memfd_create("csv", MFD_CLOEXEC);
  if (fd < 0 || write(fd, data, len) != (ssize_t)len) fuzz_fail("memfd: %s", strerror(errno));
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  if (!L) {
    L = luaL_newstate();
    luaL_openlibs(L);
    lua_newtable(L);
    koop_open_errors(L);
    koop_open_csv(L);
    lua_setglobal(L, "koop");
    if (luaL_loadstring(L,
        "local path, header, unpack, ragged, sep, cp = ...\n"
        "local opts = { header = header, unpack = unpack, ragged = ragged, sep = sep,\n"
        "  encoding = cp and 'cp1250' or nil }\n"
        "local n = 0\n"
        "for row in koop.csv.rows(path, opts) do n = n + 1 end\n"
        "return n") != LUA_OK) fuzz_fail("%s", lua_tostring(L, -1));
    lua_setglobal(L, "read");
  }
  lua_getglobal(L, "read");
  lua_pushstring(L, path);
  lua_pushboolean(L, flags & 1);
  lua_pushboolean(L, flags & 2);
  lua_pushboolean(L, flags & 4);
  if (flags & 8) lua_pushstring(L, flags & 16 ? ";" : ","); else lua_pushnil(L);
  lua_pushboolean(L, flags & 32);
  int status = lua_pcall(L, 6, 1, 0);
  FUZZ_CHECK(status == LUA_OK || koop_error_is(L, -1), "koop.csv.rows raised a non-object: %s",
             luaL_tolstring(L, -1, NULL));
  lua_settop(L, 0);
  lua_gc(L, LUA_GCCOLLECT);            /* the reader's __gc closes it */
  close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
  static const char seps[8] = { 0, ';', ',', '\t', '|', 0, 0, ' ' };
  struct fuzz_bytes in = { bytes, size };
  unsigned flags = fuzz_byte(&in);
  size_t chunk = 1 + fuzz_byte(&in) % 64, len;
  const char *data = fuzz_take(&in, size, &len);
  struct koop_csv_options opt = { seps[flags & 7], (flags >> 3) & 1, (int)(flags >> 5 & 3),
                                  (flags >> 4) & 1, 0 };
  struct transcript mem = { 0 }, streamed = { 0 }, csv = { 0 }, again = { 0 }, a = { 0 }, b = { 0 };
  if (len > 0 && chunk < len / 200) chunk = len / 200;   /* at most 200 messages */

  struct koop_csv *c = koop_csv_open_mem(data, len, "stdin", &opt);
  if (!c) fuzz_fail("koop_csv_open_mem failed");
  char sep = koop_csv_sep(c);
  FUZZ_CHECK(sep == 0 ? koop_csv_error(c, NULL) != NULL
                      : opt.sep ? sep == opt.sep : (sep == ';' || sep == ',' || sep == '\t'),
             "separator %d", sep);
  int got = read_all(c, &opt, &mem);
  koop_csv_close(c);

  if (read_streamed(data, len, chunk, &opt, &streamed))
    FUZZ_CHECK(same(&mem, &streamed),
               "reading %zu bytes at a time differs from reading from memory", chunk);

  if (got == 0) {
    struct koop_csv_options plain = { ',', 0, 0, 1, 0 };
    write_back(&mem, &csv);
    c = koop_csv_open_mem(csv.text ? csv.text : "", csv.len, "again", &plain);
    if (!c) fuzz_fail("koop_csv_open_mem failed");
    FUZZ_CHECK(read_all(c, &plain, &again) == 0, "rows written back do not read back");
    koop_csv_close(c);
    fields_only(&mem, &a);
    fields_only(&again, &b);
    FUZZ_CHECK(same(&a, &b), "rows written back read back different");
  }

  read_in_lua(data, len, flags >> 1 ^ (unsigned)chunk);
  free(mem.text), free(streamed.text), free(csv.text), free(again.text), free(a.text), free(b.text);
  return 0;
}
