/*
** hash_test.c — SHA-256 in hash.c: the NIST FIPS 180-4 example vectors
** ("abc", the empty string, the 448- and 896-bit messages, one million
** 'a'), messages at every padding boundary (55, 56, 63, 64, 65, 119, 120,
** 127, 128 bytes; digests from Python's hashlib, an independent
** implementation), UTF-8 text, and the Lua bindings: koop.sha256 (hex
** digest, error object for a non-string) and koop.sha256_fields (the hash
** of LENGTH:TEXT fields joined by "|", nil and koop.null as "-").
*/
#include "koop.h"

#include <lualib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

/* Print one check's line. */
static void check (int good, const char *what, const char *fmt, ...) {
  va_list ap;
  if (good) {
    passed++;
    printf("ok - %s\n", what);
    return;
  }
  failed++;
  printf("not ok - %s: ", what);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
}

/* The hex digest of len bytes of data equals want. */
static void digest_is (const char *what, const void *data, size_t len, const char *want) {
  char hex[65];
  koop_sha256_hex(data, len, hex);
  check(strcmp(hex, want) == 0, what, "got %s, expected %s", hex, want);
}

/* n bytes of 'a' hash to want. */
static void a_times (size_t n, const char *want) {
  char what[64];
  char *buf = malloc(n ? n : 1);
  memset(buf, 'a', n);
  snprintf(what, sizeof what, "%zu x 'a'", n);
  digest_is(what, buf, n, want);
  free(buf);
}

/* The raw digest matches its hex form byte for byte. */
static void raw_matches_hex (void) {
  unsigned char d[32];
  char hex[65], again[65];
  int i;
  koop_sha256("abc", 3, d);
  koop_sha256_hex("abc", 3, hex);
  for (i = 0; i < 32; i++) snprintf(again + 2 * i, 3, "%02x", d[i]);
  check(strcmp(hex, again) == 0, "koop_sha256 gives the bytes of the hex digest",
        "%s vs %s", hex, again);
}

/* The Lua chunk returns true. */
static void fields_case (lua_State *L, const char *what, const char *chunk) {
  int good = luaL_dostring(L, chunk) == LUA_OK && lua_toboolean(L, -1);
  check(good, what, "%s", lua_isstring(L, -1) ? lua_tostring(L, -1) : "false");
  lua_settop(L, 0);
}

/* koop.sha256 and koop.sha256_fields from Lua: digests, and error objects
** for values that cannot be hashed. */
static void lua_binding (void) {
  lua_State *L = luaL_newstate();
  const char *got;
  luaL_openlibs(L);
  lua_newtable(L);
  koop_open_errors(L);
  koop_open_db(L);
  koop_open_hash(L);
  lua_setglobal(L, "koop");
  if (luaL_dostring(L, "return koop.sha256('abc')") != LUA_OK) {
    check(0, "koop.sha256('abc')", "%s", lua_tostring(L, -1));
  } else {
    got = lua_tostring(L, -1);
    check(got && strcmp(got, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0,
          "koop.sha256('abc') is the hex digest", "got %s", got ? got : "(nil)");
  }
  lua_settop(L, 0);
  if (luaL_dostring(L, "local ok, e = pcall(koop.sha256, 42) "
                       "return not ok and e.code == 'invalid' and e.message") != LUA_OK) {
    check(0, "koop.sha256(42) raises", "%s", lua_tostring(L, -1));
  } else {
    got = lua_tostring(L, -1);
    check(got && strstr(got, "a string expected, got number") != NULL,
          "koop.sha256(42) raises an invalid error naming the type", "got %s", got ? got : "false");
  }
  lua_settop(L, 0);
  lua_pushnil(L);
  lua_setglobal(L, "db");
  fields_case(L, "sha256_fields(\"ab\", 7, nil) is sha256(\"2:ab|1:7|-\")",
              "return koop.sha256_fields('ab', 7, nil) == koop.sha256('2:ab|1:7|-')");
  fields_case(L, "sha256_fields: koop.null is \"-\" like nil",
              "return koop.sha256_fields(koop.null, 'x') == koop.sha256('-|1:x')");
  fields_case(L, "sha256_fields: a float is written with %.17g",
              "return koop.sha256_fields(0.5) == koop.sha256('3:0.5')");
  fields_case(L, "sha256_fields: field boundaries cannot be forged",
              "return koop.sha256_fields('a|1:b') ~= koop.sha256_fields('a', 'b')");
  fields_case(L, "sha256_fields: long fields across blocks equal the one-shot hash",
              "local s = string.rep('x', 1000) "
              "return koop.sha256_fields(s, s) == koop.sha256('1000:' .. s .. '|1000:' .. s)");
  fields_case(L, "sha256_fields() of nothing is sha256 of the empty text",
              "return koop.sha256_fields() == koop.sha256('')");
  fields_case(L, "sha256_fields rejects a table, naming the field",
              "local ok, e = pcall(koop.sha256_fields, 'a', {}) "
              "return not ok and e.code == 'invalid' and e.message:find('field 2 is table') ~= nil");
  lua_close(L);
}

int main (void) {
  /* FIPS 180-4 / NIST CSRC example values */
  digest_is("NIST \"abc\"", "abc", 3,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  digest_is("NIST empty message", "", 0,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  digest_is("NIST 448-bit message",
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  digest_is("NIST 896-bit message",
            "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
            "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu", 112,
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  a_times(1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  /* padding boundaries: the length field fits in the last block or not */
  a_times(55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  a_times(56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  a_times(63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34");
  a_times(64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
  a_times(65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0");
  a_times(119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb");
  a_times(120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c");
  a_times(127, "c57e9278af78fa3cab38667bef4ce29d783787a2f731d4e12200270f0c32320a");
  a_times(128, "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e");
  digest_is("UTF-8 text", "zażółć gęślą jaźń", strlen("zażółć gęślą jaźń"),
            "ab4e973a71cf9dd8a6d0d9b8030029b219b6e162d1dbdf0ad0ebf0dd698d6057");
  raw_matches_hex();
  lua_binding();
  printf("%d passed, %d failed\n", passed, failed);
  return failed > 0;
}
