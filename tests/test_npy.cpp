#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "models/error.h"
#include "sim/npy.h"

namespace {

namespace fs = std::filesystem;

class Npy : public testing::Test {
 protected:
  void SetUp() override {
    std::string t = (fs::temp_directory_path() / "msq_npy_XXXXXX").string();
    ASSERT_NE(mkdtemp(t.data()), nullptr);
    dir_ = t;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (fs::path(dir_) / name).string(); }

  // A file laid out by hand: magic, version, header length, the header padded like numpy does.
  std::string write_raw(const std::string& name, int major, int minor, const std::string& dict,
                        const std::string& data, const char* magic = "\x93NUMPY") {
    const size_t len_bytes = major == 1 ? 2 : 4;
    std::string header = dict;
    while ((10 + len_bytes - 2 + header.size() + 1) % 64) header += ' ';
    header += '\n';
    std::string bytes(magic, 6);
    bytes += char(major);
    bytes += char(minor);
    for (size_t i = 0; i < len_bytes; ++i) bytes += char((header.size() >> (8 * i)) & 0xff);
    bytes += header + data;
    const std::string p = path(name);
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }

  // The message must name the file and contain `words`.
  void expect_error(const std::string& p, const std::string& words) {
    try {
      msq::read_npy(p);
      ADD_FAILURE() << "no error for " << p << ", expected: " << words;
    } catch (const msq::InputError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(p), std::string::npos) << msg;
      EXPECT_NE(msg.find(words), std::string::npos) << msg;
    }
  }

  std::string dir_;
};

template <class T>
void round_trip(const std::string& p, const std::string& descr) {
  const std::vector<T> v{
      std::numeric_limits<T>::min(), std::numeric_limits<T>::max(), T(0), T(1), T(7), T(100)};
  msq::write_npy(p, descr, {2, 3}, v.data(), v.size() * sizeof(T));
  const msq::NpyArray a = msq::read_npy(p);
  EXPECT_EQ(a.descr, descr);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  ASSERT_EQ(a.data.size(), v.size() * sizeof(T));
  EXPECT_EQ(std::memcmp(a.data.data(), v.data(), a.data.size()), 0);
  const std::vector<int64_t> got = msq::npy_to_int64(a, p);
  ASSERT_EQ(got.size(), v.size());
  for (size_t i = 0; i < v.size(); ++i) EXPECT_EQ(got[i], int64_t(v[i])) << descr << " " << i;
}

TEST_F(Npy, RoundTripEveryDtype) {
  round_trip<uint8_t>(path("u1.npy"), "|u1");
  round_trip<int8_t>(path("i1.npy"), "|i1");
  round_trip<uint16_t>(path("u2.npy"), "<u2");
  round_trip<int16_t>(path("i2.npy"), "<i2");
  round_trip<uint32_t>(path("u4.npy"), "<u4");
  round_trip<int32_t>(path("i4.npy"), "<i4");
  round_trip<int64_t>(path("i8.npy"), "<i8");
  // <u8 within int64 converts; above it is an error (npy_to_int64 returns int64).
  const std::vector<uint64_t> ok{0, uint64_t(INT64_MAX)};
  msq::write_npy(path("u8.npy"), "<u8", {2}, ok.data(), 16);
  EXPECT_EQ(msq::npy_to_int64(msq::read_npy(path("u8.npy")), "u8.npy"),
            (std::vector<int64_t>{0, INT64_MAX}));
  const std::vector<uint64_t> big{uint64_t(INT64_MAX) + 1};
  msq::write_npy(path("u8big.npy"), "<u8", {1}, big.data(), 8);
  EXPECT_THROW(msq::npy_to_int64(msq::read_npy(path("u8big.npy")), "u8big.npy"), msq::InputError);
}

TEST_F(Npy, ShapesAndHeaderVariants) {
  const int32_t one = -5;
  msq::write_npy(path("scalar.npy"), "<i4", {}, &one, 4);
  msq::NpyArray a = msq::read_npy(path("scalar.npy"));
  EXPECT_TRUE(a.shape.empty());
  EXPECT_EQ(msq::npy_to_int64(a, "")[0], -5);
  msq::write_npy(path("empty.npy"), "|u1", {0, 4}, nullptr, 0);
  EXPECT_EQ(msq::read_npy(path("empty.npy")).shape, (std::vector<int64_t>{0, 4}));
  // Written by another tool: double quotes, version 2.0, no trailing comma, '<u1'.
  const std::string p =
      write_raw("v2.npy", 2, 0, "{\"descr\": \"<u1\", \"fortran_order\": False, \"shape\": (3,)}",
                std::string("\x01\x02\xff", 3));
  a = msq::read_npy(p);
  EXPECT_EQ(a.descr, "|u1");
  EXPECT_EQ(msq::npy_to_int64(a, p), (std::vector<int64_t>{1, 2, 255}));
  // Every file we write starts its data 64-byte aligned, as numpy's do.
  EXPECT_EQ(fs::file_size(path("scalar.npy")) % 64, 4u);
  EXPECT_THROW(msq::write_npy(path("x.npy"), "<f4", {1}, &one, 4), std::invalid_argument);
  EXPECT_THROW(msq::write_npy(path("x.npy"), "<i4", {2}, &one, 4), std::invalid_argument);
}

TEST_F(Npy, BadFilesAreInputErrorsNamingTheFile) {
  const std::string ok_dict = "{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }";
  const std::string four_bytes("\x01\x00\x02\x00", 4);
  expect_error(path("missing.npy"), "cannot open");
  expect_error(write_raw("magic.npy", 1, 0, ok_dict, four_bytes, "\x93NUMPX"), "not a NumPy");
  expect_error(write_raw("version.npy", 4, 0, ok_dict, four_bytes), "version 4.0 is not supported");
  expect_error(write_raw("nokey.npy", 1, 0, "{'descr': '<i2', 'shape': (2,), }", four_bytes),
               "bad .npy header");
  expect_error(write_raw("garbage.npy", 1, 0, "{'descr': '<i2', 'fortran_order': Maybe}", ""),
               "bad .npy header");
  expect_error(write_raw("shape.npy", 1, 0, "{'descr': '<i2', 'fortran_order': False, 'shape': 2}",
                         four_bytes),
               "bad .npy header");
  expect_error(write_raw("big.npy", 1, 0,
                         "{'descr': '>i2', 'fortran_order': False, 'shape': (2,), }", four_bytes),
               "big-endian");
  expect_error(write_raw("fortran.npy", 1, 0,
                         "{'descr': '<i2', 'fortran_order': True, 'shape': (2,), }", four_bytes),
               "Fortran order");
  expect_error(write_raw("float.npy", 1, 0,
                         "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", four_bytes),
               "dtype '<f4' is not supported");
  expect_error(write_raw("short.npy", 1, 0, ok_dict, four_bytes.substr(0, 3)), "truncated data");
  expect_error(write_raw("long.npy", 1, 0, ok_dict, four_bytes + "x"), "1 extra bytes");
  // A header length that runs past the end of the file.
  std::ofstream(path("hdr.npy"), std::ios::binary) << std::string("\x93NUMPY\x01\x00\xff\x00{", 11);
  expect_error(path("hdr.npy"), "truncated .npy header");
}

// A count that fits but whose byte size wraps to 0 matched an empty data section.
TEST_F(Npy, ShapeWhoseByteSizeWrapsIsRefused) {
  expect_error(
      write_raw("wrap.npy", 1, 0,
                "{'descr': '<i8', 'fortran_order': False, 'shape': (2305843009213693952,), }", ""),
      "shape [2305843009213693952] of <i8 needs more than 2^62 bytes");
  expect_error(write_raw("wrap2.npy", 1, 0,
                         "{'descr': '<i4', 'fortran_order': False, 'shape': (4294967296, "
                         "4294967296), }",
                         ""),
               "has more than 2^62 values");
}

TEST_F(Npy, DirectoryIsAnInputError) {
  fs::create_directory(path("d.npy"));
  expect_error(path("d.npy"), "expected a .npy file (got a directory");
}

// numpy itself must read what write_npy writes (the other direction is covered by
// tools/make_test_trace.py in test_trace.cpp).
TEST_F(Npy, NumpyReadsOurFiles) {
  const std::vector<int16_t> v{-3, 0, 7, 32767, -32768, 1};
  msq::write_npy(path("a.npy"), "<i2", {2, 3}, v.data(), v.size() * 2);
  const std::string cmd = "/usr/bin/python3 -c \"import numpy; a = numpy.load('" + path("a.npy") +
                          "'); print(a.dtype.str, a.shape, a.tolist())\" 2>&1";
  FILE* f = popen(cmd.c_str(), "r");
  ASSERT_NE(f, nullptr);
  char buf[512] = {};
  const size_t n = fread(buf, 1, sizeof buf - 1, f);
  const int rc = pclose(f);
  const std::string out(buf, n);
  ASSERT_EQ(rc, 0) << "/usr/bin/python3 with numpy is required (tools/setup.sh installs "
                      "python3-numpy): "
                   << out;
  EXPECT_EQ(out, "<i2 (2, 3) [[-3, 0, 7], [32767, -32768, 1]]\n");
}

}  // namespace
