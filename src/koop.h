/*
** koop.h — declarations shared by the koop host's C files.
** Each C file under src/ owns one concern; this header is the only place where
** they meet.  Lua-facing functions follow lua.c's naming: koop_open_X(L)
** installs concern X into the `koop` table that is on top of the stack.
*/
#ifndef KOOP_H
#define KOOP_H

#include <stddef.h>
#include <stdint.h>
#include <lua.h>
#include <lauxlib.h>
#include <sqlite3.h>

#define KOOP_VERSION "0.1.0"
#define KOOP_SCHEMA_VERSION_MAX 1000000  /* sanity bound for user_version */

/* ---- run.c: running chunks, error objects, interrupts ---------------- */

/* Metatable name of error objects {code=, message=, field=, sql=, ...}. */
#define KOOP_ERROR_MT "koop.Error"

/* Push a new error object with `code` and a formatted message. */
void koop_error_push(lua_State *L, const char *code, const char *field,
                     const char *fmt, ...);
/* Push an error object and raise it; never returns. */
int koop_error_raise(lua_State *L, const char *code, const char *field,
                     const char *fmt, ...);
/* True if the value at idx is a koop error object. */
int koop_error_is(lua_State *L, int idx);
/* Call the function below `narg` arguments in protected mode with the
** message handler and Ctrl-C handling; returns a lua_pcall status. */
int koop_docall(lua_State *L, int narg, int nres);
/* Print the error on top of the stack (if status != LUA_OK) to stderr,
** prefixed with `progname: ` when progname is not NULL; pops it. */
int koop_report(lua_State *L, int status, const char *progname);
/* Install koop.error / koop.raise / koop.is_error and the error metatable. */
void koop_open_errors(lua_State *L);
/* Connections that a Ctrl-C must interrupt while SQL runs. */
void koop_interrupt_watch(sqlite3 *db);
void koop_interrupt_unwatch(sqlite3 *db);
/* Non-zero after Ctrl-C until koop_interrupt_clear(); for C loops that
** run long without executing Lua (e.g. rendering a result set). */
int koop_interrupted(void);
void koop_interrupt_clear(void);
/* --timeout: a deadline for every chunk (0 = none), checked by a count
** hook in Lua and, through koop_watch_progress, inside SQL. */
void koop_set_timeout(double seconds);
/* Called by db.c for each new connection so that --timeout covers SQL. */
void koop_watch_progress(sqlite3 *db);

/* ---- lib.c: embedded Lua modules and the module search path ---------- */

struct koop_module { const char *name; const char *source; size_t len; };
extern const struct koop_module koop_embedded[];  /* generated at build */
/* Add the embedded-module searcher and KOOP_PATH / ./lib to package. */
void koop_open_modules(lua_State *L);
/* Install koop.listdir into the koop table on top. */
void koop_open_files(lua_State *L);
/* Install every C concern into a new global table `koop` (also
** package.loaded.koop): what main.c and the fuzz targets start from. */
void koop_open_all(lua_State *L);

/* ---- db.c: the SQLite binding ---------------------------------------- */

/* Install koop.open, koop.null, koop.blob into the koop table on top. */
void koop_open_db(lua_State *L);
/* Open `path` and push a connection object, or raise an error object.
** flags: KOOP_DB_READONLY, KOOP_DB_NOSCHEMA. */
#define KOOP_DB_READONLY 1
#define KOOP_DB_NOSCHEMA 2
void koop_db_push_open(lua_State *L, const char *path, int flags);
/* Process-wide SQLite settings, called once before SQLite starts (later
** calls change nothing); heap_limited: a heap limit will be set. */
void koop_db_setup(int heap_limited);
/* The sqlite3 handle of the connection object at idx, or NULL. */
sqlite3 *koop_db_handle(lua_State *L, int idx);

/* ---- collate.c: Polish collation and case folding -------------------- */

/* Compare two UTF-8 strings in Polish alphabetical order (case and
** diacritics as the domain's example list requires); <0, 0, >0. */
int koop_pl_compare(const char *a, size_t alen, const char *b, size_t blen);
/* Register collation PL and functions pl_lower/pl_upper on db. */
int koop_collate_register(sqlite3 *db);
/* Install koop.text (lower, upper, compare, sort, width). */
void koop_open_text(lua_State *L);

/* ---- seal.c: digests of protected tables (tamper evidence) ----------- */

/* Register seal_add(digest, sign, v1, ...) and the aggregate
** seal_sum(v1, ...) on db: the row digests that lib/koop/audit.lua's
** triggers keep and audit.verify() recomputes. */
int koop_seal_register(sqlite3 *db);

/* ---- print.c: pretty-printing values and result sets ----------------- */

/* Display width (terminal columns) of a UTF-8 string. */
size_t koop_utf8_width(const char *s, size_t len);
/* Install koop.pretty, koop.format and the output mode setting. */
void koop_open_print(lua_State *L);

/* ---- csv.c: CSV reader ----------------------------------------------- */

/* Install koop.csv (rows, open, detect_encoding). */
void koop_open_csv(lua_State *L);

/* A streaming reader of RFC 4180 CSV: quoted fields with "" escapes,
** separators and newlines inside quotes, CRLF/LF/CR line ends, a UTF-8
** BOM, blank lines skipped.  Input must be UTF-8 (or CP1250, converted). */
struct koop_csv;
struct koop_csv_options {   /* all zero: the defaults */
  char sep;                 /* separator; 0 = most frequent of ; , TAB in row 1 */
  int cp1250;               /* input is Windows-1250: convert it to UTF-8 */
  int skip;                 /* lines to ignore before the first row */
  int ragged;               /* allow rows whose field count varies */
  size_t fields;            /* fields every row must have; 0 = as row 1 */
};
/* Open a file ("-" = standard input); NULL with errno set on failure. */
struct koop_csv *koop_csv_open(const char *path, const struct koop_csv_options *opt);
/* Read from a copy of len bytes of data, called `name` in messages. */
struct koop_csv *koop_csv_open_mem(const char *data, size_t len, const char *name,
                                   const struct koop_csv_options *opt);
/* Read the next row: 1 a row, 0 end of input, -1 error (sticky). */
int koop_csv_next(struct koop_csv *c);
/* Fields of the current row: NUL-terminated, valid until the next call. */
size_t koop_csv_count(const struct koop_csv *c);
const char *koop_csv_field(const struct koop_csv *c, size_t i, size_t *len);
/* Line on which the current row (or the error) starts; 1-based. */
long koop_csv_line(const struct koop_csv *c);
/* The separator in use (detected on first use); 0 after an error. */
char koop_csv_sep(struct koop_csv *c);
/* The name used in messages (the path, "stdin", or the given name). */
const char *koop_csv_name(const struct koop_csv *c);
/* After -1: the error code ("csv", "io" or "encoding"); *message names
** the file and the line, e.g. "a.csv: line 7: expected 5 fields, found 4". */
const char *koop_csv_error(const struct koop_csv *c, const char **message);
void koop_csv_close(struct koop_csv *c);
/* The encoding of a file by its bytes: "utf-8" (also plain ASCII),
** "cp1250", "utf-16le" or "utf-16be" (by BOM); NULL with errno on failure. */
const char *koop_csv_detect_encoding(const char *path);

/* ---- ids.c: identifier checks ---------------------------------------- */

/* Each returns NULL when s is valid, else a static message naming why
** (messages that quote digits are kept per thread until the next check).
** Surrounding blanks are ignored; NIP and REGON may be grouped with spaces
** or '-', and NIP may carry the prefix PL. */
const char *koop_check_nip(const char *s, size_t len);
const char *koop_check_regon(const char *s, size_t len);
const char *koop_check_terc(const char *s, size_t len);
struct koop_pesel { int year, month, day; char sex; };  /* 'K' or 'M' */
const char *koop_check_pesel(const char *s, size_t len, struct koop_pesel *out);
/* Install koop.ids (pesel, nip, regon, terc). */
void koop_open_ids(lua_State *L);

/* ---- money.c: exact amounts in grosze -------------------------------- */

/* A buffer this size always holds a formatted amount and its NUL. */
#define KOOP_MONEY_BUFSIZE 48
/* Parse an amount ("56 340,00 zł", "56340.00", "1.234,56", "-12,5 PLN";
** grouping by space, U+00A0, U+202F or dots; see money.c) into grosze.
** Returns 1, or 0 with *why (if why is not NULL) set to a static phrase
** that follows the quoted input, e.g. "has more than two decimal places".
** Any bytes are safe; the result is within ±(2^63-1) grosze. */
int koop_money_parse(const char *s, size_t len, int64_t *grosze, const char **why);
/* Write grosze as "56 340,00 zł" (U+00A0 between groups from 1 000 on and
** before "zł") into buf, like snprintf: at most size bytes with the NUL;
** returns the full length. */
size_t koop_money_format(int64_t grosze, char *buf, size_t size);
/* True (and *grosze set) if the value at idx is a koop.money amount; runs
** no Lua code and allocates nothing (db.c binds amounts as integers). */
int koop_money_check(lua_State *L, int idx, int64_t *grosze);
/* Install koop.money into the koop table on top of the stack. */
void koop_open_money(lua_State *L);

/* ---- hash.c: SHA-256 for the audit log's hash chain ------------------ */

/* The SHA-256 digest of len bytes at data (FIPS 180-4). */
void koop_sha256(const void *data, size_t len, unsigned char out[32]);
/* The same as 64 lowercase hex digits and a NUL. */
void koop_sha256_hex(const void *data, size_t len, char out[65]);
/* Install koop.sha256(s) -> hex digest into the koop table on top. */
void koop_open_hash(lua_State *L);

/* ---- json.c: canonical JSON text ---------------------------------------- */

/* Install koop.json_encode(v) (canonical JSON: sorted keys, exact numbers)
** into the koop table on top; lib/koop/json.lua is the Lua face of it. */
void koop_open_json(lua_State *L);

/* ---- edit.c: line editing (libedit) ---------------------------------- */

/* Start line editing; history from `history_path` (may be NULL). */
void koop_edit_init(lua_State *L, const char *history_path);
/* Read a line; NULL on EOF.  *interrupted is set when Ctrl-C ended it. */
char *koop_edit_readline(const char *prompt, int *interrupted);
/* Add a complete chunk to the history and save the history file. */
void koop_edit_remember(const char *chunk);
void koop_edit_close(void);
/* The history file: $KOOP_HISTORY (set but empty: no history), else
** $XDG_STATE_HOME/koop/history, else ~/.local/state/koop/history (its
** directories are created); NULL when there is none.  Static storage. */
const char *koop_edit_history_path(void);
/* TAB completion walks `a.b:c` with rawget and __index TABLES only; it
** never calls user code except an `__autocomplete` metamethod, called as
** mt.__autocomplete(obj) under lua_pcall with an instruction budget, so
** objects whose fields are computed (proxies, entities, result sets) can
** list them.  It returns a table: strings in its array part are names,
** and so are its string keys, whose value "function" (or a function)
** marks a method (offered after ':', with '(').  The first TAB also runs
** package.loaded["koop.domain"].load_all(), so lazy domain globals show. */

/* ---- repl.c: the read-eval-print loop -------------------------------- */

/* Run the REPL until Ctrl-D or .quit; returns an exit status. */
int koop_repl(lua_State *L);
/* TAB completion of dot commands: when the line before the word being
** completed (`before`) makes it a dot command or its argument, add the
** completions of `word` as keys of the table on top of the stack. */
#define KOOP_COMPLETE_NONE  0   /* not a dot command: complete Lua */
#define KOOP_COMPLETE_DONE  1   /* completions added (maybe none) */
#define KOOP_COMPLETE_FILES 2   /* the argument is a file name */
int koop_repl_complete(lua_State *L, const char *before, const char *word);
/* Compile the entry (a string) on top of the stack as the REPL does and
** push the function or the message; *quiet: a trailing ';' hides results. */
int koop_repl_compile(lua_State *L, int *quiet);
/* True if a compilation that ended with `status` (message on top) only
** lacks more lines, so the REPL reads on with the >> prompt. */
int koop_repl_incomplete(lua_State *L, int status);

/* ---- sandbox.c: --safe, limits --------------------------------------- */

struct koop_limits { double timeout_s; size_t memory_bytes; int safe, safe_write; };
/* Allocator that enforces memory_bytes (0 = unlimited). */
void *koop_alloc(void *ud, void *ptr, size_t osize, size_t nsize);
/* A state using koop_alloc with lim's memory limit (1 GB under --safe
** when none is given), SQLite's heap capped alike; koop_db_setup runs
** first.  Close with koop_closestate. */
lua_State *koop_newstate(const struct koop_limits *lim);
void koop_closestate(lua_State *L);
/* True once --safe is applied to L. */
int koop_sandbox_active(lua_State *L);
/* db.c calls this for every connection: no extension loading, and under
** --safe an authorizer refusing ATTACH, PRAGMAs that change the file,
** writes to a database file unless --safe=write, and names and PESEL. */
void koop_sandbox_db(lua_State *L, sqlite3 *db);
/* Apply the sandbox to the global environment after libraries load. */
void koop_sandbox_apply(lua_State *L, const struct koop_limits *lim);
/* Why the sandbox's authorizer last refused a statement (for the message
** of SQLITE_AUTH: what was refused and how to allow it), or NULL. */
const char *koop_sandbox_refusal(lua_State *L);

#endif
