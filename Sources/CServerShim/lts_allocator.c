#include "lts_server_shim.h"

#include <malloc.h>

int lts_allocator_fix_mmap_threshold(int bytes)
{
    return mallopt(M_MMAP_THRESHOLD, bytes);
}
