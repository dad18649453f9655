// ResNet-18 (224x224, batch 1) as GEMM shapes, for the builder's tests and timing. The real
// network file belongs to configs/workloads/; this copy keeps the tests self-contained.
#pragma once

#include <string>
#include <vector>

#include "models/layer.h"

namespace msq::testing_shapes {

inline LayerShape conv(const std::string& name, int in_c, int hw, int out_c, int k, int s, int p) {
  LayerShape l;
  l.name = name;
  l.in_c = in_c;
  l.in_h = l.in_w = hw;
  l.out_c = out_c;
  l.kh = l.kw = k;
  l.sh = l.sw = s;
  l.ph = l.pw = p;
  return l;
}

inline std::vector<LayerShape> resnet18() {
  std::vector<LayerShape> v{conv("conv1", 3, 224, 64, 7, 2, 3)};
  int c = 64, hw = 56;
  for (int stage = 1; stage <= 4; ++stage) {
    const int oc = 64 << (stage - 1);
    const int s = stage == 1 ? 1 : 2;
    const std::string p = "layer" + std::to_string(stage);
    v.push_back(conv(p + ".0.conv1", c, hw, oc, 3, s, 1));
    const int ohw = hw / s;
    v.push_back(conv(p + ".0.conv2", oc, ohw, oc, 3, 1, 1));
    if (s != 1) v.push_back(conv(p + ".0.downsample", c, hw, oc, 1, s, 0));
    v.push_back(conv(p + ".1.conv1", oc, ohw, oc, 3, 1, 1));
    v.push_back(conv(p + ".1.conv2", oc, ohw, oc, 3, 1, 1));
    c = oc;
    hw = ohw;
  }
  LayerShape fc = conv("fc", 512, 1, 1000, 1, 1, 0);
  fc.type = LayerType::Fc;
  v.push_back(fc);
  return v;
}

}  // namespace msq::testing_shapes
