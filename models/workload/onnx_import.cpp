#include "models/workload/onnx_import.h"

#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "models/error.h"

namespace msq {
namespace {

// Far above any real layer, low enough that products of sizes stay well inside int64.
constexpr int64_t kMaxDim = int64_t(1) << 16;
constexpr int64_t kMaxElements = int64_t(1) << 28;

// The default domain's opsets whose definitions of the supported operators the importer follows
// (docs/import.md). Before 7, Add broadcast by `axis`/`broadcast` attributes, BatchNormalization
// had `is_test`/`consumed_inputs` and Reshape took its shape as an attribute; opsets after 22 are
// definitions it has not been checked against.
constexpr int64_t kMinOpset = 7, kMaxOpset = 22;

struct Const {
  std::vector<int64_t> dims;
  std::vector<double> v;  // every numeric type as double (int64 shapes are exact up to 2^53)
};

// What an ONNX value name refers to: a tensor of the graph or a constant.
struct Val {
  int tensor = -1;
  const Const* c = nullptr;
};

std::string ints_text(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

class Importer {
 public:
  Importer(const std::string& label) : file_(label) {}

  FloatGraph run(const std::string& bytes) {
    onnx::ModelProto model;
    if (bytes.empty()) fail_file("the file is empty; expected an ONNX model");
    // ParseFromString refuses malformed or truncated protobuf; a file that happens to parse still
    // has to look like a model below.
    if (!model.ParseFromString(bytes))
      fail_file("not an ONNX model (the protobuf does not parse: a truncated or foreign file?)");
    if (!model.has_graph() || model.graph().node_size() == 0)
      fail_file("not an ONNX model (no graph with nodes)");
    opset_ = 0;
    for (const auto& o : model.opset_import())
      if (o.domain().empty() || o.domain() == "ai.onnx") opset_ = o.version();
    // An operator's meaning depends on the opset: a model outside the range read is refused by
    // its opset, not imported under another opset's rules.
    if (opset_ == 0)
      fail_file(fmt::format(
          "opset_import declares no opset of the default domain ('' or 'ai.onnx'); expected "
          "one of {}..{} (export with e.g. torch.onnx.export(..., opset_version=17))",
          kMinOpset, kMaxOpset));
    if (opset_ < kMinOpset || opset_ > kMaxOpset)
      fail_file(fmt::format(
          "opset_import: opset {} of the default domain is not supported; expected {}..{}, whose "
          "operator definitions the importer follows (re-export with an opset in that range, "
          "e.g. torch.onnx.export(..., opset_version=17))",
          opset_, kMinOpset, kMaxOpset));
    const onnx::GraphProto& g = model.graph();
    g_.name = g.name().empty() ? "onnx" : g.name();

    for (const auto& t : g.initializer()) {
      consts_.push_back(std::make_unique<Const>(to_const(t, "initializer '" + t.name() + "'")));
      vals_[t.name()].c = consts_.back().get();
    }
    read_input(g);
    for (const auto& n : g.node())
      for (const auto& in : n.input()) ++uses_[in];
    for (const auto& o : g.output()) ++uses_[o.name()];
    for (const auto& n : g.node()) node(n);
    for (const auto& o : g.output()) {
      const auto it = vals_.find(o.name());
      if (it == vals_.end() || it->second.tensor < 0)
        fail_file(
            fmt::format("graph output '{}' is not computed by any node", clip_text(o.name())));
      g_.outputs.push_back(it->second.tensor);
    }
    if (g_.outputs.empty()) fail_file("the graph has no outputs");
    // Folding (BatchNorm scales, Gemm alpha and beta, bias adds) can overflow finite inputs.
    for (const FloatOp& op : g_.ops)
      for (const auto* v : {&op.weights, &op.bias})
        for (float x : *v)
          if (!std::isfinite(x))
            fail_file(fmt::format("node '{}': its weights or bias are not finite after folding",
                                  clip_text(op.name)));
    if (g_.ops.empty()) fail_file("the graph has no operation msqsim runs");
    return std::move(g_);
  }

 private:
  std::string file_;
  int64_t opset_ = 0;
  FloatGraph g_;
  std::vector<std::unique_ptr<Const>> consts_;
  std::map<std::string, Val> vals_;
  std::map<std::string, int> uses_;
  std::vector<int> producer_;  // per tensor: the op that writes it, -1 for the input
  std::vector<int> rank_;      // per tensor: 4 ([N, C, H, W]) or 2 ([N, C])
  std::string key_;            // the node being read, for messages

  [[noreturn]] void fail_file(const std::string& what) const {
    throw InputError(file_, 0, "", what);
  }
  [[noreturn]] void fail(const std::string& what) const { throw InputError(file_, 0, key_, what); }

  Const to_const(const onnx::TensorProto& t, const std::string& what) {
    if (t.data_location() == onnx::TensorProto::EXTERNAL)
      fail_file(what +
                ": external data files are not supported (save the model with its data "
                "inside)");
    Const c;
    int64_t n = 1;
    for (int64_t d : t.dims()) {
      if (d < 0 || d > kMaxElements || (d && n > kMaxElements / d))
        fail_file(fmt::format("{}: bad or too large dims {}", what,
                              ints_text({t.dims().begin(), t.dims().end()})));
      n *= d;
      c.dims.push_back(d);
    }
    const std::string& raw = t.raw_data();
    const auto from_raw = [&](size_t item, auto conv) {
      if (raw.size() != size_t(n) * item)
        fail_file(fmt::format("{}: {} bytes of data for dims {} ({} values of {} bytes)", what,
                              raw.size(), ints_text(c.dims), n, item));
      c.v.resize(size_t(n));
      for (int64_t i = 0; i < n; ++i) c.v[size_t(i)] = conv(raw.data() + i * int64_t(item));
    };
    const auto count_check = [&](int64_t got) {
      if (got != n)
        fail_file(fmt::format("{}: {} values for dims {} (expected {})", what, got,
                              ints_text(c.dims), n));
    };
    switch (t.data_type()) {
      case onnx::TensorProto::FLOAT:
        if (!raw.empty() || t.float_data_size() == 0)
          from_raw(4, [](const char* p) {
            float f;
            std::memcpy(&f, p, 4);
            return double(f);
          });
        else {
          count_check(t.float_data_size());
          c.v.assign(t.float_data().begin(), t.float_data().end());
        }
        break;
      case onnx::TensorProto::DOUBLE:
        if (!raw.empty() || t.double_data_size() == 0)
          from_raw(8, [](const char* p) {
            double f;
            std::memcpy(&f, p, 8);
            return f;
          });
        else {
          count_check(t.double_data_size());
          c.v.assign(t.double_data().begin(), t.double_data().end());
        }
        break;
      case onnx::TensorProto::INT64:
        if (!raw.empty() || t.int64_data_size() == 0)
          from_raw(8, [](const char* p) {
            int64_t f;
            std::memcpy(&f, p, 8);
            return double(f);
          });
        else {
          count_check(t.int64_data_size());
          c.v.assign(t.int64_data().begin(), t.int64_data().end());
        }
        break;
      case onnx::TensorProto::INT32:
        if (!raw.empty() || t.int32_data_size() == 0)
          from_raw(4, [](const char* p) {
            int32_t f;
            std::memcpy(&f, p, 4);
            return double(f);
          });
        else {
          count_check(t.int32_data_size());
          c.v.assign(t.int32_data().begin(), t.int32_data().end());
        }
        break;
      default:
        fail_file(fmt::format("{}: data type {} is not supported (float, double, int32, int64)",
                              what, t.data_type()));
    }
    for (double x : c.v)
      if (!std::isfinite(x)) fail_file(what + ": holds a value that is not finite");
    return c;
  }

  void read_input(const onnx::GraphProto& g) {
    const onnx::ValueInfoProto* in = nullptr;
    for (const auto& v : g.input())
      if (!vals_.count(v.name())) {
        if (in)
          fail_file(
              fmt::format("the graph has more than one input ('{}', '{}'); msqsim runs "
                          "networks with one input",
                          clip_text(in->name()), clip_text(v.name())));
        in = &v;
      }
    if (!in) fail_file("the graph has no input (every graph input is an initializer)");
    key_ = fmt::format("input '{}'", clip_text(in->name()));
    if (!in->type().has_tensor_type() || in->type().tensor_type().elem_type() != 1)
      fail("expected a float tensor");
    const auto& shape = in->type().tensor_type().shape();
    if (shape.dim_size() != 4 && shape.dim_size() != 2)
      fail(fmt::format("expected a shape [N, C, H, W] or [N, C] (got rank {})", shape.dim_size()));
    std::vector<int64_t> d;
    for (int i = 1; i < shape.dim_size(); ++i) {
      const auto& dim = shape.dim(i);
      if (!dim.has_dim_value() || dim.dim_value() <= 0 || dim.dim_value() > kMaxDim)
        fail(
            fmt::format("dimension {} is {}; expected a fixed size in 1..{} (export the model "
                        "with a fixed input size)",
                        i,
                        dim.has_dim_value()   ? std::to_string(dim.dim_value())
                        : dim.has_dim_param() ? "'" + clip_text(dim.dim_param()) + "'"
                                              : "unset",
                        kMaxDim));
      d.push_back(dim.dim_value());
    }
    FloatTensorDesc t;
    t.name = in->name();
    t.c = int(d[0]);
    if (d.size() == 3) {
      t.h = int(d[1]);
      t.w = int(d[2]);
    }
    g_.input = add_tensor(t, -1, d.size() == 3 ? 4 : 2);
    vals_[in->name()].tensor = g_.input;
  }

  int add_tensor(const FloatTensorDesc& t, int producer, int rank) {
    if (int64_t(t.c) * t.h * t.w > kMaxElements)
      fail(fmt::format("output of {}x{}x{} values is too large", t.c, t.h, t.w));
    g_.tensors.push_back(t);
    producer_.push_back(producer);
    rank_.push_back(rank);
    return int(g_.tensors.size()) - 1;
  }

  // ---- attributes

  const onnx::AttributeProto* attr(const onnx::NodeProto& n, const std::string& name) {
    for (const auto& a : n.attribute())
      if (a.name() == name) return &a;
    return nullptr;
  }
  std::vector<int64_t> ints(const onnx::NodeProto& n, const std::string& name,
                            std::vector<int64_t> def) {
    const auto* a = attr(n, name);
    if (!a) return def;
    if (a->type() != onnx::AttributeProto::INTS)
      fail(fmt::format("attribute {}: expected a list of integers", name));
    return {a->ints().begin(), a->ints().end()};
  }
  int64_t int_attr(const onnx::NodeProto& n, const std::string& name, int64_t def) {
    const auto* a = attr(n, name);
    if (!a) return def;
    if (a->type() != onnx::AttributeProto::INT)
      fail(fmt::format("attribute {}: expected an integer", name));
    return a->i();
  }
  double float_attr(const onnx::NodeProto& n, const std::string& name, double def) {
    const auto* a = attr(n, name);
    if (!a) return def;
    if (a->type() != onnx::AttributeProto::FLOAT)
      fail(fmt::format("attribute {}: expected a float", name));
    return a->f();
  }
  void only_attrs(const onnx::NodeProto& n, const std::vector<std::string>& known) {
    for (const auto& a : n.attribute())
      if (std::find(known.begin(), known.end(), a.name()) == known.end())
        fail(fmt::format("attribute {} is not supported", clip_text(a.name())));
  }
  void no_auto_pad(const onnx::NodeProto& n) {
    if (const auto* a = attr(n, "auto_pad")) {
      if (a->s() != "NOTSET")
        fail(fmt::format("attribute auto_pad = {}: only NOTSET (explicit pads) is supported",
                         clip_text(a->s())));
    }
  }

  // kernel_shape, strides, pads and dilations of a 2-D window; kernel from `kernel` when the
  // attribute is absent (Conv: the weights' dims).
  struct Window {
    int kh, kw, sh, sw, ph, pw;
  };
  Window window(const onnx::NodeProto& n, std::vector<int64_t> kernel) {
    no_auto_pad(n);
    const auto k = ints(n, "kernel_shape", kernel);
    if (k.size() != 2)
      fail(fmt::format("attribute kernel_shape = {}: expected 2 values (2-D)", ints_text(k)));
    if (!kernel.empty() && k != kernel)
      fail(fmt::format("attribute kernel_shape = {} disagrees with the weights' {}", ints_text(k),
                       ints_text(kernel)));
    const auto s = ints(n, "strides", {1, 1});
    const auto p = ints(n, "pads", {0, 0, 0, 0});
    const auto d = ints(n, "dilations", {1, 1});
    if (d.size() != 2 || d[0] != 1 || d[1] != 1)
      fail(
          fmt::format("attribute dilations = {}: only 1 (no dilation) is supported", ints_text(d)));
    if (s.size() != 2 || s[0] < 1 || s[1] < 1 || s[0] > kMaxDim || s[1] > kMaxDim)
      fail(fmt::format("attribute strides = {}: expected two strides >= 1", ints_text(s)));
    if (p.size() != 4 || p[0] < 0 || p[1] < 0 || p[0] > kMaxDim || p[1] > kMaxDim)
      fail(fmt::format("attribute pads = {}: expected [top, left, bottom, right] >= 0",
                       ints_text(p)));
    if (p[0] != p[2] || p[1] != p[3])
      fail(
          fmt::format("attribute pads = {}: asymmetric padding is not supported (top must equal "
                      "bottom, left equal right)",
                      ints_text(p)));
    if (k[0] < 1 || k[1] < 1 || k[0] > kMaxDim || k[1] > kMaxDim)
      fail(fmt::format("attribute kernel_shape = {}: expected sizes >= 1", ints_text(k)));
    return {int(k[0]), int(k[1]), int(s[0]), int(s[1]), int(p[0]), int(p[1])};
  }

  // ---- values

  Val val(const onnx::NodeProto& n, int i) {
    if (i >= n.input_size() || n.input(i).empty()) fail(fmt::format("input {} is missing", i));
    const auto it = vals_.find(n.input(i));
    if (it == vals_.end())
      fail(
          fmt::format("input '{}' is neither an initializer, a graph input nor the output of an "
                      "earlier node (missing initializer?)",
                      clip_text(n.input(i))));
    return it->second;
  }
  int tensor_in(const onnx::NodeProto& n, int i) {
    const Val v = val(n, i);
    if (v.tensor < 0)
      fail(fmt::format("input '{}' is a constant; expected an activation tensor",
                       clip_text(n.input(i))));
    return v.tensor;
  }
  const Const& const_in(const onnx::NodeProto& n, int i, const std::string& what) {
    const Val v = val(n, i);
    if (!v.c)
      fail(fmt::format("input '{}' ({}) is computed by the network; expected an initializer",
                       clip_text(n.input(i)), what));
    return *v.c;
  }
  bool has_input(const onnx::NodeProto& n, int i) {
    return i < n.input_size() && !n.input(i).empty();
  }
  void set_out(const onnx::NodeProto& n, int tensor) {
    if (n.output_size() < 1 || n.output(0).empty()) fail("has no output");
    vals_[n.output(0)].tensor = tensor;
  }
  void only_first_output(const onnx::NodeProto& n) {
    for (int i = 1; i < n.output_size(); ++i)
      if (!n.output(i).empty() && uses_[n.output(i)] > 0)
        fail(fmt::format("output {} ('{}') is used; only the first output is supported", i,
                         clip_text(n.output(i))));
  }

  FloatOp& new_op(const onnx::NodeProto& n, OpKind kind, std::vector<int> inputs,
                  const FloatTensorDesc& out, int rank) {
    FloatOp op;
    op.name = n.name().empty() ? n.output(0) : n.name();
    op.kind = kind;
    op.inputs = std::move(inputs);
    FloatTensorDesc t = out;
    t.name = n.output(0);
    op.output = add_tensor(t, int(g_.ops.size()), rank);
    g_.ops.push_back(std::move(op));
    set_out(n, g_.ops.back().output);
    return g_.ops.back();
  }

  // The op that writes the tensor of input 0, when a folding node (BatchNormalization, Relu,
  // Clip, a bias Add) may change it: the tensor has no other reader.
  FloatOp* producer_for_fold(const onnx::NodeProto& n, int t) {
    const int p = producer_[size_t(t)];
    if (p < 0) fail("cannot be folded: its input is the network input");
    if (uses_[n.input(0)] != 1)
      fail(fmt::format("cannot be folded into '{}': its input '{}' is also read elsewhere",
                       g_.ops[size_t(p)].name, clip_text(n.input(0))));
    return &g_.ops[size_t(p)];
  }

  void fuse_clamp(const onnx::NodeProto& n, double hi) {
    const int t = tensor_in(n, 0);
    FloatOp* p = producer_for_fold(n, t);
    if (p->kind == OpKind::MaxPool || p->kind == OpKind::Concat || p->kind == OpKind::Flatten)
      fail(
          fmt::format("cannot be folded into '{}' ({}): only Conv, Gemm/MatMul, Add and the "
                      "average pools take a clamp",
                      p->name, kind_name(p->kind)));
    if (p->relu && hi >= p->clamp_hi) {
      // A second clamp that is wider than the first changes nothing.
    } else {
      p->relu = true;
      p->clamp_hi = float(std::min<double>(hi, p->clamp_hi));
    }
    set_out(n, t);
  }

  static const char* kind_name(OpKind k) {
    switch (k) {
      case OpKind::Conv:
        return "Conv";
      case OpKind::Fc:
        return "Gemm";
      case OpKind::Add:
        return "Add";
      case OpKind::MaxPool:
        return "MaxPool";
      case OpKind::AvgPool:
        return "AveragePool";
      case OpKind::GlobalAvgPool:
        return "GlobalAveragePool";
      case OpKind::Concat:
        return "Concat";
      case OpKind::Flatten:
        return "Flatten";
    }
    return "?";
  }

  // A [C, H, W] tensor as a vector [C*H*W]: a view; an op only when the tensor is not a vector.
  void flatten(const onnx::NodeProto& n, int t) {
    const FloatTensorDesc& d = g_.tensors[size_t(t)];
    if (d.h == 1 && d.w == 1) {
      set_out(n, t);
      rank_[size_t(t)] = 2;
      return;
    }
    FloatTensorDesc o;
    o.c = int(d.size());
    new_op(n, OpKind::Flatten, {t}, o, 2);
  }

  void node(const onnx::NodeProto& n) {
    const std::string& type = n.op_type();
    key_ = fmt::format("node '{}' ({})",
                       clip_text(n.name().empty() && n.output_size() ? n.output(0) : n.name()),
                       clip_text(type));
    if (!n.domain().empty() && n.domain() != "ai.onnx")
      fail(fmt::format("operator domain '{}' is not supported", clip_text(n.domain())));
    if (n.output_size() < 1 || n.output(0).empty()) fail("has no output");
    if (vals_.count(n.output(0)))
      fail(fmt::format("output '{}' is already defined", clip_text(n.output(0))));
    if (type == "Constant") return constant(n);
    if (type == "Identity" || type == "Dropout") {
      only_first_output(n);
      vals_[n.output(0)] = val(n, 0);
      return;
    }
    if (type == "Conv") return conv(n);
    if (type == "Gemm" || type == "MatMul") return gemm(n);
    if (type == "BatchNormalization") return batchnorm(n);
    if (type == "Relu") {
      only_attrs(n, {});
      return fuse_clamp(n, std::numeric_limits<double>::infinity());
    }
    if (type == "Clip") return clip(n);
    if (type == "Add") return add(n);
    if (type == "MaxPool" || type == "AveragePool") return pool(n);
    if (type == "GlobalAveragePool") {
      only_attrs(n, {});
      const int t = tensor_in(n, 0);
      if (rank_[size_t(t)] != 4) fail("expected a [N, C, H, W] input");
      FloatTensorDesc o;
      o.c = g_.tensors[size_t(t)].c;
      FloatOp& op = new_op(n, OpKind::GlobalAvgPool, {t}, o, 4);
      op.kh = g_.tensors[size_t(t)].h;
      op.kw = g_.tensors[size_t(t)].w;
      return;
    }
    if (type == "Concat") return concat(n);
    if (type == "Flatten") {
      only_attrs(n, {"axis"});
      const int64_t axis = int_attr(n, "axis", 1);
      if (axis != 1) fail(fmt::format("attribute axis = {}: only 1 is supported", axis));
      return flatten(n, tensor_in(n, 0));
    }
    if (type == "Reshape") return reshape(n);
    fail("operator " + clip_text(type) +
         " is not supported (supported: Conv, Gemm, MatMul, Add, MaxPool, AveragePool, "
         "GlobalAveragePool, Concat, Flatten, Reshape, BatchNormalization, Relu, Clip, Identity, "
         "Dropout, Constant; see docs/import.md)");
  }

  void constant(const onnx::NodeProto& n) {
    const auto* a = attr(n, "value");
    if (!a || n.attribute_size() != 1 || a->type() != onnx::AttributeProto::TENSOR)
      fail("only a Constant with a tensor 'value' is supported");
    consts_.push_back(std::make_unique<Const>(to_const(a->t(), key_)));
    vals_[n.output(0)].c = consts_.back().get();
  }

  void conv(const onnx::NodeProto& n) {
    only_attrs(n, {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"});
    const int t = tensor_in(n, 0);
    const Const& w = const_in(n, 1, "weights");
    if (rank_[size_t(t)] != 4) fail("expected a [N, C, H, W] input");
    if (w.dims.size() != 4)
      fail(fmt::format("weights of dims {}: expected [M, C/group, kH, kW] (2-D convolution)",
                       ints_text(w.dims)));
    const Window win = window(n, {w.dims[2], w.dims[3]});
    const int64_t group = int_attr(n, "group", 1);
    const FloatTensorDesc& in = g_.tensors[size_t(t)];
    const int64_t M = w.dims[0];
    if (group < 1 || in.c % group || M % group || w.dims[1] != in.c / group)
      fail(fmt::format("weights of dims {} with group {} do not fit an input of {} channels",
                       ints_text(w.dims), group, in.c));
    const int64_t oh = (int64_t(in.h) + 2 * win.ph - win.kh) / win.sh + 1;
    const int64_t ow = (int64_t(in.w) + 2 * win.pw - win.kw) / win.sw + 1;
    if (in.h + 2 * win.ph < win.kh || in.w + 2 * win.pw < win.kw || oh < 1 || ow < 1)
      fail(fmt::format("kernel {}x{} does not fit the padded input {}x{}", win.kh, win.kw, in.h,
                       in.w));
    std::vector<float> bias(size_t(M), 0.f);
    if (has_input(n, 2)) {
      const Const& b = const_in(n, 2, "bias");
      if (int64_t(b.v.size()) != M)
        fail(fmt::format("bias of {} values for {} output channels", b.v.size(), M));
      for (int64_t i = 0; i < M; ++i) bias[size_t(i)] = float(b.v[size_t(i)]);
    }
    FloatTensorDesc o;
    o.c = int(M);
    o.h = int(oh);
    o.w = int(ow);
    FloatOp& op = new_op(n, OpKind::Conv, {t}, o, 4);
    op.out_c = int(M);
    op.groups = int(group);
    op.kh = win.kh, op.kw = win.kw, op.sh = win.sh, op.sw = win.sw, op.ph = win.ph, op.pw = win.pw;
    op.weights.assign(w.v.begin(), w.v.end());
    op.bias = std::move(bias);
  }

  void gemm(const onnx::NodeProto& n) {
    const bool matmul = n.op_type() == "MatMul";
    if (matmul)
      only_attrs(n, {});
    else
      only_attrs(n, {"alpha", "beta", "transA", "transB"});
    const int t = tensor_in(n, 0);
    const Const& b = const_in(n, 1, "weights");
    const FloatTensorDesc& in = g_.tensors[size_t(t)];
    if (rank_[size_t(t)] != 2 && !(in.h == 1 && in.w == 1))
      fail(fmt::format("input of {}x{}x{} values: expected a vector [N, K] (add a Flatten)", in.c,
                       in.h, in.w));
    if (!matmul && int_attr(n, "transA", 0) != 0) fail("attribute transA = 1 is not supported");
    const bool transB = !matmul && int_attr(n, "transB", 0) != 0;
    const double alpha = matmul ? 1.0 : float_attr(n, "alpha", 1.0);
    const double beta = matmul ? 1.0 : float_attr(n, "beta", 1.0);
    if (b.dims.size() != 2)
      fail(fmt::format("weights of dims {}: expected 2-D", ints_text(b.dims)));
    const int64_t K = transB ? b.dims[1] : b.dims[0], M = transB ? b.dims[0] : b.dims[1];
    if (K != in.c)
      fail(fmt::format("weights of dims {}{} need {} inputs; the input has {}", ints_text(b.dims),
                       transB ? " (transB)" : "", K, in.c));
    if (M < 1) fail("weights have no outputs");
    FloatTensorDesc o;
    o.c = int(M);
    FloatOp& op = new_op(n, OpKind::Fc, {t}, o, 2);
    op.out_c = int(M);
    op.weights.resize(size_t(M * K));
    for (int64_t m = 0; m < M; ++m)
      for (int64_t k = 0; k < K; ++k)
        op.weights[size_t(m * K + k)] = float(alpha * b.v[size_t(transB ? m * K + k : k * M + m)]);
    op.bias.assign(size_t(M), 0.f);
    if (!matmul && has_input(n, 2)) {
      const Const& c = const_in(n, 2, "bias");
      if (int64_t(c.v.size()) != M)
        fail(fmt::format("bias C of {} values for {} outputs (broadcasting is not supported)",
                         c.v.size(), M));
      for (int64_t m = 0; m < M; ++m) op.bias[size_t(m)] = float(beta * c.v[size_t(m)]);
    }
  }

  void batchnorm(const onnx::NodeProto& n) {
    only_attrs(n, {"epsilon", "momentum", "spatial", "training_mode"});
    if (int_attr(n, "training_mode", 0) != 0) fail("attribute training_mode = 1 is not supported");
    // Opsets 7 and 8: spatial = 0 normalizes every element, not every channel.
    if (int_attr(n, "spatial", 1) != 1)
      fail("attribute spatial = 0 is not supported (per-element statistics; 1: per channel)");
    only_first_output(n);
    const int t = tensor_in(n, 0);
    FloatOp* p = producer_for_fold(n, t);
    if (p->kind != OpKind::Conv)
      fail(fmt::format("folds only into a preceding Conv (its input comes from '{}', {})", p->name,
                       kind_name(p->kind)));
    if (p->relu) fail(fmt::format("follows an activation folded into '{}'; cannot fold", p->name));
    const double eps = float_attr(n, "epsilon", 1e-5);
    const Const& gamma = const_in(n, 1, "scale");
    const Const& beta = const_in(n, 2, "B");
    const Const& mean = const_in(n, 3, "mean");
    const Const& var = const_in(n, 4, "var");
    const size_t M = size_t(p->out_c);
    for (const Const* c : {&gamma, &beta, &mean, &var})
      if (c->v.size() != M)
        fail(fmt::format("parameters of {} values for {} channels", c->v.size(), M));
    const size_t per = p->weights.size() / M;
    for (size_t m = 0; m < M; ++m) {
      if (var.v[m] + eps <= 0) fail(fmt::format("channel {}: var + epsilon <= 0", m));
      const double s = gamma.v[m] / std::sqrt(var.v[m] + eps);
      for (size_t k = 0; k < per; ++k) p->weights[m * per + k] = float(p->weights[m * per + k] * s);
      p->bias[m] = float((p->bias[m] - mean.v[m]) * s + beta.v[m]);
    }
    set_out(n, t);
  }

  void clip(const onnx::NodeProto& n) {
    double lo = -std::numeric_limits<double>::infinity();
    double hi = std::numeric_limits<double>::infinity();
    if (opset_ < 11) {
      only_attrs(n, {"min", "max"});
      lo = float_attr(n, "min", lo);
      hi = float_attr(n, "max", hi);
    } else {
      only_attrs(n, {});
      const auto scalar = [&](int i, const char* what) {
        const Const& c = const_in(n, i, what);
        if (c.v.size() != 1)
          fail(fmt::format("{} of {} values: expected a scalar", what, c.v.size()));
        return c.v[0];
      };
      if (has_input(n, 1)) lo = scalar(1, "min");
      if (has_input(n, 2)) hi = scalar(2, "max");
    }
    if (lo != 0.0 || !(hi > 0.0))
      fail(
          fmt::format("Clip({}, {}): only Clip(0, max) with max > 0 (Relu, Relu6) folds into "
                      "the producer",
                      lo, hi));
    fuse_clamp(n, hi);
  }

  void add(const onnx::NodeProto& n) {
    only_attrs(n, {});
    const Val a = val(n, 0), b = val(n, 1);
    if (a.tensor >= 0 && b.tensor >= 0) {
      const FloatTensorDesc &da = g_.tensors[size_t(a.tensor)], &db = g_.tensors[size_t(b.tensor)];
      if (da.c != db.c || da.h != db.h || da.w != db.w)
        fail(
            fmt::format("inputs of shapes {}x{}x{} and {}x{}x{}: expected equal shapes (no "
                        "broadcasting)",
                        da.c, da.h, da.w, db.c, db.h, db.w));
      new_op(n, OpKind::Add, {a.tensor, b.tensor}, da, rank_[size_t(a.tensor)]);
      return;
    }
    if (a.tensor < 0 && b.tensor < 0) fail("both inputs are constants");
    // A constant added to a Conv / Gemm / MatMul result is its bias (MatMul + Add is how some
    // exporters write a Gemm).
    const int t = a.tensor >= 0 ? a.tensor : b.tensor;
    const Const& c = *(a.tensor >= 0 ? b.c : a.c);
    const int p_id = producer_[size_t(t)];
    const std::string in_name = n.input(a.tensor >= 0 ? 0 : 1);
    if (p_id < 0 || uses_[in_name] != 1)
      fail(
          "adds a constant to a tensor that is not the sole output of a Conv or Gemm (only a "
          "bias can be folded)");
    FloatOp& p = g_.ops[size_t(p_id)];
    if ((p.kind != OpKind::Conv && p.kind != OpKind::Fc) || p.relu)
      fail(
          fmt::format("adds a constant to the output of '{}' ({}); only a bias of a Conv or Gemm "
                      "before its activation can be folded",
                      p.name, kind_name(p.kind)));
    if (c.v.size() != size_t(p.out_c))
      fail(fmt::format("constant of {} values for {} channels: only a per-channel bias folds",
                       c.v.size(), p.out_c));
    for (size_t m = 0; m < c.v.size(); ++m) p.bias[m] = float(p.bias[m] + c.v[m]);
    set_out(n, t);
  }

  void pool(const onnx::NodeProto& n) {
    const bool max = n.op_type() == "MaxPool";
    if (max)
      only_attrs(n, {"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order",
                     "strides"});
    else
      only_attrs(n,
                 {"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"});
    only_first_output(n);
    const int t = tensor_in(n, 0);
    if (rank_[size_t(t)] != 4) fail("expected a [N, C, H, W] input");
    if (!attr(n, "kernel_shape")) fail("attribute kernel_shape is missing");
    const Window win = window(n, {});
    if (int_attr(n, "ceil_mode", 0) != 0) fail("attribute ceil_mode = 1 is not supported");
    if (!max && int_attr(n, "count_include_pad", 0) == 0 && (win.ph || win.pw))
      fail(
          "attribute count_include_pad = 0 with padding is not supported (the divisor is the "
          "full window: count_include_pad = 1)");
    if (win.ph >= win.kh || win.pw >= win.kw)
      fail(fmt::format("pads {}x{} for a kernel {}x{}: a window would hold only padding", win.ph,
                       win.pw, win.kh, win.kw));
    const FloatTensorDesc& in = g_.tensors[size_t(t)];
    if (in.h + 2 * win.ph < win.kh || in.w + 2 * win.pw < win.kw)
      fail(fmt::format("kernel {}x{} does not fit the padded input {}x{}", win.kh, win.kw, in.h,
                       in.w));
    FloatTensorDesc o;
    o.c = in.c;
    o.h = (in.h + 2 * win.ph - win.kh) / win.sh + 1;
    o.w = (in.w + 2 * win.pw - win.kw) / win.sw + 1;
    FloatOp& op = new_op(n, max ? OpKind::MaxPool : OpKind::AvgPool, {t}, o, 4);
    op.kh = win.kh, op.kw = win.kw, op.sh = win.sh, op.sw = win.sw, op.ph = win.ph, op.pw = win.pw;
  }

  void concat(const onnx::NodeProto& n) {
    only_attrs(n, {"axis"});
    if (n.input_size() < 1) fail("has no inputs");
    std::vector<int> ins;
    for (int i = 0; i < n.input_size(); ++i) ins.push_back(tensor_in(n, i));
    const int rank = rank_[size_t(ins[0])];
    int64_t axis = int_attr(n, "axis", 1);
    if (axis < 0) axis += rank;
    if (axis != 1)
      fail(fmt::format("attribute axis = {}: only channels (axis 1) are supported",
                       int_attr(n, "axis", 1)));
    FloatTensorDesc o = g_.tensors[size_t(ins[0])];
    o.c = 0;
    for (int t : ins) {
      const FloatTensorDesc& d = g_.tensors[size_t(t)];
      if (d.h != g_.tensors[size_t(ins[0])].h || d.w != g_.tensors[size_t(ins[0])].w ||
          rank_[size_t(t)] != rank)
        fail(fmt::format("inputs of sizes {}x{} and {}x{}: expected equal heights and widths",
                         g_.tensors[size_t(ins[0])].h, g_.tensors[size_t(ins[0])].w, d.h, d.w));
      o.c += d.c;
    }
    new_op(n, OpKind::Concat, ins, o, rank);
  }

  void reshape(const onnx::NodeProto& n) {
    only_attrs(n, {"allowzero"});
    const int t = tensor_in(n, 0);
    const Const& s = const_in(n, 1, "shape");
    const int64_t size = g_.tensors[size_t(t)].size();
    // Only the flatten to [N, C*H*W] that precedes a classifier, written as [N or 0 or -1 or 1,
    // C*H*W or -1].
    const bool ok = s.v.size() == 2 && (s.v[0] == 0 || s.v[0] == 1 || s.v[0] == -1) &&
                    (s.v[1] == -1 || s.v[1] == double(size)) && !(s.v[0] == -1 && s.v[1] == -1);
    if (!ok) {
      std::vector<int64_t> v(s.v.begin(), s.v.end());
      fail(fmt::format("shape {}: only a flatten to [N, {}] is supported", ints_text(v), size));
    }
    flatten(n, t);
  }
};

}  // namespace

FloatGraph import_onnx_bytes(const std::string& bytes, const std::string& label) {
  return Importer(label).run(bytes);
}

std::vector<LayerShape> onnx_layer_shapes(const FloatGraph& g) {
  std::vector<LayerShape> v;
  for (const FloatOp& op : g.ops) {
    if (op.kind != OpKind::Conv && op.kind != OpKind::Fc) continue;
    const FloatTensorDesc& in = g.tensors[size_t(op.inputs[0])];
    LayerShape s;
    s.name = op.name;
    s.type = op.kind == OpKind::Conv ? LayerType::Conv : LayerType::Fc;
    s.in_c = op.kind == OpKind::Fc ? int(in.size()) : in.c;
    s.in_h = op.kind == OpKind::Fc ? 1 : in.h;
    s.in_w = op.kind == OpKind::Fc ? 1 : in.w;
    s.out_c = op.out_c;
    s.kh = op.kh, s.kw = op.kw, s.sh = op.sh, s.sw = op.sw, s.ph = op.ph, s.pw = op.pw;
    s.groups = op.groups;
    v.push_back(s);
  }
  return v;
}

FloatGraph import_onnx(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw InputError(path, 0, "", "no such file; expected an ONNX model");
  std::ifstream f(path, std::ios::binary);
  if (!f) throw InputError(path, 0, "", "cannot open the ONNX model");
  std::ostringstream ss;
  ss << f.rdbuf();
  if (!f && !f.eof()) throw InputError(path, 0, "", "cannot read the ONNX model");
  return import_onnx_bytes(ss.str(), path);
}

}  // namespace msq
