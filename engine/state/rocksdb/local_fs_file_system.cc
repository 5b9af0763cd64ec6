#include "engine/state/rocksdb/local_fs_file_system.h"

#include <algorithm>
#include <cstring>
#include <span>
#include <utility>

namespace faultline::engine {
namespace {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

std::span<const uint8_t> BytesOf(const Slice& data) {
  return {reinterpret_cast<const uint8_t*>(data.data()), data.size()};
}

// The directory part of a path with no trailing slash ("a/b/c" -> "a/b"); empty at the top.
std::string Trimmed(const std::string& path) {
  std::string out = path;
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

using Disk = std::shared_ptr<LocalFsFileSystem::Disk>;

IOStatus Detached() {
  return IOStatus::IOError("the local disk is detached (process ending)");
}

// Reads [offset, offset + n) of `path` into `scratch`; `result` views what was read (short at
// the end of the file).
IOStatus ReadAt(const Disk& disk, const std::string& path, uint64_t offset, size_t n, Slice* result,
                char* scratch) {
  *result = Slice();
  if (disk->fs == nullptr) return Detached();
  Result<runtime::Bytes> read = disk->fs->Read(path, offset, n);
  if (!read.ok()) return ToIOStatus(read.status());
  const size_t got = std::min(read->size(), n);
  if (got > 0) std::memcpy(scratch, read->data(), got);
  *result = Slice(scratch, got);
  return IOStatus::OK();
}

class SequentialFile final : public rocksdb::FSSequentialFile {
 public:
  SequentialFile(Disk disk, std::string path) : disk_(std::move(disk)), path_(std::move(path)) {}
  IOStatus Read(size_t n, const IOOptions& /*options*/, Slice* result, char* scratch,
                IODebugContext* /*dbg*/) override {
    IOStatus s = ReadAt(disk_, path_, offset_, n, result, scratch);
    if (s.ok()) offset_ += result->size();
    return s;
  }
  IOStatus Skip(uint64_t n) override {
    offset_ += n;
    return IOStatus::OK();
  }

 private:
  Disk disk_;
  std::string path_;
  uint64_t offset_ = 0;
};

class RandomAccessFile final : public rocksdb::FSRandomAccessFile {
 public:
  RandomAccessFile(Disk disk, std::string path) : disk_(std::move(disk)), path_(std::move(path)) {}
  IOStatus Read(uint64_t offset, size_t n, const IOOptions& /*options*/, Slice* result,
                char* scratch, IODebugContext* /*dbg*/) const override {
    return ReadAt(disk_, path_, offset, n, result, scratch);
  }

 private:
  Disk disk_;
  std::string path_;
};

class WritableFile final : public rocksdb::FSWritableFile {
 public:
  WritableFile(Disk disk, std::string path, uint64_t size)
      : disk_(std::move(disk)), path_(std::move(path)), size_(size) {}
  IOStatus Append(const Slice& data, const IOOptions& /*options*/,
                  IODebugContext* /*dbg*/) override {
    if (disk_->fs == nullptr) return Detached();
    IOStatus s = ToIOStatus(disk_->fs->Append(path_, BytesOf(data)));
    if (s.ok()) size_ += data.size();
    return s;
  }
  IOStatus Close(const IOOptions& /*options*/, IODebugContext* /*dbg*/) override {
    return IOStatus::OK();
  }
  IOStatus Flush(const IOOptions& /*options*/, IODebugContext* /*dbg*/) override {
    return IOStatus::OK();  // nothing buffered here: each Append is a LocalFs call
  }
  IOStatus Sync(const IOOptions& /*options*/, IODebugContext* /*dbg*/) override {
    if (disk_->fs == nullptr) return Detached();
    return ToIOStatus(disk_->fs->Sync(path_));
  }
  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    return Sync(options, dbg);
  }
  uint64_t GetFileSize(const IOOptions& /*options*/, IODebugContext* /*dbg*/) override {
    return size_;
  }

 private:
  Disk disk_;
  std::string path_;
  uint64_t size_;
};

class Directory final : public rocksdb::FSDirectory {
 public:
  IOStatus Fsync(const IOOptions& /*options*/, IODebugContext* /*dbg*/) override {
    return IOStatus::OK();  // LocalFs: creating, renaming, deleting are durable on return
  }
};

// RocksDB's info log, dropped (see the header).
class NullLogger final : public rocksdb::Logger {
 public:
  NullLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::HEADER_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* /*format*/, va_list /*ap*/) override {}
};

}  // namespace

class LocalFsFileSystem::LockHandle final : public rocksdb::FileLock {
 public:
  explicit LockHandle(std::string locked) : path(std::move(locked)) {}
  std::string path;
};

IOStatus ToIOStatus(const Status& status) {
  if (status.ok()) return IOStatus::OK();
  const std::string message = status.ToString();
  switch (status.code()) {
    case StatusCode::kNotFound:
      return IOStatus::NotFound(message);
    case StatusCode::kResourceExhausted:
      return IOStatus::NoSpace(message);
    case StatusCode::kDataLoss:
      return IOStatus::Corruption(message);
    default:
      return IOStatus::IOError(message);
  }
}

IOStatus LocalFsFileSystem::NewSequentialFile(const std::string& fname,
                                              const rocksdb::FileOptions& /*opts*/,
                                              std::unique_ptr<rocksdb::FSSequentialFile>* result,
                                              IODebugContext* /*dbg*/) {
  runtime::LocalFs* fs = disk_->fs;
  if (fs == nullptr) return Detached();
  Result<uint64_t> size = fs->Size(fname);
  if (!size.ok()) return ToIOStatus(size.status());
  *result = std::make_unique<SequentialFile>(disk_, fname);
  return IOStatus::OK();
}

IOStatus LocalFsFileSystem::NewRandomAccessFile(
    const std::string& fname, const rocksdb::FileOptions& /*opts*/,
    std::unique_ptr<rocksdb::FSRandomAccessFile>* result, IODebugContext* /*dbg*/) {
  runtime::LocalFs* fs = disk_->fs;
  if (fs == nullptr) return Detached();
  Result<uint64_t> size = fs->Size(fname);
  if (!size.ok()) return ToIOStatus(size.status());
  *result = std::make_unique<RandomAccessFile>(disk_, fname);
  return IOStatus::OK();
}

IOStatus LocalFsFileSystem::NewWritableFile(const std::string& fname,
                                            const rocksdb::FileOptions& /*opts*/,
                                            std::unique_ptr<rocksdb::FSWritableFile>* result,
                                            IODebugContext* /*dbg*/) {
  runtime::LocalFs* fs = disk_->fs;
  if (fs == nullptr) return Detached();
  if (Status s = fs->Create(fname); !s.ok()) return ToIOStatus(s);
  *result = std::make_unique<WritableFile>(disk_, fname, 0);
  return IOStatus::OK();
}

IOStatus LocalFsFileSystem::ReopenWritableFile(const std::string& fname,
                                               const rocksdb::FileOptions& /*opts*/,
                                               std::unique_ptr<rocksdb::FSWritableFile>* result,
                                               IODebugContext* /*dbg*/) {
  runtime::LocalFs* fs = disk_->fs;
  if (fs == nullptr) return Detached();
  Result<uint64_t> size = fs->Size(fname);
  if (!size.ok() && size.status().code() != StatusCode::kNotFound) {
    return ToIOStatus(size.status());
  }
  if (!size.ok()) {
    if (Status s = fs->Create(fname); !s.ok()) return ToIOStatus(s);
  }
  *result = std::make_unique<WritableFile>(disk_, fname, size.ok() ? *size : 0);
  return IOStatus::OK();
}

IOStatus LocalFsFileSystem::NewDirectory(const std::string& /*name*/, const IOOptions& /*io_opts*/,
                                         std::unique_ptr<rocksdb::FSDirectory>* result,
                                         IODebugContext* /*dbg*/) {
  *result = std::make_unique<Directory>();
  return IOStatus::OK();
}

IOStatus LocalFsFileSystem::FileExists(const std::string& fname, const IOOptions& /*options*/,
                                       IODebugContext* /*dbg*/) {
  runtime::LocalFs* fs = disk_->fs;
  if (fs == nullptr) return Detached();
  if (DirectoryExists(fs, Trimmed(fname))) return IOStatus::OK();
  Result<uint64_t> size = fs->Size(fname);
  return size.ok() ? IOStatus::OK() : ToIOStatus(size.status());
}

bool LocalFsFileSystem::DirectoryExists(runtime::LocalFs* fs, const std::string& dir) {
  if (directories_.contains(dir)) return true;
  Result<std::vector<std::string>> inside = fs->List(dir + "/");
  return inside.ok() && !inside->empty();
}

IOStatus LocalFsFileSystem::GetChildren(const std::string& dir, const IOOptions& /*options*/,
                                        std::vector<std::string>* result, IODebugContext* /*dbg*/) {
  runtime::LocalFs* fs = disk_->fs;
  if (fs == nullptr) return Detached();
  result->clear();
  const std::string prefix = Trimmed(dir) + "/";
  Result<std::vector<std::string>> files = fs->List(prefix);
  if (!files.ok()) return ToIOStatus(files.status());
  std::set<std::string> children;
  for (const std::string& file : *files) {
    const std::string rest = file.substr(prefix.size());
    children.insert(rest.substr(0, rest.find('/')));
  }
  for (auto it = directories_.lower_bound(prefix);
       it != directories_.end() && it->starts_with(prefix); ++it) {
    const std::string rest = it->substr(prefix.size());
    children.insert(rest.substr(0, rest.find('/')));
  }
  if (children.empty() && !directories_.contains(Trimmed(dir))) {
    return IOStatus::NotFound("no directory " + dir);
  }
  result->assign(children.begin(), children.end());
  return IOStatus::OK();
}

IOStatus LocalFsFileSystem::DeleteFile(const std::string& fname, const IOOptions& /*options*/,
                                       IODebugContext* /*dbg*/) {
  runtime::LocalFs* fs = disk_->fs;
  if (fs == nullptr) return Detached();
  return ToIOStatus(fs->Delete(fname));
}

IOStatus LocalFsFileSystem::CreateDir(const std::string& dirname, const IOOptions& options,
                                      IODebugContext* dbg) {
  runtime::LocalFs* fs = disk_->fs;
  if (fs == nullptr) return Detached();
  if (DirectoryExists(fs, Trimmed(dirname))) {
    return IOStatus::IOError("directory " + dirname + " exists");
  }
  return CreateDirIfMissing(dirname, options, dbg);
}

IOStatus LocalFsFileSystem::CreateDirIfMissing(const std::string& dirname,
                                               const IOOptions& /*options*/,
                                               IODebugContext* /*dbg*/) {
  directories_.insert(Trimmed(dirname));
  return IOStatus::OK();
}

IOStatus LocalFsFileSystem::DeleteDir(const std::string& dirname, const IOOptions& /*options*/,
                                      IODebugContext* /*dbg*/) {
  runtime::LocalFs* fs = disk_->fs;
  if (fs == nullptr) return Detached();
  const std::string dir = Trimmed(dirname);
  Result<std::vector<std::string>> inside = fs->List(dir + "/");
  if (inside.ok() && !inside->empty()) return IOStatus::IOError("directory " + dir + " not empty");
  directories_.erase(dir);
  return IOStatus::OK();
}

IOStatus LocalFsFileSystem::GetFileSize(const std::string& fname, const IOOptions& /*options*/,
                                        uint64_t* file_size, IODebugContext* /*dbg*/) {
  runtime::LocalFs* fs = disk_->fs;
  if (fs == nullptr) return Detached();
  Result<uint64_t> size = fs->Size(fname);
  if (!size.ok()) return ToIOStatus(size.status());
  *file_size = *size;
  return IOStatus::OK();
}

IOStatus LocalFsFileSystem::GetFileModificationTime(const std::string& fname,
                                                    const IOOptions& /*options*/,
                                                    uint64_t* file_mtime, IODebugContext* /*dbg*/) {
  runtime::LocalFs* fs = disk_->fs;
  if (fs == nullptr) return Detached();
  Result<uint64_t> size = fs->Size(fname);
  if (!size.ok()) return ToIOStatus(size.status());
  *file_mtime = 0;
  return IOStatus::OK();
}

IOStatus LocalFsFileSystem::RenameFile(const std::string& src, const std::string& target,
                                       const IOOptions& /*options*/, IODebugContext* /*dbg*/) {
  runtime::LocalFs* fs = disk_->fs;
  if (fs == nullptr) return Detached();
  return ToIOStatus(fs->Rename(src, target));
}

IOStatus LocalFsFileSystem::LockFile(const std::string& fname, const IOOptions& /*options*/,
                                     rocksdb::FileLock** lock, IODebugContext* /*dbg*/) {
  runtime::LocalFs* fs = disk_->fs;
  if (fs == nullptr) return Detached();
  *lock = nullptr;
  if (!locked_.insert(fname).second) return IOStatus::IOError("lock " + fname + " is held");
  // RocksDB expects the LOCK file to exist.
  if (Result<uint64_t> size = fs->Size(fname); !size.ok()) {
    if (Status s = fs->Create(fname); !s.ok()) {
      locked_.erase(fname);
      return ToIOStatus(s);
    }
  }
  *lock = new LockHandle(fname);
  return IOStatus::OK();
}

IOStatus LocalFsFileSystem::UnlockFile(rocksdb::FileLock* lock, const IOOptions& /*options*/,
                                       IODebugContext* /*dbg*/) {
  auto* handle = static_cast<LockHandle*>(lock);
  locked_.erase(handle->path);
  delete handle;
  return IOStatus::OK();
}

IOStatus LocalFsFileSystem::GetTestDirectory(const IOOptions& /*options*/, std::string* path,
                                             IODebugContext* /*dbg*/) {
  *path = "/test";
  return IOStatus::OK();
}

IOStatus LocalFsFileSystem::NewLogger(const std::string& /*fname*/, const IOOptions& /*io_opts*/,
                                      std::shared_ptr<rocksdb::Logger>* result,
                                      IODebugContext* /*dbg*/) {
  *result = std::make_shared<NullLogger>();
  return IOStatus::OK();
}

IOStatus LocalFsFileSystem::GetAbsolutePath(const std::string& db_path,
                                            const IOOptions& /*options*/, std::string* output_path,
                                            IODebugContext* /*dbg*/) {
  *output_path = db_path.starts_with('/') ? db_path : "/" + db_path;
  return IOStatus::OK();
}

IOStatus LocalFsFileSystem::IsDirectory(const std::string& path, const IOOptions& /*options*/,
                                        bool* is_dir, IODebugContext* /*dbg*/) {
  runtime::LocalFs* fs = disk_->fs;
  if (fs == nullptr) return Detached();
  *is_dir = DirectoryExists(fs, Trimmed(path));
  return IOStatus::OK();
}

}  // namespace faultline::engine
