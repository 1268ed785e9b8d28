/*
** run.c — running chunks: the one protected path that scripts, -e, -l,
** KOOP_INIT, commands and the REPL share; error objects; Ctrl-C and the
** --timeout hook.
**
** Ctrl-C while Lua runs sets a hook that raises "interrupted" and stays
** armed until control is back in the host, so a user's pcall cannot
** swallow it (Redis's trick).  Ctrl-C while SQL runs calls
** sqlite3_interrupt on every watched connection; SQLite returns
** SQLITE_INTERRUPT, which the binding raises as the same error.  The hook
** never fires inside SQLite's frames: SQLite calls no Lua in koop.
**
** Hooks belong to one thread (coroutine) each: every coroutine gets the
** same count hook when it is made, and a stop in any thread arms the main
** one, so a coroutine cannot outlive Ctrl-C or --timeout by swallowing the
** error in coroutine.resume.  Code that runs in C without Lua or SQLite
** steps (a Lua pattern backtracking, a C sort) sees no hook: under
** --timeout an alarm ends the process if it still runs TIMEOUT_GRACE
** seconds after the deadline (an open transaction is lost whole, never
** half-written, as after a crash).
*/
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "koop.h"

#define MAX_WATCHED 64
#define TIMEOUT_EVERY 100000   /* instructions between clock checks */
#define TIMEOUT_GRACE 2        /* seconds C code may overrun --timeout */

/* State shared with the signal handler; nothing else is global. */
static lua_State *running_L = NULL;
static sqlite3 *watched[MAX_WATCHED];
static volatile sig_atomic_t interrupt_seen = 0;
static volatile sig_atomic_t interrupt_count = 0;
static double last_interrupt = 0;
static double deadline = 0;          /* monotonic seconds; 0 = none */
static double timeout_seconds = 0;
static char alarm_message[160];      /* written by the alarm handler */

/* Monotonic clock in seconds. */
static double now (void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void hook_coroutines (lua_State *L);

/* {================ error objects ================ */

/* __tostring of an error object: "where: message". */
static int error_tostring (lua_State *L) {
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  if (lua_getfield(L, 1, "where") == LUA_TSTRING) luaL_addvalue(&b);
  else lua_pop(L, 1);
  if (lua_getfield(L, 1, "message") == LUA_TSTRING) luaL_addvalue(&b);
  else { lua_pop(L, 1); luaL_addstring(&b, "error"); }
  luaL_pushresult(&b);
  return 1;
}

/* Push "file:line: " of the first Lua frame that is not koop's own code. */
static void push_user_where (lua_State *L) {
  lua_Debug ar;
  int level;
  for (level = 1; lua_getstack(L, level, &ar); level++) {
    lua_getinfo(L, "Sl", &ar);
    if (ar.currentline > 0 && strncmp(ar.source, "@[koop]", 7) != 0) {
      lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
      return;
    }
  }
  lua_pushliteral(L, "");
}

/* Push the metatable of error objects, creating it on first use. */
static void push_error_mt (lua_State *L) {
  if (luaL_newmetatable(L, KOOP_ERROR_MT)) {
    lua_pushcfunction(L, error_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "koop.Error");
    lua_setfield(L, -2, "__name");
  }
}

void koop_error_push (lua_State *L, const char *code, const char *field,
                      const char *fmt, ...) {
  va_list ap;
  lua_createtable(L, 0, 4);
  lua_pushstring(L, code);
  lua_setfield(L, -2, "code");
  if (field != NULL) {
    lua_pushstring(L, field);
    lua_setfield(L, -2, "field");
  }
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  lua_setfield(L, -2, "message");
  push_user_where(L);
  lua_setfield(L, -2, "where");
  push_error_mt(L);
  lua_setmetatable(L, -2);
}

int koop_error_raise (lua_State *L, const char *code, const char *field,
                      const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  koop_error_push(L, code, field, "%s", lua_tostring(L, -1));
  return lua_error(L);
}

int koop_error_is (lua_State *L, int idx) {
  int is;
  if (!lua_getmetatable(L, idx)) return 0;
  luaL_getmetatable(L, KOOP_ERROR_MT);
  is = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return is;
}

/* koop.error{code=, message=, field=, ...} or koop.error(code, message
** [, field]): a new error object (fields of the table are kept). */
static int l_error_new (lua_State *L) {
  if (lua_istable(L, 1)) {
    lua_settop(L, 1);
    if (lua_getfield(L, 1, "code") != LUA_TSTRING) {
      lua_pushliteral(L, "error");
      lua_setfield(L, 1, "code");
    }
    lua_pop(L, 1);
    if (lua_getfield(L, 1, "message") != LUA_TSTRING) {
      lua_pushliteral(L, "error");
      lua_setfield(L, 1, "message");
    }
    lua_pop(L, 1);
    if (lua_getfield(L, 1, "where") == LUA_TNIL) {
      push_user_where(L);
      lua_setfield(L, 1, "where");
    }
    lua_pop(L, 1);
    push_error_mt(L);
    lua_setmetatable(L, 1);
    return 1;
  }
  koop_error_push(L, luaL_checkstring(L, 1), luaL_optstring(L, 3, NULL),
                  "%s", luaL_checkstring(L, 2));
  return 1;
}

/* koop.raise(...): build an error object like koop.error and raise it. */
static int l_error_raise (lua_State *L) {
  l_error_new(L);
  return lua_error(L);
}

/* koop.is_error(v [, code]): v is an error object (with that code). */
static int l_error_is (lua_State *L) {
  int is = koop_error_is(L, 1);
  if (is && !lua_isnoneornil(L, 2)) {
    lua_getfield(L, 1, "code");
    is = lua_rawequal(L, -1, 2);
  }
  lua_pushboolean(L, is);
  return 1;
}

void koop_open_errors (lua_State *L) {
  static const luaL_Reg fns[] = {
    {"error", l_error_new}, {"raise", l_error_raise}, {"is_error", l_error_is},
    {NULL, NULL}
  };
  push_error_mt(L);
  lua_pop(L, 1);
  luaL_setfuncs(L, fns, 0);
  hook_coroutines(L);
}

/* }================================================ */

/* {================ interrupts and timeouts ================ */

void koop_interrupt_watch (sqlite3 *db) {
  int i;
  for (i = 0; i < MAX_WATCHED; i++)
    if (watched[i] == NULL) { watched[i] = db; return; }
}

void koop_interrupt_unwatch (sqlite3 *db) {
  int i;
  for (i = 0; i < MAX_WATCHED; i++)
    if (watched[i] == db) watched[i] = NULL;
}

int koop_interrupted (void) { return interrupt_seen; }

void koop_interrupt_clear (void) { interrupt_seen = 0; }

/* Why running code must stop now ("interrupted", "timeout"), or NULL. */
static const char *stop_reason (void) {
  if (interrupt_seen) return "interrupted";
  if (deadline > 0 && now() > deadline) return "timeout";
  return NULL;
}

static void stop_hook (lua_State *L, lua_Debug *ar);

/* Make thread L stop at its next instruction (also from a signal handler:
** lua_sethook is safe there). */
static void arm (lua_State *L) {
  lua_sethook(L, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT, 1);
}

/* Hook armed by Ctrl-C or the deadline, and the count hook of --timeout
** and of coroutines: raise, and stay armed (in this thread and the main
** one) so that neither pcall nor coroutine.resume can swallow the error. */
static void stop_hook (lua_State *L, lua_Debug *ar) {
  const char *why = stop_reason();
  (void)ar;
  if (why == NULL) return;
  arm(L);
  if (running_L != NULL && running_L != L) arm(running_L);
  if (why[0] == 'i') koop_error_raise(L, "interrupted", NULL, "interrupted");
  koop_error_raise(L, "timeout", NULL, "time limit of %f seconds exceeded",
                   timeout_seconds);
}

/* Give a new coroutine (on top of the stack) the count hook, unless it
** inherited one from its creator (lua_newthread copies the hook). */
static void hook_coroutine (lua_State *L) {
  lua_State *co = lua_tothread(L, -1);
  if (co != NULL && lua_gethook(co) == NULL)
    lua_sethook(co, stop_hook, LUA_MASKCOUNT, TIMEOUT_EVERY);
}

/* coroutine.create with the count hook; upvalue 1 is the original. */
static int co_create (lua_State *L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  hook_coroutine(L);
  return 1;
}

/* coroutine.wrap with the count hook on the coroutine it wraps (the
** first upvalue of the function it returns); upvalue 1 is the original. */
static int co_wrap (lua_State *L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  if (lua_getupvalue(L, -1, 1) != NULL) {
    hook_coroutine(L);
    lua_pop(L, 1);
  }
  return 1;
}

/* Replace coroutine.create and coroutine.wrap (the global table's). */
static void hook_coroutines (lua_State *L) {
  if (lua_getglobal(L, "coroutine") == LUA_TTABLE) {
    lua_getfield(L, -1, "create");
    lua_pushcclosure(L, co_create, 1);
    lua_setfield(L, -2, "create");
    lua_getfield(L, -1, "wrap");
    lua_pushcclosure(L, co_wrap, 1);
    lua_setfield(L, -2, "wrap");
  }
  lua_pop(L, 1);
}

/* SIGALRM: code that no hook reaches overran --timeout by TIMEOUT_GRACE
** seconds; end the process (SQLite keeps the database whole). */
static void on_alarm (int sig) {
  (void)sig;
  if (write(STDERR_FILENO, alarm_message, strlen(alarm_message)) < 0) { /* nothing to do */ }
  _exit(1);
}

/* Start (seconds > 0) or stop (0) the alarm of on_alarm. */
static void set_alarm (double seconds) {
  struct itimerval it;
  memset(&it, 0, sizeof it);
  it.it_value.tv_sec = (time_t)seconds;
  it.it_value.tv_usec = (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6);
  setitimer(ITIMER_REAL, &it, NULL);
}

/* Interrupt SQL on every watched connection (also from the signal
** handler: sqlite3_interrupt is safe to call from another context). */
static void interrupt_sql (void) {
  int i;
  for (i = 0; i < MAX_WATCHED; i++)
    if (watched[i] != NULL) sqlite3_interrupt(watched[i]);
}

/* SIGINT while a chunk runs: stop Lua and SQL; a second Ctrl-C within a
** second ends the process (as lua.c's SIG_DFL does). */
static void on_sigint (int sig) {
  double t = now();
  (void)sig;
  if (interrupt_count > 0 && t - last_interrupt < 1.0) {
    static const char msg[] = "\nkoop: interrupted twice, exiting\n";
    if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0) { /* nothing to do */ }
    _exit(130);
  }
  last_interrupt = t;
  interrupt_count++;
  interrupt_seen = 1;
  if (running_L != NULL) arm(running_L);
  interrupt_sql();
}

/* SQLite progress handler: enforces --timeout inside long SQL. */
static int progress_deadline (void *ud) {
  (void)ud;
  if (stop_reason() == NULL) return 0;
  if (running_L != NULL) arm(running_L);  /* a pcall around the SQL cannot go on */
  return 1;
}

void koop_set_timeout (double seconds) { timeout_seconds = seconds; }

void koop_watch_progress (sqlite3 *db) {
  if (timeout_seconds > 0) sqlite3_progress_handler(db, 10000, progress_deadline, NULL);
}

/* }================================================ */

/* {================ the protected call ================ */

/* Does the line [line, line+len) contain needle? */
static int line_has (const char *line, size_t len, const char *needle) {
  return memmem(line, len, needle, strlen(needle)) != NULL;
}

/* Keep only the lines of a traceback that are the user's own frames. */
static void push_user_traceback (lua_State *L) {
  const char *tb, *line, *end;
  luaL_Buffer b;
  int frames = 0;
  luaL_traceback(L, L, NULL, 1);
  tb = lua_tostring(L, -1);
  luaL_buffinit(L, &b);
  for (line = tb; *line; line = *end ? end + 1 : end) {
    end = strchr(line, '\n');
    if (end == NULL) end = line + strlen(line);
    size_t len = (size_t)(end - line);
    if (line[0] != '\t') continue;             /* "stack traceback:" */
    if (line_has(line, len, "[C]: in ?") || line_has(line, len, "[koop]/")
        || line_has(line, len, "[C]: in function 'error'")
        || line_has(line, len, "[C]: in function 'koop.raise'"))
      continue;
    luaL_addstring(&b, "\n");
    luaL_addlstring(&b, line, len);
    frames++;
  }
  luaL_pushresult(&b);
  lua_remove(L, -2);
  if (frames <= 1) { lua_pop(L, 1); lua_pushliteral(L, ""); }
}

/* Message handler: turn any error into a message with a short traceback;
** error objects keep their identity and get a `traceback` field. */
static int msghandler (lua_State *L) {
  if (koop_error_is(L, 1)) {
    push_user_traceback(L);
    lua_setfield(L, 1, "traceback");
    return 1;
  }
  if (lua_type(L, 1) != LUA_TSTRING) {
    if (!(luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)) {
      lua_settop(L, 1);
      lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    lua_replace(L, 1);
  }
  lua_settop(L, 1);
  push_user_traceback(L);
  lua_concat(L, 2);
  return 1;
}

/* The progress handler stops SQL past the deadline with SQLITE_INTERRUPT,
** which the binding raises as "interrupted": name it a timeout (error
** object on top; Ctrl-C's own interrupts stay as they are). */
static void retag_timeout (lua_State *L) {
  if (interrupt_seen || !koop_error_is(L, -1) || stop_reason() == NULL) return;
  lua_getfield(L, -1, "code");
  if (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "interrupted") == 0) {
    lua_pushliteral(L, "timeout");
    lua_setfield(L, -3, "code");
    lua_pushfstring(L, "time limit of %f seconds exceeded", timeout_seconds);
    lua_setfield(L, -3, "message");
  }
  lua_pop(L, 1);
}

int koop_docall (lua_State *L, int narg, int nres) {
  int status, base = lua_gettop(L) - narg;
  struct sigaction sa, old, old_alarm;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  running_L = L;
  interrupt_seen = 0;
  interrupt_count = 0;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old);
  if (timeout_seconds > 0) {
    deadline = now() + timeout_seconds;
    lua_sethook(L, stop_hook, LUA_MASKCOUNT, TIMEOUT_EVERY);
    snprintf(alarm_message, sizeof alarm_message, "\nkoop: time limit of %g "
             "seconds exceeded in code that cannot be interrupted (e.g. a Lua "
             "pattern); exiting\n", timeout_seconds);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, &old_alarm);
    set_alarm(timeout_seconds + TIMEOUT_GRACE);
  }
  status = lua_pcall(L, narg, nres, base);
  if (timeout_seconds > 0) {
    set_alarm(0);
    sigaction(SIGALRM, &old_alarm, NULL);
    if (status != LUA_OK) retag_timeout(L);
  }
  sigaction(SIGINT, &old, NULL);
  running_L = NULL;
  lua_sethook(L, NULL, 0, 0);
  deadline = 0;
  interrupt_seen = 0;
  lua_remove(L, base);
  return status;
}

int koop_report (lua_State *L, int status, const char *progname) {
  if (status != LUA_OK) {
    const char *msg;
    if (koop_error_is(L, -1)) {
      int obj = lua_gettop(L);
      luaL_tolstring(L, obj, NULL);
      if (lua_getfield(L, obj, "traceback") == LUA_TSTRING) lua_concat(L, 2);
      else lua_pop(L, 1);
      lua_replace(L, obj);
    }
    msg = lua_tostring(L, -1);
    if (msg == NULL) msg = "(error object is not a string)";
    if (progname) fprintf(stderr, "%s: ", progname);
    fprintf(stderr, "%s\n", msg);
    fflush(stderr);
    lua_pop(L, 1);
  }
  return status;
}

/* }================================================ */
