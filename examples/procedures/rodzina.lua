-- examples/procedures/rodzina.lua — the cooperation procedure for a
-- multi-problem family (rodzina wieloproblemowa), after the individual
-- level of the Model Kooperacji: report → diagnosis → consent → IPW →
-- referrals → monitoring at team meetings → closure with an outcome.
--
--   koop procedure install examples/procedures/rodzina.lua
--   koop test examples/procedures/rodzina_test.lua
--
-- The time limits are the gmina's own choices (illustrative), not law;
-- only the counting of days follows KPA art. 57.
local FAMILY_REASONS = { "1", "4", "7", "8", "9", "12", "13" }

-- Who does the case's work: its coordinator, else the reporting institution.
local function worker(case)
  return case.coordinator or case.source_institution
end

-- How many of the family reasons the case has.
local function family_reasons(case)
  local n = 0
  for _, code in ipairs(FAMILY_REASONS) do
    if case:has_reason(code) then n = n + 1 end
  end
  return n
end

return koop.procedure {
  name = "rodzina", version = "2024-1",
  title = "Rodzina wieloproblemowa: diagnoza, IPW, skierowania, monitoring",

  -- A family with at least two of the reasons above, or with reason 9
  -- (bezradność w sprawach opiekuńczo-wychowawczych) alone.
  applies = function(case)
    return case:has_reason("9") or family_reasons(case) >= 2
  end,

  stages = { "zgłoszona", "diagnoza", "plan", "realizacja", "monitoring", "zakończona" },

  requires = {
    plan = function(case)
      return case:has_consent() or "rodzina nie wyraziła zgody na współpracę instytucji (ani nie ma podstawy ustawowej)"
    end,
    realizacja = function(case)
      local p = case:current_plan("IPW")
      return (p ~= nil and p.status == "agreed") or "IPW nie jest uzgodniony z rodziną"
    end,
    ["zakończona"] = function(case)
      for _, t in ipairs(case:tasks()) do
        if t.status == "open" or t.status == "in_progress" then
          return "zadanie \"" .. t.text .. "\" jest otwarte: zakończ je albo anuluj"
        end
      end
      return true
    end,
  },

  deadlines = {
    diagnoza = { from = "case.opened", days = 30, what = "Diagnoza sytuacji rodziny", stage = "plan" },
    ipw = { from = "consent.given", days = 21, what = "Uzgodnienie IPW z rodziną", done = "plan.agreed" },
  },

  on = {
    ["case.opened"] = function(case, event)
      case:task{ text = "Wywiad środowiskowy i diagnoza rodziny", owner = worker(case),
        due = koop.deadline{ from = event.date, days = 14 } }
    end,

    ["case.reason_added"] = function(case, event)
      if event.code == "7" then
        case:task{ text = "Przemoc domowa: procedura Niebieskiej Karty, zgłoszenie do zespołu interdyscyplinarnego",
          owner = worker(case), due = koop.workdays(1, event.date) }
        event:note("przemoc domowa: sprawa zgłoszona do procedury Niebieskiej Karty")
      end
    end,

    ["consent.withdrawn"] = function(consent, event)
      event:note("zgoda wycofana " .. event.date .. ": nie przekazywać dalej danych rodziny")
      event.case:task{ text = "Rozmowa z rodziną po wycofaniu zgody", owner = worker(event.case),
        due = koop.workdays(5, event.date) }
    end,

    -- An agreed IPW starts the work: the case moves on to realizacja and
    -- gets its review at a team meeting.
    ["plan.agreed"] = function(plan, event)
      if plan.type ~= "IPW" then return end
      local case = event.case
      if case.status == "diagnoza" then case:set_stage("plan", { date = event.date }) end
      if case.status == "plan" then case:set_stage("realizacja", { date = event.date }) end
      case:task{ text = "Przegląd realizacji IPW na posiedzeniu zespołu", owner = worker(case),
        due = plan.review_on or koop.deadline{ from = event.date, months = 3 } }
    end,

    ["referral.rejected"] = function(referral, event)
      event.case:task{ text = "Odmowa skierowania (" .. (referral.response_note or "bez uzasadnienia")
          .. "): znaleźć inną instytucję", owner = worker(event.case), due = koop.workdays(5, event.date) }
    end,

    ["referral.overdue"] = function(referral, event)
      event.case:task{ text = "Brak odpowiedzi na skierowanie #" .. referral.id .. ": przypomnieć instytucji",
        owner = worker(event.case), due = koop.workdays(2, event.date) }
    end,

    ["task.overdue"] = function(task, event)
      event:note("zadanie \"" .. task.text .. "\" po terminie (" .. event.due .. "): omówić na posiedzeniu G-PZK")
    end,

    ["plan.review_due"] = function(plan, event)
      local case = event.case
      if case.status == "realizacja" then case:set_stage("monitoring", { date = event.date }) end
    end,
  },
}
