/*
** money_fuzz.c — libFuzzer target for money (src/money.c): the parser and
** formatter in C, and the arithmetic of koop.money in Lua.
** Properties:
**  - parsing any bytes either fails with a reason or gives an amount in
**    ±(2^63-1) grosze; formatting that amount and parsing the text gives
**    the same amount back, exactly;
**  - a plain number (digits, optionally ",d" or ",dd") parses to its exact
**    value when that fits, and fails as too large when it does not: the
**    parser never wraps;
**  - the first 8 bytes as grosze format and parse back to themselves; the
**    formatter honours its buffer size as snprintf does;
**  - koop.money(text) agrees with the C parser, and +, -, *, //, %,
**    unary -, split and allocate of amounts drawn from the input give the
**    exact result or raise an error object: never a wrapped amount.
*/
#include "fuzz.h"

/* Format g and parse it back; returns the text's length. */
static size_t round_trip(int64_t g)
{
  char buf[KOOP_MONEY_BUFSIZE], small[KOOP_MONEY_BUFSIZE];
  size_t n = koop_money_format(g, buf, sizeof buf);
  int64_t back;
  const char *why = NULL;
  FUZZ_CHECK(n < sizeof buf && buf[n] == '\0', "%lld formats to %zu bytes", (long long)g, n);
  FUZZ_CHECK(koop_money_parse(buf, n, &back, &why) && back == g,
             "%lld formats as \"%s\", which parses to %lld (%s)", (long long)g, buf,
             (long long)back, why ? why : "ok");
  for (size_t size = 0; size <= n + 1; size++) {   /* snprintf's contract */
    memset(small, 'x', sizeof small);
    FUZZ_CHECK(koop_money_format(g, small, size) == n, "length differs with size %zu", size);
    FUZZ_CHECK(size == 0 ? small[0] == 'x'
                         : (memcmp(small, buf, size - 1) == 0 && small[size - 1 < n ? size - 1 : n] == '\0'
                            && small[size] == 'x'),
               "formatting %lld into %zu bytes", (long long)g, size);
  }
  return n;
}

/* A string of digits with an optional ",d" or ",dd": its exact grosze as
** __int128, or -1 if it is not of that form. */
static __int128 plain_value(const char *s, size_t len)
{
  size_t i = 0, frac = 0;
  __int128 v = 0;
  while (i < len && s[i] >= '0' && s[i] <= '9' && v < ((__int128)1 << 100)) v = v * 10 + (s[i++] - '0');
  if (i == 0 || i > 30) return -1;
  v *= 100;
  if (i < len) {
    if (s[i] != ',' || len - i - 1 < 1 || len - i - 1 > 2) return -1;
    for (size_t k = i + 1; k < len; k++) {
      if (s[k] < '0' || s[k] > '9') return -1;
      frac = frac * 10 + (size_t)(s[k] - '0');
    }
    v += len - i - 1 == 1 ? frac * 10 : frac;
  }
  return v;
}

static void check_parse(const char *s, size_t len)
{
  int64_t g = 0;
  const char *why = NULL;
  int ok = koop_money_parse(s, len, &g, &why);
  FUZZ_CHECK(ok || (why && why[0]), "a refusal without a reason");
  if (ok) {
    FUZZ_CHECK(g != INT64_MIN, "INT64_MIN grosze parsed");
    round_trip(g);
  }
  __int128 v = plain_value(s, len);
  if (v >= 0)
    FUZZ_CHECK(v <= INT64_MAX ? ok && g == (int64_t)v : !ok && strstr(why, "too large"),
               "\"%.*s\" parsed as %d, %lld", (int)len, s, ok, (long long)g);
}

/* Run check_script (below) on amounts a, b, whole number n and text s. */
static void check_lua(lua_State *L, int64_t a, int64_t b, int64_t n, const char *s, size_t len)
{
  int64_t g;
  const char *why;
  lua_settop(L, 0);
  lua_getglobal(L, "check");
  lua_pushinteger(L, a);
  lua_pushinteger(L, b);
  lua_pushinteger(L, n);
  lua_pushlstring(L, s, len);
  int ok = koop_money_parse(s, len, &g, &why);
  lua_pushboolean(L, ok);
  if (ok) lua_pushinteger(L, g); else lua_pushnil(L);
  if (lua_pcall(L, 6, 0, 0) != LUA_OK) fuzz_fail("%s", fuzz_error_text(L, -1));
}

static const char check_script[] =
  "local a, b, n, s, parsed, g = ...\n"
  "local M = koop.money\n"
  "local ok, m = pcall(M, s)\n"
  "if ok ~= parsed then error('koop.money and koop_money_parse disagree on ' .. s) end\n"
  "if ok and m:grosze() ~= g then error('koop.money(s) is ' .. m:grosze() .. ' grosze, not ' .. g) end\n"
  "if not ok and not koop.is_error(m) then error('koop.money raised a non-object: ' .. tostring(m)) end\n"
  "local MAX, MIN = math.maxinteger, -math.maxinteger\n"
  "local function within(x) return x ~= nil and x >= MIN and x <= MAX and x or nil end\n"
  "local function add(x, y) if (y > 0 and x > MAX - y) or (y < 0 and x < MIN - y) then return nil end return x + y end\n"
  "local function mul(x, y)\n"
  "  if x == 0 or y == 0 then return 0 end\n"
  "  local p = x * y\n"
  "  if p // y ~= x or p % y ~= 0 or p == math.mininteger then return nil end\n"
  "  if (x == -1 and y == math.mininteger) or (y == -1 and x == math.mininteger) then return nil end\n"
  "  return p\n"
  "end\n"
  "local function exact(what, f, want)\n"
  "  local done, r = pcall(f)\n"
  "  if done then\n"
  "    local got = M.is(r) and r:grosze() or r\n"
  "    if want == nil or got ~= want then\n"
  "      error(('%s gave %s, not %s'):format(what, tostring(got), tostring(want)))\n"
  "    end\n"
  "  elseif not koop.is_error(r) then error(what .. ' raised a non-object: ' .. tostring(r))\n"
  "  elseif want ~= nil then error(what .. ' failed: ' .. tostring(r)) end\n"
  "end\n"
  "local ma, mb = M.grosze(a), M.grosze(b)\n"
  "exact('a + b', function() return ma + mb end, add(a, b))\n"
  "exact('a - b', function() return ma - mb end, add(a, -b))\n"
  "exact('-a', function() return -ma end, -a)\n"
  "exact('a * n', function() return ma * n end, mul(a, n))\n"
  "exact('n * a', function() return n * ma end, mul(a, n))\n"
  "if n ~= 0 then\n"
  "  exact('a // n', function() return ma // n end, a // n)\n"
  "  exact('a % n', function() return ma % n end, a % n)\n"
  "end\n"
  "if b ~= 0 then\n"
  "  exact('a // b', function() return ma // mb end, a // b)\n"
  "  exact('a % b', function() return ma % mb end, a % b)\n"
  "end\n"
  "local k = n % 7 + 1\n"
  "local parts = ma:split(k)\n"
  "local sum = 0\n"
  "for i = 1, k do sum = sum + parts[i]:grosze() end\n"
  "if #parts ~= k or sum ~= a then error('split(' .. k .. ') of ' .. a .. ' adds up to ' .. sum) end\n"
  "local w = { n % 5, b % 1000, 1 }\n"
  "local shares = ma:allocate(w)\n"
  "sum = 0\n"
  "for i = 1, 3 do sum = sum + shares[i]:grosze() end\n"
  "if sum ~= a then error('allocate of ' .. a .. ' adds up to ' .. sum) end\n"
  "local ok2, total = pcall(M.sum, { ma, mb })\n"
  "if ok2 and total:grosze() ~= add(a, b) then error('sum is wrong') end\n"
  "if not ok2 and (add(a, b) ~= nil or not koop.is_error(total)) then error('sum failed: ' .. tostring(total)) end\n";

static lua_State *money_state(void)
{
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  lua_newtable(L);
  koop_open_errors(L);
  koop_open_money(L);
  lua_setglobal(L, "koop");
  if (luaL_loadstring(L, check_script) != LUA_OK) fuzz_fail("%s", lua_tostring(L, -1));
  lua_setglobal(L, "check");
  return L;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static lua_State *L;
  struct fuzz_bytes in = { data, size };
  if (!L) L = money_state();
  check_parse((const char *)data, size);
  int64_t a = (int64_t)fuzz_u64(&in), b = (int64_t)fuzz_u64(&in);
  int64_t n = (int64_t)fuzz_u64(&in);
  if (a == INT64_MIN) a = INT64_MAX;
  if (b == INT64_MIN) b = -INT64_MAX;
  if (fuzz_byte(&in) & 1) n %= 1000;         /* small multipliers too */
  if (fuzz_byte(&in) & 1) a %= 100000000;    /* and everyday amounts */
  round_trip(a);
  size_t len;
  const char *s = fuzz_take(&in, 64, &len);
  check_lua(L, a, b, n, s, len);
  return 0;
}
