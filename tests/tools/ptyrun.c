/*
** ptyrun.c — test tool: run a command on a pseudo-terminal and drive it
** with a script, the way a person at a keyboard would.
**
** Usage: ptyrun [-t SECONDS] [-T TERM] [-v] [-r] SCRIPT [-e STEP]... -- CMD [ARG...]
**   SCRIPT  file of steps, one per line ('-' = standard input, '' = none);
**   -e STEP one more step (after the file's), may be repeated;
**   -t      default expect timeout in seconds (10);
**   -T      TERM for the child (xterm);
**   -v      print the transcript to stderr even when every step passes;
**   -r      show transcripts raw (escapes and \r visible), for debugging.
**
** Steps ('#' lines and blank lines are ignored):
**   send TEXT      write TEXT to the terminal; escapes \r \n \t \e \\ \xHH
**                  (\x03 is Ctrl-C, \x04 Ctrl-D, like a keyboard sends them)
**   expect REGEX   wait until the output not yet matched contains REGEX
**                  (POSIX extended; '.' does not cross lines; the output is
**                  matched without '\r', escape sequences and bells)
**   prompt REGEX   expect REGEX, then wait until the terminal is in raw mode
**                  (a line editor is reading): libedit prints its prompt
**                  before it switches the terminal, and text that arrives in
**                  between is echoed twice and a Ctrl-D in it is lost
**   busy           wait until the terminal is back in canonical mode: the
**                  line editor has returned and the program runs the entry
**   reject REGEX   let the output settle for 300 ms, then fail if the output
**                  not yet matched contains REGEX
**   sleep MS       pause
**   signal NAME    send signal NAME (INT, TERM, QUIT, HUP, KILL) to the
**                  child's process group
**   timeout SECS   change the expect timeout
**   wait [STATUS]  wait for the child to exit (within the timeout); check its
**                  exit status when STATUS is given ("signal NAME" also works)
**
** Exit status: 0 when every step passed, 1 when one failed (the failing step
** and the transcript so far go to stderr), 2 on bad usage.  The terminal is
** 80x24.  When the script ends without `wait`, the child gets SIGHUP.
*/
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* A growable byte buffer. */
struct buf { char *p; size_t n, cap; };

/* The session: the child, its output, and where matching has got to. */
struct session {
  pid_t pid;
  int master;          /* pty master; -1 once the child closed its side */
  int exited, status;  /* set once the child has been reaped */
  double timeout;      /* seconds an expect or wait may take */
  struct buf raw;      /* everything the child wrote */
  struct buf text;     /* the same without \r, escapes and bells */
  size_t mark;         /* text before this offset has been matched */
  int esc;             /* state of the escape-sequence filter */
};

/* Append n bytes to b; exits on out of memory (a test tool may). */
static void buf_add (struct buf *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (p == NULL) { perror("ptyrun"); exit(2); }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
}

static double now (void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Feed output bytes to the text filter: drop \r, bells, NULs and terminal
** escape sequences (CSI, OSC and two-byte ones), keep everything else. */
static void filter (struct session *s, const char *p, size_t n) {
  enum { PLAIN, ESC, CSI, OSC, OSC_ESC };
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    switch (s->esc) {
      case PLAIN:
        if (c == 0x1b) s->esc = ESC;
        else if (c != '\r' && c != '\a' && c != '\0') buf_add(&s->text, (char *)&c, 1);
        break;
      case ESC:
        s->esc = c == '[' ? CSI : c == ']' ? OSC : PLAIN;
        break;
      case CSI:
        if (c >= 0x40 && c <= 0x7e) s->esc = PLAIN;
        break;
      case OSC:
        if (c == '\a') s->esc = PLAIN;
        else if (c == 0x1b) s->esc = OSC_ESC;
        break;
      case OSC_ESC:
        s->esc = PLAIN;
        break;
    }
  }
}

/* Reap the child if it has exited; returns whether it has. */
static int reap (struct session *s, int block) {
  if (!s->exited && waitpid(s->pid, &s->status, block ? 0 : WNOHANG) == s->pid)
    s->exited = 1;
  return s->exited;
}

/* Read one chunk of what the child writes, waiting until `deadline` at most;
** with a deadline already past, read everything that is ready.  Returns 0,
** or -1 once the pty is closed (the child and its children are gone). */
static int pump (struct session *s, double deadline) {
  char chunk[4096];
  while (s->master >= 0) {
    double left = deadline - now();
    struct pollfd pfd = { s->master, POLLIN, 0 };
    int r = poll(&pfd, 1, left > 0 ? (int)(left * 1000) + 1 : 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return 0;
    ssize_t n = read(s->master, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {  /* EIO: every slave descriptor is closed */
      close(s->master);
      s->master = -1;
      return -1;
    }
    buf_add(&s->raw, chunk, (size_t)n);
    filter(s, chunk, (size_t)n);
    if (left <= 0) continue;  /* drain what is ready, then return */
    return 0;
  }
  return -1;
}

/* Print the transcript to stderr with control bytes made visible; the
** point up to which expects matched is shown as «MATCHED». */
static int show_raw;

static void show_transcript (const struct session *s) {
  if (show_raw) {
    fputs("---- raw transcript ----\n", stderr);
    for (size_t i = 0; i < s->raw.n; i++) {
      unsigned char c = (unsigned char)s->raw.p[i];
      if (c == '\n' || (c >= 0x20 && c != 0x7f)) fputc(c, stderr);
      else fprintf(stderr, "\\x%02x", c);
    }
    fputs("\n---- end of raw transcript ----\n", stderr);
    return;
  }
  fputs("---- transcript (output after the last match follows «MATCHED») ----\n", stderr);
  for (size_t i = 0; i < s->text.n; i++) {
    unsigned char c = (unsigned char)s->text.p[i];
    if (i == s->mark) fputs("«MATCHED»", stderr);
    if (c == '\n' || c == '\t' || c >= 0x20) fputc(c, stderr);
    else fprintf(stderr, "\\x%02x", c);
  }
  if (s->mark == s->text.n) fputs("«MATCHED»", stderr);
  fputs("\n---- end of transcript ----\n", stderr);
}

/* Decode the escapes of a `send` argument into out; returns its length or
** -1 on a malformed escape. */
static long unescape (const char *in, char *out) {
  long n = 0;
  while (*in) {
    if (*in != '\\') { out[n++] = *in++; continue; }
    in++;
    switch (*in) {
      case 'r': out[n++] = '\r'; in++; break;
      case 'n': out[n++] = '\n'; in++; break;
      case 't': out[n++] = '\t'; in++; break;
      case 'e': out[n++] = 0x1b; in++; break;
      case '\\': out[n++] = '\\'; in++; break;
      case 'x':
        if (!isxdigit((unsigned char)in[1]) || !isxdigit((unsigned char)in[2])) return -1;
        { char hex[3] = { in[1], in[2], 0 }; out[n++] = (char)strtol(hex, NULL, 16); }
        in += 3;
        break;
      default: return -1;
    }
  }
  return n;
}

static const struct { const char *name; int sig; } signals[] = {
  { "INT", SIGINT }, { "TERM", SIGTERM }, { "QUIT", SIGQUIT },
  { "HUP", SIGHUP }, { "KILL", SIGKILL }, { NULL, 0 }
};

static int signal_number (const char *name) {
  if (strncmp(name, "SIG", 3) == 0) name += 3;
  for (int i = 0; signals[i].name; i++)
    if (strcmp(signals[i].name, name) == 0) return signals[i].sig;
  return 0;
}

static const char *signal_name (int sig) {
  for (int i = 0; signals[i].name; i++)
    if (signals[i].sig == sig) return signals[i].name;
  return "?";
}

/* Report a failing step. */
static int fail (const struct session *s, int line, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "ptyrun: script line %d: ", line);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  show_transcript(s);
  return 1;
}

/* Compile a step's regex; reports and returns non-zero on error. */
static int compile (regex_t *re, const char *pattern, int line) {
  int rc = regcomp(re, pattern, REG_EXTENDED | REG_NEWLINE);
  if (rc != 0) {
    char msg[256];
    regerror(rc, re, msg, sizeof msg);
    fprintf(stderr, "ptyrun: script line %d: bad regex /%s/: %s\n", line, pattern, msg);
  }
  return rc;
}

/* Search the unmatched output for re; on a match move the mark past it. */
static int search (struct session *s, regex_t *re) {
  regmatch_t m;
  if (regexec(re, s->text.p ? s->text.p + s->mark : "", 1, &m, 0) != 0) return 0;
  s->mark += (size_t)m.rm_eo;
  return 1;
}

static int step_expect (struct session *s, const char *arg, int line) {
  regex_t re;
  int rc;
  double deadline = now() + s->timeout;
  if (compile(&re, arg, line) != 0) return 2;
  for (;;) {
    if (search(s, &re)) { rc = 0; break; }
    if (s->master < 0) {
      rc = fail(s, line, "expect /%s/: the program ended first", arg);
      break;
    }
    if (now() >= deadline) {
      rc = fail(s, line, "expect /%s/: not seen within %g s", arg, s->timeout);
      break;
    }
    pump(s, deadline);
  }
  regfree(&re);
  return rc;
}

/* Wait until the line discipline is out of canonical mode (`raw`: a line
** editor reads) or back in it (a program runs).  On Linux the master
** reports the slave's settings. */
static int step_mode (struct session *s, const char *what, int line, int raw) {
  double deadline = now() + s->timeout;
  struct termios t;
  while (s->master >= 0 && tcgetattr(s->master, &t) == 0
         && ((t.c_lflag & ICANON) == 0) != raw) {
    if (now() >= deadline)
      return fail(s, line, "%s: the terminal did not %s within %g s", what,
                  raw ? "enter raw mode" : "return to canonical mode", s->timeout);
    pump(s, now() + 0.005);
  }
  return 0;
}

static int step_reject (struct session *s, const char *arg, int line) {
  regex_t re;
  regmatch_t m;
  int rc = 0;
  double settle = now() + 0.3;
  if (compile(&re, arg, line) != 0) return 2;
  while (now() < settle && pump(s, settle) == 0) {}
  if (regexec(&re, s->text.p ? s->text.p + s->mark : "", 1, &m, 0) == 0)
    rc = fail(s, line, "reject /%s/: it was printed", arg);
  regfree(&re);
  return rc;
}

static int step_wait (struct session *s, const char *arg, int line) {
  double deadline = now() + s->timeout;
  while (!reap(s, 0)) {
    if (now() >= deadline)
      return fail(s, line, "wait: the program did not exit within %g s", s->timeout);
    if (pump(s, now() + 0.05) < 0) usleep(10000);
  }
  pump(s, now());  /* collect the rest */
  if (*arg == '\0') return 0;
  if (strncmp(arg, "signal ", 7) == 0) {
    int sig = signal_number(arg + 7);
    if (!WIFSIGNALED(s->status) || WTERMSIG(s->status) != sig)
      return fail(s, line, "wait: expected death by signal %s, got %s %d", arg + 7,
                  WIFSIGNALED(s->status) ? "signal" : "exit status",
                  WIFSIGNALED(s->status) ? WTERMSIG(s->status) : WEXITSTATUS(s->status));
    return 0;
  }
  if (WIFSIGNALED(s->status))
    return fail(s, line, "wait: expected exit status %s, got signal %s", arg,
                signal_name(WTERMSIG(s->status)));
  if (WEXITSTATUS(s->status) != atoi(arg))
    return fail(s, line, "wait: expected exit status %s, got %d", arg, WEXITSTATUS(s->status));
  return 0;
}

/* Run one step; returns 0 when it passed. */
static int step (struct session *s, char *cmd, int line) {
  char *arg = cmd + strcspn(cmd, " ");
  if (*arg) *arg++ = '\0';
  if (strcmp(cmd, "send") == 0) {
    char *bytes = malloc(strlen(arg) + 1);
    long n = bytes ? unescape(arg, bytes) : -1;
    int rc = 0;
    if (n < 0) rc = fail(s, line, "send: bad escape in '%s'", arg);
    else if (s->master < 0) rc = fail(s, line, "send: the program has ended");
    else {
      for (long off = 0; off < n; ) {
        ssize_t w = write(s->master, bytes + off, (size_t)(n - off));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) { rc = fail(s, line, "send: %s", strerror(errno)); break; }
        off += w;
      }
    }
    free(bytes);
    return rc;
  }
  if (strcmp(cmd, "expect") == 0) return step_expect(s, arg, line);
  if (strcmp(cmd, "prompt") == 0) {
    int rc = step_expect(s, arg, line);
    return rc ? rc : step_mode(s, "prompt", line, 1);
  }
  if (strcmp(cmd, "busy") == 0) return step_mode(s, "busy", line, 0);
  if (strcmp(cmd, "reject") == 0) return step_reject(s, arg, line);
  if (strcmp(cmd, "wait") == 0) return step_wait(s, arg, line);
  if (strcmp(cmd, "sleep") == 0) {
    double until = now() + atoi(arg) / 1000.0;
    while (now() < until) pump(s, until);
    return 0;
  }
  if (strcmp(cmd, "timeout") == 0) {
    s->timeout = atof(arg);
    return s->timeout > 0 ? 0 : fail(s, line, "timeout: bad value '%s'", arg);
  }
  if (strcmp(cmd, "signal") == 0) {
    int sig = signal_number(arg);
    if (sig == 0) return fail(s, line, "signal: unknown signal '%s'", arg);
    if (!s->exited) kill(-s->pid, sig);
    return 0;
  }
  return fail(s, line, "unknown step '%s'", cmd);
}

/* Read the whole script into a buffer (NUL-terminated lines follow). */
static int load_script (const char *path, struct buf *script) {
  FILE *f;
  char chunk[4096];
  size_t n;
  if (*path == '\0') return 0;
  f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
  if (f == NULL) { perror(path); return -1; }
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) buf_add(script, chunk, n);
  if (f != stdin) fclose(f);
  if (script->n && script->p[script->n - 1] != '\n') buf_add(script, "\n", 1);
  return 0;
}

static void usage (void) {
  fputs("usage: ptyrun [-t SECONDS] [-T TERM] [-v] [-r] SCRIPT [-e STEP]... -- CMD [ARG...]\n", stderr);
  exit(2);
}

int main (int argc, char **argv) {
  struct session s = { .master = -1, .timeout = 10 };
  struct buf script = { 0 };
  struct winsize ws = { .ws_row = 24, .ws_col = 80 };
  const char *term = "xterm";
  int verbose = 0, rc = 0, line = 0, i = 1;
  for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
    if (strcmp(argv[i], "-v") == 0) verbose = 1;
    else if (strcmp(argv[i], "-r") == 0) show_raw = 1;
    else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) s.timeout = atof(argv[++i]);
    else if (strcmp(argv[i], "-T") == 0 && i + 1 < argc) term = argv[++i];
    else usage();
  }
  if (i >= argc || load_script(argv[i++], &script) != 0) usage();
  for (; i + 1 < argc && strcmp(argv[i], "-e") == 0; i += 2) {
    buf_add(&script, argv[i + 1], strlen(argv[i + 1]));
    buf_add(&script, "\n", 1);
  }
  if (i >= argc || strcmp(argv[i], "--") != 0 || i + 1 >= argc) usage();
  i++;
  fflush(NULL);
  s.pid = forkpty(&s.master, NULL, NULL, &ws);
  if (s.pid < 0) { perror("ptyrun: forkpty"); return 2; }
  if (s.pid == 0) {
    setenv("TERM", term, 1);
    execvp(argv[i], argv + i);
    fprintf(stderr, "ptyrun: cannot run %s: %s\n", argv[i], strerror(errno));
    _exit(127);
  }
  signal(SIGPIPE, SIG_IGN);
  for (char *p = script.p, *nl; p && rc == 0 && (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
    *nl = '\0';
    line++;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '\0' || *p == '#') continue;
    rc = step(&s, p, line);
  }
  if (!s.exited) {  /* hang up, as closing a terminal window does */
    if (s.master >= 0) { close(s.master); s.master = -1; }
    for (int tries = 0; tries < 100 && !reap(&s, 0); tries++) usleep(20000);
    if (!reap(&s, 0)) { kill(-s.pid, SIGKILL); reap(&s, 1); }
  }
  if (verbose && rc == 0) show_transcript(&s);
  if (s.master >= 0) close(s.master);
  free(s.raw.p);
  free(s.text.p);
  free(script.p);
  return rc;
}
