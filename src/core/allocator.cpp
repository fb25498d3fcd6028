#include "zoomdiff/core/allocator.hpp"

#include <cstdlib>
#include <cstring>
#include <limits>

#include <malloc.h>

namespace zoomdiff::core {

const char* to_string(MallocMode mode) {
    return mode == MallocMode::kHeap ? "heap" : "glibc";
}

MallocMode set_malloc_mode(MallocMode mode) {
    if (const char* choice = std::getenv("ZOOMDIFF_MALLOC")) {
        if (std::strcmp(choice, "glibc") == 0)
            mode = MallocMode::kGlibc;
        if (std::strcmp(choice, "heap") == 0)
            mode = MallocMode::kHeap;
    }
    if (mode == MallocMode::kHeap) {
        mallopt(M_MMAP_MAX, 0);
        mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
    } else {
        // glibc's documented defaults (setting them fixes the threshold glibc would otherwise
        // adapt).
        mallopt(M_MMAP_MAX, 65536);
        mallopt(M_TRIM_THRESHOLD, 128 * 1024);
        mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    }
    return mode;
}

}  // namespace zoomdiff::core
