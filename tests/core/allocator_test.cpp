#include "zoomdiff/core/allocator.hpp"

#include <cstdlib>

#include <gtest/gtest.h>
#include <malloc.h>

namespace zoomdiff::core {
namespace {

/// Whether one 64 MiB block is served by its own mmap (glibc's default) or from the heap.
bool large_block_is_mmapped() {
    const auto before = mallinfo2().hblks;
    char* block = static_cast<char*>(std::malloc(64 << 20));
    asm volatile("" : : "r"(block) : "memory");  // the allocation may not be elided
    const bool mmapped = mallinfo2().hblks > before;
    std::free(block);
    return mmapped;
}

TEST(Allocator, HeapModeServesLargeBlocksFromTheHeapAndTheEnvironmentWins) {
    unsetenv("ZOOMDIFF_MALLOC");
    EXPECT_EQ(set_malloc_mode(MallocMode::kGlibc), MallocMode::kGlibc);
    EXPECT_TRUE(large_block_is_mmapped());
    EXPECT_EQ(set_malloc_mode(MallocMode::kHeap), MallocMode::kHeap);
    EXPECT_FALSE(large_block_is_mmapped());

    // (Back in glibc's mode a freed heap block is reused before any mmap: only the mode is
    // checked.)
    setenv("ZOOMDIFF_MALLOC", "glibc", 1);
    EXPECT_EQ(set_malloc_mode(MallocMode::kHeap), MallocMode::kGlibc);
    setenv("ZOOMDIFF_MALLOC", "heap", 1);
    EXPECT_EQ(set_malloc_mode(MallocMode::kGlibc), MallocMode::kHeap);
    unsetenv("ZOOMDIFF_MALLOC");
    set_malloc_mode(MallocMode::kGlibc);
    EXPECT_STREQ(to_string(MallocMode::kHeap), "heap");
}

}  // namespace
}  // namespace zoomdiff::core
