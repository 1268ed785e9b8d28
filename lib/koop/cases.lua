-- koop.cases — case work: `cases` (a household or a person the G-PZK works
-- with, under a pseudonymous code), their members, the art. 7 reasons
-- (`reasons`, a versioned dictionary) and consent to share their data.
-- Plans, referrals and services live in koop.plans, koop.referrals and
-- koop.services; a case reaches them through its methods.
--
--   cases.open{[code=, opened_on=, gmina=, source_institution=,
--              coordinator=, status=, notes=]}       (cases.add is the same)
--   c:add_member{first_name=, last_name=, pesel= | birth_date= + sex=,
--                relation=}                          -> Member (masked)
--   c:members() / c:members{identified=true}         c:card([{identified=true}])
--   c:reason(code [, date])  c:has_reason(code)  c:reasons()  c:drop_reason(code)
--   c:consent{institutions={...}, categories={...}, [member=, basis=, given=,
--             expires=, recorded_by=, notes=]}      -> Consent;  k:withdraw{date=}
--   c:set_stage(stage [, {date=}])   c:close{date=, outcome=, [force=, reason=]}
--   c:task_team{[formed_on=, name=]} (ZZK)   c:task{text=, due=, owner=}
--   c:plan{...} c:plans()  c:refer{...} c:referrals()  c:deliver{...} c:services()
--   reasons.add{code=, name=, [sensitivity=, valid_from=, valid_to=]}
--   reasons.on(code [, date])   reasons.valid{[on=]}
--   cases.with_pesel(pesel)      the cases a person is a member of (audited)
--
-- Privacy.  A member's names and PESEL are kept apart from the member row,
-- in case_member_identity, and never enter the audit log (which is append-
-- only, so it must not hold what a retention rule will one day erase): the
-- log records a keyed SHA-256 of them instead.  Everywhere but the case view they
-- are masked ("J. K***", "8403*******"); c:members{identified=true},
-- c:card{identified=true} and member:identify() show them and each such
-- read writes an "access" row to the audit log.  pesel_hash, a SHA-256 keyed
-- with the database's koop_meta pesel_key (so that it cannot be reversed by
-- trying every PESEL), finds the same person in other cases without storing
-- the PESEL twice; the audit log's hash of an identity uses the same key.
--
-- Status: zgłoszona → diagnoza → plan → realizacja ⇄ monitoring, and from
-- any of them c:close{} to zakończona with an outcome.  Consent (or a
-- recorded statutory basis) gates what referrals may carry and whether a
-- plan can be agreed (see koop.referrals and koop.plans).
local koop = require "koop"
local entity = require "koop.entity"
local schema = require "koop.schema"
local audit = require "koop.audit"
local events = require "koop.events"
local json = require "koop.json"
local dates = require "koop.dates"

local M = {}
local db = entity.db
local null = koop.null
local concat = table.concat

-- {==================== dictionaries ====================

local STAGES = { "zgłoszona", "diagnoza", "plan", "realizacja", "monitoring", "zakończona" }
local STAGE_ALIASES = { zgloszona = "zgłoszona", zakonczona = "zakończona", ["zamknięta"] = "zakończona" }
local CLOSED = "zakończona"
-- The stages a case may move to from each stage (zakończona only by close).
local NEXT = {
  ["zgłoszona"] = { "diagnoza" },
  diagnoza = { "plan" },
  plan = { "realizacja" },
  realizacja = { "monitoring" },
  monitoring = { "realizacja" },
  ["zakończona"] = {},
}
M.stages, M.next_stages = STAGES, NEXT

local OUTCOMES = { "sukces", "częściowy", "rezygnacja", "przeniesienie", "brak zasadności" }
local OUTCOME_ALIASES = { czesciowy = "częściowy", ["brak zasadnosci"] = "brak zasadności",
  brak_zasadnosci = "brak zasadności", ["brak_zasadności"] = "brak zasadności" }
M.outcomes = OUTCOMES

local RELATIONS = { "wnioskodawca", "małżonek/partner", "dziecko", "rodzic", "inna" }
local RELATION_ALIASES = {
  ["małżonek"] = "małżonek/partner", ["małżonka"] = "małżonek/partner", malzonek = "małżonek/partner",
  partner = "małżonek/partner", partnerka = "małżonek/partner", ["żona"] = "małżonek/partner",
  ["mąż"] = "małżonek/partner", wnioskodawczyni = "wnioskodawca", syn = "dziecko",
  ["córka"] = "dziecko", matka = "rodzic", ojciec = "rodzic", inny = "inna",
}
local SEXES = { "K", "M" }
local SEX_ALIASES = { kobieta = "K", ["mężczyzna"] = "M", k = "K", m = "M", F = "K", f = "K" }

local SENSITIVITIES = { "none", "art9", "art10" }
local SENSITIVITY_TEXT = { none = "", art9 = "art. 9 RODO", art10 = "art. 10 RODO" }

-- Data categories a consent or a referral names, with their sensitivity.
M.categories = {
  { "podstawowe", "dane podstawowe: imię, nazwisko, PESEL, adres, kontakt", "none" },
  { "sytuacja rodzinna", "skład i sytuacja rodziny", "none" },
  { "dochody", "dochody i sytuacja materialna", "none" },
  { "zatrudnienie", "zatrudnienie, bezrobocie", "none" },
  { "edukacja", "nauka: szkoła, klasa, frekwencja", "none" },
  { "mieszkanie", "sytuacja mieszkaniowa", "none" },
  { "zdrowie", "stan zdrowia, niepełnosprawność", "art9" },
  { "nałogi", "uzależnienia: alkohol, narkotyki", "art9" },
  { "karalność", "karalność, postępowania karne, przemoc", "art10" },
}
local CATEGORY_ALIASES = { nalogi = "nałogi", karalnosc = "karalność", health = "zdrowie",
  sytuacja_rodzinna = "sytuacja rodzinna", rodzina = "sytuacja rodzinna", praca = "zatrudnienie",
  ["uzależnienia"] = "nałogi", ["szkoła"] = "edukacja" }
local CATEGORY_RANK, CATEGORY_NAMES = {}, {}
for i, c in ipairs(M.categories) do CATEGORY_RANK[c[1]], CATEGORY_NAMES[i] = i, c[1] end

local CONSENT_BASIS = "zgoda (art. 6 ust. 1 lit. a i art. 9 ust. 2 lit. a RODO)"

-- Art. 7 of the ustawa o pomocy społecznej (Dz.U. 2023 poz. 901 t.j.):
-- code, name, valid_from, valid_to, GDPR sensitivity.  Codes with no start
-- date are valid since the act (1 May 2004).  Pkt 7 read "przemocy w
-- rodzinie" until 2023-06-21 (Dz.U. 2023 poz. 535).  Pkt 10 (youth leaving
-- care homes) was repealed when the family-support act (Dz.U. 2011 nr 149
-- poz. 887) took over that support on 2012-01-01; that date is inferred,
-- not read from the amending act.  Sensitivity: health (5, 6, 13) and
-- ethnic origin (11) are art. 9 data; violence, trafficking and prison (7,
-- 7a, 12) are treated as art. 10 data, conservatively.
M.art7 = {
  { "1", "ubóstwo" },
  { "2", "sieroctwo" },
  { "3", "bezdomność" },
  { "4", "bezrobocie" },
  { "5", "niepełnosprawność", nil, nil, "art9" },
  { "6", "długotrwała lub ciężka choroba", nil, nil, "art9" },
  { "7", "przemoc w rodzinie", nil, "2023-06-21", "art10" },
  { "7", "przemoc domowa", "2023-06-22", nil, "art10" },
  { "7a", "potrzeba ochrony ofiar handlu ludźmi", nil, nil, "art10" },
  { "8", "potrzeba ochrony macierzyństwa lub wielodzietności" },
  { "9", "bezradność w sprawach opiekuńczo-wychowawczych i prowadzenia gospodarstwa domowego" },
  { "10", "brak umiejętności w przystosowaniu do życia młodzieży opuszczającej całodobowe placówki opiekuńczo-wychowawcze", nil, "2011-12-31" },
  { "11", "trudności w integracji cudzoziemców (status uchodźcy, ochrona uzupełniająca, pobyt czasowy)", nil, nil, "art9" },
  { "12", "trudności w przystosowaniu do życia po zwolnieniu z zakładu karnego", nil, nil, "art10" },
  { "13", "alkoholizm lub narkomania", nil, nil, "art9" },
  { "14", "zdarzenie losowe i sytuacja kryzysowa" },
  { "15", "klęska żywiołowa lub ekologiczna" },
}

--- DDL with every CHECK list `col IN ('a', 'b', 'c', ...)` of three or
--- more literals written as `(col = 'a' OR col = 'b' OR ...)`: SQLite
--- evaluates a constant IN list of three or more through an ephemeral
--- index it builds again on every run of the statement (about a
--- microsecond per INSERT, each), while the OR chain costs nothing.
function M.ddl(text)
  return (text:gsub("([%w_]+) IN (%b())", function(col, list)
    local items = {}
    for v in list:gmatch("'([^']*)'") do items[#items + 1] = col .. " = '" .. v .. "'" end
    local literals = list:gsub("'[^']*'", ""):match("^%(%s*[,%s]*%)$")
    if #items < 3 or not literals then return nil end
    return "(" .. concat(items, " OR ") .. ")"
  end))
end
local ddl = M.ddl

-- SQL literal of a string, or NULL.
local function lit(s) return s == nil and "NULL" or "'" .. s:gsub("'", "''") .. "'" end

local function art7_seed()
  local out = {}
  for _, r in ipairs(M.art7) do
    out[#out + 1] = ("INSERT INTO assistance_reason (code, name, valid_from, valid_to, sensitivity, source) VALUES (%s, %s, %s, %s, %s, 'art7');")
      :format(lit(r[1]), lit(r[2]), lit(r[3]), lit(r[4]), lit(r[5] or "none"))
  end
  return concat(out, "\n")
end

-- }====================

-- {==================== schema ====================

schema.define(50, "art. 7 reasons (versioned dictionary)", ddl[[
CREATE TABLE assistance_reason (
  id          INTEGER PRIMARY KEY,
  code        TEXT NOT NULL,
  name        TEXT NOT NULL,
  valid_from  TEXT,                      -- NULL: since the act
  valid_to    TEXT,                      -- NULL: in force
  sensitivity TEXT NOT NULL DEFAULT 'none' CHECK (sensitivity IN ('none', 'art9', 'art10')),
  source      TEXT NOT NULL DEFAULT 'gmina' CHECK (source IN ('art7', 'gmina')),
  CHECK (valid_from IS NULL OR valid_to IS NULL OR valid_from <= valid_to)
);
CREATE INDEX assistance_reason_code_ix ON assistance_reason(code);
]] .. art7_seed())

schema.define(51, "cases", ddl[[
CREATE TABLE case_file (
  id                    INTEGER PRIMARY KEY,
  code                  TEXT NOT NULL UNIQUE,      -- BOG-2019-001
  gmina_terc            TEXT REFERENCES territory(terc),
  opened_on             TEXT NOT NULL,
  source_institution_id INTEGER REFERENCES institution(id),
  coordinator_id        INTEGER REFERENCES person(id),
  status                TEXT NOT NULL DEFAULT 'zgłoszona' CHECK (status IN
                        ('zgłoszona', 'diagnoza', 'plan', 'realizacja', 'monitoring', 'zakończona')),
  status_since          TEXT NOT NULL,
  closed_on             TEXT,
  outcome               TEXT CHECK (outcome IN
                        ('sukces', 'częściowy', 'rezygnacja', 'przeniesienie', 'brak zasadności')),
  close_note            TEXT,
  team_id               INTEGER REFERENCES team(id),
  notes                 TEXT,
  CHECK ((status = 'zakończona') = (closed_on IS NOT NULL)),
  CHECK ((closed_on IS NULL) = (outcome IS NULL)),
  CHECK (closed_on IS NULL OR closed_on >= opened_on)
);
CREATE INDEX case_file_status_ix ON case_file(status);
CREATE INDEX case_file_coordinator_ix ON case_file(coordinator_id);
-- The last number given to a case code per prefix and year.
CREATE TABLE case_counter (
  prefix TEXT NOT NULL,
  year   INTEGER NOT NULL,
  last   INTEGER NOT NULL,
  PRIMARY KEY (prefix, year)
) WITHOUT ROWID;
]])

schema.define(52, "case members and their identity", ddl[[
CREATE TABLE case_member (
  id         INTEGER PRIMARY KEY,
  case_id    INTEGER NOT NULL REFERENCES case_file(id),
  relation   TEXT NOT NULL CHECK (relation IN
             ('wnioskodawca', 'małżonek/partner', 'dziecko', 'rodzic', 'inna')),
  birth_date TEXT NOT NULL,
  sex        TEXT NOT NULL CHECK (sex IN ('K', 'M')),
  pesel_hash TEXT                                  -- keyed SHA-256, for duplicates
);
CREATE INDEX case_member_case_ix ON case_member(case_id);
CREATE INDEX case_member_pesel_ix ON case_member(pesel_hash) WHERE pesel_hash IS NOT NULL;
-- Names and PESEL: read only through the case view, never audited in clear.
CREATE TABLE case_member_identity (
  member_id  INTEGER PRIMARY KEY REFERENCES case_member(id),
  first_name TEXT NOT NULL,
  last_name  TEXT NOT NULL,
  pesel      TEXT
);
]])

schema.define(53, "reasons of a case", ddl[[
CREATE TABLE case_reason (
  id             INTEGER PRIMARY KEY,
  case_id        INTEGER NOT NULL REFERENCES case_file(id),
  reason_id      INTEGER NOT NULL REFERENCES assistance_reason(id),
  code           TEXT NOT NULL,
  noted_on       TEXT NOT NULL,
  institution_id INTEGER REFERENCES institution(id),
  UNIQUE (case_id, code)
);
CREATE INDEX case_reason_code_ix ON case_reason(code);
]])

schema.define(54, "consent and statutory bases for sharing data", ddl[[
CREATE TABLE consent (
  id             INTEGER PRIMARY KEY,
  case_id        INTEGER NOT NULL REFERENCES case_file(id),
  member_id      INTEGER REFERENCES case_member(id),  -- NULL: the whole household
  institutions   TEXT NOT NULL,                       -- institution ids: "1,4,7"
  categories     TEXT NOT NULL,                       -- "podstawowe,zdrowie"
  basis          TEXT NOT NULL,
  basis_kind     TEXT NOT NULL CHECK (basis_kind IN ('zgoda', 'ustawa')),
  given_on       TEXT NOT NULL,
  expires_on     TEXT,
  withdrawn_on   TEXT,
  recorded_by_id INTEGER NOT NULL REFERENCES person(id),
  notes          TEXT,
  CHECK (expires_on IS NULL OR expires_on >= given_on),
  CHECK (withdrawn_on IS NULL OR withdrawn_on >= given_on)
);
CREATE INDEX consent_case_ix ON consent(case_id);
]])

-- }====================

-- {==================== helpers ====================

-- Raise an "invalid" error about field `field` of collection `cname`.
local invalid = entity.invalid
local show = entity.show

-- The options table t of a method (nil means {}); unknown keys are refused.
local function options(cname, what, t, known)
  if t == nil then return {} end
  if type(t) ~= "table" or getmetatable(t) then
    invalid(cname, what, "expected a table {%s}, got %s", concat(known, ", "), show(t))
  end
  for k in pairs(t) do
    local found = false
    for _, n in ipairs(known) do if n == k then found = true break end end
    if not found then invalid(cname, tostring(k), "unknown option of %s (known: %s)", what, concat(known, ", ")) end
  end
  return t
end
M.options = options

-- A date option v for `field` (default `default`, else today).
local function date_option(cname, field, v, default)
  if v == nil then return default or dates.today() end
  if type(v) ~= "string" or not dates.parse(v) then
    invalid(cname, field, "expected a date YYYY-MM-DD (got %s)", show(v))
  end
  return v
end
M.date_option = date_option

-- Refuse a date after today for `field` (things are recorded once they happen).
local function not_future(cname, field, date)
  local today = dates.today()
  if date > today then
    invalid(cname, field, "%s is after today (%s): record it when it has happened", date, today)
  end
end
M.not_future = not_future

-- The text option v for `field`, trimmed; nil when absent or blank.
local function text_option(v, cname, field)
  if v == nil then return nil end
  if type(v) ~= "string" then invalid(cname, field, "expected text, got %s", show(v)) end
  v = v:match("^%s*(.-)%s*$")
  return v ~= "" and v or nil
end
M.text_option = text_option

--- Run fn in a transaction that changes obj (and emits events); when it
--- fails, obj is read again, so that it shows what the database kept.
function M.changing(obj, fn)
  local cn = db()
  local ok, res = pcall(cn.tx, cn, fn)
  if ok then return res end
  pcall(obj.reload, obj)
  error(res, 0)
end

-- The id of an object of collection `cname` given as the object or its id.
local function id_of(cname, v)
  local coll = entity.collection_named(cname)
  if getmetatable(v) == coll.mt then return v.id end
  return math.tointeger(tonumber(v))
end
M.id_of = id_of

-- "OPS w Bogorii" for an institution id.
local function institution_name(id)
  return id and db():value("SELECT name FROM institution WHERE id = ?", id)
end
M.institution_name = institution_name

-- One enum value from choices (and aliases), case-insensitively; nil if none.
local function pick(v, choices, aliases)
  if type(v) ~= "string" then return nil end
  v = v:match("^%s*(.-)%s*$")
  for _, c in ipairs(choices) do if c == v then return c end end
  if aliases and aliases[v] then return aliases[v] end
  local low = koop.text and koop.text.lower(v) or v:lower()
  for _, c in ipairs(choices) do
    if (koop.text and koop.text.lower(c) or c:lower()) == low then return c end
  end
  return aliases and aliases[low]
end
M.pick = pick

-- }====================

-- {==================== reasons ====================

local reasons = entity.collection {
  name = "reasons", table = "assistance_reason", entity = "reason", label = "Reason",
  fields = {
    { "code", "text", required = true, check = function(v)
        if not v:match("^[%w%-_\128-\255]+$") or utf8.len(v) > 20 then
          return nil, "a reason code is one word of at most 20 characters (\"7a\", \"senior\")"
        end
        return v
      end },
    { "name", "text", required = true },
    { "valid_from", "date" },
    { "valid_to", "date" },
    { "sensitivity", "enum", choices = SENSITIVITIES, default = "none", what = "sensitivity",
      aliases = { ["art. 9"] = "art9", ["art. 10"] = "art10", brak = "none" } },
    { "source", "enum", choices = { "art7", "gmina" }, derived = true },
  },
  display = { "code", "name", "valid_from", "valid_to", "sensitivity", "source" },
  brief = { "code", "name" },
  order = { "source", "code", "valid_from" },
  validate = function(row, old, coll)
    if old and old.source == "art7" then
      coll.invalid("code", "art. 7 reasons are the statute's; add a gmina reason instead")
    end
    row.source = "gmina"
    entity.period(coll, row, "valid_from", "valid_to")
    local clash = db():first([[
      SELECT code, name, valid_from, valid_to FROM assistance_reason
       WHERE code = ? AND id IS NOT ?
         AND (valid_to IS NULL OR ? IS NULL OR valid_to >= ?)
         AND (valid_from IS NULL OR ? IS NULL OR valid_from <= ?) LIMIT 1]],
      row.code, row.id, row.valid_from, row.valid_from, row.valid_to, row.valid_to)
    if clash then
      coll.invalid("code", "reason %s (%s) is already in the dictionary for %s", clash.code, clash.name,
        (clash.valid_from or "…") .. " – " .. (clash.valid_to or "…"))
    end
  end,
  tostring = function(r)
    local s = ('Reason %s "%s"'):format(r.code, r.name)
    if r.valid_from or r.valid_to then s = s .. (" (%s – %s)"):format(r.valid_from or "…", r.valid_to or "…") end
    if r.sensitivity ~= "none" then s = s .. " [" .. SENSITIVITY_TEXT[r.sensitivity] .. "]" end
    return s
  end,
}
M.reasons = reasons

local REASON_ON = [[
SELECT * FROM assistance_reason
 WHERE code = ? AND (valid_from IS NULL OR valid_from <= ?2) AND (valid_to IS NULL OR valid_to >= ?2)
 ORDER BY source LIMIT 1]]

--- The dictionary entry of reason `code` valid on `date` (default today), or nil.
function reasons.on(code, date)
  date = date_option("reasons", "date", date)
  local row = db():first(REASON_ON, tostring(code), date)
  return row and reasons.wrap(row) or nil
end

--- The reasons valid on {on=} (default today), as a result set.
function reasons.valid(q)
  q = options("reasons", "valid", q, { "on" })
  local on = date_option("reasons", "on", q.on)
  return reasons.find{ where = "(valid_from IS NULL OR valid_from <= ?) AND (valid_to IS NULL OR valid_to >= ?)",
    args = { on, on }, order = { "source", "code" } }
end

-- Why `code` is not a reason on `date`: the message after "reason X on D".
local function reason_gap(code, date)
  local rows = db():query("SELECT name, valid_from, valid_to FROM assistance_reason WHERE code = ? ORDER BY valid_from", code)
  if #rows == 0 then
    local codes = {}
    for c in db():urows([[SELECT code FROM assistance_reason
        WHERE (valid_from IS NULL OR valid_from <= ?1) AND (valid_to IS NULL OR valid_to >= ?1)
        ORDER BY source, length(code), code]], date) do codes[#codes + 1] = c end
    return "is not in the dictionary (valid codes on that day: " .. concat(codes, ", ") .. ")"
  end
  local spans = {}
  for _, r in ipairs(rows) do
    spans[#spans + 1] = ("\"%s\" %s – %s"):format(r.name, r.valid_from or "…", r.valid_to or "…")
  end
  return "is not valid then (valid: " .. concat(spans, "; ") .. ")"
end

-- }====================

-- {==================== code of a case ====================

local FOLD = { ["ą"] = "A", ["ć"] = "C", ["ę"] = "E", ["ł"] = "L", ["ń"] = "N", ["ó"] = "O",
  ["ś"] = "S", ["ź"] = "Z", ["ż"] = "Z", ["Ą"] = "A", ["Ć"] = "C", ["Ę"] = "E", ["Ł"] = "L",
  ["Ń"] = "N", ["Ó"] = "O", ["Ś"] = "S", ["Ź"] = "Z", ["Ż"] = "Z" }

--- The code prefix made from a gmina's name: its first three letters in
--- capitals without diacritics ("Łoniów" -> "LON").
function M.prefix_of(name)
  local out = {}
  for _, cp in utf8.codes(name) do
    local ch = utf8.char(cp)
    ch = FOLD[ch] or (ch:match("^%a$") and ch:upper())
    if ch then out[#out + 1] = ch end
    if #out == 3 then break end
  end
  return #out > 0 and concat(out) or nil
end

-- The prefix of new case codes: koop_meta case_prefix, else from the name
-- of the case's gmina, else "SPR" (sprawa).
local function code_prefix(c, gmina_terc)
  local p = schema.meta(c, "case_prefix")
  if p and p ~= "" then
    if not p:match("^[%u%d]+$") or #p > 8 then
      invalid("cases", "code", "koop_meta case_prefix must be 1 to 8 capital letters or digits (got %s)", show(p))
    end
    return p
  end
  local name = gmina_terc and c:value("SELECT name FROM territory WHERE terc = ?", gmina_terc)
  return name and M.prefix_of(name) or "SPR"
end

local CODE = "^([%u%d]+)%-(%d%d%d%d)%-(%d+)$"
local COUNTER_NEXT = "SELECT last FROM case_counter WHERE prefix = ? AND year = ?"
local COUNTER_NOTE = [[
INSERT INTO case_counter (prefix, year, last) VALUES (?, ?, ?)
ON CONFLICT (prefix, year) DO UPDATE SET last = max(last, excluded.last)]]

-- The next free code for a case of that prefix opened on `date`.
local function next_code(c, prefix, date)
  local year = tonumber(date:sub(1, 4))
  local n = (c:value(COUNTER_NEXT, prefix, year) or 0) + 1
  return ("%s-%04d-%03d"):format(prefix, year, n)
end

-- }====================

-- {==================== members ====================

local members
-- The pesel_hash the next member write records (add_member and correct
-- set it; koop.null clears it), taken by validate.
local member_hash = nil

--- "J. K***": a member's masked name.
function M.mask_name(first, last)
  local f = first and first:match("^[%z\1-\127\194-\244][\128-\191]*") or "?"
  local l = last and last:match("^[%z\1-\127\194-\244][\128-\191]*") or "?"
  return f .. ". " .. l .. "***"
end

--- "8403*******": a masked PESEL (the birth year and month stay).
function M.mask_pesel(p)
  return p and p:sub(1, 4) .. "*******" or nil
end

local IDENTITY = "SELECT first_name, last_name, pesel FROM case_member_identity WHERE member_id = ?"

-- The key of pesel_hash: koop_meta pesel_key, made on first use.  A region
-- that wants to match people across its gminas gives them the same key.
local function pesel_key(c)
  local key = schema.meta(c, "pesel_key")
  if key then return key end
  local seed = { tostring({}), tostring(os.time()), tostring(os.clock()), tostring(math.random(0, 1 << 62)),
    tostring(math.random(0, 1 << 62)), dates.today() }
  key = koop.sha256(concat(seed, "|"))
  schema.set_meta(c, "pesel_key", key)
  return key
end

--- The keyed hash of a PESEL (nil when the database has no key yet and
--- `make` is false).
function M.pesel_hash(pesel, make)
  local c = db()
  local key = make ~= false and pesel_key(c) or schema.meta(c, "pesel_key")
  return key and koop.sha256("pesel:" .. key .. ":" .. pesel) or nil
end

-- The member's identity row (names, PESEL); an internal read, not audited:
-- callers either mask it or log the access themselves.
local function identity(id) return db():first(IDENTITY, id) end

-- Cases other than `case_id` with a member of this pesel_hash: "BOG-2020-003, ...".
local function other_cases(hash, case_id)
  if not hash then return nil end
  local codes = {}
  for code in db():urows([[SELECT DISTINCT f.code FROM case_member m JOIN case_file f ON f.id = m.case_id
      WHERE m.pesel_hash = ? AND m.case_id <> ? ORDER BY f.code]], hash, case_id) do
    codes[#codes + 1] = code
  end
  return #codes > 0 and codes or nil
end

-- Age in whole years on `date` of someone born on `born`.
local function age(born, date)
  local by, bm, bd = dates.parse(born)
  local y, m, d = dates.parse(date)
  local a = y - by
  if m < bm or (m == bm and d < bd) then a = a - 1 end
  return a
end
M.age = age

members = entity.collection {
  name = "case_members", table = "case_member", label = "Member",
  fields = {
    { "case", "ref", to = "cases", required = true },
    { "relation", "enum", choices = RELATIONS, aliases = RELATION_ALIASES, required = true, what = "relation" },
    { "birth_date", "date", required = true },
    { "sex", "enum", choices = SEXES, aliases = SEX_ALIASES, required = true, what = "sex (K or M)" },
    { "pesel_hash", "text", derived = true },
  },
  display = { "id", "relation", "name", "sex", "born", "pesel" },
  order = { "case_id", "id" },
  validate = function(row, old, coll)
    if member_hash ~= nil then
      row.pesel_hash = member_hash ~= null and member_hash or nil
      member_hash = nil
    end
    if old and row.case_id ~= old.case_id then coll.invalid("case", "a member cannot move to another case") end
    if not old then
      local cr = db():first("SELECT code, status, closed_on FROM case_file WHERE id = ?", row.case_id)
      if cr.status == CLOSED then coll.invalid("case", "%s is closed (%s)", cr.code, cr.closed_on) end
    end
    if row.relation == "wnioskodawca" and (not old or old.relation ~= "wnioskodawca") then
      local other = db():value("SELECT id FROM case_member WHERE case_id = ? AND relation = 'wnioskodawca' AND id IS NOT ?",
        row.case_id, row.id)
      if other then coll.invalid("relation", "the case has an applicant already (Member#%d)", other) end
    end
    if row.birth_date > dates.today() then
      coll.invalid("birth_date", "%s is after today", row.birth_date)
    end
  end,
  props = {
    --- The masked name "J. K***".
    name = function(m)
      local id = identity(m.id)
      return id and M.mask_name(id.first_name, id.last_name)
    end,
    --- The masked PESEL "8403*******" (nil when the member has none).
    pesel = function(m)
      local id = identity(m.id)
      return id and M.mask_pesel(id.pesel)
    end,
    --- The year of birth.
    born = function(m) return tonumber(m.birth_date:sub(1, 4)) end,
    --- Age in years today.
    age = function(m) return age(m.birth_date, dates.today()) end,
    --- Codes of the other cases this person (same PESEL) belongs to, or nil.
    other_cases = function(m) return other_cases(m.pesel_hash, m.case_id) end,
  },
  methods = {
    --- The member's names and PESEL {first_name, last_name, pesel}; the read
    --- is written to the audit log.
    identify = function(m)
      local c = db()
      return c:tx(function()
        local id = identity(m.id)
        audit.access("case_members", m.id, "names and PESEL")
        return { first_name = id.first_name, last_name = id.last_name, pesel = id.pesel }
      end)
    end,
    --- Correct the names or the PESEL: {first_name=, last_name=, pesel=}.
    correct = function(m, q) return M.correct_member(m, q) end,
  },
  tostring = function(m)
    local id = identity(m.id)
    local s = ("Member#%d %s, %s, %s %d"):format(m.id, id and M.mask_name(id.first_name, id.last_name) or "?",
      m.relation, m.sex, tonumber(m.birth_date:sub(1, 4)))
    if id and id.pesel then s = s .. ", PESEL " .. M.mask_pesel(id.pesel) end
    return s
  end,
}
M.members = members

-- The checked identity fields of input (names, PESEL) and what they imply
-- (birth date, sex); `old` is the current identity when correcting.
local function check_identity(input, old)
  local out = {}
  for _, f in ipairs{ "first_name", "last_name" } do
    local v = input[f]
    if v == nil then
      v = old and old[f]
    else
      local stored, msg = entity.types.text.check(v, {})
      if stored == nil then invalid("case_members", f, "%s (got %s)", msg, show(v)) end
      v = stored ~= null and stored or nil
    end
    if not v then invalid("case_members", f, "is required") end
    out[f] = v
  end
  local p = input.pesel
  if p == nil then
    out.pesel = old and old.pesel
  elseif p == null or p == "" then
    out.pesel = nil
  else
    if type(p) == "number" then p = math.tointeger(p) and ("%011d"):format(p) or tostring(p) end
    if type(p) ~= "string" then invalid("case_members", "pesel", "expected 11 digits as text, got %s", show(p)) end
    local info, msg = koop.ids.pesel(p)
    if not info then invalid("case_members", "pesel", "%s (got %s)", msg, show(p)) end
    out.pesel, out.birth_date, out.sex = info.value, info.birth_date, info.sex
  end
  return out
end

local INSERT_IDENTITY = "INSERT INTO case_member_identity (member_id, first_name, last_name, pesel) VALUES (?, ?, ?, ?)"
local UPDATE_IDENTITY = "UPDATE case_member_identity SET first_name = ?, last_name = ?, pesel = ? WHERE member_id = ?"

-- The audit record of an identity: which fields, and their keyed hash.
local function identity_json(idn)
  return json.encode{ fields = idn.pesel and "first_name,last_name,pesel" or "first_name,last_name",
    sha256 = audit.identity_hash(pesel_key(db()), idn.first_name, idn.last_name, idn.pesel) }
end

--- Add a member to case c (see c:add_member).
function M.add_member(c, input)
  if type(input) ~= "table" or getmetatable(input) then
    invalid("case_members", "add_member", "expected a table {first_name=, last_name=, pesel=, relation=, ...}, got %s", show(input))
  end
  if c.status == CLOSED then invalid("case_members", "case", "%s is closed (%s)", c.code, c.closed_on) end
  local idn = check_identity(input)
  local row = { case = c }
  for k, v in pairs(input) do
    if k ~= "first_name" and k ~= "last_name" and k ~= "pesel" then
      if k == "case" then invalid("case_members", "case", "add_member adds to this case; do not give case=") end
      row[k] = v
    end
  end
  if idn.pesel then
    -- birth date and sex come from the PESEL; given as well, they must agree
    local given = { birth_date = row.birth_date, sex = row.sex ~= nil and (pick(row.sex, SEXES, SEX_ALIASES) or row.sex) or nil }
    for _, f in ipairs{ "birth_date", "sex" } do
      if given[f] ~= nil and given[f] ~= idn[f] then
        invalid("case_members", f, "%s does not match the PESEL, which encodes %s", show(given[f]), idn[f])
      end
      row[f] = idn[f]
    end
  else
    for _, f in ipairs{ "birth_date", "sex" } do
      if row[f] == nil then invalid("case_members", f, "is required when there is no PESEL") end
    end
  end
  local cn = db()
  return cn:tx(function()
    local hash = idn.pesel and M.pesel_hash(idn.pesel)
    if hash and cn:value("SELECT 1 FROM case_member WHERE case_id = ? AND pesel_hash = ?", c.id, hash) then
      invalid("case_members", "pesel", "this PESEL is already a member of %s", c.code)
    end
    member_hash = hash
    local ok, m = pcall(members.add, row)
    member_hash = nil
    if not ok then error(m, 0) end
    cn:exec(INSERT_IDENTITY, m.id, idn.first_name, idn.last_name, idn.pesel)
    audit.append(cn, "add", "case_member_identities", m.id, nil, identity_json(idn))
    return m
  end)
end

--- Correct a member's names or PESEL: {first_name=, last_name=, pesel=}.
function M.correct_member(m, q)
  q = options("case_members", "correct", q, { "first_name", "last_name", "pesel" })
  local cn = db()
  local old = identity(m.id)
  local idn = check_identity(q, old)
  return M.changing(m, function()
    local changes = {}
    if idn.pesel and idn.pesel ~= old.pesel then
      local hash = M.pesel_hash(idn.pesel)
      if cn:value("SELECT 1 FROM case_member WHERE case_id = ? AND pesel_hash = ? AND id <> ?", m.case_id, hash, m.id) then
        invalid("case_members", "pesel", "this PESEL is already a member of the case")
      end
      member_hash = hash
      changes = { birth_date = idn.birth_date, sex = idn.sex }
    elseif not idn.pesel and old.pesel then
      member_hash = null
    end
    local ok, err = pcall(m.update, m, changes)
    member_hash = nil
    if not ok then error(err, 0) end
    cn:exec(UPDATE_IDENTITY, idn.first_name, idn.last_name, idn.pesel, m.id)
    audit.append(cn, "update", "case_member_identities", m.id, identity_json(old), identity_json(idn))
    return m
  end)
end

-- }====================

-- {==================== consent ====================

-- "1,4,7" from institutions given as objects, ids or one of them.
local function institution_list(v)
  if v == nil then return nil end
  local list = (type(v) == "table" and not getmetatable(v)) and v or { v }
  local ids, seen = {}, {}
  for _, x in ipairs(list) do
    local id = id_of("institutions", x)
    if not id then invalid("consents", "institutions", "expected institutions or their ids, got %s", show(x)) end
    if not seen[id] then seen[id] = true; ids[#ids + 1] = id end
  end
  table.sort(ids)
  return concat(ids, ",")
end

--- Canonical list of data categories ("podstawowe,zdrowie") from a list
--- or comma-separated text; raises naming `cname.field`.
function M.category_list(v, cname, field)
  if v == nil then return nil end
  local list
  if type(v) == "string" then
    list = {}
    for item in v:gmatch("[^,]+") do list[#list + 1] = item end
  elseif type(v) == "table" and not getmetatable(v) then
    list = v
  else
    invalid(cname, field, "expected a list of data categories, got %s", show(v))
  end
  local out, seen = {}, {}
  for _, x in ipairs(list) do
    local c = pick(x, CATEGORY_NAMES, CATEGORY_ALIASES)
    if not c then
      invalid(cname, field, "unknown data category %s (known: %s)", show(x), concat(CATEGORY_NAMES, ", "))
    end
    if not seen[c] then seen[c] = true; out[#out + 1] = c end
  end
  table.sort(out, function(a, b) return CATEGORY_RANK[a] < CATEGORY_RANK[b] end)
  return #out > 0 and concat(out, ",") or nil
end

-- Is basis text a consent (zgoda) rather than a statute?
local function consent_basis(text)
  local low = koop.text and koop.text.lower(text) or text:lower()
  return low == "zgoda" or low == "consent" or low:find("zgod", 1, true) ~= nil
    or low:find("6(1)(a)", 1, true) ~= nil or low:find("9(2)(a)", 1, true) ~= nil
end

-- The withdrawn_on the next update of a consent records (withdraw only).
local withdrawing = nil

local consents = entity.collection {
  name = "consents", table = "consent", label = "Consent",
  fields = {
    { "case", "ref", to = "cases", required = true },
    { "member", "ref", to = "case_members" },
    { "institutions", "text", required = true, check = function(v)
        if not v:match("^%d+[,%d]*$") then return nil, "a list of institution ids, e.g. \"1,4,7\"" end
        return v
      end },
    { "categories", "text", required = true, check = function(v)
        local ok, res = pcall(M.category_list, v, "consents", "categories")
        if not ok then return nil, (tostring(res.message or res):gsub("^consents%.categories: ", "")) end
        return res
      end },
    { "basis", "text", required = true, default = CONSENT_BASIS },
    { "basis_kind", "enum", choices = { "zgoda", "ustawa" }, derived = true },
    { "given_on", "date", required = true, default = function() return dates.today() end },
    { "expires_on", "date" },
    { "withdrawn_on", "date", derived = true },
    { "recorded_by", "ref", to = "people", required = true },
    { "notes", "text" },
  },
  display = { "id", "basis_kind", "given_on", "withdrawn_on", "scope" },
  order = { "case_id", "given_on", "id" },
  validate = function(row, old, coll)
    local c = db()
    if withdrawing then row.withdrawn_on = withdrawing; withdrawing = nil end
    if old then
      for _, f in ipairs{ "case_id", "member_id", "institutions", "categories", "basis", "given_on" } do
        if row[f] ~= old[f] then
          coll.invalid(f == "case_id" and "case" or f == "member_id" and "member" or f,
            "a recorded consent is evidence and cannot be changed: withdraw it and record a new one")
        end
      end
    end
    row.basis_kind = consent_basis(row.basis) and "zgoda" or "ustawa"
    if row.basis_kind == "zgoda" and row.basis:lower() == "zgoda" then row.basis = CONSENT_BASIS end
    if row.member_id and c:value("SELECT case_id FROM case_member WHERE id = ?", row.member_id) ~= row.case_id then
      coll.invalid("member", "Member#%d is not a member of this case", row.member_id)
    end
    for id in row.institutions:gmatch("%d+") do
      if not c:value("SELECT 1 FROM institution WHERE id = ?", tonumber(id)) then
        coll.invalid("institutions", "no institution with id %s", id)
      end
    end
    if not old then not_future("consents", "given_on", row.given_on) end
    entity.period(coll, row, "given_on", "expires_on")
    if row.withdrawn_on then
      if row.withdrawn_on < row.given_on then
        coll.invalid("withdrawn_on", "%s is before the consent was given (%s)", row.withdrawn_on, row.given_on)
      end
      not_future("consents", "withdrawn_on", row.withdrawn_on)
    end
  end,
  props = {
    --- "OPS, PUP w Staszowie ...: podstawowe, zdrowie": what it covers.
    scope = function(k) return M.scope_text(k) end,
    --- In force today?
    active = function(k) return M.consent_active(k, dates.today()) end,
  },
  methods = {
    --- Withdraw the consent on {date=} (default today): no further sharing.
    withdraw = function(k, q)
      q = options("consents", "withdraw", q, { "date" })
      local date = date_option("consents", "withdrawn_on", q.date)
      if k.withdrawn_on then invalid("consents", "withdrawn_on", "Consent#%d was withdrawn already (%s)", k.id, k.withdrawn_on) end
      return M.changing(k, function()
        withdrawing = date
        local ok, err = pcall(k.update, k, {})
        withdrawing = nil
        if not ok then error(err, 0) end
        events.emit("consent.withdrawn", k, { date = date, case = k.case })
        return k
      end)
    end,
  },
  tostring = function(k)
    local s = ("Consent#%d %s %s"):format(k.id, k.basis_kind, k.given_on)
    if k.withdrawn_on then s = s .. " withdrawn " .. k.withdrawn_on end
    return s .. ": " .. M.scope_text(k)
  end,
}
M.consents = consents

-- A short name of an institution for scopes and cards: its short name, or
-- its name.
local function short_name(id)
  local r = db():first("SELECT name, short FROM institution WHERE id = ?", id)
  return r and (r.short or r.name) or ("#" .. id)
end
M.short_name = short_name

--- The text of a consent's scope.
function M.scope_text(k)
  local names = {}
  for id in k.institutions:gmatch("%d+") do names[#names + 1] = short_name(tonumber(id)) end
  return concat(names, ", ") .. ": " .. k.categories:gsub(",", ", ")
end

--- Is consent k (an object or row) in force on `date`?
function M.consent_active(k, date)
  return k.given_on <= date and (k.withdrawn_on == nil or k.withdrawn_on > date)
    and (k.expires_on == nil or k.expires_on >= date)
end

local ACTIVE_CONSENTS = [[
SELECT * FROM consent
 WHERE case_id = ?1 AND given_on <= ?2 AND (withdrawn_on IS NULL OR withdrawn_on > ?2)
   AND (expires_on IS NULL OR expires_on >= ?2)
   AND (member_id IS NULL OR member_id IS ?3)
 ORDER BY given_on DESC, id DESC]]

--- The consents (and statutory bases) of case `case_id` in force on `date`
--- that cover member `member_id` (nil: the household), newest first.
function M.active_consents(case_id, date, member_id)
  return db():query(ACTIVE_CONSENTS, case_id, date, member_id)
end

-- Does the comma list `list` contain `item`?
local function listed(list, item)
  return ("," .. list .. ","):find("," .. item .. ",", 1, true) ~= nil
end

--- May data of `categories` (canonical list text) go to institution
--- `inst_id` on `date`?  Returns the consent that covers it; or nil and a
--- message: which institution (and categories) no consent reaches.
function M.coverage(case_id, member_id, inst_id, categories, date)
  local active = M.active_consents(case_id, date, member_id)
  local wanted = {}
  for cat in categories:gmatch("[^,]+") do wanted[#wanted + 1] = cat end
  local reaching = {}
  for _, k in ipairs(active) do
    if listed(k.institutions, inst_id) then
      reaching[#reaching + 1] = k
      local all = true
      for _, cat in ipairs(wanted) do if not listed(k.categories, cat) then all = false break end end
      if all then return k end
    end
  end
  local name = institution_name(inst_id) or ("#" .. inst_id)
  if #reaching == 0 then
    return nil, ("%s is outside the scope of every consent in force on %s"):format(name, date)
  end
  local missing = {}
  for _, cat in ipairs(wanted) do
    local covered = false
    for _, k in ipairs(reaching) do if listed(k.categories, cat) then covered = true break end end
    if not covered then missing[#missing + 1] = cat end
  end
  if #missing == 0 then return reaching[1] end      -- covered by several consents together
  return nil, ("the consent for %s on %s does not cover the data categor%s %s"):format(name, date,
    #missing == 1 and "y" or "ies", concat(missing, ", "))
end

-- }====================

-- {==================== cases ====================

local cases
local methods = {}
local plain_update        -- the framework's update (methods.update checks stages first)

-- Pending values of the derived fields, taken by validate (set_stage and close only).
local pending = nil

local function home_gmina() return schema.meta(db(), "gmina") end

-- "zgłoszona → diagnoza" and the list of stages reachable from `from`.
local function next_text(from)
  local list = NEXT[from]
  if #list == 0 then return "none" end
  return concat(list, ", ")
end


--- Move the case to `stage` on {date=} (default today); emits case.stage_changed.
function methods.set_stage(c, stage, q)
  q = options("cases", "set_stage", q, { "date" })
  local to = pick(stage, STAGES, STAGE_ALIASES)
  if not to then invalid("cases", "status", "unknown stage %s (stages: %s)", show(stage), concat(STAGES, ", ")) end
  local date = date_option("cases", "status", q.date)
  local from = c.status
  if to == from then return c end
  return M.changing(c, function()
    pending = { date = date }
    local ok, err = pcall(plain_update, c, { status = to })
    pending = nil
    if not ok then error(err, 0) end
    events.emit("case.stage_changed", c, { from = from, to = to, date = date })
    return c
  end)
end

local OPEN_REFERRALS = [[
SELECT r.id, r.status, r.sent_on, i.name AS institution FROM referral r JOIN institution i ON i.id = r.to_institution_id
 WHERE r.case_id = ? AND r.status IN ('sent', 'received', 'accepted', 'in_progress') ORDER BY r.id]]

--- Close the case: {date= (default today), outcome=, force=, reason=}.
--- Open referrals stop it unless force=true with a reason=, which cancels
--- them and is written to the audit log.
function methods.close(c, q)
  q = options("cases", "close", q, { "date", "outcome", "force", "reason", "note" })
  if c.status == CLOSED then invalid("cases", "status", "%s was closed already (%s, %s)", c.code, c.closed_on, c.outcome) end
  local outcome = pick(q.outcome, OUTCOMES, OUTCOME_ALIASES)
  if not outcome then
    invalid("cases", "outcome", "%s (outcomes: %s)", q.outcome == nil and "is required" or "unknown outcome " .. show(q.outcome),
      concat(OUTCOMES, ", "))
  end
  local date = date_option("cases", "closed_on", q.date)
  if date < c.opened_on then invalid("cases", "closed_on", "%s is before the case opened (%s)", date, c.opened_on) end
  local reason = text_option(q.reason, "cases", "reason")
  local note = text_option(q.note, "cases", "note")
  if q.force ~= nil and type(q.force) ~= "boolean" then invalid("cases", "force", "expected true or false, got %s", show(q.force)) end
  local cn = db()
  local open = cn:query(OPEN_REFERRALS, c.id)
  if #open > 0 and not q.force then
    local list = {}
    for _, r in ipairs(open) do list[#list + 1] = ("Referral#%d to %s (%s)"):format(r.id, r.institution, r.status) end
    invalid("cases", "status", "%s has %d open referral%s: %s; complete or cancel %s, or close with force=true and reason=",
      c.code, #open, #open == 1 and "" or "s", concat(list, "; "), #open == 1 and "it" or "them")
  end
  if q.force and #open > 0 and not reason then
    invalid("cases", "reason", "closing %s with %d open referral%s by force needs reason=", c.code, #open, #open == 1 and "" or "s")
  end
  local from = c.status
  return M.changing(c, function()
    if q.force and #open > 0 then
      local referrals = entity.collection_named("referrals")
      local ids = {}
      for _, r in ipairs(open) do
        referrals.get(r.id):cancel{ date = r.sent_on > date and r.sent_on or date, reason = "sprawa zamknięta: " .. reason }
        ids[#ids + 1] = r.id
      end
      audit.append(cn, "force_close", "cases", c.id, nil, json.encode{ reason = reason, cancelled_referrals = ids })
    end
    pending = { date = date, close = true, outcome = outcome, note = note or (q.force and #open > 0 and reason) or nil }
    local ok, err = pcall(plain_update, c, { status = CLOSED })
    pending = nil
    if not ok then error(err, 0) end
    require("koop.plans").case_closed(c, date, outcome)
    events.emit("case.stage_changed", c, { from = from, to = CLOSED, date = date })
    events.emit("case.closed", c, { date = date, outcome = outcome, forced = q.force and #open > 0 or false })
    return c
  end)
end

-- {---- members, reasons, consent ----

--- Add a member: {first_name=, last_name=, pesel= | birth_date= and sex=,
--- relation=}; returns the member (shown masked).
function methods.add_member(c, input) return M.add_member(c, input) end

--- The members, masked; {identified=true} gives their names and PESEL as
--- plain rows and writes the read to the audit log.
function methods.members(c, q)
  q = options("cases", "members", q, { "identified" })
  local list = members.find{ case = c }
  if not q.identified then return list end
  local cn = db()
  return cn:tx(function()
    local rows = {}
    for i, m in ipairs(list) do
      local idn = identity(m.id)
      rows[i] = { id = m.id, relation = m.relation, first_name = idn.first_name, last_name = idn.last_name,
        pesel = idn.pesel, birth_date = m.birth_date, sex = m.sex }
    end
    audit.access("cases", c.id, ("names and PESEL of %d member%s"):format(#rows, #rows == 1 and "" or "s"))
    return koop.resultset(rows, { "id", "relation", "first_name", "last_name", "pesel", "birth_date", "sex" })
  end)
end

local case_reasons = entity.collection {
  name = "case_reasons", table = "case_reason", label = "CaseReason",
  fields = {
    { "case", "ref", to = "cases", required = true },
    { "reason", "ref", to = "reasons", required = true },
    { "code", "text", derived = true },
    { "noted_on", "date", required = true },
    { "institution", "ref", to = "institutions" },
  },
  display = { "code", "name", "sensitivity", "noted_on" },
  order = { "case_id", "id" },
  deletable = true,
  validate = function(row)
    row.code = db():value("SELECT code FROM assistance_reason WHERE id = ?", row.reason_id)
  end,
  props = {
    name = function(r) return db():value("SELECT name FROM assistance_reason WHERE id = ?", r.reason_id) end,
    sensitivity = function(r) return db():value("SELECT sensitivity FROM assistance_reason WHERE id = ?", r.reason_id) end,
  },
  tostring = function(r)
    local d = db():first("SELECT name, sensitivity FROM assistance_reason WHERE id = ?", r.reason_id)
    local s = ('CaseReason %s "%s" noted %s'):format(r.code, d.name, r.noted_on)
    if d.sensitivity ~= "none" then s = s .. " [" .. SENSITIVITY_TEXT[d.sensitivity] .. "]" end
    return s
  end,
}
M.case_reasons = case_reasons

--- Note art. 7 (or gmina) reason `code` for the case, valid on `date`
--- (default: the day the case opened); emits case.reason_added.
function methods.reason(c, code, date, q)
  q = options("cases", "reason", q, { "institution" })
  if math.type(code) == "integer" then code = tostring(code) end
  if type(code) ~= "string" then invalid("case_reasons", "code", "expected a reason code such as \"4\" or \"7a\", got %s", show(code)) end
  date = date_option("case_reasons", "noted_on", date, c.opened_on)
  if c.status == CLOSED then invalid("case_reasons", "case", "%s is closed (%s)", c.code, c.closed_on) end
  if date < c.opened_on then invalid("case_reasons", "noted_on", "%s is before the case opened (%s)", date, c.opened_on) end
  local r = reasons.on(code, date)
  if not r then invalid("case_reasons", "code", "reason %s on %s %s", code, date, reason_gap(code, date)) end
  local cn = db()
  if cn:value("SELECT 1 FROM case_reason WHERE case_id = ? AND code = ?", c.id, r.code) then
    invalid("case_reasons", "code", "%s has reason %s already", c.code, r.code)
  end
  return cn:tx(function()
    local cr = case_reasons.add{ case = c, reason = r, noted_on = date, institution = q.institution }
    events.emit("case.reason_added", c, { code = r.code, reason = r, date = date })
    return cr
  end)
end

--- Does the case have reason `code`?
function methods.has_reason(c, code)
  if math.type(code) == "integer" then code = tostring(code) end
  return db():value("SELECT 1 FROM case_reason WHERE case_id = ? AND code = ?", c.id, code) ~= nil
end

--- The case's reasons, as a result set.
function methods.reasons(c) return case_reasons.find{ case = c } end

--- Remove reason `code` noted by mistake.
function methods.drop_reason(c, code)
  if math.type(code) == "integer" then code = tostring(code) end
  local r = case_reasons.find{ case = c, where = "code = ?", args = { tostring(code) } }[1]
  if not r then invalid("case_reasons", "code", "%s has no reason %s", c.code, show(code)) end
  r:delete()
  return c
end

--- Record consent (or a statutory basis) to share the case's data:
--- {institutions={...}, categories={...}, member=, basis= ("zgoda" or the
--- statute), given=, expires=, recorded_by=, notes=}; emits consent.given.
function methods.consent(c, q)
  q = options("consents", "consent", q, { "institutions", "categories", "member", "basis", "given", "expires", "recorded_by", "notes" })
  if c.status == CLOSED then invalid("consents", "case", "%s is closed (%s)", c.code, c.closed_on) end
  local row = { case = c, member = q.member, basis = q.basis, given_on = q.given, expires_on = q.expires,
    recorded_by = q.recorded_by, notes = q.notes,
    institutions = institution_list(q.institutions),
    categories = M.category_list(q.categories, "consents", "categories") }
  if row.institutions == nil then invalid("consents", "institutions", "is required: the institutions the data may go to") end
  if row.categories == nil then invalid("consents", "categories", "is required: the data categories that may be shared") end
  return db():tx(function()
    local k = consents.add(row)
    events.emit("consent.given", k, { case = c, date = k.given_on })
    return k
  end)
end

--- The case's consents and statutory bases, oldest first.
function methods.consents(c) return consents.find{ case = c } end

-- }----

-- {---- teams and tasks ----

--- Form the case's task team (ZZK): {formed_on= (default today), name=};
--- returns the team (add members with team:add_member{}).
function methods.task_team(c, q)
  q = options("cases", "task_team", q, { "formed_on", "name", "notes" })
  if c.team_id then invalid("cases", "team", "%s has a task team already (Team#%d)", c.code, c.team_id) end
  if c.status == CLOSED then invalid("cases", "team", "%s is closed (%s)", c.code, c.closed_on) end
  local formed = date_option("cases", "formed_on", q.formed_on)
  if formed < c.opened_on then invalid("cases", "formed_on", "%s is before the case opened (%s)", formed, c.opened_on) end
  local teams = entity.collection_named("teams")
  return M.changing(c, function()
    local t = teams.add{ kind = "ZZK", gmina = c.gmina_terc, name = q.name or ("ZZK " .. c.code),
      formed_on = formed, notes = q.notes }
    plain_update(c, { team = t })
    return t
  end)
end

--- A task for the case: {text=, due=, owner= (person or institution), notes=}.
function methods.task(c, q)
  q = options("tasks", "task", q, { "text", "due", "owner", "owner_person", "owner_institution", "notes", "created_on" })
  if c.status == CLOSED then invalid("tasks", "source_id", "%s is closed (%s)", c.code, c.closed_on) end
  local row = { source_kind = "case", source_id = c.id }
  for k, v in pairs(q) do row[k] = v end
  return entity.collection_named("tasks").add(row)
end

--- The case's tasks.
function methods.tasks(c)
  return entity.collection_named("tasks").find{ source_kind = "case", source_id = c.id }
end

-- }----

-- {---- plans, referrals, services ----

--- A new plan (v1 draft): {type=, review_on=, agreed_on=, basis=, notes=}.
function methods.plan(c, q) return require("koop.plans").new(c, q) end
--- The case's plans, every version.
function methods.plans(c) return require("koop.plans").plans.find{ case = c, order = { "type", "version" } } end
--- The case's plan in force (the newest version not revised), or nil.
function methods.current_plan(c, ptype) return require("koop.plans").current(c, ptype) end
--- A referral to another institution: see koop.referrals.
function methods.refer(c, q) return require("koop.referrals").refer(c, q) end
--- The case's referrals.
function methods.referrals(c) return require("koop.referrals").referrals.find{ case = c } end
--- A service delivery: see koop.services.
function methods.deliver(c, q) return require("koop.services").deliver(c, q) end
--- The case's service deliveries.
function methods.services(c) return require("koop.services").services.find{ case = c, order = { "date", "id" } } end

-- }----

-- }====================

-- {==================== search by PESEL ====================

--- The cases whose members include the person with this PESEL (the search
--- is written to the audit log).
function M.with_pesel(pesel)
  local info, msg = koop.ids.pesel(type(pesel) == "string" and pesel or tostring(pesel))
  if not info then invalid("cases", "pesel", "%s (got %s)", msg, show(pesel)) end
  local cn = db()
  return cn:tx(function()
    local hash = M.pesel_hash(info.value, false)
    audit.access("cases", nil, "search by PESEL")
    if not hash then return cases.find{ where = "0" } end
    return cases.find{ where = "id IN (SELECT case_id FROM case_member WHERE pesel_hash = ?)", args = { hash } }
  end)
end

-- }====================

-- {==================== the case card ====================

local Card = { __name = "CaseCard" }
Card.__index = Card

local function money_text(v)
  local money = rawget(koop, "money")
  if money and money.is(v) then return tostring(v) end
  if money then return tostring(money.grosze(v)) end
  return ("%d,%02d zł"):format(v // 100, v % 100)
end
M.money_text = money_text

local ORDER_ACTIONS = [[
SELECT a.id, a.text, a.status, a.due, a.institution_id, g.text AS goal FROM plan_action a
  JOIN plan_goal g ON g.id = a.goal_id
 WHERE a.plan_id = ? AND a.status IN ('planned', 'in_progress') ORDER BY a.due IS NULL, a.due, a.id]]

--- The case's summary card: code, stage, reasons, members (masked unless
--- {identified=true}, which is audited), consent scope, the plan and its
--- open actions, open and overdue referrals, services count and cost.
--- Prints as text; its fields hold the same data.
function methods.card(c, q)
  q = options("cases", "card", q, { "identified" })
  local cn = db()
  local today = dates.today()
  local card = setmetatable({ id = c.id, code = c.code, status = c.status, status_since = c.status_since,
    opened_on = c.opened_on, closed_on = c.closed_on, outcome = c.outcome, today = today,
    source = c.source_institution_id and institution_name(c.source_institution_id),
    coordinator = c.coordinator_id and cn:value("SELECT first_name || ' ' || last_name FROM person WHERE id = ?", c.coordinator_id),
    identified = q.identified and true or false }, Card)
  card.reasons = cn:query([[SELECT r.code, a.name, a.sensitivity FROM case_reason r
    JOIN assistance_reason a ON a.id = r.reason_id WHERE r.case_id = ? ORDER BY r.id]], c.id)
  local function fill()
    card.members = {}
    for _, m in ipairs(members.find{ case = c }) do
      local idn = identity(m.id)
      card.members[#card.members + 1] = {
        id = m.id, relation = m.relation, sex = m.sex, age = age(m.birth_date, today), born = m.born,
        name = q.identified and (idn.first_name .. " " .. idn.last_name) or M.mask_name(idn.first_name, idn.last_name),
        pesel = q.identified and idn.pesel or M.mask_pesel(idn.pesel),
        birth_date = q.identified and m.birth_date or nil,
        other_cases = other_cases(m.pesel_hash, c.id) }
    end
    if q.identified then
      audit.access("cases", c.id, ("case card with names and PESEL of %d member%s"):format(#card.members, #card.members == 1 and "" or "s"))
    end
  end
  if q.identified then cn:tx(fill) else fill() end
  card.consents = {}
  for _, k in ipairs(consents.find{ case = c }) do
    card.consents[#card.consents + 1] = { id = k.id, kind = k.basis_kind, given_on = k.given_on,
      withdrawn_on = k.withdrawn_on, expires_on = k.expires_on, active = M.consent_active(k, today),
      scope = M.scope_text(k), member = k.member_id }
  end
  local plan = require("koop.plans").current(c)
  if plan then
    card.plan = { id = plan.id, type = plan.type, version = plan.version, status = plan.status,
      agreed_on = plan.agreed_on, review_on = plan.review_on,
      goals = cn:value("SELECT count(*) FROM plan_goal WHERE plan_id = ?", plan.id) }
    card.open_actions = {}
    for _, a in ipairs(cn:query(ORDER_ACTIONS, plan.id)) do
      a.institution = a.institution_id and short_name(a.institution_id)
      a.overdue = a.due ~= nil and a.due < today
      card.open_actions[#card.open_actions + 1] = a
    end
  end
  card.referrals = {}
  card.referrals_total = 0
  for r in cn:rows([[SELECT r.id, r.status, r.sent_on, r.response_due, r.from_institution_id, r.to_institution_id,
      r.service_type FROM referral r WHERE r.case_id = ? ORDER BY r.id]], c.id) do
    card.referrals_total = card.referrals_total + 1
    if r.status == "sent" or r.status == "received" or r.status == "accepted" or r.status == "in_progress" then
      r.overdue = (r.status == "sent" or r.status == "received") and r.response_due < today
      r.from, r.to = short_name(r.from_institution_id), short_name(r.to_institution_id)
      card.referrals[#card.referrals + 1] = r
    end
  end
  local s = cn:first([[SELECT count(*) AS n, coalesce(sum(cost), 0) AS cost FROM service_delivery
    WHERE case_id = ? AND status = 'delivered']], c.id)
  card.services = { delivered = s.n, cost = s.cost,
    scheduled = cn:value("SELECT count(*) FROM service_delivery WHERE case_id = ? AND status = 'scheduled'", c.id) }
  card.units = cn:query([[SELECT unit, sum(units) AS units FROM service_delivery
    WHERE case_id = ? AND status = 'delivered' GROUP BY unit ORDER BY unit]], c.id)
  return card
end

function Card.__tostring(k)
  local out = {}
  local function add(fmt, ...) out[#out + 1] = fmt:format(...) end
  add("Case#%d %s — %s since %s%s", k.id, k.code, k.status, k.status_since,
    k.outcome and (" (" .. k.outcome .. ", closed " .. k.closed_on .. ")") or "")
  add("  opened %s%s%s", k.opened_on, k.source and (", reported by " .. k.source) or "",
    k.coordinator and (", coordinator " .. k.coordinator) or "")
  local rs = {}
  for _, r in ipairs(k.reasons) do
    rs[#rs + 1] = r.code .. " " .. r.name .. (r.sensitivity ~= "none" and " [" .. SENSITIVITY_TEXT[r.sensitivity] .. "]" or "")
  end
  add("  reasons: %s", #rs > 0 and concat(rs, "; ") or "none")
  add("  members (%d)%s:", #k.members, k.identified and ", identified (access logged)" or "")
  for _, m in ipairs(k.members) do
    local line = ("    #%d %s, %s, %s, %d l.%s"):format(m.id, m.name, m.relation, m.sex, m.age,
      m.pesel and (", PESEL " .. m.pesel) or (m.birth_date and ", ur. " .. m.birth_date or ""))
    if m.other_cases then line = line .. " (also in " .. concat(m.other_cases, ", ") .. ")" end
    out[#out + 1] = line
  end
  if #k.consents == 0 then
    add("  consent: none recorded")
  else
    for _, x in ipairs(k.consents) do
      add("  %s #%d given %s%s%s: %s", x.kind == "zgoda" and "consent" or "statutory basis", x.id, x.given_on,
        x.withdrawn_on and (", withdrawn " .. x.withdrawn_on) or "",
        x.active and "" or " (not in force)", x.scope)
    end
  end
  if k.plan then
    local p = k.plan
    add("  plan: %s v%d %s%s%s, %d goal%s", p.type, p.version, p.status,
      p.agreed_on and (" " .. p.agreed_on) or "", p.review_on and (", review " .. p.review_on) or "",
      p.goals, p.goals == 1 and "" or "s")
    for _, a in ipairs(k.open_actions) do
      add("    [%s] %s%s%s%s", a.status, a.text, a.institution and (" — " .. a.institution) or "",
        a.due and (", due " .. a.due) or "", a.overdue and " (overdue)" or "")
    end
  else
    add("  plan: none")
  end
  local overdue = 0
  for _, r in ipairs(k.referrals) do if r.overdue then overdue = overdue + 1 end end
  add("  referrals: %d, open %d, overdue %d", k.referrals_total, #k.referrals, overdue)
  for _, r in ipairs(k.referrals) do
    add("    #%d %s → %s %s, sent %s%s", r.id, r.from, r.to, r.status, r.sent_on,
      r.overdue and (", response overdue since " .. r.response_due) or "")
  end
  local units = {}
  for _, u in ipairs(k.units) do
    local n = u.units
    units[#units + 1] = (math.type(n) == "float" and n == math.floor(n) and ("%d"):format(n) or tostring(n)) .. " " .. u.unit
  end
  add("  services: %d delivered%s, cost %s%s", k.services.delivered,
    #units > 0 and (" (" .. concat(units, ", ") .. ")") or "", money_text(k.services.cost),
    k.services.scheduled > 0 and (", " .. k.services.scheduled .. " scheduled") or "")
  return concat(out, "\n")
end

-- }====================

-- {==================== the collection ====================

cases = entity.collection {
  name = "cases", table = "case_file", entity = "case", label = "Case",
  fields = {
    { "code", "text", check = function(v)
        if not v:match(CODE) then return nil, "a case code is PREFIX-YYYY-NNN, e.g. BOG-2019-001" end
        return v
      end },
    { "gmina", "ref", to = "gminas", column = "gmina_terc", default = home_gmina },
    { "opened_on", "date", required = true, default = function() return dates.today() end },
    { "source_institution", "ref", to = "institutions" },
    { "coordinator", "ref", to = "people" },
    { "status", "enum", choices = STAGES, aliases = STAGE_ALIASES, default = "zgłoszona", what = "stage" },
    { "status_since", "date", derived = true },
    { "closed_on", "date", derived = true },
    { "outcome", "enum", choices = OUTCOMES, aliases = OUTCOME_ALIASES, derived = true, what = "outcome" },
    { "close_note", "text", derived = true },
    { "team", "ref", to = "teams" },
    { "notes", "text" },
  },
  display = { "id", "code", "status", "opened_on", "closed_on", "outcome" },
  order = { "opened_on", "id" },
  validate = function(row, old, coll)
    local p = pending
    pending = nil
    local c = db()
    if not old then
      not_future("cases", "opened_on", row.opened_on)
      if row.status == CLOSED then coll.invalid("status", "a case opens in a stage before zakończona: close it with c:close{}") end
      row.status_since = row.opened_on
      if not row.code then
        row.code = next_code(c, code_prefix(c, row.gmina_terc), row.opened_on)
      end
      return
    end
    if row.code ~= old.code then coll.invalid("code", "a case keeps its code (%s)", old.code) end
    if row.opened_on ~= old.opened_on then
      local first = c:value([[SELECT min(d) FROM (SELECT min(noted_on) AS d FROM case_reason WHERE case_id = ?1
        UNION ALL SELECT min(date) FROM service_delivery WHERE case_id = ?1
        UNION ALL SELECT min(sent_on) FROM referral WHERE case_id = ?1)]], row.id)
      if first and first < row.opened_on then
        coll.invalid("opened_on", "%s is after the case's first record (%s)", row.opened_on, first)
      end
    end
    if row.status ~= old.status then
      if old.status == CLOSED then
        coll.invalid("status", "%s was closed on %s (%s): a closed case does not change stage", old.code, old.closed_on, old.outcome)
      end
      if row.status == CLOSED and not (p and p.close) then
        coll.invalid("status", "%s is closed with c:close{date=, outcome=}, not by setting its stage", old.code)
      end
      if row.status ~= CLOSED then
        local allowed = false
        for _, s in ipairs(NEXT[old.status]) do allowed = allowed or s == row.status end
        if not allowed then
          coll.invalid("status", "%s cannot go from %s to %s (from %s it goes to: %s, or c:close{})",
            old.code, old.status, row.status, old.status, next_text(old.status))
        end
      end
      local since = p and p.date or dates.today()
      if since < old.status_since then
        coll.invalid("status", "%s is before the case entered %s (%s)", since, old.status, old.status_since)
      end
      not_future("cases", "status", since)
      row.status_since = since
      if p and p.close then
        row.closed_on, row.outcome, row.close_note = since, p.outcome, p.note
      end
    elseif old.status == CLOSED and row.team_id ~= old.team_id then
      coll.invalid("team", "%s is closed", old.code)
    end
  end,
  props = {
    --- The number of members.
    member_count = function(c) return db():value("SELECT count(*) FROM case_member WHERE case_id = ?", c.id) end,
    --- Is the case closed?
    closed = function(c) return c.status == CLOSED end,
  },
  methods = methods,
  tostring = function(c)
    local n = db():value("SELECT count(*) FROM case_member WHERE case_id = ?", c.id)
    local s = ("Case#%d %s %s %d member%s"):format(c.id, c.code, c.status, n, n == 1 and "" or "s")
    if c.outcome then s = s .. " (" .. c.outcome .. ")" end
    return s
  end,
}
M.cases = cases

local plain_add = cases.add

--- Open a case (see the top of this file); cases.add is the same.
function cases.open(input)
  local c = db()
  return c:tx(function()
    local case = plain_add(input)
    local prefix, year, n = case.code:match(CODE)
    c:exec(COUNTER_NOTE, prefix, tonumber(year), tonumber(n))
    events.emit("case.opened", case, { date = case.opened_on })
    return case
  end)
end
cases.add = cases.open
cases.with_pesel = M.with_pesel

plain_update = cases.methods.update

--- Change fields of a case; a new status goes through set_stage's rules.
function cases.methods.update(c, input)
  if type(input) == "table" and getmetatable(input) == nil and input.status ~= nil then
    local rest = {}
    for k, v in pairs(input) do if k ~= "status" then rest[k] = v end end
    return M.changing(c, function()
      if next(rest) then plain_update(c, rest) end
      return methods.set_stage(c, input.status)
    end)
  end
  return plain_update(c, input)
end

-- }====================

-- {==================== tasks of a case ====================

-- A case's task is not due before the case opened, and a closed case sets
-- no new open tasks.
require("koop.tasks").define_source {
  kind = "case", collection = "cases", date = "opened_on", what = "the case opened",
  check = function(row, c, coll)
    if c.status == CLOSED and (row.status == "open" or row.status == "in_progress") and not row.id then
      coll.invalid("source_id", "%s is closed (%s): it sets no new tasks", c.code, c.closed_on)
    end
  end,
}

-- }====================

-- {==================== indicators ====================

-- The indicators of case work, registered with koop.indicators when it
-- exists.
local function define_indicators()
  local ok, mod = pcall(require, "koop.indicators")
  if not ok or type(mod) ~= "table" or not mod.indicators then return end
  local ind = mod.indicators
  local function args(p) return { from = p.from or null, to = p.to } end
  ind.define {
    code = "ipw_zakonczone_sukcesem", name = "IPW zakończone sukcesem",
    compute = function(cn, p)
      return cn:value("SELECT count(*) FROM case_file c WHERE " .. p.in_gmina("c.gmina_terc")
        .. " AND c.outcome = 'sukces' AND c.closed_on <= :to AND (:from IS NULL OR c.closed_on >= :from)"
        .. " AND EXISTS (SELECT 1 FROM plan p WHERE p.case_id = c.id AND p.type = 'IPW' AND p.agreed_on IS NOT NULL)",
        args(p))
    end,
  }
  ind.define {
    code = "ipw_rozpoczete", name = "IPW rozpoczęte (uzgodnione)",
    compute = function(cn, p)
      return cn:value("SELECT count(*) FROM (SELECT min(p.agreed_on) AS d FROM plan p JOIN case_file c ON c.id = p.case_id"
        .. " WHERE p.type = 'IPW' AND p.agreed_on IS NOT NULL AND " .. p.in_gmina("c.gmina_terc")
        .. " GROUP BY p.case_id) WHERE d <= :to AND (:from IS NULL OR d >= :from)", args(p))
    end,
  }
end
define_indicators()

-- }====================

-- {==================== help ====================

require("koop.cli").topic {
  name = "cases", summary = "case work: cases, members, reasons, consent, plans, referrals, services",
  text = [[
A case is a household or a person the cooperation team works with. It is
known by a pseudonymous code, BOG-2019-001: the prefix is koop_meta
case_prefix, else the first three letters of the gmina's name; cases are
numbered per prefix and year. In Lua:

  c = cases.open{opened_on=, source_institution=, coordinator=}
  c:add_member{first_name=, last_name=, pesel=, relation=}
                           (or birth_date= and sex= when there is no PESEL)
  c:reason("4")            an art. 7 reason ("1".."15", "7a") valid on the
                           case's date; reasons.add{code=, name=,
                           sensitivity=} adds the gmina's own
  c:consent{institutions={ops, pup}, categories={"podstawowe", "zdrowie"},
            recorded_by=person, given=}     k:withdraw{date=}
  p = c:plan{type="IPW", review_on=, goals={...}}   p:goal{text=}
  g:action{text=, institution=, service=, due=}     p:agree{date=}
  p:revise{}               a new version; the old one is kept
  r = c:refer{to=, service=, reason=, shared={"podstawowe"}}
  c:deliver{provider=, service=, date=, units=, unit=, cost=}
  c:task{text=, due=, owner=}   c:task_team{}   (a ZZK for the case)
  c:set_stage("diagnoza")   c:close{date=, outcome="sukces"}
  c:card()                 the summary: stage, reasons, members, consent,
                           plan and open actions, referrals, services
  cases.with_pesel(p)      the cases a person belongs to (audited)

Stages: zgłoszona → diagnoza → plan → realizacja ⇄ monitoring; c:close{}
from any stage records the outcome (sukces, częściowy, rezygnacja,
przeniesienie, brak zasadności). A case with open referrals closes only
with force=true and reason=, which cancels them and is audited. Plans end
with their case.

Privacy. Names and PESEL of members are shown only by c:card{identified=
true}, c:members{identified=true} and member:identify(); each of these
reads is written to the audit log. Everywhere else they are masked
(J. K***, 8403*******), and the audit log itself keeps only a hash of them.
pesel_hash (keyed with koop_meta pesel_key; give several gminas the same
key to match people across them) finds a person in other cases.
A referral that shares personal data (shared={...}: podstawowe, sytuacja
rodzinna, dochody, zatrudnienie, edukacja, mieszkanie, zdrowie, nałogi,
karalność) goes only to an institution inside the scope (institutions and
data categories) of a consent in force on its date, or with a statutory
basis (basis=); a plan is agreed only with a consent or a statutory basis
in force. Withdrawing a consent stops further sharing.

Referrals: sent → received → accepted | rejected (reason=) | redirected
(r:redirect{to=} returns the new referral, chained to the old) →
in_progress → completed (feedback=) | cancelled. The answer is due in 14
days (koop_meta referral_response_days; referral_response_working=1 counts
working days); r.overdue and referrals.overdue{on=} use --today.

Services: units are a number (1.25 hours), unit godziny, sesje, osoby or
zdarzenia, cost an amount (koop.money, "150,00 zł" or a number of złoty).
A delivery is refused for a closed case and before the case opened; each
one emits service.delivered with its cost.

Events: case.opened, case.reason_added, case.stage_changed, case.closed,
consent.given, consent.withdrawn, plan.agreed, plan.revised,
referral.sent, referral.received, referral.accepted, referral.rejected,
referral.redirected, referral.started, referral.completed,
referral.cancelled, service.delivered; each runs inside the transaction of
the change, so an error in a handler undoes it.]],
}

-- }====================

return M
