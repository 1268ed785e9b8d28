/*
** fuzz.h — what the libFuzzer harnesses (tests/fuzz/, one per target) share:
** property failures that abort with a message (so libFuzzer keeps the
** input as a crash), a cursor that draws typed values from the fuzz bytes,
** and a Lua state set up as the koop binary sets one up (the koop table,
** the embedded modules, a :memory: database as the global db).
*/
#ifndef KOOP_FUZZ_H
#define KOOP_FUZZ_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lualib.h>

#include "koop.h"

/* A broken property: say which and abort, so that libFuzzer saves the input. */
static inline void fuzz_fail(const char *fmt, ...)
{
  va_list ap;
  fputs("fuzz property failed: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  abort();
}

#define FUZZ_CHECK(cond, ...) do { if (!(cond)) fuzz_fail(__VA_ARGS__); } while (0)

/* The fuzz input read front to back; reads past the end give zeros. */
struct fuzz_bytes { const unsigned char *p; size_t n; };

static inline unsigned fuzz_byte(struct fuzz_bytes *b)
{
  if (b->n == 0) return 0;
  b->n--;
  return *b->p++;
}

static inline uint64_t fuzz_u64(struct fuzz_bytes *b)
{
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = v << 8 | fuzz_byte(b);
  return v;
}

/* Up to max bytes of the input (fewer at its end); *len gets the count. */
static inline const char *fuzz_take(struct fuzz_bytes *b, size_t max, size_t *len)
{
  const char *s = (const char *)b->p;
  *len = max < b->n ? max : b->n;
  b->p += *len;
  b->n -= *len;
  return s;
}

/* Protected: the koop table, the modules, and koop.cli's configure and
** connect with a :memory: database, as main.c's pmain does for a script. */
static inline int fuzz_setup(lua_State *L)
{
  luaL_openlibs(L);
  koop_open_all(L);
  koop_open_modules(L);
  return luaL_dostring(L,
    "local cli = require 'koop.cli'\n"
    "cli.configure{ db = ':memory:', as = 'fuzz', today = '2024-04-29' }\n"
    "cli.connect()\n") == LUA_OK ? 0 : lua_error(L);
}

/* A state like koop's with an allocation limit of memory_bytes; aborts
** if it cannot be made (that is the harness's fault, not the input's). */
static inline lua_State *fuzz_koop_state(size_t memory_bytes)
{
  struct koop_limits lim = { 0 };
  lua_State *L;
  lim.memory_bytes = memory_bytes;
  L = koop_newstate(&lim);
  if (L == NULL) fuzz_fail("cannot create a Lua state");
  lua_pushcfunction(L, fuzz_setup);
  if (lua_pcall(L, 0, 0, 0) != LUA_OK)
    fuzz_fail("koop state set-up: %s", luaL_tolstring(L, -1, NULL));
  return L;
}

/* The message of the error object (or other error value) at idx. */
static inline const char *fuzz_error_text(lua_State *L, int idx)
{
  if (koop_error_is(L, idx)) {
    lua_getfield(L, idx, "message");
    const char *s = lua_tostring(L, -1);
    lua_pop(L, 1);                       /* the error object keeps it alive */
    return s ? s : "(no message)";
  }
  return lua_tostring(L, idx) ? lua_tostring(L, idx) : luaL_typename(L, idx);
}

#endif
