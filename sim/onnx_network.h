// An ONNX network in a run (docs/import.md): import, calibration, quantization into the integer
// graph, the layers the simulator runs with their real chained inputs, and the float-agreement
// report (`run --eval`).
#pragma once

#include <iosfwd>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "models/config.h"
#include "models/layer.h"
#include "models/workload/float_graph.h"
#include "models/workload/quantize_graph.h"

namespace msq {

struct ImportedNetwork {
  FloatGraph fg;
  QuantizedNet qn;
  QuantizeOptions options;
  std::string calibration;  // the calibration file; "" = synthetic ranges
  int calibration_images = 0;
  std::vector<float> images;  // the `batch` images the simulation runs, [B, C, H, W]
};

// Calibration without a file uses this many seeded random images.
constexpr int kSyntheticCalibrationImages = 8;

bool is_onnx_network(const WorkloadConfig& w);

// Imports workload.network_path, calibrates (workload.calibration, else synthetic images) and
// quantizes with the workload's scheme settings. Bad files and values: InputError naming them.
std::shared_ptr<ImportedNetwork> import_network(const RunConfig& cfg);

// The Conv / Fc layers the simulator runs (workload.layers selects them), each with the input
// codes the integer graph computes for it on the run's images. values == false: schemes and bits
// only, as build_workload does for a timing-only run.
Workload onnx_workload(const ImportedNetwork& net, const RunConfig& cfg, bool values);

// Every Conv / Fc layer of the integer graph, indexed as Graph::layers (a graph run). values ==
// false: schemes and bits only.
Workload onnx_graph_workload(const ImportedNetwork& net, bool values);

// Float images [N, C, H, W] from a .npy that must match the network input; *n gets N.
std::vector<float> read_images(const std::string& path, const std::string& key, const FloatGraph& g,
                               int* n);

// The integer network's final output against the float network's on the same images.
struct Accuracy {
  int images = 0;
  bool classifier = false;  // output [B, C, 1, 1] with C > 1: top-1 is reported
  double cosine_mean = 0, cosine_min = 0;
  double top1 = 0;  // share of images whose argmax agrees
  // With labels: the share of images each network classifies as labelled (-1 without labels).
  double top1_float = -1, top1_int = -1;
  double sp2_fraction = 0;  // SP2 rows / all rows of the network
  std::string mix;          // how the rows were split ("sp2_fraction 0.67", "auto", ...)
};
// labels: null, or one class per image.
Accuracy evaluate(const ImportedNetwork& net, const std::vector<float>& images, int n,
                  const std::vector<int64_t>* labels = nullptr);
// The same for another scheme mix of the same network and calibration (a comparison row).
Accuracy evaluate_mix(const ImportedNetwork& net, double sp2_fraction,
                      const std::vector<float>& images, int n,
                      const std::vector<int64_t>* labels = nullptr);

// Class labels for n images from an integer .npy [n]; each must be an output index of the
// network's classifier. Problems: InputError naming the file and `key`.
std::vector<int64_t> read_labels(const std::string& path, const std::string& key,
                                 const ImportedNetwork& net, int n);

// The report's parts: calibration, per-layer quantization error, accuracy.
nlohmann::json imported_json(const ImportedNetwork& net);
nlohmann::json accuracy_json(const std::vector<Accuracy>& a);
void print_imported(std::ostream& os, const ImportedNetwork& net);
void print_accuracy(std::ostream& os, const std::vector<Accuracy>& a);

}  // namespace msq
