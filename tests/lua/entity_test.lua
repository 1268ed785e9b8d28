-- entity_test.lua — the collection framework (lib/koop/entity.lua) on a
-- collection of its own ("gadgets", with every field type and a ref to a
-- second one): add/get/find/all/count/exists/check, every field type and
-- its bad input (each error names the collection.field, shows the value and
-- writes nothing: row and audit counts unchanged), defaults and required
-- fields, derived and key fields, validate hooks, update (changes only,
-- koop.null clears, nothing changed writes nothing), delete, find options
-- (null, lists, order with Polish collation, limit/offset, where),
-- read-only objects, tostring/==/pairs/completion/JSON, printing as tables,
-- events (added, updated, a failing handler rolls the change back),
-- atomicity inside db:tx, add_many and constraint errors.
-- Run with: koop test tests/lua/entity_test.lua

local entity = require "koop.entity"
local schema = require "koop.schema"

-- The tables of the test collections (a fresh database per test).
local function tables()
  entity.db()
  db:exec([[
    CREATE TABLE t_box (id INTEGER PRIMARY KEY, label TEXT NOT NULL);
    CREATE TABLE t_gadget (
      id INTEGER PRIMARY KEY, name TEXT NOT NULL, code TEXT UNIQUE, size INTEGER,
      bought TEXT, broken INTEGER, colour TEXT, box_id INTEGER REFERENCES t_box(id),
      price INTEGER, nip TEXT, slug TEXT, notes TEXT);
    CREATE TABLE t_tag (tag TEXT PRIMARY KEY, note TEXT) WITHOUT ROWID;
  ]])
end

local boxes = entity.collection {
  name = "boxes", table = "t_box", entity = "box", label = "Box",
  fields = { { "label", "text", required = true } },
  display = { "id", "label" },
  deletable = true,
}

local gadgets = entity.collection {
  name = "gadgets", table = "t_gadget", entity = "gadget", label = "Gadget",
  fields = {
    { "name", "text", required = true },
    { "code", "text", check = function(v)
        if v:match("^%u%u%-%d+$") then return v end
        return nil, "a code is two capitals, a dash and digits"
      end },
    { "size", "integer", min = 1, max = 10, default = 5 },
    { "bought", "date" },
    { "broken", "bool", default = false },
    { "colour", "enum", choices = { "red", "green", "żółty" }, aliases = { zolty = "żółty" } },
    { "box", "ref", to = "boxes" },
    { "price", "money" },
    { "nip", "text", check = "nip" },
    { "slug", "text", derived = true },
    { "notes", "text" },
  },
  display = { "id", "name", "size", "colour" },
  order = "name",
  validate = function(row, old, coll)
    if row.name == "forbidden" then coll.invalid("name", "'forbidden' is not a name for a gadget") end
    row.slug = row.name:lower():gsub("%s+", "-")
  end,
  props = { label = function(g) return g.name .. " (" .. g.size .. ")" end },
  methods = { grow = function(g) return g:update{ size = g.size + 1 } end },
}

local tags = entity.collection {
  name = "tags", table = "t_tag", entity = "tag", label = "Tag", key = "tag",
  fields = { { "tag", "text", required = true }, { "note", "text" } },
  display = { "tag", "note" },
}

-- Rows of the gadget table and of the audit log.
local function counts()
  return { gadgets = db:value("SELECT count(*) FROM t_gadget"), audit = db:value("SELECT count(*) FROM audit_log") }
end

-- fn must raise an "invalid" error for `field` whose message has `text`,
-- and write nothing.
local function refused(fn, field, text)
  local before = counts()
  local err = raises(fn, "invalid")
  eq(err.field, field, "field of: " .. tostring(err))
  ok(tostring(err.message):find(text, 1, true), ("message %q should contain %q"):format(tostring(err.message), text))
  ok(tostring(err.message):find(field .. ": ", 1, true) == 1, "message starts with the field: " .. tostring(err.message))
  eq(counts(), before, "nothing written")
  return err
end

------------------------------------------------------------------ add/get

test("add returns an object whose fields read naturally; defaults apply", function()
  tables()
  local g = gadgets.add{ name = "  Lampa  ", bought = "2024-02-29", colour = "red" }
  eq(g.id, 1)
  eq(g.name, "Lampa")               -- trimmed
  eq(g.size, 5)                     -- default
  eq(g.broken, false)               -- bool default, a Lua boolean
  eq(g.slug, "lampa")               -- derived by validate
  eq(g.notes, nil)
  eq(g.label, "Lampa (5)")          -- a prop
  local again = gadgets.get(1)
  eq(again.name, "Lampa")
  eq(again.broken, false)           -- read back from 0 as a boolean
  eq(gadgets.get(99), nil)
  eq(gadgets.get("1").id, 1)
  ok(gadgets.exists(1) and not gadgets.exists(2))
end)

test("text: empty text is no value; numbers are not text; UTF-8 is checked", function()
  tables()
  eq(gadgets.add{ name = "a", notes = "   " }.notes, nil)
  refused(function() gadgets.add{ name = 12 } end, "gadgets.name", "expected text, got number")
  refused(function() gadgets.add{ name = "\xff\xfe" } end, "gadgets.name", "not valid UTF-8")
  refused(function() gadgets.add{ name = "   " } end, "gadgets.name", "is required")
end)

test("required fields and unknown fields are refused, naming them", function()
  tables()
  refused(function() gadgets.add{} end, "gadgets.name", "is required")
  refused(function() gadgets.add{ name = "x", colur = "red" } end, "gadgets.colur", "no such field")
  refused(function() gadgets.add{ name = "x", id = 7 } end, "gadgets.id", "cannot be given")
  refused(function() gadgets.add{ name = "x", slug = "y" } end, "gadgets.slug", "derived")
  refused(function() gadgets.add{ name = "forbidden" } end, "gadgets.name", "not a name for a gadget")
  raises(function() gadgets.add("lampa") end, "invalid")
end)

test("integer: whole numbers within min/max; numeric text is accepted", function()
  tables()
  eq(gadgets.add{ name = "a", size = "7" }.size, 7)
  eq(gadgets.add{ name = "b", size = 3.0 }.size, 3)
  refused(function() gadgets.add{ name = "c", size = 2.5 } end, "gadgets.size", "whole number")
  refused(function() gadgets.add{ name = "c", size = 0 } end, "gadgets.size", "at least 1")
  refused(function() gadgets.add{ name = "c", size = 11 } end, "gadgets.size", "at most 10 (got 11)")
  refused(function() gadgets.add{ name = "c", size = {} } end, "gadgets.size", "whole number")
end)

test("date: ISO dates that exist", function()
  tables()
  eq(gadgets.add{ name = "a", bought = "2000-02-29" }.bought, "2000-02-29")
  refused(function() gadgets.add{ name = "b", bought = "1900-02-29" } end, "gadgets.bought", "not a real calendar date (got '1900-02-29')")
  refused(function() gadgets.add{ name = "b", bought = "29.02.2000" } end, "gadgets.bought", "not a date YYYY-MM-DD")
  refused(function() gadgets.add{ name = "b", bought = 20000229 } end, "gadgets.bought", "expected a date")
end)

test("bool: true/false, 0/1", function()
  tables()
  eq(gadgets.add{ name = "a", broken = 1 }.broken, true)
  eq(gadgets.add{ name = "b", broken = true }.broken, true)
  eq(gadgets.get(2).broken, true)
  refused(function() gadgets.add{ name = "c", broken = "tak" } end, "gadgets.broken", "expected true or false")
end)

test("enum: choices, case-insensitive match, aliases; unknown values list the choices", function()
  tables()
  eq(gadgets.add{ name = "a", colour = "RED" }.colour, "red")
  eq(gadgets.add{ name = "b", colour = "ŻÓŁTY" }.colour, "żółty")
  eq(gadgets.add{ name = "c", colour = "zolty" }.colour, "żółty")
  refused(function() gadgets.add{ name = "d", colour = "blue" } end, "gadgets.colour",
    "unknown colour; known: red, green, żółty (got 'blue')")
end)

test("ref: an object or its id; stored as the id; reads back as the object", function()
  tables()
  local b = boxes.add{ label = "szafa" }
  local g = gadgets.add{ name = "a", box = b }
  eq(g.box_id, b.id)
  eq(g.box, b)
  eq(g.box.label, "szafa")
  eq(g["box.label"], "szafa")       -- a path through the ref
  eq(gadgets.add{ name = "b", box = b.id }.box_id, b.id)
  eq(gadgets.add{ name = "c", box_id = tostring(b.id) }.box_id, b.id)
  eq(gadgets.add{ name = "d" }.box, nil)
  eq(gadgets.get(4)["box.label"], nil)
  refused(function() gadgets.add{ name = "e", box = 99 } end, "gadgets.box", "no Box with id 99")
  refused(function() gadgets.add{ name = "e", box = g } end, "gadgets.box", "expected a Box, got Gadget#1")
  refused(function() gadgets.add{ name = "e", box = b, box_id = b.id } end, "gadgets.box", "given twice")
end)

test("checks: shared (nip) and the collection's own; values are normalised", function()
  tables()
  eq(gadgets.add{ name = "a", nip = "PL 866-000-00-16", code = "AB-12" }.nip, "8660000016")
  refused(function() gadgets.add{ name = "b", nip = "1234563217" } end, "gadgets.nip", "(got '1234563217')")
  refused(function() gadgets.add{ name = "b", nip = "0000000000" } end, "gadgets.nip", "all-zero")
  refused(function() gadgets.add{ name = "b", code = "ab-12" } end, "gadgets.code", "two capitals")
end)

test("shared checks: postal code, e-mail, phone, web address, TERC, REGON, PESEL", function()
  local c = entity.checks
  eq(c.postal("28-210"), "28-210")
  eq(c.postal("28210"), "28-210")
  eq(select(2, c.postal("00-000")), "all-zero postal code is not valid")
  eq(c.postal("28-21"), nil)
  eq(c.email("ops@bogoria.pl"), "ops@bogoria.pl")
  eq(c.email("ops@bogoria"), nil)
  eq(c.phone("+48 15 867 40 00"), "+48 15 867 40 00")
  eq(c.phone("123"), nil)
  eq(c.phone("15 867 ABC"), nil)
  eq(c.www("www.bogoria.pl"), "www.bogoria.pl")
  eq(c.www("https://bogoria.pl/ops"), "https://bogoria.pl/ops")
  eq(c.www("bogoria"), nil)
  eq(c.terc("2612013"), "2612013")
  eq(c.terc("2612016"), nil)
  eq(c.regon("990000016"), "990000016")
  eq(c.regon("000000000"), nil)
  eq(c.pesel("44051401359"), "44051401359")
  eq(c.pesel("44051401358"), nil)
end)

test("money: any amount koop.money reads, stored and read back as integer grosze", function()
  tables()
  eq(gadgets.add{ name = "a", price = 56340 }.price, 5634000, "a number is złoty, as for koop.money")
  eq(gadgets.add{ name = "b", price = 12.5 }.price, 1250)
  eq(gadgets.add{ name = "c", price = "56 340,00 zł" }.price, 5634000)
  eq(gadgets.add{ name = "d", price = koop.money.grosze(7) }.price, 7)
  eq(db:value("SELECT typeof(price) FROM t_gadget WHERE name = 'b'"), "integer")
  refused(function() gadgets.add{ name = "e", price = 12.345 } end, "gadgets.price", "two decimal places")
  refused(function() gadgets.add{ name = "f", price = "dużo" } end, "gadgets.price", "dużo")
  refused(function() gadgets.add{ name = "g", price = {} } end, "gadgets.price", "expected an amount")
  eq(gadgets.count(), 4)
end)

------------------------------------------------------------------ update/delete

test("update writes the changed fields only, in the audit log before/after", function()
  tables()
  local g = gadgets.add{ name = "Lampa", size = 2, colour = "red" }
  local n = counts().audit
  eq(g:update{ size = 2, colour = "red" }, g)          -- nothing changed
  eq(counts().audit, n, "no change, no audit row")
  g:update{ size = 3, notes = "nowa" }
  eq(g.size, 3)
  eq(gadgets.get(g.id).notes, "nowa")
  local row = db:first("SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1")
  eq(row.action, "update")
  eq(row.before_json, '{"notes":null,"size":2}')
  eq(row.after_json, '{"notes":"nowa","size":3}')
  g:update{ notes = koop.null }                        -- clears
  eq(gadgets.get(g.id).notes, nil)
  g:grow()
  eq(g.size, 4)
end)

test("update refuses bad values, the key, derived fields and clearing required ones", function()
  tables()
  local g = gadgets.add{ name = "Lampa" }
  refused(function() g:update{ size = 0 } end, "gadgets.size", "at least 1")
  refused(function() g:update{ name = koop.null } end, "gadgets.name", "cannot be cleared")
  refused(function() g:update{ id = 5 } end, "gadgets.id", "cannot be changed")
  refused(function() g:update{ slug = "x" } end, "gadgets.slug", "derived")
  eq(g.size, 5, "the object keeps its values")
  local t = tags.add{ tag = "pilne" }
  refused(function() t:update{ tag = "inne" } end, "tags.tag", "cannot be changed")
end)

test("a text key: given on add, get by it, id is the key", function()
  tables()
  local t = tags.add{ tag = "pilne", note = "na dziś" }
  eq(t.id, "pilne")
  eq(tags.get("pilne").note, "na dziś")
  eq(tostring(t), 'Tag#pilne "na dziś"')
  local err = raises(function() tags.add{ tag = "pilne" } end, "invalid")
  eq(err.field, "tags.tag")
end)

test("delete (where allowed) removes the row and records it", function()
  tables()
  local b = boxes.add{ label = "szafa" }
  b:delete()
  eq(boxes.count(), 0)
  local row = db:first("SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1")
  eq(row.action, "delete")
  eq(row.before_json, '{"id":1,"label":"szafa"}')
  local g = gadgets.add{ name = "x" }
  raises(function() return g.delete end, "invalid")    -- gadgets cannot be deleted
  local b2 = boxes.add{ label = "półka" }
  gadgets.add{ name = "y", box = b2 }
  local err = raises(function() b2:delete() end, "invalid")
  ok(err.message:find("other data still refers to this Box"), err.message)
  eq(boxes.count(), 1)
end)

------------------------------------------------------------------ find

test("find: conditions, koop.null, lists, order (Polish), limit/offset, where", function()
  tables()
  for _, g in ipairs{ { "Żuraw", 1 }, { "Ząb", 2, "red" }, { "Łopata", 3, "red" }, { "Lampa", 1 },
                      { "Ćma", 2 }, { "Czajnik", 3, "red" }, { "Zegar", 1 } } do
    gadgets.add{ name = g[1], size = g[2], colour = g[3] }
  end
  local names = function(list) local t = {} for i, g in ipairs(list) do t[i] = g.name end return t end
  eq(names(gadgets.all()), { "Czajnik", "Ćma", "Lampa", "Łopata", "Ząb", "Zegar", "Żuraw" })
  eq(names(gadgets.find{ order = "name desc", limit = 2 }), { "Żuraw", "Zegar" })
  eq(names(gadgets.find{ limit = 2, offset = 2 }), { "Lampa", "Łopata" })
  eq(names(gadgets.find{ colour = koop.null }), { "Ćma", "Lampa", "Zegar", "Żuraw" })
  eq(names(gadgets.find{ colour = "RED" }), { "Czajnik", "Łopata", "Ząb" })
  eq(names(gadgets.find{ name = { "Ząb", "Ćma", "nic" } }), { "Ćma", "Ząb" })
  eq(#gadgets.find{ name = {} }, 0)
  eq(names(gadgets.find{ where = "length(name) > ?", args = { 5 } }), { "Czajnik", "Łopata" })
  eq(names(gadgets.find{ order = { "size", "name desc" }, limit = 3 }), names(gadgets.find{ size = 1, order = "name desc" }))
  eq(gadgets.count(), 7)
  eq(gadgets.count{ colour = "red" }, 3)
  eq(gadgets.find{ id = 3 }[1].name, "Łopata")
end)

test("find refuses unknown fields, bad orders and limits, naming them", function()
  tables()
  local err = raises(function() gadgets.find{ colur = "red" } end, "invalid")
  eq(err.field, "gadgets.colur")
  ok(err.message:find("no such field"), err.message)
  eq(raises(function() gadgets.find{ order = "weight" } end, "invalid").field, "gadgets.weight")
  eq(raises(function() gadgets.find{ order = "name sideways" } end, "invalid").field, "gadgets.order")
  eq(raises(function() gadgets.find{ limit = -1 } end, "invalid").field, "gadgets.limit")
  eq(raises(function() gadgets.find{ colour = "blue" } end, "invalid").field, "gadgets.colour")
  eq(raises(function() gadgets.count{ nope = 1 } end, "invalid").field, "gadgets.nope")
end)

test("find results are result sets that print as tables of the display columns", function()
  tables()
  gadgets.add{ name = "Łopata", colour = "green" }
  gadgets.add{ name = "Lampa", size = 2 }
  local list = gadgets.find{}
  eq(getmetatable(list), getmetatable(koop.resultset({})))
  eq(list.columns, { "id", "name", "size", "colour" })
  eq(koop.format(list, "csv"), "id,name,size,colour\n2,Lampa,2,\n1,Łopata,5,green\n")
  local box = koop.format(list, "box")
  ok(box:find("│  2 │ Lampa  │    2 │        │", 1, true), box)
end)

------------------------------------------------------------------ objects

test("objects print as one line, compare by key, iterate, complete, encode", function()
  tables()
  local g = gadgets.add{ name = "Lampa biurkowa", colour = "red" }
  eq(tostring(g), 'Gadget#1 "Lampa biurkowa" 5 red')
  ok(g == gadgets.get(1))
  ok(g ~= gadgets.add{ name = "Inna" })
  local seen = {}
  for k, v in pairs(g) do seen[#seen + 1] = k .. "=" .. tostring(v) end
  eq(seen, { "id=1", "name=Lampa biurkowa", "size=5", "broken=false", "colour=red", "slug=lampa-biurkowa" })
  local names = getmetatable(g).__autocomplete(g)
  for _, want in ipairs{ "name", "box", "box_id", "label" } do
    ok(table.concat(names, " "):find("%f[%w_]" .. want .. "%f[^%w_]"), want .. " in " .. table.concat(names, " "))
  end
  for _, method in ipairs{ "update", "grow", "history", "reload", "totable" } do
    eq(names[method], "function", method)
  end
  eq(names.delete, nil)
  gadgets.methods.polish = function(x) return x end        -- added later, still listed
  eq(getmetatable(g).__autocomplete(g).polish, "function")
  gadgets.methods.polish = nil
  eq(require("koop.json").encode(g), '{"broken":false,"colour":"red","id":1,"name":"Lampa biurkowa","size":5,"slug":"lampa-biurkowa"}')
  eq(g:totable().name, "Lampa biurkowa")
  eq(gadgets.wrap(g:totable()).broken, false, "wrap keeps Lua booleans")
  eq(gadgets.wrap(db:first("SELECT * FROM t_gadget WHERE id = 1")).broken, false, "and converts 0")
  ok(getmetatable(g) == gadgets.mt)
end)

test("objects are read-only; unknown fields are errors", function()
  tables()
  local g = gadgets.add{ name = "Lampa" }
  eq(raises(function() g.name = "x" end, "misuse").field, "gadgets.name")
  eq(g.name, "Lampa")
  local err = raises(function() return g.nmae end, "invalid")
  ok(err.message:find("Gadget has no field or method 'nmae'"), err.message)
  raises(function() return gadgets.fnd end, "invalid")
end)

test("reload and history", function()
  tables()
  local g = gadgets.add{ name = "Lampa" }
  db:exec("UPDATE t_gadget SET size = 9 WHERE id = 1")    -- behind the API's back
  eq(g.size, 5)
  eq(g:reload().size, 9)
  g:update{ size = 8 }
  local h = g:history()
  eq(#h, 2)
  eq(h[1].action, "add")
  eq(h[2].action, "update")
  eq(h[2].change, "size: 9 → 8")
  db:exec("DELETE FROM t_gadget")
  raises(function() g:reload() end, "notfound")
end)

test("check validates without writing", function()
  tables()
  local row = gadgets.check{ name = " Lampa ", colour = "RED" }
  eq(row.name, "Lampa")
  eq(row.colour, "red")
  eq(counts(), { gadgets = 0, audit = 0 })
  raises(function() gadgets.check{ size = 1 } end, "invalid")
end)

------------------------------------------------------------------ atomicity, events

test("a change is atomic with its audit row inside db:tx", function()
  tables()
  gadgets.add{ name = "before" }
  local before = counts()
  raises(function()
    db:tx(function()
      gadgets.add{ name = "inside" }
      error("no")
    end)
  end, "no")
  eq(counts(), before)
  -- a failed add inside a transaction that goes on leaves nothing behind
  db:tx(function()
    pcall(gadgets.add, { name = "x", code = "AB-1" })
    pcall(gadgets.add, { name = "y", code = "AB-1" })   -- duplicate code
    gadgets.add{ name = "z" }
  end)
  eq(gadgets.count(), 3)
  eq(counts().audit, before.audit + 2)
  eq(require("koop.audit").verify(), true)
end)

test("a UNIQUE constraint names the field and the object that has the value", function()
  tables()
  gadgets.add{ name = "first", code = "AB-1" }
  local err = refused(function() gadgets.add{ name = "second", code = "AB-1" } end, "gadgets.code", "'AB-1' is already used by Gadget#1")
  ok(err.message:find('"first"', 1, true), err.message)
end)

test("events: added and updated, inside the transaction; a failing handler undoes the change", function()
  tables()
  local seen = {}
  local off1 = koop.on("gadget.added", function(g, ev) seen[#seen + 1] = ev.name .. " " .. g.name end)
  local off2 = koop.on("gadget.updated", function(g, ev)
    seen[#seen + 1] = ("%s %s %s→%s"):format(ev.name, g.name, ev.changes.size[1], ev.changes.size[2])
    if g.size > 8 then error("too big") end
  end)
  local g = gadgets.add{ name = "Lampa" }
  g:update{ size = 6 }
  eq(seen, { "gadget.added Lampa", "gadget.updated Lampa 5→6" })
  local before = counts()
  raises(function() g:update{ size = 9 } end, "too big")
  eq(g.size, 6, "the object keeps its old values")
  eq(gadgets.get(g.id).size, 6, "the row too")
  eq(counts(), before, "and no audit row")
  off1(); off2()
  gadgets.add{ name = "quiet" }
  eq(#seen, 3)
end)

test("add_many adds all or nothing and names the failing item", function()
  tables()
  local list = gadgets.add_many{ { name = "a" }, { name = "b", colour = "green" } }
  eq(#list, 2)
  eq(list[2].colour, "green")
  eq(list.columns, { "id", "name", "size", "colour" })
  local before = counts()
  local err = raises(function() gadgets.add_many{ { name = "c" }, { name = "d", size = 99 } } end, "invalid")
  eq(err.field, "gadgets.size")
  ok(err.message:find("gadgets.add_many: item 2: gadgets.size: must be at most 10", 1, true), err.message)
  eq(counts(), before)
  raises(function() gadgets.add_many{ { name = "e", code = "AB-1" }, { name = "f", code = "AB-1" } } end, "already used")
  eq(counts(), before)
end)

test("the schema comes with the first domain use on a connection", function()
  local fresh = koop.open(":memory:")
  eq(schema.version(fresh), 0)
  local saved = koop.db
  koop.db = fresh
  entity.db()
  eq(schema.version(fresh), schema.latest())
  koop.db = saved
  fresh:close()
end)
