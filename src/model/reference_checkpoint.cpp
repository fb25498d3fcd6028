#include "zoomdiff/model/reference_checkpoint.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caffe2/serialize/inline_container.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/types.h>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/core/text_file.hpp"
#include "zoomdiff/model/diffusion.hpp"
#include "zoomdiff/model/weights.hpp"

namespace zoomdiff::model {
namespace {

namespace fs = std::filesystem;

constexpr const char* kNotStateDict = "not a PyTorch state dict archive";
constexpr const char* kStateDictFix =
    "Pass the model.pth of a reference run, i.e. a file written by torch.save(model.state_dict(), "
    "path) with PyTorch >= 1.6 (pickled modules, optimizer checkpoints and TorchScript files are "
    "not read)";
constexpr const char* kCorruptFix =
    "The file is truncated or corrupt; copy model.pth from the reference run folder again";

// ---- the pickle machine ----------------------------------------------------------------------
// LibTorch 1.13's torch::pickle_load stops at the `collections.OrderedDict` of a state dict
// ("Expected GenericDict but got None"), so the few opcodes a state dict uses are read here.
// Reference: CPython Lib/pickletools.py (opcode table) and torch/serialization.py (_save:
// persistent_id, and tensor.__reduce_ex__ -> torch._utils._rebuild_tensor_v2).

struct Value;
using ValuePtr = std::shared_ptr<Value>;

/// The Python objects a state dict pickle builds. Dicts and lists are shared (memo, SETITEM
/// after BINPUT), hence shared_ptr.
struct Value {
    enum class Kind {
        kNone,
        kBool,
        kInt,
        kFloat,
        kString,
        kTuple,
        kList,
        kDict,
        kOrderedDictClass,  // the global collections.OrderedDict
        kRebuildTensor,     // the global torch._utils._rebuild_tensor_v2
        kStorageClass,      // a global torch.<Type>Storage; `dtype`
        kStorage,           // a loaded storage (BINPERSID); `tensor` is 1-D over all of it
        kTensor,
    };
    Kind kind = Kind::kNone;
    std::int64_t integer = 0;  // kBool, kInt
    double real = 0.0;
    std::string text;                                    // kString
    std::vector<ValuePtr> items;                         // kTuple, kList
    std::vector<std::pair<ValuePtr, ValuePtr>> entries;  // kDict, in insertion order
    torch::ScalarType dtype = torch::kFloat;             // kStorageClass
    torch::Tensor tensor;                                // kStorage, kTensor
};

ValuePtr make(Value::Kind kind) {
    auto v = std::make_shared<Value>();
    v->kind = kind;
    return v;
}

const char* kind_name(Value::Kind kind) {
    switch (kind) {
        case Value::Kind::kNone:
            return "None";
        case Value::Kind::kBool:
            return "bool";
        case Value::Kind::kInt:
            return "int";
        case Value::Kind::kFloat:
            return "float";
        case Value::Kind::kString:
            return "str";
        case Value::Kind::kTuple:
            return "tuple";
        case Value::Kind::kList:
            return "list";
        case Value::Kind::kDict:
            return "dict";
        case Value::Kind::kOrderedDictClass:
            return "collections.OrderedDict";
        case Value::Kind::kRebuildTensor:
            return "torch._utils._rebuild_tensor_v2";
        case Value::Kind::kStorageClass:
            return "storage class";
        case Value::Kind::kStorage:
            return "storage";
        case Value::Kind::kTensor:
            return "tensor";
    }
    return "?";
}

/// torch.<name> storage classes -> dtype (the ones torch.save writes for real tensors).
std::optional<torch::ScalarType> storage_dtype(const std::string& name) {
    static const std::map<std::string, torch::ScalarType> kTypes = {
        {"FloatStorage", torch::kFloat}, {"DoubleStorage", torch::kDouble},
        {"HalfStorage", torch::kHalf},   {"BFloat16Storage", torch::kBFloat16},
        {"LongStorage", torch::kLong},   {"IntStorage", torch::kInt},
        {"ShortStorage", torch::kShort}, {"CharStorage", torch::kChar},
        {"ByteStorage", torch::kByte},   {"BoolStorage", torch::kBool},
    };
    const auto found = kTypes.find(name);
    if (found == kTypes.end()) {
        return std::nullopt;
    }
    return found->second;
}

class StateDictUnpickler {
public:
    StateDictUnpickler(caffe2::serialize::PyTorchStreamReader& reader, std::string source)
        : reader_(reader), source_(std::move(source)) {}

    std::map<std::string, torch::Tensor> run(const char* data, std::size_t size) {
        data_ = data;
        size_ = size;
        pos_ = 0;
        ValuePtr result = execute();
        if (result->kind != Value::Kind::kDict) {
            refuse(fmt::format("the pickle holds a {}, not a dict of tensors",
                               kind_name(result->kind)));
        }
        std::map<std::string, torch::Tensor> out;
        for (const auto& [key, value] : result->entries) {
            if (key->kind != Value::Kind::kString) {
                refuse("a key of the dict is not a string");
            }
            if (value->kind != Value::Kind::kTensor) {
                refuse(fmt::format("the value of '{}' is a {}, not a tensor", key->text,
                                   kind_name(value->kind)));
            }
            out[key->text] = value->tensor;  // a later equal key replaces, as in Python
        }
        return out;
    }

private:
    [[noreturn]] void refuse(const std::string& why) const {
        throw Error(source_, fmt::format("{} ({})", kNotStateDict, why), kStateDictFix);
    }

    [[noreturn]] void truncated() const {
        throw Error(
            source_,
            fmt::format("{} (data.pkl ends inside an opcode at byte {})", kNotStateDict, pos_),
            kCorruptFix);
    }

    const char* take(std::size_t n) {
        if (n > size_ - pos_) {
            truncated();
        }
        const char* p = data_ + pos_;
        pos_ += n;
        return p;
    }

    std::uint64_t little_endian(std::size_t n) {
        const auto* p = reinterpret_cast<const unsigned char*>(take(n));
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
        }
        return v;
    }

    std::string line() {
        const void* end = std::memchr(data_ + pos_, '\n', size_ - pos_);
        if (end == nullptr) {
            truncated();
        }
        const auto n = static_cast<std::size_t>(static_cast<const char*>(end) - (data_ + pos_));
        std::string s(data_ + pos_, n);
        pos_ += n + 1;
        return s;
    }

    ValuePtr pop() {
        if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) {
            refuse(fmt::format("stack underflow at byte {}", pos_));
        }
        ValuePtr v = std::move(stack_.back());
        stack_.pop_back();
        return v;
    }

    ValuePtr& top() {
        if (stack_.empty()) {
            refuse(fmt::format("stack underflow at byte {}", pos_));
        }
        return stack_.back();
    }

    /// The items above the last MARK, which is removed.
    std::vector<ValuePtr> pop_mark() {
        if (marks_.empty()) {
            refuse(fmt::format("no MARK before byte {}", pos_));
        }
        const std::size_t mark = marks_.back();
        marks_.pop_back();
        std::vector<ValuePtr> items(
            std::make_move_iterator(stack_.begin() + static_cast<std::ptrdiff_t>(mark)),
            std::make_move_iterator(stack_.end()));
        stack_.resize(mark);
        return items;
    }

    ValuePtr tuple(std::vector<ValuePtr> items) {
        auto v = make(Value::Kind::kTuple);
        v->items = std::move(items);
        return v;
    }

    ValuePtr integer(std::int64_t i) {
        auto v = make(Value::Kind::kInt);
        v->integer = i;
        return v;
    }

    ValuePtr global(const std::string& module, const std::string& name) {
        if (module == "collections" && name == "OrderedDict") {
            return make(Value::Kind::kOrderedDictClass);
        }
        if (module == "torch._utils" && name == "_rebuild_tensor_v2") {
            return make(Value::Kind::kRebuildTensor);
        }
        if (module == "torch") {
            if (const auto dtype = storage_dtype(name)) {
                auto v = make(Value::Kind::kStorageClass);
                v->dtype = *dtype;
                return v;
            }
        }
        refuse(fmt::format("global {}.{}", module, name));
    }

    void set_items(Value& dict, std::vector<ValuePtr>& items) {
        if (dict.kind != Value::Kind::kDict) {
            refuse(fmt::format("SETITEM on a {}", kind_name(dict.kind)));
        }
        if (items.size() % 2 != 0) {
            refuse("SETITEMS with an odd number of items");
        }
        for (std::size_t i = 0; i < items.size(); i += 2) {
            auto& entries = dict.entries;
            auto same = std::find_if(entries.begin(), entries.end(), [&](const auto& e) {
                return e.first->kind == Value::Kind::kString &&
                       items[i]->kind == Value::Kind::kString && e.first->text == items[i]->text;
            });
            if (same != entries.end()) {
                same->second = items[i + 1];
            } else {
                entries.emplace_back(items[i], items[i + 1]);
            }
        }
    }

    std::int64_t as_int(const ValuePtr& v, const char* what) const {
        if (v->kind != Value::Kind::kInt) {
            refuse(fmt::format("{} is a {}, not an int", what, kind_name(v->kind)));
        }
        return v->integer;
    }

    std::vector<std::int64_t> as_ints(const ValuePtr& v, const char* what) const {
        if (v->kind != Value::Kind::kTuple) {
            refuse(fmt::format("{} is a {}, not a tuple", what, kind_name(v->kind)));
        }
        std::vector<std::int64_t> out;
        for (const auto& item : v->items) {
            out.push_back(as_int(item, what));
        }
        return out;
    }

    /// BINPERSID: ('storage', torch.<Type>Storage, key, location, element count). The location
    /// ("cpu", "cuda:0", ...) is ignored: every storage is read into CPU memory (D-28).
    ValuePtr load_storage(const ValuePtr& pid) {
        if (pid->kind != Value::Kind::kTuple || pid->items.size() != 5 ||
            pid->items[0]->kind != Value::Kind::kString || pid->items[0]->text != "storage" ||
            pid->items[1]->kind != Value::Kind::kStorageClass ||
            pid->items[2]->kind != Value::Kind::kString ||
            pid->items[3]->kind != Value::Kind::kString) {
            refuse("a persistent id is not ('storage', type, key, location, size)");
        }
        const torch::ScalarType dtype = pid->items[1]->dtype;
        const std::string& key = pid->items[2]->text;
        const std::int64_t numel = as_int(pid->items[4], "a storage size");
        if (numel < 0) {
            refuse("a storage size is negative");
        }
        auto cached = storages_.find(key);
        if (cached == storages_.end()) {
            const std::string record = "data/" + key;
            if (!reader_.hasRecord(record)) {
                throw Error(
                    source_,
                    fmt::format("the storage record '{}' is missing from the archive", record),
                    kCorruptFix);
            }
            auto [bytes, byte_count] = reader_.getRecord(record);
            const auto item_size = static_cast<std::size_t>(c10::elementSize(dtype));
            if (byte_count != static_cast<std::size_t>(numel) * item_size) {
                throw Error(source_,
                            fmt::format("the storage record '{}' holds {} bytes, {} x {} expected",
                                        record, byte_count, numel, item_size),
                            kCorruptFix);
            }
            auto storage = torch::empty({numel}, torch::TensorOptions().dtype(dtype));  // [numel]
            if (byte_count > 0) {
                std::memcpy(storage.data_ptr(), bytes.get(), byte_count);
            }
            cached = storages_.emplace(key, std::move(storage)).first;
        } else if (cached->second.scalar_type() != dtype || cached->second.numel() != numel) {
            refuse(fmt::format("storage '{}' is recorded with two types or sizes", key));
        }
        auto v = make(Value::Kind::kStorage);
        v->tensor = cached->second;
        return v;
    }

    /// _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, backward_hooks[,
    /// metadata]).
    ValuePtr rebuild_tensor(const ValuePtr& args) {
        if (args->kind != Value::Kind::kTuple || args->items.size() < 6 || args->items.size() > 7) {
            refuse("_rebuild_tensor_v2 called with other arguments than a tensor's");
        }
        const auto& a = args->items;
        if (a[0]->kind != Value::Kind::kStorage) {
            refuse("_rebuild_tensor_v2 called without a storage");
        }
        const torch::Tensor& storage = a[0]->tensor;
        const std::int64_t offset = as_int(a[1], "a tensor offset");
        const auto sizes = as_ints(a[2], "a tensor size");
        const auto strides = as_ints(a[3], "a tensor stride");
        if (sizes.size() != strides.size()) {
            refuse("a tensor has not as many strides as sizes");
        }
        std::int64_t last = offset;  // the furthest element the view reads
        bool empty = false;
        for (std::size_t d = 0; d < sizes.size(); ++d) {
            if (sizes[d] < 0 || strides[d] < 0) {
                refuse("a tensor has a negative size or stride");
            }
            if (sizes[d] == 0) {
                empty = true;
            }
            last += (sizes[d] > 0 ? sizes[d] - 1 : 0) * strides[d];
        }
        if (offset < 0 || (!empty && last >= storage.numel())) {
            throw Error(
                source_,
                fmt::format("a tensor reads element {} of a storage of {}", last, storage.numel()),
                kCorruptFix);
        }
        auto v = make(Value::Kind::kTensor);
        // Copies: a view of a saved slice keeps its whole base storage alive otherwise, and
        // callers get plain contiguous tensors.
        v->tensor =
            empty ? torch::empty(sizes, storage.options())
                  : storage.as_strided(sizes, strides, offset).clone(at::MemoryFormat::Contiguous);
        return v;
    }

    ValuePtr reduce(const ValuePtr& callable, const ValuePtr& args) {
        switch (callable->kind) {
            case Value::Kind::kOrderedDictClass:
                if (args->kind != Value::Kind::kTuple || !args->items.empty()) {
                    refuse("collections.OrderedDict called with arguments");
                }
                return make(Value::Kind::kDict);
            case Value::Kind::kRebuildTensor:
                return rebuild_tensor(args);
            default:
                refuse(fmt::format("a {} is called", kind_name(callable->kind)));
        }
    }

    ValuePtr execute() {
        while (true) {
            const auto opcode = static_cast<unsigned char>(*take(1));
            switch (opcode) {
                case 0x80: {  // PROTO
                    const auto protocol = little_endian(1);
                    if (protocol < 2 || protocol > 5) {
                        refuse(fmt::format("pickle protocol {}", protocol));
                    }
                    break;
                }
                case 0x95:  // FRAME (protocol 4): a length hint only
                    take(8);
                    break;
                case '.':  // STOP
                    return pop();
                case '(':  // MARK
                    marks_.push_back(stack_.size());
                    break;
                case '}':  // EMPTY_DICT
                    stack_.push_back(make(Value::Kind::kDict));
                    break;
                case ']':  // EMPTY_LIST
                    stack_.push_back(make(Value::Kind::kList));
                    break;
                case ')':  // EMPTY_TUPLE
                    stack_.push_back(tuple({}));
                    break;
                case 't':  // TUPLE
                    stack_.push_back(tuple(pop_mark()));
                    break;
                case 0x85:    // TUPLE1
                case 0x86:    // TUPLE2
                case 0x87: {  // TUPLE3
                    std::vector<ValuePtr> items(static_cast<std::size_t>(opcode - 0x84));
                    for (auto it = items.rbegin(); it != items.rend(); ++it) {
                        *it = pop();
                    }
                    stack_.push_back(tuple(std::move(items)));
                    break;
                }
                case 'N':  // NONE
                    stack_.push_back(make(Value::Kind::kNone));
                    break;
                case 0x88:    // NEWTRUE
                case 0x89: {  // NEWFALSE
                    auto v = make(Value::Kind::kBool);
                    v->integer = opcode == 0x88 ? 1 : 0;
                    stack_.push_back(v);
                    break;
                }
                case 'K':  // BININT1
                    stack_.push_back(integer(static_cast<std::int64_t>(little_endian(1))));
                    break;
                case 'M':  // BININT2
                    stack_.push_back(integer(static_cast<std::int64_t>(little_endian(2))));
                    break;
                case 'J': {  // BININT: signed 32-bit
                    const auto u = static_cast<std::uint32_t>(little_endian(4));
                    std::int32_t i = 0;
                    std::memcpy(&i, &u, sizeof i);
                    stack_.push_back(integer(i));
                    break;
                }
                case 0x8a: {  // LONG1: n-byte two's complement
                    const auto n = static_cast<std::size_t>(little_endian(1));
                    if (n > 8) {
                        refuse("an integer wider than 64 bits");
                    }
                    std::uint64_t u = n == 0 ? 0 : little_endian(n);
                    if (n > 0 && n < 8 && (u >> (8 * n - 1)) != 0) {
                        u |= ~std::uint64_t{0} << (8 * n);
                    }
                    std::int64_t i = 0;
                    std::memcpy(&i, &u, sizeof i);
                    stack_.push_back(integer(i));
                    break;
                }
                case 'G': {  // BINFLOAT: big-endian double
                    const auto* p = reinterpret_cast<const unsigned char*>(take(8));
                    std::uint64_t u = 0;
                    for (int k = 0; k < 8; ++k) {
                        u = (u << 8) | p[k];
                    }
                    auto v = make(Value::Kind::kFloat);
                    std::memcpy(&v->real, &u, sizeof u);
                    stack_.push_back(v);
                    break;
                }
                case 'X':     // BINUNICODE
                case 0x8c: {  // SHORT_BINUNICODE (protocol 4)
                    const auto n = static_cast<std::size_t>(little_endian(opcode == 'X' ? 4 : 1));
                    auto v = make(Value::Kind::kString);
                    v->text.assign(take(n), n);
                    stack_.push_back(v);
                    break;
                }
                case 'q':  // BINPUT
                    memo_[little_endian(1)] = top();
                    break;
                case 'r':  // LONG_BINPUT
                    memo_[little_endian(4)] = top();
                    break;
                case 0x94: {  // MEMOIZE (protocol 4)
                    const auto index = memo_.size();
                    memo_[index] = top();
                    break;
                }
                case 'h':    // BINGET
                case 'j': {  // LONG_BINGET
                    const auto index = little_endian(opcode == 'h' ? 1 : 4);
                    const auto found = memo_.find(index);
                    if (found == memo_.end()) {
                        refuse(fmt::format("memo entry {} read before written", index));
                    }
                    stack_.push_back(found->second);
                    break;
                }
                case 'c': {  // GLOBAL "module\nname\n"
                    const std::string module = line();
                    stack_.push_back(global(module, line()));
                    break;
                }
                case 0x93: {  // STACK_GLOBAL (protocol 4)
                    const auto name = pop();
                    const auto module = pop();
                    if (name->kind != Value::Kind::kString ||
                        module->kind != Value::Kind::kString) {
                        refuse("STACK_GLOBAL without two strings");
                    }
                    stack_.push_back(global(module->text, name->text));
                    break;
                }
                case 'Q':  // BINPERSID
                    stack_.push_back(load_storage(pop()));
                    break;
                case 'R': {  // REDUCE
                    const auto args = pop();
                    const auto callable = pop();
                    stack_.push_back(reduce(callable, args));
                    break;
                }
                case 's': {  // SETITEM
                    std::vector<ValuePtr> items(2);
                    items[1] = pop();
                    items[0] = pop();
                    set_items(*top(), items);
                    break;
                }
                case 'u': {  // SETITEMS
                    auto items = pop_mark();
                    set_items(*top(), items);
                    break;
                }
                case 'a': {  // APPEND
                    const auto item = pop();
                    if (top()->kind != Value::Kind::kList) {
                        refuse("APPEND to a non-list");
                    }
                    top()->items.push_back(item);
                    break;
                }
                case 'e': {  // APPENDS
                    auto items = pop_mark();
                    if (top()->kind != Value::Kind::kList) {
                        refuse("APPENDS to a non-list");
                    }
                    for (auto& item : items) {
                        top()->items.push_back(std::move(item));
                    }
                    break;
                }
                case 'b': {  // BUILD: a state dict's `_metadata` attribute, not needed
                    pop();
                    if (top()->kind != Value::Kind::kDict) {
                        refuse(fmt::format("BUILD on a {}", kind_name(top()->kind)));
                    }
                    break;
                }
                default:
                    refuse(fmt::format("pickle opcode 0x{:02x} at byte {}",
                                       static_cast<unsigned>(opcode), pos_ - 1));
            }
        }
    }

    caffe2::serialize::PyTorchStreamReader& reader_;
    std::string source_;
    const char* data_ = nullptr;
    std::size_t size_ = 0;
    std::size_t pos_ = 0;
    std::vector<ValuePtr> stack_;
    std::vector<std::size_t> marks_;
    std::unordered_map<std::uint64_t, ValuePtr> memo_;
    std::map<std::string, torch::Tensor> storages_;
};

/// The first bytes of the file, to tell the legacy (pre-1.6) format from a damaged zip.
std::string file_head(const fs::path& path, std::size_t n) {
    std::ifstream in(path, std::ios::binary);
    std::string head(n, '\0');
    in.read(head.data(), static_cast<std::streamsize>(n));
    head.resize(static_cast<std::size_t>(in.gcount()));
    return head;
}

}  // namespace

std::map<std::string, torch::Tensor> read_torch_state_dict(const fs::path& path) {
    const std::string source = path.string();
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
        throw Error(source, fs::exists(path, ec) ? "is not a file" : "file not found",
                    "Pass the model.pth of a reference run (or its run folder)");
    }
    const std::string head = file_head(path, 4);
    if (head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x80 && head[1] == '\x02') {
        throw Error(
            source,
            fmt::format("{} (the legacy pre-1.6 torch.save format, not a zip)", kNotStateDict),
            "Re-save it under PyTorch >= 1.6: torch.save(torch.load(path), path)");
    }
    if (head != std::string("PK\x03\x04", 4)) {
        throw Error(source, fmt::format("{} (not a zip file)", kNotStateDict), kStateDictFix);
    }
    try {
        caffe2::serialize::PyTorchStreamReader reader(source);
        if (!reader.hasRecord("data.pkl")) {
            throw Error(source, fmt::format("{} (the zip has no data.pkl record)", kNotStateDict),
                        kStateDictFix);
        }
        if (reader.hasRecord("byteorder")) {
            auto [bytes, n] = reader.getRecord("byteorder");
            const std::string order(static_cast<const char*>(bytes.get()), n);
            if (order != "little") {
                throw Error(source, fmt::format("storages are stored {}-endian", order),
                            "Re-save the state dict on a little-endian machine");
            }
        }
        auto [pickle, pickle_size] = reader.getRecord("data.pkl");
        StateDictUnpickler unpickler(reader, source);
        return unpickler.run(static_cast<const char*>(pickle.get()), pickle_size);
    } catch (const c10::Error& e) {
        // miniz's messages: a truncated file has no central directory, a zip of another
        // program has no "<prefix>/version" record. LibTorch's miniz does not check the CRC of
        // stored records, so a flipped byte inside a storage is not detected here (torch.load
        // does not detect it either).
        throw Error(source, fmt::format("unreadable zip archive ({})", e.what_without_backtrace()),
                    kCorruptFix);
    }
}

ModelConfig read_reference_config(const fs::path& json_path) {
    const std::string source = json_path.string();
    ModelConfig config = parse_model_config(
        core::read_text_file(
            json_path, "config file not found or unreadable",
            "Pass the config.json of the reference run, or a config with --config"),
        source);
    // REFCOMPAT: the reference has no condition_layout key; its network always takes the
    // reference's static channels (MODEL.md §1.2), whatever our default is.
    config.model.condition_layout = ConditionLayout::kReference;
    return config;
}

ZoomDiffNet load_reference_run(const fs::path& folder_or_pth, const ModelConfig* config_override,
                               std::uint64_t seed, ModelConfig* config_out) {
    std::error_code ec;
    const bool is_folder = fs::is_directory(folder_or_pth, ec);
    const fs::path pth = is_folder ? folder_or_pth / "model.pth" : folder_or_pth;
    if (is_folder && !fs::exists(pth, ec)) {
        throw Error(folder_or_pth.string(), "has no model.pth",
                    "Pass a reference run folder (ZoomDiff/save/<run>) after training finished, or "
                    "the .pth itself");
    }
    const fs::path json = pth.parent_path() / "config.json";

    ModelConfig config;
    if (config_override != nullptr) {
        config = *config_override;
        if (config.model.condition_layout != ConditionLayout::kReference) {
            spdlog::warn(
                "{}: a reference checkpoint takes the reference's conditions; using "
                "condition_layout reference instead of {}",
                pth.string(), to_string(config.model.condition_layout));
            config.model.condition_layout = ConditionLayout::kReference;
        }
    } else if (fs::exists(json, ec)) {
        config = read_reference_config(json);
    } else {
        throw Error(pth.string(),
                    fmt::format("no config given and no {} beside it", json.filename().string()),
                    "Pass the configuration the reference was trained with (--config), or keep "
                    "config.json in "
                    "the run folder");
    }

    // Read before building: a bad file fails before any allocation of the model.
    const auto tensors = read_torch_state_dict(pth);

    ZoomDiffNet net(config);
    auto generator = GeneratorNoise::cpu_generator(seed);
    net->reset_parameters(generator);
    load_named_tensors(net, tensors, pth.string(), /*allow_missing_spatial=*/true);
    // REFCOMPAT (D-1): the reference never saved its spatial tables; ours come from --seed.
    spdlog::warn(
        "{}: the reference does not save its spatial embedding; drawn from seed {} instead",
        pth.string(), seed);
    if (config_out != nullptr) {
        *config_out = config;
    }
    return net;
}

}  // namespace zoomdiff::model
