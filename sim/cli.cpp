#include "sim/cli.h"

#include <yaml-cpp/yaml.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "models/error.h"
#include "models/kernels/isa.h"
#include "sim/commands.h"

namespace po = boost::program_options;

namespace msq {
namespace {

// Kept by hand in step with project(VERSION) in CMakeLists.txt, which defines no macro for it.
constexpr const char* kVersion = "0.1";

// Bad usage of the command line (not bad input files): one line, exit 2.
struct UsageError : std::runtime_error {
  UsageError(const std::string& cmd, const std::string& what)
      : std::runtime_error(cmd + ": " + what + " (see 'msqsim " + cmd + " --help')") {}
};

const char* kExitCodes =
    "Exit codes:\n"
    "  0  success\n"
    "  1  the run finished but something failed (verification mismatch, regression\n"
    "     difference, a design that does not fit the device, accumulator overflows with\n"
    "     --fail-on-overflow), or an internal error\n"
    "  2  bad usage or bad input (the message names the file, line and key)\n";

const char* kTopHelp =
    "msqsim: cycle-level simulator of FPGA accelerators for mixed-scheme quantized networks\n"
    "(SP2 rows on a LUT shift-add array, fixed-point rows on a DSP48 array).\n"
    "\n"
    "Usage: msqsim COMMAND [ARGS]...\n"
    "\n"
    "Commands:\n"
    "  run CONFIG          simulate one design point and report cycles, throughput, resources\n"
    "  sweep SWEEP         simulate every point of a sweep file, in parallel worker processes\n"
    "  optimize CONFIG     search array sizes and the SP2 fraction for a device\n"
    "  regress DIR...      replay recorded traces and compare outputs (and cycles)\n"
    "  trace record CONFIG write a trace directory (inputs, weights, expected outputs)\n"
    "  validate CONFIG     check a config, its plan and its resources without simulating\n"
    "\n"
    "Options:\n"
    "  -h, --help          this help; 'msqsim COMMAND --help' explains a command\n"
    "  --version           print the version and the kernel variant in use\n"
    "\n"
    "Configs are YAML (docs/config.md lists every key). Names of devices, DRAM presets and\n"
    "networks are looked up in the configs directory: $MSQSIM_CONFIG_DIR if set, else\n"
    "share/msqsim/configs next to the installed binary (/usr/share/msqsim/configs for the\n"
    "Debian package), else, for a binary in its build tree, the source tree's configs/.\n"
    "Documentation: docs/ in the source tree, /usr/share/doc/msqsim/ when installed\n"
    "(docs/cli.md: commands; docs/report.md: outputs; docs/arithmetic.md: number formats).\n"
    "The value kernels use the widest instruction set the CPU has; MSQSIM_ISA=scalar, avx2,\n"
    "avx512 or avx512vnni picks a narrower one (docs/cli.md, \"Environment\").\n"
    "\n"
    "Example:\n"
    "  msqsim run configs/examples/default.yaml --set workload.sp2_fraction=0.6 --json r.json\n"
    "\n";

struct Command {
  std::string name;     // as typed: "run", "trace record"
  std::string usage;    // the synopsis after "msqsim "
  std::string summary;  // what it does
  std::string example;
  std::function<void(po::options_description&)> options;
  std::string positional;  // name of the positional option ("" = none)
  int max_positional = 1;  // -1 = any number
  std::function<int(const po::variables_map&)> run;
};

void add_set(po::options_description& d) {
  d.add_options()("set", po::value<std::vector<std::string>>()->value_name("KEY=VALUE"),
                  "override a config key by its dotted path, e.g. workload.sp2_fraction=0.6; "
                  "VALUE is YAML (a list: '[conv1, fc]'); repeatable");
}

template <class T>
T get(const po::variables_map& vm, const char* name, T fallback = T()) {
  return vm.count(name) ? vm[name].as<T>() : fallback;
}

std::vector<std::string> sets_of(const po::variables_map& vm) {
  return get<std::vector<std::string>>(vm, "set");
}

int jobs_of(const std::string& cmd, const po::variables_map& vm) {
  const int j = get<int>(vm, "jobs", 0);
  if (j < 0)
    throw UsageError(cmd, "--jobs must be 0 (all cores) or more (got " + std::to_string(j) + ")");
  return j;
}

// "I/N" with 1 <= I <= N (shards 1/3, 2/3 and 3/3 make a whole sweep).
void check_shard(const std::string& s) {
  const auto slash = s.find('/');
  const auto number = [](const std::string& t, long& v) {
    if (t.empty() || t.size() > 9 || t.find_first_not_of("0123456789") != std::string::npos)
      return false;
    v = std::stol(t);
    return true;
  };
  long i = 0, n = 0;
  if (slash == std::string::npos || !number(s.substr(0, slash), i) ||
      !number(s.substr(slash + 1), n) || n < 1 || i < 1 || i > n)
    throw UsageError("sweep", "--shard expects I/N with 1 <= I <= N, e.g. 1/4 (got " + s + ")");
}

std::vector<Command> commands() {
  std::vector<Command> c;
  c.push_back(
      {"run",
       "run CONFIG.yaml [--set KEY=VALUE]... [--json FILE] [--csv FILE] [--no-verify]"
       " [--allow-overfull] [--fail-on-overflow] [--timeline FILE.json] [--vcd FILE.vcd]"
       " [--timeline-layers NAMES] [--eval IMAGES.npy [--eval-labels LABELS.npy]]",
       "Simulates the accelerator of CONFIG running its network, layer by layer, and prints a\n"
       "table of cycles, throughput, each core's busy share and MAC utilization, and DRAM\n"
       "traffic. With verification on (the default), every output of the cycle model is\n"
       "checked against the functional model.\n"
       "It first makes every check of 'msqsim validate': a layer the buffers cannot hold is\n"
       "refused (exit 2), and a design that does not fit the device's LUT/FF/DSP/BRAM too\n"
       "(exit 1) unless --allow-overfull is given.\n"
       "\n"
       "Accumulator overflows: the table's 'ovf' column counts them per layer (with values) and\n"
       "'risk' gives the rows whose worst-case sum does not fit the accumulator (from the\n"
       "weights; with --no-verify from the bit widths alone). Overflows pass verification,\n"
       "since the functional model wraps or saturates the same way, so any overflow or row at\n"
       "risk is also warned about on stderr. The JSON report has them per layer\n"
       "(overflows, overflow_risk_rows, acc_bits_needed) and in its 'overflow' object; the\n"
       "CSV has the same columns.\n"
       "\n"
       "MSQSIM_FAULT=LAYER:ROW:COLUMN in the environment flips a bit of that output of the\n"
       "cycle model (LAYER a layer name, ROW an output channel, COLUMN a GEMM column), to\n"
       "see the cross-check catch it.\n"
       "\n"
       "Utilization: 'busy%' is the share of cycles a core was computing; 'MAC%' the share of\n"
       "its peak MAC rate it achieved (MACs / (cycles x rows x cols, x2 for a packing DSP\n"
       "core)). Only MAC% is a utilization in the usual sense (docs/report.md).\n"
       "\n"
       "--timeline writes the blocks' activity (core jobs, DMA transfers, DRAM channels, layers)\n"
       "as Chrome trace-event JSON for Perfetto UI or chrome://tracing; --vcd writes the same\n"
       "activity as waveforms (busy wires, layer indices, job counts, bytes in flight) in a\n"
       "Value Change Dump for GTKWave. --timeline-layers keeps only the named layers and ops in "
       "both.\n"
       "\n"
       "--eval (ONNX networks, docs/import.md) runs the float network and the integer network\n"
       "on the same float32 images [N, C, H, W] and reports the cosine similarity of the final\n"
       "outputs and, for a classifier, top-1 agreement: for the run's scheme mix and for all\n"
       "rows fixed and all rows SP2. --eval-labels adds each network's top-1 accuracy.",
       "  msqsim run configs/examples/default.yaml --set accelerator.lut_core.rows=64 "
       "--json out.json\n"
       "  msqsim run configs/examples/default.yaml --no-verify --timeline t.json "
       "--timeline-layers 'layer4.*'\n"
       "  msqsim run configs/examples/default.yaml --no-verify --vcd run.vcd && gtkwave run.vcd",
       [](po::options_description& d) {
         add_set(d);
         d.add_options()("json", po::value<std::string>()->value_name("FILE"),
                         "write the full report as JSON (docs/report.md)")(
             "csv", po::value<std::string>()->value_name("FILE"),
             "write the per-layer table as CSV (RFC 4180: fields with commas or quotes are "
             "quoted)")(
             "no-verify", po::bool_switch(),
             "timing only: compute no values and skip the cross-check against the functional "
             "model")("allow-overfull", po::bool_switch(),
                      "simulate a design that exceeds the device (warned on stderr)")(
             "fail-on-overflow", po::bool_switch(),
             "exit 1 when an accumulator overflowed; with --no-verify, when any row could")(
             "timeline", po::value<std::string>()->value_name("FILE"),
             "write a timeline of the blocks' activity as Chrome trace-event JSON (open it in "
             "Perfetto UI or chrome://tracing; docs/report.md)")(
             "vcd", po::value<std::string>()->value_name("FILE"),
             "write the blocks' activity as a Value Change Dump (open it in GTKWave; "
             "docs/report.md)")(
             "timeline-layers", po::value<std::string>()->value_name("NAMES"),
             "keep only these layers in the timeline and the VCD: comma-separated names or "
             "globs, e.g. 'conv1,layer4.*'")(
             "eval", po::value<std::string>()->value_name("FILE"),
             "ONNX networks: float32 images [N, C, H, W] (.npy) on which to compare the integer "
             "network's outputs with the float network's (docs/import.md)")(
             "eval-labels", po::value<std::string>()->value_name("FILE"),
             "with --eval: integer class labels [N] (.npy); reports each network's top-1 "
             "accuracy against them");
       },
       "config", 1,
       [](const po::variables_map& vm) {
         RunOptions o;
         o.config = get<std::string>(vm, "config");
         o.sets = sets_of(vm);
         o.json = get<std::string>(vm, "json");
         o.csv = get<std::string>(vm, "csv");
         o.verify = !vm["no-verify"].as<bool>();
         o.allow_overfull = vm["allow-overfull"].as<bool>();
         o.fail_on_overflow = vm["fail-on-overflow"].as<bool>();
         o.timeline = get<std::string>(vm, "timeline");
         o.vcd = get<std::string>(vm, "vcd");
         // The VCD is written last: it would silently replace another output of the same name.
         for (const auto& [flag, other] :
              {std::pair{"--json", &o.json}, {"--csv", &o.csv}, {"--timeline", &o.timeline}})
           if (!o.vcd.empty() && o.vcd == *other)
             throw UsageError("run", "--vcd and " + std::string(flag) + " name the same file '" +
                                         o.vcd + "': give each output its own");
         o.eval = get<std::string>(vm, "eval");
         o.eval_labels = get<std::string>(vm, "eval-labels");
         // An empty path was taken as "not given": the run wrote nothing and said nothing.
         for (const char* opt : {"json", "csv", "timeline", "vcd", "eval", "eval-labels"})
           if (vm.count(opt) && get<std::string>(vm, opt).empty())
             throw UsageError("run", std::string("--") + opt + " expects a file path (got '')");
         if (!o.eval_labels.empty() && o.eval.empty())
           throw UsageError("run",
                            "--eval-labels gives the labels of --eval's images: it needs "
                            "--eval IMAGES.npy");
         const std::string layers = get<std::string>(vm, "timeline-layers");
         if (vm.count("timeline-layers") && o.timeline.empty() && o.vcd.empty())
           throw UsageError("run",
                            "--timeline-layers filters a timeline: it needs --timeline FILE or "
                            "--vcd FILE");
         for (size_t i = 0; vm.count("timeline-layers") && i <= layers.size();) {
           const size_t comma = std::min(layers.find(',', i), layers.size());
           // 'conv1, fc' as written in a list: the blanks around a name are not part of it.
           std::string name = layers.substr(i, comma - i);
           name.erase(0, name.find_first_not_of(" \t"));
           name.erase(name.find_last_not_of(" \t") + 1);
           if (name.empty())
             throw UsageError("run",
                              "--timeline-layers expects comma-separated layer names or "
                              "globs, e.g. conv1,layer4.* (got '" +
                                  layers + "')");
           o.timeline_layers.push_back(name);
           i = comma + 1;
         }
         return cmd_run(o);
       }});
  c.push_back(
      {"sweep",
       "sweep SWEEP.yaml [--jobs N] [--shard I/N] [--out FILE.csv] [--jsonl FILE]"
       " [--resume] [--timeout SECONDS] [--merge PART.csv...]",
       "Simulates every design point of a sweep file (a base config plus the values to vary),\n"
       "each in its own worker process, and appends one CSV row per point as it finishes; at\n"
       "the end the CSV is rewritten sorted by point id, and the Pareto front and the best\n"
       "point per device go to OUT.pareto.csv and OUT.best.csv (OUT without .csv), one for\n"
       "each network (and batch, bit widths: any workload axis but the fractions).\n"
       "--shard runs every N-th point only, so that N machines can split a sweep; --merge\n"
       "joins their CSVs into --out; --resume skips points already in the output (refused\n"
       "when the sweep's definition changed since, as recorded in OUT.sweep.json). A second\n"
       "sweep on the same --out is refused while the first runs (OUT.lock). A point still\n"
       "running after --timeout seconds is killed and recorded with status timeout.\n"
       "Exit 1 when a point failed or timed out (its row says why) or a point is missing at\n"
       "the end; exit 2 when an output cannot be written (the message names the file and the\n"
       "reason). "
       "docs/sweeps.md describes the file and the columns.",
       "  msqsim sweep configs/sweeps/xc7z020_sp2_fraction.yaml --jobs 2 --shard 1/4 "
       "--out part1.csv\n"
       "  msqsim sweep configs/sweeps/xc7z020_sp2_fraction.yaml --merge part*.csv --out all.csv",
       [](po::options_description& d) {
         d.add_options()("jobs", po::value<int>()->value_name("N"),
                         "worker processes at once (default 0: one per core)")(
             "shard", po::value<std::string>()->value_name("I/N"),
             "run only the I-th of N disjoint slices: points with index % N == I - 1")(
             "out", po::value<std::string>()->value_name("FILE"),
             "CSV of results (default: NAME.csv in the working directory, NAME the sweep's "
             "name: key, else the sweep file's stem)")(
             "jsonl", po::value<std::string>()->value_name("FILE"),
             "also write each point's JSON report as one line")(
             "resume", po::bool_switch(),
             "keep the rows already in --out and run only the rest (the sweep's definition must "
             "be the one recorded in OUT.sweep.json)")(
             "timeout", po::value<double>()->value_name("SECONDS"),
             "kill a point still running after this long and record it as status timeout "
             "(default 600; 0: no limit)")(
             "merge", po::value<std::vector<std::string>>()->multitoken()->value_name("CSV..."),
             "merge shard CSVs of this sweep into --out (sorted by id, checked for missing and "
             "doubled points) and write its summary; nothing is simulated");
       },
       "sweep", 1,
       [](const po::variables_map& vm) {
         SweepOptions o;
         o.sweep = get<std::string>(vm, "sweep");
         o.jobs = jobs_of("sweep", vm);
         o.shard = get<std::string>(vm, "shard");
         if (!o.shard.empty()) check_shard(o.shard);
         o.out = get<std::string>(vm, "out");
         o.jsonl = get<std::string>(vm, "jsonl");
         o.resume = vm["resume"].as<bool>();
         o.timeout_s = get<double>(vm, "timeout", o.timeout_s);
         if (!(o.timeout_s >= 0) || o.timeout_s > 1e9) {
           std::ostringstream got;
           got << o.timeout_s;
           throw UsageError("sweep",
                            "--timeout expects seconds from 0 (no limit) to 1e9, got " + got.str());
         }
         o.merge = get<std::vector<std::string>>(vm, "merge");
         if (!o.merge.empty() && (o.resume || !o.shard.empty()))
           throw UsageError("sweep", "--merge runs nothing: it takes no --resume or --shard");
         return cmd_sweep(o);
       }});
  c.push_back(
      {"optimize",
       "optimize CONFIG.yaml [--set KEY=VALUE]... [--jobs N] [--objective O] [--max-share X]\n"
       "       [--budget N] [--out BEST.yaml] [--csv FILE] [--engines L] [--lut-shapes L]\n"
       "       [--dsp-shapes L] [--shapes ENGINE=L]... [--buffer-splits L] [--sp2-fractions L]\n"
       "       [--vector-lanes L]",
       "Searches the engine mix, every engine's array shape, the buffer split, the SP2\n"
       "fraction and (--vector-lanes) the vector engine's lanes for the design that fits\n"
       "CONFIG's device within --max-share of each resource and has the most frames/s (or,\n"
       "with --objective, the least energy per frame or energy x latency). Prints the search\n"
       "space and what the resource model prunes, then the best design and the runners-up\n"
       "(docs/optimize.md).",
       "  msqsim optimize configs/examples/pynq_z2_mobilenet.yaml --jobs 2 --out best.yaml\n"
       "  msqsim optimize configs/examples/pynq_z2_mobilenet.yaml --objective energy --max-share "
       "0.8",
       [](po::options_description& d) {
         add_set(d);
         d.add_options()("jobs", po::value<int>()->value_name("N"),
                         "worker processes at once (default 0: one per core)")(
             "objective", po::value<std::string>()->value_name("O"),
             "latency (default: most frames/s), energy (least J/frame, docs/energy.md) or edp "
             "(least J/frame x latency)")(
             "max-share", po::value<std::string>()->value_name("X"),
             "no resource (LUT, FF, DSP, BRAM36) above this share of the device (default 0.85)")(
             "budget", po::value<int>()->value_name("N"),
             "simulations at most (default 500); a space of at most N points is simulated whole")(
             "out", po::value<std::string>()->value_name("BEST.yaml"),
             "write the best design as a config")(
             "csv", po::value<std::string>()->value_name("FILE"),
             "CSV of every evaluated point (the sweep CSV columns)")(
             "engines", po::value<std::string>()->value_name("L"),
             "engine mixes to search, a kind per engine, e.g. "
             "lut_sp2+dsp48,lut_sp2_bitserial+dsp48_actpack (default: all four for a LUT and a "
             "DSP engine, else the config's kinds)")(
             "lut-shapes", po::value<std::string>()->value_name("L"),
             "LUT arrays to search, e.g. 16x16,8x32 (default: sides 4..256, aspect up to 4:1)")(
             "dsp-shapes", po::value<std::string>()->value_name("L"),
             "DSP arrays to search, e.g. 8x8,4x16 (default: sides 2..64, aspect up to 4:1)")(
             "shapes", po::value<std::vector<std::string>>()->value_name("ENGINE=L"),
             "one engine's arrays by its name, e.g. lut_small=8x8,8x16 (repeatable)")(
             "buffer-splits", po::value<std::string>()->value_name("L"),
             "weight/input/output BRAM36 splits, e.g. 32/64/32,64/32/32 (default: eighths of "
             "the BRAM36 the share leaves)")(
             "sp2-fractions", po::value<std::string>()->value_name("L"),
             "SP2 fractions, e.g. 0.25,0.5 (default: 0, 0.05, ..., 1)")(
             "vector-lanes", po::value<std::string>()->value_name("L"),
             "vector engine lane counts, e.g. 4,8,16 (default: the config's "
             "accelerator.vector.lanes only)");
       },
       "config", 1,
       [](const po::variables_map& vm) {
         OptimizeOptions o;
         o.config = get<std::string>(vm, "config");
         o.sets = sets_of(vm);
         o.jobs = jobs_of("optimize", vm);
         o.out = get<std::string>(vm, "out");
         o.csv = get<std::string>(vm, "csv");
         if (vm.count("objective")) o.objective = get<std::string>(vm, "objective");
         if (o.objective != "latency" && o.objective != "energy" && o.objective != "edp")
           throw UsageError("optimize",
                            "--objective expects latency, energy or edp, got " + o.objective);
         if (vm.count("max-share")) {
           const std::string t = get<std::string>(vm, "max-share");
           size_t n = 0;
           try {
             o.max_share = std::stod(t, &n);
           } catch (const std::exception&) {
             n = 0;
           }
           if (n == 0 || n != t.size() || !(o.max_share > 0 && o.max_share <= 1))
             throw UsageError("optimize",
                              "--max-share expects a share of each resource in (0, 1], e.g. "
                              "0.85, got '" +
                                  t + "'");
         }
         if (vm.count("budget")) o.budget = vm["budget"].as<int>();
         if (o.budget < 1)
           throw UsageError("optimize", "--budget expects a number of simulations >= 1, got " +
                                            std::to_string(o.budget));
         o.engines = get<std::string>(vm, "engines");
         o.lut_shapes = get<std::string>(vm, "lut-shapes");
         o.dsp_shapes = get<std::string>(vm, "dsp-shapes");
         o.buffer_splits = get<std::string>(vm, "buffer-splits");
         o.sp2_fractions = get<std::string>(vm, "sp2-fractions");
         o.vector_lanes = get<std::string>(vm, "vector-lanes");
         o.engine_shapes = get<std::vector<std::string>>(vm, "shapes");
         // An empty value was taken as "not given": the default axis, or no output file.
         for (const char* opt : {"out", "csv", "engines", "lut-shapes", "dsp-shapes",
                                 "buffer-splits", "sp2-fractions", "vector-lanes"})
           if (vm.count(opt) && get<std::string>(vm, opt).empty())
             throw UsageError("optimize", std::string("--") + opt + " expects a value (got '')");
         return cmd_optimize(o);
       }});
  c.push_back(
      {"regress", "regress TRACE_DIR... [--config CONFIG.yaml] [--update]",
       "Replays each trace directory (trace.yaml + .npy files) through the cycle model and\n"
       "compares every output with the expected one, and the cycles with expected_cycles when\n"
       "the trace has them. A trace without an accelerator config in its manifest uses\n"
       "--config, else configs/examples/default.yaml. --update rewrites expected_cycles.",
       "  msqsim regress tests/traces/* --config configs/accelerators/zc706_default.yaml",
       [](po::options_description& d) {
         d.add_options()("config", po::value<std::string>()->value_name("FILE"),
                         "accelerator config for traces whose manifest has none")(
             "update", po::bool_switch(), "record the measured cycles as the new expected ones");
       },
       "dirs", -1,
       [](const po::variables_map& vm) {
         RegressOptions o;
         o.dirs = get<std::vector<std::string>>(vm, "dirs");
         if (o.dirs.empty()) throw UsageError("regress", "missing TRACE_DIR");
         o.config = get<std::string>(vm, "config");
         o.update = vm["update"].as<bool>();
         return cmd_regress(o);
       }});
  c.push_back(
      {"trace record", "trace record CONFIG.yaml --out TRACE_DIR [--set KEY=VALUE]...",
       "Builds CONFIG's quantized workload, runs it, and writes a trace directory: the manifest\n"
       "(with the accelerator config and the measured cycles) and, per layer, the weights,\n"
       "schemes, bits, bias, requantization, input and expected output as .npy files.",
       "  msqsim trace record configs/examples/default.yaml --out /tmp/r18 "
       "--set 'workload.layers=[conv1]'",
       [](po::options_description& d) {
         d.add_options()("out", po::value<std::string>()->value_name("DIR"),
                         "trace directory to write (required)");
         add_set(d);
       },
       "config", 1,
       [](const po::variables_map& vm) {
         TraceRecordOptions o;
         o.config = get<std::string>(vm, "config");
         o.out = get<std::string>(vm, "out");
         if (o.out.empty()) throw UsageError("trace record", "missing --out TRACE_DIR");
         o.sets = sets_of(vm);
         return cmd_trace_record(o);
       }});
  c.push_back(
      {"validate",
       "validate CONFIG.yaml [--set KEY=VALUE]... [--no-verify] [--allow-overfull]"
       " [--fail-on-overflow]",
       "Makes every check 'msqsim run' makes before it simulates, with the same code: loads\n"
       "CONFIG with its device, DRAM preset and network (every key, type and range), builds\n"
       "the quantized layers, plans each on the buffers, estimates LUT/FF/DSP/BRAM against the\n"
       "device and bounds every row's sums against the accumulator. Prints a short summary and\n"
       "exits as 'run' would for the same options: 2 when a layer cannot run (the message\n"
       "names it and the buffer), 1 when the design does not fit the device (unless\n"
       "--allow-overfull). Nothing is simulated, so no overflow is counted: with\n"
       "--fail-on-overflow it exits 1 when any row could overflow the accumulator, as\n"
       "'run --no-verify --fail-on-overflow' does ('run' with values fails only on overflows\n"
       "that happen).",
       "  msqsim validate configs/examples/default.yaml --set device=xc7z020",
       [](po::options_description& d) {
         add_set(d);
         d.add_options()("no-verify", po::bool_switch(),
                         "check as for 'run --no-verify': no weights are built, the overflow "
                         "bound comes from the bit widths")(
             "allow-overfull", po::bool_switch(),
             "accept a design that exceeds the device (warned on stderr)")(
             "fail-on-overflow", po::bool_switch(),
             "exit 1 when any row's worst-case sum does not fit the accumulator");
       },
       "config", 1,
       [](const po::variables_map& vm) {
         ValidateOptions o;
         o.config = get<std::string>(vm, "config");
         o.sets = sets_of(vm);
         o.verify = !vm["no-verify"].as<bool>();
         o.allow_overfull = vm["allow-overfull"].as<bool>();
         o.fail_on_overflow = vm["fail-on-overflow"].as<bool>();
         return cmd_validate(o);
       }});
  return c;
}

std::string help_text(const Command& c, const po::options_description& visible) {
  std::ostringstream os;
  os << "Usage: msqsim " << c.usage << "\n\n" << c.summary << "\n\n" << visible << "\n";
  os << "Example:\n" << c.example << "\n\n" << kExitCodes;
  return os.str();
}

int run_command(const Command& c, const std::vector<std::string>& args) {
  po::options_description visible("Options");
  visible.add_options()("help,h", "show this help");
  c.options(visible);
  po::options_description all;
  all.add(visible);
  po::positional_options_description pos;
  if (!c.positional.empty()) {
    if (c.max_positional < 0)
      all.add_options()(c.positional.c_str(), po::value<std::vector<std::string>>());
    else
      all.add_options()(c.positional.c_str(), po::value<std::string>());
    pos.add(c.positional.c_str(), c.max_positional);
  }
  for (const auto& a : args)
    if (a == "--help" || a == "-h") {
      std::cout << help_text(c, visible);
      return 0;
    }
  po::variables_map vm;
  try {
    // No guessing of abbreviations: a misspelt option must be an error, not another option.
    const int style = po::command_line_style::unix_style ^ po::command_line_style::allow_guessing;
    po::store(po::command_line_parser(args).options(all).positional(pos).style(style).run(), vm);
    po::notify(vm);
  } catch (const po::too_many_positional_options_error&) {
    throw UsageError(c.name, "too many arguments: expected " + c.usage.substr(c.name.size() + 1));
  } catch (const po::invalid_option_value& e) {
    // boost says "the argument ('1e3') for option '--budget' is invalid" and not what was
    // expected: the option's type tells.
    const std::string name = e.get_option_name();
    const po::option_description* d = all.find_nothrow(name.substr(name.rfind('-') + 1), false);
    std::string want;
    if (d && dynamic_cast<const po::typed_value<int>*>(d->semantic().get()))
      want = "; expected a whole number (decimal digits, at most 2147483647)";
    else if (d && dynamic_cast<const po::typed_value<double>*>(d->semantic().get()))
      want = "; expected a number";
    throw UsageError(c.name, e.what() + want);
  } catch (const po::error& e) {
    throw UsageError(c.name, e.what());
  }
  // An option whose value was left out takes the next option as its value: `--json --no-verify`
  // wrote the report to a file named --no-verify and ran verified. No value starts with "--".
  for (const auto& [name, v] : vm) {
    std::vector<std::string> values;
    if (const auto* one = boost::any_cast<std::string>(&v.value()))
      values.push_back(*one);
    else if (const auto* many = boost::any_cast<std::vector<std::string>>(&v.value()))
      values = *many;
    for (const std::string& x : values)
      if (x.rfind("--", 0) == 0)
        throw UsageError(c.name, "--" + name + " expects a value, got the option '" + clip_text(x) +
                                     "' (give --" + name + " its value; a file named so: ./" +
                                     clip_text(x) + ")");
  }
  if (!c.positional.empty() && c.max_positional > 0 && !vm.count(c.positional))
    throw UsageError(c.name, "missing " + c.usage.substr(c.name.size() + 1,
                                                         c.usage.find(' ', c.name.size() + 1) -
                                                             c.name.size() - 1));
  return c.run(vm);
}

int dispatch(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::fprintf(stderr, "msqsim: missing COMMAND (see 'msqsim --help')\n");
    return 2;
  }
  const std::string first = args[0];
  if (first == "--help" || first == "-h" || first == "help") {
    std::cout << kTopHelp << kExitCodes;
    return 0;
  }
  if (first == "--version") {
    std::cout << "msqsim " << kVersion << "\n" << kernels::isa_summary() << "\n";
    return 0;
  }
  std::string name = first;
  size_t used = 1;
  if (first == "trace") {
    if (args.size() < 2) throw UsageError("trace", "missing subcommand, expected 'record'");
    if (args[1] == "--help" || args[1] == "-h") {
      args.assign({"trace", "record", "--help"});
    } else if (args[1] != "record") {
      throw UsageError("trace", "unknown subcommand '" + args[1] + "', expected 'record'");
    }
    name = "trace record";
    used = 2;
  }
  for (const auto& c : commands())
    if (c.name == name) return run_command(c, {args.begin() + used, args.end()});
  std::fprintf(stderr,
               "msqsim: unknown command '%s', expected run, sweep, optimize, regress, trace "
               "record or validate (see 'msqsim --help')\n",
               first.c_str());
  return 2;
}

}  // namespace

int cli_main(int argc, char** argv) {
  try {
    return dispatch(argc, argv);
  } catch (const InputError& e) {
    std::fprintf(stderr, "msqsim: %s\n", e.what());
    return 2;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "msqsim %s\n", e.what());
    return 2;
  } catch (const YAML::Exception& e) {
    // Input that reached yaml-cpp without being checked: still the user's file at fault.
    std::fprintf(stderr, "msqsim: %s\n", e.what());
    return 2;
  } catch (const std::filesystem::filesystem_error& e) {
    std::fprintf(stderr, "msqsim: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "msqsim: internal error: %s\n", e.what());
    return 1;
  } catch (...) {
    std::fprintf(stderr, "msqsim: internal error\n");
    return 1;
  }
}

}  // namespace msq
