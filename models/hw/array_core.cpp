#include "models/hw/array_core.h"

#include <algorithm>
#include <vector>

#include "models/stats/event_sink.h"

namespace msq {

using sc_core::sc_time;

JobBufferWords job_buffer_words(int64_t rows, int64_t tn, int64_t tk, int64_t pass_cols,
                                int64_t weight_bits_per_k, int act_bits, int64_t groups,
                                int partial_bits, int out_bits, bool read_back) {
  JobBufferWords w;
  const int64_t full = tn / pass_cols, rest = tn % pass_cols;
  const int64_t passes = full + (rest > 0);
  w.weight_reads = passes * tk * bram_words(weight_bits_per_k);
  w.input_reads =
      groups * tk *
      (full * bram_words(pass_cols * act_bits) + (rest > 0 ? bram_words(rest * act_bits) : 0));
  if (read_back) w.partial_reads = tn * bram_words(rows * partial_bits);
  w.output_writes = tn * bram_words(rows * out_bits);
  return w;
}

namespace {
// The groups of a grouped convolution that a block's rows belong to (1 otherwise): one unless the
// mapping packs several groups into a block.
int64_t block_groups(const LayerRun& run, const RowBlock& b) {
  const LayerShape& s = run.layer->shape;
  if (s.groups <= 1 || run.plan.group_pack <= 1 || b.rows.size() < 2) return 1;
  std::vector<int32_t> g;
  g.reserve(b.rows.size());
  for (int32_t m : b.rows) g.push_back(m / s.rows_per_group());
  std::sort(g.begin(), g.end());
  return int64_t(std::unique(g.begin(), g.end()) - g.begin());
}
}  // namespace

ArrayCore::ArrayCore(sc_core::sc_module_name name, const EngineContext& ctx)
    : sc_module(name),
      f_(ctx.fabric),
      id_(ctx.slot),
      spec_(ctx.spec),
      weights_(ctx.weights),
      stats_(ctx.spec.name) {
  using U = StatGroup::Unit;
  ids_.busy = stats_.define("busy", U::Cycles, "cycles computing jobs");
  ids_.jobs = stats_.define("jobs", U::Count, "jobs: a row block over one tile and k tile");
  ids_.macs = stats_.define("macs", U::Macs, "multiply-accumulates of the real rows of its jobs");
  ids_.macs_sp2 = stats_.define("macs_sp2", U::Macs, "of them, of SP2 rows");
  ids_.macs_fixed = stats_.define("macs_fixed", U::Macs, "of them, of fixed-point rows");
  ids_.stall_dram = stats_.define("stall_dram", U::Cycles, "cycles waiting for DRAM data");
  ids_.stall_buffer = stats_.define("stall_buffer", U::Cycles, "cycles waiting for buffer space");
  ids_.stall_other = stats_.define("stall_other", U::Cycles,
                                   "cycles idle at the end of a layer for the other engines");
  SC_HAS_PROCESS(ArrayCore);
  SC_THREAD(main);
}

void ArrayCore::main() {
  EngineSignals& sig = f_.engines.at(size_t(id_));
  const sc_time clock = f_.clock;
  const auto cycles_of = [clock](sc_time t) { return int64_t(t / clock + 0.5); };
  for (LayerRun& run : f_.runs) {
    const int li = int(&run - f_.runs.data());
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
        const int64_t macs = int64_t(b.rows.size()) * tn * step.tk;
        st.macs += macs;
        stats_.add(ids_.busy, cycles, li);
        stats_.add(ids_.jobs, 1, li);
        stats_.add(ids_.macs, macs, li);
        stats_.add(ids_.macs_sp2, b.sp2_rows * tn * step.tk, li);
        stats_.add(ids_.macs_fixed, macs - b.sp2_rows * tn * step.tk, li);
        // The job's operands and results, one transaction each: its input tile, its block's
        // weights of the k tile, its sums (read back to add to after the first k tile). The
        // output stage requantizes as the last k tile's sums leave the array, so the buffer holds
        // accumulators between k tiles and outputs after the last (as it was allocated).
        const LayerPlan& p = run.plan;
        const int64_t rows = int64_t(b.rows.size());
        const int result_bytes = step.last_k ? p.out_bytes : p.acc_bytes;
        const JobBufferWords words = job_buffer_words(
            rows, tn, step.tk, pass_columns(run, b, tn, step.tk), b.weight_bits_per_k,
            8 * p.act_bytes, block_groups(run, b), 8 * p.acc_bytes, 8 * result_bytes, step.kt > 0);
        if (f_.input_buffer)
          f_.input_buffer->read(step.tk * tn * p.act_bytes, words.input_reads, li);
        weights_.read((b.weight_bits_per_k * step.tk + 7) / 8, words.weight_reads, li);
        if (f_.output_buffer) {
          if (step.kt > 0) f_.output_buffer->read(rows * tn * p.acc_bytes, words.partial_reads, li);
          f_.output_buffer->write(rows * tn * result_bytes, words.output_writes, li);
        }
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
    stats_.add(ids_.stall_dram, cycles_of(st.stall_dram), li);
    stats_.add(ids_.stall_buffer, cycles_of(st.stall_buffer), li);
    // Resident weights stay until the layer's last job (every job of the layer waited for them).
    if (run.resident_release[id_] > 0) weights_.release(run.resident_release[id_]);
    sig.layer_done.add();
  }
}

}  // namespace msq
