#include "fdlimit.h"

#include <sys/resource.h>

uint64_t fdlimit_current(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1024; /* cannot happen for RLIMIT_NOFILE; assume systemd's default */
    return rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
}

uint64_t fdlimit_raise(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return fdlimit_current();
    rlim_t want = rl.rlim_max < FDLIMIT_WANT ? rl.rlim_max : FDLIMIT_WANT;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
        rl.rlim_cur = want;
        (void)setrlimit(RLIMIT_NOFILE, &rl); /* on failure the old limit stays, and is reported */
    }
    return fdlimit_current();
}

int fdlimit_store_files(uint64_t soft)
{
    uint64_t files = soft / 2;
    if (files > FDLIMIT_STORE_FILES_MAX)
        files = FDLIMIT_STORE_FILES_MAX;
    if (files < FDLIMIT_STORE_FILES_MIN)
        files = FDLIMIT_STORE_FILES_MIN;
    return (int)files;
}

bool fdlimit_enough_for(uint64_t soft, size_t connections)
{
    uint64_t store = (uint64_t)fdlimit_store_files(soft);
    return soft > store && soft - store >= (uint64_t)connections + FDLIMIT_SPARE;
}
