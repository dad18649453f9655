// A user-given mapping (accelerator.scheduler.mapping: given): a CSV file that gives, per layer,
// the tiles the mapper knows, so that msqsim runs the schedule another tool (an architect's own
// scheduler) chose instead of searching one. The format is in docs/mapping.md ("A given
// mapping"). Plain C++: no SystemC.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace msq {

// One data row of the file. Optional cells left empty keep their "not given" value.
struct GivenLayerMapping {
  std::string layer;
  int line = 0;                   // line of the file, for messages
  int64_t tile_m = 0;             // output channels per output-channel tile
  int64_t k_channels = 0;         // input channels per k tile; 0: not split
  int64_t tile_rows = 0;          // output rows per pixel tile (fully connected: batch elements)
  int64_t tile_cols = 0;          // output columns per pixel tile; 0: whole rows
  std::string order;              // outermost first, e.g. NMK; empty: the estimate picks
  double lut_share = -1;          // share of the rows on the SP2 (LUT) engine; < 0: by the config
  int keep_in = -1, keep_w = -1;  // keep levels 0..3; -1: the outermost that fits
};

struct GivenMapping {
  std::string file;
  std::map<std::string, GivenLayerMapping> layers;
};

// Reads and checks the file once per process (later calls with the same path return the same
// mapping). Throws InputError naming the file, the line and the column of the first problem:
// a missing required column, an unknown column, a layer given twice, a cell that is not what its
// column expects.
std::shared_ptr<const GivenMapping> load_given_mapping(const std::string& path);

// Checks the file against the network's layer names (all of them; a name the network does not
// have is an error, with the nearest name as a hint) and returns, in network order, the names of
// `selected` (the layers that run) the file does not give: those are planned by the search.
std::vector<std::string> check_given_mapping(const std::string& path,
                                             const std::vector<std::string>& network_layers,
                                             const std::vector<std::string>& selected);

}  // namespace msq
