/*
** sandbox.c — what --safe, --memory and --safe=write take away.
** The sandbox guards a coordinator against a report script received from
** someone else; it is not an operating-system security boundary (README,
** SECURITY).  Lua side: no io, no os.execute/remove/rename/exit/getenv,
** no package.loadlib or C searchers, no debug, no string.dump, text chunks
** only.  SQLite side (koop_sandbox_db): an authorizer that refuses ATTACH,
** DETACH and PRAGMAs that change the file, and extension loading off.
*/
#include <stdlib.h>
#include <string.h>

#include "koop.h"

/* Allocator bookkeeping: ud points at this. */
struct alloc_state { size_t used, limit; };

void *koop_alloc (void *ud, void *ptr, size_t osize, size_t nsize) {
  struct alloc_state *st = ud;
  size_t old = ptr ? osize : 0;
  void *p;
  if (nsize == 0) {
    free(ptr);
    st->used -= old;
    return NULL;
  }
  if (st->limit > 0 && nsize > old && st->used + (nsize - old) > st->limit)
    return NULL;  /* Lua raises "not enough memory" */
  p = realloc(ptr, nsize);
  if (p != NULL) st->used = st->used - old + nsize;
  return p;
}

/* Create a state whose allocations stop at memory_bytes (0 = unlimited). */
lua_State *koop_newstate (size_t memory_bytes) {
  struct alloc_state *st = calloc(1, sizeof *st);
  lua_State *L;
  if (st == NULL) return NULL;
  st->limit = memory_bytes;
  L = lua_newstate(koop_alloc, st);
  if (L == NULL) free(st);
  return L;
}

/* Close a state made by koop_newstate and free its bookkeeping. */
void koop_closestate (lua_State *L) {
  void *ud;
  lua_getallocf(L, &ud);
  lua_close(L);
  free(ud);
}

/* load() that accepts text chunks only, whatever mode the caller asks;
** upvalue 1 is the original load. */
static int safe_load (lua_State *L) {
  int n;
  lua_settop(L, 4);                     /* chunk, chunkname, mode, env */
  n = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_pushliteral(L, "t");
  lua_pushvalue(L, 4);
  lua_call(L, 4, LUA_MULTRET);
  return lua_gettop(L) - n;
}

/* Set t[name] = nil for each name, t on top of the stack. */
static void remove_fields (lua_State *L, const char *const *names) {
  for (; *names; names++) {
    lua_pushnil(L);
    lua_setfield(L, -2, *names);
  }
}

void koop_sandbox_apply (lua_State *L, const struct koop_limits *lim) {
  static const char *const globals[] = {
    "io", "debug", "dofile", "loadfile", NULL };
  static const char *const os_fields[] = {
    "execute", "remove", "rename", "exit", "getenv", "tmpname", "setlocale", NULL };
  static const char *const package_fields[] = { "loadlib", "cpath", NULL };
  if (!lim->safe) return;
  lua_pushglobaltable(L);
  lua_getfield(L, -1, "load");
  lua_pushcclosure(L, safe_load, 1);
  lua_setfield(L, -2, "load");
  remove_fields(L, globals);
  lua_getfield(L, -1, "os");
  remove_fields(L, os_fields);
  lua_pop(L, 1);
  lua_getfield(L, -1, "string");
  lua_pushnil(L);
  lua_setfield(L, -2, "dump");
  lua_pop(L, 1);
  lua_getfield(L, -1, "package");
  remove_fields(L, package_fields);
  /* keep only preload and the embedded searcher: no files, no C modules */
  lua_getfield(L, -1, "searchers");
  for (lua_Integer i = luaL_len(L, -1); i >= 3; i--) {
    lua_pushnil(L);
    lua_rawseti(L, -2, i);
  }
  lua_pop(L, 2);
  lua_pushboolean(L, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, "koop.safe");
  lua_pushboolean(L, lim->safe_write);
  lua_setfield(L, LUA_REGISTRYINDEX, "koop.safe_write");
  lua_pop(L, 1);
}

/* PRAGMAs whose argument names what to read, not a value to set. */
static int read_pragma (const char *name) {
  static const char *const names[] = {
    "table_info", "table_xinfo", "index_list", "index_info", "index_xinfo",
    "foreign_key_list", "foreign_key_check", "integrity_check", "quick_check",
    NULL };
  const char *const *n;
  for (n = names; *n; n++)
    if (strcmp(name, *n) == 0) return 1;
  return 0;
}

/* Authorizer for --safe connections: no ATTACH/DETACH, no PRAGMAs that
** write (a PRAGMA with an argument), no loading of extensions. */
static int safe_authorizer (void *ud, int action, const char *a, const char *b,
                            const char *c, const char *d) {
  (void)ud; (void)c; (void)d;
  switch (action) {
    case SQLITE_ATTACH: case SQLITE_DETACH:
      return SQLITE_DENY;
    case SQLITE_PRAGMA:
      return (b == NULL || read_pragma(a)) && strcmp(a, "writable_schema") != 0
             ? SQLITE_OK : SQLITE_DENY;
    case SQLITE_FUNCTION:
      if (b && strcmp(b, "load_extension") == 0) return SQLITE_DENY;
      return SQLITE_OK;
    default:
      return SQLITE_OK;
  }
}

int koop_sandbox_active (lua_State *L) {
  int on;
  lua_getfield(L, LUA_REGISTRYINDEX, "koop.safe");
  on = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return on;
}

void koop_sandbox_db (lua_State *L, sqlite3 *db) {
  sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, (int *)0);
  if (koop_sandbox_active(L)) sqlite3_set_authorizer(db, safe_authorizer, NULL);
}
