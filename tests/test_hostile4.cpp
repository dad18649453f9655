// Bad input, fourth round: each case was accepted silently, crashed (a Python traceback), named no
// line, or wrote its output somewhere else than asked. Each is now exit 2 with one message naming
// the file, the line where there is one, the key or column and what was expected; an output
// given as a symlink is written through it, and a pipe stays a pipe.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "tests/support/bad_input_fixture.h"

using msq::testing::BadInputTest;
using msq::testing::Result;

namespace fs = std::filesystem;

namespace {

const std::string kDefault = MSQ_SOURCE_DIR "/configs/examples/default.yaml";
const std::string kOnnx = MSQ_SOURCE_DIR "/configs/models/digits_resnet.onnx";
const std::string kTool = "/usr/bin/python3 '" MSQ_SOURCE_DIR "/tools/msd_compare.py'";

class Hostile4 : public BadInputTest {
 protected:
  // Exit 2 and exactly `message` (one line) on stderr.
  void expect_message(const Result& r, const std::string& message, const std::string& what) {
    EXPECT_EQ(r.code, 2) << what << "\nstderr: " << r.err;
    EXPECT_EQ(r.err, message + "\n") << what;
  }
};

// `values: [0.5, 0.5]` ran the same point twice without a word; most likely the second value
// was meant to be another one. Refused at the repeat's line, also as another spelling (0.50).
TEST_F(Hostile4, SweepAxisWithARepeatedValueIsRefusedAtItsLine) {
  small_config();
  write("s.yaml",
        "base: c.yaml\n"
        "set: {verify: false}\n"
        "axes:\n"
        "  workload.sp2_fraction:\n"
        "    - 0.25\n"
        "    - 0.5\n"
        "    - 0.50\n");
  expect_message(run("sweep s.yaml --jobs 1 --out s.csv"),
                 "msqsim: s.yaml:7: axes.workload.sp2_fraction: value 0.50 is given twice (first "
                 "on line 6); expected each value of an axis once",
                 "repeated value");
  EXPECT_FALSE(fs::exists(path("s.csv")));
  write("t.yaml", "base: c.yaml\naxes:\n  workload.network: [resnet18, vgg16, resnet18]\n");
  expect_line_with(run("sweep t.yaml --jobs 1 --out t.csv"),
                   "msqsim: t.yaml:3: axes.workload.network: value resnet18 is given twice",
                   "repeated name");
  // Values that differ still sweep.
  write("u.yaml",
        "base: c.yaml\nset: {verify: false}\naxes:\n  workload.sp2_fraction: [0.25, 0.5]\n");
  const Result ok = run("sweep u.yaml --jobs 1 --out u.csv");
  EXPECT_EQ(ok.code, 0) << ok.err;
}

// An unknown layer, or a fraction that leaves no room for fixed8_fraction, named the config but
// no line (the check ran when the network was quantized, long after the file was read).
TEST_F(Hostile4, PerLayerFractionErrorsNameTheirLine) {
  const std::string head = "device: xc7z045\nworkload:\n  network: " + kOnnx + "\n";
  write("a.yaml", head + "  sp2_fraction_per_layer:\n    conv1: 0.5\n    conv2: 0.5\n");
  expect_line_with(run("validate a.yaml"),
                   "msqsim: a.yaml:6: workload.sp2_fraction_per_layer.conv2: expected a Conv or "
                   "Gemm layer of digits_resnet (got conv2); did you mean 'conv1'?",
                   "unknown layer");
  write("b.yaml", head +
                      "  fixed8_fraction: 0.3\n  sp2_fraction: 0.5\n"
                      "  sp2_fraction_per_layer: {fc: 0.9}\n");
  expect_message(run("validate b.yaml"),
                 "msqsim: b.yaml:6: workload.sp2_fraction_per_layer.fc: expected a fraction + "
                 "fixed8_fraction <= 1 (got 0.9 + 0.3)",
                 "fraction sum");
  // From --set, the message names the --set.
  write("c.yaml", head);
  expect_line_with(run("validate c.yaml --set 'workload.sp2_fraction_per_layer={nosuch: 0.5}'"),
                   "msqsim: --set workload.sp2_fraction_per_layer={nosuch: 0.5}: "
                   "workload.sp2_fraction_per_layer.nosuch: expected a Conv or Gemm layer",
                   "--set");
  // One entry by --set: "is a single value with no keys inside" (it is a mapping).
  expect_message(run("validate c.yaml --set workload.sp2_fraction_per_layer.conv1=0.5"),
                 "msqsim: --set workload.sp2_fraction_per_layer.conv1=0.5: "
                 "workload.sp2_fraction_per_layer.conv1: unknown key: "
                 "workload.sp2_fraction_per_layer is a mapping (mapping of layer name to number): "
                 "--set replaces it whole (--set 'workload.sp2_fraction_per_layer={NAME: VALUE, "
                 "...}'), its entries cannot be set one by one",
                 "--set one entry");
  // A value out of range and a wrong type had their line already; they keep it.
  write("d.yaml", head + "  sp2_fraction_per_layer:\n    conv1: 1.5\n");
  expect_message(run("validate d.yaml"),
                 "msqsim: d.yaml:5: workload.sp2_fraction_per_layer.conv1: expected a number in "
                 "0..1 (got 1.5)",
                 "range");
  write("e.yaml", head + "  sp2_fraction_per_layer: {fc: abc}\n");
  expect_line_with(run("validate e.yaml"), "msqsim: e.yaml:4: workload.sp2_fraction_per_layer.fc",
                   "type");
}

// `trace record --out LINK`: the trace goes to the directory the link names, as `run --json
// LINK` writes the file it names; the link stays a link. Onto a link to an existing trace it
// failed after the simulation ("cannot move the old trace aside: Is a directory") and left a
// stray LINK.tmp-old-* directory; onto a dangling link, "Not a directory", after the
// simulation too.
TEST_F(Hostile4, TraceRecordWritesThroughASymlink) {
  small_config();
  ASSERT_EQ(run("trace record c.yaml --out real").code, 0);
  fs::create_symlink("real", path("link"));
  const Result r = run("trace record c.yaml --out link");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::is_symlink(path("link")));
  EXPECT_TRUE(fs::exists(path("real/trace.yaml")));
  for (const auto& e : fs::directory_iterator(dir_))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
  EXPECT_EQ(run("regress link").code, 0);

  // A dangling link: the trace is made where it points.
  fs::create_symlink("made", path("dangling"));
  ASSERT_EQ(run("trace record c.yaml --out dangling/").code, 0);
  EXPECT_TRUE(fs::is_symlink(path("dangling")));
  EXPECT_TRUE(fs::exists(path("made/trace.yaml")));

  // A link into a missing directory: refused before the simulation, naming where it points.
  fs::create_symlink("nodir/x", path("nowhere"));
  const Result bad = run("trace record c.yaml --out nowhere");
  expect_message(bad, "msqsim: nodir/x: cannot write: No such file or directory", "nowhere");
  EXPECT_EQ(bad.out, "");
  // A link to a file that is no trace stays refused, by the name given.
  write("afile", "x");
  fs::create_symlink("afile", path("flink"));
  expect_message(run("trace record c.yaml --out flink"),
                 "msqsim: flink: exists and is not a trace directory (no trace.yaml); refusing "
                 "to overwrite it",
                 "link to a file");
}

// `--out .` in an empty directory failed after the simulation ("cannot move the old trace aside:
// Device or resource busy"); `DIR/.` is DIR.
TEST_F(Hostile4, TraceRecordOutDotIsRefusedUpFrontAndDirDotIsDir) {
  fs::create_directory(path("empty"));
  const std::string cfg = "'" + small_config() + "'";
  for (const char* out : {".", "./", ".."}) {
    const Result r = shell("cd empty && '" MSQSIM_EXE "' trace record " + cfg + " --out " + out);
    expect_message(r,
                   std::string("msqsim: ") + out +
                       ": expected a trace directory by its name (the working directory or its "
                       "parent cannot be replaced by a trace)",
                   out);
    EXPECT_EQ(r.out, "") << out << ": simulated before refusing";
  }
  fs::create_directory(path("e2"));
  const Result r = run("trace record c.yaml --out e2/.");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::exists(path("e2/trace.yaml")));
}

// Mapping files as a spreadsheet or another tool writes them.
TEST_F(Hostile4, MappingFilesFromSpreadsheetsAreRead) {
  const std::string head = "layer,tile_m,k_channels,tile_rows\n";
  const std::string cmd = "validate '" + kDefault + "'";
  // A byte order mark made the first column "\xEF\xBB\xBFlayer": "unknown column" for a header
  // that looked right. Quoted cells kept their quotes ("conv1" was no layer of the network).
  write("bom.csv", "\xEF\xBB\xBF" + head + "conv1,32,3,7\n");
  write("quoted.csv",
        "\"layer\",\"tile_m\",\"k_channels\",\"tile_rows\"\r\n\"conv1\",\"32\",\"3\",\"7\"\r\n");
  for (const char* f : {"bom.csv", "quoted.csv"}) {
    const Result r = run(cmd + given(path(f)));
    EXPECT_EQ(r.code, 0) << f << ": " << r.err;
  }
  write("open.csv", head + "\"conv1,32,3,7\n");
  expect_message(
      run(cmd + given(path("open.csv"))),
      "msqsim: " + path("open.csv") + ":2: a quoted cell is not closed (expected a closing \")",
      "unclosed quote");
  // A header and no rows: the search ran (mapping: search) with a line on stderr.
  write("hdr.csv", "# tiles\n" + head);
  expect_message(run(cmd + given(path("hdr.csv"))),
                 "msqsim: " + path("hdr.csv") +
                     ":2: no layer rows after the header; expected a row per layer to give (for "
                     "no given layer, use accelerator.scheduler.mapping: search)",
                 "header only");
}

// The mapping file is relative to the config's directory in the config and to the working
// directory in a --set, as every other file key (device, workload.network); a --set took it
// relative to the config, so that `--set ...mapping_file=my.csv` did not find ./my.csv. A file
// of the working directory named in the config: the message says which directory was meant.
TEST_F(Hostile4, MappingFilePathsAreTheConfigsInTheFileAndTheWorkingDirectorysInASet) {
  fs::create_directory(path("cfg"));
  write("cfg/g.yaml",
        "device: xc7z045\n"
        "accelerator:\n  scheduler: {mapping: given, mapping_file: m.csv}\n"
        "workload: {layers: [fc]}\n");
  write("m.csv", "layer,tile_m,k_channels,tile_rows\nfc,32,,1\n");
  expect_message(run("validate cfg/g.yaml"),
                 "msqsim: cfg/g.yaml:3: accelerator.scheduler.mapping_file: expected an existing "
                 "mapping file (got m.csv: no file cfg/m.csv, relative to the config's directory; "
                 "for the working directory's, give " +
                     fs::canonical(path("m.csv")).string() + ")",
                 "file of the working directory");
  const Result set = run("validate cfg/g.yaml --set accelerator.scheduler.mapping_file=m.csv");
  EXPECT_EQ(set.code, 0) << set.err;
  fs::create_directory(path("cfg/m.csv"));
  expect_line_with(run("validate cfg/g.yaml"), "(got m.csv: cfg/m.csv is a directory, relative",
                   "directory");
  fs::remove(path("cfg/m.csv"));
  // A pipe said "no file": it is there, but is read once per process (a sweep's points too).
  ASSERT_EQ(::mkfifo(path("cfg/m.csv").c_str(), 0644), 0);
  expect_line_with(run("validate cfg/g.yaml"),
                   "(got m.csv: cfg/m.csv is not a regular file, relative", "pipe");
  fs::remove(path("cfg/m.csv"));
  fs::copy_file(path("m.csv"), path("cfg/m.csv"));
  const Result ok = run("validate cfg/g.yaml");
  EXPECT_EQ(ok.code, 0) << ok.err;
  // A sweep's files are relative to the sweep file, the mapping file too (it was the base's).
  write("s.yaml",
        "base: cfg/g.yaml\nset: {verify: false, accelerator.scheduler.mapping_file: m.csv}\n");
  fs::remove(path("cfg/m.csv"));
  const Result sw = run("sweep s.yaml --jobs 1 --out s.csv");
  EXPECT_EQ(sw.code, 0) << sw.err;
}

// tools/msd_compare.py: a program that is not msqsim, a short or binary reference row, a report
// that is not msqsim's were Python tracebacks (exit 1); a bad option printed the usage too.
TEST_F(Hostile4, MsdCompareInputProblemsAreOneLineAndExitTwo) {
  write("noshebang", "echo hi\n");
  ::chmod(path("noshebang").c_str(), 0755);
  expect_message(shell(kTool + " --msqsim ./noshebang --point pynq-z2/resnet18"),
                 "msd_compare: ./noshebang: cannot run msqsim (Exec format error)", "exec");
  write("fake",
        "#!/bin/sh\nfor a; do case \"$p\" in --json) echo '[1]' > \"$a\";; esac; p=$a; done\n");
  ::chmod(path("fake").c_str(), 0755);
  expect_line_with(shell(kTool + " --msqsim ./fake --point pynq-z2/resnet18"),
                   "pynq-z2_resnet18.json: not a report of msqsim run (is ./fake msqsim?)",
                   "fake report");
  const std::string msq = " --msqsim '" MSQSIM_EXE "'";
  write("short.csv",
        "board,network,layer,cycles,bound,k_tile\npynq-z2,resnet18,Conv1,100,compute,64\n"
        "pynq-z2,resnet18,Conv2\n");
  expect_message(shell(kTool + msq + " --reference short.csv --point pynq-z2/resnet18"),
                 "msd_compare: short.csv: data row 3: expected 6 cells, as the header has",
                 "short row");
  write("badint.csv",
        "board,network,layer,cycles,bound,k_tile\npynq-z2,resnet18,Conv1,100,compute,x\n");
  expect_message(shell(kTool + msq + " --reference badint.csv --point pynq-z2/resnet18"),
                 "msd_compare: badint.csv: data row 2: k_tile: expected an integer (got 'x')",
                 "bad integer");
  write("binary.csv", "board,network,layer,cycles,bound\n\xff\xfe\n");
  expect_line_with(shell(kTool + msq + " --reference binary.csv"),
                   "msd_compare: binary.csv: cannot read MSD's per-layer reference", "binary");
  expect_message(shell(kTool + msq + " --point foo/vgg16 --extra"),
                 "msd_compare: --point foo/vgg16: unknown point; expected one of pynq-z2/resnet18, "
                 "pynq-z2/vgg16, pynq-z2/mobilenet_v2, ultra96/resnet18, zcu102/resnet18, "
                 "ultra96/vgg16, ultra96/resnet50, ultra96/mobilenet_v2, zcu102/vgg16, "
                 "zcu102/resnet50 (see msd_compare.py --help)",
                 "unknown board");
  // --as-run writes its mapping file into --keep-reports: a directory of that name was an
  // IsADirectoryError traceback.
  fs::create_directories(path("kr/pynq-z2_resnet18_as_run.csv"));
  expect_message(
      shell(kTool + msq + " --as-run --point pynq-z2/resnet18 --keep-reports kr"),
      "msd_compare: " + fs::canonical(path("kr")).string() +
          "/pynq-z2_resnet18_as_run.csv: cannot write the as-run mapping file (Is a directory)",
      "as-run onto a directory");
  expect_line_with(shell(kTool + " --no-such-option"),
                   "msd_compare: unrecognized arguments: --no-such-option", "unknown option");
}

// msd_compare --json onto a symlink replaced the link, and onto a pipe replaced the pipe by a
// regular file (onto /dev/null, as root, the device node itself). Now as msqsim's outputs.
TEST_F(Hostile4, MsdCompareJsonGoesThroughLinksAndIntoPipes) {
  const std::string tool = kTool + " --msqsim '" MSQSIM_EXE "' --point pynq-z2/resnet18";
  write("real.json", "{}");
  fs::create_symlink("real.json", path("link.json"));
  const Result r = shell(tool + " --json link.json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::is_symlink(path("link.json")));
  EXPECT_TRUE(read_json("real.json").contains("points"));

  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0644), 0);
  const Result p =
      shell("(sh -c 'timeout 20 cat fifo > got.json' > reader.log &) ; " + tool + " --json fifo");
  ASSERT_EQ(p.code, 0) << p.err;
  struct stat st {};
  ASSERT_EQ(::lstat(path("fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode)) << "the pipe was replaced";
  // The reader gets the whole JSON (the reader may still be finishing: wait for it).
  for (int i = 0; i < 50 && read(path("got.json")).find("\"targets\"") == std::string::npos; ++i)
    ::usleep(100000);
  EXPECT_NE(read(path("got.json")).find("\"targets\""), std::string::npos);
}

}  // namespace

namespace {

// tools/compare_mapping.py: a JSON file that is not a run report was a traceback (exit 1), and
// its other errors were exit 1 too.
TEST_F(Hostile4, CompareMappingBadReportsAreOneLineAndExitTwo) {
  const std::string tool = "/usr/bin/python3 '" MSQ_SOURCE_DIR "/tools/compare_mapping.py' ";
  write("list.json", "[1]\n");
  expect_message(shell(tool + "list.json list.json"),
                 "compare_mapping.py: list.json: expected a report of msqsim run --json (a "
                 "layers list and a total)",
                 "list");
  write("nomap.json", "{\"layers\": [{\"name\": \"a\"}], \"total\": {}}\n");
  expect_message(shell(tool + "nomap.json nomap.json"),
                 "compare_mapping.py: nomap.json, nomap.json: expected reports of msqsim run "
                 "--json with a mapping per layer (missing or wrong: 'mapping')",
                 "no mapping");
  expect_message(shell(tool + "nope.json nope.json"),
                 "compare_mapping.py: nope.json: No such file or directory", "missing");
  expect_message(shell(tool + "list.json"),
                 "compare_mapping.py: expected two reports: compare_mapping.py BEFORE.json "
                 "AFTER.json",
                 "one argument");
}

// A vector engine listed among the compute engines said only "expected one of lut_sp2, ...".
TEST_F(Hostile4, AVectorEngineInTheEngineListSaysWhereItGoes) {
  write("v.yaml",
        "device: xc7z045\naccelerator:\n  engines:\n    - {impl: lut_sp2}\n"
        "    - {impl: vector, lanes: 4}\n");
  expect_message(run("validate v.yaml"),
                 "msqsim: v.yaml:5: accelerator.engines[1].impl: expected one of lut_sp2, dsp48, "
                 "lut_sp2_bitserial, dsp48_actpack (got vector); the vector engine is not a "
                 "compute engine: give it as accelerator.vector (lanes, pipeline_depth)",
                 "vector engine");
}

// --timeline-layers 'conv1, fc' (a list as one writes it) said "' fc' matches no layer".
TEST_F(Hostile4, TimelineLayersTakeBlanksAroundNames) {
  write("c.yaml",
        "device: xc7z020\nclock_mhz: 100\naccelerator:\n  lut_core: {rows: 8, cols: 8}\n"
        "  dsp_core: {rows: 4, cols: 8}\nworkload: {layers: [conv1, fc]}\nverify: false\n");
  const Result r = run("run c.yaml --timeline t.json --timeline-layers ' conv1 , fc '");
  ASSERT_EQ(r.code, 0) << r.err;
  const Result one = run("run c.yaml --timeline u.json --timeline-layers fc");
  ASSERT_EQ(one.code, 0) << one.err;
  EXPECT_GT(read_json("t.json")["traceEvents"].size(), read_json("u.json")["traceEvents"].size());
  expect_line_with(run("run c.yaml --timeline t.json --timeline-layers 'conv1, '"),
                   "msqsim run: --timeline-layers expects comma-separated layer names or globs",
                   "empty name");
}

// A number option given something else said "the argument ('1e3') for option '--budget' is
// invalid" and not what it takes.
TEST_F(Hostile4, NumberOptionsSayWhatTheyTake) {
  small_config();
  expect_message(run("optimize c.yaml --budget 1e3"),
                 "msqsim optimize: the argument ('1e3') for option '--budget' is invalid; "
                 "expected a whole number (decimal digits, at most 2147483647) (see 'msqsim "
                 "optimize --help')",
                 "budget 1e3");
  expect_message(run("optimize c.yaml --budget 99999999999"),
                 "msqsim optimize: the argument ('99999999999') for option '--budget' is invalid; "
                 "expected a whole number (decimal digits, at most 2147483647) (see 'msqsim "
                 "optimize --help')",
                 "budget too large");
  write("s.yaml", "base: c.yaml\n");
  expect_message(run("sweep s.yaml --timeout 1e400"),
                 "msqsim sweep: the argument ('1e400') for option '--timeout' is invalid; "
                 "expected a number (see 'msqsim sweep --help')",
                 "timeout");
}

}  // namespace
