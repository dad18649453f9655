#include "sim/npy.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "models/error.h"

namespace msq {
namespace {

const char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw InputError(path, 0, "", what);
}

// Returns the normalized descr and item size, or "" when the dtype is not supported.
// Floats only where the caller asks for them (read_npy_float).
std::string normalize_descr(const std::string& d, size_t* size, bool floats = false) {
  if (d.size() != 3) return "";
  const char order = d[0], kind = d[1], width = d[2];
  if (floats && kind == 'f' && (width == '4' || width == '8') && order == '<') {
    *size = size_t(width - '0');
    return d;
  }
  if (kind != 'u' && kind != 'i') return "";
  if (width == '1') {
    if (order != '|' && order != '<' && order != '>') return "";
    *size = 1;
    return std::string("|") + kind + '1';
  }
  if (width != '2' && width != '4' && width != '8') return "";
  if (order != '<') return "";
  *size = size_t(width - '0');
  return d;
}

// The header is a Python dict literal: {'descr': '<i2', 'fortran_order': False, 'shape': (3, 4), }
// A small parser for exactly what numpy writes (either quote style, any spacing).
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& path) : s_(text), path_(path) {}

  void parse(std::string* descr, bool* fortran, std::vector<int64_t>* shape) {
    bool have_descr = false, have_fortran = false, have_shape = false;
    expect('{');
    for (;;) {
      skip_ws();
      if (peek() == '}') {
        ++i_;
        break;
      }
      const std::string key = string_lit();
      expect(':');
      if (key == "descr") {
        *descr = string_lit();
        have_descr = true;
      } else if (key == "fortran_order") {
        *fortran = bool_lit();
        have_fortran = true;
      } else if (key == "shape") {
        *shape = tuple_lit();
        have_shape = true;
      } else {
        bad("unknown key '" + clip_text(key) + "'");
      }
      skip_ws();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      expect('}');
      break;
    }
    skip_ws();
    if (i_ != s_.size()) bad("text after the closing brace");
    if (!have_descr || !have_fortran || !have_shape)
      bad("it needs the keys 'descr', 'fortran_order' and 'shape'");
  }

 private:
  [[noreturn]] void bad(const std::string& what) const {
    std::string shown = s_;
    while (!shown.empty() && (shown.back() == ' ' || shown.back() == '\n')) shown.pop_back();
    fail(path_, fmt::format("bad .npy header: {} (header: {})", what, clip_text(shown, 200)));
  }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t')) ++i_;
  }
  void expect(char c) {
    skip_ws();
    if (peek() != c) bad(fmt::format("expected '{}' at offset {}", c, i_));
    ++i_;
  }
  std::string string_lit() {
    skip_ws();
    const char q = peek();
    if (q != '\'' && q != '"') bad(fmt::format("expected a quoted string at offset {}", i_));
    const size_t end = s_.find(q, i_ + 1);
    if (end == std::string::npos) bad("unterminated string");
    std::string v = s_.substr(i_ + 1, end - i_ - 1);
    i_ = end + 1;
    return v;
  }
  bool bool_lit() {
    skip_ws();
    if (s_.compare(i_, 4, "True") == 0) {
      i_ += 4;
      return true;
    }
    if (s_.compare(i_, 5, "False") == 0) {
      i_ += 5;
      return false;
    }
    bad(fmt::format("expected True or False at offset {}", i_));
  }
  std::vector<int64_t> tuple_lit() {
    std::vector<int64_t> v;
    expect('(');
    for (;;) {
      skip_ws();
      if (peek() == ')') {
        ++i_;
        return v;
      }
      if (!(peek() >= '0' && peek() <= '9')) bad(fmt::format("expected a size at offset {}", i_));
      int64_t x = 0;
      while (peek() >= '0' && peek() <= '9') {
        if (x > (INT64_MAX - 9) / 10) bad("a size is too large");
        x = x * 10 + (s_[i_++] - '0');
      }
      v.push_back(x);
      skip_ws();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      expect(')');
      return v;
    }
  }

  const std::string& s_;
  const std::string& path_;
  size_t i_ = 0;
};

}  // namespace

int64_t NpyArray::count() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

size_t NpyArray::item_size() const {
  size_t size = 0;
  normalize_descr(descr, &size, true);
  return size;
}

namespace {
NpyArray read_npy_impl(const std::string& path, bool floats) {
  // A directory opens like a file and fails only on the first read, with a stream exception.
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec))
    fail(path, "expected a .npy file (got a directory or another non-regular file)");
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(path, fmt::format("cannot open ({})", std::strerror(errno)));
  std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) fail(path, "read error");

  if (bytes.size() < kMagicLen + 2 || std::memcmp(bytes.data(), kMagic, kMagicLen) != 0)
    fail(path, "not a NumPy .npy file (the file does not start with \"\\x93NUMPY\")");
  const int major = uint8_t(bytes[6]), minor = uint8_t(bytes[7]);
  if (major < 1 || major > 3 || minor != 0)
    fail(path, fmt::format(".npy format version {}.{} is not supported (expected 1.0, 2.0 or 3.0)",
                           major, minor));
  // 1.0 stores the header length in 2 bytes, 2.0 and 3.0 in 4 (3.0 allows UTF-8 in the header,
  // which the parser treats like any other byte).
  const size_t len_bytes = major == 1 ? 2 : 4;
  if (bytes.size() < 8 + len_bytes) fail(path, "truncated .npy header");
  size_t header_len = 0;
  for (size_t i = 0; i < len_bytes; ++i) header_len |= size_t(uint8_t(bytes[8 + i])) << (8 * i);
  const size_t data_start = 8 + len_bytes + header_len;
  if (bytes.size() < data_start)
    fail(path, fmt::format("truncated .npy header: it claims {} bytes, the file has {}", header_len,
                           bytes.size() - 8 - len_bytes));
  const std::string header(bytes.data() + 8 + len_bytes, header_len);

  NpyArray a;
  std::string descr;
  bool fortran = false;
  HeaderParser(header, path).parse(&descr, &fortran, &a.shape);
  size_t item = 0;
  a.descr = normalize_descr(descr, &item, floats);
  if (a.descr.empty()) {
    if (descr.size() >= 2 && descr[0] == '>')
      fail(path, fmt::format("dtype '{}' is big-endian; expected little-endian ('<{}')",
                             clip_text(descr), clip_text(descr.substr(1))));
    fail(path, fmt::format("dtype '{}' is not supported; expected {}", clip_text(descr),
                           floats ? "float32 or float64 (<f4, <f8)"
                                  : "an integer type: |u1 |i1 <u2 <i2 <u4 <i4 <u8 <i8"));
  }
  if (fortran)
    fail(path,
         "the array is in Fortran order (fortran_order: True); expected C order (save a "
         "C-contiguous array, e.g. numpy.ascontiguousarray)");
  std::string shape_text;
  for (size_t i = 0; i < a.shape.size(); ++i)
    shape_text += (i ? ", " : "") + std::to_string(a.shape[i]);
  // The byte count must be computed without overflow before it is compared with the file: a
  // shape whose count times the item size wraps would otherwise match a short file.
  const uint64_t limit = uint64_t(1) << 62;
  uint64_t count = 1;
  for (int64_t d : a.shape) {
    if (d != 0 && count > limit / uint64_t(d))
      fail(path, fmt::format("bad .npy header: shape [{}] has more than 2^62 values", shape_text));
    count *= uint64_t(d);
  }
  if (count > limit / item)
    fail(path, fmt::format("bad .npy header: shape [{}] of {} needs more than 2^62 bytes",
                           shape_text, a.descr));
  const uint64_t need = count * item, have = bytes.size() - data_start;
  if (have < need)
    fail(path, fmt::format("truncated data: shape [{}] of {} needs {} bytes, the file has {}",
                           shape_text, a.descr, need, have));
  if (have > need)
    fail(path, fmt::format("{} extra bytes after the data: shape [{}] of {} needs {} bytes, the "
                           "file has {}",
                           have - need, shape_text, a.descr, need, have));
  a.data.assign(bytes.begin() + std::ptrdiff_t(data_start), bytes.end());
  return a;
}

}  // namespace

NpyArray read_npy(const std::string& path) {
  return read_npy_impl(path, false);
}

std::vector<float> read_npy_float(const std::string& path, std::vector<int64_t>* shape) {
  const NpyArray a = read_npy_impl(path, true);
  if (a.descr[1] != 'f')
    fail(path, fmt::format("dtype '{}' is not supported; expected float32 or float64 (<f4, <f8)",
                           a.descr));
  const size_t n = a.data.size() / a.item_size();
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) {
    double x;
    if (a.descr[2] == '4') {
      float f;
      std::memcpy(&f, a.data.data() + i * 4, 4);
      x = f;
    } else {
      std::memcpy(&x, a.data.data() + i * 8, 8);
    }
    if (!std::isfinite(x)) fail(path, fmt::format("value at flat index {} is not finite", i));
    v[i] = float(x);
    // A float64 beyond float32's range would enter the network as infinity.
    if (!std::isfinite(v[i]))
      fail(path, fmt::format("value {:g} at flat index {} is beyond the float32 range", x, i));
  }
  *shape = a.shape;
  return v;
}

std::vector<int64_t> npy_to_int64(const NpyArray& a, const std::string& path) {
  const size_t item = a.item_size();
  if (item == 0 || a.descr[1] == 'f')
    fail(path, fmt::format("dtype '{}' is not supported", a.descr));
  const bool is_signed = a.descr[1] == 'i';
  const size_t n = a.data.size() / item;
  std::vector<int64_t> v(n);
  const auto* p = reinterpret_cast<const uint8_t*>(a.data.data());
  for (size_t i = 0; i < n; ++i) {
    uint64_t u = 0;
    for (size_t b = 0; b < item; ++b) u |= uint64_t(p[i * item + b]) << (8 * b);
    if (is_signed && item < 8 && (u >> (8 * item - 1)) & 1) u |= ~uint64_t(0) << (8 * item);
    if (!is_signed && item == 8 && u > uint64_t(INT64_MAX))
      fail(path, fmt::format("value {} at flat index {} does not fit int64", u, i));
    v[i] = int64_t(u);
  }
  return v;
}

void write_npy(const std::string& path, const std::string& descr, const std::vector<int64_t>& shape,
               const void* data, size_t bytes) {
  size_t item = 0;
  const std::string d = normalize_descr(descr, &item);
  if (d.empty()) throw std::invalid_argument("write_npy: unsupported dtype " + descr);
  uint64_t count = 1;
  for (int64_t s : shape) {
    if (s < 0) throw std::invalid_argument("write_npy: negative size");
    count *= uint64_t(s);
  }
  if (count * item != bytes)
    throw std::invalid_argument(
        fmt::format("write_npy: {} bytes for {} values of {}", bytes, count, d));

  std::string dict = "{'descr': '" + d + "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i) dict += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) dict += ",";
  dict += "), }";
  // numpy pads the header with spaces and a newline so that the data starts 64-byte aligned.
  int major = 1;
  size_t prefix = 10;
  if (dict.size() + 1 + prefix > 65535 + 10) {
    major = 2;
    prefix = 12;
  }
  const size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  const std::string header = dict + std::string(total - prefix - dict.size() - 1, ' ') + "\n";

  std::string head(kMagic, kMagicLen);
  head += char(major);
  head += char(0);
  for (size_t i = 0; i < prefix - 8; ++i) head += char((header.size() >> (8 * i)) & 0xff);
  head += header;

  std::string tmp = path + ".tmp-XXXXXX";
  const int fd = mkstemp(tmp.data());
  if (fd < 0) fail(path, fmt::format("cannot create a temporary file ({})", std::strerror(errno)));
  // mkstemp makes the file private; a trace is data to share, readable like any saved array.
  ::fchmod(fd, 0644);
  auto write_all = [&](const char* p, size_t n) {
    while (n > 0) {
      const ssize_t w = ::write(fd, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      p += w;
      n -= size_t(w);
    }
    return true;
  };
  const bool ok =
      write_all(head.data(), head.size()) && write_all(static_cast<const char*>(data), bytes);
  const int err = errno;
  if (::close(fd) != 0 || !ok) {
    std::remove(tmp.c_str());
    fail(path, fmt::format("write failed ({})", std::strerror(ok ? errno : err)));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    fail(path, fmt::format("cannot rename the temporary file into place ({})", std::strerror(e)));
  }
}

}  // namespace msq
