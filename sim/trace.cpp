#include "sim/trace.h"

#include <fmt/format.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "models/arith/fixed_point.h"
#include "models/arith/sp2.h"
#include "models/error.h"
#include "models/graph/graph_check.h"
#include "models/workload_builder.h"
#include "models/yaml_text.h"
#include "sim/atomic_file.h"
#include "sim/npy.h"

namespace msq {
namespace {

namespace fs = std::filesystem;

// The non-throwing forms: a path the system refuses (a name too long, a loop of links) is one
// that is not there, reported as missing with the layer and file, never a filesystem_error.
bool path_exists(const std::string& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}
bool is_dir(const std::string& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}
bool is_empty_dir(const std::string& p) {
  std::error_code ec;
  return fs::is_empty(p, ec) && !ec;
}

constexpr const char* kFormat = "msqsim-trace/1";
constexpr const char* kFormat2 = "msqsim-trace/2";

std::string join(const std::string& dir, const std::string& name) {
  return (fs::path(dir) / name).string();
}

std::string shape_text(const std::vector<int64_t>& s) {
  std::string t = "[";
  for (size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + "]";
}

// ---- manifest -------------------------------------------------------------------------------

class Manifest {
 public:
  explicit Manifest(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void bad(const YAML::Node& n, const std::string& key,
                        const std::string& what) const {
    throw InputError(file_, yaml_line(n), key, what);
  }

  // The conversions of every loader (models/yaml_text.h), at this file and the node's line.
  int64_t integer(const YAML::Node& n, const std::string& key, int64_t lo, int64_t hi) const {
    return yaml_int(n, file_, yaml_line(n), key, lo, hi);
  }

  std::string string(const YAML::Node& n, const std::string& key) const {
    return yaml_str(n, file_, yaml_line(n), key, true);
  }

  std::string choice(const YAML::Node& n, const std::string& key,
                     const std::vector<std::string>& options) const {
    return yaml_choice(n, file_, yaml_line(n), key, options);
  }

  // [h, w] or one integer for both.
  std::pair<int, int> pair(const YAML::Node& n, const std::string& key, int64_t lo) const {
    if (n.IsScalar()) {
      const int v = int(integer(n, key, lo, 1 << 20));
      return {v, v};
    }
    if (!n.IsSequence() || n.size() != 2) bad(n, key, "expected [h, w] or one integer");
    return {int(integer(n[0], key, lo, 1 << 20)), int(integer(n[1], key, lo, 1 << 20))};
  }

  std::string key_name(const YAML::Node& k, const std::string& where) const {
    return yaml_key(k, file_, where);
  }

  const std::string& file() const { return file_; }

 private:
  std::string file_;
};

struct LayerSpec {
  std::string name, dir;
  bool fc = false;
  int out_c = 0, kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0, groups = 1;
  int act_bits = 8, acc_bits = 32;
  Overflow overflow = Overflow::Wrap;
  OutputKind output = OutputKind::Activations;
  int64_t expected_cycles = -1;
};

// The keys of a manifest's layer: one row each, which the unknown-key check, the missing-key check
// and the reading all come from, so a key cannot be accepted yet never read, or read yet refused.
// Rows are read in order: `type` before the keys whose meaning depends on it.
struct LayerKey {
  enum Need { Optional, Required, RequiredForConv };
  const char* name;
  Need need;
  // Reads the value into the spec; `key` is its full name for messages. Null for name and dir,
  // which are read first (messages name the layer by them).
  void (*read)(const Manifest& mf, const YAML::Node& v, const std::string& key, LayerSpec& s);
};

// kernel, stride, padding: a pair for a conv; for an fc layer (input [B, K, 1, 1]) only the
// trivial value makes sense.
template <int kFcValue, int kLo, int LayerSpec::*kH, int LayerSpec::*kW>
void read_pair(const Manifest& mf, const YAML::Node& v, const std::string& key, LayerSpec& s) {
  const std::pair<int, int> p = mf.pair(v, key, s.fc ? 0 : kLo);
  if (s.fc && p != std::make_pair(kFcValue, kFcValue))
    mf.bad(v, key,
           fmt::format("an fc layer takes {} {}", key.substr(key.rfind('.') + 1), kFcValue));
  std::tie(s.*kH, s.*kW) = p;
}

const std::vector<LayerKey>& layer_keys() {
  static const std::vector<LayerKey> keys{
      {"name", LayerKey::Required, nullptr},
      {"dir", LayerKey::Optional, nullptr},
      {"type", LayerKey::Required,
       [](const Manifest& mf, const YAML::Node& v, const std::string& key, LayerSpec& s) {
         s.fc = mf.choice(v, key, {"conv", "fc"}) == "fc";
       }},
      {"out_channels", LayerKey::Required,
       [](const Manifest& mf, const YAML::Node& v, const std::string& key, LayerSpec& s) {
         s.out_c = int(mf.integer(v, key, 1, 1 << 24));
       }},
      {"kernel", LayerKey::RequiredForConv, read_pair<1, 1, &LayerSpec::kh, &LayerSpec::kw>},
      {"stride", LayerKey::Optional, read_pair<1, 1, &LayerSpec::sh, &LayerSpec::sw>},
      {"padding", LayerKey::Optional, read_pair<0, 0, &LayerSpec::ph, &LayerSpec::pw>},
      {"groups", LayerKey::Optional,
       [](const Manifest& mf, const YAML::Node& v, const std::string& key, LayerSpec& s) {
         s.groups = int(mf.integer(v, key, 1, 1 << 24));
         if (s.fc && s.groups != 1) mf.bad(v, key, "an fc layer takes groups 1");
       }},
      {"act_bits", LayerKey::Optional,
       [](const Manifest& mf, const YAML::Node& v, const std::string& key, LayerSpec& s) {
         s.act_bits = int(mf.integer(v, key, 1, 16));
       }},
      {"acc_bits", LayerKey::Optional,
       [](const Manifest& mf, const YAML::Node& v, const std::string& key, LayerSpec& s) {
         s.acc_bits = int(mf.integer(v, key, 2, 64));
       }},
      {"overflow", LayerKey::Optional,
       [](const Manifest& mf, const YAML::Node& v, const std::string& key, LayerSpec& s) {
         s.overflow = mf.choice(v, key, {"wrap", "saturate"}) == "wrap" ? Overflow::Wrap
                                                                        : Overflow::Saturate;
       }},
      {"output", LayerKey::Optional,
       [](const Manifest& mf, const YAML::Node& v, const std::string& key, LayerSpec& s) {
         s.output = mf.choice(v, key, {"activations", "accumulators"}) == "activations"
                        ? OutputKind::Activations
                        : OutputKind::Accumulators;
       }},
      {"expected_cycles", LayerKey::Optional,
       [](const Manifest& mf, const YAML::Node& v, const std::string& key, LayerSpec& s) {
         s.expected_cycles = mf.integer(v, key, 0, INT64_MAX);
       }},
  };
  return keys;
}

LayerSpec parse_layer(const Manifest& mf, const YAML::Node& n, size_t index) {
  const std::string where = fmt::format("layers[{}]", index);
  if (!n.IsMap()) mf.bad(n, where, "expected a map with the layer's keys");
  LayerSpec s;
  const YAML::Node name = n["name"];
  if (!name) mf.bad(n, where + ".name", "missing");
  s.name = mf.string(name, where + ".name");
  if (s.name.empty()) mf.bad(name, where + ".name", "must not be empty");
  const std::string at = where + " (" + clip_text(s.name) + ")";
  static const std::vector<std::string> known = [] {
    std::vector<std::string> v;
    for (const LayerKey& k : layer_keys()) v.push_back(k.name);
    return v;
  }();
  for (const auto& kv : n) {
    const std::string key = mf.key_name(kv.first, at);
    if (std::find(known.begin(), known.end(), key) == known.end())
      mf.bad(kv.first, at + "." + key, unknown_key_what(key, known));
  }
  s.dir = s.name;
  if (n["dir"]) s.dir = mf.string(n["dir"], at + ".dir");
  if (s.dir.empty() || s.dir == "." || s.dir == ".." || s.dir.find('/') != std::string::npos)
    mf.bad(n["dir"] ? n["dir"] : name, at + ".dir",
           fmt::format("'{}' must be one directory name inside the trace", clip_text(s.dir)));
  for (const LayerKey& k : layer_keys()) {
    const YAML::Node v = n[k.name];
    if (!v) {
      if (k.need == LayerKey::Required || (k.need == LayerKey::RequiredForConv && !s.fc))
        mf.bad(n, at + "." + k.name, "missing");
      continue;
    }
    if (k.read) k.read(mf, v, at + "." + k.name, s);
  }
  // An fc layer's kernel, stride, padding and groups were only checked to be trivial: its input
  // is [B, K, 1, 1], and the reader treats it as a 1x1 conv.
  if (s.fc) s.kh = s.kw = s.sh = s.sw = 1, s.ph = s.pw = 0, s.groups = 1;
  return s;
}

YAML::Node load_yaml(const std::string& file) {
  try {
    return load_yaml_file(file);  // bounded: no alias cycles, no alias bombs
  } catch (const YAML::Exception& e) {
    throw InputError(file, e.mark.line + 1, "", e.msg);
  }
}

// ---- arrays ---------------------------------------------------------------------------------

// SP2 level checks memoized per bit width: a layer has millions of weights but few distinct values.
class Sp2Levels {
 public:
  bool is_level(int bits, int64_t w) {
    const Sp2Format f(bits);
    if (w < -f.max_level() || w > f.max_level()) return false;
    auto& memo = memo_[bits];
    if (memo.empty()) memo.assign(size_t(2 * f.max_level() + 1), -1);
    int8_t& m = memo[size_t(w + f.max_level())];
    if (m < 0) m = sp2_is_level(f, int32_t(w)) ? 1 : 0;
    return m == 1;
  }

 private:
  std::map<int, std::vector<int8_t>> memo_;
};

class LayerReader {
 public:
  // `who` names the array's owner in messages: a layer, an op of the graph, the network input.
  LayerReader(const std::string& trace_dir, const LayerSpec& s, std::string who = "")
      : s_(s),
        dir_(s.dir == "." ? trace_dir : join(trace_dir, s.dir)),
        who_(who.empty() ? "layer '" + clip_text(s.name) + "'" : std::move(who)) {}

  [[noreturn]] void bad(const std::string& file, const std::string& what) const {
    throw InputError(join(dir_, file), 0, who_, what);
  }

  // Reads file and checks its dtype and shape; -1 in `shape` matches any size.
  std::vector<int64_t> load(const std::string& file, const std::vector<std::string>& dtypes,
                            const std::vector<int64_t>& shape,
                            std::vector<int64_t>* got_shape = nullptr) {
    const std::string path = join(dir_, file);
    if (!path_exists(path)) bad(file, "missing file");
    NpyArray a;
    try {
      a = read_npy(path);
    } catch (const InputError& e) {
      // Same form as the other array errors: the file, then the layer.
      throw InputError(e.file().empty() ? path : e.file(), e.line(), who_, e.detail());
    }
    bool dtype_ok = false;
    std::string list;
    for (const auto& d : dtypes) {
      dtype_ok |= a.descr == d;
      list += (list.empty() ? "" : " or ") + d;
    }
    if (!dtype_ok) bad(file, fmt::format("dtype {} where {} is expected", a.descr, list));
    bool shape_ok = a.shape.size() == shape.size();
    for (size_t i = 0; shape_ok && i < shape.size(); ++i)
      shape_ok = shape[i] < 0 || shape[i] == a.shape[i];
    if (!shape_ok) {
      std::string want = "[";
      for (size_t i = 0; i < shape.size(); ++i)
        want += (i ? ", " : "") + (shape[i] < 0 ? std::string("*") : std::to_string(shape[i]));
      bad(file, fmt::format("shape {} where {} is expected", shape_text(a.shape), want + "]"));
    }
    if (got_shape) *got_shape = a.shape;
    return npy_to_int64(a, path);
  }

  TraceLayer read(Sp2Levels& sp2) {
    TraceLayer t;
    t.name = s_.name;
    t.dir = s_.dir;
    t.expected_cycles = s_.expected_cycles;
    if (!is_dir(dir_))
      throw InputError(dir_, 0, "layer '" + clip_text(s_.name) + "'", "missing layer directory");
    QuantLayer& l = t.layer;
    LayerShape& sh = l.shape;
    sh.name = s_.name;
    sh.type = s_.fc ? LayerType::Fc : LayerType::Conv;
    sh.out_c = s_.out_c;
    sh.kh = s_.kh;
    sh.kw = s_.kw;
    sh.sh = s_.sh;
    sh.sw = s_.sw;
    sh.ph = s_.ph;
    sh.pw = s_.pw;
    sh.groups = s_.groups;
    l.act_bits = s_.act_bits;
    l.acc_bits = s_.acc_bits;
    l.overflow = s_.overflow;
    l.output = s_.output;

    // The input fixes the batch, the input channels and sizes.
    std::vector<int64_t> ishape;
    const auto in = load("input.npy", {"|u1", "<u2"}, {-1, -1, -1, -1}, &ishape);
    if (ishape[0] < 1 || ishape[1] < 1 || ishape[2] < 1 || ishape[3] < 1)
      bad("input.npy", fmt::format("shape {} has an empty dimension", shape_text(ishape)));
    // The layer's sizes are ints; a dimension beyond the manifest's limits would wrap.
    for (int64_t d : ishape)
      if (d > (int64_t(1) << 24))
        bad("input.npy", fmt::format("shape {} has a dimension above 2^24", shape_text(ishape)));
    if (s_.fc && (ishape[2] != 1 || ishape[3] != 1))
      bad("input.npy",
          fmt::format("shape {}: an fc layer takes input [B, K, 1, 1]", shape_text(ishape)));
    if (ishape[1] % s_.groups || s_.out_c % s_.groups)
      bad("input.npy",
          fmt::format("groups {} must divide the input channels {} and out_channels {}", s_.groups,
                      ishape[1], s_.out_c));
    if (ishape[2] + 2 * s_.ph < s_.kh || ishape[3] + 2 * s_.pw < s_.kw)
      bad("input.npy", fmt::format("input {}x{} with padding [{}, {}] is smaller than the kernel "
                                   "[{}, {}]",
                                   ishape[2], ishape[3], s_.ph, s_.pw, s_.kh, s_.kw));
    sh.batch = int(ishape[0]);
    sh.in_c = int(ishape[1]);
    sh.in_h = int(ishape[2]);
    sh.in_w = int(ishape[3]);
    const std::string big = layer_size_problem(sh);
    if (!big.empty()) bad("input.npy", "shape " + shape_text(ishape) + ": " + big);
    t.input.b = sh.batch;
    t.input.c = sh.in_c;
    t.input.h = sh.in_h;
    t.input.w = sh.in_w;
    t.input.data.resize(in.size());
    const int64_t amax = (int64_t(1) << s_.act_bits) - 1;
    for (size_t i = 0; i < in.size(); ++i) {
      if (in[i] > amax) {
        const int64_t hw = ishape[2] * ishape[3], chw = ishape[1] * hw, j = int64_t(i);
        bad("input.npy",
            fmt::format("value {} at [{}, {}, {}, {}] is above 2^act_bits - 1 = {}", in[i], j / chw,
                        j % chw / hw, j % hw / ishape[3], j % ishape[3], amax));
      }
      t.input.data[i] = uint16_t(in[i]);
    }

    const int64_t M = sh.m(), K = sh.k();
    const auto scheme = load("scheme.npy", {"|u1"}, {M});
    const auto bits = load("bits.npy", {"|u1"}, {M});
    for (int64_t m = 0; m < M; ++m) {
      if (scheme[m] != 0 && scheme[m] != 1)
        bad("scheme.npy",
            fmt::format("row {}: scheme {} is neither 0 (fixed) nor 1 (sp2)", m, scheme[m]));
      const bool sp2 = scheme[m] == 1;
      const int lo = sp2 ? 3 : kFixedMinBits, hi = sp2 ? 8 : kFixedMaxBits;
      if (bits[m] < lo || bits[m] > hi)
        bad("bits.npy", fmt::format("row {}: {} bits is outside {}..{} for a {} row", m, bits[m],
                                    lo, hi, sp2 ? "sp2" : "fixed"));
      l.scheme.push_back(uint8_t(scheme[m]));
      l.bits.push_back(uint8_t(bits[m]));
    }
    const auto w = load("weights.npy", {"|i1", "<i2", "<i4"}, {M, K});
    l.weights.resize(w.size());
    for (int64_t m = 0; m < M; ++m) {
      const int b = l.bits[m];
      for (int64_t k = 0; k < K; ++k) {
        const int64_t v = w[m * K + k];
        if (l.scheme[m] == uint8_t(Scheme::Sp2)) {
          if (!sp2.is_level(b, v))
            bad("weights.npy",
                fmt::format("row {}, column {}: {} is not a {}-bit SP2 level", m, k, v, b));
        } else if (!fixed_in_range(b, v)) {
          bad("weights.npy", fmt::format("row {}, column {}: {} is outside the {}-bit fixed range "
                                         "[{}, {}]",
                                         m, k, v, b, -fixed_max(b), fixed_max(b)));
        }
        l.weights[m * K + k] = int32_t(v);
      }
    }
    for (int64_t v : load("bias.npy", {"<i4"}, {M})) l.bias.push_back(int32_t(v));
    const auto mult = load("requant_mult.npy", {"<i4"}, {M});
    const auto shift = load("requant_shift.npy", {"|i1"}, {M});
    for (int64_t m = 0; m < M; ++m) {
      if (mult[m] < 0) bad("requant_mult.npy", fmt::format("row {}: {} is negative", m, mult[m]));
      if (shift[m] < 1 || shift[m] > 62)
        bad("requant_shift.npy", fmt::format("row {}: {} is outside [1, 62]", m, shift[m]));
      l.rq_mult.push_back(int32_t(mult[m]));
      l.rq_shift.push_back(int8_t(shift[m]));
    }

    const bool raw = s_.output == OutputKind::Accumulators;
    const std::vector<int64_t> oshape{sh.batch, sh.out_c, sh.out_h(), sh.out_w()};
    const auto out =
        load("output.npy",
             raw ? std::vector<std::string>{"<i4", "<i8"} : std::vector<std::string>{"|u1", "<u2"},
             oshape);
    const int64_t lo =
        raw ? (s_.acc_bits == 64 ? INT64_MIN : -(int64_t(1) << (s_.acc_bits - 1))) : 0;
    const int64_t hi =
        raw ? (s_.acc_bits == 64 ? INT64_MAX : (int64_t(1) << (s_.acc_bits - 1)) - 1) : amax;
    for (size_t i = 0; i < out.size(); ++i)
      if (out[i] < lo || out[i] > hi) {
        const int64_t hw = oshape[2] * oshape[3], chw = oshape[1] * hw, j = int64_t(i);
        bad("output.npy",
            fmt::format("value {} at [{}, {}, {}, {}] is outside the {} range [{}, {}]", out[i],
                        j / chw, j % chw / hw, j % hw / oshape[3], j % oshape[3],
                        raw ? "accumulator" : "activation", lo, hi));
      }
    t.expected.b = int(oshape[0]);
    t.expected.c = int(oshape[1]);
    t.expected.h = int(oshape[2]);
    t.expected.w = int(oshape[3]);
    t.expected.data = out;
    return t;
  }

 private:
  const LayerSpec& s_;
  const std::string dir_;
  const std::string who_;
};

// ---- writing --------------------------------------------------------------------------------

template <class T>
void write_as(const std::string& path, const std::string& descr, const std::vector<int64_t>& shape,
              const std::vector<int64_t>& values) {
  std::vector<T> v(values.begin(), values.end());
  write_npy(path, descr, shape, v.data(), v.size() * sizeof(T));
}

template <class V>
std::vector<int64_t> widen(const V& v) {
  return std::vector<int64_t>(v.begin(), v.end());
}

void write_layer_arrays(const std::string& dir, const TraceLayer& t) {
  const QuantLayer& l = t.layer;
  const int64_t M = l.shape.m(), K = l.shape.k();
  int64_t wmax = 0;
  for (int32_t w : l.weights) wmax = std::max<int64_t>(wmax, w < 0 ? -int64_t(w) - 1 : w);
  const auto w = widen(l.weights);
  if (wmax <= INT8_MAX)
    write_as<int8_t>(join(dir, "weights.npy"), "|i1", {M, K}, w);
  else if (wmax <= INT16_MAX)
    write_as<int16_t>(join(dir, "weights.npy"), "<i2", {M, K}, w);
  else
    write_as<int32_t>(join(dir, "weights.npy"), "<i4", {M, K}, w);
  write_as<uint8_t>(join(dir, "scheme.npy"), "|u1", {M}, widen(l.scheme));
  write_as<uint8_t>(join(dir, "bits.npy"), "|u1", {M}, widen(l.bits));
  write_as<int32_t>(join(dir, "bias.npy"), "<i4", {M}, widen(l.bias));
  write_as<int32_t>(join(dir, "requant_mult.npy"), "<i4", {M}, widen(l.rq_mult));
  write_as<int8_t>(join(dir, "requant_shift.npy"), "|i1", {M}, widen(l.rq_shift));
  const ActTensor& in = t.input;
  const std::vector<int64_t> ishape{in.b, in.c, in.h, in.w};
  if (l.act_bits <= 8)
    write_as<uint8_t>(join(dir, "input.npy"), "|u1", ishape, widen(in.data));
  else
    write_as<uint16_t>(join(dir, "input.npy"), "<u2", ishape, widen(in.data));
  const OutTensor& out = t.expected;
  const std::vector<int64_t> oshape{out.b, out.c, out.h, out.w};
  if (l.output == OutputKind::Activations) {
    if (l.act_bits <= 8)
      write_as<uint8_t>(join(dir, "output.npy"), "|u1", oshape, out.data);
    else
      write_as<uint16_t>(join(dir, "output.npy"), "<u2", oshape, out.data);
  } else {
    bool fits32 = true;
    for (int64_t v : out.data) fits32 = fits32 && v >= INT32_MIN && v <= INT32_MAX;
    if (fits32)
      write_as<int32_t>(join(dir, "output.npy"), "<i4", oshape, out.data);
    else
      write_npy(join(dir, "output.npy"), "<i8", oshape, out.data.data(), out.data.size() * 8);
  }
}

void emit_layer(YAML::Emitter& e, const TraceLayer& t) {
  const QuantLayer& l = t.layer;
  const LayerShape& s = l.shape;
  const bool fc = s.type == LayerType::Fc;
  e << YAML::BeginMap;
  e << YAML::Key << "name" << YAML::Value << t.name;
  if (!t.dir.empty() && t.dir != t.name) e << YAML::Key << "dir" << YAML::Value << t.dir;
  e << YAML::Key << "type" << YAML::Value << (fc ? "fc" : "conv");
  e << YAML::Key << "out_channels" << YAML::Value << s.out_c;
  if (!fc) {
    auto pair = [&](const char* key, int a, int b) {
      e << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginSeq << a << b
        << YAML::EndSeq;
    };
    pair("kernel", s.kh, s.kw);
    pair("stride", s.sh, s.sw);
    pair("padding", s.ph, s.pw);
    e << YAML::Key << "groups" << YAML::Value << s.groups;
  }
  e << YAML::Key << "act_bits" << YAML::Value << l.act_bits;
  e << YAML::Key << "acc_bits" << YAML::Value << l.acc_bits;
  e << YAML::Key << "overflow" << YAML::Value
    << (l.overflow == Overflow::Wrap ? "wrap" : "saturate");
  e << YAML::Key << "output" << YAML::Value
    << (l.output == OutputKind::Activations ? "activations" : "accumulators");
  if (t.expected_cycles >= 0)
    e << YAML::Key << "expected_cycles" << YAML::Value << t.expected_cycles;
  e << YAML::EndMap;
}

std::string os_reason(int err) {
  return std::strerror(err);
}

void write_text_atomic(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp-XXXXXX";
  const int fd = mkstemp(tmp.data());
  if (fd < 0) throw InputError(path, 0, "", "cannot create a temporary file: " + os_reason(errno));
  FILE* f = fdopen(fd, "w");
  errno = 0;
  const bool ok = f && std::fwrite(text.data(), 1, text.size(), f) == text.size();
  int err = ok ? 0 : errno;
  if (f) fchmod(fd, 0644);
  if ((f ? std::fclose(f) : -1) != 0 && err == 0) err = errno;
  if (err == 0 && !ok) err = EIO;
  if (err == 0 && std::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err != 0) {
    std::remove(tmp.c_str());
    throw InputError(path, 0, "", "cannot write: " + os_reason(err));
  }
}

// The directory a trace written to OUT goes to: through a symlink, the directory it names (as
// every output is written through its links, sim/atomic_file.h). Renaming the finished trace
// onto the link failed after the whole simulation and left the old trace in a stray directory.
// "e2/." is e2; "." and ".." cannot be renamed (EBUSY, after the whole simulation), and replacing
// the working directory would leave the shell in a deleted one: refused.
std::string trace_dir_of(const std::string& out) {
  std::string p = fs::path(out).lexically_normal().string();
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const std::string last = fs::path(p).filename().string();
  if (last == "." || last == "..")
    throw InputError(out, 0, "",
                     "expected a trace directory by its name (the working directory or its "
                     "parent cannot be replaced by a trace)");
  return link_target(p);
}

// `shown`: the name the user gave (a link), for the message.
void check_trace_target(const std::string& dir, const std::string& shown) {
  if (path_exists(dir) &&
      !(is_dir(dir) && (path_exists(join(dir, "trace.yaml")) || is_empty_dir(dir))))
    throw InputError(shown, 0, "",
                     "exists and is not a trace directory (no "
                     "trace.yaml); refusing to overwrite it");
}

// The network input and the ops of a format-2 manifest.
void read_graph_part(const Manifest& mf, const YAML::Node& root, const std::string& dir, Trace& t) {
  const YAML::Node in = root["input"];
  if (in) {
    if (!in.IsMap()) mf.bad(in, "input", "expected a map with zero_point and scale");
    for (const auto& kv : in) {
      const std::string k = mf.key_name(kv.first, "input");
      if (k == "zero_point")
        t.graph.input_zero = int32_t(mf.integer(kv.second, "input.zero_point", 0, 65535));
      else if (k == "scale")
        t.graph.input_scale =
            yaml_real(kv.second, mf.file(), yaml_line(kv.second), "input.scale", 0, 1e30);
      else
        mf.bad(kv.first, "input." + k, unknown_key_what(k, {"zero_point", "scale"}));
    }
  }
  {
    LayerSpec spec;
    spec.name = "input";
    spec.dir = ".";
    LayerReader r(dir, spec, "the network input");
    std::vector<int64_t> shape;
    const auto v = r.load("input.npy", {"|u1", "<u2"}, {-1, -1, -1, -1}, &shape);
    for (int64_t d : shape)
      if (d < 1 || d > (int64_t(1) << 24))
        throw InputError(join(dir, "input.npy"), 0, "input",
                         "shape " + shape_text(shape) + " has a dimension outside 1..2^24");
    ActTensor& a = t.graph.input;
    a.b = int(shape[0]), a.c = int(shape[1]), a.h = int(shape[2]), a.w = int(shape[3]);
    a.data.assign(v.begin(), v.end());
  }
  const YAML::Node ops = root["ops"];
  if (!ops) mf.bad(root, "ops", "missing (a format-2 trace lists its ops)");
  if (!ops.IsSequence() || ops.size() == 0) mf.bad(ops, "ops", "expected a non-empty list of ops");
  static const std::vector<std::string> keys{
      "name",   "type",  "inputs", "dir", "kernel",     "stride", "padding", "mult_a",
      "mult_b", "shift", "lo",     "hi",  "zero_point", "scale",  "in_zero", "expected_cycles"};
  std::set<std::string> names{"input"};
  for (size_t i = 0; i < ops.size(); ++i) {
    const YAML::Node n = ops[i];
    std::string at = fmt::format("ops[{}]", i);
    if (!n.IsMap()) mf.bad(n, at, "expected a map with the op's keys");
    TraceOp op;
    if (!n["name"]) mf.bad(n, at + ".name", "missing");
    op.name = mf.string(n["name"], at + ".name");
    if (op.name.empty() || !names.insert(op.name).second)
      mf.bad(n["name"], at + ".name", "expected a unique, non-empty name other than input");
    at += " (" + clip_text(op.name) + ")";
    for (const auto& kv : n) {
      const std::string key = mf.key_name(kv.first, at);
      if (std::find(keys.begin(), keys.end(), key) == keys.end())
        mf.bad(kv.first, at + "." + key, unknown_key_what(key, keys));
    }
    if (!n["type"]) mf.bad(n, at + ".type", "missing");
    const std::string ty = mf.choice(
        n["type"], at + ".type",
        {"conv", "fc", "add", "maxpool", "avgpool", "global_avgpool", "concat", "flatten"});
    for (OpKind k : {OpKind::Conv, OpKind::Fc, OpKind::Add, OpKind::MaxPool, OpKind::AvgPool,
                     OpKind::GlobalAvgPool, OpKind::Concat, OpKind::Flatten})
      if (ty == op_kind_name(k)) op.kind = k;
    // The format's default, so that a chain of ops can be written without naming each producer.
    if (!n["inputs"])
      op.inputs.push_back(t.graph.ops.empty() ? std::string("input") : t.graph.ops.back().name);
    else if (!n["inputs"].IsSequence() || n["inputs"].size() == 0)
      mf.bad(n["inputs"], at + ".inputs", "expected a list of op names");
    for (const auto& x : n["inputs"]) op.inputs.push_back(mf.string(x, at + ".inputs"));
    const auto pair = [&](const char* k, int& a, int& b, int lo) {
      if (n[k]) std::tie(a, b) = mf.pair(n[k], at + "." + k, lo);
    };
    pair("kernel", op.kh, op.kw, 1);
    pair("stride", op.sh, op.sw, 1);
    pair("padding", op.ph, op.pw, 0);
    const auto i32 = [&](const char* k, int32_t& v, int64_t lo, int64_t hi) {
      if (n[k]) v = int32_t(mf.integer(n[k], at + "." + k, lo, hi));
    };
    i32("mult_a", op.mult_a, 0, INT32_MAX);
    i32("mult_b", op.mult_b, 0, INT32_MAX);
    if (n["shift"]) op.shift = int(mf.integer(n["shift"], at + ".shift", 1, 62));
    i32("lo", op.lo, 0, 65535);
    i32("hi", op.hi, 0, 65535);
    i32("zero_point", op.zero_point, 0, 65535);
    i32("in_zero", op.in_zero, 0, 65535);
    // These ops move codes without requantizing, so no clamp applies: one given was ignored and
    // its expected outputs reported as mismatches (exit 1) instead of the manifest as wrong.
    if (op.kind == OpKind::MaxPool || op.kind == OpKind::Concat || op.kind == OpKind::Flatten) {
      const int32_t top = (1 << (t.layers.empty() ? 8 : t.layers[0].layer.act_bits)) - 1;
      for (const char* k : {"lo", "hi"})
        if (n[k] && (k[0] == 'l' ? op.lo != 0 : op.hi != top))
          mf.bad(n[k], at + "." + k,
                 fmt::format("a {} passes its input codes through and takes no clamp: expected "
                             "{} (the full range [0, {}]) or no {} (got {})",
                             ty, k[0] == 'l' ? 0 : top, top, k, k[0] == 'l' ? op.lo : op.hi));
    }
    if (n["scale"])
      op.scale = yaml_real(n["scale"], mf.file(), yaml_line(n["scale"]), at + ".scale", 0, 1e30);
    if (n["expected_cycles"])
      op.expected_cycles = mf.integer(n["expected_cycles"], at + ".expected_cycles", 0, INT64_MAX);
    if (op.kind == OpKind::Conv || op.kind == OpKind::Fc) {
      bool found = false;
      for (const TraceLayer& l : t.layers) found = found || l.name == op.name;
      if (!found) mf.bad(n["name"], at + ".name", "expected the name of one of the trace's layers");
    } else {
      op.dir = op.name;
      if (n["dir"]) op.dir = mf.string(n["dir"], at + ".dir");
      if (op.dir.empty() || op.dir == "." || op.dir == ".." ||
          op.dir.find('/') != std::string::npos)
        mf.bad(n["dir"] ? n["dir"] : n["name"], at + ".dir",
               "expected one directory name inside the trace");
      LayerSpec spec;
      spec.name = op.name;
      spec.dir = op.dir;
      LayerReader r(dir, spec, "op '" + clip_text(op.name) + "'");
      std::vector<int64_t> shape;
      const auto v = r.load("output.npy", {"|u1", "<u2"}, {-1, -1, -1, -1}, &shape);
      OutTensor& e = op.expected;
      e.b = int(shape[0]), e.c = int(shape[1]), e.h = int(shape[2]), e.w = int(shape[3]);
      e.data = v;
    }
    t.graph.ops.push_back(std::move(op));
  }
  // Shapes, producers and constants are checked as a graph, naming the op.
  std::vector<QuantLayer> layers;
  trace_to_graph(t, layers);
}

}  // namespace

Graph trace_to_graph(const Trace& t, std::vector<QuantLayer>& layers) {
  const std::string file = join(t.dir, "trace.yaml");
  Graph g;
  g.name = t.dir;
  layers.clear();
  std::map<std::string, int> tensor;
  const int bits = t.layers.empty() ? 8 : t.layers[0].layer.act_bits;
  // The codes a graph's own files give must be activations, as a layer's input.npy must: a larger
  // code made regress report mismatches (exit 1) for what is a broken trace.
  const int64_t amax = (int64_t(1) << bits) - 1;
  const auto check_codes = [&](const std::string& path, const std::string& who, int c, int h, int w,
                               const auto& data) {
    for (size_t i = 0; i < data.size(); ++i)
      if (int64_t(data[i]) > amax) {
        const int64_t hw = int64_t(h) * w, chw = c * hw, j = int64_t(i);
        throw InputError(
            path, 0, "",
            fmt::format("{}: value {} at [{}, {}, {}, {}] is above 2^act_bits - 1 = "
                        "{}",
                        who, int64_t(data[i]), j / chw, j % chw / hw, j % hw / w, j % w, amax));
      }
  };
  check_codes(join(t.dir, "input.npy"), "the network input", t.graph.input.c, t.graph.input.h,
              t.graph.input.w, t.graph.input.data);
  for (const TraceOp& top : t.graph.ops)
    if (top.kind != OpKind::Conv && top.kind != OpKind::Fc)
      check_codes(join(join(t.dir, top.dir), "output.npy"), "op '" + clip_text(top.name) + "'",
                  top.expected.c, top.expected.h, top.expected.w, top.expected.data);
  TensorDesc in;
  in.name = "input";
  in.b = t.graph.input.b, in.c = t.graph.input.c, in.h = t.graph.input.h, in.w = t.graph.input.w;
  in.bits = bits;
  in.zero_point = t.graph.input_zero;
  in.scale = t.graph.input_scale;
  g.tensors.push_back(in);
  tensor["input"] = 0;
  std::vector<char> read(t.graph.ops.size() + 1, 0);
  for (const TraceOp& top : t.graph.ops) {
    Op op;
    op.name = top.name;
    op.kind = top.kind;
    for (const std::string& n : top.inputs) {
      const auto it = tensor.find(n);
      if (it == tensor.end())
        throw InputError(file, 0, "ops (" + clip_text(top.name) + ").inputs",
                         "reads '" + clip_text(n) +
                             "', which no earlier op produces (list ops after their producers)");
      op.inputs.push_back(it->second);
      read[size_t(it->second)] = 1;
    }
    op.kh = top.kh, op.kw = top.kw, op.sh = top.sh, op.sw = top.sw, op.ph = top.ph, op.pw = top.pw;
    op.mult_a = top.mult_a, op.mult_b = top.mult_b, op.shift = top.shift;
    op.lo = top.lo;
    op.hi = top.hi < 0 ? int32_t((1 << bits) - 1) : top.hi;
    TensorDesc o;
    o.name = top.name;
    o.bits = bits;
    o.zero_point = top.zero_point;
    o.scale = top.scale;
    if (op.kind == OpKind::Conv || op.kind == OpKind::Fc) {
      for (const TraceLayer& l : t.layers)
        if (l.name == top.name) layers.push_back(l.layer);
      QuantLayer& L = layers.back();
      L.in_zero = top.in_zero;
      L.out_zero = top.zero_point;
      L.lo = top.lo;
      L.hi = top.hi;
      op.layer = int(layers.size()) - 1;
      const LayerShape& s = L.shape;
      o.b = s.batch, o.c = s.out_c, o.h = s.out_h(), o.w = s.out_w();
    } else {
      o.b = top.expected.b, o.c = top.expected.c, o.h = top.expected.h, o.w = top.expected.w;
    }
    op.output = int(g.tensors.size());
    tensor[top.name] = op.output;
    g.tensors.push_back(o);
    g.ops.push_back(op);
  }
  for (size_t i = 1; i < g.tensors.size(); ++i)
    if (!read[i]) g.outputs.push_back(int(i));
  try {
    check_graph(g, layers);
  } catch (const InputError& e) {
    throw InputError(file, 0, e.key(), e.detail());
  }
  return g;
}

Trace read_trace(const std::string& dir) {
  const std::string file = join(dir, "trace.yaml");
  // A file given where the trace directory goes (its trace.yaml, say) or no such path at all:
  // "DIR/trace.yaml: missing file" named a path that cannot exist.
  std::error_code ec;
  if (!fs::exists(dir, ec))
    throw InputError(dir, 0, "",
                     "does not exist (not a trace directory; expected a directory that `msqsim "
                     "trace record --out DIR` wrote)");
  if (!fs::is_directory(dir, ec))
    throw InputError(dir, 0, "",
                     "is a file, not a trace directory (expected the directory that holds "
                     "trace.yaml)");
  if (!path_exists(file)) throw InputError(file, 0, "", "missing file (not a trace directory)");
  const Manifest mf(file);
  const YAML::Node root = load_yaml(file);
  static const std::vector<std::string> kManifestKeys1{"format", "config", "layers"};
  static const std::vector<std::string> kManifestKeys2{"format", "config", "input", "layers",
                                                       "ops"};
  const bool v2 = root.IsMap() && root["format"] && root["format"].IsScalar() &&
                  root["format"].Scalar() == kFormat2;
  const std::vector<std::string>& kManifestKeys = v2 ? kManifestKeys2 : kManifestKeys1;
  if (!root.IsMap()) mf.bad(root, "", "expected a map with keys format, config, layers");
  for (const auto& kv : root) {
    const std::string key = mf.key_name(kv.first, "");
    if (std::find(kManifestKeys.begin(), kManifestKeys.end(), key) == kManifestKeys.end())
      mf.bad(kv.first, key, unknown_key_what(key, kManifestKeys));
  }
  if (!root["format"]) mf.bad(root, "format", "missing");
  if (mf.string(root["format"], "format") != kFormat && !v2)
    mf.bad(root["format"], "format",
           fmt::format("'{}' is not a supported trace format (expected {} or {})",
                       clip_text(root["format"].Scalar()), kFormat, kFormat2));
  const YAML::Node layers = root["layers"];
  if (!layers) mf.bad(root, "layers", "missing");
  if (!layers.IsSequence() || layers.size() == 0)
    mf.bad(layers, "layers", "expected a non-empty list of layers");

  Trace t;
  t.dir = dir;
  // Not cloned: a clone loses the marks, and the config's errors must name their line here.
  if (root["config"] && !root["config"].IsNull()) t.config = root["config"];
  std::set<std::string> names, dirs;
  Sp2Levels sp2;
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerSpec spec = parse_layer(mf, layers[i], i);
    if (!names.insert(spec.name).second)
      mf.bad(layers[i]["name"], fmt::format("layers[{}].name", i),
             fmt::format("layer name '{}' is used twice", clip_text(spec.name)));
    if (!dirs.insert(spec.dir).second)
      mf.bad(layers[i], fmt::format("layers[{}]", i),
             fmt::format("directory '{}' is used by two layers", clip_text(spec.dir)));
    t.layers.push_back(LayerReader(dir, spec).read(sp2));
  }
  if (v2) {
    t.format = 2;
    read_graph_part(mf, root, dir, t);
  }
  return t;
}

void write_trace(const std::string& out, const YAML::Node& config,
                 const std::vector<TraceLayer>& layers, const TraceGraph* graph) {
  const std::string dir = trace_dir_of(out);
  const bool exists = path_exists(dir);
  check_trace_target(dir, out);
  if (layers.empty()) throw InputError(out, 0, "", "a trace needs a layer");

  const std::string base = fs::path(dir).lexically_normal().string();
  std::string tmp = (base.back() == '/' ? base.substr(0, base.size() - 1) : base) + ".tmp-XXXXXX";
  if (!mkdtemp(tmp.data()))
    throw InputError(out, 0, "",
                     "cannot create a temporary directory next to it: " + os_reason(errno));
  try {
    YAML::Emitter e;
    e << YAML::BeginMap;
    e << YAML::Key << "format" << YAML::Value << (graph ? kFormat2 : kFormat);
    if (config && !config.IsNull()) e << YAML::Key << "config" << YAML::Value << config;
    if (graph) {
      e << YAML::Key << "input" << YAML::Value << YAML::Flow << YAML::BeginMap;
      e << YAML::Key << "zero_point" << YAML::Value << graph->input_zero;
      e << YAML::Key << "scale" << YAML::Value << graph->input_scale;
      e << YAML::EndMap;
      const ActTensor& in = graph->input;
      const std::vector<int64_t> shape{in.b, in.c, in.h, in.w};
      bool wide = false;
      for (uint16_t v : in.data) wide = wide || v > 255;
      if (wide)
        write_as<uint16_t>(join(tmp, "input.npy"), "<u2", shape, widen(in.data));
      else
        write_as<uint8_t>(join(tmp, "input.npy"), "|u1", shape, widen(in.data));
    }
    e << YAML::Key << "layers" << YAML::Value << YAML::BeginSeq;
    for (const TraceLayer& t : layers) {
      const std::string sub = join(tmp, t.dir.empty() ? t.name : t.dir);
      if (t.name.empty() || !fs::create_directory(sub))
        throw InputError(out, 0, "layer '" + t.name + "'",
                         "needs a unique, non-empty name and directory");
      write_layer_arrays(sub, t);
      emit_layer(e, t);
    }
    e << YAML::EndSeq;
    if (graph) {
      e << YAML::Key << "ops" << YAML::Value << YAML::BeginSeq;
      for (const TraceOp& op : graph->ops) {
        e << YAML::Flow << YAML::BeginMap;
        e << YAML::Key << "name" << YAML::Value << op.name;
        e << YAML::Key << "type" << YAML::Value << op_kind_name(op.kind);
        e << YAML::Key << "inputs" << YAML::Value << YAML::Flow << op.inputs;
        const auto pair = [&](const char* key, int a, int b) {
          e << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginSeq << a << b
            << YAML::EndSeq;
        };
        if (op.kind == OpKind::MaxPool || op.kind == OpKind::AvgPool) {
          pair("kernel", op.kh, op.kw);
          pair("stride", op.sh, op.sw);
          pair("padding", op.ph, op.pw);
        }
        if (op.kind == OpKind::Add || op.kind == OpKind::AvgPool ||
            op.kind == OpKind::GlobalAvgPool) {
          e << YAML::Key << "mult_a" << YAML::Value << op.mult_a;
          if (op.kind == OpKind::Add) e << YAML::Key << "mult_b" << YAML::Value << op.mult_b;
          e << YAML::Key << "shift" << YAML::Value << op.shift;
        }
        const bool gemm = op.kind == OpKind::Conv || op.kind == OpKind::Fc;
        if (gemm) e << YAML::Key << "in_zero" << YAML::Value << op.in_zero;
        e << YAML::Key << "zero_point" << YAML::Value << op.zero_point;
        e << YAML::Key << "scale" << YAML::Value << op.scale;
        e << YAML::Key << "lo" << YAML::Value << op.lo;
        if (op.hi >= 0) e << YAML::Key << "hi" << YAML::Value << op.hi;
        if (!gemm) {
          const std::string sub = join(tmp, op.dir.empty() ? op.name : op.dir);
          if (!fs::create_directory(sub))
            throw InputError(out, 0, "op '" + op.name + "'", "needs a unique directory");
          const OutTensor& o = op.expected;
          const std::vector<int64_t> shape{o.b, o.c, o.h, o.w};
          bool wide = false;
          for (int64_t v : o.data) wide = wide || v > 255;
          if (wide)
            write_as<uint16_t>(join(sub, "output.npy"), "<u2", shape, o.data);
          else
            write_as<uint8_t>(join(sub, "output.npy"), "|u1", shape, o.data);
          if (op.expected_cycles >= 0)
            e << YAML::Key << "expected_cycles" << YAML::Value << op.expected_cycles;
        }
        e << YAML::EndMap;
      }
      e << YAML::EndSeq;
    }
    e << YAML::EndMap;
    write_text_atomic(join(tmp, "trace.yaml"), std::string(e.c_str()) + "\n");
    // What is written must be what read_trace accepts: a writer's bug would otherwise surface
    // only when someone runs the regression.
    read_trace(tmp);
    fs::permissions(tmp, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
    if (exists) {
      // Move the old trace aside first: rename cannot replace a non-empty directory.
      std::string old = tmp.substr(0, tmp.size() - 6) + "old-XXXXXX";
      if (!mkdtemp(old.data()))
        throw InputError(out, 0, "", "cannot move the old trace aside: " + os_reason(errno));
      if (std::rename(dir.c_str(), old.c_str()) != 0) {
        const int err = errno;
        ::rmdir(old.c_str());
        throw InputError(out, 0, "", "cannot move the old trace aside: " + os_reason(err));
      }
      if (std::rename(tmp.c_str(), dir.c_str()) != 0) {
        const int err = errno;
        std::rename(old.c_str(), dir.c_str());
        throw InputError(out, 0, "", "cannot rename the new trace into place: " + os_reason(err));
      }
      fs::remove_all(old);
    } else if (std::rename(tmp.c_str(), dir.c_str()) != 0) {
      throw InputError(out, 0, "", "cannot rename the new trace into place: " + os_reason(errno));
    }
  } catch (...) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    throw;
  }
}

void check_trace_destination(const std::string& out) {
  const std::string dir = trace_dir_of(out);
  check_trace_target(dir, out);
  check_dir_writable(dir);
}

void set_expected_cycles(const std::string& dir, const std::vector<int64_t>& cycles) {
  const std::string file = join(dir, "trace.yaml");
  const Manifest mf(file);
  YAML::Node root = load_yaml(file);
  if (!root.IsMap() || !root["layers"] || !root["layers"].IsSequence())
    mf.bad(root, "", "not a trace manifest (no layers list)");
  YAML::Node layers = root["layers"];
  if (root["ops"] && root["ops"].IsSequence()) {
    // Format 2: one value per op; a Conv / Fc op's goes to its layer.
    YAML::Node ops = root["ops"];
    if (ops.size() != cycles.size())
      mf.bad(ops, "ops",
             fmt::format("{} cycle counts given for {} ops", cycles.size(), ops.size()));
    for (size_t i = 0; i < cycles.size(); ++i) {
      YAML::Node target = ops[i];
      const std::string ty = ops[i]["type"] ? ops[i]["type"].as<std::string>() : "";
      if (ty == "conv" || ty == "fc")
        for (size_t j = 0; j < layers.size(); ++j)
          if (layers[j]["name"].as<std::string>() == ops[i]["name"].as<std::string>())
            target.reset(layers[j]);  // rebind: operator= would copy the layer into the op
      if (cycles[i] >= 0)
        target["expected_cycles"] = cycles[i];
      else
        target.remove("expected_cycles");
    }
    YAML::Emitter e;
    e << root;
    write_text_atomic(file, std::string(e.c_str()) + "\n");
    return;
  }
  if (layers.size() != cycles.size())
    mf.bad(layers, "layers",
           fmt::format("{} cycle counts given for {} layers", cycles.size(), layers.size()));
  for (size_t i = 0; i < cycles.size(); ++i) {
    YAML::Node l = layers[i];
    if (!l.IsMap()) mf.bad(l, fmt::format("layers[{}]", i), "expected a map");
    if (cycles[i] >= 0)
      l["expected_cycles"] = cycles[i];
    else
      l.remove("expected_cycles");
  }
  YAML::Emitter e;
  e << root;
  write_text_atomic(file, std::string(e.c_str()) + "\n");
}

}  // namespace msq
