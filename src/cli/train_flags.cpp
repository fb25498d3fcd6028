#include "zoomdiff/cli/train_flags.hpp"

#include <map>
#include <string>

#include <fmt/format.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::cli {

void add_train_flags(CLI::App& app, model::TrainOptions& request) {
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app.description(
        "Train ZoomDiff on the 2000 m tiles of one or more cities (grid_meta's data files and\n"
        "env_extra's condition files) and write a run folder zoomdiff_infer reads.");
    app.add_option("--dataset", request.dataset,
                   "Cities separated by '*', English or Chinese (Nanchang*Nanjing)");
    app.add_option("--datatype", request.datatype, "traffic or user")
        ->check(CLI::IsMember({"traffic", "user"}))
        ->capture_default_str();
    app.add_option("--device", request.device, "cpu, cuda or cuda:N")->capture_default_str();
    app.add_option(
           "--config", request.config,
           "Model config: a YAML file, or the name of a bundled one (base.yaml, sample.yaml)")
        ->capture_default_str();
    app.add_option("--data_root", request.data_root, "Folder of <City>/data and <City>/cond")
        ->capture_default_str();
    app.add_option("--modelfolder,--out", request.out,
                   "Run folder to create; default save/<datatype>_<dataset>_t<ts>s<ss>_<time>");
    app.add_option("--resume", request.resume, "Continue this run folder from its last checkpoint");
    const std::map<std::string, data::Task> tasks{{"full", data::Task::kFull},
                                                  {"zero_shot", data::Task::kZeroShot},
                                                  {"few_shot", data::Task::kFewShot}};
    app.add_option("--task", request.task,
                   "full (train from scratch), few_shot (fine-tune --base_model on 10 % of the "
                   "train tiles) "
                   "or zero_shot (evaluate --base_model on the cities)")
        ->transform(CLI::CheckedTransformer(tasks, CLI::ignore_case).description(""));
    app.add_option("--base_model", request.base_model,
                   "Run folder (or its model.pt) few/zero-shot start from");
    app.add_option("--epochs", request.epochs, "Override train.epochs (few-shot default 50)")
        ->check(CLI::Range(1, 1000000));
    app.add_option("--batch_size", request.batch_size,
                   "Override train.batch_size (few-shot default 2); distributed, the batch of all "
                   "ranks together")
        ->check(CLI::Range(1, 1 << 20));
    app.add_option("--dist_timeout", request.dist_timeout_s,
                   "Seconds a rank waits for the others (rendezvous, each all-reduce) before it "
                   "stops with an error")
        ->check(CLI::Range(1, 7 * 24 * 3600))
        ->capture_default_str();
    app.add_option("--lr", request.lr, "Override train.lr")->check(CLI::Range(1e-12, 10.0));
    app.add_option("--valid_interval", request.valid_interval,
                   "Override train.valid_interval (0: no validation)")
        ->check(CLI::Range(0, 1000000));
    app.add_option("--checkpoint_every", request.checkpoint_every,
                   "Epochs between resumable checkpoints")
        ->check(CLI::Range(1, 1000000))
        ->capture_default_str();
    // The reference's flags that do nothing in its training script (MODEL.md §4.11, D-27):
    // accepted so its shell scripts keep working.
    app.add_option("--nsample",
                   "The reference's test-set sampling; use zoomdiff_infer / zoomdiff_eval")
        ->group("");
    app.add_option("--nfold", "Accepted for the reference's scripts; unused")->group("");
    app.add_flag("--unconditional", "Accepted for the reference's scripts; unused")->group("");
    app.footer(
        "Example:\n"
        "  zoomdiff_train --dataset Nanchang --datatype traffic --data_root out/sample --config "
        "sample.yaml \\\n"
        "    --out runs/nanchang_traffic --seed 1\n"
        "  zoomdiff_train --resume runs/nanchang_traffic\n"
        "Exit codes: 0 ok, 2 bad input or usage, 1 internal error.");
}

void check_train_flags(const CLI::App& app, const model::TrainOptions& request) {
    if (request.resume.empty())
        return;
    for (const char* flag : {"--dataset", "--datatype", "--config", "--data_root", "--modelfolder",
                             "--task", "--base_model", "--epochs", "--batch_size", "--lr",
                             "--valid_interval", "--checkpoint_every", "--seed"}) {
        if (app.count(flag) > 0) {
            throw Error(
                flag, "cannot be changed when resuming: the run keeps the settings it started with",
                fmt::format("Drop {} (only --threads, --device and logging flags may be given with "
                            "--resume)",
                            flag));
        }
    }
}

}  // namespace zoomdiff::cli
