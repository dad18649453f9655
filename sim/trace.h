// Trace directories (docs/traces.md, a contract): a manifest trace.yaml and one directory of
// .npy arrays per layer, the regression input and output.
//
// Manifest keys per layer: name, type (conv | fc) and out_channels are required; a conv also needs
// kernel. stride (default [1, 1]), padding ([0, 0]), groups (1), act_bits (8), acc_bits (32),
// overflow (wrap), output (activations), dir (the name) and expected_cycles are optional. kernel,
// stride and padding take [h, w] or one integer for both. An fc layer may carry kernel, stride,
// padding and groups only with their trivial values. dir is one path component under the trace.
// Arrays are read with these dtypes: weights int8/int16/int32, scheme and bits uint8, bias and
// requant_mult int32, requant_shift int8, input uint8/uint16, output uint8/uint16 (activations)
// or int32/int64 (accumulators).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <vector>

#include "models/graph/graph.h"
#include "models/layer.h"

namespace msq {

struct TraceLayer {
  std::string name;
  std::string dir;  // relative to the trace directory; write_trace uses name when empty
  QuantLayer layer;
  ActTensor input;
  OutTensor expected;
  int64_t expected_cycles = -1;  // -1: not recorded
};

// A graph trace (format msqsim-trace/2, docs/traces.md): the network input, and every op in graph
// order. Conv / Fc ops are the trace's layers of the same name (their zero points and clamp here);
// the other ops keep their expected output codes in DIR/<dir>/output.npy.
struct TraceOp {
  std::string name, dir;
  OpKind kind = OpKind::Conv;
  std::vector<std::string> inputs;  // producing ops' names; "input" is the network input
  int kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0;
  int32_t mult_a = 1, mult_b = 1;
  int shift = 1;
  int32_t lo = 0, hi = -1;  // clamp; hi < 0: 2^act_bits - 1
  int32_t zero_point = 0;   // of the op's output tensor
  double scale = 0.0;       // of the op's output tensor (0: not calibrated)
  int32_t in_zero = 0;      // Conv / Fc: the input zero point (padding)
  OutTensor expected;       // non-GEMM ops: expected output codes
  int64_t expected_cycles = -1;
};
struct TraceGraph {
  ActTensor input;  // DIR/input.npy
  int32_t input_zero = 0;
  double input_scale = 0.0;
  std::vector<TraceOp> ops;
};

struct Trace {
  std::string dir;
  int format = 1;
  TraceGraph graph;  // format 2 only
  YAML::Node
      config;  // the manifest's config node, with its marks (lines in trace.yaml); null when absent
  std::vector<TraceLayer> layers;
};

// Reads and validates a trace. Every problem is an InputError naming the file and, below the
// manifest, the layer, and for values the row and column (or the [b, c, h, w] index).
Trace read_trace(const std::string& dir);

// Writes the trace into DIR.tmp-XXXXXX, checks it by reading it back, then renames it to dir,
// replacing an earlier trace there. Refuses (InputError) to replace a path that exists and is not
// a trace directory (an empty directory is fine). A DIR that is a symlink is written through: the
// trace goes to the directory it names, the link stays. Picks the narrowest dtype that holds each
// array.
// With `graph`, a format-2 trace: the layers are its Conv / Fc ops (each layer's input.npy is what
// its producer wrote), plus the input and the other ops.
void write_trace(const std::string& dir, const YAML::Node& config,
                 const std::vector<TraceLayer>& layers, const TraceGraph* graph = nullptr);

// A format-2 trace's graph: tensors (the input, one per op), ops with `layer` indexing t.layers,
// zero points and clamps applied to `layers` (a copy of t.layers' QuantLayers). Checked with
// check_graph; a problem is an InputError naming the manifest and the op.
Graph trace_to_graph(const Trace& t, std::vector<QuantLayer>& layers);

// What write_trace will check and need of DIR, checked before the work that produces the trace:
// throws InputError when DIR is not a trace directory it may replace, or when no temporary
// directory can be created next to it (the reason from the OS).
void check_trace_destination(const std::string& dir);

// Sets (or, for a negative value, removes) each layer's expected_cycles in trace.yaml, one value
// per layer in manifest order (format 2: one per op in graph order, a Conv / Fc op's going to its
// layer); the manifest is replaced atomically. Comments in it are not kept.
void set_expected_cycles(const std::string& dir, const std::vector<int64_t>& cycles);

}  // namespace msq
