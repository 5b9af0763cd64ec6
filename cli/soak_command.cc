#include "cli/soak_command.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "scenarios/soak.h"

namespace faultline::cli {
namespace {

// The scenario files of a directory, sorted, or an error message.
std::vector<std::string> FilesOf(const std::string& dir, std::string* error) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".textproto") files.push_back(entry.path().string());
  }
  if (ec) *error = "cannot read " + dir + ": " + ec.message();
  if (!ec && files.empty()) *error = dir + " holds no .textproto scenario";
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

int SoakCommand(const SoakArgs& args) {
  scenarios::SoakOptions options;
  options.files = args.files;
  if (options.files.empty()) {
    std::string error;
    options.files = FilesOf(args.dir, &error);
    if (!error.empty()) {
      std::cerr << "faultline soak: " << error << "\n";
      return 2;
    }
  }
  options.first_seed = args.first_seed;
  options.seeds = args.seeds;
  options.jobs = args.jobs;
  options.isolate = args.isolate;
  if (args.progress || isatty(STDERR_FILENO) == 1) {
    options.progress = [](uint64_t done, uint64_t total, uint64_t failing) {
      if (done % 10 != 0 && done != total) return;
      std::fprintf(stderr, "\rsoak: %llu/%llu runs, %llu failing",
                   static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
                   static_cast<unsigned long long>(failing));
      if (done == total) std::fprintf(stderr, "\n");
      std::fflush(stderr);
    };
  }
  Result<scenarios::SoakReport> report = scenarios::RunSoak(options);
  if (!report.ok()) {
    std::cerr << "faultline soak: " << report.status().message() << "\n";
    return 2;
  }
  std::cout << scenarios::FormatSoakReport(*report, args.list);
  if (!args.report_json.empty()) {
    std::ofstream out(args.report_json, std::ios::binary | std::ios::trunc);
    out << scenarios::SoakReportJson(*report);
    out.close();
    if (!out) {
      std::cerr << "faultline soak: cannot write " << args.report_json << "\n";
      return 2;
    }
  }
  return report->clean() ? 0 : 1;
}

}  // namespace faultline::cli
