// NumPy .npy files (format versions 1.0, 2.0 and 3.0; little-endian, C order), the array format of
// trace directories (docs/traces.md), so that a trace can be written with numpy alone.
//
// Supported dtypes (integers only, the trace holds nothing else): |u1 |i1 <u2 <i2 <u4 <i4 <u8 <i8.
// One-byte types are also accepted with '<' or '>' (byte order means nothing for them). Big-endian
// ('>i2'), Fortran order, floats, booleans and anything else are rejected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace msq {

struct NpyArray {
  std::string descr;           // normalized: "|u1", "|i1", "<u2", "<i2", "<u4", "<i4", "<u8", "<i8"
  std::vector<int64_t> shape;  // C order
  std::vector<char> data;      // raw little-endian values

  int64_t count() const;     // product of shape (1 for a 0-d array)
  size_t item_size() const;  // bytes per value
};

// Throws InputError naming the file: missing or unreadable, bad magic, unsupported version, bad
// header, big-endian, Fortran order, unsupported dtype, fewer or more data bytes than the shape.
NpyArray read_npy(const std::string& path);

// A float32 or float64 array (calibration and evaluation images) as floats, its shape in *shape.
// Integer dtypes, non-finite values and every read_npy problem throw InputError naming the file.
std::vector<float> read_npy_float(const std::string& path, std::vector<int64_t>* shape);

// Every value as int64, any supported dtype; a <u8 value above INT64_MAX is an InputError naming
// path (the file the array came from, for the message).
std::vector<int64_t> npy_to_int64(const NpyArray& a, const std::string& path);

// Writes a version 1.0 file (2.0 if the header needs it) to a temporary file next to path, then
// renames it over path, so that a reader never sees half a file. descr is one of the supported
// dtypes; bytes must equal the shape's count times the item size (else std::invalid_argument).
// I/O failures throw InputError naming the file.
void write_npy(const std::string& path, const std::string& descr, const std::vector<int64_t>& shape,
               const void* data, size_t bytes);

}  // namespace msq
