return koop.procedure { name = "s", version = "1", stages = { "diagnoza", "nie ma" } }
