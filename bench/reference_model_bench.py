#!/usr/bin/python3
"""Times the official Python ZoomDiff (tsinghua-fib-lab/MobileData, folder ZoomDiff/) on this
machine, for comparison with build*/bench/model_bench: the fp32 matmul ceiling, one denoiser call,
one training step per batch size and a short sampling run (per-step time), each in its own
subprocess so that its peak RSS (os.wait4's ru_maxrss) is its own. Prints a Markdown table like
model_bench's.

Nothing of the reference is copied here: its modules are imported from --reference-dir (the
ZoomDiff/ folder of a checkout), and only its public entry points are called:
CSDI_Value(args) with args.device / args.config / args.H as ZoomDiff_train.py builds them,
model(batch) for the training loss (utils.train's step around it: zero_grad, backward,
clip_grad_norm_(1.0), Adam(lr, weight_decay=1e-6)), model.diffmodel(...) for one denoiser call
under no_grad, model.evaluate(batch, 1) for sampling. Inputs are random tensors of the dataset's
shapes (timings do not depend on values).

Use Debian's interpreter and torch (python3-torch, PyTorch 1.13.1 like the goldens):

    /usr/bin/python3 bench/reference_model_bench.py --reference-dir /tmp/ref/ZoomDiff --threads 2

Batch 128 (the reference's default) is known to need more than 23 GB; it runs only with
--allow-128. Every measurement is killed once its RSS passes --rss-limit-mib (default: 85 % of
RAM, at most what is available), and reported as such.

FLOPs (multiply-add = 2, matrix products only) of the reference's denoiser forward on B tiles,
P = B*H*W*L positions: per block 2P(3C^2 + C^2 + 2CF + 2C^2 + 2C^2) + 4PLC (as model_bench)
plus 2P(D_side + 4 + 21)2C for the side-information and condition projections that the reference
recomputes on every call; head 2P(C^2 + 2C). Training = 3 x the former (input and weight
gradients) + 2 x the latter (weight gradients only: side information and conditions need none).
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import types

KINDS = ("ceiling", "denoise", "train", "sample")
# model_bench --heap-malloc's mallopt calls, as glibc tunables: large tensors from the brk heap, reused,
# instead of an mmap (and fresh page faults) per allocation.
HEAP_MALLOC = "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=2147483647"
HOURS = 168
FFN = 64


# ---- FLOP counts --------------------------------------------------------------------------------

def flop_parts(config, batch, side=4):
    d = config["diffusion"]
    m = config["model"]
    c = d["channels"]
    positions = batch * side * side * HOURS
    block = 2 * positions * (8 * c * c + 2 * c * FFN) + 4 * positions * HOURS * c
    head = 2 * positions * (c * c + 2 * c)
    side_dim = m["timeemb"] + m["spatialemb"] + m["feature_emb"]
    extra = 2 * positions * (side_dim + 4 + 21) * 2 * c
    return d["layers"] * block + head, d["layers"] * extra


def denoiser_flops(config, batch):
    core, extra = flop_parts(config, batch)
    return core + extra


def training_flops(config, batch):
    core, extra = flop_parts(config, batch)
    return 3 * core + 2 * extra


# ---- the child: one measurement ----------------------------------------------------------------

def load_config(path):
    import yaml
    with open(path, "r") as f:
        return yaml.safe_load(f)


def make_model(reference_dir, config):
    sys.path.insert(0, reference_dir)
    from main_model import CSDI_Value  # the official module, imported, not copied
    args = types.SimpleNamespace(device="cpu", config=config, H=4)
    return CSDI_Value(args)


def make_batch(torch, batch):
    tp = torch.arange(HOURS).unsqueeze(0).expand(batch, HOURS).contiguous()
    return ("traffic", {
        "observed_series": torch.rand(batch, 1, HOURS, 4, 4),
        "observed_cond_static": torch.rand(batch, 4, 4, 4) * 1000.0,
        "observed_cond_poi": torch.randint(0, 20, (batch, 21, 4, 4)).float(),
        "observed_loc": torch.rand(batch, 4),
        "timepoints": tp,
        "idex": torch.arange(batch),
    })


def timed(repeats, body):
    times = []
    value = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        value = body()
        times.append(time.perf_counter() - start)
    return {"best": min(times), "mean": sum(times) / len(times), "repeats": repeats, "value": value}


def child(opts):
    import torch
    torch.set_num_threads(opts.threads)
    torch.manual_seed(0)
    kind = opts.child
    if kind == "ceiling":
        n = opts.ceiling_size
        a = torch.randn(n, n)
        b = torch.randn(n, n)
        c = torch.mm(a, b)
        result = timed(opts.repeats, lambda: float(torch.mm(a, b, out=c)[0, 0]))
        result["value"] = 2.0 * n ** 3 / result["best"] / 1e9
        return result

    config = load_config(opts.config)
    if kind == "sample":
        config["diffusion"]["num_steps"] = opts.sample_steps
    model = make_model(opts.reference_dir, config)
    batch = make_batch(torch, opts.batch)

    if kind == "denoise":
        model.eval()
        with torch.no_grad():
            _, _, cond_static, cond_poi, _, tp, _ = model.process_data(batch)
            x = torch.randn(opts.batch, 1, HOURS, 4, 4)
            side_info = model.get_side_info(tp, x)[-1]
            step = torch.tensor([0])
            model.diffmodel(x, cond_static, cond_poi, side_info, step)  # warm-up
            return timed(opts.repeats,
                         lambda: float(model.diffmodel(x, cond_static, cond_poi, side_info, step).sum()))

    if kind == "train":
        model.train()
        optimizer = torch.optim.Adam(model.parameters(), lr=config["train"]["lr"], weight_decay=1e-6)

        def step():
            optimizer.zero_grad()
            loss = model(batch)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            return loss.item()

        step()  # warm-up: Adam's moments, the gradients
        return timed(opts.train_repeats, step)

    if kind == "sample":
        model.eval()
        with torch.no_grad():  # warm-up: one denoiser call at the sampler's shapes
            _, x, cond_static, cond_poi, _, tp, _ = model.process_data(batch)
            model.diffmodel(torch.randn_like(x), cond_static, cond_poi, model.get_side_info(tp, x)[0],
                            torch.tensor([0]))
        return timed(1, lambda: float(model.evaluate(batch, 1)[1].sum()))
    raise SystemExit("unknown measurement " + kind)


# ---- the parent: one subprocess per measurement --------------------------------------------------

def meminfo_kb(key):
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def malloc_description(heap_malloc):
    if heap_malloc:
        return "malloc: glibc, GLIBC_TUNABLES=" + HEAP_MALLOC + " (--heap-malloc)"
    preload = os.environ.get("LD_PRELOAD", "")
    if "malloc" in preload:
        conf = os.environ.get("MALLOC_CONF")
        return "malloc: LD_PRELOAD=" + preload + (" MALLOC_CONF=" + conf if conf else "")
    tunables = os.environ.get("GLIBC_TUNABLES")
    return "malloc: glibc, GLIBC_TUNABLES=" + tunables if tunables else "malloc: glibc defaults"


def load_average():
    with open("/proc/loadavg") as f:
        one, five = f.read().split()[:2]
    return "%s / %s" % (one, five)


def machine_busy_seconds():
    """Busy CPU seconds of the whole machine since boot (user, nice, system, irq, softirq, steal)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / os.sysconf("SC_CLK_TCK")


def wait_for_quiet(max_s):
    """Waits (at most max_s) for three consecutive seconds with the machine at least 90 % idle."""
    start = time.perf_counter()
    quiet = 0
    while quiet < 3 and time.perf_counter() - start < max_s:
        before = machine_busy_seconds()
        time.sleep(1)
        quiet = quiet + 1 if machine_busy_seconds() - before <= 0.1 * os.cpu_count() else 0
    return time.perf_counter() - start


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_child(opts, kind, batch, rss_limit_kb):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", kind, "--batch", str(batch),
           "--reference-dir", opts.reference_dir, "--config", opts.config, "--threads", str(opts.threads),
           "--repeats", str(opts.repeats), "--train-repeats", str(opts.train_repeats),
           "--sample-steps", str(opts.sample_steps), "--ceiling-size", str(opts.ceiling_size)]
    if opts.quiet_wait > 0:
        waited = wait_for_quiet(opts.quiet_wait)
        if waited > 3.5:
            print("  (waited %.0f s for a quiet machine)" % waited, file=sys.stderr, flush=True)
    busy_before = machine_busy_seconds()
    start = time.perf_counter()
    with tempfile.TemporaryFile(mode="w+") as out:
        env = dict(os.environ)
        if opts.heap_malloc:
            env["GLIBC_TUNABLES"] = HEAP_MALLOC
        proc = subprocess.Popen(cmd, stdout=out, env=env, preexec_fn=lambda: open("/proc/self/oom_score_adj", "w").write("1000"))
        over = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                break
            if not over and rss_limit_kb > 0 and rss_kb(proc.pid) > rss_limit_kb:
                over = True
                proc.kill()
            time.sleep(0.01)
        proc.returncode = 0  # reaped by os.wait4 above; keep Popen from waiting again
        out.seek(0)
        lines = out.read().strip().splitlines()
    wall = time.perf_counter() - start
    others = (machine_busy_seconds() - busy_before - usage.ru_utime - usage.ru_stime) / wall
    row = {"kind": kind, "batch": batch, "peak_rss_kb": usage.ru_maxrss, "other_load": max(0.0, others)}
    if over:
        row["failure"] = "RSS above the limit of %d MiB, killed" % (rss_limit_kb // 1024)
    elif os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        row["failure"] = "killed by signal %d%s" % (sig, " (out of memory?)" if sig == 9 else "")
    elif os.WEXITSTATUS(status) != 0 or not lines:
        row["failure"] = "failed, exit status %d" % os.WEXITSTATUS(status)
    else:
        row.update(json.loads(lines[-1]))
    return row


def fmt(v, digits):
    return "%.*f" % (digits, v)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reference-dir", required=True, help="the ZoomDiff/ folder of a MobileData checkout")
    p.add_argument("--config", help="model config (default: <reference-dir>/config/base.yaml)")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    p.add_argument("--measure", default=",".join(KINDS), help="which measurements: " + ",".join(KINDS))
    p.add_argument("--batches", default="16,32", help="training batch sizes (default 16,32)")
    p.add_argument("--allow-128", action="store_true", help="also run batch 128 (known to need > 23 GB)")
    p.add_argument("--tiles", type=int, default=16, help="tiles of the denoiser call and the sampling run")
    p.add_argument("--sample-steps", type=int, default=6,
                   help="num_steps of the sampling run (default 6: two steps per segment; reported per step)")
    p.add_argument("--repeats", type=int, default=2, help="timed repeats of the ceiling and the denoiser call")
    p.add_argument("--train-repeats", type=int, default=1, help="timed training steps per batch (after a warm-up)")
    p.add_argument("--ceiling-size", type=int, default=4096)
    p.add_argument("--rss-limit-mib", type=int, default=0, help="kill a measurement above this RSS")
    p.add_argument("--quiet-wait", type=float, default=0,
                   help="before each measurement, wait up to this many seconds for 3 s of an idle machine")
    p.add_argument("--heap-malloc", action="store_true",
                   help="run each measurement with GLIBC_TUNABLES=" + HEAP_MALLOC + " (as model_bench --heap-malloc)")
    p.add_argument("--child", choices=KINDS, help=argparse.SUPPRESS)
    p.add_argument("--batch", type=int, default=16, help=argparse.SUPPRESS)
    opts = p.parse_args()
    opts.reference_dir = os.path.abspath(opts.reference_dir)
    if opts.config is None:
        opts.config = os.path.join(opts.reference_dir, "config", "base.yaml")

    if opts.child:
        result = child(opts)
        result["own_maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps(result))
        return

    if not os.path.exists(os.path.join(opts.reference_dir, "main_model.py")):
        raise SystemExit("no main_model.py in %s: pass the ZoomDiff/ folder of a MobileData checkout" % opts.reference_dir)
    import torch
    config = load_config(opts.config)
    rss_limit_kb = opts.rss_limit_mib * 1024
    if rss_limit_kb <= 0:
        rss_limit_kb = min(meminfo_kb("MemTotal") * 85 // 100, meminfo_kb("MemAvailable") - 512 * 1024)
    batches = [int(b) for b in opts.batches.split(",") if b]
    if not opts.allow_128:
        batches = [b for b in batches if b < 128]
    measure = opts.measure.split(",")

    with open("/proc/cpuinfo") as f:
        cpuinfo = f.read()
    model_name = next((l.split(":", 1)[1].strip() for l in cpuinfo.splitlines() if l.startswith("model name")), "?")
    flags = next((l for l in cpuinfo.splitlines() if l.startswith("flags")), "").split()
    isa = "AVX-512" if "avx512f" in flags else ("AVX2, no AVX-512" if "avx2" in flags else "no AVX2")
    print("reference_model_bench: %s, %s, %d cores, %.1f GiB RAM; PyTorch %s (%s), %d threads; config %s; "
          "%s; RSS limit per measurement %d MiB; load average (1 / 5 min) at start %s\n"
          % (model_name, isa, os.cpu_count(), meminfo_kb("MemTotal") / 2 ** 20, torch.__version__, sys.executable,
             opts.threads, opts.config,
             malloc_description(opts.heap_malloc),
             rss_limit_kb // 1024, load_average()))
    sys.stdout.flush()

    rows = []

    def add(label, kind, batch, flops, divide_by=1):
        row = run_child(opts, kind, batch, rss_limit_kb)
        row.update(label=label, flops=flops, divide_by=divide_by)
        msg = row.get("failure") or "%.3f s" % (row["best"] / divide_by)
        print("  %s, batch %d: %s, peak RSS %.0f MiB" % (label, batch, msg, row["peak_rss_kb"] / 1024),
              file=sys.stderr, flush=True)
        rows.append(row)
        return row

    ceiling = 0.0
    if "ceiling" in measure:
        r = add("matmul ceiling: torch.mm %d²" % opts.ceiling_size, "ceiling", 0, 2.0 * opts.ceiling_size ** 3)
        ceiling = r.get("value", 0.0)
    if "denoise" in measure:
        add("reference denoiser call (no_grad)", "denoise", opts.tiles, denoiser_flops(config, opts.tiles))
    if "train" in measure:
        for b in batches:
            add("reference training step (loss, backward, clip, Adam)", "train", b, training_flops(config, b))
    if "sample" in measure:
        s = opts.sample_steps
        r = add("reference sampling run, %d steps (evaluate)" % s, "sample", opts.tiles,
                s * denoiser_flops(config, opts.tiles))
        per = dict(r)
        per.update(label="reference sampling step (run / %d)" % s, flops=denoiser_flops(config, opts.tiles),
                   divide_by=s)
        rows.append(per)

    print("\n| kernel | batch | seconds (best) | seconds (mean) | repeats | peak RSS (MiB) | GFLOP | GFLOP/s | share of ceiling | other load (cores) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        rss = fmt(r["peak_rss_kb"] / 1024, 0)
        if "failure" in r:
            print("| %s | %s | **%s** | | | %s | %s | | | %s |" % (r["label"], r["batch"] or "", r["failure"], rss,
                                                               fmt(r["flops"] / 1e9, 1), fmt(r["other_load"], 2)))
            continue
        best = r["best"] / r["divide_by"]
        mean = r["mean"] / r["divide_by"]
        rate = r["flops"] / best / 1e9
        share = "%.1f %%" % (100 * rate / ceiling) if ceiling > 0 else ""
        print("| %s | %s | %s | %s | %d | %s | %s | %s | %s | %s |" % (
            r["label"], r["batch"] or "", fmt(best, 3 if best < 10 else 1), fmt(mean, 3 if mean < 10 else 1), r["repeats"],
            rss, fmt(r["flops"] / 1e9, 1), fmt(rate, 1), share, fmt(r["other_load"], 2)))
    print("\nLoad average (1 / 5 min) at the end: %s. " % load_average() + "FLOPs: matrix products only, multiply-add = 2; the reference's denoiser forward counts model_bench's "
          "formula plus 2P(D_side+25)2C per block for the side-information and condition projections it recomputes "
          "on every call; training = 3 × the former + 2 × the latter. Peak RSS: each row's own subprocess "
          "(interpreter and torch included). Other load: CPU time of every other process on the machine during that "
          "measurement, in cores (0 = the bench had the machine to itself).")


if __name__ == "__main__":
    main()
