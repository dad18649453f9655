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

struct Trace {
  std::string dir;
  YAML::Node
      config;  // the manifest's config node, with its marks (lines in trace.yaml); null when absent
  std::vector<TraceLayer> layers;
};

// Reads and validates a trace. Every problem is an InputError naming the file and, below the
// manifest, the layer, and for values the row and column (or the [b, c, h, w] index).
Trace read_trace(const std::string& dir);

// Writes the trace into DIR.tmp-XXXXXX, checks it by reading it back, then renames it to dir,
// replacing an earlier trace there. Refuses (InputError) to replace a path that exists and is not
// a trace directory (an empty directory is fine). Picks the narrowest dtype that holds each array.
void write_trace(const std::string& dir, const YAML::Node& config,
                 const std::vector<TraceLayer>& layers);

// What write_trace will check and need of DIR, checked before the work that produces the trace:
// throws InputError when DIR is not a trace directory it may replace, or when no temporary
// directory can be created next to it (the reason from the OS).
void check_trace_destination(const std::string& dir);

// Sets (or, for a negative value, removes) each layer's expected_cycles in trace.yaml, one value
// per layer in manifest order; the manifest is replaced atomically. Comments in it are not kept.
void set_expected_cycles(const std::string& dir, const std::vector<int64_t>& cycles);

}  // namespace msq
