// Emulates a throttled disk for benchmarks: every fsync/fdatasync also waits
// SLOW_SYNC_US microseconds (default 4000, what a sync takes on these machines when
// their disk is throttled). Loaded with LD_PRELOAD by scripts/bench; never in tests.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

static void wait_like_a_slow_disk(void) {
    const char *text = getenv("SLOW_SYNC_US");
    long microseconds = text ? atol(text) : 4000;
    struct timespec pause = { microseconds / 1000000, (microseconds % 1000000) * 1000 };
    while (nanosleep(&pause, &pause) != 0) {}
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    int result = real(fd);
    wait_like_a_slow_disk();
    return result;
}

int fsync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    int result = real(fd);
    wait_like_a_slow_disk();
    return result;
}
