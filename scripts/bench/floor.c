/*
** floor.c — the benchmark's floor: each workload done in plain C on the
** SQLite C API with prepared statements, as a careful C programmer would
** write it for this dataset.  Every contender's time is divided by this.
** Usage:
**   floor w1 SCHEMA.sql DATA.csv DB  create DB from SCHEMA, insert every CSV
**                                    row in one transaction
**   floor w2 DB QUERY.sql            run QUERY, print the result as CSV
**   floor w3 DB QUERY.sql            stream (case_id, date, hours) rows and
**                                    print how many cases have a month with
**                                    more than 20 hours
** Errors go to stderr as "floor: ..." with exit status 1.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <sqlite3.h>

#define NFIELDS 7           /* id,case_id,institution_id,service_type,date,hours,cost */
#define MAXLINE 4096

/* ---- small helpers ---------------------------------------------------- */

/* Say what failed and exit: a helper that runs once needs no recovery. */
static void die (const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die (const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("floor: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

/* Exit with the connection's last error, naming what was being done. */
static void die_db (sqlite3 *db, const char *doing) {
  die("%s: %s", doing, sqlite3_errmsg(db));
}

/* Read a whole file into a NUL-terminated malloc'ed buffer, or die. */
static char *slurp (const char *path) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t len = 0, n;
  if (f == NULL) die("%s: %s", path, strerror(errno));
  do {
    char *bigger = realloc(buf, len + 65536);
    if (bigger == NULL) die("%s: out of memory", path);
    buf = bigger;
    n = fread(buf + len, 1, 65535, f);
    len += n;
  } while (n > 0);
  if (ferror(f)) die("%s: read error", path);
  fclose(f);
  buf[len] = '\0';
  return buf;
}

/* Open DB (read-only when readonly) or die. */
static sqlite3 *open_db (const char *path, int readonly) {
  sqlite3 *db;
  int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) die_db(db, path);
  return db;
}

/* Prepare the first statement of sql or die. */
static sqlite3_stmt *prepare (sqlite3 *db, const char *sql) {
  sqlite3_stmt *stmt;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) die_db(db, "prepare");
  return stmt;
}

/* ---- W1: CSV to a fresh database --------------------------------------- */

/* Split line (without its line end) into NFIELDS fields in place: plain
** fields end at ','; quoted fields may hold ',' and "" for '"'.  Returns
** the number of fields found, or -1 on a malformed quoted field. */
static int split (char *line, char *field[NFIELDS], int len[NFIELDS]) {
  char *p = line;
  int n = 0;
  for (;;) {
    char *start = p, *w;
    if (n == NFIELDS) return n + 1;
    if (*p == '"') {
      start = w = ++p;
      for (;;) {
        if (*p == '\0') return -1;
        if (*p == '"') {
          if (p[1] != '"') break;
          p++;
        }
        *w++ = *p++;
      }
      p++;
      field[n] = start, len[n] = (int)(w - start);
      if (*p != ',' && *p != '\0') return -1;
    } else {
      while (*p != ',' && *p != '\0') p++;
      field[n] = start, len[n] = (int)(p - start);
    }
    n++;
    if (*p == '\0') return n;
    p++;
  }
}

/* Parse a whole field as a 64-bit integer; 0 when it is not one. */
static int parse_int (const char *s, int len, sqlite3_int64 *out) {
  char *end;
  errno = 0;
  *out = strtoll(s, &end, 10);
  return len > 0 && errno == 0 && end == s + len;
}

/* Parse a whole field as a double; 0 when it is not one. */
static int parse_real (const char *s, int len, double *out) {
  char *end;
  *out = strtod(s, &end);
  return len > 0 && end == s + len;
}

/* Bind one CSV line's fields to the INSERT's parameters. */
static int bind_row (sqlite3_stmt *ins, char *field[NFIELDS], int len[NFIELDS]) {
  sqlite3_int64 v;
  double hours;
  for (int i = 0; i < NFIELDS; i++) {
    int rc;
    if (i == 3 || i == 4) {       /* service_type, date */
      rc = sqlite3_bind_text(ins, i + 1, field[i], len[i], SQLITE_STATIC);
    } else if (i == 5) {
      if (!parse_real(field[i], len[i], &hours)) return 0;
      rc = sqlite3_bind_double(ins, i + 1, hours);
    } else {
      if (!parse_int(field[i], len[i], &v)) return 0;
      rc = sqlite3_bind_int64(ins, i + 1, v);
    }
    if (rc != SQLITE_OK) return 0;
  }
  return 1;
}

static int w1 (const char *schema_path, const char *csv_path, const char *db_path) {
  char line[MAXLINE], *field[NFIELDS];
  int len[NFIELDS];
  long n = 0;
  char *schema = slurp(schema_path);
  FILE *in = fopen(csv_path, "rb");
  sqlite3 *db = open_db(db_path, 0);
  sqlite3_stmt *ins;
  if (in == NULL) die("%s: %s", csv_path, strerror(errno));
  /* The same connection settings as koop gives a file database, so that
  ** the ratio measures koop's own overhead, not a different journal. */
  if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                   " PRAGMA foreign_keys=ON", NULL, NULL, NULL) != SQLITE_OK)
    die_db(db, "PRAGMA");
  if (sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK) die_db(db, schema_path);
  if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) die_db(db, "BEGIN");
  ins = prepare(db, "INSERT INTO services VALUES(?,?,?,?,?,?,?)");
  while (fgets(line, sizeof line, in) != NULL) {
    size_t l = strlen(line);
    n++;
    if (l > 0 && line[l - 1] == '\n') line[--l] = '\0';
    else if (!feof(in)) die("%s:%ld: line too long", csv_path, n);
    if (l > 0 && line[l - 1] == '\r') line[--l] = '\0';
    if (n == 1 || l == 0) continue;              /* the header, a blank line */
    if (split(line, field, len) != NFIELDS || !bind_row(ins, field, len))
      die("%s:%ld: not a service row", csv_path, n);
    if (sqlite3_step(ins) != SQLITE_DONE) die_db(db, "INSERT");
    sqlite3_reset(ins);
  }
  if (ferror(in)) die("%s: read error", csv_path);
  sqlite3_finalize(ins);
  if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) die_db(db, "COMMIT");
  if (sqlite3_close(db) != SQLITE_OK) die_db(db, "close");
  fclose(in);
  free(schema);
  return 0;
}

/* ---- W2: a query's result as CSV ---------------------------------------- */

/* Write a text value as a CSV field, quoted only when it must be. */
static void put_text (const char *s, FILE *out) {
  if (strpbrk(s, ",\"\r\n") == NULL) {
    fputs(s, out);
    return;
  }
  putc('"', out);
  for (; *s; s++) {
    if (*s == '"') putc('"', out);
    putc(*s, out);
  }
  putc('"', out);
}

static int w2 (const char *db_path, const char *query_path) {
  char *sql = slurp(query_path);
  sqlite3 *db = open_db(db_path, 1);
  sqlite3_stmt *q = prepare(db, sql);
  int ncol = sqlite3_column_count(q), rc;
  static char buf[1 << 16];
  setvbuf(stdout, buf, _IOFBF, sizeof buf);
  for (int i = 0; i < ncol; i++) {
    if (i > 0) putchar(',');
    put_text(sqlite3_column_name(q, i), stdout);
  }
  putchar('\n');
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    for (int i = 0; i < ncol; i++) {
      if (i > 0) putchar(',');
      switch (sqlite3_column_type(q, i)) {
        case SQLITE_INTEGER: printf("%lld", (long long)sqlite3_column_int64(q, i)); break;
        case SQLITE_FLOAT: printf("%.17g", sqlite3_column_double(q, i)); break;
        case SQLITE_NULL: break;
        default: put_text((const char *)sqlite3_column_text(q, i), stdout); break;
      }
    }
    putchar('\n');
  }
  if (rc != SQLITE_DONE) die_db(db, "query");
  sqlite3_finalize(q);
  sqlite3_close(db);
  free(sql);
  return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- W3: per-case monthly hours in a hash table ------------------------ */

/* Open-addressing map from a nonzero 64-bit key to a double; linear
** probing, grown at half full. */
struct map { uint64_t *keys; double *vals; size_t mask, used; };

static size_t slot_of (const struct map *m, uint64_t key) {
  size_t i = (size_t)((key * 0x9E3779B97F4A7C15u) >> 20) & m->mask;
  while (m->keys[i] != 0 && m->keys[i] != key) i = (i + 1) & m->mask;
  return i;
}

/* Make room for 2^bits entries (rehashing what is there) or die. */
static void map_resize (struct map *m, int bits) {
  struct map old = *m;
  m->mask = ((size_t)1 << bits) - 1;
  m->keys = calloc(m->mask + 1, sizeof *m->keys);
  m->vals = malloc((m->mask + 1) * sizeof *m->vals);
  if (m->keys == NULL || m->vals == NULL) die("out of memory");
  for (size_t i = 0; old.keys != NULL && i <= old.mask; i++)
    if (old.keys[i] != 0) {
      size_t j = slot_of(m, old.keys[i]);
      m->keys[j] = old.keys[i], m->vals[j] = old.vals[i];
    }
  free(old.keys);
  free(old.vals);
}

/* The value slot for key, created as 0 when new. */
static double *map_at (struct map *m, uint64_t key) {
  size_t i = slot_of(m, key);
  if (m->keys[i] == 0) {
    if (2 * (m->used + 1) > m->mask + 1) {
      int bits = 0;
      while (((size_t)1 << bits) <= m->mask) bits++;
      map_resize(m, bits + 1);
      i = slot_of(m, key);
    }
    m->keys[i] = key, m->vals[i] = 0, m->used++;
  }
  return &m->vals[i];
}

static int w3 (const char *db_path, const char *query_path) {
  char *sql = slurp(query_path);
  sqlite3 *db = open_db(db_path, 1);
  sqlite3_stmt *q = prepare(db, sql);
  struct map sums = { 0 }, flagged = { 0 };
  int rc;
  map_resize(&sums, 10);
  map_resize(&flagged, 10);
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    sqlite3_int64 case_id = sqlite3_column_int64(q, 0);
    const char *date = (const char *)sqlite3_column_text(q, 1);
    double *sum;
    if (case_id <= 0 || case_id >= ((sqlite3_int64)1 << 40) || date == NULL
        || sqlite3_column_bytes(q, 1) < 7)
      die("unexpected row: case_id must be positive and date ISO");
    /* key: case_id, then the month as yyyymm in 20 bits */
    sum = map_at(&sums, (uint64_t)case_id << 20 | (uint64_t)(atoi(date) * 12 + atoi(date + 5)));
    *sum += sqlite3_column_double(q, 2);
    if (*sum > 20) *map_at(&flagged, (uint64_t)case_id) = 1;
  }
  if (rc != SQLITE_DONE) die_db(db, "query");
  printf("%zu\n", flagged.used);
  free(sums.keys), free(sums.vals), free(flagged.keys), free(flagged.vals);
  sqlite3_finalize(q);
  sqlite3_close(db);
  free(sql);
  return 0;
}

int main (int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "w1") == 0) return w1(argv[2], argv[3], argv[4]);
  if (argc == 4 && strcmp(argv[1], "w2") == 0) return w2(argv[2], argv[3]);
  if (argc == 4 && strcmp(argv[1], "w3") == 0) return w3(argv[2], argv[3]);
  fprintf(stderr, "usage: floor w1 SCHEMA.sql DATA.csv DB\n"
                  "       floor w2 DB QUERY.sql\n"
                  "       floor w3 DB QUERY.sql\n");
  return 2;
}
