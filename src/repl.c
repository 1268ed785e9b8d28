/*
** repl.c — the read-eval-print loop.  It is lua.c's loop: an entry is
** compiled as `return <entry>;` first so expressions print, continues on
** `>>` while the parser only lacks input, and becomes one history entry.
** On top of that come what a database console needs: the prompt shows an
** open transaction, an entry that fails rolls back the transaction it
** opened, and dot commands answer the usual questions about the database.
*/
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "koop.h"

#define PROMPT    "koop> "
#define PROMPT_TX "koop*> "   /* the global db has an open transaction */
#define PROMPT2   ">> "
#define CHUNKNAME "=stdin"
#define EOFMARK   "<eof>"
#define MAXARGS   16

struct repl {
  lua_State *L;
  int tty;      /* standard input is a terminal */
  int prompted; /* the last prompt was not empty: end the output with a newline */
  int timer;    /* .timer on: say how long each entry took */
  int quit;     /* .quit was entered */
};

/* What read_entry found besides a compile status. */
enum { ENTRY_EOF = -1, ENTRY_CANCELLED = -2, ENTRY_EMPTY = -3, ENTRY_COMMAND = -4 };


/*
** {==================================================================
** The global connection
** ===================================================================
*/

/* Push the global `db` (read raw: no user code runs) and return its
** handle, or NULL when it is not an open connection. */
static sqlite3 *push_db (lua_State *L) {
  lua_pushglobaltable(L);
  lua_pushliteral(L, "db");
  lua_rawget(L, -2);
  lua_remove(L, -2);
  return koop_db_handle(L, -1);
}

static int in_transaction (lua_State *L) {
  sqlite3 *db = push_db(L);
  lua_pop(L, 1);
  return db != NULL && !sqlite3_get_autocommit(db);
}

/* Report an error of a running entry.  After Ctrl-C the terminal has
** echoed "^C" on the current line: start the message on a new one. */
static void report (struct repl *r, int status) {
  lua_State *L = r->L;
  if (status == LUA_OK) return;
  if (r->tty && koop_error_is(L, -1)) {
    lua_getfield(L, -1, "code");
    if (lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), "interrupted") == 0)
      fputc('\n', stderr);
    lua_pop(L, 1);
  }
  koop_report(L, status, NULL);
}

/* Protected: roll back the connection given as the argument. */
static int rollback (lua_State *L) {
  lua_getfield(L, 1, "exec");
  lua_pushvalue(L, 1);
  lua_pushliteral(L, "ROLLBACK");
  lua_call(L, 2, 0);
  return 0;
}

/* Roll back the open transaction of the connection at `idx` through its
** own exec method, so the binding sees it; `why` is printed after. */
static void rollback_open (struct repl *r, int idx, const char *why) {
  lua_State *L = r->L;
  sqlite3 *db = koop_db_handle(L, idx);
  int status;
  if (db == NULL || sqlite3_get_autocommit(db)) return;
  lua_pushcfunction(L, rollback);
  lua_pushvalue(L, idx);
  status = lua_pcall(L, 1, 0, 0);
  if (status == LUA_OK) fprintf(stderr, "%s\n", why);
  else report(r, status);
}

/* }================================================================== */


/*
** {==================================================================
** Reading an entry
** ===================================================================
*/

/* Protected: (global name, default) -> the prompt, any value through
** tostring, like lua.c's _PROMPT and _PROMPT2. */
static int get_prompt (lua_State *L) {
  if (lua_getglobal(L, lua_tostring(L, 1)) == LUA_TNIL) lua_pushvalue(L, 2);
  luaL_tolstring(L, -1, NULL);
  return 1;
}

/* Read a first or continuation line and push it.  Returns 1, 0 at end
** of input, or -1 when Ctrl-C cancelled it. */
static int push_line (struct repl *r, int first) {
  lua_State *L = r->L;
  const char *fallback = !first ? PROMPT2 : in_transaction(L) ? PROMPT_TX : PROMPT;
  int interrupted;
  char *line;
  lua_pushcfunction(L, get_prompt);
  lua_pushstring(L, first ? "_PROMPT" : "_PROMPT2");
  lua_pushstring(L, fallback);
  if (lua_pcall(L, 2, 1, 0) != LUA_OK) {  /* a failing __tostring */
    lua_pop(L, 1);
    lua_pushstring(L, fallback);
  }
  r->prompted = lua_rawlen(L, -1) > 0;
  line = koop_edit_readline(lua_tostring(L, -1), &interrupted);
  lua_pop(L, 1);
  if (line == NULL) return interrupted ? -1 : 0;
  lua_pushstring(L, line);
  free(line);
  return 1;
}

/* Whether a failed compilation only lacks more input (lua.c's test). */
int koop_repl_incomplete (lua_State *L, int status) {
  size_t len;
  const char *msg;
  if (status != LUA_ERRSYNTAX) return 0;
  msg = lua_tolstring(L, -1, &len);
  return len >= sizeof EOFMARK - 1 &&
         strcmp(msg + len - (sizeof EOFMARK - 1), EOFMARK) == 0;
}

/* Compile `return <code>;` (the first `len` bytes of code) and push the
** function or the message. */
static int load_return (lua_State *L, const char *code, size_t len, int semicolon) {
  int status;
  lua_pushliteral(L, "return ");
  lua_pushlstring(L, code, len);
  lua_pushstring(L, semicolon ? ";" : "");
  lua_concat(L, 3);
  status = luaL_loadbufferx(L, lua_tostring(L, -1), lua_rawlen(L, -1), CHUNKNAME, "t");
  lua_remove(L, -2);
  return status;
}

/* Compile the entry on top of the stack: as an expression to print
** (`return <entry>;`), as an expression without its trailing ';' to keep
** quiet, then as statements.  Pushes the function or the error of the
** statement form (or of the expression form when only that one lacks
** input, so `{` continues); *quiet is set when nothing should print. */
int koop_repl_compile (lua_State *L, int *quiet) {
  size_t len, end;
  const char *entry = lua_tolstring(L, -1, &len);
  int status, semicolon;
  for (end = len; end > 0 && isspace((unsigned char)entry[end - 1]); end--) {}
  semicolon = end > 0 && entry[end - 1] == ';';
  *quiet = 0;
  if ((status = load_return(L, entry, len, 1)) == LUA_OK) return status;
  lua_pop(L, 1);
  *quiet = semicolon;
  if (semicolon && (status = load_return(L, entry, end - 1, 1)) == LUA_OK) return status;
  if (semicolon) lua_pop(L, 1);
  status = luaL_loadbufferx(L, entry, len, CHUNKNAME, "t");
  if (status == LUA_OK || koop_repl_incomplete(L, status)) return status;
  if (koop_repl_incomplete(L, load_return(L, entry, len, 0))) {
    lua_remove(L, -2);
    return LUA_ERRSYNTAX;
  }
  lua_pop(L, 1);
  return status;
}

static int is_command (const char *line) {
  while (*line == ' ' || *line == '\t') line++;
  return line[0] == '.' && isalpha((unsigned char)line[1]);
}

static int is_blank (const char *s) {
  while (isspace((unsigned char)*s)) s++;
  return *s == '\0';
}

/* Read one entry: a dot command (its line is pushed; ENTRY_COMMAND), or
** Lua lines until they compile or fail for a reason other than missing
** input (the function or the message is pushed; the compile status).
** Ctrl-C drops the lines read so far.  Every entry read in full goes to
** the history as one item. */
static int read_entry (struct repl *r, int *quiet) {
  lua_State *L = r->L;
  int status, got = push_line(r, 1);
  if (got <= 0) return got == 0 ? ENTRY_EOF : ENTRY_CANCELLED;
  if (is_blank(lua_tostring(L, -1))) { lua_pop(L, 1); return ENTRY_EMPTY; }
  if (is_command(lua_tostring(L, -1))) {
    koop_edit_remember(lua_tostring(L, -1));
    return ENTRY_COMMAND;
  }
  for (;;) {  /* stack: entry, function or message */
    status = koop_repl_compile(L, quiet);
    if (!koop_repl_incomplete(L, status)) break;
    got = push_line(r, 0);
    if (got < 0) { lua_pop(L, 2); return ENTRY_CANCELLED; }
    if (got == 0) break;  /* end of input: report what is missing */
    lua_remove(L, -2);    /* the message */
    lua_pushliteral(L, "\n");
    lua_insert(L, -2);
    lua_concat(L, 3);
  }
  koop_edit_remember(lua_tostring(L, -2));
  lua_remove(L, -2);
  return status;
}

/* }================================================================== */


/*
** {==================================================================
** Running an entry
** ===================================================================
*/

struct timing { struct timespec wall; struct rusage usage; };

static void timing_start (struct timing *t) {
  clock_gettime(CLOCK_MONOTONIC, &t->wall);
  getrusage(RUSAGE_SELF, &t->usage);
}

/* Print the time since timing_start, as sqlite3's .timer does. */
static void timing_report (const struct timing *t) {
  struct timespec wall;
  struct rusage usage;
  clock_gettime(CLOCK_MONOTONIC, &wall);
  getrusage(RUSAGE_SELF, &usage);
#define SECONDS(a, b) ((double)((b).tv_sec - (a).tv_sec) + ((b).tv_usec - (a).tv_usec) / 1e6)
  printf("Run Time: real %.3f user %.6f sys %.6f\n",
         (double)(wall.tv_sec - t->wall.tv_sec) + (wall.tv_nsec - t->wall.tv_nsec) / 1e9,
         SECONDS(t->usage.ru_utime, usage.ru_utime),
         SECONDS(t->usage.ru_stime, usage.ru_stime));
#undef SECONDS
}

/* Protected (run by koop_docall, so Ctrl-C stops a long listing): print
** each argument on its own line as koop.pretty renders it. */
static int print_values (lua_State *L) {
  int n = lua_gettop(L), pretty;
  luaL_checkstack(L, 4, NULL);
  if (lua_getglobal(L, "koop") == LUA_TTABLE) lua_getfield(L, -1, "pretty");
  else lua_pushnil(L);
  pretty = lua_gettop(L);
  for (int i = 1; i <= n; i++) {
    size_t len;
    const char *s;
    if (lua_isnil(L, pretty)) {
      s = luaL_tolstring(L, i, &len);
    } else {
      lua_pushvalue(L, pretty);
      lua_pushvalue(L, i);
      lua_call(L, 1, 1);
      s = luaL_tolstring(L, -1, &len);
    }
    fwrite(s, 1, len, stdout);
    if (len == 0 || s[len - 1] != '\n') fputc('\n', stdout);
    lua_settop(L, pretty);
  }
  fflush(stdout);
  return 0;
}

/* Run the function on top of the stack as one entry: print its results
** unless `quiet`, keep the first in `_`, and when it fails roll back the
** transaction it opened on the global db (one opened by an earlier entry
** is the user's and stays).  Pops the function. */
static void run_entry (struct repl *r, int quiet) {
  lua_State *L = r->L;
  int base = lua_gettop(L) - 1, status, was_autocommit, n;
  struct timing t;
  sqlite3 *db = push_db(L);  /* kept on the stack: alive during the call */
  lua_insert(L, base + 1);
  was_autocommit = db == NULL || sqlite3_get_autocommit(db);
  if (r->timer) timing_start(&t);
  koop_interrupt_clear();
  status = koop_docall(L, 0, LUA_MULTRET);
  if (status == LUA_OK && (n = lua_gettop(L) - (base + 1)) > 0) {
    lua_pushglobaltable(L);  /* raw: a strict global table must not object */
    lua_pushliteral(L, "_");
    lua_pushvalue(L, base + 2);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    if (!quiet) {
      luaL_checkstack(L, 2, NULL);
      lua_pushcfunction(L, print_values);
      lua_insert(L, base + 2);
      report(r, koop_docall(L, n, 0));
    }
  } else if (status != LUA_OK) {
    report(r, status);
    if (was_autocommit)
      rollback_open(r, base + 1, "(the transaction this entry opened was rolled back)");
  }
  if (r->timer) timing_report(&t);
  fflush(stdout);
  lua_settop(L, base);
}

/* }================================================================== */


/*
** {==================================================================
** Dot commands
** ===================================================================
*/

enum { ARG_NONE, ARG_VALUES, ARG_TABLE, ARG_FILE };

struct command {
  const char *name, *args, *help;
  int (*run) (struct repl *r, int argc, char **argv);
  int arg;                      /* what its argument completes to */
  const char *const *values;    /* ARG_VALUES: the choices */
};

static const char *const modes[] = { "box", "table", "markdown", "csv", "json", "line", NULL };
static const char *const on_off[] = { "on", "off", NULL };

static int cmd_help (struct repl *r, int argc, char **argv);
static int cmd_mode (struct repl *r, int argc, char **argv);
static int cmd_quit (struct repl *r, int argc, char **argv);
static int cmd_read (struct repl *r, int argc, char **argv);
static int cmd_schema (struct repl *r, int argc, char **argv);
static int cmd_tables (struct repl *r, int argc, char **argv);
static int cmd_timer (struct repl *r, int argc, char **argv);

static const struct command commands[] = {
  { "exit", "", "leave koop (also .quit, Ctrl-D)", cmd_quit, ARG_NONE, NULL },
  { "help", "", "show this help", cmd_help, ARG_NONE, NULL },
  { "mode", "[MODE]", "show or set how results print: box table markdown csv json line",
    cmd_mode, ARG_VALUES, modes },
  { "quit", "", "leave koop (also .exit, Ctrl-D)", cmd_quit, ARG_NONE, NULL },
  { "read", "FILE", "run the Lua script FILE here", cmd_read, ARG_FILE, NULL },
  { "schema", "[TABLE]", "show the CREATE statements (of TABLE and its indexes)",
    cmd_schema, ARG_TABLE, NULL },
  { "tables", "", "list the tables and views", cmd_tables, ARG_NONE, NULL },
  { "timer", "on|off", "say how long each entry takes", cmd_timer, ARG_VALUES, on_off },
  { NULL, NULL, NULL, NULL, 0, NULL }
};

/* The command named `name` exactly or by a unique prefix; NULL otherwise,
** and *ambiguous tells whether several matched. */
static const struct command *find_command (const char *name, size_t len, int *ambiguous) {
  const struct command *found = NULL;
  int count = 0;
  *ambiguous = 0;
  for (const struct command *c = commands; c->name; c++) {
    if (strncmp(c->name, name, len) != 0) continue;
    if (c->name[len] == '\0') return c;
    found = c;
    count++;
  }
  *ambiguous = count > 1;
  return count == 1 ? found : NULL;
}

static void list_commands (FILE *out) {
  for (const struct command *c = commands; c->name; c++) fprintf(out, " .%s", c->name);
  fputc('\n', out);
}

static int cmd_help (struct repl *r, int argc, char **argv) {
  (void)r; (void)argc; (void)argv;
  for (const struct command *c = commands; c->name; c++) {
    char head[32];
    snprintf(head, sizeof head, ".%s %s", c->name, c->args);
    printf("%-18s%s\n", head, c->help);
  }
  fputs("Anything else is Lua: an expression prints its value (kept in _), and a\n"
        "trailing ';' prints nothing.  TAB completes names, Ctrl-C cancels, Ctrl-D quits.\n",
        stdout);
  return 0;
}

static int cmd_quit (struct repl *r, int argc, char **argv) {
  (void)argc; (void)argv;
  r->quit = 1;
  return 0;
}

static int cmd_timer (struct repl *r, int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "on") == 0) r->timer = 1;
  else if (argc == 2 && strcmp(argv[1], "off") == 0) r->timer = 0;
  else if (argc == 1) printf("timer: %s\n", r->timer ? "on" : "off");
  else return fputs("usage: .timer on|off\n", stderr), 1;
  return 0;
}

/* Protected: call koop.mode with the arguments; returns its results. */
static int call_mode (lua_State *L) {
  int n = lua_gettop(L);
  if (lua_getglobal(L, "koop") != LUA_TTABLE || lua_getfield(L, -1, "mode") == LUA_TNIL)
    return luaL_error(L, "output modes are not available (no koop.mode)");
  lua_insert(L, 1);
  lua_settop(L, n + 1);
  lua_call(L, n, LUA_MULTRET);
  return lua_gettop(L);
}

static int cmd_mode (struct repl *r, int argc, char **argv) {
  lua_State *L = r->L;
  int top = lua_gettop(L), status;
  lua_pushcfunction(L, call_mode);
  for (int i = 1; i < argc; i++) lua_pushstring(L, argv[i]);
  status = koop_docall(L, argc - 1, 1);
  if (status != LUA_OK) report(r, status);
  else if (argc == 1 && !lua_isnil(L, -1)) printf("%s\n", luaL_tolstring(L, -1, NULL));
  lua_settop(L, top);
  return status != LUA_OK;
}

static int cmd_read (struct repl *r, int argc, char **argv) {
  lua_State *L = r->L;
  int status;
  if (argc != 2) return fputs("usage: .read FILE\n", stderr), 1;
  if ((status = luaL_loadfilex(L, argv[1], "t")) != LUA_OK) {
    report(r, status);
    return 1;
  }
  run_entry(r, 0);
  return 0;
}

/* The global connection, or NULL after saying why there is none. */
static sqlite3 *need_db (lua_State *L) {
  sqlite3 *db = push_db(L);
  lua_pop(L, 1);
  if (db == NULL) fputs("no database: the global db is not an open connection\n", stderr);
  return db;
}

/* Prepare the list of user tables and views, in Polish alphabetical order
** when the PL collation is there. */
static sqlite3_stmt *prepare_tables (sqlite3 *db) {
  static const char *const sql[] = {
    "SELECT name FROM sqlite_schema WHERE type IN ('table','view')"
    " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name COLLATE PL",
    "SELECT name FROM sqlite_schema WHERE type IN ('table','view')"
    " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
  };
  sqlite3_stmt *stmt = NULL;
  for (int i = 0; i < 2; i++)
    if (sqlite3_prepare_v2(db, sql[i], -1, &stmt, NULL) == SQLITE_OK) return stmt;
  fprintf(stderr, "%s\n", sqlite3_errmsg(db));
  return NULL;
}

static int terminal_width (void) {
  struct winsize ws;
  const char *columns = getenv("COLUMNS");
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  if (columns != NULL && atoi(columns) > 0) return atoi(columns);
  return 80;
}

/* Print names in columns down the page, as sqlite3's .tables does. */
static void print_columns (lua_State *L, int list, int n) {
  size_t width = 0;
  int ncol, nrow;
  for (int i = 1; i <= n; i++) {
    size_t len, w;
    lua_rawgeti(L, list, i);
    const char *s = lua_tolstring(L, -1, &len);
    w = koop_utf8_width(s, len);
    if (w > width) width = w;
    lua_pop(L, 1);
  }
  width += 2;
  ncol = (int)((size_t)terminal_width() / width);
  if (ncol < 1) ncol = 1;
  nrow = (n + ncol - 1) / ncol;
  for (int row = 0; row < nrow; row++) {
    for (int i = row; i < n; i += nrow) {
      size_t len;
      lua_rawgeti(L, list, i + 1);
      const char *s = lua_tolstring(L, -1, &len);
      fwrite(s, 1, len, stdout);
      if (i + nrow < n)
        for (size_t pad = koop_utf8_width(s, len); pad < width; pad++) fputc(' ', stdout);
      lua_pop(L, 1);
    }
    fputc('\n', stdout);
  }
}

static int cmd_tables (struct repl *r, int argc, char **argv) {
  lua_State *L = r->L;
  sqlite3 *db;
  sqlite3_stmt *stmt;
  int n = 0, rc;
  (void)argv;
  if (argc != 1) return fputs("usage: .tables\n", stderr), 1;
  if ((db = need_db(L)) == NULL || (stmt = prepare_tables(db)) == NULL) return 1;
  lua_newtable(L);
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    lua_pushstring(L, (const char *)sqlite3_column_text(stmt, 0));
    lua_rawseti(L, -2, ++n);
  }
  if (rc != SQLITE_DONE) fprintf(stderr, "%s\n", sqlite3_errmsg(db));
  sqlite3_finalize(stmt);
  print_columns(L, lua_gettop(L), n);
  lua_pop(L, 1);
  return rc != SQLITE_DONE;
}

static int cmd_schema (struct repl *r, int argc, char **argv) {
  static const char sql[] =
    "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL"
    " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
    " AND (?1 IS NULL OR tbl_name = ?1 COLLATE NOCASE OR name = ?1 COLLATE NOCASE)"
    " ORDER BY type NOT IN ('table','view'), rowid";
  sqlite3 *db;
  sqlite3_stmt *stmt = NULL;
  int rc, n = 0;
  if (argc > 2) return fputs("usage: .schema [TABLE]\n", stderr), 1;
  if ((db = need_db(r->L)) == NULL) return 1;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
    fprintf(stderr, "%s\n", sqlite3_errmsg(db));
    return 1;
  }
  if (argc == 2) sqlite3_bind_text(stmt, 1, argv[1], -1, SQLITE_TRANSIENT);
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    printf("%s;\n", (const char *)sqlite3_column_text(stmt, 0));
    n++;
  }
  if (rc != SQLITE_DONE) fprintf(stderr, "%s\n", sqlite3_errmsg(db));
  else if (n == 0 && argc == 2) fprintf(stderr, "no such table: %s\n", argv[1]);
  sqlite3_finalize(stmt);
  return rc != SQLITE_DONE || (n == 0 && argc == 2);
}

/* Split a dot command line into words ('...' and "..." quote spaces);
** modifies line; returns the number of words (at most MAXARGS). */
static int split_words (char *line, char **argv) {
  int argc = 0;
  char *p = line;
  while (argc < MAXARGS) {
    while (isspace((unsigned char)*p)) p++;
    if (*p == '\0') break;
    if (*p == '"' || *p == '\'') {
      char quote = *p++;
      argv[argc++] = p;
      while (*p && *p != quote) p++;
    } else {
      argv[argc++] = p;
      while (*p && !isspace((unsigned char)*p)) p++;
    }
    if (*p) *p++ = '\0';
  }
  return argc;
}

/* Run the dot command line on top of the stack (popped). */
static void run_command (struct repl *r) {
  char *line = strdup(lua_tostring(r->L, -1));
  char *argv[MAXARGS];
  int argc, ambiguous;
  const struct command *c;
  lua_pop(r->L, 1);
  if (line == NULL) return;
  argc = split_words(strchr(line, '.') + 1, argv);
  c = find_command(argv[0], strlen(argv[0]), &ambiguous);
  if (c != NULL) c->run(r, argc, argv);
  else {
    fprintf(stderr, "%s command .%s; the commands are:", ambiguous ? "ambiguous" : "unknown",
            argv[0]);
    list_commands(stderr);
  }
  fflush(stdout);
  free(line);
}

/* Add to the set `set` the words of `values` that start with `word`,
** each prefixed with `before`. */
static void offer_words (lua_State *L, int set, const char *before,
                         const char *word, const char *const *values) {
  size_t len = strlen(word);
  for (int i = 0; values[i]; i++) {
    if (strncmp(values[i], word, len) != 0) continue;
    lua_pushfstring(L, "%s%s", before, values[i]);
    lua_pushboolean(L, 1);
    lua_rawset(L, set);
  }
}

/* Add the table names that start with `word` (any case) to the set. */
static void offer_tables (lua_State *L, int set, const char *word) {
  sqlite3 *db = push_db(L);
  sqlite3_stmt *stmt;
  size_t len = strlen(word);
  lua_pop(L, 1);
  if (db == NULL || (stmt = prepare_tables(db)) == NULL) return;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    const char *name = (const char *)sqlite3_column_text(stmt, 0);
    if (strncasecmp(name, word, len) != 0) continue;
    lua_pushstring(L, name);
    lua_pushboolean(L, 1);
    lua_rawset(L, set);
  }
  sqlite3_finalize(stmt);
}

int koop_repl_complete (lua_State *L, const char *before, const char *word) {
  int set = lua_gettop(L), ambiguous;
  const struct command *c;
  size_t len;
  while (*before == ' ' || *before == '\t') before++;
  if (*before == '\0') {  /* the word starts the line */
    if (word[0] != '.' || (word[1] != '\0' && !isalpha((unsigned char)word[1])))
      return KOOP_COMPLETE_NONE;
    for (c = commands; c->name; c++)
      offer_words(L, set, ".", word + 1, (const char *const[]){ c->name, NULL });
    return KOOP_COMPLETE_DONE;
  }
  if (!is_command(before)) return KOOP_COMPLETE_NONE;
  before++;
  len = strcspn(before, " \t");
  c = find_command(before, len, &ambiguous);
  before += len;
  while (*before == ' ' || *before == '\t') before++;
  if (c == NULL || *before != '\0') return KOOP_COMPLETE_DONE;  /* only the first argument */
  switch (c->arg) {
    case ARG_VALUES: offer_words(L, set, "", word, c->values); break;
    case ARG_TABLE: offer_tables(L, set, word); break;
    case ARG_FILE: return KOOP_COMPLETE_FILES;
  }
  return KOOP_COMPLETE_DONE;
}

/* }================================================================== */


/* Greet a person at a terminal: versions, the database, how to get help. */
static void banner (lua_State *L) {
  sqlite3 *db = push_db(L);
  const char *file = db ? sqlite3_db_filename(db, "main") : NULL;
  lua_pop(L, 1);
  printf("koop %s (%s, SQLite %s)", KOOP_VERSION, LUA_RELEASE, sqlite3_libversion());
  if (db != NULL) printf(", database %s", file && *file ? file : ":memory:");
  fputs("\n.help for help, TAB completes, Ctrl-D quits.\n", stdout);
}

int koop_repl (lua_State *L) {
  struct repl r = { L, isatty(STDIN_FILENO), 0, 0, 0 };
  int base = lua_gettop(L);
  if (r.tty) {
    koop_edit_init(L, koop_edit_history_path());
    banner(L);
  }
  while (!r.quit) {
    int quiet = 0, status = read_entry(&r, &quiet);
    if (status == ENTRY_EOF) break;
    if (status == ENTRY_CANCELLED) fputc('\n', stdout);
    else if (status == ENTRY_COMMAND) run_command(&r);
    else if (status == LUA_OK) run_entry(&r, quiet);
    else if (status != ENTRY_EMPTY) report(&r, status);
    lua_settop(L, base);
  }
  if (r.prompted && !r.quit) fputc('\n', stdout);  /* after the prompt Ctrl-D ended */
  push_db(L);
  rollback_open(&r, lua_gettop(L), "warning: the open transaction was rolled back");
  lua_settop(L, base);
  fflush(stdout);
  if (r.tty) koop_edit_close();
  return 0;
}
