// NumPy reader (sim/npy.h). Properties: the data holds exactly the shape's values; an array that
// reads, written back with write_npy and read again, has the same dtype, shape and bytes.
#include "sim/npy.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace msq;
  const std::string path = fuzz::put("a.npy", fuzz::text(data, size));
  fuzz::expect_user_errors([&] {
    const NpyArray a = read_npy(path);
    // The documented contract: the data holds exactly the shape's count of values.
    if (a.data.size() % a.item_size() != 0 || a.data.size() / a.item_size() != uint64_t(a.count()))
      fuzz::property_failed("read_npy accepted " + std::to_string(a.data.size()) +
                            " data bytes for a shape of " + std::to_string(a.count()) +
                            " values of " + a.descr);
    npy_to_int64(a, path);
    const std::string copy = fuzz::scratch() + "/in/copy.npy";
    write_npy(copy, a.descr, a.shape, a.data.data(), a.data.size());
    const NpyArray b = read_npy(copy);
    if (b.descr != a.descr || b.shape != a.shape || b.data != a.data)
      fuzz::property_failed("write_npy does not reproduce the array read from the input");
  });
  return 0;
}
