-- koop.json — JSON for audit records, exports and reports.
--
--   json.encode(v)      canonical text: object keys sorted (byte order), no
--                       spaces, integers exact, floats with the shortest
--                       text that reads back the same; the same value always
--                       gives the same bytes, so the text can be hashed.
--   json.decode(s)      the value; JSON null becomes json.null (koop.null).
--   json.value(v)       the text of a scalar (string, number, boolean, nil).
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
local resultset_mt = getmetatable(koop.resultset({}))

function M.array(t) return setmetatable(t or {}, array_mt) end
function M.object(t) return setmetatable(t or {}, object_mt) end

local function fail(fmt, ...)
  koop.raise{ code = "invalid", message = "json: " .. fmt:format(...) }
end

local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
for i = 0, 31 do
  local c = string.char(i)
  escapes[c] = escapes[c] or ("\\u%04x"):format(i)
end
escapes["\127"] = "\\u007f"

-- The JSON text of string s.
local function quote(s)
  if not utf8.len(s) then fail("string is not valid UTF-8: %q", s:sub(1, 40)) end
  if s:find('[%c"\\]') then s = s:gsub('[%c"\\]', escapes) end
  return '"' .. s .. '"'
end

-- The shortest text of float x that reads back as x.
local function float(x)
  if x ~= x or x == math.huge or x == -math.huge then fail("cannot encode %s", tostring(x)) end
  for digits = 15, 17 do
    local s = ("%." .. digits .. "g"):format(x)
    if tonumber(s) == x then
      if not s:find("[%.eEn]") then s = s .. ".0" end
      return s
    end
  end
end

--- The JSON text of a scalar: string, number, boolean, nil or json.null.
local function value(v)
  local t = type(v)
  if t == "string" then return quote(v) end
  if t == "number" then
    if math.type(v) == "integer" then return ("%d"):format(v) end
    return float(v)
  end
  if t == "boolean" then return v and "true" or "false" end
  if v == nil or v == null then return "null" end
  fail("cannot encode a %s", t)
end
M.value = value

local encode

-- Is t a sequence 1..n with no other keys?  Returns n, or nil.
local function sequence_length(t)
  local n = #t
  local count = 0
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 or k > n then return nil end
    count = count + 1
  end
  return count == n and n or nil
end

-- Append the text of table t to out.
local function encode_table(t, out, seen)
  local mt = getmetatable(t)
  if mt and mt.__tojson then return encode(mt.__tojson(t), out, seen) end
  if seen[t] then fail("cannot encode a table that contains itself") end
  seen[t] = true
  local n = (mt == resultset_mt or mt == array_mt) and #t or sequence_length(t)
  if n and (n > 0 or mt ~= object_mt) then
    out[#out + 1] = "["
    for i = 1, n do
      if i > 1 then out[#out + 1] = "," end
      encode(t[i], out, seen)
    end
    out[#out + 1] = "]"
  else
    local keys = {}
    for k in pairs(t) do
      if type(k) ~= "string" then fail("object keys must be strings, not %s", type(k)) end
      keys[#keys + 1] = k
    end
    table.sort(keys)
    out[#out + 1] = "{"
    for i, k in ipairs(keys) do
      if i > 1 then out[#out + 1] = "," end
      out[#out + 1] = quote(k)
      out[#out + 1] = ":"
      encode(t[k], out, seen)
    end
    out[#out + 1] = "}"
  end
  seen[t] = nil
end

encode = function(v, out, seen)
  if type(v) == "table" then return encode_table(v, out, seen) end
  out[#out + 1] = value(v)
end

--- Canonical JSON text of v.
function M.encode(v)
  if type(v) ~= "table" then return value(v) end
  local out = {}
  encode_table(v, out, {})
  return table.concat(out)
end

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
  if type(s) ~= "string" then fail("decode expects text, got %s", type(s)) end
  local v, i = decode_value(s, 1, 0)
  i = skip(s, i)
  if i <= #s then syntax(s, i, "text after the value") end
  return v
end

-- }====================

return M
