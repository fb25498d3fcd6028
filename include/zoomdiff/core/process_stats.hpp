#pragma once

namespace zoomdiff::core {

/// Peak resident set size of this process so far, in KiB (VmHWM of /proc/self/status; 0 if
/// unavailable).
long peak_rss_kb();

}  // namespace zoomdiff::core
