#!/usr/bin/python3
"""Writes a ResNet-18 in torchvision's layout as an ONNX model, with seeded random weights.

Shape coverage for msqsim's ONNX import (docs/import.md): the same graph torchvision's resnet18
exports (conv1, bn1, relu, maxpool, four stages of two BasicBlocks with residual adds and 1x1
downsample convolutions, global average pool, flatten, fc), its nodes named after torchvision's
modules, with BatchNormalization and Relu as separate nodes for the importer to fold. The weights
are random (He-initialized convolutions, BatchNorm statistics near identity): the network computes
nothing meaningful, but every tensor has realistic ranges.

    tools/make_resnet18_onnx.py --out resnet18.onnx [--size 224] [--classes 1000] [--seed 0]

Needs python3-onnx and python3-numpy (Debian).
"""
import argparse

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--size", type=int, default=224, help="input height and width")
    ap.add_argument("--classes", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    nodes, inits = [], []

    def init(name, arr):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr, dtype=np.float32), name))
        return name

    def conv(name, x, cin, cout, k, stride, pad):
        w = rng.normal(0.0, np.sqrt(2.0 / (cin * k * k)), (cout, cin, k, k))
        nodes.append(helper.make_node("Conv", [x, init(name + ".weight", w)], [name], name=name,
                                      kernel_shape=[k, k], strides=[stride, stride],
                                      pads=[pad] * 4))
        return name

    def bn(name, x, c):
        nodes.append(helper.make_node(
            "BatchNormalization",
            [x, init(name + ".weight", rng.uniform(0.5, 1.0, c)),
             init(name + ".bias", rng.normal(0.0, 0.1, c)),
             init(name + ".running_mean", rng.normal(0.0, 0.1, c)),
             init(name + ".running_var", rng.uniform(0.8, 1.5, c))],
            [name], name=name, epsilon=1e-5))
        return name

    def relu(name, x):
        nodes.append(helper.make_node("Relu", [x], [name], name=name))
        return name

    x = "input"
    y = relu("relu", bn("bn1", conv("conv1", x, 3, 64, 7, 2, 3), 64))
    nodes.append(helper.make_node("MaxPool", [y], ["maxpool"], name="maxpool",
                                  kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]))
    y, cin = "maxpool", 64
    for stage, cout in enumerate([64, 128, 256, 512], start=1):
        for block in range(2):
            p = f"layer{stage}.{block}"
            stride = 2 if stage > 1 and block == 0 else 1
            h = relu(p + ".relu", bn(p + ".bn1", conv(p + ".conv1", y, cin, cout, 3, stride, 1),
                                     cout))
            h = bn(p + ".bn2", conv(p + ".conv2", h, cout, cout, 3, 1, 1), cout)
            skip = y
            if stride != 1 or cin != cout:
                skip = bn(p + ".downsample.1",
                          conv(p + ".downsample", y, cin, cout, 1, stride, 0), cout)
            nodes.append(helper.make_node("Add", [h, skip], [p + ".add"], name=p + ".add"))
            y = relu(p + ".relu2", p + ".add")
            cin = cout
    nodes.append(helper.make_node("GlobalAveragePool", [y], ["avgpool"], name="avgpool"))
    nodes.append(helper.make_node("Flatten", ["avgpool"], ["flatten"], name="flatten", axis=1))
    nodes.append(helper.make_node(
        "Gemm", ["flatten", init("fc.weight", rng.normal(0.0, 1.0 / np.sqrt(512), (a.classes, 512))),
                 init("fc.bias", rng.normal(0.0, 0.01, a.classes))],
        ["output"], name="fc", transB=1))
    graph = helper.make_graph(
        nodes, "resnet18",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, a.size, a.size])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", a.classes])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    tmp = a.out + ".tmp"
    onnx.save(model, tmp)
    import os
    os.replace(tmp, a.out)


if __name__ == "__main__":
    main()
