// The records that flow through a job, and how they cross task boundaries: as bytes in network
// buffers, never as pointers.
//
// Every record carries its provenance (ORACLES.md): how many source records contributed to it
// and an order-insensitive hash-sum of their ids. A source record's provenance is itself; each
// built-in operator passes it on, so a checker can tell from the committed output exactly which
// source records it reflects, and how often.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/assert.h"
#include "base/bytes.h"
#include "base/status.h"

namespace faultline::engine {

// A source record's identity: (source, partition, offset).
struct RecordId {
  uint32_t source = 0;
  uint32_t partition = 0;
  uint64_t offset = 0;
  bool operator==(const RecordId&) const = default;
  // The id's contribution to a provenance hash-sum.
  uint64_t Hash() const;
};

// Count and hash-sum of contributing source record ids. Adding is commutative and
// associative, so any processing order gives the same provenance.
struct Provenance {
  uint64_t count = 0;
  uint64_t hash_sum = 0;

  static Provenance Of(const RecordId& id) { return {1, id.Hash()}; }
  Provenance& operator+=(const Provenance& o) {
    count += o.count;
    hash_sum += o.hash_sum;
    return *this;
  }
  bool operator==(const Provenance&) const = default;
};

struct Record {
  std::string key;  // empty until a key_by (or set by the user)
  int64_t value = 0;
  Provenance provenance;
  bool operator==(const Record&) const = default;
};

// Wire format of one record inside a buffer: key length (u32), key, value (i64), provenance
// count (u64), provenance hash-sum (u64), little-endian.
void AppendRecord(std::vector<uint8_t>& buffer, const Record& record);
// The same for a record with the given fields (no Record needed).
void AppendRecord(std::vector<uint8_t>& buffer, std::string_view key, int64_t value,
                  const Provenance& provenance);
size_t EncodedSize(const Record& record);
// The encoded size of a record whose key has `key_size` bytes.
constexpr size_t EncodedSizeForKey(size_t key_size) {
  return 4 + key_size + 24;
}
// Writes the record's encoding at `out`, which has room for EncodedSizeForKey(key.size())
// bytes (for a caller that keeps a buffer's bytes allocated ahead, so nothing is zero-filled).
// Inline, as ReadRecordInto: both run for every record that crosses a task boundary.
inline void EncodeRecord(uint8_t* out, std::string_view key, int64_t value,
                         const Provenance& provenance) {
  FL_ASSERT(key.size() <= UINT32_MAX, "a key of 4 GiB or more");
  const auto key_size = static_cast<uint32_t>(key.size());
  const auto value_bits = static_cast<uint64_t>(value);
  std::memcpy(out, &key_size, 4);  // little-endian (asserted in record.cc)
  CopyBytes(out + 4, key.data(), key_size);
  out += 4 + size_t{key_size};
  std::memcpy(out, &value_bits, 8);
  std::memcpy(out + 8, &provenance.count, 8);
  std::memcpy(out + 16, &provenance.hash_sum, 8);
}
// Reads one record at `offset` and advances it; DataLoss on a truncated or malformed buffer.
Result<Record> ReadRecord(std::span<const uint8_t> buffer, size_t& offset);
// The same into `record`, reusing its key's storage; false (nothing read) when the record is cut
// short.
inline bool ReadRecordInto(std::span<const uint8_t> buffer, size_t& offset, Record& record) {
  if (offset > buffer.size() || buffer.size() - offset < 4) return false;
  uint32_t key_size = 0;
  std::memcpy(&key_size, buffer.data() + offset, 4);
  if (buffer.size() - offset - 4 < size_t{key_size} + 24) return false;
  const uint8_t* at = buffer.data() + offset + 4;
  // resize + copy rather than assign: assign's general path (overlap checks) costs more than
  // the copy of a short key.
  record.key.resize(key_size);
  CopyBytes(record.key.data(), at, key_size);
  at += key_size;
  uint64_t value = 0;
  std::memcpy(&value, at, 8);
  record.value = static_cast<int64_t>(value);
  std::memcpy(&record.provenance.count, at + 8, 8);
  std::memcpy(&record.provenance.hash_sum, at + 16, 8);
  offset += 4 + size_t{key_size} + 24;
  return true;
}

// Little-endian helpers shared by the engine's wire formats.
void PutU8(std::vector<uint8_t>& out, uint8_t v);
void PutU32(std::vector<uint8_t>& out, uint32_t v);
void PutU64(std::vector<uint8_t>& out, uint64_t v);
void PutBytes(std::vector<uint8_t>& out, std::string_view bytes);  // u32 length + bytes

// A bounds-checked reader over a byte buffer; every Get fails with DataLoss past the end.
class ByteReader {
 public:
  ByteReader(std::span<const uint8_t> data, size_t offset = 0) : data_(data), at_(offset) {}
  Result<uint8_t> U8();
  Result<uint32_t> U32();
  Result<uint64_t> U64();
  Result<std::string> Bytes();
  size_t offset() const { return at_; }
  bool done() const { return at_ == data_.size(); }

 private:
  Status Need(size_t n) const;
  std::span<const uint8_t> data_;
  size_t at_;
};

}  // namespace faultline::engine
