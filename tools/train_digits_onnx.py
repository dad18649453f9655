#!/usr/bin/python3
"""Trains a small residual CNN on the UCI handwritten digits and writes it as an ONNX model.

The model in configs/models/ (a real trained network with a residual add, max and average pooling
and a classifier, small enough to keep in the repository) is this script's output:

    tools/train_digits_onnx.py --out-dir configs/models

writes digits_resnet.onnx, digits_calibration.npy (float32 [32, 1, 8, 8], training images),
digits_test_images.npy (float32 [N, 1, 8, 8], held-out images, not used in training) and
digits_test_labels.npy (int64 [N]), and prints the float model's accuracy.
Architecture: conv 3x3 (1->16) + BatchNorm + ReLU, max pool 2x2, conv 3x3 + ReLU, conv 3x3, add
the pool's output, ReLU, average pool 2x2, flatten, Gemm 64->10. Plain numpy (im2col and
backpropagation by hand, Adam), seeded; the BatchNorm is a fixed per-channel affine learned as
part of conv1 and exported as a BatchNormalization node, so that the import folds a real one.

Needs python3-numpy, python3-onnx and python3-sklearn (for the digits data set, which Debian's
package ships) -- only to regenerate the files, not to run the tests.
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_digits


def im2col(x, k=3, pad=1):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = np.empty((n, c * k * k, h * w), dtype=x.dtype)
    for ci in range(c):
        for i in range(k):
            for j in range(k):
                cols[:, (ci * k + i) * k + j, :] = xp[:, ci, i:i + h, j:j + w].reshape(n, -1)
    return cols


def col2im(cols, shape, k=3, pad=1):
    n, c, h, w = shape
    xp = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=cols.dtype)
    for ci in range(c):
        for i in range(k):
            for j in range(k):
                xp[:, ci, i:i + h, j:j + w] += cols[:, (ci * k + i) * k + j, :].reshape(n, h, w)
    return xp[:, :, pad:pad + h, pad:pad + w]


class Conv:
    def __init__(self, rng, cin, cout):
        self.w = rng.normal(0, np.sqrt(2.0 / (cin * 9)), (cout, cin * 9))
        self.b = np.zeros(cout)

    def fwd(self, x):
        self.shape = x.shape
        self.cols = im2col(x)
        n, _, h, w = x.shape
        return (np.einsum("ok,nkp->nop", self.w, self.cols) + self.b[None, :, None]).reshape(
            n, -1, h, w)

    def bwd(self, g):
        n, o, h, w = g.shape
        g2 = g.reshape(n, o, h * w)
        self.gw = np.einsum("nop,nkp->ok", g2, self.cols)
        self.gb = g2.sum(axis=(0, 2))
        return col2im(np.einsum("ok,nop->nkp", self.w, g2), self.shape)

    def params(self):
        return [(self, "w", "gw"), (self, "b", "gb")]


def maxpool_fwd(x):
    n, c, h, w = x.shape
    r = x.reshape(n, c, h // 2, 2, w // 2, 2)
    y = r.max(axis=(3, 5))
    mask = r == y[:, :, :, None, :, None]
    return y, mask


def maxpool_bwd(g, mask):
    # Ties share the gradient; with float inputs they do not happen.
    return (mask * g[:, :, :, None, :, None]).reshape(g.shape[0], g.shape[1], g.shape[2] * 2,
                                                      g.shape[3] * 2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--test-images", type=int, default=100)
    a = ap.parse_args()
    rng = np.random.default_rng(0)

    d = load_digits()
    x = (d.images.astype(np.float64) / 16.0 - 0.5) / 0.5  # [-1, 1]: a signed input
    x = x[:, None, :, :]
    y = d.target
    order = rng.permutation(len(x))
    x, y = x[order], y[order]
    n_test = 300
    xtr, ytr, xte, yte = x[n_test:], y[n_test:], x[:n_test], y[:n_test]

    c1, c2, c3 = Conv(rng, 1, 16), Conv(rng, 16, 16), Conv(rng, 16, 16)
    fc_w = rng.normal(0, 1 / 8.0, (10, 64))
    fc_b = np.zeros(10)
    bn_s, bn_b = np.ones(16), np.zeros(16)

    def forward(xb, keep=False):
        h1 = c1.fwd(xb)
        a1 = h1 * bn_s[None, :, None, None] + bn_b[None, :, None, None]
        r1 = np.maximum(a1, 0)
        p1, m1 = maxpool_fwd(r1)
        h2 = c2.fwd(p1)
        r2 = np.maximum(h2, 0)
        h3 = c3.fwd(r2)
        s = h3 + p1
        r3 = np.maximum(s, 0)
        n = xb.shape[0]
        p2 = r3.reshape(n, 16, 2, 2, 2, 2).mean(axis=(3, 5))
        f = p2.reshape(n, 64)
        logits = f @ fc_w.T + fc_b
        if keep:
            return logits, (h1, a1, r1, p1, m1, h2, r2, h3, s, r3, f)
        return logits

    params = {"fc_w": fc_w, "fc_b": fc_b, "bn_s": bn_s, "bn_b": bn_b}
    convs = [c1, c2, c3]
    state = {}
    lr, b1, b2, eps = 2e-3, 0.9, 0.999, 1e-8
    step = 0

    def adam(key, p, g):
        m, v = state.get(key, (np.zeros_like(p), np.zeros_like(p)))
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        state[key] = (m, v)
        p -= lr * (m / (1 - b1 ** step)) / (np.sqrt(v / (1 - b2 ** step)) + eps)

    for epoch in range(a.epochs):
        perm = rng.permutation(len(xtr))
        for i in range(0, len(xtr), 64):
            idx = perm[i:i + 64]
            xb, yb = xtr[idx], ytr[idx]
            n = len(idx)
            logits, (h1, a1, r1, p1, m1, h2, r2, h3, s, r3, f) = forward(xb, True)
            z = logits - logits.max(axis=1, keepdims=True)
            p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
            g = p
            g[np.arange(n), yb] -= 1
            g /= n
            g_fc_w = g.T @ f
            g_fc_b = g.sum(axis=0)
            gf = g @ fc_w
            gp2 = gf.reshape(n, 16, 2, 2)
            gr3 = np.repeat(np.repeat(gp2, 2, axis=2), 2, axis=3) / 4.0
            gs = gr3 * (s > 0)
            gp1 = gs.copy()
            gr2 = c3.bwd(gs)
            gh2 = gr2 * (h2 > 0)
            gp1 += c2.bwd(gh2)
            gr1 = maxpool_bwd(gp1, m1)
            ga1 = gr1 * (a1 > 0)
            g_bn_s = (ga1 * h1).sum(axis=(0, 2, 3))
            g_bn_b = ga1.sum(axis=(0, 2, 3))
            c1.bwd(ga1 * bn_s[None, :, None, None])
            step += 1
            adam("fc_w", fc_w, g_fc_w)
            adam("fc_b", fc_b, g_fc_b)
            adam("bn_s", bn_s, g_bn_s)
            adam("bn_b", bn_b, g_bn_b)
            for k, c in enumerate(convs):
                adam(f"c{k}w", c.w, c.gw)
                adam(f"c{k}b", c.b, c.gb)
        if epoch % 10 == 9 or epoch == a.epochs - 1:
            acc = (forward(xte).argmax(axis=1) == yte).mean()
            print(f"epoch {epoch + 1}: held-out accuracy {acc:.3f}")

    inits, nodes = [], []

    def init(name, arr):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr, dtype=np.float32), name))
        return name

    def conv_node(name, x_in, c, cin, cout):
        nodes.append(helper.make_node(
            "Conv", [x_in, init(name + ".weight", c.w.reshape(cout, cin, 3, 3)),
                     init(name + ".bias", c.b)], [name], name=name, kernel_shape=[3, 3],
            strides=[1, 1], pads=[1, 1, 1, 1]))
        return name

    conv_node("conv1", "input", c1, 1, 16)
    # The affine after conv1 as an inference BatchNormalization: var = 1 - eps, mean 0.
    nodes.append(helper.make_node(
        "BatchNormalization", ["conv1", init("bn1.weight", bn_s), init("bn1.bias", bn_b),
                               init("bn1.running_mean", np.zeros(16)),
                               init("bn1.running_var", np.full(16, 1.0 - 1e-5))],
        ["bn1"], name="bn1", epsilon=1e-5))
    nodes.append(helper.make_node("Relu", ["bn1"], ["relu1"], name="relu1"))
    nodes.append(helper.make_node("MaxPool", ["relu1"], ["maxpool"], name="maxpool",
                                  kernel_shape=[2, 2], strides=[2, 2]))
    conv_node("block.conv1", "maxpool", c2, 16, 16)
    nodes.append(helper.make_node("Relu", ["block.conv1"], ["block.relu1"], name="block.relu1"))
    conv_node("block.conv2", "block.relu1", c3, 16, 16)
    nodes.append(helper.make_node("Add", ["block.conv2", "maxpool"], ["block.add"],
                                  name="block.add"))
    nodes.append(helper.make_node("Relu", ["block.add"], ["block.relu2"], name="block.relu2"))
    nodes.append(helper.make_node("AveragePool", ["block.relu2"], ["avgpool"], name="avgpool",
                                  kernel_shape=[2, 2], strides=[2, 2]))
    nodes.append(helper.make_node("Flatten", ["avgpool"], ["flatten"], name="flatten", axis=1))
    nodes.append(helper.make_node("Gemm", ["flatten", init("fc.weight", fc_w),
                                           init("fc.bias", fc_b)], ["logits"], name="fc",
                                  transB=1))
    graph = helper.make_graph(
        nodes, "digits_resnet",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    os.makedirs(a.out_dir, exist_ok=True)
    onnx.save(model, os.path.join(a.out_dir, "digits_resnet.onnx"))
    k = a.test_images
    np.save(os.path.join(a.out_dir, "digits_test_images.npy"), xte[:k].astype(np.float32))
    np.save(os.path.join(a.out_dir, "digits_test_labels.npy"), yte[:k].astype(np.int64))
    np.save(os.path.join(a.out_dir, "digits_calibration.npy"), xtr[:32].astype(np.float32))
    acc = (forward(xte[:k]).argmax(axis=1) == yte[:k]).mean()
    print(f"wrote {a.out_dir}: float accuracy on the {k} saved test images {acc:.3f}")


if __name__ == "__main__":
    main()
