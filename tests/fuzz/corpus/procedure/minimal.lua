return koop.procedure { name = "x", version = "1" }
