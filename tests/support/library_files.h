// The scenario library's files, and a test name for each, for parameterized tests over it.
#pragma once

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string>
#include <vector>

namespace faultline::testing_support {

// Every .textproto file of `dir`, sorted.
inline std::vector<std::string> LibraryFiles(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".textproto") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// "scenarios/library/crash_during_alignment.textproto" -> "crash_during_alignment".
inline std::string LibraryTestName(const std::string& file) {
  std::string name = std::filesystem::path(file).stem().string();
  for (char& c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0) c = '_';
  }
  return name;
}

}  // namespace faultline::testing_support
