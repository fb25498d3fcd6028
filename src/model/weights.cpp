#include "zoomdiff/model/weights.hpp"

#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <torch/cuda.h>
#include <torch/serialize.h>

#include "zoomdiff/core/atomic_output.hpp"
#include "zoomdiff/core/error.hpp"

namespace zoomdiff::model {
namespace {

std::string shape_text(at::IntArrayRef sizes) {
    std::string out;
    for (std::size_t i = 0; i < sizes.size(); ++i)
        out += (i ? "x" : "") + std::to_string(sizes[i]);
    return out.empty() ? "scalar" : out;
}

}  // namespace

torch::Device resolve_device(const std::string& text) {
    constexpr const char* kFix =
        "Use --device cpu, or cuda / cuda:N on a build against a CUDA LibTorch";
    if (text == "cpu")
        return torch::Device(torch::kCPU);
    if (text.rfind("cuda", 0) != 0) {
        throw Error("--device", fmt::format("unknown device '{}'", text), kFix);
    }
    int index = 0;
    if (text.size() > 4) {
        if (text[4] != ':' || text.size() == 5 ||
            text.find_first_not_of("0123456789", 5) != std::string::npos) {
            throw Error("--device", fmt::format("unknown device '{}'", text), kFix);
        }
        if (text.size() > 8)
            throw Error("--device", fmt::format("unknown device '{}'", text), kFix);
        index = std::stoi(text.substr(5));
    }
    if (!torch::cuda::is_available()) {
        throw Error(
            "--device",
            fmt::format("'{}' asked for, but this LibTorch has no CUDA support or sees no GPU",
                        text),
            "Use --device cpu, or rebuild against a CUDA LibTorch on a machine with a GPU");
    }
    const auto count = static_cast<int>(torch::cuda::device_count());
    if (index >= count) {
        throw Error("--device",
                    fmt::format("'{}' asked for, but only {} GPU(s) are visible", text, count),
                    kFix);
    }
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

void load_named_tensors(ZoomDiffNet& net, const std::map<std::string, torch::Tensor>& tensors,
                        const std::string& source, bool allow_missing_spatial) {
    constexpr const char* kFix =
        "Load it with the config it was trained with (--config, same layers, channels and "
        "condition_layout)";
    torch::NoGradGuard no_grad;
    const auto params = net->named_parameters();
    for (const auto& p : params) {
        const auto found = tensors.find(p.key());
        if (found == tensors.end()) {
            if (p.key() == "spatial_embedding" && allow_missing_spatial)
                continue;
            throw Error(
                source,
                fmt::format("key '{}' ({}) is missing", p.key(), shape_text(p.value().sizes())),
                kFix);
        }
        if (found->second.sizes() != p.value().sizes()) {
            throw Error(
                source,
                fmt::format("key '{}' has shape {} in the file, {} in the model", p.key(),
                            shape_text(found->second.sizes()), shape_text(p.value().sizes())),
                kFix);
        }
    }
    for (const auto& [key, value] : tensors) {
        if (params.find(key) == nullptr) {
            throw Error(source,
                        fmt::format("key '{}' ({}) does not exist in the model", key,
                                    shape_text(value.sizes())),
                        kFix);
        }
    }
    for (auto& p : params) {
        const auto found = tensors.find(p.key());
        if (found == tensors.end())
            continue;
        const auto& value = found->second;
        if (!torch::isfinite(value).all().item<bool>()) {
            throw Error(source, fmt::format("key '{}' holds NaN or infinite values", p.key()),
                        "The checkpoint is corrupt; use another one");
        }
        p.value().copy_(value.to(p.value().device(), p.value().scalar_type()));
    }
}

std::map<std::string, torch::Tensor> named_tensors(const ZoomDiffNet& net) {
    std::map<std::string, torch::Tensor> out;
    for (const auto& p : net->named_parameters())
        out.emplace(p.key(), p.value().detach().to(torch::kCPU).clone());
    return out;
}

void save_archive(torch::serialize::OutputArchive& archive, const std::filesystem::path& path) {
    core::AtomicOutput output(path);
    {
        // Through a stream: saved to a path, the archive's records would be named after the
        // temporary file (its pid), and equal weights would not give equal bytes.
        std::ofstream out(output.temp_path(), std::ios::binary);
        archive.save_to(out);
        if (!out.flush())
            throw Error(path.string(), "could not be written",
                        "Check free disk space and permissions");
    }
    output.commit();
}

void write_weights(torch::serialize::OutputArchive& archive, const ZoomDiffNet& net) {
    for (const auto& [key, value] : named_tensors(net))
        archive.write(key, value);
}

void read_weights(torch::serialize::InputArchive& archive, ZoomDiffNet& net,
                  const std::string& source) {
    std::map<std::string, torch::Tensor> tensors;
    for (const auto& key : archive.keys()) {
        torch::Tensor value;  // a fresh tensor per read: read() set_()s into a defined one
        archive.read(key, value);
        tensors.emplace(key, value);
    }
    load_named_tensors(net, tensors, source, /*allow_missing_spatial=*/false);
}

void save_weights(const ZoomDiffNet& net, const std::filesystem::path& path) {
    torch::serialize::OutputArchive archive;
    write_weights(archive, net);
    save_archive(archive, path);
}

void load_weights(ZoomDiffNet& net, const std::filesystem::path& path) {
    if (!std::filesystem::exists(path)) {
        throw Error(path.string(), "weight file not found",
                    "Pass the run folder that zoomdiff_train wrote");
    }
    torch::serialize::InputArchive archive;
    try {
        archive.load_from(path.string());
    } catch (const c10::Error& e) {
        throw Error(
            path.string(),
            fmt::format("not a readable weight file ({})", e.what_without_backtrace()),
            "The file is corrupt or of another format; use a weight file zoomdiff_train wrote");
    }
    read_weights(archive, net, path.string());
}

}  // namespace zoomdiff::model
