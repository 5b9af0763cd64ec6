#include "checkers/incremental_state.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/options.h>

#include <cstring>
#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include "engine/proto/checkpoint.pb.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace faultline::checkers {
namespace {

namespace proto = engine::proto;

constexpr std::string_view kMagic = "FLINCKS1";

// ---- The key layout (engine/state/rocksdb/rocksdb_state_backend.h) --------------------------

struct Row {
  uint32_t group = 0;
  uint32_t state = 0;
  std::string key;
  std::string user_key;
  std::string value;
};

uint32_t BigEndian32(std::string_view in, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(in[at + i]);
  return v;
}

// u32 group | u32 state (big-endian) | key with 00 escaped as 00 FF, ended by 00 01 | user key.
bool DecodeRow(std::string_view raw, Row& row) {
  if (raw.size() < 10) return false;
  row.group = BigEndian32(raw, 0);
  row.state = BigEndian32(raw, 4);
  row.key.clear();
  for (size_t i = 8; i + 1 < raw.size(); ++i) {
    if (raw[i] != '\0') {
      row.key.push_back(raw[i]);
      continue;
    }
    if (raw[i + 1] == '\x01') {
      row.user_key.assign(raw.substr(i + 2));
      return true;
    }
    if (raw[i + 1] != '\xff') return false;
    row.key.push_back('\0');
    ++i;
  }
  return false;
}

// ---- The keyed-state blob, written by docs/blob-format.md ----------------------------------

// Integers little-endian, as the spec says (and this machine is).
void Append(Bytes& out, const void* data, size_t size) {
  if (size == 0) return;
  const size_t at = out.size();
  out.resize(at + size);
  std::memcpy(out.data() + at, data, size);
}
void PutU32(Bytes& out, uint32_t v) {
  uint8_t b[4];
  for (size_t i = 0; i < 4; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
  Append(out, b, 4);
}
void PutU64(Bytes& out, uint64_t v) {
  uint8_t b[8];
  for (size_t i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
  Append(out, b, 8);
}
void SetU64(Bytes& out, size_t at, uint64_t v) {
  for (size_t i = 0; i < 8; ++i) out[at + i] = static_cast<uint8_t>(v >> (8 * i));
}
void PutText(Bytes& out, std::string_view text) {
  PutU32(out, static_cast<uint32_t>(text.size()));
  Append(out, text.data(), text.size());
}

Bytes WriteBlob(const engine::proto::IncrementalKeyedStateHandle& handle,
                const std::vector<Row>& rows) {
  const uint32_t first = handle.first_key_group();
  const uint32_t last = handle.last_key_group();
  const size_t groups = first > last ? 0 : size_t{last} - first + 1;
  Bytes out;
  Append(out, "FLKSTATE", 8);
  PutU32(out, 1);
  const size_t size_at = out.size();
  PutU64(out, 0);
  PutU32(out, first);
  PutU32(out, last);
  PutU32(out, static_cast<uint32_t>(handle.states_size()));
  for (int i = 0; i < handle.states_size(); ++i) {
    PutU32(out, static_cast<uint32_t>(i));
    out.push_back(static_cast<uint8_t>(handle.states(i).kind()));
    PutText(out, handle.states(i).name());
  }
  const size_t table_at = out.size();
  out.resize(out.size() + 8 * (groups + 1));
  size_t row = 0;
  for (size_t g = 0; g < groups; ++g) {
    const uint32_t group = first + static_cast<uint32_t>(g);
    SetU64(out, table_at + 8 * g, out.size());
    PutU32(out, group);
    const size_t count_at = out.size();
    PutU64(out, 0);
    uint64_t count = 0;
    for (; row < rows.size() && rows[row].group == group; ++row, ++count) {
      PutU32(out, rows[row].state);
      PutText(out, rows[row].key);
      PutText(out, rows[row].user_key);
      PutText(out, rows[row].value);
    }
    SetU64(out, count_at, count);
  }
  SetU64(out, table_at + 8 * groups, out.size());
  SetU64(out, size_at, out.size() + 8);
  PutU64(out, XXH3_64bits(out.data(), out.size()));
  return out;
}

}  // namespace

bool IsIncrementalHandle(std::span<const uint8_t> blob) {
  return blob.size() >= kMagic.size() &&
         std::memcmp(blob.data(), kMagic.data(), kMagic.size()) == 0;
}

Result<Bytes> KeyedBlobOfIncremental(std::span<const uint8_t> bytes, std::string_view name,
                                     const SharedFileLookup& lookup) {
  const std::string where = "incremental handle " + std::string(name);
  if (!IsIncrementalHandle(bytes)) return DataLossError(where + ": no FLINCKS1 magic");
  engine::proto::IncrementalKeyedStateHandle handle;
  if (!handle.ParseFromArray(bytes.data() + kMagic.size(),
                             static_cast<int>(bytes.size() - kMagic.size()))) {
    return DataLossError(where + " does not parse");
  }
  if (handle.format_version() != 1) {
    return DataLossError(where + ": format version " + std::to_string(handle.format_version()));
  }
  if (handle.first_key_group() <= handle.last_key_group() && handle.last_key_group() >= 32768) {
    return DataLossError(where + ": key group " + std::to_string(handle.last_key_group()) +
                         " beyond the largest max parallelism");
  }
  // The files, in memory.
  std::unique_ptr<rocksdb::Env> env(rocksdb::NewMemEnv(rocksdb::Env::Default()));
  const std::string dir = "/incremental";
  const auto place = [&](const std::string& local, std::string_view content) -> Status {
    if (local.empty() || local.find('/') != std::string::npos) {
      return DataLossError(where + " names a file '" + local + "'");
    }
    std::unique_ptr<rocksdb::WritableFile> file;
    rocksdb::Status s = env->NewWritableFile(dir + "/" + local, &file, rocksdb::EnvOptions());
    if (s.ok()) s = file->Append(rocksdb::Slice(content.data(), content.size()));
    if (s.ok()) s = file->Close();
    if (!s.ok()) return InternalError(where + ": placing " + local + ": " + s.ToString());
    return Status::Ok();
  };
  (void)env->CreateDirIfMissing(dir);
  for (const engine::proto::IncrementalKeyedStateHandle::File& file : handle.shared_files()) {
    const Bytes* content =
        lookup(file.blob().blob_name(), file.blob().size_bytes(), file.blob().checksum());
    if (content == nullptr) {
      return NotFoundError(where + ": shared file " + file.blob().blob_name() + " not stored");
    }
    FL_RETURN_IF_ERROR(place(file.local_name(),
                             {reinterpret_cast<const char*>(content->data()), content->size()}));
  }
  for (const engine::proto::IncrementalKeyedStateHandle::File& file : handle.private_files()) {
    FL_RETURN_IF_ERROR(place(file.local_name(), file.content()));
  }
  rocksdb::Options options;
  options.env = env.get();
  options.info_log_level = rocksdb::InfoLogLevel::HEADER_LEVEL;
  rocksdb::DB* opened = nullptr;
  const rocksdb::Status open = rocksdb::DB::OpenForReadOnly(options, dir, &opened);
  if (!open.ok()) return DataLossError(where + ": RocksDB does not open it: " + open.ToString());
  std::unique_ptr<rocksdb::DB> db(opened);
  // Every row, in RocksDB's order, which is the blob's (group, state, key, user key).
  std::vector<Row> rows;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    Row row;
    if (!DecodeRow(it->key().ToStringView(), row)) {
      return DataLossError(where + ": a row with a malformed key");
    }
    if (row.group < handle.first_key_group() || row.group > handle.last_key_group()) {
      return DataLossError(where + ": a row of key group " + std::to_string(row.group) +
                           " outside its range");
    }
    if (row.state >= static_cast<uint32_t>(handle.states_size())) {
      return DataLossError(where + ": a row of unlisted state " + std::to_string(row.state));
    }
    row.value.assign(it->value().data(), it->value().size());
    rows.push_back(std::move(row));
  }
  if (!it->status().ok()) return DataLossError(where + ": " + it->status().ToString());
  it.reset();
  (void)db->Close();
  return WriteBlob(handle, rows);
}

}  // namespace faultline::checkers
