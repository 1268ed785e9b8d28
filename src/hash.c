/*
** hash.c — SHA-256 (FIPS 180-4) for the audit log's hash chain, with no
** dependency: koop_sha256() for C, and for Lua koop.sha256(s) -> 64 hex
** digits and koop.sha256_fields(...), the hash of a list of fields.  The
** audit log hashes every change it records, so this is the plain, fast
** textbook form: one compression function, a 64-byte block buffer,
** big-endian words.
*/
#include <stdio.h>
#include <string.h>

#include "koop.h"

static const uint32_t K[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
  0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
  0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
  0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

/* A hash in progress: the state, a partial block, the length so far. */
struct sha256 {
  uint32_t h[8];
  unsigned char block[64];
  size_t fill;
  uint64_t total;
};

#define CH(x, y, z)  (((x) & (y)) ^ (~(x) & (z)))
#define MAJ(x, y, z) (((x) & (y)) ^ ((x) & (z)) ^ ((y) & (z)))
#define S0(x) (ROTR(x, 2) ^ ROTR(x, 13) ^ ROTR(x, 22))
#define S1(x) (ROTR(x, 6) ^ ROTR(x, 11) ^ ROTR(x, 25))
#define s0(x) (ROTR(x, 7) ^ ROTR(x, 18) ^ ((x) >> 3))
#define s1(x) (ROTR(x, 17) ^ ROTR(x, 19) ^ ((x) >> 10))

/* One round, with the eight working variables named in rotated order
** instead of moved: eight rounds bring the names back where they were. */
#define ROUND(a, b, c, d, e, f, g, h, i) do { \
    uint32_t t1 = h + S1(e) + CH(e, f, g) + K[i] + w[i]; \
    d += t1; \
    h = t1 + S0(a) + MAJ(a, b, c); \
  } while (0)

/* Fold one 64-byte block into the state st. */
static void compress (uint32_t st[8], const unsigned char *p) {
  uint32_t w[64], a, b, c, d, e, f, g, h;
  int i;
  for (i = 0; i < 16; i++, p += 4)
    w[i] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
  for (; i < 64; i++) w[i] = w[i-16] + s0(w[i-15]) + w[i-7] + s1(w[i-2]);
  a = st[0]; b = st[1]; c = st[2]; d = st[3]; e = st[4]; f = st[5]; g = st[6]; h = st[7];
  for (i = 0; i < 64; i += 8) {
    ROUND(a, b, c, d, e, f, g, h, i);
    ROUND(h, a, b, c, d, e, f, g, i + 1);
    ROUND(g, h, a, b, c, d, e, f, i + 2);
    ROUND(f, g, h, a, b, c, d, e, i + 3);
    ROUND(e, f, g, h, a, b, c, d, i + 4);
    ROUND(d, e, f, g, h, a, b, c, i + 5);
    ROUND(c, d, e, f, g, h, a, b, i + 6);
    ROUND(b, c, d, e, f, g, h, a, i + 7);
  }
  st[0] += a; st[1] += b; st[2] += c; st[3] += d; st[4] += e; st[5] += f; st[6] += g; st[7] += h;
}

/* {---- SHA extensions (x86-64): the same function in the CPU's own rounds.
** Used when CPUID says the CPU has them (most since 2017; valgrind hides
** them, so the portable code is what memcheck and callgrind see). */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define HAVE_SHA_NI 1

__attribute__((target("sha,sse4.1,ssse3")))
static void compress_ni (uint32_t st[8], const unsigned char *p) {
  const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  __m128i s0, s1, t, m, abef, cdgh, w[4];
  int i;
  t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&st[0]), 0xB1);   /* CDAB */
  s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&st[4]), 0x1B);  /* EFGH */
  s0 = _mm_alignr_epi8(t, s1, 8);                                          /* ABEF */
  s1 = _mm_blend_epi16(s1, t, 0xF0);                                       /* CDGH */
  abef = s0;
  cdgh = s1;
  for (i = 0; i < 4; i++)
    w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * i)), swap);
  for (i = 0; i < 16; i++) {           /* four rounds each */
    m = _mm_add_epi32(w[i & 3], _mm_loadu_si128((const __m128i *)&K[4 * i]));
    s1 = _mm_sha256rnds2_epu32(s1, s0, m);
    s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(m, 0x0E));
    if (i < 12) {                      /* the words of rounds 4i+16 .. 4i+19 */
      t = _mm_sha256msg1_epu32(w[i & 3], w[(i + 1) & 3]);
      t = _mm_add_epi32(t, _mm_alignr_epi8(w[(i + 3) & 3], w[(i + 2) & 3], 4));
      w[i & 3] = _mm_sha256msg2_epu32(t, w[(i + 3) & 3]);
    }
  }
  s0 = _mm_add_epi32(s0, abef);
  s1 = _mm_add_epi32(s1, cdgh);
  t = _mm_shuffle_epi32(s0, 0x1B);                                         /* FEBA */
  s1 = _mm_shuffle_epi32(s1, 0xB1);                                        /* DCHG */
  _mm_storeu_si128((__m128i *)&st[0], _mm_blend_epi16(t, s1, 0xF0));       /* DCBA */
  _mm_storeu_si128((__m128i *)&st[4], _mm_alignr_epi8(s1, t, 8));          /* HGFE */
}

/* Does the CPU have the SHA extensions (and SSSE3, SSE4.1)? */
static int cpu_has_sha (void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSSE3) || !(c & bit_SSE4_1)) return 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
  return (b >> 29) & 1;
}
#endif

/* The compression function for this CPU, chosen on first use. */
static void compress_any (uint32_t st[8], const unsigned char *p);
static void (*compress_fn)(uint32_t st[8], const unsigned char *p) = compress_any;

static void compress_any (uint32_t st[8], const unsigned char *p) {
  compress_fn = compress;
#ifdef HAVE_SHA_NI
  if (cpu_has_sha()) compress_fn = compress_ni;
#endif
  compress_fn(st, p);
}
/* }---- */

/* Start a hash. */
static void sha_init (struct sha256 *s) {
  static const uint32_t init[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
  };
  memcpy(s->h, init, sizeof s->h);
  s->fill = 0;
  s->total = 0;
}

/* Feed len bytes to the hash. */
static void sha_add (struct sha256 *s, const void *data, size_t len) {
  const unsigned char *p = data;
  s->total += len;
  if (s->fill > 0) {
    size_t n = 64 - s->fill < len ? 64 - s->fill : len;
    memcpy(s->block + s->fill, p, n);
    s->fill += n; p += n; len -= n;
    if (s->fill < 64) return;
    compress_fn(s->h, s->block);
    s->fill = 0;
  }
  for (; len >= 64; len -= 64, p += 64) compress_fn(s->h, p);
  if (len > 0) memcpy(s->block, p, len);
  s->fill = len;
}

/* Pad (a 1 bit, zeros, the length in bits) and write the digest. */
static void sha_final (struct sha256 *s, unsigned char out[32]) {
  unsigned char pad[72];
  uint64_t bits = s->total * 8;
  size_t n = s->fill < 56 ? 56 - s->fill : 120 - s->fill;
  int i;
  memset(pad, 0, sizeof pad);
  pad[0] = 0x80;
  for (i = 0; i < 8; i++) pad[n + 7 - i] = (unsigned char)(bits >> (8 * i));
  sha_add(s, pad, n + 8);
  for (i = 0; i < 32; i++) out[i] = (unsigned char)(s->h[i / 4] >> (24 - 8 * (i % 4)));
}

/* 32 digest bytes as 64 lowercase hex digits and a NUL. */
static void to_hex (const unsigned char d[32], char out[65]) {
  static const char digits[] = "0123456789abcdef";
  int i;
  for (i = 0; i < 32; i++) {
    out[2*i] = digits[d[i] >> 4];
    out[2*i+1] = digits[d[i] & 15];
  }
  out[64] = '\0';
}

void koop_sha256 (const void *data, size_t len, unsigned char out[32]) {
  struct sha256 s;
  sha_init(&s);
  sha_add(&s, data, len);
  sha_final(&s, out);
}

void koop_sha256_hex (const void *data, size_t len, char out[65]) {
  unsigned char d[32];
  koop_sha256(data, len, d);
  to_hex(d, out);
}

/* koop.sha256(s) -> the SHA-256 of the bytes of s, as 64 lowercase hex digits. */
static int l_sha256 (lua_State *L) {
  size_t len;
  const char *s;
  char hex[65];
  if (lua_type(L, 1) != LUA_TSTRING)
    return koop_error_raise(L, "invalid", NULL, "koop.sha256: a string expected, got %s",
                            luaL_typename(L, 1));
  s = lua_tolstring(L, 1, &len);
  koop_sha256_hex(s, len, hex);
  lua_pushlstring(L, hex, 64);
  return 1;
}

/* Write the decimal digits of u backwards ending at end; return the start. */
static char *digits_of (unsigned long long u, char *end) {
  do { *--end = (char)('0' + u % 10); u /= 10; } while (u > 0);
  return end;
}

/* koop.sha256_fields(...) -> the hex SHA-256 of the arguments written as
** one text in which no two different lists of fields look alike: each
** field is LENGTH:TEXT (a number as Lua writes an integer, or with %.17g),
** nil and koop.null are "-", and the fields are joined by "|".  So
** sha256_fields("ab", 7, nil) is sha256("2:ab|1:7|-").  The audit log
** hashes its rows this way, without building the text in Lua. */
static int l_sha256_fields (lua_State *L) {
  int n = lua_gettop(L), i, k;
  struct sha256 s;
  unsigned char d[32];
  char buf[72];
  sha_init(&s);
  for (i = 1; i <= n; i++) {
    const char *text;
    size_t len;
    if (i > 1) sha_add(&s, "|", 1);
    switch (lua_type(L, i)) {
      case LUA_TSTRING:
        text = lua_tolstring(L, i, &len);
        break;
      case LUA_TNUMBER:
        if (lua_isinteger(L, i)) {
          lua_Integer v = lua_tointeger(L, i);
          char *start = digits_of(v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v,
                                  buf + sizeof buf);
          if (v < 0) *--start = '-';
          text = start;
          len = (size_t)(buf + sizeof buf - start);
        } else {
          k = snprintf(buf, sizeof buf, "%.17g", (double)lua_tonumber(L, i));
          text = buf;
          len = (size_t)k;
        }
        break;
      case LUA_TNIL:
        sha_add(&s, "-", 1);
        continue;
      default:
        if (luaL_testudata(L, i, "koop.Null") != NULL) {
          sha_add(&s, "-", 1);
          continue;
        }
        return koop_error_raise(L, "invalid", NULL, "koop.sha256_fields: field %d is %s, "
                                "not text, a number or nil", i, luaL_typename(L, i));
    }
    {
      char head[24], *start;
      head[sizeof head - 1] = ':';
      start = digits_of(len, head + sizeof head - 1);
      sha_add(&s, start, (size_t)(head + sizeof head - start));
      sha_add(&s, text, len);
    }
  }
  sha_final(&s, d);
  to_hex(d, buf);
  lua_pushlstring(L, buf, 64);
  return 1;
}

void koop_open_hash (lua_State *L) {
  lua_pushcfunction(L, l_sha256);
  lua_setfield(L, -2, "sha256");
  lua_pushcfunction(L, l_sha256_fields);
  lua_setfield(L, -2, "sha256_fields");
}
