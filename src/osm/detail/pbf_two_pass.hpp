#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include <osmium/area/assembler.hpp>
#include <osmium/area/multipolygon_manager.hpp>
#include <osmium/handler/node_locations_for_ways.hpp>
#include <osmium/index/map/flex_mem.hpp>
#include <osmium/io/any_input.hpp>
#include <osmium/relations/relations_manager.hpp>
#include <osmium/tags/tags_filter.hpp>
#include <osmium/visitor.hpp>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/core/progress.hpp"

namespace zoomdiff::osm::detail {

/// Streams an .osm.pbf in libosmium's two passes (osmium_area_test.cpp): pass 1 reads the
/// multipolygon relations whose tags pass `area_filter`; pass 2 feeds nodes (with locations),
/// ways and relations to `handler`, and the areas the manager assembles (closed ways and
/// completed multipolygons matching `area_filter`) to `handler.area()`. The node-location index
/// is in memory (FlexMem: sparse or dense by need); memory follows the nodes, not the features.
/// Translates libosmium failures into one zoomdiff::Error naming the file.
template <typename Handler>
void read_pbf_two_pass(const std::string& path, const osmium::TagsFilter& area_filter,
                       Handler& handler, core::Progress& progress, const std::string& stage) {
    using NodeIndex =
        osmium::index::map::FlexMem<osmium::unsigned_object_id_type, osmium::Location>;
    using LocationHandler = osmium::handler::NodeLocationsForWays<NodeIndex>;
    osmium::area::Assembler::config_type assembler_config;
    osmium::area::MultipolygonManager<osmium::area::Assembler> mp_manager{assembler_config,
                                                                          area_filter};
    try {
        const osmium::io::File input{path};
        progress.start(stage + " relations", 0, "");
        osmium::relations::read_relations(input, mp_manager);
        progress.finish();

        NodeIndex index;
        LocationHandler location_handler{index};
        location_handler.ignore_errors();  // ways cut by the extract keep their known nodes
        osmium::io::Reader reader{input, osmium::osm_entity_bits::node |
                                             osmium::osm_entity_bits::way |
                                             osmium::osm_entity_bits::relation};
        progress.start(stage, reader.file_size(), "bytes");
        std::uint64_t reported = 0;
        auto area_callback = mp_manager.handler(
            [&handler](osmium::memory::Buffer&& buffer) { osmium::apply(buffer, handler); });
        while (osmium::memory::Buffer buffer = reader.read()) {
            osmium::apply(buffer, location_handler, handler, area_callback);
            if (const std::uint64_t offset = reader.offset(); offset > reported) {
                progress.advance(offset - reported);
                reported = offset;
            }
        }
        reader.close();
        progress.finish();
    } catch (const Error&) {
        throw;
    } catch (const std::runtime_error& e) {  // osmium::io_error and other libosmium failures
        throw Error(path, std::string("cannot read OSM data (") + e.what() + ")",
                    "Pass a valid .osm.pbf file");
    }
}

}  // namespace zoomdiff::osm::detail
