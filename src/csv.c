/*
** csv.c — a fast CSV reader: the C reader (struct koop_csv, see koop.h)
** and koop.csv, a thin Lua layer over it.
**
** The reader keeps a large buffer of UTF-8 input and parses records in
** place: a field is a pointer into the buffer, "" escapes are undone in
** place once the record is complete, and a record cut by the end of the
** buffer is parsed again after the next read (so no state survives a
** partial parse).  A '\n' sentinel after the data stops the byte loops
** without bounds checks.  CP1250 input is converted to UTF-8 as it is read.
*/
#include "koop.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUFFER_SIZE  (128 * 1024)
#define RAW_SIZE     (32 * 1024)          /* CP1250 bytes read at once */
#define MAX_RECORD   (256u * 1024 * 1024)  /* a longer record is an error */
#define NOT_CP1250   0xFF                 /* marks an undefined CP1250 byte */

/* UTF-8 of the CP1250 bytes 0x80..0xFF; "" where CP1250 defines none. */
static const char cp1250_utf8[128][4] = {
  "\xE2\x82\xAC", "", "\xE2\x80\x9A", "", "\xE2\x80\x9E", "\xE2\x80\xA6", "\xE2\x80\xA0", "\xE2\x80\xA1",
  "", "\xE2\x80\xB0", "\xC5\xA0", "\xE2\x80\xB9", "\xC5\x9A", "\xC5\xA4", "\xC5\xBD", "\xC5\xB9",
  "", "\xE2\x80\x98", "\xE2\x80\x99", "\xE2\x80\x9C", "\xE2\x80\x9D", "\xE2\x80\xA2", "\xE2\x80\x93", "\xE2\x80\x94",
  "", "\xE2\x84\xA2", "\xC5\xA1", "\xE2\x80\xBA", "\xC5\x9B", "\xC5\xA5", "\xC5\xBE", "\xC5\xBA",
  "\xC2\xA0", "\xCB\x87", "\xCB\x98", "\xC5\x81", "\xC2\xA4", "\xC4\x84", "\xC2\xA6", "\xC2\xA7",
  "\xC2\xA8", "\xC2\xA9", "\xC5\x9E", "\xC2\xAB", "\xC2\xAC", "\xC2\xAD", "\xC2\xAE", "\xC5\xBB",
  "\xC2\xB0", "\xC2\xB1", "\xCB\x9B", "\xC5\x82", "\xC2\xB4", "\xC2\xB5", "\xC2\xB6", "\xC2\xB7",
  "\xC2\xB8", "\xC4\x85", "\xC5\x9F", "\xC2\xBB", "\xC4\xBD", "\xCB\x9D", "\xC4\xBE", "\xC5\xBC",
  "\xC5\x94", "\xC3\x81", "\xC3\x82", "\xC4\x82", "\xC3\x84", "\xC4\xB9", "\xC4\x86", "\xC3\x87",
  "\xC4\x8C", "\xC3\x89", "\xC4\x98", "\xC3\x8B", "\xC4\x9A", "\xC3\x8D", "\xC3\x8E", "\xC4\x8E",
  "\xC4\x90", "\xC5\x83", "\xC5\x87", "\xC3\x93", "\xC3\x94", "\xC5\x90", "\xC3\x96", "\xC3\x97",
  "\xC5\x98", "\xC5\xAE", "\xC3\x9A", "\xC5\xB0", "\xC3\x9C", "\xC3\x9D", "\xC5\xA2", "\xC3\x9F",
  "\xC5\x95", "\xC3\xA1", "\xC3\xA2", "\xC4\x83", "\xC3\xA4", "\xC4\xBA", "\xC4\x87", "\xC3\xA7",
  "\xC4\x8D", "\xC3\xA9", "\xC4\x99", "\xC3\xAB", "\xC4\x9B", "\xC3\xAD", "\xC3\xAE", "\xC4\x8F",
  "\xC4\x91", "\xC5\x84", "\xC5\x88", "\xC3\xB3", "\xC3\xB4", "\xC5\x91", "\xC3\xB6", "\xC3\xB7",
  "\xC5\x99", "\xC5\xAF", "\xC3\xBA", "\xC5\xB1", "\xC3\xBC", "\xC3\xBD", "\xC5\xA3", "\xCB\x99",
};

struct field { unsigned char *p; size_t len; int escaped; };

struct koop_csv {
  int fd;                     /* -1 when reading from memory */
  int own_fd;                 /* close fd at the end (not stdin) */
  int eof;                    /* nothing more to read beyond buf */
  int started, done;
  unsigned char *buf;         /* UTF-8 input; buf[len] holds the sentinel */
  size_t cap, len, pos;       /* buf[pos..len) is not parsed yet */
  unsigned char *raw;         /* CP1250 input before conversion, or NULL */
  unsigned char head[3];      /* the first input bytes, to see a BOM */
  size_t headlen;
  struct koop_csv_options opt;
  unsigned char plain[256];   /* bytes that end a run of unquoted field text */
  unsigned char quoted[256];  /* bytes that end a run of quoted field text */
  struct field *f;            /* the current row */
  size_t nf, fcap;
  long line, next_line;       /* line of the current row; of the next one */
  const char *errcode;        /* set once something failed */
  char message[320];
  char name[];
};

/* Outcomes of parsing one record. */
enum { R_FAIL = -1, R_END = 0, R_ROW = 1, R_MORE = 2 };

/* Record an error with code and a message about `line` (0: none). */
static int fail(struct koop_csv *c, const char *code, long line, const char *fmt, ...)
{
  va_list ap;
  int n = line > 0 ? snprintf(c->message, sizeof c->message, "%s: line %ld: ", c->name, line)
                   : snprintf(c->message, sizeof c->message, "%s: ", c->name);
  if (n < 0 || (size_t)n >= sizeof c->message) n = 0;
  va_start(ap, fmt);
  vsnprintf(c->message + n, sizeof c->message - (size_t)n, fmt, ap);
  va_end(ap);
  c->errcode = code;
  if (line > 0) c->line = line;
  return R_FAIL;
}

/* Length of the valid UTF-8 sequence at p (lead byte >= 0x80): 0 if it
** is invalid, -1 if the buffer ends inside it. */
static int utf8_length(const unsigned char *p, const unsigned char *end)
{
  unsigned c = p[0], lo = 0x80, hi = 0xBF;
  int n;
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    else if (c == 0xED) hi = 0x9F;        /* no surrogates */
  }
  else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    else if (c == 0xF4) hi = 0x8F;        /* nothing above U+10FFFF */
  }
  else return 0;
  for (int i = 1; i < n; i++) {
    if (p + i >= end) return -1;
    if (p[i] < lo || p[i] > hi) return 0;
    lo = 0x80, hi = 0xBF;
  }
  return n;
}

/* Fail on the byte at p that is not UTF-8 (or, after conversion, not CP1250). */
static int bad_byte(struct koop_csv *c, const unsigned char *p, long line, size_t field)
{
  if (c->opt.cp1250 && p[0] == NOT_CP1250)
    return fail(c, "encoding", line, "byte 0x%02X in field %zu is not a CP1250 character",
                p[1], field);
  return fail(c, "encoding", line, "byte 0x%02X in field %zu is not valid UTF-8%s", p[0], field,
              c->opt.cp1250 ? "" : " (is the file in CP1250? then read it with that encoding)");
}

/* Convert n CP1250 bytes at in to UTF-8 at out (room for 3n); returns the
** output length.  An undefined byte becomes NOT_CP1250 followed by it. */
static size_t from_cp1250(const unsigned char *in, size_t n, unsigned char *out)
{
  unsigned char *o = out;
  for (size_t i = 0; i < n; i++) {
    unsigned char b = in[i];
    if (b < 0x80) { *o++ = b; continue; }
    const char *u = cp1250_utf8[b - 0x80];
    if (!u[0]) { *o++ = NOT_CP1250; *o++ = b; continue; }
    size_t k = (unsigned char)u[0] >= 0xE0 ? 3 : 2;
    memcpy(o, u, k);
    o += k;
  }
  return (size_t)(o - out);
}

/* Keep the first bytes of the input, to recognise a byte order mark. */
static void note_head(struct koop_csv *c, const unsigned char *in, size_t n)
{
  while (c->headlen < sizeof c->head && n-- > 0) c->head[c->headlen++] = *in++;
}

/* Move the unparsed bytes to the front, grow the buffer if a record fills
** half of it, and read more.  0 on success (eof set at the end), R_FAIL. */
static int fill(struct koop_csv *c)
{
  if (c->fd < 0) { c->eof = 1; return 0; }
  if (c->pos > 0) {
    memmove(c->buf, c->buf + c->pos, c->len - c->pos);
    c->len -= c->pos;
    c->pos = 0;
  }
  if (c->len > c->cap / 2) {
    if (c->cap >= MAX_RECORD)
      return fail(c, "csv", c->next_line, "a record longer than %u MiB (is a quote left open?)",
                  MAX_RECORD >> 20);
    unsigned char *grown = realloc(c->buf, c->cap * 2 + 1);
    if (!grown) return fail(c, "io", c->next_line, "out of memory");
    c->buf = grown;
    c->cap *= 2;
  }
  ssize_t got;
  size_t room = c->cap - c->len;      /* at least half the buffer */
  unsigned char *in = c->raw ? c->raw : c->buf + c->len;
  size_t want = !c->raw ? room : room / 3 < RAW_SIZE ? room / 3 : RAW_SIZE;
  do got = read(c->fd, in, want); while (got < 0 && errno == EINTR);
  if (got < 0) return fail(c, "io", 0, "cannot read: %s", strerror(errno));
  if (got == 0) c->eof = 1;
  note_head(c, in, (size_t)got);
  c->len += c->raw ? from_cp1250(c->raw, (size_t)got, c->buf + c->len) : (size_t)got;
  c->buf[c->len] = '\n';
  return 0;
}

/* Build the byte classes for separator sep. */
static void set_separator(struct koop_csv *c, char sep)
{
  c->opt.sep = sep;
  memset(c->plain, 0, sizeof c->plain);
  memset(c->plain + 0x80, 1, 0x80);
  memcpy(c->quoted, c->plain, sizeof c->quoted);
  c->plain[(unsigned char)sep] = c->plain['\n'] = c->plain['\r'] = 1;
  c->quoted['"'] = c->quoted['\n'] = 1;
}

/* Count ; , TAB outside quotes on the first non-blank line.  1 when the
** line is complete (or the input ends), R_MORE if it needs more input. */
static int count_separators(struct koop_csv *c, size_t count[3])
{
  const unsigned char *p = c->buf + c->pos, *end = c->buf + c->len;
  int in_quotes = 0;
  count[0] = count[1] = count[2] = 0;
  while (p < end && (*p == '\n' || *p == '\r')) p++;
  for (; p < end; p++) {
    if (*p == '"') in_quotes = !in_quotes;
    else if (in_quotes) continue;
    else if (*p == ';') count[0]++;
    else if (*p == ',') count[1]++;
    else if (*p == '\t') count[2]++;
    else if (*p == '\n' || *p == '\r') return 1;
  }
  return c->eof ? 1 : R_MORE;
}

/* First use: look at the byte order mark, skip opt.skip lines, choose the
** separator.  0 or R_FAIL. */
static int start(struct koop_csv *c)
{
  c->started = 1;
  while (c->headlen < sizeof c->head && !c->eof)
    if (fill(c) < 0) return R_FAIL;
  const unsigned char *h = c->head;
  if (c->headlen >= 2 && ((h[0] == 0xFF && h[1] == 0xFE) || (h[0] == 0xFE && h[1] == 0xFF)))
    return fail(c, "encoding", 0, "the file is UTF-16 text (Excel's \"Unicode text\"); "
                "save it as \"CSV UTF-8\" instead");
  if (c->headlen >= 3 && h[0] == 0xEF && h[1] == 0xBB && h[2] == 0xBF) {
    if (c->opt.cp1250)
      return fail(c, "encoding", 0, "the file starts with a UTF-8 byte order mark, "
                  "so it is UTF-8, not CP1250");
    c->pos += 3;
  }
  for (int i = 0; i < c->opt.skip; ) {
    unsigned char *nl = memchr(c->buf + c->pos, '\n', c->len - c->pos);
    if (nl) {
      c->pos = (size_t)(nl + 1 - c->buf);
      c->next_line++;
      i++;
    }
    else if (c->eof) {
      c->pos = c->len;
      break;
    }
    else {
      c->pos = c->len;                 /* drop the partial line, read on */
      if (fill(c) < 0) return R_FAIL;
    }
  }
  char sep = c->opt.sep;
  if (!sep) {
    size_t count[3];
    while (count_separators(c, count) == R_MORE)
      if (fill(c) < 0) return R_FAIL;
    sep = ',';
    if (count[0] && count[0] >= count[1] && count[0] >= count[2]) sep = ';';
    else if (count[1] && count[1] >= count[2]) sep = ',';
    else if (count[2]) sep = '\t';
  }
  set_separator(c, sep);
  return 0;
}

/* Make room for one more field in the current row.  0 or R_FAIL. */
static int grow_fields(struct koop_csv *c)
{
  size_t cap = c->fcap ? c->fcap * 2 : 16;
  struct field *f = realloc(c->f, cap * sizeof *f);
  if (!f) return fail(c, "io", c->next_line, "out of memory");
  c->f = f;
  c->fcap = cap;
  return 0;
}

/* Undo "" escapes of field f in place. */
static void unescape(struct field *f)
{
  unsigned char *r = f->p, *w = f->p, *end = f->p + f->len;
  while (r < end) {
    unsigned char ch = *r++;
    *w++ = ch;
    if (ch == '"') r++;
  }
  f->len = (size_t)(w - f->p);
}

/* Parse the record at buf[pos..len) into c->f.  R_ROW, R_END (no more
** records), R_MORE (the record goes on past the buffered input) or R_FAIL. */
static int parse_record(struct koop_csv *c)
{
  unsigned char *p = c->buf + c->pos, *end = c->buf + c->len;
  const unsigned char *plain = c->plain, *quoted = c->quoted;
  const unsigned char sep = (unsigned char)c->opt.sep;
  *end = '\n';
  for (;;) {                          /* skip blank lines */
    if (p == end) return c->eof ? R_END : R_MORE;
    if (*p == '\n') p++;
    else if (*p == '\r') {
      if (p + 1 == end && !c->eof) return R_MORE;
      p += p + 1 < end && p[1] == '\n' ? 2 : 1;
    }
    else break;
    c->pos = (size_t)(p - c->buf);
    c->next_line++;
  }
  long newlines = 0;                  /* inside quoted fields, so far */
  size_t n = 0;
  for (;;) {                          /* one field per turn */
    if (n == c->fcap && grow_fields(c) < 0) return R_FAIL;
    struct field *f = &c->f[n++];
    if (*p == '"') {
      long opened = c->next_line + newlines;
      unsigned char *text = ++p;
      int escaped = 0;
      for (;;) {
        while (!quoted[*p]) p++;
        if (*p == '"') {
          if (p + 1 == end && !c->eof) return R_MORE;
          if (p + 1 < end && p[1] == '"') { escaped = 1; p += 2; continue; }
          break;
        }
        if (p == end) {
          if (!c->eof) return R_MORE;
          return fail(c, "csv", opened, "the quote that opens field %zu is never closed "
                      "(the file ends first)", n);
        }
        if (*p == '\n') { newlines++; p++; continue; }
        int k = utf8_length(p, end);
        if (k > 0) { p += k; continue; }
        if (k < 0 && !c->eof) return R_MORE;
        return bad_byte(c, p, c->next_line + newlines, n);
      }
      f->p = text;
      f->len = (size_t)(p - text);
      f->escaped = escaped;
      p++;                            /* the closing quote */
      if (p < end && *p == sep) { p++; continue; }
      if (p < end && *p != '\n' && *p != '\r')
        return fail(c, "csv", c->next_line + newlines,
                    "field %zu has text after its closing quote (a quote inside a quoted "
                    "field must be doubled: \"\")", n);
    }
    else {
      unsigned char *text = p;
      for (;;) {
        while (!plain[*p]) p++;
        if (*p < 0x80) break;         /* separator, line end or the sentinel */
        int k = utf8_length(p, end);
        if (k > 0) { p += k; continue; }
        if (k < 0 && !c->eof) return R_MORE;
        return bad_byte(c, p, c->next_line + newlines, n);
      }
      f->p = text;
      f->len = (size_t)(p - text);
      f->escaped = 0;
      if (*p == sep && p < end) { p++; continue; }
    }
    if (p == end) {                   /* the line end */
      if (!c->eof) return R_MORE;
    }
    else if (*p == '\r') {
      if (p + 1 == end && !c->eof) return R_MORE;
      p += p + 1 < end && p[1] == '\n' ? 2 : 1;
    }
    else p++;
    break;
  }
  for (size_t i = 0; i < n; i++) {
    if (c->f[i].escaped) unescape(&c->f[i]);
    c->f[i].p[c->f[i].len] = '\0';    /* over a consumed quote, separator or line end */
  }
  c->nf = n;
  c->line = c->next_line;
  c->next_line += newlines + 1;
  c->pos = (size_t)(p - c->buf);
  return R_ROW;
}

/* A reader over fd or (fd < 0) over a copy of data. */
static struct koop_csv *create(const char *name, const struct koop_csv_options *opt,
                               int fd, const char *data, size_t len)
{
  static const struct koop_csv_options defaults = { 0, 0, 0, 0, 0 };
  struct koop_csv *c = calloc(1, sizeof *c + strlen(name) + 1);
  if (!c) return NULL;
  strcpy(c->name, name);
  c->opt = opt ? *opt : defaults;
  c->fd = fd;
  c->next_line = 1;
  if (fd >= 0) {
    c->cap = BUFFER_SIZE;
    if (c->opt.cp1250 && !(c->raw = malloc(RAW_SIZE))) goto fail;
  }
  else c->cap = c->opt.cp1250 ? 3 * len : len;
  if (!(c->buf = malloc(c->cap + 1))) goto fail;
  if (fd < 0) {
    note_head(c, (const unsigned char *)data, len);
    c->len = c->opt.cp1250 ? from_cp1250((const unsigned char *)data, len, c->buf) : len;
    if (!c->opt.cp1250 && len) memcpy(c->buf, data, len);
    c->buf[c->len] = '\n';
    c->eof = 1;
  }
  return c;
fail:
  free(c->raw);
  free(c);
  errno = ENOMEM;
  return NULL;
}

struct koop_csv *koop_csv_open(const char *path, const struct koop_csv_options *opt)
{
  int is_stdin = strcmp(path, "-") == 0;
  int fd = is_stdin ? 0 : open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  struct stat st;
  if (!is_stdin && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    close(fd);
    errno = EISDIR;
    return NULL;
  }
  struct koop_csv *c = create(is_stdin ? "stdin" : path, opt, fd, NULL, 0);
  if (!c) {
    if (!is_stdin) close(fd);
    errno = ENOMEM;
    return NULL;
  }
  c->own_fd = !is_stdin;
  return c;
}

struct koop_csv *koop_csv_open_mem(const char *data, size_t len, const char *name,
                                   const struct koop_csv_options *opt)
{
  return create(name ? name : "data", opt, -1, data, len);
}

int koop_csv_next(struct koop_csv *c)
{
  if (c->errcode) return -1;
  if (c->done) return 0;
  if (!c->started && start(c) < 0) return -1;
  int r;
  while ((r = parse_record(c)) == R_MORE)
    if (fill(c) < 0) return -1;
  if (r == R_FAIL) return -1;
  if (r == R_END) {
    c->done = 1;
    c->nf = 0;
    return 0;
  }
  if (!c->opt.fields) c->opt.fields = c->nf;
  else if (c->nf != c->opt.fields && !c->opt.ragged) {
    fail(c, "csv", c->line, "expected %zu fields, found %zu", c->opt.fields, c->nf);
    return -1;
  }
  return 1;
}

size_t koop_csv_count(const struct koop_csv *c) { return c->errcode ? 0 : c->nf; }

const char *koop_csv_field(const struct koop_csv *c, size_t i, size_t *len)
{
  if (c->errcode || i >= c->nf) {
    if (len) *len = 0;
    return NULL;
  }
  if (len) *len = c->f[i].len;
  return (const char *)c->f[i].p;
}

long koop_csv_line(const struct koop_csv *c) { return c->line; }

char koop_csv_sep(struct koop_csv *c)
{
  if (!c->started && !c->errcode) start(c);
  return c->errcode ? 0 : c->opt.sep;
}

const char *koop_csv_name(const struct koop_csv *c) { return c->name; }

const char *koop_csv_error(const struct koop_csv *c, const char **message)
{
  if (message) *message = c->errcode ? c->message : NULL;
  return c->errcode;
}

void koop_csv_close(struct koop_csv *c)
{
  if (!c) return;
  if (c->own_fd) close(c->fd);
  free(c->buf);
  free(c->raw);
  free(c->f);
  free(c);
}

const char *koop_csv_detect_encoding(const char *path)
{
  const char *encoding = "utf-8";
  unsigned char buf[65536 + 4];
  size_t kept = 0;                    /* a sequence cut at the end of a read */
  int first = 1;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  for (;;) {
    ssize_t got;
    do got = read(fd, buf + kept, 65536); while (got < 0 && errno == EINTR);
    if (got < 0) { encoding = NULL; break; }
    size_t n = kept + (size_t)got;
    if (first && n >= 2 && ((buf[0] == 0xFF && buf[1] == 0xFE) || (buf[0] == 0xFE && buf[1] == 0xFF))) {
      encoding = buf[0] == 0xFF ? "utf-16le" : "utf-16be";
      break;
    }
    first = 0;
    size_t i = 0;
    while (i < n) {
      if (buf[i] < 0x80) { i++; continue; }
      int k = utf8_length(buf + i, buf + n);
      if (k > 0) { i += (size_t)k; continue; }
      if (k < 0 && got > 0) break;    /* complete it with the next read */
      encoding = "cp1250";
      goto done;
    }
    if (got == 0) break;
    kept = n - i;
    memmove(buf, buf + i, kept);
  }
done:
  {
    int saved = errno;
    close(fd);
    errno = saved;
  }
  return encoding;
}

/* ---- Lua: koop.csv ------------------------------------------------------ */

#define READER_MT "koop.csv.Reader"

/* How rows come out: tables keyed by the header, arrays, or values. */
enum { ROWS_NAMED, ROWS_ARRAY, ROWS_VALUES };

/* A reader object; user value 1 holds the field names (or nil). */
struct reader {
  struct koop_csv *c;         /* NULL once closed */
  int mode;
  long line;                  /* kept after closing */
};

/* Close r's reader (at the end, on break, on :close() or by the GC). */
static void reader_close(struct reader *r)
{
  if (!r->c) return;
  r->line = koop_csv_line(r->c);
  koop_csv_close(r->c);
  r->c = NULL;
}

/* Raise the reader's error as an error object with `file` and `line`. */
static int raise_reader(lua_State *L, struct reader *r)
{
  const char *message;
  const char *code = koop_csv_error(r->c, &message);
  koop_error_push(L, code, NULL, "%s", message);
  lua_pushstring(L, koop_csv_name(r->c));
  lua_setfield(L, -2, "file");
  if (koop_csv_line(r->c) > 0) {
    lua_pushinteger(L, koop_csv_line(r->c));
    lua_setfield(L, -2, "line");
  }
  reader_close(r);
  return lua_error(L);
}

/* Push the next row of r (reader object at index ud) as r->mode says;
** returns the number of values, 0 at the end (the reader is then closed). */
static int push_row(lua_State *L, struct reader *r, int ud)
{
  if (!r->c) return 0;
  int got = koop_csv_next(r->c);
  if (got < 0) return raise_reader(L, r);
  if (got == 0) {
    reader_close(r);
    return 0;
  }
  struct koop_csv *c = r->c;
  size_t n = koop_csv_count(c), len;
  if (r->mode == ROWS_VALUES) {
    if (n > INT_MAX || !lua_checkstack(L, (int)n))
      return koop_error_raise(L, "csv", NULL, "%s: line %d: too many fields for values (%d)",
                              koop_csv_name(c), (int)koop_csv_line(c), (int)n);
    for (size_t i = 0; i < n; i++) {
      const char *s = koop_csv_field(c, i, &len);
      lua_pushlstring(L, s, len);
    }
    return (int)n;
  }
  if (r->mode == ROWS_ARRAY) {
    lua_createtable(L, n < INT_MAX ? (int)n : 0, 0);
    for (size_t i = 0; i < n; i++) {
      const char *s = koop_csv_field(c, i, &len);
      lua_pushlstring(L, s, len);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
  }
  lua_getiuservalue(L, ud, 1);        /* the names */
  lua_createtable(L, 0, n < INT_MAX ? (int)n : 0);
  for (size_t i = 0; i < n; i++) {
    if (lua_rawgeti(L, -2, (lua_Integer)i + 1) == LUA_TNIL) {
      lua_pop(L, 1);                  /* a field beyond the header: by position */
      lua_pushinteger(L, (lua_Integer)i + 1);
    }
    const char *s = koop_csv_field(c, i, &len);
    lua_pushlstring(L, s, len);
    lua_rawset(L, -3);
  }
  lua_remove(L, -2);
  return 1;
}

/* The generic-for iterator; upvalue 1 is the reader object. */
static int rows_next(lua_State *L)
{
  struct reader *r = lua_touserdata(L, lua_upvalueindex(1));
  return push_row(L, r, lua_upvalueindex(1));
}

/* Push iterator, reader, nil, reader (the reader at idx is to be closed). */
static int push_iteration(lua_State *L, int idx)
{
  lua_pushvalue(L, idx);
  lua_pushcclosure(L, rows_next, 1);
  lua_pushvalue(L, idx);
  lua_pushnil(L);
  lua_pushvalue(L, idx);
  return 4;
}

/* The reader object at argument 1. */
static struct reader *check_reader(lua_State *L)
{
  return luaL_checkudata(L, 1, READER_MT);
}

/* Raise an "invalid" error about option `name`. */
static int bad_option(lua_State *L, const char *name, const char *what)
{
  return koop_error_raise(L, "invalid", name, "koop.csv: option %s %s", name, what);
}

/* Read the options table at idx into o; returns the mode, and leaves on
** the stack top the given field names (a table) or nil; *header is set
** when the first row is the header. */
static int read_options(lua_State *L, int idx, struct koop_csv_options *o, int *header)
{
  int mode = ROWS_NAMED, unpack = 0;
  *header = 1;
  memset(o, 0, sizeof *o);
  if (lua_isnoneornil(L, idx)) { lua_pushnil(L); return mode; }
  if (!lua_istable(L, idx))
    return koop_error_raise(L, "invalid", NULL, "koop.csv: options must be a table, got %s",
                            luaL_typename(L, idx));
  for (lua_pushnil(L); lua_next(L, idx); lua_pop(L, 1)) {   /* catch typos */
    static const char *const known[] = { "sep", "header", "unpack", "skip", "encoding", "ragged" };
    size_t i = 0;
    if (lua_type(L, -2) == LUA_TSTRING)
      while (i < sizeof known / sizeof known[0] && strcmp(known[i], lua_tostring(L, -2))) i++;
    if (lua_type(L, -2) != LUA_TSTRING || i == sizeof known / sizeof known[0])
      return koop_error_raise(L, "invalid", NULL, "koop.csv: unknown option %s (the options are "
                              "sep, header, unpack, skip, encoding and ragged)",
                              luaL_tolstring(L, -2, NULL));
  }
  if (lua_getfield(L, idx, "sep") != LUA_TNIL) {
    size_t len;
    const char *sep = lua_tolstring(L, -1, &len);
    if (!sep || len != 1 || (unsigned char)sep[0] >= 0x80 || strchr("\"\r\n", sep[0]))
      return bad_option(L, "sep", "must be one ASCII character other than a quote or a line end");
    o->sep = sep[0];
  }
  if (lua_getfield(L, idx, "skip") != LUA_TNIL) {
    int ok;
    lua_Integer skip = lua_tointegerx(L, -1, &ok);
    if (!ok || skip < 0 || skip > INT_MAX) return bad_option(L, "skip", "must be a count of lines");
    o->skip = (int)skip;
  }
  if (lua_getfield(L, idx, "encoding") != LUA_TNIL) {
    const char *e = lua_tostring(L, -1);
    if (e && (!strcasecmp(e, "cp1250") || !strcasecmp(e, "windows-1250")))
      o->cp1250 = 1;
    else if (!e || (strcasecmp(e, "utf-8") && strcasecmp(e, "utf8")))
      return bad_option(L, "encoding", "must be \"utf-8\" or \"cp1250\"");
  }
  lua_getfield(L, idx, "ragged");
  o->ragged = lua_toboolean(L, -1);
  lua_getfield(L, idx, "unpack");
  unpack = lua_toboolean(L, -1);
  lua_pop(L, 5);
  int t = lua_getfield(L, idx, "header");
  if (t == LUA_TBOOLEAN) {
    *header = lua_toboolean(L, -1);
    if (!*header) mode = ROWS_ARRAY;
    lua_pop(L, 1);
    lua_pushnil(L);
  }
  else if (t == LUA_TTABLE) {
    *header = 0;
    lua_Integer n = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= n; i++) {
      if (lua_rawgeti(L, -1, i) != LUA_TSTRING)
        return bad_option(L, "header", "must be true, false or a list of field names");
      lua_pop(L, 1);
    }
    o->fields = (size_t)n;
  }
  else if (t != LUA_TNIL)
    return bad_option(L, "header", "must be true, false or a list of field names");
  return unpack ? ROWS_VALUES : mode;
}

/* Make the header row just read the field names, on the stack top:
** empty names become positions; a name used twice is an error. */
static void take_header(lua_State *L, struct reader *r)
{
  size_t n = koop_csv_count(r->c), len;
  lua_createtable(L, (int)n, 0);                /* names */
  lua_createtable(L, 0, (int)n);                /* name → column */
  for (size_t i = 0; i < n; i++) {
    const char *s = koop_csv_field(r->c, i, &len);
    if (len == 0) {
      lua_pushinteger(L, (lua_Integer)i + 1);
      lua_rawseti(L, -3, (lua_Integer)i + 1);
      continue;
    }
    lua_pushlstring(L, s, len);
    if (lua_rawget(L, -2) != LUA_TNIL) {
      int first = (int)lua_tointeger(L, -1);
      koop_error_push(L, "csv", NULL, "%s: line %d: field name \"%s\" appears twice "
                      "(fields %d and %d); read the file with header = false",
                      koop_csv_name(r->c), (int)koop_csv_line(r->c), s, first, (int)i + 1);
      reader_close(r);
      lua_error(L);
    }
    lua_pop(L, 1);
    lua_pushlstring(L, s, len);
    lua_pushinteger(L, (lua_Integer)i + 1);
    lua_rawset(L, -3);
    lua_pushlstring(L, s, len);
    lua_rawseti(L, -3, (lua_Integer)i + 1);
  }
  lua_pop(L, 1);
}

/* Refuse to read files under --safe: it takes io away, and so must we.
** The code is SQLite's for a refusal by the sandbox's authorizer. */
static void check_sandbox(lua_State *L)
{
  if (koop_sandbox_active(L))
    koop_error_raise(L, "auth", NULL, "koop.csv cannot read files with --safe");
}

/* Open a reader for (file, opts) at arguments 1-2 and push it. */
static struct reader *open_reader(lua_State *L)
{
  check_sandbox(L);
  if (lua_type(L, 1) != LUA_TSTRING)
    koop_error_raise(L, "invalid", NULL, "koop.csv: file name expected, got %s",
                     luaL_typename(L, 1));
  const char *path = lua_tostring(L, 1);
  struct koop_csv_options o;
  int header;
  int mode = read_options(L, 2, &o, &header);   /* + names or nil */
  struct reader *r = lua_newuserdatauv(L, sizeof *r, 1);
  r->c = NULL;
  r->mode = mode;
  r->line = 0;
  luaL_setmetatable(L, READER_MT);
  lua_insert(L, -2);                            /* reader, names */
  if (!(r->c = koop_csv_open(path, &o)))
    koop_error_raise(L, "io", NULL, "cannot open %s: %s", path, strerror(errno));
  if (header) {
    int got = koop_csv_next(r->c);
    if (got < 0) raise_reader(L, r);
    lua_pop(L, 1);
    if (got > 0) take_header(L, r);
    else lua_newtable(L);                       /* an empty file: no names */
  }
  lua_setiuservalue(L, -2, 1);
  return r;
}

/* koop.csv.rows(file [, opts]) → iterator, reader, nil, reader */
static int csv_rows(lua_State *L)
{
  open_reader(L);
  return push_iteration(L, lua_gettop(L));
}

/* koop.csv.open(file [, opts]) → reader object */
static int csv_open(lua_State *L)
{
  open_reader(L);
  return 1;
}

/* koop.csv.detect_encoding(file) → "utf-8" | "cp1250" | "utf-16le" | "utf-16be" */
static int csv_detect_encoding(lua_State *L)
{
  check_sandbox(L);
  if (lua_type(L, 1) != LUA_TSTRING)
    return koop_error_raise(L, "invalid", NULL, "koop.csv.detect_encoding: file name expected, got %s",
                            luaL_typename(L, 1));
  const char *path = lua_tostring(L, 1);
  const char *encoding = koop_csv_detect_encoding(path);
  if (!encoding) return koop_error_raise(L, "io", NULL, "cannot read %s: %s", path, strerror(errno));
  lua_pushstring(L, encoding);
  return 1;
}

/* reader:read() → the next row (as the options say), or nil at the end */
static int reader_read(lua_State *L)
{
  struct reader *r = check_reader(L);
  int n = push_row(L, r, 1);
  if (n == 0) lua_pushnil(L);
  return n ? n : 1;
}

/* reader:rows() → iterator, reader, nil, reader */
static int reader_rows(lua_State *L)
{
  check_reader(L);
  return push_iteration(L, 1);
}

/* reader:header() → a copy of the field names, or nil without a header */
static int reader_header(lua_State *L)
{
  check_reader(L);
  if (lua_getiuservalue(L, 1, 1) != LUA_TTABLE) return 1;
  lua_Integer n = luaL_len(L, -1);
  lua_createtable(L, (int)n, 0);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, -2, i);
    lua_rawseti(L, -2, i);
  }
  return 1;
}

/* reader:line() → the line on which the last row read starts */
static int reader_line(lua_State *L)
{
  struct reader *r = check_reader(L);
  lua_pushinteger(L, r->c ? koop_csv_line(r->c) : r->line);
  return 1;
}

/* reader:sep() → the separator in use (nil once closed) */
static int reader_sep(lua_State *L)
{
  struct reader *r = check_reader(L);
  if (!r->c) return 0;
  char sep = koop_csv_sep(r->c);
  if (!sep) return raise_reader(L, r);
  lua_pushlstring(L, &sep, 1);
  return 1;
}

/* reader:close(); also __close and __gc */
static int reader_gc(lua_State *L)
{
  reader_close(check_reader(L));
  return 0;
}

/* tostring(reader) */
static int reader_tostring(lua_State *L)
{
  struct reader *r = check_reader(L);
  if (r->c) lua_pushfstring(L, "csv reader (%s, line %d)", koop_csv_name(r->c), (int)koop_csv_line(r->c));
  else lua_pushliteral(L, "csv reader (closed)");
  return 1;
}

void koop_open_csv(lua_State *L)
{
  static const luaL_Reg methods[] = {
    { "read", reader_read }, { "rows", reader_rows }, { "header", reader_header },
    { "line", reader_line }, { "sep", reader_sep }, { "close", reader_gc }, { NULL, NULL }
  };
  static const luaL_Reg meta[] = {
    { "__gc", reader_gc }, { "__close", reader_gc }, { "__tostring", reader_tostring },
    { NULL, NULL }
  };
  static const luaL_Reg funcs[] = {
    { "rows", csv_rows }, { "open", csv_open }, { "detect_encoding", csv_detect_encoding },
    { NULL, NULL }
  };
  if (luaL_newmetatable(L, READER_MT)) {
    luaL_setfuncs(L, meta, 0);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
  luaL_newlib(L, funcs);
  lua_setfield(L, -2, "csv");
}
