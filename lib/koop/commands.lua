-- koop.commands — the host's own commands (help, init, test) and the help
-- topics about the host (repl, db, errors).  Loaded only when one of them
-- runs or help is shown.
local koop = require "koop"
local cli = require "koop.cli"

cli.command {
  name = "help", summary = "explain koop, a command or a topic",
  usage = "koop help [COMMAND | TOPIC]\nkoop help --man",
  options = { ["--man"] = "flag" },
  text = [[
Without an argument, prints the same text as `koop --help`. With a command
or topic name, prints its help. `koop help --man` prints the man page (roff),
which `make install` installs as koop.1.]],
  run = function(opts, pos)
    local help = require "koop.help"
    if opts.man then io.write(help.man(koop.version)) return 0 end
    if #pos == 0 then io.write(help.usage()) return 0 end
    local text = help.text(pos[1])
    if not text then
      cli.usage_error("help: no command or topic '%s'; there are: %s", pos[1], table.concat(help.names(), ", "))
    end
    io.write(text)
    return 0
  end,
}

cli.command {
  name = "init", summary = "create a database, or bring it to the current schema",
  usage = "koop [-d FILE] init [--gmina TERC] [--terc FILE]",
  options = { ["--gmina"] = "string", ["--terc"] = "string" },
  text = [[
Creates the database named by -d/--db ($KOOP_DB, else ./koop.db) if it does
not exist and applies every schema migration it lacks, in one transaction.
Prints the schema version. A database written by a newer koop is refused and
left as it was.
  --terc FILE   load the GUS TERC register (the CSV WOJ;POW;GMI;RODZ;NAZWA;
                NAZWA_DOD;STAN_NA from eteryt.stat.gov.pl) into gminas; run
                again with a newer file, it records new codes and changes of
                kind (a gmina that became miejsko-wiejska)
  --gmina TERC  the gmina the database belongs to (7 digits, e.g. 2612013);
                set once, it cannot change. A gmina missing from the register
                is taken from koop's small built-in list: Bogoria (2612012
                until 2023-12-31, 2612013 from 2024-01-01), Łoniów (2609052)
                and Korycin (2011032), with their powiats and voivodeships;
                any other gmina needs --terc FILE.
Example: koop -d bogoria.db init --gmina 2612013]],
  run = function(opts)
    local db = cli.open()
    local schema = require "koop.schema"
    schema.ensure(db)
    if opts.terc or opts.gmina then
      local gminas = require("koop.territory").gminas
      if opts.terc then
        local c = gminas.import_terc(opts.terc)
        print(("%s: TERC register of %s: %d added, %d changed, %d closed, %d unchanged")
          :format(opts.terc, c.date, c.added, c.changed, c.closed, c.unchanged))
      end
      if opts.gmina then
        print(("%s: belongs to %s"):format(db:path(), tostring(gminas.set_home(opts.gmina))))
      end
    end
    print(("%s: schema version %d"):format(db:path(), schema.version(db)))
    return 0
  end,
}

cli.command {
  name = "test", summary = "run *_test.lua files, each test on a fresh in-memory database",
  usage = "koop test [--match PATTERN] [FILE | DIR]...",
  options = { ["--match"] = "string" },
  text = [[
Runs test files (a directory means its *_test.lua files). In a test file:
  test(name, function() ... end)   a test; each runs on a fresh ':memory:' db
  eq(actual, expected [, msg])     deep equality; a failure shows both
  ok(value [, msg])                value is truthy
  raises(fn, code_or_pattern)      fn raises an error object with that code, or
                                   an error whose text matches the Lua pattern;
                                   returns the error
  koop.today(date)                 pin today's date for this test
  travel(days)                     move the pinned date forward
Prints `ok - ...` or `not ok - ...` per test and ends with `N passed, N failed`;
the exit status is 1 when a test failed. --match runs only tests whose
"file: name" matches PATTERN.]],
  run = function(opts, pos)
    return require("koop.test").run(pos, opts.match)
  end,
}

cli.topic {
  name = "repl", summary = "the interactive prompt",
  text = [[
koop> 1+1                  an expression prints its value; a trailing ; hides it
koop> for i=1,3 do         incomplete input continues on a >> prompt
>>   print(i) end
koop> db:query("SELECT 1 AS x")   result sets print as tables (see .mode)
TAB completes globals, fields and methods (inst<TAB>, cases.f<TAB>, c:re<TAB>).
Ctrl-C clears the line, or stops running code or SQL; Ctrl-D exits.
koop*> means a transaction is open; an entry that fails after opening one
rolls it back. History: $KOOP_HISTORY, else $XDG_STATE_HOME/koop/history,
else ~/.local/state/koop/history, saved after every entry.
Dot commands: .help  .tables  .schema [TABLE]  .mode [MODE]  .quit]],
}

cli.topic {
  name = "db", summary = "the database object `db` (also koop.db)",
  text = [[
db:exec(sql, ...)          run one or more statements; number of changed rows
db:query(sql, ...)         result set: rows with named fields; prints as a table
db:rows(sql, ...)          iterator of named rows (break finalises at once)
db:urows(sql, ...)         iterator of column values: for a, b in db:urows(...)
db:first(sql, ...)         first row or nil
db:value(sql, ...)         first column of the first row, or nil
db:tx(function() ... end)  transaction; nested calls are savepoints; an error
                           rolls back and is raised again
db:prepare(sql)            statement: :bind(...) :step() :rows() :reset() :close()
koop.open(path [, opts])   another connection (opts.readonly)
koop.null                  NULL where nil cannot stand
Parameters: ? from extra arguments; :name, @name, $name from one table.
Integers stay 64-bit, booleans become 0/1. Errors are error objects with
code ("constraint", "busy", "interrupted", "sql", ...), message and sql.
SQL functions: pl_lower(x), pl_upper(x); collation PL (Polish order):
  SELECT name FROM institutions ORDER BY name COLLATE PL]],
}

cli.topic {
  name = "errors", summary = "how koop reports errors",
  text = [[
Every error koop raises is an error object: a table with code (e.g.
"invalid", "constraint", "busy", "interrupted", "usage"), message, field
(the argument or field that was wrong, for domain errors), sql (for SQL
errors) and a readable tostring. Catch them with pcall and test err.code;
koop.is_error(e [, code]) tells an error object. koop.raise{code=,
message=, field=} raises your own. Scripts that fail print
  koop: script.lua:12: <message>
with a short traceback and exit with status 1.]],
}

cli.topic {
  name = "ids", summary = "validating PESEL, NIP, REGON and TERC",
  text = [[
koop.ids.pesel(s)  koop.ids.nip(s)  koop.ids.regon(s)  koop.ids.terc(s)
Each returns an info table, or nil and a message saying exactly what is wrong
("PESEL checksum digit is 8, expected 9", "PESEL encodes an impossible date
1900-02-29", "all-zero NIP is not valid").
  pesel  value, birth_date (YYYY-MM-DD, centuries 1800-2299), sex ("K"/"M")
  nip    value; spaces or '-' between digits and a leading PL are accepted
  regon  value, kind (9 or 14), parent (the 9-digit REGON of a 14-digit one)
  terc   value, level (wojewodztwo/powiat/gmina), woj, pow, gmi, rodzaj,
         rodzaj_name, woj_name
Blanks around a value are ignored; `value` is always the plain digits.
All-zero identifiers are invalid.]],
}

cli.topic {
  name = "csv", summary = "reading CSV files (koop.csv)",
  text = [[
for row in koop.csv.rows(file [, opts]) do ... end      rows as tables by header
for a, b in koop.csv.rows(file, {unpack = true}) do ... end   the fast path
local r = koop.csv.open(file [, opts])   r:header() r:read() r:line() r:close()
koop.csv.detect_encoding(file)  -> "utf-8" | "cp1250" | "utf-16le" | "utf-16be"
opts: sep (default: the most frequent of ; , TAB on the header line),
header (true, false, or a list of names), unpack, skip (lines), encoding
("cp1250" converts Polish Excel's files), ragged (allow short rows).
RFC 4180 quoting, CRLF or LF, a UTF-8 BOM is skipped, blank lines are
skipped. Errors are objects with code ("csv", "io", "encoding"), file and
line: "a.csv: line 7: expected 5 fields, found 4". Under --safe no file
can be read.]],
}

cli.topic {
  name = "text", summary = "Polish alphabetical order and case (koop.text, COLLATE PL)",
  text = [[
SQL:  ORDER BY name COLLATE PL     pl_lower(x)  pl_upper(x)
Lua:  koop.text.sort(list [, key])  koop.text.compare(a, b)
      koop.text.lower(s)  koop.text.upper(s)  koop.text.width(s)
Order (as glibc's pl_PL on letters, digits and spaces):
 1. letters by the Polish alphabet a ą b c ć d e ę f g h i j k l ł m n ń o ó
    p q r s ś t u v w x y z ź ż, ignoring case; other Latin letters count as
    their base letter (é = e); spaces, then digits, then letters;
    punctuation is ignored at this level ("Nowy Sącz" < "Nowy Targ");
 2. then accents of non-Polish letters; 3. then case, lowercase first
    ("bogoria" < "Bogoria"); 4. then punctuation; 5. then bytes, so only
    identical strings are equal.
Digits compare one by one ("10" < "9"), as glibc does. pl_lower/pl_upper
fold Polish, Latin-1, Latin Extended-A, Greek and Cyrillic letters.]],
}

return cli
