/*
** main.c — the command line.  lua.c's grammar (-e -l -i - -- -E, the arg
** table with negative indices, `...`, an init variable) plus the database
** options and the built-in commands (koop COMMAND args).  As in lua.c, all
** work after option parsing runs in protected mode (pmain), so failures
** anywhere become ordinary error objects reported in one place.
** Exit status: 0 success, 1 error raised by a script or command, 2 bad usage.
*/
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lualib.h>

#include "koop.h"

#define PROGNAME "koop"
#define EXIT_USAGE 2

/* A -e or -l option, kept in command-line order for runargs. */
struct chunk_arg { char kind; const char *value; };

struct options {
  int script;            /* argv index of script/command; 0 = none */
  struct chunk_arg *chunks;   /* the -e and -l options, in order */
  int nchunks;
  int has_i, has_v, has_e, has_E, has_h;
  int readonly;
  const char *db, *today, *as, *mode;
  struct koop_limits lim;
};

/* Print a usage error; the full synopsis is in `koop --help`. */
static int usage_error (const char *fmt, const char *arg) {
  fprintf(stderr, "%s: ", PROGNAME);
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\nTry '%s --help' for more information.\n", PROGNAME);
  return -1;
}

/* Value of an option that takes an argument: "--db=x", "-dx" or the next
** argv word; NULL (and an error printed) when it is missing. */
static const char *option_value (char **argv, int *i, const char *name) {
  const char *a = argv[*i];
  size_t n = strlen(name);
  if (a[n] == '=') return a + n + 1;
  if (a[n] != '\0' && name[1] != '-') return a + n;   /* -eSTAT, -dFILE */
  if (argv[*i + 1] == NULL) {
    usage_error("option '%s' needs an argument", name);
    return NULL;
  }
  return argv[++*i];
}

/* Does argument a name option `name` (exactly, or with a value glued)? */
static int is_opt (const char *a, const char *name, int takes_value) {
  size_t n = strlen(name);
  if (strncmp(a, name, n) != 0) return 0;
  if (a[n] == '\0') return 1;
  if (!takes_value) return 0;
  return a[n] == '=' || name[1] != '-';
}

/* Parse the options before the script or command; 0 or -1 on bad usage.
** Like lua.c's collectargs, nothing runs until the whole line is checked. */
static int collectargs (char **argv, struct options *o) {
  int i;
  for (i = 1; argv[i] != NULL; i++) {
    const char *a = argv[i], *v;
    if (a[0] != '-') { o->script = i; return 0; }
    if (strcmp(a, "--") == 0) { o->script = argv[i + 1] ? i + 1 : 0; return 0; }
    if (strcmp(a, "-") == 0) { o->script = i; return 0; }
    if (strcmp(a, "-i") == 0) o->has_i = 1;
    else if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0) o->has_v = 1;
    else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) o->has_h = 1;
    else if (strcmp(a, "-E") == 0) o->has_E = 1;
    else if (strcmp(a, "--readonly") == 0) o->readonly = 1;
    else if (strcmp(a, "--safe") == 0) o->lim.safe = 1;
    else if (strcmp(a, "--safe=write") == 0) o->lim.safe = o->lim.safe_write = 1;
    else if (is_opt(a, "-e", 1) || is_opt(a, "-l", 1)) {
      if (a[1] == 'e') o->has_e = 1;
      if ((v = option_value(argv, &i, a[1] == 'e' ? "-e" : "-l")) == NULL) return -1;
      o->chunks[o->nchunks].kind = a[1];
      o->chunks[o->nchunks++].value = v;
    }
    else if (is_opt(a, "-d", 1) || is_opt(a, "--db", 1)) {
      if ((o->db = option_value(argv, &i, a[1] == 'd' ? "-d" : "--db")) == NULL) return -1;
    }
    else if (is_opt(a, "--today", 1)) {
      if ((o->today = option_value(argv, &i, "--today")) == NULL) return -1;
    }
    else if (is_opt(a, "--as", 1)) {
      if ((o->as = option_value(argv, &i, "--as")) == NULL) return -1;
    }
    else if (is_opt(a, "--mode", 1)) {
      if ((o->mode = option_value(argv, &i, "--mode")) == NULL) return -1;
    }
    else if (is_opt(a, "--timeout", 1)) {
      char *end;
      if ((v = option_value(argv, &i, "--timeout")) == NULL) return -1;
      o->lim.timeout_s = strtod(v, &end);
      if (*end != '\0' || !(o->lim.timeout_s > 0))
        return usage_error("--timeout needs a number of seconds above 0, not '%s'", v);
    }
    else if (is_opt(a, "--memory", 1)) {
      char *end;
      long mb;
      if ((v = option_value(argv, &i, "--memory")) == NULL) return -1;
      mb = strtol(v, &end, 10);
      if (*end != '\0' || mb <= 0 || mb > 1L << 20)
        return usage_error("--memory needs a whole number of megabytes, not '%s'", v);
      o->lim.memory_bytes = (size_t)mb << 20;
    }
    else return usage_error("unrecognized option '%s'", a);
  }
  o->script = 0;
  return 0;
}

/* The arg table: arg[0] the script, positive indices its arguments,
** negative indices the interpreter and its options (as lua.c). */
static void createargtable (lua_State *L, char **argv, int argc, int script) {
  int i, narg;
  narg = argc - (script + 1);
  lua_createtable(L, narg > 0 ? narg : 0, script + 1);
  for (i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

/* Run a chunk already loaded (status from load) through the one protected
** path, then report; returns a lua status. */
static int dochunk (lua_State *L, int status) {
  if (status == LUA_OK) status = koop_docall(L, 0, 0);
  return koop_report(L, status, PROGNAME);
}

/* -e STAT */
static int dostring (lua_State *L, const char *s, const char *name) {
  return dochunk(L, luaL_loadbufferx(L, s, strlen(s), name, "t"));
}

/* -l NAME or -l g=NAME: require the module and bind it to a global. */
static int dolibrary (lua_State *L, const char *spec) {
  const char *eq = strchr(spec, '=');
  const char *mod = eq ? eq + 1 : spec;
  int status;
  lua_getglobal(L, "require");
  lua_pushstring(L, mod);
  status = koop_docall(L, 1, 1);
  if (status == LUA_OK) {
    if (eq) lua_pushlstring(L, spec, (size_t)(eq - spec));
    else lua_pushstring(L, mod);
    lua_insert(L, -2);
    lua_setglobal(L, lua_tostring(L, -2));
    lua_pop(L, 1);
  }
  return koop_report(L, status, PROGNAME);
}

/* Run -e and -l in command-line order, as collectargs recorded them. */
static int runargs (lua_State *L, const struct options *o) {
  int i;
  for (i = 0; i < o->nchunks; i++) {
    const struct chunk_arg *c = &o->chunks[i];
    if ((c->kind == 'e' ? dostring(L, c->value, "=(command line)")
                        : dolibrary(L, c->value)) != LUA_OK)
      return 0;
  }
  return 1;
}

/* KOOP_INIT: "@file" runs the file, anything else is Lua code. */
static int handle_init (lua_State *L) {
  const char *init = getenv("KOOP_INIT");
  if (init == NULL) return LUA_OK;
  if (init[0] == '@')
    return dochunk(L, luaL_loadfilex(L, init + 1, "t"));
  return dostring(L, init, "=KOOP_INIT");
}

/* Run the script argv[script] ("-" = stdin) with its arguments as `...`.
** A script that cannot be opened is a usage error. */
static int handle_script (lua_State *L, char **argv, int script, int *exitcode) {
  const char *fname = argv[script];
  int status, n, argc = 0;
  if (strcmp(fname, "-") == 0 && strcmp(argv[script - 1], "--") != 0) fname = NULL;
  status = luaL_loadfilex(L, fname, "t");
  if (status == LUA_ERRFILE) {
    koop_report(L, status, PROGNAME);
    *exitcode = EXIT_USAGE;
    return status;
  }
  if (status == LUA_OK) {
    while (argv[argc]) argc++;
    n = argc - script - 1;
    luaL_checkstack(L, n + 3, "too many arguments to script");
    for (int i = 1; i <= n; i++) lua_pushstring(L, argv[script + i]);
    status = koop_docall(L, n, 0);
  }
  koop_report(L, status, PROGNAME);
  if (status != LUA_OK) *exitcode = 1;
  return status;
}

/* Is the value at idx an error object with this code? */
static int error_code_is (lua_State *L, int idx, const char *code) {
  int is = 0;
  if (koop_error_is(L, idx)) {
    lua_getfield(L, idx, "code");
    is = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), code) == 0;
    lua_pop(L, 1);
  }
  return is;
}

/* Call koop.cli.<fn>(...) from the embedded module with the arguments
** already pushed; returns the integer it returns (an exit status). */
static int call_cli (lua_State *L, const char *fn, int nargs) {
  int status, code = 0;
  lua_getglobal(L, "require");
  lua_pushliteral(L, "koop.cli");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, fn);
  lua_remove(L, -2);
  lua_insert(L, -(nargs + 1));
  status = koop_docall(L, nargs, 1);
  if (status != LUA_OK) {
    int usage = error_code_is(L, -1, "usage");
    koop_report(L, status, PROGNAME);
    return usage ? EXIT_USAGE : 1;
  }
  if (lua_isinteger(L, -1)) code = (int)lua_tointeger(L, -1);
  lua_pop(L, 1);
  return code;
}

/* t[key] = first non-empty of the given strings (t on top). */
static void set_first (lua_State *L, const char *key, const char *a,
                       const char *b, const char *c) {
  const char *v = (a && *a) ? a : (b && *b) ? b : (c && *c) ? c : NULL;
  if (v == NULL) return;
  lua_pushstring(L, v);
  lua_setfield(L, -2, key);
}

/* Is `name` a built-in command rather than a script (koop.cli.providers
** names the module that defines each command)? */
static int is_command (lua_State *L, const char *name) {
  int yes;
  lua_getglobal(L, "require");
  lua_pushliteral(L, "koop.cli");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "providers");
  lua_getfield(L, -1, name);
  yes = !lua_isnil(L, -1);
  lua_pop(L, 3);
  return yes;
}

/* Push the options as the table koop.cli.configure expects; environment
** defaults are read here so that Lua needs no `os` to configure itself. */
static void push_config (lua_State *L, const struct options *o) {
  lua_createtable(L, 0, 8);
  set_first(L, "db", o->db, getenv("KOOP_DB"), NULL);
  set_first(L, "today", o->today, getenv("KOOP_TODAY"), NULL);
  set_first(L, "as", o->as, getenv("KOOP_USER"), getenv("LOGNAME"));
  if (lua_getfield(L, -1, "as") == LUA_TNIL) set_first(L, "as", getenv("USER"), NULL, NULL);
  lua_pop(L, 1);
  set_first(L, "mode", o->mode, NULL, NULL);
  lua_pushboolean(L, o->readonly); lua_setfield(L, -2, "readonly");
  lua_pushboolean(L, o->has_E); lua_setfield(L, -2, "ignore_env");
  lua_pushboolean(L, o->lim.safe); lua_setfield(L, -2, "safe");
}

/* Everything after option parsing, in protected mode. */
static int pmain (lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = (char **)lua_touserdata(L, 2);
  struct options *o = (struct options *)lua_touserdata(L, 3);
  int exitcode = 0, command = 0;
  luaL_checkversion(L);
  if (o->has_E) {
    lua_pushboolean(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
  }
  luaL_openlibs(L);
  koop_open_all(L);
  koop_open_modules(L);
  koop_set_timeout(o->lim.timeout_s);
  createargtable(L, argv, argc, o->script);
  lua_gc(L, LUA_GCRESTART);       /* stopped in main while libraries load */
  lua_gc(L, LUA_GCGEN, 0, 0);
  if (o->has_v) {
    printf("koop %s  (%s, SQLite %s)\n", KOOP_VERSION, LUA_RELEASE, sqlite3_libversion());
    if (!o->has_h && !o->script && !o->has_e && !o->has_i) goto done;
  }
  if (o->has_h) { exitcode = call_cli(L, "usage", 0); goto done; }
  if (o->script) command = is_command(L, argv[o->script]);
  push_config(L, o);
  if ((exitcode = call_cli(L, "configure", 1)) != 0) goto done;
  koop_sandbox_apply(L, &o->lim);
  if (command) {
    lua_createtable(L, argc, 0);
    for (int i = o->script + 1; i < argc; i++) {
      lua_pushstring(L, argv[i]);
      lua_rawseti(L, -2, i - o->script);
    }
    lua_pushstring(L, argv[o->script]);
    lua_insert(L, -2);
    exitcode = call_cli(L, "run", 2);
    goto done;
  }
  if ((exitcode = call_cli(L, "connect", 0)) != 0) goto done;
  if (!o->has_E && handle_init(L) != LUA_OK) { exitcode = 1; goto done; }
  if (!runargs(L, o)) { exitcode = 1; goto done; }
  if (o->script && handle_script(L, argv, o->script, &exitcode) != LUA_OK) goto done;
  if (o->has_i || (!o->script && !o->has_e && !o->has_v && isatty(STDIN_FILENO))) {
    exitcode = koop_repl(L);
  } else if (!o->script && !o->has_e && !o->has_v) {
    char *stdin_argv[] = { "koop", "-", NULL };
    handle_script(L, stdin_argv, 1, &exitcode);
  }
done:
  lua_pushinteger(L, exitcode);
  return 1;
}

/* Past a file size limit (ulimit -f) the kernel's SIGXFSZ would kill
** koop in the middle of a write; ignored, the write fails with EFBIG, so
** SQLite reports a full disk and rolls back, and the error names the file. */
static void setup_signals (void) {
  signal(SIGXFSZ, SIG_IGN);
}

int main (int argc, char **argv) {
  struct options o;
  lua_State *L;
  int status, exitcode = EXIT_USAGE;
  setup_signals();
  memset(&o, 0, sizeof o);
  o.chunks = calloc((size_t)argc, sizeof *o.chunks);   /* at most one per argument */
  if (o.chunks == NULL) {
    fprintf(stderr, "%s: not enough memory\n", PROGNAME);
    return 1;
  }
  if (collectargs(argv, &o) != 0) goto done;
  L = koop_newstate(&o.lim);
  if (L == NULL) {
    fprintf(stderr, "%s: cannot create state: not enough memory\n", PROGNAME);
    exitcode = 1;
    goto done;
  }
  lua_gc(L, LUA_GCSTOP);
  lua_pushcfunction(L, pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  lua_pushlightuserdata(L, &o);
  status = lua_pcall(L, 3, 1, 0);
  exitcode = (int)lua_tointeger(L, -1);
  if (status != LUA_OK) {
    koop_report(L, status, PROGNAME);
    exitcode = 1;
  }
  koop_closestate(L);
done:
  free(o.chunks);
  return exitcode;
}
