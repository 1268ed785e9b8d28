-- koop.json — JSON for audit records, exports and reports.
--
--   json.encode(v)      canonical text: object keys sorted (byte order), no
--                       spaces, integers exact, floats with the shortest
--                       text that reads back the same; the same value always
--                       gives the same bytes, so the text can be hashed
--                       (koop.json_encode, in C: src/json.c)
--   json.decode(s)      the value; JSON null becomes json.null (koop.null).
--   json.null           koop.null: encodes as null.
--   json.array(t)       marks t as an array, so an empty t encodes as [].
--   json.object(t)      marks t as an object, so an empty t encodes as {}.
--
-- An empty unmarked table encodes as [] (lists are the common empty value).
-- A table whose metatable has __tojson encodes as what that returns; result
-- sets encode as arrays of their rows.  Strings must be valid UTF-8; they
-- are written as they are, with only the escapes JSON requires.
local koop = require "koop"

local M = {}
local null = koop.null
M.null = null

local array_mt = { __name = "json.array" }
local object_mt = { __name = "json.object" }

function M.array(t) return setmetatable(t or {}, array_mt) end
function M.object(t) return setmetatable(t or {}, object_mt) end

--- Canonical JSON text of v.
M.encode = assert(koop.json_encode, "koop.json_encode is missing: main.c must call koop_open_json")

-- {==================== decoding ====================

local decode_value

-- Raise a syntax error at byte i of s.
local function syntax(s, i, what)
  local line = 1
  for _ in s:sub(1, i - 1):gmatch("\n") do line = line + 1 end
  koop.raise{ code = "syntax", message = ("json: %s at line %d (byte %d)"):format(what, line, i) }
end

local function skip(s, i)
  return s:find("[^ \t\r\n]", i) or #s + 1
end

local unescapes = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f",
  n = "\n", r = "\r", t = "\t" }

-- Decode the string starting at the quote at i; returns it and the next index.
local function decode_string(s, i)
  local out, j = {}, i + 1
  while true do
    local k = s:find('["\\%c]', j)
    if not k then syntax(s, i, "unterminated string") end
    out[#out + 1] = s:sub(j, k - 1)
    local c = s:sub(k, k)
    if c == '"' then return table.concat(out), k + 1 end
    if c ~= "\\" then syntax(s, k, "control character in string") end
    local e = s:sub(k + 1, k + 1)
    if e == "u" then
      local hex = s:match("^%x%x%x%x", k + 2)
      if not hex then syntax(s, k, "bad \\u escape") end
      local cp = tonumber(hex, 16)
      j = k + 6
      if cp >= 0xD800 and cp <= 0xDBFF then
        local low = s:match("^\\u(%x%x%x%x)", j)
        low = low and tonumber(low, 16)
        if not low or low < 0xDC00 or low > 0xDFFF then syntax(s, k, "lone surrogate") end
        cp = 0x10000 + (cp - 0xD800) * 0x400 + (low - 0xDC00)
        j = j + 6
      elseif cp >= 0xDC00 and cp <= 0xDFFF then
        syntax(s, k, "lone surrogate")
      end
      out[#out + 1] = utf8.char(cp)
    elseif unescapes[e] then
      out[#out + 1] = unescapes[e]
      j = k + 2
    else
      syntax(s, k, "bad escape")
    end
  end
end

local literals = { ["true"] = true, ["false"] = false }

decode_value = function(s, i, depth)
  if depth > 200 then syntax(s, i, "nested too deeply") end
  i = skip(s, i)
  local c = s:sub(i, i)
  if c == "{" then
    local t = M.object()
    i = skip(s, i + 1)
    if s:sub(i, i) == "}" then return t, i + 1 end
    while true do
      if s:sub(i, i) ~= '"' then syntax(s, i, "expected a string key") end
      local k
      k, i = decode_string(s, i)
      i = skip(s, i)
      if s:sub(i, i) ~= ":" then syntax(s, i, "expected ':'") end
      t[k], i = decode_value(s, i + 1, depth + 1)
      i = skip(s, i)
      c = s:sub(i, i)
      if c == "}" then return t, i + 1 end
      if c ~= "," then syntax(s, i, "expected ',' or '}'") end
      i = skip(s, i + 1)
    end
  elseif c == "[" then
    local t, n = M.array(), 0
    i = skip(s, i + 1)
    if s:sub(i, i) == "]" then return t, i + 1 end
    while true do
      n = n + 1
      t[n], i = decode_value(s, i, depth + 1)
      i = skip(s, i)
      c = s:sub(i, i)
      if c == "]" then return t, i + 1 end
      if c ~= "," then syntax(s, i, "expected ',' or ']'") end
      i = i + 1
    end
  elseif c == '"' then
    return decode_string(s, i)
  end
  local word = s:match("^%a+", i)
  if word then
    if literals[word] ~= nil then return literals[word], i + #word end
    if word == "null" then return null, i + 4 end
    syntax(s, i, "unexpected '" .. word .. "'")
  end
  local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", i)
  if num and #num > 0 then
    local v = (num:find("[%.eE]") and tonumber(num)) or math.tointeger(tonumber(num)) or tonumber(num)
    if v == nil then syntax(s, i, "bad number") end
    return v, i + #num
  end
  syntax(s, i, c == "" and "unexpected end of text" or ("unexpected '" .. c .. "'"))
end

--- The value of JSON text s (null as json.null); raises a "syntax" error.
function M.decode(s)
  if type(s) ~= "string" then
    koop.raise{ code = "invalid", message = "json.decode: expected text, got " .. type(s) }
  end
  local v, i = decode_value(s, 1, 0)
  i = skip(s, i)
  if i <= #s then syntax(s, i, "text after the value") end
  return v
end

-- }====================

return M
