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
  usage = "koop [-d FILE] init",
  text = [[
Creates the database named by -d/--db ($KOOP_DB, else ./koop.db) if it does
not exist and applies every schema migration it lacks, in one transaction.
Prints the schema version. A database written by a newer koop is refused and
left as it was.]],
  run = function()
    local db = cli.open()
    require("koop.schema").migrate(db)
    print(("%s: schema version %d"):format(db:path(), require("koop.schema").version(db)))
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

return cli
