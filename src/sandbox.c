/*
** sandbox.c — what --safe, --memory and --safe=write take away.
** The sandbox guards a coordinator against a report script received from
** someone else; it is not an operating-system security boundary (README,
** SECURITY).
**
** Lua side (koop_sandbox_apply): no io, no os.execute/remove/rename/exit/
** getenv, no package.loadlib, no C or file searchers, no debug (neither
** the global nor package.loaded's), no string.dump, text chunks only, no
** __gc metamethods (finalizers run with hooks off, so neither --timeout nor
** Ctrl-C could stop one), a string metatable scripts cannot reach, and
** koop.open limited to ':memory:' and the database koop itself opened.
** A memory limit applies even without --memory.
**
** SQLite side (koop_sandbox_db): an authorizer that refuses ATTACH (also
** VACUUM INTO, which attaches), PRAGMAs that change the file, extensions,
** schema changes outside TEMP, triggers and views of the script's own, any
** write to a database file unless --safe=write (TEMP and in-memory
** databases stay writable), rewriting the audit log, and reading names
** and PESEL (case_member_identity; case_member.pesel_hash reads as NULL).
** Each refusal leaves its reason for koop_sandbox_refusal, so the error
** says what was refused and how to allow it.  These rules hold whatever a
** script does to koop's Lua modules: they are checked below Lua.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "koop.h"

#define SAFE_MEMORY_DEFAULT ((size_t)1024 << 20)   /* --safe without --memory */
#define SANDBOX_KEY "koop.sandbox"                 /* registry: struct sandbox */
#define SAFE_DB_KEY "koop.safe_db"                 /* registry: the host's db path */

/* Allocator bookkeeping: ud points at this. */
struct alloc_state { size_t used, limit; };

/* What the authorizer needs: one per state, a userdata in the registry. */
struct sandbox {
  int write;          /* --safe=write */
  char why[256];      /* the last refusal, for the error message */
};

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

/* Cap Lua's allocations and SQLite's heap at bytes each (SQLite's own
** memory, e.g. a huge sort or string built in SQL, is not Lua's). */
static void limit_memory (struct alloc_state *st, size_t bytes) {
  st->limit = bytes;
  sqlite3_hard_heap_limit64((sqlite3_int64)bytes);
}

/* Create a state whose allocations stop at lim's memory limit.  The limit
** is known here, before SQLite starts (the heap limit starts it), because
** SQLite enforces a heap limit only if it keeps memory statistics, which
** must be chosen before it starts. */
lua_State *koop_newstate (const struct koop_limits *lim) {
  struct alloc_state *st = calloc(1, sizeof *st);
  size_t memory_bytes = lim->memory_bytes;
  lua_State *L;
  if (st == NULL) return NULL;
  if (memory_bytes == 0 && lim->safe) memory_bytes = SAFE_MEMORY_DEFAULT;
  koop_db_setup(memory_bytes > 0);
  if (memory_bytes > 0) limit_memory(st, memory_bytes);
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

/* {================ the Lua side ================ */

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

/* setmetatable() that refuses a metatable with __gc: Lua runs finalizers
** with hooks off, so a looping one could stop neither --timeout nor
** Ctrl-C (nor lua_close at exit).  Upvalue 1 is the original. */
static int safe_setmetatable (lua_State *L) {
  if (lua_istable(L, 2) && lua_getfield(L, 2, "__gc") != LUA_TNIL)
    return koop_error_raise(L, "auth", NULL, "setmetatable: __gc metamethods "
                            "are not allowed with --safe (use a to-be-closed "
                            "variable and __close instead)");
  lua_settop(L, 2);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, 2, 1);
  return 1;
}

/* Is path a database without a file (SQLite's in-memory or temporary)? */
static int no_file (const char *path) {
  return path[0] == '\0' || strcmp(path, ":memory:") == 0;
}

/* koop.open() under --safe: ':memory:', or the database koop opened for
** the script (main.c connects right after the sandbox applies, so the
** first path opened is the host's -d); any other file is refused, so a
** script can neither read another database nor create or change a file.
** Upvalue 1 is the original koop.open. */
static int safe_open (lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  int allowed = no_file(path);
  if (!allowed) {
    lua_getfield(L, LUA_REGISTRYINDEX, SAFE_DB_KEY);
    if (lua_isnil(L, -1)) {
      lua_pushvalue(L, 1);
      lua_setfield(L, LUA_REGISTRYINDEX, SAFE_DB_KEY);
      allowed = 1;
    }
    else allowed = strcmp(lua_tostring(L, -1), path) == 0;
    lua_pop(L, 1);
  }
  if (!allowed) {
    lua_getfield(L, LUA_REGISTRYINDEX, SAFE_DB_KEY);
    return koop_error_raise(L, "auth", NULL, "koop.open(\"%s\"): a --safe script "
                            "may open only its own database (%s) or ':memory:'",
                            path, lua_tostring(L, -1));
  }
  lua_settop(L, 2);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, 2, 1);
  return 1;
}

/* t[name] = nil for each name, t on top of the stack. */
static void remove_fields (lua_State *L, const char *const *names) {
  for (; *names; names++) {
    lua_pushnil(L);
    lua_setfield(L, -2, *names);
  }
}

/* t[name] = f(original t[name]) as a closure over it, t on top. */
static void wrap_field (lua_State *L, const char *name, lua_CFunction f) {
  lua_getfield(L, -1, name);
  lua_pushcclosure(L, f, 1);
  lua_setfield(L, -2, name);
}

/* Give the script its own copy of the string table (global and
** package.loaded) and hide the string metatable behind __metatable, so
** that what a script does to `string` cannot change s:method() calls in
** koop's own code.  Global table on top. */
static void protect_strings (lua_State *L) {
  lua_pushliteral(L, "");
  lua_getmetatable(L, -1);
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_getfield(L, -1, "__index");       /* the original string table */
  lua_pushnil(L);
  lua_setfield(L, -2, "dump");          /* ("").dump reaches this one */
  lua_newtable(L);
  lua_pushnil(L);
  while (lua_next(L, -3)) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_settable(L, -4);
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, -6, "string");
  lua_getfield(L, -5, "package");
  lua_getfield(L, -1, "loaded");
  lua_pushvalue(L, -3);
  lua_setfield(L, -2, "string");
  lua_pop(L, 6);
}

/* Strip package (on top): no loadlib, no file or C searchers, and no
** library the globals no longer have still waiting in package.loaded. */
static void protect_package (lua_State *L) {
  static const char *const package_fields[] = { "loadlib", "cpath", NULL };
  static const char *const loaded_libs[] = { "io", "debug", NULL };
  remove_fields(L, package_fields);
  lua_getfield(L, -1, "loaded");
  remove_fields(L, loaded_libs);
  lua_pop(L, 1);
  /* keep only preload and the embedded searcher */
  lua_getfield(L, -1, "searchers");
  for (lua_Integer i = luaL_len(L, -1); i >= 3; i--) {
    lua_pushnil(L);
    lua_rawseti(L, -2, i);
  }
  lua_pop(L, 1);
}

void koop_sandbox_apply (lua_State *L, const struct koop_limits *lim) {
  static const char *const globals[] = {
    "io", "debug", "dofile", "loadfile", NULL };
  static const char *const os_fields[] = {
    "execute", "remove", "rename", "exit", "getenv", "tmpname", "setlocale", NULL };
  struct sandbox *sb;
  if (!lim->safe) return;
  sb = lua_newuserdatauv(L, sizeof *sb, 0);
  memset(sb, 0, sizeof *sb);
  sb->write = lim->safe_write;
  lua_setfield(L, LUA_REGISTRYINDEX, SANDBOX_KEY);
  lua_pushglobaltable(L);
  wrap_field(L, "load", safe_load);
  wrap_field(L, "setmetatable", safe_setmetatable);
  remove_fields(L, globals);
  lua_getfield(L, -1, "os");
  remove_fields(L, os_fields);
  lua_pop(L, 1);
  lua_getfield(L, -1, "koop");
  wrap_field(L, "open", safe_open);
  lua_pop(L, 1);
  lua_getfield(L, -1, "package");
  protect_package(L);
  lua_pop(L, 1);
  protect_strings(L);
  lua_pop(L, 1);
  lua_pushboolean(L, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, "koop.safe");
  lua_pushboolean(L, lim->safe_write);
  lua_setfield(L, LUA_REGISTRYINDEX, "koop.safe_write");
}

/* }================================================ */

/* {================ the SQLite side ================ */

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

/* Refuse: keep the reason for koop_sandbox_refusal. */
static int deny (struct sandbox *sb, const char *fmt, const char *a, const char *b) {
  snprintf(sb->why, sizeof sb->why, fmt, a ? a : "?", b ? b : "?");
  return SQLITE_DENY;
}

/* Schema changes: CREATE/DROP/ALTER of tables, indexes and virtual tables
** in TEMP only; no triggers or views of the script's own at all (a TEMP
** trigger may sit on a main table and run inside koop's writes, and a
** view would hide what it reads from the checks below). */
static int authorize_schema (struct sandbox *sb, int action, const char *a,
                             const char *b, const char *dbname) {
  switch (action) {
    case SQLITE_CREATE_TRIGGER: case SQLITE_CREATE_TEMP_TRIGGER:
    case SQLITE_CREATE_VIEW: case SQLITE_CREATE_TEMP_VIEW:
      return deny(sb, "--safe: scripts may not create triggers or views "
                  "(%s)%s", a, "");
    case SQLITE_CREATE_TEMP_TABLE: case SQLITE_CREATE_TEMP_INDEX:
    case SQLITE_DROP_TEMP_TABLE: case SQLITE_DROP_TEMP_INDEX:
    case SQLITE_DROP_TEMP_TRIGGER: case SQLITE_DROP_TEMP_VIEW:
      return SQLITE_OK;
    case SQLITE_ALTER_TABLE:           /* a: database, b: table */
      return deny(sb, "--safe: scripts may not change the schema (ALTER TABLE "
                  "%s.%s)", a, b);
    default:
      if (dbname != NULL && strcmp(dbname, "temp") == 0) return SQLITE_OK;
      return deny(sb, "--safe: scripts may not change the schema (%s in %s); "
                  "a TEMP table is allowed", a, dbname);
  }
}

/* The authorizer of --safe connections; memory: the main database has
** no file (':memory:'), so only TEMP-like scratch data is at stake. */
static int authorize (struct sandbox *sb, int memory, int action,
                      const char *a, const char *b, const char *dbname,
                      const char *inner) {
  int temp = dbname != NULL && strcmp(dbname, "temp") == 0;
  int writable = memory || sb->write || temp;
  switch (action) {
    case SQLITE_ATTACH: case SQLITE_DETACH:
      if (action == SQLITE_ATTACH && a != NULL && a[0] == '\0')
        return deny(sb, "--safe: VACUUM is not allowed (it rewrites the "
                    "database file)%s%s", "", "");
      return deny(sb, "--safe: ATTACH and VACUUM INTO are not allowed (%s): "
                  "a --safe script reads only its own database%s", a, "");
    case SQLITE_PRAGMA:
      if ((b == NULL || read_pragma(a)) && strcmp(a, "writable_schema") != 0
          && ((strcmp(a, "optimize") != 0 && strcmp(a, "incremental_vacuum") != 0)
              || writable))
        return SQLITE_OK;
      return deny(sb, "--safe: PRAGMA %s%s is not allowed (it could change "
                  "the database file)", a, b ? " with a value" : "");
    case SQLITE_FUNCTION:
      if (b != NULL && strcmp(b, "load_extension") == 0)
        return deny(sb, "--safe: %s%s() is not allowed", "", b);
      return SQLITE_OK;
    case SQLITE_READ:
      /* names and PESEL; a main-schema trigger (the seals) may read them,
      ** and only koop's migrations make those (authorize_schema) */
      if (inner == NULL && strcmp(a, "case_member_identity") == 0)
        return deny(sb, "--safe: names and PESEL (table %s) cannot be read "
                    "by a --safe script%s", a, "");
      if (strcmp(a, "case_member") == 0 && b != NULL && strcmp(b, "pesel_hash") == 0)
        return SQLITE_IGNORE;     /* reads as NULL: keyed, but PESELs are few */
      return SQLITE_OK;
    case SQLITE_INSERT: case SQLITE_UPDATE: case SQLITE_DELETE:
      if (!writable)
        return deny(sb, "--safe: this script may not change the database "
                    "(%s of %s); run it with --safe=write to allow changes",
                    action == SQLITE_INSERT ? "INSERT" :
                    action == SQLITE_UPDATE ? "UPDATE" : "DELETE", a);
      if (action != SQLITE_INSERT && inner == NULL && strcmp(a, "audit_log") == 0)
        return deny(sb, "--safe: %s is append-only (%s refused)", a,
                    action == SQLITE_UPDATE ? "UPDATE" : "DELETE");
      return SQLITE_OK;
    case SQLITE_ANALYZE: case SQLITE_REINDEX:
      if (writable) return SQLITE_OK;
      return deny(sb, "--safe: this script may not change the database "
                  "(%s%s); run it with --safe=write to allow changes",
                  action == SQLITE_ANALYZE ? "ANALYZE" : "REINDEX", "");
    case SQLITE_CREATE_INDEX: case SQLITE_CREATE_TABLE: case SQLITE_CREATE_TEMP_INDEX:
    case SQLITE_CREATE_TEMP_TABLE: case SQLITE_CREATE_TEMP_TRIGGER:
    case SQLITE_CREATE_TEMP_VIEW: case SQLITE_CREATE_TRIGGER: case SQLITE_CREATE_VIEW:
    case SQLITE_DROP_INDEX: case SQLITE_DROP_TABLE: case SQLITE_DROP_TEMP_INDEX:
    case SQLITE_DROP_TEMP_TABLE: case SQLITE_DROP_TEMP_TRIGGER: case SQLITE_DROP_TEMP_VIEW:
    case SQLITE_DROP_TRIGGER: case SQLITE_DROP_VIEW: case SQLITE_ALTER_TABLE:
    case SQLITE_CREATE_VTABLE: case SQLITE_DROP_VTABLE:
      if (memory) return SQLITE_OK;
      return authorize_schema(sb, action, a, b, dbname);
    default:
      return SQLITE_OK;
  }
}

/* Authorizer of a --safe connection to a database file. */
static int file_authorizer (void *ud, int action, const char *a, const char *b,
                            const char *c, const char *d) {
  return authorize(ud, 0, action, a, b, c, d);
}

/* Authorizer of a --safe connection whose main database has no file. */
static int memory_authorizer (void *ud, int action, const char *a, const char *b,
                              const char *c, const char *d) {
  return authorize(ud, 1, action, a, b, c, d);
}

/* The state's sandbox, or NULL when --safe is off. */
static struct sandbox *get_sandbox (lua_State *L) {
  struct sandbox *sb;
  lua_getfield(L, LUA_REGISTRYINDEX, SANDBOX_KEY);
  sb = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return sb;
}

int koop_sandbox_active (lua_State *L) {
  return get_sandbox(L) != NULL;
}

const char *koop_sandbox_refusal (lua_State *L) {
  struct sandbox *sb = get_sandbox(L);
  return sb != NULL && sb->why[0] != '\0' ? sb->why : NULL;
}

void koop_sandbox_db (lua_State *L, sqlite3 *db) {
  struct sandbox *sb = get_sandbox(L);
  const char *file;
  sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, (int *)0);
  if (sb == NULL) return;
  file = sqlite3_db_filename(db, "main");
  sqlite3_set_authorizer(db, file == NULL || file[0] == '\0'
                         ? memory_authorizer : file_authorizer, sb);
}

/* }================================================ */
