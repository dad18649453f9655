// ONNX reader (models/workload/onnx_import.h) and what follows it without running the network:
// the layer shapes and the quantization into the integer graph (calibration ranges all zero).
// Properties: every op's inputs are earlier tensors, and the quantized graph has one layer per
// Conv / Fc op with M x K weights.
#include "models/workload/onnx_import.h"
#include "models/workload/quantize_graph.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace msq;
  const std::string path = fuzz::put("m.onnx", fuzz::text(data, size));
  fuzz::expect_user_errors([&] {
    const FloatGraph g = import_onnx(path);
    for (size_t i = 0; i < g.ops.size(); ++i)
      for (int in : g.ops[i].inputs)
        if (in < 0 || in >= g.ops[i].output)
          fuzz::property_failed("op " + g.ops[i].name + " reads a tensor that is not earlier");
    const std::vector<LayerShape> shapes = onnx_layer_shapes(g);
    QuantizeOptions o;
    const QuantizedNet q = quantize_graph(g, std::vector<TensorRange>(g.tensors.size()), o);
    if (q.graph.layers.size() != shapes.size())
      fuzz::property_failed("the quantized graph's layers differ from the layer shapes");
    for (const QuantLayer& l : q.graph.layers)
      if (int64_t(l.weights.size()) != l.shape.m() * l.shape.k())
        fuzz::property_failed("layer " + l.shape.name + " has weights of the wrong size");
  });
  return 0;
}
