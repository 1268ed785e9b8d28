/*
** lib.c — where `require` finds modules: koop's own Lua modules compiled
** into the binary (so koop is one self-contained file), then the user's
** directories ($KOOP_PATH, then ./lib of a gmina project), then Lua's
** usual paths.  Embedded modules come first so that a stray file cannot
** replace koop's own policy code.
*/
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "koop.h"

/* Find an embedded module by name; NULL when there is none. */
static const struct koop_module *find_embedded (const char *name) {
  const struct koop_module *m;
  for (m = koop_embedded; m->name != NULL; m++)
    if (strcmp(m->name, name) == 0) return m;
  return NULL;
}

/* Loader of an embedded module: upvalue 1 is its compiled chunk, 2 the
** host table ({debug = the debug library}).  The chunk gets it as its
** third argument, after require's two: koop's own modules keep what
** --safe takes away from scripts, and no script can reach it. */
static int load_embedded (lua_State *L) {
  lua_settop(L, 2);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_call(L, 3, 1);
  return 1;
}

/* package.searchers entry: load an embedded module; upvalue 1 is the host
** table.  They are bytecode compiled at build time (scripts/embed.c) with
** chunk names starting "@[koop]", so tracebacks can tell koop's own frames
** from the user's. */
static int search_embedded (lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  const struct koop_module *m = find_embedded(name);
  if (m == NULL) {
    lua_pushfstring(L, "no embedded module '%s'", name);
    return 1;
  }
  if (luaL_loadbufferx(L, m->source, m->len, name, "b") != LUA_OK)
    return lua_error(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushcclosure(L, load_embedded, 2);
  lua_pushfstring(L, "[koop]/%s", name);
  return 2;
}

/* Push the host table of koop's own modules (package on top). */
static void push_host (lua_State *L) {
  lua_createtable(L, 0, 1);
  lua_getfield(L, -2, "loaded");
  lua_getfield(L, -1, "debug");
  lua_setfield(L, -3, "debug");
  lua_pop(L, 1);
}

/* Prepend "DIR/?.lua;DIR/?/init.lua;" for each ';'-separated DIR in dirs
** to package.path (package table on top of the stack). */
static void prepend_dirs (lua_State *L, const char *dirs) {
  luaL_Buffer b;
  const char *p = dirs, *end;
  luaL_buffinit(L, &b);
  while (*p) {
    size_t n;
    end = strchr(p, ';');
    n = end ? (size_t)(end - p) : strlen(p);
    if (n > 0) {
      luaL_addlstring(&b, p, n); luaL_addstring(&b, "/?.lua;");
      luaL_addlstring(&b, p, n); luaL_addstring(&b, "/?/init.lua;");
    }
    p += n + (end != NULL);
  }
  lua_getfield(L, -2, "path");
  luaL_addvalue(&b);
  luaL_pushresult(&b);
  lua_setfield(L, -2, "path");
}

void koop_open_modules (lua_State *L) {
  const char *user = NULL;
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "searchers");
  /* insert at position 2, right after package.preload */
  for (lua_Integer i = luaL_len(L, -1); i >= 2; i--) {
    lua_rawgeti(L, -1, i);
    lua_rawseti(L, -2, i + 1);
  }
  lua_pushvalue(L, -2);
  push_host(L);                  /* package, searchers, package, host */
  lua_remove(L, -2);
  lua_pushcclosure(L, search_embedded, 1);
  lua_rawseti(L, -2, 2);
  lua_pop(L, 1);
  lua_pushvalue(L, -1);          /* package, for prepend_dirs */
  prepend_dirs(L, "./lib");
  lua_getfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
  if (!lua_toboolean(L, -1)) user = getenv("KOOP_PATH");
  lua_pop(L, 1);
  if (user != NULL) prepend_dirs(L, user);
  lua_pop(L, 2);
}

/* koop.listdir(path): the names in a directory (without . and ..), or
** nil when path is not a directory.  Used to find test files. */
static int l_listdir (lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  DIR *d = opendir(path);
  struct dirent *e;
  lua_Integer n = 0;
  if (d == NULL) { lua_pushnil(L); return 1; }
  lua_newtable(L);
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    lua_pushstring(L, e->d_name);
    lua_rawseti(L, -2, ++n);
  }
  closedir(d);
  return 1;
}

void koop_open_files (lua_State *L) {
  lua_pushcfunction(L, l_listdir);
  lua_setfield(L, -2, "listdir");
}

/* Install the C concerns into a new global table `koop`. */
void koop_open_all (lua_State *L) {
  lua_newtable(L);
  lua_pushliteral(L, KOOP_VERSION);
  lua_setfield(L, -2, "version");
  koop_open_errors(L);
  koop_open_files(L);
  koop_open_db(L);
  koop_open_print(L);
  koop_open_csv(L);
  koop_open_ids(L);
  koop_open_money(L);
  koop_open_hash(L);
  koop_open_json(L);
  koop_open_text(L);
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "loaded");
  lua_pushvalue(L, -3);
  lua_setfield(L, -2, "koop");
  lua_pop(L, 2);
  lua_setglobal(L, "koop");
}
