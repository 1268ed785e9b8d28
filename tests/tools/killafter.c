/*
** killafter.c — run a command and SIGKILL it after a given time: the
** crash-safety tests' way to stop koop at a chosen moment, exactly, with
** no shell job control in between.
** Usage: killafter MS [-o FILE] CMD [ARG...]
**   Runs CMD (its stdout and stderr to FILE, when given); if it is still
**   running after MS milliseconds, kills it with SIGKILL.  Prints one line:
**   "killed after MS ms", or "exited N after T ms" / "signal N after T ms"
**   when the command ended by itself first.  Exit status 0, or 2 when the
**   command cannot be started (bad usage, no such program).
*/
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Milliseconds on the monotonic clock. */
static double now_ms (void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Start argv with stdout and stderr to out (when not NULL); its pid, or
** -1 with a message printed. */
static pid_t start (char **argv, const char *out) {
  int fd = -1;
  pid_t pid;
  if (out != NULL && (fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) {
    fprintf(stderr, "killafter: cannot open %s: %s\n", out, strerror(errno));
    return -1;
  }
  pid = fork();
  if (pid == 0) {
    sigset_t set;                   /* the command gets the usual mask */
    sigemptyset(&set);
    sigprocmask(SIG_SETMASK, &set, NULL);
    if (fd >= 0) { dup2(fd, 1); dup2(fd, 2); close(fd); }
    execvp(argv[0], argv);
    fprintf(stderr, "killafter: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  if (fd >= 0) close(fd);
  if (pid < 0) fprintf(stderr, "killafter: fork: %s\n", strerror(errno));
  return pid;
}

/* Wait for pid until deadline (ms): 1 and *status when it ended, 0 when
** the deadline came first.  SIGCHLD is blocked, so sigtimedwait wakes the
** moment the child ends; no polling. */
static int wait_until (pid_t pid, double deadline, int *status) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  for (;;) {
    double left = deadline - now_ms();
    struct timespec ts;
    if (waitpid(pid, status, WNOHANG) == pid) return 1;
    if (left <= 0) return 0;
    ts.tv_sec = (time_t)(left / 1e3);
    ts.tv_nsec = (long)((left - ts.tv_sec * 1e3) * 1e6);
    sigtimedwait(&set, NULL, &ts);
  }
}

int main (int argc, char **argv) {
  const char *out = NULL;
  char *end;
  double ms, t0;
  int argi = 2, status = 0;
  sigset_t set;
  pid_t pid;
  if (argc < 3) goto usage;
  ms = strtod(argv[1], &end);
  if (*end != '\0' || !(ms >= 0)) goto usage;
  if (strcmp(argv[argi], "-o") == 0) {
    if (argc < 5) goto usage;
    out = argv[argi + 1];
    argi += 2;
  }
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, NULL);
  t0 = now_ms();
  if ((pid = start(argv + argi, out)) < 0) return 2;
  if (wait_until(pid, t0 + ms, &status)) {
    if (WIFSIGNALED(status))
      printf("signal %d after %.0f ms\n", WTERMSIG(status), now_ms() - t0);
    else
      printf("exited %d after %.0f ms\n", WEXITSTATUS(status), now_ms() - t0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 127 ? 2 : 0;
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  printf("killed after %.0f ms\n", ms);
  return 0;
usage:
  fprintf(stderr, "usage: killafter MS [-o FILE] CMD [ARG...]\n");
  return 2;
}
