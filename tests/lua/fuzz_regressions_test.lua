-- fuzz_regressions_test.lua — what the libFuzzer targets (tests/fuzz/) found,
-- kept as plain API tests: each input of tests/fuzz/regressions/ that
-- fits the Lua API, with the behaviour it must have now.
local compile = require("koop.procedures").compile

-- The line number of a load error's message "file:LINE: ...", or nil.
local function error_line(src, file)
  local ok, err = pcall(compile, src, file)
  if ok then return nil, "loaded" end
  return tonumber(tostring(err.message):match("^" .. file:gsub("%p", "%%%0") .. ":(%d+):")), err.message
end

test("a load error of `return koop.procedure{...}` names a real line (was p.lua:-1)", function()
  -- tests/fuzz/regressions/procedure/tail_call_line.lua: the tail call left
  -- no caller line, so errors without a line of their own said -1
  local src = 'return koop.procedure { name = "d", version = "1", deadlines = {\n' ..
              '  { from = "case.opened", within = koop.workdays(7) } } }\n'
  local line, message = error_line(src, "p.lua")
  ok(line and line >= 1 and line <= 2, message)
end)

test("a load error of a procedure spread over lines names the line of koop.procedure", function()
  local src = '-- a comment\n\nreturn koop.procedure {\n  name = "d", version = "1",\n' ..
              '  deadlines = { [1] = { from = "case.opened" } },\n}\n'
  local line, message = error_line(src, "p.lua")
  ok(line and line >= 3 and line <= 5, message)
end)

test("brackets nested too deeply name the file and a line (was a bare 'C stack overflow')", function()
  -- tests/fuzz/regressions/procedure/deep_nesting.lua: Lua's parser gives up
  -- with no position; the loader points at the line of deepest nesting
  local src = "-- deep\nreturn koop.procedure{ name = 'd', version = '1',\n" .. ("{"):rep(300) .. ("}"):rep(300) .. " }\n"
  local line, message = error_line(src, "p.lua")
  eq(line, 3, message)
  ok(message:find("nest too deeply", 1, true), message)
end)

test("koop.procedure called with a string in a tail call names a line (was p.lua:?:)", function()
  -- tests/fuzz/regressions/procedure/tail_call_string_arg.lua
  local line, message = error_line('\nreturn koop.procedure "seniorzy"\n', "p.lua")
  eq(line, 2, message)
  ok(message:find("expects a table", 1, true), message)
end)
