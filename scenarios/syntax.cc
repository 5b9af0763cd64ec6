#include "scenarios/syntax.h"

#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <utility>
#include <vector>

#include "base/text.h"

namespace faultline::scenarios::internal {

namespace pb = ::google::protobuf;

void FirstErrorCollector::AddError(int line, pb::io::ColumnNumber column,
                                   const std::string& message) {
  if (found_) return;
  found_ = true;
  line_ = line;
  column_ = column;
  message_ = message;
}

std::string Location(std::string_view filename, int line, int column) {
  return std::string(filename) + ":" + std::to_string(line + 1) + ":" + std::to_string(column + 1);
}

namespace {

constexpr size_t npos_ = std::string::npos;

// ---- syntax errors --------------------------------------------------------------------------

// The position after `c`, as the tokenizer counts (a tab to the next multiple of 8).
void Advance(char c, Position* p) {
  if (c == '\n') {
    ++p->line;
    p->column = 0;
  } else if (c == '\t') {
    p->column += 8 - p->column % 8;
  } else {
    ++p->column;
  }
}

Position PositionOf(std::string_view text, size_t offset) {
  Position p;
  for (size_t i = 0; i < offset && i < text.size(); ++i) Advance(text[i], &p);
  return p;
}

size_t OffsetOf(std::string_view text, Position at) {
  Position p;
  size_t i = 0;
  for (; i < text.size(); ++i) {
    if (p.line > at.line || (p.line == at.line && p.column >= at.column)) break;
    if (text[i] == '\n' && p.line == at.line) break;
    Advance(text[i], &p);
  }
  return i;
}

std::string OneBased(Position p) {
  return std::to_string(p.line + 1) + ":" + std::to_string(p.column + 1);
}

// The text between the first pair of double quotes after `after` in a protobuf message.
std::optional<std::string> QuotedAfter(const std::string& message, std::string_view after) {
  const size_t at = message.find(after);
  if (at == std::string::npos) return std::nullopt;
  const size_t open = message.find('"', at + after.size());
  if (open == std::string::npos) return std::nullopt;
  const size_t close = message.find('"', open + 1);
  if (close == std::string::npos) return std::nullopt;
  return message.substr(open + 1, close - open - 1);
}

// Protobuf reports an unknown field or enum value at the token after it: move back to it.
void MoveBackTo(std::string_view text, std::string_view token, Position* at) {
  if (token.empty()) return;
  const size_t offset = OffsetOf(text, *at);
  const size_t found = text.substr(0, std::min(text.size(), offset + token.size())).rfind(token);
  if (found != std::string_view::npos) *at = PositionOf(text, found);
}

// The innermost block still open at the end of the text: where its brace is, and its name.
std::optional<std::pair<Position, std::string>> UnclosedBlock(std::string_view text) {
  std::vector<size_t> open;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == '"' || c == '\'') {
      for (++i; i < text.size() && text[i] != c && text[i] != '\n'; ++i) {
        if (text[i] == '\\') ++i;
      }
    } else if (c == '{' || c == '<') {
      open.push_back(i);
    } else if ((c == '}' || c == '>') && !open.empty()) {
      open.pop_back();
    }
  }
  if (open.empty()) return std::nullopt;
  const size_t brace = open.back();
  size_t end = brace;
  while (end > 0 && (text[end - 1] == ' ' || text[end - 1] == '\t' || text[end - 1] == ':')) --end;
  size_t begin = end;
  while (begin > 0 && (std::isalnum(static_cast<unsigned char>(text[begin - 1])) != 0 ||
                       text[begin - 1] == '_')) {
    --begin;
  }
  std::string name(text.substr(begin, end - begin));
  return std::make_pair(PositionOf(text, begin == end ? brace : begin), std::move(name));
}

// The descriptor of a message of the schema by its full name.
const pb::Descriptor* SchemaMessage(const std::string& full_name) {
  return proto::Scenario::descriptor()->file()->pool()->FindMessageTypeByName(full_name);
}

}  // namespace

// Rewrites protobuf's message as "what was expected", at the position of the offending token.
std::string ExplainSyntaxError(std::string_view text, std::string message, Position* at) {
  if (auto value = QuotedAfter(message, "Unknown enumeration value of")) {
    MoveBackTo(text, *value, at);
    const std::optional<std::string> field = QuotedAfter(message, "for field");
    std::string expected;
    // The values of the enum fields of that name (every enum field of the schema is unique).
    std::vector<const pb::Descriptor*> todo = {proto::Scenario::descriptor()};
    std::set<const pb::Descriptor*> seen;
    while (!todo.empty() && field && expected.empty()) {
      const pb::Descriptor* d = todo.back();
      todo.pop_back();
      if (!seen.insert(d).second) continue;
      for (int i = 0; i < d->field_count(); ++i) {
        const pb::FieldDescriptor* f = d->field(i);
        if (f->message_type() != nullptr) todo.push_back(f->message_type());
        if (f->enum_type() != nullptr && f->name() == *field && expected.empty()) {
          for (int v = 0; v < f->enum_type()->value_count(); ++v) {
            if (!expected.empty()) expected += ", ";
            expected += f->enum_type()->value(v)->name();
          }
        }
      }
    }
    return "expected a value of " + field.value_or("the field") + " (" + expected + "), got " +
           Quote(*value);
  }
  if (message.rfind("Message type", 0) == 0 && message.find("has no field named") != npos_) {
    const std::optional<std::string> type = QuotedAfter(message, "Message type");
    const std::optional<std::string> field = QuotedAfter(message, "has no field named");
    if (type && field) {
      MoveBackTo(text, *field, at);
      const pb::Descriptor* d = SchemaMessage(*type);
      std::string known;
      for (int i = 0; d != nullptr && i < d->field_count(); ++i) {
        if (!known.empty()) known += ", ";
        known += d->field(i)->name();
      }
      const std::string short_name = d != nullptr ? d->name() : *type;
      return "unknown field " + Quote(*field) + " in " + short_name +
             " (expected one of: " + known + ")";
    }
  }
  if (message == "String literals cannot cross line boundaries.") {
    // Point at the quote that opened the string: the last one left open on that line.
    const size_t line_start = OffsetOf(text, Position{at->line, 0});
    std::optional<size_t> opened;
    for (size_t i = line_start; i < text.size() && text[i] != '\n'; ++i) {
      if (opened) {
        if (text[i] == '\\') {
          ++i;
        } else if (text[i] == text[*opened]) {
          opened.reset();
        }
      } else if (text[i] == '"' || text[i] == '\'') {
        opened = i;
      } else if (text[i] == '#') {
        break;
      }
    }
    if (opened) *at = PositionOf(text, *opened);
    return "unterminated string: expected its closing quote on the same line";
  }
  const bool at_end = OffsetOf(text, *at) >= text.size() ||
                      text.substr(OffsetOf(text, *at)).find_first_not_of(" \t\r\n") == npos_;
  if (at_end) {
    if (auto block = UnclosedBlock(text)) {
      const std::string opened =
          block->second.empty() ? "the block" : "\"" + block->second + " {\"";
      return "expected \"}\" to close " + opened + " opened at " + OneBased(block->first) +
             ", found the end of the file";
    }
  }
  if (auto field = QuotedAfter(message, "Non-repeated field");
      field && message.find("is specified multiple times") != npos_) {
    MoveBackTo(text, *field, at);
    return "field " + Quote(*field) + " is given twice (it takes one value)";
  }
  if (message.rfind("Expected \":\", found ", 0) == 0) {
    std::string found = message.substr(20);
    if (!found.empty() && found.back() == '.') found.pop_back();
    if (found.size() >= 2 && found.front() == '"' && found.back() == '"') {
      found = found.substr(1, found.size() - 2);
    }
    return "expected \":\" after the field name (or \"{\" to open a message), found " + found;
  }
  if (message == "Expected integer, got: -") {
    return "expected a non-negative integer, got a negative number";
  }
  return message;
}

// Where the field at `path` was written, or its nearest enclosing field that was.
std::optional<pb::TextFormat::ParseLocation> Locate(const pb::TextFormat::ParseInfoTree& root,
                                                    const Path& path) {
  std::optional<pb::TextFormat::ParseLocation> best;
  const pb::Descriptor* desc = proto::Scenario::descriptor();
  const pb::TextFormat::ParseInfoTree* tree = &root;
  for (size_t i = 0; i < path.size() && desc != nullptr && tree != nullptr; ++i) {
    const pb::FieldDescriptor* field = desc->FindFieldByName(path[i].field);
    if (field == nullptr) break;
    const int index = path[i].index;
    if (field->is_repeated() != (index >= 0)) break;  // protobuf logs misuse: avoid it
    pb::TextFormat::ParseLocation loc = tree->GetLocation(field, index);
    // A list of scalars ("checkers: [a, b]") is recorded once, at the list: the nearest
    // recorded element before the one named.
    for (int j = index - 1; loc.line < 0 && j >= 0 && field->message_type() == nullptr; --j) {
      loc = tree->GetLocation(field, j);
    }
    if (loc.line < 0) break;
    best = loc;
    if (field->message_type() == nullptr) break;
    tree = tree->GetTreeForNested(field, index);
    desc = field->message_type();
  }
  return best;
}

}  // namespace faultline::scenarios::internal
