#include "zoomdiff/core/file_hash.hpp"

#include <array>
#include <fstream>
#include <memory>

#include <openssl/evp.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::core {
namespace {

struct DigestDeleter {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

/// Incremental SHA-256 over OpenSSL's EVP interface.
class Sha256 {
public:
    Sha256() : ctx_(EVP_MD_CTX_new()) {
        if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) {
            throw Error("sha256", "OpenSSL could not start a digest",
                        "Check the OpenSSL installation", ExitCode::kInternal);
        }
    }

    void update(const char* data, std::size_t size) { EVP_DigestUpdate(ctx_.get(), data, size); }

    std::string hex() {
        std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
        unsigned int size = 0;
        EVP_DigestFinal_ex(ctx_.get(), digest.data(), &size);
        static constexpr char kHex[] = "0123456789abcdef";
        std::string out;
        for (unsigned int i = 0; i < size; ++i) {
            out += kHex[digest[i] >> 4];
            out += kHex[digest[i] & 15];
        }
        return out;
    }

private:
    std::unique_ptr<EVP_MD_CTX, DigestDeleter> ctx_;
};

}  // namespace

std::string sha256_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error(path.string(), "cannot be read to hash it",
                    "Check that the file exists and is readable");
    Sha256 digest;
    std::array<char, 1 << 16> buffer{};
    while (in) {
        in.read(buffer.data(), buffer.size());
        digest.update(buffer.data(), static_cast<std::size_t>(in.gcount()));
    }
    if (in.bad())
        throw Error(path.string(), "read failed while hashing", "Check the disk and the file");
    return digest.hex();
}

std::string sha256_text(const std::string& text) {
    Sha256 digest;
    digest.update(text.data(), text.size());
    return digest.hex();
}

}  // namespace zoomdiff::core
