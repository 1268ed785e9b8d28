-- examples/procedures/niepelnosprawnosc.lua — support of a person with a
-- disability across the gmina and the powiat: the disability certificate
-- (orzeczenie), occupational therapy (warsztat terapii zajęciowej, WTZ)
-- or a community self-help home (środowiskowy dom samopomocy, ŚDS), and
-- what the PCPR funds (rehabilitation camps, equipment) when there is no
-- place.
--
--   koop procedure install examples/procedures/niepelnosprawnosc.lua
--   koop test examples/procedures/niepelnosprawnosc_test.lua
--
-- The time limits are the gmina's own choices (illustrative), not law.

-- Who does the case's work: its coordinator, else the reporting institution.
local function worker(case)
  return case.coordinator or case.source_institution
end

-- Is institution i a WTZ or an ŚDS?
local function day_centre(i)
  return i ~= nil and (i.kind == "WTZ" or i.kind == "ŚDS")
end

return koop.procedure {
  name = "niepelnosprawnosc", version = "2024-1",
  title = "Osoba z niepełnosprawnością: orzeczenie, WTZ/ŚDS, wsparcie PCPR",

  applies = function(case) return case:has_reason("5") end,

  stages = { "zgłoszona", "diagnoza", "plan", "realizacja", "monitoring", "zakończona" },

  requires = {
    plan = function(case) return case:has_consent() or "zgoda osoby (lub opiekuna prawnego) jest wymagana przed planem" end,
  },

  deadlines = {
    orzeczenie = { from = "case.opened", days = 30, what = "Ustalenie orzeczenia o niepełnosprawności", stage = "plan" },
    -- an answer of the WTZ or ŚDS about a place; any answer meets it
    ["odpowiedź placówki"] = { from = "referral.sent", days = 30, what = "Odpowiedź WTZ/ŚDS w sprawie miejsca",
      when = function(referral) return day_centre(referral.to) end,
      done = { "referral.accepted", "referral.rejected", "referral.redirected", "referral.cancelled" } },
  },

  on = {
    ["case.opened"] = function(case, event)
      case:task{ text = "Ustalić orzeczenie (stopień niepełnosprawności, wskazania do WTZ lub ŚDS)",
        owner = worker(case), due = koop.deadline{ from = event.date, days = 14 } }
    end,

    -- No place in the WTZ or ŚDS: refer to the PCPR for what it funds, and
    -- keep the person on the waiting list.
    ["referral.rejected"] = function(referral, event)
      if not day_centre(referral.to) then return end
      local case = event.case
      local pcpr = institutions.find{ kind = "PCPR", limit = 1 }[1]
      if pcpr and pcpr.id ~= referral.from_institution_id then
        case:refer{ from = referral.from, to = pcpr, service = "rehabilitacja", date = event.date,
          reason = "brak miejsca w " .. referral.to.name .. ": turnus rehabilitacyjny, sprzęt, lista oczekujących" }
      end
      case:task{ text = "Lista oczekujących w " .. referral.to.name .. " i kontakt co miesiąc",
        owner = worker(case), due = koop.deadline{ from = event.date, months = 1 } }
    end,

    ["referral.accepted"] = function(referral, event)
      if day_centre(referral.to) then event:note("przyjęta do " .. referral.to.name .. " od " .. event.date) end
    end,

    -- A plan says by when: every action needs its date, so that `koop due`
    -- can follow it.
    ["plan.agreed"] = function(plan, event)
      for _, a in ipairs(plan:actions()) do
        if a.due == nil then
          event:veto("działanie \"" .. a.text .. "\" nie ma terminu realizacji")
        end
      end
    end,
  },
}
