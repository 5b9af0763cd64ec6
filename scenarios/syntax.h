// Syntax diagnostics of scenario files: protobuf's text-format errors rewritten as "what was
// expected" at the offending token (file:line:column, 1-based), and where a field named by a
// semantic error was written.
#pragma once

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <optional>
#include <string>
#include <string_view>

#include "scenarios/validation.h"

namespace faultline::scenarios::internal {

// Keeps the first error protobuf's parser reports.
class FirstErrorCollector final : public ::google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, ::google::protobuf::io::ColumnNumber column,
                const std::string& message) override;
  void AddWarning(int, ::google::protobuf::io::ColumnNumber, const std::string&) override {}

  bool found() const { return found_; }
  int line() const { return line_; }
  int column() const { return column_; }
  const std::string& message() const { return message_; }

 private:
  bool found_ = false;
  int line_ = 0;
  int column_ = 0;
  std::string message_;
};

// "file:line:column" from protobuf's 0-based line and column.
std::string Location(std::string_view filename, int line, int column);

// A position as protobuf's tokenizer counts it: 0-based line and column, a tab advancing the
// column to the next multiple of 8.
struct Position {
  int line = 0;
  int column = 0;
};

// Rewrites protobuf's message as "what was expected", moving `at` to the offending token.
std::string ExplainSyntaxError(std::string_view text, std::string message, Position* at);

// Where the field at `path` was written, or its nearest enclosing field that was.
std::optional<::google::protobuf::TextFormat::ParseLocation> Locate(
    const ::google::protobuf::TextFormat::ParseInfoTree& root, const Path& path);

}  // namespace faultline::scenarios::internal
