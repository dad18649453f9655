// `msqsim validate`: load everything a run would load, report what it found, simulate nothing.
#include <fmt/format.h>

#include <cstdint>

#include "sim/commands.h"
#include "sim/config_loader.h"

namespace msq {

int cmd_validate(const ValidateOptions& o) {
  const RunConfig c = load_run_config(o.config, o.sets);
  const std::vector<LayerShape> layers = load_network(c.workload);
  int64_t macs = 0;
  for (const auto& l : layers) macs += l.macs();

  const auto& d = c.device;
  const auto& a = c.accelerator;
  const auto& w = c.workload;
  const char* dsp = d.dsp_kind == DspKind::DSP48E1 ? "DSP48E1" : "DSP48E2";
  fmt::print("config:   {}\n", o.config);
  fmt::print("device:   {}{}: {} LUT, {} FF, {} BRAM36, {} {}\n", d.name,
             d.board.empty() ? "" : " (" + d.board + ")", d.lut, d.ff, d.bram36, d.dsp, dsp);
  fmt::print("clock:    {} MHz\n", c.clock_mhz);
  fmt::print("arrays:   LUT core {}x{} SP2 PEs, DSP core {}x{} {}{}\n", a.lut_core.rows,
             a.lut_core.cols, a.dsp_core.rows, a.dsp_core.cols, dsp,
             a.dsp_core.packing ? " (2 products packed per slice)" : "");
  fmt::print("memory:   {} ({}-bit at {} MHz), {} AXI port(s) x {} bit\n", c.memory.dram.preset,
             c.memory.dram.data_width_bits, c.memory.dram.clock_mhz, c.memory.axi_ports,
             c.memory.axi_width_bits);
  fmt::print("network:  {} ({}), {} layers{}, {:.3f} GMAC at batch {}\n", w.network, w.network_path,
             layers.size(), w.layers.empty() ? "" : " selected", macs / 1e9, w.batch);
  fmt::print(
      "rows:     {:g} SP2, {:g} 8-bit fixed, rest fixed; {}-bit weights, {}-bit "
      "activations\n",
      w.sp2_fraction, w.fixed8_fraction, w.weight_bits, w.act_bits);
  fmt::print("config is valid\n");
  return 0;
}

}  // namespace msq
