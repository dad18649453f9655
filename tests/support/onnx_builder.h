// Small ONNX models written with onnx's protobuf classes, for the importer's tests (no Python).
#pragma once

#include <onnx/onnx_pb.h>

#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace msq::testing {

class OnnxBuilder {
 public:
  // A graph with one float input "x" of [1, c, h, w] (h = w = 0: [1, c]).
  explicit OnnxBuilder(int c, int h, int w, int opset = 13) {
    m_.set_ir_version(8);
    auto* o = m_.add_opset_import();
    o->set_domain("");
    o->set_version(opset);
    g_ = m_.mutable_graph();
    g_->set_name("test");
    auto* in = g_->add_input();
    in->set_name("x");
    auto* tt = in->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    auto* sh = tt->mutable_shape();
    sh->add_dim()->set_dim_param("N");
    sh->add_dim()->set_dim_value(c);
    if (h > 0) {
      sh->add_dim()->set_dim_value(h);
      sh->add_dim()->set_dim_value(w);
    }
  }

  void init(const std::string& name, const std::vector<int64_t>& dims,
            const std::vector<float>& v) {
    auto* t = g_->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) t->add_dims(d);
    t->set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4));
  }
  void init_i64(const std::string& name, const std::vector<int64_t>& v) {
    auto* t = g_->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(int64_t(v.size()));
    for (int64_t x : v) t->add_int64_data(x);
  }
  // Seeded random weights of the given dims, deviation `sd`.
  void init_random(const std::string& name, const std::vector<int64_t>& dims, float sd,
                   float mean = 0.f) {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    std::normal_distribution<float> nd(mean, sd);
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = nd(rng_);
    init(name, dims, v);
  }

  onnx::NodeProto* node(const std::string& type, const std::vector<std::string>& in,
                        const std::vector<std::string>& out, const std::string& name = "") {
    auto* n = g_->add_node();
    n->set_op_type(type);
    n->set_name(name.empty() ? out[0] : name);
    for (const auto& s : in) n->add_input(s);
    for (const auto& s : out) n->add_output(s);
    return n;
  }
  static void ints(onnx::NodeProto* n, const std::string& a, const std::vector<int64_t>& v) {
    auto* at = n->add_attribute();
    at->set_name(a);
    at->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) at->add_ints(x);
  }
  static void i(onnx::NodeProto* n, const std::string& a, int64_t v) {
    auto* at = n->add_attribute();
    at->set_name(a);
    at->set_type(onnx::AttributeProto::INT);
    at->set_i(v);
  }
  static void f(onnx::NodeProto* n, const std::string& a, float v) {
    auto* at = n->add_attribute();
    at->set_name(a);
    at->set_type(onnx::AttributeProto::FLOAT);
    at->set_f(v);
  }
  static void s(onnx::NodeProto* n, const std::string& a, const std::string& v) {
    auto* at = n->add_attribute();
    at->set_name(a);
    at->set_type(onnx::AttributeProto::STRING);
    at->set_s(v);
  }

  // Conv with random weights (and bias) named after the node.
  onnx::NodeProto* conv(const std::string& name, const std::string& in, const std::string& out,
                        int cin, int cout, int k, int stride, int pad, int group = 1) {
    init_random(name + ".weight", {cout, cin / group, k, k},
                1.0f / float(std::sqrt(cin * k * k / group)));
    init_random(name + ".bias", {cout}, 0.1f);
    auto* n = node("Conv", {in, name + ".weight", name + ".bias"}, {out}, name);
    ints(n, "kernel_shape", {k, k});
    ints(n, "strides", {stride, stride});
    ints(n, "pads", {pad, pad, pad, pad});
    if (group != 1) i(n, "group", group);
    return n;
  }
  onnx::NodeProto* bn(const std::string& name, const std::string& in, const std::string& out,
                      int c) {
    init_random(name + ".scale", {c}, 0.1f, 1.0f);
    init_random(name + ".B", {c}, 0.1f);
    init_random(name + ".mean", {c}, 0.1f);
    std::vector<float> var(static_cast<size_t>(c));
    for (auto& v : var) v = 0.5f + float(rng_() % 100) / 100.f;
    init(name + ".var", {c}, var);
    return node("BatchNormalization",
                {in, name + ".scale", name + ".B", name + ".mean", name + ".var"}, {out}, name);
  }

  void output(const std::string& name) {
    auto* o = g_->add_output();
    o->set_name(name);
    o->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  }

  std::string bytes() const { return m_.SerializeAsString(); }
  void save(const std::string& path) const {
    std::ofstream f(path, std::ios::binary);
    f << bytes();
  }
  onnx::ModelProto& model() { return m_; }

 private:
  onnx::ModelProto m_;
  onnx::GraphProto* g_;
  std::mt19937 rng_{7};
};

// A small residual classifier: conv-bn-relu, maxpool, a basic block with an identity add, a
// strided block with a 1x1 downsample, global average pool, flatten, gemm.
inline OnnxBuilder small_resnet(int c = 3, int hw = 16, int classes = 10) {
  OnnxBuilder b(c, hw, hw);
  b.conv("conv1", "x", "c1", c, 8, 3, 1, 1);
  b.bn("bn1", "c1", "b1", 8);
  b.node("Relu", {"b1"}, {"r1"}, "relu1");
  auto* mp = b.node("MaxPool", {"r1"}, {"p1"}, "maxpool");
  OnnxBuilder::ints(mp, "kernel_shape", {3, 3});
  OnnxBuilder::ints(mp, "strides", {2, 2});
  OnnxBuilder::ints(mp, "pads", {1, 1, 1, 1});
  b.conv("l1.conv1", "p1", "l1c1", 8, 8, 3, 1, 1);
  b.node("Relu", {"l1c1"}, {"l1r1"}, "l1.relu1");
  b.conv("l1.conv2", "l1r1", "l1c2", 8, 8, 3, 1, 1);
  b.node("Add", {"l1c2", "p1"}, {"l1a"}, "l1.add");
  b.node("Relu", {"l1a"}, {"l1o"}, "l1.relu2");
  b.conv("l2.conv1", "l1o", "l2c1", 8, 16, 3, 2, 1);
  auto* clip = b.node("Clip", {"l2c1", "zero", "six"}, {"l2r1"}, "l2.relu6");
  (void)clip;
  b.init("zero", {}, {0.f});
  b.init("six", {}, {6.f});
  b.conv("l2.conv2", "l2r1", "l2c2", 16, 16, 3, 1, 1, 4);
  b.conv("l2.down", "l1o", "l2d", 8, 16, 1, 2, 0);
  b.node("Add", {"l2c2", "l2d"}, {"l2a"}, "l2.add");
  b.node("Relu", {"l2a"}, {"l2o"}, "l2.relu2");
  b.node("GlobalAveragePool", {"l2o"}, {"gap"}, "avgpool");
  auto* fl = b.node("Flatten", {"gap"}, {"flat"}, "flatten");
  OnnxBuilder::i(fl, "axis", 1);
  b.init_random("fc.weight", {classes, 16}, 0.25f);
  b.init_random("fc.bias", {classes}, 0.1f);
  auto* fc = b.node("Gemm", {"flat", "fc.weight", "fc.bias"}, {"y"}, "fc");
  OnnxBuilder::i(fc, "transB", 1);
  b.output("y");
  return b;
}

}  // namespace msq::testing
