// RocksDB's file system over the runtime's local disk (runtime::LocalFs): every file RocksDB
// opens, writes, syncs, renames or deletes is a LocalFs call, so in a simulation the node's
// simulated disk (its faults, its crash losses, its capacity) is RocksDB's disk and nothing
// touches the real one.
//
// LocalFs has files and no directories: a directory exists here while it was created by this
// file system or holds a file ("a/b" lists under "a/"). Creating, renaming and deleting a file
// are durable when they return (LocalFs's contract), so a directory's Fsync has nothing to do.
// File locks are advisory and per instance (one DB per directory per process, as RocksDB's own
// LOCK file would give). Modification times are not kept (zero). RocksDB's info log goes
// nowhere: it carries wall-clock times and thread ids, which must not reach the simulated disk.
//
// Errors map to RocksDB's: NotFound to NotFound, ResourceExhausted (a full disk) to NoSpace,
// DataLoss to Corruption, anything else to IOError, each with the LocalFs message.
//
// Not thread-safe beyond what RocksDB itself serializes: the backend using it never lets RocksDB
// work in the background (rocksdb_state_backend.h).
#pragma once

#include <rocksdb/file_system.h>

#include <memory>
#include <set>
#include <string>

#include "engine/runtime/storage.h"

namespace faultline::engine {

class LocalFsFileSystem final : public rocksdb::FileSystem {
 public:
  // `fs` must outlive this and every file it opened, or until Detach.
  explicit LocalFsFileSystem(runtime::LocalFs* fs) : disk_(std::make_shared<Disk>(Disk{fs})) {}

  // From now on every call, of this file system and of the files it opened, fails (IOError)
  // without touching the disk: the process is going away (a crash must not write).
  void Detach() { disk_->fs = nullptr; }

  // The disk, shared with the files opened (null once detached).
  struct Disk {
    runtime::LocalFs* fs;
  };

  const char* Name() const override { return "faultline.LocalFs"; }

  rocksdb::IOStatus NewSequentialFile(const std::string& fname, const rocksdb::FileOptions& opts,
                                      std::unique_ptr<rocksdb::FSSequentialFile>* result,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewRandomAccessFile(const std::string& fname, const rocksdb::FileOptions& opts,
                                        std::unique_ptr<rocksdb::FSRandomAccessFile>* result,
                                        rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& opts,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& fname, const rocksdb::FileOptions& opts,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& io_opts,
                                 std::unique_ptr<rocksdb::FSDirectory>* result,
                                 rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus FileExists(const std::string& fname, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus GetChildren(const std::string& dir, const rocksdb::IOOptions& options,
                                std::vector<std::string>* result,
                                rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& fname, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus CreateDir(const std::string& dirname, const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus CreateDirIfMissing(const std::string& dirname,
                                       const rocksdb::IOOptions& options,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteDir(const std::string& dirname, const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus GetFileSize(const std::string& fname, const rocksdb::IOOptions& options,
                                uint64_t* file_size, rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus GetFileModificationTime(const std::string& fname,
                                            const rocksdb::IOOptions& options, uint64_t* file_mtime,
                                            rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& src, const std::string& target,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus LockFile(const std::string& fname, const rocksdb::IOOptions& options,
                             rocksdb::FileLock** lock, rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus UnlockFile(rocksdb::FileLock* lock, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus GetTestDirectory(const rocksdb::IOOptions& options, std::string* path,
                                     rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewLogger(const std::string& fname, const rocksdb::IOOptions& io_opts,
                              std::shared_ptr<rocksdb::Logger>* result,
                              rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus GetAbsolutePath(const std::string& db_path, const rocksdb::IOOptions& options,
                                    std::string* output_path,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus IsDirectory(const std::string& path, const rocksdb::IOOptions& options,
                                bool* is_dir, rocksdb::IODebugContext* dbg) override;

 private:
  class LockHandle;
  bool DirectoryExists(runtime::LocalFs* fs, const std::string& dir);

  std::shared_ptr<Disk> disk_;
  std::set<std::string, std::less<>> directories_;  // created here (no slash at the end)
  std::set<std::string, std::less<>> locked_;
};

// A faultline Status as RocksDB's IOStatus (the mapping above); OK stays OK.
rocksdb::IOStatus ToIOStatus(const Status& status);

}  // namespace faultline::engine
