-- koop.teams — `teams`: the cooperation teams (G-PZK, PZK, WZK and the
-- per-case ZZK) and their members over time.
--
--   teams.add{kind=, gmina=TERC, agreement=, formed_on=, [name=, notes=]}
--   team:add_member{person=, [institution=, role=, from=, to=, notes=]}
--   team:members{[on=date | all=true]}    members on a day (default today)
--   team:remove_member(person, {[date=, role=]})   ends the membership
--   team:dissolve{[date=]}   team:meetings()   team.state
--   teams.roles              the member roles and their aliases
--
-- A team of kind G-PZK, PZK or WZK rests on an agreement; a member must
-- come from one of its parties (koop.agreements: an institution listed, or
-- a public unit of a listed JST), except an ekspert or gość.  A member's
-- institution defaults to the person's; `from` defaults to today (or the
-- day the team was formed, if that is later).
local koop = require "koop"
local entity = require "koop.entity"
local schema = require "koop.schema"
local dates = require "koop.dates"
local agreements_mod = require "koop.agreements"

-- CHECKs spell out x = 'a' OR x = 'b' ...: for x IN (list) of more than two
-- constants SQLite builds a temporary table on every INSERT (~1.5 us a row).
schema.define(31, "teams and their members", [[
CREATE TABLE team (
  id           INTEGER PRIMARY KEY,
  kind         TEXT NOT NULL CHECK (kind = 'G-PZK' OR kind = 'PZK' OR kind = 'WZK' OR kind = 'ZZK'),
  gmina_terc   TEXT NOT NULL REFERENCES territory(terc),
  name         TEXT NOT NULL,
  agreement_id INTEGER REFERENCES agreement(id),
  formed_on    TEXT NOT NULL,
  dissolved_on TEXT,
  notes        TEXT,
  CHECK (dissolved_on IS NULL OR formed_on <= dissolved_on)
);
CREATE INDEX team_gmina_ix ON team(gmina_terc);
CREATE INDEX team_agreement_ix ON team(agreement_id);
CREATE TABLE team_member (
  id             INTEGER PRIMARY KEY,
  team_id        INTEGER NOT NULL REFERENCES team(id),
  person_id      INTEGER NOT NULL REFERENCES person(id),
  institution_id INTEGER NOT NULL REFERENCES institution(id),
  role           TEXT NOT NULL,
  from_date      TEXT NOT NULL,
  to_date        TEXT,
  notes          TEXT,
  CHECK (to_date IS NULL OR from_date <= to_date)
);
CREATE INDEX team_member_team_ix ON team_member(team_id, from_date);
CREATE INDEX team_member_person_ix ON team_member(person_id);
CREATE INDEX team_member_institution_ix ON team_member(institution_id);
]])

local M = {}

local KINDS = { "G-PZK", "PZK", "WZK", "ZZK" }
local KIND_ALIASES = { GPZK = "G-PZK", gpzk = "G-PZK", ["zespół zadaniowy"] = "ZZK" }
-- The level of unit each kind of team works in.
local KIND_LEVEL = { ["G-PZK"] = { gmina = true }, ZZK = { gmina = true },
  PZK = { gmina = true, powiat = true }, WZK = { ["województwo"] = true } }

-- Member roles, in the order a member list shows them.
local ROLES = { "przewodniczący", "zastępca", "animator gminny", "animator powiatowy",
  "członek", "protokolant", "ekspert", "gość" }
local ROLE_ALIASES = {
  lider = "przewodniczący", liderka = "przewodniczący", ["przewodnicząca"] = "przewodniczący",
  ["wiceprzewodniczący"] = "zastępca", ["wiceprzewodnicząca"] = "zastępca", ["zastępczyni"] = "zastępca",
  ["animatorka gminna"] = "animator gminny", ["animatorka powiatowa"] = "animator powiatowy",
  ["członkini"] = "członek", protokolantka = "protokolant", sekretarz = "protokolant",
  ekspertka = "ekspert",
}
-- Roles that need not come from a party of the agreement.
local OUTSIDERS = { ekspert = true, ["gość"] = true }
M.roles = { list = ROLES, aliases = ROLE_ALIASES, outsiders = OUTSIDERS }

-- ORDER BY term putting roles in the order of ROLES.
local ROLE_ORDER = {}
for i, r in ipairs(ROLES) do ROLE_ORDER[#ROLE_ORDER + 1] = ("WHEN '%s' THEN %d"):format(r, i) end
ROLE_ORDER = "CASE m.role " .. table.concat(ROLE_ORDER, " ") .. " END"

-- {==================== helpers ====================

--- A short reference to team t for messages: Team#1 "G-PZK Bogoria".
function M.ref(t) return ('Team#%d "%s"'):format(t.id, t.name) end
local ref = M.ref

local db = entity.db

-- The dissolved_on the next write of a team records (dissolve only; the
-- field is derived), taken by validate().
local pending = nil

-- The database's own gmina, the default of a team's gmina.
local function home_gmina()
  return schema.meta(db(), "gmina")
end

-- "G-PZK Bogoria": a team's default name.
local function default_name(row)
  local g = row.gmina_terc and db():value("SELECT name FROM territory WHERE terc = ?", row.gmina_terc)
  return g and row.kind and row.kind .. " " .. g
end

local teams, members
local methods = {}

-- }====================

-- {==================== members, and the methods of a team ====================

-- The default start of a membership: today, or the day the team was formed.
local function default_from(row)
  local formed = row.team_id and db():value("SELECT formed_on FROM team WHERE id = ?", row.team_id)
  local today = dates.today()
  if formed and formed > today then return formed end
  return today
end

-- The default institution of a membership: the person's.
local function person_institution(row)
  return row.person_id and db():value("SELECT institution_id FROM person WHERE id = ?", row.person_id)
end

local ACTIVE_SAME_ROLE = [[
SELECT from_date FROM team_member
 WHERE team_id = ? AND person_id = ? AND role = ? AND id IS NOT ?
   AND (to_date IS NULL OR to_date >= ?) AND (? IS NULL OR from_date <= ?)
 LIMIT 1]]

-- The object `id` of collection `name`.
local function get(name, id) return entity.collection_named(name).get(id) end

members = entity.collection {
  name = "team_members", table = "team_member", label = "Member",
  fields = {
    { "team", "ref", to = "teams", required = true },
    { "person", "ref", to = "people", required = true },
    { "institution", "ref", to = "institutions", required = true, default = person_institution },
    { "role", "enum", choices = ROLES, aliases = ROLE_ALIASES, required = true, default = "członek", what = "member role" },
    { "from", "date", column = "from_date", required = true, default = default_from },
    { "to", "date", column = "to_date" },
    { "notes", "text" },
  },
  display = { "id", "role", "name", "institution.name", "from", "to" },
  order = { "team_id", "from_date" },
  validate = function(row, old, coll)
    local c = db()
    if old and row.team_id ~= old.team_id then coll.invalid("team", "a membership cannot move to another team") end
    if old and row.person_id ~= old.person_id then coll.invalid("person", "a membership cannot pass to another person") end
    local team = teams.get(row.team_id)
    if row.to_date and row.to_date < row.from_date then
      coll.invalid("to", "%s is before the membership began (from %s)", row.to_date, row.from_date)
    end
    if row.from_date < team.formed_on then
      coll.invalid("from", "%s is before %s was formed (%s)", row.from_date, ref(team), team.formed_on)
    end
    if team.dissolved_on and (row.to_date or "9999") > team.dissolved_on then
      if row.from_date > team.dissolved_on then
        coll.invalid("from", "%s is after %s was dissolved", row.from_date, ref(team))
      end
      row.to_date = team.dissolved_on
    end
    if not old or row.institution_id ~= old.institution_id or row.role ~= old.role then
      if c:value("SELECT active FROM institution WHERE id = ?", row.institution_id) == 0 then
        coll.invalid("institution", "%s is inactive", tostring(get("institutions", row.institution_id)))
      end
      if team.agreement_id and not OUTSIDERS[row.role]
          and not agreements_mod.covers(team.agreement_id, row.institution_id) then
        coll.invalid("institution", "%s is not a party of %s, the agreement of %s: add it first with agreement:add_party{institution = ...}, or give the member the role ekspert or gość",
          tostring(get("institutions", row.institution_id)), agreements_mod.ref(team.agreement), ref(team))
      end
    end
    if not old and c:value("SELECT active FROM person WHERE id = ?", row.person_id) == 0 then
      coll.invalid("person", "%s is inactive", tostring(get("people", row.person_id)))
    end
    local since = c:value(ACTIVE_SAME_ROLE, row.team_id, row.person_id, row.role, row.id,
      row.from_date, row.to_date, row.to_date)
    if since then
      coll.invalid("person", "%s is %s of %s already (since %s)", tostring(get("people", row.person_id)),
        row.role, ref(team), since)
    end
  end,
  props = {
    --- The member's name: "Anna Nowak".
    name = function(m)
      local p = db():first("SELECT first_name, last_name FROM person WHERE id = ?", m.person_id)
      return p.first_name .. " " .. p.last_name
    end,
    from = function(m) return m.from_date end,
    to = function(m) return m.to_date end,
  },
  methods = {
    --- Is the membership in force on `date` (default today)?
    active_on = function(m, date)
      date = dates.check(date or dates.today(), "date")
      return m.from_date <= date and (m.to_date == nil or m.to_date >= date)
    end,
  },
  tostring = function(m)
    local c = db()
    local inst = c:first("SELECT kind, name FROM institution WHERE id = ?", m.institution_id)
    local team = c:value("SELECT name FROM team WHERE id = ?", m.team_id)
    local s = ('Member#%d %s, %s, %s "%s", %s, from %s'):format(m.id, m.name, m.role, inst.kind, inst.name,
      team, m.from_date)
    if m.to_date then s = s .. " to " .. m.to_date end
    return s
  end,
}

-- The options table t of method `what` (nil means {}).
local function options(what, t, known)
  if t == nil then return {} end
  if type(t) ~= "table" or getmetatable(t) then
    entity.invalid("teams", what, "expected a table {%s}, got %s", known, entity.show(t))
  end
  return t
end

-- A date option v for `field` (default today).
local function date_option(field, v)
  if v == nil then return dates.today() end
  if type(v) ~= "string" or not dates.parse(v) then
    entity.invalid("teams", field, "expected a date YYYY-MM-DD (got %s)", entity.show(v))
  end
  return v
end

--- Add a member: {person=, institution= (default: the person's), role=
--- (default członek), from= (default today), to=, notes=}.
function methods.add_member(t, input)
  input = options("add_member", input, "person=, institution=, role=, from=, to=, notes=")
  local row = { team = t }
  for k, v in pairs(input) do
    if k == "team" then entity.invalid("team_members", "team", "add_member adds to this team; do not give team=") end
    row[k] = v
  end
  return members.add(row)
end

local MEMBERS_ON = ([[
SELECT m.* FROM team_member m JOIN person p ON p.id = m.person_id
 WHERE m.team_id = ? AND (? IS NULL OR (m.from_date <= ? AND (m.to_date IS NULL OR m.to_date >= ?)))
 ORDER BY %s, p.last_name COLLATE PL, p.first_name COLLATE PL, m.from_date]]):format(ROLE_ORDER)

--- The members on a day: {on= (default today)}; {all=true} lists every
--- membership the team ever had.  A result set, leaders first.
function methods.members(t, q)
  q = options("members", q, "on=, all=")
  local on = nil
  if not q.all then on = date_option("on", q.on) end
  local rows = db():query(MEMBERS_ON, t.id, on, on, on)
  for i = 1, #rows do rows[i] = members.wrap(rows[i]) end
  return koop.resultset(rows, members.display)
end

--- End the memberships of `person` in this team on {date=} (default
--- today), or only the one in {role=}.  Returns how many ended.
function methods.remove_member(t, person, q)
  q = options("remove_member", q, "date=, role=")
  local date = date_option("to", q.date)
  local people = entity.collection_named("people")
  local p = getmetatable(person) == people.mt and person or people.get(person)
  if not p then entity.invalid("team_members", "person", "no such person (got %s)", entity.show(person)) end
  local cond = { team = t, person = p, where = "from_date <= ? AND (to_date IS NULL OR to_date >= ?)", args = { date, date } }
  if q.role ~= nil then cond.role = q.role end
  local list = members.find(cond)
  if #list == 0 then
    entity.invalid("team_members", "person", "%s is not a member of %s on %s%s", tostring(p), ref(t), date,
      q.role and " in the role " .. tostring(q.role) or "")
  end
  db():tx(function()
    for _, m in ipairs(list) do m:update{ to = date } end
  end)
  return #list
end

--- Dissolve the team on {date=} (default today): memberships end that day.
function methods.dissolve(t, q)
  q = options("dissolve", q, "date=")
  local date = date_option("dissolved_on", q.date)
  if t.dissolved_on then entity.invalid("teams", "dissolved_on", "%s was dissolved already", ref(t)) end
  if date < t.formed_on then
    entity.invalid("teams", "dissolved_on", "%s is before the team was formed (%s)", date, t.formed_on)
  end
  local last = db():value("SELECT max(date) FROM meeting WHERE team_id = ? AND status <> 'cancelled'", t.id)
  if last and last > date then
    entity.invalid("teams", "dissolved_on", "%s is before the team's meeting of %s", date, last)
  end
  return db():tx(function()
    for _, m in ipairs(members.find{ team = t, where = "to_date IS NULL OR to_date > ?", args = { date } }) do
      m:update{ to = date }
    end
    pending = date
    local ok, res = pcall(t.update, t, {})
    pending = nil
    if not ok then error(res, 0) end
    return res
  end)
end

--- The team's meetings, by date.
function methods.meetings(t)
  return entity.collection_named("meetings").find{ team = t, order = "date" }
end

-- }====================

-- {==================== the collection ====================

teams = entity.collection {
  name = "teams", table = "team", label = "Team",
  fields = {
    { "kind", "enum", choices = KINDS, aliases = KIND_ALIASES, required = true, what = "team kind" },
    { "gmina", "ref", to = "gminas", column = "gmina_terc", required = true, default = home_gmina },
    { "name", "text", required = true, default = default_name },
    { "agreement", "ref", to = "agreements" },
    { "formed_on", "date", required = true, default = function() return dates.today() end },
    { "dissolved_on", "date", derived = true },
    { "notes", "text" },
  },
  display = { "id", "kind", "name", "gmina_terc", "agreement_id", "formed_on", "dissolved_on" },
  order = "formed_on",
  validate = function(row, old, coll)
    if pending then row.dissolved_on = pending; pending = nil end
    local c = db()
    local unit = c:first("SELECT level, rodzaj FROM territory WHERE terc = ?", row.gmina_terc)
    local level = unit.level == "gmina" and unit.rodzaj > 3 and "part of a gmina" or unit.level
    if not KIND_LEVEL[row.kind][level] then
      local want = {}
      for l in pairs(KIND_LEVEL[row.kind]) do want[#want + 1] = l end
      table.sort(want)
      coll.invalid("gmina", "a %s works in a %s, and %s is a %s", row.kind, table.concat(want, " or "), row.gmina_terc, level)
    end
    if row.agreement_id then
      if not old or row.agreement_id ~= old.agreement_id then
        local a = entity.collection_named("agreements").get(row.agreement_id)
        if a.status == "terminated" then
          coll.invalid("agreement", "%s is terminated (%s): a team cannot rest on it", agreements_mod.ref(a), a.ended_on)
        end
      end
    elseif row.kind ~= "ZZK" then
      coll.invalid("agreement", "is required: a %s rests on an agreement (porozumienie)", row.kind)
    end
    if old and row.formed_on > old.formed_on then
      local first = c:value("SELECT min(date) FROM meeting WHERE team_id = ?", row.id)
      if first and first < row.formed_on then
        coll.invalid("formed_on", "%s is after the team's first meeting (%s)", row.formed_on, first)
      end
      first = c:value("SELECT min(from_date) FROM team_member WHERE team_id = ?", row.id)
      if first and first < row.formed_on then
        coll.invalid("formed_on", "%s is after its first member joined (%s)", row.formed_on, first)
      end
    end
  end,
  props = {
    --- forming (not formed yet), active or dissolved, today.
    state = function(t)
      local today = dates.today()
      if t.dissolved_on and t.dissolved_on <= today then return "dissolved" end
      if t.formed_on > today then return "forming" end
      return "active"
    end,
  },
  methods = methods,
  tostring = function(t)
    local g = db():value("SELECT name FROM territory WHERE terc = ?", t.gmina_terc)
    local s = ('Team#%d %s "%s" (%s), formed %s'):format(t.id, t.kind, t.name, g, t.formed_on)
    if t.dissolved_on then s = s .. ", dissolved " .. t.dissolved_on end
    return s
  end,
}
M.teams = teams
teams.roles = M.roles
teams.members = members

-- }====================

require("koop.cli").topic {
  name = "teams", summary = "G-PZK and other teams, their members over time",
  text = [[
t = teams.add{kind="G-PZK", gmina="2612012", agreement=a, formed_on=}
    kinds G-PZK, PZK, WZK, ZZK (a ZZK needs no agreement); name defaults to
    "G-PZK <gmina>", gmina to the database's own
t:add_member{person=, institution=, role=, from=, to=}
    institution defaults to the person's, role to członek, from to today;
    roles: przewodniczący (lider), zastępca, animator gminny, animator
    powiatowy, członek, protokolant, ekspert, gość
t:members{on=date} (default today; all=true for every membership)
t:remove_member(person, {date=})   t:dissolve{date=}   t:meetings()
A member must come from a party of the team's agreement (see `koop help
agreements`), unless an ekspert or gość.]],
}

return M
