/*
** print_test.c — C-level checks of src/print.c.
** Plan:
**   1. koop_utf8_width: ASCII, Polish letters, combining marks, East Asian
**      wide and fullwidth characters, emoji, zero-width characters, control
**      characters, and every kind of invalid UTF-8 (stray, truncated,
**      overlong, surrogate, past U+10FFFF) counted one column per byte;
**      the length argument is respected (embedded NUL, a cut sequence).
**   2. koop_open_print installs koop.pretty/format/mode/resultset, and adds
**      to a "koop.ResultSet" metatable that the db binding created first
**      without replacing what is already there.
** The Lua-facing behaviour is tested in tests/lua/print_test.lua.
*/
#include "koop.h"

#include <lualib.h>
#include <stdio.h>
#include <string.h>

static int passed, failed;

/* Record one check. */
static void check(int ok, const char *what, const char *detail) {
  if (ok) {
    passed++;
    printf("ok - %s\n", what);
  } else {
    failed++;
    printf("not ok - %s: %s\n", what, detail);
  }
}

/* Check the width of the NUL-terminated string s. */
static void width_is(const char *s, size_t want, const char *what) {
  char detail[64];
  size_t got = koop_utf8_width(s, strlen(s));
  snprintf(detail, sizeof detail, "got %zu, expected %zu", got, want);
  check(got == want, what, detail);
}

static void test_width(void) {
  char detail[64];
  size_t got;
  width_is("", 0, "empty string");
  width_is("Bogoria", 7, "ASCII");
  width_is("Łoniów", 6, "Polish letters are one column each");
  width_is("zażółć gęślą jaźń", 17, "every Polish diacritic");
  width_is("ĄĆĘŁŃÓŚŹŻ", 9, "Polish capitals");
  width_is("e\xcc\x81", 1, "combining acute accent takes no column");
  width_is("a\xe2\x83\x9d", 1, "enclosing mark takes no column");
  width_is("漢字", 4, "CJK ideographs are two columns");
  width_is("\xef\xbc\xa1", 2, "fullwidth A is two columns");
  width_is("한국", 4, "Hangul syllables are two columns");
  width_is("\xe1\x84\x80\xe1\x85\xa1", 2, "Hangul jamo: initial 2, medial 0");
  width_is("\xf0\x9f\x98\x80", 2, "emoji are two columns");
  width_is("\xf0\xa0\x80\x80", 2, "CJK extension B is two columns");
  width_is("a\xe2\x80\x8b" "b", 2, "zero width space takes no column");
  width_is("\xef\xbb\xbf" "x", 1, "BOM takes no column");
  width_is("soft\xc2\xad" "hyphen", 11, "soft hyphen takes one column");
  width_is("\xe2\x80\xa6", 1, "ellipsis is one column");
  width_is("\xe2\x94\x80\xe2\x94\x82", 2, "box drawing is one column each");
  width_is("\t\n\r\x1b", 0, "C0 controls take no column");
  width_is("\x7f", 0, "DEL takes no column");
  width_is("\xc2\x85", 0, "C1 control takes no column");
  width_is("\xff", 1, "a stray byte is one column");
  width_is("\x80\x80", 2, "stray continuation bytes are one column each");
  width_is("\xc3", 1, "a truncated sequence at the end");
  width_is("\xc3(", 2, "a lead byte followed by ASCII");
  width_is("\xe2\x82", 2, "a truncated three-byte sequence");
  width_is("\xc0\xaf", 2, "an overlong encoding");
  width_is("\xe0\x80\xaf", 3, "an overlong three-byte encoding");
  width_is("\xed\xa0\x80", 3, "a UTF-16 surrogate");
  width_is("\xf4\x90\x80\x80", 4, "a code point past U+10FFFF");
  width_is("\xf8\x88\x80\x80\x80", 5, "a five-byte form");
  got = koop_utf8_width("abc", 2);
  snprintf(detail, sizeof detail, "got %zu", got);
  check(got == 2, "only len bytes are measured", detail);
  got = koop_utf8_width("a\0b", 3);
  snprintf(detail, sizeof detail, "got %zu", got);
  check(got == 2, "an embedded NUL takes no column", detail);
  got = koop_utf8_width("\xc5\x81", 1);
  snprintf(detail, sizeof detail, "got %zu", got);
  check(got == 1, "a sequence cut by len counts as an invalid byte", detail);
}

/* Run Lua code that must return true; report its error otherwise. */
static void lua_true(lua_State *L, const char *code, const char *what) {
  int ok = luaL_dostring(L, code) == LUA_OK && lua_toboolean(L, -1);
  check(ok, what, lua_isstring(L, -1) ? lua_tostring(L, -1) : "returned false");
  lua_settop(L, 0);
}

static void test_open(void) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  /* the db binding got there first, with a method table of its own */
  luaL_newmetatable(L, "koop.ResultSet");
  lua_newtable(L);
  lua_pushliteral(L, "first");
  lua_setfield(L, -2, "marker");
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  lua_newtable(L);
  koop_open_print(L);
  check(lua_gettop(L) == 1, "koop_open_print leaves the stack as it was", "");
  lua_setglobal(L, "koop");
  lua_true(L, "return type(koop.pretty) == 'function' and type(koop.format) "
              "== 'function' and type(koop.mode) == 'function' and "
              "type(koop.resultset) == 'function'",
           "koop.pretty, format, mode and resultset are installed");
  lua_true(L, "local mt = debug.getregistry()['koop.ResultSet'] "
              "return mt.__index.marker == 'first' and mt.__name == "
              "'ResultSet' and type(mt.__tostring) == 'function' and "
              "type(mt.__autocomplete) == 'function'",
           "an existing ResultSet metatable keeps its fields");
  lua_true(L, "local rs = koop.resultset({ { n = 1 } }, { 'n' }) "
              "return rs.marker == 'first' and tostring(rs) == "
              "'┌───┐\\n│ n │\\n├───┤\\n│ 1 │\\n└───┘'",
           "a result set made in Lua prints and has the db's methods");
  lua_true(L, "return koop.mode() == 'box'", "the default mode is box");
  lua_close(L);
}

int main(void) {
  test_width();
  test_open();
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
