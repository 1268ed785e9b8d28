-- The procedure of the W5 procedures variant (scripts/bench/w5_procedures.sh):
-- ten rules, a stage requirement and a deadline, the shape of a real
-- gmina's procedure.  Every case is taken on; service.delivered is the
-- rule each delivery runs: it reads the delivery and the event and writes
-- only for the rare delivery that needs it (none in the W1 data).
return koop.procedure {
  name = "bench", version = "1",
  stages = { "zgłoszona", "diagnoza", "plan", "realizacja", "monitoring", "zakończona" },
  requires = {
    plan = function(case) return case:has_consent() or "zgoda wymagana" end,
  },
  deadlines = {
    diagnoza = { from = "case.opened", days = 30, what = "Diagnoza", stage = "plan" },
  },
  on = {
    ["case.opened"] = function(case, event)
      if case.opened_on > koop.today() then koop.veto("a case opens when it is reported") end
    end,
    ["case.reason_added"] = function(case, event)
      if event.code == "7" then case:task{ text = "Procedura Niebieskiej Karty", due = koop.workdays(1, event.date) } end
    end,
    ["case.stage_changed"] = function(case, event)
      if event.to == "realizacja" then event:note("realizacja od " .. event.date) end
    end,
    ["consent.given"] = function(consent, event) event:note("zgoda " .. consent.given_on) end,
    ["consent.withdrawn"] = function(consent, event) event:note("zgoda wycofana " .. event.date) end,
    ["plan.agreed"] = function(plan, event)
      event.case:task{ text = "Przegląd planu", due = koop.deadline{ from = event.date, months = 3 } }
    end,
    ["referral.sent"] = function(referral, event) event:deadline{ what = "Odpowiedź na skierowanie", days = 14 } end,
    ["referral.rejected"] = function(referral, event) event:note("odmowa: " .. (referral.response_note or "")) end,
    ["service.delivered"] = function(service, event)
      if event.cost > 1000000 then event:note("usługa powyżej 10 000 zł") end
      if service.units > 24 then koop.veto("more than 24 hours in one delivery") end
    end,
    ["task.overdue"] = function(task, event)
      if event.days > 30 then event:note("zadanie zaległe ponad 30 dni: " .. task.text) end
    end,
  },
}
