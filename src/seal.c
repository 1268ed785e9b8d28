/*
** seal.c — the seals of protected tables (tamper evidence; the policy is
** in lib/koop/audit.lua).  A table's seal is its row count and the sum,
** mod 2^64, of a 64-bit hash of every row: a sum does not depend on the
** order of rows, so a trigger keeps it up to date one row at a time
**   digest = seal_add(digest, +1 | -1, col1, col2, ...)
** and audit.verify() recomputes it over the whole table with the aggregate
**   SELECT count(*), seal_sum(col1, col2, ...) FROM t
** The row hash is 64-bit FNV-1a, finished by MurmurHash3's fmix64
** avalanche, of a canonical encoding of the values: a type byte, then an
** 8-byte big-endian integer, or an 8-byte length and the bytes of text or
** a blob; a float with a whole value is written as the integer (SQLite may
** store either for the same value).  Not SHA-256: the seal has no secret,
** so whoever could forge a hash could as well rewrite the seal, and a
** cryptographic hash per written row cost 16% of an import's instructions
** (callgrind, 20,000 rows) where this costs under 1%.
** The functions exist only on koop's connections, so a trigger that calls
** one also stops casual edits made with the sqlite3 shell.
*/
#include <math.h>
#include <string.h>

#include "koop.h"

#define SEAL_BUF 512               /* rows up to this size hash without malloc */

/* Append the 8 bytes of u, most significant first. */
static unsigned char *put_u64 (unsigned char *p, uint64_t u) {
  int i;
  for (i = 7; i >= 0; i--) { p[i] = (unsigned char)(u & 0xff); u >>= 8; }
  return p + 8;
}

/* The encoded size of one value (see the top of this file). */
static size_t value_size (sqlite3_value *v) {
  switch (sqlite3_value_type(v)) {
    case SQLITE_TEXT: case SQLITE_BLOB:
      return 9 + (size_t)sqlite3_value_bytes(v);
    case SQLITE_NULL:
      return 1;
    default:
      return 9;
  }
}

/* Encode one value at p; returns the end. */
static unsigned char *put_value (unsigned char *p, sqlite3_value *v) {
  double d;
  uint64_t bits;
  size_t n;
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER:
      *p++ = 'i';
      return put_u64(p, (uint64_t)sqlite3_value_int64(v));
    case SQLITE_FLOAT:
      d = sqlite3_value_double(v);
      if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 && d == floor(d)) {
        *p++ = 'i';
        return put_u64(p, (uint64_t)(int64_t)d);
      }
      *p++ = 'f';
      memcpy(&bits, &d, sizeof bits);
      return put_u64(p, bits);
    case SQLITE_TEXT:
      n = (size_t)sqlite3_value_bytes(v);
      *p++ = 't';
      p = put_u64(p, n);
      if (n > 0) memcpy(p, sqlite3_value_text(v), n);
      return p + n;
    case SQLITE_BLOB:
      n = (size_t)sqlite3_value_bytes(v);
      *p++ = 'b';
      p = put_u64(p, n);
      if (n > 0) memcpy(p, sqlite3_value_blob(v), n);
      return p + n;
    default:
      *p++ = 'n';
      return p;
  }
}

/* FNV-1a of len bytes, then fmix64 so every input bit moves every output
** bit (FNV alone mixes the last bytes poorly). */
static uint64_t hash64 (const unsigned char *p, size_t len) {
  uint64_t h = 0xcbf29ce484222325u;
  size_t i;
  for (i = 0; i < len; i++) h = (h ^ p[i]) * 0x100000001b3u;
  h ^= h >> 33; h *= 0xff51afd7ed558ccdu;
  h ^= h >> 33; h *= 0xc4ceb9fe1a85ec53u;
  return h ^ (h >> 33);
}

/* The 64-bit hash of the row argv[0..argc-1]; 0 with an error set on ctx
** when memory runs out (*failed is then set). */
static uint64_t row_hash (sqlite3_context *ctx, int argc, sqlite3_value **argv,
                          int *failed) {
  unsigned char buf[SEAL_BUF], *data = buf, *p;
  size_t size = 0;
  uint64_t h;
  int i;
  for (i = 0; i < argc; i++) size += value_size(argv[i]);
  if (size > sizeof buf && (data = sqlite3_malloc64(size)) == NULL) {
    sqlite3_result_error_nomem(ctx);
    *failed = 1;
    return 0;
  }
  for (p = data, i = 0; i < argc; i++) p = put_value(p, argv[i]);
  h = hash64(data, (size_t)(p - data));
  if (data != buf) sqlite3_free(data);
  return h;
}

/* A uint64_t as the SQLite integer with the same bits. */
static sqlite3_int64 as_int64 (uint64_t u) {
  sqlite3_int64 i;
  memcpy(&i, &u, sizeof i);
  return i;
}

/* SQL seal_add(digest, sign, v1, ...) -> digest + sign * hash(v1, ...)
** mod 2^64; a NULL digest counts as 0 (an empty table). */
static void seal_add (sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  uint64_t digest, h;
  int failed = 0;
  if (argc < 3) {
    sqlite3_result_error(ctx, "seal_add(digest, sign, value, ...) needs a value", -1);
    return;
  }
  digest = (uint64_t)sqlite3_value_int64(argv[0]);
  h = row_hash(ctx, argc - 2, argv + 2, &failed);
  if (failed) return;
  digest = sqlite3_value_int64(argv[1]) < 0 ? digest - h : digest + h;
  sqlite3_result_int64(ctx, as_int64(digest));
}

/* Step of the aggregate seal_sum(v1, ...): add the row's hash. */
static void seal_sum_step (sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  uint64_t *sum = sqlite3_aggregate_context(ctx, sizeof *sum), h;
  int failed = 0;
  if (sum == NULL) { sqlite3_result_error_nomem(ctx); return; }
  h = row_hash(ctx, argc, argv, &failed);
  if (!failed) *sum += h;
}

/* Final of seal_sum: the sum (0 for no rows, like an empty table's seal). */
static void seal_sum_final (sqlite3_context *ctx) {
  uint64_t *sum = sqlite3_aggregate_context(ctx, 0);
  sqlite3_result_int64(ctx, as_int64(sum != NULL ? *sum : 0));
}

int koop_seal_register (sqlite3 *db) {
  int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
  int rc = sqlite3_create_function_v2(db, "seal_add", -1, flags, NULL,
                                      seal_add, NULL, NULL, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function_v2(db, "seal_sum", -1, flags, NULL, NULL,
                                    seal_sum_step, seal_sum_final, NULL);
  return rc;
}
