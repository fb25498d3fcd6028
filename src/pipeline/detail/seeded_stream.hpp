#pragma once

#include <cmath>
#include <cstdint>

namespace zoomdiff::pipeline::detail {

/// The seeding scheme of grid_meta's synthetic residents and weights (PIPELINE §2.3 steps 5, 8).
///
/// Every random draw belongs to one *stream* named by (seed, domain, a, b):
///   - residents of cell `a` = row * cols + col (row from the south): domain kResidentCell;
///   - the weights of station `a` (its row in the input table, not among the selected ones, so
///     a station's draws do not depend on which other stations fall outside the box) at hour
///     `b`: domain kStationHour.
/// A stream's key is a SplitMix64 hash of those four numbers, and the stream itself is
/// SplitMix64 started at that key: value k is mix64(key + (k + 1)·γ) (Steele, Lea & Flood,
/// "Fast splittable pseudorandom number generators", OOPSLA 2014). Streams are independent of one
/// another and of the order in which they are consumed, so any thread split gives the same bits.
/// Two streams of length L overlap with probability about L / 2^64.
///
/// Normals use Marsaglia's polar method (only sqrt and log; no implementation-defined
/// std::normal_distribution), so a seed gives the same numbers with any C++ standard library.
inline constexpr std::uint64_t kGoldenGamma = 0x9e3779b97f4a7c15ULL;

/// SplitMix64's output function: a bijective 64-bit finaliser.
constexpr std::uint64_t mix64(std::uint64_t z) noexcept {
    z = (z ^ (z >> 30U)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27U)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31U);
}

/// What a stream is used for; part of its key so that the families never share a stream.
enum class StreamDomain : std::uint64_t {
    kResidentCell = 1,  ///< a = flat cell index
    kStationHour = 2,   ///< a = station row in the input table, b = hour 0..167
};

/// Key of stream (seed, domain, a, b): each number is absorbed by one mix64 round.
constexpr std::uint64_t stream_key(std::uint64_t seed, StreamDomain domain, std::uint64_t a,
                                   std::uint64_t b = 0) noexcept {
    std::uint64_t k = mix64(seed + kGoldenGamma * static_cast<std::uint64_t>(domain));
    k = mix64(k + kGoldenGamma * (a + 1));
    return mix64(k + kGoldenGamma * (b + 1));
}

/// One SplitMix64 stream: uniform doubles, uniform values in a half-open interval, normals.
class SeededStream {
public:
    explicit constexpr SeededStream(std::uint64_t key) noexcept : state_(key) {}

    constexpr std::uint64_t next_u64() noexcept {
        state_ += kGoldenGamma;
        return mix64(state_);
    }

    /// Uniform in [0, 1) with 53 random bits.
    double uniform01() noexcept { return static_cast<double>(next_u64() >> 11U) * 0x1.0p-53; }

    /// Uniform in [lo, hi) (the rounding of lo + (hi − lo)·u can reach hi; that value is moved
    /// one ulp down so the interval stays half-open).
    double uniform(double lo, double hi) noexcept {
        const double v = lo + (hi - lo) * uniform01();
        return v < hi ? v : std::nextafter(hi, lo);
    }

    /// A standard normal (Marsaglia polar method; the second value of each pair is kept).
    double normal() noexcept {
        if (has_spare_) {
            has_spare_ = false;
            return spare_;
        }
        double u = 0;
        double v = 0;
        double s = 0;
        do {
            u = 2.0 * uniform01() - 1.0;
            v = 2.0 * uniform01() - 1.0;
            s = u * u + v * v;
        } while (s >= 1.0 || s == 0.0);
        const double f = std::sqrt(-2.0 * std::log(s) / s);
        spare_ = v * f;
        has_spare_ = true;
        return u * f;
    }

private:
    std::uint64_t state_;
    double spare_ = 0;
    bool has_spare_ = false;
};

}  // namespace zoomdiff::pipeline::detail
