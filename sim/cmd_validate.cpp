// `msqsim validate`: everything `run` does before it simulates (load the config and the network,
// build and plan every layer, estimate the resources, bound the accumulator sums), a short
// summary of it, and the exit code `run` would give the same design; nothing is simulated.
#include <fmt/format.h>

#include <cstdint>
#include <iostream>

#include "models/resource_model.h"
#include "sim/commands.h"
#include "sim/config_loader.h"
#include "sim/report.h"
#include "sim/session.h"

namespace msq {

int cmd_validate(const ValidateOptions& o) {
  Design d;
  FaultInjection fault;
  check_design(o, d, fault);

  const RunConfig& c = d.cfg;
  int64_t macs = 0, tiles = 0;
  int k_split = 0, streamed = 0, unpacked = 0;
  for (size_t l = 0; l < d.wl.layers.size(); ++l) {
    const LayerPlan& p = d.plans[l];
    macs += d.wl.layers[l].shape.macs();
    tiles += int64_t(p.tiles.size()) * p.k_tiles;
    k_split += p.k_tiles > 1;
    streamed += !p.weights_resident;
    unpacked += !p.packing_note.empty();
  }
  const auto& dev = c.device;
  const auto& a = c.accelerator;
  const auto& w = c.workload;
  const char* dsp = dev.dsp_kind == DspKind::DSP48E1 ? "DSP48E1" : "DSP48E2";
  fmt::print("config:    {}\n", o.config);
  fmt::print("device:    {}{}: {} LUT, {} FF, {} BRAM36, {} {}\n", dev.name,
             dev.board.empty() ? "" : " (" + dev.board + ")", dev.lut, dev.ff, dev.bram36, dev.dsp,
             dsp);
  fmt::print("clock:     {} MHz\n", c.clock_mhz);
  if (a.engines.empty()) {
    fmt::print("arrays:    LUT core {}x{} SP2 PEs, DSP core {}x{} {}{}\n", a.lut_core.rows,
               a.lut_core.cols, a.dsp_core.rows, a.dsp_core.cols, dsp,
               a.dsp_core.packing ? " (2 products packed per slice)" : "");
  } else {
    std::string list;
    for (const EngineSpec& e : a.engines)
      list += fmt::format(
          "{}{} {}x{} ({}{})", list.empty() ? "" : ", ", e.name, e.rows, e.cols, e.impl,
          e.own_accumulator ? fmt::format(", {}-bit accumulator", e.accumulator.bits) : "");
    fmt::print("arrays:    {}\n", list);
  }
  fmt::print("memory:    {} ({}-bit at {} MHz), {} AXI port(s) x {} bit\n", c.memory.dram.preset,
             c.memory.dram.data_width_bits, c.memory.dram.clock_mhz, c.memory.axi_ports,
             c.memory.axi_width_bits);
  fmt::print("network:   {} ({}), {} layers{}, {:.3f} GMAC at batch {}\n", w.network,
             w.network_path, d.wl.layers.size(), w.layers.empty() ? "" : " selected", macs / 1e9,
             w.batch);
  fmt::print(
      "rows:      {:g} SP2, {:g} 8-bit fixed, rest fixed; {}-bit weights, {}-bit activations{}\n",
      w.sp2_fraction, w.fixed8_fraction, w.weight_bits, w.act_bits,
      d.values ? "" : " (timing only: no weights built)");
  fmt::print(
      "plan:      every layer fits the buffers: {} tile steps; {} layers split along K, {} "
      "stream their weights, {} run some DSP rows unpacked\n",
      tiles, k_split, streamed, unpacked);
  fmt::print("resources: {}: {}\n", resources_summary(resources_to_json(d.resources)),
             d.resources.fits() ? "fits, bound by " + d.resources.binding()
                                : "does NOT fit: " + d.resources.overfull_message());
  fmt::print("accumulator: {}\n", accumulator_summary(d.wl, d.risk, nullptr));
  std::fflush(stdout);
  const std::string warning = overflow_warning(d.wl, d.risk, nullptr);
  if (!warning.empty()) std::cerr << "msqsim: " << warning << "\n";
  if (const int rc = check_fit(o, d)) return rc;
  if (o.fail_on_overflow && !warning.empty()) {
    int64_t at_risk = 0;
    for (const OverflowRisk& r : d.risk) at_risk += r.rows;
    std::cerr << fmt::format(
        "msqsim: {}: {} rows could overflow the {}-bit accumulator "
        "(--fail-on-overflow)\n",
        o.config, at_risk, a.accumulator.bits);
    return 1;
  }
  fmt::print("config is valid\n");
  return 0;
}

}  // namespace msq
