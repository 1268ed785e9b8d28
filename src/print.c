/*
** print.c — pretty-printing Lua values and rendering result sets.
**
** koop.pretty(v [, opts])        the REPL's view of a value: Lua-like tables
**                                (sorted keys, cycles, depth/items limits,
**                                wrapped to the terminal width); result sets
**                                as tables in the current output mode.
** koop.format(rows [, mode [, opts]])
**                                a result set or any array of tables as
**                                box | table | markdown | csv | json | line.
** koop.mode([name])              the current output mode (default "box").
** koop.resultset(rows [, columns])  mark an array of rows as a result set.
**
** The columnar modes follow sqlite3 3.40's `.mode box/table/markdown`
** (centred headers, a rule between rows once any cell spans several lines),
** with two deliberate differences: numbers are right-aligned, and control
** characters are shown, not obeyed.  In box/table/markdown cells a line
** break (LF, CRLF or CR) starts a new line inside the cell, a TAB becomes
** spaces up to the next multiple of 8, every other C0 control and DEL is
** shown in caret notation (ESC as ^[, DEL as ^?), and markdown escapes `|`
** as `\|`.  In line mode line breaks and TABs are kept and other controls
** get caret notation.  csv carries the bytes unchanged; json escapes what
** JSON requires and writes bytes that are not UTF-8 as U+FFFD.  Only the
** REPL's rendering (koop.pretty, or an explicit opts.width) ever truncates
** a cell, with `…`; csv and json ignore the width.
**
** Floats are shown as Lua shows them (%.14g, "2.0") in the display modes,
** and with the shortest round-trip precision in csv and json.
**
** Text is built in C buffers owned by a userdata with __gc, not in a
** luaL_Buffer: cells fetched through __index may be temporaries that must
** stay on the stack while their bytes are copied, which luaL_Buffer's stack
** discipline does not allow.  The buffers use the state's allocator, so the
** sandbox's memory limit covers them.
*/
#include "koop.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* {====================================================================
** Display width
** ===================================================================== */

struct width_range { uint32_t first, last; };

/* Generated from Unicode 14.0 (Python's unicodedata): zero width are the
** categories Mn, Me and Cf (except U+00AD) and the Hangul medial and final
** jamo; double width is East Asian Width W or F (and unassigned code points
** in the CJK ideograph blocks).  Ranges are merged across unassigned gaps
** of at most 64 code points. */
static const struct width_range zero_width[] = {
  {0x300,0x36F}, {0x483,0x489}, {0x591,0x5BD}, {0x5BF,0x5BF}, {0x5C1,0x5C2},
  {0x5C4,0x5C5}, {0x5C7,0x5C7}, {0x600,0x605}, {0x610,0x61A}, {0x61C,0x61C},
  {0x64B,0x65F}, {0x670,0x670}, {0x6D6,0x6DD}, {0x6DF,0x6E4}, {0x6E7,0x6E8},
  {0x6EA,0x6ED}, {0x70F,0x70F}, {0x711,0x711}, {0x730,0x74A}, {0x7A6,0x7B0},
  {0x7EB,0x7F3}, {0x7FD,0x7FD}, {0x816,0x819}, {0x81B,0x823}, {0x825,0x827},
  {0x829,0x82D}, {0x859,0x85B}, {0x890,0x89F}, {0x8CA,0x902}, {0x93A,0x93A},
  {0x93C,0x93C}, {0x941,0x948}, {0x94D,0x94D}, {0x951,0x957}, {0x962,0x963},
  {0x981,0x981}, {0x9BC,0x9BC}, {0x9C1,0x9C4}, {0x9CD,0x9CD}, {0x9E2,0x9E3},
  {0x9FE,0xA02}, {0xA3C,0xA3C}, {0xA41,0xA51}, {0xA70,0xA71}, {0xA75,0xA75},
  {0xA81,0xA82}, {0xABC,0xABC}, {0xAC1,0xAC8}, {0xACD,0xACD}, {0xAE2,0xAE3},
  {0xAFA,0xB01}, {0xB3C,0xB3C}, {0xB3F,0xB3F}, {0xB41,0xB44}, {0xB4D,0xB56},
  {0xB62,0xB63}, {0xB82,0xB82}, {0xBC0,0xBC0}, {0xBCD,0xBCD}, {0xC00,0xC00},
  {0xC04,0xC04}, {0xC3C,0xC3C}, {0xC3E,0xC40}, {0xC46,0xC56}, {0xC62,0xC63},
  {0xC81,0xC81}, {0xCBC,0xCBC}, {0xCBF,0xCBF}, {0xCC6,0xCC6}, {0xCCC,0xCCD},
  {0xCE2,0xCE3}, {0xD00,0xD01}, {0xD3B,0xD3C}, {0xD41,0xD44}, {0xD4D,0xD4D},
  {0xD62,0xD63}, {0xD81,0xD81}, {0xDCA,0xDCA}, {0xDD2,0xDD6}, {0xE31,0xE31},
  {0xE34,0xE3A}, {0xE47,0xE4E}, {0xEB1,0xEB1}, {0xEB4,0xEBC}, {0xEC8,0xECD},
  {0xF18,0xF19}, {0xF35,0xF35}, {0xF37,0xF37}, {0xF39,0xF39}, {0xF71,0xF7E},
  {0xF80,0xF84}, {0xF86,0xF87}, {0xF8D,0xFBC}, {0xFC6,0xFC6},
  {0x102D,0x1030}, {0x1032,0x1037}, {0x1039,0x103A}, {0x103D,0x103E},
  {0x1058,0x1059}, {0x105E,0x1060}, {0x1071,0x1074}, {0x1082,0x1082},
  {0x1085,0x1086}, {0x108D,0x108D}, {0x109D,0x109D}, {0x1160,0x11FF},
  {0x135D,0x135F}, {0x1712,0x1714}, {0x1732,0x1733}, {0x1752,0x1753},
  {0x1772,0x1773}, {0x17B4,0x17B5}, {0x17B7,0x17BD}, {0x17C6,0x17C6},
  {0x17C9,0x17D3}, {0x17DD,0x17DD}, {0x180B,0x180F}, {0x1885,0x1886},
  {0x18A9,0x18A9}, {0x1920,0x1922}, {0x1927,0x1928}, {0x1932,0x1932},
  {0x1939,0x193B}, {0x1A17,0x1A18}, {0x1A1B,0x1A1B}, {0x1A56,0x1A56},
  {0x1A58,0x1A60}, {0x1A62,0x1A62}, {0x1A65,0x1A6C}, {0x1A73,0x1A7F},
  {0x1AB0,0x1B03}, {0x1B34,0x1B34}, {0x1B36,0x1B3A}, {0x1B3C,0x1B3C},
  {0x1B42,0x1B42}, {0x1B6B,0x1B73}, {0x1B80,0x1B81}, {0x1BA2,0x1BA5},
  {0x1BA8,0x1BA9}, {0x1BAB,0x1BAD}, {0x1BE6,0x1BE6}, {0x1BE8,0x1BE9},
  {0x1BED,0x1BED}, {0x1BEF,0x1BF1}, {0x1C2C,0x1C33}, {0x1C36,0x1C37},
  {0x1CD0,0x1CD2}, {0x1CD4,0x1CE0}, {0x1CE2,0x1CE8}, {0x1CED,0x1CED},
  {0x1CF4,0x1CF4}, {0x1CF8,0x1CF9}, {0x1DC0,0x1DFF}, {0x200B,0x200F},
  {0x202A,0x202E}, {0x2060,0x206F}, {0x20D0,0x20F0}, {0x2CEF,0x2CF1},
  {0x2D7F,0x2D7F}, {0x2DE0,0x2DFF}, {0x302A,0x302D}, {0x3099,0x309A},
  {0xA66F,0xA672}, {0xA674,0xA67D}, {0xA69E,0xA69F}, {0xA6F0,0xA6F1},
  {0xA802,0xA802}, {0xA806,0xA806}, {0xA80B,0xA80B}, {0xA825,0xA826},
  {0xA82C,0xA82C}, {0xA8C4,0xA8C5}, {0xA8E0,0xA8F1}, {0xA8FF,0xA8FF},
  {0xA926,0xA92D}, {0xA947,0xA951}, {0xA980,0xA982}, {0xA9B3,0xA9B3},
  {0xA9B6,0xA9B9}, {0xA9BC,0xA9BD}, {0xA9E5,0xA9E5}, {0xAA29,0xAA2E},
  {0xAA31,0xAA32}, {0xAA35,0xAA36}, {0xAA43,0xAA43}, {0xAA4C,0xAA4C},
  {0xAA7C,0xAA7C}, {0xAAB0,0xAAB0}, {0xAAB2,0xAAB4}, {0xAAB7,0xAAB8},
  {0xAABE,0xAABF}, {0xAAC1,0xAAC1}, {0xAAEC,0xAAED}, {0xAAF6,0xAAF6},
  {0xABE5,0xABE5}, {0xABE8,0xABE8}, {0xABED,0xABED}, {0xD7B0,0xD7FF},
  {0xFB1E,0xFB1E}, {0xFE00,0xFE0F}, {0xFE20,0xFE2F}, {0xFEFF,0xFEFF},
  {0xFFF9,0xFFFB}, {0x101FD,0x101FD}, {0x102E0,0x102E0}, {0x10376,0x1037A},
  {0x10A01,0x10A0F}, {0x10A38,0x10A3F}, {0x10AE5,0x10AE6}, {0x10D24,0x10D27},
  {0x10EAB,0x10EAC}, {0x10F46,0x10F50}, {0x10F82,0x10F85}, {0x11001,0x11001},
  {0x11038,0x11046}, {0x11070,0x11070}, {0x11073,0x11074}, {0x1107F,0x11081},
  {0x110B3,0x110B6}, {0x110B9,0x110BA}, {0x110BD,0x110BD}, {0x110C2,0x110CD},
  {0x11100,0x11102}, {0x11127,0x1112B}, {0x1112D,0x11134}, {0x11173,0x11173},
  {0x11180,0x11181}, {0x111B6,0x111BE}, {0x111C9,0x111CC}, {0x111CF,0x111CF},
  {0x1122F,0x11231}, {0x11234,0x11234}, {0x11236,0x11237}, {0x1123E,0x1123E},
  {0x112DF,0x112DF}, {0x112E3,0x112EA}, {0x11300,0x11301}, {0x1133B,0x1133C},
  {0x11340,0x11340}, {0x11366,0x11374}, {0x11438,0x1143F}, {0x11442,0x11444},
  {0x11446,0x11446}, {0x1145E,0x1145E}, {0x114B3,0x114B8}, {0x114BA,0x114BA},
  {0x114BF,0x114C0}, {0x114C2,0x114C3}, {0x115B2,0x115B5}, {0x115BC,0x115BD},
  {0x115BF,0x115C0}, {0x115DC,0x115DD}, {0x11633,0x1163A}, {0x1163D,0x1163D},
  {0x1163F,0x11640}, {0x116AB,0x116AB}, {0x116AD,0x116AD}, {0x116B0,0x116B5},
  {0x116B7,0x116B7}, {0x1171D,0x1171F}, {0x11722,0x11725}, {0x11727,0x1172B},
  {0x1182F,0x11837}, {0x11839,0x1183A}, {0x1193B,0x1193C}, {0x1193E,0x1193E},
  {0x11943,0x11943}, {0x119D4,0x119DB}, {0x119E0,0x119E0}, {0x11A01,0x11A0A},
  {0x11A33,0x11A38}, {0x11A3B,0x11A3E}, {0x11A47,0x11A47}, {0x11A51,0x11A56},
  {0x11A59,0x11A5B}, {0x11A8A,0x11A96}, {0x11A98,0x11A99}, {0x11C30,0x11C3D},
  {0x11C3F,0x11C3F}, {0x11C92,0x11CA7}, {0x11CAA,0x11CB0}, {0x11CB2,0x11CB3},
  {0x11CB5,0x11CB6}, {0x11D31,0x11D45}, {0x11D47,0x11D47}, {0x11D90,0x11D91},
  {0x11D95,0x11D95}, {0x11D97,0x11D97}, {0x11EF3,0x11EF4}, {0x13430,0x13438},
  {0x16AF0,0x16AF4}, {0x16B30,0x16B36}, {0x16F4F,0x16F4F}, {0x16F8F,0x16F92},
  {0x16FE4,0x16FE4}, {0x1BC9D,0x1BC9E}, {0x1BCA0,0x1BCA3}, {0x1CF00,0x1CF46},
  {0x1D167,0x1D169}, {0x1D173,0x1D182}, {0x1D185,0x1D18B}, {0x1D1AA,0x1D1AD},
  {0x1D242,0x1D244}, {0x1DA00,0x1DA36}, {0x1DA3B,0x1DA6C}, {0x1DA75,0x1DA75},
  {0x1DA84,0x1DA84}, {0x1DA9B,0x1DAAF}, {0x1E000,0x1E02A}, {0x1E130,0x1E136},
  {0x1E2AE,0x1E2AE}, {0x1E2EC,0x1E2EF}, {0x1E8D0,0x1E8D6}, {0x1E944,0x1E94A},
  {0xE0001,0xE007F}, {0xE0100,0xE01EF},
};
static const struct width_range double_width[] = {
  {0x1100,0x115F}, {0x231A,0x231B}, {0x2329,0x232A}, {0x23E9,0x23EC},
  {0x23F0,0x23F0}, {0x23F3,0x23F3}, {0x25FD,0x25FE}, {0x2614,0x2615},
  {0x2648,0x2653}, {0x267F,0x267F}, {0x2693,0x2693}, {0x26A1,0x26A1},
  {0x26AA,0x26AB}, {0x26BD,0x26BE}, {0x26C4,0x26C5}, {0x26CE,0x26CE},
  {0x26D4,0x26D4}, {0x26EA,0x26EA}, {0x26F2,0x26F3}, {0x26F5,0x26F5},
  {0x26FA,0x26FA}, {0x26FD,0x26FD}, {0x2705,0x2705}, {0x270A,0x270B},
  {0x2728,0x2728}, {0x274C,0x274C}, {0x274E,0x274E}, {0x2753,0x2755},
  {0x2757,0x2757}, {0x2795,0x2797}, {0x27B0,0x27B0}, {0x27BF,0x27BF},
  {0x2B1B,0x2B1C}, {0x2B50,0x2B50}, {0x2B55,0x2B55}, {0x2E80,0x3029},
  {0x302E,0x303E}, {0x3041,0x3096}, {0x309B,0x3247}, {0x3250,0x4DBF},
  {0x4E00,0xA4C6}, {0xA960,0xA97C}, {0xAC00,0xD7A3}, {0xF900,0xFAFF},
  {0xFE10,0xFE19}, {0xFE30,0xFE6B}, {0xFF01,0xFF60}, {0xFFE0,0xFFE6},
  {0x16FE0,0x16FE3}, {0x16FF0,0x18D08}, {0x1AFF0,0x1B2FB}, {0x1F004,0x1F004},
  {0x1F0CF,0x1F0CF}, {0x1F18E,0x1F18E}, {0x1F191,0x1F19A}, {0x1F200,0x1F265},
  {0x1F300,0x1F320}, {0x1F32D,0x1F335}, {0x1F337,0x1F37C}, {0x1F37E,0x1F393},
  {0x1F3A0,0x1F3CA}, {0x1F3CF,0x1F3D3}, {0x1F3E0,0x1F3F0}, {0x1F3F4,0x1F3F4},
  {0x1F3F8,0x1F43E}, {0x1F440,0x1F440}, {0x1F442,0x1F4FC}, {0x1F4FF,0x1F53D},
  {0x1F54B,0x1F54E}, {0x1F550,0x1F567}, {0x1F57A,0x1F57A}, {0x1F595,0x1F596},
  {0x1F5A4,0x1F5A4}, {0x1F5FB,0x1F64F}, {0x1F680,0x1F6C5}, {0x1F6CC,0x1F6CC},
  {0x1F6D0,0x1F6D2}, {0x1F6D5,0x1F6DF}, {0x1F6EB,0x1F6EC}, {0x1F6F4,0x1F6FC},
  {0x1F7E0,0x1F7F0}, {0x1F90C,0x1F93A}, {0x1F93C,0x1F945}, {0x1F947,0x1F9FF},
  {0x1FA70,0x1FAF6}, {0x20000,0x3FFFD},
};

/* True if cp lies in one of the n sorted ranges of t. */
static int in_ranges(uint32_t cp, const struct width_range *t, size_t n) {
  size_t lo = 0, hi = n;
  if (cp < t[0].first || cp > t[n - 1].last) return 0;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (cp > t[mid].last) lo = mid + 1;
    else if (cp < t[mid].first) hi = mid;
    else return 1;
  }
  return 0;
}

/* Decode the UTF-8 sequence at s[0..len) (len > 0): return its length and
** set *cp, or return 1 and set *cp to -1 for a byte that starts no valid
** sequence (overlong forms, surrogates and values past U+10FFFF included). */
static size_t utf8_decode(const unsigned char *s, size_t len, long *cp) {
  unsigned c = s[0];
  size_t n, i;
  long v, min;
  if (c < 0x80) { *cp = (long)c; return 1; }
  if (c >= 0xC2 && c <= 0xDF) { n = 2; v = c & 0x1F; min = 0x80; }
  else if (c >= 0xE0 && c <= 0xEF) { n = 3; v = c & 0x0F; min = 0x800; }
  else if (c >= 0xF0 && c <= 0xF4) { n = 4; v = c & 0x07; min = 0x10000; }
  else goto invalid;
  if (n > len) goto invalid;
  for (i = 1; i < n; i++) {
    if ((s[i] & 0xC0) != 0x80) goto invalid;
    v = (v << 6) | (s[i] & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) goto invalid;
  *cp = v;
  return n;
invalid:
  *cp = -1;
  return 1;
}

/* Terminal columns taken by code point cp (-1: an invalid byte, shown as
** one replacement character).  Control characters take none. */
static int char_width(long cp) {
  uint32_t u = (uint32_t)cp;
  if (cp < 0) return 1;
  if (u < 0x20 || (u >= 0x7F && u < 0xA0)) return 0;
  if (u < 0x300) return 1;  /* Latin, Polish letters included */
  if (in_ranges(u, zero_width, sizeof zero_width / sizeof zero_width[0]))
    return 0;
  if (in_ranges(u, double_width, sizeof double_width / sizeof double_width[0]))
    return 2;
  return 1;
}

size_t koop_utf8_width(const char *s, size_t len) {
  const unsigned char *p = (const unsigned char *)s, *end = p + len;
  size_t w = 0;
  while (p < end) {
    long cp;
    if (*p < 0x80) { w += (*p >= 0x20 && *p != 0x7F); p++; continue; }
    p += utf8_decode(p, (size_t)(end - p), &cp);
    w += (size_t)char_width(cp);
  }
  return w;
}

/* Length in bytes of the longest prefix of s whose width is at most maxw;
** its width goes to *w.  Zero-width marks stay with their base letter. */
static size_t utf8_prefix(const char *s, size_t len, size_t maxw, size_t *w) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0, acc = 0;
  while (i < len) {
    long cp;
    size_t n = utf8_decode(p + i, len - i, &cp);
    size_t cw = (size_t)char_width(cp);
    if (acc + cw > maxw) break;
    acc += cw;
    i += n;
  }
  *w = acc;
  return i;
}

/* }==================================================================== */

/* {====================================================================
** Buffers owned by a garbage-collected userdata
** ===================================================================== */

#define SCRATCH_MT "koop.print.scratch"

struct sbuf { char *p; size_t n, cap; };

struct scratch {
  lua_State *L;
  lua_Alloc alloc;
  void *ud;
  struct sbuf out;    /* the text being built */
  struct sbuf tmp;    /* text of a single value (cells that are tables) */
  struct sbuf arena;  /* display text of buffered cells */
  struct sbuf cells;  /* struct cell[] of buffered cells */
};

/* Make room for `more` bytes in b, or raise a memory error. */
static void sb_grow(struct scratch *sc, struct sbuf *b, size_t more) {
  size_t cap = b->cap ? b->cap : 256;
  char *p;
  if (more > (size_t)-1 / 2 - b->n) luaL_error(sc->L, "not enough memory");
  while (cap < b->n + more) cap *= 2;
  p = sc->alloc(sc->ud, b->p, b->cap, cap);
  if (p == NULL) luaL_error(sc->L, "not enough memory");
  b->p = p;
  b->cap = cap;
}

static inline void sb_add(struct scratch *sc, struct sbuf *b,
                          const char *s, size_t len) {
  if (b->cap - b->n < len) sb_grow(sc, b, len);
  memcpy(b->p + b->n, s, len);
  b->n += len;
}

static inline void sb_char(struct scratch *sc, struct sbuf *b, char c) {
  if (b->n == b->cap) sb_grow(sc, b, 1);
  b->p[b->n++] = c;
}

static inline void sb_str(struct scratch *sc, struct sbuf *b, const char *s) {
  sb_add(sc, b, s, strlen(s));
}

/* Append n copies of the string s (a space, a box-drawing line). */
static void sb_repeat(struct scratch *sc, struct sbuf *b, const char *s,
                      size_t n) {
  size_t len = strlen(s);
  if (n == 0) return;
  if (n > ((size_t)-1 / 4) / len) luaL_error(sc->L, "not enough memory");
  if (b->cap - b->n < n * len) sb_grow(sc, b, n * len);
  if (len == 1) memset(b->p + b->n, s[0], n);
  else for (size_t i = 0; i < n; i++) memcpy(b->p + b->n + i * len, s, len);
  b->n += n * len;
}

/* __gc and __close of the scratch userdata: free every buffer. */
static int scratch_free(lua_State *L) {
  struct scratch *sc = luaL_checkudata(L, 1, SCRATCH_MT);
  struct sbuf *all[] = { &sc->out, &sc->tmp, &sc->arena, &sc->cells };
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    if (all[i]->p) sc->alloc(sc->ud, all[i]->p, all[i]->cap, 0);
    all[i]->p = NULL;
    all[i]->n = all[i]->cap = 0;
  }
  return 0;
}

/* Push a new scratch userdata and return it. */
static struct scratch *scratch_push(lua_State *L) {
  struct scratch *sc = lua_newuserdatauv(L, sizeof *sc, 0);
  memset(sc, 0, sizeof *sc);
  sc->L = L;
  sc->alloc = lua_getallocf(L, &sc->ud);
  luaL_setmetatable(L, SCRATCH_MT);
  return sc;
}

/* }==================================================================== */

/* {====================================================================
** Numbers and strings as text
** ===================================================================== */

#define NUMBUF 64

/* Write integer i in decimal into buf; return the length.  Two digits at
** a time: ids and amounts in grosze are most of what csv writes. */
static size_t fmt_integer(char *buf, lua_Integer i) {
  static const char pairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233"
    "34353637383940414243444546474849505152535455565758596061626364656667"
    "6869707172737475767778798081828384858687888990919293949596979899";
  static const uint64_t tens[] = {
    10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u, 100000000u,
    1000000000u, 10000000000u, 100000000000u, 1000000000000u,
    10000000000000u, 100000000000000u, 1000000000000000u,
    10000000000000000u, 100000000000000000u, 1000000000000000000u,
    10000000000000000000u
  };
  lua_Unsigned u = i < 0 ? 0u - (lua_Unsigned)i : (lua_Unsigned)i;
  size_t len = (i < 0) + 1, d = 0;
  char *p;
  while (d < sizeof tens / sizeof tens[0] && u >= tens[d]) d++;
  len += d;
  buf[0] = '-';
  buf[len] = '\0';
  p = buf + len;  /* digits are written from the end */
  while (u >= 100) {
    p -= 2;
    memcpy(p, pairs + (u % 100) * 2, 2);
    u /= 100;
  }
  if (u >= 10) memcpy(p - 2, pairs + u * 2, 2);
  else p[-1] = (char)('0' + u);
  return len;
}

/* Add ".0" to a float's text that would read back as an integer, as
** Lua 5.4's tostring does; return the new length. */
static size_t float_suffix(char *buf, size_t len) {
  if (buf[strspn(buf, "-0123456789")] == '\0') {
    buf[len++] = '.';
    buf[len++] = '0';
    buf[len] = '\0';
  }
  return len;
}

/* Write n in fixed notation if it is the double nearest to m / 10^k for
** some k <= 6 and an m of at most `digits` digits, and return the length;
** return 0 otherwise.  That text is then exactly what "%.<digits>g"
** prints (plus Lua's ".0"): n is within half an ulp of m / 10^k, far less
** than a unit of the last digit.  This spares snprintf and strtod for the
** usual amounts and rates (12.5, 0.25, 2.0), which keeps csv fast. */
static size_t fmt_float_fixed(char *buf, lua_Number n, int digits) {
  static const double pow10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6 };
  double limit = digits >= 15 ? 1e15 : 1e14, a = fabs((double)n);
  char tmp[24];
  size_t len = 0, nd = 0;
  if (n == 0) {
    strcpy(buf, signbit(n) ? "-0.0" : "0.0");
    return strlen(buf);
  }
  if (!(a >= 1e-4 && a < limit)) return 0;  /* %g would use an exponent */
  for (int k = 0; k <= 6; k++) {
    double x = a * pow10[k];
    if (x >= limit) return 0;
    uint64_t u = (uint64_t)(x + 0.5);  /* the nearest m, well within 2^53 */
    if ((double)u / pow10[k] != a) continue;
    do { tmp[nd++] = (char)('0' + u % 10); u /= 10; } while (u);
    while (nd <= (size_t)k) tmp[nd++] = '0';  /* 0.25: a leading zero */
    if (n < 0) buf[len++] = '-';
    while (nd > (size_t)k) buf[len++] = tmp[--nd];
    buf[len++] = '.';
    if (k == 0) buf[len++] = '0';
    while (nd > 0) buf[len++] = tmp[--nd];
    buf[len] = '\0';
    return len;
  }
  return 0;
}

/* Write n as Lua's tostring does (%.14g, "2.0", "inf"); return the length. */
static size_t fmt_float_lua(char *buf, lua_Number n) {
  size_t len = fmt_float_fixed(buf, n, 14);
  if (len > 0) return len;
  len = (size_t)snprintf(buf, NUMBUF, LUA_NUMBER_FMT, (LUAI_UACNUMBER)n);
  return float_suffix(buf, len);
}

/* Write finite n with the fewest digits that read back as the same double
** ("0.1", not "0.10000000000000001"); return the length. */
static size_t fmt_float_exact(char *buf, lua_Number n) {
  size_t fixed = fmt_float_fixed(buf, n, 15);
  int len = 0;
  if (fixed > 0) return fixed;
  for (int prec = 15; prec <= 17; prec++) {
    len = snprintf(buf, NUMBUF, "%.*g", prec, (double)n);
    if (strtod(buf, NULL) == (double)n) break;
  }
  return float_suffix(buf, (size_t)len);
}

/* ASCII classes without the locale's help. */
static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_letter(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* True if s is a Lua name that is not a reserved word. */
static int is_identifier(const char *s, size_t len) {
  static const char *const reserved[] = {
    "and", "break", "do", "else", "elseif", "end", "false", "for",
    "function", "goto", "if", "in", "local", "nil", "not", "or", "repeat",
    "return", "then", "true", "until", "while", NULL
  };
  if (len == 0 || !(s[0] == '_' || is_letter(s[0]))) return 0;
  for (size_t i = 1; i < len; i++)
    if (!(s[i] == '_' || is_letter(s[i]) || is_digit(s[i]))) return 0;
  for (int i = 0; reserved[i]; i++)
    if (strlen(reserved[i]) == len && memcmp(reserved[i], s, len) == 0)
      return 0;
  return 1;
}

/* Append s as a Lua string literal that reads well: UTF-8 letters kept,
** control bytes, invalid bytes, C1 controls and bidirectional overrides
** escaped, so that nothing in it can disturb the terminal. */
static void quote_lua(struct scratch *sc, struct sbuf *b, const char *s,
                      size_t len) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  char esc[32];
  sb_char(sc, b, '"');
  while (i < len) {
    unsigned c = p[i];
    long cp;
    size_t n;
    const char *e = NULL;
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      size_t j = i + 1;  /* copy the run of plain ASCII at once */
      while (j < len && p[j] >= 0x20 && p[j] < 0x7F && p[j] != '"' &&
             p[j] != '\\')
        j++;
      sb_add(sc, b, s + i, j - i);
      i = j;
      continue;
    }
    switch (c) {
      case '"': e = "\\\""; break;
      case '\\': e = "\\\\"; break;
      case '\a': e = "\\a"; break;
      case '\b': e = "\\b"; break;
      case '\f': e = "\\f"; break;
      case '\n': e = "\\n"; break;
      case '\r': e = "\\r"; break;
      case '\t': e = "\\t"; break;
      case '\v': e = "\\v"; break;
      default: break;
    }
    if (e) { sb_str(sc, b, e); i++; continue; }
    if (c < 0x80) {  /* other controls and DEL, as %q writes them */
      int digit_follows = i + 1 < len && is_digit(p[i + 1]);
      snprintf(esc, sizeof esc, digit_follows ? "\\%03u" : "\\%u", c);
      sb_str(sc, b, esc);
      i++;
      continue;
    }
    n = utf8_decode(p + i, len - i, &cp);
    if (cp < 0) {
      int digit_follows = i + 1 < len && is_digit(p[i + 1]);
      snprintf(esc, sizeof esc, digit_follows ? "\\%03u" : "\\%u", c);
      sb_str(sc, b, esc);
    } else if (cp < 0xA0 || (cp >= 0x202A && cp <= 0x202E) ||
               (cp >= 0x2066 && cp <= 0x2069)) {
      snprintf(esc, sizeof esc, "\\u{%lX}", cp);
      sb_str(sc, b, esc);
    } else {
      sb_add(sc, b, s + i, n);
    }
    i += n;
  }
  sb_char(sc, b, '"');
}

/* Append s as a JSON string: UTF-8 kept, controls escaped, bytes that are
** not UTF-8 replaced by U+FFFD so that the output is always valid JSON. */
static void quote_json(struct scratch *sc, struct sbuf *b, const char *s,
                       size_t len) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  sb_char(sc, b, '"');
  while (i < len) {
    size_t j = i;
    while (j < len && p[j] >= 0x20 && p[j] < 0x80 && p[j] != '"' &&
           p[j] != '\\')
      j++;
    if (j > i) { sb_add(sc, b, s + i, j - i); i = j; continue; }
    unsigned c = p[i];
    if (c >= 0x80) {
      long cp;
      size_t n = utf8_decode(p + i, len - i, &cp);
      if (cp < 0) sb_str(sc, b, "\\ufffd");
      else sb_add(sc, b, s + i, n);
      i += n;
      continue;
    }
    switch (c) {
      case '"': sb_str(sc, b, "\\\""); break;
      case '\\': sb_str(sc, b, "\\\\"); break;
      case '\b': sb_str(sc, b, "\\b"); break;
      case '\f': sb_str(sc, b, "\\f"); break;
      case '\n': sb_str(sc, b, "\\n"); break;
      case '\r': sb_str(sc, b, "\\r"); break;
      case '\t': sb_str(sc, b, "\\t"); break;
      default: {
        char esc[8];
        snprintf(esc, sizeof esc, "\\u%04x", c);
        sb_str(sc, b, esc);
      }
    }
    i++;
  }
  sb_char(sc, b, '"');
}

/* A csv separator and the bytes that may force quoting: quote, CR, LF and
** the separator's first byte (as a strcspn set). */
struct csv_sep { char reject[5]; const char *sep; size_t seplen; };

/* Fill cs for the separator sep (seplen > 0). */
static void csv_sep_init(struct csv_sep *cs, const char *sep, size_t seplen) {
  memcpy(cs->reject, "\"\r\n", 4);
  cs->reject[3] = sep[0];  /* NUL ends the set: such a separator is found
                              where strcspn stops at a NUL anyway */
  cs->reject[4] = '\0';
  cs->sep = sep;
  cs->seplen = seplen;
}

/* True if the field s must be quoted.  s[len] must be NUL, as for every
** Lua string: strcspn (vectorised in glibc) does the scanning. */
static int csv_needs_quote(const char *s, size_t len,
                           const struct csv_sep *cs) {
  size_t i = 0;
  while ((i += strcspn(s + i, cs->reject)) < len) {
    char c = s[i];
    if (c == '"' || c == '\r' || c == '\n') return 1;
    if (c == cs->sep[0] && len - i >= cs->seplen &&
        memcmp(s + i, cs->sep, cs->seplen) == 0)
      return 1;
    i++;  /* an embedded NUL, or a longer separator's first byte only */
  }
  return 0;
}

/* Append the Lua string s as one CSV field (RFC 4180): quoted, with quotes
** doubled, when it holds the separator, a quote, CR or LF. */
static void quote_csv(struct scratch *sc, struct sbuf *b, const char *s,
                      size_t len, const struct csv_sep *cs) {
  int quote = csv_needs_quote(s, len, cs);
  if (!quote) { sb_add(sc, b, s, len); return; }
  sb_char(sc, b, '"');
  for (;;) {
    const char *q = memchr(s, '"', len);
    if (q == NULL) break;
    sb_add(sc, b, s, (size_t)(q - s) + 1);
    sb_char(sc, b, '"');
    len -= (size_t)(q - s) + 1;
    s = q + 1;
  }
  sb_add(sc, b, s, len);
  sb_char(sc, b, '"');
}

/* How display_text lays a cell out. */
enum { DISPLAY_GRID = 1, DISPLAY_MARKDOWN = 2, DISPLAY_LINE = 4 };

/* Append s to b as it should appear on a terminal (see the file comment);
** return the width of its widest line and count its lines in *lines. */
static size_t display_text(struct scratch *sc, struct sbuf *b, const char *s,
                           size_t len, int how, size_t *lines) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0, col = 0, widest = 0;
  *lines = 1;
  while (i < len) {
    unsigned c = p[i];
    if (c >= 0x20 && c < 0x7F) {
      size_t j = i + 1;  /* copy the run of plain ASCII at once */
      while (j < len && p[j] >= 0x20 && p[j] < 0x7F && p[j] != '|') j++;
      if (c == '|' && (how & DISPLAY_MARKDOWN)) {
        sb_add(sc, b, "\\|", 2);
        col += 2;
        i++;
        continue;
      }
      sb_add(sc, b, s + i, j - i);
      col += j - i;
      i = j;
    } else if (c >= 0x80) {
      long cp;
      size_t n = utf8_decode(p + i, len - i, &cp);
      sb_add(sc, b, s + i, n);
      col += (size_t)char_width(cp);
      i += n;
    } else if (c == '\n' || c == '\r') {
      i += (c == '\r' && i + 1 < len && p[i + 1] == '\n') ? 2 : 1;
      sb_char(sc, b, '\n');
      if (col > widest) widest = col;
      col = 0;
      (*lines)++;
    } else if (c == '\t' && (how & DISPLAY_LINE)) {
      sb_char(sc, b, '\t');
      col = (col / 8 + 1) * 8;
      i++;
    } else if (c == '\t') {
      size_t stop = (col / 8 + 1) * 8;
      sb_repeat(sc, b, " ", stop - col);
      col = stop;
      i++;
    } else {  /* other controls and DEL in caret notation: ESC is ^[ */
      char caret[2] = { '^', (char)(c ^ 0x40) };
      sb_add(sc, b, caret, 2);
      col += 2;
      i++;
    }
  }
  return col > widest ? col : widest;
}

/* }==================================================================== */

/* {====================================================================
** Output modes and options
** ===================================================================== */

enum { MODE_BOX, MODE_TABLE, MODE_MARKDOWN, MODE_CSV, MODE_JSON, MODE_LINE };
static const char *const mode_names[] = {
  "box", "table", "markdown", "csv", "json", "line", NULL
};
#define MODE_KEY "koop.mode"  /* registry field holding the current mode */
#define RESULTSET_MT "koop.ResultSet"
#define MORE_HINT "(use .mode csv or print(x) for all)"

/* Raise an "invalid" error object about field; fmt is lua_pushfstring's. */
static int raise_invalid(lua_State *L, const char *field, const char *fmt,
                         ...) {
  va_list ap;
  const char *msg;
  va_start(ap, fmt);
  msg = lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  return koop_error_raise(L, "invalid", field, "%s", msg);
}

/* Index of the mode called name, or -1. */
static int mode_find(const char *name) {
  for (int i = 0; mode_names[i]; i++)
    if (strcmp(mode_names[i], name) == 0) return i;
  return -1;
}

/* Index of the mode named by the string at idx, or raise "invalid". */
static int mode_check(lua_State *L, int idx) {
  int m = lua_type(L, idx) == LUA_TSTRING ? mode_find(lua_tostring(L, idx))
                                          : -1;
  if (m < 0 && lua_type(L, idx) == LUA_TSTRING)
    raise_invalid(L, "mode", "unknown output mode '%s' (valid modes: box, "
                  "table, markdown, csv, json, line)", lua_tostring(L, idx));
  if (m < 0)
    raise_invalid(L, "mode", "the output mode must be a name, not %s "
                  "(valid modes: box, table, markdown, csv, json, line)",
                  luaL_typename(L, idx));
  return m;
}

/* Index of the current output mode. */
static int mode_current(lua_State *L) {
  int m;
  lua_getfield(L, LUA_REGISTRYINDEX, MODE_KEY);
  m = lua_type(L, -1) == LUA_TSTRING ? mode_find(lua_tostring(L, -1)) : -1;
  lua_pop(L, 1);
  return m < 0 ? MODE_BOX : m;
}

/* The count opts[name] (a whole number >= min, math.huge for no limit),
** or dflt when it is absent; anything else raises "invalid". */
static size_t opt_count(lua_State *L, int opts, const char *name,
                        size_t dflt, size_t min) {
  size_t v = dflt;
  if (opts == 0) return dflt;
  lua_getfield(L, opts, name);
  if (!lua_isnil(L, -1)) {
    int isnum;
    lua_Number n = lua_tonumberx(L, -1, &isnum);
    if (!isnum || lua_type(L, -1) != LUA_TNUMBER || n != floor(n) ||
        n < (lua_Number)min)
      raise_invalid(L, name,
                    "option '%s' must be a whole number of at least %d",
                    name, (int)min);
    v = n >= (lua_Number)(SIZE_MAX / 4) ? SIZE_MAX / 4 : (size_t)n;
  }
  lua_pop(L, 1);
  return v;
}

/* The mode opts.mode names, else the current one. */
static int opt_mode(lua_State *L, int opts) {
  int mode;
  if (opts == 0) return mode_current(L);
  lua_getfield(L, opts, "mode");
  mode = lua_isnil(L, -1) ? mode_current(L) : mode_check(L, -1);
  lua_pop(L, 1);
  return mode;
}

/* The table argument at idx as absolute index, 0 when none/nil; anything
** else raises "invalid". */
static int opt_table(lua_State *L, int idx) {
  if (lua_isnoneornil(L, idx)) return 0;
  if (!lua_istable(L, idx))
    raise_invalid(L, "opts", "options must be a table, not %s",
                  luaL_typename(L, idx));
  return lua_absindex(L, idx);
}

/* Width to wrap to: $COLUMNS, else the terminal's width when stdout is a
** terminal, else 80 (so output is the same in pipes and tests). */
static size_t terminal_width(void) {
  const char *env = getenv("COLUMNS");
  struct winsize ws;
  if (env && *env) {
    char *end;
    long n = strtol(env, &end, 10);
    if (*end == '\0' && n > 0 && n < 100000) return (size_t)n;
  }
  if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
      ws.ws_col > 0)
    return ws.ws_col;
  return 80;
}

/* }==================================================================== */

/* {====================================================================
** Pretty-printing Lua values
** ===================================================================== */

/* Tables nest at most this deep in the output whatever opts.depth says:
** the printer recurses in C (Lua's own C-call limit is 200 too). */
#define PP_DEPTH_MAX 200

struct pp {
  lua_State *L;
  struct scratch *sc;
  struct sbuf *out;
  int visited;    /* stack index: set of the tables being printed */
  int rsmt;       /* stack index: the ResultSet metatable */
  size_t width, depth, items;
};

/* One key of a table, for sorting: numbers first (by value), then strings
** (byte order), then other types by type; ties keep traversal order. */
struct keyref {
  int rank;
  int isint;
  lua_Integer i;
  lua_Number n;
  const char *s;
  size_t len;
  int pos;        /* index into the keys table */
};

/* qsort comparison for struct keyref. */
static int keyref_cmp(const void *va, const void *vb) {
  const struct keyref *a = va, *b = vb;
  if (a->rank != b->rank) return a->rank < b->rank ? -1 : 1;
  if (a->rank == 0) {
    if (a->isint && b->isint) {
      if (a->i != b->i) return a->i < b->i ? -1 : 1;
    } else if (a->n != b->n) {
      return a->n < b->n ? -1 : 1;
    }
  } else if (a->rank == 1) {
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->s, b->s, n);
    if (c != 0) return c;
    if (a->len != b->len) return a->len < b->len ? -1 : 1;
  } else if (a->rank == 2 && a->i != b->i) {
    return a->i < b->i ? -1 : 1;  /* false before true */
  }
  return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* The entries of a table in print order: t[1..narray], then the other
** keys sorted; `keys` and `order` live on the stack. */
struct entries {
  size_t narray, nother;
  int keys;
  struct keyref *order;
};

/* Collect the entries of the table at t; pushes two values. */
static void entries_collect(lua_State *L, int t, struct entries *e) {
  lua_Integer n = 0;
  size_t count = 0;
  while (lua_rawgeti(L, t, n + 1) != LUA_TNIL) { lua_pop(L, 1); n++; }
  lua_pop(L, 1);
  e->narray = (size_t)n;
  lua_newtable(L);
  e->keys = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    if (lua_isinteger(L, -1)) {
      lua_Integer k = lua_tointeger(L, -1);
      if (k >= 1 && k <= n) continue;
    }
    lua_pushvalue(L, -1);
    lua_rawseti(L, e->keys, (lua_Integer)++count);
  }
  e->nother = count;
  e->order = lua_newuserdatauv(L, (count ? count : 1) * sizeof *e->order, 0);
  for (size_t j = 0; j < count; j++) {
    struct keyref *r = &e->order[j];
    int type = lua_rawgeti(L, e->keys, (lua_Integer)j + 1);
    memset(r, 0, sizeof *r);
    r->pos = (int)j + 1;
    if (type == LUA_TNUMBER) {
      r->rank = 0;
      r->isint = lua_isinteger(L, -1);
      r->i = lua_tointeger(L, -1);
      r->n = lua_tonumber(L, -1);
    } else if (type == LUA_TSTRING) {
      r->rank = 1;
      r->s = lua_tolstring(L, -1, &r->len);  /* anchored by `keys` */
    } else if (type == LUA_TBOOLEAN) {
      r->rank = 2;
      r->i = lua_toboolean(L, -1);
    } else {
      r->rank = 3 + type;
    }
    lua_pop(L, 1);
  }
  if (count > 1) qsort(e->order, count, sizeof *e->order, keyref_cmp);
}

/* Push the key and value of entry j; return 1 for an array entry. */
static int entry_push(lua_State *L, int t, struct entries *e, size_t j) {
  if (j < e->narray) {
    lua_pushinteger(L, (lua_Integer)j + 1);
    lua_rawgeti(L, t, (lua_Integer)j + 1);
    return 1;
  }
  lua_rawgeti(L, e->keys, e->order[j - e->narray].pos);
  lua_pushvalue(L, -1);
  lua_rawget(L, t);
  return 0;
}

/* Append text to the output, charging its width to *budget; return 0 when
** the budget is exceeded (SIZE_MAX means no limit). */
static int pp_put(struct pp *p, const char *s, size_t len, size_t *budget) {
  sb_add(p->sc, p->out, s, len);
  if (*budget == SIZE_MAX) return 1;
  size_t w = koop_utf8_width(s, len);
  if (w > *budget) return 0;
  *budget -= w;
  return 1;
}

/* Push "<Name>" for the value at idx: its metatable's __name, else its
** type. */
static void push_name(lua_State *L, int idx) {
  int type = luaL_getmetafield(L, idx, "__name");
  if (type == LUA_TSTRING) {
    lua_pushfstring(L, "<%s>", lua_tostring(L, -1));
    lua_remove(L, -2);
    return;
  }
  if (type != LUA_TNIL) lua_pop(L, 1);
  lua_pushfstring(L, "<%s>", luaL_typename(L, idx));
}

/* Push the result of the __tostring metamethod of the value at idx, called
** under lua_pcall, and return 1; return 0 if there is none.  When it fails
** or returns no string, push "<Name>" instead (Name from __name).  Errors
** from Ctrl-C or memory exhaustion are raised again, not hidden. */
static int push_tostring(lua_State *L, int idx) {
  int status;
  idx = lua_absindex(L, idx);
  if (luaL_getmetafield(L, idx, "__tostring") == LUA_TNIL) return 0;
  lua_pushvalue(L, idx);
  status = lua_pcall(L, 1, 1, 0);
  if (status == LUA_OK && lua_type(L, -1) == LUA_TSTRING) return 1;
  if (status == LUA_ERRMEM || (status != LUA_OK && koop_interrupted()))
    lua_error(L);
  lua_pop(L, 1);
  push_name(L, idx);
  return 1;
}

/* True if the value at idx is a result set. */
static int is_resultset(lua_State *L, int idx, int rsmt) {
  int yes;
  if (!lua_istable(L, idx) || !lua_getmetatable(L, idx)) return 0;
  yes = lua_rawequal(L, -1, rsmt);
  lua_pop(L, 1);
  return yes;
}

/* True if the value at idx prints as a Lua table constructor: a table
** without __tostring that is not a result set. */
static int pp_is_plain_table(struct pp *p, int idx) {
  lua_State *L = p->L;
  int plain;
  if (!lua_istable(L, idx)) return 0;
  if (is_resultset(L, idx, p->rsmt)) return 0;
  plain = luaL_getmetafield(L, idx, "__tostring") == LUA_TNIL;
  if (!plain) lua_pop(L, 1);
  return plain;
}

/* Append the value at idx that is not a plain table: strings quoted,
** numbers as Lua writes them, others through __tostring or by name. */
static int pp_atom(struct pp *p, int idx, size_t *budget) {
  lua_State *L = p->L;
  char buf[NUMBUF];
  size_t len;
  switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
      size_t mark = p->out->n;
      const char *s = lua_tolstring(L, idx, &len);
      quote_lua(p->sc, p->out, s, len);
      if (*budget == SIZE_MAX) return 1;
      len = koop_utf8_width(p->out->p + mark, p->out->n - mark);
      if (len > *budget) return 0;
      *budget -= len;
      return 1;
    }
    case LUA_TNUMBER:
      len = lua_isinteger(L, idx) ? fmt_integer(buf, lua_tointeger(L, idx))
                                  : fmt_float_lua(buf, lua_tonumber(L, idx));
      return pp_put(p, buf, len, budget);
    case LUA_TNIL: return pp_put(p, "nil", 3, budget);
    case LUA_TBOOLEAN:
      return lua_toboolean(L, idx) ? pp_put(p, "true", 4, budget)
                                   : pp_put(p, "false", 5, budget);
    case LUA_TFUNCTION: {
      lua_Debug ar;
      int ok;
      lua_pushvalue(L, idx);
      lua_getinfo(L, ">S", &ar);
      if (ar.what[0] == 'C') return pp_put(p, "function: builtin", 17, budget);
      lua_pushfstring(L, "function: %s:%d", ar.short_src, ar.linedefined);
      ok = pp_put(p, lua_tostring(L, -1), lua_rawlen(L, -1), budget);
      lua_pop(L, 1);
      return ok;
    }
    default: {
      int ok;
      if (is_resultset(L, idx, p->rsmt)) {
        lua_Unsigned n = lua_rawlen(L, idx);
        lua_pushfstring(L, "<ResultSet: %I row%s>", (lua_Integer)n,
                        n == 1 ? "" : "s");
      } else if (!push_tostring(L, idx)) {
        push_name(L, idx);
      }
      ok = pp_put(p, lua_tostring(L, -1), lua_rawlen(L, -1), budget);
      lua_pop(L, 1);
      return ok;
    }
  }
}

/* Append the key part of an entry (`name = `, `["a b"] = `, `[2] = `). */
static int pp_compact(struct pp *p, int idx, size_t level, size_t *budget);

static int pp_key(struct pp *p, int key, size_t level, size_t *budget) {
  lua_State *L = p->L;
  size_t len;
  if (lua_type(L, key) == LUA_TSTRING) {
    const char *s = lua_tolstring(L, key, &len);
    if (is_identifier(s, len))
      return pp_put(p, s, len, budget) && pp_put(p, " = ", 3, budget);
  }
  return pp_put(p, "[", 1, budget) && pp_compact(p, key, level, budget) &&
         pp_put(p, "] = ", 4, budget);
}

/* Append "{…}" or "<cycle>" (returning 1) when the table at t must not be
** expanded at this level; return 0 otherwise, appending nothing. */
static int pp_cut(struct pp *p, int t, size_t level, size_t *budget,
                  int *fits) {
  lua_State *L = p->L;
  lua_pushvalue(L, t);
  if (lua_rawget(L, p->visited) != LUA_TNIL) {
    lua_pop(L, 1);
    *fits = pp_put(p, "<cycle>", 7, budget);
    return 1;
  }
  lua_pop(L, 1);
  if (level > p->depth) {
    int empty;
    lua_pushnil(L);
    empty = !lua_next(L, t);
    if (!empty) lua_pop(L, 2);
    *fits = empty ? pp_put(p, "{}", 2, budget) : pp_put(p, "{…}", 5, budget);
    return 1;
  }
  return 0;
}

/* Mark the table at t as being printed (on = 1) or done (on = 0). */
static void pp_visit(struct pp *p, int t, int on) {
  lua_pushvalue(p->L, t);
  if (on) lua_pushboolean(p->L, 1);
  else lua_pushnil(p->L);
  lua_rawset(p->L, p->visited);
}

/* Append the "… (N more)" entry for a table with `total` entries. */
static int pp_more(struct pp *p, size_t total, size_t *budget) {
  char buf[48];
  int len = snprintf(buf, sizeof buf, "… (%zu more)", total - p->items);
  return pp_put(p, buf, (size_t)len, budget);
}

/* Append the value at idx on one line; return 0 as soon as it is wider
** than *budget (the output is then incomplete and the caller drops it). */
static int pp_compact(struct pp *p, int idx, size_t level, size_t *budget) {
  lua_State *L = p->L;
  struct entries e;
  size_t total, shown, j;
  int fits = 1;
  idx = lua_absindex(L, idx);
  if (!pp_is_plain_table(p, idx)) return pp_atom(p, idx, budget);
  if (pp_cut(p, idx, level, budget, &fits)) return fits;
  luaL_checkstack(L, 8, "nested too deeply");
  entries_collect(L, idx, &e);
  total = e.narray + e.nother;
  shown = total < p->items ? total : p->items;
  if (total == 0) {
    fits = pp_put(p, "{}", 2, budget);
    goto done;
  }
  pp_visit(p, idx, 1);
  fits = pp_put(p, "{ ", 2, budget);
  for (j = 0; fits && j < shown; j++) {
    int array = entry_push(L, idx, &e, j);
    if (j > 0) fits = pp_put(p, ", ", 2, budget);
    if (fits && !array) fits = pp_key(p, lua_gettop(L) - 1, level + 1, budget);
    if (fits) fits = pp_compact(p, -1, level + 1, budget);
    lua_pop(L, 2);
  }
  if (fits && total > shown)
    fits = pp_put(p, ", ", 2, budget) && pp_more(p, total, budget);
  if (fits) fits = pp_put(p, " }", 2, budget);
  pp_visit(p, idx, 0);
done:
  lua_pop(L, 2);
  return fits;
}

/* Append the value at idx laid out for the width: on one line when it fits
** in `avail` columns, else one entry per line indented by indent + 2. */
static void pp_layout(struct pp *p, int idx, size_t level, size_t indent,
                      size_t avail) {
  lua_State *L = p->L;
  struct entries e;
  size_t total, shown, j, mark = p->out->n, budget = avail;
  size_t unlimited = SIZE_MAX;
  int fits;
  idx = lua_absindex(L, idx);
  if (!pp_is_plain_table(p, idx)) { pp_atom(p, idx, &unlimited); return; }
  if (pp_compact(p, idx, level, &budget)) return;
  p->out->n = mark;
  if (pp_cut(p, idx, level, &unlimited, &fits)) return;
  luaL_checkstack(L, 8, "nested too deeply");
  entries_collect(L, idx, &e);
  total = e.narray + e.nother;
  shown = total < p->items ? total : p->items;
  pp_visit(p, idx, 1);
  sb_str(p->sc, p->out, "{\n");
  for (j = 0; j < shown; j++) {
    size_t keymark, used;
    int array = entry_push(L, idx, &e, j);
    sb_repeat(p->sc, p->out, " ", indent + 2);
    keymark = p->out->n;
    if (!array) pp_key(p, lua_gettop(L) - 1, level + 1, &unlimited);
    used = indent + 2 + koop_utf8_width(p->out->p + keymark,
                                        p->out->n - keymark) + 1;
    pp_layout(p, -1, level + 1, indent + 2,
              p->width > used ? p->width - used : 1);
    lua_pop(L, 2);
    if (j + 1 < total) sb_char(p->sc, p->out, ',');
    sb_char(p->sc, p->out, '\n');
  }
  if (total > shown) {
    sb_repeat(p->sc, p->out, " ", indent + 2);
    pp_more(p, total, &unlimited);
    sb_char(p->sc, p->out, '\n');
  }
  sb_repeat(p->sc, p->out, " ", indent);
  sb_char(p->sc, p->out, '}');
  pp_visit(p, idx, 0);
  lua_pop(L, 2);
}

/* Start a pretty-printer writing to out; pushes two values. */
static void pp_init(struct pp *p, lua_State *L, struct scratch *sc,
                    struct sbuf *out) {
  p->L = L;
  p->sc = sc;
  p->out = out;
  p->width = 80;
  p->depth = 5;
  p->items = 100;
  lua_newtable(L);
  p->visited = lua_gettop(L);
  luaL_getmetatable(L, RESULTSET_MT);
  p->rsmt = lua_gettop(L);
}

/* }==================================================================== */

/* {====================================================================
** Result sets: columns, rows and cells
** ===================================================================== */

enum cell_kind { CELL_NULL, CELL_INT, CELL_FLOAT, CELL_BOOL, CELL_TEXT };

/* One cell's value, read from the top of the stack. */
struct cell_value {
  enum cell_kind kind;
  const char *s;      /* text of strings, numbers and booleans */
  size_t len;
  lua_Number n;       /* CELL_FLOAT */
  char buf[NUMBUF];
};

/* A buffered cell of the columnar modes: its display text in the arena. */
struct cell {
  size_t off, len;
  size_t width;       /* width of its widest line */
  size_t lines;
  int right;          /* right-aligned (numbers) */
};

struct render {
  lua_State *L;
  struct scratch *sc;
  int rows;           /* stack index of the rows */
  size_t nrows, ncols;
  int keys;           /* stack index of the first of ncols column names */
  int null;           /* stack index of koop.null (or nil) */
  int mode;
  size_t max_rows;    /* rows shown */
  size_t width;       /* columnar modes: 0, or the width to truncate to */
  const char *sep;    /* csv */
  size_t seplen;
  int crlf, header;
};

/* qsort comparison of Lua strings held as (pointer, length) pairs. */
struct lstr { const char *s; size_t len; };
static int lstr_cmp(const void *va, const void *vb) {
  const struct lstr *a = va, *b = vb;
  size_t n = a->len < b->len ? a->len : b->len;
  int c = memcmp(a->s, b->s, n);
  return c != 0 ? c : (a->len > b->len) - (a->len < b->len);
}

/* Raise "invalid" unless the value of row r, of Lua type `type`, can be a
** row: a table, or an object whose fields come through __index. */
static void row_check(lua_State *L, int type, lua_Integer r) {
  if (type != LUA_TTABLE && type != LUA_TUSERDATA)
    raise_invalid(L, "rows", "row %I is %s%s, not a table", r,
                  type == LUA_TNIL ? "" : "a ", lua_typename(L, type));
}

/* Fill the array at `cols` with the sorted union of the string keys of
** the rows (raw keys: an object's __index is not asked); return the count. */
static size_t columns_union(lua_State *L, int rows, int cols) {
  lua_Unsigned nrows = lua_rawlen(L, rows);
  size_t n = 0, k = 0;
  int set, row;
  struct lstr *names;
  lua_newtable(L);
  set = lua_gettop(L);
  for (lua_Unsigned r = 1; r <= nrows; r++) {
    int type = lua_rawgeti(L, rows, (lua_Integer)r);
    row_check(L, type, (lua_Integer)r);
    row = lua_gettop(L);
    if (type == LUA_TTABLE) {
      lua_pushnil(L);
      while (lua_next(L, row)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) continue;
        lua_pushvalue(L, -1);
        if (lua_rawget(L, set) == LUA_TNIL) {
          lua_pushvalue(L, -2);
          lua_pushboolean(L, 1);
          lua_rawset(L, set);
          n++;
        }
        lua_pop(L, 1);
      }
    }
    lua_pop(L, 1);
  }
  names = lua_newuserdatauv(L, (n ? n : 1) * sizeof *names, 0);
  lua_pushnil(L);
  while (lua_next(L, set)) {
    lua_pop(L, 1);
    names[k].s = lua_tolstring(L, -1, &names[k].len);  /* anchored by set */
    k++;
  }
  qsort(names, n, sizeof *names, lstr_cmp);
  for (k = 0; k < n; k++) {
    lua_pushlstring(L, names[k].s, names[k].len);
    lua_rawseti(L, cols, (lua_Integer)k + 1);
  }
  lua_pop(L, 2);
  return n;
}

/* Push a new array of the column names: `given` (a stack index, or 0),
** else rows.columns, else the sorted union of the rows' string keys.
** Return how many there are. */
static size_t columns_push(lua_State *L, int rows, int given) {
  size_t n = 0;
  int cols, src;
  lua_newtable(L);
  cols = lua_gettop(L);
  if (given) {
    lua_pushvalue(L, given);
  } else {  /* a raw field: never ask a result set's __index */
    lua_pushliteral(L, "columns");
    lua_rawget(L, rows);
  }
  src = lua_gettop(L);
  if (!lua_istable(L, src)) {
    lua_pop(L, 1);
    return columns_union(L, rows, cols);
  }
  for (lua_Integer i = 1; lua_rawgeti(L, src, i) != LUA_TNIL; i++) {
    if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
      raise_invalid(L, "columns", "column %I is a %s, not a name", i,
                    luaL_typename(L, -1));
    lua_tostring(L, -1);  /* a number becomes its name */
    lua_rawseti(L, cols, i);
    n++;
  }
  lua_pop(L, 2);
  return n;
}

/* Push row r (1-based); raise "invalid" if it is not a table or object. */
static int row_push(struct render *rd, size_t r) {
  lua_State *L = rd->L;
  row_check(L, lua_rawgeti(L, rd->rows, (lua_Integer)r), (lua_Integer)r);
  return lua_gettop(L);
}

/* Write the text of a value that is not a string, number, boolean or
** NULL (a table, function, userdata) over it at the top of the stack. */
static void cell_stringify(struct render *rd) {
  lua_State *L = rd->L;
  struct pp p;
  size_t unlimited = SIZE_MAX;
  rd->sc->tmp.n = 0;
  pp_init(&p, L, rd->sc, &rd->sc->tmp);
  pp_compact(&p, -3, 1, &unlimited);
  lua_pop(L, 2);
  lua_pushlstring(L, rd->sc->tmp.p, rd->sc->tmp.n);
  lua_replace(L, -2);
}

/* Read the cell value on top of the stack (it stays there, anchoring the
** text); `exact` asks for round-trip floats (csv, json). */
static void cell_read(struct render *rd, struct cell_value *cv, int exact) {
  lua_State *L = rd->L;
  switch (lua_type(L, -1)) {
    case LUA_TNIL: cv->kind = CELL_NULL; cv->s = ""; cv->len = 0; return;
    case LUA_TNUMBER:
      if (lua_isinteger(L, -1)) {
        cv->kind = CELL_INT;
        cv->len = fmt_integer(cv->buf, lua_tointeger(L, -1));
      } else {
        cv->kind = CELL_FLOAT;
        cv->n = lua_tonumber(L, -1);
        cv->len = exact && isfinite(cv->n) ? fmt_float_exact(cv->buf, cv->n)
                                           : fmt_float_lua(cv->buf, cv->n);
      }
      cv->s = cv->buf;
      return;
    case LUA_TBOOLEAN:
      cv->kind = CELL_BOOL;
      cv->s = lua_toboolean(L, -1) ? "true" : "false";
      cv->len = strlen(cv->s);
      return;
    case LUA_TSTRING:
      break;
    default:
      if (!lua_isnil(L, rd->null) && lua_rawequal(L, -1, rd->null)) {
        cv->kind = CELL_NULL; cv->s = ""; cv->len = 0;
        return;
      }
      cell_stringify(rd);
      break;
  }
  cv->kind = CELL_TEXT;
  cv->s = lua_tolstring(L, -1, &cv->len);
}

/* Push the value of column c (0-based) of the row at stack index row. */
static void cell_push(struct render *rd, int row, size_t c) {
  lua_pushvalue(rd->L, rd->keys + (int)c);
  lua_gettable(rd->L, row);
}

/* Raise "interrupted" if Ctrl-C was pressed; checked every 1024 rows. */
static void check_interrupt(struct render *rd, size_t r) {
  if ((r & 1023) == 0 && koop_interrupted())
    koop_error_raise(rd->L, "interrupted", NULL, "interrupted");
}

/* Append the line saying how many rows were left out. */
static void more_rows(struct render *rd, struct sbuf *b, size_t more) {
  char buf[128];
  int len = snprintf(buf, sizeof buf, "… %zu more row%s " MORE_HINT "\n",
                     more, more == 1 ? "" : "s");
  sb_add(rd->sc, b, buf, (size_t)len);
}

/* Make room for a number written in place at the end of b. */
static char *number_slot(struct scratch *sc, struct sbuf *b) {
  if (b->cap - b->n < NUMBUF) sb_grow(sc, b, NUMBUF);
  return b->p + b->n;
}

/* Append the csv text of the cell value on top of the stack.  Strings and
** numbers, nearly every cell, take the short way: numbers are written in
** place, strings are scanned and copied once. */
static void csv_cell(struct render *rd, const struct csv_sep *cs) {
  lua_State *L = rd->L;
  struct scratch *sc = rd->sc;
  struct sbuf *b = &sc->out;
  struct cell_value cv;
  size_t len;
  const char *s;
  switch (lua_type(L, -1)) {
    case LUA_TNIL:
      return;
    case LUA_TSTRING:
      s = lua_tolstring(L, -1, &len);
      quote_csv(sc, b, s, len, cs);
      return;
    case LUA_TNUMBER:
      if (lua_isinteger(L, -1)) {
        b->n += fmt_integer(number_slot(sc, b), lua_tointeger(L, -1));
      } else {
        lua_Number n = lua_tonumber(L, -1);
        b->n += isfinite(n) ? fmt_float_exact(number_slot(sc, b), n)
                            : fmt_float_lua(number_slot(sc, b), n);
      }
      return;
    default:
      cell_read(rd, &cv, 1);
      if (cv.kind == CELL_TEXT) quote_csv(sc, b, cv.s, cv.len, cs);
      else sb_add(sc, b, cv.s, cv.len);
  }
}

/* csv: a header line, then one record per row (RFC 4180). */
static void render_csv(struct render *rd) {
  lua_State *L = rd->L;
  struct scratch *sc = rd->sc;
  struct sbuf *b = &sc->out;
  const char *eol = rd->crlf ? "\r\n" : "\n";
  size_t eollen = rd->crlf ? 2 : 1, shown;
  struct csv_sep cs;
  csv_sep_init(&cs, rd->sep, rd->seplen);
  if (rd->header && rd->ncols > 0) {
    for (size_t c = 0; c < rd->ncols; c++) {
      size_t len;
      const char *s = lua_tolstring(L, rd->keys + (int)c, &len);
      if (c > 0) sb_add(sc, b, rd->sep, rd->seplen);
      quote_csv(sc, b, s, len, &cs);
    }
    sb_add(sc, b, eol, eollen);
  }
  shown = rd->nrows < rd->max_rows ? rd->nrows : rd->max_rows;
  for (size_t r = 1; r <= shown; r++) {
    int row = row_push(rd, r);
    check_interrupt(rd, r);
    for (size_t c = 0; c < rd->ncols; c++) {
      if (c > 0) {
        if (rd->seplen == 1) sb_char(sc, b, rd->sep[0]);
        else sb_add(sc, b, rd->sep, rd->seplen);
      }
      cell_push(rd, row, c);  /* stays on the stack until the row is done */
      csv_cell(rd, &cs);
    }
    sb_add(sc, b, eol, eollen);
    lua_settop(L, row - 1);
  }
}

/* Append the JSON value of the cell on top of the stack (NULL is null,
** inf is 1e999 as sqlite3 writes it, NaN is null). */
static void json_cell(struct render *rd) {
  lua_State *L = rd->L;
  struct scratch *sc = rd->sc;
  struct sbuf *b = &sc->out;
  struct cell_value cv;
  if (lua_type(L, -1) == LUA_TNUMBER && lua_isinteger(L, -1)) {
    b->n += fmt_integer(number_slot(sc, b), lua_tointeger(L, -1));
    return;
  }
  cell_read(rd, &cv, 1);
  switch (cv.kind) {
    case CELL_NULL: sb_add(sc, b, "null", 4); break;
    case CELL_TEXT: quote_json(sc, b, cv.s, cv.len); break;
    case CELL_FLOAT:
      if (isnan(cv.n)) sb_add(sc, b, "null", 4);
      else if (isinf(cv.n)) sb_str(sc, b, cv.n > 0 ? "1e999" : "-1e999");
      else sb_add(sc, b, cv.s, cv.len);
      break;
    default: sb_add(sc, b, cv.s, cv.len); break;
  }
}

/* json: an array of objects in column order, one object per line, like
** sqlite3's .mode json (NULL is null, inf is 1e999, NaN is null). */
static void render_json(struct render *rd) {
  lua_State *L = rd->L;
  struct scratch *sc = rd->sc;
  struct sbuf *b = &sc->out;
  size_t shown = rd->nrows < rd->max_rows ? rd->nrows : rd->max_rows;
  size_t *keyoff = lua_newuserdatauv(L, (rd->ncols + 1) * sizeof *keyoff, 0);
  /* the `"name":` prefixes, escaped once, kept in the arena */
  sc->arena.n = 0;
  for (size_t c = 0; c < rd->ncols; c++) {
    size_t len;
    const char *s = lua_tolstring(L, rd->keys + (int)c, &len);
    keyoff[c] = sc->arena.n;
    quote_json(sc, &sc->arena, s, len);
    sb_char(sc, &sc->arena, ':');
  }
  keyoff[rd->ncols] = sc->arena.n;
  sb_char(sc, b, '[');
  for (size_t r = 1; r <= shown; r++) {
    int row = row_push(rd, r);
    check_interrupt(rd, r);
    if (r > 1) sb_add(sc, b, ",\n", 2);
    sb_char(sc, b, '{');
    for (size_t c = 0; c < rd->ncols; c++) {
      if (c > 0) sb_char(sc, b, ',');
      sb_add(sc, b, sc->arena.p + keyoff[c], keyoff[c + 1] - keyoff[c]);
      cell_push(rd, row, c);  /* stays on the stack until the row is done */
      json_cell(rd);
    }
    sb_char(sc, b, '}');
    lua_settop(L, row - 1);
  }
  sb_add(sc, b, "]\n", 2);
}

/* line: `name = value` per column, names right-aligned to the widest, a
** blank line between rows (sqlite3's .mode line). */
static void render_line(struct render *rd) {
  lua_State *L = rd->L;
  struct scratch *sc = rd->sc;
  struct sbuf *b = &sc->out;
  struct cell_value cv;
  size_t widest = 0, lines;
  size_t shown = rd->nrows < rd->max_rows ? rd->nrows : rd->max_rows;
  for (size_t c = 0; c < rd->ncols; c++) {
    size_t len, w;
    const char *s = lua_tolstring(L, rd->keys + (int)c, &len);
    w = koop_utf8_width(s, len);
    if (w > widest) widest = w;
  }
  for (size_t r = 1; r <= shown; r++) {
    int row = row_push(rd, r);
    check_interrupt(rd, r);
    if (r > 1) sb_char(sc, b, '\n');
    for (size_t c = 0; c < rd->ncols; c++) {
      size_t len;
      const char *name = lua_tolstring(L, rd->keys + (int)c, &len);
      sb_repeat(sc, b, " ", widest - koop_utf8_width(name, len));
      display_text(sc, b, name, len, DISPLAY_LINE, &lines);
      sb_add(sc, b, " = ", 3);
      cell_push(rd, row, c);
      cell_read(rd, &cv, 0);
      display_text(sc, b, cv.s, cv.len, DISPLAY_LINE, &lines);
      sb_char(sc, b, '\n');
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  if (rd->nrows > shown) {
    if (shown > 0) sb_char(sc, b, '\n');
    more_rows(rd, b, rd->nrows - shown);
  }
}

/* The strokes of a columnar mode. */
struct frame {
  const char *top[3], *rule[3], *bottom[3];  /* left, junction, right */
  const char *fill, *bar;
  int has_top, has_bottom, has_rules;
};

static const struct frame frame_box = {
  { "┌", "┬", "┐" }, { "├", "┼", "┤" }, { "└", "┴", "┘" }, "─", "│", 1, 1, 1
};
static const struct frame frame_table = {
  { "+", "+", "+" }, { "+", "+", "+" }, { "+", "+", "+" }, "-", "|", 1, 1, 1
};
static const struct frame frame_markdown = {
  { "|", "|", "|" }, { "|", "|", "|" }, { "|", "|", "|" }, "-", "|", 0, 0, 0
};

/* Append a horizontal line: left, then fill over each column, junctions
** between, right. */
static void grid_hline(struct scratch *sc, const char *const ends[3],
                       const char *fill, const size_t *widths, size_t ncols) {
  struct sbuf *b = &sc->out;
  sb_str(sc, b, ends[0]);
  for (size_t c = 0; c < ncols; c++) {
    if (c > 0) sb_str(sc, b, ends[1]);
    sb_repeat(sc, b, fill, widths[c] + 2);
  }
  sb_str(sc, b, ends[2]);
  sb_char(sc, b, '\n');
}

/* Append the cells of one grid row (header when `header`), each padded to
** its column's width, truncated with … when wider, one text line per
** line of the tallest cell. */
static void grid_row(struct render *rd, const struct frame *f,
                     const struct cell *cells, const size_t *widths,
                     const char **cursor, int header) {
  struct scratch *sc = rd->sc;
  struct sbuf *b = &sc->out;
  size_t ncols = rd->ncols, lines = 1;
  for (size_t c = 0; c < ncols; c++) {
    cursor[c] = sc->arena.p + cells[c].off;
    if (cells[c].lines > lines) lines = cells[c].lines;
  }
  for (size_t l = 0; l < lines; l++) {
    sb_str(sc, b, f->bar);
    for (size_t c = 0; c < ncols; c++) {
      const char *end = sc->arena.p + cells[c].off + cells[c].len;
      const char *s = cursor[c], *nl;
      size_t len = 0, w = 0, width = widths[c], left, ellipsis = 0;
      if (s != NULL) {
        nl = memchr(s, '\n', (size_t)(end - s));
        len = (size_t)((nl ? nl : end) - s);
        cursor[c] = nl ? nl + 1 : NULL;
        w = cells[c].lines == 1 ? cells[c].width : koop_utf8_width(s, len);
        if (w > width) {
          len = utf8_prefix(s, len, width - 1, &w);
          ellipsis = 1;
          w++;
        }
      }
      left = header ? (width - w) / 2 : cells[c].right ? width - w : 0;
      sb_char(sc, b, ' ');
      sb_repeat(sc, b, " ", left);
      sb_add(sc, b, s ? s : "", len);
      if (ellipsis) sb_str(sc, b, "…");
      sb_repeat(sc, b, " ", width - w - left);
      sb_char(sc, b, ' ');
      sb_str(sc, b, f->bar);
    }
    sb_char(sc, b, '\n');
  }
}

/* Shrink the widest columns until the grid fits rd->width columns. */
static void grid_fit(struct render *rd, size_t *widths) {
  size_t total = 1, ncols = rd->ncols;
  const size_t min = 3;
  for (size_t c = 0; c < ncols; c++) total += widths[c] + 3;
  while (total > rd->width) {
    size_t widest = 0;
    for (size_t c = 1; c < ncols; c++)
      if (widths[c] > widths[widest]) widest = c;
    if (widths[widest] <= min) break;
    widths[widest]--;
    total--;
  }
}

/* Store the display text of the cell value on top of the stack. */
static void grid_cell(struct render *rd, struct cell *cell, int how) {
  struct scratch *sc = rd->sc;
  struct cell_value cv;
  cell_read(rd, &cv, 0);
  cell->off = sc->arena.n;
  cell->width = display_text(sc, &sc->arena, cv.s, cv.len, how, &cell->lines);
  cell->len = sc->arena.n - cell->off;
  cell->right = cv.kind == CELL_INT || cv.kind == CELL_FLOAT;
}

/* box, table, markdown: read the shown rows into cells, size the columns,
** then draw (sqlite3's exec_prepared_stmt_columnar). */
static void render_grid(struct render *rd) {
  lua_State *L = rd->L;
  struct scratch *sc = rd->sc;
  const struct frame *f = rd->mode == MODE_BOX ? &frame_box
                        : rd->mode == MODE_TABLE ? &frame_table
                        : &frame_markdown;
  int how = DISPLAY_GRID | (rd->mode == MODE_MARKDOWN ? DISPLAY_MARKDOWN : 0);
  size_t ncols = rd->ncols, shown, total, r, c, *widths;
  struct cell *cells;
  const char **cursor;
  int multiline = 0;
  if (ncols == 0) return;
  shown = rd->nrows < rd->max_rows ? rd->nrows : rd->max_rows;
  total = (shown + 1) * ncols;
  if (total / ncols != shown + 1 || total > ((size_t)-1 / 2) / sizeof *cells)
    luaL_error(L, "not enough memory");
  sc->arena.n = sc->cells.n = 0;
  sb_grow(sc, &sc->cells, total * sizeof *cells);
  cells = (struct cell *)sc->cells.p;
  for (c = 0; c < ncols; c++) {
    lua_pushvalue(L, rd->keys + (int)c);
    grid_cell(rd, &cells[c], how);
    cells[c].right = 0;
    lua_pop(L, 1);
  }
  for (r = 1; r <= shown; r++) {
    int row = row_push(rd, r);
    check_interrupt(rd, r);
    for (c = 0; c < ncols; c++) {
      struct cell *cell = &cells[r * ncols + c];
      cell_push(rd, row, c);
      grid_cell(rd, cell, how);
      if (cell->lines > 1) multiline = 1;
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  widths = lua_newuserdatauv(L, ncols * sizeof *widths, 0);
  cursor = lua_newuserdatauv(L, ncols * sizeof *cursor, 0);
  for (c = 0; c < ncols; c++) {
    widths[c] = 0;
    for (r = 0; r <= shown; r++)
      if (cells[r * ncols + c].width > widths[c])
        widths[c] = cells[r * ncols + c].width;
  }
  if (rd->width > 0) grid_fit(rd, widths);
  if (f->has_top) grid_hline(sc, f->top, f->fill, widths, ncols);
  grid_row(rd, f, cells, widths, cursor, 1);
  grid_hline(sc, f->rule, f->fill, widths, ncols);
  for (r = 1; r <= shown; r++) {
    if (r > 1 && multiline && f->has_rules)
      grid_hline(sc, f->rule, f->fill, widths, ncols);
    grid_row(rd, f, cells + r * ncols, widths, cursor, 0);
  }
  if (f->has_bottom) grid_hline(sc, f->bottom, f->fill, widths, ncols);
  if (rd->nrows > shown) more_rows(rd, &sc->out, rd->nrows - shown);
  lua_pop(L, 2);
}

/* Render the rows at index `rows` into rd->sc->out in rd->mode, taking the
** columns from `given` (a stack index, or 0).  `up` is the koop table. */
static void render(struct render *rd, int rows, int given, int up) {
  lua_State *L = rd->L;
  int base = lua_gettop(L);
  rd->rows = rows;
  rd->nrows = (size_t)lua_rawlen(L, rows);
  lua_getfield(L, up, "null");
  rd->null = lua_gettop(L);
  rd->ncols = columns_push(L, rows, given);
  luaL_checkstack(L, (int)(rd->ncols < 1000000 ? rd->ncols : 1000000) + 20,
                  "too many columns");
  rd->keys = lua_gettop(L) + 1;
  for (size_t c = 0; c < rd->ncols; c++)
    lua_rawgeti(L, rd->keys - 1, (lua_Integer)c + 1);
  switch (rd->mode) {
    case MODE_CSV: render_csv(rd); break;
    case MODE_JSON: render_json(rd); break;
    case MODE_LINE: render_line(rd); break;
    default: render_grid(rd); break;
  }
  lua_settop(L, base);
}

/* Fill rd with defaults for mode: every row, no truncation, csv with ","
** and LF, and a header. */
static void render_init(struct render *rd, lua_State *L, struct scratch *sc,
                        int mode) {
  memset(rd, 0, sizeof *rd);
  rd->L = L;
  rd->sc = sc;
  rd->mode = mode;
  rd->max_rows = SIZE_MAX;
  rd->sep = ",";
  rd->seplen = 1;
  rd->header = 1;
}

/* Push the text in b without its final newline (print adds one). */
static void push_trimmed(lua_State *L, struct sbuf *b) {
  size_t n = b->n;
  if (n > 0 && b->p[n - 1] == '\n') n--;
  if (n > 0 && b->p[n - 1] == '\r') n--;
  lua_pushlstring(L, b->p ? b->p : "", n);
}

/* }==================================================================== */

/* {====================================================================
** Lua functions
** ===================================================================== */

/* koop.pretty(v [, opts]) -> the REPL's text for v (no final newline).
** opts: width, depth (5), items (100), max_rows (100), mode. */
static int l_pretty(lua_State *L) {
  int opts = opt_table(L, 2);
  struct scratch *sc;
  struct pp p;
  size_t width = opt_count(L, opts, "width", 0, 1);
  size_t depth = opt_count(L, opts, "depth", 5, 1);  /* at most PP_DEPTH_MAX */
  size_t items = opt_count(L, opts, "items", 100, 1);
  size_t max_rows = opt_count(L, opts, "max_rows", 100, 1);
  int mode = opt_mode(L, opts);
  luaL_checkany(L, 1);
  if (width == 0) width = terminal_width();
  if (lua_type(L, 1) == LUA_TSTRING) {
    lua_settop(L, 1);
    return 1;
  }
  sc = scratch_push(L);
  luaL_getmetatable(L, RESULTSET_MT);
  if (is_resultset(L, 1, lua_gettop(L))) {
    struct render rd;
    render_init(&rd, L, sc, mode);
    if (mode != MODE_CSV && mode != MODE_JSON) {
      rd.max_rows = max_rows;
      if (mode != MODE_LINE) rd.width = width;
    }
    render(&rd, 1, 0, lua_upvalueindex(1));
    if (sc->out.n == 0) sb_str(sc, &sc->out, "(no rows)");
    push_trimmed(L, &sc->out);
    return 1;
  }
  lua_pop(L, 1);
  pp_init(&p, L, sc, &sc->out);
  p.width = width;
  p.depth = depth < PP_DEPTH_MAX ? depth : PP_DEPTH_MAX;
  p.items = items;
  pp_layout(&p, 1, 1, 0, width);
  lua_pushlstring(L, sc->out.p ? sc->out.p : "", sc->out.n);
  return 1;
}

/* koop.format(rows [, mode [, opts]]) -> text, every line ending in a
** newline.  mode defaults to the current one (opts may stand in its
** place); opts: sep, crlf, header, columns, max_rows, width. */
static int l_format(lua_State *L) {
  struct render rd;
  struct scratch *sc;
  int mode, opts, given = 0;
  if (!lua_istable(L, 1))
    raise_invalid(L, "rows",
                  "koop.format expects rows (a table), got %s",
                  luaL_typename(L, 1));
  if (lua_istable(L, 2)) { lua_settop(L, 2); lua_pushnil(L); lua_insert(L, 2); }
  opts = opt_table(L, 3);
  mode = lua_isnoneornil(L, 2) ? opt_mode(L, opts) : mode_check(L, 2);
  lua_settop(L, 3);
  sc = scratch_push(L);
  render_init(&rd, L, sc, mode);
  if (opts) {
    rd.max_rows = opt_count(L, opts, "max_rows", SIZE_MAX, 0);
    rd.width = opt_count(L, opts, "width", 0, 1);
    if (lua_getfield(L, opts, "sep") != LUA_TNIL) {
      if (lua_type(L, -1) != LUA_TSTRING || lua_rawlen(L, -1) == 0)
        raise_invalid(L, "sep", "option 'sep' must be a non-empty string");
      rd.sep = lua_tolstring(L, -1, &rd.seplen);
    }
    lua_getfield(L, opts, "crlf");
    rd.crlf = lua_toboolean(L, -1);
    if (lua_getfield(L, opts, "header") != LUA_TNIL)
      rd.header = lua_toboolean(L, -1);
    if (lua_getfield(L, opts, "columns") != LUA_TNIL) {
      if (!lua_istable(L, -1))
        raise_invalid(L, "columns",
                      "option 'columns' must be an array of names");
      given = lua_gettop(L);
    }
  }
  render(&rd, 1, given, lua_upvalueindex(1));
  lua_pushlstring(L, sc->out.p ? sc->out.p : "", sc->out.n);
  return 1;
}

/* koop.mode([name]) -> the output mode in effect after the call. */
static int l_mode(lua_State *L) {
  if (!lua_isnoneornil(L, 1)) {
    int m = mode_check(L, 1);
    lua_pushstring(L, mode_names[m]);
    lua_setfield(L, LUA_REGISTRYINDEX, MODE_KEY);
  }
  lua_pushstring(L, mode_names[mode_current(L)]);
  return 1;
}

/* koop.resultset(rows [, columns]) -> rows, now a result set (prints as a
** table); columns, when given, becomes rows.columns. */
static int l_resultset(lua_State *L) {
  if (!lua_istable(L, 1))
    raise_invalid(L, "rows",
                  "koop.resultset expects rows (a table), got %s",
                  luaL_typename(L, 1));
  if (!lua_isnoneornil(L, 2)) {
    if (!lua_istable(L, 2))
      raise_invalid(L, "columns",
                    "columns must be an array of names, not %s",
                    luaL_typename(L, 2));
    lua_pushvalue(L, 2);
    lua_setfield(L, 1, "columns");
  }
  lua_settop(L, 1);
  luaL_setmetatable(L, RESULTSET_MT);
  return 1;
}

/* ResultSet __tostring: the whole set in the current mode. */
static int rs_tostring(lua_State *L) {
  struct render rd;
  struct scratch *sc;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  sc = scratch_push(L);
  render_init(&rd, L, sc, mode_current(L));
  render(&rd, 1, 0, lua_upvalueindex(1));
  push_trimmed(L, &sc->out);
  return 1;
}

/* ResultSet __autocomplete: an array of the column names. */
static int rs_autocomplete(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  columns_push(L, 1, 0);
  return 1;
}

void koop_open_print(lua_State *L) {
  static const luaL_Reg koop_funcs[] = {
    { "pretty", l_pretty }, { "format", l_format }, { "mode", l_mode },
    { "resultset", l_resultset }, { NULL, NULL }
  };
  static const luaL_Reg rs_funcs[] = {
    { "__tostring", rs_tostring }, { "__autocomplete", rs_autocomplete },
    { NULL, NULL }
  };
  int koop = lua_gettop(L);
  luaL_newmetatable(L, SCRATCH_MT);
  lua_pushcfunction(L, scratch_free);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, scratch_free);
  lua_setfield(L, -2, "__close");
  lua_pop(L, 1);
  /* the db binding may have created it first: add to it, never replace */
  luaL_newmetatable(L, RESULTSET_MT);
  lua_pushvalue(L, koop);
  luaL_setfuncs(L, rs_funcs, 1);
  lua_pushliteral(L, "ResultSet");
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);
  lua_pushvalue(L, koop);
  luaL_setfuncs(L, koop_funcs, 1);
}

/* }==================================================================== */
