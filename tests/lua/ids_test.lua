-- ids_test.lua — koop.ids (API.md §4 helpers, domain reference §3): each
-- function returns an info table for a valid identifier (normalised value,
-- PESEL birth date and sex, REGON kind and parent, TERC level and parts)
-- or nil and a message saying exactly what is wrong; separators in NIP and
-- REGON; all-zero values; non-string arguments.
-- Run with: koop test tests/lua/ids_test.lua

test("PESEL: birth date and sex of the scenario's synthetic family", function()
  eq(koop.ids.pesel("84031201236"), { value = "84031201236", birth_date = "1984-03-12", sex = "M" })
  eq(koop.ids.pesel("87093004582"), { value = "87093004582", birth_date = "1987-09-30", sex = "K" })
  eq(koop.ids.pesel("11250707812"), { value = "11250707812", birth_date = "2011-05-07", sex = "M" })
  eq(koop.ids.pesel("14211909029"), { value = "14211909029", birth_date = "2014-01-19", sex = "K" })
end)

test("PESEL: the century encodings", function()
  eq(koop.ids.pesel("90830512343").birth_date, "1890-03-05")
  eq(koop.ids.pesel("02070803628").birth_date, "1902-07-08")
  eq(koop.ids.pesel("02270803624").birth_date, "2002-07-08")
  eq(koop.ids.pesel("01410100113").birth_date, "2101-01-01")
  eq(koop.ids.pesel("05611512348").birth_date, "2205-01-15")
  eq(koop.ids.pesel("00222900009").birth_date, "2000-02-29")
  eq(koop.ids.pesel(" 44051401359 ").value, "44051401359")
end)

test("PESEL: what is wrong", function()
  local function why(s) local info, msg = koop.ids.pesel(s); eq(info, nil); return msg end
  eq(why("00022900003"), "PESEL encodes an impossible date 1900-02-29")
  eq(why("44023001356"), "PESEL encodes an impossible date 1944-02-30")
  eq(why("44051401358"), "PESEL checksum digit is 8, expected 9")
  eq(why("00000000000"), "all-zero PESEL is not valid")
  eq(why("4405140135"), "PESEL must have 11 digits, found 10")
  eq(why("4405140135O"), "PESEL may contain only digits")
  eq(why(44051401359), "PESEL must be given as a string, got number")
  eq(why(nil), "PESEL must be given as a string, got nil")
end)

test("NIP: separators and the PL prefix are accepted and dropped", function()
  eq(koop.ids.nip("8660000016"), { value = "8660000016" })
  eq(koop.ids.nip("866-000-00-16"), { value = "8660000016" })
  eq(koop.ids.nip("PL 123-456-32-18"), { value = "1234563218" })
  eq(koop.ids.nip("123 45 63 218").value, "1234563218")
end)

test("NIP: what is wrong", function()
  local function why(s) local info, msg = koop.ids.nip(s); eq(info, nil); return msg end
  eq(why("1234563217"), "NIP checksum digit is 7, expected 8")
  eq(why("1234567890"), "NIP is not valid: its first 9 digits give check value 10, which is never issued")
  eq(why("000-000-00-00"), "all-zero NIP is not valid")
  eq(why("866000001"), "NIP must have 10 digits, found 9")
  eq(why("DE8660000016"), "NIP may contain only digits, spaces and '-' (and the prefix PL)")
  eq(why({}), "NIP must be given as a string, got table")
end)

test("REGON: 9 and 14 digits", function()
  eq(koop.ids.regon("990000016"), { value = "990000016", kind = 9 })
  eq(koop.ids.regon("99000001600012"), { value = "99000001600012", kind = 14, parent = "990000016" })
  eq(koop.ids.regon("100000050").kind, 9)
  local function why(s) local info, msg = koop.ids.regon(s); eq(info, nil); return msg end
  eq(why("123456786"), "REGON checksum digit is 6, expected 5")
  eq(why("12345678512348"), "REGON checksum digit is 8, expected 7")
  eq(why("12345678612342"), "REGON-14 starts with an invalid REGON-9 (checksum digit is 6, expected 5)")
  eq(why("000000000"), "all-zero REGON is not valid")
  eq(why("1234567851"), "REGON must have 9 or 14 digits, found 10")
end)

test("TERC: voivodeship, powiat and gmina codes with their parts", function()
  eq(koop.ids.terc("26"), { value = "26", level = "wojewodztwo", woj = "26", woj_name = "świętokrzyskie" })
  eq(koop.ids.terc("2612"), { value = "2612", level = "powiat", woj = "26", woj_name = "świętokrzyskie",
                              pow = "12" })
  eq(koop.ids.terc("2612012"), { value = "2612012", level = "gmina", woj = "26", woj_name = "świętokrzyskie",
                                 pow = "12", gmi = "01", rodzaj = 2, rodzaj_name = "gmina wiejska" })
  eq(koop.ids.terc("2612013").rodzaj_name, "gmina miejsko-wiejska")
  eq(koop.ids.terc("2612014").rodzaj_name, "miasto")
  eq(koop.ids.terc("2612015").rodzaj_name, "obszar wiejski")
  eq(koop.ids.terc("1465011").rodzaj_name, "gmina miejska")
  eq(koop.ids.terc("2011032").woj_name, "podlaskie")
end)

test("TERC: what is wrong", function()
  local function why(s) local info, msg = koop.ids.terc(s); eq(info, nil); return msg end
  eq(why("33"), "TERC voivodeship code 33 does not exist (even numbers 02-32)")
  eq(why("2612016"), "TERC kind digit (rodzaj) 6 is not valid (1-5, 8 or 9)")
  eq(why("2600"), "TERC powiat code 00 is not valid")
  eq(why("2612002"), "TERC gmina code 00 is not valid")
  eq(why("0000000"), "all-zero TERC code is not valid")
  eq(why("261201"), "TERC code must have 2 (voivodeship), 4 (powiat) or 7 (gmina) digits, found 6")
end)
