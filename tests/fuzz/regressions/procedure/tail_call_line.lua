return koop.procedure { name = "d", version = "1", deadlines = { { from = "case.opened", within = koop.workdays(7) } } }
