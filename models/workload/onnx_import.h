// ONNX models to a FloatGraph (docs/import.md lists the operators and attributes accepted and what
// is refused). Read with onnx's generated protobuf classes, so the simulator needs no Python.
#pragma once

#include <string>
#include <vector>

#include "models/workload/float_graph.h"

namespace msq {

// Reads an ONNX model file. BatchNormalization folds into the preceding Conv, Relu and Clip(0, x)
// into their producer, Identity and Dropout disappear, Flatten / Reshape to [N, C*H*W] become
// views. Anything else (a file that is not ONNX, a truncated one, an unsupported operator or
// attribute, a missing initializer, inconsistent shapes) throws InputError naming the file, the
// node, its operator type and the attribute.
FloatGraph import_onnx(const std::string& path);

// The same from the file's bytes; `label` names the source in messages.
FloatGraph import_onnx_bytes(const std::string& bytes, const std::string& label);

// The graph's Conv and Fc ops as layer shapes (batch 1), in graph order, named after their ops.
std::vector<LayerShape> onnx_layer_shapes(const FloatGraph& g);

}  // namespace msq
