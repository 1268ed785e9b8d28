/*
** db.c — the SQLite binding (API.md §3): connections (koop.open and the
** global db), the statement cache, iterators, prepared statements,
** transactions, and SQLite errors as error objects.
**
** Every statement of a connection is on its `live` list, so close()
** finalises them all.  Statements run by db:exec/query/rows/... come from
** an LRU cache keyed by SQL text; the lookup is one rawget in a Lua table
** (the connection's first uservalue, mapping SQL -> light userdata and
** back).  A cached statement is `busy` while a call or an iterator uses
** it; a nested use of the same SQL prepares a transient one.
**
** Lua never longjmps across SQLite frames: an SQLite error is copied into
** a SqlErr right after the call returns and raised once the statement is
** released.  A C function that may run Lua or allocate while it holds a
** statement (query, first, value; exec with named values, whose __index
** may run) hands the statement to the connection's guard, a to-be-closed
** value that releases it however the function ends.
** Iterators own their statement through a cursor, the 4th value of the
** generic for, so `break` resets it at once.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "koop.h"

#define DB_MT      "koop.Db"
#define STMT_MT    "koop.Stmt"
#define CURSOR_MT  "koop.Cursor"
#define GUARD_MT   "koop.DbGuard"
#define BLOB_MT    "koop.Blob"
#define NULL_MT    "koop.Null"
#define RESULT_MT  "koop.ResultSet"
#define NULL_KEY   "koop.null"        /* registry: the koop.null value */

#define CACHE_MAX  64                 /* cached statements per connection */
#define BUSY_MS    5000               /* busy timeout */

/* Uservalues of a connection. */
enum { UV_CACHE = 1, UV_PATH, UV_GUARD, UV_COUNT = UV_GUARD };

/* Upvalues of every Db and Stmt method: koop.null, the Blob metatable,
** and the metatable of the method's own type (to check self fast). */
#define UP_NULL lua_upvalueindex(1)
#define UP_BLOB lua_upvalueindex(2)
#define UP_SELF lua_upvalueindex(3)

enum { ST_CACHED, ST_TRANSIENT, ST_USER };

typedef struct Conn Conn;
typedef struct Stmt Stmt;
typedef struct Cursor Cursor;

struct Stmt {
  sqlite3_stmt *vm;        /* NULL once finalised */
  Conn *conn;              /* NULL once finalised */
  Stmt *prev, *next;       /* the connection's live statements */
  Stmt *newer, *older;     /* cache order (cached statements only) */
  Stmt *held;              /* the one below it on the guard's stack */
  Cursor *cursor;          /* the iterator reading it, if any */
  int kind;                /* ST_CACHED, ST_TRANSIENT or ST_USER */
  int busy;                /* handed out by the cache */
  int stale_names;         /* ST_USER: column names must be read again */
};

/* The statements of db:tx, prepared once per connection (when first
** used): sqlite3_exec would parse them again on every call. */
enum { TX_BEGIN, TX_BEGIN_IMMEDIATE, TX_COMMIT, TX_ROLLBACK, TX_SAVEPOINT,
       TX_RELEASE, TX_ROLLBACK_TO, TX_COUNT };
static const char *const tx_sql[TX_COUNT] = {
  "BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK", "SAVEPOINT koop_tx",
  "RELEASE koop_tx", "ROLLBACK TO koop_tx"
};

struct Conn {
  sqlite3 *db;             /* NULL once closed */
  sqlite3_stmt *tx[TX_COUNT];   /* tx_sql, prepared (NULL until used) */
  lua_Integer txid;        /* db:txid(): changes when a transaction ends */
  const char *path;        /* as given; the string is uservalue UV_PATH */
  Stmt *live;              /* every statement not yet finalised */
  Stmt *newest, *oldest;   /* the cache, most recently used first */
  int ncached;
  Stmt *held;              /* the guard's stack */
  int readonly;            /* opened read-only */
  int txdepth;             /* db:tx levels running on tx_thread */
  int tx_lost;             /* their transaction ended under them */
  const lua_State *tx_thread;   /* runs the outermost db:tx (compared only) */
};

struct Cursor {
  Stmt *st;                /* NULL once done or taken away */
  int done;                /* the statement ran to its end */
  const char *what;        /* "db:rows" etc., for messages */
};

typedef struct Blob { const char *data; size_t len; } Blob;

/* The values a method binds: its arguments from stack index `first`. */
typedef struct Args {
  const char *what;        /* "db:exec", for messages */
  int first, n;            /* first value and how many */
  int named;               /* one table of named values */
  int next;                /* positional values bound so far */
  sqlite3_destructor_type how;  /* STATIC while the values stay on the stack */
} Args;

/* A binding that failed, described so it can be raised after release. */
enum { BE_TYPE = 1, BE_COUNT, BE_UNNAMED, BE_SQLITE };
typedef struct BindError {
  int kind, param, value, rc, have, want;  /* value: stack index */
  char name[64];
} BindError;

/* An SQLite error copied out of the connection as soon as it happened. */
typedef struct SqlErr {
  int rc, ext, parse;      /* parse: from prepare, not from a step */
  int sys_errno;           /* of the failed system call (I/O errors) */
  int offset;              /* of a parse error in bytes, or -1 */
  char msg[512];
} SqlErr;


/*
** {==================================================================
** Errors
** ===================================================================
*/

/* The error object code for an SQLite result code. */
static const char *code_name (int rc) {
  switch (rc & 0xff) {
    case SQLITE_INTERNAL: return "internal";
    case SQLITE_PERM: return "perm";
    case SQLITE_ABORT: return "abort";
    case SQLITE_BUSY: return "busy";
    case SQLITE_LOCKED: return "locked";
    case SQLITE_NOMEM: return "nomem";
    case SQLITE_READONLY: return "readonly";
    case SQLITE_INTERRUPT: return "interrupted";
    case SQLITE_IOERR: return "io";
    case SQLITE_CORRUPT: return "corrupt";
    case SQLITE_NOTFOUND: return "notfound";
    case SQLITE_FULL: return "full";
    case SQLITE_CANTOPEN: return "cantopen";
    case SQLITE_PROTOCOL: return "protocol";
    case SQLITE_SCHEMA: return "schema";
    case SQLITE_TOOBIG: return "toobig";
    case SQLITE_CONSTRAINT: return "constraint";
    case SQLITE_MISMATCH: return "mismatch";
    case SQLITE_MISUSE: return "misuse";
    case SQLITE_AUTH: return "auth";
    case SQLITE_RANGE: return "range";
    case SQLITE_NOTADB: return "notadb";
    default: return "sql";
  }
}

/* Copy the connection's error for rc (from prepare when `parse`) before
** anything else can talk to SQLite. */
static void capture (Conn *c, int rc, int parse, SqlErr *e) {
  e->rc = rc;
  e->ext = sqlite3_extended_errcode(c->db);
  e->sys_errno = sqlite3_system_errno(c->db);
  e->parse = parse;
  e->offset = parse ? sqlite3_error_offset(c->db) : -1;
  snprintf(e->msg, sizeof e->msg, "%s", sqlite3_errmsg(c->db));
}

/* Push the line of sql around byte `off` with a mark under it, as the
** sqlite3 shell shows a parse error. */
static void push_context (lua_State *L, const char *sql, size_t len, size_t off) {
  static const char spaces[] = "                                        "
                               "                                        ";
  char line[80];
  size_t start, end, n = 0, col;
  if (off > len) off = len;
  for (start = off; start > 0 && sql[start - 1] != '\n'; start--) {}
  for (end = off; end < len && sql[end] != '\n'; end++) {}
  while (off - start > 50) {              /* at most 50 bytes before it */
    start++;
    while (start < off && (sql[start] & 0xc0) == 0x80) start++;
  }
  if (end - start > sizeof line - 2) {    /* and 78 in all */
    end = start + sizeof line - 2;
    while (end > off && (sql[end] & 0xc0) == 0x80) end--;
  }
  for (; start + n < end; n++) {
    char ch = sql[start + n];
    line[n] = (ch == '\t' || ch == '\r') ? ' ' : ch;
  }
  line[n] = '\0';
  col = koop_utf8_width(line, off - start);
  if (col > sizeof spaces - 1) col = sizeof spaces - 1;
  if (col < 25)
    lua_pushfstring(L, "\n  %s\n  %s^--- error here", line,
                    spaces + (sizeof spaces - 1 - col));
  else
    lua_pushfstring(L, "\n  %s\n  %serror here ---^", line,
                    spaces + (sizeof spaces - 1 - (col - 14)));
}

/* The connection's busy timeout in ms (PRAGMA busy_timeout may have
** changed koop's default). */
static int busy_ms (sqlite3 *db) {
  sqlite3_stmt *vm;
  int ms = BUSY_MS;
  if (sqlite3_prepare_v2(db, "PRAGMA busy_timeout", -1, &vm, NULL) == SQLITE_OK
      && sqlite3_step(vm) == SQLITE_ROW)
    ms = sqlite3_column_int(vm, 0);
  sqlite3_finalize(vm);
  return ms;
}

/* The pid of a process holding a write lock on a byte of [from, to] of
** the file `path` (POSIX and OFD locks, as /proc/locks lists them; -1 for
** an OFD lock, whose owner is unknown), or 0 when none is seen.  It reads
** /proc/locks instead of asking fcntl(F_GETLK): that needs a descriptor
** of the file, and closing it would drop SQLite's own locks on it. */
static long lock_holder (const char *path, long long from, long long to) {
  struct stat sb;
  char line[256], kind[16], rw[16], end[24];
  unsigned maj, min;
  unsigned long ino;
  long long start;
  long pid, found = 0;
  FILE *f;
  if (stat(path, &sb) != 0 || (f = fopen("/proc/locks", "r")) == NULL) return 0;
  while (found == 0 && fgets(line, sizeof line, f) != NULL) {
    if (sscanf(line, "%*d: %15s %*s %15s %ld %x:%x:%lu %lld %23s", kind, rw,
               &pid, &maj, &min, &ino, &start, end) != 8)
      continue;                     /* also a waiter's line: "1: -> ..." */
    if (strcmp(rw, "WRITE") != 0 || ino != (unsigned long)sb.st_ino
        || maj != major(sb.st_dev) || min != minor(sb.st_dev))
      continue;
    if (start <= to && (strcmp(end, "EOF") == 0 || atoll(end) >= from))
      found = pid;
  }
  fclose(f);
  return found;
}

/* Push who holds the write lock of db's main file: "another process
** (pid N: its command line)", "another connection of this process", or
** "another process" when unknown.  WAL mode: byte 120 of the -shm file
** (WAL_WRITE_LOCK); rollback mode: the PENDING, RESERVED and SHARED bytes
** at 1 GiB in the database file. */
static void push_holder (lua_State *L, sqlite3 *db) {
  const char *file = sqlite3_db_filename(db, "main");
  char cmd[160];
  size_t n = 0, i;
  long pid = 0;
  FILE *f;
  if (file != NULL && file[0] != '\0') {
    pid = lock_holder(lua_pushfstring(L, "%s-shm", file), 120, 120);
    lua_pop(L, 1);
    if (pid == 0) pid = lock_holder(file, 0x40000000LL, 0x40000000LL + 511);
  }
  if (pid == 0 || pid == -1) { lua_pushliteral(L, "another process"); return; }
  if (pid == (long)getpid()) {
    lua_pushliteral(L, "another connection of this process");
    return;
  }
  snprintf(cmd, sizeof cmd, "/proc/%ld/cmdline", pid);
  if ((f = fopen(cmd, "r")) != NULL) {
    n = fread(cmd, 1, sizeof cmd - 1, f);
    fclose(f);
  }
  while (n > 0 && cmd[n - 1] == '\0') n--;
  for (i = 0; i < n; i++)            /* one line: NULs, newlines, tabs */
    if ((unsigned char)cmd[i] < ' ') cmd[i] = ' ';
  cmd[n] = '\0';
  if (n == sizeof cmd - 1) memcpy(cmd + n - 3, "...", 3);
  if (n > 0) lua_pushfstring(L, "another process (pid %d: %s)", (int)pid, cmd);
  else lua_pushfstring(L, "another process (pid %d)", (int)pid);
}

/* Push the message of SQLITE_BUSY on db (opened as `path`): who holds
** the lock when known, and how long koop waited.  A transaction that has
** read already gets BUSY at once (SQLite does not wait: that could
** deadlock), so then the message says to take the lock first. */
static void push_busy (lua_State *L, sqlite3 *db, const char *path) {
  push_holder(L, db);
  if (!sqlite3_get_autocommit(db)
      && sqlite3_txn_state(db, "main") == SQLITE_TXN_READ)
    lua_pushfstring(L, "database %s is busy: %s holds the write lock; "
                    "this transaction read the database first and "
                    "cannot wait for it (start writes with db:tx or BEGIN "
                    "IMMEDIATE, which take the lock first)", path,
                    lua_tostring(L, -1));
  else {
    int ms = busy_ms(db);
    if (ms < 1000)
      lua_pushfstring(L, "database %s is busy: %s holds the write lock; koop "
                      "waited %d ms", path, lua_tostring(L, -1), ms);
    else
      lua_pushfstring(L, "database %s is busy: %s holds the write lock; koop "
                      "waited %d.%d s", path, lua_tostring(L, -1),
                      ms / 1000, ms % 1000 / 100);
  }
  lua_remove(L, -2);
}

#define MOVED_FMT "cannot write: database %s was deleted, moved or replaced " \
                  "while koop had it open; nothing more was written to it"

/* What errno of a failed write means for the user, or NULL when it is
** not one that only a write gets. */
static const char *write_failure (int err) {
  switch (err) {
    case ENOSPC: return "the disk is full: free some space, then run it again";
    case EDQUOT: return "the disk quota is used up: free some space, then run it again";
    case EFBIG: return "the file has reached its size limit (ulimit -f)";
    case EROFS: return "the file system is read-only";
    default: return NULL;
  }
}

/* True if path is on a file system mounted read-only. */
static int on_readonly_fs (const char *path) {
  struct statvfs vfs;
  return path != NULL && statvfs(path, &vfs) == 0 && (vfs.f_flag & ST_RDONLY);
}

/* Push the message for e (sql at sqlidx, or 0; a parse error's offset
** counts from byte `base` of it). */
static void push_message (lua_State *L, Conn *c, const SqlErr *e, int sqlidx,
                          size_t base) {
  switch (e->rc & 0xff) {
    case SQLITE_INTERRUPT:
      lua_pushliteral(L, "interrupted");
      return;
    case SQLITE_BUSY:
      if (e->ext == SQLITE_BUSY_SNAPSHOT)
        lua_pushfstring(L, "database %s was changed by another process during "
                        "this transaction; run it again", c->path);
      else
        push_busy(L, c->db, c->path);
      return;
    case SQLITE_AUTH:
      if (koop_sandbox_refusal(L) != NULL) {
        lua_pushstring(L, koop_sandbox_refusal(L));
        return;
      }
      break;
    case SQLITE_FULL:
      lua_pushfstring(L, "cannot write database %s: %s", c->path,
                      write_failure(e->sys_errno == EFBIG ? EFBIG : ENOSPC));
      return;
    case SQLITE_IOERR:
      if (write_failure(e->sys_errno) != NULL)
        lua_pushfstring(L, "cannot write database %s: %s (%s)", c->path,
                        write_failure(e->sys_errno), e->msg);
      else
        lua_pushfstring(L, "database %s: input/output error (%s%s%s)", c->path,
                        e->msg, e->sys_errno ? ": " : "",
                        e->sys_errno ? strerror(e->sys_errno) : "");
      return;
    case SQLITE_READONLY:
      if (e->ext == SQLITE_READONLY_DBMOVED) {
        lua_pushfstring(L, MOVED_FMT, c->path);
        return;
      }
      if (c->readonly) {
        lua_pushfstring(L, "cannot write: database %s was opened read-only",
                        c->path);
        return;
      }
      if (on_readonly_fs(sqlite3_db_filename(c->db, "main"))) {
        lua_pushfstring(L, "cannot write: database %s is on a read-only file "
                        "system", c->path);
        return;
      }
      if (sqlite3_db_readonly(c->db, "main") == 1) {
        lua_pushfstring(L, "cannot write: database %s is read-only "
                        "(is the file writable?)", c->path);
        return;
      }
      break;
  }
  if (e->offset >= 0 && sqlidx != 0) {
    size_t len, off = base + (size_t)e->offset, i;
    const char *sql = lua_tolstring(L, sqlidx, &len);
    int line = 1;
    for (i = 0; i < off && i < len; i++) line += sql[i] == '\n';
    if (memchr(sql, '\n', len) != NULL)
      lua_pushfstring(L, "Parse error: %s (line %d of the SQL)", e->msg, line);
    else
      lua_pushfstring(L, "Parse error: %s", e->msg);
    push_context(L, sql, len, off);
    lua_concat(L, 2);
  }
  else
    lua_pushfstring(L, "%s error: %s", e->parse ? "Parse" : "Runtime", e->msg);
}

/* Raise e as an error object with code, extended_code, message, sql and
** (parse errors) offset.  sqlidx: the SQL on the stack, or 0. */
static int raise_sqlerr (lua_State *L, Conn *c, const SqlErr *e, int sqlidx,
                         size_t base) {
  push_message(L, c, e, sqlidx, base);
  koop_error_push(L, code_name(e->rc), NULL, "%s", lua_tostring(L, -1));
  lua_pushinteger(L, e->ext);
  lua_setfield(L, -2, "extended_code");
  if (sqlidx != 0) {
    lua_pushvalue(L, sqlidx);
    lua_setfield(L, -2, "sql");
    if (e->offset >= 0) {
      lua_pushinteger(L, (lua_Integer)(base + (size_t)e->offset));
      lua_setfield(L, -2, "offset");
    }
  }
  return lua_error(L);
}

/* Name of the type of the value at idx for messages (__name if any). */
static const char *type_name (lua_State *L, int idx) {
  if (luaL_getmetafield(L, idx, "__name") == LUA_TSTRING)
    return lua_tostring(L, -1);
  return luaL_typename(L, idx);
}

/* Raise a failed binding. */
static int raise_bind (lua_State *L, const BindError *e, const Args *a) {
  char where[80] = "";
  const char *field = NULL;
  if (e->name[0] != '\0') {
    snprintf(where, sizeof where, " (%s)", e->name);
    if (a->named && e->name[0] != '?') field = e->name + 1;
  }
  switch (e->kind) {
    case BE_COUNT:
      return koop_error_raise(L, "misuse", NULL,
                              "%s: %d value%s given for %d parameter%s", a->what,
                              e->have, e->have == 1 ? "" : "s",
                              e->want, e->want == 1 ? "" : "s");
    case BE_UNNAMED:
      return koop_error_raise(L, "misuse", NULL,
                              "bad parameter %d%s to %s: a positional parameter "
                              "takes positional values, not a table of named "
                              "values", e->param, where, a->what);
    case BE_SQLITE:
      return koop_error_raise(L, code_name(e->rc), field,
                              "bad parameter %d%s to %s: %s", e->param, where,
                              a->what, sqlite3_errstr(e->rc));
    default:
      return koop_error_raise(L, "misuse", field,
                              "bad parameter %d%s to %s: %s values cannot be "
                              "bound", e->param, where, a->what,
                              type_name(L, e->value));
  }
}

/* }================================================================== */


/*
** {==================================================================
** Statements: the live list, the cache and releasing
** ===================================================================
*/

/* Put st on c's list of live statements. */
static void live_link (Conn *c, Stmt *st) {
  st->conn = c;
  st->prev = NULL;
  st->next = c->live;
  if (c->live != NULL) c->live->prev = st;
  c->live = st;
}

/* Take st off its connection's list of live statements. */
static void live_unlink (Stmt *st) {
  Conn *c = st->conn;
  if (st->prev != NULL) st->prev->next = st->next;
  else c->live = st->next;
  if (st->next != NULL) st->next->prev = st->prev;
  st->prev = st->next = NULL;
}

/* Take st out of the cache order. */
static void lru_unlink (Conn *c, Stmt *st) {
  if (st->newer != NULL) st->newer->older = st->older;
  else c->newest = st->older;
  if (st->older != NULL) st->older->newer = st->newer;
  else c->oldest = st->newer;
  st->newer = st->older = NULL;
}

/* Make st the most recently used cached statement. */
static void lru_push (Conn *c, Stmt *st) {
  st->newer = NULL;
  st->older = c->newest;
  if (c->newest != NULL) c->newest->newer = st;
  else c->oldest = st;
  c->newest = st;
}

/* The iterator reading st, if any, loses it. */
static void detach (Stmt *st) {
  if (st->cursor != NULL) {
    st->cursor->st = NULL;
    st->cursor = NULL;
  }
}

/* Finalise st and take it off its connection (the struct stays). */
static void finalize (Stmt *st) {
  detach(st);
  if (st->vm == NULL) return;
  sqlite3_finalize(st->vm);
  st->vm = NULL;
  live_unlink(st);
  st->conn = NULL;
}

/* A new transient statement for vm, on c's live list, busy; NULL when
** out of memory (vm is then finalised). */
static Stmt *stmt_new (Conn *c, sqlite3_stmt *vm) {
  Stmt *st = malloc(sizeof *st);
  if (st == NULL) {
    sqlite3_finalize(vm);
    return NULL;
  }
  memset(st, 0, sizeof *st);
  st->vm = vm;
  st->kind = ST_TRANSIENT;
  st->busy = 1;
  live_link(c, st);
  return st;
}

/* Give st back: a cached one is reset, unbound and idle again, a
** transient one is finalised, a user's statement is reset. */
static void release (Stmt *st) {
  detach(st);
  switch (st->kind) {
    case ST_CACHED:
      sqlite3_reset(st->vm);
      sqlite3_clear_bindings(st->vm);
      st->busy = 0;
      break;
    case ST_TRANSIENT:
      finalize(st);
      free(st);
      break;
    default:
      if (st->vm != NULL) sqlite3_reset(st->vm);
      st->stale_names = 1;
      break;
  }
}

/* Drop the least recently used idle statement from the cache; 0 if every
** cached statement is busy.  Allocates nothing. */
static int cache_evict (lua_State *L, Conn *c, int dbidx) {
  Stmt *v;
  for (v = c->oldest; v != NULL && v->busy; v = v->newer) {}
  if (v == NULL) return 0;
  lua_getiuservalue(L, dbidx, UV_CACHE);
  lua_pushlightuserdata(L, v);
  if (lua_rawget(L, -2) == LUA_TSTRING) {   /* cache[sql] = nil */
    lua_pushnil(L);
    lua_rawset(L, -3);
  }
  else lua_pop(L, 1);
  lua_pushlightuserdata(L, v);              /* cache[v] = nil */
  lua_pushnil(L);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  lru_unlink(c, v);
  c->ncached--;
  finalize(v);
  free(v);
  return 1;
}

/* Make the busy transient st the cached statement for the SQL at sqlidx
** (unless every cached statement is busy). */
static void cache_insert (lua_State *L, Conn *c, int dbidx, int sqlidx,
                          Stmt *st) {
  if (c->ncached >= CACHE_MAX && !cache_evict(L, c, dbidx)) return;
  lua_getiuservalue(L, dbidx, UV_CACHE);
  lua_pushvalue(L, sqlidx);
  lua_pushlightuserdata(L, st);
  lua_rawset(L, -3);
  lua_pushlightuserdata(L, st);
  lua_pushvalue(L, sqlidx);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  st->kind = ST_CACHED;
  lru_push(c, st);
  c->ncached++;
}

/* True if s holds nothing but blanks, semicolons and comments. */
static int blank (const char *s) {
  for (;;) {
    if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f'
        || *s == ';') s++;
    else if (s[0] == '-' && s[1] == '-') {
      while (*s != '\0' && *s != '\n') s++;
    }
    else if (s[0] == '/' && s[1] == '*') {
      const char *end = strstr(s + 2, "*/");
      if (end == NULL) return 1;
      s = end + 2;
    }
    else return *s == '\0';
  }
}

enum { ONE, MANY, NONE };

/* Raise if the db:tx this thread runs has lost its transaction (see
** tx_ended): a function that caught the error and went on would write
** the rest in autocommit mode, each statement committed on its own, and
** a nested db:tx would BEGIN afresh: half a change saved. */
static void check_tx_alive (lua_State *L, Conn *c, const char *what) {
  if (c->tx_lost && c->txdepth > 0 && c->tx_thread == L)
    koop_error_raise(L, "abort", NULL, "%s: the transaction of db:tx was "
                     "rolled back by an earlier error in it (e.g. a full disk);"
                     " nothing more can run in it", what);
}

/* The statement for the SQL (a Lua string at sqlidx of the connection at
** dbidx), busy: the cached one when idle, else a new one, cached if the
** cached one is not in use.  Returns NULL and sets *count to MANY or NONE
** when the SQL holds several statements or none.  Raises parse errors. */
static Stmt *acquire (lua_State *L, Conn *c, int dbidx, int sqlidx, int *count) {
  size_t len;
  const char *sql = lua_tolstring(L, sqlidx, &len), *tail;
  sqlite3_stmt *vm;
  Stmt *st;
  SqlErr e;
  int rc;
  check_tx_alive(L, c, "db");
  lua_getiuservalue(L, dbidx, UV_CACHE);
  lua_pushvalue(L, sqlidx);
  lua_rawget(L, -2);
  st = (Stmt *)lua_touserdata(L, -1);
  lua_pop(L, 2);
  *count = ONE;
  if (st != NULL && !st->busy) {
    if (c->newest != st) { lru_unlink(c, st); lru_push(c, st); }
    st->busy = 1;
    return st;
  }
  if (len >= (size_t)0x7fffffff)
    koop_error_raise(L, "toobig", NULL, "SQL text of %I bytes is too long",
                     (lua_Integer)len);
  rc = sqlite3_prepare_v3(c->db, sql, (int)len + 1,
                          st == NULL ? SQLITE_PREPARE_PERSISTENT : 0, &vm, &tail);
  if (rc != SQLITE_OK) {
    capture(c, rc, 1, &e);
    raise_sqlerr(L, c, &e, sqlidx, 0);
  }
  if (vm == NULL || !blank(tail)) {
    sqlite3_finalize(vm);
    *count = vm == NULL ? NONE : MANY;
    return NULL;
  }
  if (st != NULL) {                     /* the cached one is in use */
    if ((st = stmt_new(c, vm)) == NULL) goto nomem;
    return st;
  }
  if ((st = stmt_new(c, vm)) == NULL) goto nomem;
  cache_insert(L, c, dbidx, sqlidx, st);
  return st;
nomem:
  koop_error_raise(L, "nomem", NULL, "out of memory");
  return NULL;
}

/* acquire() for methods that run exactly one statement. */
static Stmt *acquire_one (lua_State *L, Conn *c, int sqlidx, const char *what) {
  int count;
  Stmt *st = acquire(L, c, 1, sqlidx, &count);
  if (st == NULL)
    koop_error_raise(L, "misuse", NULL, count == MANY
                     ? "%s: one SQL statement expected, got several (db:exec "
                       "runs several)"
                     : "%s: no SQL statement in the text", what);
  return st;
}

/* Hand st to the connection's guard, a to-be-closed value pushed on the
** stack: st is released when the calling C function returns or raises. */
static void hold (lua_State *L, Conn *c, int dbidx, Stmt *st) {
  lua_getiuservalue(L, dbidx, UV_GUARD);
  st->held = c->held;
  c->held = st;
  lua_toclose(L, -1);
}

/* __close of the guard: release the statement held last. */
static int guard_close (lua_State *L) {
  Conn *c = *(Conn **)lua_touserdata(L, 1);
  Stmt *st = c->held;
  if (st != NULL) {
    c->held = st->held;
    st->held = NULL;
    release(st);
  }
  return 0;
}

/* Reset every running statement of c: SQLite clears a pending interrupt
** only when none runs, and their loops are being unwound by the same
** error.  Iterators lose their statement; held ones stay held. */
static void stop_running (Conn *c) {
  Stmt *st, *next;
  for (st = c->live; st != NULL; st = next) {
    next = st->next;
    if (!sqlite3_stmt_busy(st->vm)) continue;
    if (st->cursor != NULL) release(st);
    else sqlite3_reset(st->vm);
  }
}

/* }================================================================== */


/*
** {==================================================================
** Values: binding Lua values, pushing column values
** ===================================================================
*/

#define BIND_BADTYPE (-1)

/* Bind the value at idx to parameter i; BIND_BADTYPE for a type that
** cannot be bound.  Runs in a Db or Stmt method (UP_NULL, UP_BLOB). */
static int bind_value (lua_State *L, sqlite3_stmt *vm, int i, int idx,
                       sqlite3_destructor_type how) {
  switch (lua_type(L, idx)) {
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx))
        return sqlite3_bind_int64(vm, i, (sqlite3_int64)lua_tointeger(L, idx));
      return sqlite3_bind_double(vm, i, (double)lua_tonumber(L, idx));
    case LUA_TSTRING: {
      size_t len;
      const char *s = lua_tolstring(L, idx, &len);
      return sqlite3_bind_text64(vm, i, s, len, how, SQLITE_UTF8);
    }
    case LUA_TBOOLEAN:
      return sqlite3_bind_int(vm, i, lua_toboolean(L, idx));
    case LUA_TNIL: case LUA_TNONE:
      return sqlite3_bind_null(vm, i);
    case LUA_TUSERDATA: {
      int isblob;
      int64_t grosze;
      if (lua_rawequal(L, idx, UP_NULL)) return sqlite3_bind_null(vm, i);
      if (koop_money_check(L, idx, &grosze))      /* koop.money: integer grosze */
        return sqlite3_bind_int64(vm, i, (sqlite3_int64)grosze);
      if (!lua_getmetatable(L, idx)) return BIND_BADTYPE;
      isblob = lua_rawequal(L, -1, UP_BLOB);
      lua_pop(L, 1);
      if (isblob) {
        const Blob *b = (const Blob *)lua_touserdata(L, idx);
        return sqlite3_bind_blob64(vm, i, b->len ? b->data : "", b->len, how);
      }
      return BIND_BADTYPE;
    }
    default:
      return BIND_BADTYPE;
  }
}

/* Describe a failed binding of parameter i (value at idx) in e. */
static int bind_failed (sqlite3_stmt *vm, int i, int idx, int rc, BindError *e) {
  const char *name = sqlite3_bind_parameter_name(vm, i);
  e->kind = rc == BIND_BADTYPE ? BE_TYPE : BE_SQLITE;
  e->param = i;
  e->value = idx;
  e->rc = rc;
  snprintf(e->name, sizeof e->name, "%s", name != NULL ? name : "");
  return 0;
}

/* Bind the next positional values to vm's parameters; 0 with e filled on
** failure.  Allocates nothing and runs no Lua code. */
static int bind_positional (lua_State *L, sqlite3_stmt *vm, Args *a,
                            BindError *e) {
  int np = sqlite3_bind_parameter_count(vm), i, rc;
  if (a->next + np > a->n) {
    e->kind = BE_COUNT;
    e->have = a->n;
    e->want = a->next + np;
    e->name[0] = '\0';
    return 0;
  }
  for (i = 1; i <= np; i++) {
    int idx = a->first + a->next + i - 1;
    if ((rc = bind_value(L, vm, i, idx, a->how)) != SQLITE_OK)
      return bind_failed(vm, i, idx, rc, e);
  }
  a->next += np;
  return 1;
}

/* True if every positional value was bound, else e says too many. */
static int bound_all (const Args *a, BindError *e) {
  if (a->named || a->next == a->n) return 1;
  e->kind = BE_COUNT;
  e->have = a->n;
  e->want = a->next;
  e->name[0] = '\0';
  return 0;
}

/* Bind vm's named parameters from the table of values; 0 with e filled
** (the bad value left on top) on failure.  May run __index. */
static int bind_named (lua_State *L, sqlite3_stmt *vm, Args *a, BindError *e) {
  int np = sqlite3_bind_parameter_count(vm), i, rc;
  for (i = 1; i <= np; i++) {
    const char *name = sqlite3_bind_parameter_name(vm, i);
    if (name == NULL || name[0] == '?') {
      bind_failed(vm, i, 0, 0, e);
      e->kind = BE_UNNAMED;
      return 0;
    }
    lua_getfield(L, a->first, name + 1);
    if ((rc = bind_value(L, vm, i, lua_gettop(L), SQLITE_TRANSIENT)) != SQLITE_OK)
      return bind_failed(vm, i, lua_gettop(L), rc, e);
    lua_pop(L, 1);
  }
  return 1;
}

/* Bind every value to st's statement or raise (for statements that are
** held, owned by an iterator, or the user's). */
static void bind_all (lua_State *L, Stmt *st, Args *a) {
  BindError e;
  int ok = a->named ? bind_named(L, st->vm, a, &e)
                    : bind_positional(L, st->vm, a, &e) && bound_all(a, &e);
  if (!ok) raise_bind(L, &e, a);
}

/* The arguments from `first` on, as values to bind for `what`. */
static void args_init (lua_State *L, Args *a, int first, const char *what,
                       sqlite3_destructor_type how) {
  a->what = what;
  a->first = first;
  a->n = lua_gettop(L) - first + 1;
  if (a->n < 0) a->n = 0;
  a->named = a->n == 1 && lua_type(L, first) == LUA_TTABLE;
  a->next = 0;
  a->how = how;
}

/* Push a column value: INTEGER -> integer, REAL -> float, TEXT and BLOB
** -> string, NULL -> nil.  Columns are read through sqlite3_column_value,
** which looks the column up once; the sqlite3_value_* calls on it are
** then plain reads (an unprotected value is fine: connections are
** single-threaded, SQLITE_OPEN_NOMUTEX). */
static void push_value (lua_State *L, sqlite3_value *v) {
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER:
      lua_pushinteger(L, (lua_Integer)sqlite3_value_int64(v));
      break;
    case SQLITE_FLOAT:
      lua_pushnumber(L, (lua_Number)sqlite3_value_double(v));
      break;
    case SQLITE_TEXT: {
      const char *s = (const char *)sqlite3_value_text(v);
      lua_pushlstring(L, s, (size_t)sqlite3_value_bytes(v));
      break;
    }
    case SQLITE_BLOB: {
      const char *s = (const char *)sqlite3_value_blob(v);
      lua_pushlstring(L, s, (size_t)sqlite3_value_bytes(v));
      break;
    }
    default:
      lua_pushnil(L);
  }
}

/* Push column i of the current row. */
static void push_column (lua_State *L, sqlite3_stmt *vm, int i) {
  push_value(L, sqlite3_column_value(vm, i));
}

/* Name of column i ("?" if SQLite is out of memory). */
static const char *column_name (sqlite3_stmt *vm, int i) {
  const char *name = sqlite3_column_name(vm, i);
  return name != NULL ? name : "?";
}

/* Push a name for column i that repeats no other: "name:1", "name:2"...
** as SQLite's CREATE TABLE AS does (t holds the names of 1..i). */
static void push_unique_name (lua_State *L, sqlite3_stmt *vm, int t, int i) {
  int n = sqlite3_column_count(vm), k, j, clash;
  const char *base = column_name(vm, i);
  for (k = 1; ; k++) {
    const char *s = lua_pushfstring(L, "%s:%d", base, k);
    for (clash = 0, j = 0; j < n && !clash; j++)
      clash = strcmp(s, column_name(vm, j)) == 0;
    for (j = 1; j <= i && !clash; j++) {
      lua_rawgeti(L, t, j);
      clash = lua_rawequal(L, -1, -2);
      lua_pop(L, 1);
    }
    if (!clash) return;
    lua_pop(L, 1);
  }
}

/* Push the array of vm's column names, a repeated name made unique. */
static void push_columns (lua_State *L, sqlite3_stmt *vm) {
  int n = sqlite3_column_count(vm), i, j, t;
  lua_createtable(L, n, 0);
  t = lua_gettop(L);
  for (i = 0; i < n; i++) {
    const char *name = column_name(vm, i);
    for (j = 0; j < i && strcmp(name, column_name(vm, j)) != 0; j++) {}
    if (j == i) lua_pushstring(L, name);
    else push_unique_name(L, vm, t, i);
    lua_rawseti(L, t, i + 1);
  }
}

/* Push the current row as a table keyed by the names at stack index
** `names`; NULL columns are absent. */
static void push_row (lua_State *L, sqlite3_stmt *vm, int names) {
  int n = sqlite3_data_count(vm), i;
  lua_createtable(L, 0, n);
  for (i = 0; i < n; i++) {
    sqlite3_value *v = sqlite3_column_value(vm, i);
    if (sqlite3_value_type(v) == SQLITE_NULL) continue;
    lua_rawgeti(L, names, i + 1);
    push_value(L, v);
    lua_rawset(L, -3);
  }
}

/* }================================================================== */


/*
** {==================================================================
** Iterators (db:rows, db:urows, stmt:rows, stmt:urows)
** ===================================================================
*/

/* The iterator ran into the end of its statement (rc DONE) or an error. */
static int cursor_end (lua_State *L, Cursor *cu, int rc) {
  Stmt *st = cu->st;
  Conn *c = st->conn;
  SqlErr e;
  cu->done = 1;
  if (rc == SQLITE_DONE) {
    release(st);
    return 0;
  }
  capture(c, rc, 0, &e);
  lua_getiuservalue(L, lua_upvalueindex(1), 2);    /* the SQL */
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushstring(L, sqlite3_sql(st->vm));
  }
  release(st);
  return raise_sqlerr(L, c, &e, lua_gettop(L), 0);
}

/* The iterator's statement is gone: fine after its end, else an error. */
static int cursor_lost (lua_State *L, Cursor *cu) {
  if (cu->done) return 0;
  return koop_error_raise(L, "misuse", NULL, "%s: the loop's statement was "
                          "closed or reset while the loop ran", cu->what);
}

/* Iterator of db:urows: the row's values (a NULL in the first column
** comes as koop.null, since nil would end the loop). */
static int urows_next (lua_State *L) {
  Cursor *cu = (Cursor *)lua_touserdata(L, lua_upvalueindex(1));
  Stmt *st = cu->st;
  int rc, n, i;
  if (st == NULL) return cursor_lost(L, cu);
  rc = sqlite3_step(st->vm);
  if (rc != SQLITE_ROW) return cursor_end(L, cu, rc);
  n = sqlite3_data_count(st->vm);
  if (n > LUA_MINSTACK) luaL_checkstack(L, n, "too many columns");
  if (n > 0) {
    sqlite3_value *v = sqlite3_column_value(st->vm, 0);
    if (sqlite3_value_type(v) == SQLITE_NULL) lua_pushvalue(L, lua_upvalueindex(2));
    else push_value(L, v);
  }
  for (i = 1; i < n; i++) push_column(L, st->vm, i);
  return n;
}

/* Iterator of db:rows: the row as a table of named fields. */
static int rows_next (lua_State *L) {
  Cursor *cu = (Cursor *)lua_touserdata(L, lua_upvalueindex(1));
  Stmt *st = cu->st;
  int rc;
  if (st == NULL) return cursor_lost(L, cu);
  rc = sqlite3_step(st->vm);
  if (rc != SQLITE_ROW) return cursor_end(L, cu, rc);
  if (lua_isnil(L, lua_upvalueindex(3))) {     /* first row: the names */
    push_columns(L, st->vm);
    lua_replace(L, lua_upvalueindex(3));
  }
  push_row(L, st->vm, lua_upvalueindex(3));
  return 1;
}

/* __close and __gc of a cursor: give its statement back. */
static int cursor_close (lua_State *L) {
  Cursor *cu = (Cursor *)lua_touserdata(L, 1);
  if (cu->st != NULL) release(cu->st);
  return 0;
}

/* Push a cursor that keeps `anchor` (its owner) and `sqlidx` (the SQL,
** or 0) alive; it has no statement yet. */
static Cursor *push_cursor (lua_State *L, int anchor, int sqlidx,
                            const char *what) {
  Cursor *cu = (Cursor *)lua_newuserdatauv(L, sizeof *cu, 2);
  cu->st = NULL;
  cu->done = 0;
  cu->what = what;
  luaL_setmetatable(L, CURSOR_MT);
  lua_pushvalue(L, anchor);
  lua_setiuservalue(L, -2, 1);
  if (sqlidx != 0) {
    lua_pushvalue(L, sqlidx);
    lua_setiuservalue(L, -2, 2);
  }
  return cu;
}

/* With the cursor at cidx owning st: return the 4 values of a generic
** for (iterator, nil, nil, cursor). */
static int push_for (lua_State *L, int cidx, int named) {
  lua_pushvalue(L, cidx);
  lua_pushvalue(L, UP_NULL);
  lua_pushnil(L);
  lua_pushcclosure(L, named ? rows_next : urows_next, 3);
  lua_pushnil(L);
  lua_pushnil(L);
  lua_pushvalue(L, cidx);
  return 4;
}

/* }================================================================== */


/*
** {==================================================================
** The connection's methods
** ===================================================================
*/

/* The userdata that is `self` of a Db or Stmt method, or NULL. */
static void *self (lua_State *L) {
  int same;
  if (!lua_getmetatable(L, 1)) return NULL;
  same = lua_rawequal(L, -1, UP_SELF);
  lua_pop(L, 1);
  return same ? lua_touserdata(L, 1) : NULL;
}

/* The open connection that is `self`, or raise naming `what`. */
static Conn *check_conn (lua_State *L, const char *what) {
  Conn *c = (Conn *)self(L);
  if (c == NULL)
    koop_error_raise(L, "misuse", NULL, "%s: called on %s, not a database "
                     "(write db:method(...), not db.method(...))", what,
                     luaL_typename(L, 1));
  if (c->db == NULL)
    koop_error_raise(L, "misuse", NULL, "%s: the database is closed", what);
  return c;
}

/* The SQL argument at idx. */
static void check_sql (lua_State *L, int idx, const char *what) {
  if (lua_type(L, idx) != LUA_TSTRING)
    koop_error_raise(L, "misuse", NULL, "%s: SQL text expected, got %s", what,
                     luaL_typename(L, idx));
}

/* Run a script of several statements (db:exec), binding positional values
** in order or named values from the table to each. */
static int exec_script (lua_State *L, Conn *c, Args *a, sqlite3_int64 before) {
  size_t len;
  const char *sql = lua_tolstring(L, 2, &len), *pos = sql, *tail;
  sqlite3_stmt *vm;
  BindError be;
  SqlErr e;
  Stmt *st;
  int rc;
  while (pos < sql + len) {
    rc = sqlite3_prepare_v3(c->db, pos, (int)(sql + len - pos), 0, &vm, &tail);
    if (rc != SQLITE_OK) {
      capture(c, rc, 1, &e);
      return raise_sqlerr(L, c, &e, 2, (size_t)(pos - sql));
    }
    if (tail <= pos) tail = sql + len;
    pos = tail;
    if (vm == NULL) continue;              /* a comment or a lone ';' */
    if ((st = stmt_new(c, vm)) == NULL)
      return koop_error_raise(L, "nomem", NULL, "out of memory");
    if (a->named) {
      int guard;
      hold(L, c, 1, st);
      guard = lua_gettop(L);
      bind_all(L, st, a);
      if ((rc = sqlite3_step(st->vm)) == SQLITE_ROW)
        while ((rc = sqlite3_step(st->vm)) == SQLITE_ROW) {}
      if (rc != SQLITE_DONE) {
        capture(c, rc, 0, &e);
        return raise_sqlerr(L, c, &e, 2, 0);
      }
      lua_closeslot(L, guard);
      lua_settop(L, guard - 1);
    }
    else {
      if (!bind_positional(L, st->vm, a, &be)) {
        release(st);
        return raise_bind(L, &be, a);
      }
      while ((rc = sqlite3_step(st->vm)) == SQLITE_ROW) {}
      if (rc != SQLITE_DONE) capture(c, rc, 0, &e);
      release(st);
      if (rc != SQLITE_DONE) return raise_sqlerr(L, c, &e, 2, 0);
    }
  }
  if (!bound_all(a, &be)) return raise_bind(L, &be, a);
  lua_pushinteger(L, (lua_Integer)(sqlite3_total_changes64(c->db) - before));
  return 1;
}

/* db:exec(sql, ...) -> number of rows changed. */
static int db_exec (lua_State *L) {
  Conn *c = check_conn(L, "db:exec");
  sqlite3_int64 before;
  BindError be;
  SqlErr e;
  Stmt *st;
  Args a;
  int rc, count;
  check_sql(L, 2, "db:exec");
  args_init(L, &a, 3, "db:exec", SQLITE_STATIC);
  before = sqlite3_total_changes64(c->db);
  if ((st = acquire(L, c, 1, 2, &count)) == NULL)
    return exec_script(L, c, &a, before);
  if (a.named) {                        /* __index may run: hold st */
    hold(L, c, 1, st);
    bind_all(L, st, &a);
    while ((rc = sqlite3_step(st->vm)) == SQLITE_ROW) {}
    if (rc != SQLITE_DONE) {
      capture(c, rc, 0, &e);
      return raise_sqlerr(L, c, &e, 2, 0);
    }
  }
  else {                                /* the fast path: no Lua runs */
    if (!bind_positional(L, st->vm, &a, &be) || !bound_all(&a, &be)) {
      release(st);
      return raise_bind(L, &be, &a);
    }
    while ((rc = sqlite3_step(st->vm)) == SQLITE_ROW) {}
    if (rc != SQLITE_DONE) capture(c, rc, 0, &e);
    release(st);
    if (rc != SQLITE_DONE) return raise_sqlerr(L, c, &e, 2, 0);
  }
  lua_pushinteger(L, (lua_Integer)(sqlite3_total_changes64(c->db) - before));
  return 1;
}

/* Acquire, hold and bind the one statement of a query method. */
static Stmt *start_query (lua_State *L, Conn *c, const char *what) {
  Stmt *st;
  Args a;
  check_sql(L, 2, what);
  args_init(L, &a, 3, what, SQLITE_STATIC);
  st = acquire_one(L, c, 2, what);
  hold(L, c, 1, st);
  bind_all(L, st, &a);
  return st;
}

/* db:query(sql, ...) -> result set: the rows, with `columns`. */
static int db_query (lua_State *L) {
  Conn *c = check_conn(L, "db:query");
  Stmt *st = start_query(L, c, "db:query");
  int rc = sqlite3_step(st->vm), names, res;
  lua_Integer n = 0;
  SqlErr e;
  push_columns(L, st->vm);
  names = lua_gettop(L);
  lua_createtable(L, 0, 1);
  res = names + 1;
  lua_pushvalue(L, names);
  lua_setfield(L, res, "columns");
  luaL_setmetatable(L, RESULT_MT);
  for (; rc == SQLITE_ROW; rc = sqlite3_step(st->vm)) {
    push_row(L, st->vm, names);
    lua_rawseti(L, res, ++n);
  }
  if (rc != SQLITE_DONE) {
    capture(c, rc, 0, &e);
    return raise_sqlerr(L, c, &e, 2, 0);
  }
  return 1;
}

/* db:first(sql, ...) -> the first row, or nil. */
static int db_first (lua_State *L) {
  Conn *c = check_conn(L, "db:first");
  Stmt *st = start_query(L, c, "db:first");
  int rc = sqlite3_step(st->vm);
  SqlErr e;
  if (rc == SQLITE_ROW) {
    push_columns(L, st->vm);
    push_row(L, st->vm, lua_gettop(L));
    return 1;
  }
  if (rc != SQLITE_DONE) {
    capture(c, rc, 0, &e);
    return raise_sqlerr(L, c, &e, 2, 0);
  }
  lua_pushnil(L);
  return 1;
}

/* db:value(sql, ...) -> the first column of the first row, or nil. */
static int db_value (lua_State *L) {
  Conn *c = check_conn(L, "db:value");
  Stmt *st = start_query(L, c, "db:value");
  int rc = sqlite3_step(st->vm);
  SqlErr e;
  if (rc == SQLITE_ROW && sqlite3_data_count(st->vm) > 0) {
    push_column(L, st->vm, 0);
    return 1;
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    capture(c, rc, 0, &e);
    return raise_sqlerr(L, c, &e, 2, 0);
  }
  lua_pushnil(L);
  return 1;
}

/* db:rows / db:urows: the statement, bound, owned by a cursor. */
static int db_iter (lua_State *L, int named, const char *what) {
  Conn *c = check_conn(L, what);
  Cursor *cu;
  Args a;
  int cidx;
  check_sql(L, 2, what);
  args_init(L, &a, 3, what, SQLITE_TRANSIENT);
  cu = push_cursor(L, 1, 2, what);
  cidx = lua_gettop(L);
  cu->st = acquire_one(L, c, 2, what);
  cu->st->cursor = cu;
  bind_all(L, cu->st, &a);
  return push_for(L, cidx, named);
}

/* db:rows(sql, ...) -> for-loop values giving named rows. */
static int db_rows (lua_State *L) { return db_iter(L, 1, "db:rows"); }
/* db:urows(sql, ...) -> for-loop values giving each row's values. */
static int db_urows (lua_State *L) { return db_iter(L, 0, "db:urows"); }

/* Commit hook of every connection: a transaction ended, db:txid()
** changes.  While db:tx runs (its own COMMIT or ROLLBACK comes after
** txdepth drops), that means its transaction is lost: SQLite rolled it
** back after an error (a full disk, an I/O error) or it was ended by hand. */
static int tx_ended (void *conn) {
  Conn *c = (Conn *)conn;
  c->txid++;
  if (c->txdepth > 0) c->tx_lost = 1;
  return 0;                          /* 0: the commit goes ahead */
}

/* Rollback hook of every connection (any ROLLBACK of a whole
** transaction: by db:tx, by hand, or SQLite's own after an error). */
static void tx_rolled_back (void *conn) { tx_ended(conn); }

/* Run statement `which` of tx_sql; SQLITE_OK or the error, copied into e
** (when e is not NULL). */
static int tx_run (Conn *c, int which, SqlErr *e) {
  sqlite3_stmt *vm = c->tx[which];
  int rc;
  if (vm == NULL) {
    rc = sqlite3_prepare_v3(c->db, tx_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
                            &c->tx[which], NULL);
    if (rc != SQLITE_OK) goto done;
    vm = c->tx[which];
  }
  rc = sqlite3_step(vm);
  if (rc == SQLITE_DONE) rc = SQLITE_OK;
done:
  if (rc != SQLITE_OK && e != NULL) capture(c, rc, 0, e);
  if (vm != NULL) sqlite3_reset(vm);
  return rc;
}

/* Roll back this level of db:tx: ROLLBACK, or ROLLBACK TO and RELEASE of
** its savepoint (which db:txid() counts as the end of a transaction). */
static int tx_rollback (Conn *c, int outer) {
  int rc;
  if (outer) return tx_run(c, TX_ROLLBACK, NULL);
  if ((rc = tx_run(c, TX_ROLLBACK_TO, NULL)) != SQLITE_OK) return rc;
  c->txid++;
  return tx_run(c, TX_RELEASE, NULL);
}

/* Undo this level of db:tx after an error; nothing if SQLite already
** rolled the whole transaction back (it does after some errors, e.g. an
** interrupted write).  A pending interrupt would stop the rollback while
** other statements run: then stop them and try again. */
static void tx_undo (Conn *c, int outer) {
  if (sqlite3_get_autocommit(c->db)) return;
  if (tx_rollback(c, outer) == SQLITE_INTERRUPT) {
    stop_running(c);
    if (!sqlite3_get_autocommit(c->db)) tx_rollback(c, outer);
  }
}

/* True if c's file was deleted, moved or replaced since it was opened.
** In WAL mode SQLite goes on writing then, to the WAL of a file that is
** gone: the change would be lost.  And it does not checkpoint such a
** file on close, so a new file under the same name would inherit the WAL
** and have the old file's pages replayed into it: conn_close empties the
** WAL first.  Two stat calls. */
static int file_moved (Conn *c) {
  int moved = 0;
  return sqlite3_file_control(c->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved)
         == SQLITE_OK && moved;
}

/* The end of db:tx, also its continuation after a yield: commit (or
** release the savepoint) and return fn's results, or undo and raise fn's
** error again, the same value. */
static int tx_end (lua_State *L, int status, lua_KContext outer) {
  Conn *c = (Conn *)lua_touserdata(L, 1);
  int which = outer ? TX_COMMIT : TX_RELEASE;
  SqlErr e;
  if (c->txdepth > 0 && --c->txdepth == 0) c->tx_lost = 0;
  if (status != LUA_OK && status != LUA_YIELD) {
    if (c->db != NULL) tx_undo(c, (int)outer);
    return lua_error(L);
  }
  if (c->db == NULL)
    return koop_error_raise(L, "misuse", NULL, "db:tx: the database was "
                            "closed inside the transaction");
  if (sqlite3_get_autocommit(c->db))
    return koop_error_raise(L, "abort", NULL, "db:tx: the transaction ended "
                            "inside the function (an error rolled it back, or "
                            "COMMIT/ROLLBACK ran there)");
  if (outer && file_moved(c)) {
    tx_undo(c, 1);
    return koop_error_raise(L, "readonly", NULL, MOVED_FMT, c->path);
  }
  if (tx_run(c, which, &e) != SQLITE_OK) {
    tx_undo(c, (int)outer);
    lua_pushstring(L, tx_sql[which]);
    return raise_sqlerr(L, c, &e, lua_gettop(L), 0);
  }
  return lua_gettop(L) - 1;
}

/* db:tx(fn, ...) -> fn(...)'s results, in a transaction: BEGIN IMMEDIATE
** ... COMMIT, or SAVEPOINT ... RELEASE when one is open already. */
static int db_tx (lua_State *L) {
  Conn *c = check_conn(L, "db:tx");
  int outer, which;
  SqlErr e;
  if (lua_type(L, 2) != LUA_TFUNCTION) {
    if (luaL_getmetafield(L, 2, "__call") == LUA_TNIL)
      return koop_error_raise(L, "misuse", NULL, "db:tx: a function expected, "
                              "got %s", luaL_typename(L, 2));
    lua_pop(L, 1);
  }
  check_tx_alive(L, c, "db:tx");
  outer = sqlite3_get_autocommit(c->db);
  which = !outer ? TX_SAVEPOINT : c->readonly ? TX_BEGIN : TX_BEGIN_IMMEDIATE;
  if (tx_run(c, which, &e) != SQLITE_OK) {
    lua_pushstring(L, tx_sql[which]);
    return raise_sqlerr(L, c, &e, lua_gettop(L), 0);
  }
  if (outer && !c->readonly && file_moved(c)) {
    tx_run(c, TX_ROLLBACK, NULL);
    return koop_error_raise(L, "readonly", NULL, MOVED_FMT, c->path);
  }
  if (outer) {          /* levels left by a coroutine that never resumed */
    c->txdepth = 0;
    c->tx_lost = 0;
    c->tx_thread = L;
  }
  c->txdepth++;
  return tx_end(L, lua_pcallk(L, lua_gettop(L) - 2, LUA_MULTRET, 0, outer,
                              tx_end), outer);
}

/* db:txid() -> a number that stays the same while one transaction runs
** and changes whenever one ends (COMMIT, ROLLBACK, also by hand or by an
** error, and each write in autocommit mode) or db:tx rolls back its
** savepoint.  What a connection learnt in a transaction (e.g. the audit
** log's last row) holds while its number is unchanged, except after a
** ROLLBACK TO run by hand. */
static int db_txid (lua_State *L) {
  lua_pushinteger(L, check_conn(L, "db:txid")->txid);
  return 1;
}

/* db:prepare(sql) -> a statement of the user's own. */
static int db_prepare (lua_State *L) {
  Conn *c = check_conn(L, "db:prepare");
  const char *sql, *tail;
  sqlite3_stmt *vm;
  size_t len;
  Stmt *st;
  SqlErr e;
  int rc;
  check_sql(L, 2, "db:prepare");
  sql = lua_tolstring(L, 2, &len);
  st = (Stmt *)lua_newuserdatauv(L, sizeof *st, 2);
  memset(st, 0, sizeof *st);
  st->kind = ST_USER;
  st->stale_names = 1;
  luaL_setmetatable(L, STMT_MT);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  rc = sqlite3_prepare_v3(c->db, sql, (int)len + 1, SQLITE_PREPARE_PERSISTENT,
                          &vm, &tail);
  if (rc != SQLITE_OK) {
    capture(c, rc, 1, &e);
    return raise_sqlerr(L, c, &e, 2, 0);
  }
  if (vm == NULL || !blank(tail)) {
    sqlite3_finalize(vm);
    return koop_error_raise(L, "misuse", NULL, vm == NULL
                            ? "db:prepare: no SQL statement in the text"
                            : "db:prepare: one SQL statement expected, got "
                              "several");
  }
  st->vm = vm;
  live_link(c, st);
  return 1;
}

/* Close c: finalise every statement (iterators lose theirs), stop
** watching for Ctrl-C, close the handle. */
static void conn_close (Conn *c) {
  Stmt *st, *next;
  int i;
  for (st = c->live; st != NULL; st = next) {
    next = st->next;
    finalize(st);
    if (st->kind != ST_USER) free(st);
  }
  c->newest = c->oldest = NULL;
  c->ncached = 0;
  for (i = 0; i < TX_COUNT; i++) {
    sqlite3_finalize(c->tx[i]);
    c->tx[i] = NULL;
  }
  koop_interrupt_unwatch(c->db);
  if (!c->readonly && file_moved(c))   /* empty the WAL left at the name */
    sqlite3_wal_checkpoint_v2(c->db, "main", SQLITE_CHECKPOINT_TRUNCATE,
                              NULL, NULL);
  sqlite3_close_v2(c->db);
  c->db = NULL;
}

/* db:close(): idempotent. */
static int db_close (lua_State *L) {
  Conn *c = (Conn *)luaL_checkudata(L, 1, DB_MT);
  if (c->db == NULL) return 0;
  if (c->held != NULL)
    return koop_error_raise(L, "misuse", NULL, "db:close: a statement of this "
                            "database is still running");
  conn_close(c);
  lua_pushnil(L);
  lua_setiuservalue(L, 1, UV_CACHE);
  return 0;
}

/* __gc: close quietly. */
static int db_gc (lua_State *L) {
  Conn *c = (Conn *)lua_touserdata(L, 1);
  if (c->db != NULL) conn_close(c);
  return 0;
}

/* __tostring: Db("koop.db"). */
static int db_tostring (lua_State *L) {
  Conn *c = (Conn *)luaL_checkudata(L, 1, DB_MT);
  lua_pushfstring(L, c->db != NULL ? "Db(\"%s\")" : "Db(\"%s\", closed)", c->path);
  return 1;
}

/* db:changes() -> rows changed by the last INSERT, UPDATE or DELETE. */
static int db_changes (lua_State *L) {
  lua_pushinteger(L, (lua_Integer)sqlite3_changes64(check_conn(L, "db:changes")->db));
  return 1;
}

/* db:last_insert_id() -> the rowid of the last row inserted. */
static int db_last_insert_id (lua_State *L) {
  Conn *c = check_conn(L, "db:last_insert_id");
  lua_pushinteger(L, (lua_Integer)sqlite3_last_insert_rowid(c->db));
  return 1;
}

/* db:in_transaction() -> true unless in autocommit mode. */
static int db_in_transaction (lua_State *L) {
  lua_pushboolean(L, !sqlite3_get_autocommit(check_conn(L, "db:in_transaction")->db));
  return 1;
}

/* db:path() -> the path as given to open (also when closed). */
static int db_path (lua_State *L) {
  luaL_checkudata(L, 1, DB_MT);
  lua_getiuservalue(L, 1, UV_PATH);
  return 1;
}

/* db:readonly() -> true if the connection cannot write. */
static int db_readonly (lua_State *L) {
  Conn *c = check_conn(L, "db:readonly");
  lua_pushboolean(L, sqlite3_db_readonly(c->db, "main") == 1);
  return 1;
}

/* }================================================================== */


/*
** {==================================================================
** Prepared statements (db:prepare)
** ===================================================================
*/

/* The open statement that is `self`, or raise naming `what`. */
static Stmt *check_stmt (lua_State *L, const char *what) {
  Stmt *st = (Stmt *)self(L);
  if (st == NULL)
    koop_error_raise(L, "misuse", NULL, "%s: called on %s, not a statement "
                     "(write stmt:method(...))", what, luaL_typename(L, 1));
  if (st->vm == NULL)
    koop_error_raise(L, "misuse", NULL, "%s: the statement is closed", what);
  return st;
}

/* Start st again from the beginning; its iterator, if any, loses it. */
static void stmt_restart (Stmt *st) {
  detach(st);
  sqlite3_reset(st->vm);
  st->stale_names = 1;
}

/* Bind the arguments from index 2 (all of them: positional values or one
** table of named ones), after clearing the old bindings. */
static void stmt_bind_args (lua_State *L, Stmt *st, const char *what) {
  Args a;
  args_init(L, &a, 2, what, SQLITE_TRANSIENT);
  sqlite3_clear_bindings(st->vm);
  bind_all(L, st, &a);
}

/* stmt:bind(...) -> stmt. */
static int stmt_bind (lua_State *L) {
  Stmt *st = check_stmt(L, "stmt:bind");
  stmt_restart(st);
  stmt_bind_args(L, st, "stmt:bind");
  lua_settop(L, 1);
  return 1;
}

/* Push st's column names, kept in its uservalue until it runs again. */
static void stmt_push_names (lua_State *L, Stmt *st) {
  if (!st->stale_names && lua_getiuservalue(L, 1, 2) == LUA_TTABLE) return;
  if (!st->stale_names) lua_pop(L, 1);
  push_columns(L, st->vm);
  lua_pushvalue(L, -1);
  lua_setiuservalue(L, 1, 2);
  st->stale_names = 0;
}

/* stmt:step() -> the next row (named fields), or nil at the end (the
** statement is then reset, ready to run again). */
static int stmt_step (lua_State *L) {
  Stmt *st = check_stmt(L, "stmt:step");
  int rc;
  SqlErr e;
  check_tx_alive(L, st->conn, "stmt:step");
  rc = sqlite3_step(st->vm);
  if (rc == SQLITE_ROW) {
    stmt_push_names(L, st);
    push_row(L, st->vm, lua_gettop(L));
    return 1;
  }
  if (rc != SQLITE_DONE) capture(st->conn, rc, 0, &e);
  stmt_restart(st);
  if (rc != SQLITE_DONE) {
    lua_pushstring(L, sqlite3_sql(st->vm));
    return raise_sqlerr(L, st->conn, &e, lua_gettop(L), 0);
  }
  lua_pushnil(L);
  return 1;
}

/* stmt:exec(...) -> rows changed: bind (if values are given), run to the
** end, reset. */
static int stmt_exec (lua_State *L) {
  Stmt *st = check_stmt(L, "stmt:exec");
  sqlite3_int64 before = sqlite3_total_changes64(st->conn->db);
  SqlErr e;
  int rc;
  check_tx_alive(L, st->conn, "stmt:exec");
  stmt_restart(st);
  if (lua_gettop(L) > 1) stmt_bind_args(L, st, "stmt:exec");
  while ((rc = sqlite3_step(st->vm)) == SQLITE_ROW) {}
  if (rc != SQLITE_DONE) capture(st->conn, rc, 0, &e);
  sqlite3_reset(st->vm);
  if (rc != SQLITE_DONE) {
    lua_pushstring(L, sqlite3_sql(st->vm));
    return raise_sqlerr(L, st->conn, &e, lua_gettop(L), 0);
  }
  lua_pushinteger(L, (lua_Integer)(sqlite3_total_changes64(st->conn->db) - before));
  return 1;
}

/* stmt:rows(...) / stmt:urows(...): from the beginning, bound to the
** values if any are given. */
static int stmt_iter (lua_State *L, int named, const char *what) {
  Stmt *st = check_stmt(L, what);
  Cursor *cu;
  int cidx, nargs = lua_gettop(L) - 1;
  check_tx_alive(L, st->conn, what);
  stmt_restart(st);
  if (nargs > 0) stmt_bind_args(L, st, what);
  cu = push_cursor(L, 1, 0, what);
  cidx = lua_gettop(L);
  cu->st = st;
  st->cursor = cu;
  return push_for(L, cidx, named);
}

/* stmt:rows(...) -> for-loop values giving named rows. */
static int stmt_rows (lua_State *L) { return stmt_iter(L, 1, "stmt:rows"); }
/* stmt:urows(...) -> for-loop values giving each row's values. */
static int stmt_urows (lua_State *L) { return stmt_iter(L, 0, "stmt:urows"); }

/* stmt:reset() -> stmt: run again from the beginning (bindings stay). */
static int stmt_reset (lua_State *L) {
  stmt_restart(check_stmt(L, "stmt:reset"));
  lua_settop(L, 1);
  return 1;
}

/* stmt:columns() -> the array of column names. */
static int stmt_columns (lua_State *L) {
  push_columns(L, check_stmt(L, "stmt:columns")->vm);
  return 1;
}

/* stmt:close(), __close, __gc: finalise; idempotent. */
static int stmt_close (lua_State *L) {
  finalize((Stmt *)luaL_checkudata(L, 1, STMT_MT));
  return 0;
}

/* __tostring: Stmt("its SQL"). */
static int stmt_tostring (lua_State *L) {
  Stmt *st = (Stmt *)luaL_checkudata(L, 1, STMT_MT);
  if (st->vm == NULL) lua_pushliteral(L, "Stmt(closed)");
  else lua_pushfstring(L, "Stmt(\"%s\")", sqlite3_sql(st->vm));
  return 1;
}

/* }================================================================== */


/*
** {==================================================================
** Opening, koop.null, koop.blob, installation
** ===================================================================
*/

/* Close the half-open handle and raise `code` with a message that ends
** with SQLite's (when there is one). */
static void open_fail (lua_State *L, Conn *c, const char *code, const char *what) {
  char msg[256] = "";
  if (c->db != NULL) {
    snprintf(msg, sizeof msg, "%s", sqlite3_errmsg(c->db));
    sqlite3_close_v2(c->db);
    c->db = NULL;
  }
  koop_error_raise(L, code, NULL, msg[0] ? "%s (%s)" : "%s", what, msg);
}

/* Open c on path: the checks, pragmas, collation and Ctrl-C watch. */
static void conn_open (lua_State *L, Conn *c, const char *path, int flags) {
  int oflags = SQLITE_OPEN_NOMUTEX
    | (c->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  const char *name = path;
  struct stat sb;
  int rc;
  if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
    koop_error_raise(L, "cantopen", NULL, "%s is a directory, not a database "
                     "file", path);
  if (strncmp(path, "file:", 5) == 0)   /* a file name, never a URI */
    name = lua_pushfstring(L, "./%s", path);
  rc = sqlite3_open_v2(name, &c->db, oflags, NULL);
  if (rc != SQLITE_OK)
    open_fail(L, c, code_name(rc),
              lua_pushfstring(L, "cannot open database %s", path));
  sqlite3_busy_timeout(c->db, BUSY_MS);
  rc = sqlite3_exec(c->db, "PRAGMA user_version", NULL, NULL, NULL);
  if (rc == SQLITE_NOTADB)
    open_fail(L, c, "notadb", lua_pushfstring(L, "%s is not an SQLite "
                                              "database", path));
  if (rc == SQLITE_BUSY) {
    push_busy(L, c->db, path);
    open_fail(L, c, "busy", lua_tostring(L, -1));
  }
  if (rc == SQLITE_CANTOPEN && on_readonly_fs(path))
    open_fail(L, c, "cantopen", lua_pushfstring(L, "cannot open database %s: "
              "it is on a read-only file system, without the %s-shm file that "
              "a WAL-mode database needs there; copy it to a writable place",
              path, path));
  if (rc == SQLITE_OK)
    rc = sqlite3_exec(c->db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
  if (rc == SQLITE_OK && !c->readonly && !(flags & KOOP_DB_NOSCHEMA)
      && sqlite3_db_filename(c->db, "main")[0] != '\0'
      && sqlite3_db_readonly(c->db, "main") == 0)
    rc = sqlite3_exec(c->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
                      NULL, NULL, NULL);
  if (rc == SQLITE_OK) rc = koop_collate_register(c->db);
  if (rc == SQLITE_OK) rc = koop_seal_register(c->db);   /* audit.lua's seals */
  if (rc != SQLITE_OK)
    open_fail(L, c, code_name(rc),
              lua_pushfstring(L, "cannot open database %s", path));
  sqlite3_commit_hook(c->db, tx_ended, c);
  sqlite3_rollback_hook(c->db, tx_rolled_back, c);
  koop_watch_progress(c->db);
  koop_sandbox_db(L, c->db);
  koop_interrupt_watch(c->db);
}


/* Without memory statistics sqlite3_malloc takes no mutex, but SQLite
** enforces a heap limit only with them.  Statement and savepoint journals
** are kept in memory (as temp_store=MEMORY would, leaving temp tables on
** disk): every write through the domain API is a savepoint, and once one
** journal of a transaction passed SQLite's 64 KiB threshold, every later
** one went to a temp file at a write() per page, a third of the API's
** time.  Not a larger threshold: SQLite 3.40 then fails the spill with
** SQLITE_FULL (tests/lua/db_test.lua has the case). */
void koop_db_setup (int heap_limited) {
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, heap_limited != 0);
  sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, -1);
}

/* Push a connection: a userdata with its statement cache, path and guard
** as uservalues; then open it (raising on failure). */
void koop_db_push_open (lua_State *L, const char *path, int flags) {
  Conn *c, **guard;
  int top;
  luaL_getmetatable(L, DB_MT);
  if (lua_isnil(L, -1)) luaL_error(L, "koop_open_db was not called");
  lua_pop(L, 1);
  c = (Conn *)lua_newuserdatauv(L, sizeof *c, UV_COUNT);
  memset(c, 0, sizeof *c);
  c->readonly = (flags & KOOP_DB_READONLY) != 0;
  luaL_setmetatable(L, DB_MT);
  top = lua_gettop(L);
  lua_newtable(L);
  lua_setiuservalue(L, top, UV_CACHE);
  c->path = lua_pushstring(L, path);
  lua_setiuservalue(L, top, UV_PATH);
  guard = (Conn **)lua_newuserdatauv(L, sizeof *guard, 0);
  *guard = c;
  luaL_setmetatable(L, GUARD_MT);
  lua_setiuservalue(L, top, UV_GUARD);
  conn_open(L, c, path, flags);
  lua_settop(L, top);
}

/* The handle of the connection at idx: NULL for anything else or closed. */
sqlite3 *koop_db_handle (lua_State *L, int idx) {
  Conn *c = (Conn *)luaL_testudata(L, idx, DB_MT);
  return c != NULL ? c->db : NULL;
}

/* koop.open(path [, {readonly=, schema=}]) -> a connection. */
static int l_open (lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  int flags = 0;
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, 2)) {
      const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
      if (strcmp(key, "readonly") == 0) {
        if (lua_toboolean(L, -1)) flags |= KOOP_DB_READONLY;
      }
      else if (strcmp(key, "schema") == 0) {
        if (!lua_toboolean(L, -1)) flags |= KOOP_DB_NOSCHEMA;
      }
      else {
        lua_pushvalue(L, -2);
        return koop_error_raise(L, "invalid", "opts", "koop.open: unknown "
                                "option %s (known: readonly, schema)",
                                luaL_tolstring(L, -1, NULL));
      }
      lua_pop(L, 1);
    }
  }
  koop_db_push_open(L, path, flags);
  return 1;
}

/* koop.blob(s) -> s marked to be bound as a BLOB. */
static int l_blob (lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  Blob *b = (Blob *)lua_newuserdatauv(L, sizeof *b, 1);
  b->data = s;
  b->len = len;
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  luaL_setmetatable(L, BLOB_MT);
  return 1;
}

/* __tostring of a blob: koop.blob(N bytes). */
static int blob_tostring (lua_State *L) {
  const Blob *b = (const Blob *)luaL_checkudata(L, 1, BLOB_MT);
  lua_pushfstring(L, "koop.blob(%I bytes)", (lua_Integer)b->len);
  return 1;
}

/* #blob: its size in bytes. */
static int blob_len (lua_State *L) {
  lua_pushinteger(L, (lua_Integer)((const Blob *)luaL_checkudata(L, 1, BLOB_MT))->len);
  return 1;
}

/* __tostring of koop.null. */
static int null_tostring (lua_State *L) {
  lua_pushliteral(L, "koop.null");
  return 1;
}

/* Create metatable tname with __name and the metamethods `meta`; with
** `methods`, also __index = methods, and both get as upvalues koop.null
** and the Blob metatable (the 2 values on top) and the new metatable. */
static void new_type (lua_State *L, const char *tname, const char *name,
                      const luaL_Reg *meta, const luaL_Reg *methods) {
  luaL_newmetatable(L, tname);
  if (methods != NULL) {
    lua_pushvalue(L, -3);
    lua_pushvalue(L, -3);
    lua_pushvalue(L, -3);
    luaL_setfuncs(L, meta, 3);
    lua_createtable(L, 0, 16);
    lua_pushvalue(L, -4);
    lua_pushvalue(L, -4);
    lua_pushvalue(L, -4);
    luaL_setfuncs(L, methods, 3);
    lua_setfield(L, -2, "__index");
  }
  else luaL_setfuncs(L, meta, 0);
  lua_pushstring(L, name);
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);
}

/* Create the binding's metatables (once) and install koop.open,
** koop.null and koop.blob into the koop table on top. */
void koop_open_db (lua_State *L) {
  static const luaL_Reg db_meta[] = {
    {"__gc", db_gc}, {"__close", db_gc}, {"__tostring", db_tostring},
    {NULL, NULL}
  };
  static const luaL_Reg db_methods[] = {
    {"exec", db_exec}, {"query", db_query}, {"rows", db_rows},
    {"urows", db_urows}, {"first", db_first}, {"value", db_value},
    {"tx", db_tx}, {"prepare", db_prepare}, {"close", db_close},
    {"changes", db_changes}, {"last_insert_id", db_last_insert_id},
    {"in_transaction", db_in_transaction}, {"path", db_path},
    {"readonly", db_readonly}, {"txid", db_txid}, {NULL, NULL}
  };
  static const luaL_Reg stmt_meta[] = {
    {"__gc", stmt_close}, {"__close", stmt_close}, {"__tostring", stmt_tostring},
    {NULL, NULL}
  };
  static const luaL_Reg stmt_methods[] = {
    {"bind", stmt_bind}, {"step", stmt_step}, {"exec", stmt_exec},
    {"rows", stmt_rows}, {"urows", stmt_urows}, {"reset", stmt_reset},
    {"columns", stmt_columns}, {"close", stmt_close}, {NULL, NULL}
  };
  static const luaL_Reg cursor_meta[] = {
    {"__gc", cursor_close}, {"__close", cursor_close}, {NULL, NULL}
  };
  static const luaL_Reg guard_meta[] = {{"__close", guard_close}, {NULL, NULL}};
  static const luaL_Reg blob_meta[] = {
    {"__tostring", blob_tostring}, {"__len", blob_len}, {NULL, NULL}
  };
  static const luaL_Reg null_meta[] = {{"__tostring", null_tostring}, {NULL, NULL}};
  int koop = lua_gettop(L);
  new_type(L, NULL_MT, "koop.null", null_meta, NULL);
  new_type(L, BLOB_MT, "koop.blob", blob_meta, NULL);
  new_type(L, CURSOR_MT, "Cursor", cursor_meta, NULL);
  new_type(L, GUARD_MT, "DbGuard", guard_meta, NULL);
  if (luaL_newmetatable(L, RESULT_MT)) {   /* print.c adds its rendering */
    lua_pushliteral(L, "ResultSet");
    lua_setfield(L, -2, "__name");
  }
  lua_pop(L, 1);
  if (lua_getfield(L, LUA_REGISTRYINDEX, NULL_KEY) == LUA_TNIL) {
    lua_pop(L, 1);
    lua_newuserdatauv(L, 0, 0);
    luaL_setmetatable(L, NULL_MT);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, NULL_KEY);
  }
  luaL_getmetatable(L, BLOB_MT);           /* the methods' upvalues */
  new_type(L, DB_MT, "Db", db_meta, db_methods);
  new_type(L, STMT_MT, "Stmt", stmt_meta, stmt_methods);
  lua_pop(L, 1);                           /* the blob metatable */
  lua_setfield(L, koop, "null");
  lua_pushcfunction(L, l_open);
  lua_setfield(L, koop, "open");
  lua_pushcfunction(L, l_blob);
  lua_setfield(L, koop, "blob");
}

/* }================================================================== */
