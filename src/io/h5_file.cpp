#include "zoomdiff/io/h5_file.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include <hdf5.h>
#include <hdf5_hl.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::io {
namespace {

static_assert(std::is_same_v<hid_t, std::int64_t>, "HDF5 >= 1.10 uses 64-bit ids");

/// Switches HDF5's automatic error-stack printing off for its lifetime (HighFive's SilenceHDF5).
class SilenceHdf5 {
public:
    SilenceHdf5() {
        H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    }

    ~SilenceHdf5() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }

    SilenceHdf5(const SilenceHdf5&) = delete;
    SilenceHdf5& operator=(const SilenceHdf5&) = delete;
    SilenceHdf5(SilenceHdf5&&) = delete;
    SilenceHdf5& operator=(SilenceHdf5&&) = delete;

private:
    H5E_auto2_t func_ = nullptr;
    void* data_ = nullptr;
};

/// Owner of one HDF5 id, closed with the matching H5?close.
class Handle {
public:
    using Closer = herr_t (*)(hid_t);

    Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}

    ~Handle() {
        if (id_ >= 0) {
            closer_(id_);
        }
    }

    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;

    Handle(Handle&& other) noexcept : id_(other.id_), closer_(other.closer_) { other.id_ = -1; }

    Handle& operator=(Handle&&) = delete;

    [[nodiscard]] hid_t get() const noexcept { return id_; }

    [[nodiscard]] bool ok() const noexcept { return id_ >= 0; }

private:
    hid_t id_;
    Closer closer_;
};

hid_t native_type(ElementType type) {
    switch (type) {
        case ElementType::kFloat32:
            return H5T_NATIVE_FLOAT;
        case ElementType::kFloat64:
            return H5T_NATIVE_DOUBLE;
        case ElementType::kInt32:
            return H5T_NATIVE_INT32;
        case ElementType::kInt64:
            return H5T_NATIVE_INT64;
        case ElementType::kUInt8:
            return H5T_NATIVE_UINT8;
    }
    return H5T_NATIVE_DOUBLE;
}

/// Little-endian file types, so files read the same on any machine.
hid_t file_type(ElementType type) {
    switch (type) {
        case ElementType::kFloat32:
            return H5T_IEEE_F32LE;
        case ElementType::kFloat64:
            return H5T_IEEE_F64LE;
        case ElementType::kInt32:
            return H5T_STD_I32LE;
        case ElementType::kInt64:
            return H5T_STD_I64LE;
        case ElementType::kUInt8:
            return H5T_STD_U8LE;
    }
    return H5T_IEEE_F64LE;
}

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& object,
                       const std::string& problem) {
    throw Error(
        file.string() + ":" + object, problem,
        "Check that the file was written by a zoomdiff tool of this version and is complete.");
}

Handle link_create_plist() {
    Handle plist(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
    H5Pset_create_intermediate_group(plist.get(), 1);
    return plist;
}

/// Create the parent groups of `object` without timestamps, so the same data gives the same
/// bytes (HDF5 records creation times by default; intermediate groups would carry them).
void create_parent_groups(hid_t file, const std::string& object) {
    Handle gcpl(H5Pcreate(H5P_GROUP_CREATE), H5Pclose);
    H5Pset_obj_track_times(gcpl.get(), 0);
    std::size_t pos = 0;
    while ((pos = object.find('/', pos + 1)) != std::string::npos) {
        const std::string prefix = object.substr(0, pos);
        if (H5Lexists(file, prefix.c_str(), H5P_DEFAULT) <= 0) {
            Handle g(H5Gcreate2(file, prefix.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT),
                     H5Gclose);
        }
    }
}

Handle open_object(hid_t file, const std::filesystem::path& path, const std::string& object) {
    SilenceHdf5 quiet;
    Handle h(H5Oopen(file, object.c_str(), H5P_DEFAULT), H5Oclose);
    if (!h.ok()) {
        fail(path, object, "no such group or dataset");
    }
    return h;
}

Handle scalar_or_vector_space(std::size_t n, bool scalar) {
    if (scalar) {
        return Handle(H5Screate(H5S_SCALAR), H5Sclose);
    }
    const hsize_t dims[1] = {n};
    return Handle(H5Screate_simple(1, dims, nullptr), H5Sclose);
}

void write_attr_raw(hid_t file, const std::filesystem::path& path, const std::string& object,
                    const std::string& name, hid_t ftype, hid_t mtype, const void* data,
                    std::size_t n, bool scalar) {
    Handle obj = open_object(file, path, object);
    SilenceHdf5 quiet;
    if (H5Aexists(obj.get(), name.c_str()) > 0) {
        H5Adelete(obj.get(), name.c_str());
    }
    Handle space = scalar_or_vector_space(n, scalar);
    Handle attr(H5Acreate2(obj.get(), name.c_str(), ftype, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                H5Aclose);
    if (!attr.ok() || H5Awrite(attr.get(), mtype, data) < 0) {
        fail(path, object + "@" + name, "cannot write attribute");
    }
}

Handle open_attr(hid_t file, const std::filesystem::path& path, const std::string& object,
                 const std::string& name) {
    SilenceHdf5 quiet;
    Handle attr(H5Aopen_by_name(file, object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT),
                H5Aclose);
    if (!attr.ok()) {
        fail(path, object + "@" + name, "no such attribute");
    }
    return attr;
}

std::vector<std::string> read_string_values(hid_t obj, hid_t type, hid_t space, bool is_attr,
                                            const std::filesystem::path& path,
                                            const std::string& object) {
    const hssize_t n_signed = H5Sget_simple_extent_npoints(space);
    const auto n = static_cast<std::size_t>(std::max<hssize_t>(n_signed, 0));
    std::vector<std::string> out;
    if (H5Tis_variable_str(type) > 0) {
        Handle mtype(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(mtype.get(), H5T_VARIABLE);
        H5Tset_cset(mtype.get(), H5T_CSET_UTF8);
        std::vector<char*> ptrs(n, nullptr);
        const herr_t rc =
            is_attr ? H5Aread(obj, mtype.get(), ptrs.data())
                    : H5Dread(obj, mtype.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data());
        if (rc < 0) {
            fail(path, object, "cannot read strings");
        }
        for (char* p : ptrs) {
            out.emplace_back(p != nullptr ? p : "");
        }
        H5Dvlen_reclaim(mtype.get(), space, H5P_DEFAULT, ptrs.data());
        return out;
    }
    const std::size_t width = H5Tget_size(type);
    Handle mtype(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mtype.get(), width);
    H5Tset_strpad(mtype.get(), H5T_STR_NULLPAD);
    std::vector<char> buffer(n * width + 1, '\0');
    const herr_t rc = is_attr
                          ? H5Aread(obj, mtype.get(), buffer.data())
                          : H5Dread(obj, mtype.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data());
    if (rc < 0) {
        fail(path, object, "cannot read strings");
    }
    for (std::size_t i = 0; i < n; ++i) {
        const char* begin = buffer.data() + i * width;
        out.emplace_back(begin, strnlen(begin, width));
    }
    return out;
}

}  // namespace

H5File::H5File(std::filesystem::path path, std::int64_t id) : path_(std::move(path)), id_(id) {}

H5File H5File::open_read(const std::filesystem::path& path) {
    if (!std::filesystem::exists(path)) {
        throw Error(path.string(), "file not found", "Check the path.");
    }
    SilenceHdf5 quiet;
    const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (id < 0) {
        throw Error(path.string(), "not a readable HDF5 file",
                    "Pass a file written by a zoomdiff tool (or regenerate it).");
    }
    return H5File(path, id);
}

H5File H5File::create(const std::filesystem::path& path) {
    SilenceHdf5 quiet;
    Handle fcpl(H5Pcreate(H5P_FILE_CREATE), H5Pclose);
    H5Pset_obj_track_times(fcpl.get(), 0);
    const hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl.get(), H5P_DEFAULT);
    if (id < 0) {
        throw Error(path.string(), "cannot create the HDF5 file",
                    "Check that the directory exists and is writable.");
    }
    return H5File(path, id);
}

H5File::~H5File() {
    if (id_ >= 0) {
        SilenceHdf5 quiet;
        H5Fclose(id_);
    }
}

H5File::H5File(H5File&& other) noexcept : path_(std::move(other.path_)), id_(other.id_) {
    other.id_ = -1;
}

H5File& H5File::operator=(H5File&& other) noexcept {
    if (this != &other) {
        if (id_ >= 0) {
            H5Fclose(id_);
        }
        path_ = std::move(other.path_);
        id_ = other.id_;
        other.id_ = -1;
    }
    return *this;
}

void H5File::close() {
    if (id_ < 0) {
        return;
    }
    SilenceHdf5 quiet;
    const hid_t id = id_;
    id_ = -1;
    // Closed even when the flush failed (a full disk): an id left open would be flushed again
    // when the process ends.
    const bool flushed = H5Fflush(id, H5F_SCOPE_GLOBAL) >= 0;
    const bool closed = H5Fclose(id) >= 0;
    if (!flushed || !closed) {
        throw Error(path_.string(), "writing the HDF5 file failed",
                    "Check free disk space and permissions.");
    }
}

bool H5File::exists(const std::string& object) const {
    if (object == "/" || object.empty()) {
        return true;
    }
    SilenceHdf5 quiet;
    // Check each level, as H5Lexists requires.
    std::size_t pos = 0;
    while (true) {
        pos = object.find('/', pos + 1);
        const std::string prefix = object.substr(0, pos);
        if (!prefix.empty() && prefix != "/" && H5Lexists(id_, prefix.c_str(), H5P_DEFAULT) <= 0) {
            return false;
        }
        if (pos == std::string::npos) {
            return true;
        }
    }
}

std::vector<std::string> H5File::children(const std::string& group) const {
    Handle g = open_object(id_, path_, group);
    H5G_info_t info{};
    if (H5Gget_info(g.get(), &info) < 0) {
        fail(path_, group, "not a group");
    }
    std::vector<std::string> names;
    for (hsize_t i = 0; i < info.nlinks; ++i) {
        const ssize_t len = H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr,
                                               0, H5P_DEFAULT);
        std::string name(static_cast<std::size_t>(std::max<ssize_t>(len, 0)), '\0');
        H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(),
                           name.size() + 1, H5P_DEFAULT);
        names.push_back(name);
    }
    return names;
}

std::vector<std::size_t> H5File::shape(const std::string& dataset) const {
    SilenceHdf5 quiet;
    Handle ds(H5Dopen2(id_, dataset.c_str(), H5P_DEFAULT), H5Dclose);
    if (!ds.ok()) {
        fail(path_, dataset, "no such dataset");
    }
    Handle space(H5Dget_space(ds.get()), H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(space.get());
    std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
    H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    return {dims.begin(), dims.end()};
}

void H5File::read_raw(const std::string& dataset, ElementType type, void* buffer) const {
    SilenceHdf5 quiet;
    Handle ds(H5Dopen2(id_, dataset.c_str(), H5P_DEFAULT), H5Dclose);
    if (!ds.ok()) {
        fail(path_, dataset, "no such dataset");
    }
    if (H5Dread(ds.get(), native_type(type), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer) < 0) {
        fail(path_, dataset, "cannot read the dataset (corrupt or of a non-numeric type)");
    }
}

void H5File::write_raw(const std::string& dataset, ElementType type,
                       const std::vector<std::size_t>& shape, const void* buffer) {
    SilenceHdf5 quiet;
    std::vector<hsize_t> dims(shape.begin(), shape.end());
    Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
    Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    H5Pset_obj_track_times(dcpl.get(), 0);
    create_parent_groups(id_, dataset);
    const std::size_t count = NdArray<char>::element_count(shape);
    if (count >= kCompressMin && !dims.empty()) {
        // Chunk along the first axis so a reader of one row of tiles touches little.
        std::vector<hsize_t> chunk = dims;
        std::size_t per_row = count / std::max<std::size_t>(shape[0], 1);
        chunk[0] = std::max<hsize_t>(
            1, std::min<hsize_t>(dims[0], 262144 / std::max<std::size_t>(per_row, 1)));
        H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data());
        H5Pset_shuffle(dcpl.get());
        H5Pset_deflate(dcpl.get(), 4);
    }
    Handle lcpl = link_create_plist();
    Handle ds(H5Dcreate2(id_, dataset.c_str(), file_type(type), space.get(), lcpl.get(), dcpl.get(),
                         H5P_DEFAULT),
              H5Dclose);
    if (!ds.ok() ||
        H5Dwrite(ds.get(), native_type(type), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer) < 0) {
        fail(path_, dataset, "cannot write the dataset");
    }
}

std::vector<std::string> H5File::read_strings(const std::string& dataset) const {
    SilenceHdf5 quiet;
    Handle ds(H5Dopen2(id_, dataset.c_str(), H5P_DEFAULT), H5Dclose);
    if (!ds.ok()) {
        fail(path_, dataset, "no such dataset");
    }
    Handle type(H5Dget_type(ds.get()), H5Tclose);
    if (H5Tget_class(type.get()) != H5T_STRING) {
        fail(path_, dataset, "not a string dataset");
    }
    Handle space(H5Dget_space(ds.get()), H5Sclose);
    return read_string_values(ds.get(), type.get(), space.get(), false, path_, dataset);
}

void H5File::write_strings(const std::string& dataset, const std::vector<std::string>& values) {
    SilenceHdf5 quiet;
    const hsize_t dims[1] = {values.size()};
    Handle space(H5Screate_simple(1, dims, nullptr), H5Sclose);
    Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), H5T_VARIABLE);
    H5Tset_cset(type.get(), H5T_CSET_UTF8);
    std::vector<const char*> ptrs;
    for (const auto& v : values) {
        ptrs.push_back(v.c_str());
    }
    Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    H5Pset_obj_track_times(dcpl.get(), 0);
    create_parent_groups(id_, dataset);
    Handle lcpl = link_create_plist();
    Handle ds(H5Dcreate2(id_, dataset.c_str(), type.get(), space.get(), lcpl.get(), dcpl.get(),
                         H5P_DEFAULT),
              H5Dclose);
    if (!ds.ok() ||
        H5Dwrite(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) < 0) {
        fail(path_, dataset, "cannot write the strings");
    }
}

void H5File::set_attr(const std::string& object, const std::string& name,
                      const std::string& value) {
    Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), H5T_VARIABLE);
    H5Tset_cset(type.get(), H5T_CSET_UTF8);
    const char* ptr = value.c_str();
    write_attr_raw(id_, path_, object, name, type.get(), type.get(), &ptr, 1, true);
}

void H5File::set_attr(const std::string& object, const std::string& name, double value) {
    write_attr_raw(id_, path_, object, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value, 1, true);
}

void H5File::set_attr(const std::string& object, const std::string& name, float value) {
    write_attr_raw(id_, path_, object, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &value, 1, true);
}

void H5File::make_dimension(const std::string& dataset) {
    SilenceHdf5 quiet;
    Handle ds(H5Dopen2(id_, dataset.c_str(), H5P_DEFAULT), H5Dclose);
    const std::string name = dataset.substr(dataset.find_last_of('/') + 1);
    if (!ds.ok() || H5DSset_scale(ds.get(), name.c_str()) < 0) {
        fail(path_, dataset, "cannot make it a dimension scale");
    }
}

void H5File::attach_dimensions(const std::string& dataset, const std::vector<std::string>& dims) {
    SilenceHdf5 quiet;
    Handle ds(H5Dopen2(id_, dataset.c_str(), H5P_DEFAULT), H5Dclose);
    if (!ds.ok()) {
        fail(path_, dataset, "no such dataset");
    }
    for (std::size_t axis = 0; axis < dims.size(); ++axis) {
        Handle scale(H5Dopen2(id_, dims[axis].c_str(), H5P_DEFAULT), H5Dclose);
        if (!scale.ok() ||
            H5DSattach_scale(ds.get(), scale.get(), static_cast<unsigned>(axis)) < 0) {
            fail(path_, dataset, "cannot attach the dimension scale " + dims[axis]);
        }
    }
}

void H5File::set_attr(const std::string& object, const std::string& name, std::int64_t value) {
    write_attr_raw(id_, path_, object, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value, 1, true);
}

void H5File::set_attr(const std::string& object, const std::string& name,
                      const std::vector<double>& values) {
    write_attr_raw(id_, path_, object, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, values.data(),
                   values.size(), false);
}

bool H5File::has_attr(const std::string& object, const std::string& name) const {
    SilenceHdf5 quiet;
    return H5Aexists_by_name(id_, object.c_str(), name.c_str(), H5P_DEFAULT) > 0;
}

std::string H5File::attr_string(const std::string& object, const std::string& name) const {
    Handle attr = open_attr(id_, path_, object, name);
    Handle type(H5Aget_type(attr.get()), H5Tclose);
    if (H5Tget_class(type.get()) != H5T_STRING) {
        fail(path_, object + "@" + name, "attribute is not a string");
    }
    Handle space(H5Aget_space(attr.get()), H5Sclose);
    auto values =
        read_string_values(attr.get(), type.get(), space.get(), true, path_, object + "@" + name);
    return values.empty() ? std::string() : values.front();
}

std::vector<double> H5File::attr_doubles(const std::string& object, const std::string& name) const {
    Handle attr = open_attr(id_, path_, object, name);
    Handle space(H5Aget_space(attr.get()), H5Sclose);
    const hssize_t n = H5Sget_simple_extent_npoints(space.get());
    std::vector<double> values(static_cast<std::size_t>(std::max<hssize_t>(n, 0)));
    if (H5Aread(attr.get(), H5T_NATIVE_DOUBLE, values.data()) < 0) {
        fail(path_, object + "@" + name, "attribute is not numeric");
    }
    return values;
}

double H5File::attr_double(const std::string& object, const std::string& name) const {
    const auto values = attr_doubles(object, name);
    if (values.size() != 1) {
        fail(path_, object + "@" + name, "attribute is not a scalar");
    }
    return values.front();
}

std::int64_t H5File::attr_int(const std::string& object, const std::string& name) const {
    Handle attr = open_attr(id_, path_, object, name);
    std::int64_t value = 0;
    if (H5Aread(attr.get(), H5T_NATIVE_INT64, &value) < 0) {
        fail(path_, object + "@" + name, "attribute is not an integer");
    }
    return value;
}

}  // namespace zoomdiff::io
