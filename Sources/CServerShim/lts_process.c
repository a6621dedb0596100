#define _GNU_SOURCE
#include "lts_server_shim.h"

#include <malloc.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

int lts_allocator_fix_mmap_threshold(int bytes)
{
    return mallopt(M_MMAP_THRESHOLD, bytes);
}

int lts_thread_set_niceness(int niceness)
{
    return setpriority(PRIO_PROCESS, (id_t)gettid(), niceness);
}

int lts_process_end_with_parent(pid_t supervisor)
{
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0)
        return -1;
    return getppid() == supervisor ? 0 : 1;
}
