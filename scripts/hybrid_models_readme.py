#!/usr/bin/python3
"""Writes models/hybrid/README.md from what scripts/train_hybrid_models.sh
measured: the trainer's per-epoch JSON (--json), the wall time and command of
each run, the PyTorch cross-check, parameter counts and file sizes. Nothing
here is typed in by hand.

Usage: scripts/hybrid_models_readme.py DIR EPOCHS_EDGE EPOCHS_CLOUD PARALLEL
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def params(path):
    m = onnx.load(path)
    n_all = n_buf = 0
    for i in m.graph.initializer:
        k = int(np.prod(numpy_helper.to_array(i).shape))
        n_all += k
        if i.name.endswith(("running_mean", "running_var")):
            n_buf += k
    return n_all - n_buf, n_buf, [n.op_type for n in m.graph.node]


def read(path, default=""):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def main():
    d, ee, ec, par = sys.argv[1:5]
    rows, detail = [], []
    for name, desc in (("edge", "tiny CNN for a microcontroller-class device"),
                       ("cloud", "wider CNN with BatchNormalization and Dropout")):
        j = json.load(open(os.path.join(d, name + "_train.json")))
        last = j["epochs"][-1]
        best = max(j["epochs"], key=lambda e: e["test_acc"])
        n_p, n_b, ops = params(os.path.join(d, name + ".onnx"))
        size = os.path.getsize(os.path.join(d, name + ".onnx"))
        secs = float(read(os.path.join(d, name + "_seconds.txt"), "nan"))
        rows.append("| `%s.onnx` | %s | %d | %.1f KB | %d | %.2f%% | %.2f%% | %.0f s |" % (
            name, desc, n_p, size / 1024, len(j["epochs"]), 100 * last["test_acc"],
            100 * last["train_acc"], secs))
        detail.append("### %s\n\nOps: %s.\n\n```sh\n%s\n```\n\nPer epoch (test = the "
                      "10,000 test images; the best epoch was %d at %.2f%%, the file is the "
                      "last epoch's):\n\n| epoch | train loss | train acc | test loss | test acc "
                      "| s |\n|---|---|---|---|---|---|\n%s\n" % (
                          name, " ".join(ops), read(os.path.join(d, name + "_command.txt")),
                          best["epoch"], 100 * best["test_acc"],
                          "\n".join("| %d | %.4f | %.4f | %.4f | %.4f | %.1f |" % (
                              e["epoch"], e["train_loss"], e["train_acc"], e["test_loss"],
                              e["test_acc"], e["seconds"]) for e in j["epochs"])))
    torch_check = read(os.path.join(d, "torch_check.txt"), "(not run)")
    text = """# Edge-cloud hybrid models (Fashion-MNIST)

Written by `scripts/train_hybrid_models.sh` (architectures:
`scripts/make_hybrid_models.py`; this file: `scripts/hybrid_models_readme.py`).
Both models: input `image` [N,1,28,28] (pixels / 255, no mean/std), output
`logits` [N,10], dynamic batch, opset 13, FP32. Trained with edgeai's own
trainer (`edgeai train`) on the FIRST 55,000 Fashion-MNIST training images
(`--max-samples 55000`); training images 55,000..59,999 are held out as the
validation/calibration split. Accuracies below are on all 10,000 test images
(`--max-samples` also applies to `--test`, which has only 10,000).
Epochs: edge %s, cloud %s; trained with 1 OpenBLAS thread each on a shared
2-core VM, %s, while other jobs ran: wall times (and the per-epoch seconds)
are indicative only.

| file | model | trainable params | size | epochs | test acc | train acc (last epoch, running) | wall |
|---|---|---|---|---|---|---|---|
%s

Independent check (the ONNX weights loaded into the PyTorch modules of
`make_hybrid_models.py --eval`):

```
%s
```

`edge.calib.json` (when present) is the edge model's softmax temperature,
fitted by `edgeai calibrate` on the held-out 5,000 images (bench/issue5.py
writes it); `edgeai route` reads it by default.

Reproduce: `scripts/train_hybrid_models.sh build/edgeai` (PARALLEL=1 trains
both at once). The Dropout masks and the shuffle are seeded (`--seed 1`), so
a rerun on the same build gives the same weights up to OpenBLAS summation order.

%s""" % (ee, ec, "in parallel" if par == "1" else "one after the other", "\n".join(rows),
         torch_check, "\n".join(detail))
    with open(os.path.join(d, "README.md"), "w") as f:
        f.write(text)
    print("wrote", os.path.join(d, "README.md"))


if __name__ == "__main__":
    main()
