return koop.procedure {
  name = "p", version = "2024-1",
  on = { ["case.opened"] = function(case) end, ["no.such.event"] = function() end },
}
