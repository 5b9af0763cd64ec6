// Storage the engine sees: the node's local file system (where RocksDB lives), the shared blob
// store (checkpoint storage, like S3 or HDFS) and the HA store (durable coordinator metadata,
// like ZooKeeper). Operating errors are Status values; nothing here throws.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/inline_function.h"
#include "base/status.h"

namespace faultline::runtime {

using Bytes = std::vector<uint8_t>;

template <typename T>
using Callback = InlineFunction<void(T), 64>;

// A process's local disk. Synchronous, like POSIX. Appended or written bytes are durable only
// after Sync(path); a crash of the process drops every unsynced byte. Create, Rename and Delete
// are durable when they return. The whole disk can be lost with its machine.
class LocalFs {
 public:
  virtual ~LocalFs() = default;
  // Creates an empty file, truncating one that exists.
  virtual Status Create(std::string_view path) = 0;
  virtual Status Append(std::string_view path, std::span<const uint8_t> data) = 0;
  // Writes at `offset` (<= size), extending the file as needed.
  virtual Status Write(std::string_view path, uint64_t offset, std::span<const uint8_t> data) = 0;
  virtual Status Sync(std::string_view path) = 0;
  // Reads up to `length` bytes from `offset`; short at end of file.
  virtual Result<Bytes> Read(std::string_view path, uint64_t offset, uint64_t length) = 0;
  virtual Result<uint64_t> Size(std::string_view path) = 0;
  virtual Status Rename(std::string_view from, std::string_view to) = 0;
  virtual Status Delete(std::string_view path) = 0;
  // Paths starting with `prefix`, sorted.
  virtual Result<std::vector<std::string>> List(std::string_view prefix) = 0;
};

// Checkpoint storage. Asynchronous: each call completes later, on the calling process (never
// if it crashed first). A Put appears whole or not at all; Get returns exactly what was put.
class BlobStore {
 public:
  virtual ~BlobStore() = default;
  virtual void Put(std::string name, Bytes data, Callback<Status> done) = 0;
  virtual void Get(std::string name, Callback<Result<Bytes>> done) = 0;
  virtual void Delete(std::string name, Callback<Status> done) = 0;
  // Names starting with `prefix`, sorted.
  virtual void List(std::string prefix, Callback<Result<std::vector<std::string>>> done) = 0;
};

// A small linearizable key-value store with versions and compare-and-set, for the coordinator's
// durable pointers (checkpoint id counter, latest completed checkpoint).
struct VersionedValue {
  uint64_t version = 0;  // 0: the key does not exist
  Bytes value;
};

class HaStore {
 public:
  virtual ~HaStore() = default;
  virtual void Read(std::string key, Callback<Result<VersionedValue>> done) = 0;
  // Writes `value` if the key's version is `expected_version` (0: the key must not exist).
  // Completes with the new version, or Aborted when the version did not match.
  virtual void CompareAndSet(std::string key, uint64_t expected_version, Bytes value,
                             Callback<Result<uint64_t>> done) = 0;
};

}  // namespace faultline::runtime
