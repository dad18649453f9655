// The timeline as a Value Change Dump (IEEE 1364-2005, section 18) for GTKWave and other waveform
// viewers (docs/report.md, "Waveforms").
//
// Written from the EventSink's spans after the simulation, not by SystemC's sc_trace: the model is
// transaction-level (an engine's job is one wait of its cycles, a DMA transfer one wait per
// burst), so there are no signals to trace; sc_trace would need signals added to every block and
// would test them at every time step of the simulation, while the spans already hold every
// transaction boundary, with the layer filter applied. Values therefore change only at the start
// and end of a job, transfer or layer.
#pragma once

#include <cstdint>
#include <string>

#include "models/stats/event_sink.h"

namespace msq {

struct VcdInfo {
  int64_t signals = 0;       // $var declarations
  int64_t changes = 0;       // value changes after the initial values
  int64_t timescale_ps = 1;  // the unit of the file's timestamps
};

// The VCD text of the sink's spans. One scope per track: per engine `busy` (1 while a job runs),
// `layer` (the layer of its current or last job) and `jobs` (jobs started so far); per DMA stream
// and DRAM channel `busy` and `bytes` (the bytes of the transfers in progress); at the top `layer`
// (the layer in progress, x outside the kept layers). The timescale is the coarsest of 1 ns, 100,
// 10 and 1 ps that holds every boundary exactly. `title` goes into the header's comment, with the
// layer names by index.
std::string to_vcd(const EventSink& sink, const std::string& title, VcdInfo* info = nullptr);

}  // namespace msq
