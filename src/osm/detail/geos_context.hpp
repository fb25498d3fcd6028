#pragma once

#include <memory>
#include <string>

#include <geos_c.h>

namespace zoomdiff::osm::detail {

/// One reentrant GEOS context (GEOS_init_r … GEOS_finish_r) that remembers the last error message
/// GEOS reported, so callers can turn a failed call (nullptr / 0) into our own error or a repair.
/// Not thread-safe: one context per thread.
class GeosContext {
public:
    GeosContext();
    ~GeosContext();
    GeosContext(const GeosContext&) = delete;
    GeosContext& operator=(const GeosContext&) = delete;
    GeosContext(GeosContext&&) = delete;
    GeosContext& operator=(GeosContext&&) = delete;

    [[nodiscard]] GEOSContextHandle_t handle() const noexcept { return handle_; }

    /// The last error message since clear_error(), empty if none.
    [[nodiscard]] const std::string& last_error() const noexcept { return last_error_; }

    [[nodiscard]] bool failed() const noexcept { return !last_error_.empty(); }

    void clear_error() noexcept { last_error_.clear(); }

private:
    static void on_error(const char* message, void* self);

    GEOSContextHandle_t handle_ = nullptr;
    std::string last_error_;
};

/// Owner of a GEOS geometry created in `ctx`.
struct GeomDeleter {
    GEOSContextHandle_t ctx = nullptr;

    void operator()(GEOSGeometry* g) const noexcept {
        if (g != nullptr) {
            GEOSGeom_destroy_r(ctx, g);
        }
    }
};

using GeomPtr = std::unique_ptr<GEOSGeometry, GeomDeleter>;

inline GeomPtr make_geom(const GeosContext& geos, GEOSGeometry* g) {
    return GeomPtr(g, GeomDeleter{geos.handle()});
}

}  // namespace zoomdiff::osm::detail
