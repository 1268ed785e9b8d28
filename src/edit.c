/*
** edit.c — line editing for the REPL: libedit's readline layer, the
** history file, and TAB completion of Lua names.
**
** libedit facts this file relies on (Debian 12, libedit 3.1-20221030):
** - Ctrl-C at the prompt makes readline() return NULL with errno EINTR (its
**   own handler re-raises the signal to ours); Ctrl-D returns NULL, errno 0.
** - Word breaks come from rl_basic_word_break_characters only.
** - history_truncate_file() corrupts the file: stifle, then write_history().
** - Without setlocale(LC_CTYPE, "") non-ASCII input is silently dropped.
** When standard input is not a terminal there is no libedit at all: lines
** come from stdio, and nothing is recorded.
*/
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <editline/readline.h>

#include "koop.h"

#define HISTORY_MAX 2000      /* entries kept in the history file */
#define ITEMS_CHECKED_MAX 500 /* keys looked at per TAB, like Tarantool */
#define METATABLE_DEPTH_MAX 20
#define AUTOCOMPLETE_BUDGET 10000000  /* VM instructions __autocomplete may use */

/* Characters that end the word TAB completes.  '.' and ':' are not among
** them, so `x = string.fo` completes "string.fo"; most of Lua's operators
** and brackets are, so `1+math.hu` completes "math.hu".  '/', '-' and '~'
** are not: they are common in the file names `.read` completes. */
static const char word_breaks[] = " \t\n\"'`@$><=;|&{(}),+*%^#[]";

/* What the editor needs between calls (libedit's callbacks carry no data). */
static struct {
  lua_State *L;         /* for completion; NULL when editing is off */
  char *history;        /* history file, NULL for none */
  int history_failed;   /* a write failed and was reported once */
  int domain_loaded;    /* the domain globals were loaded for completion */
} edit;

static volatile sig_atomic_t got_sigint;

static void on_sigint (int sig) {
  (void)sig;
  got_sigint = 1;
}


/*
** {==================================================================
** History file
** ===================================================================
*/

/* Create every missing directory of `path` up to its last '/' (0700: the
** history may hold personal data); returns 0 or -1. */
static int make_parents (char *path) {
  for (char *p = strchr(path + 1, '/'); p != NULL; p = strchr(p + 1, '/')) {
    *p = '\0';
    int rc = mkdir(path, 0700);
    *p = '/';
    if (rc != 0 && errno != EEXIST) return -1;
  }
  return 0;
}

const char *koop_edit_history_path (void) {
  static char path[PATH_MAX];
  const char *env = getenv("KOOP_HISTORY");
  const char *state = getenv("XDG_STATE_HOME");
  const char *home = getenv("HOME");
  int n;
  if (env != NULL) return *env ? env : NULL;  /* KOOP_HISTORY= turns it off */
  if (state != NULL && state[0] == '/')
    n = snprintf(path, sizeof path, "%s/koop/history", state);
  else if (home != NULL && *home)
    n = snprintf(path, sizeof path, "%s/.local/state/koop/history", home);
  else
    return NULL;
  if (n < 0 || (size_t)n >= sizeof path || make_parents(path) != 0) return NULL;
  return path;
}

/* Write the whole history to its file, created private (0600) because
** entries may name beneficiaries.  Reports the first failure only. */
static void save_history (void) {
  int fd, err;
  if (edit.history == NULL) return;
  fd = open(edit.history, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0) close(fd);
  err = write_history(edit.history);
  if (err != 0 && !edit.history_failed) {
    edit.history_failed = 1;
    fprintf(stderr, "koop: cannot save history to %s: %s\n", edit.history,
            strerror(err > 0 ? err : errno));
  }
}

static int is_blank (const char *s) {
  while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
  return *s == '\0';
}

void koop_edit_remember (const char *chunk) {
  HIST_ENTRY *last;
  if (edit.L == NULL || is_blank(chunk)) return;
  last = history_length > 0 ? history_get(history_base + history_length - 1) : NULL;
  if (last != NULL && last->line != NULL && strcmp(last->line, chunk) == 0) return;
  add_history(chunk);
  save_history();
}

/* }================================================================== */


/*
** {==================================================================
** Completion
** ===================================================================
*/

static const char *const keywords[] = {
  "and", "break", "do", "else", "elseif", "end", "false", "for", "function",
  "goto", "if", "in", "local", "nil", "not", "or", "repeat", "return", "then",
  "true", "until", "while", NULL
};

/* State of one completion request, kept on the C stack. */
struct request {
  const char *path;     /* the word up to and including its last '.' or ':' */
  size_t pathlen;
  const char *prefix;   /* the part after it, which names must start with */
  size_t prefixlen;
  int method;           /* the separator is ':': offer only functions */
  int items;            /* keys looked at so far */
  int set;              /* stack index of the candidate set */
};

static int is_alpha (char c) {
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Whether s is made of the characters of a Lua name (empty is). */
static int is_name_chars (const char *s, size_t len) {
  if (len > 0 && !is_alpha(s[0])) return 0;
  for (size_t i = 1; i < len; i++)
    if (!is_alpha(s[i]) && !(s[i] >= '0' && s[i] <= '9')) return 0;
  return 1;
}

/* Whether s can follow a '.' or ':' in Lua source: a name, not a keyword. */
static int is_identifier (const char *s, size_t len) {
  if (len == 0 || !is_name_chars(s, len)) return 0;
  for (int i = 0; keywords[i]; i++)
    if (strlen(keywords[i]) == len && memcmp(keywords[i], s, len) == 0) return 0;
  return 1;
}

/* Replace the value at the top with its field `key`, looking only at raw
** fields and at __index chains made of tables: completion never runs the
** user's code, so __index functions are not called (the field is nil). */
static void safe_field (lua_State *L, const char *key, size_t len) {
  for (int depth = 0; depth < METATABLE_DEPTH_MAX; depth++) {
    if (lua_istable(L, -1)) {
      lua_pushlstring(L, key, len);
      if (lua_rawget(L, -2) != LUA_TNIL) { lua_remove(L, -2); return; }
      lua_pop(L, 1);
    }
    if (!lua_getmetatable(L, -1)) break;
    lua_pushliteral(L, "__index");
    lua_rawget(L, -2);
    lua_remove(L, -2);      /* the metatable */
    lua_remove(L, -2);      /* the value; its __index is on top */
    if (!lua_istable(L, -1)) break;
  }
  lua_pop(L, 1);
  lua_pushnil(L);
}

/* Offer the name at stack index `name` whose value has type `type`
** (LUA_TNONE when unknown).  Hides `_` names unless the user typed `_`;
** appends '(' to functions. */
static void offer (lua_State *L, struct request *rq, int name, int type) {
  size_t len;
  const char *s;
  if (lua_type(L, name) != LUA_TSTRING) return;
  s = lua_tolstring(L, name, &len);
  if (len < rq->prefixlen || memcmp(s, rq->prefix, rq->prefixlen) != 0) return;
  if (s[0] == '_' && rq->prefixlen == 0) return;
  if (!is_identifier(s, len)) return;
  if (rq->method && type != LUA_TFUNCTION) return;
  lua_pushlstring(L, rq->path, rq->pathlen);
  lua_pushvalue(L, name);
  if (type == LUA_TFUNCTION) lua_pushliteral(L, "(");
  else lua_pushliteral(L, "");
  lua_concat(L, 3);
  lua_pushboolean(L, 1);
  lua_rawset(L, rq->set);
}

/* Stop an __autocomplete metamethod that runs too long. */
static void budget_hook (lua_State *L, lua_Debug *ar) {
  (void)ar;
  luaL_error(L, "__autocomplete ran too long");
}

/* The type of the value a listed name stands for: `hint` (stack index)
** is what __autocomplete gave with it; a function or the string
** "function" marks a method.  Otherwise look the name up on the object at
** `obj` where that runs no user code (LUA_TNONE when that finds nothing). */
static int listed_type (lua_State *L, int obj, int hint, const char *name, size_t len) {
  int type;
  if (hint != 0) {
    if (lua_type(L, hint) == LUA_TFUNCTION) return LUA_TFUNCTION;
    if (lua_type(L, hint) == LUA_TSTRING && strcmp(lua_tostring(L, hint), "function") == 0)
      return LUA_TFUNCTION;
  }
  lua_pushvalue(L, obj);
  safe_field(L, name, len);
  type = lua_type(L, -1);
  lua_pop(L, 1);
  return type == LUA_TNIL ? LUA_TNONE : type;
}

/* Offer the names listed by the __autocomplete metamethod on top of the
** stack, called with the object at `obj`.  It returns a table: strings in
** its array part are names, and so are its string keys, whose values may
** say that the name is a method (a function, or "function").  One that
** fails is ignored.  Pops the metamethod. */
static void offer_autocomplete (lua_State *L, struct request *rq, int obj) {
  lua_Hook hook = lua_gethook(L);
  int mask = lua_gethookmask(L), count = lua_gethookcount(L), status, list;
  lua_pushvalue(L, obj);
  lua_sethook(L, budget_hook, LUA_MASKCOUNT, AUTOCOMPLETE_BUDGET);
  status = lua_pcall(L, 1, 1, 0);
  lua_sethook(L, hook, mask, count);
  list = lua_gettop(L);
  if (status == LUA_OK && lua_istable(L, list)) {
    lua_pushnil(L);
    while (rq->items < ITEMS_CHECKED_MAX && lua_next(L, list)) {
      int keyed = lua_type(L, list + 1) == LUA_TSTRING;
      int name = keyed ? list + 1 : list + 2;
      rq->items++;
      if (lua_type(L, name) == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, name, &len);
        offer(L, rq, name, listed_type(L, obj, keyed ? list + 2 : 0, s, len));
      }
      lua_settop(L, list + 1);  /* keep the key for lua_next */
    }
  }
  lua_settop(L, list - 1);
}

/* Offer the fields of the value on top of the stack: its raw keys, what
** its __autocomplete metamethod lists, then the same for its __index
** table, up to METATABLE_DEPTH_MAX levels.  Pops the value. */
static void offer_fields (lua_State *L, struct request *rq) {
  for (int depth = 0; depth < METATABLE_DEPTH_MAX; depth++) {
    int obj = lua_gettop(L);
    if (lua_istable(L, obj)) {
      lua_pushnil(L);
      while (rq->items < ITEMS_CHECKED_MAX && lua_next(L, obj)) {
        rq->items++;
        offer(L, rq, lua_gettop(L) - 1, lua_type(L, -1));
        lua_pop(L, 1);
      }
    }
    if (!lua_getmetatable(L, obj)) break;
    lua_pushliteral(L, "__autocomplete");
    if (lua_rawget(L, -2) == LUA_TFUNCTION) offer_autocomplete(L, rq, obj);
    else lua_pop(L, 1);
    lua_pushliteral(L, "__index");
    lua_rawget(L, -2);
    lua_replace(L, obj);    /* continue with the __index table */
    lua_settop(L, obj);
    if (!lua_istable(L, obj)) break;
  }
  lua_pop(L, 1);
}

/* Fill the set at rq->set with the completions of the Lua word `text`:
** globals and keywords for a plain name, fields after '.', methods after
** ':'.  Words that are not a dotted name complete to nothing. */
static void complete_lua (lua_State *L, struct request *rq, const char *text) {
  const char *sep = NULL;
  for (const char *p = text; *p; p++)
    if (*p == '.' || *p == ':') sep = p;
  rq->path = text;
  rq->pathlen = sep ? (size_t)(sep - text) + 1 : 0;
  rq->prefix = text + rq->pathlen;
  rq->prefixlen = strlen(rq->prefix);
  rq->method = sep != NULL && *sep == ':';
  if (!is_name_chars(rq->prefix, rq->prefixlen)) return;
  lua_pushglobaltable(L);
  for (const char *seg = text; sep != NULL && seg <= sep; ) {
    size_t len = strcspn(seg, ".:");
    if (seg + len < sep && seg[len] == ':') { lua_pop(L, 1); return; }  /* a:b.c */
    if (!is_identifier(seg, len)) { lua_pop(L, 1); return; }
    safe_field(L, seg, len);
    seg += len + 1;
  }
  if (lua_isnil(L, -1)) { lua_pop(L, 1); return; }
  offer_fields(L, rq);
  if (sep != NULL) return;
  for (int i = 0; keywords[i]; i++) {
    if (strncmp(keywords[i], rq->prefix, rq->prefixlen) != 0) continue;
    lua_pushstring(L, keywords[i]);
    lua_pushboolean(L, 1);
    lua_rawset(L, rq->set);
  }
}

/* The domain globals (institutions, cases, ...) are loaded on first use
** through _G's __index, which completion never calls: load them all once,
** on the first TAB (loading runs no SQL).  Failures are ignored. */
static void load_domain (lua_State *L) {
  int top = lua_gettop(L);
  if (edit.domain_loaded) return;
  edit.domain_loaded = 1;
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (lua_getfield(L, -1, "koop.domain") == LUA_TTABLE
      && lua_getfield(L, -1, "load_all") == LUA_TFUNCTION)
    lua_pcall(L, 0, 0, 0);
  lua_settop(L, top);
}

/* Protected: (text, before) -> set of completion strings for `text`, the
** word that ends at the cursor (`before` is the line before it), and
** whether libedit should complete file names instead. */
static int collect (lua_State *L) {
  struct request rq = { 0 };
  const char *text = luaL_checkstring(L, 1);
  const char *before = luaL_checkstring(L, 2);
  int how;
  lua_newtable(L);
  rq.set = lua_gettop(L);
  load_domain(L);
  how = koop_repl_complete(L, before, text);
  if (how == KOOP_COMPLETE_NONE) complete_lua(L, &rq, text);
  lua_settop(L, rq.set);
  lua_pushboolean(L, how == KOOP_COMPLETE_FILES);
  return 2;
}

static int compare_strings (const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Turn the set on top of the stack into libedit's match list: the longest
** common prefix (never ending inside a UTF-8 character), then the matches
** sorted, then NULL.  Pops the set; NULL when it is empty or memory ran
** out. */
static char **match_list (lua_State *L) {
  size_t n = 0, i = 1, common;
  char **matches = NULL;
  lua_pushnil(L);
  while (lua_next(L, -2)) { n++; lua_pop(L, 1); }
  if (n == 0 || (matches = calloc(n + 2, sizeof *matches)) == NULL) goto done;
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pop(L, 1);
    if (i > n || (matches[i++] = strdup(lua_tostring(L, -1))) == NULL) {
      lua_pop(L, 1);
      goto fail;
    }
  }
  qsort(matches + 1, n, sizeof *matches, compare_strings);
  common = strlen(matches[1]);
  for (i = 2; i <= n; i++) {
    size_t k = 0;
    while (k < common && matches[i][k] == matches[1][k]) k++;
    common = k;
  }
  while (common > 0 && (matches[1][common] & 0xC0) == 0x80) common--;
  if ((matches[0] = strndup(matches[1], common)) == NULL) goto fail;
  goto done;
fail:
  for (i = 1; i <= n; i++) free(matches[i]);
  free(matches);
  matches = NULL;
done:
  lua_pop(L, 1);
  return matches;
}

static int is_blank_prefix (const char *line, int len) {
  for (int i = 0; i < len; i++)
    if (line[i] != ' ' && line[i] != '\t') return 0;
  return 1;
}

/* A match list whose only match is a TAB, so that libedit inserts it and
** redisplays the line as for any completion; NULL when out of memory. */
static char **tab_match (void) {
  char **matches = calloc(3, sizeof *matches);
  if (matches == NULL) return NULL;
  matches[0] = strdup("\t");
  matches[1] = strdup("\t");
  if (matches[0] == NULL || matches[1] == NULL) {
    free(matches[0]);
    free(matches[1]);
    free(matches);
    return NULL;
  }
  return matches;
}

/* libedit's completion entry: `text` is the word before the cursor. */
static char **complete (const char *text, int start, int end) {
  lua_State *L = edit.L;
  int top;
  char **matches = NULL;
  (void)end;
  rl_attempted_completion_over = 1;  /* never fall back to file names */
  if (text[0] == '\0' && is_blank_prefix(rl_line_buffer, start))
    return tab_match();  /* indentation, e.g. in pasted code */
  if (L == NULL || !lua_checkstack(L, 10)) return NULL;
  top = lua_gettop(L);
  lua_pushcfunction(L, collect);
  lua_pushstring(L, text);
  lua_pushlstring(L, rl_line_buffer, start > 0 ? (size_t)start : 0);
  if (lua_pcall(L, 2, 2, 0) == LUA_OK) {
    if (lua_toboolean(L, -1)) rl_attempted_completion_over = 0;  /* file names */
    else { lua_pop(L, 1); matches = match_list(L); }
  }
  lua_settop(L, top);
  return matches;
}

/* }================================================================== */


void koop_edit_init (lua_State *L, const char *history_path) {
  struct stat st;
  setlocale(LC_CTYPE, "");  /* only LC_CTYPE: Lua's numbers need the C LC_NUMERIC */
  edit.L = L;
  edit.domain_loaded = 0;
  rl_readline_name = "koop";
  rl_basic_word_break_characters = word_breaks;
  rl_attempted_completion_function = complete;
  rl_completion_append_character = '\0';
  using_history();
  stifle_history(HISTORY_MAX);
  free(edit.history);
  edit.history = history_path ? strdup(history_path) : NULL;
  edit.history_failed = 0;
  if (edit.history != NULL && stat(edit.history, &st) == 0 && S_ISREG(st.st_mode)
      && st.st_size > 0) {  /* not /dev/null, not a file a crash left empty */
    int err = read_history(edit.history);
    if (err != 0)
      fprintf(stderr, "koop: cannot read history from %s: %s\n", edit.history,
              strerror(err > 0 ? err : errno));
  }
}

/* Read a line from stdin without editing (not a terminal), prompt first. */
static char *plain_readline (const char *prompt) {
  char *line = NULL;
  size_t size = 0;
  ssize_t n;
  fputs(prompt, stdout);
  fflush(stdout);
  n = getline(&line, &size, stdin);
  if (n < 0) {
    if (got_sigint) clearerr(stdin);
    free(line);
    return NULL;
  }
  if (n > 0 && line[n - 1] == '\n') line[--n] = '\0';
  return line;
}

char *koop_edit_readline (const char *prompt, int *interrupted) {
  struct sigaction sa, old;
  char *line;
  int err;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;  /* no SA_RESTART: Ctrl-C must end the read */
  sigemptyset(&sa.sa_mask);
  got_sigint = 0;
  fflush(stdout);
  sigaction(SIGINT, &sa, &old);
  errno = 0;
  line = edit.L ? readline(prompt) : plain_readline(prompt);
  err = errno;
  sigaction(SIGINT, &old, NULL);
  if (line != NULL && got_sigint) {  /* keys typed right after ^C hid it */
    free(line);
    line = NULL;
  }
  *interrupted = line == NULL && (got_sigint || err == EINTR);
  return line;
}

void koop_edit_close (void) {
  edit.L = NULL;
  free(edit.history);
  edit.history = NULL;
  clear_history();
}
