-- koop.budgets — the money half: `budgets` (a projekt socjalny or any
-- other budget), its lines, commitments (umowy, zlecenia), expenditures
-- (paid invoices and their corrections), amendments (przesunięcia) and
-- the execution table.  One module, one place for their SQL.
--
--   b = budgets.add{name=, total=, period_from=, period_to=, [gmina=, source=,
--                   low_percent=, notes=]}
--   l = b:line{name=, planned=, [service_type=, dzial=, rozdzial=, paragraf=, notes=]}
--   b:line(name_or_no)   b:lines()   b:approve{[date=]}   b:close{[date=]}
--   b:amend{reason=, moves = {{from=, to=, amount=}, ...}, [date=, document=]}
--   c = l:commit{contractor= institution | {name=, nip=}, amount=, [date=, document=]}
--   c:pay{document=, document_date=, amount=, [paid_on=]}    -> Expenditure
--   c:correct{of=expenditure, amount= -x, reason=, [document=, document_date=, paid_on=]}
--   c:reduce{amount=, reason=, [date=]}   (aneks: the unpaid rest goes back to the line)
--   b:execution([on]) / b:execution{on=}  a table per line and in total
--   budgets.book(service [, line])   a delivered service's cost on a line
--   budgets.verify()                 true | false, problems (the invariants)
--   budgets.lines / .commitments / .expenditures / .amendments / .moves
--                                    the collections (find, get, count, ...)
--
-- Execution as of a date (default today, so --today): per line the plan
-- after the amendments dated by then, the commitments signed by then, the
-- payments made by then; remaining = planned - spent; % spent rounded
-- half away from zero to 0,01%.  A line's uncommitted money (planned -
-- committed) is what new commitments and amendments may take.
--
-- Amounts.  Everything koop.money accepts: koop.money values, text
-- ("10 800,00 zł", "10800,00", "10800.00") or a number of złoty (10800,
-- 10800.5); never more than two decimals.  Stored as integer grosze in
-- columns named *_gr; objects give them back as koop.money values
-- (line.planned, c.amount, ...).
--
-- Rules (the database keeps the same ones with CHECKs and triggers, so
-- db:exec cannot break them either):
--   * a budget is draft → approved → amended → closed; only a draft's lines
--     and total change, and it is approved only when its lines add up to
--     its total exactly;
--   * commitments only on an approved (or amended) budget that is not
--     closed, dated within its period and not before its approval, never
--     above what is left uncommitted on the line;
--   * payments never above what is left to pay on the commitment, never
--     dated before it; a correction is a new negative entry tied to the
--     payment it corrects; commitments, expenditures and amendments are
--     never changed or deleted;
--   * an amendment moves planned money between lines of one budget (the
--     total stays), never more than is uncommitted on the source line;
--     lines keep their first plan (planned_gr) and the moves, so the plan
--     on any date can be told.
-- Each change writes its audit row and fires the entity events
-- (budget.added, commitment.added, expenditure.added, ...); a line whose
-- uncommitted money falls below low_percent (default 10) % of its plan
-- fires "budget.line_low" inside the same transaction.
--
-- Service costs (koop.services).  A delivered service with a cost is booked
-- on a budget line the way an accountant recognises a cost: under the
-- contract with its provider.  If the line has a commitment with the
-- provider, signed by the delivery's date, with enough of it not yet used
-- by earlier deliveries, the delivery is recorded under it (the oldest
-- such one): it uses up the commitment, but it is no payment; the invoice
-- is paid with c:pay{}.  Without such a commitment the delivery is an order
-- of its own (zlecenie): a commitment for its cost, with its provider, on
-- its date, is made for it.  Either way the booking is refused when it
-- would overspend the commitment or the line.  A delivery that names its
-- line (budget_line_id) is booked when it is delivered ("service.delivered"
-- runs budgets.book inside the delivery's transaction, so a refused booking
-- refuses the delivery); a booked delivery keeps its cost and booking.
local koop = require "koop"
local entity = require "koop.entity"
local schema = require "koop.schema"
local events = require "koop.events"
local audit = require "koop.audit"
local json = require "koop.json"
local dates = require "koop.dates"
local budget_sql = require "koop.budget_sql"

local M = {}
local money = koop.money
local grosze = money.grosze
local db = entity.db
local invalid, show = entity.invalid, entity.show
local concat = table.concat

-- {==================== schema ====================

local SOURCES = { "POWER/EFS", "budżet gminy", "PFRON", "inne" }
local SOURCE_ALIASES = { POWER = "POWER/EFS", EFS = "POWER/EFS", ["POWER EFS"] = "POWER/EFS",
  ["budzet gminy"] = "budżet gminy", gmina = "budżet gminy", ["budżet"] = "budżet gminy" }
local STATUSES = { "draft", "approved", "amended", "closed" }
M.sources, M.statuses = SOURCES, STATUSES

-- "col = 'a' OR col = 'b' ...": CHECKs spell choices out, as SQLite builds
-- a temporary table on every write for IN with more than two constants.
local function one_of(col, list)
  local out = {}
  for i, v in ipairs(list) do out[i] = ("%s = '%s'"):format(col, v) end
  return concat(out, " OR ")
end

-- The SQL expressions of budget figures live in koop.budget_sql (shared
-- with the reports, which need them without loading this module).
local planned_sql, committed_sql = budget_sql.planned, budget_sql.committed
local net_commitment_sql, paid_sql = budget_sql.net_commitment, budget_sql.paid
local delivered_sql, budget_status_sql = budget_sql.delivered, budget_sql.budget_status

local ALWAYS = "'9999-12-31'"

schema.define(70, "budgets, their lines and amendments", ([[
CREATE TABLE budget (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL,
  gmina_terc  TEXT NOT NULL REFERENCES territory(terc),
  source      TEXT NOT NULL CHECK (%s),
  total_gr    INTEGER NOT NULL CHECK (typeof(total_gr) = 'integer' AND total_gr > 0),
  period_from TEXT NOT NULL,
  period_to   TEXT NOT NULL,
  status      TEXT NOT NULL DEFAULT 'draft' CHECK (%s),
  approved_on TEXT,
  closed_on   TEXT,
  low_percent INTEGER NOT NULL DEFAULT 10 CHECK (typeof(low_percent) = 'integer' AND low_percent BETWEEN 0 AND 100),
  notes       TEXT,
  CHECK (period_from <= period_to),
  CHECK ((status = 'draft') = (approved_on IS NULL)),
  CHECK ((status = 'closed') = (closed_on IS NOT NULL))
);
CREATE INDEX budget_gmina_ix ON budget(gmina_terc);
CREATE TABLE budget_line (
  id           INTEGER PRIMARY KEY,
  budget_id    INTEGER NOT NULL REFERENCES budget(id),
  no           INTEGER NOT NULL,
  name         TEXT NOT NULL,
  service_type TEXT REFERENCES service_type(code),
  planned_gr   INTEGER NOT NULL CHECK (typeof(planned_gr) = 'integer' AND planned_gr >= 0),  -- the first plan
  dzial        TEXT CHECK (dzial GLOB '[0-9][0-9][0-9]'),
  rozdzial     TEXT CHECK (rozdzial GLOB '[0-9][0-9][0-9][0-9][0-9]'),
  paragraf     TEXT CHECK (paragraf GLOB '[0-9][0-9][0-9][0-9]'),
  notes        TEXT,
  UNIQUE (budget_id, no),
  UNIQUE (budget_id, name),
  CHECK (rozdzial IS NULL OR dzial IS NULL OR substr(rozdzial, 1, 3) = dzial)
);
CREATE TABLE budget_amendment (
  id        INTEGER PRIMARY KEY,
  budget_id INTEGER NOT NULL REFERENCES budget(id),
  no        INTEGER NOT NULL,
  date      TEXT NOT NULL,
  reason    TEXT NOT NULL,
  document  TEXT,
  UNIQUE (budget_id, no)
);
CREATE TABLE budget_move (
  id           INTEGER PRIMARY KEY,
  amendment_id INTEGER NOT NULL REFERENCES budget_amendment(id),
  from_line_id INTEGER NOT NULL REFERENCES budget_line(id),
  to_line_id   INTEGER NOT NULL REFERENCES budget_line(id),
  amount_gr    INTEGER NOT NULL CHECK (typeof(amount_gr) = 'integer' AND amount_gr > 0),
  CHECK (from_line_id <> to_line_id)
);
CREATE INDEX budget_move_amendment_ix ON budget_move(amendment_id);
CREATE INDEX budget_move_from_ix ON budget_move(from_line_id);
CREATE INDEX budget_move_to_ix ON budget_move(to_line_id);

CREATE TRIGGER budget_total_fixed BEFORE UPDATE OF total_gr ON budget
  WHEN OLD.status <> 'draft' AND NEW.total_gr IS NOT OLD.total_gr
BEGIN SELECT RAISE(ABORT, 'budgets.total: the total of an approved budget does not change'); END;
CREATE TRIGGER budget_status_order BEFORE UPDATE OF status ON budget
  WHEN NEW.status IS NOT OLD.status AND (OLD.status = 'closed' OR NEW.status = 'draft'
    OR (OLD.status = 'amended' AND NEW.status = 'approved'))
BEGIN SELECT RAISE(ABORT, 'budgets.status: a budget goes draft -> approved -> amended -> closed, never back'); END;
CREATE TRIGGER budget_approval_balanced BEFORE UPDATE OF status ON budget
  WHEN OLD.status = 'draft' AND NEW.status <> 'draft'
   AND NEW.total_gr <> (SELECT coalesce(sum(planned_gr), 0) FROM budget_line WHERE budget_id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'budgets.total: the lines do not add up to the total'); END;
CREATE TRIGGER budget_no_delete BEFORE DELETE ON budget WHEN OLD.status <> 'draft'
BEGIN SELECT RAISE(ABORT, 'budgets: an approved budget is never deleted'); END;
CREATE TRIGGER budget_line_add BEFORE INSERT ON budget_line
  WHEN (SELECT status FROM budget WHERE id = NEW.budget_id) = 'closed'
    OR ((SELECT status FROM budget WHERE id = NEW.budget_id) <> 'draft' AND NEW.planned_gr <> 0)
BEGIN SELECT RAISE(ABORT, 'budget_lines.planned: an approved budget gets new lines at 0,00 zł only, and a closed one none'); END;
CREATE TRIGGER budget_line_plan_fixed BEFORE UPDATE OF planned_gr, budget_id ON budget_line
  WHEN (NEW.planned_gr IS NOT OLD.planned_gr OR NEW.budget_id IS NOT OLD.budget_id)
   AND (SELECT status FROM budget WHERE id = OLD.budget_id) <> 'draft'
BEGIN SELECT RAISE(ABORT, 'budget_lines.planned: the plan of an approved budget changes only by amendments'); END;
CREATE TRIGGER budget_line_no_delete BEFORE DELETE ON budget_line
  WHEN (SELECT status FROM budget WHERE id = OLD.budget_id) <> 'draft'
BEGIN SELECT RAISE(ABORT, 'budget_lines: a line of an approved budget is never deleted'); END;
CREATE TRIGGER budget_move_rules BEFORE INSERT ON budget_move
BEGIN
  SELECT RAISE(ABORT, 'budget_moves: both lines must belong to the amended budget')
   WHERE (SELECT budget_id FROM budget_line WHERE id = NEW.from_line_id) IS NOT
           (SELECT budget_id FROM budget_amendment WHERE id = NEW.amendment_id)
      OR (SELECT budget_id FROM budget_line WHERE id = NEW.to_line_id) IS NOT
           (SELECT budget_id FROM budget_amendment WHERE id = NEW.amendment_id);
  SELECT RAISE(ABORT, 'budget_moves.amount: more than is uncommitted on the source line')
   WHERE NEW.amount_gr > %s - %s;
END;
CREATE TRIGGER budget_amendment_no_update BEFORE UPDATE ON budget_amendment
BEGIN SELECT RAISE(ABORT, 'budget_amendments: an amendment is history: it is never changed'); END;
CREATE TRIGGER budget_amendment_no_delete BEFORE DELETE ON budget_amendment
BEGIN SELECT RAISE(ABORT, 'budget_amendments: an amendment is history: it is never deleted'); END;
CREATE TRIGGER budget_move_no_update BEFORE UPDATE ON budget_move
BEGIN SELECT RAISE(ABORT, 'budget_moves: a move is history: it is never changed'); END;
CREATE TRIGGER budget_move_no_delete BEFORE DELETE ON budget_move
BEGIN SELECT RAISE(ABORT, 'budget_moves: a move is history: it is never deleted'); END;
]]):format(one_of("source", SOURCES), one_of("status", STATUSES),
  planned_sql("NEW.from_line_id", ALWAYS), committed_sql("NEW.from_line_id")))

schema.define(71, "commitments and expenditures", ([[
CREATE TABLE commitment (
  id              INTEGER PRIMARY KEY,
  line_id         INTEGER NOT NULL REFERENCES budget_line(id),
  contractor_id   INTEGER REFERENCES institution(id),
  contractor_name TEXT,               -- an outside firm: name and NIP
  contractor_nip  TEXT,
  signed_on       TEXT NOT NULL,
  amount_gr       INTEGER NOT NULL CHECK (typeof(amount_gr) = 'integer' AND amount_gr <> 0),
  document        TEXT,
  reduces_id      INTEGER REFERENCES commitment(id),    -- a reduction (negative) of that commitment
  service_id      INTEGER REFERENCES service_delivery(id),  -- the delivery this order was made for
  reason          TEXT,
  CHECK ((contractor_id IS NULL) <> (contractor_name IS NULL)),
  CHECK (contractor_name IS NULL OR contractor_nip IS NOT NULL),
  CHECK ((amount_gr > 0) = (reduces_id IS NULL)),
  CHECK (reduces_id IS NULL OR reason IS NOT NULL)
);
CREATE INDEX commitment_line_ix ON commitment(line_id, signed_on, amount_gr);   -- covers the sums
CREATE INDEX commitment_reduces_ix ON commitment(reduces_id) WHERE reduces_id IS NOT NULL;
CREATE INDEX commitment_contractor_ix ON commitment(contractor_id) WHERE contractor_id IS NOT NULL;
CREATE TABLE expenditure (
  id            INTEGER PRIMARY KEY,
  commitment_id INTEGER NOT NULL REFERENCES commitment(id),
  document      TEXT NOT NULL,
  document_date TEXT NOT NULL,
  paid_on       TEXT NOT NULL,
  amount_gr     INTEGER NOT NULL CHECK (typeof(amount_gr) = 'integer' AND amount_gr <> 0),
  corrects_id   INTEGER REFERENCES expenditure(id),   -- a correction (negative) of that payment
  reason        TEXT,
  CHECK ((amount_gr > 0) = (corrects_id IS NULL)),
  CHECK (corrects_id IS NULL OR reason IS NOT NULL)
);
CREATE INDEX expenditure_commitment_ix ON expenditure(commitment_id, paid_on, amount_gr);
CREATE INDEX expenditure_corrects_ix ON expenditure(corrects_id) WHERE corrects_id IS NOT NULL;

CREATE TRIGGER commitment_rules BEFORE INSERT ON commitment
BEGIN
  SELECT RAISE(ABORT, 'commitments.line: the budget is not approved, or is closed')
   WHERE %s NOT IN ('approved', 'amended');
  SELECT RAISE(ABORT, 'commitments.amount: exceeds what is left on the line')
   WHERE NEW.amount_gr > 0 AND NEW.amount_gr > %s - %s;
  SELECT RAISE(ABORT, 'commitments.reduces: a reduction reduces a commitment of its line, by no more than is unpaid')
   WHERE NEW.reduces_id IS NOT NULL
     AND ((SELECT line_id FROM commitment WHERE id = NEW.reduces_id AND reduces_id IS NULL) IS NOT NEW.line_id
     OR %s + NEW.amount_gr < max(%s, %s));
END;
CREATE TRIGGER commitment_fixed BEFORE UPDATE OF line_id, contractor_id, contractor_name, contractor_nip,
  signed_on, amount_gr, reduces_id, service_id ON commitment
BEGIN SELECT RAISE(ABORT, 'commitments: a commitment is never changed (reduce it, or correct its payments)'); END;
CREATE TRIGGER commitment_no_delete BEFORE DELETE ON commitment
BEGIN SELECT RAISE(ABORT, 'commitments: a commitment is never deleted (reduce it)'); END;
CREATE TRIGGER expenditure_rules BEFORE INSERT ON expenditure
BEGIN
  SELECT RAISE(ABORT, 'expenditures.commitment: the budget is closed, or this is not a commitment one pays')
   WHERE (SELECT reduces_id FROM commitment WHERE id = NEW.commitment_id) IS NOT NULL
      OR %s NOT IN ('approved', 'amended');
  SELECT RAISE(ABORT, 'expenditures.document_date: dated before its commitment')
   WHERE NEW.document_date < (SELECT signed_on FROM commitment WHERE id = NEW.commitment_id)
      OR NEW.paid_on < (SELECT signed_on FROM commitment WHERE id = NEW.commitment_id);
  SELECT RAISE(ABORT, 'expenditures.amount: exceeds what is left on the commitment')
   WHERE NEW.amount_gr > 0 AND NEW.amount_gr > %s - %s;
  SELECT RAISE(ABORT, 'expenditures.corrects: a correction corrects a payment of its commitment, by no more than was paid')
   WHERE NEW.corrects_id IS NOT NULL
     AND ((SELECT commitment_id FROM expenditure WHERE id = NEW.corrects_id AND corrects_id IS NULL) IS NOT NEW.commitment_id
       OR (SELECT amount_gr FROM expenditure WHERE id = NEW.corrects_id)
          + coalesce((SELECT sum(amount_gr) FROM expenditure WHERE corrects_id = NEW.corrects_id), 0) + NEW.amount_gr < 0);
END;
CREATE TRIGGER expenditure_fixed BEFORE UPDATE OF commitment_id, document_date, paid_on, amount_gr, corrects_id ON expenditure
BEGIN SELECT RAISE(ABORT, 'expenditures: a payment is never changed (correct it with a new, negative entry)'); END;
CREATE TRIGGER expenditure_no_delete BEFORE DELETE ON expenditure
BEGIN SELECT RAISE(ABORT, 'expenditures: a payment is never deleted (correct it with a new, negative entry)'); END;
]]):format(budget_status_sql("NEW.line_id"),
  planned_sql("NEW.line_id", ALWAYS), committed_sql("NEW.line_id"),
  net_commitment_sql("NEW.reduces_id"), paid_sql("NEW.reduces_id"), delivered_sql("NEW.reduces_id"),
  budget_status_sql("(SELECT line_id FROM commitment WHERE id = NEW.commitment_id)"),
  net_commitment_sql("NEW.commitment_id"), paid_sql("NEW.commitment_id")))

schema.define(72, "service costs booked on budget lines", ([[
CREATE INDEX service_delivery_commitment_ix ON service_delivery(commitment_id) WHERE commitment_id IS NOT NULL;
CREATE TRIGGER service_delivery_budget_add BEFORE INSERT ON service_delivery
  WHEN NEW.budget_line_id IS NOT NULL OR NEW.commitment_id IS NOT NULL
BEGIN
  SELECT RAISE(ABORT, 'services.budget_line_id: no such budget line')
   WHERE NEW.budget_line_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM budget_line WHERE id = NEW.budget_line_id);
  SELECT RAISE(ABORT, 'services.commitment_id: koop books a delivery itself (give its budget line)')
   WHERE NEW.commitment_id IS NOT NULL;
END;
CREATE TRIGGER service_delivery_line BEFORE UPDATE OF budget_line_id ON service_delivery
  WHEN NEW.budget_line_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM budget_line WHERE id = NEW.budget_line_id)
BEGIN SELECT RAISE(ABORT, 'services.budget_line_id: no such budget line'); END;
CREATE TRIGGER service_delivery_booked BEFORE UPDATE OF budget_line_id, commitment_id, cost, status, provider_id ON service_delivery
  WHEN OLD.commitment_id IS NOT NULL AND (NEW.budget_line_id IS NOT OLD.budget_line_id
    OR NEW.commitment_id IS NOT OLD.commitment_id OR NEW.cost IS NOT OLD.cost
    OR NEW.status IS NOT OLD.status OR NEW.provider_id IS NOT OLD.provider_id)
BEGIN SELECT RAISE(ABORT, 'services: a delivery booked on a budget keeps its line, commitment, provider, cost and status'); END;
CREATE TRIGGER service_delivery_book BEFORE UPDATE OF commitment_id ON service_delivery
  WHEN OLD.commitment_id IS NULL AND NEW.commitment_id IS NOT NULL
BEGIN
  SELECT RAISE(ABORT, 'services.commitment_id: the commitment is not with the provider on the delivery''s line')
   WHERE (SELECT line_id FROM commitment WHERE id = NEW.commitment_id AND reduces_id IS NULL) IS NOT NEW.budget_line_id
      OR (SELECT contractor_id FROM commitment WHERE id = NEW.commitment_id) IS NOT NEW.provider_id;
  SELECT RAISE(ABORT, 'services.cost: only a delivered service with a cost is booked')
   WHERE NEW.status <> 'delivered' OR NEW.cost <= 0;
  SELECT RAISE(ABORT, 'services.cost: exceeds what is left on the commitment')
   WHERE %s + NEW.cost > %s;
END;
CREATE TRIGGER service_delivery_booked_delete BEFORE DELETE ON service_delivery WHEN OLD.commitment_id IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'services: a delivery booked on a budget is never deleted'); END;
]]):format(delivered_sql("NEW.commitment_id"), net_commitment_sql("NEW.commitment_id")))

-- }====================

-- {==================== amounts and small helpers ====================

-- "10 800,00 zł" for grosze g.
local function zl(g) return tostring(grosze(g)) end
local ZERO = zl(0)

local to_grosze = entity.to_grosze

-- An amount option of a method for field `field` of collection `cname`,
-- as grosze (raises naming the field).
local function amount_option(cname, field, v)
  if v == nil then invalid(cname, field, "is required") end
  local g, why = to_grosze(v)
  if not g then invalid(cname, field, "%s (got %s)", why, show(v)) end
  return g
end

-- The options table t of method `what` (nil means {}); unknown keys are
-- refused, naming them.
local function options(cname, what, t, known)
  if t == nil then return {} end
  if type(t) ~= "table" or getmetatable(t) then
    invalid(cname, what, "expected a table {%s}, got %s", concat(known, "=, ") .. "=", show(t))
  end
  for k in pairs(t) do
    local found = false
    for _, n in ipairs(known) do if n == k then found = true break end end
    if not found then
      invalid(cname, tostring(k), "unknown option of %s (known: %s)", what, concat(known, ", "))
    end
  end
  return t
end

-- A date option v for `field` (default today).
local function date_option(cname, field, v)
  if v == nil then return dates.today() end
  local ok, msg = dates.parse(v)
  if not ok then invalid(cname, field, "%s", msg) end
  return v
end

-- A text option, trimmed (blank is none; `required` refuses none).
local function text_option(cname, field, v, required)
  if v == nil or (type(v) == "string" and not v:find("%S")) then
    if required then invalid(cname, field, "is required") end
    return nil
  end
  if type(v) ~= "string" then invalid(cname, field, "expected text, got %s", show(v)) end
  return v:match("^%s*(.-)%s*$")
end

-- The object of collection `coll` given as itself or its id; raises
-- naming `cname`.`field` when there is none.
local function object_of(coll, v, cname, field)
  if getmetatable(v) == coll.mt then return v end
  local o = (type(v) == "number" or type(v) == "string") and coll.get(v) or nil
  if not o then
    invalid(cname, field, "expected %s %s or its id, got %s", coll.article, coll.label, show(v))
  end
  return o
end

-- A classification code of n digits (dział 3, rozdział 5, § 4); "§ 4170"
-- is accepted (and b:line{} turns numbers into text).
local function classification(n, what)
  return function(v)
    v = v:gsub("^§%s*", "")
    if not (#v == n and v:match("^%d+$")) then return nil, ("a %s has %d digits"):format(what, n) end
    if not v:find("[1-9]") then return nil, ("an all-zero %s is not valid"):format(what) end
    return v
  end
end

-- The stored budget row of budget id.
local BUDGET_ROW = "SELECT id, name, status, total_gr, period_from, period_to, approved_on, closed_on, low_percent"
  .. " FROM budget WHERE id = ?"

-- 'Budget#1 "Projekt socjalny Bogoria"' for messages.
local function budget_ref(b) return ('Budget#%d "%s"'):format(b.id, b.name) end
-- 'line 3 "terapia"' for messages.
local function line_ref(l) return ('line %d "%s"'):format(l.no, l.name) end

-- Raise unless budget row b takes new entries (commitments, payments,
-- amendments): approved or amended, not closed.
local function open_for_entries(b, cname, field)
  if b.status == "draft" then
    invalid(cname, field, "%s is a draft: approve it first (b:approve{date=})", budget_ref(b))
  elseif b.status == "closed" then
    invalid(cname, field, "%s is closed (since %s): nothing more is entered on it", budget_ref(b), b.closed_on)
  end
end

-- Raise unless `date` lies within budget b's period and not before its approval.
local function within(b, date, cname, field)
  if date < b.period_from or date > b.period_to then
    invalid(cname, field, "%s is outside the period of %s (%s – %s)", date, budget_ref(b), b.period_from, b.period_to)
  end
  if b.approved_on and date < b.approved_on then
    invalid(cname, field, "%s is before %s was approved (%s)", date, budget_ref(b), b.approved_on)
  end
end

-- }====================

-- {==================== figures ====================

local LINE_FIGURES = budget_sql.figures("l.id = ?1")
local BUDGET_FIGURES = budget_sql.execution
local LAST_DAY = "9999-12-31"

-- Figures of line id (grosze) as of `on` (default: everything entered).
local function line_figures(id, on)
  return db():first(LINE_FIGURES, id, on or LAST_DAY)
end

-- What is uncommitted on line id now, and available for a commitment
-- dated `date`: the plan on that date and the plan now, whichever is
-- smaller, less everything committed.
local LINE_LEFT = ("SELECT min(%s, %s) - %s"):format(planned_sql("?1", ALWAYS), planned_sql("?1", "?2"), committed_sql("?1"))
local function line_left(id, date)
  return db():value(LINE_LEFT, id, date)
end

local COMMITMENT_FIGURES = ("SELECT %s AS net, %s AS paid, %s AS delivered"):format(
  net_commitment_sql("?1"), paid_sql("?1"), delivered_sql("?1"))

-- net (after reductions), paid and delivered grosze of commitment id.
local function commitment_figures(id)
  return db():first(COMMITMENT_FIGURES, id)
end

local NET_EXPENDITURE = "SELECT amount_gr + coalesce((SELECT sum(amount_gr) FROM expenditure WHERE corrects_id = ?1), 0)"
  .. " FROM expenditure WHERE id = ?1"

-- }====================

-- {==================== the line_low event ====================

-- Are line figures f low: uncommitted below pct % of the plan?  (Exact:
-- no rounding.)
local function is_low(f, pct)
  return (f.planned - f.committed) * 100 < f.planned * pct
end

-- Run fn() (which may commit money of the lines in `ids`) in a
-- transaction, and emit budget.line_low inside it for each line that fn
-- made low.
local function watching(ids, fn)
  local c = db()
  if not events.handlers["budget.line_low"] then return c:tx(fn) end
  return c:tx(function()
    local before = {}
    for _, id in ipairs(ids) do before[id] = line_figures(id) end
    local res = fn()
    for _, id in ipairs(ids) do
      local f = line_figures(id)
      local pct = c:value("SELECT low_percent FROM budget WHERE id = ?", f.budget_id)
      if is_low(f, pct) and not is_low(before[id], pct) then
        events.emit("budget.line_low", M.lines.get(id), {
          budget = M.budgets.get(f.budget_id), planned = grosze(f.planned), committed = grosze(f.committed),
          uncommitted = grosze(f.planned - f.committed), percent = pct,
          threshold = grosze(f.planned * pct // 100) })
      end
    end
    return res
  end)
end

-- }====================

-- {==================== budgets ====================

local budgets, lines, commitments, expenditures, amendments, moves
local add_amendment, add_move          -- the plain adds, for b:amend{} only
local budget_methods, line_methods, commitment_methods, expenditure_methods = {}, {}, {}, {}

-- Derived fields of the next budget write (approve, amend, close), taken by validate.
local pending = nil

local function home_gmina()
  return schema.meta(db(), "gmina")
end

-- The latest date of anything entered on budget id (commitments,
-- payments, amendments), or nil: a budget closes after it.
local LATEST_ENTRY = [[
SELECT max(d) FROM (
  SELECT max(c.signed_on) AS d FROM commitment c JOIN budget_line l ON l.id = c.line_id WHERE l.budget_id = ?1
  UNION ALL SELECT max(max(e.paid_on, e.document_date)) FROM expenditure e JOIN commitment c ON c.id = e.commitment_id
    JOIN budget_line l ON l.id = c.line_id WHERE l.budget_id = ?1
  UNION ALL SELECT max(date) FROM budget_amendment WHERE budget_id = ?1)]]
-- The first and last dates of commitments and amendments of budget id:
-- they lie within its period.
local DATED_RANGE = [[
SELECT min(d) AS first, max(d) AS last FROM (
  SELECT c.signed_on AS d FROM commitment c JOIN budget_line l ON l.id = c.line_id WHERE l.budget_id = ?1
  UNION ALL SELECT date FROM budget_amendment WHERE budget_id = ?1)]]
-- Field names of the budget's columns, for messages.
local FIELD_OF = { total_gr = "total", gmina_terc = "gmina" }

-- Write the derived fields `fields` of budget b (approve, amend, close),
-- over its stored row (b may be an older object of the same budget).
local function set_budget(b, fields)
  b:reload()
  pending = fields
  local ok, res = pcall(b.update, b, {})
  pending = nil
  if not ok then error(res, 0) end
  return res
end

-- The current stored row of budget b.
local function budget_row(b) return db():first(BUDGET_ROW, b.id) end

--- Approve the budget on {date=} (default today): its lines must add up
--- to its total exactly.
function budget_methods.approve(b, q)
  q = options("budgets", "approve", q, { "date" })
  local row = budget_row(b)
  if row.status ~= "draft" then
    invalid("budgets", "status", "%s is %s already (approved %s)", budget_ref(row), row.status, row.approved_on)
  end
  local date = date_option("budgets", "approved_on", q.date)
  if date > row.period_to then
    invalid("budgets", "approved_on", "%s is after the end of the budget's period (%s)", date, row.period_to)
  end
  local s = db():first("SELECT count(*) AS n, coalesce(sum(planned_gr), 0) AS sum FROM budget_line WHERE budget_id = ?", b.id)
  if s.n == 0 then invalid("budgets", "total", "%s has no lines: add them with b:line{name=, planned=}", budget_ref(row)) end
  if s.sum ~= row.total_gr then
    local diff = s.sum - row.total_gr
    invalid("budgets", "total", "the lines add up to %s, the total is %s (%s %s): lines and total must agree before approval",
      zl(s.sum), zl(row.total_gr), diff > 0 and "over by" or "short by", zl(math.abs(diff)))
  end
  return set_budget(b, { status = "approved", approved_on = date })
end

--- Close the budget on {date=} (default today): nothing more is entered on it.
function budget_methods.close(b, q)
  q = options("budgets", "close", q, { "date" })
  local row = budget_row(b)
  if row.status == "draft" then
    invalid("budgets", "status", "%s is a draft: only an approved budget is closed", budget_ref(row))
  elseif row.status == "closed" then
    invalid("budgets", "status", "%s is closed already (since %s)", budget_ref(row), row.closed_on)
  end
  local date = date_option("budgets", "closed_on", q.date)
  if date < row.approved_on then
    invalid("budgets", "closed_on", "%s is before the budget was approved (%s)", date, row.approved_on)
  end
  local last = db():value(LATEST_ENTRY, b.id)
  if last and date < last then
    invalid("budgets", "closed_on", "%s is before the last entry on the budget (%s)", date, last)
  end
  return set_budget(b, { status = "closed", closed_on = date })
end

--- b:line{name=, planned=, ...} adds a line; b:line(name or no) finds one.
function budget_methods.line(b, q)
  if type(q) == "table" and not getmetatable(q) then
    local row = { budget = b }
    for k, v in pairs(q) do
      if k == "budget" then invalid("budget_lines", "budget", "b:line{} adds to this budget; do not give budget=") end
      if (k == "dzial" or k == "rozdzial" or k == "paragraf") and math.type(v) == "integer" then v = tostring(v) end
      row[k] = v
    end
    return lines.add(row)
  end
  local found
  if math.type(q) == "integer" then
    found = lines.find{ budget = b, no = q }[1]
  elseif type(q) == "string" then
    found = lines.find{ budget = b, name = q }[1]
  else
    invalid("budget_lines", "line", "b:line{...} adds a line, b:line(name or number) finds one; got %s", show(q))
  end
  if not found then
    local names = {}
    for n, name in db():urows("SELECT no, name FROM budget_line WHERE budget_id = ? ORDER BY no", b.id) do
      names[#names + 1] = n .. ' "' .. name .. '"'
    end
    invalid("budget_lines", "line", "%s has no line %s (lines: %s)", budget_ref(b), show(q),
      #names > 0 and concat(names, ", ") or "none yet")
  end
  return found
end

--- The budget's lines, in order.
function budget_methods.lines(b) return lines.find{ budget = b, order = "no" } end

--- The commitments on the budget's lines (reductions included), by date.
function budget_methods.commitments(b)
  return commitments.find{ where = "line_id IN (SELECT id FROM budget_line WHERE budget_id = ?)", args = { b.id },
    order = { "signed_on", "id" } }
end

--- The expenditures (payments and corrections) of the budget, by payment date.
function budget_methods.expenditures(b)
  return expenditures.find{ where = [[commitment_id IN (SELECT c.id FROM commitment c JOIN budget_line l
    ON l.id = c.line_id WHERE l.budget_id = ?)]], args = { b.id }, order = { "paid_on", "id" } }
end

--- The budget's amendments, in order.
function budget_methods.amendments(b) return amendments.find{ budget = b, order = "no" } end

-- The line of budget b given as a line object, its number or its name.
local function line_of(b, v, field)
  if getmetatable(v) == lines.mt then
    if v.budget_id ~= b.id then
      invalid("budget_amendments", field, "%s belongs to another budget (Budget#%d)", line_ref(v), v.budget_id)
    end
    return v
  end
  if math.type(v) ~= "integer" and type(v) ~= "string" then
    invalid("budget_amendments", field, "expected a line of %s (the line, its number or its name), got %s",
      budget_ref(b), show(v))
  end
  local ok, l = pcall(budget_methods.line, b, v)
  if not ok then
    if not koop.is_error(l, "invalid") then error(l, 0) end
    invalid("budget_amendments", field, "%s", (l.message:gsub("^budget_lines%.line: ", "")))
  end
  return l
end

--- Move planned money between lines: {reason=, moves = {{from=, to=,
--- amount=}, ...}, date= (default today), document=}.  Returns the amendment.
function budget_methods.amend(b, q)
  q = options("budget_amendments", "amend", q, { "date", "reason", "moves", "document" })
  local row = budget_row(b)
  open_for_entries(row, "budget_amendments", "budget")
  local date = date_option("budget_amendments", "date", q.date)
  within(row, date, "budget_amendments", "date")
  local c = db()
  local last = c:value("SELECT max(date) FROM budget_amendment WHERE budget_id = ?", b.id)
  if last and date < last then
    invalid("budget_amendments", "date", "%s is before the budget's last amendment (%s): amendments go in order", date, last)
  end
  local reason = text_option("budget_amendments", "reason", q.reason, true)
  local list = q.moves
  if type(list) ~= "table" or getmetatable(list) or #list == 0 then
    invalid("budget_amendments", "moves", "expected a list of moves {{from=, to=, amount=}, ...}, got %s", show(list))
  end
  -- check every move against what is uncommitted, in order
  local avail, checked = {}, {}
  for i, m in ipairs(list) do
    local field = ("moves[%d]"):format(i)
    options("budget_amendments", field, m, { "from", "to", "amount" })
    if m.from == nil or m.to == nil then invalid("budget_amendments", field, "a move needs from=, to= and amount=") end
    local from, to = line_of(b, m.from, field .. ".from"), line_of(b, m.to, field .. ".to")
    if from.id == to.id then invalid("budget_amendments", field .. ".to", "is the same line as from (%s)", line_ref(from)) end
    local amount = amount_option("budget_amendments", field .. ".amount", m.amount)
    if amount <= 0 then
      invalid("budget_amendments", field .. ".amount", "must be more than " .. ZERO .. " (got %s)", show(m.amount))
    end
    for _, l in ipairs{ from, to } do
      if not avail[l.id] then
        local f = line_figures(l.id)
        avail[l.id] = f.planned - f.committed
      end
    end
    if amount > avail[from.id] then
      invalid("budget_amendments", field .. ".amount",
        "moves more than is uncommitted on %s: uncommitted %s, asked %s", line_ref(from), zl(avail[from.id]), zl(amount))
    end
    avail[from.id], avail[to.id] = avail[from.id] - amount, avail[to.id] + amount
    checked[i] = { from = from, to = to, amount = amount }
  end
  local ids = {}
  for id in pairs(avail) do ids[#ids + 1] = id end
  table.sort(ids)
  return watching(ids, function()
    local no = c:value("SELECT coalesce(max(no), 0) + 1 FROM budget_amendment WHERE budget_id = ?", b.id)
    local a = add_amendment{ budget = b, no = no, date = date, reason = reason, document = q.document }
    for _, m in ipairs(checked) do
      add_move{ amendment = a, from = m.from, to = m.to, amount = grosze(m.amount) }
    end
    if row.status == "approved" then set_budget(b, { status = "amended" }) end
    return a
  end)
end

--- The execution of the budget as of {on=} or on (default today): per
--- line and in total, planned, committed, spent, remaining (planned -
--- spent) and % spent.  A result set; .total is the total row.
function budget_methods.execution(b, q)
  local on
  if type(q) == "table" and not getmetatable(q) then
    options("budgets", "execution", q, { "on" })
    on = q.on
  else
    on = q
  end
  on = date_option("budgets", "on", on)
  local rows, sum = {}, { planned = 0, committed = 0, spent = 0 }
  local function row_of(no, name, f)
    local planned, spent = grosze(f.planned), grosze(f.spent)
    return { no = no, line = name, planned = planned, committed = grosze(f.committed), spent = spent,
      remaining = grosze(f.planned - f.spent), ["% spent"] = f.planned ~= 0 and spent:percent_of(planned) or nil,
      line_id = f.id }
  end
  for f in db():rows(BUDGET_FIGURES, b.id, on) do
    rows[#rows + 1] = row_of(f.no, f.name, f)
    sum.planned, sum.committed, sum.spent = sum.planned + f.planned, sum.committed + f.committed, sum.spent + f.spent
  end
  local total = row_of(nil, "total", sum)
  total.line_id = nil
  rows[#rows + 1] = total
  rows = koop.resultset(rows, { "no", "line", "planned", "committed", "spent", "remaining", "% spent" })
  rows.total, rows.on, rows.budget = total, on, b
  return rows
end

-- }====================

-- {==================== lines ====================

-- The service type whose code or name is the line's name (case aside).
local function service_type_of(row)
  if not row.name then return nil end
  local low = koop.text and koop.text.lower(row.name) or row.name:lower()
  for code, name in db():urows("SELECT code, name FROM service_type") do
    local lc = koop.text and koop.text.lower(code) or code:lower()
    local ln = koop.text and koop.text.lower(name) or name:lower()
    if lc == low or ln == low then return code end
  end
  return nil
end

--- The line's figures as of {on=} (default: everything entered): a table
--- of amounts planned, committed, spent, uncommitted, remaining.
function line_methods.state(l, q)
  q = options("budget_lines", "state", q, { "on" })
  local f = line_figures(l.id, q.on and date_option("budget_lines", "on", q.on) or nil)
  return { planned = grosze(f.planned), committed = grosze(f.committed), spent = grosze(f.spent),
    uncommitted = grosze(f.planned - f.committed), remaining = grosze(f.planned - f.spent) }
end

--- The commitments on the line (reductions included), by date.
function line_methods.commitments(l) return commitments.find{ line = l, order = { "signed_on", "id" } } end

-- }====================

-- {==================== commitments ====================

-- A contractor's name for messages and display.
local function contractor_name(c)
  if c.contractor_id then return db():value("SELECT name FROM institution WHERE id = ?", c.contractor_id) end
  return c.contractor_name
end

-- Add a commitment from entity input (its contractor may be an outside
-- firm {name=, nip=}), emitting budget.line_low when it makes its line low.
local function add_commitment(input)
  local who = input.contractor
  if type(who) == "table" and not getmetatable(who) then
    options("commitments", "contractor", who, { "name", "nip" })
    local name = text_option("commitments", "contractor", who.name)
    if not name then invalid("commitments", "contractor", "an outside firm needs its name ({name=, nip=})") end
    if who.nip == nil then invalid("commitments", "contractor", "an outside firm needs its NIP ({name=, nip=})") end
    local info, msg = koop.ids.nip(tostring(who.nip))
    if not info then invalid("commitments", "contractor", "NIP of %s: %s (got %s)", name, msg, show(who.nip)) end
    input.contractor, input.contractor_name, input.contractor_nip = nil, name, info.value
  end
  local l = object_of(lines, input.line, "commitments", "line")
  return watching({ l.id }, function() return M.plain_commitment_add(input) end)
end

--- Commit money of a line: {contractor= institution | {name=, nip=},
--- amount=, date= (default today), document=}.  Returns the commitment.
function M.commit(line, q)
  q = options("commitments", "commit", q, { "contractor", "amount", "date", "document" })
  return add_commitment{ line = line, contractor = q.contractor, amount = q.amount, date = q.date, document = q.document }
end
line_methods.commit = M.commit

-- A method that refuses to change history.
local function no_edit(cname, how)
  return function() invalid(cname, cname, "%s", how) end
end
commitment_methods.update = no_edit("commitments",
  "a commitment is never changed: reduce it with c:reduce{amount=, reason=}, or correct a payment with c:correct{...}")

-- Raise unless c is a commitment one pays (not a reduction).
local function payable(c, what)
  if c.reduces_id then
    invalid("expenditures", "commitment", "Commitment#%d is a reduction of Commitment#%d: %s the commitment itself",
      c.id, c.reduces_id, what)
  end
end

--- Release part of a commitment back to its line (aneks zmniejszający, a
--- contract ended early): {amount=, reason=, date= (default today)}.
function commitment_methods.reduce(c, q)
  q = options("commitments", "reduce", q, { "amount", "reason", "date" })
  if c.reduces_id then invalid("commitments", "reduces", "Commitment#%d is itself a reduction", c.id) end
  local g = amount_option("commitments", "amount", q.amount)
  if g == 0 then invalid("commitments", "amount", "must not be " .. ZERO) end
  local row = { line = c.line_id, contractor = c.contractor_id, contractor_name = c.contractor_name,
    contractor_nip = c.contractor_nip, date = date_option("commitments", "date", q.date),
    amount = grosze(-math.abs(g)), reduces = c, reason = text_option("commitments", "reason", q.reason, true) }
  return M.plain_commitment_add(row)
end

--- The commitment's payments and corrections, by date.
function commitment_methods.expenditures(c) return expenditures.find{ commitment = c, order = { "paid_on", "id" } } end

--- The service deliveries booked under the commitment.
function commitment_methods.services(c)
  return entity.collection_named("services").find{ where = "commitment_id = ?", args = { c.id } }
end

-- }====================

-- {==================== expenditures ====================

expenditure_methods.update = no_edit("expenditures",
  "a payment is never changed: correct it with a new, negative entry (c:correct{of=, amount=-x, reason=})")

--- Pay under the commitment: {document=, document_date=, amount=,
--- paid_on= (default today)}.  Returns the expenditure.
function commitment_methods.pay(c, q)
  q = options("expenditures", "pay", q, { "document", "document_date", "paid_on", "amount" })
  payable(c, "pay")
  if q.amount == nil then invalid("expenditures", "amount", "is required") end
  local row = { commitment = c }
  for k, v in pairs(q) do row[k] = v end
  return expenditures.add(row)
end

--- Correct a payment: {of=expenditure, amount= -x (negative), reason=,
--- document= (default "korekta <its document>"), document_date=, paid_on=
--- (both default today)}.  A new entry; the payment stays as it was.
function commitment_methods.correct(c, q)
  q = options("expenditures", "correct", q, { "of", "amount", "reason", "document", "document_date", "paid_on" })
  payable(c, "correct the payments of")
  if q.of == nil then invalid("expenditures", "corrects", "of= is required: the payment (expenditure) to correct") end
  local of = object_of(expenditures, q.of, "expenditures", "corrects")
  local g = amount_option("expenditures", "amount", q.amount)
  if g >= 0 then
    invalid("expenditures", "amount", "a correction is negative (got %s); a further payment is c:pay{}", show(q.amount))
  end
  local paid_on = date_option("expenditures", "paid_on", q.paid_on)
  local row = { commitment = c, corrects = of, amount = grosze(g), reason = q.reason, paid_on = paid_on,
    document = q.document or ("korekta " .. of.document),
    document_date = q.document_date or paid_on }
  return expenditures.add(row)
end

--- Correct this payment: {amount= -x, reason=, ...} (see c:correct).
function expenditure_methods.correct(e, q)
  q = options("expenditures", "correct", q, { "amount", "reason", "document", "document_date", "paid_on" })
  local args = { of = e }
  for k, v in pairs(q) do args[k] = v end
  return commitment_methods.correct(commitments.get(e.commitment_id), args)
end

-- }====================

-- {==================== the collections ====================

budgets = entity.collection {
  name = "budgets", table = "budget", label = "Budget",
  deletable = true,
  fields = {
    { "name", "text", required = true },
    { "gmina", "ref", to = "gminas", column = "gmina_terc", required = true, default = home_gmina },
    { "source", "enum", choices = SOURCES, aliases = SOURCE_ALIASES, required = true, default = "POWER/EFS",
      what = "source of funds" },
    { "total", "money", column = "total_gr", required = true, positive = true },
    { "period_from", "date", required = true },
    { "period_to", "date", required = true },
    { "status", "enum", choices = STATUSES, derived = true },
    { "approved_on", "date", derived = true },
    { "closed_on", "date", derived = true },
    { "low_percent", "integer", min = 0, max = 100, default = 10 },
    { "notes", "text" },
  },
  display = { "id", "name", "gmina_terc", "source", "total", "period_from", "period_to", "status" },
  order = "period_from",
  validate = function(row, old, coll)
    local p = pending
    pending = nil
    if not old then row.status = "draft" end
    if p then for k, v in pairs(p) do row[k] = v end end
    entity.period(coll, row, "period_from", "period_to")
    if old and not p then
      if old.status == "closed" then
        for _, c in ipairs(coll.columns) do
          if c ~= "notes" and row[c] ~= old[c] then
            coll.invalid(FIELD_OF[c] or c, "%s is closed: only its notes change", budget_ref(old))
          end
        end
      end
      if old.status ~= "draft" and row.total_gr ~= old.total_gr then
        coll.invalid("total", "%s is approved: its total does not change (move money between lines with b:amend{})",
          budget_ref(old))
      end
      if row.period_from ~= old.period_from or row.period_to ~= old.period_to then
        local r = db():first(DATED_RANGE, row.id)
        if r.first and r.first < row.period_from then
          coll.invalid("period_from", "%s is after the first entry on the budget (%s)", row.period_from, r.first)
        end
        if r.last and r.last > row.period_to then
          coll.invalid("period_to", "%s is before the last entry on the budget (%s)", row.period_to, r.last)
        end
        if row.approved_on and row.approved_on > row.period_to then
          coll.invalid("period_to", "%s is before the budget was approved (%s)", row.period_to, row.approved_on)
        end
      end
    end
  end,
  props = {
    total = function(b) return grosze(b.total_gr) end,
  },
  methods = budget_methods,
  tostring = function(b)
    local s = ('Budget#%d "%s" %s, %s – %s, %s'):format(b.id, b.name, zl(b.total_gr), b.period_from, b.period_to, b.status)
    if b.closed_on then s = s .. " " .. b.closed_on
    elseif b.approved_on then s = s .. " (approved " .. b.approved_on .. ")" end
    return s
  end,
}
M.budgets = budgets

lines = entity.collection {
  name = "budget_lines", table = "budget_line", label = "BudgetLine",
  deletable = true,
  fields = {
    { "budget", "ref", to = "budgets", required = true },
    { "no", "integer", derived = true },
    { "name", "text", required = true },
    { "service_type", "enum", dict = "service_types", what = "service type", default = service_type_of },
    { "planned", "money", column = "planned_gr", required = true, nonnegative = true },
    { "dzial", "text", check = classification(3, "dział") },
    { "rozdzial", "text", check = classification(5, "rozdział") },
    { "paragraf", "text", check = classification(4, "paragraf (§)") },
    { "notes", "text" },
  },
  display = { "no", "name", "service_type", "planned", "committed", "spent", "paragraf" },
  order = { "budget_id", "no" },
  validate = function(row, old, coll)
    local c = db()
    local b = c:first(BUDGET_ROW, row.budget_id)
    if old and row.budget_id ~= old.budget_id then coll.invalid("budget", "a line stays in its budget") end
    if b.status == "closed" then
      coll.invalid(old and "planned" or "budget", "%s is closed: its lines do not change", budget_ref(b))
    end
    if b.status ~= "draft" and ((not old and row.planned_gr ~= 0) or (old and row.planned_gr ~= old.planned_gr)) then
      coll.invalid("planned", "%s is approved: %s (move money with b:amend{})", budget_ref(b),
        old and "its lines' plans change only by amendments" or "a new line starts at " .. ZERO)
    end
    if not old then
      row.no = c:value("SELECT coalesce(max(no), 0) + 1 FROM budget_line WHERE budget_id = ?", row.budget_id)
    end
    if (not old or row.name ~= old.name)
        and c:value("SELECT 1 FROM budget_line WHERE budget_id = ? AND name = ? AND id IS NOT ?",
          row.budget_id, row.name, row.id) then
      coll.invalid("name", "%s has a line \"%s\" already", budget_ref(b), row.name)
    end
    if row.rozdzial and not row.dzial then row.dzial = row.rozdzial:sub(1, 3) end
    if row.rozdzial and row.rozdzial:sub(1, 3) ~= row.dzial then
      coll.invalid("rozdzial", "rozdział %s is not in dział %s (it starts with the dział's digits)", row.rozdzial, row.dzial)
    end
  end,
  props = {
    --- The plan now (the first plan and every amendment's moves).
    planned = function(l) return grosze(line_figures(l.id).planned) end,
    committed = function(l) return grosze(line_figures(l.id).committed) end,
    spent = function(l) return grosze(line_figures(l.id).spent) end,
    --- Planned but not committed: what new commitments may take.
    uncommitted = function(l) local f = line_figures(l.id) return grosze(f.planned - f.committed) end,
    --- Planned but not spent.
    remaining = function(l) local f = line_figures(l.id) return grosze(f.planned - f.spent) end,
  },
  methods = line_methods,
  tostring = function(l)
    local f = line_figures(l.id)
    return ('BudgetLine#%d %d. "%s" planned %s, committed %s, spent %s'):format(l.id, l.no, l.name,
      zl(f.planned), zl(f.committed), zl(f.spent))
  end,
}
M.lines = lines

do
  local plain_delete = lines.methods.delete
  --- Delete a line of a draft budget.
  function line_methods.delete(l)
    local b = db():first(BUDGET_ROW, l.budget_id)
    if b.status ~= "draft" then
      invalid("budget_lines", "budget", "%s is %s: its lines are never deleted", budget_ref(b), b.status)
    end
    return plain_delete(l)
  end
  lines.methods.delete = line_methods.delete
end

commitments = entity.collection {
  name = "commitments", table = "commitment", label = "Commitment",
  fields = {
    { "line", "ref", to = "budget_lines", required = true },
    { "contractor", "ref", to = "institutions", column = "contractor_id" },
    { "contractor_name", "text" },
    { "contractor_nip", "text", check = "nip" },
    { "date", "date", column = "signed_on", required = true, default = function() return dates.today() end },
    { "amount", "money", column = "amount_gr", required = true },
    { "document", "text" },
    { "reduces", "ref", to = "commitments", column = "reduces_id" },
    { "service", "ref", to = "services", column = "service_id" },
    { "reason", "text" },
  },
  display = { "id", "date", "line_id", "contractor_name", "amount", "paid", "document" },
  order = { "signed_on", "id" },
  validate = function(row, old, coll)
    local c = db()
    local l = c:first("SELECT id, no, name, budget_id FROM budget_line WHERE id = ?", row.line_id)
    local b = c:first(BUDGET_ROW, l.budget_id)
    open_for_entries(b, "commitments", "line")
    if row.contractor_id == nil and row.contractor_name == nil then
      coll.invalid("contractor", "is required: an institution, or an outside firm {name=, nip=}")
    end
    if row.contractor_id and row.contractor_name then
      coll.invalid("contractor", "is an institution or an outside firm, not both")
    end
    if row.contractor_name and not row.contractor_nip then
      coll.invalid("contractor", "an outside firm needs its NIP ({name=, nip=})")
    end
    if row.contractor_nip and not row.contractor_name then
      coll.invalid("contractor", "a NIP goes with the firm's name ({name=, nip=})")
    end
    within(b, row.signed_on, "commitments", "date")
    if row.reduces_id == nil then
      if row.amount_gr <= 0 then coll.invalid("amount", "must be more than " .. ZERO .. " (got %s)", zl(row.amount_gr)) end
      local left = line_left(l.id, row.signed_on)
      if row.amount_gr > left then
        coll.invalid("amount", "exceeds what is left on %s: left %s, asked %s", line_ref(l), zl(left), zl(row.amount_gr))
      end
    else
      local o = c:first("SELECT id, line_id, signed_on, reduces_id FROM commitment WHERE id = ?", row.reduces_id)
      if o.reduces_id then coll.invalid("reduces", "Commitment#%d is itself a reduction", o.id) end
      if o.line_id ~= row.line_id then coll.invalid("line", "a reduction stays on the line of Commitment#%d", o.id) end
      if row.signed_on < o.signed_on then
        coll.invalid("date", "%s is before Commitment#%d (%s)", row.signed_on, o.id, o.signed_on)
      end
      if not row.reason then coll.invalid("reason", "is required for a reduction (e.g. aneks nr 1)") end
      if row.amount_gr >= 0 then coll.invalid("amount", "a reduction is stored as a negative amount") end
      local f = commitment_figures(o.id)
      local used = math.max(f.paid, f.delivered)
      if f.net + row.amount_gr < used then
        coll.invalid("amount", "reduces Commitment#%d below what is %s: %s of %s may go, asked %s", o.id,
          f.paid >= f.delivered and "paid" or "delivered under it", zl(f.net - used), zl(f.net), zl(-row.amount_gr))
      end
    end
  end,
  props = {
    amount = function(c) return grosze(c.amount_gr) end,
    date = function(c) return c.signed_on end,
    --- Commitments only: the amount after reductions, what is paid, what
    --- is left to pay, and the cost of the deliveries booked under it.
    net = function(c) return grosze(commitment_figures(c.id).net) end,
    paid = function(c) return grosze(commitment_figures(c.id).paid) end,
    left = function(c) local f = commitment_figures(c.id) return grosze(f.net - f.paid) end,
    delivered = function(c) return grosze(commitment_figures(c.id).delivered) end,
    contractor_name = contractor_name,
  },
  methods = commitment_methods,
  tostring = function(c)
    local l = db():first("SELECT no, name FROM budget_line WHERE id = ?", c.line_id)
    if c.reduces_id then
      return ('Commitment#%d %s reduces Commitment#%d by %s (%s)'):format(c.id, c.signed_on, c.reduces_id,
        zl(-c.amount_gr), c.reason)
    end
    local f = commitment_figures(c.id)
    local s = ('Commitment#%d %s %s, line %d "%s": %s'):format(c.id, c.signed_on, contractor_name(c), l.no, l.name,
      zl(c.amount_gr))
    if f.net ~= c.amount_gr then s = s .. " (now " .. zl(f.net) .. ")" end
    s = s .. ", paid " .. zl(f.paid)
    if c.document then s = s .. ", " .. c.document end
    return s
  end,
}
M.commitments = commitments

do
  local plain_add = commitments.add
  M.plain_commitment_add = plain_add
  --- commitments.add{line=, ...}: the same as line:commit{...}.
  function commitments.add(input)
    if type(input) ~= "table" or getmetatable(input) or input.line == nil
        or input.reduces ~= nil or input.reduces_id ~= nil then
      return plain_add(input)
    end
    local copy = {}
    for k, v in pairs(input) do copy[k] = v end
    return add_commitment(copy)
  end
  --- commitments.add_many{...}: each through commitments.add, all or none.
  function commitments.add_many(list)
    if type(list) ~= "table" or getmetatable(list) then
      invalid("commitments", "commitments", "add_many: expected a list of tables of fields, got %s", show(list))
    end
    return db():tx(function()
      local out = {}
      for i, input in ipairs(list) do
        local ok, res = pcall(commitments.add, input)
        if not ok then
          if koop.is_error(res) then res.message = ("commitments.add_many: item %d: %s"):format(i, res.message) end
          error(res, 0)
        end
        out[i] = res
      end
      return koop.resultset(out, commitments.display)
    end)
  end
end

expenditures = entity.collection {
  name = "expenditures", table = "expenditure", label = "Expenditure",
  fields = {
    { "commitment", "ref", to = "commitments", required = true },
    { "document", "text", required = true },
    { "document_date", "date", required = true },
    { "paid_on", "date", required = true, default = function() return dates.today() end },
    { "amount", "money", column = "amount_gr", required = true },
    { "corrects", "ref", to = "expenditures", column = "corrects_id" },
    { "reason", "text" },
  },
  display = { "id", "paid_on", "document", "document_date", "amount", "commitment_id", "corrects_id" },
  order = { "paid_on", "id" },
  validate = function(row, old, coll)
    local c = db()
    local cm = c:first("SELECT id, line_id, signed_on, reduces_id FROM commitment WHERE id = ?", row.commitment_id)
    if cm.reduces_id then
      coll.invalid("commitment", "Commitment#%d is a reduction of Commitment#%d: pay the commitment itself", cm.id, cm.reduces_id)
    end
    local l = c:first("SELECT budget_id FROM budget_line WHERE id = ?", cm.line_id)
    local b = c:first(BUDGET_ROW, l.budget_id)
    if b.status == "closed" then
      coll.invalid("commitment", "%s is closed (since %s): nothing more is paid from it", budget_ref(b), b.closed_on)
    end
    if row.document_date < cm.signed_on then
      coll.invalid("document_date", "%s is before its commitment (Commitment#%d of %s)", row.document_date, cm.id, cm.signed_on)
    end
    if row.paid_on < cm.signed_on then
      coll.invalid("paid_on", "%s is before its commitment (Commitment#%d of %s)", row.paid_on, cm.id, cm.signed_on)
    end
    local f = commitment_figures(cm.id)
    if row.corrects_id == nil then
      if row.amount_gr <= 0 then
        coll.invalid("amount", "must be more than " .. ZERO .. " (got %s); a refund is a correction: c:correct{of=, amount=-x, reason=}",
          zl(row.amount_gr))
      end
      if row.amount_gr > f.net - f.paid then
        coll.invalid("amount", "exceeds what is left on Commitment#%d: left %s, asked %s", cm.id, zl(f.net - f.paid),
          zl(row.amount_gr))
      end
    else
      local o = c:first("SELECT id, commitment_id, paid_on, corrects_id FROM expenditure WHERE id = ?", row.corrects_id)
      if o.corrects_id then coll.invalid("corrects", "Expenditure#%d is itself a correction: correct the payment", o.id) end
      if o.commitment_id ~= cm.id then
        coll.invalid("corrects", "Expenditure#%d was paid under Commitment#%d, not Commitment#%d", o.id, o.commitment_id, cm.id)
      end
      if not row.reason then coll.invalid("reason", "is required for a correction") end
      if row.amount_gr >= 0 then
        coll.invalid("amount", "a correction is negative (got %s); a further payment is c:pay{}", zl(row.amount_gr))
      end
      if row.paid_on < o.paid_on then
        coll.invalid("paid_on", "%s is before the payment it corrects (%s)", row.paid_on, o.paid_on)
      end
      local net = c:value(NET_EXPENDITURE, o.id)
      if net + row.amount_gr < 0 then
        coll.invalid("amount", "corrects more than was paid by Expenditure#%d: at most %s, asked %s", o.id, zl(net),
          zl(-row.amount_gr))
      end
    end
  end,
  props = {
    amount = function(e) return grosze(e.amount_gr) end,
    --- The amount after its corrections.
    net = function(e) return grosze(db():value(NET_EXPENDITURE, e.id)) end,
    --- paid, corrected (a payment with corrections) or correction.
    status = function(e)
      if e.corrects_id then return "correction" end
      return db():value("SELECT 1 FROM expenditure WHERE corrects_id = ?", e.id) and "corrected" or "paid"
    end,
  },
  methods = expenditure_methods,
  tostring = function(e)
    local s = ("Expenditure#%d %s %s of %s, paid %s: %s (Commitment#%d)"):format(e.id,
      e.corrects_id and "correction" or "invoice", e.document, e.document_date, e.paid_on, zl(e.amount_gr), e.commitment_id)
    if e.corrects_id then s = s .. (" of Expenditure#%d: %s"):format(e.corrects_id, e.reason) end
    return s
  end,
}
M.expenditures = expenditures

amendments = entity.collection {
  name = "budget_amendments", table = "budget_amendment", entity = "budget_amendment", label = "Amendment",
  fields = {
    { "budget", "ref", to = "budgets", required = true },
    { "no", "integer", required = true, min = 1 },
    { "date", "date", required = true },
    { "reason", "text", required = true },
    { "document", "text" },
  },
  display = { "id", "no", "date", "reason", "document" },
  order = { "budget_id", "no" },
  methods = {
    update = no_edit("budget_amendments", "an amendment is history: it is never changed (make another one)"),
    --- The moves of the amendment.
    moves = function(a) return moves.find{ amendment = a } end,
  },
  tostring = function(a)
    local m = db():first("SELECT count(*) AS n, coalesce(sum(amount_gr), 0) AS s FROM budget_move WHERE amendment_id = ?", a.id)
    local n, sum = m.n, m.s
    return ('Amendment#%d no %d of %s: %d move%s, %s (%s)'):format(a.id, a.no, a.date, n, n == 1 and "" or "s", zl(sum), a.reason)
  end,
}
M.amendments = amendments

moves = entity.collection {
  name = "budget_moves", table = "budget_move", entity = "budget_move", label = "Move",
  fields = {
    { "amendment", "ref", to = "budget_amendments", required = true },
    { "from", "ref", to = "budget_lines", column = "from_line_id", required = true },
    { "to", "ref", to = "budget_lines", column = "to_line_id", required = true },
    { "amount", "money", column = "amount_gr", required = true, positive = true },
  },
  display = { "id", "amendment_id", "from_line_id", "to_line_id", "amount" },
  props = { amount = function(m) return grosze(m.amount_gr) end },
  methods = { update = no_edit("budget_moves", "a move is history: it is never changed") },
  tostring = function(m)
    local c = db()
    local a = c:first("SELECT no, name FROM budget_line WHERE id = ?", m.from_line_id)
    local b = c:first("SELECT no, name FROM budget_line WHERE id = ?", m.to_line_id)
    return ('Move#%d %s from %d "%s" to %d "%s"'):format(m.id, zl(m.amount_gr), a.no, a.name, b.no, b.name)
  end,
}
M.moves = moves

-- Amendments and their moves are written by b:amend{} only, which checks
-- them as a whole (the budget, the order of dates, what is uncommitted).
add_amendment, add_move = amendments.add, moves.add
for _, coll in ipairs{ amendments, moves } do
  local refuse = function()
    invalid(coll.name, coll.name, "amendments are made with b:amend{date=, reason=, moves={{from=, to=, amount=}, ...}}")
  end
  coll.add, coll.add_many = refuse, refuse
end

do
  local plain_delete = budgets.methods.delete
  --- Delete a draft budget with its lines (one entered by mistake).
  function budgets.methods.delete(b)
    local row = budget_row(b)
    if row.status ~= "draft" then
      invalid("budgets", "status", "%s is %s: only a draft is deleted", budget_ref(row), row.status)
    end
    db():tx(function()
      for _, l in ipairs(lines.find{ budget = b }) do l:delete() end
      plain_delete(b)
    end)
  end
end

budgets.lines, budgets.commitments, budgets.expenditures = lines, commitments, expenditures
budgets.amendments, budgets.moves = amendments, moves
budgets.sources = SOURCES

-- }====================

-- {==================== service costs ====================

-- Commitments with `provider` on line `line_id` signed by `date`, oldest
-- first, with what their deliveries have not used yet (not the orders
-- made for one delivery).
local SERVICE_COMMITMENTS = ([[
SELECT c.id, %s - %s AS room FROM commitment c
 WHERE c.line_id = ?1 AND c.contractor_id = ?2 AND c.reduces_id IS NULL AND c.service_id IS NULL
   AND c.signed_on <= ?3
 ORDER BY c.signed_on, c.id]]):format(net_commitment_sql("c.id"), delivered_sql("c.id"))

-- Book delivery s (a Service) on line l, inside a transaction.
local function book(s, l)
  local c = db()
  local cost = s.cost
  if money.is(cost) then cost = cost:grosze() end
  if s.status ~= "delivered" then
    invalid("services", "status", "Service#%d is %s: only a delivered service is booked", s.id, s.status)
  end
  if cost <= 0 then invalid("services", "cost", "Service#%d has no cost to book", s.id) end
  if l.service_type and s.service_type ~= l.service_type then
    invalid("services", "service", "Service#%d is %s, and %s pays for %s", s.id, s.service_type, line_ref(l), l.service_type)
  end
  local b = c:first(BUDGET_ROW, l.budget_id)
  open_for_entries(b, "services", "budget_line_id")
  within(b, s.date, "services", "date")
  local found, fullest = nil, nil
  for id, room in c:urows(SERVICE_COMMITMENTS, l.id, s.provider_id, s.date) do
    if room >= cost then found = id break end
    if not fullest or room > fullest.room then fullest = { id = id, room = room } end
  end
  if not found and fullest then
    invalid("services", "cost", "exceeds what is left on Commitment#%d with the provider: left %s, asked %s",
      fullest.id, zl(fullest.room), zl(cost))
  end
  local cm = found and commitments.get(found)
  if not cm then
    local ok, res = pcall(add_commitment, { line = l, contractor = s.provider_id, date = s.date,
      amount = grosze(cost), document = ("Service#%d"):format(s.id), service = s.id })
    if not ok then
      if koop.is_error(res, "invalid") and res.field == "commitments.amount" then
        invalid("services", "cost", "Service#%d %s", s.id, res.message:match("^commitments%.amount: (.*)$"))
      end
      error(res, 0)
    end
    cm = res
  end
  local before = { budget_line_id = s.budget_line_id or koop.null, commitment_id = koop.null }
  c:exec("UPDATE service_delivery SET budget_line_id = ?, commitment_id = ? WHERE id = ?", l.id, cm.id, s.id)
  audit.append(c, "book", "services", s.id, json.encode(before),
    json.encode{ budget_line_id = l.id, commitment_id = cm.id })
  s:reload()
  return cm
end

--- Book the cost of delivered service `service` (a Service or its id) on
--- budget line `line` (default: the line the delivery names, its
--- budget_line_id).  Returns the commitment it is recorded under; a
--- delivery booked already on that line gives its commitment again.
function M.book(service, line)
  local services = entity.collection_named("services")
  local s = object_of(services, service, "services", "service")
  local l = line ~= nil and object_of(lines, line, "services", "budget_line_id")
    or (s.budget_line_id and lines.get(s.budget_line_id))
  if not l then
    invalid("services", "budget_line_id", "Service#%d names no budget line: budgets.book(service, line)", s.id)
  end
  if s.commitment_id then
    if s.budget_line_id ~= l.id then
      invalid("services", "budget_line_id", "Service#%d is booked on BudgetLine#%d already", s.id, s.budget_line_id)
    end
    return commitments.get(s.commitment_id)
  end
  return db():tx(book, s, l)
end
budgets.book = M.book

--- The id of budget line v (a BudgetLine or its id), for the line= option
--- of a delivery; raises naming services.line.
function M.line_id(v)
  return object_of(lines, v, "services", "line").id
end

-- A delivery naming its budget line is booked when it is delivered.
events.on("service.delivered", function(s)
  if s.budget_line_id ~= nil and s.commitment_id == nil then M.book(s) end
end)

-- }====================

-- {==================== the invariants ====================

-- Each check: a query of rows that break a rule, and how to say so.
local CHECKS = {
  { ([[SELECT b.id, b.total_gr AS a, (SELECT coalesce(sum(%s), 0) FROM budget_line l WHERE l.budget_id = b.id) AS b
         FROM budget b WHERE b.status <> 'draft' AND a <> b]]):format(planned_sql("l.id", ALWAYS)),
    "Budget#%d: the lines' plans add up to %s, not to the total %s", function(r) return r.id, zl(r.b), zl(r.a) end },
  { ([[SELECT l.id, %s AS a, %s AS b FROM budget_line l WHERE b > a OR a < 0]]):format(
      planned_sql("l.id", ALWAYS), committed_sql("l.id")),
    "BudgetLine#%d: committed %s of a plan of %s", function(r) return r.id, zl(r.b), zl(r.a) end },
  { ([[SELECT c.id, %s AS a, %s AS b, %s AS d FROM commitment c
        WHERE c.reduces_id IS NULL AND (b > a OR d > a OR b < 0 OR a < 0)]]):format(
      net_commitment_sql("c.id"), paid_sql("c.id"), delivered_sql("c.id")),
    "Commitment#%d: %s paid and %s delivered of %s", function(r) return r.id, zl(r.b), zl(r.d), zl(r.a) end },
  { [[SELECT e.id, e.amount_gr + coalesce((SELECT sum(amount_gr) FROM expenditure k WHERE k.corrects_id = e.id), 0) AS a
        FROM expenditure e WHERE e.corrects_id IS NULL AND a < 0]],
    "Expenditure#%d: corrected below zero (%s)", function(r) return r.id, zl(r.a) end },
  { [[SELECT c.id FROM commitment c JOIN budget_line l ON l.id = c.line_id JOIN budget b ON b.id = l.budget_id
        WHERE b.status = 'draft']],
    "Commitment#%d: on a budget that is not approved", function(r) return r.id end },
  { [[SELECT 'budget' AS t, id FROM budget WHERE typeof(total_gr) <> 'integer'
      UNION ALL SELECT 'budget_line', id FROM budget_line WHERE typeof(planned_gr) <> 'integer'
      UNION ALL SELECT 'budget_move', id FROM budget_move WHERE typeof(amount_gr) <> 'integer'
      UNION ALL SELECT 'commitment', id FROM commitment WHERE typeof(amount_gr) <> 'integer'
      UNION ALL SELECT 'expenditure', id FROM expenditure WHERE typeof(amount_gr) <> 'integer'
      UNION ALL SELECT 'service_delivery', id FROM service_delivery WHERE typeof(cost) <> 'integer']],
    "%s %d: an amount that is not whole grosze", function(r) return r.t, r.id end },
}

--- Check the money invariants over the whole database: true, {} or
--- false and the list of what is wrong (rows changed behind koop's back).
function M.verify()
  local c, problems = db(), {}
  for _, check in ipairs(CHECKS) do
    for r in c:rows(check[1]) do problems[#problems + 1] = check[2]:format(check[3](r)) end
  end
  return #problems == 0, problems
end
budgets.verify = M.verify

-- }====================

require("koop.cli").topic {
  name = "budgets", summary = "budgets, lines, commitments, payments, amendments, execution",
  text = [[
b = budgets.add{name=, total=, period_from=, period_to=, source=, gmina=}
    source: POWER/EFS (default), budżet gminy, PFRON, inne; gmina defaults
    to the database's own; low_percent= (default 10) sets budget.line_low
l = b:line{name=, planned=, service_type=, dzial=, rozdzial=, paragraf=}
    dział 3 digits (852), rozdział 5 starting with the dział (85219, 85295),
    § 4 digits (4170, 4210, 4300, 4700; co-financed ones end in 7 or 9)
b:line("terapia") or b:line(3)  finds a line;  b:lines()
b:approve{date=}   only when the lines add up to the total exactly
c = l:commit{contractor=inst | {name=, nip=}, amount=, date=, document=}
    refused above what is uncommitted on the line, outside the period,
    before approval, on a draft or closed budget
c:pay{document=, document_date=, amount=, paid_on=}   never above what
    is left on the commitment, never dated before it
c:correct{of=payment, amount=-x, reason=}   a new, negative entry
c:reduce{amount=, reason=, date=}   the unpaid rest goes back to the line
b:amend{date=, reason=, moves={{from=l1, to=l2, amount=}, ...}}
    przesunięcie: the total stays; never more than is uncommitted
b:execution(on) / b:execution{on=}   per line and in total: planned,
    committed, spent, remaining, % spent, counting what is dated by `on`
    (default today, i.e. --today)
b:close{date=}   budgets.book(service, line)   budgets.verify()
b:lines() b:commitments() b:expenditures() b:amendments() a:moves()
l:commitments() l:state{on=}   c:expenditures() c:services()
l.planned (after amendments), l.committed, l.spent, l.uncommitted,
l.remaining; c.amount, c.net (after reductions), c.paid, c.left
Amounts: koop.money values, "10 800,00 zł", "10800.00" or a number of
złoty; at most two decimals; stored as integer grosze (*_gr columns).
Nothing is edited or deleted once approved: corrections, reductions and
amendments are new entries, and SQL triggers refuse the rest.
A delivered service naming a budget line (or budgets.book) is booked
under the provider's commitment on that line, if one has room (it uses
the commitment up; its invoice is paid with c:pay); without one, a
commitment for its cost is made for it. Either way no overspending.
A line whose uncommitted money falls below low_percent % of its plan
fires "budget.line_low" (event fields: budget, planned, committed,
uncommitted, threshold, percent).]],
}

return M
