/*
** json.c — canonical JSON text: koop.json_encode(v).  The audit log
** encodes every change it records (before/after values), and exports and
** reports write JSON, so the encoder is in C; koop.json (lib/koop/json.lua)
** adds the decoder and the markers.
**
** Canonical: object keys in byte order, no spaces, integers exact, floats
** with the shortest %.17g-or-less text that reads back the same (and a
** ".0" when that text looks like an integer), strings as they are (UTF-8
** is checked) with only the escapes JSON requires (and DEL as \u007f).  The
** same value always gives the same bytes, so the text can be hashed.
**
** Tables: a table whose metatable has __tojson encodes as what that
** returns; __name "ResultSet" or "json.array" makes an array of 1..#t;
** "json.object" an object; otherwise a table is an array when its keys are
** exactly 1..n, an empty table is [] and any other table an object whose
** keys must be strings.  nil and koop.null are null.  Tables nested deeper
** than JSON_DEPTH (a table that contains itself) are an error, as are
** functions, NaN and infinities.
**
** The text is built in a C stack buffer that moves to a userdata (memory
** the GC owns, held in a fixed stack slot) when it grows, so an error
** anywhere leaks nothing.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "koop.h"

#define JSON_DEPTH 200
#define JSON_STACKBUF 1024

struct jbuf {
  lua_State *L;
  char *p;
  size_t n, cap;
  char stackbuf[JSON_STACKBUF];
};

/* Raise an "invalid" error about the value being encoded. */
static int fail (lua_State *L, const char *fmt, const char *what) {
  return koop_error_raise(L, "invalid", NULL, fmt, what);
}

/* Make room for `more` bytes: a bigger buffer in a new userdata, kept
** alive in stack slot BUF_SLOT until the text is pushed. */
#define BUF_SLOT 2
static void grow (struct jbuf *b, size_t more) {
  size_t cap = b->cap * 2;
  char *p;
  if (more > ((size_t)-1 / 4) - b->n) luaL_error(b->L, "not enough memory");
  while (cap < b->n + more) cap *= 2;
  luaL_checkstack(b->L, 1, "json_encode");
  p = lua_newuserdatauv(b->L, cap, 0);
  memcpy(p, b->p, b->n);
  lua_replace(b->L, BUF_SLOT);     /* the old buffer is no longer needed */
  b->p = p;
  b->cap = cap;
}

static void add (struct jbuf *b, const char *s, size_t len) {
  if (b->cap - b->n < len) grow(b, len);
  memcpy(b->p + b->n, s, len);
  b->n += len;
}

static void add_char (struct jbuf *b, char c) {
  if (b->n == b->cap) grow(b, 1);
  b->p[b->n++] = c;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_seq (const unsigned char *s, size_t n) {
  unsigned c = s[0];
  size_t len, i;
  unsigned long cp;
  if (c < 0x80) return 1;
  if (c < 0xC2) return 0;                 /* continuation or overlong */
  len = c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF5 ? 4 : 0;
  if (len == 0 || len > n) return 0;
  cp = c & (0x3F >> (len - 1));
  for (i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (s[i] & 0x3F);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))
      || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return len;
}

/* Append s as a JSON string. */
static void add_string (struct jbuf *b, const char *s, size_t len) {
  const unsigned char *p = (const unsigned char *)s, *end = p + len, *run;
  add_char(b, '"');
  while (p < end) {
    run = p;
    while (p < end && *p >= 0x20 && *p < 0x7F && *p != '"' && *p != '\\') p++;
    if (p > run) add(b, (const char *)run, (size_t)(p - run));
    if (p == end) break;
    if (*p >= 0x80) {
      size_t k = utf8_seq(p, (size_t)(end - p));
      if (k == 0) fail(b->L, "json: text is not valid UTF-8%s", "");
      add(b, (const char *)p, k);
      p += k;
      continue;
    }
    switch (*p) {
      case '"': add(b, "\\\"", 2); break;
      case '\\': add(b, "\\\\", 2); break;
      case '\b': add(b, "\\b", 2); break;
      case '\f': add(b, "\\f", 2); break;
      case '\n': add(b, "\\n", 2); break;
      case '\r': add(b, "\\r", 2); break;
      case '\t': add(b, "\\t", 2); break;
      default: {
        char esc[8];
        snprintf(esc, sizeof esc, "\\u%04x", *p);
        add(b, esc, 6);
      }
    }
    p++;
  }
  add_char(b, '"');
}

/* Append the number at idx. */
static void add_number (struct jbuf *b, int idx) {
  char buf[40];
  int len = 0, digits;
  if (lua_isinteger(b->L, idx)) {
    lua_Integer v = lua_tointeger(b->L, idx);
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    char *end = buf + sizeof buf, *p = end;
    do { *--p = (char)('0' + u % 10); u /= 10; } while (u > 0);
    if (v < 0) *--p = '-';
    add(b, p, (size_t)(end - p));
    return;
  } else {
    double x = (double)lua_tonumber(b->L, idx);
    if (isnan(x) || isinf(x)) fail(b->L, "json: cannot encode %s", isnan(x) ? "NaN" : "an infinity");
    for (digits = 15; digits <= 17; digits++) {
      len = snprintf(buf, sizeof buf, "%.*g", digits, x);
      if (strtod(buf, NULL) == x) break;
    }
    if (strpbrk(buf, ".eE") == NULL) { buf[len++] = '.'; buf[len++] = '0'; }
  }
  add(b, buf, (size_t)len);
}

/* The __name of the metatable of the table at idx, or NULL. */
static const char *mt_name (lua_State *L, int idx) {
  const char *name = NULL;
  if (luaL_getmetafield(L, idx, "__name") != LUA_TNIL) {
    if (lua_type(L, -1) == LUA_TSTRING) name = lua_tostring(L, -1);
    lua_pop(L, 1);          /* the metatable still holds the string */
  }
  return name;
}

static void encode (struct jbuf *b, int idx, int depth);

/* n > 0 when the table at idx has exactly the keys 1..n; 0 when it is
** empty; -1 otherwise. */
static lua_Integer sequence_length (lua_State *L, int idx) {
  lua_Integer n = (lua_Integer)lua_rawlen(L, idx), count = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > n) {
      lua_pop(L, 1);
      return -1;
    }
    count++;
  }
  return count == n ? n : -1;
}

/* One entry of an object being encoded: its key, and its value's stack slot. */
struct entry { const char *s; size_t len; int value; };

/* Does key a sort before key b (byte order, a prefix first)? */
static int entry_before (const struct entry *a, const struct entry *b) {
  size_t n = a->len < b->len ? a->len : b->len;
  int c = memcmp(a->s, b->s, n);
  return c != 0 ? c < 0 : a->len < b->len;
}

static int entry_cmp (const void *va, const void *vb) {
  const struct entry *a = va, *b = vb;
  return entry_before(a, b) ? -1 : entry_before(b, a);
}

/* Sort the n entries by key: insertion sort for the few keys of a row
** (no calls through a pointer), qsort for more. */
static void sort_entries (struct entry *e, int n) {
  int i, j;
  if (n > 16) {
    qsort(e, (size_t)n, sizeof *e, entry_cmp);
    return;
  }
  for (i = 1; i < n; i++) {
    struct entry x = e[i];
    for (j = i; j > 0 && entry_before(&x, &e[j - 1]); j--) e[j] = e[j - 1];
    e[j] = x;
  }
}

/* Append the table at idx as an object with sorted keys.  One traversal
** leaves every value on the stack and notes its key; the key strings stay
** alive while the table holds them (Lua's collector does not move objects),
** so pointers to them can be sorted. */
static void encode_object (struct jbuf *b, int idx, int depth) {
  lua_State *L = b->L;
  int top = lua_gettop(L), n = 0, cap = 16, i;
  struct entry small[16], *e = small;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) != LUA_TSTRING)
      fail(L, "json: object keys must be strings, not %s", luaL_typename(L, -2));
    if (n == cap) {                 /* more than 16 keys: entries in a userdata */
      struct entry *more;
      cap *= 4;
      more = lua_newuserdatauv(L, (size_t)cap * sizeof *more, 0);
      memcpy(more, e, (size_t)n * sizeof *more);
      e = more;
      lua_insert(L, top + 1);       /* below the values: kept until the end */
      for (i = 0; i < n; i++) e[i].value++;
    }
    luaL_checkstack(L, 3, "json_encode");
    e[n].s = lua_tolstring(L, -2, &e[n].len);
    lua_insert(L, -2);              /* ..., value, key */
    e[n].value = lua_gettop(L) - 1;
    n++;
  }
  sort_entries(e, n);
  add_char(b, '{');
  for (i = 0; i < n; i++) {
    if (i > 0) add_char(b, ',');
    add_string(b, e[i].s, e[i].len);
    add_char(b, ':');
    encode(b, e[i].value, depth + 1);
  }
  add_char(b, '}');
  lua_settop(L, top);
}

/* Append the table at idx. */
static void encode_table (struct jbuf *b, int idx, int depth) {
  lua_State *L = b->L;
  const char *name;
  lua_Integer n, i;
  if (depth > JSON_DEPTH)
    fail(L, "json: tables nested too deeply%s (or a table that contains itself)", "");
  luaL_checkstack(L, 6, "json_encode");
  if (!lua_getmetatable(L, idx))          /* a plain table, the usual case */
    n = sequence_length(L, idx);
  else {
    lua_pop(L, 1);
    if (luaL_getmetafield(L, idx, "__tojson") != LUA_TNIL) {
      lua_pushvalue(L, idx);
      lua_call(L, 1, 1);
      encode(b, lua_gettop(L), depth + 1);
      lua_pop(L, 1);
      return;
    }
    name = mt_name(L, idx);
    if (name && (strcmp(name, "ResultSet") == 0 || strcmp(name, "json.array") == 0))
      n = (lua_Integer)lua_rawlen(L, idx);
    else if (name && strcmp(name, "json.object") == 0)
      n = -1;
    else
      n = sequence_length(L, idx);
  }
  if (n < 0) { encode_object(b, idx, depth); return; }
  add_char(b, '[');
  for (i = 1; i <= n; i++) {
    if (i > 1) add_char(b, ',');
    lua_rawgeti(L, idx, i);
    encode(b, lua_gettop(L), depth + 1);
    lua_pop(L, 1);
  }
  add_char(b, ']');
}

/* Append the value at idx (an absolute index). */
static void encode (struct jbuf *b, int idx, int depth) {
  lua_State *L = b->L;
  size_t len;
  const char *s;
  switch (lua_type(L, idx)) {
    case LUA_TNIL: add(b, "null", 4); break;
    case LUA_TBOOLEAN:
      if (lua_toboolean(L, idx)) add(b, "true", 4); else add(b, "false", 5);
      break;
    case LUA_TNUMBER: add_number(b, idx); break;
    case LUA_TSTRING:
      s = lua_tolstring(L, idx, &len);
      add_string(b, s, len);
      break;
    case LUA_TTABLE: encode_table(b, idx, depth); break;
    case LUA_TUSERDATA:
      if (luaL_testudata(L, idx, "koop.Null") != NULL) { add(b, "null", 4); break; }
      /* fall through */
    default:
      fail(L, "json: cannot encode a %s", luaL_typename(L, idx));
  }
}

/* koop.json_encode(v) -> canonical JSON text of v. */
static int l_json_encode (lua_State *L) {
  struct jbuf b;
  b.L = L;
  b.p = b.stackbuf;
  b.n = 0;
  b.cap = sizeof b.stackbuf;
  lua_settop(L, 1);
  lua_pushnil(L);                  /* BUF_SLOT */
  encode(&b, 1, 0);
  lua_pushlstring(L, b.p, b.n);
  return 1;
}

void koop_open_json (lua_State *L) {
  lua_pushcfunction(L, l_json_encode);
  lua_setfield(L, -2, "json_encode");
}
