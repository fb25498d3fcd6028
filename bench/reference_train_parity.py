#!/usr/bin/python3
"""Training parity: the official Python ZoomDiff and zoomdiff trained and sampled at one config and
one seed on one of our prepared cities, both scored by zoomdiff_eval; prints one Markdown table.

    /usr/bin/python3 bench/reference_train_parity.py --reference-dir /tmp/ref/ZoomDiff \\
        --data_root out/sample --dataset Nanchang --config configs/sample.yaml --seed 1 \\
        --epochs 5 --nsample 2 --threads 2 --out out/parity
    (or bench/reference_train_parity.sh with the same flags)

Steps, all inside a temporary working directory (kept with --keep-work):
1. The city: <data_root>/<City>/data/<City>_<datatype>_data.h5 (grid_meta: data_2000m, loc_2000m) and
   <data_root>/<City>/cond/<City>_cond.h5 (env_extra: pop_2000m, building_2000m, roadlen_2000m,
   water_area_2000m, poi_2000m, loc_2000m) are written as the reference's .npz files in its folder
   layout (reference/MODEL.md §4.1): ZoomDiff/datasets/cities/<City>/{data,cond}/*.npz. Nothing is
   written beside the inputs.
2. Configs: the reference's config is its own ZoomDiff/config/base.yaml with every key that our YAML
   also has taken from ours (layers, channels, steps, betas, epochs, batch size, lr, ...). Keys of
   ours that base.yaml lacks are listed as "not in the reference"; base.yaml keys ours lacks keep the
   reference's default and are listed too. Ours: a copy of our YAML with model.condition_layout set
   (--condition_layout, default reference, so both networks see the same condition channels) and,
   with --recipe reference (the default), our recipe keys off (diffusion.standardize, train.ema,
   sampler.*), so both sides train and sample by the reference's recipe.
   --epochs / --batch_size / --lr override both.
3. Training. The reference: ZoomDiff_train.py run with runpy from --reference-dir, in a child
   process whose working directory is the temporary one, after a launcher seeds torch, numpy and
   random with --seed (the reference itself never seeds torch). The launcher only observes: a
   recording SummaryWriter stands in for TensorBoard's (the script logs every batch loss to it), and
   utils.train is wrapped to time it and to move its in-loop validation (every 100 epochs, printed
   only) after the last epoch, where both sides validate once. The script's final test-set sampling
   (utils.evaluate: the 20 % test tiles in full batches, pickled) is replaced: step 4 samples every
   tile. Ours: build/zoomdiff_train at the same config and seed, validating after its last epoch.
4. Sampling every 2000 m tile of the city, --nsample samples each. The reference: its model's own
   evaluate() (the sampler of §3.7, which utils.evaluate and ZoomDiff_infer.py both call) on batches
   of all tiles in file order, conditions stacked as its loader does ([pop, pop, roadlen,
   water_area], POI (21, 4, 4)), inverse-scaled with the scaler its training fitted (what
   utils.evaluate does; no template calibration). Ours: build/zoomdiff_infer --calibration none
   (the training scaler) --segment_start noise (the reference's sampler; --segment_start picks).
   The reference's samples (500 m) and segment ends (2000 m: tile means of segment 0's end; 1000 m:
   2 x 2 means of segment 1's end, as ours stores them) are written into a copy of our results file,
   cell for cell (scripts/results_h5.py), so that zoomdiff_eval --real <data.h5> --mask scores both files
   with the same code.
5. One Markdown table (rows: metrics at --scale, default 500 m; columns: reference | ours), printed
   and written to <out>/parity.md; every number also in <out>/parity.json. Negative fraction and raw
   mean ratio are computed here from the two results files (raw = inverse-scaled, not clipped) over
   the evaluated cells; the real mean is the data file's data_2000m at the same cells.

Needs Debian's python3-torch (PyTorch 1.13, as the goldens), python3-h5py, python3-numpy,
python3-yaml, python3-sklearn, python3-joblib, python3-tqdm (the reference's imports) and the built
tools grid_meta's outputs were made with: zoomdiff_train, zoomdiff_infer, zoomdiff_eval in --build.
Nothing is fetched and nothing of the reference is copied: its scripts and modules run from
--reference-dir.
"""

import argparse
import copy
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

# scripts/results_h5.py reads either layout of our results files (imported where numpy is).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))

HOURS = 168

# Rows of the table: (label, where the value comes from). "eval" rows read zoomdiff_eval's
# metrics.json at the chosen scale; the others are filled in here.
METRICS = [
    ("value JSD", ("eval", "value_jsd", "mean")),
    ("increment JSD", ("eval", "increment_jsd", "mean")),
    ("weekly-profile L1", ("eval", "weekly_profile_error", "l1")),
    ("mean \\|ΔACF\\| at 24 h", ("eval", "acf24", None)),
    ("daily periodicity RMSE", ("eval", "periodicity_share", "daily_rmse", "mean")),
    ("MMD²", ("eval", "mmd", "mean")),
    ("final train loss (mean of the last epoch's batches)", ("run", "train_loss")),
    ("validation loss (after the last epoch)", ("run", "val_loss")),
    ("fraction of negative raw samples", ("raw", "negative_frac")),
    ("raw city mean / real mean", ("raw", "mean_ratio")),
    ("training seconds", ("run", "train_seconds")),
]


# ---- small helpers ------------------------------------------------------------------------------

def die(message):
    print("reference_train_parity: " + message, file=sys.stderr)
    sys.exit(2)


def load_yaml(path):
    import yaml
    with open(path, "r", encoding="utf-8") as f:
        return yaml.safe_load(f)


def dump_yaml(data, path):
    import yaml
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(data, f, sort_keys=False, allow_unicode=True)


def flatten(tree, prefix=""):
    out = {}
    for key, value in tree.items():
        name = prefix + str(key)
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def set_path(tree, dotted, value):
    keys = dotted.split(".")
    for k in keys[:-1]:
        tree = tree.setdefault(k, {})
    tree[keys[-1]] = value


# ---- step 1: our city as the reference's .npz files ---------------------------------------------

COND_KEYS = ("pop_2000m", "building_2000m", "roadlen_2000m", "water_area_2000m", "poi_2000m", "loc_2000m")


def convert_city(data_h5, cond_h5, city, datatype, work):
    import h5py
    import numpy as np
    root = os.path.join(work, "ZoomDiff", "datasets", "cities", city)
    os.makedirs(os.path.join(root, "data"))
    os.makedirs(os.path.join(root, "cond"))
    with h5py.File(data_h5, "r") as f:
        for key in ("data_2000m", "loc_2000m"):
            if key not in f:
                die("%s has no /%s: pass a grid_meta data file" % (data_h5, key))
        data = {k: f[k][()] for k in ("data_2000m", "loc_2000m")}
    if data["data_2000m"].ndim != 5 or data["data_2000m"].shape[2:] != (4, 4, HOURS):
        die("%s: data_2000m is %s, not (R, C, 4, 4, 168)" % (data_h5, data["data_2000m"].shape))
    with h5py.File(cond_h5, "r") as f:
        missing = [k for k in COND_KEYS if k not in f]
        if missing:
            die("%s lacks the reference keys %s: rewrite it with env_extra (README 'Output: <City>_cond.h5')"
                % (cond_h5, ", ".join(missing)))
        cond = {k: f[k][()] for k in COND_KEYS}
    np.savez(os.path.join(root, "data", "%s_%s_data.npz" % (city, datatype)), **data)
    np.savez(os.path.join(root, "cond", "%s_cond.npz" % city), **cond)
    return data["data_2000m"].shape[:2]


# ---- step 2: the two configs ---------------------------------------------------------------------

def make_configs(opts, work):
    ours = load_yaml(opts.config)
    base = load_yaml(os.path.join(opts.reference_dir, "config", "base.yaml"))
    ours_flat = flatten(ours)
    ref = copy.deepcopy(base)
    from_base = []
    for key, default in flatten(base).items():
        if key in ours_flat:
            set_path(ref, key, ours_flat[key])
        else:
            from_base.append("%s = %r" % (key, default))
    for key, value in (("train.epochs", opts.epochs), ("train.batch_size", opts.batch_size), ("train.lr", opts.lr)):
        if value is not None:
            set_path(ref, key, value)
            set_path(ours, key, value)
    if opts.condition_layout != "config":
        set_path(ours, "model.condition_layout", opts.condition_layout)
    if opts.recipe == "reference":
        # Parity means the reference's recipe on our side too: our recipe keys (docs/recipe.md) off.
        set_path(ours, "diffusion.standardize", False)
        for key in ("data_mean", "data_std"):
            ours.get("diffusion", {}).pop(key, None)
        ours.get("train", {}).pop("ema", None)
        ours.pop("sampler", None)
    # As used (after the flags); train.valid_interval is replaced by --valid_interval <epochs>.
    extra = ["%s = %r" % (k, v) for k, v in flatten(ours).items() if k not in flatten(base) and k != "train.valid_interval"]
    os.makedirs(os.path.join(work, "ZoomDiff", "config"))
    dump_yaml(ref, os.path.join(work, "ZoomDiff", "config", "parity.yaml"))
    ours_path = os.path.join(work, "ours.yaml")
    dump_yaml(ours, ours_path)
    return ref, ours, extra, from_base


# ---- step 3 and 4, the reference: the launcher (a child process) ---------------------------------

def reference_child(opts):
    """Runs in the working directory: trains with ZoomDiff_train.py, validates, samples every tile."""
    import random
    import runpy
    import types

    import numpy as np
    import torch

    torch.set_num_threads(opts.threads)
    sys.path.insert(0, opts.reference_dir)
    random.seed(opts.seed)
    np.random.seed(opts.seed)
    torch.manual_seed(opts.seed)

    batch_losses = []  # (epoch, loss) as the script logs them

    class RecordingWriter:
        def __init__(self, *args, **kwargs):
            pass

        def add_scalar(self, tag, value, step=None, *args, **kwargs):
            if tag == "train/loss":
                batch_losses.append((int(step), float(value)))

        def flush(self):
            pass

        def close(self):
            pass

    board = types.ModuleType("torch.utils.tensorboard")
    board.SummaryWriter = RecordingWriter
    sys.modules["torch.utils.tensorboard"] = board

    import utils  # the reference's, from --reference-dir
    timing = {}
    original_train = utils.train

    def timed_train(*args, **kwargs):
        kwargs["valid_epoch_interval"] = 10 ** 9  # validated once below, after the last epoch
        start = time.perf_counter()
        original_train(*args, **kwargs)
        timing["train_seconds"] = time.perf_counter() - start

    def skipped_evaluate(*args, **kwargs):
        timing["evaluate_skipped"] = True

    utils.train = timed_train
    utils.evaluate = skipped_evaluate

    script = os.path.join(opts.reference_dir, "ZoomDiff_train.py")
    sys.argv = [script, "--dataset", opts.dataset, "--datatype", opts.datatype, "--device", "cpu",
                "--config", "parity.yaml", "--seed", str(opts.seed), "--nsample", str(opts.nsample)]
    g = runpy.run_path(script, run_name="__main__")
    model, scaler = g["model"], g["scaler_all"][opts.dataset]
    if not g["train_loader"]:
        raise SystemExit("the reference made no training batch (its loader drops a partial batch): lower "
                         "--batch_size to at most the city's train tiles")
    if "train_seconds" not in timing:
        raise SystemExit("ZoomDiff_train.py did not call utils.train")

    # Validation loss as utils.train computes it (eval mode, no_grad, model(batch, is_train=0) per
    # valid batch), once, after the last epoch; reported as the mean over the batches.
    model.eval()
    start = time.perf_counter()
    losses = []
    with torch.no_grad():
        for batch in g["valid_loader"]:
            losses.append(float(model(batch, is_train=0)))
    val_seconds = time.perf_counter() - start

    # Every tile of the city, conditions as raw_load stacks them (pop twice, D-7).
    cond = np.load(os.path.join("ZoomDiff", "datasets", "cities", opts.dataset, "cond", "%s_cond.npz" % opts.dataset))
    pop = cond["pop_2000m"].astype(np.float32).reshape(-1, 4, 4)
    static = np.stack([pop, pop, cond["roadlen_2000m"].astype(np.float32).reshape(-1, 4, 4),
                       cond["water_area_2000m"].astype(np.float32).reshape(-1, 4, 4)], axis=1)
    poi = cond["poi_2000m"].astype(np.float32).reshape(-1, 4, 4, 21).transpose(0, 3, 1, 2)
    loc = cond["loc_2000m"].astype(np.float32).reshape(-1, 4)
    n = static.shape[0]
    torch.manual_seed(opts.seed)
    samples, ends = [], []
    start = time.perf_counter()
    for first in range(0, n, opts.sample_batch):
        idx = slice(first, min(n, first + opts.sample_batch))
        b = static[idx].shape[0]
        batch = (opts.dataset, {
            "observed_series": torch.zeros(b, 1, HOURS, 4, 4),  # only its shape is used
            "observed_cond_static": torch.from_numpy(np.ascontiguousarray(static[idx])),
            "observed_cond_poi": torch.from_numpy(np.ascontiguousarray(poi[idx])),
            "observed_loc": torch.from_numpy(loc[idx]),
            "timepoints": torch.arange(HOURS).unsqueeze(0).expand(b, HOURS),
            "idex": torch.arange(first, first + b),
        })
        _, s, scale, _, _, _ = model.evaluate(batch, opts.nsample)
        samples.append(s[:, :, 0].numpy())           # (b, ns, 168, 4, 4)
        ends.append(scale[:, :, :2, 0].numpy())      # (b, ns, 2, 168, 4, 4): segments 0 and 1
    sample_seconds = time.perf_counter() - start
    samples = np.concatenate(samples)
    ends = np.concatenate(ends)
    unscale = lambda x: scaler.inverse_transform(x.reshape(-1, 1)).reshape(x.shape).astype(np.float32)

    last = max(e for e, _ in batch_losses) if batch_losses else -1
    last_losses = [v for e, v in batch_losses if e == last]
    np.savez(opts.child_out, samples=unscale(samples), ends=unscale(ends))
    summary = {
        "train_seconds": timing["train_seconds"],
        "train_loss": sum(last_losses) / len(last_losses) if last_losses else float("nan"),
        "train_batches_per_epoch": len(last_losses),
        "epochs_logged": last + 1,
        "val_loss": sum(losses) / len(losses) if losses else float("nan"),
        "val_batches": len(losses),
        "val_seconds": val_seconds,
        "sample_seconds": sample_seconds,
        "run_folder": os.path.abspath(g["foldername"]),
        "scaler": {"data_min": float(scaler.data_min_[0]), "data_max": float(scaler.data_max_[0])},
        "train_tiles_used": len(g["train_loader"]) * g["config"]["train"]["batch_size"],
    }
    with open(opts.child_out + ".json", "w") as f:
        json.dump(summary, f)


def run_reference(opts, work, log_path):
    out = os.path.join(work, "reference_samples.npz")
    cmd = [sys.executable, os.path.abspath(__file__), "--child", "reference", "--child-out", out,
           "--reference-dir", opts.reference_dir, "--dataset", opts.dataset, "--datatype", opts.datatype,
           "--seed", str(opts.seed), "--nsample", str(opts.nsample), "--threads", str(opts.threads),
           "--sample_batch", str(opts.sample_batch),
           "--data_root", opts.data_root, "--config", opts.config]
    with open(log_path, "w") as log:
        rc = subprocess.call(cmd, cwd=work, stdout=log, stderr=subprocess.STDOUT)
    if rc != 0:
        die("the reference's training failed (exit %d); its output: %s" % (rc, log_path))
    with open(out + ".json") as f:
        summary = json.load(f)
    import numpy as np
    arrays = np.load(out)
    return summary, arrays["samples"], arrays["ends"]


# ---- step 3 and 4, ours ----------------------------------------------------------------------------

def run_logged(cmd, log_path):
    with open(log_path, "a") as log:
        log.write("$ " + " ".join(cmd) + "\n")
        log.flush()
        rc = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT)
    if rc != 0:
        die("%s failed (exit %d); its output: %s" % (os.path.basename(cmd[0]), rc, log_path))


def run_ours(opts, work, ours_config, epochs, batch, log_path):
    run_dir = os.path.join(work, "ours_run")
    tool = lambda name: os.path.join(opts.build, name)
    cmd = [tool("zoomdiff_train"), "--dataset", opts.dataset, "--datatype", opts.datatype,
           "--data_root", opts.data_root, "--config", ours_config, "--seed", str(opts.seed),
           "--valid_interval", str(epochs), "--threads", str(opts.threads), "--out", run_dir,
           "--progress", "never"]
    start = time.perf_counter()
    run_logged(cmd, log_path)
    wall = time.perf_counter() - start
    with open(os.path.join(run_dir, "train_log.csv")) as f:
        rows = list(csv.DictReader(f))
    results = os.path.join(work, "ours_results")
    cmd = [tool("zoomdiff_infer"), "--dataset", opts.dataset, "--datatype", opts.datatype,
           "--data_root", opts.data_root, "--modelfolder", run_dir, "--nsample", str(opts.nsample),
           "--calibration", "none", "--format", "h5", "--seed", str(opts.seed), "--threads", str(opts.threads),
           "--batch_size", str(opts.sample_batch), "--out", results, "--progress", "never"]
    if opts.segment_start != "config":
        cmd += ["--segment_start", opts.segment_start]
    start = time.perf_counter()
    run_logged(cmd, log_path)
    sample_seconds = time.perf_counter() - start
    with open(os.path.join(run_dir, "manifest.json")) as f:
        manifest = json.load(f)
    summary = {
        "train_seconds": sum(float(r["seconds"]) for r in rows),
        "train_wall_seconds": wall,
        "train_loss": float(rows[-1]["train_loss"]),
        "val_loss": float(rows[-1]["val_loss"]) if rows[-1]["val_loss"] else float("nan"),
        "epochs_logged": len(rows),
        "sample_seconds": sample_seconds,
        "run_folder": run_dir,
        "train_tiles": manifest["cities"][0].get("train_tiles"),
        "train_tiles_used": manifest["cities"][0].get("train_tiles") // batch * batch,
    }
    return summary, os.path.join(results, "%s_%s.h5" % (opts.dataset, opts.datatype))


# ---- step 4: the reference's samples in our results layout ------------------------------------------

def tiles_to_grid(x, rows, cols, k):
    """(N, ns, 168, 4, 4) tile-major values -> (rows k, cols k, ns, 168): k x k block means of each
    tile placed as geo::tiles_to_grid places them (row = tile row * k + a, from the south)."""
    import numpy as np
    n, ns = x.shape[:2]
    b = 4 // k
    pooled = x.reshape(n, ns, HOURS, k, b, k, b).astype(np.float64).mean(axis=(4, 6))  # (N, ns, 168, k, k)
    grid = pooled.reshape(rows, cols, ns, HOURS, k, k).transpose(0, 4, 1, 5, 2, 3)
    return grid.reshape(rows * k, cols * k, ns, HOURS).astype(np.float32)


def write_reference_results(ours_h5, out_h5, samples, ends, tile_rows, tile_cols, ref_run):
    import h5py
    import results_h5
    shutil.copyfile(ours_h5, out_h5)
    sources = {"2000m": (ends[:, :, 0], 1), "1000m": (ends[:, :, 1], 2), "500m": (samples, 4)}
    with h5py.File(out_h5, "r+") as f:
        for scale, (values, k) in sources.items():
            grid = tiles_to_grid(values, tile_rows, tile_cols, k)
            ours = results_h5.cells(f, scale)
            cells = grid[ours["row"], ours["col"]]                   # (M, ns, 168)
            if ours["samples"].shape != cells.shape:
                die("%s: the %s samples are %s, the reference's %s" % (ours_h5, scale, ours["samples"].shape, cells.shape))
            results_h5.replace_cells(f, scale, cells)
        f.attrs["model_run"] = ref_run
        f.attrs["calibration"] = "none"
        f.attrs["metrics"] = "{}"
        f.attrs["parity_source"] = ("samples of the official Python ZoomDiff (reference_train_parity.py); "
                                    "grid, mask and other attributes copied from " + ours_h5)


# ---- step 5: scores and the table -------------------------------------------------------------------

def run_eval(opts, real_h5, generated_h5, out_dir, log_path):
    cmd = [os.path.join(opts.build, "zoomdiff_eval"), "--real", real_h5, "--generated", generated_h5,
           "--mask", "--seed", str(opts.seed), "--threads", str(opts.threads), "--out", out_dir, "-q",
           "--progress", "never"]
    run_logged(cmd, log_path)
    with open(os.path.join(out_dir, "metrics.json")) as f:
        return json.load(f)


def eval_value(metrics, scale, path):
    m = metrics["scales"][scale]["methods"]["zoomdiff"]
    if path[0] == "acf24":
        for lag in m["acf_distance"]["at_lags"]:
            if lag["lag"] == 24:
                return lag["per_cell_abs_diff"]["mean"]
        return None
    for key in path:
        if key is None:
            break
        m = m.get(key) if isinstance(m, dict) else None
        if m is None:
            return None
    return m


def raw_stats(results_h5, real_h5, scale):
    """Negative share of the raw samples and their mean over the real mean, on the evaluated cells
    (inside the mask) of `scale`; real values: data_2000m interleaved to that scale's cells."""
    import h5py
    import numpy as np
    k = {"2000m": 1, "1000m": 2, "500m": 4}[scale]
    import results_h5
    with h5py.File(real_h5, "r") as f:
        real = f["data_2000m"][()]                                     # (R, C, 4, 4, 168)
    r, c = real.shape[:2]
    b = 4 // k
    real = real.reshape(r, c, k, b, k, b, HOURS).mean(axis=(3, 5))     # (R, C, k, k, 168)
    real = real.transpose(0, 2, 1, 3, 4).reshape(r * k, c * k, HOURS)
    with h5py.File(results_h5, "r") as f:
        ours = results_h5.cells(f, scale)
        samples = ours["samples"].astype(np.float64)
        row, col = ours["row"], ours["col"]
    real_cells = real[row, col]
    ok = np.isfinite(real_cells).all(axis=1)
    real_mean = real_cells[ok].mean()
    return {"negative_frac": float((samples[ok] < 0).mean()),
            "mean_ratio": float(samples[ok].mean() / real_mean) if real_mean != 0 else float("nan"),
            "generated_mean": float(samples[ok].mean()), "real_mean": float(real_mean)}


def load_average():
    with open("/proc/loadavg") as f:
        return "%s / %s" % tuple(f.read().split()[:2])


def fmt_value(v):
    if v is None or (isinstance(v, float) and v != v):
        return "n/a"
    if isinstance(v, int):
        return str(v)
    if v == 0:
        return "0"
    if abs(v) >= 1000 or abs(v) < 1e-3:
        return "%.3g" % v
    return "%.4g" % v


def table(values, scale):
    lines = ["| metric (%s, vs the real data) | reference | ours |" % scale.replace("m", " m"),
             "| --- | ---: | ---: |"]
    for label, _ in METRICS:
        lines.append("| %s | %s | %s |" % (label, fmt_value(values["reference"].get(label)),
                                            fmt_value(values["ours"].get(label))))
    return "\n".join(lines)


# ---- main --------------------------------------------------------------------------------------------

def parse_args():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    p = argparse.ArgumentParser(
        description="Train and sample the official Python ZoomDiff and zoomdiff at one config and seed on "
                    "one prepared city; score both with zoomdiff_eval; print one Markdown table "
                    "(also <out>/parity.md).",
        epilog="Example (the sample city as scripts/run_sample.sh prepares it, a tiny run):\n"
               "  /usr/bin/python3 bench/reference_train_parity.py --reference-dir /tmp/ref/ZoomDiff \\\n"
               "    --data_root out/sample --dataset Nanchang --config configs/sample.yaml \\\n"
               "    --epochs 5 --nsample 2 --seed 1 --out out/parity\n"
               "Get --reference-dir from a checkout of github.com/tsinghua-fib-lab/MobileData (its ZoomDiff/ "
               "folder); nothing is fetched at run time. Exit codes: 0 ok, 2 bad input or a failed step.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reference-dir", required=True, help="the ZoomDiff/ folder of a MobileData checkout")
    p.add_argument("--data_root", required=True,
                   help="folder of <City>/data/<City>_<datatype>_data.h5 (grid_meta) and <City>/cond/<City>_cond.h5 (env_extra)")
    p.add_argument("--dataset", required=True, help="one city (English directory name), e.g. Nanchang")
    p.add_argument("--datatype", default="traffic", choices=("traffic", "user"))
    p.add_argument("--config", default=os.path.join(root, "configs", "sample.yaml"),
                   help="our YAML config (a path, or the name of one in configs/); default configs/sample.yaml")
    p.add_argument("--seed", type=int, default=1, help="seed of both trainings, samplings and of zoomdiff_eval")
    p.add_argument("--epochs", type=int, help="override train.epochs on both sides")
    p.add_argument("--batch_size", type=int, help="override train.batch_size on both sides")
    p.add_argument("--lr", type=float, help="override train.lr on both sides")
    p.add_argument("--nsample", type=int, default=2, help="samples per tile on both sides (default 2)")
    p.add_argument("--sample_batch", type=int, default=16, help="tiles per sampling batch on both sides (default 16)")
    p.add_argument("--condition_layout", default="reference", choices=("reference", "corrected", "config"),
                   help="our model.condition_layout (default reference: the reference's 4 static channels; "
                        "config: as in --config). The reference always uses its own layout")
    p.add_argument("--recipe", default="reference", choices=("reference", "config"),
                   help="our recipe keys (diffusion.standardize, train.ema, sampler.*): reference (default: off, "
                        "training at the reference's recipe) or config (as in --config)")
    p.add_argument("--segment_start", default="noise", choices=("noise", "coarse", "config"),
                   help="our sampler's segment start (default noise: the reference's; config: the run's config)")
    p.add_argument("--scale", default="500m", choices=("500m", "1000m", "2000m"), help="scale of the table's metrics")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="threads of both sides (default: all cores)")
    p.add_argument("--build", default=os.environ.get("ZOOMDIFF_BUILD_DIR", os.path.join(root, "build")),
                   help="folder of zoomdiff_train, zoomdiff_infer, zoomdiff_eval (default build/ or $ZOOMDIFF_BUILD_DIR)")
    p.add_argument("--out", default="out/parity", help="output folder (default out/parity)")
    p.add_argument("--keep-work", action="store_true",
                   help="keep the working directory as <out>/work (converted city, configs, both run folders)")
    p.add_argument("--child", choices=("reference",), help=argparse.SUPPRESS)
    p.add_argument("--child-out", help=argparse.SUPPRESS)
    opts = p.parse_args()
    opts.reference_dir = os.path.abspath(opts.reference_dir)
    opts.data_root = os.path.abspath(opts.data_root)
    if not os.path.exists(opts.config) and os.path.exists(os.path.join(root, "configs", opts.config)):
        opts.config = os.path.join(root, "configs", opts.config)
    opts.config = os.path.abspath(opts.config)
    opts.build = os.path.abspath(opts.build)
    return opts


def check_inputs(opts):
    for name in ("ZoomDiff_train.py", "main_model.py", "utils.py", "dataset_process.py", "config/base.yaml"):
        if not os.path.exists(os.path.join(opts.reference_dir, name)):
            die("--reference-dir %s has no %s: pass the ZoomDiff/ folder of a MobileData checkout"
                % (opts.reference_dir, name))
    for tool in ("zoomdiff_train", "zoomdiff_infer", "zoomdiff_eval"):
        if not os.access(os.path.join(opts.build, tool), os.X_OK):
            die("%s/%s not found: build the project (scripts/build.sh) or pass --build" % (opts.build, tool))
    if not os.path.exists(opts.config):
        die("--config %s not found" % opts.config)
    data_h5 = os.path.join(opts.data_root, opts.dataset, "data", "%s_%s_data.h5" % (opts.dataset, opts.datatype))
    cond_h5 = os.path.join(opts.data_root, opts.dataset, "cond", "%s_cond.h5" % opts.dataset)
    for path, tool in ((data_h5, "grid_meta"), (cond_h5, "env_extra")):
        if not os.path.exists(path):
            die("%s not found: write it with %s (see scripts/run_sample.sh)" % (path, tool))
    try:
        import h5py, numpy, sklearn, joblib, tqdm, torch, yaml  # noqa: F401  (the reference's imports too)
    except ImportError as e:
        die("%s: apt-get install python3-torch python3-h5py python3-sklearn python3-joblib python3-tqdm python3-yaml"
            % e)
    return data_h5, cond_h5


def main():
    opts = parse_args()
    if opts.child:
        reference_child(opts)
        return
    data_h5, cond_h5 = check_inputs(opts)
    load_start = load_average()
    os.makedirs(opts.out, exist_ok=True)
    out = os.path.abspath(opts.out)
    if opts.keep_work:
        work = os.path.join(out, "work")
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
    else:
        work = tempfile.mkdtemp(prefix="parity-", dir=out)
    try:
        tile_rows, tile_cols = convert_city(data_h5, cond_h5, opts.dataset, opts.datatype, work)
        ref_config, ours_config, extra, from_base = make_configs(opts, work)
        epochs = ref_config["train"]["epochs"]
        print("reference_train_parity: %s %s, %d x %d tiles; %d epochs, batch %d, seed %d; training the reference..."
              % (opts.dataset, opts.datatype, tile_rows, tile_cols, epochs, ref_config["train"]["batch_size"],
                 opts.seed), file=sys.stderr, flush=True)
        ref, ref_samples, ref_ends = run_reference(opts, work, os.path.join(out, "reference.log"))
        print("reference_train_parity: training ours...", file=sys.stderr, flush=True)
        ours_log = os.path.join(out, "ours.log")
        open(ours_log, "w").close()
        ours, ours_h5 = run_ours(opts, work, os.path.join(work, "ours.yaml"), epochs,
                                 ref_config["train"]["batch_size"], ours_log)
        ref_h5 = os.path.join(out, "%s_%s_reference.h5" % (opts.dataset, opts.datatype))
        write_reference_results(ours_h5, ref_h5, ref_samples, ref_ends, tile_rows, tile_cols, ref["run_folder"])
        ours_copy = os.path.join(out, "%s_%s_ours.h5" % (opts.dataset, opts.datatype))
        shutil.copyfile(ours_h5, ours_copy)

        values = {}
        for side, h5, summary in (("reference", ref_h5, ref), ("ours", ours_copy, ours)):
            metrics = run_eval(opts, data_h5, h5, os.path.join(out, "eval_" + side), ours_log)
            raw = raw_stats(h5, data_h5, opts.scale)
            summary["raw"] = raw
            row = {}
            for label, source in METRICS:
                if source[0] == "eval":
                    row[label] = eval_value(metrics, opts.scale, source[1:])
                elif source[0] == "raw":
                    row[label] = raw[source[1]]
                else:
                    row[label] = summary.get(source[1])
            values[side] = row
    finally:
        if not opts.keep_work:
            shutil.rmtree(work, ignore_errors=True)

    md = table(values, opts.scale)
    layout = ours_config.get("model", {}).get("condition_layout", "corrected (default)")
    notes = [
        "",
        "%s %s, seed %d, %d epochs, batch %d, %d samples per tile, %d threads; config %s. Ours: condition_layout %s, "
        "sampler segment start %s, --calibration none. Reference: ZoomDiff_train.py from %s (torch, numpy, random "
        "seeded by the launcher), sampled by its model's evaluate() on every tile, inverse-scaled with its own scaler. "
        "Both scored by zoomdiff_eval --mask (the same code, the same cells); raw = inverse-scaled, not clipped."
        % (opts.dataset, opts.datatype, opts.seed, epochs, ref_config["train"]["batch_size"], opts.nsample,
           opts.threads, opts.config, layout, opts.segment_start, opts.reference_dir),
        "Training seconds: the reference's utils.train call; ours: the sum of train_log.csv's per-epoch seconds "
        "(both without validation); load average (1 / 5 min) %s at the start, %s at the end. Train tiles per epoch "
        "(full batches): reference %s, ours %s."
        % (load_start, load_average(), ref.get("train_tiles_used"), ours.get("train_tiles_used")),
        "Not in the reference (ours only): " + (", ".join(extra) or "none") + ".",
        "Reference keys our config lacks (base.yaml's defaults used): " + (", ".join(from_base) or "none") + ".",
    ]
    text = md + "\n" + "\n".join(notes) + "\n"
    print(text)
    with open(os.path.join(out, "parity.md"), "w") as f:
        f.write(text)
    with open(os.path.join(out, "parity.json"), "w") as f:
        json.dump({"table": values, "reference": ref, "ours": ours, "reference_config": ref_config,
                   "ours_config": ours_config, "not_in_reference": extra, "reference_defaults_used": from_base,
                   "options": {k: v for k, v in vars(opts).items() if not k.startswith("child")}}, f, indent=2)


if __name__ == "__main__":
    main()
