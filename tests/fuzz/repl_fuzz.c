/*
** repl_fuzz.c — libFuzzer target for the REPL's input handling (src/repl.c):
** how it decides that an entry needs more lines (koop_repl_compile and
** koop_repl_incomplete) and the completion of dot commands and their
** arguments (koop_repl_complete).  The first byte chooses which; the rest
** is the entry, or the line before the word and the word (split at the
** first newline).  Entries are compiled, never run.
** Properties of compiling:
**  - exactly one value is pushed: a function (status OK) or a message;
**  - a chunk that Lua loads as it is never counts as incomplete, and
**    neither does one whose `return <entry>` form loads;
**  - binary chunks (ESC first) never compile;
**  - the same holds for each prefix of whole lines, as the REPL reads them.
** Properties of completion: it returns a KOOP_COMPLETE_ value, leaves the
** stack as it was, and adds only strings that start with the word (table
** names: in any case); a word that is no dot command's is left to Lua.
*/
#include <strings.h>

#include "fuzz.h"

/* A state with the global db holding tables whose names need care. */
static lua_State *repl_state(void)
{
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  lua_newtable(L);
  koop_open_errors(L);
  koop_open_db(L);
  lua_setglobal(L, "koop");
  if (luaL_dostring(L,
      "db = koop.open(':memory:', { schema = false })\n"
      "db:exec([[CREATE TABLE institution(id); CREATE TABLE \"Ośrodek pomocy\"(x);\n"
      "  CREATE TABLE \"a\"\"b\"(y); CREATE VIEW instytucje AS SELECT * FROM institution;\n"
      "  CREATE TABLE INSTANCE(z)]])") != LUA_OK)
    fuzz_fail("%s", lua_tostring(L, -1));
  return L;
}

/* Compile s[0..len) as one entry; leaves the stack as it was. */
static int compile(lua_State *L, const char *s, size_t len, int *more)
{
  int top = lua_gettop(L), quiet;
  lua_pushlstring(L, s, len);
  int status = koop_repl_compile(L, &quiet);
  FUZZ_CHECK(lua_gettop(L) == top + 2, "the stack grew by %d, not 2", lua_gettop(L) - top);
  FUZZ_CHECK(status == LUA_OK ? lua_isfunction(L, -1) : lua_type(L, -1) == LUA_TSTRING,
             "status %d with a %s on top", status, luaL_typename(L, -1));
  *more = koop_repl_incomplete(L, status);
  lua_settop(L, top);
  return status;
}

/* Compile the lines of s up to the next newline after *end; 1 while the
** entry needs more and there are more. */
static int more_lines(lua_State *L, const char *s, size_t *end, size_t len)
{
  const char *nl = memchr(s + *end, '\n', len - *end);
  int more;
  *end = nl ? (size_t)(nl - s) + 1 : len;
  compile(L, s, nl ? *end - 1 : *end, &more);
  return more && *end < len;
}

static void check_compile(lua_State *L, const char *s, size_t len)
{
  int more, status = compile(L, s, len, &more);
  if (len > 0 && s[0] == 0x1B) FUZZ_CHECK(status != LUA_OK, "a binary chunk compiled");
  if (luaL_loadbufferx(L, s, len, "=stdin", "t") == LUA_OK)
    FUZZ_CHECK(status == LUA_OK && !more, "a complete chunk is taken as %s",
               more ? "incomplete" : "an error");
  lua_pop(L, 1);
  if (more) {
    lua_pushliteral(L, "return ");
    lua_pushlstring(L, s, len);
    lua_concat(L, 2);
    FUZZ_CHECK(luaL_loadbufferx(L, lua_tostring(L, -1), lua_rawlen(L, -1), "=stdin", "t") != LUA_OK,
               "incomplete, yet `return <entry>` compiles");
    lua_pop(L, 2);
  }
  /* Line by line, as the REPL reads: each prefix compiles with the same
  ** stack discipline, up to the first that does not need more lines. */
  for (size_t end = 0; more_lines(L, s, &end, len); ) {}
}

static void check_complete(lua_State *L, const char *s, size_t len)
{
  char before[256], word[256];
  const char *nl = memchr(s, '\n', len);
  size_t blen = nl ? (size_t)(nl - s) : 0, wlen = nl ? len - blen - 1 : len;
  if (blen >= sizeof before) blen = sizeof before - 1;
  if (wlen >= sizeof word) wlen = sizeof word - 1;
  memcpy(before, s, blen);
  memcpy(word, nl ? nl + 1 : s, wlen);
  before[blen] = word[wlen] = '\0';          /* a NUL inside ends them early, as C strings */
  lua_settop(L, 0);
  lua_newtable(L);
  int how = koop_repl_complete(L, before, word);
  FUZZ_CHECK(lua_gettop(L) == 1 && lua_istable(L, 1), "completion left %d values", lua_gettop(L));
  FUZZ_CHECK(how == KOOP_COMPLETE_NONE || how == KOOP_COMPLETE_DONE || how == KOOP_COMPLETE_FILES,
             "completion returned %d", how);
  size_t wl = strlen(word), offered = 0;
  for (lua_pushnil(L); lua_next(L, 1); lua_pop(L, 1)) {
    offered++;
    FUZZ_CHECK(lua_type(L, -2) == LUA_TSTRING, "a completion that is not a string");
    FUZZ_CHECK(strncasecmp(lua_tostring(L, -2), word, wl) == 0, "\"%s\" offered for \"%s\"",
               lua_tostring(L, -2), word);
  }
  FUZZ_CHECK(how == KOOP_COMPLETE_DONE || offered == 0, "completions offered with status %d", how);
  lua_settop(L, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static lua_State *L;
  if (!L) L = repl_state();
  if (size == 0) return 0;
  if (data[0] & 1) check_complete(L, (const char *)data + 1, size - 1);
  else check_compile(L, (const char *)data + 1, size - 1);
  lua_settop(L, 0);
  lua_gc(L, LUA_GCSTEP, 0);
  return 0;
}
