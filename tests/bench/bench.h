/* bench.h: what dualsync-bench's parts share (bench.c defines them): the clock, the
 * children it starts (they die with it), free loopback ports and /proc figures. */
#ifndef DUALSYNC_BENCH_H
#define DUALSYNC_BENCH_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

extern volatile sig_atomic_t stop_flag; /* SIGINT/SIGTERM: every loop ends at its deadline */

double now_s(void);                   /* the monotonic clock, seconds */
bool expired(double deadline);        /* past deadline (now_s) or stopped */
void pause_us(long us);               /* sleeps us microseconds */
int free_port(void);                  /* a free TCP port on 127.0.0.1 */
void stop_child(pid_t *pid, int sig); /* signals, reaps and clears *pid (0: nothing) */
/* Starts argv[0] as a child that dies with the bench; stdout to /dev/null, stderr appended
 * to err_path (NULL: inherited). */
pid_t spawn_child(char *const argv[], const char *err_path);
/* A field of /proc/PID/status in KiB ("VmHWM", "VmRSS"); -1 when unreadable. */
long proc_status_kib(pid_t pid, const char *field);
/* utime + stime of pid so far, in seconds; -1 when unreadable. */
double proc_cpu_s(pid_t pid);

#endif
