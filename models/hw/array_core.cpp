#include "models/hw/array_core.h"

#include <algorithm>

#include "models/stats/event_sink.h"

namespace msq {

using sc_core::sc_time;

ArrayCore::ArrayCore(sc_core::sc_module_name name, Fabric& fabric, CoreId id, Buffer& weights)
    : sc_module(name), f_(fabric), id_(id), weights_(weights) {
  SC_HAS_PROCESS(ArrayCore);
  SC_THREAD(main);
}

void ArrayCore::main() {
  EngineSignals& sig = f_.engines.at(size_t(id_));
  for (LayerRun& run : f_.runs) {
    CoreLayerStats& st = run.core[id_];
    const std::vector<RowBlock>& blocks = run.plan.blocks(id_);
    if (run.values && !blocks.empty()) load_layer(run);
    for (size_t si = 0; si < run.steps.size(); ++si) {
      const Step& step = run.steps[si];
      const int64_t gl = run.load0 + step.in_load, gt = run.tile0 + step.out_tile;
      if (!step.jobs[id_].empty()) {
        // The step's input: a wait before the load got buffer space is a wait for the buffer,
        // the rest is a wait for DRAM (or for the previous layer's outputs to reach it).
        const sc_time t0 = sc_core::sc_time_stamp();
        f_.in_loaded.wait_until(gl + 1);
        const sc_time t1 = sc_core::sc_time_stamp();
        if (t1 > t0) {
          const StepTiming& tm = f_.step_timing[size_t(gl)];
          const sc_time lo = std::max(t0, tm.requested), hi = std::min(t1, tm.granted);
          const sc_time buf = hi > lo ? hi - lo : sc_core::SC_ZERO_TIME;
          st.stall_buffer += buf;
          st.stall_dram += (t1 - t0) - buf;
        }
        if (step.first_k) {
          const sc_time o0 = sc_core::sc_time_stamp();
          f_.out_granted.wait_until(gt + 1);
          st.stall_buffer += sc_core::sc_time_stamp() - o0;
        }
      }
      for (const CoreJob& job : step.jobs[id_]) {
        if (job.wload >= 0) {
          const sc_time w0 = sc_core::sc_time_stamp();
          sig.w_loaded.wait_until(job.wload + 1);
          st.stall_dram += sc_core::sc_time_stamp() - w0;
        }
        const RowBlock& b = blocks[size_t(job.block)];
        if (run.values) compute(run, b, step, f_.in_values.at(gl), f_.out_values.at(gt));
        const int64_t tn = run.plan.tiles[size_t(step.tile)].tn;
        const int64_t cycles = job_cycles(run, b, tn, step.tk);
        wait(f_.clock * double(cycles));
        st.busy += cycles;
        // The block's rows, not the array's: idle rows of a short block do no work.
        st.macs += int64_t(b.rows.size()) * tn * step.tk;
        if (EventSink* ev = EventSink::current())
          ev->job(id_, int(&run - f_.runs.data()), step.tile, step.kt, int64_t(b.rows.size()),
                  cycles, ps_of_seconds(f_.clock.to_seconds()),
                  ps_of_seconds(sc_core::sc_time_stamp().to_seconds()));
        ++st.jobs;
        if (job.release_bytes > 0) weights_.release(job.release_bytes);
      }
      sig.step_done.add();
      if (step.last_k) sig.tile_done.add();
    }
    st.last_end = sc_core::sc_time_stamp();
    // Resident weights stay until the layer's last job (every job of the layer waited for them).
    if (run.resident_release[id_] > 0) weights_.release(run.resident_release[id_]);
    sig.layer_done.add();
  }
}

}  // namespace msq
