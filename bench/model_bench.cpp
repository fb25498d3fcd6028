// The model's kernels at a configuration (base.yaml by default), each in a forked child so that
// its peak RSS is its own: the machine's fp32 matmul ceiling (one large torch::mm), one denoiser
// call, one training step per batch size (loss, backward, clip_grad_norm_ 1.0, Adam lr 1e-3 with
// weight decay 1e-6: reference/MODEL.md §4.7) and one full sampling run. Prints a Markdown table
// with seconds, peak RSS, the analytic FLOP count (formula below and in bench/README.md), the
// achieved GFLOP/s and its share of the measured matmul ceiling. Random weights and inputs: the
// timings do not depend on values.
//
//   model_bench [--threads N] [--measure ceiling,denoise,train,sample] [--batches 16,32,128]
//               [--tiles 16] [--sample-steps 400] [--repeats 3] [--train-repeats 2] [--quick]
//               [--config base.yaml] [--layout reference|corrected] [--rss-limit-mib N]
//
// FLOPs (multiply-add = 2) of one denoiser forward on B tiles, P = B * H*W * L positions, C
// channels, F = 64 (FFN width), L = 168 hours, `layers` residual blocks; only the matrix products
// are counted (softmax, GELU, gates, layer norms and adds are not):
//   per block: 2P (3C^2 in-proj + C^2 out-proj + 2CF FFN + 2C^2 mid + 2C^2 output) + 4PLC attention
//   head:      2P (C input projection + C^2 output_projection1 + C output_projection2)
// Training step = 3 x forward (backward = one product for the input gradient and one for the
// weight gradient per forward product). The step-invariant projections (side information,
// conditions) are done once per batch here and are not counted; the reference does them on every
// call: 2P (D_side + 4 + 21) 2C more per block (bench/reference_model_bench.py counts those).

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "run_in_child.hpp"
#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>
#include <c10/core/InferenceMode.h>
#include <malloc.h>
#include <torch/torch.h>  // also torch::nn::utils::clip_grad_norm_ and torch::optim::Adam

#include "zoomdiff/model/config.hpp"
#include "zoomdiff/model/diffusion.hpp"
#include "zoomdiff/model/network.hpp"

namespace {

namespace zm = zoomdiff::model;
using zoomdiff::bench::ChildOutcome;
using zoomdiff::bench::try_run_in_child;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

/// What a measuring child sends back.
struct Timing {
    double best = 0;  ///< fastest repeat (s)
    double mean = 0;  ///< mean of the repeats (s)
    int repeats = 0;
    double value = 0;  ///< a by-product to keep the work observable (loss, GFLOP/s of the ceiling)
};

struct Options {
    int threads = 0;
    std::vector<std::string> measure{"ceiling", "denoise", "train", "sample"};
    std::vector<std::int64_t> batches{16, 32, 128};
    std::int64_t tiles = 16;
    int sample_steps = 0;  // 0: num_steps of the config
    int repeats = 3;
    int train_repeats = 2;
    int ceiling_size = 4096;
    std::string config = "base.yaml";
    std::string layout = "reference";
    long rss_limit_mib = 0;    // 0: derived from the machine
    double quiet_wait = 0;     // seconds to wait for an idle machine before each measurement
    bool heap_malloc = false;  // mallopt: no mmap'd chunks, little trimming (see --heap-malloc)
    bool quick = false;
};

bool wants(const Options& o, const std::string& what) {
    return std::find(o.measure.begin(), o.measure.end(), what) != o.measure.end();
}

// ---- FLOP counts (see the header comment)
// ----------------------------------------------------------

double denoiser_flops(const zm::ModelConfig& c, std::int64_t batch) {
    const double channels = c.diffusion.channels;
    const double ffn = zm::kFeedForward;
    const double hours = zm::kHours;
    const double side = static_cast<double>(c.tile_side());
    const double positions = static_cast<double>(batch) * side * side * hours;
    const double block = 2 * positions * (8 * channels * channels + 2 * channels * ffn) +
                         4 * positions * hours * channels;
    const double head = 2 * positions * (channels * channels + 2 * channels);
    return c.diffusion.layers * block + head;
}

double training_flops(const zm::ModelConfig& c, std::int64_t batch) {
    return 3 * denoiser_flops(c, batch);
}

// ---- inputs
// ----------------------------------------------------------------------------------------

zm::BatchConditions random_conditions(const zm::ModelConfig& c, std::int64_t batch,
                                      at::Generator& gen) {
    const auto side = c.tile_side();
    zm::BatchConditions conditions;
    // Raw magnitudes like the city files' (people, metres, m², counts); values do not change
    // timings.
    conditions.cond_static = torch::rand({batch, c.static_channels(), side, side}, gen) * 1000.0;
    conditions.cond_poi =
        torch::randint(0, 20, {batch, c.poi_channels(), side, side}, gen, torch::kFloat);
    conditions.timepoints = torch::arange(zm::kHours, torch::kFloat)
                                .unsqueeze(0)
                                .expand({batch, zm::kHours})
                                .contiguous();
    return conditions;
}

zm::ZoomDiffNet make_net(const zm::ModelConfig& c, at::Generator& gen) {
    zm::ZoomDiffNet net(c);
    net->reset_parameters(gen);
    return net;
}

template <typename Body>
Timing time_repeats(int repeats, Body&& body) {
    Timing t;
    t.best = 1e300;
    double total = 0;
    for (int r = 0; r < repeats; ++r) {
        const auto start = Clock::now();
        t.value = body();
        const double s = seconds_since(start);
        t.best = std::min(t.best, s);
        total += s;
    }
    t.repeats = repeats;
    t.mean = total / repeats;
    return t;
}

// ---- the measurements, each run inside its own child
// -----------------------------------------------

Timing measure_ceiling(int threads, int n, int repeats) {
    at::set_num_threads(threads);
    auto gen = zm::GeneratorNoise::cpu_generator(1);
    const auto a = torch::randn({n, n}, gen);
    const auto b = torch::randn({n, n}, gen);
    auto c = torch::mm(a, b);  // warm-up
    auto t = time_repeats(repeats, [&] {
        torch::mm_out(c, a, b);
        return static_cast<double>(c[0][0].item<float>());
    });
    t.value = 2.0 * n * static_cast<double>(n) * n / t.best / 1e9;
    return t;
}

Timing measure_denoise(const zm::ModelConfig& c, int threads, std::int64_t tiles, int repeats) {
    at::set_num_threads(threads);
    auto gen = zm::GeneratorNoise::cpu_generator(1);
    auto net = make_net(c, gen);
    net->eval();
    c10::InferenceMode inference;
    const auto conditions = random_conditions(c, tiles, gen);
    const auto context = net->prepare(conditions, c.segments() - 1);
    const auto side = c.tile_side();
    const auto x = torch::randn({tiles, zm::kFeatures, zm::kHours, side, side}, gen);
    const auto steps = torch::full({1}, 0, torch::kLong);
    (void)net->denoise(x, steps, context);  // warm-up
    return time_repeats(repeats, [&] {
        return static_cast<double>(net->denoise(x, steps, context).sum().item<float>());
    });
}

Timing measure_training(const zm::ModelConfig& c, int threads, std::int64_t batch, int repeats) {
    at::set_num_threads(threads);
    auto gen = zm::GeneratorNoise::cpu_generator(1);
    auto net = make_net(c, gen);
    net->train();
    zm::MultiScaleDiffusion diffusion(net);
    torch::optim::Adam adam(net->parameters(),
                            torch::optim::AdamOptions(c.train.lr).weight_decay(1e-6));
    zm::GeneratorNoise noise(zm::GeneratorNoise::cpu_generator(2));
    const auto conditions = random_conditions(c, batch, gen);
    const auto side = c.tile_side();
    const auto x0 = torch::rand({batch, zm::kFeatures, zm::kHours, side, side}, gen);
    const auto parameters = net->parameters();
    const auto step = [&] {
        adam.zero_grad();
        auto loss = diffusion.loss(x0, conditions, noise);
        loss.backward();
        torch::nn::utils::clip_grad_norm_(parameters, 1.0);
        adam.step();
        return loss.item<double>();
    };
    (void)step();  // warm-up: allocates Adam's moments and the gradients
    return time_repeats(repeats, step);
}

Timing measure_sampling(zm::ModelConfig c, int threads, std::int64_t tiles, int steps) {
    at::set_num_threads(threads);
    c.diffusion.num_steps = steps;
    auto gen = zm::GeneratorNoise::cpu_generator(1);
    auto net = make_net(c, gen);
    zm::MultiScaleDiffusion diffusion(net);
    const auto conditions = random_conditions(c, tiles, gen);
    {
        // Warm-up: one denoiser call at the sampler's shapes.
        c10::InferenceMode inference;
        net->eval();
        const auto context = net->prepare(conditions, 0);
        const auto side = c.tile_side();
        (void)net->denoise(torch::randn({tiles, zm::kFeatures, zm::kHours, side, side}, gen),
                           torch::full({1}, 0, torch::kLong), context);
    }
    zm::GeneratorNoise noise(zm::GeneratorNoise::cpu_generator(3));
    return time_repeats(1, [&] {
        const auto out = diffusion.sample(conditions, 1, noise);
        return static_cast<double>(out.samples.sum().item<float>());
    });
}

// ---- machine facts
// ---------------------------------------------------------------------------------

std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("model name", 0) == 0)
            return line.substr(line.find(':') + 2);
    }
    return "unknown CPU";
}

bool cpu_has(const std::string& flag) {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("flags", 0) == 0)
            return (line + " ").find(" " + flag + " ") != std::string::npos;
    }
    return false;
}

std::string load_average() {
    std::ifstream in("/proc/loadavg");
    std::string one;
    std::string five;
    in >> one >> five;
    return one + " / " + five;
}

/// Busy CPU seconds of the whole machine since boot (user, nice, system, irq, softirq, steal).
double machine_busy_seconds() {
    std::ifstream in("/proc/stat");
    std::string cpu;
    long long v[8] = {};
    in >> cpu;
    for (auto& x : v)
        in >> x;
    return static_cast<double>(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) /
           static_cast<double>(sysconf(_SC_CLK_TCK));
}

/// Waits (at most `max_s`) for three consecutive seconds in which the machine is at least 90 %
/// idle; returns the seconds waited.
double wait_for_quiet(double max_s) {
    const auto start = Clock::now();
    const double cores = std::max(1U, std::thread::hardware_concurrency());
    int quiet = 0;
    while (quiet < 3 && seconds_since(start) < max_s) {
        const double before = machine_busy_seconds();
        std::this_thread::sleep_for(std::chrono::seconds(1));
        quiet = machine_busy_seconds() - before <= 0.1 * cores ? quiet + 1 : 0;
    }
    return seconds_since(start);
}

std::string malloc_description(bool heap_malloc) {
    if (heap_malloc)
        return "malloc: glibc, heap only, trim above 2 GiB (--heap-malloc)";
    const char* preload = std::getenv("LD_PRELOAD");
    const char* conf = std::getenv("MALLOC_CONF");
    if (preload != nullptr && std::string(preload).find("malloc") != std::string::npos) {
        return std::string("malloc: LD_PRELOAD=") + preload +
               (conf != nullptr ? std::string(" MALLOC_CONF=") + conf : "");
    }
    const char* tunables = std::getenv("GLIBC_TUNABLES");
    return tunables != nullptr ? std::string("malloc: glibc, GLIBC_TUNABLES=") + tunables
                               : "malloc: glibc defaults";
}

long meminfo_kb(const std::string& key) {
    std::ifstream in("/proc/meminfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(key + ":", 0) == 0)
            return std::strtol(line.c_str() + key.size() + 1, nullptr, 10);
    }
    return 0;
}

// ---- the table
// -------------------------------------------------------------------------------------

struct Row {
    std::string kernel;
    std::int64_t batch = 0;
    ChildOutcome<Timing> run;
    double flops = 0;       // of one timed unit
    double divide_by = 1;   // seconds of one unit = measured / divide_by (per-step rows)
    double other_load = 0;  // cores busy with other processes while the child ran
    std::string note;
};

std::string fixed(double v, int digits) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

void print_table(const std::vector<Row>& rows, double ceiling_gflops) {
    std::printf(
        "| kernel | batch | seconds (best) | seconds (mean) | repeats | peak RSS (MiB) | GFLOP | "
        "GFLOP/s | share of ceiling | other load (cores) |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (const auto& row : rows) {
        const double rss = static_cast<double>(row.run.peak_rss_kb) / 1024.0;
        if (!row.run.ok) {
            std::printf("| %s | %s | **%s** | | | %s | %s | | | %s |\n", row.kernel.c_str(),
                        row.batch > 0 ? std::to_string(row.batch).c_str() : "",
                        row.run.failure.c_str(), fixed(rss, 0).c_str(),
                        row.flops > 0 ? fixed(row.flops / 1e9, 1).c_str() : "",
                        fixed(row.other_load, 2).c_str());
            continue;
        }
        const double best = row.run.result.best / row.divide_by;
        const double mean = row.run.result.mean / row.divide_by;
        std::string gflops;
        std::string share;
        if (row.flops > 0) {
            const double rate = row.flops / best / 1e9;
            gflops = fixed(rate, 1);
            if (ceiling_gflops > 0)
                share = fixed(100.0 * rate / ceiling_gflops, 1) + " %";
        }
        std::printf("| %s | %s | %s | %s | %d | %s | %s | %s | %s | %s |\n", row.kernel.c_str(),
                    row.batch > 0 ? std::to_string(row.batch).c_str() : "",
                    fixed(best, best < 10 ? 3 : 1).c_str(), fixed(mean, mean < 10 ? 3 : 1).c_str(),
                    row.run.result.repeats, fixed(rss, 0).c_str(),
                    row.flops > 0 ? fixed(row.flops / 1e9, 1).c_str() : "", gflops.c_str(),
                    share.c_str(), fixed(row.other_load, 2).c_str());
    }
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    o.threads = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
    CLI::App app{"model kernels: matmul ceiling, denoiser call, training step, sampling run"};
    app.add_option("--threads", o.threads,
                   "intra-op threads (at::set_num_threads); default: all cores");
    app.add_option("--measure", o.measure, "which measurements: ceiling,denoise,train,sample")
        ->delimiter(',');
    app.add_option("--batches", o.batches, "training batch sizes")->delimiter(',');
    app.add_option("--tiles", o.tiles, "tiles of the denoiser call and of the sampling run");
    app.add_option("--sample-steps", o.sample_steps,
                   "diffusion steps of the sampling run (default: num_steps of the config)");
    app.add_option("--repeats", o.repeats,
                   "timed repeats of the ceiling and the denoiser call (after one warm-up)");
    app.add_option("--train-repeats", o.train_repeats,
                   "timed training steps per batch size (after one warm-up)");
    app.add_option("--ceiling-size", o.ceiling_size,
                   "side of the square matrices of the matmul ceiling");
    app.add_option("--config", o.config, "model config (a file, or an embedded name)");
    app.add_option("--layout", o.layout,
                   "condition layout: reference (4 static channels) or corrected");
    app.add_option(
        "--rss-limit-mib", o.rss_limit_mib,
        "kill a measurement above this RSS (default: 85 % of RAM, at most what is available)");
    app.add_option(
        "--quiet-wait", o.quiet_wait,
        "before each measurement, wait up to this many seconds for 3 s of an idle machine");
    app.add_flag("--heap-malloc", o.heap_malloc,
                 "in each measuring child, mallopt(M_MMAP_MAX, 0) and M_TRIM_THRESHOLD 2 GiB - 1: "
                 "large tensors come "
                 "from the brk heap and are reused instead of being mmap'd and page-faulted anew "
                 "on every allocation "
                 "(GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=2147483647 "
                 "does the same to a process)");
    app.add_flag("--quick", o.quick,
                 "a fast smoke run: batch 16, 12 sampling steps, one repeat, 2048² ceiling "
                 "(explicit options win)");
    CLI11_PARSE(app, argc, argv);

    if (o.quick) {  // only what was not given explicitly
        if (app.count("--batches") == 0)
            o.batches = {16};
        if (app.count("--sample-steps") == 0)
            o.sample_steps = 12;
        if (app.count("--repeats") == 0)
            o.repeats = 1;
        if (app.count("--train-repeats") == 0)
            o.train_repeats = 1;
        if (app.count("--ceiling-size") == 0)
            o.ceiling_size = 2048;
    }
    // Nothing in this (parent) process touches ATen's thread pool: each measurement forks first.
    auto config = zm::load_model_config(o.config);
    config.model.condition_layout = zm::parse_condition_layout(o.layout, "--layout");
    const int sample_steps = o.sample_steps > 0 ? o.sample_steps : config.diffusion.num_steps;
    long rss_limit_kb = o.rss_limit_mib * 1024;
    if (rss_limit_kb <= 0) {
        rss_limit_kb =
            std::min(meminfo_kb("MemTotal") * 85 / 100, meminfo_kb("MemAvailable") - 512 * 1024);
    }

    std::printf(
        "model_bench: %s, %s, %u cores, %.1f GiB RAM; LibTorch %s, %d threads; config %s "
        "(C %d, layers %d, T %d), %s layout; %s; RSS limit per measurement %ld MiB; load average "
        "(1 / 5 min) "
        "at start %s\n\n",
        cpu_model().c_str(),
        cpu_has("avx512f") ? "AVX-512" : (cpu_has("avx2") ? "AVX2, no AVX-512" : "no AVX2"),
        std::thread::hardware_concurrency(),
        static_cast<double>(meminfo_kb("MemTotal")) / (1024.0 * 1024.0), TORCH_VERSION, o.threads,
        o.config.c_str(), config.diffusion.channels, config.diffusion.layers,
        config.diffusion.num_steps, o.layout.c_str(), malloc_description(o.heap_malloc).c_str(),
        rss_limit_kb / 1024, load_average().c_str());
    std::fflush(stdout);

    std::vector<Row> rows;
    double ceiling = 0;
    double other_load = 0;  // of the last measurement
    const auto measure = [&](const std::function<Timing()>& work, long limit_kb) {
        if (o.quiet_wait > 0) {
            const double waited = wait_for_quiet(o.quiet_wait);
            if (waited > 3.5)
                std::fprintf(stderr, "  (waited %.0f s for a quiet machine)\n", waited);
        }
        const double busy_before = machine_busy_seconds();
        const auto start = Clock::now();
        auto run = try_run_in_child<Timing>(
            [&] {
                if (o.heap_malloc) {
                    mallopt(M_MMAP_MAX, 0);
                    mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
                }
                return work();
            },
            limit_kb);
        const double wall = seconds_since(start);
        other_load = std::max(0.0, (machine_busy_seconds() - busy_before - run.cpu_seconds) / wall);
        return run;
    };
    const auto report = [&](Row& row) {
        row.other_load = other_load;
        const auto& r = row.run;
        if (r.ok) {
            std::fprintf(stderr, "  %s, batch %lld: %.3f s, peak RSS %.0f MiB\n",
                         row.kernel.c_str(), static_cast<long long>(row.batch),
                         r.result.best / row.divide_by,
                         static_cast<double>(r.peak_rss_kb) / 1024.0);
        } else {
            std::fprintf(stderr, "  %s, batch %lld: %s\n", row.kernel.c_str(),
                         static_cast<long long>(row.batch), r.failure.c_str());
        }
    };

    if (wants(o, "ceiling")) {
        Row row;
        row.kernel = "matmul ceiling: torch::mm " + std::to_string(o.ceiling_size) + "²";
        row.flops = 2.0 * std::pow(static_cast<double>(o.ceiling_size), 3);
        row.run = measure([&] { return measure_ceiling(o.threads, o.ceiling_size, o.repeats); },
                          rss_limit_kb);
        if (row.run.ok)
            ceiling = row.run.result.value;
        report(row);
        rows.push_back(row);
    }
    if (wants(o, "denoise")) {
        Row row;
        row.kernel = "denoiser call (inference mode)";
        row.batch = o.tiles;
        row.flops = denoiser_flops(config, o.tiles);
        row.run = measure([&] { return measure_denoise(config, o.threads, o.tiles, o.repeats); },
                          rss_limit_kb);
        report(row);
        rows.push_back(row);
    }
    if (wants(o, "train")) {
        for (const auto batch : o.batches) {
            Row row;
            row.kernel = "training step (loss, backward, clip, Adam)";
            row.batch = batch;
            row.flops = training_flops(config, batch);
            row.run =
                measure([&] { return measure_training(config, o.threads, batch, o.train_repeats); },
                        rss_limit_kb);
            report(row);
            rows.push_back(row);
        }
    }
    if (wants(o, "sample")) {
        Row row;
        row.kernel = "sampling run, " + std::to_string(sample_steps) + " steps";
        row.batch = o.tiles;
        row.flops = sample_steps * denoiser_flops(config, o.tiles);
        row.run =
            measure([&] { return measure_sampling(config, o.threads, o.tiles, sample_steps); },
                    rss_limit_kb);
        report(row);
        rows.push_back(row);
        Row per_step = row;
        per_step.kernel = "sampling step (run / " + std::to_string(sample_steps) + ")";
        per_step.flops = denoiser_flops(config, o.tiles);
        per_step.divide_by = sample_steps;
        rows.push_back(per_step);
    }
    print_table(rows, ceiling);
    std::printf("\nLoad average (1 / 5 min) at the end: %s. ", load_average().c_str());
    std::printf(
        "FLOPs: matrix products only, multiply-add = 2; denoiser forward per block "
        "2P(8C²+2CF)+4PLC, "
        "head 2P(C²+2C), P = batch·H·W·L; training = 3 × forward. The peak RSS of a row is that of "
        "its own "
        "forked process (the parent's libraries included). Other load: CPU time of every other "
        "process on the machine "
        "during that measurement, in cores (0 = the bench had the machine to itself).\n");
    return 0;
}
