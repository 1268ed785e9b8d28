-- examples/procedures/seniorzy.lua — activity and isolation of older
-- people, the main problem the gminas Bogoria and Łoniów named in the
-- pilot of the Model Kooperacji: a home visit soon after the report, then
-- regular visits (at least every two weeks), the seniors' club and a
-- volunteer, and an urgent contact when a visit is missed.
--
--   koop procedure install examples/procedures/seniorzy.lua
--   koop test examples/procedures/seniorzy_test.lua
--
-- The time limits are the gmina's own choices (illustrative), not law.
local AGE = 60

-- Who does the case's work: its coordinator, else the reporting institution.
local function worker(case)
  return case.coordinator or case.source_institution
end

-- The institution offering `service` in the resource map, or nil.
local function offering(service)
  local r = resources.find{ service_type = service, limit = 1 }[1]
  return r and r.institution
end

return koop.procedure {
  name = "seniorzy", version = "2024-1",
  title = "Aktywność i samotność osób starszych: wizyty, klub seniora, wolontariusze",

  -- A household with someone aged 60 or more.
  applies = function(case)
    for _, m in ipairs(case:members()) do
      if m.age >= AGE then return true end
    end
    return false
  end,

  stages = { "zgłoszona", "diagnoza", "plan", "realizacja", "monitoring", "zakończona" },

  requires = {
    plan = function(case) return case:has_consent() or "zgoda seniora jest wymagana przed planem" end,
  },

  settings = { working_days = true },

  deadlines = {
    ["pierwsza wizyta"] = { from = "case.opened", days = 7, what = "Pierwsza wizyta w domu seniora",
      done = "service.delivered" },
    -- every delivered service is a contact: it meets the running deadline
    -- and starts the next one
    ["kolejna wizyta"] = { from = "service.delivered", days = 14, working = false,
      what = "Kolejna wizyta (co najmniej co dwa tygodnie)", done = "service.delivered" },
    diagnoza = { from = "case.opened", days = 20, what = "Ocena potrzeb seniora", stage = "plan" },
  },

  on = {
    ["case.opened"] = function(case, event)
      case:task{ text = "Wizyta w domu seniora: potrzeby, samotność, zdrowie, kontakt z rodziną",
        owner = worker(case), due = koop.workdays(7, event.date) }
    end,

    -- The plan brings the senior to the club and finds a volunteer, from
    -- whoever offers them in the resource map.
    ["plan.agreed"] = function(plan, event)
      local case = event.case
      case:task{ text = "Zaproszenie do klubu seniora i pomoc w dotarciu", owner = offering("klub") or worker(case),
        due = koop.workdays(10, event.date) }
      case:task{ text = "Dobór wolontariusza do regularnych odwiedzin", owner = offering("wolontariat") or worker(case),
        due = koop.workdays(10, event.date) }
    end,

    ["deadline.missed"] = function(deadline, event)
      if deadline.key == "pierwsza wizyta" or deadline.key == "kolejna wizyta" then
        event.case:task{ text = "Brak kontaktu z seniorem od terminu " .. deadline.due .. ": pilna wizyta albo telefon",
          owner = worker(event.case), due = koop.workdays(1, event.date) }
      end
    end,

    ["referral.rejected"] = function(referral, event)
      if referral.service_type == "klub" then
        event:note("klub odmówił (" .. (referral.response_note or "") .. "): częstsze wizyty wolontariusza")
      end
    end,

    ["case.stage_changed"] = function(case, event)
      if event.to == "monitoring" then
        event:deadline{ key = "ocena", what = "Ocena po trzech miesiącach: czy senior wychodzi z domu", months = 3 }
      end
    end,
  },
}
