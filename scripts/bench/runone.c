/*
** runone.c — time a program and measure its peak memory, without GNU time.
** Usage: runone [-n COUNT] [-i IN] [-o OUT] [--] PROGRAM [ARG...]
** Runs PROGRAM COUNT times (default 1), one run after another, with
** standard input from IN and standard output to OUT (both default to
** /dev/null; OUT is truncated before every run), standard error inherited.
** Prints one line "SECONDS KIB CPU": the mean wall-clock time of a run
** (fork to wait4, so process start-up counts), the largest peak resident
** set size (ru_maxrss) of any run, and the mean CPU time (user + system)
** of a run, which a busy machine disturbs less than the wall clock.  Exits 1, saying why on
** standard error, as soon as a run does not exit with status 0.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>

/* Seconds on the monotonic clock. */
static double now (void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* In the child: redirect stdin/stdout and exec; never returns. */
static void child (const char *in, const char *out, char **argv) {
  int fd = open(in, O_RDONLY);
  if (fd < 0 || dup2(fd, 0) < 0) {
    fprintf(stderr, "runone: %s: %s\n", in, strerror(errno));
    _exit(127);
  }
  close(fd);
  fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || dup2(fd, 1) < 0) {
    fprintf(stderr, "runone: %s: %s\n", out, strerror(errno));
    _exit(127);
  }
  close(fd);
  execvp(argv[0], argv);
  fprintf(stderr, "runone: %s: %s\n", argv[0], strerror(errno));
  _exit(127);
}

/* Seconds in a struct timeval. */
static double tv_seconds (struct timeval tv) {
  return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6;
}

/* Run argv once; add its wall and CPU time to *seconds and *cpu and raise
** *kib to its peak RSS.  Returns 0, or -1 after saying on stderr why the
** run failed. */
static int run (const char *in, const char *out, char **argv,
                double *seconds, long *kib, double *cpu) {
  struct rusage ru;
  int status;
  double start = now();
  pid_t pid = fork();
  if (pid < 0) {
    fprintf(stderr, "runone: fork: %s\n", strerror(errno));
    return -1;
  }
  if (pid == 0) child(in, out, argv);
  while (wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) {
      fprintf(stderr, "runone: wait4: %s\n", strerror(errno));
      return -1;
    }
  }
  *seconds += now() - start;
  *cpu += tv_seconds(ru.ru_utime) + tv_seconds(ru.ru_stime);
  if (ru.ru_maxrss > *kib) *kib = ru.ru_maxrss;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
  if (WIFEXITED(status))
    fprintf(stderr, "runone: %s exited with status %d\n", argv[0], WEXITSTATUS(status));
  else
    fprintf(stderr, "runone: %s killed by signal %d\n", argv[0], WTERMSIG(status));
  return -1;
}

int main (int argc, char **argv) {
  const char *in = "/dev/null", *out = "/dev/null";
  long count = 1, kib = 0;
  double seconds = 0, cpu = 0;
  char *end;
  int opt;
  while ((opt = getopt(argc, argv, "+n:i:o:")) != -1) {
    switch (opt) {
      case 'n':
        count = strtol(optarg, &end, 10);
        if (*end != '\0' || count < 1) {
          fprintf(stderr, "runone: -n needs a positive count, not '%s'\n", optarg);
          return 2;
        }
        break;
      case 'i': in = optarg; break;
      case 'o': out = optarg; break;
      default: goto usage;
    }
  }
  if (optind >= argc) goto usage;
  for (long i = 0; i < count; i++)
    if (run(in, out, argv + optind, &seconds, &kib, &cpu) != 0) return 1;
  printf("%.6f %ld %.6f\n", seconds / (double)count, kib, cpu / (double)count);
  return 0;
usage:
  fprintf(stderr, "usage: runone [-n COUNT] [-i IN] [-o OUT] [--] PROGRAM [ARG...]\n");
  return 2;
}
