/*
** db_test.c — the SQLite binding from C: koop_db_push_open (flags, errors
** raised as error objects), koop_db_handle, SQLITE_INTERRUPT (as run.c's
** Ctrl-C handler causes it) raised as "interrupted" and rolled back by
** db:tx even while an outer loop still runs, close() and lua_close()
** finalising every statement (SQLite's memory back to where it was).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <lualib.h>

#include "koop.h"

static int passed, failed;

static void report (const char *what, int ok, const char *detail) {
  if (ok) { passed++; printf("ok - %s\n", what); }
  else { failed++; printf("not ok - %s: %s\n", what, detail ? detail : "failed"); }
}

/* interrupt(db): what run.c's SIGINT handler does to a watched connection. */
static int l_interrupt (lua_State *L) {
  sqlite3 *db = koop_db_handle(L, 1);
  if (db != NULL) sqlite3_interrupt(db);
  return 0;
}

/* Progress handler that stops the statement running (once), as run.c's
** does on Ctrl-C or --timeout while SQL runs. */
static int stop_once (void *ud) {
  int *armed = (int *)ud;
  if (!*armed) return 0;
  *armed = 0;
  return 1;
}

/* stop_midway(db): the next statement that runs long is interrupted. */
static int l_stop_midway (lua_State *L) {
  static int armed;
  sqlite3 *db = koop_db_handle(L, 1);
  armed = 1;
  if (db != NULL) sqlite3_progress_handler(db, 1000, stop_once, &armed);
  return 0;
}

/* Protected: push a connection to path (arg 1) with flags (arg 2). */
static int p_open (lua_State *L) {
  koop_db_push_open(L, lua_tostring(L, 1), (int)lua_tointeger(L, 2));
  return 1;
}

static lua_State *new_state (void) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  lua_newtable(L);
  koop_open_errors(L);
  koop_open_db(L);
  lua_setglobal(L, "koop");
  lua_register(L, "interrupt", l_interrupt);
  lua_register(L, "stop_midway", l_stop_midway);
  return L;
}

/* Run a Lua check: the chunk returns true, or false and a message. */
static void check (lua_State *L, const char *what, const char *code) {
  int st = luaL_loadstring(L, code);
  if (st == LUA_OK) st = lua_pcall(L, 0, 2, 0);
  if (st != LUA_OK) {
    report(what, 0, luaL_tolstring(L, -1, NULL));
    lua_pop(L, 2);
    return;
  }
  report(what, lua_toboolean(L, -2), lua_tostring(L, -1));
  lua_pop(L, 2);
}

/* Open path with flags in protected mode; returns the status, leaves the
** connection or the error on the stack. */
static int open_db (lua_State *L, const char *path, int flags) {
  lua_pushcfunction(L, p_open);
  lua_pushstring(L, path);
  lua_pushinteger(L, flags);
  return lua_pcall(L, 2, 1, 0);
}

/* The `code` field of the error object on top ("" if none). */
static const char *error_code (lua_State *L) {
  const char *code = "";
  if (koop_error_is(L, -1) && lua_getfield(L, -1, "code") == LUA_TSTRING)
    code = lua_tostring(L, -1);
  lua_pop(L, 1);
  return code;
}

static void test_push_open (const char *dir) {
  lua_State *L = new_state();
  char path[512];
  sqlite3 *h;
  int st;
  snprintf(path, sizeof path, "%s/a.db", dir);

  st = open_db(L, path, 0);
  h = st == LUA_OK ? koop_db_handle(L, -1) : NULL;
  report("koop_db_push_open opens a file and koop_db_handle finds it", h != NULL,
         st == LUA_OK ? "no handle" : lua_tostring(L, -1));
  if (h != NULL) {
    report("a writable file database is in WAL mode",
           sqlite3_exec(h, "CREATE TABLE t(x); INSERT INTO t VALUES(1)", 0, 0, 0)
           == SQLITE_OK && sqlite3_db_readonly(h, "main") == 0, sqlite3_errmsg(h));
    lua_setglobal(L, "db");
    check(L, "journal_mode is wal",
          "return db:value('PRAGMA journal_mode') == 'wal', db:value('PRAGMA journal_mode')");
    check(L, "the REPL sees a transaction through the handle",
          "db:exec('BEGIN') return db:in_transaction()");
    lua_getglobal(L, "db");
    h = koop_db_handle(L, -1);
    report("sqlite3_get_autocommit agrees", h && !sqlite3_get_autocommit(h), NULL);
    lua_pop(L, 1);
    check(L, "close", "db:exec('COMMIT') db:close() return true");
    lua_getglobal(L, "db");
    report("koop_db_handle of a closed connection is NULL", koop_db_handle(L, -1) == NULL, NULL);
    lua_pop(L, 1);
  }
  else lua_pop(L, 1);

  lua_pushnil(L);
  lua_newtable(L);
  report("koop_db_handle of other values is NULL",
         koop_db_handle(L, -1) == NULL && koop_db_handle(L, -2) == NULL, NULL);
  lua_pop(L, 2);

  st = open_db(L, path, KOOP_DB_READONLY);
  h = st == LUA_OK ? koop_db_handle(L, -1) : NULL;
  report("KOOP_DB_READONLY opens read-only", h && sqlite3_db_readonly(h, "main") == 1,
         st == LUA_OK ? NULL : lua_tostring(L, -1));
  lua_pop(L, 1);

  snprintf(path, sizeof path, "%s/foreign.db", dir);
  st = open_db(L, path, KOOP_DB_NOSCHEMA);
  if (st == LUA_OK) {
    lua_setglobal(L, "f");
    check(L, "KOOP_DB_NOSCHEMA leaves the journal mode alone",
          "local m = f:value('PRAGMA journal_mode') f:close() return m == 'delete', m");
  }
  else { report("KOOP_DB_NOSCHEMA opens", 0, lua_tostring(L, -1)); lua_pop(L, 1); }

  st = open_db(L, dir, 0);
  report("a directory raises cantopen", st != LUA_OK && strcmp(error_code(L), "cantopen") == 0, NULL);
  lua_pop(L, 1);

  st = open_db(L, ":memory:", 0);
  h = st == LUA_OK ? koop_db_handle(L, -1) : NULL;
  report(":memory: opens", h != NULL, NULL);
  lua_pop(L, 1);
  lua_close(L);
}

static void test_interrupts (void) {
  lua_State *L = new_state();
  check(L, "setup", "db = koop.open(':memory:') "
        "db:exec('CREATE TABLE n(x); CREATE TABLE t(x)') "
        "for i = 1, 1000 do db:exec('INSERT INTO n VALUES(?)', i) end return true");
  check(L, "SQLITE_INTERRUPT is code 'interrupted', message 'interrupted'",
        "local ok, e = pcall(function() for x in db:urows('SELECT x FROM n') do interrupt(db) end end) "
        "return not ok and koop.is_error(e, 'interrupted') and e.message == 'interrupted', "
        "tostring(e)");
  check(L, "the statement is usable after the interrupt",
        "return db:value('SELECT count(*) FROM n') == 1000");
  check(L, "tx rolls back after an interrupted read",
        "local ok, e = pcall(db.tx, db, function() "
        "  db:exec('INSERT INTO t VALUES(1)') "
        "  for x in db:urows('SELECT x FROM n') do interrupt(db) end "
        "end) "
        "return not ok and e.code == 'interrupted' and not db:in_transaction() "
        "  and db:value('SELECT count(*) FROM t') == 0, tostring(e)");
  check(L, "tx after an interrupted write (SQLite already rolled back)",
        "local gone "
        "local ok, e = pcall(db.tx, db, function() "
        "  db:exec('INSERT INTO t VALUES(1)') "
        "  stop_midway(db) "
        "  local ok2, e2 = pcall(db.exec, db, 'INSERT INTO t SELECT x FROM n') "
        "  gone = not db:in_transaction() "
        "  error(e2) "
        "end) "
        "return not ok and gone and e.code == 'interrupted' and not db:in_transaction() "
        "  and db:value('SELECT count(*) FROM t') == 0, tostring(e)");
  check(L, "tx after an interrupted write inside a read loop",
        "local ok, e = pcall(db.tx, db, function() "
        "  db:exec('INSERT INTO t VALUES(1)') "
        "  for x in db:urows('SELECT x FROM n LIMIT 1') do "
        "    interrupt(db) "
        "    db:exec('INSERT INTO t SELECT x FROM n') "
        "  end "
        "end) "
        "return not ok and e.code == 'interrupted' and not db:in_transaction() "
        "  and db:value('SELECT count(*) FROM t') == 0, tostring(e)");
  check(L, "tx rolls back a pending interrupt while an outer loop runs",
        "local ok, e = pcall(function() "
        "  for x in db:urows('SELECT x FROM n') do "
        "    db:tx(function() "
        "      db:exec('INSERT INTO t VALUES(?)', x) "
        "      interrupt(db) "
        "      db:value('SELECT 1') "
        "    end) "
        "  end "
        "end) "
        "return not ok and e.code == 'interrupted' and not db:in_transaction() "
        "  and db:value('SELECT count(*) FROM t') == 0, tostring(e)");
  check(L, "a nested tx (savepoint) interrupted",
        "local ok, e = pcall(db.tx, db, function() "
        "  db:exec('INSERT INTO t VALUES(1)') "
        "  db:tx(function() for x in db:urows('SELECT x FROM n') do interrupt(db) end end) "
        "end) "
        "return not ok and e.code == 'interrupted' and not db:in_transaction() "
        "  and db:value('SELECT count(*) FROM t') == 0, tostring(e)");
  check(L, "the connection works afterwards",
        "return db:value('SELECT sum(x) FROM n') == 500500");
  lua_close(L);
}

static void test_close (void) {
  sqlite3_int64 before = sqlite3_memory_used(), after;
  lua_State *L = new_state();
  check(L, "close with live statements, iterators and cached statements",
        "local d = koop.open(':memory:') "
        "d:exec('CREATE TABLE t(x); INSERT INTO t VALUES(1), (2)') "
        "local st = d:prepare('SELECT x FROM t') st:step() "
        "local it = d:urows('SELECT x FROM t') it() "
        "local it2 = d:rows('SELECT x FROM t') it2() "
        "for i = 1, 100 do d:value('SELECT ' .. i) end "
        "d:close() "
        "return not pcall(it) and not pcall(st.step, st)");
  lua_gc(L, LUA_GCCOLLECT, 0);
  after = sqlite3_memory_used();
  report("close() gives back all of SQLite's memory", after == before, "memory still in use");
  check(L, "connections left open at lua_close",
        "d1 = koop.open(':memory:') d1:exec('CREATE TABLE t(x); INSERT INTO t VALUES(1)') "
        "s1 = d1:prepare('SELECT x FROM t') s1:step() "
        "i1 = d1:urows('SELECT x FROM t') i1() "
        "return true");
  lua_close(L);
  after = sqlite3_memory_used();
  report("lua_close() finalises and closes everything", after == before, "memory still in use");
}

int main (void) {
  char dir[] = "/tmp/koop_db_test.XXXXXX";
  char cmd[600];
  if (mkdtemp(dir) == NULL) { perror("mkdtemp"); return 1; }
  test_push_open(dir);
  test_interrupts();
  test_close();
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "db_test: could not remove %s\n", dir);
  printf("%d passed, %d failed\n", passed, failed);
  return failed > 0;
}
