// Loading, validating and writing run configs (docs/config.md: a schema resolved once
// into the runtime structs of models/config.h). One schema table drives the loader, the validation,
// config_to_json/yaml and docs/config.md, so the four cannot drift apart.
#pragma once

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "models/config.h"
#include "models/graph/graph.h"
#include "models/layer.h"

namespace msq {

// The configs directory: find_configs_dir() of models/config_dir.h ($MSQSIM_CONFIG_DIR, else the
// installed share/msqsim/configs next to the binary, else for a build-tree binary the source
// tree's configs/).
std::string configs_dir();

// Warnings about how the config was resolved (an AXI clock clipped to the device's limit), one
// line, "" when there are none. run and validate print it.
std::string config_warnings(const RunConfig& c);

// Loads a YAML config, applies `sets` ("dotted.key=VALUE", VALUE parsed as YAML) and validates
// the result. Every problem is thrown as one InputError "FILE:LINE: dotted.key: ...".
RunConfig load_run_config(const std::string& path, const std::vector<std::string>& sets);

// The file part (InputError::file()) of an error in the --set `set` ("KEY=VALUE"), so that a
// caller that passed the set on from a file of its own can move the error to that file's line.
std::string set_label(const std::string& set);

// Whether `value` of config key `key` is a relative file path: outside a config (a --set, a sweep
// file) such a path is taken relative to where it was written, not to the config. device,
// memory.preset, workload.network and energy.costs take a name or a path; the mapping file and
// the ONNX run's input files always name a file.
bool is_relative_file_value(const std::string& key, const std::string& value);

// The same from an already parsed tree. `label` names the source in messages; `base_dir`
// resolves relative paths (device, preset, network files). The tree is not modified.
RunConfig load_run_config_node(const YAML::Node& root, const std::string& label,
                               const std::string& base_dir, const std::vector<std::string>& sets);

// The fully resolved config, every default filled, plus the output-only keys `file` and
// `workload.network_path`.
nlohmann::json config_to_json(const RunConfig& c);

// The resolved config as a tree that load_run_config_node accepts again and resolves to the same
// config (output-only keys left out; a network given by path is written as its absolute path).
YAML::Node config_to_yaml(const RunConfig& c);

// Reads workload.network_path (a network YAML or a SCALE-Sim topology CSV), sets each layer's
// batch, and keeps only workload.layers when that list is not empty (network order).
std::vector<LayerShape> load_network(const WorkloadConfig& w);

// The whole network (workload.layers ignored): every conv / fc layer in file order (batch set) and,
// when the file is a graph (docs/config.md, "Graphs"), its ops and tensors: `skeleton` has its
// ops, tensors (shapes at the batch; bits, zero points and op constants not yet set), input and
// outputs, with each Conv / Fc op's `layer` indexing `layers`; skeleton.layers stays empty.
struct NetworkSpec {
  std::vector<LayerShape> layers;
  bool graph = false;
  Graph skeleton;
};
NetworkSpec load_network_spec(const WorkloadConfig& w);

// The key reference tables of docs/config.md (the part between its GENERATED markers).
std::string config_reference_markdown();

}  // namespace msq
