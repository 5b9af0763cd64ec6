#include "engine/api/record.h"

#include <bit>
#include <cstdint>
#include <cstring>

#include "base/assert.h"
#include "base/bytes.h"
#include "base/hash.h"

namespace faultline::engine {

uint64_t RecordId::Hash() const {
  return HashCombine(HashCombine(uint64_t{source} << 32 | partition, offset), 0x5eed);
}

void PutU8(std::vector<uint8_t>& out, uint8_t v) {
  out.push_back(v);
}

static_assert(std::endian::native == std::endian::little,
              "the wire formats are little-endian and written with memcpy");

void PutU32(std::vector<uint8_t>& out, uint32_t v) {
  const size_t at = out.size();
  out.resize(at + 4);
  std::memcpy(out.data() + at, &v, 4);
}

void PutU64(std::vector<uint8_t>& out, uint64_t v) {
  const size_t at = out.size();
  out.resize(at + 8);
  std::memcpy(out.data() + at, &v, 8);
}

void PutBytes(std::vector<uint8_t>& out, std::string_view bytes) {
  PutU32(out, static_cast<uint32_t>(bytes.size()));
  out.insert(out.end(), bytes.begin(), bytes.end());
}

size_t EncodedSize(const Record& record) {
  return EncodedSizeForKey(record.key.size());
}

void AppendRecord(std::vector<uint8_t>& buffer, std::string_view key, int64_t value,
                  const Provenance& provenance) {
  const size_t at = buffer.size();
  buffer.resize(at + EncodedSizeForKey(key.size()));
  EncodeRecord(buffer.data() + at, key, value, provenance);
}

void AppendRecord(std::vector<uint8_t>& buffer, const Record& record) {
  AppendRecord(buffer, record.key, record.value, record.provenance);
}

Result<Record> ReadRecord(std::span<const uint8_t> buffer, size_t& offset) {
  // Fast path: the whole record is there (one bounds check, no Status built).
  if (Record r; ReadRecordInto(buffer, offset, r)) return r;
  // Slow path: reports where the data is cut short.
  ByteReader in(buffer, offset);
  Record r;
  FL_ASSIGN_OR_RETURN(r.key, in.Bytes());
  FL_ASSIGN_OR_RETURN(uint64_t value, in.U64());
  r.value = static_cast<int64_t>(value);
  FL_ASSIGN_OR_RETURN(r.provenance.count, in.U64());
  FL_ASSIGN_OR_RETURN(r.provenance.hash_sum, in.U64());
  offset = in.offset();
  return r;
}

Status ByteReader::Need(size_t n) const {
  if (data_.size() - at_ < n) {
    return DataLossError("truncated data: need " + std::to_string(n) + " bytes at offset " +
                         std::to_string(at_) + " of " + std::to_string(data_.size()));
  }
  return Status::Ok();
}

Result<uint8_t> ByteReader::U8() {
  FL_RETURN_IF_ERROR(Need(1));
  return data_[at_++];
}

Result<uint32_t> ByteReader::U32() {
  FL_RETURN_IF_ERROR(Need(4));
  uint32_t v = 0;
  std::memcpy(&v, data_.data() + at_, 4);
  at_ += 4;
  return v;
}

Result<uint64_t> ByteReader::U64() {
  FL_RETURN_IF_ERROR(Need(8));
  uint64_t v = 0;
  std::memcpy(&v, data_.data() + at_, 8);
  at_ += 8;
  return v;
}

Result<std::string> ByteReader::Bytes() {
  FL_ASSIGN_OR_RETURN(uint32_t n, U32());
  FL_RETURN_IF_ERROR(Need(n));
  std::string s(data_.begin() + static_cast<ptrdiff_t>(at_),
                data_.begin() + static_cast<ptrdiff_t>(at_ + n));
  at_ += n;
  return s;
}

}  // namespace faultline::engine
