/*
** procedure_fuzz.c — libFuzzer target for the procedure loader
** (lib/koop/procedures.lua: procedures.compile(source, file), which
** `koop procedure install`, dryrun and koop test use).  The input is the
** source text of a procedure file, loaded in a koop state with a :memory:
** database and a 64 MiB allocation limit.  A small instruction limit
** stops hostile loops: a count hook that, as the loader's own, raises only
** while the procedure's code runs (koop's code finishes its step), and
** after the first 200 000 instructions checks every instruction.
** Properties: loading either gives a procedure (a table with a name and a
** version) or raises an error object whose message starts with the file
** and a line number ("fuzz.lua:12: ..."); only running out of the memory
** limit may end it otherwise (Lua calls no message handler for that, so
** the line is unknown: "fuzz.lua:?: not enough memory").  Never a crash,
** a hang or a leak.
*/
#include <ctype.h>

#include "fuzz.h"

#define FILE_NAME   "fuzz.lua"
#define LIMIT       200000
#define MEMORY      (64u << 20)

/* The instruction limit: once passed, raise at the next instruction of
** the procedure's own code. */
static void limit_hook(lua_State *L, lua_Debug *ar)
{
  lua_sethook(L, limit_hook, LUA_MASKCOUNT, 1);
  if (lua_getinfo(L, "S", ar) && strcmp(ar->source, "@" FILE_NAME) == 0)
    luaL_error(L, "instruction limit of %d exceeded", LIMIT);
}

/* True if the message starts with FILE_NAME, ':', digits and ':'. */
static int names_line(const char *m)
{
  size_t n = strlen(FILE_NAME ":");
  if (strncmp(m, FILE_NAME ":", n) != 0 || !isdigit((unsigned char)m[n])) return 0;
  while (isdigit((unsigned char)m[n])) n++;
  return m[n] == ':';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static lua_State *L;
  if (!L) {
    L = fuzz_koop_state(MEMORY);
    if (luaL_dostring(L, "compile = require('koop.procedures').compile") != LUA_OK)
      fuzz_fail("%s", lua_tostring(L, -1));
  }
  lua_settop(L, 0);
  lua_getglobal(L, "compile");
  lua_pushlstring(L, (const char *)data, size);
  lua_pushliteral(L, FILE_NAME);
  lua_sethook(L, limit_hook, LUA_MASKCOUNT, LIMIT);
  int status = lua_pcall(L, 2, 1, 0);
  lua_sethook(L, NULL, 0, 0);
  if (status == LUA_OK) {
    FUZZ_CHECK(lua_istable(L, -1), "compile returned a %s", luaL_typename(L, -1));
    FUZZ_CHECK(lua_getfield(L, -1, "name") == LUA_TSTRING && lua_getfield(L, -2, "version") == LUA_TSTRING,
               "a procedure without a name and a version");
  }
  else if (status != LUA_ERRMEM && !strstr(fuzz_error_text(L, -1), "not enough memory")) {
    FUZZ_CHECK(koop_error_is(L, -1), "loading raised a %s, not an error object: %s",
               luaL_typename(L, -1), luaL_tolstring(L, -1, NULL));
    FUZZ_CHECK(names_line(fuzz_error_text(L, -1)), "the error does not say file:line: %s",
               fuzz_error_text(L, -1));
  }
  lua_settop(L, 0);
  lua_gc(L, LUA_GCCOLLECT);
  return 0;
}
