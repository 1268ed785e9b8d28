/*
** value_fuzz.c — libFuzzer target for value conversion between Lua and
** SQLite (src/db.c): binding parameters and reading columns back.
** The input is a list of Lua values, each a tag byte and its bytes:
** integers (any, and the extremes), floats (any bit pattern, and NaN,
** ±inf, -0, the smallest subnormal, DBL_MAX), strings with NULs and
** invalid UTF-8, booleans, koop.null, nil, koop.money amounts, koop.blob,
** and values that cannot be bound (a table, a coroutine).
** Each value goes through db:value("SELECT ?"), db:first, a named
** parameter, an INSERT and SELECT of a table row, and all of them at once
** through db:urows("SELECT ?, ?, ...").  The documented round trip:
** integers stay the same 64-bit integers, floats the same float (NaN
** becomes NULL, as SQLite stores it), strings the same bytes, booleans
** 1/0, koop.null and nil NULL (nil), amounts their integer grosze, blobs
** their bytes; a value that cannot be bound raises an error object that
** names the parameter.  Columns of every declared type read back as
** numbers, strings or nil.
*/
#include <float.h>
#include <math.h>

#include "fuzz.h"

#define MAX_VALUES 16

/* The Lua side: (kinds, values, count) -> nothing, or raises. */
static const char check_script[] =
  "local kinds, values, n = ...\n"
  "local db = DB\n"
  "local function same(got, want)\n"
  "  if math.type(want) == 'float' then\n"
  "    return math.type(got) == 'float' and string.format('%a', got) == string.format('%a', want)\n"
  "  end\n"
  "  return math.type(got) == math.type(want) and got == want\n"
  "end\n"
  "local function expected(kind, v)\n"
  "  if kind == 'bool' then return v and 1 or 0\n"
  "  elseif kind == 'null' or kind == 'nil' then return nil\n"
  "  elseif kind == 'money' then return v:grosze()\n"
  "  elseif kind == 'blob' then return BLOBS[v]\n"
  "  elseif kind == 'float' and v ~= v then return nil\n"
  "  else return v end\n"
  "end\n"
  "local function bad_type(what, f)\n"
  "  local ok, e = pcall(f)\n"
  "  if ok then error(what .. ' bound a value that cannot be bound') end\n"
  "  if not koop.is_error(e) or not e.message:find('parameter', 1, true) then\n"
  "    error(what .. ' raised ' .. tostring(e) .. ', not an error object naming the parameter')\n"
  "  end\n"
  "end\n"
  "local function check(what, got, want)\n"
  "  if not same(got, want) then\n"
  "    error(('%s: got %s %q, want %s %q'):format(what, math.type(got) or type(got), tostring(got),\n"
  "      math.type(want) or type(want), tostring(want)))\n"
  "  end\n"
  "end\n"
  "db:exec('DELETE FROM t; DELETE FROM typed')\n"
  "local all, want = {}, {}\n"
  "for i = 1, n do\n"
  "  local kind, v = kinds[i], values[i]\n"
  "  if kind == 'bad' then\n"
  "    bad_type('db:value', function() return db:value('SELECT ?', v) end)\n"
  "    bad_type('db:first', function() return db:first('SELECT ? AS a', v) end)\n"
  "    bad_type('named', function() return db:value('SELECT :x', { x = v }) end)\n"
  "    bad_type('db:exec', function() return db:exec('INSERT INTO t(a) VALUES (?)', v) end)\n"
  "    v, kind = i, 'int'\n"
  "  else\n"
  "    local w = expected(kind, v)\n"
  "    check('db:value', db:value('SELECT ?', v), w)\n"
  "    check('db:first', db:first('SELECT ? AS a', v).a, w)\n"
  "    check('named', db:value('SELECT :x', { x = v }), w)\n"
  "    check('db:exec', db:exec('INSERT INTO t(a) VALUES (?)', v), 1)\n"
  "    check('row', db:value('SELECT a FROM t WHERE rowid = last_insert_rowid()'), w)\n"
  "    db:exec('INSERT INTO typed VALUES (?, ?, ?, ?, ?, ?)', v, v, v, v, v, v)\n"
  "    for _, c in ipairs(db:query('SELECT * FROM typed WHERE rowid = last_insert_rowid()').columns) do\n"
  "      local got = db:value('SELECT ' .. c .. ' FROM typed WHERE rowid = last_insert_rowid()')\n"
  "      local t = type(got)\n"
  "      if t ~= 'number' and t ~= 'string' and t ~= 'nil' then error('typed column ' .. c .. ' gave a ' .. t) end\n"
  "    end\n"
  "  end\n"
  "  all[i], want[i] = v, expected(kind, v)\n"
  "end\n"
  "if n > 0 then\n"
  "  local sql = 'SELECT ?' .. string.rep(', ?', n - 1)\n"
  "  local rows = 0\n"
  "  for a, b, c, d, e, f, g, h, i, j, k, l, m, o, p, q in db:urows(sql, table.unpack(all, 1, n)) do\n"
  "    local got = { a, b, c, d, e, f, g, h, i, j, k, l, m, o, p, q }\n"
  "    if got[1] == koop.null then got[1] = nil end\n"     /* a NULL first column keeps the loop going */
  "    for x = 1, n do check('urows column ' .. x, got[x], want[x]) end\n"
  "    rows = rows + 1\n"
  "  end\n"
  "  if rows ~= 1 then error('urows gave ' .. rows .. ' rows') end\n"
  "  local bound = pcall(db.value, db, sql .. ', ?', table.unpack(all, 1, n))\n"
  "  if bound then error('one value too few was not refused') end\n"
  "end\n";

/* A state with koop's errors, money and SQLite binding, a connection DB
** with tables t and typed, and the check script as global `check`. */
static lua_State *value_state(void)
{
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  lua_newtable(L);
  koop_open_errors(L);
  koop_open_db(L);
  koop_open_money(L);
  lua_setglobal(L, "koop");
  if (luaL_dostring(L,
      "DB = koop.open(':memory:', { schema = false })\n"
      "DB:exec('CREATE TABLE t(a); CREATE TABLE typed(i INTEGER, r REAL, x TEXT, b BLOB, n NUMERIC, d DATE)')\n"
      "BLOBS = setmetatable({}, { __mode = 'k' })") != LUA_OK
      || luaL_loadstring(L, check_script) != LUA_OK)
    fuzz_fail("%s", lua_tostring(L, -1));
  lua_setglobal(L, "check");
  return L;
}

/* Push the next value drawn from the input and return its kind. */
static const char *push_value(lua_State *L, struct fuzz_bytes *in)
{
  static const int64_t ints[8] = { INT64_MIN, INT64_MAX, 0, -1, 1, 1LL << 53, (1LL << 53) + 1,
                                   INT64_MIN + 1 };
  static const double floats[10] = { NAN, -NAN, INFINITY, -INFINITY, -0.0, 0.0, 4.9e-324,
                                     DBL_MAX, 0.1, 9007199254740993.0 };
  unsigned tag = fuzz_byte(in);
  size_t len;
  const char *s;
  switch (tag % 12) {
    case 0: lua_pushinteger(L, (lua_Integer)fuzz_u64(in)); return "int";
    case 1: lua_pushinteger(L, ints[tag / 12 % 8]); return "int";
    case 2: {
      uint64_t bits = fuzz_u64(in);
      double d;
      memcpy(&d, &bits, sizeof d);
      lua_pushnumber(L, d);
      return "float";
    }
    case 3: lua_pushnumber(L, floats[tag / 12 % 10]); return "float";
    case 4:
      s = fuzz_take(in, fuzz_byte(in) % 48, &len);
      lua_pushlstring(L, s, len);
      return "str";
    case 5: lua_pushboolean(L, tag & 16); return "bool";
    case 6:
      lua_getglobal(L, "koop");
      lua_getfield(L, -1, "null");
      lua_remove(L, -2);
      return "null";
    case 7: {
      int64_t g = (int64_t)fuzz_u64(in);
      if (g == INT64_MIN) g = 0;
      lua_getglobal(L, "koop");
      lua_getfield(L, -1, "money");
      lua_getfield(L, -1, "grosze");
      lua_pushinteger(L, g);
      lua_call(L, 1, 1);
      lua_replace(L, -3);
      lua_pop(L, 1);
      return "money";
    }
    case 8: lua_pushnil(L); return "nil";
    case 9:                            /* koop.blob(s), remembered in BLOBS[blob] = s */
      s = fuzz_take(in, fuzz_byte(in) % 48, &len);
      lua_getglobal(L, "BLOBS");
      lua_getglobal(L, "koop");
      lua_getfield(L, -1, "blob");
      lua_pushlstring(L, s, len);
      lua_call(L, 1, 1);
      lua_replace(L, -2);
      lua_pushvalue(L, -1);
      lua_pushlstring(L, s, len);
      lua_settable(L, -4);
      lua_remove(L, -2);
      return "blob";
    case 10: lua_newtable(L); return "bad";
    default: lua_newthread(L); return "bad";
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static lua_State *L;
  struct fuzz_bytes in = { data, size };
  int n = 0;
  if (!L) L = value_state();
  lua_settop(L, 0);
  lua_getglobal(L, "check");
  lua_createtable(L, MAX_VALUES, 0);   /* kinds */
  lua_createtable(L, MAX_VALUES, 0);   /* values */
  while (in.n > 0 && n < MAX_VALUES) {
    n++;
    lua_pushstring(L, push_value(L, &in));
    lua_rawseti(L, 2, n);
    lua_rawseti(L, 3, n);
  }
  lua_pushinteger(L, n);
  if (lua_pcall(L, 3, 0, 0) != LUA_OK) fuzz_fail("%s", fuzz_error_text(L, -1));
  lua_gc(L, LUA_GCSTEP, 0);
  return 0;
}
