#include "osm/detail/geos_context.hpp"

#include <new>

namespace zoomdiff::osm::detail {

GeosContext::GeosContext() : handle_(GEOS_init_r()) {
    if (handle_ == nullptr) {
        throw std::bad_alloc();
    }
    GEOSContext_setErrorMessageHandler_r(handle_, &GeosContext::on_error, this);
}

GeosContext::~GeosContext() {
    GEOS_finish_r(handle_);
}

void GeosContext::on_error(const char* message, void* self) {
    auto* context = static_cast<GeosContext*>(self);
    context->last_error_ = (message != nullptr && *message != '\0') ? message : "GEOS error";
}

}  // namespace zoomdiff::osm::detail
