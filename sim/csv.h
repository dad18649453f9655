// CSV as RFC 4180 writes it: fields separated by commas, rows ended by a newline, and a field
// quoted (its quotes doubled) exactly when it holds a comma, a quote, a CR or an LF, so that any
// layer name or message survives a round trip through a spreadsheet or a CSV reader.
#pragma once

#include <string>
#include <vector>

namespace msq {

// One field, quoted when it needs to be.
std::string csv_field(const std::string& s);

// One row: the fields joined by commas, with the terminating newline.
std::string csv_row(const std::vector<std::string>& fields);

}  // namespace msq
