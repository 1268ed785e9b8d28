/*
** hello.c — the start-up floor (W4): what `koop -d :memory: -e 'print(1)'`
** cannot avoid.  Links the same libraries as koop (Lua 5.4, SQLite,
** libedit), opens an in-memory SQLite database, creates a Lua state with
** the standard libraries and runs print(1).  run.sh links it exactly as
** the Makefile links koop.
*/
#include <stdio.h>
#include <histedit.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include <sqlite3.h>

/* A use of libedit, so that the linker (--as-needed) keeps it and the
** dynamic loader maps and relocates it as it does for koop. */
static EditLine *(*volatile keep_libedit)(const char *, FILE *, FILE *, FILE *) = el_init;

int main (void) {
  sqlite3 *db = NULL;
  lua_State *L = NULL;
  int status = 1;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
    fprintf(stderr, "hello: %s\n", sqlite3_errmsg(db));
    goto done;
  }
  if ((L = luaL_newstate()) == NULL) {
    fprintf(stderr, "hello: cannot create a Lua state\n");
    goto done;
  }
  luaL_openlibs(L);
  if (luaL_dostring(L, "print(1)") != LUA_OK) {
    fprintf(stderr, "hello: %s\n", lua_tostring(L, -1));
    goto done;
  }
  status = keep_libedit == NULL;
done:
  if (L != NULL) lua_close(L);
  sqlite3_close(db);
  return status;
}
