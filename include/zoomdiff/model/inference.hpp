#pragma once

// zoomdiff_infer's job, torch-free so the flag layer can fill it (reference/MODEL.md §5, README
// "zoomdiff_infer"): multi-scale maps of every tile of any city with a condition file.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "zoomdiff/core/progress.hpp"

namespace zoomdiff::model {

struct InferRequest {
    std::string dataset;                        ///< "X*Y", Chinese or English names
    std::string datatype = "traffic";
    std::string device = "cpu";
    std::filesystem::path config;               ///< empty: the run folder's config.yaml (config.json for a reference run)
    std::filesystem::path data_root = "datasets/cities";  ///< <root>/<City>/cond/<City>_cond.h5
    std::filesystem::path modelfolder;          ///< our run folder, or a reference one (model.pth + config.json)
    std::filesystem::path out = "results";      ///< output folder
    std::filesystem::path shp_path;             ///< boundary polygons for the mask; empty: the condition file's mask
    std::string boundary_field = "地名";
    std::uint64_t seed = 1;
    int threads = 1;
    std::int64_t nsample = 1;
    std::int64_t batch_size = 16;               ///< tiles per sampling batch
    std::vector<std::string> formats{"h5"};     ///< h5 | npz | geotiff (geotiff adds PNG quicklooks)
    std::string calibration = "template";       ///< template | none
    std::string template_city;                  ///< a city of the run's scalers.json (default: its first)
    bool force = false;                         ///< redo cities whose outputs exist
    std::string command_line;
};

/// Generate, calibrate and write every listed city (README "zoomdiff_infer"). Cities whose
/// outputs all exist are skipped unless `force`. Bad input throws zoomdiff::Error before any
/// sampling; outputs are written atomically.
void run_inference(const InferRequest& request, core::Progress& progress);

}  // namespace zoomdiff::model
