#!/usr/bin/python3
"""Loads a zoomdiff_train model.pt the way a Python user does (torch.jit.load, Debian's
python3-torch) and prints {tensor name: [element count, sum]} of its state_dict as JSON.

usage: load_model_pt.py <model.pt>       run by Weights.PythonTorchJitLoadReadsModelPt
"""
import json
import sys

import torch

model = torch.jit.load(sys.argv[1], map_location="cpu")
state = model.state_dict()
print(json.dumps({name: [t.numel(), float(t.double().sum())] for name, t in state.items()}))
