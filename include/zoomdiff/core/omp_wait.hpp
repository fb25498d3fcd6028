#pragma once

// OpenMP's wait policy for the torch tools. libgomp reads OMP_WAIT_POLICY / GOMP_SPINCOUNT once,
// when it loads, before main runs; so a tool that wants another default must set it and re-execute
// itself. Measured by bench/omp_wait_bench.sh (sample.yaml training, 2 threads on 2 cores):
// passive waiting costs 0-3 % on an idle machine (two runs) and is 2.7-2.9x faster beside one busy
// process, where spinning threads fight the other process for the cores (0.66 against 1.78 s per
// epoch).

namespace zoomdiff::core {

/// If neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set, sets OMP_WAIT_POLICY=PASSIVE and
/// re-executes this program (/proc/self/exe) with the same arguments; returns only when nothing was
/// to be done or the re-exec failed (the run then goes on with libgomp's default). Call first in
/// main.
void prefer_passive_openmp(char** argv);

/// "PASSIVE (zoomdiff's default; OMP_WAIT_POLICY=ACTIVE spins)", or what the environment set.
const char* openmp_wait_policy();

}  // namespace zoomdiff::core
