#!/usr/bin/python3
"""Writes the reference-checkpoint fixtures of tests/model/reference_checkpoint_test.cpp.

Run with Debian's interpreter (python3-torch works only with it), from anywhere:

    /usr/bin/python3 tests/data/model/make_reference_checkpoint.py

It does not import the reference code. The state dict has the reference's key names and shapes
(reference/MODEL.md §2.2) for a tiny configuration, every tensor filled by a formula the C++ test
repeats:

    tensor number i (0-based, in state-dict order) = (arange(n) % 1000) * 0.001 + i, float32

(the period keeps the 64x32x258x1 unused pattern conv, fixed by the reference whatever the
config, cheap to store in git). Outputs, beside this script:

    reference_tiny/model.pth     torch.save(OrderedDict) with _metadata, like model.state_dict()
    reference_small/model.pth    the same keys with small bounded weights (sin, |w| <= 0.05): inference tests
    reference_tiny/config.json   the reference's config.json form (the YAML dict, json indent 4)
    reference_tiny_cuda.pth      the same dict with every storage located on "cuda:0"
    reference_views.pth          a state dict of views: offset, strides, two keys on one storage
    reference_views_p4.pth       the same with pickle_protocol=4 (FRAME, MEMOIZE, SHORT_BINUNICODE)
    reference_legacy.pth         a one-tensor state dict in the pre-1.6 (non-zip) format, refused

`--check-golden FILE` compares the key/shape generator at base.yaml with
golden/model_base_params.txt instead.
"""

import argparse
import collections
import json
import os
import sys

import torch

# The tiny configuration (reference config.json form, MODEL.md §1.1 keys only).
TINY_CONFIG = {
    "train": {"epochs": 2, "batch_size": 4, "lr": 0.001},
    "diffusion": {
        "layers": 1,
        "channels": 8,
        "nheads": 2,
        "diffusion_embedding_dim": 8,
        "beta_start": 0.0001,
        "beta_end": 0.05,
        "num_steps": 6,
        "schedule": "quad",
        "multi_scale": {"time_scale": 1, "spatial_scale": 3, "spatial_scale_coarse": 3},
    },
    "model": {
        "is_unconditional": False,
        "timeemb": 4,
        "spatialemb": 4,
        "cond_emb": 4,
        "feature_emb": 4,
        "sim": 0.8,
    },
}

FFN = 64          # transformer feed-forward width, fixed (MODEL.md §1.2)
FUSION = 128      # noise-fusion hidden width, fixed
STATIC = 4        # reference static-condition channels
POI = 21


def state_dict_shapes(config):
    """[(key, shape)] of the reference's state dict, in its order (MODEL.md §2.2)."""
    d, m = config["diffusion"], config["model"]
    c, e = d["channels"], d["diffusion_embedding_dim"]
    side = m["timeemb"] + m["spatialemb"] + m["feature_emb"]
    out = [("embed_layer.weight", (1, m["feature_emb"])),
           ("feature_pattern_projection.conv.weight", (64, 32, 258, 1)),
           ("feature_pattern_projection.conv.bias", (64,))]

    def pair(prefix, weight, bias):
        out.append((prefix + ".weight", weight))
        out.append((prefix + ".bias", bias))

    pair("diffmodel.diffusion_embedding.projection1", (e, e), (e,))
    pair("diffmodel.diffusion_embedding.projection2", (e, e), (e,))
    pair("diffmodel.input_projection", (c, 1, 1), (c,))
    pair("diffmodel.output_projection1", (c, c, 1), (c,))
    pair("diffmodel.output_projection2", (1, c, 1), (1,))
    for i in range(d["layers"]):
        p = "diffmodel.residual_layers.%d." % i
        pair(p + "diffusion_projection", (c, e), (c,))
        pair(p + "mid_projection", (2 * c, c, 1), (2 * c,))
        pair(p + "output_projection", (2 * c, c, 1), (2 * c,))
        pair(p + "side_projection", (2 * c, side, 1), (2 * c,))
        pair(p + "cond_static_projection", (2 * c, STATIC, 1), (2 * c,))
        pair(p + "cond_poi_projection", (2 * c, POI, 1), (2 * c,))
        pair(p + "prior_projection", (2 * c, 1, 1), (2 * c,))
        for layer in ("time_layer", "feature_layer"):
            q = p + layer + ".layers.0."
            out.append((q + "self_attn.in_proj_weight", (3 * c, c)))
            out.append((q + "self_attn.in_proj_bias", (3 * c,)))
            pair(q + "self_attn.out_proj", (c, c), (c,))
            pair(q + "linear1", (FFN, c), (FFN,))
            pair(q + "linear2", (c, FFN), (c,))
            pair(q + "norm1", (c,), (c,))
            pair(q + "norm2", (c,), (c,))
    pair("predicted_noise_projection", (FUSION, 1, 1), (FUSION,))
    pair("noise_prior_projection", (FUSION, 1, 1), (FUSION,))
    pair("infused_noise_projection", (1, FUSION, 1), (1,))
    return out


def fill(index, shape):
    n = 1
    for s in shape:
        n *= s
    return torch.arange(n).remainder(1000).float().mul(0.001).add(index).reshape(shape)


def fill_small(index, shape):
    """Bounded small weights (|w| <= 0.05): a model whose samples stay finite (inference tests)."""
    n = 1
    for s in shape:
        n *= s
    return torch.arange(n).float().mul(0.7).add(index).sin().mul(0.05).reshape(shape)


def state_dict(config, filler=fill):
    sd = collections.OrderedDict()
    for index, (key, shape) in enumerate(state_dict_shapes(config)):
        sd[key] = filler(index, shape)
    # What Module.state_dict() attaches: one {'version': 1} entry per module prefix.
    prefixes = {""}
    for key in sd:
        parts = key.split(".")[:-1]
        for k in range(1, len(parts) + 1):
            prefixes.add(".".join(parts[:k]))
    sd._metadata = collections.OrderedDict((p, {"version": 1}) for p in sorted(prefixes))
    return sd


def save_on_cuda(obj, path):
    """torch.save with every storage recorded as "cuda:0", without a GPU."""
    original = torch.serialization.location_tag
    torch.serialization.location_tag = lambda storage: "cuda:0"
    try:
        torch.save(obj, path)
    finally:
        torch.serialization.location_tag = original


def views_dict():
    base = torch.arange(40).float().mul(0.5)          # one storage of 40 floats
    sd = collections.OrderedDict()
    sd["offset_slice"] = base[3:9]                    # offset 3, size 6
    sd["strided"] = base[1:25].view(4, 6)[:, ::2]     # offset 1, sizes 4x3, strides 6x2
    sd["transposed"] = base[:12].view(3, 4).t()       # sizes 4x3, strides 1x4
    sd["whole"] = base                                # the same storage again
    sd["scalar"] = torch.tensor(7.25)                 # 0-d
    sd["int64"] = torch.arange(5, dtype=torch.int64)  # another dtype
    sd._metadata = collections.OrderedDict([("", {"version": 1})])
    return sd


def check_golden(path):
    base = {
        "diffusion": {"layers": 4, "channels": 256, "diffusion_embedding_dim": 128},
        "model": {"timeemb": 128, "spatialemb": 128, "feature_emb": 128},
    }
    expected = []
    with open(path) as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if len(fields) == 3 and not line.startswith("#"):
                expected.append((fields[0], tuple(int(x) for x in fields[1].split("x"))))
    ours = state_dict_shapes(base)
    if ours != expected:
        for a, b in zip(ours, expected):
            if a != b:
                print("first difference:", a, b)
                break
        print("mismatch: %d ours, %d golden" % (len(ours), len(expected)))
        return 1
    print("%d keys and shapes equal %s" % (len(ours), path))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check-golden", metavar="FILE")
    args = parser.parse_args()
    if args.check_golden:
        return check_golden(args.check_golden)
    here = os.path.dirname(os.path.abspath(__file__))
    folder = os.path.join(here, "reference_tiny")
    os.makedirs(folder, exist_ok=True)
    sd = state_dict(TINY_CONFIG)
    torch.save(sd, os.path.join(folder, "model.pth"))
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(TINY_CONFIG, f, indent=4)
    save_on_cuda(sd, os.path.join(here, "reference_tiny_cuda.pth"))
    small = os.path.join(here, "reference_small")
    os.makedirs(small, exist_ok=True)
    torch.save(state_dict(TINY_CONFIG, fill_small), os.path.join(small, "model.pth"))
    with open(os.path.join(small, "config.json"), "w") as f:
        json.dump(TINY_CONFIG, f, indent=4)
    torch.save(views_dict(), os.path.join(here, "reference_views.pth"))
    torch.save(views_dict(), os.path.join(here, "reference_views_p4.pth"), pickle_protocol=4)
    legacy = collections.OrderedDict([("w", torch.ones(2))])
    torch.save(legacy, os.path.join(here, "reference_legacy.pth"),
               _use_new_zipfile_serialization=False)
    print("wrote %d tensors to %s" % (len(sd), folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
