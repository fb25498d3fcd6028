#pragma once

// How glibc's malloc serves large blocks, for the whole process (tools call it once at start).

namespace zoomdiff::core {

enum class MallocMode {
    /// glibc's defaults: every block above its (adaptive, at most 32 MiB) threshold is a fresh
    /// mmap, unmapped on free, so each large tensor of a step is page-faulted anew.
    kGlibc,
    /// Every block from the brk heap, up to 2 GiB of freed memory kept for reuse: measured by
    /// bench/model_bench --heap-malloc, sampling and training steps 1.7-2x as fast at base.yaml on
    /// 2 cores, for a higher peak RSS (training at batch 16: 7.6 GB instead of 4.6 GB).
    kHeap,
};

/// Applies `mode` unless the environment chose (ZOOMDIFF_MALLOC=glibc|heap wins); returns the
/// mode in effect.
MallocMode set_malloc_mode(MallocMode mode);

/// "glibc" | "heap".
const char* to_string(MallocMode mode);

}  // namespace zoomdiff::core
